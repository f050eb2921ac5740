/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_conv.c: the spatial layers over NHWC integer tensors (../shared/oracles/FORMAT.md,
 * "Spatial layers"): conv2d with stride, padding, dilation and groups, depthwise with a
 * channel multiplier, average and max pooling; the shape rules they share.
 *
 * A convolution is reduced by the engine of mpq_mac.c: each output pixel and group is one
 * row (its im2col patch, [ky][kx][c], 0 where the window leaves the input), the OHWI
 * filters are the engine's [out_c][kh*kw*F] weight matrix, and the fit points are the
 * blocks of the GROUPED order (mpq.h). A depthwise layer is the grouped convolution with
 * in_c groups of one channel; its filters are transposed to that layout. Hardware
 * counterpart: the accelerator's conv mode (rtl/mpq_lane.sv accumulates one output channel;
 * a KLanes-wide slice is one block of input channels at one window position).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq_mac.h"

#if defined(__SSE2__) && !defined(MPQ_NO_SIMD)
#include <emmintrin.h>
#endif

static const char *const layer_names[MPQ_LAYER_COUNT] = {"fc", "conv2d", "depthwise", "avgpool",
                                                         "maxpool"};

const char *mpq_layer_name(mpq_layer_kind k)
{
    return (unsigned)k < MPQ_LAYER_COUNT ? layer_names[k] : "?";
}

int mpq_layer_parse(const char *s, mpq_layer_kind *k)
{
    int i = mpq_name_find(layer_names, MPQ_LAYER_COUNT, s);
    if (i < 0)
        return MPQ_EPARAM;
    *k = (mpq_layer_kind)i;
    return MPQ_OK;
}

/* ---- shapes ---- */

static unsigned groups_of(const mpq_conv_shape *s)
{
    if (s->kind == MPQ_LAYER_DEPTHWISE)
        return s->in_c;
    return s->kind == MPQ_LAYER_CONV2D && s->groups ? s->groups : 1;
}

/* Input channels per group (F) and output channels per group. */
static unsigned chans_per_group(const mpq_conv_shape *s)
{
    return s->kind == MPQ_LAYER_CONV2D ? s->in_c / groups_of(s) : 1;
}

unsigned mpq_conv_depth(const mpq_conv_shape *s)
{
    return s->kh * s->kw * chans_per_group(s);
}

size_t mpq_conv_in_count(const mpq_conv_shape *s)
{
    return (size_t)s->batches * s->in_h * s->in_w * s->in_c;
}

size_t mpq_conv_out_count(const mpq_conv_shape *s)
{
    return (size_t)s->batches * s->out_h * s->out_w * s->out_c;
}

size_t mpq_conv_w_count(const mpq_conv_shape *s)
{
    if (s->kind != MPQ_LAYER_CONV2D && s->kind != MPQ_LAYER_DEPTHWISE)
        return 0;
    return (size_t)s->out_c * mpq_conv_depth(s);
}

