/* SPDX-License-Identifier: Apache-2.0 */
/* tb_source.c: the stimulus sources and wrappers of tb_source.h. */
#include "tb_source.h"

#include <inttypes.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "arith/mpq.h"
#include "tb_pipe.h"

void tb_source_close(tb_source *s)
{
    if (s)
        s->ops->close(s);
}

static int no_where(const tb_source *s, mpq_cm_where *w)
{
    (void)s;
    (void)w;
    return 0;
}

static int no_stats(const tb_source *s, mpq_gen_stats *st)
{
    (void)s;
    (void)st;
    return 0;
}

/* A source without a thread of its own is always whole in the caller's thread. */
static int no_pause(tb_source *s)
{
    (void)s;
    return 1;
}
static void no_resume(tb_source *s) { (void)s; }
static const mpq_cm *no_model(const tb_source *s)
{
    (void)s;
    return NULL;
}

/* ---- replay: a vector file ---------------------------------------------------------------- */
typedef struct replay_source {
    tb_source base;
    mpq_vec_reader *r;
} replay_source;

static int replay_next(tb_source *s, mpq_port_in *in, mpq_port_out *exp)
{
    return mpq_vec_reader_next(((replay_source *)s)->r, in, exp);
}
static const char *replay_error(const tb_source *s)
{
    return mpq_vec_reader_error(((const replay_source *)s)->r);
}
static void replay_close(tb_source *s)
{
    mpq_vec_reader_close(((replay_source *)s)->r);
    free(s);
}
static const tb_source_ops replay_ops = {replay_next, no_where, replay_error, no_stats, replay_close,
                                         no_pause, no_resume, no_model};

int tb_source_replay(const char *path, tb_source **out, char *err, size_t errlen)
{
    *out = NULL;
    replay_source *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", path);
        return MPQ_ENOMEM;
    }
    int rc = mpq_vec_reader_open(path, &s->r, err, errlen);
    if (rc != 0) {
        free(s);
        return rc;
    }
    s->base.ops = &replay_ops;
    s->base.h = *mpq_vec_reader_header(s->r);
    s->base.path = path;
    *out = &s->base;
    return 0;
}

/* ---- lockstep: the golden generator and cycle model ---------------------------------------- */
typedef struct lockstep_source {
    tb_source base;
    mpq_hw_layer layer;
    mpq_gen *g;
} lockstep_source;

static int lockstep_next(tb_source *s, mpq_port_in *in, mpq_port_out *exp)
{
    return mpq_gen_next(((lockstep_source *)s)->g, in, exp);
}
static int lockstep_where(const tb_source *s, mpq_cm_where *w)
{
    mpq_gen_where(((const lockstep_source *)s)->g, w);
    return 1;
}
static const char *lockstep_error(const tb_source *s)
{
    return mpq_gen_error(((const lockstep_source *)s)->g);
}
static int lockstep_stats(const tb_source *s, mpq_gen_stats *st)
{
    mpq_gen_stats_get(((const lockstep_source *)s)->g, st);
    return 1;
}
static void lockstep_close(tb_source *s)
{
    lockstep_source *l = (lockstep_source *)s;
    mpq_gen_free(l->g);
    mpq_hw_layer_free(&l->layer);
    free(l);
}
static const mpq_cm *lockstep_model(const tb_source *s)
{
    return mpq_gen_model(((const lockstep_source *)s)->g);
}
static const tb_source_ops lockstep_ops = {lockstep_next, lockstep_where, lockstep_error,
                                           lockstep_stats, lockstep_close, no_pause, no_resume,
                                           lockstep_model};

/* 1 when option o (MPQ_SO_*) was given. */
static int given(const mpq_stim_args *a, mpq_stim_opt o) { return (int)(a->given >> o & 1u); }

/* The memory this process may use: MPQ_TB_MEMORY when set (bytes, or with a suffix M or G:
 * 10^6, 10^9), else the machine's memory or, when lower, the address-space limit (ulimit -v).
 * *what names which. Returns 0, or -1 when MPQ_TB_MEMORY is not a size. */
