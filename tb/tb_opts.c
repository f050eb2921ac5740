/* SPDX-License-Identifier: Apache-2.0 */
/* tb_opts.c: mpq-tb's command line, from two option tables: the stimulus tools' shared one
 * (golden/stim/mpq_opts.c) and mpq-tb's own below. */
#include "tb_opts.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arith/mpq.h"
#include "tb_opt_rows.h"
#include "tb_util.h"

#define F(x) offsetof(tb_opts, x)
static const mpq_opt tb_table[TB_O_COUNT] = {
    [TB_O_CONFIG] = TB_OPT_CONFIG(F(config_file)),
    [TB_O_NAME] = TB_OPT_NAME(F(name), "test name prefix (default: the file name or lockstep-<seed>)"),
    [TB_O_TRACE_DIR] = TB_OPT_TRACE_DIR(F(trace_dir), "mismatch traces go to DIR/<test>/ (default build/traces)"),
    [TB_O_KEEP_TRACES] = {"--keep-traces", "N", MPQ_OPT_UINT, F(keep_traces), 0, UINT_MAX, NULL, NULL, 0, 0,
                          "at the end of a run, keep the N most recent trace folders in the trace "
                          "directory and remove older ones, never this run's (default 20; 0 keeps all)"},
    [TB_O_INJECT_HOLD] = {"--inject-hold", NULL, MPQ_OPT_FLAG, F(inject_hold), 0, 0, NULL, NULL, 0, 0,
                          "change a waiting activation beat once before its handshake (a stream-rule "
                          "violation the RTL's assertions must report)"},
    [TB_O_WHITEBOX] = TB_OPT_WHITEBOX(F(whitebox), "white-box build only: also compare every lane's accumulator, "
                                                   "rq1 and rq2 with the golden cycle model after every edge, so "
                                                   "a bug is reported in the cycle it acts"),
    [TB_O_MAX_MISMATCHES] = TB_OPT_MAX_MISMATCHES(F(max_mismatches),
                                                  "stop a test after N mismatching cycles (default 1)"),
    [TB_O_WINDOW_BEFORE] = TB_OPT_WINDOW_BEFORE(F(before),
                                                "waveform window: cycles before the first mismatch (default 200)"),
    [TB_O_WINDOW_AFTER] = TB_OPT_WINDOW_AFTER(F(after)),
    [TB_O_TRACE_BIN] = TB_OPT_TRACE_BIN(F(trace_bin), "traced build of this testbench (default: ../trace/mpq-tb)"),
    [TB_O_TRACE_BUILD] = TB_OPT_TRACE_BUILD(F(trace_build), "shell command that builds (or brings up to date) the "
                                                            "traced build; run once, on the first mismatch (make "
                                                            "passes it)"),
    [TB_O_JUNIT] = TB_OPT_JUNIT(F(junit), "JUnit XML, one testcase per vector file or lockstep run"),
    [TB_O_RESULTS] = TB_OPT_RESULTS(F(results), "append one JSON line per test (test, status, cycles, seconds, "
                                                "seeds, source), written as each test ends (a killed run keeps "
                                                "its lines)"),
    [TB_O_SOURCE_THREAD] = TB_OPT_SOURCE_THREAD(F(source_thread), "read the file / run the golden model in a "
                                                                  "second thread, ahead of the DUT (default: on "
                                                                  "when more than one CPU is online)"),
    [TB_O_BARE] = {"--bare", "R", MPQ_OPT_U64, F(bare_repeat), 1, UINT64_MAX, NULL, NULL, 0, 0,
                   "benchmark limit: replay one file's inputs from memory R times, nothing compared "
                   "(make bench)"},
    [TB_O_SNAPSHOT_EVERY] = {"--snapshot-every", "N|Ns", MPQ_OPT_TEXT, F(snapshot_every), 0, 0, NULL, NULL, 0, 0,
                             "traced build: fork a paused snapshot of a lockstep test every N cycles or N "
                             "seconds (default 5s; 0: none); a mismatch's waveform then comes from the "
                             "last one before it instead of a re-run from cycle 0"},
    [TB_O_INJECT_AFTER] = {"--inject-hold-after", "C", MPQ_OPT_U64, F(inject_after), 0, UINT64_MAX, NULL, NULL,
                           0, 0, "with --inject-hold: the first waiting beat from cycle C on"},
    [TB_O_TRACE_AT] = TB_OPT_TRACE_AT(F(trace_at), "the traced re-simulation: waveform around cycle C"),
    [TB_O_TRACE_OUT] = TB_OPT_TRACE_OUT(F(trace_out), "the traced re-simulation's trace folder"),
};
#undef F

