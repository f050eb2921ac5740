/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_netmap.c: a network's quantized layer as the accelerator's layers (mpq_netmap.h): the
 * driver's choices (weights as dense high-precision entries, bands of output columns for the
 * activation ring, kernel taps packed into channels for thin layers), and the gathering of
 * the parts' outputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stim/mpq_gen.h"
#include "stim/mpq_hwmap.h"
#include "stim/mpq_netmap.h"

/* Conv shape s (groups normalized) as a hardware layer, for the shared geometry (mpq_hwmap.h). */
static mpq_hw_layer conv_layer(const mpq_conv_shape *s)
{
    mpq_hw_layer l;
    mpq_hw_layer_of_conv(&l, s);
    return l;
}

/* The mapping of s as one image chunk and whole rows, in bands of bw output columns. */
static mpq_xp_map bands_of(const mpq_conv_shape *s, unsigned bw, unsigned pack)
{
    return (mpq_xp_map){s->batches, s->out_h, bw, pack, MPQ_XP_CHANNELS_INNER};
}

/* The widest band (in output columns) that hw runs, 0 when not even one column fits. */
static unsigned widest_band(const mpq_hwcfg *hw, const mpq_conv_shape *s)
{
    mpq_hw_layer l = conv_layer(s);
    mpq_xp_map m = bands_of(s, s->out_w, 0);
    if (mpq_xp_map_check(hw, &l, &m, NULL, 0) == 0)
        return s->out_w;
    /* A narrower band reads fewer columns, so fitting is monotone in the width. */
    unsigned lo = 0, hi = s->out_w; /* lo fits (0 trivially), hi does not */
    while (hi - lo > 1) {
        m.bw = lo + (hi - lo) / 2;
        if (mpq_xp_map_check(hw, &l, &m, NULL, 0) == 0)
            lo = m.bw;
        else
            hi = m.bw;
    }
    return lo;
}

/* Estimated cycles of the whole layer in bands of bw columns (no stalls; UINT64_MAX when out
 * of memory, which no choice prefers). */
static uint64_t estimate(const mpq_hwcfg *hw, const mpq_conv_shape *s, unsigned bw)
{
    mpq_timing_opts t;
    mpq_timing_default(1, 1.0, 1.0, &t);
    mpq_hw_layer l = conv_layer(s);
    mpq_xp_map m = bands_of(s, bw, 0);
    unsigned np = mpq_xp_parts(hw, &l, &m, NULL, 0);
    mpq_xp_part *parts = calloc(np ? np : 1, sizeof *parts);
    if (!parts)
        return UINT64_MAX;
    mpq_xp_parts(hw, &l, &m, parts, np);
    uint64_t c = 0;
    for (unsigned p = 0; p < np; p++) {
        mpq_gen_estimate e;
        mpq_gen_estimate_run(hw, &parts[p].L, &t, &e);
        c += e.cycles;
    }
    free(parts);
    return c;
}

static int fail(char *err, size_t errlen, int rc, const char *what)
{
    snprintf(err, errlen, "%s", what);
    return rc;
}

/* Checks what the accelerator cannot hold whatever the shape: widths and the N:G rule of
 * int8 weights (the ternary + sparse form's is checked per layout: sparse_fits). */
static int check_values(const mpq_hwcfg *hw, const mpq_qlayer *q, size_t nw, char *err, size_t errlen)
{
    if (q->nparams != 1 && q->nparams != (q->s.kind == MPQ_LAYER_FC ? q->n : q->s.out_c))
        return fail(err, errlen, MPQ_EPARAM, "the requantization has neither 1 nor one parameter per channel");
    if (q->t)
        return 0;
    if (hw->hp_per_group < hw->klanes)
        return snprintf(err, errlen, "int8 weights need a high-precision entry at every position "
                        "(HpPerGroup = KLanes = %u); this configuration has HpPerGroup = %u: use the "
                        "dense configuration, or decompose the weights into ternary + sparse",
                        hw->klanes, hw->hp_per_group), MPQ_EPARAM;
    int64_t lo, hi;
    mpq_int_range(hw->hp_bits, 1, &lo, &hi);
    for (size_t i = 0; i < nw; i++) {
        int64_t v = (int64_t)q->w[i] + q->w_offset;
        if (v < lo || v > hi)
            return snprintf(err, errlen, "weight %zu (%lld with the weight offset) is outside the "
                            "configuration's %u-bit high-precision range %lld..%lld", i, (long long)v,
                            hw->hp_bits, (long long)lo, (long long)hi), MPQ_EPARAM;
    }
    return 0;
}

