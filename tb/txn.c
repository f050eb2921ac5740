/* SPDX-License-Identifier: Apache-2.0 */
/* txn.c: the transaction-level check's tests (txn.h): the description of this binary's DUT, the
 * tests one after the other, the report, trace folder and traced re-run of a failure, JUnit,
 * the closing line. */
#include "txn.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "contract/mpq_hw.h"
#include "mpq_dut.h"
#include "tb_util.h"
#include "txn_run.h"

typedef struct txn_ctx {
    txn_opts o;
    mpq_desc *d;
    mpq_hwcfg hw;               /* codec mpq: the configuration the description's params give */
    const char *self;           /* argv[0] */
    const char *sub;            /* "txn" for mpq-tb, or NULL */
    char cmd[4096];             /* this run's command line */
    char traces[4096];          /* `trace: DIR` lines */
    tb_junit *junit;
    FILE *results;
    unsigned passed, failed, errors;
    mpq_job *model_jobs;        /* model mode: a job per chosen operator, taken by its test */
    unsigned nmodel;
} txn_ctx;

/* The description this model was built from, with the build's parameters. */
static int load_desc(txn_ctx *c)
{
    unsigned np;
    const char *const *params = mpq_dut_desc_params(&np);
    const char *text = mpq_dut_desc_text();
    char err[1024];
    if (mpq_desc_parse(text, strlen(text), mpq_dut_desc_path(), params, np, &c->d, err, sizeof err) != 0 ||
        txn_check_model(c->d, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", c->self, err);
        return 2;
    }
    if (c->d->codec != MPQ_CODEC_MPQ)
        return 0;
    memset(&c->hw, 0, sizeof c->hw);
    for (int p = 0; p < MPQ_P_COUNT; p++) {
        int64_t v;
        if (mpq_desc_value(c->d, mpq_params[p].key, strlen(mpq_params[p].key), &v) != 0 || v < 0 || v > UINT32_MAX) {
            fprintf(stderr, "%s: %s: codec mpq needs parameter %s\n", c->self, c->d->path, mpq_params[p].key);
            return 2;
        }
        mpq_hwcfg_set(&c->hw, (mpq_param)p, (unsigned)v);
    }
    return 0;
}

/* Random probabilities of a test from its seed, as lockstep draws them, unless given. */
static void timing_of(const txn_opts *o, uint64_t seed, txn_result *r)
{
    static const double pv[] = {1.0, 0.9, 0.7, 0.4}, pr[] = {1.0, 0.9, 0.5, 0.25};
    uint64_t z = seed * 0x2545f4914f6cdd1dull + 0x9e3779b97f4a7c15ull;
    z ^= z >> 29;
    r->p_valid = o->stim.given >> MPQ_SO_P_VALID & 1u ? o->stim.p_valid : pv[z % 4];
    r->p_ready = o->stim.given >> MPQ_SO_P_READY & 1u ? o->stim.p_ready : pr[z / 4 % 4];
}

/* The arguments that run test (seed, file) again: the subcommand, the mode and what the tables
 * write for the options in the masks. */
static int test_argv(const txn_ctx *c, uint64_t seed, const char *file, uint64_t own_mask, const txn_opts *o,
                     const char **argv, int max, char *buf, size_t len)
{
    int n = 0;
    size_t used = 0;
    if (c->sub)
        argv[n++] = c->sub;
    txn_opts_argv(o, seed, file, TXN_STIM_MASK & ~(1ull << MPQ_SO_QUIET), own_mask, argv, &n, max, buf, len, &used);
    argv[n] = NULL;
    return n;
}

#define OBIT(o) (1ull << (o))

static void repro_of(const txn_ctx *c, uint64_t seed, const char *file, txn_result *r)
{
    const char *argv[TB_MAX_ARGS + 1];
    char buf[2048];
    uint64_t mask = OBIT(TXN_O_JOBS) | OBIT(TXN_O_NAME) | OBIT(TXN_O_DEADLOCK) | OBIT(TXN_O_MAX_LATENCY) |
                    OBIT(TXN_O_TAIL) | OBIT(TXN_O_OPS);
    if (strcmp(c->o.trace_dir, "build/traces") != 0)
        mask |= OBIT(TXN_O_TRACE_DIR);
    int n = test_argv(c, seed, file, mask, &c->o, argv, TB_MAX_ARGS, buf, sizeof buf);
    size_t used = (size_t)snprintf(r->repro, sizeof r->repro, "%s", c->self);
    for (int i = 0; i < n && used < sizeof r->repro; i++)
        used += (size_t)snprintf(r->repro + used, sizeof r->repro - used, " %s", argv[i]);
}

/* build/.../plain/PROG -> build/.../trace/PROG */
static void default_trace_bin(const char *self, char *buf, size_t len)
{
    const char *base = strrchr(self, '/') ? strrchr(self, '/') + 1 : self;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", self);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    slash = strrchr(dir, '/');
    if (slash)
        slash[1] = '\0';
    else
        snprintf(dir, sizeof dir, "../");
    snprintf(buf, len, "%strace/%s", dir, base);
}

/* The traced build re-runs the failed test and dumps the window around its first failure.
 * Returns 1 when wave.fst and wave.gtkw were written, 0 otherwise; note says which. */
static int make_waveform(const txn_ctx *c, const txn_result *r, const char *file, char *note, size_t len)
{
    char bin[1100];
    if (c->o.trace_bin)
        snprintf(bin, sizeof bin, "%s", c->o.trace_bin);
    else
        default_trace_bin(c->self, bin, sizeof bin);
    static int built;
    if (c->o.trace_build && !built++) {
        fflush(stdout);
        if (system(c->o.trace_build) != 0) {
            snprintf(note, len, "no waveform: building the traced model failed (%s)", c->o.trace_build);
            return 0;
        }
    }
    if (access(bin, X_OK) != 0) {
        snprintf(note, len, "no waveform: the traced build %s does not exist", bin);
        return 0;
    }
    txn_opts w = c->o;
    w.trace_at = r->f.cycle;
    w.trace_out = r->trace_dir;
    w.given |= OBIT(TXN_O_TRACE_AT) | OBIT(TXN_O_TRACE_OUT) | OBIT(TXN_O_WINDOW_BEFORE) | OBIT(TXN_O_WINDOW_AFTER);
    uint64_t mask = OBIT(TXN_O_JOBS) | OBIT(TXN_O_DEADLOCK) | OBIT(TXN_O_MAX_LATENCY) | OBIT(TXN_O_TAIL) |
                    OBIT(TXN_O_OPS) | OBIT(TXN_O_MAX_MISMATCHES) | OBIT(TXN_O_WINDOW_BEFORE) |
                    OBIT(TXN_O_WINDOW_AFTER) | OBIT(TXN_O_TRACE_AT) | OBIT(TXN_O_TRACE_OUT);
    const char *argv[TB_MAX_ARGS + 1];
    char buf[4096];
    argv[0] = bin;
    int n = 1 + test_argv(c, r->seed, file, mask, &w, argv + 1, TB_MAX_ARGS - 2, buf, sizeof buf);
    argv[n++] = "-q";
    argv[n] = NULL;
    int st = tb_run_child(bin, argv);
    char why[64];
    int wave = tb_wave_written(r->trace_dir, why, sizeof why);
    if (st == 1 && wave)
        snprintf(note, len, "wave.fst: cycles %" PRIu64 "..%" PRIu64 " re-simulated in the traced build; the failure "
                 "reproduced at the same cycle", w.trace_at > w.before ? w.trace_at - w.before : 0, w.trace_at + w.after);
    else if (st == 1)
        snprintf(note, len, "no waveform: the traced re-run %s exited 1 but wrote %s (a sanitizer's report? see "
                 "its output above)", bin, why);
    else if (st == 3)
        snprintf(note, len, "the traced re-run did NOT reproduce the failure at the same cycle (non-determinism?)");
    else
        snprintf(note, len, "no waveform: the traced re-run %s failed (status %d)", bin, st);
    return st == 1 && wave;
}

static void report_failure(txn_ctx *c, const txn_jobs *js, const char *file, txn_result *r)
{
    snprintf(r->trace_dir, sizeof r->trace_dir, "%s/%s", c->o.trace_dir, r->name);
    tb_sanitize(r->trace_dir + strlen(c->o.trace_dir) + 1);
    tb_remove_trace_dir(r->trace_dir);
    tb_cleanup_dir(r->trace_dir);
    r->trace_note[0] = '\0';
    if (tb_mkdir_p(r->trace_dir) != 0)
        snprintf(r->trace_note, sizeof r->trace_note, "cannot create %s", r->trace_dir);
    else
        r->have_wave = make_waveform(c, r, file, r->trace_note, sizeof r->trace_note);
    txn_write_reports(r->trace_dir, c->d, js, r, c->o.before, c->o.after);
    tb_cleanup_dir(NULL);
    txn_print_report(stdout, c->d, js, r);
    size_t tl = strlen(c->traces);
    snprintf(c->traces + tl, sizeof c->traces - tl, "trace: %s\n", r->trace_dir);
}

static void results_line(FILE *f, const txn_jobs *js, const txn_result *r, const char *status)
{
    if (!f)
        return;
    fprintf(f, "{\"test\": ");
    tb_json_str(f, r->name);
    fprintf(f, ", \"status\": \"%s\", \"cycles\": %" PRIu64 ", \"seconds\": %.6f, \"seed\": %" PRIu64
               ", \"p_valid\": %g, \"p_ready\": %g, \"layers\": [", status, r->cycles, r->seconds, r->seed,
            r->p_valid, r->p_ready);
    for (unsigned j = 0; js && j < js->n; j++) {
        fprintf(f, "%s", j ? ", " : "");
        tb_json_str(f, js->job[j].source);
    }
    fprintf(f, "]");
    if (r->error[0]) {
        fprintf(f, ", \"error\": ");
        tb_json_str(f, r->error);
    }
    fprintf(f, "}\n");
    fflush(f);
}

/* One test: its layers, its run, its outcome in every output. Returns its cycles. */
static uint64_t one_test(txn_ctx *c, unsigned t, uint64_t seed, const char *file, int *status)
{
    static txn_result r;
    memset(&r, 0, sizeof r);
    const char *prefix = c->o.name ? c->o.name : "", *slash = c->o.name ? "/" : "";
    mpq_job *given = c->o.mode == TXN_MODEL ? &c->model_jobs[t] : NULL;
    const char *saved_ops = c->o.ops;
    uint64_t saved_given = c->o.given;
    static char one_op[16];
    if (given) { /* this operator alone: its reproduce line and traced re-run say --ops N */
        snprintf(one_op, sizeof one_op, "%u", given->op);
        c->o.ops = one_op;
        c->o.given |= OBIT(TXN_O_OPS);
    }
    if (file)
        snprintf(r.name, sizeof r.name, "%s%s%s%s%s", prefix, slash, strrchr(file, '/') ? strrchr(file, '/') + 1 : file,
                 given ? "-op" : "", given ? one_op : "");
    else
        snprintf(r.name, sizeof r.name, "%s%stxn-%" PRIu64, prefix, slash, seed);
    r.seed = seed;
    r.file = file;
    timing_of(&c->o, seed, &r);
    repro_of(c, seed, file, &r);
    txn_jobs js;
    int st = txn_jobs_make(c->d, c->d->codec == MPQ_CODEC_MPQ ? &c->hw : NULL, &c->o, seed, t, given, &js, r.error,
                           sizeof r.error);
    if (st == 0)
        st = txn_run_test(c->d, &c->o, &js, seed, &r);
    if (c->o.trace_mode) {
        if (st != 2)
            txn_write_gtkw(c->o.trace_out, c->d, &r, c->o.trace_at);
        *status = st == 1 && r.f.cycle == c->o.trace_at ? 1 : st == 2 ? 2 : 3;
        txn_jobs_free(&js);
        c->o.ops = saved_ops;
        c->o.given = saved_given;
        return r.cycles;
    }
    results_line(c->results, st == 2 ? NULL : &js, &r, st == 0 ? "passed" : st == 1 ? "failed" : "error");
    if (st == 2) {
        fprintf(stderr, "%s: %s: %s\n", c->self, r.name, r.error);
        tb_junit_case(c->junit, r.name, 0.0, "error", r.error);
        c->errors++;
        *status = 2;
    } else if (st == 1) {
        char msg[700];
        report_failure(c, &js, file, &r);
        txn_short(c->d, &js, &r, msg, sizeof msg);
        tb_junit_case(c->junit, r.name, r.seconds, "failure", msg);
        printf("FAIL  %s: %s\n", r.name, msg);
        c->failed++;
        if (*status == 0)
            *status = 1;
    } else {
        char old[1400];
        snprintf(old, sizeof old, "%s/%s", c->o.trace_dir, r.name);
        tb_sanitize(old + strlen(c->o.trace_dir) + 1);
        tb_remove_trace_dir(old);
        tb_junit_case(c->junit, r.name, r.seconds, NULL, NULL);
        if (!c->o.stim.quiet)
            printf("PASS  %-32s %9" PRIu64 " cycles %8.3f Mcycles/s  (%u layer%s: %s%s)\n", r.name, r.cycles,
                   r.seconds > 0 ? (double)r.cycles / r.seconds / 1e6 : 0.0, js.n, js.n == 1 ? "" : "s",
                   js.job[0].source, js.n > 1 ? ", ..." : "");
        c->passed++;
    }
    txn_jobs_free(&js);
    c->o.ops = saved_ops;
    c->o.given = saved_given;
    return r.cycles;
}

static int run_all(txn_ctx *c)
{
    int status = 0;
    uint64_t total = 0;
    for (unsigned t = 0;; t++) {
        if (c->o.mode == TXN_CASE && t >= (unsigned)c->o.nfiles)
            break;
        if (c->o.mode == TXN_MODEL && t >= c->nmodel)
            break;
        if (c->o.mode == TXN_RANDOM && (c->o.stim.cycles ? total >= c->o.stim.cycles : t >= c->o.stim.runs))
            break;
        if (c->o.trace_mode && t > 0)
            break;
        uint64_t seed = c->o.mode == TXN_RANDOM ? c->o.stim.seed + t : c->o.stim.seed;
        total += one_test(c, t, seed, c->o.mode != TXN_RANDOM ? c->o.files[c->o.mode == TXN_CASE ? t : 0] : NULL,
                          &status);
    }
    return status;
}

/* Model mode: the model's layers as jobs, from the golden model's run of it on a random input
 * (--seed, default 1, printed). Returns 0, or 2 (printed). */
static int model_jobs(txn_ctx *c)
{
    if (c->d->codec == MPQ_CODEC_MPQ) {
        fprintf(stderr, "%s: model mode is for a DUT whose description lays out its beats (codec layout); "
                "mpq's own accelerator maps a model's layers with mpq-golden model map\n", c->self);
        return 2;
    }
    if (!(c->o.stim.given >> MPQ_SO_SEED & 1u)) {
        c->o.stim.seed = 1;
        c->o.stim.given |= 1ull << MPQ_SO_SEED;
    }
    char err[1400], skip[700];
    unsigned skipped;
    if (mpq_job_model(c->d, c->o.files[0], c->o.ops, c->o.stim.seed, &c->model_jobs, &c->nmodel, &skipped, skip,
                      sizeof skip, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", c->self, err);
        return 2;
    }
    if (!c->o.trace_mode) {
        printf("%s: %u layer%s of %s, input random from seed %" PRIu64 " (--seed)", c->self, c->nmodel,
               c->nmodel == 1 ? "" : "s", c->o.files[0], c->o.stim.seed);
        if (skipped)
            printf("; %u skipped, the DUT does not run them (first: %s)", skipped, skip);
        printf("\n");
    }
    return 0;
}

int txn_main(int argc, char **argv, const char *sub)
{
    static txn_ctx c;
    memset(&c, 0, sizeof c);
    c.self = argv[0];
    c.sub = sub;
    int rc = txn_opts_parse(argc, argv, c.self, &c.o);
    if (rc != 0 || (rc = load_desc(&c)) != 0) {
        txn_opts_free(&c.o);
        return rc == 1 ? 0 : 2;
    }
    if (c.o.mode == TXN_MODEL && (rc = model_jobs(&c)) != 0) {
        rc = 2;
    } else {
        if (!(c.o.stim.given >> MPQ_SO_SEED & 1u)) {
            c.o.stim.seed = (uint64_t)time(NULL);
            c.o.stim.given |= 1ull << MPQ_SO_SEED;
            if (!c.o.trace_mode && c.o.mode == TXN_RANDOM)
                printf("%s: seed %" PRIu64 " (--seed %" PRIu64 " reproduces)\n", c.self, c.o.stim.seed, c.o.stim.seed);
        }
        tb_join_cmd(c.cmd, sizeof c.cmd, argc, argv);
        tb_cleanup_on_signal();
        c.junit = c.o.junit && !c.o.trace_mode ? tb_junit_open(c.o.junit) : NULL;
        c.results = c.o.results && !c.o.trace_mode ? fopen(c.o.results, "a") : NULL;
        if ((c.o.junit && !c.o.trace_mode && !c.junit) || (c.o.results && !c.o.trace_mode && !c.results)) {
            fprintf(stderr, "%s: cannot write %s\n", c.self, c.o.junit && !c.junit ? c.o.junit : c.o.results);
            rc = 2;
        } else {
            rc = run_all(&c);
            if (!c.o.trace_mode) {
                tb_write_last_run(c.o.trace_dir, c.cmd, c.traces);
                printf("%u passed, %u failed%s\n", c.passed, c.failed + c.errors,
                       c.errors ? " (some with errors, see above)" : "");
            }
        }
        tb_junit_close(c.junit);
        if (c.results)
            fclose(c.results);
    }
    for (unsigned i = 0; i < c.nmodel; i++)
        mpq_job_free(&c.model_jobs[i]);
    free(c.model_jobs);
    mpq_desc_free(c.d);
    txn_opts_free(&c.o);
    return rc;
}