static int lockstep_memory(uint64_t *total, const char **what)
{
    const char *env = getenv("MPQ_TB_MEMORY");
    if (env && *env) {
        char *end;
        unsigned long long v = strtoull(env, &end, 10);
        uint64_t unit = !strcmp(end, "G") ? 1000000000ull : !strcmp(end, "M") ? 1000000ull : *end ? 0 : 1;
        if (end == env || *env == '-' || unit == 0 || v == 0 || v > UINT64_MAX / unit)
            return -1;
        *total = (uint64_t)v * unit;
        *what = "MPQ_TB_MEMORY";
        return 0;
    }
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    *total = pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : UINT64_MAX;
    *what = "this machine's memory";
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (uint64_t)rl.rlim_cur < *total) {
        *total = (uint64_t)rl.rlim_cur;
        *what = "this process's address-space limit (ulimit -v)";
    }
    return 0;
}

int tb_lockstep_fits(const mpq_hwcfg *hw, const mpq_stim_args *a, uint64_t seed, char *err, size_t errlen)
{
    mpq_layer_opts lo;
    mpq_timing_opts to;
    mpq_stim_layer_opts(a, hw, seed, &lo, &to);
    mpq_hw_layer shape;
    char why[512];
    if (mpq_hw_layer_shape(&lo, &shape, why, sizeof why) != 0)
        return 0; /* tb_source_lockstep names what is wrong with it */
    char desc[200];
    if (lo.shape.kind != MPQ_LAYER_FC)
        mpq_conv_shape_format(&lo.shape, desc, sizeof desc);
    else
        snprintf(desc, sizeof desc, "m=%u k=%u n=%u", lo.m, lo.k, lo.n);
    if (lo.shape.kind != MPQ_LAYER_FC && mpq_hw_conv_fits(hw, &lo.shape, why, sizeof why) != 0) {
        snprintf(err, errlen, "lockstep: %s does not run on this RTL: %s", desc, why);
        return MPQ_EPARAM;
    }
    uint64_t total, bytes = mpq_gen_bytes(&shape);
    const char *what;
    if (lockstep_memory(&total, &what) != 0) {
        snprintf(err, errlen, "MPQ_TB_MEMORY=%s is not a size (bytes, or e.g. 800M, 16G)", getenv("MPQ_TB_MEMORY"));
        return MPQ_EPARAM;
    }
    if (bytes <= total / 2) /* the rest for the model, the threads and the others */
        return 0;
    mpq_gen_estimate e;
    mpq_gen_estimate_run(hw, &shape, &to, &e);
    snprintf(err, errlen, "lockstep: refused: %s needs about %.1f GB of memory (estimate: the layer and "
             "its %" PRIu64 " expected outputs) and takes about %.3g cycles; the limit is half of "
             "%s, %.1f GB", desc, (double)bytes / 1e9, (uint64_t)shape.m * shape.n, (double)e.cycles,
             what, (double)total / 1e9);
    return MPQ_EPARAM;
}

/* The header of a layer generated as the run goes (lockstep and layer sources): the
 * configuration, the layer's kind and shape, its timing seed and accumulator mode; the model
 * that answers beside the DUT is the generator's. */
static void generated_header(lockstep_source *s, const mpq_hwcfg *hw, const mpq_hw_layer *L,
                             uint64_t timing_seed, int acc_sat)
{
    s->base.ops = &lockstep_ops;
    s->base.has_model = 1;
    mpq_vec_header *h = &s->base.h;
    h->hw = *hw;
    h->timing_seed = timing_seed;
    mpq_vec_header_set_layer(h, L);
    h->acc_sat = (uint32_t)acc_sat;
}

