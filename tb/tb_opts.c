/* SPDX-License-Identifier: Apache-2.0 */
/* tb_opts.c: mpq-tb's command line. */
#include "tb_opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpq.h"

void tb_usage(FILE *f)
{
    fprintf(f,
            "usage: mpq-tb replay FILE.vec... [options]\n"
            "       mpq-tb lockstep [--seed S] [--runs R | --cycles N] [layer options] [options]\n"
            "\n"
            "Co-simulates the Verilated accelerator against golden vectors, every output port in\n"
            "every cycle. replay reads vector files (mpq-golden gen); lockstep runs the golden\n"
            "cycle model in this process on random layers (no file).\n"
            "\n"
            "lockstep layer options (default: random per run, from the run's seed):\n"
            "  --seed S          first layer seed (default: from the clock, printed); run i uses S+i\n"
            "  --runs R          number of layers (default 1)   --cycles N  run layers until N cycles\n"
            "  --m M --k K --n N shape         --hp-n N  sparse weights per group\n"
            "  --acc sat|wrap    accumulator   --profile random|overflow|requant-edge|zero-tern|\n"
            "                                  max-sparse|acc-edge\n"
            "  --p-valid P       source valid probability (default 0.9)\n"
            "  --p-ready P       out_ready probability (default 0.9)\n"
            "options:\n"
            "  --max-mismatches N  stop a test after N mismatching cycles (default 1)\n"
            "  --trace-dir DIR     mismatch traces go to DIR/<test>/ (default build/traces)\n"
            "  --window-before N --window-after N  waveform window around the first mismatch\n"
            "                      (default 200 and 20 cycles)\n"
            "  --trace-bin PATH    traced build of this testbench (default: ../trace/mpq-tb)\n"
            "  --junit FILE        JUnit XML, one testcase per vector file or lockstep run\n"
            "  --config FILE       rtl/cfg/NAME.cfg this RTL must have been built with\n"
            "  --name NAME         test name prefix (default: the file name or lockstep-<seed>)\n"
            "  -q                  only failures and the summary\n"
            "  --source-thread on|off  read the file / run the golden model in a second thread,\n"
            "                      ahead of the DUT (default: on when more than one CPU is online)\n"
            "  --inject-hold       change a waiting activation beat once before its handshake\n"
            "                      (a stream-rule violation the RTL's assertions must report)\n"
            "  --bare R            benchmark limit: replay one file's inputs from memory R times,\n"
            "                      nothing compared (make bench)\n"
            "Exit: 0 every test passed, 1 a mismatch, 2 usage error or bad input.\n");
}

static int parse_u64(const char *opt, const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (*s == '-' || *s == '\0' || *end != '\0' || errno) {
        fprintf(stderr, "mpq-tb: %s: `%s` is not a non-negative integer\n", opt, s);
        return -1;
    }
    *v = x;
    return 0;
}

static int parse_prob(const char *opt, const char *s, double *p)
{
    char *end;
    double x = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !(x > 0.0 && x <= 1.0)) {
        fprintf(stderr, "mpq-tb: %s: `%s` is not a probability in (0, 1]\n", opt, s);
        return -1;
    }
    *p = x;
    return 0;
}

void tb_opts_free(tb_opts *o)
{
    free(o->files);
    o->files = NULL;
}

