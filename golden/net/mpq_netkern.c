/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_netkern.c: the planned int8 fast path of convolutions and fully-connected layers with
 * TFLite's 32-bit wrapping accumulator (mpq_netkern.h).
 *
 * Work split: a chunk of output pixels is laid out as im2col rows (x + in_offset as int16,
 * 0 where the window leaves the input, the depth rounded up to an even count); then for each
 * block of 8 output channels and each quad of rows, the tile kernel multiply-adds operand
 * pairs against the channels' interleaved weight pairs (pmaddwd: two 16x16-bit products
 * summed into a 32-bit lane), and the epilogue adds the bias, requantizes and clamps. Every
 * 32-bit addition wraps, as TFLite's int32 accumulator does, so the result is the golden
 * model's wrap(bias + sum) whatever the order.
 */
#include "net/mpq_netkern.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__) && !defined(MPQ_NO_SIMD)
#include <emmintrin.h>
#define NK_SSE2 1
/* An unaligned 16-byte load. */
#define NK_LOAD(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#endif

/* Channels per block, rows per tile, rows per im2col chunk. */
enum { LANES = 8, ROWS = 4, CHUNK = 64 };

/* floor(v / 2^s) without shifting a negative value, 0 <= s <= 63. */
static inline int64_t floor_shift64(int64_t v, unsigned s)
{
    return v >= 0 ? (int64_t)((uint64_t)v >> s) : -(int64_t)(~(uint64_t)v >> s) - 1;
}

/* TFLite's MultiplyByQuantizedMultiplier with double rounding (mpq_requant_double) for an
 * int32 accumulator and a multiplier >= 0. */
static inline int32_t rq_double(int32_t acc, int32_t mult, int shift)
{
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    int32_t a = (int32_t)((uint32_t)acc << left);
    int64_t ab = (int64_t)a * mult; /* mult >= 0: never INT32_MIN * INT32_MIN */
    int64_t nudge = ab >= 0 ? (INT64_C(1) << 30) : 1 - (INT64_C(1) << 30);
    int32_t hi = (int32_t)((ab + nudge) / (INT64_C(1) << 31)); /* truncates, as gemmlowp */
    if (!right)
        return hi;
    int32_t mask = (int32_t)((UINT32_C(1) << right) - 1);
    int32_t threshold = (mask >> 1) + (hi < 0);
    return (int32_t)floor_shift64(hi, (unsigned)right) + ((hi & mask) > threshold);
}

/* Single rounding (mpq_requant_single) for an int32 accumulator. */
static inline int32_t rq_single(int32_t acc, int32_t mult, int shift)
{
    int64_t v = floor_shift64((int64_t)acc * mult + (INT64_C(1) << (30 - shift)),
                              (unsigned)(31 - shift));
    return (int32_t)(v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v);
}

/* The widened input keeps the padding as zero rows and columns, so that every window
 * position reads memory: its height and width. Returns 1 when that copy would be far larger
 * than the tensors (huge dilations or strides over a small input: the golden kernels take
 * such a layer), 0 otherwise. */
static int padded_dims(mpq_nk *l, unsigned channels)
{
    const mpq_conv_shape *s = &l->s;
    double reach_h = ((double)s->out_h - 1) * s->sy + ((double)s->kh - 1) * s->dy + 1;
    double reach_w = ((double)s->out_w - 1) * s->sx + ((double)s->kw - 1) * s->dx + 1;
    double hp = reach_h > (double)s->py + s->in_h ? reach_h : (double)s->py + s->in_h;
    double wp = reach_w > (double)s->px + s->in_w ? reach_w : (double)s->px + s->in_w;
    double tensors = (double)mpq_conv_in_count(s) * channels / s->in_c + mpq_conv_out_count(s);
    if ((double)s->batches * hp * wp * channels > 16 * tensors + 65536)
        return 1;
    l->hp = (unsigned)hp;
    l->wp = (unsigned)wp;
    return 0;
}

/* Common checks and requantization parameters (one slot per channel, nch slots). */
static int plan_common(mpq_nk *l, const mpq_conv_shape *s, int32_t in_off, const mpq_requant *rq)
{
    if ((rq->kind != MPQ_RQ_DOUBLE && rq->kind != MPQ_RQ_SINGLE) || in_off < -32767 ||
        in_off > 32767)
        return 1;
    l->vec = 1;
    for (unsigned i = 0; i < rq->nparams; i++) {
        if (rq->mult[i] < 0 || rq->shift[i] < -31 || rq->shift[i] > 30)
            return 1;
        if (rq->kind == MPQ_RQ_SINGLE && rq->shift[i] > 0)
            l->vec = 0;
    }
    l->s = *s;
    l->in_off = in_off;
    l->single = rq->kind == MPQ_RQ_SINGLE;
    l->out_off = rq->out_offset;
    l->act_min = rq->act_min;
    l->act_max = rq->act_max;
    return 0;
}

/* Weight fits the 16-bit kernels: |w| < 2^15 and a pair of products stays below 2^31. */
static int weight_fits(int64_t v, int32_t in_off)
{
    int64_t xmax = 128 + (in_off < 0 ? -(int64_t)in_off : in_off);
    return v >= -32767 && v <= 32767 && 2 * xmax * (v < 0 ? -v : v) <= INT32_MAX;
}

