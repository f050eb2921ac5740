/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_layer.c: the golden model's layers planned once and run many times (mpq_layer.h).
 *
 * Plan step: the shape and the arithmetic are checked, the weights planned by the MAC engine
 * (mpq_mac_plan_init: bounds, folds, the exact kernel), and the kernel chosen: the tile
 * kernels (mpq_mac_tile.c) when the result does not depend on the order of the terms, the
 * checked tile kernels for the overflow analysis, the exact kernels otherwise. Run step: the
 * input is copied once into the layout the kernel reads (a padded 16-bit copy for the tile
 * kernels, im2col rows per chunk of output pixels), reduced, then requantized
 * (mpq_requant_i8 or mpq_requant_one).
 *
 * Hardware counterpart: the accelerator's FC and conv modes (rtl/mpq_lane.sv accumulates one
 * output channel, rtl/mpq_requant.sv requantizes it); the exact kernels fit at the declared
 * order's points as the lanes do.
 */
#include "arith/mpq_layer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq_bits.h"
#include "arith/mpq_mac.h"

#if defined(__SSE2__) && !defined(MPQ_NO_SIMD)
#include <emmintrin.h>
#define LAYER_SSE2 1
#endif

enum { PATH_POOL, PATH_EXACT, PATH_TILE, PATH_CHECK, PATH_VERDICT };
enum { CHUNK = 64 }; /* output pixels per block of im2col rows */
/* How the tile path turns lane sums S into accumulators: fit(bias + S) per output (SCALAR),
 * or the lane itself run from the bias, sign-extended from min(acc_bits, 32) bits (LANE: an
 * untracked wrapping accumulator of at most 32 bits keeps bias + S modulo 2^acc_bits, or
 * |bias| + the bound of S stays within 32 bits and the accumulator). */
enum { WIDEN_SCALAR, WIDEN_LANE };

struct mpq_layer {
    mpq_conv_shape s;        /* a fully-connected layer as a 1x1 CONV2D over m pixels */
    int fc, dw, path;
    int dw_w;                /* depthwise weights ([kh][kw][out_c]); dw: run as depthwise */
    unsigned flags;
    size_t nin, nout;
    int32_t act_min, act_max; /* pools */
    /* convolutions and FC */
    int32_t x_min, x_max, in_off;
    unsigned acc_bits;
    int sat;
    int has_rq, has_rq8;
    int widen;               /* the tile path's acc64 from acc32 (WIDEN_*) */
    mpq_requant rq;
    int32_t *rq_mult, *rq_shift;
    mpq_rq_i8 rq8;
    int32_t *tw, *thp;       /* depthwise weights as [out_c][taps] rows */
    int8_t *tt;              /* ternary weights the engine's plan may keep reading */
    mpq_mac_plan plan;
    mpq_mac_row row;
    unsigned depth, groups, f, per; /* per group: depth, input and output channels */
    unsigned *cuts, *ncuts;  /* the fit points of each group */
    mpq_mac_out *outs;
    int32_t *patch32;        /* int8 runs: one window position's activations widened */
    /* tile and checked kernels */
    mpq_mac_tiles tiles;
    unsigned hp, wp;         /* the padded input's height and width */
    size_t cstride;          /* int16 per padded pixel: in_c, depthwise out_c rounded up to 8 */
    size_t rowlen;           /* im2col row: 2 * kpairs */
    int direct;              /* 1x1, stride 1, no padding, even depth: rows are input pixels */
    size_t *toff;            /* depthwise: offset of each tap from the window's first pixel */
    unsigned blk;            /* checked kernels: pairs per block (0: exact), adapted run by run;
                              * PATH_VERDICT: the block ends are the fit points */
    unsigned exact_runs;     /* runs in a row in the exact form */
    unsigned probe_every;    /* exact runs between probes of 4-pair blocks (16, doubled by
                              * each probe that failed, up to 1024) */
    unsigned calm, calm_need; /* runs in a row at 4 pairs that would have done as well at 8;
                               * how many it takes to go back to 8 (doubled by each return
                               * that failed) */
    /* scratch: offsets of each region, and the total */
    size_t sc_xp, sc_cols, sc_bases, sc_acc32, sc_qor, sc_mor, sc_acc64, sc_x32, sc_mark, sc_pool;
    size_t sc_bytes;
};

/* The run's view of the scratch and inputs. */
typedef struct run_ctx {
    mpq_layer *l;
    const int32_t *x;        /* int32 activations (x8 widened on demand) */
    const int8_t *x8;
    unsigned char *sc;
    int x32_ready;
    long patch_pix, patch_grp; /* the patch now in l->row */
    /* run_tiles' plain form, chunk by chunk while its sums are in cache (once every channel
     * of the chunk's pixels is done): y8 requantized from them, or acc64 widened */
    int8_t *sink_y8;
    int64_t *sink_acc;
} run_ctx;

#define SC(ctx, T, off) ((T *)(void *)((ctx)->sc + (off)))

mpq_conv_shape mpq_layer_fc_shape(unsigned m, unsigned k, unsigned n)
{
    mpq_conv_shape s = {.kind = MPQ_LAYER_FC, .batches = m, .in_h = 1, .in_w = 1, .in_c = k,
                        .out_c = n, .kh = 1, .kw = 1, .sy = 1, .sx = 1, .dy = 1, .dx = 1,
                        .groups = 1, .out_h = 1, .out_w = 1};
    return s;
}

const char *mpq_layer_kernel(const mpq_layer *l)
{
    static const char *const names[] = {"pool", "exact", "tile", "checked", "verdict"};
    return names[l->path];
}

size_t mpq_layer_scratch_bytes(const mpq_layer *l)
{
    return l->sc_bytes;
}

void mpq_layer_free(mpq_layer *l)
{
    if (!l)
        return;
    mpq_mac_plan_free(&l->plan);
    mpq_mac_row_free(&l->row);
    mpq_mac_tiles_free(&l->tiles);
    MPQ_FREE_ALL(l->rq_mult, l->rq_shift, l->tw, l->thp, l->tt, l->cuts, l->ncuts, l->outs,
                 l->toff, l->patch32);
    free(l);
}

/* ---- plan ---- */

/* The fit points of group grp: SEQ every term; GROUPED the end of each run of channels in
 * one aligned block of `group` absolute input channels, at every window position. */
static unsigned make_cuts(const mpq_layer *l, mpq_order order, unsigned group, unsigned grp,
                          unsigned *cuts)
{
    const mpq_conv_shape *s = &l->s;
    unsigned npos = s->kh * s->kw, n = 0, g = order == MPQ_ORDER_SEQ ? 1 : group;
    unsigned g0 = l->dw ? grp : grp * l->f;
    for (unsigned p = 0; p < npos; p++)
        for (unsigned c = 0; c < l->f; c++)
            if ((g0 + c + 1) % g == 0 || c + 1 == l->f)
                cuts[n++] = p * l->f + c + 1;
    if (!n) /* no term at all (an FC layer of depth 0): one empty segment */
        cuts[n++] = 0;
    return n;
}

/* Depthwise filters [kh][kw][out_c] as the engine's [out_c][kh*kw] rows (NULL stays NULL). */
static int transpose_dw(const int32_t *in32, const int8_t *in8, unsigned npos, unsigned out_c,
                        int32_t **out32, int8_t **out8)
{
    size_t n = (size_t)npos * out_c;
    if (in32 && !(*out32 = malloc(n * sizeof **out32)))
        return MPQ_ENOMEM;
    if (in8 && !(*out8 = malloc(n)))
        return MPQ_ENOMEM;
    for (unsigned p = 0; p < npos; p++)
        for (unsigned o = 0; o < out_c; o++) {
            if (in32)
                (*out32)[(size_t)o * npos + p] = in32[(size_t)p * out_c + o];
            if (in8)
                (*out8)[(size_t)o * npos + p] = in8[(size_t)p * out_c + o];
        }
    return MPQ_OK;
}