int tb_opts_parse(int argc, char **argv, tb_opts *o)
{
    memset(o, 0, sizeof *o);
    o->runs = 1;
    o->layer.acc = -1;
    o->layer.profile = -1;
    o->layer.p_valid = 0.9;
    o->layer.p_ready = 0.9;
    o->max_mismatches = 1;
    o->source_thread = -1;
    o->trace_dir = "build/traces";
    o->before = 200;
    o->after = 20;
    if (argc < 2) {
        tb_usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        tb_usage(stdout);
        return 1;
    }
    if (!strcmp(argv[1], "replay"))
        o->replay = 1;
    else if (strcmp(argv[1], "lockstep")) {
        fprintf(stderr, "mpq-tb: unknown mode `%s` (replay or lockstep); see --help\n", argv[1]);
        return 2;
    }
    o->files = calloc((size_t)argc, sizeof *o->files);
    if (!o->files) {
        fprintf(stderr, "mpq-tb: out of memory\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            tb_usage(stdout);
            return 1;
        }
        if (!strcmp(a, "-q")) {
            o->quiet = 1;
            continue;
        }
        if (!strcmp(a, "--inject-hold")) {
            o->inject_hold = 1;
            continue;
        }
        if (a[0] != '-') {
            if (!o->replay) {
                fprintf(stderr, "mpq-tb: lockstep takes no file (`%s`)\n", a);
                return 2;
            }
            o->files[o->nfiles++] = argv[i];
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "mpq-tb: `%s` needs a value or is unknown; see --help\n", a);
            return 2;
        }
        const char *val = argv[++i];
#define U64(field)                          \
    do {                                    \
        if (parse_u64(a, val, &v)) return 2; \
        field = v;                          \
    } while (0)
        if (!strcmp(a, "--seed")) {
            U64(o->seed);
            o->have_seed = 1;
        } else if (!strcmp(a, "--runs")) {
            U64(o->runs);
            if (o->runs < 1) {
                fprintf(stderr, "mpq-tb: --runs must be at least 1\n");
                return 2;
            }
        } else if (!strcmp(a, "--cycles")) {
            U64(o->min_cycles);
        } else if (!strcmp(a, "--m")) {
            U64(o->layer.m);
        } else if (!strcmp(a, "--k")) {
            U64(o->layer.k);
        } else if (!strcmp(a, "--n")) {
            U64(o->layer.n);
        } else if (!strcmp(a, "--hp-n")) {
            U64(o->layer.hp_n);
            o->layer.have_hp_n = 1;
        } else if (!strcmp(a, "--acc")) {
            if (strcmp(val, "sat") && strcmp(val, "wrap")) {
                fprintf(stderr, "mpq-tb: --acc: `%s` is not sat or wrap\n", val);
                return 2;
            }
            o->layer.acc = !strcmp(val, "sat");
        } else if (!strcmp(a, "--profile")) {
            mpq_profile p;
            if (mpq_profile_parse(val, &p)) {
                fprintf(stderr, "mpq-tb: --profile: unknown profile `%s`\n", val);
                return 2;
            }
            o->layer.profile = (int)p;
        } else if (!strcmp(a, "--p-valid")) {
            if (parse_prob(a, val, &o->layer.p_valid)) return 2;
        } else if (!strcmp(a, "--p-ready")) {
            if (parse_prob(a, val, &o->layer.p_ready)) return 2;
        } else if (!strcmp(a, "--max-mismatches")) {
            U64(o->max_mismatches);
            if (o->max_mismatches < 1) o->max_mismatches = 1;
        } else if (!strcmp(a, "--source-thread")) {
            if (strcmp(val, "on") && strcmp(val, "off")) {
                fprintf(stderr, "mpq-tb: --source-thread: `%s` is not on or off\n", val);
                return 2;
            }
            o->source_thread = !strcmp(val, "on");
        } else if (!strcmp(a, "--trace-dir")) {
            o->trace_dir = val;
        } else if (!strcmp(a, "--trace-bin")) {
            o->trace_bin = val;
        } else if (!strcmp(a, "--window-before")) {
            U64(o->before);
        } else if (!strcmp(a, "--window-after")) {
            U64(o->after);
        } else if (!strcmp(a, "--junit")) {
            o->junit = val;
        } else if (!strcmp(a, "--config")) {
            o->config_file = val;
        } else if (!strcmp(a, "--name")) {
            o->name = val;
        } else if (!strcmp(a, "--bare")) { /* benchmark: the limit, see run_bare */
            U64(o->bare_repeat);
            if (o->bare_repeat < 1) o->bare_repeat = 1;
        } else if (!strcmp(a, "--trace-at")) { /* internal: traced re-simulation */
            U64(o->trace_at);
            o->trace_mode = 1;
        } else if (!strcmp(a, "--trace-out")) {
            o->trace_out = val;
        } else {
            fprintf(stderr, "mpq-tb: unknown option `%s`; see --help\n", a);
            return 2;
        }
#undef U64
    }
    if (o->bare_repeat && (!o->replay || o->nfiles != 1)) {
        fprintf(stderr, "mpq-tb: --bare takes replay of exactly one file\n");
        return 2;
    }
    if (o->replay && o->nfiles == 0) {
        fprintf(stderr, "mpq-tb: replay needs at least one vector file\n");
        return 2;
    }
    if (o->trace_mode && !o->trace_out) {
        fprintf(stderr, "mpq-tb: --trace-at needs --trace-out\n");
        return 2;
    }
    return 0;
}

