/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_hwlayer.c: one mixed-precision layer in the accelerator's terms: allocation, contract
 * checks, expected outputs from the functional model (mpq_fc), deterministic random layers.
 */
#include <math.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"
#include "stim/mpq_hwlayer.h"
#include "arith/mpq_rng.h"

/* The 1x1 view of a fully-connected layer: one image of m rows, 1 column, k channels. */
static void fc_shape(unsigned m, unsigned k, unsigned n, mpq_conv_shape *s)
{
    memset(s, 0, sizeof *s);
    s->kind = MPQ_LAYER_FC;
    s->batches = 1;
    s->in_h = s->out_h = m;
    s->in_w = s->out_w = 1;
    s->in_c = k;
    s->out_c = n;
    s->kh = s->kw = s->sy = s->sx = s->dy = s->dx = s->groups = 1;
}

static int alloc_arrays(mpq_hw_layer *l, size_t nx, size_t nw)
{
    unsigned n = l->n;
    l->x = calloc(nx, sizeof *l->x);
    l->t = calloc(nw, sizeof *l->t);
    l->hp = calloc(nw, sizeof *l->hp);
    l->alpha = calloc(n, sizeof *l->alpha);
    l->bias = calloc(n, sizeof *l->bias);
    l->mult = calloc(n, sizeof *l->mult);
    l->shift = calloc(n, sizeof *l->shift);
    if (!l->x || !l->t || !l->hp || !l->alpha || !l->bias || !l->mult || !l->shift) {
        mpq_hw_layer_free(l);
        return MPQ_ENOMEM;
    }
    return 0;
}

int mpq_hw_layer_alloc(mpq_hw_layer *l, unsigned m, unsigned k, unsigned n)
{
    memset(l, 0, sizeof *l);
    if (m == 0 || k == 0 || n == 0)
        return MPQ_EPARAM;
    l->m = m;
    l->k = k;
    l->n = n;
    fc_shape(m, k, n, &l->s);
    return alloc_arrays(l, (size_t)m * k, (size_t)n * k);
}

void mpq_hw_layer_of_conv(mpq_hw_layer *l, const mpq_conv_shape *s)
{
    memset(l, 0, sizeof *l);
    l->s = *s;
    if (l->s.groups == 0)
        l->s.groups = 1;
    l->m = s->batches * s->out_h * s->out_w;
    l->k = mpq_conv_depth(&l->s);
    l->n = s->out_c;
}

void mpq_hw_packed_shape(const mpq_conv_shape *s, mpq_conv_shape *p)
{
    memset(p, 0, sizeof *p);
    p->kind = MPQ_LAYER_CONV2D;
    p->batches = s->batches;
    p->in_h = p->out_h = s->out_h;
    p->in_w = p->out_w = s->out_w;
    p->in_c = s->kh * s->kw * s->in_c;
    p->out_c = s->out_c;
    p->kh = p->kw = p->sy = p->sx = p->dy = p->dx = p->groups = 1;
}

void mpq_layer_opts_shape(mpq_layer_opts *o, const mpq_conv_shape *s, unsigned m, unsigned k, unsigned n)
{
    memset(o, 0, sizeof *o);
    if (s->kind == MPQ_LAYER_CONV2D || s->kind == MPQ_LAYER_DEPTHWISE) {
        o->shape = *s;
        return;
    }
    o->shape.kind = MPQ_LAYER_FC;
    o->m = m;
    o->k = k;
    o->n = n;
}

void mpq_hw_dw_packed_shape(const mpq_hwcfg *hw, const mpq_conv_shape *s, unsigned *opg, unsigned *nci,
                            unsigned *fp, mpq_conv_shape *p)
{
    unsigned cm = s->out_c / s->in_c, g_opg = 1, n = 0;
    for (unsigned d = hw->lanes < s->out_c ? hw->lanes : s->out_c; d > 1 && g_opg == 1; d--)
        if (s->out_c % d == 0)
            g_opg = d;
    for (unsigned g = 0; g < s->out_c / g_opg; g++) {
        unsigned ci0 = g * g_opg / cm, c = ((g + 1) * g_opg - 1) / cm - ci0 + 1;
        n = c > n ? c : n;
    }
    *opg = g_opg;
    *nci = n;
    *fp = (s->kh * s->kw * n + hw->klanes - 1) / hw->klanes * hw->klanes;
    memset(p, 0, sizeof *p);
    p->kind = MPQ_LAYER_CONV2D;
    p->batches = s->batches;
    p->in_h = p->out_h = s->out_h;
    p->in_w = p->out_w = s->out_w;
    p->groups = s->out_c / g_opg;
    p->in_c = p->groups * *fp;
    p->out_c = s->out_c;
    p->kh = p->kw = p->sy = p->sx = p->dy = p->dx = 1;
}

int mpq_hw_layer_alloc_conv(mpq_hw_layer *l, const mpq_conv_shape *s, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    if (s->kind != MPQ_LAYER_CONV2D && s->kind != MPQ_LAYER_DEPTHWISE) {
        snprintf(err, errlen, "a %s layer does not run on the accelerator (conv2d, depthwise, fc)",
                 mpq_layer_name(s->kind));
        return MPQ_EPARAM;
    }
    if (mpq_conv_check(s, err, errlen) != 0)
        return MPQ_EPARAM;
    mpq_hw_layer_of_conv(l, s);
    int rc = alloc_arrays(l, mpq_conv_in_count(&l->s), mpq_conv_w_count(&l->s));
    if (rc != 0)
        snprintf(err, errlen, "out of memory for a %ux%ux%u input", s->in_h, s->in_w, s->in_c);
    return rc;
}

int mpq_hw_layer_shape(const mpq_layer_opts *o, mpq_hw_layer *l, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    if (o->shape.kind == MPQ_LAYER_CONV2D || o->shape.kind == MPQ_LAYER_DEPTHWISE) {
        if (mpq_conv_check(&o->shape, err, errlen) != 0)
            return MPQ_EPARAM;
        l->s = o->shape;
        if (l->s.groups == 0)
            l->s.groups = 1;
        l->m = l->s.batches * l->s.out_h * l->s.out_w;
        l->k = mpq_conv_depth(&l->s);
        l->n = l->s.out_c;
        return 0;
    }
    if (o->shape.kind != MPQ_LAYER_FC) {
        snprintf(err, errlen, "a %s layer does not run on the accelerator (conv2d, depthwise, fc)",
                 mpq_layer_name(o->shape.kind));
        return MPQ_EPARAM;
    }
    if (o->m == 0 || o->k == 0 || o->n == 0) {
        snprintf(err, errlen, "shape m=%u k=%u n=%u has a zero dimension", o->m, o->k, o->n);
        return MPQ_EPARAM;
    }
    l->m = o->m;
    l->k = o->k;
    l->n = o->n;
    fc_shape(o->m, o->k, o->n, &l->s);
    return 0;
}

void mpq_hw_layer_free(mpq_hw_layer *l)
{
    free(l->x);
    free(l->t);
    free(l->hp);
    free(l->alpha);
    free(l->bias);
    free(l->mult);
    free(l->shift);
    memset(l, 0, sizeof *l);
}

unsigned mpq_hw_layer_group_size(const mpq_hw_layer *l)
{
    switch (l->s.kind) {
    case MPQ_LAYER_CONV2D:
        return l->s.in_c / l->s.groups;
    case MPQ_LAYER_DEPTHWISE:
        return 1;
    case MPQ_LAYER_FC:
    case MPQ_LAYER_AVGPOOL:
    case MPQ_LAYER_MAXPOOL:
    case MPQ_LAYER_COUNT:
        break;
    }
    return l->k;
}

unsigned mpq_hw_layer_group_base(const mpq_hw_layer *l, unsigned o)
{
    if (l->s.kind == MPQ_LAYER_CONV2D)
        return o / (l->s.out_c / l->s.groups) * (l->s.in_c / l->s.groups);
    if (l->s.kind == MPQ_LAYER_DEPTHWISE)
        return o / (l->s.out_c / l->s.in_c);
    return 0;
}