/* The engine's plan of the weights (as one [out_c][depth] matrix), the fit points, a row. */
static int plan_mac(mpq_layer *l, const mpq_fc_layer *m, int64_t xmax, char *err, size_t errlen)
{
    const mpq_conv_shape *s = &l->s;
    const unsigned npos = s->kh * s->kw;
    mpq_fc_layer wl = *m;
    wl.m = 0;
    wl.k = l->depth;
    wl.n = s->out_c;
    wl.x = NULL;
    if (!l->fc && (m->hp_nm || m->hp_csr)) {
        snprintf(err, errlen, "%s: sparse weights in N:G or CSR form are for FC layers only",
                 mpq_layer_name(l->dw_w ? MPQ_LAYER_DEPTHWISE : MPQ_LAYER_CONV2D));
        return MPQ_EPARAM;
    }
    if (l->dw_w) {
        if (transpose_dw(m->w, m->t, npos, s->out_c, &l->tw, &l->tt) ||
            transpose_dw(m->hp, NULL, npos, s->out_c, &l->thp, NULL))
            goto nomem;
        wl.w = l->tw;
        wl.t = l->tt;
        wl.hp = l->thp;
    } else if (m->t) { /* the plan keeps reading unfolded ternary weights: a copy it owns */
        size_t n = (size_t)l->depth * s->out_c;
        if (!(l->tt = malloc(n + 1)))
            goto nomem;
        memcpy(l->tt, m->t, n);
        wl.t = l->tt;
    }
    int st = mpq_mac_plan_init(&l->plan, &wl, xmax, (l->flags & MPQ_LAYER_TRACK) != 0, err, errlen);
    free(l->tw);
    free(l->thp);
    l->tw = l->thp = NULL;
    if (st)
        return st;
    l->cuts = malloc(((size_t)l->groups * l->depth + 1) * sizeof *l->cuts);
    l->ncuts = malloc((size_t)l->groups * sizeof *l->ncuts);
    l->outs = malloc(((size_t)s->out_c + 1) * sizeof *l->outs);
    l->patch32 = malloc(((size_t)l->f + 1) * sizeof *l->patch32);
    if (!l->cuts || !l->ncuts || !l->outs || !l->patch32 || mpq_mac_row_init(&l->row, l->depth))
        goto nomem;
    for (unsigned g = 0; g < l->groups; g++)
        l->ncuts[g] = make_cuts(l, m->order, m->group, g, l->cuts + (size_t)g * l->depth);
    return MPQ_OK;
nomem:
    snprintf(err, errlen, "out of memory");
    return MPQ_ENOMEM;
}

/* Whether every channel's result is fit(bias + S) with S the tile kernels' lane: an
 * untracked wrapping accumulator of at most 32 bits keeps bias + S modulo 2^acc_bits, which
 * the lane's sum modulo 2^32 gives; otherwise S must be exact in the lane and either no fit
 * can change a value (the bounds) or the accumulator wraps untracked. *widen: how the
 * accumulators are then formed (WIDEN_*). */
static int order_free(const mpq_layer *l, int *widen)
{
    const mpq_mac_plan *p = &l->plan;
    const mpq_i128 acc_hi = ((mpq_i128)1 << (p->acc_bits - 1)) - 1;
    const int plain_wrap = !(l->flags & MPQ_LAYER_TRACK) && !l->sat;
    *widen = WIDEN_LANE;
    if (plain_wrap && p->acc_bits <= 32)
        return 1;
    for (unsigned c = 0; c < p->n; c++) {
        mpq_i128 sum = (mpq_i128)p->xmax * p->chan_bound[c];
        mpq_i128 reach = (mpq_i128)mpq_abs64(p->bias[c]) + sum;
        int safe = reach <= acc_hi;
        if (sum > INT32_MAX || !(safe || plain_wrap))
            return 0;
        if (!safe || reach > INT32_MAX)
            *widen = WIDEN_SCALAR;
    }
    return 1;
}

/* The padded input's size: every window position reads memory. Returns 1 when that copy
 * would be far larger than the tensors (huge dilations or strides over a small input: the
 * exact kernels take such a layer). */
static int padded_dims(mpq_layer *l)
{
    const mpq_conv_shape *s = &l->s;
    double reach_h = ((double)s->out_h - 1) * s->sy + ((double)s->kh - 1) * s->dy + 1;
    double reach_w = ((double)s->out_w - 1) * s->sx + ((double)s->kw - 1) * s->dx + 1;
    double hp = reach_h > (double)s->py + s->in_h ? reach_h : (double)s->py + s->in_h;
    double wp = reach_w > (double)s->px + s->in_w ? reach_w : (double)s->px + s->in_w;
    double tensors = (double)l->nin * (double)l->cstride / s->in_c + (double)l->nout;
    if ((double)s->batches * hp * wp * (double)l->cstride > 16 * tensors + 65536)
        return 1;
    l->hp = (unsigned)hp;
    l->wp = (unsigned)wp;
    return 0;
}

/* The tile or checked kernels' layout and geometry. Returns 0, 1 (they do not apply),
 * MPQ_ENOMEM. */
static int plan_tiles(mpq_layer *l, int checked)
{
    const mpq_conv_shape *s = &l->s;
    if (!l->depth)
        return 1;
    int st = mpq_mac_tiles_init(&l->tiles, &l->plan, l->dw ? 1 : l->groups, checked);
    if (st)
        return st;
    const mpq_mac_tiles *t = &l->tiles;
    l->cstride = l->dw ? (size_t)t->nblk * MPQ_MAC_LANES : s->in_c;
    l->rowlen = (size_t)t->kpairs * 2;
    if (padded_dims(l)) {
        mpq_mac_tiles_free(&l->tiles);
        return 1;
    }
    l->direct = !l->dw && s->kh == 1 && s->kw == 1 && s->sy == 1 && s->sx == 1 && l->groups == 1 &&
                l->depth % 2 == 0 && l->hp == s->in_h && l->wp == s->in_w;
    if (l->dw) {
        const unsigned taps = s->kh * s->kw;
        if (!(l->toff = calloc((size_t)2 * t->kpairs, sizeof *l->toff)))
            return MPQ_ENOMEM;
        for (unsigned j = 0; j < taps; j++) /* an odd window's last partner stays at 0 */
            l->toff[j] = ((size_t)(j / s->kw) * s->dy * l->wp + (size_t)(j % s->kw) * s->dx) *
                         l->cstride;
    }
    return 0;
}

/* Scratch regions, each 16-byte aligned. */
static size_t sc_take(size_t *total, size_t bytes)
{
    size_t at = *total;
    *total += (bytes + 15) & ~(size_t)15;
    return at;
}

static void plan_scratch(mpq_layer *l)
{
    const mpq_conv_shape *s = &l->s;
    size_t t = 0;
    if (l->path == PATH_POOL) {
        l->sc_pool = sc_take(&t, (size_t)s->in_c * (sizeof(int64_t) + sizeof(int32_t)));
        l->sc_bytes = t;
        return;
    }
    if (l->path == PATH_TILE || l->path == PATH_CHECK || l->path == PATH_VERDICT) {
        l->sc_xp = sc_take(&t, ((size_t)s->batches * l->hp * l->wp * l->cstride + 8) * sizeof(int16_t));
        if (!l->dw && !l->direct)
            l->sc_cols = sc_take(&t, ((CHUNK + 1) * l->rowlen + 8) * sizeof(int16_t));
        if (l->dw) {
            l->sc_cols = sc_take(&t, ((size_t)l->depth + 8) * sizeof(int16_t)); /* row16_of */
            l->sc_bases = sc_take(&t, CHUNK * sizeof(const int16_t *));
        }
        l->sc_acc32 = sc_take(&t, l->nout * sizeof(int32_t));
    }
    if (l->path == PATH_CHECK || l->path == PATH_VERDICT)
        l->sc_qor = sc_take(&t, l->nout * sizeof(int32_t));
    if (l->path == PATH_CHECK) { /* the verdicts need no bounds and no marks */
        l->sc_mor = sc_take(&t, l->nout * sizeof(int32_t));
        l->sc_mark = sc_take(&t, l->nout);
    }
    l->sc_acc64 = sc_take(&t, l->nout * sizeof(int64_t));
    if (l->flags & MPQ_LAYER_INT8)
        l->sc_x32 = sc_take(&t, l->nin * sizeof(int32_t));
    l->sc_bytes = t;
}