/* The sets of mpq-tb's command line: the layer and timing options (lockstep), mpq-tb's own,
 * then the shared ones for both modes (-q, --stats). */
enum { SET_LAYER, SET_TB, SET_COMMON, SET_COUNT };
static void tb_sets(tb_opts *o, mpq_opt_set sets[SET_COUNT])
{
    uint64_t layer = mpq_stim_layer_mask(), all = (1ull << MPQ_SO_COUNT) - 1u;
    sets[SET_LAYER] = mpq_stim_set(&o->stim, MPQ_TOOL_TB, layer, "lockstep layer and timing options "
                                   "(default: random per run, from the run's seed)");
    sets[SET_TB] = (mpq_opt_set){tb_table, TB_O_COUNT, o, 0, 0, "options", 0};
    sets[SET_COMMON] = mpq_stim_set(&o->stim, MPQ_TOOL_TB, all & ~layer, NULL);
}

static void tb_usage(FILE *f, tb_opts *o)
{
    fprintf(f,
            "usage: mpq-tb replay FILE.vec... [options]\n"
            "       mpq-tb lockstep [--seed S] [--runs R | --cycles N] [layer options] [options]\n"
            "       mpq-tb net MODEL.tflite [options]   (a TFLite model's MAC layers: mpq-tb net --help)\n"
            "\n"
            "Co-simulates the Verilated accelerator against golden vectors, every output port in\n"
            "every cycle. replay reads vector files (mpq-golden gen); lockstep runs the golden\n"
            "cycle model in this process on random layers (no file): --seed defaults to the\n"
            "clock (printed), --runs to 1, and every layer or timing option not given is drawn\n"
            "from the run's seed: shapes mostly small, now and then M = 65535, K = KMax, many\n"
            "tiles or K <= KLanes; valid/ready probabilities 1..0.25; beats mostly offered\n"
            "early; now and then a reset in the middle of the layer.\n"
            "\n");
    mpq_opt_set sets[SET_COUNT];
    tb_sets(o, sets);
    tb_print_options(f, sets, SET_COUNT, "Exit: 0 every test passed, 1 a mismatch, 2 usage error or bad input.\n");
}

void tb_opts_free(tb_opts *o)
{
    free(o->files);
    o->files = NULL;
}

int tb_opts_write(const tb_opts *o, uint64_t mask, const char **argv, int *argc, int max, char *buf,
                  size_t buflen, size_t *used)
{
    return mpq_opt_write(tb_table, TB_O_COUNT, o, o->given & mask, argv, argc, max, buf, buflen, used);
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "mpq-tb: %s\n", msg);
    return 2;
}

/* The rules across options, once they are parsed. Returns 0 or 2 (printed). */
/* --snapshot-every: N cycles or Ns seconds; 0 turns snapshots off. Returns 0 or -1. */
static int parse_every(tb_opts *o)
{
    const char *v = o->snapshot_every ? o->snapshot_every : "5s";
    char *end;
    o->snap_seconds = 0.0;
    o->snap_cycles = 0;
    if (v[0] < '0' || v[0] > '9')
        return -1;
    if (strchr(v, 's')) {
        double d = strtod(v, &end);
        if (strcmp(end, "s") != 0 || !(d >= 0.0 && d <= 1e6))
            return -1;
        o->snap_seconds = d;
        return 0;
    }
    unsigned long long n = strtoull(v, &end, 10);
    if (*end != '\0')
        return -1;
    o->snap_cycles = n;
    return 0;
}