size_t mpq_hw_layer_widx(const mpq_hw_layer *l, unsigned o, unsigned tap, unsigned c)
{
    if (l->s.kind == MPQ_LAYER_DEPTHWISE)
        return (size_t)tap * l->s.out_c + o;
    unsigned f = mpq_hw_layer_group_size(l);
    return ((size_t)o * l->s.kh * l->s.kw + tap) * f + c;
}

static int in_signed(int64_t v, unsigned bits)
{
    int64_t lim = (int64_t)1 << (bits - 1);
    return v >= -lim && v < lim;
}

unsigned mpq_hw_layer_tiles(const mpq_hwcfg *hw, const mpq_hw_layer *l)
{
    return (l->n + hw->lanes - 1) / hw->lanes;
}

void mpq_hw_layer_tile(const mpq_hwcfg *hw, const mpq_hw_layer *l, unsigned t, mpq_hw_tile *tile)
{
    /* The input channels the tile's output channels read: the union of their groups. */
    unsigned lo = UINT32_MAX, hi = 0, f = mpq_hw_layer_group_size(l);
    for (unsigned o = t * hw->lanes; o < (t + 1) * hw->lanes && o < l->n; o++) {
        unsigned g0 = mpq_hw_layer_group_base(l, o);
        if (g0 < lo)
            lo = g0;
        if (g0 + f > hi)
            hi = g0 + f;
    }
    tile->cs0 = lo / hw->klanes;
    tile->n_slices = (hi + hw->klanes - 1) / hw->klanes - tile->cs0;
    unsigned avail = l->s.in_c - tile->cs0 * hw->klanes;
    tile->c_len = avail < tile->n_slices * hw->klanes ? avail : tile->n_slices * hw->klanes;
    tile->wgt_beats = (uint64_t)l->s.kh * l->s.kw * tile->n_slices;
    tile->act_beats = (uint64_t)l->s.batches * l->s.in_h * l->s.in_w * tile->n_slices;
}

/* The configuration beat of tile `tile`, each value checked to fit its field first. */
static int tile_cfg_beat(const mpq_hwcfg *hw, const mpq_hw_layer *l, unsigned tile, uint32_t *beat,
                         char *err, size_t errlen)
{
    memset(beat, 0, MPQ_WORDS(mpq_hw_cfg_w(hw)) * sizeof beat[0]);
    mpq_hw_tile tp;
    mpq_hw_layer_tile(hw, l, tile, &tp);
    const mpq_conv_shape *s = &l->s;
    const struct {
        mpq_cfg_field f;
        int64_t v;
    } tilev[] = {
        {MPQ_CFG_C_LEN, tp.c_len}, {MPQ_CFG_IN_H, s->in_h}, {MPQ_CFG_IN_W, s->in_w},
        {MPQ_CFG_BATCHES, s->batches}, {MPQ_CFG_OUT_H, s->out_h}, {MPQ_CFG_OUT_W, s->out_w},
        {MPQ_CFG_KH, s->kh}, {MPQ_CFG_KW, s->kw}, {MPQ_CFG_SY, s->sy}, {MPQ_CFG_SX, s->sx},
        {MPQ_CFG_DY, s->dy}, {MPQ_CFG_DX, s->dx}, {MPQ_CFG_PY, s->py}, {MPQ_CFG_PX, s->px},
        {MPQ_CFG_ACC_SAT, l->acc_sat != 0}, {MPQ_CFG_IN_OFFSET, l->in_offset},
        {MPQ_CFG_OUT_OFFSET, l->out_offset}, {MPQ_CFG_ACT_MIN, l->act_min},
        {MPQ_CFG_ACT_MAX, l->act_max},
    };
    for (size_t i = 0; i < sizeof tilev / sizeof tilev[0]; i++) {
        if (!mpq_cfg_fits(tilev[i].f, tilev[i].v)) {
            snprintf(err, errlen, "%s = %lld does not fit its %u-bit field of the configuration beat",
                     mpq_cfg_fields[tilev[i].f].name, (long long)tilev[i].v,
                     mpq_cfg_fields[tilev[i].f].width);
            return MPQ_EPARAM;
        }
        mpq_cfg_put(beat, tilev[i].f, 0, tilev[i].v);
    }
    for (unsigned ln = 0; ln < hw->lanes; ln++) {
        unsigned c = tile * hw->lanes + ln;
        if (c >= l->n || !l->bias)
            continue; /* padding lane, or a shape without arrays: zero parameters */
        const struct {
            mpq_cfg_field f;
            int64_t v;
        } lanev[] = {
            {MPQ_CFG_BIAS, l->bias[c]}, {MPQ_CFG_MULT, l->mult[c]},
            {MPQ_CFG_ALPHA, l->alpha[c]}, {MPQ_CFG_SHIFT, l->shift[c]},
        };
        for (size_t i = 0; i < sizeof lanev / sizeof lanev[0]; i++) {
            if (!mpq_cfg_fits(lanev[i].f, lanev[i].v)) {
                snprintf(err, errlen, "%s[%u] = %lld does not fit its %u-bit field of the "
                         "configuration beat", mpq_cfg_fields[lanev[i].f].name, c,
                         (long long)lanev[i].v, mpq_cfg_fields[lanev[i].f].width);
                return MPQ_EPARAM;
            }
            mpq_cfg_put(beat, lanev[i].f, ln, lanev[i].v);
        }
    }
    return 0;
}

void mpq_hw_layer_cfg_beat(const mpq_hwcfg *hw, const mpq_hw_layer *l, unsigned tile, uint32_t *beat)
{
    char err[200];
    (void)tile_cfg_beat(hw, l, tile, beat, err, sizeof err); /* checked by mpq_hw_layer_check */
}

int mpq_hw_layer_check(const mpq_hwcfg *hw, const mpq_hw_layer *l, char *err, size_t errlen)
{
    if (l->s.kind == MPQ_LAYER_FC) {
        if (l->m < 1 || l->m > 65535) {
            snprintf(err, errlen, "m = %u rows is outside 1..65535", l->m);
            return MPQ_EPARAM;
        }
        if (l->k < 1 || l->k > hw->kmax) {
            snprintf(err, errlen, "k = %u is outside 1..KMax = %u", l->k, hw->kmax);
            return MPQ_EPARAM;
        }
        if (l->n < 1) {
            snprintf(err, errlen, "n = 0 output channels");
            return MPQ_EPARAM;
        }
    } else if (mpq_conv_check(&l->s, err, errlen) != 0) {
        return MPQ_EPARAM;
    }
    /* Every per-tile and per-channel value, as the configuration beats carry them; the tile
     * rules say whether the weights fit the weight buffer and the windows the ring. */
    uint32_t beat[MPQ_PORT_WORDS_MAX];
    char why[256];
    for (unsigned tile = 0; tile * hw->lanes < l->n; tile++) {
        if (tile_cfg_beat(hw, l, tile, beat, err, errlen) != 0)
            return MPQ_EPARAM;
        if (mpq_cfg_check(hw, beat, why, sizeof why) != 0) {
            snprintf(err, errlen, "tile %u (channels %u..%u): %s; this configuration has KMax = %u "
                     "(%u weight slices) and ActDepth = %u", tile, tile * hw->lanes,
                     (tile + 1) * hw->lanes - 1, why, hw->kmax, hw->kmax / hw->klanes, hw->act_depth);
            return MPQ_EPARAM;
        }
    }
    size_t nx = l->s.kind == MPQ_LAYER_FC ? (size_t)l->m * l->k : mpq_conv_in_count(&l->s);
    for (size_t i = 0; i < nx; i++) {
        if (!in_signed(l->x[i], hw->act_bits)) {
            snprintf(err, errlen, "x[%zu] = %d is not a signed %u-bit value", i, l->x[i], hw->act_bits);
            return MPQ_EPARAM;
        }
    }
    /* Weights: ternary, HpBits, and per output channel, window position and aligned block of
     * KLanes input channels at most HpPerGroup sparse entries (the accelerator's groups). */
    unsigned f = mpq_hw_layer_group_size(l), taps = l->s.kh * l->s.kw;
    for (unsigned o = 0; o < l->n; o++) {
        unsigned g0 = mpq_hw_layer_group_base(l, o);
        for (unsigned tap = 0; tap < taps; tap++) {
            unsigned nz = 0, block = g0 / hw->klanes;
            for (unsigned c = 0; c < f; c++) {
                size_t at = mpq_hw_layer_widx(l, o, tap, c);
                if ((g0 + c) / hw->klanes != block) {
                    block = (g0 + c) / hw->klanes;
                    nz = 0;
                }
                if (l->t[at] < -1 || l->t[at] > 1) {
                    snprintf(err, errlen, "t of channel %u, window position %u, input channel %u = %d "
                             "is not ternary", o, tap, g0 + c, l->t[at]);
                    return MPQ_EPARAM;
                }
                if (!in_signed(l->hp[at], hw->hp_bits)) {
                    snprintf(err, errlen, "hp of channel %u, window position %u, input channel %u = %d "
                             "is not a signed %u-bit value", o, tap, g0 + c, l->hp[at], hw->hp_bits);
                    return MPQ_EPARAM;
                }
                nz += l->hp[at] != 0;
                if (nz > hw->hp_per_group) {
                    snprintf(err, errlen,
                             "channel %u, window position %u, input channels %u..%u hold more than "
                             "HpPerGroup = %u sparse weights",
                             o, tap, block * hw->klanes, block * hw->klanes + hw->klanes - 1,
                             hw->hp_per_group);
                    return MPQ_EPARAM;
                }
            }
        }
    }
    return 0;
}