/* The requantization: checked, its arrays copied (the plan outlives the caller's). */
static int plan_rq(mpq_layer *l, const mpq_requant *rq, char *err, size_t errlen)
{
    int st = mpq_requant_check(rq, l->s.out_c, err, errlen);
    if (st)
        return st;
    l->rq = *rq;
    l->rq_mult = malloc(rq->nparams * sizeof *l->rq_mult);
    l->rq_shift = malloc(rq->nparams * sizeof *l->rq_shift);
    if (!l->rq_mult || !l->rq_shift) {
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    memcpy(l->rq_mult, rq->mult, rq->nparams * sizeof *l->rq_mult);
    memcpy(l->rq_shift, rq->shift, rq->nparams * sizeof *l->rq_shift);
    l->rq.mult = l->rq_mult;
    l->rq.shift = l->rq_shift;
    l->has_rq = 1;
    unsigned wrap = l->acc_bits < 32 ? l->acc_bits : 32;
    l->has_rq8 = mpq_rq_i8_init(&l->rq8, &l->rq, l->s.out_c, wrap) == MPQ_OK;
    return MPQ_OK;
}

/* Shape and flags of d into l. */
static int plan_shape(mpq_layer *l, const mpq_layer_def *d, char *err, size_t errlen)
{
    const mpq_conv_shape *s = &d->shape;
    if ((l->flags & MPQ_LAYER_PREFIX) && !(l->flags & MPQ_LAYER_TRACK)) {
        snprintf(err, errlen, "the prefix analysis comes with overflow tracking (MPQ_LAYER_TRACK)");
        return MPQ_EPARAM;
    }
    if (s->kind == MPQ_LAYER_FC) {
        l->fc = 1;
        l->path = PATH_EXACT;
        l->s = mpq_layer_fc_shape(s->batches, s->in_c, s->out_c);
        l->s.kind = MPQ_LAYER_CONV2D;
    } else {
        int pool = s->kind == MPQ_LAYER_AVGPOOL || s->kind == MPQ_LAYER_MAXPOOL;
        int st = mpq_conv_check_kind(s, pool, err, errlen);
        if (st)
            return st;
        l->s = *s;
        if (!l->s.groups)
            l->s.groups = 1;
        /* A depthwise layer over one input channel is a convolution with one input channel
         * (its weights transposed the same way): run as one, its rows shared by every output
         * channel, not replicated per channel. */
        l->dw_w = s->kind == MPQ_LAYER_DEPTHWISE;
        l->dw = l->dw_w && s->in_c > 1;
        l->path = pool ? PATH_POOL : PATH_EXACT;
    }
    l->nin = (size_t)l->s.batches * l->s.in_h * l->s.in_w * l->s.in_c;
    l->nout = (size_t)l->s.batches * l->s.out_h * l->s.out_w * l->s.out_c;
    l->groups = l->dw ? l->s.in_c : l->s.groups;
    l->f = l->dw ? 1 : l->s.in_c / l->groups;
    l->per = l->s.out_c / l->groups;
    l->depth = l->s.kh * l->s.kw * l->f;
    if (l->flags & MPQ_LAYER_INT8) {
        l->x_min = INT8_MIN;
        l->x_max = INT8_MAX;
    } else if (d->x_min > d->x_max) {
        snprintf(err, errlen, "activation range [%d, %d] is empty", d->x_min, d->x_max);
        return MPQ_EPARAM;
    }
    return MPQ_OK;
}

/* The pairs per checked block whose block ends are exactly the fit points of every group's
 * cuts (0: a fit after every term, the exact form's prefixes), or -1 when they are not. */
static int fit_blocks(const mpq_layer *l)
{
    const unsigned step = l->ncuts[0] ? l->cuts[0] : 0;
    if (step != 1 && (step % 2 || step == 0))
        return -1;
    for (unsigned g = 0; g < l->groups; g++) {
        const unsigned *cut = l->cuts + (size_t)g * l->depth, n = l->ncuts[g];
        if (!n || l->depth <= (n - 1) * step || l->depth > n * step || cut[n - 1] != l->depth)
            return -1;
        for (unsigned j = 0; j + 1 < n; j++)
            if (cut[j] != (j + 1) * step)
                return -1;
    }
    return step == 1 ? 0 : (int)(step / 2);
}

/* A tracked run that the tile kernels cannot take whole (order_free), without the prefix
 * analysis: when the fits fall on the checked kernels' block ends and fit(bias) changes no
 * channel, the lanes give the exact sum at every fit point, and with it each output's verdict
 * (run_verdict). Otherwise the exact kernels. 0 or MPQ_ENOMEM. */
static int plan_verdict(mpq_layer *l)
{
    const mpq_mac_plan *p = &l->plan;
    const int blk = fit_blocks(l);
    if (!(l->flags & MPQ_LAYER_TRACK) || blk < 0 || l->acc_bits > 31) /* 32: order_free */
        return MPQ_OK;
    const int64_t hi = (int64_t)((UINT64_MAX >> 1) >> (64 - l->acc_bits));
    for (unsigned c = 0; c < p->n; c++)
        if (p->bias[c] > hi || p->bias[c] < -hi - 1)
            return MPQ_OK;
    /* every term: the checked kernels' exact form; groups: the ends kernel */
    int st = plan_tiles(l, blk ? MPQ_TILES_ENDS : MPQ_TILES_CHECKED);
    if (st)
        return st < 0 ? st : MPQ_OK;
    l->blk = (unsigned)blk;
    l->path = PATH_VERDICT;
    return MPQ_OK;
}

/* The kernels the layer runs on (l->path), the exact ones unless faster ones give the same
 * results. 0 or MPQ_ENOMEM. */
static int plan_path(mpq_layer *l)
{
    l->path = PATH_EXACT;
    if (l->flags & MPQ_LAYER_EXACT)
        return MPQ_OK;
    int checked = (l->flags & MPQ_LAYER_PREFIX) != 0;
    if (!checked && !order_free(l, &l->widen))
        return plan_verdict(l);
    int st = plan_tiles(l, checked);
    if (st < 0)
        return st;
    if (st == 0)
        l->path = checked ? PATH_CHECK : PATH_TILE;
    if (checked && st == 0) {
        /* The exact kernels only follow single outputs now (mpq_mac_chan, mpq_mac_prefix). */
        mpq_mac_plan_untrack(&l->plan);
        /* 4-pair blocks first; shorter ones cost about what the exact form does. Depthwise
         * layers keep the exact form: its taps kernel reduces 16 channels per pass against
         * the bounded one's 8, and their short windows leave the bounds little to save
         * (measured: keyword_spotting 15% and visual_wake_words 9% faster per inference). */
        l->blk = l->tiles.blk_pairs >= 4 && !l->dw ? 4 : 0;
        l->calm_need = 1;
        l->probe_every = 16;
    }
    return MPQ_OK;
}

/* The arithmetic of a convolution or FC layer and the choice of kernel. */
static int plan_arith(mpq_layer *l, const mpq_layer_def *d, char *err, size_t errlen)
{
    const mpq_fc_layer *m = d->mac;
    if (!m) {
        snprintf(err, errlen, "layer has no arithmetic (weights, accumulator)");
        return MPQ_EPARAM;
    }
    if (m->order == MPQ_ORDER_GROUPED && m->group < 1) {
        snprintf(err, errlen, "grouped accumulation needs a group size >= 1");
        return MPQ_EPARAM;
    }
    if ((l->flags & MPQ_LAYER_PREFIX) && m->order != MPQ_ORDER_SEQ) {
        snprintf(err, errlen, "the prefix analysis follows the sequential order");
        return MPQ_EPARAM;
    }
    l->in_off = m->in_offset;
    l->acc_bits = m->acc_bits;
    l->sat = m->acc_mode == MPQ_ACC_SAT;
    int64_t a = mpq_abs64((int64_t)l->x_min + m->in_offset);
    int64_t b = mpq_abs64((int64_t)l->x_max + m->in_offset);
    int st = plan_mac(l, m, a > b ? a : b, err, errlen);
    if (st || (d->rq && (st = plan_rq(l, d->rq, err, errlen))))
        return st;
    if ((st = plan_path(l)) < 0 ||
        (l->path == PATH_EXACT && (st = mpq_mac_plan_lanes(&l->plan)) < 0)) {
        snprintf(err, errlen, "out of memory");
        return st;
    }
    return MPQ_OK;
}

int mpq_layer_init(mpq_layer **out, const mpq_layer_def *d, char *err, size_t errlen)
{
    *out = NULL;
    mpq_layer *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    l->flags = d->flags;
    l->x_min = d->x_min;
    l->x_max = d->x_max;
    int st = plan_shape(l, d, err, errlen);
    if (!st && l->path == PATH_POOL) {
        if (d->act_min > d->act_max) {
            snprintf(err, errlen, "act_min %d > act_max %d", d->act_min, d->act_max);
            st = MPQ_EPARAM;
        }
        l->act_min = d->act_min;
        l->act_max = d->act_max;
    } else if (!st) {
        st = plan_arith(l, d, err, errlen);
    }
    if (st) {
        mpq_layer_free(l);
        return st;
    }
    plan_scratch(l);
    *out = l;
    return MPQ_OK;
}

/* ---- input ---- */

/* x + offset of n int8 values into int16. */
static void widen8(const int8_t *src, int16_t *dst, size_t n, int16_t off)
{
    size_t i = 0;
#ifdef LAYER_SSE2
    const __m128i vo = _mm_set1_epi16(off), zero = _mm_setzero_si128();
    for (; i + 8 <= n; i += 8) {
        __m128i b = _mm_loadl_epi64((const __m128i *)(const void *)(src + i));
        __m128i w = _mm_unpacklo_epi8(b, _mm_cmpgt_epi8(zero, b)); /* sign-extended */
        _mm_storeu_si128((__m128i *)(void *)(dst + i), _mm_add_epi16(w, vo));
    }
#endif
    for (; i < n; i++)
        dst[i] = (int16_t)(src[i] + off);
}

/* x + offset of n int32 values into int16 (the plan's bound: every sum fits). */
static void widen32(const int32_t *src, int16_t *dst, size_t n, int32_t off)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (int16_t)(src[i] + off);
}

/* n values of pixel `at` of the input, plus the offset, into dst. */
static void widen_at(const run_ctx *c, size_t at, int16_t *dst, size_t n)
{
    if (c->x8)
        widen8(c->x8 + at, dst, n, (int16_t)c->l->in_off);
    else
        widen32(c->x + at, dst, n, c->l->in_off);
}

/* x + in_offset into the padded layout [batches][hp][wp][cstride]: depthwise, each input
 * channel repeated for its ch_mult output channels; zeros in the padding and past the
 * channels. */
