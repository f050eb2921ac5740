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
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mpq.h"
#include "mpq_dut.h"
#include "mpq_hw.h"
#include "mpq_vec.h"
#include "tb_pipe.h"
#include "tb_report.h"

/* ---- options ---------------------------------------------------------------------------- */
typedef struct tb_opts {
    int replay;                 /* 1 replay files, 0 lockstep */
    char **files;
    int nfiles;
    /* lockstep */
    uint64_t seed;
    int have_seed;
    unsigned runs;
    uint64_t min_cycles;
    unsigned m, k, n, hp_n;     /* 0: random per run */
    int have_hp_n;
    int acc;                    /* -1 random, 0 wrap, 1 sat */
    int profile;                /* -1 random */
    uint64_t bare_repeat;       /* --bare R: the benchmark's bare loop, R passes */
    int inject_hold;            /* --inject-hold: break the stream rules once (tests the RTL's assertions) */
    int source_thread;          /* -1 auto, 0 off, 1 on: the source runs ahead in its own thread */
    double p_valid, p_ready;
    /* reporting */
    unsigned max_mismatches;
    const char *trace_dir;      /* parent of per-test trace folders */
    const char *trace_bin;
    const char *junit;
    const char *config_file;
    const char *name;           /* test name prefix */
    unsigned before, after;
    int quiet;
    /* internal: traced re-simulation */
    int trace_mode;
    uint64_t trace_at;
    const char *trace_out;      /* folder of this test's trace */
} tb_opts;

static void usage(FILE *f)
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

static char **files_alloc;
static void free_files(void)
{
    free(files_alloc);
    files_alloc = NULL;
}