/* The layer as the functional model sees it: the accelerator's grouped order, G = KLanes (a
 * convolution takes these fields through mpq_conv_layer_of_fc). */
static void fc_of(const mpq_hwcfg *hw, const mpq_hw_layer *l, mpq_fc_layer *fc)
{
    memset(fc, 0, sizeof *fc);
    fc->m = l->m;
    fc->k = l->k;
    fc->n = l->n;
    fc->x = l->x;
    fc->in_offset = l->in_offset;
    fc->t = l->t;
    fc->alpha = l->alpha;
    fc->hp = l->hp;
    fc->bias = l->bias;
    fc->acc_bits = hw->acc_bits;
    fc->acc_mode = l->acc_sat ? MPQ_ACC_SAT : MPQ_ACC_WRAP;
    fc->order = MPQ_ORDER_GROUPED;
    fc->group = hw->klanes;
}

/* y (may be NULL: accumulators only) and the per-output overflow flags of the layer. */
static int functional(const mpq_hwcfg *hw, const mpq_hw_layer *l, int32_t *y, int64_t *acc,
                      uint8_t *flags)
{
    mpq_requant rq = {.kind = MPQ_RQ_DOUBLE, .nparams = l->n, .mult = l->mult, .shift = l->shift,
                      .out_offset = l->out_offset, .act_min = l->act_min, .act_max = l->act_max};
    char err[256];
    mpq_fc_layer fc;
    fc_of(hw, l, &fc);
    if (l->s.kind == MPQ_LAYER_FC) {
        mpq_fc_ovf ov = {0};
        ov.flags = flags;
        if (!y)
            return mpq_fc_acc(&fc, acc, flags ? &ov : NULL, err, sizeof err);
        return mpq_fc(&fc, &rq, y, acc, flags ? &ov : NULL, err, sizeof err);
    }
    mpq_conv_layer cv = mpq_conv_layer_of_fc(&l->s, &fc);
    mpq_conv_ovf ov = {0};
    ov.flags = flags;
    if (!y)
        return mpq_conv_acc(&cv, acc, flags ? &ov : NULL, err, sizeof err);
    return mpq_conv(&cv, &rq, y, acc, flags ? &ov : NULL, err, sizeof err);
}

int mpq_hw_layer_expected(const mpq_hwcfg *hw, const mpq_hw_layer *l, int32_t *y, uint8_t *ovf)
{
    uint8_t *flags = NULL;
    if (ovf) {
        flags = calloc((size_t)l->m * l->n, 1);
        if (!flags)
            return MPQ_ENOMEM;
    }
    int rc = functional(hw, l, y, NULL, flags);
    if (rc == 0 && ovf) {
        memset(ovf, 0, l->n);
        for (size_t i = 0; i < (size_t)l->m * l->n; i++)
            if (flags[i] & MPQ_OVF_ANY)
                ovf[i % l->n] = 1;
    }
    free(flags);
    return rc;
}

int mpq_hw_layer_acc(const mpq_hwcfg *hw, const mpq_hw_layer *l, int64_t *acc)
{
    return functional(hw, l, NULL, acc, NULL);
}

static const char *const profile_names[MPQ_PROF_COUNT] = {
    "random", "overflow", "requant-edge", "zero-tern", "max-sparse", "acc-edge", "extreme",
};

const char *mpq_profile_name(mpq_profile p)
{
    return (unsigned)p < MPQ_PROF_COUNT ? profile_names[p] : "?";
}

int mpq_profile_parse(const char *s, mpq_profile *p)
{
    for (unsigned i = 0; i < MPQ_PROF_COUNT; i++) {
        if (strcmp(s, profile_names[i]) == 0) {
            *p = (mpq_profile)i;
            return 0;
        }
    }
    return MPQ_EPARAM;
}

static int32_t rnd_signed(mpq_rng *r, unsigned bits)
{
    int64_t lim = (int64_t)1 << (bits - 1);
    return (int32_t)mpq_rng_range(r, -lim, lim - 1);
}

static int32_t rnd_nonzero(mpq_rng *r, unsigned bits)
{
    int32_t v;
    do
        v = rnd_signed(r, bits);
    while (v == 0);
    return v;
}

/* Pick `count` distinct positions of [0, len) into pos[] in increasing order. */
static void pick_positions(mpq_rng *r, unsigned len, unsigned count, unsigned *pos)
{
    uint8_t used[MPQ_KLANES_MAX] = {0};
    for (unsigned i = 0; i < count; i++) {
        unsigned p;
        do
            p = mpq_rng_below(r, len);
        while (used[p]);
        used[p] = 1;
    }
    unsigned n = 0;
    for (unsigned p = 0; p < len; p++)
        if (used[p])
            pos[n++] = p;
}

/* acc-edge profile: for each channel, a random row and group, and a bias such that the
 * partial sum after that group is exactly AccMax, AccMin, AccMax + 1 or AccMin - 1 (when the
 * bias this needs fits the accumulator). An off-by-one saturation bound or overflow test in
 * the hardware then changes an output or an overflow flag. */
/* acc-edge profile of a convolution: the bias of each channel makes one output pixel's whole
 * sum land on the four targets in turn (exactly, unless a saturating step on the way clamps). */
static int land_on_bounds_conv(const mpq_hwcfg *hw, mpq_hw_layer *l, mpq_rng *r)
{
    int64_t amax = ((int64_t)1 << (hw->acc_bits - 1)) - 1, amin = -amax - 1;
    int64_t *acc = malloc((size_t)l->m * l->n * sizeof *acc);
    if (!acc)
        return MPQ_ENOMEM;
    for (unsigned c = 0; c < l->n; c++)
        l->bias[c] = 0;
    int rc = mpq_hw_layer_acc(hw, l, acc);
    static const int64_t one_past[4] = {0, 0, 1, 1};
    for (unsigned c = 0; rc == 0 && c < l->n; c++) {
        unsigned which = c % 4u, row0 = mpq_rng_below(r, l->m);
        int64_t target = which % 2u == 0 ? amax + one_past[which] : amin - one_past[which];
        for (unsigned tries = 0; tries < l->m; tries++) {
            int64_t b = target - acc[(size_t)((row0 + tries) % l->m) * l->n + c];
            if (b >= amin && b <= amax && b >= INT32_MIN && b <= INT32_MAX) {
                l->bias[c] = (int32_t)b;
                break;
            }
        }
    }
    free(acc);
    return rc;
}