int tb_source_lockstep(const mpq_hwcfg *hw, const mpq_stim_args *a, uint64_t seed,
                       tb_source **out, char *err, size_t errlen)
{
    *out = NULL;
    int fits = tb_lockstep_fits(hw, a, seed, err, errlen);
    if (fits != 0)
        return fits;
    mpq_layer_opts lo;
    mpq_timing_opts to;
    mpq_stim_layer_opts(a, hw, seed, &lo, &to);
    lockstep_source *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "lockstep: out of memory");
        return MPQ_ENOMEM;
    }
    char why[512];
    int rc = mpq_hw_layer_random(hw, &lo, &s->layer, why, sizeof why);
    if (rc == 0)
        rc = mpq_gen_new(hw, &s->layer, &to, &s->g, why, sizeof why);
    if (rc != 0) {
        snprintf(err, errlen, "lockstep: %s", why);
        lockstep_close(&s->base);
        return rc;
    }
    generated_header(s, hw, &s->layer, to.seed, lo.acc_sat);
    mpq_vec_header *h = &s->base.h;
    h->seed = lo.seed;
    char shape[200] = "fc";
    if (lo.shape.kind != MPQ_LAYER_FC)
        mpq_conv_shape_format(&lo.shape, shape, sizeof shape);
    snprintf(h->source, sizeof h->source, "lockstep:%s %s hp-n=%u p-valid=%g p-ready=%g offer=%s%s",
             mpq_profile_name(lo.profile), shape, lo.hp_n, to.p_valid, to.p_ready,
             to.offer_early ? "early" : "late", to.reset_at ? " mid-layer-reset" : "");
    *out = &s->base;
    return 0;
}

int tb_source_layer(const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_timing_opts *t, const char *what,
                    tb_source **out, char *err, size_t errlen)
{
    *out = NULL;
    lockstep_source *s = calloc(1, sizeof *s); /* s->layer stays empty: L is borrowed */
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", what);
        return MPQ_ENOMEM;
    }
    char why[512];
    int rc = mpq_gen_new(hw, L, t, &s->g, why, sizeof why);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", what, why);
        lockstep_close(&s->base);
        return rc;
    }
    generated_header(s, hw, L, t->seed, L->acc_sat);
    snprintf(s->base.h.source, sizeof s->base.h.source, "%s", what);
    *out = &s->base;
    return 0;
}

int tb_lockstep_argv(const mpq_stim_args *a, uint64_t seed, const char **argv, int *argc, int max,
                     char *buf, size_t buflen, size_t *used)
{
    /* This run alone: its seed, one run, and the layer and timing options given (--layer only
     * when it chose a kind that --shape does not already give). */
    mpq_stim_args one = *a;
    one.seed = seed;
    one.runs = 1;
    uint64_t bits = (a->given & mpq_stim_layer_mask() & ~(1ull << MPQ_SO_CYCLES)) | 1ull << MPQ_SO_SEED |
                    1ull << MPQ_SO_RUNS;
    if (a->layer < 0 || given(a, MPQ_SO_SHAPE))
        bits &= ~(1ull << MPQ_SO_LAYER);
    if (*argc + 1 < max && *used + sizeof "lockstep" <= buflen) {
        memcpy(buf + *used, "lockstep", sizeof "lockstep");
        argv[(*argc)++] = buf + *used;
        *used += sizeof "lockstep";
    }
    return mpq_opt_write(mpq_stim_opts, MPQ_SO_COUNT, &one, bits, argv, argc, max, buf, buflen, used);
}

/* base, the head of a source that stands in for inner (threaded, the injections), takes ops
 * and what inner says of itself: its header, its file and whether it has a model. */
static tb_source *stand_in(tb_source *base, const tb_source_ops *ops, const tb_source *inner)
{
    base->ops = ops;
    base->h = inner->h;
    base->path = inner->path;
    base->has_model = inner->has_model;
    return base;
}

/* ---- threaded: the source in its own thread ------------------------------------------------ */
typedef struct threaded_source {
    tb_source base;
    tb_source *inner;
    tb_pipe *pipe;
    int paused;  /* tb_source_pause: no producer; once the ring is drained, `direct` */
    int direct;  /* the inner source is called in this thread */
    int ended;   /* next() returned 0: the producer has finished with the inner source */
} threaded_source;

