/* SPDX-License-Identifier: Apache-2.0 */
/* tb_opts.c: mpq-tb's command line. */
#include "tb_opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arith/mpq.h"

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
            "lockstep layer and timing options (default: random per run, from the run's seed:\n"
            "shapes mostly small, now and then M = 65535, K = KMax, many tiles or K <= KLanes;\n"
            "valid/ready probabilities 1..0.25; beats mostly offered early; now and then a reset\n"
            "in the middle of the layer):\n"
            "  --seed S          first layer seed (default: from the clock, printed); run i uses S+i\n"
            "  --runs R          number of layers (default 1)   --cycles N  run layers until N cycles\n"
            "  --layer fc|conv2d|depthwise|any  layer kind (default any: half fully-connected,\n"
            "                    half convolutions: odd sizes, strides, dilations, padding,\n"
            "                    groups, channel counts that are not multiples of KLanes)\n"
            "  --shape SPEC      this convolution, e.g. 'conv2d h=8 w=8 c=16 o=32 k=3 s=2 p=1'\n"
            "                    (keys b h w c o k s d p g oh ow; NxM for the two axes)\n"
            "  --m M --k K --n N fully-connected shape      --hp-n N  sparse weights per group\n"
            "  --acc sat|wrap    accumulator   --profile random|overflow|requant-edge|zero-tern|\n"
            "                                  max-sparse|acc-edge|extreme\n"
            "  --p-valid P       source valid probability     --p-ready P  out_ready probability\n"
            "  --offer early|late  beats offered as soon as the driver has them, or per tile\n"
            "  --mid-reset on|off  a reset with rows in flight, then the layer anew\n"
            "  --stats           print what the stimulus exercised (rounding ties, accumulator\n"
            "                    bounds, overflows, back-pressure, ...), summed over the runs\n"
            "options:\n"
            "  --max-mismatches N  stop a test after N mismatching cycles (default 1)\n"
            "  --trace-dir DIR     mismatch traces go to DIR/<test>/ (default build/traces)\n"
            "  --window-before N --window-after N  waveform window around the first mismatch\n"
            "                      (default 200 and 20 cycles)\n"
            "  --trace-bin PATH    traced build of this testbench (default: ../trace/mpq-tb)\n"
            "  --trace-build CMD   shell command that builds (or brings up to date) the traced\n"
            "                      build; run once, on the first mismatch (make passes it)\n"
            "  --junit FILE        JUnit XML, one testcase per vector file or lockstep run\n"
            "  --results FILE      append one JSON line per test (status, cycles, seconds, seeds),\n"
            "                      written as each test ends (a killed run keeps its lines)\n"
            "  --config FILE       rtl/cfg/NAME.cfg this RTL must have been built with\n"
            "  --name NAME         test name prefix (default: the file name or lockstep-<seed>)\n"
            "  -q                  only failures and the summary\n"
            "  --source-thread on|off  read the file / run the golden model in a second thread,\n"
            "                      ahead of the DUT (default: on when more than one CPU is online)\n"
            "  --whitebox          white-box build only: also compare every lane's accumulator,\n"
            "                      rq1 and rq2 with the golden cycle model after every edge,\n"
            "                      so a bug is reported in the cycle it acts\n"
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