static int land_on_bounds(const mpq_hwcfg *hw, mpq_hw_layer *l, mpq_rng *r)
{
    if (l->s.kind != MPQ_LAYER_FC)
        return land_on_bounds_conv(hw, l, r);
    int64_t amax = ((int64_t)1 << (hw->acc_bits - 1)) - 1, amin = -amax - 1;
    unsigned groups = (l->k + hw->klanes - 1) / hw->klanes;
    int got[2] = {0, 0}; /* AccMax, AccMin landed exactly */
    for (unsigned c = 0; c < l->n; c++) {
        unsigned row0 = mpq_rng_below(r, l->m), g = mpq_rng_below(r, groups);
        /* The first four channels land in the row's first step: no earlier step can saturate
         * on the way, so the bound is reached exactly; the others anywhere along the row. */
        if (c < 4)
            g = 0;
        unsigned end = (g + 1) * hw->klanes < l->k ? (g + 1) * hw->klanes : l->k;
        /* The four targets in turn, so that even a layer of few channels lands on both bounds
         * exactly (an off-by-one bound shows only there) and one past each; an exact bound that
         * no earlier channel could reach comes first. */
        static const int64_t one_past[4] = {0, 0, 1, 1};
        unsigned plan[3], nplan = 0;
        if (c < 4 && !got[0])
            plan[nplan++] = 0;
        if (c < 4 && !got[1])
            plan[nplan++] = 1;
        plan[nplan++] = c % 4u;
        int done = 0;
        for (unsigned q = 0; q < nplan && !done; q++) {
            unsigned which = plan[q];
            int64_t target = which % 2u == 0 ? amax + one_past[which] : amin - one_past[which];
            /* The first row (from a random one on) whose partial sum a bias can complete. */
            for (unsigned tries = 0; tries < l->m && !done; tries++) {
                unsigned row = (row0 + tries) % l->m;
                int64_t p = 0; /* |p| < 2^(8+8+8+10+1): no overflow in 64 bits */
                for (unsigned i = 0; i < end; i++) {
                    int64_t xr = (int64_t)l->x[(size_t)row * l->k + i] + l->in_offset;
                    int64_t w = (int64_t)l->alpha[c] * l->t[(size_t)c * l->k + i] + l->hp[(size_t)c * l->k + i];
                    p += xr * w;
                }
                int64_t b = target - p;
                if (b >= amin && b <= amax && b >= INT32_MIN && b <= INT32_MAX) {
                    l->bias[c] = (int32_t)b;
                    done = 1;
                    if (which < 2 && c < 4)
                        got[which] = 1;
                }
            }
        }
    }
    return 0;
}

/* requant-edge profile: channel 0 (and 1) of tile 0 get an accumulator, on a random row, whose
 * requantization is exactly half-way and not clamped: channel 0 an odd accumulator with
 * multiplier 2^30 and shift 0 (a SaturatingRoundingDoublingHighMul tie), channel 1 an
 * accumulator of 2 mod 4 with multiplier 2^30 and shift -1 (a RoundingDivideByPOT tie of the
 * high product). The output lands mid-clamp whatever out_offset is, when the accumulator
 * this needs fits AccBits. */
static int plant_ties(const mpq_hwcfg *hw, mpq_hw_layer *l, mpq_rng *r)
{
    int64_t *acc = malloc((size_t)l->m * l->n * sizeof *acc);
    if (!acc)
        return MPQ_ENOMEM;
    int64_t amax = ((int64_t)1 << (hw->acc_bits - 1)) - 1;
    unsigned row = mpq_rng_below(r, l->m);
    /* An out_offset too far out for a narrow accumulator to reach mid-clamp: centre it. */
    int64_t centre = ((int64_t)l->act_min + l->act_max) / 2;
    if (4 * (centre - l->out_offset) + 2 > amax / 2 || 4 * (centre - l->out_offset) + 2 < -amax / 2)
        l->out_offset = (int32_t)centre;
    for (unsigned c = 0; c < 2 && c < l->n; c++) {
        int32_t saved = l->bias[c];
        l->bias[c] = 0;
        if (mpq_hw_layer_acc(hw, l, acc) != 0) {
            free(acc);
            return MPQ_ENOMEM;
        }
        int64_t mid = ((int64_t)l->act_min + l->act_max) / 2 - l->out_offset; /* the rq we want */
        int64_t target = c == 0 ? 2 * mid - 1 : 4 * mid + 2;               /* shift 0 / -1 */
        int64_t bias = target - acc[(size_t)row * l->n + c];
        if (target >= -amax && target <= amax && bias >= -amax - 1 && bias <= amax && bias >= INT32_MIN &&
            bias <= INT32_MAX && !l->acc_sat) {
            l->bias[c] = (int32_t)bias;
            l->mult[c] = 1 << 30;
            l->shift[c] = c == 0 ? 0 : -1;
        } else {
            l->bias[c] = saved;
        }
    }
    free(acc);
    return 0;
}

/* Per-channel requantization from the layer's actual accumulators: the largest |acc| of a
 * channel maps to about 0.9 of the output range (or up to 2x less), as a calibrated
 * network's scales do. Channels with keep[c] set are left alone; channels with a non-zero
 * fixed[c] get exactly that multiplier and the shift that comes closest to the scale. */
static int scale_to_outputs(const mpq_hwcfg *hw, mpq_hw_layer *l, mpq_rng *r, const uint8_t *keep,
                            const int32_t *fixed)
{
    int64_t *acc = malloc((size_t)l->m * l->n * sizeof *acc);
    if (!acc)
        return MPQ_ENOMEM;
    int rc = mpq_hw_layer_acc(hw, l, acc);
    double omax = (double)((1 << (hw->out_bits - 1)) - 1);
    for (unsigned c = 0; rc == 0 && c < l->n; c++) {
        if (keep && keep[c])
            continue;
        double big = 1.0;
        for (unsigned row = 0; row < l->m; row++) {
            double v = fabs((double)acc[(size_t)row * l->n + c]);
            if (v > big)
                big = v;
        }
        double real = 0.9 * omax / big * exp2(-(double)mpq_rng_below(r, 3) / 2.0);
        int sh;
        if (fixed && fixed[c]) {
            /* real = mult / 2^31 * 2^shift */
            sh = (int)lround(log2(real * 2147483648.0 / (double)fixed[c]));
            l->mult[c] = fixed[c];
            if (sh < -31 || sh > 30)
                sh = sh > 30 ? 30 : -31;
        } else if (mpq_quantize_multiplier(real, &l->mult[c], &sh) != 0 || sh < -31 || sh > 30) {
            l->mult[c] = 1 << 30;
            sh = sh > 30 ? 30 : -31;
        }
        l->shift[c] = sh;
    }
    free(acc);
    return rc;
}

/* The layer's arrays for the shape of o, after checking its options. Returns 0, or
 * MPQ_EPARAM / MPQ_ENOMEM with err. */
static int random_alloc(const mpq_hwcfg *hw, const mpq_layer_opts *o, mpq_hw_layer *l, char *err,
                        size_t errlen)
{
    if (o->hp_n > hw->hp_per_group) {
        snprintf(err, errlen, "hp-n = %u is more than HpPerGroup = %u of this configuration",
                 o->hp_n, hw->hp_per_group);
        return MPQ_EPARAM;
    }
    if ((unsigned)o->profile >= MPQ_PROF_COUNT) {
        snprintf(err, errlen, "unknown profile %d", (int)o->profile);
        return MPQ_EPARAM;
    }
    if (o->shape.kind == MPQ_LAYER_CONV2D || o->shape.kind == MPQ_LAYER_DEPTHWISE)
        return mpq_hw_layer_alloc_conv(l, &o->shape, err, errlen);
    int rc = mpq_hw_layer_alloc(l, o->m, o->k, o->n);
    if (rc == MPQ_EPARAM)
        snprintf(err, errlen, "shape m=%u k=%u n=%u has a zero dimension", o->m, o->k, o->n);
    else if (rc != 0)
        snprintf(err, errlen, "out of memory for m=%u k=%u n=%u", o->m, o->k, o->n);
    return rc;
}

/* Activations and input offset: `rows` of `row_len` (FC: the m rows of k; a convolution: its
 * pixels). */