mpq_conv_layer mpq_conv_layer_of_fc(const mpq_conv_shape *s, const mpq_fc_layer *fc)
{
    mpq_conv_layer l = {
        .shape = *s, .x = fc->x, .in_offset = fc->in_offset, .w = fc->w, .w_offset = fc->w_offset,
        .t = fc->t, .alpha = fc->alpha, .alpha_per_tensor = fc->alpha_per_tensor, .hp = fc->hp,
        .bias = fc->bias, .acc_bits = fc->acc_bits, .acc_mode = fc->acc_mode, .order = fc->order,
        .group = fc->group,
    };
    return l;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* One axis: out must be what stride, padding and dilation give (mpq_conv_check). */
static int check_axis(const char *axis, unsigned in, unsigned k, unsigned stride, unsigned pad,
                      unsigned dil, unsigned out, char *err, size_t errlen)
{
    if (in < 1 || k < 1 || stride < 1 || dil < 1 || out < 1) {
        snprintf(err, errlen, "%s axis: input %u, kernel %u, stride %u, dilation %u and output %u "
                 "must all be >= 1", axis, in, k, stride, dil, out);
        return MPQ_EPARAM;
    }
    int64_t e = (int64_t)(k - 1) * dil + 1, s = stride, p = pad;
    if (p >= e) {
        snprintf(err, errlen, "%s axis: padding %u is not below the window extent %lld", axis, pad,
                 (long long)e);
        return MPQ_EPARAM;
    }
    int64_t q = (int64_t)(out - 1) * s + e - in - p; /* implied far-side padding */
    int64_t qmax = p + 1 < e - 1 ? p + 1 : e - 1;
    if (q <= -s || q > qmax) {
        int64_t lo = floor_div((int64_t)in + p - e, s) + 1;
        int64_t hi = floor_div((int64_t)in + p - e + qmax, s) + 1;
        snprintf(err, errlen, "%s axis: output size %u disagrees with input %u, kernel %u, stride %u, "
                 "padding %u and dilation %u (expected %lld..%lld)", axis, out, in, k, stride, pad,
                 dil, (long long)(lo < 1 ? 1 : lo), (long long)hi);
        return MPQ_EPARAM;
    }
    return MPQ_OK;
}

int mpq_conv_check(const mpq_conv_shape *s, char *err, size_t errlen)
{
    if (s->kind != MPQ_LAYER_CONV2D && s->kind != MPQ_LAYER_DEPTHWISE &&
        s->kind != MPQ_LAYER_AVGPOOL && s->kind != MPQ_LAYER_MAXPOOL) {
        snprintf(err, errlen, "layer kind %d is not a spatial layer", (int)s->kind);
        return MPQ_EPARAM;
    }
    const char *name = mpq_layer_name(s->kind);
    if (s->batches < 1 || s->in_c < 1 || s->out_c < 1) {
        snprintf(err, errlen, "%s: batches %u, in_c %u and out_c %u must be >= 1", name, s->batches,
                 s->in_c, s->out_c);
        return MPQ_EPARAM;
    }
    unsigned g = s->groups ? s->groups : 1;
    if (s->kind == MPQ_LAYER_CONV2D && (s->in_c % g || s->out_c % g)) {
        snprintf(err, errlen, "conv2d: groups %u do not divide in_c %u and out_c %u", g, s->in_c,
                 s->out_c);
        return MPQ_EPARAM;
    }
    if (s->kind != MPQ_LAYER_CONV2D && g != 1) {
        snprintf(err, errlen, "%s: groups apply to conv2d only", name);
        return MPQ_EPARAM;
    }
    if (s->kind == MPQ_LAYER_DEPTHWISE && s->out_c % s->in_c) {
        snprintf(err, errlen, "depthwise: out_c %u is not a multiple of in_c %u", s->out_c, s->in_c);
        return MPQ_EPARAM;
    }
    int pool = s->kind == MPQ_LAYER_AVGPOOL || s->kind == MPQ_LAYER_MAXPOOL;
    if (pool && s->out_c != s->in_c) {
        snprintf(err, errlen, "%s: out_c %u differs from in_c %u", name, s->out_c, s->in_c);
        return MPQ_EPARAM;
    }
    if (pool && (s->dy != 1 || s->dx != 1)) {
        snprintf(err, errlen, "%s: pooling takes no dilation", name);
        return MPQ_EPARAM;
    }
    int st;
    if ((st = check_axis("height", s->in_h, s->kh, s->sy, s->py, s->dy, s->out_h, err, errlen)) ||
        (st = check_axis("width", s->in_w, s->kw, s->sx, s->px, s->dx, s->out_w, err, errlen)))
        return st;
    double big = 2147483647.0;
    double in = (double)s->batches * s->in_h * s->in_w * s->in_c;
    double out = (double)s->batches * s->out_h * s->out_w * s->out_c;
    double w = (double)s->out_c * s->kh * s->kw * s->in_c;
    if (in > big || out > big || w > big) {
        snprintf(err, errlen, "%s: tensors of more than 2^31 elements", name);
        return MPQ_EPARAM;
    }
    return MPQ_OK;
}

/* ---- convolution ---- */

/* Records one output's overflow result (the conv twin of mpq_fc.c's note). */
static void conv_note(mpq_conv_ovf *ovf, const mpq_conv_shape *s, size_t i, mpq_mac_out o)
{
    if (mpq_mac_note(&ovf->n_final, &ovf->n_any, ovf->flags, ovf->first_r, i, o,
                     ovf->first_b >= 0)) {
        size_t pix = i / s->out_c;
        ovf->first_ch = (long)(i % s->out_c);
        ovf->first_ox = (long)(pix % s->out_w);
        ovf->first_oy = (long)(pix / s->out_w % s->out_h);
        ovf->first_b = (long)(pix / s->out_w / s->out_h);
        ovf->first_red = o.first;
        ovf->first_bias = o.first < 0;
    }
}

/* The fit points of group grp: SEQ every term; GROUPED the end of each run of channels in
 * one aligned block of `g` absolute input channels, at every window position. */
static unsigned make_cuts(const mpq_conv_layer *l, unsigned grp, unsigned *cuts)
{
    const mpq_conv_shape *s = &l->shape;
    unsigned f = chans_per_group(s), npos = s->kh * s->kw, n = 0;
    unsigned g = l->order == MPQ_ORDER_SEQ ? 1 : l->group;
    unsigned g0 = s->kind == MPQ_LAYER_CONV2D ? grp * f : grp;
    for (unsigned p = 0; p < npos; p++)
        for (unsigned c = 0; c < f; c++)
            if ((g0 + c + 1) % g == 0 || c + 1 == f)
                cuts[n++] = p * f + c + 1;
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

/* The im2col patch of pixel (b, oy, ox) and input channels [ci0, ci0 + f) into r. */
static void load_patch(const mpq_conv_layer *l, const mpq_mac_plan *p, unsigned b, unsigned oy,
                       unsigned ox, unsigned ci0, unsigned f, mpq_mac_row *r)
{
    const mpq_conv_shape *s = &l->shape;
    unsigned at = 0;
    for (unsigned ky = 0; ky < s->kh; ky++) {
        long iy = (long)oy * s->sy - (long)s->py + (long)ky * s->dy;
        for (unsigned kx = 0; kx < s->kw; kx++, at += f) {
            long ix = (long)ox * s->sx - (long)s->px + (long)kx * s->dx;
            int in = iy >= 0 && iy < (long)s->in_h && ix >= 0 && ix < (long)s->in_w;
            mpq_mac_row_put(p, r, at,
                            in ? l->x + (((size_t)b * s->in_h + (size_t)iy) * s->in_w + (size_t)ix) *
                                            s->in_c + ci0
                               : NULL,
                            f, l->in_offset);
        }
    }
    mpq_mac_row_load(p, r);
}

typedef struct conv_work {
    mpq_mac_plan plan;
    mpq_mac_row row;
    unsigned *cuts;     /* [groups][depth] */
    unsigned *ncuts;    /* [groups] */
    int32_t *tw, *thp;  /* depthwise filters transposed */
    int8_t *tt;
    mpq_mac_out *outs;  /* [out_c]: one group's results */
} conv_work;

static void work_free(conv_work *wk)
{
    mpq_mac_plan_free(&wk->plan);
    mpq_mac_row_free(&wk->row);
    MPQ_FREE_ALL(wk->cuts, wk->ncuts, wk->tw, wk->thp, wk->tt, wk->outs);
}

/* Plan step: the weights as the engine's matrix, the fit points of every group. */
static int conv_plan(const mpq_conv_layer *l, int track, int64_t xmax, conv_work *wk, char *err,
                     size_t errlen)
{
    const mpq_conv_shape *s = &l->shape;
    unsigned depth = mpq_conv_depth(s), groups = groups_of(s), npos = s->kh * s->kw;
    mpq_fc_layer wl = {.m = 0, .k = depth, .n = s->out_c, .w = l->w, .w_offset = l->w_offset,
                       .t = l->t, .alpha = l->alpha, .alpha_per_tensor = l->alpha_per_tensor,
                       .hp = l->hp, .bias = l->bias, .acc_bits = l->acc_bits,
                       .acc_mode = l->acc_mode};
    if (s->kind == MPQ_LAYER_DEPTHWISE) {
        if (transpose_dw(l->w, l->t, npos, s->out_c, &wk->tw, &wk->tt) ||
            transpose_dw(l->hp, NULL, npos, s->out_c, &wk->thp, NULL))
            goto nomem;
        wl.w = wk->tw;
        wl.t = wk->tt;
        wl.hp = wk->thp;
    }
    int st = mpq_mac_plan_init(&wk->plan, &wl, xmax, track, err, errlen);
    if (st)
        return st;
    wk->cuts = malloc((size_t)groups * depth * sizeof *wk->cuts);
    wk->ncuts = malloc((size_t)groups * sizeof *wk->ncuts);
    wk->outs = malloc(((size_t)s->out_c + 1) * sizeof *wk->outs);
    if (!wk->cuts || !wk->ncuts || !wk->outs || mpq_mac_row_init(&wk->row, depth))
        goto nomem;
    for (unsigned grp = 0; grp < groups; grp++)
        wk->ncuts[grp] = make_cuts(l, grp, wk->cuts + (size_t)grp * depth);
    return MPQ_OK;
nomem:
    snprintf(err, errlen, "out of memory");
    return MPQ_ENOMEM;
}

int mpq_conv_check_kind(const mpq_conv_shape *s, int pool, char *err, size_t errlen)
{
    int is_pool = s->kind == MPQ_LAYER_AVGPOOL || s->kind == MPQ_LAYER_MAXPOOL;
    int is_conv = s->kind == MPQ_LAYER_CONV2D || s->kind == MPQ_LAYER_DEPTHWISE;
    if (pool ? !is_pool : !is_conv) {
        snprintf(err, errlen, "%s is not a %s layer", mpq_layer_name(s->kind),
                 pool ? "pooling" : "convolution");
        return MPQ_EPARAM;
    }
    return mpq_conv_check(s, err, errlen);
}

static int conv_check(const mpq_conv_layer *l, char *err, size_t errlen)
{
    int st = mpq_conv_check_kind(&l->shape, 0, err, errlen);
    return st ? st : mpq_mac_check_order(l->x, l->order, l->group, err, errlen);
}

/* One output through the engine: its im2col patch (group grp), then the channel. */
static mpq_mac_out conv_one(const mpq_conv_layer *l, conv_work *wk, unsigned b, unsigned oy,
                            unsigned ox, unsigned grp, unsigned o)
{
    const mpq_conv_shape *s = &l->shape;
    unsigned f = chans_per_group(s), depth = mpq_conv_depth(s);
    load_patch(l, &wk->plan, b, oy, ox, s->kind == MPQ_LAYER_CONV2D ? grp * f : grp, f, &wk->row);
    return mpq_mac_chan(&wk->plan, &wk->row, o, wk->cuts + (size_t)grp * depth, wk->ncuts[grp]);
}

/* ---- depthwise fast path ---- */

/* The depthwise fast path's working set. The input comes through a ring of the window's rows
 * in 16 bits, each with the padding as zero columns (every window position reads memory: no
 * tests in the row kernel) and its pixels `ocp` channels apart (out_c rounded up to 8: every
 * vector load is aligned); rows outside the input read a zero row. The filters are laid out
 * per block of 8 channels and pair of window positions, as the multiply-add reads them. */
typedef struct dw_work {
    int16_t *xe, *zeros;     /* xe: [batches][in_h][wpad][ocp] */
    int16_t *wblk;           /* [ocp/8][npairs][8][2]: w(t, o) at [o/8][t/2][o%8][t%2], 0 past npos */
    int64_t *bias;           /* [ocp] */
    int32_t *sum;            /* [out_w * out_c]: one output row's sums (the fitting path) */
    uint8_t *safe;           /* [out_c]: no fit can change the channel, or none matters */
    const int16_t **rows;    /* [kh]: the window's rows for the current output row */
    unsigned ocp, npairs, wpad; /* wpad: padded row width in pixels */
    int all_safe, direct;    /* direct: bias + sum needs no fit at all */
} dw_work;

static void dw_free(dw_work *d)
{
    MPQ_FREE_ALL(d->xe, d->zeros, d->wblk, d->bias, d->sum, d->safe, d->rows);
    memset(d, 0, sizeof *d);
}

/* n bytes, 16-byte aligned (the row kernel's aligned loads), zeroed when `zero`, or NULL. */
static void *alloc16(size_t n, int zero)
{
    n = (n + 16) & ~(size_t)15;
    void *p = aligned_alloc(16, n);
    if (p && zero)
        memset(p, 0, n);
    return p;
}

/* The row kernel is written once for any window; its 3x3 call site passes constant kh and
 * kw, and forcing the inline lets the compiler unroll the positions there. */
#if defined(__GNUC__)
#define DW_INLINE static inline __attribute__((always_inline))
#else
#define DW_INLINE static inline
#endif

/* One output row of the layer l. For output column ox, channel o and window position
 * t = ky*kw + kx,
 *     sum = sum over t of rows[ky][(ox*sx + kx*dx)*ocp + o] * w(t, o),
 * exact in 32 bits (the caller's bound). With dst: dst[ox*oc + o] = bias[o] + sum in 64 bits,
 * and when not NULL flags[ox*oc + o] = 0, first[ox*oc + o] = -1 (the reports of a layer that
 * cannot overflow, written beside the accumulators); without: sum[ox*oc + o] = sum. SSE2:
 * eight channels at a time, two window positions per multiply-add (their inputs interleaved
 * channel by channel; an odd last position pairs with zeros). */
DW_INLINE void dw_row(const dw_work *d, const mpq_conv_shape *s, const int16_t *const *rows,
                      unsigned kh, unsigned kw, int32_t *sum, int64_t *dst, uint8_t *flags,
                      int32_t *first)
{
    const unsigned npos = kh * kw, oc = s->out_c, out_w = s->out_w, npairs = d->npairs;
    const size_t step = (size_t)s->sx * d->ocp, dxc = (size_t)s->dx * d->ocp;
    const int16_t *const wblk = d->wblk;
    const int64_t *const bias = d->bias;
    for (unsigned ox = 0; ox < out_w; ox++) {
        const size_t at = ox * step, out = (size_t)ox * oc;
        unsigned o0 = 0;
#if defined(__SSE2__) && !defined(MPQ_NO_SIMD)
#define DW_LOAD(p) _mm_load_si128((const __m128i *)(const void *)(p))
        const __m128i zero = _mm_setzero_si128();
        for (; o0 + 8 <= oc; o0 += 8) {
            const int16_t *w = wblk + (size_t)(o0 / 8) * npairs * 16;
            __m128i a0 = zero, a1 = zero;
            for (unsigned t = 0; t < npos; t += 2, w += 16) {
                __m128i xa = DW_LOAD(rows[t / kw] + at + (t % kw) * dxc + o0);
                __m128i xb = t + 1 < npos ? DW_LOAD(rows[(t + 1) / kw] + at + ((t + 1) % kw) * dxc + o0)
                                          : zero;
                a0 = _mm_add_epi32(a0, _mm_madd_epi16(_mm_unpacklo_epi16(xa, xb), DW_LOAD(w)));
                a1 = _mm_add_epi32(a1, _mm_madd_epi16(_mm_unpackhi_epi16(xa, xb), DW_LOAD(w + 8)));
            }
            if (!dst) {
                _mm_storeu_si128((__m128i *)(void *)(sum + out + o0), a0);
                _mm_storeu_si128((__m128i *)(void *)(sum + out + o0 + 4), a1);
                continue;
            }
            /* bias + sum in 64 bits: the sums sign-extended (the sign mask as high halves). */
            __m128i *dp = (__m128i *)(void *)(dst + out + o0);
            __m128i s0 = _mm_cmpgt_epi32(zero, a0), s1 = _mm_cmpgt_epi32(zero, a1);
            _mm_storeu_si128(dp, _mm_add_epi64(_mm_unpacklo_epi32(a0, s0), DW_LOAD(bias + o0)));
            _mm_storeu_si128(dp + 1, _mm_add_epi64(_mm_unpackhi_epi32(a0, s0), DW_LOAD(bias + o0 + 2)));
            _mm_storeu_si128(dp + 2, _mm_add_epi64(_mm_unpacklo_epi32(a1, s1), DW_LOAD(bias + o0 + 4)));
            _mm_storeu_si128(dp + 3, _mm_add_epi64(_mm_unpackhi_epi32(a1, s1), DW_LOAD(bias + o0 + 6)));
            if (flags)
                _mm_storel_epi64((__m128i *)(void *)(flags + out + o0), zero);
            if (first) {
                const __m128i none = _mm_cmpeq_epi32(zero, zero);
                _mm_storeu_si128((__m128i *)(void *)(first + out + o0), none);
                _mm_storeu_si128((__m128i *)(void *)(first + out + o0 + 4), none);
            }
        }
#undef DW_LOAD
#endif
        for (unsigned o = o0; o < oc; o++) {
            int32_t v = 0;
            for (unsigned t = 0; t < npos; t++)
                v += (int32_t)rows[t / kw][at + (t % kw) * dxc + o] *
                     wblk[((size_t)(o / 8) * npairs + t / 2) * 16 + (o % 8) * 2 + t % 2];
            if (!dst) {
                sum[out + o] = v;
                continue;
            }
            dst[out + o] = bias[o] + v;
            if (flags)
                flags[out + o] = 0;
            if (first)
                first[out + o] = -1;
        }
    }
}

/* The input in 16 bits, x + in_offset, each input channel repeated for its ch_mult output
 * channels, into the padded layout of dw_work (allocated here), in one pass with the largest
 * |x + in_offset|. Returns that bound when every value fits 16 bits (the 16-bit kernel's
 * condition), -1 when some does not (the layout is then unused), MPQ_ENOMEM. */
static int64_t dw_input(const mpq_conv_layer *l, dw_work *d)
{
    const mpq_conv_shape *s = &l->shape;
    const unsigned oc = s->out_c, mult = s->out_c / s->in_c;
    memset(d, 0, sizeof *d);
    d->ocp = (oc + 7) / 8 * 8;
    /* Padded columns: the window's reach, and the input behind the near padding. */
    unsigned reach = (s->out_w - 1) * s->sx + (s->kw - 1) * s->dx + 1;
    d->wpad = reach > s->px + s->in_w ? reach : s->px + s->in_w;
    const size_t row = (size_t)d->wpad * d->ocp, rows = (size_t)s->batches * s->in_h;
    d->xe = alloc16(rows * row * sizeof *d->xe, 0);
    if (!d->xe)
        return MPQ_ENOMEM;
    const int32_t off = l->in_offset;
    int64_t lo = 0, hi = 0;
#if defined(__SSE2__) && !defined(MPQ_NO_SIMD)
    /* Packs saturate: a value at the 16-bit limits sends the layer back (-1). */
    const __m128i vo = _mm_set1_epi32(off);
    __m128i mn = _mm_setzero_si128(), mx = mn;
#endif
    for (size_t r = 0; r < rows; r++) {
        const int32_t *src = l->x + r * s->in_w * s->in_c;
        int16_t *dst = d->xe + r * row + (size_t)s->px * d->ocp;
        /* The padding columns read zeros (channels past out_c are never read). */
        memset(d->xe + r * row, 0, (size_t)s->px * d->ocp * sizeof *d->xe);
        memset(dst + (size_t)s->in_w * d->ocp, 0,
               (size_t)(d->wpad - s->px - s->in_w) * d->ocp * sizeof *d->xe);
        for (unsigned ix = 0; ix < s->in_w; ix++, src += s->in_c, dst += d->ocp) {
            unsigned c = 0;
#if defined(__SSE2__) && !defined(MPQ_NO_SIMD)
            for (; mult == 1 && c + 8 <= s->in_c; c += 8) {
                __m128i v = _mm_packs_epi32(
                    _mm_add_epi32(_mm_loadu_si128((const __m128i *)(const void *)(src + c)), vo),
                    _mm_add_epi32(_mm_loadu_si128((const __m128i *)(const void *)(src + c + 4)), vo));
                mn = _mm_min_epi16(mn, v);
                mx = _mm_max_epi16(mx, v);
                _mm_store_si128((__m128i *)(void *)(dst + c), v);
            }
#endif
            for (; c < s->in_c; c++) {
                int64_t v = (int64_t)src[c] + off;
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
                for (unsigned j = 0; j < mult; j++)
                    dst[c * mult + j] = (int16_t)(v < INT16_MIN ? INT16_MIN : v > INT16_MAX ? INT16_MAX : v);
            }
        }
    }
#if defined(__SSE2__) && !defined(MPQ_NO_SIMD)
    int16_t m[16];
    _mm_storeu_si128((__m128i *)(void *)m, mn);
    _mm_storeu_si128((__m128i *)(void *)(m + 8), mx);
    for (int j = 0; j < 8; j++) {
        lo = m[j] < lo ? m[j] : lo;
        hi = m[j + 8] > hi ? m[j + 8] : hi;
    }
#endif
    if (lo <= INT16_MIN || hi >= INT16_MAX)
        return -1;
    return -lo > hi ? -lo : hi;
}

/* Lays the filters out for the row kernel, allocates the ring and decides which channels
 * need their fits. 0 or MPQ_ENOMEM. */
static int dw_prepare(const mpq_conv_layer *l, const mpq_mac_plan *p, dw_work *d)
{
    const mpq_conv_shape *s = &l->shape;
    const unsigned npos = s->kh * s->kw, oc = s->out_c;
    d->npairs = (npos + 1) / 2;
    const size_t row = (size_t)d->wpad * d->ocp;
    d->zeros = alloc16(row * sizeof *d->zeros, 1);
    d->wblk = alloc16((size_t)d->ocp * d->npairs * 2 * sizeof *d->wblk, 1);
    d->bias = alloc16((size_t)d->ocp * sizeof *d->bias, 1);
    d->sum = malloc(((size_t)s->out_w * oc + 1) * sizeof *d->sum);
    d->safe = malloc((size_t)oc + 1);
    d->rows = malloc(((size_t)s->kh + 1) * sizeof *d->rows);
    if (!d->zeros || !d->wblk || !d->bias || !d->sum || !d->safe || !d->rows)
        return MPQ_ENOMEM;
    for (unsigned o = 0; o < oc; o++) {
        d->bias[o] = p->bias[o];
        for (unsigned t = 0; t < npos; t++)
            d->wblk[((size_t)(o / 8) * d->npairs + t / 2) * 16 + (o % 8) * 2 + t % 2] =
                p->w16[(size_t)o * npos + t];
    }
    /* safe: the bounds prove no fit changes the channel, or its fits do not matter (an
     * untracked wrapping accumulator is wrap(bias + sum) in any order). */
    const mpq_i128 acc_hi = ((mpq_i128)1 << (p->acc_bits - 1)) - 1;
    int all_bound = 1;
    d->all_safe = 1;
    for (unsigned o = 0; o < oc; o++) {
        int bound = (mpq_i128)mpq_abs64(p->bias[o]) + (mpq_i128)p->xmax * p->chan_bound[o] <= acc_hi;
        d->safe[o] = (uint8_t)(bound || (!p->track && !p->sat));
        all_bound &= bound;
        d->all_safe &= d->safe[o];
    }
    /* bias + sum needs no fit: bounded, or |bias + sum| < 2^32 within acc_bits. */
    d->direct = all_bound || (d->all_safe && p->acc_bits >= 33);
    return MPQ_OK;
}

/* Depthwise vectorized over the channels, one output row at a time (dw_row). Taken when every
 * weight folds into 16 bits and no 32-bit sum can overflow. An output whose bounds do not
 * prove that no fit changes it, when fits matter (saturation or tracking), goes through the
 * engine term by term. Returns 0 when it handled the layer, 1 when it does not apply,
 * MPQ_ENOMEM. */
static int depthwise_fast(const mpq_conv_layer *l, conv_work *wk, dw_work *dp, int64_t *acc,
                          mpq_conv_ovf *ovf)
{
    const mpq_mac_plan *p = &wk->plan;
    const mpq_conv_shape *s = &l->shape;
    const unsigned npos = s->kh * s->kw, oc = s->out_c, mult = s->out_c / s->in_c;
    if (p->kernel != MPQ_MAC_K16 || !p->w16 || p->t || p->e.ptr[p->n] ||
        (mpq_i128)npos * p->xmax * (p->wmax16 ? p->wmax16 : 1) > INT32_MAX)
        return 1;
    dw_work d = *dp;
    memset(dp, 0, sizeof *dp);
    if (dw_prepare(l, p, &d)) {
        dw_free(&d);
        return MPQ_ENOMEM;
    }
    /* Tracking and all_safe (then direct: bounded): nothing overflows, and the row kernel
     * writes the reports beside the accumulators. */
    const int report = ovf && d.all_safe;
    const size_t per_row = (size_t)s->out_w * oc;
    size_t i = 0;
    for (unsigned b = 0; b < s->batches; b++)
        for (unsigned oy = 0; oy < s->out_h; oy++, i += per_row) {
            for (unsigned ky = 0; ky < s->kh; ky++) {
                long iy = (long)oy * s->sy - (long)s->py + (long)ky * s->dy;
                d.rows[ky] = iy >= 0 && iy < (long)s->in_h
                                 ? d.xe + ((size_t)b * s->in_h + (size_t)iy) * d.wpad * d.ocp
                                 : d.zeros;
            }
            int64_t *dst = d.direct ? acc + i : NULL;
            uint8_t *flags = report && ovf->flags ? ovf->flags + i : NULL;
            int32_t *first = report && ovf->first_r ? ovf->first_r + i : NULL;
            if (s->kh == 3 && s->kw == 3) /* the positions unrolled */
                dw_row(&d, s, d.rows, 3, 3, d.sum, dst, flags, first);
            else
                dw_row(&d, s, d.rows, s->kh, s->kw, d.sum, dst, flags, first);
            for (size_t j = 0; !d.direct && j < per_row; j++) {
                unsigned o = (unsigned)(j % oc), ox = (unsigned)(j / oc);
                mpq_mac_out r = {0, -1, 0};
                int ignored = 0; /* safe: no fit changes the value; else wrap only */
                if (d.safe[o])
                    r.acc = mpq_fit_acc(p->bias[o] + d.sum[j], p->acc_bits, 0, &ignored);
                else
                    r = conv_one(l, wk, b, oy, ox, o / mult, o);
                acc[i + j] = r.acc;
                if (ovf && !d.all_safe)
                    conv_note(ovf, s, i + j, r);
            }
        }
    dw_free(&d);
    return MPQ_OK;
}


int mpq_conv_acc(const mpq_conv_layer *l, int64_t *acc, mpq_conv_ovf *ovf, char *err,
                 size_t errlen)
{
    int st = conv_check(l, err, errlen);
    if (st)
        return st;
    const mpq_conv_shape *s = &l->shape;
    conv_work wk;
    memset(&wk, 0, sizeof wk);
    dw_work dw;
    memset(&dw, 0, sizeof dw);
    int64_t xmax = s->kind == MPQ_LAYER_DEPTHWISE ? dw_input(l, &dw) : -1;
    if (xmax == MPQ_ENOMEM) {
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    if (xmax < 0) {
        dw_free(&dw);
        xmax = mpq_abs_max32(l->x, mpq_conv_in_count(s), l->in_offset);
    }
    if ((st = conv_plan(l, ovf != NULL, xmax, &wk, err, errlen))) {
        dw_free(&dw);
        work_free(&wk);
        return st;
    }
    if (ovf) {
        ovf->n_final = ovf->n_any = 0;
        ovf->first_b = ovf->first_oy = ovf->first_ox = ovf->first_ch = ovf->first_red = -1;
        ovf->first_bias = 0;
    }
    if (dw.xe && (st = depthwise_fast(l, &wk, &dw, acc, ovf)) <= 0) {
        work_free(&wk);
        if (st)
            snprintf(err, errlen, "out of memory");
        return st;
    }
    dw_free(&dw);
    unsigned groups = groups_of(s), f = chans_per_group(s), per = s->out_c / groups;
    unsigned depth = mpq_conv_depth(s);
    size_t i = 0;
    for (unsigned b = 0; b < s->batches; b++)
        for (unsigned oy = 0; oy < s->out_h; oy++)
            for (unsigned ox = 0; ox < s->out_w; ox++)
                for (unsigned grp = 0; grp < groups; grp++) {
                    unsigned ci0 = s->kind == MPQ_LAYER_CONV2D ? grp * f : grp;
                    load_patch(l, &wk.plan, b, oy, ox, ci0, f, &wk.row);
                    mpq_mac_chans(&wk.plan, &wk.row, grp * per, (grp + 1) * per,
                                  wk.cuts + (size_t)grp * depth, wk.ncuts[grp], wk.outs);
                    for (unsigned j = 0; j < per; j++, i++) {
                        acc[i] = wk.outs[j].acc;
                        if (ovf)
                            conv_note(ovf, s, i, wk.outs[j]);
                    }
                }
    work_free(&wk);
    return MPQ_OK;
}

int mpq_conv(const mpq_conv_layer *l, const mpq_requant *rq, int32_t *y, int64_t *acc,
             mpq_conv_ovf *ovf, char *err, size_t errlen)
{
    int st = conv_check(l, err, errlen);
    if (st || (st = mpq_requant_check(rq, l->shape.out_c, err, errlen)))
        return st;
    size_t n = mpq_conv_out_count(&l->shape);
    int64_t *a = acc ? acc : malloc((n + 1) * sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    st = mpq_conv_acc(l, a, ovf, err, errlen);
    if (!st)
        for (size_t i = 0; i < n; i++)
            y[i] = mpq_requant_one(rq, a[i], (unsigned)(i % l->shape.out_c));
    if (!acc)
        free(a);
    return st;
}

/* ---- pooling ---- */

/* The window rows [*y0, *y1) of output row o that lie inside the input. */
static void window(unsigned o, unsigned stride, unsigned pad, unsigned k, unsigned in,
                   unsigned *lo, unsigned *hi)
{
    long start = (long)o * stride - (long)pad, end = start + (long)k;
    *lo = start < 0 ? 0 : (unsigned)start;
    *hi = end > (long)in ? in : (unsigned)end;
}

int mpq_pool(const mpq_conv_shape *s, const int32_t *x, int32_t act_min, int32_t act_max,
             int32_t *y, char *err, size_t errlen)
{
    int st = mpq_conv_check_kind(s, 1, err, errlen);
    if (st)
        return st;
    if (act_min > act_max) {
        snprintf(err, errlen, "act_min %d > act_max %d", act_min, act_max);
        return MPQ_EPARAM;
    }
    unsigned ch = s->in_c;
    int64_t *sum = malloc((size_t)ch * sizeof *sum);
    if (!sum) {
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    int avg = s->kind == MPQ_LAYER_AVGPOOL;
    for (unsigned b = 0; b < s->batches; b++)
        for (unsigned oy = 0; oy < s->out_h; oy++)
            for (unsigned ox = 0; ox < s->out_w; ox++) {
                unsigned y0, y1, x0, x1;
                window(oy, s->sy, s->py, s->kh, s->in_h, &y0, &y1);
                window(ox, s->sx, s->px, s->kw, s->in_w, &x0, &x1);
                /* mpq_conv_check keeps every window non-empty. */
                int64_t count = (int64_t)(y1 - y0) * (x1 - x0);
                for (unsigned c = 0; c < ch; c++)
                    sum[c] = avg ? 0 : INT64_MIN;
                for (unsigned iy = y0; iy < y1; iy++)
                    for (unsigned ix = x0; ix < x1; ix++) {
                        const int32_t *src = x + (((size_t)b * s->in_h + iy) * s->in_w + ix) * ch;
                        if (avg)
                            for (unsigned c = 0; c < ch; c++)
                                sum[c] += src[c];
                        else
                            for (unsigned c = 0; c < ch; c++)
                                sum[c] = src[c] > sum[c] ? src[c] : sum[c];
                    }
                int32_t *dst = y + (((size_t)b * s->out_h + oy) * s->out_w + ox) * ch;
                for (unsigned c = 0; c < ch; c++) {
                    int64_t v = sum[c];
                    if (avg) /* TFLite: round half away from zero, C division truncates */
                        v = (v > 0 ? v + count / 2 : v - count / 2) / count;
                    dst[c] = (int32_t)(v < act_min ? act_min : v > act_max ? act_max : v);
                }
            }
    free(sum);
    return MPQ_OK;
}