static void pad_input(const run_ctx *c, int16_t *xp)
{
    const mpq_layer *l = c->l;
    const mpq_conv_shape *s = &l->s;
    const size_t prow = (size_t)l->wp * l->cstride;
    const unsigned mult = l->dw ? s->out_c / s->in_c : 1;
    for (unsigned b = 0; b < s->batches; b++)
        for (unsigned yp = 0; yp < l->hp; yp++) {
            int16_t *row = xp + ((size_t)b * l->hp + yp) * prow;
            if (yp < s->py || yp >= s->py + s->in_h) {
                memset(row, 0, prow * sizeof *row);
                continue;
            }
            memset(row, 0, (size_t)s->px * l->cstride * sizeof *row);
            size_t at = (((size_t)b * s->in_h + (yp - s->py)) * s->in_w) * s->in_c;
            int16_t *dst = row + (size_t)s->px * l->cstride;
            if (mult == 1 && l->cstride == s->in_c) {
                widen_at(c, at, dst, (size_t)s->in_w * s->in_c);
                dst += (size_t)s->in_w * s->in_c;
            } else {
                for (unsigned ix = 0; ix < s->in_w; ix++, at += s->in_c, dst += l->cstride) {
                    if (mult == 1) {
                        widen_at(c, at, dst, s->in_c);
                    } else {
                        for (unsigned ch = 0; ch < s->in_c; ch++) {
                            int16_t v = (int16_t)((c->x8 ? c->x8[at + ch] : c->x[at + ch]) + l->in_off);
                            for (unsigned j = 0; j < mult; j++)
                                dst[ch * mult + j] = v;
                        }
                    }
                    for (size_t o = (size_t)s->in_c * mult; o < l->cstride; o++)
                        dst[o] = 0;
                }
            }
            memset(dst, 0, (size_t)(l->wp - s->px - s->in_w) * l->cstride * sizeof *row);
        }
}

/* n int16 from src to dst; a short run as whole 8-value copies the compiler inlines (a call
 * to memcpy costs more than a few values): up to 7 values past each end are read and
 * written, which the padded input's and the rows' slack of 8 values allow, and a later copy
 * overwrites. */
static inline void copy16(int16_t *dst, const int16_t *src, size_t n)
{
    if (n > 64) {
        memcpy(dst, src, n * sizeof *dst);
        return;
    }
    for (size_t k = 0; k < n; k += 8)
        memcpy(dst + k, src + k, 8 * sizeof *dst);
}

/* im2col row of output pixel (b, oy, ox), group g, into r[rowlen], from the padded input:
 * window row by window row, one copy per row when the window is not dilated and the layer
 * has one group. */
static void im2col_row(const mpq_layer *l, const int16_t *xp, size_t pix, unsigned g, int16_t *r)
{
    const mpq_conv_shape *s = &l->s;
    const size_t ox = pix % s->out_w, oy = pix / s->out_w % s->out_h, b = pix / s->out_w / s->out_h;
    const size_t c = s->in_c, f = l->f, row = (size_t)s->kw * f;
    const int16_t *base = xp + ((b * l->hp + oy * s->sy) * l->wp + ox * s->sx) * c + (size_t)g * f;
    for (unsigned ky = 0; ky < s->kh; ky++, r += row) {
        const int16_t *src = base + (size_t)ky * s->dy * l->wp * c;
        if (s->dx == 1 && f == c)
            copy16(r, src, row);
        else
            for (unsigned kx = 0; kx < s->kw; kx++)
                copy16(r + (size_t)kx * f, src + (size_t)kx * s->dx * c, f);
    }
    if (l->rowlen > l->depth)
        r[0] = 0; /* r points past the last window row: the depth's even padding */
}

/* The int32 activations, for the exact kernels (int8 runs: widened once, on demand). */
static const int32_t *x32_of(run_ctx *c)
{
    if (c->x)
        return c->x;
    int32_t *x32 = SC(c, int32_t, c->l->sc_x32);
    if (!c->x32_ready) {
        for (size_t i = 0; i < c->l->nin; i++)
            x32[i] = c->x8[i];
        c->x32_ready = 1;
    }
    return x32;
}

/* The engine's row: the im2col patch of output pixel `pix` and group grp, 0 where the window
 * leaves the input. */
static void load_patch(run_ctx *c, size_t pix, unsigned grp)
{
    mpq_layer *l = c->l;
    if (c->patch_pix == (long)pix && c->patch_grp == (long)grp)
        return;
    /* The exact kernels of a whole layer read every patch: the input widened once; a few
     * patches (scans): each widened alone. */
    const int32_t *x = c->x ? c->x : l->path == PATH_EXACT ? x32_of(c) : NULL;
    const mpq_conv_shape *s = &l->s;
    const size_t ox = pix % s->out_w, oy = pix / s->out_w % s->out_h, b = pix / s->out_w / s->out_h;
    const unsigned ci0 = l->dw ? grp : grp * l->f;
    unsigned at = 0;
    for (unsigned ky = 0; ky < s->kh; ky++) {
        long iy = (long)oy * s->sy - (long)s->py + (long)ky * s->dy;
        for (unsigned kx = 0; kx < s->kw; kx++, at += l->f) {
            long ix = (long)ox * s->sx - (long)s->px + (long)kx * s->dx;
            int in = iy >= 0 && iy < (long)s->in_h && ix >= 0 && ix < (long)s->in_w;
            size_t px = ((b * s->in_h + (size_t)iy) * s->in_w + (size_t)ix) * s->in_c + ci0;
            const int32_t *src = NULL;
            if (in && x) {
                src = x + px;
            } else if (in) {
                for (unsigned j = 0; j < l->f; j++)
                    l->patch32[j] = c->x8[px + j];
                src = l->patch32;
            }
            mpq_mac_row_put(&l->plan, &l->row, at, src, l->f, l->in_off);
        }
    }
    mpq_mac_row_load(&l->plan, &l->row);
    c->patch_pix = (long)pix;
    c->patch_grp = (long)grp;
}

/* ---- the tile kernels over the whole layer ---- */

enum { TILE_PLAIN = -1 }; /* run_tiles: the tile kernels, not the checked ones */

/* acc[i] = lanes[i] sign-extended from its low sb (1..32) bits, i < n. */
static void lanes_to_acc(const int32_t *lanes, size_t n, unsigned sb, int64_t *acc)
{
    size_t i = 0;
#ifdef LAYER_SSE2
    const __m128i zero = _mm_setzero_si128(), sh = _mm_cvtsi32_si128(32 - (int)sb);
    for (; i + 4 <= n; i += 4) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(lanes + i));
        v = _mm_sra_epi32(_mm_sll_epi32(v, sh), sh);
        const __m128i sg = _mm_cmpgt_epi32(zero, v);
        _mm_storeu_si128((__m128i *)(void *)(acc + i), _mm_unpacklo_epi32(v, sg));
        _mm_storeu_si128((__m128i *)(void *)(acc + i + 2), _mm_unpackhi_epi32(v, sg));
    }
#endif
    for (; i < n; i++)
        acc[i] = mpq_sext((uint32_t)lanes[i], sb);
}

/* acc[i] = fit(bias[i % out_c] + S[i]) for the outputs of npix pixels from the tile kernels'
 * lanes s32, in the form l->widen allows (order_free): LANE, s32 = bias + S modulo 2^32. */
static void widen_acc(const mpq_layer *l, const int32_t *s32, size_t npix, int64_t *acc)
{
    const unsigned oc = l->s.out_c, bits = l->acc_bits;
    const size_t n = npix * oc;
    if (l->widen == WIDEN_LANE) {
        lanes_to_acc(s32, n, bits < 32 ? bits : 32, acc);
        return;
    }
    const int64_t *bias = l->plan.bias;
    for (size_t i = 0; i < n;) /* pixel by pixel: no division per output */
        for (unsigned ch = 0; ch < oc; ch++, i++) {
            int ignored = 0; /* order_free: no fit that matters */
            acc[i] = mpq_fit_acc(bias[ch] + s32[i], bits, 0, &ignored);
        }
}

/* The plain tile kernels' sums of pixels [p0, p0 + n) into the run's sink. */
static void tile_sink(const run_ctx *c, const int32_t *acc32, size_t p0, size_t n)
{
    const mpq_layer *l = c->l;
    const size_t at = p0 * l->s.out_c;
    if (c->sink_y8)
        mpq_requant_i8(&l->rq8, acc32 + at, n, l->s.out_c, c->sink_y8 + at);
    else if (c->sink_acc)
        widen_acc(l, acc32 + at, n, c->sink_acc + at);
}

/* acc32[pixel][out_c] from the tile kernels (blk TILE_PLAIN: from init, NULL meaning zeros)
 * or the checked ones (blk pairs per block, 0 the exact form: from the bias, with the prefix
 * ORs). The padded input is built unless `again` (a second pass over the same input). */