static void random_activations(const mpq_hwcfg *hw, mpq_hw_layer *l, mpq_rng *r, mpq_profile prof)
{
    int conv = l->s.kind == MPQ_LAYER_CONV2D || l->s.kind == MPQ_LAYER_DEPTHWISE;
    size_t row_len = conv ? l->s.in_c : l->k, nx = conv ? mpq_conv_in_count(&l->s) : (size_t)l->m * l->k;
    size_t rows = nx / row_len;
    int32_t xmax = (1 << (hw->act_bits - 1)) - 1, xmin = -xmax - 1;
    if (prof == MPQ_PROF_EXTREME) {
        /* Each row at one end: x and in_offset both most negative (|xr| = 3*2^(ActBits-1),
         * the largest), or both most positive. */
        l->in_offset = mpq_rng_bernoulli(r, 0.5) ? -(xmax + 1) * 2 : (xmax + 1) * 2 - 1;
        for (size_t row = 0; row < rows; row++) {
            int neg = l->in_offset < 0 ? !mpq_rng_bernoulli(r, 0.1) : mpq_rng_bernoulli(r, 0.1);
            for (size_t i = 0; i < row_len; i++)
                l->x[row * row_len + i] = neg ? xmin : xmax;
        }
    } else if (prof == MPQ_PROF_OVERFLOW) {
        l->in_offset = mpq_rng_bernoulli(r, 0.5) ? xmax + 1 : -(xmax + 1);
        for (size_t i = 0; i < nx; i++)
            l->x[i] = l->in_offset > 0 ? xmax - (int32_t)mpq_rng_below(r, 4)
                                       : xmin + (int32_t)mpq_rng_below(r, 4);
    } else {
        int32_t lim = 1 << hw->act_bits;
        l->in_offset = mpq_rng_bernoulli(r, 0.25) ? (int32_t)mpq_rng_range(r, -lim, lim - 1)
                                                  : (int32_t)mpq_rng_range(r, xmin, xmax);
        for (size_t i = 0; i < nx; i++)
            l->x[i] = rnd_signed(r, hw->act_bits);
    }
}

/* Weights: ternary, then the sparse high-precision entries of each aligned group (per window
 * position, the runs of a channel's inputs within one block of KLanes channels), hp_n of
 * them per group. */
static void random_weights(const mpq_hwcfg *hw, mpq_hw_layer *l, mpq_rng *r, mpq_profile prof,
                           unsigned hp_n)
{
    unsigned f = mpq_hw_layer_group_size(l), taps = l->s.kh * l->s.kw;
    for (unsigned c = 0; c < l->n; c++) {
        int sign = mpq_rng_bernoulli(r, 0.5) ? 1 : -1;
        for (unsigned i = 0; i < l->k; i++) {
            int8_t t;
            if (prof == MPQ_PROF_ZERO_TERN)
                t = 0;
            else if (prof == MPQ_PROF_EXTREME)
                t = (int8_t)sign;
            else if (prof == MPQ_PROF_OVERFLOW)
                t = (int8_t)(mpq_rng_bernoulli(r, 0.9) ? sign : 0);
            else
                t = (int8_t)((int)mpq_rng_below(r, 3) - 1);
            l->t[mpq_hw_layer_widx(l, c, i / f, i % f)] = t;
        }
        unsigned g0 = mpq_hw_layer_group_base(l, c);
        for (unsigned tap = 0; tap < taps; tap++) {
            for (unsigned c0 = 0; c0 < f;) {
                unsigned room = hw->klanes - (g0 + c0) % hw->klanes;
                unsigned len = f - c0 < room ? f - c0 : room;
                unsigned cnt = hp_n < len ? hp_n : len;
                unsigned pos[MPQ_KLANES_MAX];
                pick_positions(r, len, cnt, pos);
                for (unsigned e = 0; e < cnt; e++) {
                    int32_t v = rnd_nonzero(r, hw->hp_bits);
                    if (prof == MPQ_PROF_OVERFLOW)
                        v = sign * ((1 << (hw->hp_bits - 1)) - 1);
                    else if (prof == MPQ_PROF_EXTREME) /* the most negative value: |xr*hp| largest */
                        v = -(1 << (hw->hp_bits - 1));
                    l->hp[mpq_hw_layer_widx(l, c, tap, c0 + pos[e])] = v;
                }
                c0 += len;
            }
        }
    }
}

/* Channel c's ternary scale and bias, by profile. */
static void random_alpha_bias(const mpq_hwcfg *hw, mpq_hw_layer *l, mpq_rng *r, mpq_profile prof,
                              unsigned c)
{
    int64_t amax = ((int64_t)1 << (hw->alpha_bits - 1)) - 1;
    int64_t accmax = ((int64_t)1 << (hw->acc_bits - 1)) - 1;
    switch (prof) {
    case MPQ_PROF_OVERFLOW: {
        l->alpha[c] = (int32_t)(mpq_rng_bernoulli(r, 0.5) ? amax : -amax - 1);
        /* Start near the limit on the side the sums push towards. */
        int tsign = l->t[(size_t)c * l->k] != 0 ? l->t[(size_t)c * l->k] : 1;
        int dir = (l->alpha[c] > 0) == (tsign > 0) ? 1 : -1;
        if (l->in_offset < 0)
            dir = -dir;
        int64_t b = accmax - (int64_t)mpq_rng_below(r, 1000);
        if (hw->acc_bits < 32 && mpq_rng_bernoulli(r, 0.25))
            b = accmax + 1 + (int64_t)mpq_rng_below(r, 1000); /* fit(bias) overflows */
        if (b > INT32_MAX)
            b = INT32_MAX;
        l->bias[c] = (int32_t)(dir > 0 ? b : -b);
        break;
    }
    case MPQ_PROF_EXTREME: {
        /* The most negative alpha; a bias at a bound of the accumulator (or of int32). */
        l->alpha[c] = (int32_t)(-amax - 1);
        int64_t b = mpq_rng_bernoulli(r, 0.5) ? accmax : -accmax - 1;
        if (mpq_rng_bernoulli(r, 0.3))
            b = mpq_rng_bernoulli(r, 0.5) ? INT32_MAX : INT32_MIN;
        l->bias[c] = (int32_t)b;
        break;
    }
    case MPQ_PROF_RANDOM:
    case MPQ_PROF_ACC_EDGE:
    case MPQ_PROF_REQUANT_EDGE:
    case MPQ_PROF_ZERO_TERN:
    case MPQ_PROF_MAX_SPARSE:
    case MPQ_PROF_COUNT:
    default: {
        int64_t a;
        do
            a = mpq_rng_range(r, -amax - 1, amax);
        while (a == 0 && amax > 1);
        if (mpq_rng_bernoulli(r, 0.7) && amax >= 2) /* mostly small positive, like TWN */
            a = mpq_rng_range(r, 1, amax < 32 ? amax : 32);
        l->alpha[c] = (int32_t)a;
        /* A typical accumulator magnitude, for a realistic requantization scale. */
        double xr_typ = (double)(1 << (hw->act_bits - 1)) / 1.7 + fabs((double)l->in_offset) * 0.5;
        double acc_typ = xr_typ * sqrt((double)l->k) * (fabs((double)a) + 4.0) + 1.0;
        int64_t blim = (int64_t)acc_typ < accmax / 4 ? (int64_t)acc_typ : accmax / 4;
        l->bias[c] = (int32_t)mpq_rng_range(r, -blim, blim);
        break;
    }
    }
}

/* Channel c's requantization: requant-edge's edge multipliers (fixed[c], the shift set later
 * from the accumulators) or edge multipliers and shifts as they are (keep[c]); otherwise
 * zero, set later from the layer's actual accumulators (scale_to_outputs). */
