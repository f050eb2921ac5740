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
#include "stim/mpq_netmap.h"

/* The layer as the accelerator sees it before any band: the original convolution, its taps
 * packed into channels, or the FC layer's 1x1 view. */
typedef struct base {
    mpq_conv_shape s;
    int fc, packed;
} base;

/* A band [ox0, ox0 + bw) of s's output columns: its shape, its first input column and the
 * columns of explicit padding on its right (the host sends the zero point there: a band that
 * ends inside the input but whose windows reach past it would otherwise need more padding on
 * its far side than the near side's plus one, which mpq_conv_check refuses). The whole width
 * is s itself. */
static void band_shape(const mpq_conv_shape *s, unsigned ox0, unsigned bw, mpq_conv_shape *o, unsigned *ix0,
                       unsigned *padr)
{
    *o = *s;
    *ix0 = 0;
    *padr = 0;
    if (ox0 == 0 && bw == s->out_w)
        return;
    long first = (long)ox0 * s->sx - (long)s->px;
    long last = (long)(ox0 + bw - 1) * s->sx - (long)s->px + (long)(s->kw - 1) * s->dx;
    long lo = first < 0 ? 0 : first, hi = last > (long)s->in_w - 1 ? (long)s->in_w - 1 : last;
    o->in_w = (unsigned)(last - lo + 1);
    o->px = (unsigned)(lo - first);
    o->out_w = bw;
    *ix0 = (unsigned)lo;
    *padr = (unsigned)(last - hi);
}

/* Whether every band of bw columns fits hw. */
static int bands_fit(const mpq_hwcfg *hw, const mpq_conv_shape *s, unsigned bw)
{
    char e[256];
    for (unsigned ox0 = 0; ox0 < s->out_w; ox0 += bw) {
        unsigned w = s->out_w - ox0 < bw ? s->out_w - ox0 : bw, ix0, padr;
        mpq_conv_shape b;
        band_shape(s, ox0, w, &b, &ix0, &padr);
        if (mpq_conv_check(&b, e, sizeof e) != 0 || mpq_hw_conv_fits(hw, &b, e, sizeof e) != 0)
            return 0;
    }
    return 1;
}

