/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq-tb: the co-simulation testbench. Drives the Verilated accelerator (tb/mpq_dut.h) cycle
 * by cycle from a vector file (replay) or from the golden cycle model running in the same
 * process (lockstep), and compares every output port in every cycle (out_data_o only while
 * out_valid_o is expected, as docs/timing.md says).
 *
 * On a mismatch it prints where (cycle, port, expected and actual per lane, what the array
 * was computing, seeds, the command that reproduces it) and writes a mismatch trace folder:
 * report.txt, report.json, and, by re-running the same stimulus in the traced build, wave.fst
 * (a window of cycles around the first mismatch, expected values and mismatch flags beside
 * the DUT's signals) with wave.gtkw. A passing run never touches the traced build. Run as the
 * traced build itself, a lockstep test takes snapshots (tb_snap.c) and a late mismatch's
 * waveform comes from the last one before it instead.
 *
 * The parts: tb_opts.c (the command line, from the option tables of golden/stim/mpq_opts.h),
 * tb_source.c (where the cycles come from: replay,
 * lockstep, the source thread, the hold injection), tb_cosim.c (the per-cycle step),
 * tb_report.c (reports, JUnit). This file runs the tests and the benchmark's bare loop.
 */
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arith/mpq.h"
#include "mpq_dut.h"
#include "explore/mpq_explore.h"
#include "tb_cosim.h"
#include "tb_net.h"
#include "tb_opts.h"
#include "tb_pipe.h"
#include "tb_report.h"
#include "tb_snap.h"
#include "tb_source.h"
#include "tb_util.h"
#include "txn.h"

/* ---- the per-cycle check ------------------------------------------------------------------ */
/* The per-cycle loops are kept out of line so that `make bench` can count their instructions
 * alone (callgrind --toggle-collect=run_test / bare_pass). */
#if defined(__GNUC__)
#define TB_NOINLINE __attribute__((noinline))
#else
#define TB_NOINLINE
#endif

/* Opens the waveform of a traced run (the from-zero re-run, or a woken snapshot from its
 * cycle: model is then the generator's cycle model) in dir. Returns 0, or 2 (res->error). */
static int trace_open(tb_cosim *cs, const char *dir, const mpq_cm *model, char *tmp, size_t tmplen,
                      tb_result *res)
{
    snprintf(tmp, tmplen, "%s/wave.fst.tmp", dir);
    if (mpq_dut_trace_open(cs->dut, tmp) != 0) {
        snprintf(res->error, sizeof res->error, "cannot write %s", tmp);
        return 2;
    }
    return tb_cosim_trace_start(cs, model, res->error, sizeof res->error);
}

/* Mismatch number res->mismatches (kept while there is room): cycle c, the ports in mis, what
 * the DUT was given, expected and gave, where the golden model was, the white-box registers. */
static void record_mismatch(tb_result *res, const tb_cosim *cs, const tb_source *s, uint64_t c, uint32_t mis,
                            const mpq_port_in *in, const mpq_port_out *exp, const mpq_port_out *act)
{
    if (res->mismatches < TB_MAX_RECORDED) {
        tb_mismatch *m = &res->mis[res->mismatches];
        memset(m, 0, sizeof *m);
        m->cycle = c;
        m->ports = mis;
        m->exp = *exp;
        m->act = *act;
        m->in = *in;
        if (cs->shadow) { /* the shadow model knows where, for replay too */
            m->where = cs->where;
            m->have_where = 1;
        } else {
            m->have_where = tb_source_where(s, &m->where);
        }
        m->have_regs = cs->whitebox;
        if (cs->whitebox) {
            m->exp_regs = cs->exp_regs;
            m->act_regs = cs->act_regs;
        }
    }
    res->mismatches++;
}

/* One test (a vector file or a lockstep run) on a fresh DUT: the source's cycles through the
 * step function until the source ends, enough mismatches are seen, or (traced re-simulation,
 * woken snapshot) the waveform window is past. snap (NULL: none) forks snapshots on the way.
 * Returns 0 passed, 1 a mismatch, 2 an error (res->error), 3 the ports agreed every cycle but
 * the RTL's access counters differ from the cycle model's (res->error names the counter): a
 * failure of the DUT, with no port and cycle to trace. */
static TB_NOINLINE int run_test(const tb_opts *o, const char *name, tb_source *s,
                                const char *repro, tb_result *res, tb_snap *snap)
{
    static mpq_port_in in;
    static mpq_port_out exp, act;
    /* The mismatch records (some 100 KB) are cleared one by one as they are filled
     * (record_mismatch): only those below res->mismatches are ever read. */
    memset(res, 0, offsetof(tb_result, mis));
    res->trace_lo = res->trace_hi = 0;
    snprintf(res->name, sizeof res->name, "%s", name);
    snprintf(res->repro, sizeof res->repro, "%s", repro);
    res->h = s->h;
    tb_cosim cs;
    /* The power-on state is random, from the timing seed (reset must clear what matters). */
    if (tb_cosim_open(&cs, &s->h.hw, o->whitebox, s->h.timing_seed, s->path ? s->path : name,
                      res->error, sizeof res->error) != 0)
        return 2;
    int tracing = o->trace_mode;
    uint64_t win_lo = 0, win_hi = 0;
    char tmp[1300];
    const char *trace_out = o->trace_out;
    if (tracing) {
        win_lo = o->trace_at > o->before ? o->trace_at - o->before : 0;
        win_hi = o->trace_at + o->after;
        if (trace_open(&cs, trace_out, NULL, tmp, sizeof tmp, res) != 0) {
            tb_cosim_close(&cs);
            return 2;
        }
    }
    /* Snapshots: a lockstep test (its generator's cycle model starts the waveform's golden
     * registers) in a build that can write a waveform from any cycle. */
    int snapping = snap && !tracing && s->has_model && cs.traceable;
    uint64_t snap_at = snapping ? tb_snap_begin(snap) : UINT64_MAX;
    tb_snap_order order;
    int woken = 0;
    double t0 = tb_now_s();
    uint64_t c = 0;
    int rc, status = 0;
    while ((rc = tb_source_next(s, &in, &exp)) == 1) {
        if (tracing)
            mpq_dut_trace_enable(cs.dut, c >= win_lo && c <= win_hi);
        uint32_t mis = tb_cosim_step(&cs, &in, &exp, &act);
        if (mis) {
            record_mismatch(res, &cs, s, c, mis, &in, &exp, &act);
            status = 1;
        }
        c++;
        if (c == snap_at && (woken || tb_snap_poll(snap, c, s, &snap_at, &order) == 1)) {
            /* A woken snapshot (tb_snap.h): at full speed to the window, then the waveform,
             * its golden registers from the generator's model of that cycle. */
            if (!woken) {
                woken = 1;
                win_lo = order.lo;
                win_hi = order.hi;
                trace_out = order.dir;
                res->mismatches = 0;
            }
            snap_at = win_lo > c ? win_lo : UINT64_MAX;
            if (win_lo <= c) {
                tracing = 1;
                if (trace_open(&cs, trace_out, tb_source_model(s), tmp, sizeof tmp, res) != 0)
                    tb_snap_exit(&order, res, 2, 0);
            }
        }
        if (tracing && c > win_hi)
            break;
        if (!tracing && (res->mismatches >= o->max_mismatches || (mis >> TB_P_ASSERT & 1u)))
            break;
    }
    res->seconds = tb_now_s() - t0;
    res->cycles = c;
    if (rc < 0) {
        snprintf(res->error, sizeof res->error, "%s", tb_source_error(s));
        status = 2;
    }
    /* A whole test without a mismatch, in a build with access counters: they equal the
     * golden cycle model's (the shadow's, or the generator's on the same inputs). */
    if (status == 0 && rc == 0 && !tracing && !woken &&
        tb_cosim_counts_check(&cs, cs.shadow ? cs.shadow : tb_source_model(s), res->counts, &res->have_counts,
                              res->error, sizeof res->error) != 0)
        status = 3;
    int wave_ok = 0;
    if (tracing) {
        mpq_dut_trace_close(cs.dut);
        char fin[1300];
        snprintf(fin, sizeof fin, "%s/wave.fst", trace_out);
        wave_ok = rename(tmp, fin) == 0;
        if (!wave_ok)
            status = 2;
        res->trace_lo = win_lo;
        res->trace_hi = c ? c - 1 : 0;
    }
    /* A woken snapshot leaves without freeing the model: the Verilated context's thread pool
     * waits for workers that the fork did not copy. */
    if (woken) /* (a mismatch before the window ends it early: then not reproduced) */
        tb_snap_exit(&order, res, status, wave_ok);
    tb_cosim_close(&cs);
    return status;
}

/* The bare loop's preloaded cycle: the 1-bit inputs in a word (mpq_port_in_bits), then the
 * words of every input bus (nw[bus] each). load_ / save_: one bus from and to those words. */
static inline void load_WORDS(uint32_t (*dst)[MPQ_PORT_WORDS_MAX], const uint32_t *src, unsigned nw)
{
    memcpy(*dst, src, nw * sizeof *src);
}
static inline void load_U64(uint64_t *dst, const uint32_t *src, unsigned nw)
{
    (void)nw;
    *dst = (uint64_t)src[0] | (uint64_t)src[1] << 32;
}
static inline void save_WORDS(uint32_t *dst, const uint32_t (*src)[MPQ_PORT_WORDS_MAX], unsigned nw)
{
    memcpy(dst, *src, nw * sizeof *dst);
}
static inline void save_U64(uint32_t *dst, const uint64_t *src, unsigned nw)
{
    (void)nw;
    dst[0] = (uint32_t)*src;
    dst[1] = (uint32_t)(*src >> 32);
}

/* One pass of the bare loop over n preloaded cycles of `per` words each. */
static TB_NOINLINE void bare_pass(mpq_dut *dut, const uint32_t *buf, size_t n, size_t per,
                                  const unsigned *nw)
{
    static mpq_port_in in;
    for (size_t c = 0; c < n; c++) {
        const uint32_t *p = buf + c * per;
        mpq_port_in_bits_set(*p++, &in);
#define X(idx, field, port, bus, width, store, rec, valid) \
    load_##store(&in.field, p, nw[bus]);                   \
    p += nw[bus];
        MPQ_IN_BUSES(X)
#undef X
        mpq_dut_apply(dut, &in);
        mpq_dut_tick(dut);
    }
}

/* The benchmark's limit (make bench): the file's input ports are loaded into memory first,
 * then the model is clocked through them with nothing read, compared or decoded, R times.
 * Prints the cycles and the rate of the fastest pass. */
static int run_bare(const char *file, uint64_t repeat)
{
    char err[1024];
    mpq_vec_reader *r;
    if (mpq_vec_reader_open(file, &r, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-tb: %s\n", err);
        return 2;
    }
    const mpq_hwcfg *hw = &mpq_vec_reader_header(r)->hw;
    unsigned nw[MPQ_BUS_COUNT] = {0};
    size_t per = 1u, cap = 1u << 16, n = 0;
#define X(idx, field, port, bus, width, store, rec, valid) \
    nw[bus] = mpq_port_words_##store(mpq_port_width(hw, width)); \
    per += nw[bus];
    MPQ_IN_BUSES(X)
#undef X
    uint32_t *buf = malloc(cap * per * sizeof *buf);
    static mpq_port_in in;
    static mpq_port_out exp;
    int rc;
    while (buf && (rc = mpq_vec_reader_next(r, &in, &exp)) == 1) {
        if (n == cap) {
            if (!(buf = mpq_grow(buf, &cap, per * sizeof *buf)))
                break;
        }
        uint32_t *p = buf + n * per;
        *p++ = mpq_port_in_bits(&in);
#define X(idx, field, port, bus, width, store, rec, valid) \
    save_##store(p, &in.field, nw[bus]);                   \
    p += nw[bus];
        MPQ_IN_BUSES(X)
#undef X
        n++;
    }
    if (!buf) {
        fprintf(stderr, "mpq-tb: out of memory loading %s\n", file);
        mpq_vec_reader_close(r);
        return 2;
    }
    if (rc < 0) {
        fprintf(stderr, "mpq-tb: %s\n", mpq_vec_reader_error(r));
        mpq_vec_reader_close(r);
        free(buf);
        return 2;
    }
    mpq_vec_reader_close(r);
    double best = 0.0;
    for (uint64_t pass = 0; pass < repeat; pass++) {
        mpq_dut *dut = mpq_dut_new(1);
        if (!dut) {
            free(buf);
            return 2;
        }
        double t0 = tb_now_s();
        bare_pass(dut, buf, n, per, nw);
        double dt = tb_now_s() - t0;
        mpq_dut_free(dut);
        if (pass == 0 || dt < best)
            best = dt;
    }
    free(buf);
    printf("BARE  %s %zu cycles %.3f s %.3f Mcycles/s (best of %" PRIu64 ")\n", file, n, best,
           best > 0 ? (double)n / best / 1e6 : 0.0, repeat);
    return 0;
}

/* ---- main ---------------------------------------------------------------------------------- */
static const char *default_trace_bin(const char *argv0, char *buf, size_t len)
{
    /* build/vl/<cfg>/plain/mpq-tb -> build/vl/<cfg>/trace/mpq-tb */
    snprintf(buf, len, "%s", argv0);
    char *slash = strrchr(buf, '/');
    if (!slash) {
        snprintf(buf, len, "../trace/mpq-tb");
        return buf;
    }
    *slash = '\0';
    char *parent = strrchr(buf, '/');
    char dir[1024];
    snprintf(dir, sizeof dir, "%.*s", parent ? (int)(parent - buf) : 0, buf);
    snprintf(buf, len, "%s%strace/mpq-tb", dir, parent ? "/" : "../");
    return buf;
}

#define TB_BIT(o) (1ull << (o))

/* The arguments of a test's command: the mode and its file (replay) or its lockstep run
 * (seed), then the options of mpq-tb's own table in mask (TB_O_*) as o has them, written by
 * the option tables' writer. Returns the count; argv is NULL-terminated. */
static int test_argv(const tb_opts *o, const char *file, uint64_t seed, uint64_t mask,
                     const char **argv, int max, char *buf, size_t len)
{
    int n = 0;
    size_t used = 0;
    if (o->replay) {
        argv[n++] = "replay";
        argv[n++] = file;
        argv[n] = NULL;
    } else {
        tb_lockstep_argv(&o->stim, seed, argv, &n, max, buf, len, &used);
    }
    tb_opts_write(o, mask, argv, &n, max, buf, len, &used);
    return n;
}

/* Runs the traced build on the same stimulus for the window around the first mismatch.
 * Returns 0 when it reproduced the mismatch and wave.fst and wave.gtkw are in trace_out, -1
 * otherwise; note says which. */
int tb_make_waveform(const tb_opts *o, const char *self, const tb_result *res, const char *trace_out,
                     tb_snap *snap, char *note, size_t notelen)
{
    /* The newest snapshot before the window, when this run took one (tb_snap.h). */
    uint64_t at = res->mis[0].cycle, lo = at > o->before ? at - o->before : 0, from = 0;
    tb_snap_order order = {lo, at + o->after, at, ""};
    snprintf(order.dir, sizeof order.dir, "%s", trace_out);
    double secs = 0.0;
    if (tb_snap_wake(snap, &order, &from, &secs, note, notelen) == 0) {
        snprintf(note, notelen, "wave.fst: cycles %" PRIu64 "..%" PRIu64 " re-simulated from this run's "
                 "snapshot of cycle %" PRIu64 " (%.2f s); the mismatch reproduced at the same cycle",
                 lo, at + o->after, from, secs);
        return 0;
    }
    if (note[0]) /* a snapshot that failed: said, then the re-run from cycle 0 */
        fprintf(stderr, "mpq-tb: %s; re-running from cycle 0\n", note);
    char bin[1024];
    const char *tb = o->trace_bin ? o->trace_bin : default_trace_bin(self, bin, sizeof bin);
    static int built; /* the traced build is brought up to date once per run, when first needed */
    if (o->trace_build && !built) {
        built = 1;
        fflush(stdout);
        fflush(stderr);
        int rc = system(o->trace_build);
        if (rc != 0) {
            snprintf(note, notelen, "no waveform: building the traced model failed (%s)", o->trace_build);
            return -1;
        }
    }
    if (access(tb, X_OK) != 0) {
        snprintf(note, notelen,
                 "no waveform: the traced build %s does not exist (make tb-trace CONFIG=...)", tb);
        return -1;
    }
    /* The same test in the traced build: its stimulus options, and the window to dump. */
    tb_opts w = *o;
    w.trace_at = res->mis[0].cycle;
    w.trace_out = trace_out;
    uint64_t mask = TB_BIT(TB_O_INJECT_HOLD) | TB_BIT(TB_O_INJECT_AFTER) | TB_BIT(TB_O_WHITEBOX) | TB_BIT(TB_O_WINDOW_BEFORE) |
                    TB_BIT(TB_O_WINDOW_AFTER) | TB_BIT(TB_O_TRACE_AT) | TB_BIT(TB_O_TRACE_OUT);
    w.given |= mask & ~(TB_BIT(TB_O_INJECT_HOLD) | TB_BIT(TB_O_INJECT_AFTER) | TB_BIT(TB_O_WHITEBOX));
    char abuf[2048];
    const char *args[64];
    args[0] = tb;
    int n = 1 + test_argv(&w, res->file, res->h.seed, mask, args + 1, 62, abuf, sizeof abuf);
    args[n++] = "-q";
    args[n] = NULL;
    int st = tb_run_child(tb, args);
    char why[64];
    int wave = tb_wave_written(trace_out, why, sizeof why);
    if (st < 0 || st > 1) {
        snprintf(note, notelen, "no waveform: the traced re-simulation %s failed (status %d)", tb, st);
        return -1;
    }
    if (st != 1) {
        snprintf(note, notelen,
                 "the traced re-simulation did NOT reproduce the mismatch (non-determinism?)");
        return -1;
    }
    if (!wave) {
        snprintf(note, notelen, "no waveform: the traced re-simulation %s exited 1 but wrote %s "
                 "(a sanitizer's report? see its output above)", tb, why);
        return -1;
    }
    snprintf(note, notelen, "wave.fst: cycles %" PRIu64 "..%" PRIu64
             " re-simulated in the traced build; the mismatch reproduced at the same cycle",
             res->mis[0].cycle > o->before ? res->mis[0].cycle - o->before : 0,
             res->mis[0].cycle + o->after);
    return 0;
}

/* ---- files a run leaves: trace folders, the last-run record ------------------------------------ */
/* The source of test t: a vector file, or lockstep run seed + t; wrapped in the source thread
 * and the hold injection when asked. Its name and reproduce command go to name / repro. */
static int open_source(const tb_opts *o, const mpq_hwcfg *hw, const char *self, unsigned t,
                       tb_source **s, char *name, size_t namelen, char *repro, size_t reprolen,
                       char *err, size_t errlen)
{
    const char *prefix = o->name ? o->name : "", *slash = o->name ? "/" : "";
    int rc;
    if (o->replay) {
        const char *f = o->files[t];
        const char *base = strrchr(f, '/') ? strrchr(f, '/') + 1 : f;
        snprintf(name, namelen, "%s%s%s", prefix, slash, base);
        rc = tb_source_replay(f, s, err, errlen);
    } else {
        uint64_t seed = o->stim.seed + t;
        snprintf(name, namelen, "%s%slockstep-%" PRIu64, prefix, slash, seed);
        rc = tb_source_lockstep(hw, &o->stim, seed, s, err, errlen);
    }
    if (rc != 0)
        return rc;
    /* The reproduce command: the test's stimulus, and the options that decide where the trace
     * goes, so the reproduction replaces it. */
    uint64_t mask = TB_BIT(TB_O_NAME) | TB_BIT(TB_O_INJECT_HOLD) | TB_BIT(TB_O_INJECT_AFTER) | TB_BIT(TB_O_WHITEBOX);
    if (strcmp(o->trace_dir, "build/traces") != 0)
        mask |= TB_BIT(TB_O_TRACE_DIR);
    const char *argv[64];
    char buf[2048];
    int n = test_argv(o, o->replay ? o->files[t] : NULL, o->stim.seed + t, mask, argv, 64, buf, sizeof buf);
    size_t used = (size_t)snprintf(repro, reprolen, "%s", self);
    for (int i = 0; i < n && used + 2 < reprolen; i++) { /* each a shell word: it runs as printed */
        repro[used++] = ' ';
        used += tb_shell_word(repro + used, reprolen - used, argv[i]);
    }
    /* The source thread, unless this is the traced re-simulation (a short window) or it was
     * turned off; without it (or the memory for it) the source is called directly. */
    int threaded = o->source_thread >= 0 ? o->source_thread : tb_pipe_useful();
    if (threaded && !o->trace_mode)
        *s = tb_source_threaded(*s);
    if (o->inject_hold)
        *s = tb_source_inject_hold(*s, o->inject_after);
    return 0;
}

/* A failed test: where the golden model was (replay re-runs it over the file), the traced
 * re-simulation for the waveform, the report files, the printed report. */
/* The trace folder of a test: one name per test, whichever command ran it (the reproduce
 * command names the same --name), so a rerun replaces it. */
static void trace_dir_of(const tb_opts *o, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", o->trace_dir, name);
    tb_sanitize(buf + strlen(o->trace_dir) + 1);
}

static void report_failure(const tb_opts *o, const char *self, const char *name, tb_result *res,
                           tb_snap *snap)
{
    char err[1024];
    if (!res->mis[0].have_where)
        tb_where_from_file(res->file, res, err, sizeof err);
    char trace[1400], note[1200];
    trace_dir_of(o, name, trace, sizeof trace);
    tb_remove_trace_dir(trace); /* an older run's files must not mix with this one's */
    note[0] = '\0';
    tb_cleanup_dir(trace);
    if (tb_mkdir_p(trace) != 0)
        snprintf(note, sizeof note, "cannot create %s", trace);
    else
        res->have_wave = tb_make_waveform(o, self, res, trace, snap, note, sizeof note) == 0;
    snprintf(res->trace_dir, sizeof res->trace_dir, "%s", trace);
    snprintf(res->trace_note, sizeof res->trace_note, "%s", note);
    tb_write_reports(trace, res, o->before, o->after);
    tb_cleanup_dir(NULL);
    tb_print_report(stdout, res);
}

/* The RTL of this binary against what the command line asks: the white-box build for
 * --whitebox, the configuration of --config, a --k and --hp-n it can run. Sets *hw to its
 * configuration and, lockstep without --seed, the seed from the clock (printed). Returns 0,
 * or 2 (printed). */
static int check_rtl(tb_opts *o, mpq_hwcfg *hw)
{
    char err[2048], buf[256], b2[256];
    /* The configuration this binary was built with, from the RTL itself. */
    if (tb_rtl_config(hw, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-tb: %s\n", err);
        return 2;
    }
    if (o->whitebox && !mpq_dut_whitebox()) {
        fprintf(stderr, "mpq-tb: --whitebox needs the white-box build of the testbench "
                "(build/vl/<config>/wb/mpq-tb: make tb-wb CONFIG=..., or make sim WHITEBOX=1)\n");
        return 2;
    }
    if (o->config_file) {
        mpq_hwcfg want;
        if (mpq_hwcfg_load(o->config_file, &want, err, sizeof err) != 0) {
            fprintf(stderr, "mpq-tb: %s\n", err);
            return 2;
        }
        if (!mpq_hwcfg_equal(&want, hw)) {
            fprintf(stderr, "mpq-tb: %s says %s, but this RTL reports %s on hwcfg_o\n",
                    o->config_file, mpq_hwcfg_str(&want, buf, sizeof buf), mpq_hwcfg_str(hw, b2, sizeof b2));
            return 2;
        }
    }
    const mpq_stim_args *a = &o->stim;
    int k_big = (a->given >> MPQ_SO_K & 1u) && a->k > hw->kmax;
    if (!o->replay && (k_big || ((a->given >> MPQ_SO_HP_N & 1u) && a->hp_n > hw->hp_per_group))) {
        /* Only what the user asked for: the random choices always fit. */
        if (k_big)
            fprintf(stderr, "mpq-tb: --k %u is more than KMax = %u of this RTL\n", a->k, hw->kmax);
        else
            fprintf(stderr, "mpq-tb: --hp-n %u is more than HpPerGroup = %u of this RTL\n",
                    a->hp_n, hw->hp_per_group);
        return 2;
    }
    if (!o->replay && !(a->given >> MPQ_SO_SEED & 1u)) {
        o->stim.seed = (uint64_t)time(NULL);
        if (!o->trace_mode)
            printf("mpq-tb: lockstep seed %" PRIu64 " (--seed %" PRIu64 " reproduces)\n", a->seed, a->seed);
    }
    /* A layer this RTL or this machine cannot run is refused before anything runs (gen too). */
    if (!o->replay && tb_lockstep_fits(hw, a, a->seed, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-tb: %s\n", err);
        return 2;
    }
    return 0;
}

/* What a run of several tests collects: its outputs, counts, the trace folders it wrote and
 * what the passing tests' stimulus exercised. */
typedef struct tb_run {
    mpq_hwcfg hw;
    char self_cmd[2048], full_cmd[4096];
    char traces[4096];
    tb_junit *junit;
    FILE *results;
    tb_snap *snap;      /* snapshots of the running test (NULL: none) */
    tb_summary sum;
    mpq_gen_stats cover;
    unsigned covered;
    int status;
} tb_run;

/* Opens --junit and --results (not in the traced re-simulation). Returns 0 or 2 (printed). */
static int run_open(const tb_opts *o, tb_run *r)
{
    r->junit = o->junit && !o->trace_mode ? tb_junit_open(o->junit) : NULL;
    if (o->junit && !o->trace_mode && !r->junit) {
        fprintf(stderr, "mpq-tb: cannot write %s\n", o->junit);
        return 2;
    }
    if (o->results && !o->trace_mode && !(r->results = fopen(o->results, "a"))) {
        fprintf(stderr, "mpq-tb: cannot write %s\n", o->results);
        tb_junit_close(r->junit);
        return 2;
    }
    return 0;
}

/* The outcome of test `name` (st: run_test's status) in every output: the results line, the
 * failure's report and trace, JUnit, the PASS / FAIL line, the counts. */
static void run_record(const tb_opts *o, tb_run *r, const char *self, const char *name, tb_source *s,
                       int st, tb_result *res)
{
    tb_results_line(r->results, res, st == 0 ? "passed" : st == 1 || st == 3 ? "failed" : "error");
    if (st == 3) { /* every port equal, an access counter not: the DUT fails, no cycle to trace */
        printf("FAIL  %s: %s\n  reproduce: %s\n", name, res->error, res->repro);
        tb_junit_case(r->junit, name, res->seconds, "failure", res->error);
        r->sum.failed++;
        if (r->status == 0)
            r->status = 1;
    } else if (st == 2) {
        fprintf(stderr, "mpq-tb: %s\n", res->error);
        tb_junit_case(r->junit, name, res->seconds, "error", res->error);
        r->sum.errors++;
        r->status = 2;
    } else if (st == 1) {
        report_failure(o, self, name, res, r->snap);
        size_t tl = strlen(r->traces);
        snprintf(r->traces + tl, sizeof r->traces - tl, "trace: %s\n", res->trace_dir);
        char msg[600];
        tb_short(res, msg, sizeof msg);
        tb_junit_case(r->junit, name, res->seconds, "failure", msg);
        printf("FAIL  %s: %s\n", name, msg);
        r->sum.failed++;
        if (r->status == 0)
            r->status = 1;
    } else {
        char old[1400]; /* a trace of this test from an earlier run no longer applies */
        trace_dir_of(o, name, old, sizeof old);
        tb_remove_trace_dir(old);
        tb_junit_case(r->junit, name, res->seconds, NULL, NULL);
        mpq_gen_stats one;
        if (tb_source_stats(s, &one)) {
            mpq_gen_stats_add(&r->cover, &one);
            r->covered++;
        }
        if (!o->stim.quiet)
            printf("PASS  %-40s %9" PRIu64 " cycles %8.3f Mcycles/s  (%s)\n", name, res->cycles,
                   res->seconds > 0 ? (double)res->cycles / res->seconds / 1e6 : 0.0, s->h.source);
        if (o->stim.stats && res->have_counts) {
            char line[700];
            printf("access counters of %s (RTL == cycle model):%s\n", name,
                   mpq_xp_wb_counts_str(res->counts, line, sizeof line));
        }
        r->sum.passed++;
    }
}

/* The end of a run: its outputs closed, the last-run record, the stimulus summary, the
 * closing line. Returns the exit status. */
static int run_close(const tb_opts *o, tb_run *r)
{
    tb_snap_free(r->snap);
    r->snap = NULL;
    tb_junit_close(r->junit);
    if (r->results)
        fclose(r->results);
    tb_write_last_run(o->trace_dir, r->full_cmd, r->traces);
    unsigned pruned = tb_prune_traces(o->trace_dir, o->keep_traces, r->traces);
    if (pruned && !o->stim.quiet)
        printf("removed the %u oldest trace folders of %s (--keep-traces %u)\n", pruned, o->trace_dir,
               o->keep_traces);
    if (o->stim.stats && r->covered) {
        char line[1024];
        printf("stimulus of %u passing runs: %s\n", r->covered, mpq_gen_stats_str(&r->cover, line, sizeof line));
    }
    printf("%u passed, %u failed%s\n", r->sum.passed, r->sum.failed + r->sum.errors,
           r->sum.errors ? " (some with errors, see above)" : "");
    return r->status;
}

/* Every test of the command line in turn. Returns the exit status. */
static int run(tb_opts *o, int argc, char **argv)
{
    static tb_run r;
    static tb_result res;
    memset(&r, 0, sizeof r);
    if (check_rtl(o, &r.hw) != 0)
        return 2;
    if (o->bare_repeat)
        return run_bare(o->files[0], o->bare_repeat);
    tb_join_cmd(r.self_cmd, sizeof r.self_cmd, 1, argv);
    tb_join_cmd(r.full_cmd, sizeof r.full_cmd, argc, argv);
    tb_cleanup_on_signal();
    if (run_open(o, &r) != 0)
        return 2;
    if (!o->trace_mode && !o->replay && mpq_dut_traced())
        r.snap = tb_snap_new(o->snap_seconds, o->snap_cycles);
    uint64_t total_cycles = 0;
    for (unsigned t = 0;; t++) {
        if (o->replay && t >= (unsigned)o->nfiles)
            break;
        if (!o->replay && (o->stim.cycles ? total_cycles >= o->stim.cycles : t >= o->stim.runs))
            break;
        tb_source *s = NULL;
        char name[300], repro[2048], err[2048];
        if (open_source(o, &r.hw, r.self_cmd, t, &s, name, sizeof name, repro, sizeof repro, err,
                        sizeof err) != 0) {
            fprintf(stderr, "mpq-tb: %s\n", err);
            tb_junit_case(r.junit, name, 0.0, "error", err);
            r.sum.errors++;
            r.status = 2;
            continue;
        }
        int st = run_test(o, name, s, repro, &res, r.snap);
        snprintf(res.file, sizeof res.file, "%s", o->replay ? o->files[t] : "");
        total_cycles += res.cycles;
        if (o->trace_mode) {
            /* The traced re-simulation: waveform and GTKWave save file, then exit. */
            tb_source_close(s);
            tb_write_gtkw(o->trace_out, &res, o->trace_at);
            tb_junit_close(r.junit);
            return st == 1 && res.mis[0].cycle == o->trace_at ? 1 : st == 2 ? 2 : 3;
        }
        run_record(o, &r, argv[0], name, s, st, &res);
        tb_source_close(s);
    }
    return run_close(o, &r);
}

/* Options may come before the mode (`mpq-tb --whitebox replay F.vec`): the first argument
 * that names a mode moves to argv[1], the options before it after it, in their order. */
static void mode_first(int argc, char **argv)
{
    static const char *const modes[] = {"replay", "lockstep", "txn", "net"};
    if (argc < 3 || argv[1][0] != '-' || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return;
    for (int i = 2; i < argc; i++)
        for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++)
            if (!strcmp(argv[i], modes[m])) {
                char *mode = argv[i];
                memmove(argv + 2, argv + 1, (size_t)(i - 1) * sizeof *argv);
                argv[1] = mode;
                return;
            }
}

int main(int argc, char **argv)
{
    mode_first(argc, argv);
    /* mpq-tb txn: the transaction-level check (tb/txn.h) of this accelerator, codec mpq. */
    if (argc > 1 && !strcmp(argv[1], "txn")) {
        argv[1] = argv[0];
        return txn_main(argc - 1, argv + 1, "txn");
    }
    /* mpq-tb net: a TFLite model's MAC layers on this accelerator (tb/tb_net.h). */
    if (argc > 1 && !strcmp(argv[1], "net"))
        return tb_net_main(argc, argv);
    tb_opts o;
    int prc = tb_opts_parse(argc, argv, &o);
    int status = prc == 0 ? run(&o, argc, argv) : prc == 1 ? 0 : 2;
    tb_opts_free(&o);
    return status;
}