/* Whether the sparse entries of q (ternary + sparse form) obey hw's N:G rule in the layout
 * the layer runs in: at most HpPerGroup per output channel and aligned block of KLanes along
 * the reduction, the blocks at one window position over absolute input channels (a
 * depthwise weight is a group of its own), or with packed taps over the packed channels
 * (the flat OHWI reduction). Returns 0, or MPQ_EPARAM with err naming the first group that
 * holds more. */
static int sparse_fits(const mpq_hwcfg *hw, const mpq_qlayer *q, int packed, char *err, size_t errlen)
{
    const mpq_conv_shape *s = &q->s;
    int fc = s->kind == MPQ_LAYER_FC;
    unsigned nch = fc ? q->n : s->out_c, kl = hw->klanes;
    if (s->kind == MPQ_LAYER_DEPTHWISE) {
        size_t nw = mpq_conv_w_count(s);
        for (size_t i = 0; hw->hp_per_group == 0 && i < nw; i++)
            if (q->hp[i])
                return snprintf(err, errlen, "channel %zu, window position %zu holds a sparse weight: "
                                "this configuration has none (HpPerGroup = 0)", i % s->out_c, i / s->out_c),
                       MPQ_EPARAM;
        return 0;
    }
    unsigned depth = fc ? q->k : mpq_conv_depth(s), taps = fc || packed ? 1 : s->kh * s->kw,
             f = depth / taps, groups = fc || !s->groups ? 1 : s->groups;
    for (unsigned o = 0; o < nch; o++) {
        unsigned g0 = fc || packed ? 0 : o / (nch / groups) * f; /* absolute channel of c = 0 */
        for (unsigned tap = 0; tap < taps; tap++) {
            const int32_t *h = &q->hp[(size_t)o * depth + (size_t)tap * f];
            unsigned nz = 0;
            for (unsigned c = 0; c < f; c++) {
                if (c > 0 && (g0 + c) % kl == 0)
                    nz = 0;
                nz += h[c] != 0;
                if (nz <= hw->hp_per_group)
                    continue;
                unsigned b0 = (g0 + c) / kl * kl;
                if (fc || packed)
                    return snprintf(err, errlen, "channel %u, %s %u..%u hold more than HpPerGroup = %u "
                                    "sparse weights", o, packed ? "packed channels (taps packed)" : "inputs",
                                    b0, b0 + kl - 1, hw->hp_per_group), MPQ_EPARAM;
                return snprintf(err, errlen, "channel %u, window position %u, input channels %u..%u hold "
                                "more than HpPerGroup = %u sparse weights", o, tap, b0, b0 + kl - 1,
                                hw->hp_per_group), MPQ_EPARAM;
            }
        }
    }
    return 0;
}

/* ---- the host's packing of a depthwise layer's taps ---- */

/* The plan: output channels in groups of opg (the largest divisor of out_c up to Lanes: one
 * tile each), every group one group of a 1x1 grouped conv2d whose input pixel is output pixel
 * (b, oy, ox) and whose group channels are the kh*kw taps of the nci input channels the
 * group's outputs read (tap-major: packed channel tap*nci + c), padded with the zero point to
 * fp, whole slices. */
typedef struct dwpack {
    unsigned opg, nci, fp, cm;
} dwpack;

static unsigned dw_ci0(const dwpack *p, unsigned g)
{
    return g * p->opg / p->cm;
}

/* Output o's packed channel (within its group's fp) at window position tap. */
static unsigned dw_pos(const dwpack *p, unsigned o, unsigned tap)
{
    return tap * p->nci + o / p->cm - dw_ci0(p, o / p->opg);
}

static void dw_plan(const mpq_hwcfg *hw, const mpq_conv_shape *s, dwpack *p, mpq_conv_shape *ps)
{
    p->cm = s->out_c / s->in_c;
    mpq_hw_dw_packed_shape(hw, s, &p->opg, &p->nci, &p->fp, ps);
}

/* A depthwise layer packed: q over the packed shape, its weights (zero outside a lane's own
 * taps, a weight offset folded in) and the packed input, owned. */
typedef struct dwlayer {
    mpq_qlayer q;
    dwpack p;
    int32_t *w, *hp, *x;
    int8_t *t;
} dwlayer;

static void dw_free(dwlayer *d)
{
    free(d->w);
    free(d->hp);
    free(d->x);
    free(d->t);
    memset(d, 0, sizeof *d);
}