static int plan_dw(mpq_nk *l, const mpq_conv_shape *s, const int32_t *w, int32_t w_off,
                   const int32_t *bias, int32_t in_off, const mpq_requant *rq)
{
    if (plan_common(l, s, in_off, rq))
        return 1;
    const unsigned taps = s->kh * s->kw, oc = s->out_c;
    for (size_t i = 0; i < (size_t)taps * oc; i++)
        if (!weight_fits((int64_t)w[i] + w_off, in_off))
            return 1;
    l->dw = 1;
    l->groups = 1;
    l->cpg = oc;
    l->nblk = (oc + LANES - 1) / LANES;
    l->ocp = l->nblk * LANES;
    l->tpairs = (taps + 1) / 2;
    if (padded_dims(l, l->ocp))
        return 1;
    l->toff = calloc((size_t)2 * l->tpairs, sizeof *l->toff);
    if (!l->toff) {
        mpq_nk_free(l);
        return MPQ_ENOMEM;
    }
    for (unsigned t = 0; t < taps; t++) /* the odd tap's partner stays at offset 0, weight 0 */
        l->toff[t] = ((size_t)(t / s->kw) * s->dy * l->wp + (size_t)(t % s->kw) * s->dx) * l->ocp;
    l->w = calloc((size_t)l->nblk * l->tpairs * 2 * LANES + LANES, sizeof *l->w);
    l->bias = calloc(l->ocp, sizeof *l->bias);
    l->mult = calloc(l->ocp, sizeof *l->mult);
    l->shift = calloc(l->ocp, sizeof *l->shift);
    if (!l->w || !l->bias || !l->mult || !l->shift) {
        mpq_nk_free(l);
        return MPQ_ENOMEM;
    }
    for (unsigned o = 0; o < oc; o++) {
        for (unsigned t = 0; t < taps; t++)
            l->w[(((size_t)(o / LANES) * l->tpairs + t / 2) * LANES + o % LANES) * 2 + t % 2] =
                (int16_t)(w[(size_t)t * oc + o] + w_off);
        l->bias[o] = bias ? bias[o] : 0;
        unsigned p = rq->nparams > 1 ? o : 0;
        l->mult[o] = rq->mult[p];
        l->shift[o] = (int8_t)rq->shift[p];
    }
    return 0;
}

int mpq_nk_plan(mpq_nk *l, const mpq_conv_shape *s, const int32_t *w, int32_t w_off,
                const int32_t *bias, int32_t in_off, const mpq_requant *rq)
{
    memset(l, 0, sizeof *l);
    if (s->kind == MPQ_LAYER_DEPTHWISE)
        return plan_dw(l, s, w, w_off, bias, in_off, rq);
    if (s->kind != MPQ_LAYER_CONV2D || plan_common(l, s, in_off, rq))
        return 1;
    unsigned groups = s->groups ? s->groups : 1;
    l->groups = groups;
    l->cpg = s->out_c / groups;
    l->fpg = s->in_c / groups;
    l->k = s->kh * s->kw * l->fpg;
    l->kp = (l->k + 1) & ~1u;
    l->nblk = (l->cpg + LANES - 1) / LANES;
    for (size_t i = 0; i < (size_t)s->out_c * l->k; i++)
        if (!weight_fits((int64_t)w[i] + w_off, in_off))
            return 1;
    if (padded_dims(l, s->in_c))
        return 1;
    /* A 1x1 window at stride 1 without padding reads each input pixel as its im2col row. */
    l->direct = s->kh == 1 && s->kw == 1 && s->sy == 1 && s->sx == 1 && groups == 1 &&
                l->k % 2 == 0 && l->hp == s->in_h && l->wp == s->in_w;
    size_t nch = (size_t)groups * l->nblk * LANES;
    l->w = calloc((size_t)groups * l->nblk * l->kp * LANES + LANES, sizeof *l->w);
    l->bias = calloc(nch, sizeof *l->bias);
    l->mult = calloc(nch, sizeof *l->mult);
    l->shift = calloc(nch, sizeof *l->shift);
    if (!l->w || !l->bias || !l->mult || !l->shift) {
        mpq_nk_free(l);
        return MPQ_ENOMEM;
    }
    for (unsigned g = 0; g < groups; g++)
        for (unsigned c = 0; c < l->cpg; c++) {
            unsigned o = g * l->cpg + c, b = c / LANES, lane = c % LANES;
            size_t slot = ((size_t)g * l->nblk + b) * LANES + lane;
            int16_t *dst = l->w + ((size_t)g * l->nblk + b) * l->kp * LANES;
            for (unsigned i = 0; i < l->k; i++)
                dst[(size_t)(i / 2) * 2 * LANES + lane * 2 + i % 2] =
                    (int16_t)(w[(size_t)o * l->k + i] + w_off);
            l->bias[slot] = bias ? bias[o] : 0;
            unsigned p = rq->nparams > 1 ? o : 0;
            l->mult[slot] = rq->mult[p];
            l->shift[slot] = (int8_t)rq->shift[p];
        }
    return 0;
}

static size_t xpad_size(const mpq_nk *l)
{
    return ((size_t)l->s.batches * l->hp * l->wp * l->s.in_c + 7) & ~(size_t)7;
}

size_t mpq_nk_scratch(const mpq_nk *l)
{
    if (l->dw) /* the whole input, padded and widened to out_c channels */
        return (size_t)l->s.batches * l->hp * l->wp * l->ocp + LANES;
    /* the padded input, then a chunk of im2col rows and a zero row */
    return xpad_size(l) + (size_t)(CHUNK + ROWS) * l->kp;
}

void mpq_nk_free(mpq_nk *l)
{
    free(l->w);
    free(l->bias);
    free(l->mult);
    free(l->shift);
    free(l->toff);
    free(l->wt);
    memset(l, 0, sizeof *l);
}