static void run_tiles(run_ctx *c, const int32_t *init, int blk, int again)
{
    const int checked = blk != TILE_PLAIN, nonneg = (int64_t)c->l->x_min + c->l->in_off >= 0;
    mpq_layer *l = c->l;
    const mpq_conv_shape *s = &l->s;
    const mpq_mac_tiles *t = &l->tiles;
    int16_t *xp = SC(c, int16_t, l->sc_xp);
    /* bounds only from the bounded checked form: the exact form's are its exact values, the
     * fit-point kernel writes none */
    int32_t *acc = SC(c, int32_t, l->sc_acc32), *qo = SC(c, int32_t, l->sc_qor),
            *mo = blk > 0 && l->path == PATH_CHECK ? SC(c, int32_t, l->sc_mor) : NULL;
    const size_t npix = (size_t)s->batches * s->out_h * s->out_w, oc = s->out_c;
    if (!again)
        pad_input(c, xp);
    if (l->dw) {
        const int16_t **bases = SC(c, const int16_t *, l->sc_bases);
        size_t ox = 0, oy = 0, b = 0; /* of pixel p0 + i, stepped without divisions */
        for (size_t p0 = 0; p0 < npix; p0 += CHUNK) {
            unsigned n = npix - p0 < CHUNK ? (unsigned)(npix - p0) : CHUNK;
            for (unsigned i = 0; i < n; i++) {
                bases[i] = xp + ((b * l->hp + oy * s->sy) * l->wp + ox * s->sx) * l->cstride;
                if (++ox == s->out_w) {
                    ox = 0;
                    if (++oy == s->out_h) {
                        oy = 0;
                        b++;
                    }
                }
            }
            if (checked) {
                mpq_mac_taps_check(t, bases, l->toff, n, (unsigned)blk, nonneg, acc + p0 * oc, qo + p0 * oc,
                                   mo ? mo + p0 * oc : NULL, oc);
            } else {
                mpq_mac_taps_run(t, bases, l->toff, n, init, acc + p0 * oc, oc);
                tile_sink(c, acc, p0, n);
            }
        }
        return;
    }
    int16_t *cols = l->direct ? NULL : SC(c, int16_t, l->sc_cols);
    for (unsigned g = 0; g < l->groups; g++)
        for (size_t p0 = 0; p0 < npix; p0 += CHUNK) {
            unsigned n = npix - p0 < CHUNK ? (unsigned)(npix - p0) : CHUNK;
            const int16_t *rows = l->direct ? xp + p0 * l->rowlen : cols;
            for (unsigned i = 0; !l->direct && i < n; i++)
                im2col_row(l, xp, p0 + i, g, cols + i * l->rowlen);
            const size_t at = p0 * oc + (size_t)g * l->per;
            if (checked && blk && l->path == PATH_VERDICT) {
                mpq_mac_tiles_ends(t, g, rows, l->rowlen, n, (unsigned)blk, UINT32_C(1) << (l->acc_bits - 1),
                                   acc + at, (uint32_t *)(void *)(qo + at), oc);
            } else if (checked) {
                mpq_mac_tiles_check(t, g, rows, l->rowlen, n, (unsigned)blk, nonneg, acc + at, qo + at,
                                    mo ? mo + at : NULL, oc);
            } else {
                mpq_mac_tiles_run(t, g, rows, l->rowlen, n, init, acc + at, oc);
                if (l->groups == 1)
                    tile_sink(c, acc, p0, n);
            }
        }
    if (!checked && l->groups > 1)
        tile_sink(c, acc, 0, npix);
}

/* y and y8 from the fitted accumulators (mpq_requant_one per output). */
static void requant_acc64(const mpq_layer *l, const int64_t *acc, mpq_layer_out *out)
{
    const unsigned oc = l->s.out_c;
    for (size_t i = 0; i < l->nout; i++) {
        int32_t v = mpq_requant_one(&l->rq, acc[i], (unsigned)(i % oc));
        if (out->y)
            out->y[i] = v;
        if (out->y8)
            out->y8[i] = (int8_t)v;
    }
}

static int rq_wraps32(const mpq_layer *l)
{
    return l->rq.kind == MPQ_RQ_DOUBLE || l->rq.kind == MPQ_RQ_SINGLE;
}

static void ovf_reset(mpq_layer_ovf *o)
{
    o->n_final = o->n_any = 0;
    o->first_out = o->first_term = -1;
    o->min_bits = 1;
    o->final_lo = INT64_MAX;
    o->final_hi = INT64_MIN;
}

static void run_tile(run_ctx *c, mpq_layer_out *out)
{
    mpq_layer *l = c->l;
    /* int8 outputs of TFLite's rounding alone: the bias rides in the lanes, the requantizer
     * wraps to 32 bits (narrower accumulators: to acc_bits) itself. */
    if (!out->acc && !out->y && out->y8 && l->has_rq8 && rq_wraps32(l)) {
        c->sink_y8 = out->y8;
        run_tiles(c, l->tiles.bias, TILE_PLAIN, 0);
    } else {
        int64_t *acc = out->acc ? out->acc : SC(c, int64_t, l->sc_acc64);
        c->sink_acc = acc;
        run_tiles(c, l->widen == WIDEN_LANE ? l->tiles.bias : NULL, TILE_PLAIN, 0);
        if (out->y || out->y8)
            requant_acc64(l, acc, out);
    }
    mpq_layer_ovf *o = out->ovf;
    if (o) { /* order_free with tracking: the bounds proved that nothing overflows */
        ovf_reset(o);
        if (o->flags)
            memset(o->flags, 0, l->nout);
        for (size_t i = 0; o->first && i < l->nout; i++)
            o->first[i] = -1;
    }
}

/* ---- the exact kernels ---- */

/* Notes one output of the exact kernels into the report. */
static void note_exact(mpq_layer_ovf *o, size_t i, mpq_mac_out r)
{
    if (mpq_mac_note(&o->n_final, &o->n_any, o->flags, o->first, i, r, o->first_out >= 0)) {
        o->first_out = (long)i;
        o->first_term = r.first;
    }
}

static void run_exact(run_ctx *c, mpq_layer_out *out)
{
    mpq_layer *l = c->l;
    const mpq_conv_shape *s = &l->s;
    mpq_layer_ovf *o = out->ovf;
    int64_t *acc = out->acc ? out->acc : SC(c, int64_t, l->sc_acc64);
    const int prefix = o && (l->flags & MPQ_LAYER_PREFIX);
    const int64_t hi = (int64_t)((UINT64_MAX >> 1) >> (64 - l->acc_bits)), lo = -hi - 1;
    uint64_t mags = 0;
    if (o)
        ovf_reset(o);
    const size_t npix = (size_t)s->batches * s->out_h * s->out_w;
    size_t i = 0;
    for (size_t pix = 0; pix < npix; pix++)
        for (unsigned grp = 0; grp < l->groups; grp++) {
            load_patch(c, pix, grp);
            const unsigned c0 = grp * l->per;
            mpq_mac_chans(&l->plan, &l->row, c0, c0 + l->per, l->cuts + (size_t)grp * l->depth,
                          l->ncuts[grp], l->outs);
            for (unsigned j = 0; j < l->per; j++, i++) {
                acc[i] = l->outs[j].acc;
                if (o)
                    note_exact(o, i, l->outs[j]);
                if (prefix) {
                    mpq_mac_prefix_out po;
                    mpq_mac_prefix(&l->plan, &l->row, c0 + j, lo, hi, &po);
                    mags |= po.mag_or;
                    o->final_lo = po.final < o->final_lo ? po.final : o->final_lo;
                    o->final_hi = po.final > o->final_hi ? po.final : o->final_hi;
                }
            }
        }
    if (prefix)
        o->min_bits = mpq_mac_width(mags);
    if (out->y || out->y8)
        requant_acc64(l, acc, out);
}

/* ---- the checked kernels: the overflow analysis ---- */

/* The 16-bit operands of output i's terms in order, from the padded input the checked
 * kernels read (it stays in the scratch through the run): the input pixels themselves
 * (direct), the im2col row, or a depthwise channel's taps; buf holds rowlen values. */
static const int16_t *row16_of(run_ctx *c, size_t i, int16_t *buf)
{
    const mpq_layer *l = c->l;
    const mpq_conv_shape *s = &l->s;
    const int16_t *xp = SC(c, int16_t, l->sc_xp);
    const size_t pix = i / s->out_c;
    const unsigned ch = (unsigned)(i % s->out_c);
    if (l->direct)
        return xp + pix * l->rowlen;
    if (!l->dw) {
        im2col_row(l, xp, pix, ch / l->per, buf);
        return buf;
    }
    const size_t ox = pix % s->out_w, oy = pix / s->out_w % s->out_h, b = pix / s->out_w / s->out_h;
    const int16_t *base = xp + ((b * l->hp + oy * s->sy) * l->wp + ox * s->sx) * l->cstride + ch;
    for (unsigned j = 0; j < l->depth; j++)
        buf[j] = base[l->toff[j]];
    return buf;
}

/* Output i followed term by term (mpq_mac_prefix16 on its 16-bit operands where it applies,
 * else mpq_mac_prefix on its patch). */
static void scan_one(run_ctx *c, size_t i, int64_t lo, int64_t hi, mpq_mac_prefix_out *po)
{
    mpq_layer *l = c->l;
    const unsigned oc = l->s.out_c, ch = (unsigned)(i % oc);
    int16_t *buf = SC(c, int16_t, l->sc_cols); /* the chunk's rows are spent by now */
    if (!mpq_mac_prefix16(&l->plan, row16_of(c, i, buf), l->plan.xmax, ch, lo, hi, po))
        return;
    load_patch(c, i / oc, ch / l->per);
    mpq_mac_prefix(&l->plan, &l->row, ch, lo, hi, po);
}

/* The checked kernels' verdicts over the layer: counts, the range of the final sums, the OR
 * of every exact prefix magnitude (q) and of every bound (m). One pass the compiler
 * vectorizes. */
