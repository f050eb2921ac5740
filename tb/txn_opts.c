/* SPDX-License-Identifier: Apache-2.0 */
/* txn_opts.c: the transaction-level check's command line (txn_opts.h). */
#include "txn_opts.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arith/mpq.h"
#include "tb_opt_rows.h"
#include "tb_util.h"

#define F(x) offsetof(txn_opts, x)
static const mpq_opt txn_table[TXN_O_COUNT] = {
    [TXN_O_JOBS] = {"--jobs", "J", MPQ_OPT_UINT, F(jobs), 1, 64, NULL, NULL, 0, 0,
                    "random mode: layers per test, driven back to back on every stream (default 2)"},
    [TXN_O_OPS] = {"--ops", "LIST", MPQ_OPT_TEXT, F(ops), 0, 0, NULL, NULL, 0, 0,
                   "model mode: the operators to run, e.g. 0,2-4 (default: every convolution and "
                   "fully-connected layer the DUT runs)"},
    [TXN_O_DEADLOCK] = {"--deadlock", "N", MPQ_OPT_U64, F(deadlock), 1, UINT64_MAX, NULL, NULL, 0, 0,
                        "fail when no beat moves on any stream for N cycles while output beats "
                        "are expected (default 20000)"},
    [TXN_O_MAX_LATENCY] = {"--max-latency", "N", MPQ_OPT_U64, F(max_latency), 1, UINT64_MAX, NULL, NULL, 0, 0,
                           "fail when a layer's last output beat comes more than N cycles after its "
                           "first input beat (default: no bound)"},
    [TXN_O_TAIL] = {"--tail", "N", MPQ_OPT_UINT, F(tail), 0, 1000000, NULL, NULL, 0, 0,
                    "idle cycles after the last expected beat, in which no output beat may come "
                    "(default 32)"},
    [TXN_O_NAME] = TB_OPT_NAME(F(name), "test name prefix (default: txn-<seed> or the file name)"),
    [TXN_O_TRACE_DIR] = TB_OPT_TRACE_DIR(F(trace_dir), "failure traces go to DIR/<test>/ (default build/traces)"),
    [TXN_O_MAX_MISMATCHES] = TB_OPT_MAX_MISMATCHES(F(max_mismatches),
                                                   "stop a test after N mismatching beats (default 1)"),
    [TXN_O_WINDOW_BEFORE] = TB_OPT_WINDOW_BEFORE(F(before), "waveform window: cycles before the failure (default 200)"),
    [TXN_O_WINDOW_AFTER] = TB_OPT_WINDOW_AFTER(F(after)),
    [TXN_O_TRACE_BIN] = TB_OPT_TRACE_BIN(F(trace_bin), "traced build of this program (default: ../trace/<this "
                                                       "program>)"),
    [TXN_O_TRACE_BUILD] = TB_OPT_TRACE_BUILD(F(trace_build), "shell command that builds the traced build; run "
                                                             "once, on the first failure (make passes it)"),
    [TXN_O_JUNIT] = TB_OPT_JUNIT(F(junit), "JUnit XML, one testcase per test"),
    [TXN_O_RESULTS] = TB_OPT_RESULTS(F(results), "append one JSON line per test (test, status, cycles, seconds, "
                                                 "seeds, layers)"),
    [TXN_O_SOURCE_THREAD] = TB_OPT_SOURCE_THREAD(F(source_thread), "encode the input and expected output beats "
                                                                   "in a second thread, ahead of the DUT (default: "
                                                                   "on when more than one CPU is online)"),
    [TXN_O_TRACE_AT] = TB_OPT_TRACE_AT(F(trace_at), "the traced re-run: waveform around cycle C"),
    [TXN_O_TRACE_OUT] = TB_OPT_TRACE_OUT(F(trace_out), "the traced re-run's trace folder"),
};
#undef F

enum { SET_LAYER, SET_TXN, SET_COUNT };
static void txn_sets(txn_opts *o, mpq_opt_set sets[SET_COUNT])
{
    sets[SET_LAYER] = mpq_stim_set(&o->stim, MPQ_TOOL_TB, TXN_STIM_MASK,
                                   "layer and timing options (random mode; default: drawn per test from its seed)");
    sets[SET_TXN] = (mpq_opt_set){txn_table, TXN_O_COUNT, o, 0, 0, "options", 0};
}

static void txn_usage(FILE *f, const char *self, txn_opts *o)
{
    fprintf(f,
            "usage: %s [random] [--seed S] [--runs R | --cycles N] [--jobs J] [layer options] [options]\n"
            "       %s case FILE.case... [options]\n"
            "       %s model FILE.tflite [--ops LIST] [options]\n"
            "\n"
            "The transaction-level check of this binary's DUT (its description, compiled in, says how\n"
            "a layer becomes beats; docs/dut.md): every input stream driven with random valid gaps, every\n"
            "output stream taken under random back-pressure, each output beat compared in order with the\n"
            "golden model's; no cycle model, any latency. random draws layers the DUT runs from each test's\n"
            "seed (--seed defaults to the clock, printed); case runs mpq-case files; model runs a TFLite\n"
            "model's layers (its activations from the golden model's run of the model). A failure writes\n"
            "a trace folder (report, waveform from a traced re-run).\n\n",
            self, self, self);
    mpq_opt_set sets[SET_COUNT];
    txn_sets(o, sets);
    tb_print_options(f, sets, SET_COUNT, "Exit: 0 every test passed, 1 a test failed, 2 usage error or bad input.\n");
}

void txn_opts_free(txn_opts *o)
{
    free(o->files);
    o->files = NULL;
}