/* The packed input: pixel (b, oy, ox), group g, packed channel tap*nci + c is input channel
 * ci0(g) + c at tap (ky, kx) of that output's window, the zero point in padding, past the
 * input channels and in the slice padding (it adds nothing: x + in_offset = 0). */
static void dw_pack_input(const mpq_qlayer *q, const dwpack *p, const int32_t *x, int32_t *xp)
{
    const mpq_conv_shape *s = &q->s;
    unsigned G = s->out_c / p->opg, taps = s->kh * s->kw;
    size_t px = 0;
    for (unsigned b = 0; b < s->batches; b++)
        for (unsigned oy = 0; oy < s->out_h; oy++)
            for (unsigned ox = 0; ox < s->out_w; ox++, px++)
                for (unsigned g = 0; g < G; g++) {
                    int32_t *d = &xp[(px * G + g) * p->fp];
                    for (unsigned j = 0; j < p->fp; j++) {
                        unsigned tap = j / p->nci, c = dw_ci0(p, g) + j % p->nci;
                        d[j] = -q->in_offset;
                        if (tap >= taps || c >= s->in_c)
                            continue;
                        long iy = (long)oy * s->sy - (long)s->py + (long)(tap / s->kw) * s->dy;
                        long ix = (long)ox * s->sx - (long)s->px + (long)(tap % s->kw) * s->dx;
                        if (iy >= 0 && iy < (long)s->in_h && ix >= 0 && ix < (long)s->in_w)
                            d[j] = x[(((size_t)b * s->in_h + (size_t)iy) * s->in_w + (size_t)ix) * s->in_c + c];
                    }
                }
}

/* Packs depthwise layer q (and its input x when not NULL) into d. 0, or MPQ_ENOMEM. */
static int dw_pack(const mpq_hwcfg *hw, const mpq_qlayer *q, const int32_t *x, dwlayer *d, char *err,
                   size_t errlen)
{
    memset(d, 0, sizeof *d);
    mpq_conv_shape ps;
    dw_plan(hw, &q->s, &d->p, &ps);
    size_t nw = (size_t)ps.out_c * d->p.fp;
    if (q->t) {
        d->t = calloc(nw, sizeof *d->t);
        d->hp = calloc(nw, sizeof *d->hp);
    } else {
        d->w = calloc(nw, sizeof *d->w);
    }
    if (x)
        d->x = malloc(mpq_conv_in_count(&ps) * sizeof *d->x);
    if ((q->t ? !d->t || !d->hp : !d->w) || (x && !d->x)) {
        dw_free(d);
        return fail(err, errlen, MPQ_ENOMEM, "out of memory");
    }
    unsigned taps = q->s.kh * q->s.kw;
    for (unsigned o = 0; o < ps.out_c; o++)
        for (unsigned tap = 0; tap < taps; tap++) {
            size_t src = (size_t)tap * ps.out_c + o, dst = (size_t)o * d->p.fp + dw_pos(&d->p, o, tap);
            if (q->t) {
                d->t[dst] = q->t[src];
                d->hp[dst] = q->hp[src];
            } else {
                d->w[dst] = q->w[src] + q->w_offset;
            }
        }
    if (x)
        dw_pack_input(q, &d->p, x, d->x);
    d->q = *q;
    d->q.s = ps;
    d->q.w = d->w;
    d->q.w_offset = 0;
    d->q.t = d->t;
    d->q.hp = d->hp;
    return 0;
}

/* The layout the driver runs convolution q in, from its shape alone (o->pack, the fits and
 * the cycle estimates): LAYOUT_THIN (taps packed, mpq_hw_packed_shape), LAYOUT_DW (the
 * depthwise packing above) or LAYOUT_PLAIN. The N:G check of sparse weights comes after. */
enum { LAYOUT_PLAIN = 0, LAYOUT_THIN, LAYOUT_DW };

static int thin_packable(const mpq_hwcfg *hw, const mpq_conv_shape *s)
{
    mpq_conv_shape ps;
    mpq_hw_packed_shape(s, &ps);
    return s->kind == MPQ_LAYER_CONV2D && (s->groups == 0 || s->groups == 1) && s->in_c < hw->klanes &&
           s->kh * s->kw > 1 && (uint64_t)ps.in_c <= hw->kmax;
}