typedef struct check_sum {
    size_t n_final, n_cert, n_undecided;
    int64_t flo, fhi;
    uint32_t qall, mall;
} check_sum;

/* One pass over the verdicts, written once and compiled twice: for the baseline and, where
 * the compiler can target it, for AVX2 (the same C; the vectorizer's wider lanes). */
#define CHECK_SUMMARY_BODY                                                                      \
    uint32_t n_final = 0, n_cert = 0, n_undecided = 0; /* outputs < 2^31 (mpq_conv_check) */ \
    int32_t flo = INT32_MAX, fhi = INT32_MIN;                                                   \
    uint32_t qall = 0, mall = 0;                                                                \
    for (size_t i = 0; i < l->nout; i++) {                                                      \
        const int32_t f = fin[i], mag = f ^ -(int32_t)(f < 0);                                  \
        flo = f < flo ? f : flo;                                                                \
        fhi = f > fhi ? f : fhi;                                                                \
        n_final += (uint32_t)(mag > hi);                                                        \
        n_cert += (uint32_t)(qo[i] > hi);                                                       \
        n_undecided += (uint32_t)((qo[i] <= hi) & (mo[i] > hi));                                \
        qall |= (uint32_t)qo[i];                                                                \
        mall |= (uint32_t)mo[i];                                                                \
    }                                                                                           \
    r->n_final = n_final;                                                                       \
    r->n_cert = n_cert;                                                                         \
    r->n_undecided = n_undecided;                                                               \
    r->flo = l->nout ? flo : 0;                                                                 \
    r->fhi = l->nout ? fhi : 0;                                                                 \
    r->qall = qall;                                                                             \
    r->mall = mall;

#if defined(LAYER_SSE2) && defined(__GNUC__) && defined(__x86_64__)
__attribute__((target("avx2"))) static void check_summary_avx2(const mpq_layer *l,
                                                               const int32_t *fin,
                                                               const int32_t *qo,
                                                               const int32_t *mo, int32_t hi,
                                                               check_sum *r)
{
    CHECK_SUMMARY_BODY
}
#define LAYER_AVX2 1
#endif

static void check_summary(const mpq_layer *l, const int32_t *fin, const int32_t *qo,
                          const int32_t *mo, int32_t hi, check_sum *r)
{
#ifdef LAYER_AVX2
    if (mpq_simd_level() == MPQ_SIMD_AVX2) {
        check_summary_avx2(l, fin, qo, mo, hi, r);
        return;
    }
#endif
    CHECK_SUMMARY_BODY
}

/* The narrowest accumulator of the layer: exact widths are known from every block boundary
 * (q) and from the outputs followed term by term (floor); an output whose bound (m) is wider
 * than the widest width known may still hold a wider prefix: followed term by term, the
 * widest bounds first, until no bound exceeds what is known (an output followed again costs
 * time, nothing else). */
static unsigned refine_width(run_ctx *c, const int32_t *mo, unsigned floor, uint32_t mall)
{
    mpq_layer *l = c->l;
    unsigned top = mpq_mac_width(mall), w = floor;
    for (unsigned b = top; b > w; b--) {
        const uint32_t lo = UINT32_C(1) << (b - 2); /* m of width b: in [2^(b-2), 2^(b-1)) */
        for (size_t i = 0; i < l->nout && b > w; i++) {
            if ((uint32_t)mo[i] < lo || (uint32_t)mo[i] >= 2 * lo)
                continue;
            mpq_mac_prefix_out po;
            scan_one(c, i, INT64_MIN, INT64_MAX, &po);
            unsigned wi = mpq_mac_width(po.mag_or);
            w = wi > w ? wi : w;
        }
    }
    return w;
}

/* Whether a bounded run at blk pairs per block left so many outputs undecided that the
 * exact form would have cost less: per output, the exact form's extra work over the pairs
 * against the scans of the undecided. Costs per 8-lane vector on the AVX2 kernels: a pair
 * 4 + 13/blk bounded, 11 instructions exact, counted 9 since the exact tile runs two rows at
 * a time with nothing spilled (measured on the models that miss their goal: 9 against 11
 * took image_classification's overflow run from 0.834 to 0.815 ms, vww and rps unchanged,
 * 8 slower on rps); a scan about 500 + 10 per term (the model the constants were fitted
 * with; prefix16 made scans cheaper, but a cheaper count measured slower). */
static int exact_cheaper(const mpq_layer *l, unsigned blk, size_t undecided)
{
    const double pairs = l->tiles.kpairs, extra = 9.0 - (4.0 + 13.0 / blk);
    return (double)undecided * (500.0 + 10.0 * l->depth) > (double)l->nout * pairs * extra / 8;
}

/* The checked kernels over the layer, with their form chosen for the next run: bounded
 * blocks (8 or 4 pairs) cost little per pair but leave the outputs near the range's edge
 * undecided, each then scanned term by term; the exact form costs more per pair and leaves
 * nothing. After a bounded run whose scans cost more than the exact form would have: 8 pairs
 * become 4, 4 become exact (more than 1 output in 4 undecided: checked again exactly at
 * once); scans at most 1/16 of that: 4 pairs become 8 after calm_need such runs in a row
 * (1 at first, doubled each time 8 pairs had to give way again, up to 1024: an input that
 * leaves one long output undecided at 8 pairs and none at 4 does not swing every run).
 * An exact run probes 4-pair blocks every 16 runs, keeping them when they would have been
 * cheaper; a probe that fails doubles the wait, up to 1024 runs (a layer that stays exact paid
 * a probe, a bounded run and an exact one, every 16). Not for depthwise layers (plan_path).
 * The results do not depend on any of it. */
static const int32_t *check_adaptive(run_ctx *c, const int32_t *fin, const int32_t *qo,
                                     int32_t hi, check_sum *sum)
{
    mpq_layer *l = c->l;
    const unsigned top = l->tiles.blk_pairs;
    const int32_t *mo = SC(c, int32_t, l->sc_mor);
    unsigned blk = l->blk;
    const int probe = !blk && top >= 4 && !l->dw && ++l->exact_runs >= l->probe_every;
    if (probe)
        blk = 4;
    run_tiles(c, NULL, (int)blk, 0);
    check_summary(l, fin, qo, blk ? mo : qo, hi, sum);
    if (!blk)
        return qo;
    const size_t und = sum->n_undecided;
    if (und > l->nout / 4) {
        run_tiles(c, NULL, 0, 1);
        check_summary(l, fin, qo, qo, hi, sum);
        mo = qo;
    }
    l->exact_runs = 0;
    if (probe) /* a probe that fails waits twice as long for the next */
        l->probe_every = !exact_cheaper(l, blk, und) ? 16 : l->probe_every < 1024 ? 2 * l->probe_every : 1024;
    if (exact_cheaper(l, blk, und)) {
        if (blk > 4 && l->calm_need < 1024)
            l->calm_need *= 2;
        l->blk = blk > 4 ? 4 : 0;
        l->calm = 0;
        return mo;
    }
    l->blk = blk;
    if (blk == 4 && 2 * blk <= top && !exact_cheaper(l, blk, 16 * und)) {
        if (++l->calm >= l->calm_need) {
            l->blk = 8;
            l->calm = 0;
        }
    } else {
        l->calm = 0;
    }
    return mo;
}

/* Whether output i is still open to the report: it may overflow (its bound leaves the
 * range) and is not certain to (want_cert: certain ones count too). */
#define OPEN(i) ((mo[i] > hi) & (want_cert | (qo[i] <= hi)))

/* Whether any of the 32 outputs at qo, mo is open (no branch: the compiler's vectors). */
static int any_open32(const int32_t *qo, const int32_t *mo, int32_t hi, int want_cert)
{
    int any = 0;
    for (unsigned i = 0; i < 32; i++)
        any |= OPEN(i);
    return any;
}

/* The first open output in [i, n), or n: blocks of 32 none of which is open skipped at once
 * (most outputs are closed: far inside the range, or certain when one certain output is
 * all the report needs). */
static size_t next_open(const int32_t *qo, const int32_t *mo, int32_t hi, size_t i, size_t n,
                        int want_cert)
{
    for (;;) {
        while (i + 32 <= n && !any_open32(qo + i, mo + i, hi, want_cert))
            i += 32;
        const size_t end = i + 32 < n ? i + 32 : n;
        for (; i < end; i++)
            if (OPEN(i))
                return i;
        if (i >= n)
            return n;
    }
}
#undef OPEN

/* The report and the outputs from the checked kernels: certain overflows (a block boundary's
 * exact prefix outside the range), impossible ones (every bound inside), the undecided
 * followed term by term, and the first one's term. */