static int check_opts(tb_opts *o)
{
    const mpq_stim_args *a = &o->stim;
    uint64_t fc = 1ull << MPQ_SO_M | 1ull << MPQ_SO_K | 1ull << MPQ_SO_N;
    char msg[600];
    if (o->bare_repeat && (!o->replay || o->nfiles != 1))
        return usage_error("--bare takes replay of exactly one file");
    if (o->replay && o->nfiles == 0)
        return usage_error("replay needs at least one vector file");
    for (int i = 0; i < o->nfiles; i++) {
        struct stat st;
        if (stat(o->files[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            snprintf(msg, sizeof msg, "%s is a folder; replay takes vector files (e.g. %s/*.vec)",
                     o->files[i], o->files[i]);
            return usage_error(msg);
        }
    }
    uint64_t layer = a->given & mpq_stim_layer_mask();
    for (unsigned i = 0; o->replay && i < MPQ_SO_COUNT; i++) {
        if (layer >> i & 1u) {
            snprintf(msg, sizeof msg, "%s is a lockstep option; replay takes the layer and its timing "
                     "from the vector file", mpq_stim_opts[i].name);
            return usage_error(msg);
        }
    }
    if ((a->given >> MPQ_SO_RUNS & 1u) && (a->given >> MPQ_SO_CYCLES & 1u))
        return usage_error("--runs R and --cycles N exclude each other (R layers, or layers until N "
                           "cycles): give one");
    if ((a->given >> MPQ_SO_SHAPE & 1u) && (a->given & fc))
        return usage_error("--shape gives a convolution's shape; --m, --k and --n are for "
                           "fully-connected layers");
    if ((a->given >> MPQ_SO_SHAPE & 1u) && a->layer >= 0 && a->layer != (int)a->shape.kind) {
        snprintf(msg, sizeof msg, "--layer %s contradicts --shape `%s ...`",
                 mpq_layer_name((mpq_layer_kind)a->layer), mpq_layer_name(a->shape.kind));
        return usage_error(msg);
    }
    if ((a->given & fc) && a->layer > 0) {
        snprintf(msg, sizeof msg, "--m, --k and --n shape fully-connected layers, not --layer %s "
                 "(use --shape)", mpq_layer_name((mpq_layer_kind)a->layer));
        return usage_error(msg);
    }
    if (o->trace_mode && !o->trace_out)
        return usage_error("--trace-at needs --trace-out");
    if ((o->given >> TB_O_INJECT_AFTER & 1u) && !o->inject_hold)
        return usage_error("--inject-hold-after needs --inject-hold");
    if (parse_every(o) != 0) {
        snprintf(msg, sizeof msg, "--snapshot-every %s: give cycles (20000), seconds (5s) or 0 for none",
                 o->snapshot_every);
        return usage_error(msg);
    }
    return 0;
}

int tb_opts_parse(int argc, char **argv, tb_opts *o)
{
    memset(o, 0, sizeof *o);
    o->stim.runs = 1;
    o->stim.layer = -1;
    o->max_mismatches = 1;
    o->source_thread = -1;
    o->trace_dir = "build/traces";
    o->keep_traces = 20;
    o->before = 200;
    o->after = 20;
    if (argc < 2 || (strcmp(argv[1], "--help") && strcmp(argv[1], "-h") && strcmp(argv[1], "replay") &&
                     strcmp(argv[1], "lockstep"))) {
        if (argc < 2)
            tb_usage(stderr, o);
        else
            fprintf(stderr, "mpq-tb: unknown mode `%s` (replay or lockstep); see --help\n", argv[1]);
        return 2;
    }
    o->replay = !strcmp(argv[1], "replay");
    o->files = calloc((size_t)argc, sizeof *o->files);
    if (!o->files)
        return usage_error("out of memory");
    mpq_opt_set sets[SET_COUNT];
    tb_sets(o, sets);
    char err[800];
    int rc = mpq_opt_parse(sets, SET_COUNT, argc, argv, 1, o->files, &o->nfiles, err, sizeof err);
    if (rc == 1 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        tb_usage(stdout, o);
        return 1;
    }
    if (rc != 0)
        return usage_error(err);
    o->stim.given = sets[SET_LAYER].given | sets[SET_COMMON].given;
    o->given = sets[SET_TB].given;
    o->nfiles--; /* the mode */
    memmove(o->files, o->files + 1, (size_t)o->nfiles * sizeof *o->files);
    if (!o->replay && o->nfiles > 0) {
        snprintf(err, sizeof err, "lockstep takes no file (`%s`)", o->files[0]);
        return usage_error(err);
    }
    o->trace_mode = (int)(o->given >> TB_O_TRACE_AT & 1u);
    return check_opts(o);
}