static int plan_layout(const mpq_hwcfg *hw, const mpq_qlayer *q, const mpq_map_opts *o)
{
    const mpq_conv_shape *s = &q->s;
    char e[256];
    if (!o->pack || (s->kind != MPQ_LAYER_CONV2D && s->kind != MPQ_LAYER_DEPTHWISE) || s->kh * s->kw < 2 ||
        mpq_conv_check(s, e, sizeof e) != 0)
        return LAYOUT_PLAIN;
    mpq_conv_shape us = *s, ps;
    if (us.groups == 0)
        us.groups = 1;
    int lay = LAYOUT_PLAIN;
    if (s->kind == MPQ_LAYER_DEPTHWISE) {
        dwpack p;
        dw_plan(hw, s, &p, &ps);
        lay = LAYOUT_DW;
    } else if (thin_packable(hw, s)) {
        mpq_hw_packed_shape(s, &ps);
        lay = LAYOUT_THIN;
    }
    if (lay == LAYOUT_PLAIN)
        return lay;
    unsigned bw = widest_band(hw, &us), pbw = widest_band(hw, &ps);
    if (pbw == 0)
        return LAYOUT_PLAIN;
    if (o->pack == 2 || bw == 0 || estimate(hw, &ps, pbw) < estimate(hw, &us, bw))
        return lay;
    return LAYOUT_PLAIN;
}

/* The decomposer's N:G groups in layout lay (mpq_map_decomp, channels-N:G): block ids per
 * weight in q's layout, G consecutive packed channels of one output channel per block.
 * NULL (the layer's own layout) for LAYOUT_PLAIN or when out of memory (then the packed
 * layout may refuse the decomposition and the plain one runs). */
static uint32_t *layout_blocks(const mpq_hwcfg *hw, const mpq_qlayer *q, int lay, unsigned G)
{
    if (lay == LAYOUT_PLAIN || G == 0)
        return NULL;
    size_t nw = mpq_conv_w_count(&q->s);
    uint32_t *b = malloc(nw * sizeof *b);
    if (!b)
        return NULL;
    unsigned depth = mpq_conv_depth(&q->s);
    if (lay == LAYOUT_THIN) { /* the flat OHWI reduction is the packed [o][tap][c] */
        for (size_t i = 0; i < nw; i++)
            b[i] = (uint32_t)(i % depth / G);
        return b;
    }
    dwpack p;
    mpq_conv_shape ps;
    dw_plan(hw, &q->s, &p, &ps);
    for (unsigned tap = 0; tap < depth; tap++)
        for (unsigned oc = 0; oc < q->s.out_c; oc++)
            b[(size_t)tap * q->s.out_c + oc] = dw_pos(&p, oc, tap) / G;
    return b;
}

/* ---- the cut: a mapping's hardware layers with their data ---- */

/* The layer a mapping's bands cut (mpq_hwmap.h's base shape) with its weights and input in
 * that layout: q itself (groups normalized), its taps packed into channels by the host's
 * im2col (a thin conv2d: the flat OHWI weights already are the packed [o][tap][c]; the input
 * is built here), the depthwise packing (dw_pack), or the FC layer. */
typedef struct base {
    mpq_qlayer q;
    const int32_t *x;          /* NULL: no input (the plan alone) */
    int32_t *xo;               /* the thin im2col input, owned */
    dwlayer dw;                /* the depthwise packing, owned */
} base;

static void base_free(base *b)
{
    free(b->xo);
    dw_free(&b->dw);
}

/* The host's im2col of thin conv2d q: output pixel (b, oy, ox) becomes a 1x1 pixel of
 * kh*kw*in_c channels, tap by tap, the zero point where a tap lies in padding. */
static void thin_pack_input(const mpq_qlayer *q, const int32_t *x, int32_t *xp)
{
    const mpq_conv_shape *s = &q->s;
    size_t px = 0, C = (size_t)s->kh * s->kw * s->in_c;
    for (unsigned n = 0; n < s->batches; n++)
        for (unsigned oy = 0; oy < s->out_h; oy++)
            for (unsigned ox = 0; ox < s->out_w; ox++, px++)
                for (unsigned ky = 0; ky < s->kh; ky++)
                    for (unsigned kx = 0; kx < s->kw; kx++) {
                        long iy = (long)oy * s->sy - (long)s->py + (long)ky * s->dy;
                        long ix = (long)ox * s->sx - (long)s->px + (long)kx * s->dx;
                        int32_t *d = &xp[px * C + ((size_t)ky * s->kw + kx) * s->in_c];
                        if (iy < 0 || iy >= (long)s->in_h || ix < 0 || ix >= (long)s->in_w) {
                            for (unsigned c = 0; c < s->in_c; c++)
                                d[c] = -q->in_offset; /* the zero point: adds nothing */
                            continue;
                        }
                        memcpy(d, &x[(((size_t)n * s->in_h + (size_t)iy) * s->in_w + (size_t)ix) * s->in_c],
                               s->in_c * sizeof *d);
                    }
}