static void run_check(run_ctx *c, mpq_layer_out *out)
{
    mpq_layer *l = c->l;
    mpq_layer_ovf *o = out->ovf;
    const unsigned oc = l->s.out_c, n = l->acc_bits;
    const int64_t hi64 = (int64_t)((UINT64_MAX >> 1) >> (64 - n)), lo64 = -hi64 - 1;
    const int32_t hi = hi64 > INT32_MAX ? INT32_MAX : (int32_t)hi64; /* lanes are int32 */
    const int32_t *fin = SC(c, int32_t, l->sc_acc32), *qo = SC(c, int32_t, l->sc_qor);
    uint8_t *mark = SC(c, uint8_t, l->sc_mark); /* per-output reports: overflowed */
    check_sum sum;
    const int32_t *mo = check_adaptive(c, fin, qo, hi, &sum);
    ovf_reset(o);
    o->n_final = sum.n_final;
    o->final_lo = sum.flo;
    o->final_hi = sum.fhi;
    const int per_output = o->flags || o->first || l->sat;
    unsigned floor = mpq_mac_width(sum.qall);
    if (per_output)
        memset(mark, 0, l->nout);
    size_t n_any = sum.n_cert;
    for (size_t i = 0; sum.n_cert || sum.n_undecided; i++) {
        const int want_cert = per_output || o->first_out < 0;
        if (!want_cert && !sum.n_undecided) /* nothing left to learn */
            break;
        if ((i = next_open(qo, mo, hi, i, l->nout, want_cert)) >= l->nout)
            break;
        const int cert = qo[i] > hi;
        /* Undecided, the first that overflows, or a report per output: followed exactly. */
        mpq_mac_prefix_out po = {0, 0, -2};
        if (!cert || o->first_out < 0 || o->first) {
            scan_one(c, i, lo64, hi64, &po);
            unsigned w = mpq_mac_width(po.mag_or);
            floor = w > floor ? w : floor;
            sum.n_undecided -= !cert;
        }
        int over = cert || po.exit != -2;
        n_any += !cert && over;
        if (!over)
            continue;
        if (per_output)
            mark[i] = 1;
        if (o->first_out < 0) {
            o->first_out = (long)i;
            o->first_term = po.exit;
        }
        if (o->first)
            o->first[i] = (int32_t)po.exit;
    }
    o->n_any = n_any;
    o->min_bits = refine_width(c, mo, floor, sum.mall);
    if (o->flags)
        for (size_t i = 0; i < l->nout; i++)
            o->flags[i] = (uint8_t)(((fin[i] < lo64 || fin[i] > hi64) ? MPQ_OVF_FINAL : 0) |
                                    (mark[i] ? MPQ_OVF_ANY : 0));
    if (o->first)
        for (size_t i = 0; i < l->nout; i++)
            if (!mark[i])
                o->first[i] = -1;
    /* The outputs: a wrapping accumulator holds the final sum modulo 2^acc_bits; a saturating
     * one the final sum unless it overflowed, then the exact kernels' sequential fits. */
    if (!out->acc && !out->y && out->y8 && l->has_rq8 && rq_wraps32(l) && !l->sat) {
        mpq_requant_i8(&l->rq8, fin, l->nout / oc, oc, out->y8);
        return;
    }
    int64_t *acc = out->acc ? out->acc : SC(c, int64_t, l->sc_acc64);
    for (size_t i = 0; i < l->nout; i++) {
        int ignored = 0;
        acc[i] = mpq_fit_acc(fin[i], n, 0, &ignored);
        if (l->sat && mark[i]) {
            const unsigned ch = (unsigned)(i % oc), grp = ch / l->per;
            load_patch(c, i / oc, grp);
            acc[i] = mpq_mac_chan(&l->plan, &l->row, ch, l->cuts + (size_t)grp * l->depth,
                                  l->ncuts[grp]).acc;
        }
    }
    if (out->y || out->y8)
        requant_acc64(l, acc, out);
}

/* The first i in [start, n) with u[i] >= 2^bits (bits < 32), or n: blocks of 32 skipped at
 * once when none is (a loop the compiler vectorizes). */
static size_t next_over(const uint32_t *u, unsigned bits, size_t i, size_t n)
{
    for (;;) {
        for (; i + 32 <= n; i += 32) {
            uint32_t any = 0;
            for (unsigned j = 0; j < 32; j++)
                any |= u[i + j] >> bits;
            if (any)
                break;
        }
        const size_t end = i + 32 < n ? i + 32 : n;
        for (; i < end; i++)
            if (u[i] >> bits)
                return i;
        if (i >= n)
            return n;
    }
}

/* PATH_VERDICT: the fit-point kernel (blocks ending at the fit points, mpq_mac_tiles_ends) or
 * the checked kernels' exact form (a fit after every term), so q covers every fit's exact sum:
 * an output whose q lies in the range overflowed nowhere and its accumulator is the exact sum;
 * the others go through the exact kernel, which gives their values and reports as a run on
 * the exact kernels would. */
static void run_verdict(run_ctx *c, mpq_layer_out *out)
{
    mpq_layer *l = c->l;
    mpq_layer_ovf *o = out->ovf;
    const unsigned oc = l->s.out_c;
    const int32_t hi = (int32_t)((UINT32_MAX >> 1) >> (32 - l->acc_bits));
    run_tiles(c, NULL, (int)l->blk, 0);
    const int32_t *fin = SC(c, int32_t, l->sc_acc32), *qo = SC(c, int32_t, l->sc_qor);
    int64_t *acc = out->acc ? out->acc : SC(c, int64_t, l->sc_acc64);
    ovf_reset(o);
    if (o->flags)
        memset(o->flags, 0, l->nout);
    if (o->first) /* -1 in every byte is -1 */
        memset(o->first, 0xff, l->nout * sizeof *o->first);
    lanes_to_acc(fin, l->nout, 32, acc); /* exact sums */
    /* out of range: blocks, q + 2^(acc_bits-1) at or past 2^acc_bits (mpq_mac_tiles_ends);
     * the exact form, a magnitude above hi (qo as its own bound) */
    const uint32_t *qu = (const uint32_t *)(const void *)qo;
    for (size_t i = 0; (i = l->blk ? next_over(qu, l->acc_bits, i, l->nout)
                                   : next_open(qo, qo, hi, i, l->nout, 1)) < l->nout; i++) {
        const unsigned ch = (unsigned)(i % oc), grp = ch / l->per;
        load_patch(c, i / oc, grp);
        const mpq_mac_out r = mpq_mac_chan(&l->plan, &l->row, ch, l->cuts + (size_t)grp * l->depth,
                                           l->ncuts[grp]);
        acc[i] = r.acc;
        note_exact(o, i, r);
    }
    if (out->y || out->y8)
        requant_acc64(l, acc, out);
}

/* ---- pools ---- */

/* The window rows [*lo, *hi) of output row o that lie inside the input. */
static void window(unsigned o, unsigned stride, unsigned pad, unsigned k, unsigned in,
                   unsigned *lo, unsigned *hi)
{
    long start = (long)o * stride - (long)pad, end = start + (long)k;
    *lo = start < 0 ? 0 : (unsigned)start;
    *hi = end > (long)in ? in : (unsigned)end;
}

/* Average or max over the window positions inside the input (TFLite's rounding of the
 * average: half away from zero, C division truncates), clamped; int8 or int32 activations. */
#define DEFINE_POOL(NAME, SRC_T)                                                                \
    static void NAME(const mpq_layer *l, const SRC_T *x, int64_t *sum, int32_t *v,              \
                     mpq_layer_out *out)                                                        \
    {                                                                                           \
        const mpq_conv_shape *s = &l->s;                                                        \
        const unsigned ch = s->in_c;                                                            \
        const int avg = s->kind == MPQ_LAYER_AVGPOOL;                                           \
        for (unsigned b = 0; b < s->batches; b++)                                               \
            for (unsigned oy = 0; oy < s->out_h; oy++)                                          \
                for (unsigned ox = 0; ox < s->out_w; ox++) {                                    \
                    unsigned y0, y1, x0, x1;                                                    \
                    window(oy, s->sy, s->py, s->kh, s->in_h, &y0, &y1);                         \
                    window(ox, s->sx, s->px, s->kw, s->in_w, &x0, &x1);                         \
                    const int64_t count = (int64_t)(y1 - y0) * (x1 - x0);                       \
                    for (unsigned c = 0; c < ch; c++)                                           \
                        sum[c] = avg ? 0 : INT64_MIN;                                           \
                    for (unsigned iy = y0; iy < y1; iy++)                                       \
                        for (unsigned ix = x0; ix < x1; ix++) {                                 \
                            const SRC_T *src = x + (((size_t)b * s->in_h + iy) * s->in_w + ix) * ch; \
                            if (avg)                                                            \
                                for (unsigned c = 0; c < ch; c++)                               \
                                    sum[c] += src[c];                                           \
                            else                                                                \
                                for (unsigned c = 0; c < ch; c++)                               \
                                    sum[c] = src[c] > sum[c] ? src[c] : sum[c];                 \
                        }                                                                       \
                    for (unsigned c = 0; c < ch; c++) {                                         \
                        int64_t a = sum[c];                                                     \
                        if (avg)                                                                \
                            a = (a > 0 ? a + count / 2 : a - count / 2) / count;                \
                        v[c] = (int32_t)(a < l->act_min ? l->act_min : a > l->act_max ? l->act_max : a); \
                    }                                                                           \
                    const size_t at = (((size_t)b * s->out_h + oy) * s->out_w + ox) * ch;       \
                    if (out->y)                                                                 \
                        memcpy(out->y + at, v, ch * sizeof *v);                                 \
                    for (unsigned c = 0; out->y8 && c < ch; c++)                                \
                        out->y8[at + c] = (int8_t)v[c];                                         \
                }                                                                               \
    }
