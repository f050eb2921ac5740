/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq-golden gen: a cycle-exact vector file for the accelerator (vectors/FORMAT.md), from a
 * random layer (shape, density, accumulator mode, profile, seed) or from an mpq-case file,
 * with random valid gaps and output back-pressure from the timing seed. The same arguments
 * give the same bytes. Before it starts it prints what the run will take and refuses a
 * runaway one (unless --force); long runs report progress; SIGINT, SIGTERM and SIGHUP remove
 * the temporary file.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "arith/mpq.h"
#include "stim/mpq_gen.h"
#include "stim/mpq_opts.h"
#include "stim/mpq_vec.h"

#define GEN_VERSION "mpq-golden 0.1"
/* Runs above either limit are refused unless --force (docs/cosim.md, "Vector files in brief"):
 * at this project's machine's rates, about 4 minutes of generation and 3 of each replay. */
#define GEN_MAX_CYCLES 200000000ull
#define GEN_MAX_BYTES 4000000000ull
#define GEN_PROGRESS_S 5.0

/* The command line: mpq-golden gen's own options, and the layer and timing options it
 * shares with mpq-tb lockstep (golden/stim/mpq_opts.c). */
typedef struct gen_args {
    const char *out, *config, *case_path;
    int force;
    mpq_stim_args stim;
    /* what the options make of the layer and its timing */
    mpq_layer_opts lo;
    mpq_timing_opts to;
} gen_args;

#define F(x) offsetof(gen_args, x)
enum { GEN_O_OUT = 0, GEN_O_CONFIG, GEN_O_CASE, GEN_O_FORCE, GEN_O_COUNT };
static const mpq_opt gen_table[GEN_O_COUNT] = {
    [GEN_O_OUT] = {"-o", "FILE.vec", MPQ_OPT_TEXT, F(out), 0, 0, NULL, NULL, 0, 0, "the vector file to write"},
    [GEN_O_CONFIG] = {"--config", "NAME|PATH", MPQ_OPT_TEXT, F(config), 0, 0, NULL, NULL, 0, 0,
                      "RTL configuration: rtl/cfg/NAME.cfg or a .cfg path (default: default)"},
    [GEN_O_CASE] = {"--case", "FILE", MPQ_OPT_TEXT, F(case_path), 0, 0, NULL, NULL, 0, 0,
                    "the layer of an mpq-case file instead of a random one (fully connected, conv2d or "
                    "depthwise)"},
    [GEN_O_FORCE] = {"--force", NULL, MPQ_OPT_FLAG, F(force), 0, 0, NULL, NULL, 0, 0,
                     "generate even above the limits below"},
};
#undef F

static void usage(FILE *f, gen_args *a)
{
    fprintf(f,
            "usage: mpq-golden gen -o FILE.vec [options]\n"
            "\n"
            "Runs the golden cycle model on one layer and writes every cycle's inputs and\n"
            "expected outputs (vectors/FORMAT.md). Every output row is also checked against the\n"
            "functional model; a disagreement is an error (exit 1). Defaults: a fully-connected\n"
            "layer --m 8 --k 64 --n 8, --hp-n HpPerGroup, --acc wrap, --profile random, --seed 1,\n"
            "--p-valid 1, --p-ready 1, --offer early.\n"
            "\n");
    mpq_opt_set sets[2] = {{gen_table, GEN_O_COUNT, a, 0, 0, "options", 0},
                           mpq_stim_set(&a->stim, MPQ_TOOL_GEN, 0, "layer and timing options")};
    static char help[16384];
    mpq_opt_help(sets, 2, help, sizeof help);
    fputs(help, f);
    fprintf(f,
            "\n"
            "Before it starts, gen prints the estimated cycle count and an upper bound on the\n"
            "file's size, and refuses a run above %llu million cycles or %llu GB unless\n"
            "--force. Runs longer than %.0f s report progress on stderr. On SIGINT, SIGTERM or\n"
            "SIGHUP the temporary file FILE.vec.tmp is removed (exit status 130, 143, 129).\n"
            "Exit: 0 written, 1 the golden models disagree, 2 usage or input error, or refused.\n",
            GEN_MAX_CYCLES / 1000000ull, GEN_MAX_BYTES / 1000000000ull, GEN_PROGRESS_S);
}