/* The widest band (in output columns) that hw runs, 0 when not even one column fits. */
static unsigned widest_band(const mpq_hwcfg *hw, const mpq_conv_shape *s)
{
    if (bands_fit(hw, s, s->out_w))
        return s->out_w;
    /* A narrower band reads fewer columns, so fitting is monotone in the width. */
    unsigned lo = 0, hi = s->out_w; /* lo fits (0 trivially), hi does not */
    while (hi - lo > 1) {
        unsigned mid = lo + (hi - lo) / 2;
        if (bands_fit(hw, s, mid))
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Estimated cycles of the whole layer in bands of bw columns (no stalls). */
static uint64_t estimate(const mpq_hwcfg *hw, const mpq_conv_shape *s, unsigned bw)
{
    mpq_timing_opts t;
    mpq_timing_default(1, 1.0, 1.0, &t);
    uint64_t c = 0;
    for (unsigned ox0 = 0; ox0 < s->out_w; ox0 += bw) {
        unsigned w = s->out_w - ox0 < bw ? s->out_w - ox0 : bw, ix0, padr;
        mpq_conv_shape b;
        band_shape(s, ox0, w, &b, &ix0, &padr);
        mpq_hw_layer l;
        mpq_hw_layer_of_conv(&l, &b);
        mpq_gen_estimate e;
        mpq_gen_estimate_run(hw, &l, &t, &e);
        c += e.cycles;
    }
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

/* Fills part's hardware layer for band [ox0, ox0 + bw) of base layer bs of q. */
static int make_part(const mpq_hwcfg *hw, const mpq_qlayer *q, const base *bs, const int32_t *x, unsigned ox0,
                     unsigned bw, mpq_map_part *part, char *err, size_t errlen)
{
    mpq_hw_layer *L = &part->L;
    part->ox0 = ox0;
    part->ow = bw;
    int rc;
    unsigned ix0 = 0, padr = 0;
    mpq_conv_shape b;
    if (bs->fc) {
        rc = mpq_hw_layer_alloc(L, q->m, q->k, q->n);
        if (rc)
            return fail(err, errlen, rc, rc == MPQ_ENOMEM ? "out of memory" : "a zero dimension");
        if (x)
            memcpy(L->x, x, (size_t)q->m * q->k * sizeof *x);
    } else {
        band_shape(&bs->s, ox0, bw, &b, &ix0, &padr);
        if ((rc = mpq_hw_layer_alloc_conv(L, &b, err, errlen)))
            return rc;
    }
    if (x && !bs->fc) {
        const mpq_conv_shape *s = &q->s;
        unsigned C = b.in_c;
        for (unsigned n = 0; n < b.batches; n++)
            for (unsigned y = 0; y < b.in_h; y++)
                for (unsigned xx = 0; xx < b.in_w; xx++) {
                    int32_t *dst = &L->x[(((size_t)n * b.in_h + y) * b.in_w + xx) * C];
                    if (xx >= b.in_w - padr) { /* explicit padding: the zero point */
                        for (unsigned c = 0; c < C; c++)
                            dst[c] = -q->in_offset;
                        continue;
                    }
                    if (!bs->packed) {
                        memcpy(dst, &x[(((size_t)n * s->in_h + y) * s->in_w + ix0 + xx) * s->in_c],
                               C * sizeof *dst);
                        continue;
                    }
                    /* pixel (y, ix0 + xx) of the packed layer is output pixel (oy, ox) */
                    unsigned oy = y, ox = ix0 + xx;
                    for (unsigned ky = 0; ky < s->kh; ky++)
                        for (unsigned kx = 0; kx < s->kw; kx++) {
                            long iy = (long)oy * s->sy - (long)s->py + (long)ky * s->dy;
                            long ix = (long)ox * s->sx - (long)s->px + (long)kx * s->dx;
                            int32_t *d = dst + ((size_t)ky * s->kw + kx) * s->in_c;
                            if (iy < 0 || iy >= (long)s->in_h || ix < 0 || ix >= (long)s->in_w) {
                                for (unsigned c = 0; c < s->in_c; c++)
                                    d[c] = -q->in_offset; /* the zero point: adds nothing */
                                continue;
                            }
                            memcpy(d, &x[(((size_t)n * s->in_h + (size_t)iy) * s->in_w + (size_t)ix) * s->in_c],
                                   s->in_c * sizeof *d);
                        }
                }
    }
    size_t nw = bs->fc ? (size_t)q->n * q->k : mpq_conv_w_count(&q->s);
    if (q->t) { /* OHWI flattened is the packed [o][tap][c] */
        memcpy(L->t, q->t, nw * sizeof *L->t);
        memcpy(L->hp, q->hp, nw * sizeof *L->hp);
    } else {
        for (size_t i = 0; i < nw; i++)
            L->hp[i] = q->w[i] + q->w_offset;
    }
    unsigned n = L->n;
    for (unsigned c = 0; c < n; c++) {
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

static int map_layer(const mpq_hwcfg *hw, const mpq_qlayer *q, const int32_t *x, const mpq_map_opts *o,
                     mpq_map *map, char *err, size_t errlen);

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

/* Maps depthwise layer q in the packed layout: the 1x1 grouped conv2d of dw_pack, in bands
 * as any conv2d. Falls back to the plain depthwise layer when its sparse weights break the
 * N:G rule in the packed layout. */
static int map_dw_packed(const mpq_hwcfg *hw, const mpq_qlayer *q, const int32_t *x, const mpq_map_opts *o,
                         mpq_map *map, char *err, size_t errlen)
{
    dwlayer d;
    int rc = dw_pack(hw, q, x, &d, err, errlen);
    if (rc)
        return rc;
    char why[256];
    if (q->t && sparse_fits(hw, &d.q, 0, why, sizeof why) != 0) {
        dw_free(&d);
        return map_layer(hw, q, x, o, map, err, errlen);
    }
    mpq_map_opts plain = *o;
    plain.pack = 0;
    plain.decomp = NULL;
    rc = map_layer(hw, &d.q, d.x, &plain, map, err, errlen);
    if (rc == 0) {
        map->packed = 1;
        int n = snprintf(map->how, sizeof map->how, "depthwise, taps packed per tile: %u x (%u channels x %u "
                         "taps in %u channels)", d.q.s.groups, d.p.opg, q->s.kh * q->s.kw, d.p.fp);
        if (map->nparts > 1)
            snprintf(map->how + n, sizeof map->how - (size_t)n, ", %u bands of %u output columns", map->nparts,
                     map->part[0].ow);
    }
    dw_free(&d);
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
    if (lay == LAYOUT_DW)
        rc = map_dw_packed(hw, q, x, o, map, err, errlen);
    else
        rc = map_layer(hw, q, x, o, map, err, errlen);
    if (rc != 0)
        mpq_map_free(map);
    return rc;
}

/* mpq_map_layer of q as given (int8, or ternary + sparse). */
static int map_layer(const mpq_hwcfg *hw, const mpq_qlayer *q, const int32_t *x, const mpq_map_opts *o,
                     mpq_map *map, char *err, size_t errlen)
{
    base bs;
    memset(&bs, 0, sizeof bs);
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
    unsigned bw = 1;
    if (fc) {
        bs.fc = 1;
        if (q->k > hw->kmax)
            return snprintf(err, errlen, "the reduction of %u elements exceeds the weight buffer "
                            "(KMax = %u); a tile's reduction cannot be split (each tile requantizes)",
                            q->k, hw->kmax), MPQ_EPARAM;
        char why[256];
        if (q->t && sparse_fits(hw, q, 0, why, sizeof why) != 0)
            return snprintf(err, errlen, "the sparse weights break the configuration's N:G rule: %s", why),
                   MPQ_EPARAM;
        map->b = q->m;
        map->oh = map->ow = 1;
        map->oc = q->n;
        snprintf(map->how, sizeof map->how, "fully connected as a 1x1 convolution of %u rows", q->m);
    } else {
        bs.s = q->s;
        if (bs.s.groups == 0)
            bs.s.groups = 1;
        bw = widest_band(hw, &bs.s);
        /* Packing: conv2d without groups whose pixel fills less than one slice. */
        mpq_conv_shape ps;
        mpq_hw_packed_shape(&q->s, &ps);
        int can_pack = thin_packable(hw, &q->s);
        char why[256];
        if (q->t) { /* sparse weights: only the layouts that keep the N:G rule */
            if (can_pack && sparse_fits(hw, q, 1, why, sizeof why) != 0)
                can_pack = 0;
            if (sparse_fits(hw, q, 0, why, sizeof why) != 0) {
                if (!can_pack || !o->pack)
                    return snprintf(err, errlen, "the sparse weights break the configuration's N:G rule: "
                                    "%s", why), MPQ_EPARAM;
                bw = 0; /* only the packed layout keeps it */
            }
        }
        unsigned pbw = can_pack ? widest_band(hw, &ps) : 0;
        if (can_pack && pbw > 0 && o->pack) {
            if (o->pack == 2 || bw == 0 || estimate(hw, &ps, pbw) < estimate(hw, &bs.s, bw)) {
                bs.s = ps;
                bs.packed = 1;
                bw = pbw;
            }
        }
        if (bw == 0) {
            mpq_hw_conv_fits(hw, &q->s, why, sizeof why); /* names the rule */
            return snprintf(err, errlen, "%s; not even a band of one output column fits (its window "
                            "reads %u rows of %u columns)", why, (q->s.kh - 1) * q->s.dy + 1,
                            (q->s.kw - 1) * q->s.dx + 1), MPQ_EPARAM;
        }
        map->b = q->s.batches;
        map->oh = q->s.out_h;
        map->ow = q->s.out_w;
        map->oc = q->s.out_c;
        unsigned nb = (q->s.out_w + bw - 1) / bw;
        int n = snprintf(map->how, sizeof map->how, "%s", mpq_layer_name(q->s.kind));
        if (nb > 1)
            n += snprintf(map->how + n, sizeof map->how - (size_t)n, ", %u bands of %u output columns", nb, bw);
        if (bs.packed)
            snprintf(map->how + n, sizeof map->how - (size_t)n, ", taps packed into %u channels", bs.s.in_c);
    }
    map->packed = bs.packed;
    unsigned nparts = fc ? 1 : (q->s.out_w + bw - 1) / bw;
    map->part = calloc(nparts, sizeof *map->part);
    if (!map->part)
        return fail(err, errlen, MPQ_ENOMEM, "out of memory");
    for (unsigned p = 0; p < nparts; p++) {
        unsigned ox0 = p * bw, w = fc ? 1 : (q->s.out_w - ox0 < bw ? q->s.out_w - ox0 : bw);
        map->nparts = p + 1;
        if ((rc = make_part(hw, q, &bs, x, ox0, w, &map->part[p], err, errlen)))
            return rc;
    }
    return 0;
}

void mpq_map_where(const mpq_map *map, unsigned p, unsigned r, unsigned *b, unsigned *oy, unsigned *ox)
{
    const mpq_map_part *pt = &map->part[p];
    unsigned ow = pt->ow ? pt->ow : 1;
    *ox = pt->ox0 + r % ow;
    *oy = (r / ow) % map->oh;
    *b = r / ow / map->oh;
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