/* x + offset of n int8 values into int16 (8 at a time: the short runs of im2col). */
static inline void widen(const int8_t *src, int16_t *dst, size_t n, int16_t off)
{
    size_t i = 0;
#ifdef NK_SSE2
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

/* x + in_offset into the padded layout [batches][hp][wp][cstride]: each input channel
 * repeated `mult` times (depthwise), zeros in the padding and in channels past mult*in_c. */
static void pad_input(const mpq_nk *l, const int8_t *x, int16_t *xp, size_t cstride, unsigned mult)
{
    const mpq_conv_shape *s = &l->s;
    const size_t prow = (size_t)l->wp * cstride;
    const int16_t off = (int16_t)l->in_off;
    for (unsigned b = 0; b < s->batches; b++)
        for (unsigned yp = 0; yp < l->hp; yp++) {
            int16_t *row = xp + ((size_t)b * l->hp + yp) * prow;
            if (yp < s->py || yp >= s->py + s->in_h) {
                memset(row, 0, prow * sizeof *row);
                continue;
            }
            memset(row, 0, (size_t)s->px * cstride * sizeof *row);
            const int8_t *src = x + (((size_t)b * s->in_h + (yp - s->py)) * s->in_w) * s->in_c;
            int16_t *dst = row + (size_t)s->px * cstride;
            if (mult == 1 && cstride == s->in_c) {
                widen(src, dst, (size_t)s->in_w * s->in_c, off);
                dst += (size_t)s->in_w * s->in_c;
            } else {
                for (unsigned ix = 0; ix < s->in_w; ix++, src += s->in_c, dst += cstride) {
                    if (mult == 1)
                        widen(src, dst, s->in_c, off);
                    else
                        for (unsigned c = 0; c < s->in_c; c++)
                            for (unsigned j = 0; j < mult; j++)
                                dst[c * mult + j] = (int16_t)(src[c] + off);
                    for (size_t o = (size_t)s->in_c * mult; o < cstride; o++)
                        dst[o] = 0;
                }
            }
            memset(dst, 0, (size_t)(l->wp - s->px - s->in_w) * cstride * sizeof *row);
        }
}

/* im2col row of output pixel (b, oy, ox), group g, into r[kp], from the padded input:
 * window row by window row, one copy per row when the window is not dilated and the layer
 * has one group. */
static void im2col_row(const mpq_nk *l, const int16_t *xp, unsigned b, unsigned oy, unsigned ox,
                       unsigned g, int16_t *r)
{
    const mpq_conv_shape *s = &l->s;
    const size_t c = s->in_c, f = l->fpg, row = (size_t)s->kw * f;
    const int16_t *base = xp + (((size_t)b * l->hp + (size_t)oy * s->sy) * l->wp +
                                (size_t)ox * s->sx) * c + (size_t)g * f;
    for (unsigned ky = 0; ky < s->kh; ky++, r += row) {
        const int16_t *src = base + (size_t)ky * s->dy * l->wp * c;
        if (s->dx == 1 && f == c)
            memcpy(r, src, row * sizeof *r);
        else
            for (unsigned kx = 0; kx < s->kw; kx++)
                memcpy(r + (size_t)kx * f, src + (size_t)kx * s->dx * c, f * sizeof *r);
    }
    if (l->kp > l->k)
        r[0] = 0; /* r now points past the last window row: the depth's even padding */
}

/* acc[r][c] = sum over the kp/2 pairs of rows[r] . weights of block wb (interleaved). */
#ifdef NK_SSE2
static void tile(const int16_t *const rows[ROWS], const int16_t *wb, unsigned npairs,
                 __m128i acc[ROWS][2])
{
    __m128i a00 = _mm_setzero_si128(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00,
            a30 = a00, a31 = a00;
    const int16_t *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
    for (unsigned j = 0; j < npairs; j++) {
        __m128i w0 = NK_LOAD(wb + (size_t)j * 16);
        __m128i w1 = NK_LOAD(wb + (size_t)j * 16 + 8);
        int32_t p0, p1, p2, p3;
        memcpy(&p0, r0 + 2 * j, 4);
        memcpy(&p1, r1 + 2 * j, 4);
        memcpy(&p2, r2 + 2 * j, 4);
        memcpy(&p3, r3 + 2 * j, 4);
        __m128i x0 = _mm_set1_epi32(p0), x1 = _mm_set1_epi32(p1), x2 = _mm_set1_epi32(p2),
                x3 = _mm_set1_epi32(p3);
        a00 = _mm_add_epi32(a00, _mm_madd_epi16(x0, w0));
        a01 = _mm_add_epi32(a01, _mm_madd_epi16(x0, w1));
        a10 = _mm_add_epi32(a10, _mm_madd_epi16(x1, w0));
        a11 = _mm_add_epi32(a11, _mm_madd_epi16(x1, w1));
        a20 = _mm_add_epi32(a20, _mm_madd_epi16(x2, w0));
        a21 = _mm_add_epi32(a21, _mm_madd_epi16(x2, w1));
        a30 = _mm_add_epi32(a30, _mm_madd_epi16(x3, w0));
        a31 = _mm_add_epi32(a31, _mm_madd_epi16(x3, w1));
    }
    acc[0][0] = a00;
    acc[0][1] = a01;
    acc[1][0] = a10;
    acc[1][1] = a11;
    acc[2][0] = a20;
    acc[2][1] = a21;
    acc[3][0] = a30;
    acc[3][1] = a31;
}

/* One row against 8 channels (a fully-connected layer's single input row): two accumulator
 * pairs over alternate operand pairs, for the adds to overlap. */
static void tile1(const int16_t *row, const int16_t *wb, unsigned npairs, int32_t acc[LANES])
{
    __m128i a0 = _mm_setzero_si128(), a1 = a0, b0 = a0, b1 = a0;
    unsigned j = 0;
    for (; j + 2 <= npairs; j += 2) {
        int32_t p, q;
        memcpy(&p, row + 2 * j, 4);
        memcpy(&q, row + 2 * j + 2, 4);
        __m128i x = _mm_set1_epi32(p), z = _mm_set1_epi32(q);
        const int16_t *w = wb + (size_t)j * 16;
        a0 = _mm_add_epi32(a0, _mm_madd_epi16(x, NK_LOAD(w)));
        a1 = _mm_add_epi32(a1, _mm_madd_epi16(x, NK_LOAD(w + 8)));
        b0 = _mm_add_epi32(b0, _mm_madd_epi16(z, NK_LOAD(w + 16)));
        b1 = _mm_add_epi32(b1, _mm_madd_epi16(z, NK_LOAD(w + 24)));
    }
    for (; j < npairs; j++) {
        int32_t p;
        memcpy(&p, row + 2 * j, 4);
        __m128i x = _mm_set1_epi32(p);
        const int16_t *w = wb + (size_t)j * 16;
        a0 = _mm_add_epi32(a0, _mm_madd_epi16(x, NK_LOAD(w)));
        a1 = _mm_add_epi32(a1, _mm_madd_epi16(x, NK_LOAD(w + 8)));
    }
    _mm_storeu_si128((__m128i *)(void *)acc, _mm_add_epi32(a0, b0));
    _mm_storeu_si128((__m128i *)(void *)(acc + 4), _mm_add_epi32(a1, b1));
}
#else
static void tile1(const int16_t *row, const int16_t *wb, unsigned npairs, int32_t acc[LANES])
{
    for (unsigned c = 0; c < LANES; c++) {
        uint32_t a = 0;
        for (unsigned j = 0; j < npairs; j++)
            a += (uint32_t)((int32_t)row[2 * j] * wb[j * 16 + c * 2] +
                            (int32_t)row[2 * j + 1] * wb[j * 16 + c * 2 + 1]);
        acc[c] = (int32_t)a;
    }
}

static void tile(const int16_t *const rows[ROWS], const int16_t *wb, unsigned npairs,
                 int32_t acc[ROWS][LANES])
{
    for (unsigned r = 0; r < ROWS; r++)
        for (unsigned c = 0; c < LANES; c++) {
            uint32_t a = 0; /* the pmaddwd lane: exact pair sums, wrapping accumulation */
            for (unsigned j = 0; j < npairs; j++)
                a += (uint32_t)((int32_t)rows[r][2 * j] * wb[j * 16 + c * 2] +
                                (int32_t)rows[r][2 * j + 1] * wb[j * 16 + c * 2 + 1]);
            acc[r][c] = (int32_t)a;
        }
}
#endif

/* Bias, requantization, clamp and store of one tile: rows [0, nr), channels [0, nc) of
 * block `slot0` (its first parameter slot), into y + pixel*out_c + ch0. */
static void epilogue(const mpq_nk *l, int32_t acc[ROWS][LANES], unsigned nr, unsigned nc,
                     size_t slot0, int8_t *y, size_t pix0, unsigned ch0)
{
    const unsigned out_c = l->s.out_c;
    const int32_t *bias = l->bias + slot0, *mult = l->mult + slot0;
    const int8_t *shift = l->shift + slot0;
    const int32_t lo = l->act_min, hi = l->act_max, off = l->out_off;
    const int single = l->single;
    for (unsigned r = 0; r < nr; r++) {
        int8_t *dst = y + (pix0 + r) * out_c + ch0;
        for (unsigned c = 0; c < nc; c++) {
            int32_t a = (int32_t)((uint32_t)acc[r][c] + (uint32_t)bias[c]);
            int32_t v = single ? rq_single(a, mult[c], shift[c]) : rq_double(a, mult[c], shift[c]);
            int64_t o = (int64_t)v + off;
            o = o < lo ? lo : o > hi ? hi : o;
            dst[c] = (int8_t)o;
        }
    }
}

#ifdef NK_SSE2
/* Requantizes 4 accumulators of one channel (mult >= 0, TFLite shift), double or single
 * rounding, then saturates to int16 (the caller clamps to the activation range). The
 * 32x32-bit signed products come from pmuludq and a correction of the high half: a signed
 * a < 0 reads as a + 2^32 unsigned, so its product is m * 2^32 too large. */
static __m128i rq4(__m128i a, int32_t m, int shift, int single)
{
    const __m128i M = _mm_set1_epi32(m), lo32 = _mm_set_epi32(0, -1, 0, -1);
    if (!single && shift > 0)
        a = _mm_sll_epi32(a, _mm_cvtsi32_si128(shift));
    __m128i corr = _mm_and_si128(_mm_srai_epi32(a, 31), M);
    __m128i pe = _mm_sub_epi64(_mm_mul_epu32(a, M), _mm_slli_epi64(corr, 32));
    __m128i po = _mm_sub_epi64(_mm_mul_epu32(_mm_srli_epi64(a, 32), M),
                               _mm_andnot_si128(lo32, corr));
    /* double: srdhm = floor((a*m + 2^30) / 2^31) (gemmlowp's nudge and truncation agree
     * with this for every a when m >= 0); single: floor((a*m + 2^(30-s)) / 2^(31-s)). The
     * result fits 32 bits, so a logical 64-bit shift leaves it in the low half. */
    int rs = single ? 31 - shift : 31;
    __m128i rnd = _mm_set1_epi64x(INT64_C(1) << (rs - 1)), cnt = _mm_cvtsi32_si128(rs);
    pe = _mm_srl_epi64(_mm_add_epi64(pe, rnd), cnt);
    po = _mm_srl_epi64(_mm_add_epi64(po, rnd), cnt);
    __m128i h = _mm_or_si128(_mm_and_si128(pe, lo32), _mm_slli_epi64(po, 32));
    if (!single && shift < 0) { /* RoundingDivideByPOT */
        int right = -shift;
        __m128i mask = _mm_set1_epi32((int32_t)((UINT32_C(1) << right) - 1));
        __m128i thr = _mm_sub_epi32(_mm_srli_epi32(mask, 1), _mm_srai_epi32(h, 31));
        __m128i up = _mm_cmpgt_epi32(_mm_and_si128(h, mask), thr);
        h = _mm_sub_epi32(_mm_sra_epi32(h, _mm_cvtsi32_si128(right)), up);
    }
    return h;
}

/* The whole tile in registers: a[r][h] holds row r, channels 4h..4h+3. Transposed to one
 * vector per channel (4 rows), requantized, then packed back to 8 bytes per row. */
static void epilogue4x8(const mpq_nk *l, __m128i a[ROWS][2], size_t slot0, int8_t *y,
                        size_t pix0, unsigned ch0)
{
    __m128i ch[LANES], q[LANES];
    for (int h = 0; h < 2; h++) {
        __m128i t0 = _mm_unpacklo_epi32(a[0][h], a[1][h]), t1 = _mm_unpacklo_epi32(a[2][h], a[3][h]);
        __m128i t2 = _mm_unpackhi_epi32(a[0][h], a[1][h]), t3 = _mm_unpackhi_epi32(a[2][h], a[3][h]);
        ch[4 * h + 0] = _mm_unpacklo_epi64(t0, t1);
        ch[4 * h + 1] = _mm_unpackhi_epi64(t0, t1);
        ch[4 * h + 2] = _mm_unpacklo_epi64(t2, t3);
        ch[4 * h + 3] = _mm_unpackhi_epi64(t2, t3);
    }
    for (int c = 0; c < LANES; c++) {
        size_t slot = slot0 + (size_t)c;
        __m128i v = _mm_add_epi32(ch[c], _mm_set1_epi32(l->bias[slot]));
        q[c] = rq4(v, l->mult[slot], l->shift[slot], l->single);
    }
    /* int16 with saturation, the output offset (saturating: |offset| <= 128 and the clamp
     * below lie well inside int16), the activation clamp. The channel order X = (0 4 2 6),
     * Y = (1 5 3 7) makes the byte transpose below come out in channel order. */
    const __m128i off = _mm_set1_epi16((int16_t)l->out_off);
    const __m128i lo = _mm_set1_epi16((int16_t)l->act_min), hi = _mm_set1_epi16((int16_t)l->act_max);
    __m128i p04 = _mm_packs_epi32(q[0], q[4]), p26 = _mm_packs_epi32(q[2], q[6]);
    __m128i p15 = _mm_packs_epi32(q[1], q[5]), p37 = _mm_packs_epi32(q[3], q[7]);
#define NK_CLAMP(v) _mm_min_epi16(_mm_max_epi16(_mm_adds_epi16((v), off), lo), hi)
    __m128i X = _mm_packs_epi16(NK_CLAMP(p04), NK_CLAMP(p26));
    __m128i Y = _mm_packs_epi16(NK_CLAMP(p15), NK_CLAMP(p37));
#undef NK_CLAMP
    __m128i t0 = _mm_unpacklo_epi8(X, Y), t1 = _mm_unpackhi_epi8(X, Y);
    __m128i u0 = _mm_unpacklo_epi16(t0, t1), u1 = _mm_unpackhi_epi16(t0, t1);
    __m128i r01 = _mm_unpacklo_epi32(u0, u1), r23 = _mm_unpackhi_epi32(u0, u1);
    const size_t oc = l->s.out_c;
    int8_t *d = y + pix0 * oc + ch0;
    _mm_storel_epi64((__m128i *)(void *)d, r01);
    _mm_storel_epi64((__m128i *)(void *)(d + oc), _mm_srli_si128(r01, 8));
    _mm_storel_epi64((__m128i *)(void *)(d + 2 * oc), r23);
    _mm_storel_epi64((__m128i *)(void *)(d + 3 * oc), _mm_srli_si128(r23, 8));
}
#endif

/* Four output pixels of a depthwise layer: base[r] is the padded input pixel where pixel r's
 * window starts, tap t reads base[r] + toff[t]; every 8-channel block sums the tap pairs'
 * multiply-adds. Pixels past `nr` repeat the last one (computed, not stored). */
static void dw_pixels(const mpq_nk *l, const int16_t *const base[ROWS], unsigned nr, int8_t *y,
                      size_t pix0)
{
    const size_t *toff = l->toff;
    for (unsigned blk = 0; blk < l->nblk; blk++) {
        const size_t c0 = (size_t)blk * LANES;
        const int16_t *wb = l->w + c0 * 2 * l->tpairs;
        unsigned nc = l->cpg - blk * LANES < LANES ? l->cpg - blk * LANES : LANES;
        int32_t acc[ROWS][LANES];
#ifdef NK_SSE2
        __m128i a[ROWS][2];
        for (unsigned r = 0; r < ROWS; r++) {
            __m128i a0 = _mm_setzero_si128(), a1 = a0;
            const int16_t *bp = base[r] + c0;
            for (unsigned j = 0; j < l->tpairs; j++) {
                __m128i xa = NK_LOAD(bp + toff[2 * j]);
                __m128i xb = NK_LOAD(bp + toff[2 * j + 1]);
                __m128i w0 = NK_LOAD(wb + (size_t)j * 16);
                __m128i w1 = NK_LOAD(wb + (size_t)j * 16 + 8);
                a0 = _mm_add_epi32(a0, _mm_madd_epi16(_mm_unpacklo_epi16(xa, xb), w0));
                a1 = _mm_add_epi32(a1, _mm_madd_epi16(_mm_unpackhi_epi16(xa, xb), w1));
            }
            a[r][0] = a0;
            a[r][1] = a1;
        }
        if (nr == ROWS && nc == LANES && l->vec) {
            epilogue4x8(l, a, c0, y, pix0, (unsigned)c0);
            continue;
        }
        for (unsigned r = 0; r < ROWS; r++) {
            _mm_storeu_si128((__m128i *)(void *)acc[r], a[r][0]);
            _mm_storeu_si128((__m128i *)(void *)(acc[r] + 4), a[r][1]);
        }
#else
        for (unsigned r = 0; r < ROWS; r++)
            for (unsigned c = 0; c < LANES; c++) {
                uint32_t sum = 0;
                const int16_t *bp = base[r] + c0 + c;
                for (unsigned j = 0; j < l->tpairs; j++)
                    sum += (uint32_t)((int32_t)bp[toff[2 * j]] * wb[j * 16 + c * 2] +
                                      (int32_t)bp[toff[2 * j + 1]] * wb[j * 16 + c * 2 + 1]);
                acc[r][c] = (int32_t)sum;
            }
#endif
        epilogue(l, acc, nr, nc, c0, y, pix0, (unsigned)c0);
    }
}

static void run_dw(const mpq_nk *l, const int8_t *x, int8_t *y, int16_t *xw)
{
    const mpq_conv_shape *s = &l->s;
    const size_t ocp = l->ocp;
    pad_input(l, x, xw, ocp, s->out_c / s->in_c);
    const size_t npix = (size_t)s->batches * s->out_h * s->out_w;
    for (size_t p0 = 0; p0 < npix; p0 += ROWS) {
        unsigned nr = npix - p0 < ROWS ? (unsigned)(npix - p0) : ROWS;
        const int16_t *base[ROWS];
        for (unsigned r = 0; r < ROWS; r++) {
            size_t p = p0 + (r < nr ? r : nr - 1);
            size_t ox = p % s->out_w, oy = p / s->out_w % s->out_h, b = p / s->out_w / s->out_h;
            base[r] = xw + ((b * l->hp + oy * s->sy) * l->wp + ox * s->sx) * ocp;
        }
        dw_pixels(l, base, nr, y, p0);
    }
}

void mpq_nk_run(const mpq_nk *l, const int8_t *x, int8_t *y, int16_t *scratch)
{
    if (l->dw) {
        run_dw(l, x, y, scratch);
        return;
    }
    const mpq_conv_shape *s = &l->s;
    const size_t npix = (size_t)s->batches * s->out_h * s->out_w, kp = l->kp;
    const unsigned npairs = kp / 2;
    int16_t *xp = scratch, *cols = scratch + xpad_size(l);
    int16_t *zero_row = cols + (size_t)CHUNK * kp; /* the rows past the last pixel */
    memset(zero_row, 0, kp * sizeof *zero_row);
    pad_input(l, x, xp, s->in_c, 1);
    for (unsigned g = 0; g < l->groups; g++)
        for (size_t p0 = 0; p0 < npix; p0 += CHUNK) {
            unsigned n = npix - p0 < CHUNK ? (unsigned)(npix - p0) : CHUNK;
            /* The chunk's rows: the input pixels themselves, or im2col rows. */
            const int16_t *rows0 = l->direct ? xp + p0 * kp : cols;
            for (unsigned i = 0; !l->direct && i < n; i++) {
                size_t p = p0 + i, ox = p % s->out_w, oy = p / s->out_w % s->out_h,
                       b = p / s->out_w / s->out_h;
                im2col_row(l, xp, (unsigned)b, (unsigned)oy, (unsigned)ox, g, cols + i * kp);
            }
            for (unsigned blk = 0; blk < l->nblk; blk++) {
                size_t slot0 = ((size_t)g * l->nblk + blk) * LANES;
                const int16_t *wb = l->w + slot0 * kp;
                unsigned nc = l->cpg - blk * LANES < LANES ? l->cpg - blk * LANES : LANES;
                if (n == 1) { /* a single row (fully connected, batch 1) */
                    int32_t acc[ROWS][LANES];
                    tile1(rows0, wb, npairs, acc[0]);
                    epilogue(l, acc, 1, nc, slot0, y, p0, g * l->cpg + blk * LANES);
                    continue;
                }
                for (unsigned r0 = 0; r0 < n; r0 += ROWS) {
                    const int16_t *rows[ROWS];
                    for (unsigned r = 0; r < ROWS; r++)
                        rows[r] = r0 + r < n ? rows0 + (size_t)(r0 + r) * kp : zero_row;
                    unsigned nr = n - r0 < ROWS ? n - r0 : ROWS, ch0 = g * l->cpg + blk * LANES;
                    int32_t acc[ROWS][LANES];
#ifdef NK_SSE2
                    __m128i a[ROWS][2];
                    tile(rows, wb, npairs, a);
                    if (nr == ROWS && nc == LANES && l->vec) {
                        epilogue4x8(l, a, slot0, y, p0 + r0, ch0);
                        continue;
                    }
                    for (unsigned r = 0; r < ROWS; r++) {
                        _mm_storeu_si128((__m128i *)(void *)acc[r], a[r][0]);
                        _mm_storeu_si128((__m128i *)(void *)(acc[r] + 4), a[r][1]);
                    }
#else
                    tile(rows, wb, npairs, acc);
#endif
                    epilogue(l, acc, nr, nc, slot0, y, p0 + r0, ch0);
                }
            }
        }
}

/* ---- pooling ---- */

void mpq_nk_pool(const mpq_conv_shape *s, const int8_t *x, int32_t act_min, int32_t act_max,
                 int8_t *y, int32_t *acc)
{
    const unsigned ch = s->in_c;
    const int avg = s->kind == MPQ_LAYER_AVGPOOL;
    for (unsigned b = 0; b < s->batches; b++)
        for (unsigned oy = 0; oy < s->out_h; oy++) {
            long ys = (long)oy * s->sy - (long)s->py, ye = ys + (long)s->kh;
            unsigned y0 = ys < 0 ? 0 : (unsigned)ys, y1 = ye > (long)s->in_h ? s->in_h : (unsigned)ye;
            for (unsigned ox = 0; ox < s->out_w; ox++) {
                long xs = (long)ox * s->sx - (long)s->px, xe = xs + (long)s->kw;
                unsigned x0 = xs < 0 ? 0 : (unsigned)xs,
                         x1 = xe > (long)s->in_w ? s->in_w : (unsigned)xe;
                for (unsigned c = 0; c < ch; c++)
                    acc[c] = avg ? 0 : INT8_MIN;
                for (unsigned iy = y0; iy < y1; iy++)
                    for (unsigned ix = x0; ix < x1; ix++) {
                        const int8_t *src = x + (((size_t)b * s->in_h + iy) * s->in_w + ix) * ch;
                        if (avg)
                            for (unsigned c = 0; c < ch; c++)
                                acc[c] += src[c];
                        else
                            for (unsigned c = 0; c < ch; c++)
                                acc[c] = src[c] > acc[c] ? src[c] : acc[c];
                    }
                int8_t *dst = y + (((size_t)b * s->out_h + oy) * s->out_w + ox) * ch;
                /* TFLite's average: (sum +- n/2) / n truncated; the window sums stay far below
                 * 2^31, so the double quotient truncates to the same integer. */
                const int32_t n = (int32_t)((y1 - y0) * (x1 - x0)), half = n / 2;
                for (unsigned c = 0; c < ch; c++) {
                    int32_t v = acc[c];
                    if (avg) {
                        int32_t num = v > 0 ? v + half : v - half;
                        v = (int32_t)((double)num / n);
                    }
                    v = v < act_min ? act_min : v > act_max ? act_max : v;
                    dst[c] = (int8_t)v;
                }
            }
        }
}

/* ---- accumulator analysis ---- */

/* Notes one output's prefix range into o; i is the output's NHWC index. The first
 * overflowing output's term is found afterwards (scan_one). */
static void scan_note(mpq_nk_scan_result *o, const mpq_conv_shape *s, size_t i, int64_t lo,
                      int64_t hi, int64_t fin, int64_t rlo, int64_t rhi)
{
    o->pmin = lo < o->pmin ? lo : o->pmin;
    o->pmax = hi > o->pmax ? hi : o->pmax;
    o->fmin = fin < o->fmin ? fin : o->fmin;
    o->fmax = fin > o->fmax ? fin : o->fmax;
    o->n_final += fin < rlo || fin > rhi;
    if (lo >= rlo && hi <= rhi)
        return;
    if (!o->n_any++) {
        size_t pix = i / s->out_c;
        o->first[3] = (long)(i % s->out_c);
        o->first[2] = (long)(pix % s->out_w);
        o->first[1] = (long)(pix / s->out_w % s->out_h);
        o->first[0] = (long)(pix / s->out_w / s->out_h);
    }
}

static void scan_init(mpq_nk_scan_result *o)
{
    memset(o, 0, sizeof *o);
    o->pmin = o->fmin = INT64_MAX;
    o->pmax = o->fmax = INT64_MIN;
    o->first[0] = o->first[1] = o->first[2] = o->first[3] = o->first_term = -1;
}

/* One output (b, oy, ox, oc) in the golden order: its prefix range, final sum, and the
 * reduction index of the first prefix outside [rlo, rhi] (-1: the bias; -2: none). */
static void scan_one(const mpq_conv_shape *s, const int32_t *x, int32_t in_off, const int32_t *w,
                     int32_t w_off, const int32_t *bias, size_t b, unsigned oy, unsigned ox,
                     unsigned oc, int64_t rlo, int64_t rhi, int64_t *plo, int64_t *phi,
                     int64_t *pfin, long *pexit)
{
    const int dw = s->kind == MPQ_LAYER_DEPTHWISE;
    const unsigned groups = dw ? s->in_c : s->groups ? s->groups : 1;
    const unsigned f = dw ? 1 : s->in_c / groups, depth = s->kh * s->kw * f;
    const unsigned g = oc / (dw ? s->out_c / s->in_c : s->out_c / groups);
    int64_t acc = bias ? bias[oc] : 0, lo = acc, hi = acc;
    long exit_term = acc < rlo || acc > rhi ? -1 : -2;
    for (unsigned ky = 0; ky < s->kh; ky++) {
        long iy = (long)oy * s->sy - (long)s->py + (long)ky * s->dy;
        if (iy < 0 || iy >= (long)s->in_h)
            continue;
        for (unsigned kx = 0; kx < s->kw; kx++) {
            long ix = (long)ox * s->sx - (long)s->px + (long)kx * s->dx;
            if (ix < 0 || ix >= (long)s->in_w)
                continue;
            const int32_t *xp = x + ((b * s->in_h + (size_t)iy) * s->in_w + (size_t)ix) * s->in_c +
                                (size_t)g * f;
            unsigned r0 = (ky * s->kw + kx) * f;
            for (unsigned c = 0; c < f; c++) {
                int64_t wv = dw ? w[((size_t)ky * s->kw + kx) * s->out_c + oc]
                                : w[(size_t)oc * depth + r0 + c];
                acc += ((int64_t)xp[c] + in_off) * (wv + w_off);
                lo = acc < lo ? acc : lo;
                hi = acc > hi ? acc : hi;
                if (exit_term == -2 && (acc < rlo || acc > rhi))
                    exit_term = (long)(r0 + c);
            }
        }
    }
    *plo = lo;
    *phi = hi;
    *pfin = acc;
    *pexit = exit_term;
}

void mpq_nk_scan(const mpq_conv_shape *s, const int32_t *x, int32_t in_off, const int32_t *w,
                 int32_t w_off, const int32_t *bias, unsigned bits, mpq_nk_scan_result *o)
{
    const int64_t rhi = (INT64_C(1) << (bits - 1)) - 1, rlo = -rhi - 1;
    scan_init(o);
    size_t i = 0;
    for (unsigned b = 0; b < s->batches; b++)
        for (unsigned oy = 0; oy < s->out_h; oy++)
            for (unsigned ox = 0; ox < s->out_w; ox++)
                for (unsigned oc = 0; oc < s->out_c; oc++, i++) {
                    int64_t lo, hi, fin;
                    long exit_term;
                    scan_one(s, x, in_off, w, w_off, bias, b, oy, ox, oc, rlo, rhi, &lo, &hi, &fin,
                             &exit_term);
                    if (lo < rlo || hi > rhi) {
                        if (!o->n_any)
                            o->first_term = exit_term;
                    }
                    scan_note(o, s, i, lo, hi, fin, rlo, rhi);
                }
}

int mpq_nk_plan_scan(mpq_nk *l, const mpq_conv_shape *s, const int32_t *w, int32_t w_off,
                     const int32_t *bias, int32_t in_off)
{
    static const int32_t one = 1 << 30, zero = 0;
    const mpq_requant rq = {.kind = MPQ_RQ_DOUBLE, .nparams = 1, .mult = &one, .shift = &zero,
                            .act_min = INT8_MIN, .act_max = INT8_MAX};
    if (s->kind == MPQ_LAYER_CONV2D && s->groups > 1)
        return 1;
    int st = mpq_nk_plan(l, s, w, w_off, bias, in_off, &rq);
    if (st)
        return st;
    const unsigned taps = s->kh * s->kw, oc = s->out_c;
    const unsigned k = l->dw ? taps : l->k, ocp = l->nblk * LANES;
    l->ocp = ocp;
    l->wt = calloc((size_t)k * ocp + LANES, sizeof *l->wt);
    if (!l->wt) {
        mpq_nk_free(l);
        return MPQ_ENOMEM;
    }
    const int64_t xmax = 128 + (in_off < 0 ? -(int64_t)in_off : in_off);
    l->scan32 = 1;
    for (unsigned o = 0; o < oc; o++) {
        int64_t bound = bias ? (bias[o] < 0 ? -(int64_t)bias[o] : bias[o]) : 0;
        for (unsigned r = 0; r < k; r++) {
            int64_t v = (int64_t)(l->dw ? w[(size_t)r * oc + o] : w[(size_t)o * k + r]) + w_off;
            l->wt[(size_t)r * ocp + o] = (int16_t)v;
            bound += xmax * (v < 0 ? -v : v);
        }
        l->scan32 &= bound <= INT32_MAX;
    }
    return 0;
}

#ifdef NK_SSE2
static inline __m128i min32(__m128i a, __m128i b)
{
    __m128i m = _mm_cmpgt_epi32(a, b);
    return _mm_or_si128(_mm_and_si128(m, b), _mm_andnot_si128(m, a));
}
static inline __m128i max32(__m128i a, __m128i b)
{
    __m128i m = _mm_cmpgt_epi32(a, b);
    return _mm_or_si128(_mm_and_si128(m, a), _mm_andnot_si128(m, b));
}
#endif

/* 8 channels' prefix ranges over k terms: xs[t] (stride xstep between terms; xstep 0 with
 * `bcast`: one operand per term for every channel, else 8 operands per term) times
 * wt[t*ocp + c]. lo, hi, fin: [8] each, starting from the bias. */
static void scan_lanes(const int16_t *const *xs, int bcast, const int16_t *wt, size_t ocp,
                       unsigned k, const int32_t *bias, int32_t *lo, int32_t *hi, int32_t *fin)
{
#ifdef NK_SSE2
    __m128i a0 = NK_LOAD(bias), a1 = NK_LOAD(bias + 4);
    __m128i mn0 = a0, mn1 = a1, mx0 = a0, mx1 = a1;
    for (unsigned t = 0; t < k; t++) {
        __m128i wv = NK_LOAD(wt + t * ocp);
        __m128i xv = bcast ? _mm_set1_epi16(xs[0][t]) : NK_LOAD(xs[t]);
        __m128i pl = _mm_mullo_epi16(xv, wv), ph = _mm_mulhi_epi16(xv, wv);
        a0 = _mm_add_epi32(a0, _mm_unpacklo_epi16(pl, ph));
        a1 = _mm_add_epi32(a1, _mm_unpackhi_epi16(pl, ph));
        mn0 = min32(mn0, a0);
        mn1 = min32(mn1, a1);
        mx0 = max32(mx0, a0);
        mx1 = max32(mx1, a1);
    }
    _mm_storeu_si128((__m128i *)(void *)lo, mn0);
    _mm_storeu_si128((__m128i *)(void *)(lo + 4), mn1);
    _mm_storeu_si128((__m128i *)(void *)hi, mx0);
    _mm_storeu_si128((__m128i *)(void *)(hi + 4), mx1);
    _mm_storeu_si128((__m128i *)(void *)fin, a0);
    _mm_storeu_si128((__m128i *)(void *)(fin + 4), a1);
#else
    for (unsigned c = 0; c < LANES; c++) {
        int32_t a = bias[c], mn = a, mx = a;
        for (unsigned t = 0; t < k; t++) {
            a += (int32_t)(bcast ? xs[0][t] : xs[t][c]) * wt[t * ocp + c];
            mn = a < mn ? a : mn;
            mx = a > mx ? a : mx;
        }
        lo[c] = mn;
        hi[c] = mx;
        fin[c] = a;
    }
#endif
}

void mpq_nk_scan_run(const mpq_nk *l, const int8_t *x, const int32_t *w, int32_t w_off,
                     const int32_t *bias, unsigned bits, int16_t *scratch, int32_t *x32,
                     mpq_nk_scan_result *o)
{
    const mpq_conv_shape *s = &l->s;
    const size_t nin = (size_t)s->batches * s->in_h * s->in_w * s->in_c;
    for (size_t i = 0; i < nin; i++)
        x32[i] = x[i];
    if (!l->scan32) {
        mpq_nk_scan(s, x32, l->in_off, w, w_off, bias, bits, o);
        return;
    }
    const int64_t rhi = (INT64_C(1) << (bits - 1)) - 1, rlo = -rhi - 1;
    const size_t ocp = l->ocp, npix = (size_t)s->batches * s->out_h * s->out_w;
    const unsigned k = l->dw ? s->kh * s->kw : l->k;
    scan_init(o);
    int16_t *xp = scratch, *row = scratch + (l->dw ? mpq_nk_scratch(l) - LANES : xpad_size(l));
    if (l->dw && k > 512) { /* windows of more than 512 taps: the plain scan */
        mpq_nk_scan(s, x32, l->in_off, w, w_off, bias, bits, o);
        return;
    }
    pad_input(l, x, xp, l->dw ? ocp : s->in_c, l->dw ? s->out_c / s->in_c : 1);
    const int16_t *tp[512];
    for (size_t p = 0; p < npix; p++) {
        size_t ox = p % s->out_w, oy = p / s->out_w % s->out_h, b = p / s->out_w / s->out_h;
        const int16_t *rowp = row;
        if (l->dw) {
            const int16_t *base = xp + ((b * l->hp + oy * s->sy) * l->wp + ox * s->sx) * ocp;
            for (unsigned t = 0; t < k; t++)
                tp[t] = base + l->toff[t];
        } else {
            im2col_row(l, xp, (unsigned)b, (unsigned)oy, (unsigned)ox, 0, row);
        }
        for (unsigned blk = 0; blk < l->nblk; blk++) {
            const size_t c0 = (size_t)blk * LANES;
            int32_t lo[LANES], hi[LANES], fin[LANES];
            const int16_t *shifted[512];
            if (l->dw)
                for (unsigned t = 0; t < k; t++)
                    shifted[t] = tp[t] + c0;
            scan_lanes(l->dw ? shifted : &rowp, !l->dw, l->wt + c0, ocp, k, l->bias + c0, lo, hi,
                       fin);
            unsigned nc = l->cpg - blk * LANES < LANES ? l->cpg - blk * LANES : LANES;
            for (unsigned c = 0; c < nc; c++)
                scan_note(o, s, p * s->out_c + c0 + c, lo[c], hi[c], fin[c], rlo, rhi);
        }
    }
    if (o->n_any) { /* the first overflowing output's term, from the plain scan of it */
        int64_t lo, hi, fin;
        scan_one(s, x32, l->in_off, w, w_off, bias, (size_t)o->first[0], (unsigned)o->first[1],
                 (unsigned)o->first[2], (unsigned)o->first[3], rlo, rhi, &lo, &hi, &fin,
                 &o->first_term);
    }
}