/* The base of q for a mapping that packs (pack 1) or not. 0, or MPQ_ENOMEM with err. */
static int base_make(const mpq_hwcfg *hw, const mpq_qlayer *q, const int32_t *x, unsigned pack, base *b,
                     char *err, size_t errlen)
{
    memset(b, 0, sizeof *b);
    b->q = *q;
    b->x = x;
    if (q->s.kind == MPQ_LAYER_FC)
        return 0;
    if (b->q.s.groups == 0)
        b->q.s.groups = 1;
    if (!pack)
        return 0;
    if (q->s.kind == MPQ_LAYER_DEPTHWISE) {
        int rc = dw_pack(hw, q, x, &b->dw, err, errlen);
        b->q = b->dw.q;
        b->x = b->dw.x;
        return rc;
    }
    mpq_hw_packed_shape(&q->s, &b->q.s);
    if (x) {
        b->xo = malloc(mpq_conv_in_count(&b->q.s) * sizeof *b->xo);
        if (!b->xo)
            return fail(err, errlen, MPQ_ENOMEM, "out of memory");
        thin_pack_input(q, x, b->xo);
        b->x = b->xo;
    }
    return 0;
}

/* Part xp's input window of base input x into L->x: images b0.., rows iy0.., columns ix0..
 * of the base layer, the last padr_y rows and padr_x columns explicit padding (the zero
 * point: a band that ends inside the input but whose windows reach past it would otherwise
 * need more padding on its far side than the near side's plus one, which mpq_conv_check
 * refuses). */
static void copy_window(const mpq_qlayer *q, const int32_t *x, const mpq_xp_part *xp, mpq_hw_layer *L)
{
    const mpq_conv_shape *s = &q->s, *b = &L->s;
    size_t C = b->in_c;
    for (unsigned n = 0; n < b->batches; n++)
        for (unsigned y = 0; y < b->in_h; y++)
            for (unsigned xx = 0; xx < b->in_w; xx++) {
                int32_t *dst = &L->x[(((size_t)n * b->in_h + y) * b->in_w + xx) * C];
                if (y >= b->in_h - xp->padr_y || xx >= b->in_w - xp->padr_x) {
                    for (size_t c = 0; c < C; c++)
                        dst[c] = -q->in_offset;
                    continue;
                }
                size_t src = (((size_t)xp->b0 + n) * s->in_h + xp->iy0 + y) * s->in_w + xp->ix0 + xx;
                memcpy(dst, &x[src * s->in_c], C * sizeof *dst);
            }
}

/* Part xp of a mapping (mpq_xp_parts) of base bs as a hardware layer with its data: the
 * base's weights and requantization, its input window (x given), where its outputs go. */
static int make_part(const mpq_hwcfg *hw, const base *bs, const mpq_xp_part *xp, mpq_map_part *part, char *err,
                     size_t errlen)
{
    const mpq_qlayer *q = &bs->q;
    mpq_hw_layer *L = &part->L;
    int rc, fc = q->s.kind == MPQ_LAYER_FC;
    if (fc) {
        rc = mpq_hw_layer_alloc(L, xp->L.m, q->k, q->n);
        if (rc)
            return fail(err, errlen, rc, rc == MPQ_ENOMEM ? "out of memory" : "a zero dimension");
        if (bs->x)
            memcpy(L->x, &bs->x[(size_t)xp->oy0 * q->k], (size_t)L->m * q->k * sizeof *L->x);
        /* the matrix's rows are the layer's "images" (mpq_map_where) */
        *part = (mpq_map_part){*L, xp->oy0, 0, 0, L->m, 1, 1};
    } else {
        if ((rc = mpq_hw_layer_alloc_conv(L, &xp->L.s, err, errlen)))
            return rc;
        if (bs->x)
            copy_window(q, bs->x, xp, L);
        *part = (mpq_map_part){*L, xp->b0, xp->oy0, xp->ox0, L->s.batches, L->s.out_h, L->s.out_w};
    }
    size_t nw = fc ? (size_t)q->n * q->k : mpq_conv_w_count(&q->s);
    if (q->t) { /* OHWI flattened is the packed [o][tap][c] */
        memcpy(L->t, q->t, nw * sizeof *L->t);
        memcpy(L->hp, q->hp, nw * sizeof *L->hp);
    } else {
        for (size_t i = 0; i < nw; i++)
            L->hp[i] = q->w[i] + q->w_offset;
    }
    for (unsigned c = 0; c < L->n; c++) {
        unsigned pi = q->nparams == 1 ? 0 : c;
        L->alpha[c] = q->t ? q->alpha[c] : 0;
        L->bias[c] = q->bias ? q->bias[c] : 0;
        L->mult[c] = q->mult[pi];
        L->shift[c] = q->shift[pi];
    }
    L->acc_sat = 0;
    L->in_offset = q->in_offset;
    L->out_offset = q->out_offset;
    L->act_min = q->act_min;
    L->act_max = q->act_max;
    return mpq_hw_layer_check(hw, L, err, errlen);
}