/* The producer's call (tb_pipe_fn): the inner source's cycle and where its model was. */
static int threaded_fill(void *ctx, mpq_port_in *in, mpq_port_out *exp, mpq_cm_where *where)
{
    tb_source *inner = ctx;
    int rc = tb_source_next(inner, in, exp);
    if (rc == 1)
        tb_source_where(inner, where);
    return rc;
}
static int threaded_next(tb_source *s, mpq_port_in *in, mpq_port_out *exp)
{
    threaded_source *t = (threaded_source *)s;
    /* Direct: in and exp hold the last cycle the pipe handed over, which is the inner
     * source's previous cycle (a source may write only what changed). Only a snapshot's
     * process runs direct; the parent resumes the producer before it takes another cycle. */
    int rc = t->direct ? tb_source_next(t->inner, in, exp) : tb_pipe_next(t->pipe, in, exp);
    t->ended = rc == 0;
    return rc;
}
static int threaded_pause(tb_source *s)
{
    threaded_source *t = (threaded_source *)s;
    if (!t->paused) {
        tb_pipe_pause(t->pipe);
        t->paused = 1;
    }
    if (!t->direct && tb_pipe_drained(t->pipe)) {
        t->direct = 1;
    }
    return t->direct;
}
static void threaded_resume(tb_source *s)
{
    threaded_source *t = (threaded_source *)s;
    if (t->paused && tb_pipe_resume(t->pipe) == 0) {
        t->paused = 0;
        t->direct = 0;
    }
}
static const mpq_cm *threaded_model(const tb_source *s)
{
    const threaded_source *t = (const threaded_source *)s;
    return t->direct || t->ended ? tb_source_model(t->inner) : NULL;
}
static int threaded_where(const tb_source *s, mpq_cm_where *w)
{
    const threaded_source *t = (const threaded_source *)s;
    if (!t->inner->has_model)
        return 0;
    if (t->direct)
        return tb_source_where(t->inner, w);
    tb_pipe_where(t->pipe, w); /* recorded by the producer with each cycle */
    return 1;
}
/* Only after next() returned an error: the producer has stopped touching the source. */
static const char *threaded_error(const tb_source *s)
{
    return tb_source_error(((const threaded_source *)s)->inner);
}
static int threaded_stats(const tb_source *s, mpq_gen_stats *st)
{
    /* Only after next() returned 0: the producer has finished with the source. */
    return tb_source_stats(((const threaded_source *)s)->inner, st);
}
static void threaded_close(tb_source *s)
{
    threaded_source *t = (threaded_source *)s;
    tb_pipe_stop(t->pipe); /* joins the producer before the source goes */
    tb_source_close(t->inner);
    free(t);
}
static const tb_source_ops threaded_ops = {threaded_next, threaded_where, threaded_error,
                                           threaded_stats, threaded_close, threaded_pause,
                                           threaded_resume, threaded_model};

tb_source *tb_source_threaded(tb_source *inner)
{
    threaded_source *t = calloc(1, sizeof *t);
    if (!t)
        return inner;
    if (tb_pipe_start(&inner->h.hw, threaded_fill, inner, &t->pipe) != 0) {
        free(t);
        return inner;
    }
    t->inner = inner;
    return stand_in(&t->base, &threaded_ops, inner);
}

/* ---- wrappers: a source that changes another's cycles and forwards everything else ----------- */
typedef struct wrap_source {
    tb_source base;
    tb_source *inner;
} wrap_source;

static const tb_source *wrapped(const tb_source *s) { return ((const wrap_source *)s)->inner; }
static int wrap_where(const tb_source *s, mpq_cm_where *w) { return tb_source_where(wrapped(s), w); }
static const char *wrap_error(const tb_source *s) { return tb_source_error(wrapped(s)); }
static int wrap_stats(const tb_source *s, mpq_gen_stats *st) { return tb_source_stats(wrapped(s), st); }
static void wrap_close(tb_source *s)
{
    tb_source_close(((wrap_source *)s)->inner);
    free(s);
}
static int wrap_pause(tb_source *s) { return tb_source_pause(((wrap_source *)s)->inner); }
static void wrap_resume(tb_source *s) { tb_source_resume(((wrap_source *)s)->inner); }
static const mpq_cm *wrap_model(const tb_source *s) { return tb_source_model(wrapped(s)); }

