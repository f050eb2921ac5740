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
 * the DUT's signals) with wave.gtkw. A passing run never touches the traced build.
 *
 * The parts: tb_opts.c (the command line), tb_source.c (where the cycles come from: replay,
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

#include "mpq.h"
#include "mpq_dut.h"
#include "tb_cosim.h"
#include "tb_opts.h"
#include "tb_pipe.h"
#include "tb_report.h"
#include "tb_source.h"

/* ---- the per-cycle check ------------------------------------------------------------------ */
/* Wall time; with MPQ_TB_CPU_TIME set in the environment, the process's CPU time instead
 * (make bench: on a shared host, time stolen by other tenants is then not counted). */
static double now_s(void)
{
    static int cpu = -1;
    if (cpu < 0)
        cpu = getenv("MPQ_TB_CPU_TIME") != NULL;
    struct timespec t;
    clock_gettime(cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The per-cycle loops are kept out of line so that `make bench` can count their instructions
 * alone (callgrind --toggle-collect=run_test / bare_pass). */
#if defined(__GNUC__)
#define TB_NOINLINE __attribute__((noinline))
#else
#define TB_NOINLINE
#endif

/* One test (a vector file or a lockstep run) on a fresh DUT: the source's cycles through the
 * step function until the source ends, enough mismatches are seen, or (traced re-simulation)
 * the waveform window is past. Returns 0 passed, 1 a mismatch, 2 an error (res->error). */
static TB_NOINLINE int run_test(const tb_opts *o, const char *name, tb_source *s,
                                const char *repro, tb_result *res)
{
    static mpq_port_in in;
    static mpq_port_out exp, act;
    memset(res, 0, sizeof *res);
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
    char tmp[1100];
    if (tracing) {
        win_lo = o->trace_at > o->before ? o->trace_at - o->before : 0;
        win_hi = o->trace_at + o->after;
        snprintf(tmp, sizeof tmp, "%s/wave.fst.tmp", o->trace_out);
        if (mpq_dut_trace_open(cs.dut, tmp) != 0) {
            snprintf(res->error, sizeof res->error, "cannot write %s", tmp);
            tb_cosim_close(&cs);
            return 2;
        }
    }
    double t0 = now_s();
    uint64_t c = 0;
    int rc, status = 0;
    while ((rc = tb_source_next(s, &in, &exp)) == 1) {
        if (tracing)
            mpq_dut_trace_enable(cs.dut, c >= win_lo && c <= win_hi);
        uint32_t mis = tb_cosim_step(&cs, &in, &exp, &act);
        if (mis) {
            if (res->mismatches < TB_MAX_RECORDED) {
                tb_mismatch *m = &res->mis[res->mismatches];
                m->cycle = c;
                m->ports = mis;
                m->exp = exp;
                m->act = act;
                m->in = in;
                if (cs.shadow) { /* the shadow model knows where, for replay too */
                    m->where = cs.where;
                    m->have_where = 1;
                } else {
                    m->have_where = tb_source_where(s, &m->where);
                }
                m->have_regs = cs.whitebox;
                if (cs.whitebox) {
                    m->exp_regs = cs.exp_regs;
                    m->act_regs = cs.act_regs;
                }
            }
            res->mismatches++;
            status = 1;
        }
        c++;
        if (tracing && c > win_hi)
            break;
        if (!tracing && (res->mismatches >= o->max_mismatches || (mis >> TB_P_ASSERT & 1u)))
            break;
    }
    res->seconds = now_s() - t0;
    res->cycles = c;
    if (rc < 0) {
        snprintf(res->error, sizeof res->error, "%s", tb_source_error(s));
        status = 2;
    }
    if (tracing) {
        mpq_dut_trace_close(cs.dut);
        char fin[1100];
        snprintf(fin, sizeof fin, "%s/wave.fst", o->trace_out);
        if (rename(tmp, fin) != 0)
            status = 2;
        res->trace_lo = win_lo;
        res->trace_hi = c ? c - 1 : 0;
    }
    tb_cosim_close(&cs);
    return status;
}

/* One pass of the bare loop over n cycles of preloaded inputs (layout of run_bare). */
static TB_NOINLINE void bare_pass(mpq_dut *dut, const uint32_t *buf, size_t n, unsigned wc,
                                  unsigned ww, unsigned wa)
{
    static mpq_port_in in;
    size_t per = 1u + wc + ww + wa;
    for (size_t c = 0; c < n; c++) {
        const uint32_t *p = buf + c * per;
        in.rst_n = p[0] & 1u;
        in.cfg_valid = p[0] >> 1 & 1u;
        in.wgt_valid = p[0] >> 2 & 1u;
        in.act_valid = p[0] >> 3 & 1u;
        in.out_ready = p[0] >> 4 & 1u;
        memcpy(in.cfg_data, p + 1, wc * sizeof *p);
        memcpy(in.wgt_data, p + 1 + wc, ww * sizeof *p);
        memcpy(in.act_data, p + 1 + wc + ww, wa * sizeof *p);
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
    unsigned wc = MPQ_WORDS(mpq_hw_cfg_w(hw)), ww = MPQ_WORDS(mpq_hw_wgt_w(hw)),
             wa = MPQ_WORDS(mpq_hw_act_w(hw));
    size_t per = 1u + wc + ww + wa, cap = 1u << 16, n = 0;
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
        p[0] = (uint32_t)in.rst_n | (uint32_t)in.cfg_valid << 1 | (uint32_t)in.wgt_valid << 2 |
               (uint32_t)in.act_valid << 3 | (uint32_t)in.out_ready << 4;
        memcpy(p + 1, in.cfg_data, wc * sizeof *p);
        memcpy(p + 1 + wc, in.wgt_data, ww * sizeof *p);
        memcpy(p + 1 + wc + ww, in.act_data, wa * sizeof *p);
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
        double t0 = now_s();
        bare_pass(dut, buf, n, wc, ww, wa);
        double dt = now_s() - t0;
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
static void join_cmd(char *buf, size_t len, int argc, char **argv)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < argc && used + 1 < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? " " : "", argv[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

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

/* Runs the traced build on the same stimulus for the window around the first mismatch.
 * Returns 0 when it reproduced the mismatch and wave.fst and wave.gtkw are in trace_out, -1
 * otherwise; note says which. */
static int make_waveform(const tb_opts *o, const char *self, const tb_result *res,
                         const char *trace_out, char *note, size_t notelen)
{
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
    char at[32], before[32], after[32], lbuf[1024];
    snprintf(at, sizeof at, "%" PRIu64, res->mis[0].cycle);
    snprintf(before, sizeof before, "%u", o->before);
    snprintf(after, sizeof after, "%u", o->after);
    const char *args[64];
    int n = 0;
    args[n++] = tb;
    if (o->replay) {
        args[n++] = "replay";
        args[n++] = res->file;
    } else {
        n += tb_lockstep_argv(&o->layer, res->h.seed, args + n, 40, lbuf, sizeof lbuf);
    }
    if (o->inject_hold)
        args[n++] = "--inject-hold";
    if (o->whitebox)
        args[n++] = "--whitebox";
    args[n++] = "--trace-at";
    args[n++] = at;
    args[n++] = "--trace-out";
    args[n++] = trace_out;
    args[n++] = "--window-before";
    args[n++] = before;
    args[n++] = "--window-after";
    args[n++] = after;
    args[n++] = "-q";
    args[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(note, notelen, "no waveform: fork failed");
        return -1;
    }
    if (pid == 0) {
        char *argv2[64];
        memcpy(argv2, args, sizeof argv2); /* execv's prototype predates const */
        execv(tb, argv2);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    /* A re-simulation that died mid-way leaves a partial FST (and the FST writer's hierarchy
     * file) behind: not a waveform. */
    static const char *const partial[] = {"wave.fst.tmp", "wave.fst.tmp.hier", "wave.gtkw.tmp"};
    for (size_t i = 0; i < sizeof partial / sizeof partial[0]; i++) {
        char p[1400];
        snprintf(p, sizeof p, "%s/%s", trace_out, partial[i]);
        unlink(p);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) > 1) {
        snprintf(note, notelen, "no waveform: the traced re-simulation %s failed (status %d)", tb,
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return -1;
    }
    if (WEXITSTATUS(st) != 1) {
        snprintf(note, notelen,
                 "the traced re-simulation did NOT reproduce the mismatch (non-determinism?)");
        return -1;
    }
    /* Exit 1 is also what a sanitizer's report exits with by default: the waveform exists only
     * when its files do (the traced build renames wave.fst into place once it is complete). */
    static const char *const wave_files[] = {"wave.fst", "wave.gtkw"};
    for (size_t i = 0; i < sizeof wave_files / sizeof wave_files[0]; i++) {
        char p[1400];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", trace_out, wave_files[i]);
        if (stat(p, &sb) != 0 || sb.st_size == 0) {
            snprintf(note, notelen, "no waveform: the traced re-simulation %s exited 1 but wrote no %s "
                     "(a sanitizer's report? see its output above)", tb, wave_files[i]);
            return -1;
        }
    }
    snprintf(note, notelen, "wave.fst: cycles %" PRIu64 "..%" PRIu64
             " re-simulated in the traced build; the mismatch reproduced at the same cycle",
             res->mis[0].cycle > o->before ? res->mis[0].cycle - o->before : 0,
             res->mis[0].cycle + o->after);
    return 0;
}

/* ---- files a run leaves: trace folders, the last-run record ------------------------------------ */
/* The trace folder being written, removed by a SIGINT/SIGTERM that arrives meanwhile (only
 * async-signal-safe calls in the handler: unlink, rmdir, _exit). */
static char cleanup_dir[1400];
static const char *const trace_files[] = {"report.txt", "report.json", "wave.fst", "wave.fst.tmp",
                                          "wave.fst.tmp.hier", "wave.gtkw", "report.txt.tmp",
                                          "report.json.tmp", "wave.gtkw.tmp"};

static void remove_trace_dir(const char *dir)
{
    char p[1600];
    for (size_t i = 0; i < sizeof trace_files / sizeof trace_files[0]; i++) {
        size_t n = strlen(dir), m = strlen(trace_files[i]);
        if (n + m + 2 > sizeof p)
            continue;
        memcpy(p, dir, n);
        p[n] = '/';
        memcpy(p + n + 1, trace_files[i], m + 1);
        unlink(p);
    }
    rmdir(dir);
}

static void on_signal(int sig)
{
    if (cleanup_dir[0])
        remove_trace_dir(cleanup_dir);
    _exit(128 + sig);
}

static void sanitize(char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            *s = '_';
}

static int mkdir_p(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

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
        snprintf(repro, reprolen, "%s replay %s", self, f);
        rc = tb_source_replay(f, s, err, errlen);
    } else {
        uint64_t seed = o->seed + t;
        snprintf(name, namelen, "%s%slockstep-%" PRIu64, prefix, slash, seed);
        const char *argv[48];
        char buf[1024];
        int n = tb_lockstep_argv(&o->layer, seed, argv, 48, buf, sizeof buf);
        size_t used = (size_t)snprintf(repro, reprolen, "%s", self);
        for (int i = 0; i < n && used < reprolen; i++)
            used += (size_t)snprintf(repro + used, reprolen - used, " %s", argv[i]);
        rc = tb_source_lockstep(hw, &o->layer, seed, s, err, errlen);
    }
    if (rc != 0)
        return rc;
    /* The options that decide where the trace goes, so the reproduction replaces it. */
    size_t used = strlen(repro);
    if (o->name)
        used += (size_t)snprintf(repro + used, used < reprolen ? reprolen - used : 0, " --name %s", o->name);
    if (strcmp(o->trace_dir, "build/traces") != 0)
        used += (size_t)snprintf(repro + used, used < reprolen ? reprolen - used : 0, " --trace-dir %s",
                                 o->trace_dir);
    if (o->inject_hold && used + 16 < reprolen)
        strcat(repro, " --inject-hold");
    if (o->whitebox && strlen(repro) + 16 < reprolen)
        strcat(repro, " --whitebox");
    /* The source thread, unless this is the traced re-simulation (a short window) or it was
     * turned off; without it (or the memory for it) the source is called directly. */
    int threaded = o->source_thread >= 0 ? o->source_thread : tb_pipe_useful();
    if (threaded && !o->trace_mode)
        *s = tb_source_threaded(*s);
    if (o->inject_hold)
        *s = tb_source_inject_hold(*s);
    return 0;
}

/* A failed test: where the golden model was (replay re-runs it over the file), the traced
 * re-simulation for the waveform, the report files, the printed report. */
/* The trace folder of a test: one name per test, whichever command ran it (the reproduce
 * command names the same --name), so a rerun replaces it. */
static void trace_dir_of(const tb_opts *o, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", o->trace_dir, name);
    sanitize(buf + strlen(o->trace_dir) + 1);
}

static void report_failure(const tb_opts *o, const char *self, const char *name, tb_result *res)
{
    char err[1024];
    if (!res->mis[0].have_where)
        tb_where_from_file(res->file, res, err, sizeof err);
    char trace[1400], note[1200];
    trace_dir_of(o, name, trace, sizeof trace);
    remove_trace_dir(trace); /* an older run's files must not mix with this one's */
    note[0] = '\0';
    snprintf(cleanup_dir, sizeof cleanup_dir, "%s", trace);
    if (mkdir_p(trace) != 0)
        snprintf(note, sizeof note, "cannot create %s", trace);
    else
        res->have_wave = make_waveform(o, self, res, trace, note, sizeof note) == 0;
    snprintf(res->trace_dir, sizeof res->trace_dir, "%s", trace);
    snprintf(res->trace_note, sizeof res->trace_note, "%s", note);
    tb_write_reports(trace, res, o->before, o->after);
    cleanup_dir[0] = '\0';
    tb_print_report(stdout, res);
}

/* trace_dir/last-run (atomically): this run's command and the trace folders it wrote, one
 * `trace: DIR` line each (none when every test passed); `make wave` opens the first. */
static void write_last_run(const tb_opts *o, const char *cmd, const char *traces)
{
    if (mkdir_p(o->trace_dir) != 0)
        return;
    char path[1200], tmp[1300];
    snprintf(path, sizeof path, "%s/last-run", o->trace_dir);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&now));
    fprintf(f, "run: %s\nat: %s\n%s", cmd, when, traces);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        remove(tmp);
}

/* Every test of the command line in turn. Returns the exit status. */
static int run(tb_opts *o, int argc, char **argv)
{
    char err[2048], buf[512];
    /* The configuration this binary was built with, from the RTL itself. */
    mpq_hwcfg hw;
    if (tb_rtl_config(&hw, err, sizeof err) != 0) {
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
        if (!mpq_hwcfg_equal(&want, &hw)) {
            char b2[256];
            fprintf(stderr, "mpq-tb: %s says %s, but this RTL reports %s on hwcfg_o\n",
                    o->config_file, mpq_hwcfg_str(&want, buf, sizeof buf),
                    mpq_hwcfg_str(&hw, b2, sizeof b2));
            return 2;
        }
    }
    if (!o->replay && (o->layer.k > hw.kmax || (o->layer.have_hp_n && o->layer.hp_n > hw.hp_per_group))) {
        /* Only what the user asked for: the random choices always fit. */
        if (o->layer.k > hw.kmax)
            fprintf(stderr, "mpq-tb: --k %u is more than KMax = %u of this RTL\n", o->layer.k, hw.kmax);
        else
            fprintf(stderr, "mpq-tb: --hp-n %u is more than HpPerGroup = %u of this RTL\n",
                    o->layer.hp_n, hw.hp_per_group);
        return 2;
    }
    if (!o->replay && !o->have_seed) {
        o->seed = (uint64_t)time(NULL);
        if (!o->trace_mode)
            printf("mpq-tb: lockstep seed %" PRIu64 " (--seed %" PRIu64 " reproduces)\n", o->seed, o->seed);
    }
    if (o->bare_repeat)
        return run_bare(o->files[0], o->bare_repeat);
    char self_cmd[2048], full_cmd[4096];
    join_cmd(self_cmd, sizeof self_cmd, 1, argv);
    join_cmd(full_cmd, sizeof full_cmd, argc, argv);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    char traces[4096] = "";
    mpq_gen_stats cover, one;
    memset(&cover, 0, sizeof cover);
    unsigned covered = 0;

    tb_summary sum;
    memset(&sum, 0, sizeof sum);
    tb_junit *junit = o->junit && !o->trace_mode ? tb_junit_open(o->junit) : NULL;
    if (o->junit && !o->trace_mode && !junit) {
        fprintf(stderr, "mpq-tb: cannot write %s\n", o->junit);
        return 2;
    }
    FILE *results = NULL;
    if (o->results && !o->trace_mode && !(results = fopen(o->results, "a"))) {
        fprintf(stderr, "mpq-tb: cannot write %s\n", o->results);
        tb_junit_close(junit);
        return 2;
    }
    int status = 0;
    uint64_t total_cycles = 0;
    static tb_result res;
    for (unsigned t = 0;; t++) {
        if (o->replay && t >= (unsigned)o->nfiles)
            break;
        if (!o->replay && (o->min_cycles ? total_cycles >= o->min_cycles : t >= o->runs))
            break;
        tb_source *s = NULL;
        char name[300], repro[2048];
        if (open_source(o, &hw, self_cmd, t, &s, name, sizeof name, repro, sizeof repro, err,
                        sizeof err) != 0) {
            fprintf(stderr, "mpq-tb: %s\n", err);
            tb_junit_case(junit, name, 0.0, "error", err);
            sum.errors++;
            status = 2;
            continue;
        }
        int st = run_test(o, name, s, repro, &res);
        snprintf(res.file, sizeof res.file, "%s", o->replay ? o->files[t] : "");
        total_cycles += res.cycles;
        if (o->trace_mode) {
            /* The traced re-simulation: waveform and GTKWave save file, then exit. */
            tb_source_close(s);
            tb_write_gtkw(o->trace_out, &res, o->trace_at);
            tb_junit_close(junit);
            return st == 1 && res.mis[0].cycle == o->trace_at ? 1 : st == 2 ? 2 : 3;
        }
        tb_results_line(results, &res, st == 0 ? "passed" : st == 1 ? "failed" : "error");
        if (st == 2) {
            fprintf(stderr, "mpq-tb: %s\n", res.error);
            tb_junit_case(junit, name, res.seconds, "error", res.error);
            sum.errors++;
            status = 2;
        } else if (st == 1) {
            report_failure(o, argv[0], name, &res);
            size_t tl = strlen(traces);
            snprintf(traces + tl, sizeof traces - tl, "trace: %s\n", res.trace_dir);
            char msg[600];
            tb_short(&res, msg, sizeof msg);
            tb_junit_case(junit, name, res.seconds, "failure", msg);
            printf("FAIL  %s: %s\n", name, msg);
            sum.failed++;
            if (status == 0)
                status = 1;
        } else {
            char old[1400]; /* a trace of this test from an earlier run no longer applies */
            trace_dir_of(o, name, old, sizeof old);
            remove_trace_dir(old);
            tb_junit_case(junit, name, res.seconds, NULL, NULL);
            if (tb_source_stats(s, &one)) {
                mpq_gen_stats_add(&cover, &one);
                covered++;
            }
            if (!o->quiet)
                printf("PASS  %-40s %9" PRIu64 " cycles %8.3f Mcycles/s  (%s)\n", name, res.cycles,
                       res.seconds > 0 ? (double)res.cycles / res.seconds / 1e6 : 0.0,
                       s->h.source);
            sum.passed++;
        }
        tb_source_close(s);
    }
    tb_junit_close(junit);
    if (results)
        fclose(results);
    write_last_run(o, full_cmd, traces);
    if (o->stats && covered) {
        char line[1024];
        printf("stimulus of %u passing runs: %s\n", covered, mpq_gen_stats_str(&cover, line, sizeof line));
    }
    printf("%u passed, %u failed%s\n", sum.passed, sum.failed + sum.errors,
           sum.errors ? " (some with errors, see above)" : "");
    return status;
}

int main(int argc, char **argv)
{
    tb_opts o;
    int prc = tb_opts_parse(argc, argv, &o);
    int status = prc == 0 ? run(&o, argc, argv) : prc == 1 ? 0 : 2;
    tb_opts_free(&o);
    return status;
}