DEFINE_POOL(pool32, int32_t)
DEFINE_POOL(pool8, int8_t)

#ifdef LAYER_SSE2
/* pool8 for windows of at most 256 positions, the same results, 8 channels per vector: the
 * sums in 16 bits (|sum| <= 128 * 256), the average's rounding division in floats: n =
 * sum +- count/2 is exact there, and the correctly rounded quotient truncates to the integer
 * quotient (|n / count| < 256 leaves a rounding error below 2^-16, and a quotient that is not
 * an integer lies at least 1/count >= 2^-8 from one). The channels past the last multiple of
 * 8 take the plain loop. */
static void pool8_sse2(const mpq_layer *l, const int8_t *x, mpq_layer_out *out)
{
    const mpq_conv_shape *s = &l->s;
    const unsigned ch = s->in_c, cv = ch & ~7u;
    const int avg = s->kind == MPQ_LAYER_AVGPOOL;
    const int32_t amin = l->act_min, amax = l->act_max;
    const __m128i vmin = _mm_set1_epi16((int16_t)amin), vmax = _mm_set1_epi16((int16_t)amax);
    const __m128i zero = _mm_setzero_si128();
    for (unsigned b = 0; b < s->batches; b++)
        for (unsigned oy = 0; oy < s->out_h; oy++)
            for (unsigned ox = 0; ox < s->out_w; ox++) {
                unsigned y0, y1, x0, x1;
                window(oy, s->sy, s->py, s->kh, s->in_h, &y0, &y1);
                window(ox, s->sx, s->px, s->kw, s->in_w, &x0, &x1);
                const int32_t count = (int32_t)((y1 - y0) * (x1 - x0)), half = count / 2;
                const __m128 d = _mm_set1_ps((float)count);
                const __m128i h = _mm_set1_epi32(half);
                const size_t at = (((size_t)b * s->out_h + oy) * s->out_w + ox) * ch;
                const int8_t *px0 = x + (((size_t)b * s->in_h + y0) * s->in_w + x0) * ch;
                for (unsigned c = 0; c < cv; c += 8) {
                    __m128i a = avg ? zero : _mm_set1_epi16(INT8_MIN);
                    for (unsigned iy = y0; iy < y1; iy++)
                        for (unsigned ix = x0; ix < x1; ix++) {
                            const int8_t *src = px0 + ((size_t)(iy - y0) * s->in_w + (ix - x0)) * ch + c;
                            __m128i v8 = _mm_loadl_epi64((const __m128i *)(const void *)src);
                            __m128i v = _mm_srai_epi16(_mm_unpacklo_epi8(v8, v8), 8);
                            a = avg ? _mm_add_epi16(a, v) : _mm_max_epi16(a, v);
                        }
                    if (avg) {
                        const __m128i sg = _mm_srai_epi16(a, 15);
                        __m128i lo = _mm_unpacklo_epi16(a, sg), hi = _mm_unpackhi_epi16(a, sg);
                        /* n = a + half or a - half: half with the sign of a */
                        lo = _mm_add_epi32(lo, _mm_sub_epi32(_mm_xor_si128(h, _mm_srai_epi32(lo, 31)), _mm_srai_epi32(lo, 31)));
                        hi = _mm_add_epi32(hi, _mm_sub_epi32(_mm_xor_si128(h, _mm_srai_epi32(hi, 31)), _mm_srai_epi32(hi, 31)));
                        lo = _mm_cvttps_epi32(_mm_div_ps(_mm_cvtepi32_ps(lo), d));
                        hi = _mm_cvttps_epi32(_mm_div_ps(_mm_cvtepi32_ps(hi), d));
                        a = _mm_packs_epi32(lo, hi);
                    }
                    a = _mm_min_epi16(_mm_max_epi16(a, vmin), vmax);
                    if (out->y) {
                        const __m128i sg = _mm_srai_epi16(a, 15);
                        _mm_storeu_si128((__m128i *)(void *)(out->y + at + c), _mm_unpacklo_epi16(a, sg));
                        _mm_storeu_si128((__m128i *)(void *)(out->y + at + c + 4), _mm_unpackhi_epi16(a, sg));
                    }
                    if (out->y8)
                        _mm_storel_epi64((__m128i *)(void *)(out->y8 + at + c), _mm_packs_epi16(a, a));
                }
                for (unsigned c = cv; c < ch; c++) {
                    int32_t a = avg ? 0 : INT8_MIN;
                    for (unsigned iy = y0; iy < y1; iy++)
                        for (unsigned ix = x0; ix < x1; ix++) {
                            const int32_t v = px0[((size_t)(iy - y0) * s->in_w + (ix - x0)) * ch + c];
                            a = avg ? a + v : v > a ? v : a;
                        }
                    if (avg)
                        a = (a > 0 ? a + half : a - half) / count;
                    a = a < amin ? amin : a > amax ? amax : a;
                    if (out->y)
                        out->y[at + c] = a;
                    if (out->y8)
                        out->y8[at + c] = (int8_t)a;
                }
            }
}
#endif

/* ---- run ---- */

static int run_check_args(const mpq_layer *l, const int32_t *x, const int8_t *x8,
                          const mpq_layer_out *out, char *err, size_t errlen)
{
    if (!x == !x8) {
        snprintf(err, errlen, "give the activations as int32 or as int8, one of them");
        return MPQ_EPARAM;
    }
    if (x8 && !(l->flags & MPQ_LAYER_INT8)) {
        snprintf(err, errlen, "int8 activations for a layer planned for int32 ones");
        return MPQ_EPARAM;
    }
    if (l->path == PATH_POOL) {
        if (out->y8 && (l->act_min < INT8_MIN || l->act_max > INT8_MAX)) {
            snprintf(err, errlen, "int8 outputs of a pool clamped to [%d, %d]", l->act_min, l->act_max);
            return MPQ_EPARAM;
        }
        return MPQ_OK;
    }
    if ((out->y || out->y8) && !l->has_rq) {
        snprintf(err, errlen, "requantized outputs of a layer planned without requantization");
        return MPQ_EPARAM;
    }
    if (out->y8 && (l->rq.act_min < INT8_MIN || l->rq.act_max > INT8_MAX)) {
        snprintf(err, errlen, "int8 outputs of a layer clamped to [%d, %d]", l->rq.act_min,
                 l->rq.act_max);
        return MPQ_EPARAM;
    }
    if (out->ovf && !(l->flags & MPQ_LAYER_TRACK)) {
        snprintf(err, errlen, "overflow reports of a layer planned without tracking");
        return MPQ_EPARAM;
    }
    /* the range in one vectorized pass (RANGED: the caller's), the culprit only when it fails */
    int32_t lo = l->x_min, hi = l->x_max;
    if (x && l->nin && !(l->flags & MPQ_LAYER_RANGED))
        mpq_min_max32(x, l->nin, &lo, &hi);
    for (size_t i = 0; x && l->nin && (lo < l->x_min || hi > l->x_max) && i < l->nin; i++)
        if (x[i] < l->x_min || x[i] > l->x_max) {
            snprintf(err, errlen, "activation x[%zu] = %d outside the planned range [%d, %d]", i,
                     x[i], l->x_min, l->x_max);
            return MPQ_EPARAM;
        }
    return MPQ_OK;
}

int mpq_layer_run(mpq_layer *l, const int32_t *x, const int8_t *x8, mpq_layer_out *out,
                  void *scratch, char *err, size_t errlen)
{
    int st = run_check_args(l, x, x8, out, err, errlen);
    if (st)
        return st;
    void *own = NULL;
    if (!scratch && !(scratch = own = aligned_alloc(16, l->sc_bytes + 16))) {
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    run_ctx c = {.l = l, .x = x, .x8 = x8, .sc = scratch, .patch_pix = -1, .patch_grp = -1};
    switch (l->path) {
    case PATH_POOL: {
        int64_t *sum = SC(&c, int64_t, l->sc_pool);
        int32_t *v = (int32_t *)(void *)(sum + l->s.in_c);
#ifdef LAYER_SSE2
        if (x8 && (uint64_t)l->s.kh * l->s.kw <= 256 && l->act_min >= INT16_MIN &&
            l->act_max <= INT16_MAX)
            pool8_sse2(l, x8, out);
        else
#endif
        if (x8)
            pool8(l, x8, sum, v, out);
        else
            pool32(l, x, sum, v, out);
        break;
    }
    case PATH_TILE:
        run_tile(&c, out);
        break;
    case PATH_VERDICT: {
        mpq_layer_ovf none = {0}; /* no report asked for: the same accumulators */
        mpq_layer_out o = *out;
        o.ovf = out->ovf ? out->ovf : &none;
        run_verdict(&c, &o);
        break;
    }
    case PATH_CHECK:
        if (out->ovf) {
            run_check(&c, out);
            break;
        }
        /* no report asked for: the exact kernels give the outputs */
        /* fall through */
    case PATH_EXACT:
    default:
        run_exact(&c, out);
        break;
    }
    free(own);
    return MPQ_OK;
}