/* ---- fault injection: bits of the first activation element changed for the DUT -------------- */
/* A wrap_source that changes `mask` in act_data[0] of some cycles; the caller's `in` is the
 * inner source's state, so a changed cycle is changed back before the inner source continues. */
typedef struct fault_source {
    tb_source base;
    tb_source *inner;
    uint32_t mask; /* the bits changed */
    int state;     /* the fault's own progress (hold_next, flip_next) */
    int flipped;   /* the bits changed for the DUT in the cycle last returned */
} fault_source;
_Static_assert(offsetof(fault_source, inner) == offsetof(wrap_source, inner), "fault_source is a wrap_source");

/* The inner source's next cycle, after undoing the change made to the last one. */
static int fault_inner_next(fault_source *f, mpq_port_in *in, mpq_port_out *exp)
{
    if (f->flipped) { /* `in` holds the source's values again before the source continues */
        in->act_data[0] ^= f->mask;
        f->flipped = 0;
    }
    return tb_source_next(f->inner, in, exp);
}

static void fault_flip(fault_source *f, mpq_port_in *in)
{
    in->act_data[0] ^= f->mask;
    f->flipped = 1;
}

static tb_source *fault_open(fault_source *f, const tb_source_ops *ops, tb_source *inner, uint32_t mask)
{
    f->inner = inner;
    f->mask = mask;
    return stand_in(&f->base, ops, inner);
}

/* ---- inject-hold: one stream-rule violation ---------------------------------------------------- */
typedef struct hold_source {
    fault_source f; /* state: 0 looking for a waiting activation beat, 1 one is waiting, 2 done */
    uint64_t cycle, after; /* cycles returned; none changes before cycle `after` */
} hold_source;

static int hold_next(tb_source *s, mpq_port_in *in, mpq_port_out *exp)
{
    hold_source *h = (hold_source *)s;
    int rc = fault_inner_next(&h->f, in, exp);
    if (rc != 1)
        return rc;
    if (h->f.state == 1 && in->act_valid) {
        fault_flip(&h->f, in); /* the waiting beat changes before its handshake */
        h->f.state = 2;
    }
    if (h->f.state == 0 && h->cycle >= h->after && in->rst_n && in->act_valid && !exp->act_ready)
        h->f.state = 1;
    h->cycle++;
    return rc;
}
static const tb_source_ops hold_ops = {hold_next,  wrap_where,  wrap_error, wrap_stats,
                                       wrap_close, wrap_pause, wrap_resume, wrap_model};

tb_source *tb_source_inject_hold(tb_source *inner, uint64_t after)
{
    hold_source *h = calloc(1, sizeof *h);
    if (!h)
        return inner;
    h->after = after;
    return fault_open(&h->f, &hold_ops, inner, 1u);
}

/* ---- inject-flip: one activation beat changed for the DUT ---------------------------------------- */
/* fault_source state: 0 before the first activation beat, 1 it is offered, 2 it was taken. */
static int flip_next(tb_source *s, mpq_port_in *in, mpq_port_out *exp)
{
    fault_source *f = (fault_source *)s;
    int rc = fault_inner_next(f, in, exp);
    /* The beat changes in every cycle it is offered, so the DUT sees a stable (wrong) beat,
     * not a stream-rule violation: bit 7 of element 0, its sign, a change of 128. */
    if (rc == 1 && f->state < 2 && in->rst_n && in->act_valid) {
        fault_flip(f, in);
        f->state = exp->act_ready ? 2 : 1;
    }
    return rc;
}
static const tb_source_ops flip_ops = {flip_next,  wrap_where,  wrap_error, wrap_stats,
                                       wrap_close, wrap_pause, wrap_resume, wrap_model};

tb_source *tb_source_inject_flip(tb_source *inner)
{
    fault_source *f = calloc(1, sizeof *f);
    if (!f)
        return inner;
    return fault_open(f, &flip_ops, inner, 0x80u);
}