static void random_requant(const mpq_hwcfg *hw, mpq_hw_layer *l, mpq_rng *r, mpq_profile prof,
                           unsigned c, uint8_t *keep, int32_t *fixed)
{
    int64_t accmax = ((int64_t)1 << (hw->acc_bits - 1)) - 1;
    if (prof == MPQ_PROF_REQUANT_EDGE && mpq_rng_bernoulli(r, 0.6)) {
        /* An edge multiplier with the shift that keeps outputs in range: with 2^30 every
         * odd accumulator is a rounding tie of the doubling high multiply. */
        static const int32_t emults[] = {1 << 30, 1 << 30, (1 << 30) + 1, INT32_MAX, 1518500250};
        fixed[c] = emults[mpq_rng_below(r, sizeof emults / sizeof emults[0])];
        l->mult[c] = 0;
        l->shift[c] = 0;
    } else if (prof == MPQ_PROF_REQUANT_EDGE) {
        keep[c] = 1;
        static const int32_t mults[] = {0, 1, 1 << 30, INT32_MAX, (1 << 30) + 1, 1518500250};
        static const int32_t shifts[] = {-31, 30, -1, 0, 1, -30, 29};
        l->mult[c] = mpq_rng_bernoulli(r, 0.7)
                         ? mults[mpq_rng_below(r, sizeof mults / sizeof mults[0])]
                         : (int32_t)mpq_rng_range(r, 0, INT32_MAX);
        l->shift[c] = mpq_rng_bernoulli(r, 0.7)
                          ? shifts[mpq_rng_below(r, sizeof shifts / sizeof shifts[0])]
                          : (int32_t)mpq_rng_range(r, -31, 30);
        if (mpq_rng_bernoulli(r, 0.3))
            l->bias[c] = (int32_t)mpq_rng_range(r, -accmax - 1, accmax);
    } else {
        l->mult[c] = 0;
        l->shift[c] = 0;
    }
}

/* Output offset and clamp. */
static void random_output_range(const mpq_hwcfg *hw, mpq_hw_layer *l, mpq_rng *r, mpq_profile prof)
{
    int32_t omax = (1 << (hw->out_bits - 1)) - 1, omin = -omax - 1;
    if (prof == MPQ_PROF_REQUANT_EDGE) {
        int32_t a = (int32_t)mpq_rng_range(r, omin, omax), b = (int32_t)mpq_rng_range(r, omin, omax);
        l->act_min = a < b ? a : b;
        l->act_max = a < b ? b : a;
        if (mpq_rng_bernoulli(r, 0.5)) { /* the full range: clamps only at the type's ends */
            l->act_min = omin;
            l->act_max = omax;
        }
        l->out_offset = (int32_t)mpq_rng_range(r, -32768, 32767);
        if (mpq_rng_bernoulli(r, 0.75))
            l->out_offset = (int32_t)mpq_rng_range(r, omin / 2, omax / 2);
    } else {
        l->out_offset = (int32_t)mpq_rng_range(r, omin / 2, omax / 2);
        if (mpq_rng_bernoulli(r, 0.75)) {
            l->act_min = omin;
            l->act_max = omax;
        } else { /* e.g. ReLU: clamp at the zero point */
            l->act_min = l->out_offset < omin ? omin : l->out_offset;
            l->act_max = omax - (int32_t)mpq_rng_below(r, (uint32_t)omax / 4u + 1u);
            if (l->act_max < l->act_min)
                l->act_max = l->act_min;
        }
    }
}

int mpq_hw_layer_random(const mpq_hwcfg *hw, const mpq_layer_opts *o, mpq_hw_layer *l, char *err,
                        size_t errlen)
{
    int rc = random_alloc(hw, o, l, err, errlen);
    if (rc != 0)
        return rc;
    mpq_rng r;
    mpq_rng_seed(&r, o->seed);
    mpq_profile prof = o->profile;
    unsigned n = l->n;
    l->acc_sat = o->acc_sat;
    random_activations(hw, l, &r, prof);
    random_weights(hw, l, &r, prof,
                   prof == MPQ_PROF_MAX_SPARSE || prof == MPQ_PROF_EXTREME ? hw->hp_per_group : o->hp_n);
    /* Per-channel parameters; the requantization of most channels comes last, from the
     * layer's actual accumulators. */
    uint8_t *keep = calloc(n, 1);
    int32_t *fixed = calloc(n, sizeof *fixed);
    if (!keep || !fixed) {
        free(keep);
        free(fixed);
        snprintf(err, errlen, "out of memory for n=%u", n);
        mpq_hw_layer_free(l);
        return MPQ_ENOMEM;
    }
    for (unsigned c = 0; c < n; c++) {
        random_alpha_bias(hw, l, &r, prof, c);
        random_requant(hw, l, &r, prof, c, keep, fixed);
    }
    random_output_range(hw, l, &r, prof);
    if ((prof == MPQ_PROF_ACC_EDGE && land_on_bounds(hw, l, &r) != 0) ||
        scale_to_outputs(hw, l, &r, keep, fixed) != 0 ||
        (prof == MPQ_PROF_REQUANT_EDGE && plant_ties(hw, l, &r) != 0)) {
        free(keep);
        free(fixed);
        snprintf(err, errlen, "out of memory for m=%u k=%u n=%u", l->m, l->k, n);
        mpq_hw_layer_free(l);
        return MPQ_ENOMEM;
    }
    free(keep);
    free(fixed);
    if (mpq_hw_layer_check(hw, l, err, errlen) != 0) {
        mpq_hw_layer_free(l);
        return MPQ_EPARAM; /* a generator bug: the message says what */
    }
    return 0;
}

/* ---- random convolution shapes ---------------------------------------------------------------- */
uint64_t mpq_hw_layer_steps(const mpq_hwcfg *hw, const mpq_hw_layer *l)
{
    uint64_t steps = 0;
    for (unsigned t = 0; t < mpq_hw_layer_tiles(hw, l); t++) {
        mpq_hw_tile tp;
        mpq_hw_layer_tile(hw, l, t, &tp);
        steps += (uint64_t)l->m * tp.wgt_beats;
    }
    return steps;
}

int mpq_hw_conv_fits(const mpq_hwcfg *hw, const mpq_conv_shape *s, char *err, size_t errlen)
{
    /* A layer of that shape without arrays: its tiles' configuration beats tell. */
    mpq_hw_layer l;
    memset(&l, 0, sizeof l);
    l.s = *s;
    if (l.s.groups == 0)
        l.s.groups = 1;
    l.m = s->batches * s->out_h * s->out_w;
    l.n = s->out_c;
    l.k = 1;
    l.act_min = l.act_max = 0;
    uint32_t beat[MPQ_PORT_WORDS_MAX];
    char why[256];
    for (unsigned t = 0; t < mpq_hw_layer_tiles(hw, &l); t++) {
        if (tile_cfg_beat(hw, &l, t, beat, why, sizeof why) != 0 ||
            mpq_cfg_check(hw, beat, why, sizeof why) != 0) {
            snprintf(err, errlen, "tile %u: %s", t, why);
            return MPQ_EPARAM;
        }
    }
    return 0;
}

/* A random output size of one axis that mpq_conv_check accepts, or 0 when there is none. */
static unsigned random_out(mpq_rng *r, unsigned in, unsigned k, unsigned st, unsigned pad, unsigned dil)
{
    int64_t e = (int64_t)(k - 1) * dil + 1, p = pad, sv = st;
    int64_t qmax = p + 1 < e - 1 ? p + 1 : e - 1;
    /* out - 1 = (in + p + q - e) / s exactly for a far padding q in (-s, qmax]. */
    int64_t lo = -1, hi = -1;
    for (int64_t out = 1; out <= (int64_t)in + 2 * e; out++) {
        int64_t q = (out - 1) * sv + e - in - p;
        if (q > -sv && q <= qmax) {
            if (lo < 0)
                lo = out;
            hi = out;
        }
    }
    if (lo < 0)
        return 0;
    return (unsigned)mpq_rng_range(r, lo, hi);
}