/* Cuts q (shape l; input x, NULL for the plan alone) into exactly the hardware layers of
 * mapping m (checked: mpq_xp_map_check), in mpq_xp_parts' order, each with its data. */
static int cut(const mpq_hwcfg *hw, const mpq_qlayer *q, const mpq_hw_layer *l, const int32_t *x,
               const mpq_xp_map *m, mpq_map *map, char *err, size_t errlen)
{
    base bs;
    char why[256];
    int rc = base_make(hw, q, x, m->pack, &bs, err, errlen);
    if (rc == 0 && q->t && sparse_fits(hw, &bs.q, 0, why, sizeof why) != 0) {
        snprintf(err, errlen, "the sparse weights break the configuration's N:G rule%s: %s",
                 m->pack ? " with the taps packed" : "", why);
        rc = MPQ_EPARAM;
    }
    unsigned np = rc ? 0 : mpq_xp_parts(hw, l, m, NULL, 0);
    mpq_xp_part *xp = rc ? NULL : calloc(np ? np : 1, sizeof *xp);
    map->part = rc ? NULL : calloc(np ? np : 1, sizeof *map->part);
    if (rc == 0 && (!xp || !map->part))
        rc = fail(err, errlen, MPQ_ENOMEM, "out of memory");
    if (rc == 0)
        mpq_xp_parts(hw, l, m, xp, np);
    for (unsigned p = 0; rc == 0 && p < np; p++) {
        map->nparts = p + 1;
        rc = make_part(hw, &bs, &xp[p], &map->part[p], err, errlen);
    }
    free(xp);
    base_free(&bs);
    map->xm = *m;
    map->packed = m->pack != 0;
    return rc;
}

/* ---- the driver's own mapping ---- */

/* Whether the sparse entries of depthwise q obey the N:G rule in the packed layout (int8
 * weights always do). */
static int dw_packed_fits(const mpq_hwcfg *hw, const mpq_qlayer *q)
{
    if (!q->t)
        return 1;
    dwlayer d;
    char e[256];
    if (dw_pack(hw, q, NULL, &d, e, sizeof e) != 0)
        return 0;
    int ok = sparse_fits(hw, &d.q, 0, e, sizeof e) == 0;
    dw_free(&d);
    return ok;
}

/* The driver's mapping of convolution q (lay: plan_layout's): every image, whole rows, the
 * widest column bands that fit, taps packed when it saves cycles (mpq_netmap.h). */
static int own_conv_map(const mpq_hwcfg *hw, const mpq_qlayer *q, const mpq_map_opts *o, int lay, mpq_xp_map *m,
                        char *err, size_t errlen)
{
    mpq_conv_shape us = q->s, ps;
    if (us.groups == 0)
        us.groups = 1;
    if (lay == LAYOUT_DW && dw_packed_fits(hw, q)) {
        dwpack p;
        dw_plan(hw, &q->s, &p, &ps);
        *m = bands_of(&us, widest_band(hw, &ps), 1);
        return 0;
    }
    unsigned bw = widest_band(hw, &us);
    mpq_hw_packed_shape(&q->s, &ps);
    int can_pack = thin_packable(hw, &q->s);
    char why[256];
    if (q->t) { /* sparse weights: only the layouts that keep the N:G rule */
        if (can_pack && sparse_fits(hw, q, 1, why, sizeof why) != 0)
            can_pack = 0;
        if (sparse_fits(hw, q, 0, why, sizeof why) != 0) {
            if (!can_pack || !o->pack)
                return snprintf(err, errlen, "the sparse weights break the configuration's N:G rule: %s", why),
                       MPQ_EPARAM;
            bw = 0; /* only the packed layout keeps it */
        }
    }
    unsigned pbw = can_pack ? widest_band(hw, &ps) : 0, pack = 0;
    if (can_pack && pbw > 0 && o->pack &&
        (o->pack == 2 || bw == 0 || estimate(hw, &ps, pbw) < estimate(hw, &us, bw))) {
        pack = 1;
        bw = pbw;
    }
    if (bw == 0) {
        mpq_hw_conv_fits(hw, &q->s, why, sizeof why); /* names the rule */
        return snprintf(err, errlen, "%s; not even a band of one output column fits (its window reads %u rows of "
                        "%u columns)", why, (q->s.kh - 1) * q->s.dy + 1, (q->s.kw - 1) * q->s.dx + 1), MPQ_EPARAM;
    }
    *m = bands_of(&us, bw, pack);
    return 0;
}