int txn_opts_argv(const txn_opts *o, uint64_t seed, const char *file, uint64_t stim_mask, uint64_t own_mask,
                  const char **argv, int *argc, int max, char *buf, size_t buflen, size_t *used)
{
    static const char *const modes[] = {"random", "case", "model"};
    const char *words[2] = {modes[o->mode], file};
    for (int i = 0; i < (file ? 2 : 1); i++) {
        size_t n = strlen(words[i]) + 1;
        if (*argc + 1 >= max || *used + n > buflen)
            return -1;
        memcpy(buf + *used, words[i], n);
        argv[(*argc)++] = buf + *used;
        *used += n;
    }
    mpq_stim_args one = o->stim;
    uint64_t stim = o->stim.given & stim_mask;
    if (o->mode == TXN_RANDOM) { /* this test alone */
        one.seed = seed;
        one.runs = 1;
        stim = (stim & ~(1ull << MPQ_SO_CYCLES)) | 1ull << MPQ_SO_SEED | 1ull << MPQ_SO_RUNS;
    }
    argv[*argc] = NULL;
    if (mpq_opt_write(mpq_stim_opts, MPQ_SO_COUNT, &one, stim, argv, argc, max, buf, buflen, used) != 0)
        return -1;
    return mpq_opt_write(txn_table, TXN_O_COUNT, o, o->given & own_mask, argv, argc, max, buf, buflen, used);
}

static int usage_error(const char *self, const char *msg)
{
    fprintf(stderr, "%s: %s\n", self, msg);
    return 2;
}

/* The rules across options, once parsed. Returns 0 or 2 (printed). */
static int check_opts(const char *self, txn_opts *o)
{
    const mpq_stim_args *a = &o->stim;
    uint64_t layer = a->given & (mpq_stim_layer_mask() & ~(1ull << MPQ_SO_P_VALID | 1ull << MPQ_SO_P_READY));
    char msg[600];
    if (o->mode != TXN_RANDOM && o->nfiles == 0)
        return usage_error(self, o->mode == TXN_CASE ? "case needs at least one mpq-case file" : "model needs a .tflite file");
    if (o->mode == TXN_MODEL && o->nfiles != 1)
        return usage_error(self, "model takes one .tflite file");
    if (o->mode == TXN_RANDOM && o->nfiles > 0) {
        snprintf(msg, sizeof msg, "random mode takes no file (`%s`); case FILE... runs mpq-case files", o->files[0]);
        return usage_error(self, msg);
    }
    for (unsigned i = 0; o->mode != TXN_RANDOM && i < MPQ_SO_COUNT; i++)
        if ((layer >> i & 1u) && i != MPQ_SO_SEED) {
            snprintf(msg, sizeof msg, "%s shapes random layers; %s mode takes its layers from the files",
                     mpq_stim_opts[i].name, o->mode == TXN_CASE ? "case" : "model");
            return usage_error(self, msg);
        }
    if ((o->given >> TXN_O_OPS & 1u) && o->mode != TXN_MODEL)
        return usage_error(self, "--ops is for model mode");
    uint64_t fc = 1ull << MPQ_SO_M | 1ull << MPQ_SO_K | 1ull << MPQ_SO_N;
    if ((a->given >> MPQ_SO_SHAPE & 1u) && (a->given & fc))
        return usage_error(self, "--shape gives a convolution's shape; --m, --k and --n are for fully-connected layers");
    if (o->trace_mode && !o->trace_out)
        return usage_error(self, "--trace-at needs --trace-out");
    for (int i = 0; i < o->nfiles; i++) {
        struct stat st;
        int bad = stat(o->files[i], &st) != 0;
        if (bad || S_ISDIR(st.st_mode)) {
            snprintf(msg, sizeof msg, "%s: %s", o->files[i], bad ? "no such file" : "a folder, not a file");
            return usage_error(self, msg);
        }
    }
    return 0;
}

static void defaults(txn_opts *o)
{
    memset(o, 0, sizeof *o);
    o->stim.runs = 1;
    o->stim.layer = -1;
    o->jobs = 2;
    o->deadlock = 20000;
    o->source_thread = -1;
    o->tail = 32;
    o->max_mismatches = 1;
    o->trace_dir = "build/traces";
    o->before = 200;
    o->after = 20;
}

int txn_opts_parse(int argc, char **argv, const char *self, txn_opts *o)
{
    defaults(o);
    int first = 1;
    if (argc > 1 && (!strcmp(argv[1], "random") || !strcmp(argv[1], "case") || !strcmp(argv[1], "model"))) {
        o->mode = argv[1][0] == 'r' ? TXN_RANDOM : argv[1][0] == 'c' ? TXN_CASE : TXN_MODEL;
        first = 2;
    }
    o->files = calloc((size_t)argc + 1, sizeof *o->files);
    if (!o->files)
        return usage_error(self, "out of memory");
    mpq_opt_set sets[SET_COUNT];
    txn_sets(o, sets);
    char err[800];
    int rc = mpq_opt_parse(sets, SET_COUNT, argc, argv, first, o->files, &o->nfiles, err, sizeof err);
    if (rc == 1) {
        txn_usage(stdout, self, o);
        return 1;
    }
    if (rc != 0)
        return usage_error(self, err);
    if (o->nfiles > 0 && first == 1) {
        snprintf(err, sizeof err, "unknown mode `%s` (random, case or model); see --help", o->files[0]);
        return usage_error(self, err);
    }
    o->stim.given = sets[SET_LAYER].given;
    o->given = sets[SET_TXN].given;
    o->trace_mode = (int)(o->given >> TXN_O_TRACE_AT & 1u);
    return check_opts(self, o);
}