void mpq_hw_conv_shape_random(const mpq_hwcfg *hw, uint64_t seed, uint64_t max_steps,
                              mpq_conv_shape *s)
{
    mpq_rng r;
    mpq_rng_seed(&r, seed ^ 0x636f6e76u);
    for (;;) {
        memset(s, 0, sizeof *s);
        s->kind = mpq_rng_below(&r, 4) == 0 ? MPQ_LAYER_DEPTHWISE : MPQ_LAYER_CONV2D;
        s->batches = mpq_rng_below(&r, 5) == 0 ? 2 + mpq_rng_below(&r, 2) : 1;
        s->in_h = 1 + mpq_rng_below(&r, 12);
        s->in_w = 1 + mpq_rng_below(&r, 12);
        static const unsigned ks[] = {1, 1, 2, 3, 3, 3, 5};
        s->kh = ks[mpq_rng_below(&r, 7)];
        s->kw = mpq_rng_below(&r, 3) == 0 ? ks[mpq_rng_below(&r, 7)] : s->kh;
        if (mpq_rng_below(&r, 10) == 0) { /* the kernel as large as the input */
            s->kh = s->in_h;
            s->kw = s->in_w;
        }
        s->sy = mpq_rng_below(&r, 3) == 0 ? 2 + mpq_rng_below(&r, 2) : 1;
        s->sx = mpq_rng_below(&r, 3) == 0 ? 2 + mpq_rng_below(&r, 2) : s->sy;
        s->dy = mpq_rng_below(&r, 5) == 0 ? 2 : 1;
        s->dx = mpq_rng_below(&r, 5) == 0 ? 2 + mpq_rng_below(&r, 2) : s->dy;
        unsigned ey = (s->kh - 1) * s->dy + 1, ex = (s->kw - 1) * s->dx + 1;
        s->py = mpq_rng_below(&r, 3) == 0 ? mpq_rng_below(&r, ey) : (ey - 1) / 2;
        s->px = mpq_rng_below(&r, 3) == 0 ? mpq_rng_below(&r, ex) : (ex - 1) / 2;
        s->in_c = 1 + mpq_rng_below(&r, 3 * hw->klanes + 5);
        if (s->kind == MPQ_LAYER_DEPTHWISE) {
            s->groups = 1;
            s->out_c = s->in_c * (1 + mpq_rng_below(&r, 3));
        } else {
            unsigned g = 1;
            if (mpq_rng_below(&r, 4) == 0) { /* grouped: a divisor of in_c */
                g = 1 + mpq_rng_below(&r, s->in_c);
                while (s->in_c % g)
                    g--;
            }
            s->groups = g;
            unsigned per = 1 + mpq_rng_below(&r, (2 * hw->lanes + 3 + g - 1) / g);
            s->out_c = g * per;
        }
        if (mpq_rng_below(&r, 6) == 0) {
            /* Rows as wide as the activation ring allows: the writer runs ActDepth slices
             * ahead and waits for the window to move on (the ring full). */
            s->kind = MPQ_LAYER_CONV2D;
            s->groups = 1;
            s->kh = s->kw = mpq_rng_below(&r, 2) ? 3 : 1;
            s->dy = s->dx = 1;
            s->py = s->px = s->kh / 2;
            unsigned ncs = 1 + mpq_rng_below(&r, 3);
            s->in_c = (ncs - 1) * hw->klanes + 1 + mpq_rng_below(&r, hw->klanes);
            s->out_c = 1 + mpq_rng_below(&r, hw->lanes + 2);
            unsigned w = hw->act_depth / (s->kh * ncs);
            w = w > 4 + s->kw ? w - mpq_rng_below(&r, 4) : w;
            s->in_w = w < 1 ? 1 : w > 4096 ? 4096 : w;
            s->in_h = s->kh + 1 + mpq_rng_below(&r, 3);
            s->batches = 1;
        }
        s->out_h = random_out(&r, s->in_h, s->kh, s->sy, s->py, s->dy);
        s->out_w = random_out(&r, s->in_w, s->kw, s->sx, s->px, s->dx);
        char err[256];
        if (!s->out_h || !s->out_w || mpq_conv_check(s, err, sizeof err) != 0 ||
            mpq_hw_conv_fits(hw, s, err, sizeof err) != 0)
            continue;
        mpq_hw_layer l;
        memset(&l, 0, sizeof l);
        l.s = *s;
        l.m = s->batches * s->out_h * s->out_w;
        l.n = s->out_c;
        if (mpq_hw_layer_steps(hw, &l) <= max_steps)
            return;
    }
}

void mpq_conv_shape_format(const mpq_conv_shape *s, char *buf, size_t len)
{
    snprintf(buf, len, "%s b=%u h=%u w=%u c=%u o=%u k=%ux%u s=%ux%u d=%ux%u p=%ux%u g=%u oh=%u ow=%u",
             mpq_layer_name(s->kind), s->batches, s->in_h, s->in_w, s->in_c, s->out_c, s->kh, s->kw,
             s->sy, s->sx, s->dy, s->dx, s->py, s->px, s->groups ? s->groups : 1, s->out_h, s->out_w);
}

/* "A" or "AxB" of positive... numbers below 2^16 into *a, *b (one number: both). */
static int parse_pair(const char *v, unsigned *a, unsigned *b)
{
    char *end;
    errno = 0;
    unsigned long x = strtoul(v, &end, 10), y;
    if (end == v || errno || x > 65535 || *v == '-' || *v == '+')
        return -1;
    if (*end == 0) {
        *a = *b = (unsigned)x;
        return 0;
    }
    if (*end != 'x' || !end[1] || end[1] == '-' || end[1] == '+')
        return -1;
    const char *w = end + 1;
    y = strtoul(w, &end, 10);
    if (end == w || *end || errno || y > 65535)
        return -1;
    *a = (unsigned)x;
    *b = (unsigned)y;
    return 0;
}

int mpq_conv_shape_parse(const char *text, mpq_conv_shape *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    char buf[512];
    if (strlen(text) >= sizeof buf) {
        snprintf(err, errlen, "shape `%.40s...` is too long", text);
        return MPQ_EPARAM;
    }
    strcpy(buf, text);
    char *save = NULL, *tok = strtok_r(buf, " \t,", &save);
    if (!tok || mpq_layer_parse(tok, &s->kind) != 0 ||
        (s->kind != MPQ_LAYER_CONV2D && s->kind != MPQ_LAYER_DEPTHWISE)) {
        snprintf(err, errlen, "shape `%s`: the first word must be conv2d or depthwise", text);
        return MPQ_EPARAM;
    }
    s->batches = s->groups = 1;
    s->kh = s->kw = s->sy = s->sx = s->dy = s->dx = 1;
    int have_h = 0, have_w = 0, have_c = 0, have_o = 0, have_oh = 0, have_ow = 0;
    while ((tok = strtok_r(NULL, " \t,", &save)) != NULL) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            snprintf(err, errlen, "shape `%s`: `%s` is not key=value", text, tok);
            return MPQ_EPARAM;
        }
        *eq = 0;
        const char *k = tok, *v = eq + 1;
        unsigned a, b;
        if (parse_pair(v, &a, &b) != 0) {
            snprintf(err, errlen, "shape `%s`: %s=%s is not a number or NxM below 65536", text, k, v);
            return MPQ_EPARAM;
        }
        int pair = strchr(v, 'x') != NULL;
        if (!strcmp(k, "k")) {
            s->kh = a, s->kw = b;
        } else if (!strcmp(k, "s")) {
            s->sy = a, s->sx = b;
        } else if (!strcmp(k, "d")) {
            s->dy = a, s->dx = b;
        } else if (!strcmp(k, "p")) {
            s->py = a, s->px = b;
        } else if (pair) {
            snprintf(err, errlen, "shape `%s`: %s takes one number, not %s", text, k, v);
            return MPQ_EPARAM;
        } else if (!strcmp(k, "b")) {
            s->batches = a;
        } else if (!strcmp(k, "h")) {
            s->in_h = a, have_h = 1;
        } else if (!strcmp(k, "w")) {
            s->in_w = a, have_w = 1;
        } else if (!strcmp(k, "c")) {
            s->in_c = a, have_c = 1;
        } else if (!strcmp(k, "o")) {
            s->out_c = a, have_o = 1;
        } else if (!strcmp(k, "g")) {
            s->groups = a;
        } else if (!strcmp(k, "oh")) {
            s->out_h = a, have_oh = 1;
        } else if (!strcmp(k, "ow")) {
            s->out_w = a, have_ow = 1;
        } else {
            snprintf(err, errlen, "shape `%s`: unknown key `%s` (b h w c o k s d p g oh ow)", text, k);
            return MPQ_EPARAM;
        }
    }
    if (!have_h || !have_w || !have_c || !have_o) {
        snprintf(err, errlen, "shape `%s`: h, w, c and o are required", text);
        return MPQ_EPARAM;
    }
    if (!s->sy || !s->sx || !s->dy || !s->dx || !s->kh || !s->kw) {
        snprintf(err, errlen, "shape `%s`: k, s and d must be at least 1", text);
        return MPQ_EPARAM;
    }
    /* The output of symmetric padding: floor((in + 2p - e) / s) + 1. */
    int64_t ey = (int64_t)(s->kh - 1) * s->dy + 1, ex = (int64_t)(s->kw - 1) * s->dx + 1;
    int64_t oh = ((int64_t)s->in_h + 2 * s->py - ey) / s->sy + 1, ow = ((int64_t)s->in_w + 2 * s->px - ex) / s->sx + 1;
    if (!have_oh)
        s->out_h = oh >= 1 && oh <= 65535 && (int64_t)s->in_h + 2 * s->py >= ey ? (unsigned)oh : 0;
    if (!have_ow)
        s->out_w = ow >= 1 && ow <= 65535 && (int64_t)s->in_w + 2 * s->px >= ex ? (unsigned)ow : 0;
    char why[256];
    if (mpq_conv_check(s, why, sizeof why) != 0) {
        snprintf(err, errlen, "shape `%s`: %s", text, why);
        return MPQ_EPARAM;
    }
    return 0;
}