/* The driver's mapping of q, or o->map checked against q's shape l. */
static int choose_map(const mpq_hwcfg *hw, const mpq_qlayer *q, const mpq_hw_layer *l, const mpq_map_opts *o,
                      int lay, mpq_xp_map *m, char *err, size_t errlen)
{
    char why[256], ms[96];
    if (o->map) {
        *m = *o->map;
        mpq_xp_map_whole(l, m);
        if (mpq_xp_map_check(hw, l, m, why, sizeof why) == 0)
            return 0;
        if (!strncmp(why, "mapping", 7))
            return snprintf(err, errlen, "%s", why), MPQ_EPARAM;
        return snprintf(err, errlen, "mapping %s: %s", mpq_xp_map_str(m, ms, sizeof ms), why), MPQ_EPARAM;
    }
    if (q->s.kind != MPQ_LAYER_FC)
        return own_conv_map(hw, q, o, lay, m, err, errlen);
    if (q->k > hw->kmax)
        return snprintf(err, errlen, "the reduction of %u elements exceeds the weight buffer (KMax = %u); a tile's "
                        "reduction cannot be split (each tile requantizes)", q->k, hw->kmax), MPQ_EPARAM;
    if (q->t && sparse_fits(hw, q, 0, why, sizeof why) != 0)
        return snprintf(err, errlen, "the sparse weights break the configuration's N:G rule: %s", why), MPQ_EPARAM;
    *m = (mpq_xp_map){1, q->m, 1, 0, MPQ_XP_CHANNELS_INNER};
    return 0;
}

/* map->how: the driver's own mapping as it always read ("conv2d, 2 bands of 24 output
 * columns, taps packed into 27 channels"), a given one with its mapping and part count. */
static void describe(const mpq_hwcfg *hw, const mpq_qlayer *q, int given, mpq_map *map)
{
    char *h = map->how, ms[96];
    size_t len = sizeof map->how;
    const mpq_xp_map *m = &map->xm;
    int n;
    if (q->s.kind == MPQ_LAYER_FC) {
        n = snprintf(h, len, "fully connected as a 1x1 convolution of %u rows", q->m);
    } else if (m->pack && q->s.kind == MPQ_LAYER_DEPTHWISE) {
        dwpack p;
        mpq_conv_shape ps;
        dw_plan(hw, &q->s, &p, &ps);
        n = snprintf(h, len, "depthwise, taps packed per tile: %u x (%u channels x %u taps in %u channels)",
                     ps.groups, p.opg, q->s.kh * q->s.kw, p.fp);
    } else {
        n = snprintf(h, len, "%s", mpq_layer_name(q->s.kind));
    }
    if (n < 0 || (size_t)n >= len)
        return;
    if (given)
        n += snprintf(h + n, len - (size_t)n, ", --map %s: %u parts", mpq_xp_map_str(m, ms, sizeof ms), map->nparts);
    else if (map->nparts > 1)
        n += snprintf(h + n, len - (size_t)n, ", %u bands of %u output columns", map->nparts, m->bw);
    if (n >= 0 && (size_t)n < len && m->pack && q->s.kind == MPQ_LAYER_CONV2D)
        snprintf(h + n, len - (size_t)n, ", taps packed into %u channels", q->s.kh * q->s.kw * q->s.in_c);
}