/* An integer option within lo..hi; the message names the option and the range. */
static int parse_range(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *v)
{
    if (parse_u64(opt, s, v) != 0)
        return -1;
    if (*v < lo || *v > hi) {
        fprintf(stderr, "mpq-tb: %s: %s is outside %llu..%llu\n", opt, s, (unsigned long long)lo,
                (unsigned long long)hi);
        return -1;
    }
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
    o->layer.layer = -1;
    o->layer.profile = -1;
    o->layer.p_valid = -1.0; /* random per run */
    o->layer.p_ready = -1.0;
    o->layer.offer_early = -1;
    o->layer.mid_reset = -1;
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
    const char *lockstep_opt = NULL; /* the first option given that only lockstep takes */
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
        if (!strcmp(a, "--whitebox")) {
            o->whitebox = 1;
            continue;
        }
        if (!strcmp(a, "--stats")) {
            o->stats = 1;
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
        static const char *const lockstep_only[] = {"--seed", "--runs", "--cycles", "--m", "--k",
                                                     "--n", "--hp-n", "--acc", "--profile",
                                                     "--p-valid", "--p-ready", "--offer",
                                                     "--mid-reset", "--layer", "--shape"};
        for (size_t j = 0; j < sizeof lockstep_only / sizeof lockstep_only[0]; j++)
            if (!lockstep_opt && !strcmp(a, lockstep_only[j]))
                lockstep_opt = lockstep_only[j];
#define U64(field)                          \
    do {                                    \
        if (parse_u64(a, val, &v)) return 2; \
        field = v;                          \
    } while (0)
/* An unsigned option within lo..hi (the message names it and the range). */
#define RANGE(field, lo, hi)                               \
    do {                                                   \
        if (parse_range(a, val, (lo), (hi), &v)) return 2; \
        field = (unsigned)v;                               \
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
        } else if (!strcmp(a, "--m")) { /* 0 would be "random": not a shape */
            RANGE(o->layer.m, 1, 65535);
        } else if (!strcmp(a, "--k")) {
            RANGE(o->layer.k, 1, 65535);
        } else if (!strcmp(a, "--n")) {
            RANGE(o->layer.n, 1, 1000000);
        } else if (!strcmp(a, "--hp-n")) {
            RANGE(o->layer.hp_n, 0, 64);
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
        } else if (!strcmp(a, "--layer")) {
            mpq_layer_kind kd;
            if (!strcmp(val, "any")) {
                o->layer.layer = -1;
            } else if (mpq_layer_parse(val, &kd) == 0 &&
                       (kd == MPQ_LAYER_FC || kd == MPQ_LAYER_CONV2D || kd == MPQ_LAYER_DEPTHWISE)) {
                o->layer.layer = (int)kd;
            } else {
                fprintf(stderr, "mpq-tb: --layer: `%s` is not fc, conv2d, depthwise or any\n", val);
                return 2;
            }
        } else if (!strcmp(a, "--shape")) {
            char why[600];
            if (mpq_conv_shape_parse(val, &o->layer.shape, why, sizeof why) != 0) {
                fprintf(stderr, "mpq-tb: --shape: %s\n", why);
                return 2;
            }
            o->layer.have_shape = 1;
        } else if (!strcmp(a, "--offer")) {
            if (strcmp(val, "early") && strcmp(val, "late")) {
                fprintf(stderr, "mpq-tb: --offer: `%s` is not early or late\n", val);
                return 2;
            }
            o->layer.offer_early = !strcmp(val, "early");
        } else if (!strcmp(a, "--mid-reset")) {
            if (strcmp(val, "on") && strcmp(val, "off")) {
                fprintf(stderr, "mpq-tb: --mid-reset: `%s` is not on or off\n", val);
                return 2;
            }
            o->layer.mid_reset = !strcmp(val, "on");
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
        } else if (!strcmp(a, "--trace-build")) {
            o->trace_build = val;
        } else if (!strcmp(a, "--window-before")) {
            U64(o->before);
        } else if (!strcmp(a, "--window-after")) {
            U64(o->after);
        } else if (!strcmp(a, "--junit")) {
            o->junit = val;
        } else if (!strcmp(a, "--results")) {
            o->results = val;
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
#undef RANGE
    }
    if (o->bare_repeat && (!o->replay || o->nfiles != 1)) {
        fprintf(stderr, "mpq-tb: --bare takes replay of exactly one file\n");
        return 2;
    }
    if (o->replay && o->nfiles == 0) {
        fprintf(stderr, "mpq-tb: replay needs at least one vector file\n");
        return 2;
    }
    for (int i = 0; i < o->nfiles; i++) {
        struct stat st;
        if (stat(o->files[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            fprintf(stderr, "mpq-tb: %s is a folder; replay takes vector files (e.g. %s/*.vec)\n",
                    o->files[i], o->files[i]);
            return 2;
        }
    }
    if (o->replay && lockstep_opt) {
        fprintf(stderr, "mpq-tb: %s is a lockstep option; replay takes the layer and its timing "
                "from the vector file\n", lockstep_opt);
        return 2;
    }
    if (o->layer.have_shape && (o->layer.m || o->layer.k || o->layer.n)) {
        fprintf(stderr, "mpq-tb: --shape gives a convolution's shape; --m, --k and --n are for "
                "fully-connected layers\n");
        return 2;
    }
    if (o->layer.have_shape && o->layer.layer >= 0 && o->layer.layer != (int)o->layer.shape.kind) {
        fprintf(stderr, "mpq-tb: --layer %s contradicts --shape `%s ...`\n",
                mpq_layer_name((mpq_layer_kind)o->layer.layer), mpq_layer_name(o->layer.shape.kind));
        return 2;
    }
    if ((o->layer.m || o->layer.k || o->layer.n) && o->layer.layer > 0) {
        fprintf(stderr, "mpq-tb: --m, --k and --n shape fully-connected layers, not --layer %s "
                "(use --shape)\n", mpq_layer_name((mpq_layer_kind)o->layer.layer));
        return 2;
    }
    if (o->trace_mode && !o->trace_out) {
        fprintf(stderr, "mpq-tb: --trace-at needs --trace-out\n");
        return 2;
    }
    return 0;
}