/* The layer of an mpq-case file, when the accelerator can compute it. */
static int layer_from_case(const mpq_hwcfg *hw, const char *path, mpq_hw_layer *l)
{
    char err[512];
    mpq_case c;
    if (mpq_case_load_ex(path, MPQ_CASE_NO_EXPECT, &c, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    const char *why = NULL;
    if (c.w)
        why = "it has dense `w` weights; the accelerator takes ternary `t` + sparse `hp` only";
    else if (c.rounding != MPQ_RQ_DOUBLE)
        why = "its rounding is not TFLite double rounding";
    else if (c.acc_bits != hw->acc_bits)
        why = "its accumulator width differs from this configuration's AccBits";
    if (why) {
        fprintf(stderr, "%s: the accelerator cannot run this case: %s\n", path, why);
        mpq_case_free(&c);
        return 2;
    }
    size_t nx = (size_t)c.m * c.k, nw = (size_t)c.n * c.k;
    if (c.layer == MPQ_LAYER_CONV2D || c.layer == MPQ_LAYER_DEPTHWISE) {
        if (mpq_hw_layer_alloc_conv(l, &c.shape, err, sizeof err) != 0) {
            fprintf(stderr, "%s: the accelerator cannot run this case: %s\n", path, err);
            mpq_case_free(&c);
            return 2;
        }
        nx = mpq_conv_in_count(&c.shape);
        nw = mpq_conv_w_count(&c.shape);
    } else if (c.layer != MPQ_LAYER_FC) {
        fprintf(stderr, "%s: the accelerator cannot run this case: it is a %s layer (the "
                "accelerator has no pooling unit; pooling runs in the golden model)\n", path,
                mpq_layer_name(c.layer));
        mpq_case_free(&c);
        return 2;
    } else if (mpq_hw_layer_alloc(l, c.m, c.k, c.n) != 0) {
        fprintf(stderr, "%s: the accelerator cannot run this case: shape m=%u k=%u n=%u\n", path,
                c.m, c.k, c.n);
        mpq_case_free(&c);
        return 2;
    }
    /* The same layouts: x NHWC (FC [m][k]), weights OHWI / [kh][kw][out_c] (FC [n][k]). */
    memcpy(l->x, c.x, nx * sizeof *l->x);
    if (c.t)
        memcpy(l->t, c.t, nw * sizeof *l->t);
    if (c.hp)
        memcpy(l->hp, c.hp, nw * sizeof *l->hp);
    for (unsigned ch = 0; ch < c.n; ch++) {
        l->alpha[ch] = c.alpha ? c.alpha[c.nalpha == 1 ? 0 : ch] : 0;
        l->bias[ch] = c.bias ? c.bias[ch] : 0;
        l->mult[ch] = c.mult[c.nmult == 1 ? 0 : ch];
        l->shift[ch] = c.shift[c.nshift == 1 ? 0 : ch];
    }
    l->in_offset = c.in_offset;
    l->out_offset = c.out_offset;
    l->act_min = c.act_min;
    l->act_max = c.act_max;
    l->acc_sat = 0; /* mpq-case accumulators wrap */
    int rc = 0;
    if (mpq_hw_layer_check(hw, l, err, sizeof err) != 0) {
        fprintf(stderr, "%s: the accelerator cannot run this case: %s\n", path, err);
        rc = 2;
    } else if (c.expect) {
        /* The case's own expected outputs must be what the accelerator will be held to. */
        int32_t *y = malloc((size_t)c.m * c.n * sizeof *y);
        if (!y || mpq_hw_layer_expected(hw, l, y, NULL) != 0) {
            fprintf(stderr, "%s: out of memory\n", path);
            rc = 2;
        } else {
            for (size_t i = 0; i < (size_t)c.m * c.n; i++) {
                if (y[i] != c.expect[i]) {
                    fprintf(stderr,
                            "%s: output [%zu][%zu]: the case expects %d, this configuration "
                            "computes %d\n",
                            path, i / c.n, i % c.n, c.expect[i], y[i]);
                    rc = 1;
                    break;
                }
            }
        }
        free(y);
    }
    if (rc != 0)
        mpq_hw_layer_free(l);
    mpq_case_free(&c);
    return rc;
}

static int gen_usage_error(const char *msg)
{
    fprintf(stderr, "mpq-golden gen: %s\n", msg);
    return 2;
}

/* Returns 0, 1 when --help was printed, or 2 (a bad option, message printed). */
static int parse_args(int argc, char **argv, gen_args *a)
{
    memset(a, 0, sizeof *a);
    a->config = "default";
    mpq_stim_args *s = &a->stim;
    s->seed = 1;
    s->m = 8, s->k = 64, s->n = 8;
    s->profile = MPQ_PROF_RANDOM;
    s->p_valid = s->p_ready = 1.0;
    s->offer_early = 1;
    s->reset_cycles = s->tail_cycles = 2;
    mpq_opt_set sets[2] = {{gen_table, GEN_O_COUNT, a, 0, 0, NULL, 0},
                           mpq_stim_set(s, MPQ_TOOL_GEN, 0, NULL)};
    const char **pos = calloc((size_t)argc + 1, sizeof *pos);
    char err[800];
    int npos = 0, rc = pos ? mpq_opt_parse(sets, 2, argc, argv, 1, pos, &npos, err, sizeof err) : 2;
    if (!pos)
        snprintf(err, sizeof err, "out of memory");
    if (rc == 0 && npos > 0)
        snprintf(err, sizeof err, "unexpected argument `%s`; see --help", pos[0]), rc = 2;
    free(pos);
    if (rc == 1) {
        usage(stdout, a);
        return 1;
    }
    if (rc != 0)
        return gen_usage_error(err);
    s->given = sets[1].given;
    int mkn = (s->given >> MPQ_SO_M & 1u) || (s->given >> MPQ_SO_K & 1u) || (s->given >> MPQ_SO_N & 1u);
    if (!a->out)
        return gen_usage_error("no output file (-o FILE.vec); see --help");
    if (s->shape.kind != MPQ_LAYER_FC && mkn)
        return gen_usage_error("--shape gives a convolution; --m, --k and --n shape fully-connected layers");
    if (a->case_path && (mkn || s->shape.kind != MPQ_LAYER_FC)) {
        snprintf(err, sizeof err, "--case takes the layer's shape from the file; drop %s",
                 mkn ? "--m/--k/--n" : "--shape");
        return gen_usage_error(err);
    }
    a->lo = (mpq_layer_opts){.seed = s->seed, .shape = s->shape, .m = s->m, .k = s->k, .n = s->n,
                             .hp_n = s->hp_n, .acc_sat = s->acc_sat, .profile = (mpq_profile)s->profile};
    /* The timing seed is the layer seed unless given: the rule of every tool (mpq_timing_default). */
    mpq_timing_default(s->given >> MPQ_SO_TIMING_SEED & 1u ? s->timing_seed : s->seed, s->p_valid,
                       s->p_ready, &a->to);
    a->to.offer_early = s->offer_early;
    a->to.reset_at = s->reset_at;
    a->to.reset_cycles = s->reset_cycles;
    a->to.tail_cycles = s->tail_cycles;
    return 0;
}

/* "12.3 million" for messages. */
static const char *count_str(uint64_t n, char *buf, size_t len)
{
    if (n >= 1000000000ull)
        snprintf(buf, len, "%.2f billion", (double)n / 1e9);
    else if (n >= 1000000ull)
        snprintf(buf, len, "%.1f million", (double)n / 1e6);
    else
        snprintf(buf, len, "%llu", (unsigned long long)n);
    return buf;
}

static const char *bytes_str(uint64_t n, char *buf, size_t len)
{
    if (n >= 1000000000ull)
        snprintf(buf, len, "%.1f GB", (double)n / 1e9);
    else
        snprintf(buf, len, "%.1f MB", (double)n / 1e6);
    return buf;
}

/* What the run will take, printed before it starts (unless quiet); a run above the limits
 * is refused unless forced, and the refusal is printed even when quiet. Returns 0 or 2. */
/* "m=8 k=64 n=8" or the convolution's shape, for messages. */
static const char *layer_str(const mpq_hw_layer *l, char *buf, size_t len)
{
    if (l->s.kind == MPQ_LAYER_CONV2D || l->s.kind == MPQ_LAYER_DEPTHWISE)
        mpq_conv_shape_format(&l->s, buf, len);
    else
        snprintf(buf, len, "m=%u k=%u n=%u", l->m, l->k, l->n);
    return buf;
}

static int check_estimate(const gen_args *a, const mpq_hwcfg *hw, const mpq_hw_layer *l,
                          uint64_t *est_cycles)
{
    mpq_gen_estimate e;
    mpq_gen_estimate_run(hw, l, &a->to, &e);
    uint64_t bytes = mpq_vec_size_bound(hw, e.cycles, e.cfg_beats, e.wgt_beats, e.act_beats, e.out_rows);
    char c[40], b[40], ls[200];
    count_str(e.cycles, c, sizeof c);
    bytes_str(bytes, b, sizeof b);
    *est_cycles = e.cycles;
    if (e.cycles > GEN_MAX_CYCLES || bytes > GEN_MAX_BYTES) {
        if (!a->force) {
            fprintf(stderr,
                    "mpq-golden gen: %s: refused: %s takes about %s cycles (estimate) "
                    "and up to %s, above the limits of %llu million cycles and %llu GB; --force "
                    "generates it anyway\n",
                    a->out, layer_str(l, ls, sizeof ls), c, b, GEN_MAX_CYCLES / 1000000ull,
                    GEN_MAX_BYTES / 1000000000ull);
            return 2;
        }
    }
    if (!a->stim.quiet)
        fprintf(stderr, "mpq-golden gen: %s: about %s cycles (estimate), at most %s%s\n", a->out, c,
                b, a->force && (e.cycles > GEN_MAX_CYCLES || bytes > GEN_MAX_BYTES)
                       ? " (above the limits: --force)" : "");
    return 0;
}

/* ---- Signals: the temporary file is removed on SIGINT, SIGTERM, SIGHUP ------------------- */
static const int gen_signals[3] = {SIGINT, SIGTERM, SIGHUP};
static struct sigaction gen_saved[3];
/* A copy of the writer's temporary path: the handler may only call async-signal-safe
 * functions (unlink, sigaction, raise), never into the writer. */
static char gen_tmp[4096];
static volatile sig_atomic_t gen_tmp_armed;

static void gen_on_signal(int sig)
{
    if (gen_tmp_armed)
        unlink(gen_tmp);
    /* Die of the signal (the parent sees it: exit status 128 + sig in a shell). */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig);
}

static void block_signals(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < 3; i++)
        sigaddset(&set, gen_signals[i]);
    sigprocmask(SIG_BLOCK, &set, old);
}