/* mpq_map_layer of q as given (int8, or ternary + sparse), lay the layout plan_layout chose. */
static int map_layer(const mpq_hwcfg *hw, const mpq_qlayer *q, const int32_t *x, const mpq_map_opts *o, int lay,
                     mpq_map *map, char *err, size_t errlen)
{
    int fc = q->s.kind == MPQ_LAYER_FC;
    size_t nw = fc ? (size_t)q->n * q->k : 0;
    if (!fc) {
        if (q->s.kind != MPQ_LAYER_CONV2D && q->s.kind != MPQ_LAYER_DEPTHWISE)
            return snprintf(err, errlen, "a %s layer has no unit on the accelerator",
                            mpq_layer_name(q->s.kind)), MPQ_EPARAM;
        if (mpq_conv_check(&q->s, err, errlen))
            return MPQ_EPARAM;
        nw = mpq_conv_w_count(&q->s);
    }
    int rc = check_values(hw, q, nw, err, errlen);
    if (rc)
        return rc;
    mpq_layer_opts lo;
    mpq_hw_layer l;
    mpq_xp_map m;
    mpq_layer_opts_shape(&lo, &q->s, q->m, q->k, q->n);
    if ((rc = mpq_hw_layer_shape(&lo, &l, err, errlen)) != 0 ||
        (rc = choose_map(hw, q, &l, o, lay, &m, err, errlen)) != 0)
        return rc;
    map->b = fc ? q->m : q->s.batches;
    map->oh = fc ? 1 : q->s.out_h;
    map->ow = fc ? 1 : q->s.out_w;
    map->oc = fc ? q->n : q->s.out_c;
    if ((rc = cut(hw, q, &l, x, &m, map, err, errlen)) == 0)
        describe(hw, q, o->map != NULL, map);
    return rc;
}

int mpq_map_layer(const mpq_hwcfg *hw, const mpq_qlayer *q, const int32_t *x, const mpq_map_opts *o,
                  mpq_map *map, char *err, size_t errlen)
{
    memset(map, 0, sizeof *map);
    int rc, lay = q->s.kind == MPQ_LAYER_FC ? LAYOUT_PLAIN : plan_layout(hw, q, o);
    if (o->decomp && !q->t) {
        uint32_t *block = o->decomp->axis == MPQ_DECOMP_CHANNEL ? layout_blocks(hw, q, lay, o->decomp->group) : NULL;
        rc = mpq_qlayer_decompose_blocks(hw, q, o->decomp, block, &map->dq, err, errlen);
        free(block);
        if (rc != 0)
            return rc;
        map->decomposed = 1;
        q = &map->dq.q;
    }
    rc = map_layer(hw, q, x, o, lay, map, err, errlen);
    if (rc != 0)
        mpq_map_free(map);
    return rc;
}

void mpq_map_where(const mpq_map *map, unsigned p, unsigned r, unsigned *b, unsigned *oy, unsigned *ox)
{
    const mpq_map_part *pt = &map->part[p];
    unsigned ow = pt->ow ? pt->ow : 1, oh = pt->oh ? pt->oh : 1;
    *ox = pt->ox0 + r % ow;
    *oy = pt->oy0 + r / ow % oh;
    *b = pt->b0 + r / ow / oh;
}

void mpq_map_gather(const mpq_map *map, unsigned p, const int32_t *y_part, int32_t *y)
{
    const mpq_map_part *pt = &map->part[p];
    for (unsigned r = 0; r < pt->L.m; r++) {
        unsigned b, oy, ox;
        mpq_map_where(map, p, r, &b, &oy, &ox);
        memcpy(&y[(((size_t)b * map->oh + oy) * map->ow + ox) * map->oc], &y_part[(size_t)r * pt->L.n],
               map->oc * sizeof *y);
    }
}

void mpq_map_free(mpq_map *map)
{
    for (unsigned p = 0; p < map->nparts; p++)
        mpq_hw_layer_free(&map->part[p].L);
    free(map->part);
    mpq_qdecomp_free(&map->dq);
    memset(map, 0, sizeof *map);
}

int mpq_map_list_parse(const char *text, mpq_xp_map *maps, unsigned char *def, unsigned max, unsigned *n,
                       char *err, size_t errlen)
{
    *n = 0;
    for (const char *p = text;; p++) {
        size_t len = strcspn(p, ",;");
        for (; len && *p == ' '; len--) /* spaces around an item are not part of it */
            p++;
        while (len && p[len - 1] == ' ')
            len--;
        if (len == 0)
            return snprintf(err, errlen, "item %u of '%.200s': empty (give `default` or key=value fields)", *n + 1,
                            text), MPQ_EPARAM;
        if (*n == max)
            return snprintf(err, errlen, "more than %u items", max), MPQ_EPARAM;
        def[*n] = len == 7 && !strncmp(p, "default", 7);
        char why[256];
        if (!def[*n] && mpq_xp_map_parse(p, &maps[*n], why, sizeof why) != 0)
            return snprintf(err, errlen, "item %u `%.*s`: %s", *n + 1, (int)(len < 120 ? len : 120), p, why),
                   MPQ_EPARAM;
        (*n)++;
        p += strcspn(p, ",;");
        if (!*p)
            return 0;
    }
}