/* ---- the weight and activation beats of a tile (docs/timing.md) ------------------------------- */
/* Weight beat ws of tile `tile`: window position ws / n_slices, channel slice ws % n_slices of
 * the tile's channel range, every lane's ternary codes and sparse entries. A channel outside
 * a lane's group has weight 0; a channel past the layer's (masked by the hardware: c >= c_len)
 * gets random weights, so that a missing mask shows. */
/* Field [lsb, lsb+width) of a beat whose bits there are still zero set to v (v < 2^width,
 * width <= 32): mpq_bits_put without reading back, inlined in the per-code loop. */
static inline void beat_or(uint32_t *d, unsigned lsb, unsigned width, uint32_t v)
{
    unsigned off = lsb % 32u;
    uint64_t x = (uint64_t)v << off;
    d[lsb / 32u] |= (uint32_t)x;
    if (off + width > 32u)
        d[lsb / 32u + 1u] |= (uint32_t)(x >> 32);
}

void mpq_hw_layer_wgt_beat(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_hw_tile *tp, unsigned tile,
                           uint64_t ws, mpq_rng *rng, uint32_t *d)
{
    unsigned lane_w = mpq_hw_lane_w(hw), idx_w = mpq_hw_idx_w(hw);
    memset(d, 0, MPQ_WORDS(mpq_hw_wgt_w(hw)) * sizeof d[0]);
    unsigned tap = (unsigned)(ws / tp->n_slices), s = (unsigned)(ws % tp->n_slices);
    unsigned ci0 = (tp->cs0 + s) * hw->klanes, f = mpq_hw_layer_group_size(l);
    unsigned live = l->s.in_c - ci0 < hw->klanes ? l->s.in_c - ci0 : hw->klanes; /* ci < in_c */
    for (unsigned ln = 0; ln < hw->lanes; ln++) {
        unsigned c = tile * hw->lanes + ln, base = ln * lane_w;
        if (c >= l->n)
            continue; /* padding lane: zero weights */
        unsigned g0 = mpq_hw_layer_group_base(l, c);
        int8_t t[MPQ_KLANES_MAX] = {0};
        int32_t hp[MPQ_KLANES_MAX] = {0};
        for (unsigned j = 0; j < live; j++) {
            unsigned ci = ci0 + j;
            if (ci >= g0 && ci - g0 < f) {
                size_t at = mpq_hw_layer_widx(l, c, tap, ci - g0);
                t[j] = l->t[at];
                hp[j] = l->hp[at];
            }
        }
        for (unsigned j = 0; j < hw->klanes; j++) {
            int v;
            if (j < live)
                v = t[j];
            else /* beyond c_len: random weights, the hardware masks the activation */
                v = (int)mpq_rng_below(rng, 3) - 1;
            beat_or(d, base + mpq_wgt_tern_lsb(j), 2, v == 1 ? 1u : v == -1 ? 3u : 0u);
        }
        unsigned e = 0;
        for (unsigned j = 0; j < live && e < hw->hp_per_group; j++) {
            if (hp[j] != 0) {
                unsigned eb = base + mpq_wgt_entry_lsb(hw, e);
                mpq_bits_put(d, eb, idx_w, j);
                mpq_bits_put(d, eb + idx_w, hw->hp_bits, (uint32_t)hp[j]);
                e++;
            }
        }
        for (; e < hw->hp_per_group; e++) {
            /* Unused entries: empty (value 0) at a random position, or, in a slice that runs
             * past c_len, a non-zero weight at a masked position. */
            unsigned eb = base + mpq_wgt_entry_lsb(hw, e);
            unsigned j = mpq_rng_below(rng, hw->klanes);
            uint32_t v = 0;
            if (live < hw->klanes && mpq_rng_bernoulli(rng, 0.5)) {
                j = live + mpq_rng_below(rng, hw->klanes - live);
                int32_t lim = 1 << (hw->hp_bits - 1);
                int32_t sv = (int32_t)mpq_rng_range(rng, -lim, lim - 1);
                v = (uint32_t)(sv == 0 ? 1 : sv);
            }
            mpq_bits_put(d, eb, idx_w, j);
            mpq_bits_put(d, eb + idx_w, hw->hp_bits, v);
        }
    }
}

/* Activation beat a of tile `tile`: input pixel a / n_slices in raster order (image after
 * image), channel slice a % n_slices of the tile's range; channels past the layer's random
 * (the hardware masks them). */
void mpq_hw_layer_act_beat(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_hw_tile *tp, uint64_t a,
                           mpq_rng *rng, uint32_t *d)
{
    uint64_t pix = a / tp->n_slices;
    unsigned ci0 = (tp->cs0 + (unsigned)(a % tp->n_slices)) * hw->klanes, in_c = l->s.in_c;
    const int32_t *px = &l->x[pix * in_c]; /* the pixel's channels */
    if (hw->act_bits == 8u && ci0 + hw->klanes <= in_c) {
        const int32_t *x = px + ci0;
        /* A full slice of bytes (the common case, once per activation beat): four elements
         * per word, no random fill. KLanes is a power of two >= 2, so words are whole or
         * the single half word of KLanes = 2. */
        for (unsigned j = 0; j < hw->klanes; j += 4u) {
            uint32_t w = (uint32_t)x[j] & 0xffu;
            w |= ((uint32_t)x[j + 1] & 0xffu) << 8;
            if (j + 2u < hw->klanes)
                w |= ((uint32_t)x[j + 2] & 0xffu) << 16 | ((uint32_t)x[j + 3] & 0xffu) << 24;
            d[j / 4u] = w;
        }
        return;
    }
    /* Any width, packed through a 64-bit window (ActBits <= 8). */
    uint64_t win = 0, mask = (1ull << hw->act_bits) - 1u;
    unsigned nbits = 0, w = 0;
    for (unsigned j = 0; j < hw->klanes; j++) {
        uint32_t v = ci0 + j < in_c ? (uint32_t)px[ci0 + j]
                                    : (uint32_t)mpq_rng_u64(rng); /* masked by the hardware */
        win |= ((uint64_t)v & mask) << nbits;
        nbits += hw->act_bits;
        if (nbits >= 32) {
            d[w++] = (uint32_t)win;
            win >>= 32;
            nbits -= 32;
        }
    }
    if (nbits)
        d[w] = (uint32_t)win;
}