/* Called with the signals blocked: arms the handlers for path (NULL: disarms and restores
 * the actions found before). A signal ignored when gen started (nohup, a background job of
 * a script) stays ignored. */
static void arm_signals(const char *path)
{
    if (!path) {
        gen_tmp_armed = 0;
        for (int i = 0; i < 3; i++)
            sigaction(gen_signals[i], &gen_saved[i], NULL);
        return;
    }
    if (strlen(path) >= sizeof gen_tmp)
        return; /* never unlink a truncated path */
    memcpy(gen_tmp, path, strlen(path) + 1);
    gen_tmp_armed = 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = gen_on_signal;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; i++) {
        sigaction(gen_signals[i], NULL, &gen_saved[i]);
        if (gen_saved[i].sa_handler != SIG_IGN)
            sigaction(gen_signals[i], &sa, NULL);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Every cycle of g into a new file `out`, with progress on stderr on long runs. Returns the
 * exit status: 0 written, 1 the golden models disagree, 2 an I/O error. */
static int write_vectors(const gen_args *a, const mpq_vec_header *h, mpq_gen *g, uint64_t est)
{
    char err[1024];
    sigset_t old;
    block_signals(&old);
    mpq_vec_writer *w;
    int rc = mpq_vec_writer_open(a->out, h, &w, err, sizeof err);
    if (rc == 0)
        arm_signals(mpq_vec_writer_tmp_path(w));
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        fprintf(stderr, "mpq-golden gen: %s\n", err);
        return 2;
    }
    static mpq_port_in in;
    static mpq_port_out exp;
    double t0 = now_s(), next_report = t0 + GEN_PROGRESS_S;
    while ((rc = mpq_gen_next(g, &in, &exp)) == 1) {
        if (mpq_vec_writer_put(w, &in, &exp) != 0) {
            rc = MPQ_EIO;
            break;
        }
        uint64_t c = mpq_gen_cycle(g);
        if (!a->stim.quiet && (c & 8191u) == 0 && now_s() >= next_report) {
            double t = now_s();
            char done[40], total[40], mb[40];
            fprintf(stderr, "mpq-golden gen: %s: %s of about %s cycles (%.0f%%), %s written, %.2f Mcycles/s\n",
                    a->out, count_str(c, done, sizeof done), count_str(est, total, sizeof total),
                    est ? 100.0 * (double)c / (double)est : 0.0,
                    bytes_str(mpq_vec_writer_bytes(w), mb, sizeof mb), (double)c / (t - t0) / 1e6);
            next_report = t + GEN_PROGRESS_S;
        }
    }
    int status = 0;
    block_signals(&old);
    if (rc < 0) {
        if (rc == MPQ_EIO)
            fprintf(stderr, "mpq-golden gen: %s: write error\n", a->out);
        else
            fprintf(stderr, "mpq-golden gen: %s\n", mpq_gen_error(g));
        mpq_vec_writer_abort(w);
        status = rc == MPQ_EIO ? 2 : 1;
    } else if (mpq_vec_writer_close(w, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-golden gen: %s\n", err);
        status = 2;
    }
    arm_signals(NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return status;
}

/* The command that remakes the file; the output is named by its base name, so a copy
 * regenerated elsewhere has the same bytes. */
static void command_of(int argc, char **argv, char *cmd, size_t len)
{
    size_t used = 0;
    cmd[0] = '\0';
    for (int i = 0; i < argc && used + 2 < len; i++) {
        const char *arg = argv[i];
        if (i > 0 && !strcmp(argv[i - 1], "-o") && strrchr(arg, '/'))
            arg = strrchr(arg, '/') + 1;
        int n = snprintf(cmd + used, len - used, "%s%s", i ? " " : "mpq-golden ", arg);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (used >= len)
        cmd[len - 1] = '\0';
}

/* The layer: from the case file, or random (checked against hw and the limits first, so a
 * runaway shape allocates nothing). Returns 0 or the exit status. */
static int make_layer(const gen_args *a, const char *cfg_path, const mpq_hwcfg *hw,
                      mpq_hw_layer *l, mpq_vec_header *h, uint64_t *est)
{
    char err[1024], buf[200];
    if (a->case_path) {
        int rc = layer_from_case(hw, a->case_path, l);
        if (rc != 0)
            return rc;
        if (check_estimate(a, hw, l, est) != 0) {
            mpq_hw_layer_free(l);
            return 2;
        }
        snprintf(h->source, sizeof h->source, "case:%s", a->case_path);
        return 0;
    }
    int conv = a->lo.shape.kind != MPQ_LAYER_FC;
    if (!conv && a->lo.k > hw->kmax) {
        fprintf(stderr, "mpq-golden gen: --k: %u is not in 1..KMax = %u of %s\n", a->lo.k,
                hw->kmax, cfg_path);
        return 2;
    }
    if (conv && mpq_hw_conv_fits(hw, &a->lo.shape, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-golden gen: --shape: %s does not run on %s: %s\n",
                layer_str(&(mpq_hw_layer){.s = a->lo.shape}, buf, sizeof buf), cfg_path, err);
        return 2;
    }
    if (a->lo.hp_n > hw->hp_per_group) {
        fprintf(stderr, "mpq-golden gen: --hp-n: %u is not in 0..HpPerGroup = %u of %s\n",
                a->lo.hp_n, hw->hp_per_group, cfg_path);
        return 2;
    }
    mpq_hw_layer shape;
    if (mpq_hw_layer_shape(&a->lo, &shape, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-golden gen: %s\n", err);
        return 2;
    }
    if (check_estimate(a, hw, &shape, est) != 0)
        return 2;
    if (mpq_hw_layer_random(hw, &a->lo, l, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-golden gen: %s\n", err);
        return 2;
    }
    snprintf(h->source, sizeof h->source, "random:%s hp-n=%u", mpq_profile_name(a->lo.profile),
             a->lo.hp_n);
    return 0;
}

int mpq_cli_gen(int argc, char **argv)
{
    gen_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    char path[1024], err[1024], buf[256];
    if (mpq_hwcfg_find(a.config, path, sizeof path, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-golden gen: --config: %s\n", err);
        return 2;
    }
    mpq_hwcfg hw;
    if (mpq_hwcfg_load(path, &hw, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-golden gen: %s\n", err);
        return 2;
    }
    if (!(a.stim.given >> MPQ_SO_HP_N & 1u))
        a.lo.hp_n = hw.hp_per_group;

    mpq_hw_layer l;
    mpq_vec_header h;
    memset(&h, 0, sizeof h);
    uint64_t est = 0;
    rc = make_layer(&a, path, &hw, &l, &h, &est);
    if (rc != 0)
        return rc;
    h.version = MPQ_VEC_VERSION;
    h.hw = hw;
    h.seed = a.lo.seed;
    h.timing_seed = a.to.seed;
    mpq_vec_header_set_layer(&h, &l);
    h.acc_sat = (uint32_t)l.acc_sat;
    snprintf(h.generator, sizeof h.generator, "%s", GEN_VERSION);
    command_of(argc, argv, h.command, sizeof h.command);

    mpq_gen *g;
    if (mpq_gen_new(&hw, &l, &a.to, &g, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-golden gen: %s\n", err);
        mpq_hw_layer_free(&l);
        return 2;
    }
    int status = write_vectors(&a, &h, g, est);
    char ls[200];
    if (status == 0 && !a.stim.quiet)
        printf("%s: %s, %s acc=%s, %llu cycles, seed %llu, timing seed %llu\n", a.out,
               mpq_hwcfg_str(&hw, buf, sizeof buf), layer_str(&l, ls, sizeof ls),
               l.acc_sat ? "sat" : "wrap", (unsigned long long)mpq_gen_cycle(g),
               (unsigned long long)a.lo.seed, (unsigned long long)a.to.seed);
    if (status == 0 && a.stim.stats) {
        mpq_gen_stats st;
        mpq_gen_stats_get(g, &st);
        char line[1024];
        printf("stats: %s\n", mpq_gen_stats_kv(&st, line, sizeof line));
    }
    mpq_gen_free(g);
    mpq_hw_layer_free(&l);
    return status;
}