static int parse_args(int argc, char **argv, tb_opts *o)
{
    memset(o, 0, sizeof *o);
    o->runs = 1;
    o->acc = -1;
    o->profile = -1;
    o->p_valid = 0.9;
    o->p_ready = 0.9;
    o->max_mismatches = 1;
    o->source_thread = -1;
    o->trace_dir = "build/traces";
    o->before = 200;
    o->after = 20;
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 1;
    }
    if (!strcmp(argv[1], "replay"))
        o->replay = 1;
    else if (strcmp(argv[1], "lockstep")) {
        fprintf(stderr, "mpq-tb: unknown mode `%s` (replay or lockstep); see --help\n", argv[1]);
        return 2;
    }
    o->files = calloc((size_t)argc, sizeof *o->files);
    if (!o->files)
        return 2;
    /* Freed at exit whichever way main returns. */
    files_alloc = o->files;
    atexit(free_files);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
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
            U64(o->m);
        } else if (!strcmp(a, "--k")) {
            U64(o->k);
        } else if (!strcmp(a, "--n")) {
            U64(o->n);
        } else if (!strcmp(a, "--hp-n")) {
            U64(o->hp_n);
            o->have_hp_n = 1;
        } else if (!strcmp(a, "--acc")) {
            if (strcmp(val, "sat") && strcmp(val, "wrap")) {
                fprintf(stderr, "mpq-tb: --acc: `%s` is not sat or wrap\n", val);
                return 2;
            }
            o->acc = !strcmp(val, "sat");
        } else if (!strcmp(a, "--profile")) {
            mpq_gen_profile p;
            if (mpq_gen_profile_parse(val, &p)) {
                fprintf(stderr, "mpq-tb: --profile: unknown profile `%s`\n", val);
                return 2;
            }
            o->profile = (int)p;
        } else if (!strcmp(a, "--p-valid")) {
            if (parse_prob(a, val, &o->p_valid)) return 2;
        } else if (!strcmp(a, "--p-ready")) {
            if (parse_prob(a, val, &o->p_ready)) return 2;
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

/* ---- stimulus sources -------------------------------------------------------------------- */
typedef struct source {
    mpq_vec_reader *r;
    mpq_gen *g;
    mpq_hw_layer layer;
    int have_layer;
    mpq_vec_header h; /* for both modes: configuration, seeds, shape */
    const char *path; /* replay: the vector file */
} source;

static void source_close(source *s)
{
    mpq_vec_reader_close(s->r);
    mpq_gen_free(s->g);
    if (s->have_layer)
        mpq_hw_layer_free(&s->layer);
    memset(s, 0, sizeof *s);
}

static int source_next(source *s, mpq_port_in *in, mpq_port_out *exp)
{
    return s->r ? mpq_vec_reader_next(s->r, in, exp) : mpq_gen_next(s->g, in, exp);
}

static const char *source_error(const source *s)
{
    return s->r ? mpq_vec_reader_error(s->r) : mpq_gen_error(s->g);
}

/* The source as the source thread calls it (tb_pipe_fn): the cycle and, in lockstep, where
 * the golden cycle model was in it. */
static int source_fill(void *ctx, mpq_port_in *in, mpq_port_out *exp, mpq_cm_where *where)
{
    source *s = ctx;
    int rc = source_next(s, in, exp);
    if (rc == 1 && s->g)
        mpq_gen_where(s->g, where);
    return rc;
}

/* Shape and options of lockstep run `seed`, random where the user gave none. */
static void lockstep_layer_opts(const tb_opts *o, const mpq_hwcfg *hw, uint64_t seed,
                                mpq_layer_opts *lo, mpq_timing_opts *to)
{
    uint64_t z = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
#define PICK(n) ((unsigned)((z = z * 6364136223846793005ull + 1442695040888963407ull) >> 33) % (n))
    memset(lo, 0, sizeof *lo);
    lo->seed = seed;
    lo->m = o->m ? o->m : 1 + PICK(16);
    unsigned kcap = hw->kmax < 400 ? hw->kmax : 400;
    lo->k = o->k ? o->k : (PICK(8) == 0 ? hw->kmax : 1 + PICK(kcap));
    lo->n = o->n ? o->n : 1 + PICK(2 * hw->lanes + 2);
    lo->hp_n = o->have_hp_n ? o->hp_n : PICK(hw->hp_per_group + 1);
    lo->acc_sat = o->acc >= 0 ? o->acc : (int)PICK(2);
    lo->profile = o->profile >= 0 ? (mpq_gen_profile)o->profile : (mpq_gen_profile)PICK(MPQ_PROF_COUNT);
#undef PICK
    memset(to, 0, sizeof *to);
    to->seed = seed ^ 0x5bd1e995u;
    to->p_valid = o->p_valid;
    to->p_ready = o->p_ready;
    to->reset_cycles = 3;
    to->tail_cycles = 3;
}

static int source_open_lockstep(source *s, const tb_opts *o, const mpq_hwcfg *hw, uint64_t seed,
                                char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    mpq_layer_opts lo;
    mpq_timing_opts to;
    lockstep_layer_opts(o, hw, seed, &lo, &to);
    if (lo.k > hw->kmax || lo.hp_n > hw->hp_per_group || lo.m > 65535) {
        snprintf(err, errlen, "lockstep: k = %u (KMax %u), hp-n = %u (HpPerGroup %u) or m = %u "
                 "does not fit this RTL", lo.k, hw->kmax, lo.hp_n, hw->hp_per_group, lo.m);
        return MPQ_EPARAM;
    }
    char why[512];
    if (mpq_hw_layer_random(hw, &lo, &s->layer, why, sizeof why) != 0) {
        snprintf(err, errlen, "lockstep: %s", why);
        return MPQ_EPARAM;
    }
    s->have_layer = 1;
    int rc = mpq_gen_new(hw, &s->layer, &to, &s->g, why, sizeof why);
    if (rc != 0) {
        snprintf(err, errlen, "lockstep: %s", why);
        source_close(s);
        return rc;
    }
    s->h.hw = *hw;
    s->h.seed = lo.seed;
    s->h.timing_seed = to.seed;
    s->h.m = lo.m;
    s->h.k = lo.k;
    s->h.n = lo.n;
    s->h.acc_sat = (uint32_t)lo.acc_sat;
    snprintf(s->h.source, sizeof s->h.source, "lockstep:%s hp-n=%u p-valid=%g p-ready=%g",
             mpq_gen_profile_name(lo.profile), lo.hp_n, to.p_valid, to.p_ready);
    return 0;
}

static int source_open_replay(source *s, const char *path, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    int rc = mpq_vec_reader_open(path, &s->r, err, errlen);
    if (rc == 0)
        s->h = *mpq_vec_reader_header(s->r);
    return rc;
}

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

/* One test (a vector file or a lockstep run) on a fresh DUT. */
static TB_NOINLINE int run_test(const tb_opts *o, const char *name, source *s,
                                const char *repro, tb_result *res)
{
    static mpq_port_in in;
    static mpq_port_out exp, act;
    memset(res, 0, sizeof *res);
    snprintf(res->name, sizeof res->name, "%s", name);
    snprintf(res->repro, sizeof res->repro, "%s", repro);
    res->h = s->h;
    const mpq_hwcfg *hw = &s->h.hw;
    mpq_dut *dut = mpq_dut_new();
    if (!dut) {
        snprintf(res->error, sizeof res->error, "out of memory for the DUT");
        return 2;
    }
    uint32_t hwwords[MPQ_HWCFG_WORDS];
    mpq_dut_hwcfg(dut, hwwords);
    mpq_hwcfg rtl;
    char a[256], b[256];
    if (mpq_hwcfg_unpack(hwwords, &rtl) != 0 || !mpq_hwcfg_equal(&rtl, hw)) {
        snprintf(res->error, sizeof res->error,
                 "%s was made for %s, but this RTL is %s: generate vectors for this configuration "
                 "(mpq-golden gen --config ...) or build the testbench for that one",
                 s->path ? s->path : name, mpq_hwcfg_str(hw, a, sizeof a),
                 mpq_hwcfg_str(&rtl, b, sizeof b));
        mpq_dut_free(dut);
        return 2;
    }
    int tracing = o->trace_mode;
    uint64_t win_lo = 0, win_hi = 0;
    if (tracing) {
        win_lo = o->trace_at > o->before ? o->trace_at - o->before : 0;
        win_hi = o->trace_at + o->after;
        char tmp[1100];
        snprintf(tmp, sizeof tmp, "%s/wave.fst.tmp", o->trace_out);
        if (mpq_dut_trace_open(dut, tmp) != 0) {
            snprintf(res->error, sizeof res->error, "cannot write %s", tmp);
            mpq_dut_free(dut);
            return 2;
        }
    }
    double t0 = now_s();
    /* The source thread, unless this is the traced re-simulation (a short window) or it was
     * turned off; without it (or without the memory for it) the source is called directly. */
    tb_pipe *pipe = NULL;
    int threaded = o->source_thread >= 0 ? o->source_thread : tb_pipe_useful();
    if (threaded && !tracing)
        tb_pipe_start(hw, source_fill, s, &pipe);
    uint64_t c = 0;
    int rc;
    int status = 0;
    int hold_state = 0; /* --inject-hold: 0 looking, 1 a beat is waiting, 2 done */
    while ((rc = pipe ? tb_pipe_next(pipe, &in, &exp) : source_next(s, &in, &exp)) == 1) {
        int injected = 0;
        if (o->inject_hold && hold_state == 1 && in.act_valid) {
            /* The waiting activation beat changes before its handshake: a testbench bug that
             * the RTL's stream assertion (a_act_hold) must report. Only the DUT sees it, in
             * this cycle only (the bit is restored below: `in` holds the source's values). */
            in.act_data[0] ^= 1u;
            hold_state = 2;
            injected = 1;
        }
        if (o->inject_hold && hold_state == 0 && in.rst_n && in.act_valid && !exp.act_ready)
            hold_state = 1;
        mpq_dut_eval(dut, &in, &act);
        uint32_t mis = tb_compare(hw, &exp, &act);
        if (tracing) {
            int on = c >= win_lo && c <= win_hi;
            mpq_dut_trace_enable(dut, on);
            mpq_dut_set_expected(dut, &exp, mis, c);
        }
        /* SV assertions fire at the clock edge that ends this cycle: they belong to it. */
        mpq_dut_tick(dut);
        if (mpq_dut_assert_failed(dut))
            mis |= 1u << TB_P_ASSERT;
        if (mis) {
            if (res->mismatches < TB_MAX_RECORDED) {
                tb_mismatch *m = &res->mis[res->mismatches];
                m->cycle = c;
                m->ports = mis;
                m->exp = exp;
                m->act = act;
                m->in = in;
                if (s->g) {
                    if (pipe)
                        tb_pipe_where(pipe, &m->where);
                    else
                        mpq_gen_where(s->g, &m->where);
                }
                m->have_where = s->g != NULL;
            }
            res->mismatches++;
            status = 1;
        }
        if (injected)
            in.act_data[0] ^= 1u;
        c++;
        if (tracing && c > win_hi)
            break;
        if (!tracing && (res->mismatches >= o->max_mismatches || (mis >> TB_P_ASSERT & 1u)))
            break;
    }
    tb_pipe_stop(pipe); /* from here on the source is this thread's again */
    res->seconds = now_s() - t0;
    res->cycles = c;
    if (rc < 0) {
        snprintf(res->error, sizeof res->error, "%s", source_error(s));
        status = 2;
    }
    if (tracing) {
        mpq_dut_trace_close(dut);
        char tmp[1100], fin[1100];
        snprintf(tmp, sizeof tmp, "%s/wave.fst.tmp", o->trace_out);
        snprintf(fin, sizeof fin, "%s/wave.fst", o->trace_out);
        if (rename(tmp, fin) != 0)
            status = 2;
        res->trace_lo = win_lo;
        res->trace_hi = c ? c - 1 : 0;
    }
    mpq_dut_free(dut);
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
            uint32_t *nb = realloc(buf, 2 * cap * per * sizeof *buf);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
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
        mpq_dut *dut = mpq_dut_new();
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

/* Runs the traced build on the same stimulus for the window around the first mismatch. */
static int make_waveform(const tb_opts *o, const char *self, const tb_result *res,
                         const char *trace_out, char *note, size_t notelen)
{
    char bin[1024];
    const char *tb = o->trace_bin ? o->trace_bin : default_trace_bin(self, bin, sizeof bin);
    if (access(tb, X_OK) != 0) {
        snprintf(note, notelen,
                 "no waveform: the traced build %s does not exist (make tb-trace CONFIG=...)", tb);
        return -1;
    }
    char at[32], seed[32], before[32], after[32], pv[32], pr[32];
    snprintf(at, sizeof at, "%" PRIu64, res->mis[0].cycle);
    snprintf(seed, sizeof seed, "%" PRIu64, res->h.seed);
    snprintf(before, sizeof before, "%u", o->before);
    snprintf(after, sizeof after, "%u", o->after);
    snprintf(pv, sizeof pv, "%.17g", o->p_valid);
    snprintf(pr, sizeof pr, "%.17g", o->p_ready);
    const char *args[64];
    int n = 0;
    args[n++] = tb;
    args[n++] = o->replay ? "replay" : "lockstep";
    if (o->replay) {
        args[n++] = res->file;
    } else {
        static char m[16], k[16], nn[16], hp[16];
        args[n++] = "--seed";
        args[n++] = seed;
        args[n++] = "--runs";
        args[n++] = "1";
        if (o->m) { snprintf(m, sizeof m, "%u", o->m); args[n++] = "--m"; args[n++] = m; }
        if (o->k) { snprintf(k, sizeof k, "%u", o->k); args[n++] = "--k"; args[n++] = k; }
        if (o->n) { snprintf(nn, sizeof nn, "%u", o->n); args[n++] = "--n"; args[n++] = nn; }
        if (o->have_hp_n) { snprintf(hp, sizeof hp, "%u", o->hp_n); args[n++] = "--hp-n"; args[n++] = hp; }
        if (o->acc >= 0) { args[n++] = "--acc"; args[n++] = o->acc ? "sat" : "wrap"; }
        if (o->profile >= 0) { args[n++] = "--profile"; args[n++] = mpq_gen_profile_name((mpq_gen_profile)o->profile); }
        args[n++] = "--p-valid";
        args[n++] = pv;
        args[n++] = "--p-ready";
        args[n++] = pr;
    }
    if (o->inject_hold)
        args[n++] = "--inject-hold";
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
    snprintf(note, notelen, "wave.fst: cycles %" PRIu64 "..%" PRIu64
             " re-simulated in the traced build; the mismatch reproduced at the same cycle",
             res->mis[0].cycle > o->before ? res->mis[0].cycle - o->before : 0,
             res->mis[0].cycle + o->after);
    return 0;
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

int main(int argc, char **argv)
{
    tb_opts o;
    int prc = parse_args(argc, argv, &o);
    if (prc)
        return prc == 1 ? 0 : 2;
    char err[2048], buf[512];

    /* The configuration this binary was built with, from the RTL itself. */
    mpq_dut *probe = mpq_dut_new();
    if (!probe) {
        fprintf(stderr, "mpq-tb: out of memory\n");
        return 2;
    }
    uint32_t words[MPQ_HWCFG_WORDS];
    mpq_dut_hwcfg(probe, words);
    mpq_dut_free(probe);
    mpq_hwcfg hw;
    if (mpq_hwcfg_unpack(words, &hw) != 0) {
        fprintf(stderr, "mpq-tb: the RTL reports contract version %u on hwcfg_o, this testbench "
                "speaks version %u\n", words[0] & 0xffu, MPQ_CONTRACT_VERSION);
        return 2;
    }
    if (o.config_file) {
        mpq_hwcfg want;
        if (mpq_hwcfg_load(o.config_file, &want, err, sizeof err) != 0) {
            fprintf(stderr, "mpq-tb: %s\n", err);
            return 2;
        }
        if (!mpq_hwcfg_equal(&want, &hw)) {
            char b2[256];
            fprintf(stderr, "mpq-tb: %s says %s, but this RTL reports %s on hwcfg_o\n",
                    o.config_file, mpq_hwcfg_str(&want, buf, sizeof buf),
                    mpq_hwcfg_str(&hw, b2, sizeof b2));
            return 2;
        }
    }
    if (!o.replay && !o.have_seed) {
        o.seed = (uint64_t)time(NULL);
        if (!o.trace_mode)
            printf("mpq-tb: lockstep seed %" PRIu64 " (--seed %" PRIu64 " reproduces)\n", o.seed, o.seed);
    }
    if (o.bare_repeat) {
        return run_bare(o.files[0], o.bare_repeat);
    }
    char self_cmd[2048];
    join_cmd(self_cmd, sizeof self_cmd, 1, argv);

    tb_summary sum;
    memset(&sum, 0, sizeof sum);
    tb_junit *junit = o.junit && !o.trace_mode ? tb_junit_open(o.junit) : NULL;
    if (o.junit && !o.trace_mode && !junit) {
        fprintf(stderr, "mpq-tb: cannot write %s\n", o.junit);
        return 2;
    }
    int status = 0;
    uint64_t total_cycles = 0;
    static tb_result res;
    for (unsigned t = 0;; t++) {
        if (o.replay && t >= (unsigned)o.nfiles)
            break;
        if (!o.replay && (o.min_cycles ? total_cycles >= o.min_cycles : t >= o.runs))
            break;
        source s;
        char name[300], repro[2048];
        int rc;
        if (o.replay) {
            const char *f = o.files[t];
            const char *base = strrchr(f, '/') ? strrchr(f, '/') + 1 : f;
            snprintf(name, sizeof name, "%s%s%s", o.name ? o.name : "", o.name ? "/" : "", base);
            rc = source_open_replay(&s, f, err, sizeof err);
            s.path = f;
            snprintf(repro, sizeof repro, "%s replay %s", self_cmd, f);
        } else {
            uint64_t seed = o.seed + t;
            snprintf(name, sizeof name, "%s%slockstep-%" PRIu64, o.name ? o.name : "",
                     o.name ? "/" : "", seed);
            rc = source_open_lockstep(&s, &o, &hw, seed, err, sizeof err);
            int n = snprintf(repro, sizeof repro, "%s lockstep --seed %" PRIu64 " --runs 1", self_cmd, seed);
            if (o.m) n += snprintf(repro + n, sizeof repro - (size_t)n, " --m %u", o.m);
            if (o.k) n += snprintf(repro + n, sizeof repro - (size_t)n, " --k %u", o.k);
            if (o.n) n += snprintf(repro + n, sizeof repro - (size_t)n, " --n %u", o.n);
            if (o.have_hp_n) n += snprintf(repro + n, sizeof repro - (size_t)n, " --hp-n %u", o.hp_n);
            if (o.acc >= 0) n += snprintf(repro + n, sizeof repro - (size_t)n, " --acc %s", o.acc ? "sat" : "wrap");
            if (o.profile >= 0)
                n += snprintf(repro + n, sizeof repro - (size_t)n, " --profile %s",
                              mpq_gen_profile_name((mpq_gen_profile)o.profile));
            snprintf(repro + n, sizeof repro - (size_t)n, " --p-valid %g --p-ready %g", o.p_valid, o.p_ready);
        }
        if (o.inject_hold && strlen(repro) + 16 < sizeof repro)
            strcat(repro, " --inject-hold");
        if (rc != 0) {
            fprintf(stderr, "mpq-tb: %s\n", err);
            tb_junit_case(junit, name, 0.0, "error", err);
            sum.errors++;
            status = 2;
            continue;
        }
        int st = run_test(&o, name, &s, repro, &res);
        snprintf(res.file, sizeof res.file, "%s", o.replay ? o.files[t] : "");
        total_cycles += res.cycles;
        if (o.trace_mode) {
            /* The traced re-simulation: waveform and GTKWave save file, then exit. */
            source_close(&s);
            tb_write_gtkw(o.trace_out, &res, o.trace_at);
            return st == 1 && res.mis[0].cycle == o.trace_at ? 1 : st == 2 ? 2 : 3;
        }
        if (st == 2) {
            fprintf(stderr, "mpq-tb: %s\n", res.error);
            tb_junit_case(junit, name, res.seconds, "error", res.error);
            sum.errors++;
            status = 2;
        } else if (st == 1) {
            /* Where the golden cycle model was: lockstep has it; replay re-reads the file. */
            if (!res.mis[0].have_where)
                tb_where_from_file(res.file, &res, err, sizeof err);
            char trace[1400], note[1200];
            snprintf(trace, sizeof trace, "%s/%s", o.trace_dir, name);
            sanitize(trace + strlen(o.trace_dir) + 1);
            note[0] = '\0';
            if (mkdir_p(trace) != 0) {
                snprintf(note, sizeof note, "cannot create %s", trace);
            } else {
                make_waveform(&o, argv[0], &res, trace, note, sizeof note);
            }
            snprintf(res.trace_dir, sizeof res.trace_dir, "%s", trace);
            snprintf(res.trace_note, sizeof res.trace_note, "%s", note);
            tb_write_reports(trace, &res, o.before, o.after);
            tb_print_report(stdout, &res);
            char msg[600];
            tb_short(&res, msg, sizeof msg);
            tb_junit_case(junit, name, res.seconds, "failure", msg);
            printf("FAIL  %s: %s\n", name, msg);
            sum.failed++;
            if (status == 0)
                status = 1;
        } else {
            tb_junit_case(junit, name, res.seconds, NULL, NULL);
            if (!o.quiet)
                printf("PASS  %-40s %9" PRIu64 " cycles %8.3f Mcycles/s  (%s)\n", name, res.cycles,
                       res.seconds > 0 ? (double)res.cycles / res.seconds / 1e6 : 0.0,
                       s.h.source);
            sum.passed++;
        }
        source_close(&s);
    }
    tb_junit_close(junit);
    printf("%u passed, %u failed%s\n", sum.passed, sum.failed + sum.errors,
           sum.errors ? " (some with errors, see above)" : "");
    return status;
}
