/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_requant.c: the C twin of rtl/mpq_requant.sv, TFLite/gemmlowp requantization of one
 * accumulator. The RTL computes it in two combinational halves between pipeline registers:
 *   mul half: a = wrap32(acc << max(shift, 0)); hi = SaturatingRoundingDoublingHighMul(a, mult)
 *   out half: rq = RoundingDivideByPOT(hi, max(-shift, 0)); y = clamp(out_offset + rq, ...)
 * mpq_srdhm is the mul half's multiplier, mpq_rdbpot the out half's divider,
 * mpq_requant_double both, mpq_requant_one the whole unit with the clamp. The single-rounding
 * and int16 (64-bit accumulator) kinds are TFLite's other paths, which the RTL does not have.
 *
 * No signed overflow and no right shift of a negative value: 128-bit or unsigned arithmetic.
 */
#include "arith/mpq.h"
#include <stdio.h>
#include <string.h>

#include "arith/mpq_fit.h"
#include "arith/mpq_mac.h"

#if defined(__SSE2__) && !defined(MPQ_NO_SIMD)
#include <emmintrin.h>
#define RQ_SSE2 1
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#include "arith/mpq_layer.h"
#define RQ_AVX2 1
#endif
#endif

/* acc reduced to int32 by two's complement wrap (TFLite's int32 accumulator). */
static int32_t wrap32(int64_t v)
{
    return (int32_t)mpq_fit_wide(v, 32, MPQ_OVF_WRAP, NULL);
}

/* mul half: gemmlowp SaturatingRoundingDoublingHighMul (mpq_requant.sv `hi_o`). */
int32_t mpq_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * b; /* |ab| <= 2^62 */
    int64_t nudge = ab >= 0 ? (INT64_C(1) << 30) : 1 - (INT64_C(1) << 30);
    /* gemmlowp divides with C truncation toward zero. */
    return (int32_t)((ab + nudge) / (INT64_C(1) << 31));
}

/* out half: gemmlowp RoundingDivideByPOT (mpq_requant.sv `rq`). */
int32_t mpq_rdbpot(int32_t x, int exponent)
{
    if (exponent <= 0)
        return x;
    if (exponent > 31)
        exponent = 31;
    int64_t mask = (INT64_C(1) << exponent) - 1;
    int64_t rem = (int64_t)((uint64_t)(int64_t)x & (uint64_t)mask);
    int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    int64_t q = (int64_t)mpq_floor_shift(x, (unsigned)exponent);
    return (int32_t)(q + (rem > threshold ? 1 : 0));
}

/* mul half then out half: the datapath of rtl/mpq_requant.sv, without the clamp. */
int32_t mpq_requant_double(int32_t acc, int32_t mult, int shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    int32_t a = wrap32((int64_t)((uint64_t)(int64_t)acc << left));
    return mpq_rdbpot(mpq_srdhm(a, mult), right);
}

/* TFLite's single-rounding variant (not in the RTL: a software twin of the same step). */
int32_t mpq_requant_single(int32_t acc, int32_t mult, int shift)
{
    if (shift > 30)
        shift = 30;
    if (shift < -31)
        shift = -31;
    mpq_i128 v = (mpq_i128)acc * mult + ((mpq_i128)1 << (30 - shift));
    return (int32_t)mpq_fit_wide(mpq_floor_shift(v, (unsigned)(31 - shift)), 32, MPQ_OVF_SAT, NULL);
}

/* The int16-activation path of CMSIS-NN / TFLite (64-bit accumulator; not in the RTL). */
int32_t mpq_requant_s64_reduced(int64_t acc, int32_t mult, int shift)
{
    if (shift > 14)
        shift = 14;
    if (shift < -31)
        shift = -31;
    int64_t rm = mult < 0x7FFF0000 ? (int64_t)mpq_floor_shift((int64_t)mult + (1 << 15), 16) : 0x7FFF;
    mpq_i128 v = (mpq_i128)acc * rm + ((mpq_i128)1 << (14 - shift));
    return (int32_t)mpq_fit_wide(mpq_floor_shift(v, (unsigned)(15 - shift)), 32, MPQ_OVF_SAT, NULL);
}

/* One lane's whole requantizer, mpq_requant.sv's mul half and out half including the out
 * half's clamp(out_offset + rq, act_min, act_max); the other kinds are its software siblings. */
int32_t mpq_requant_one(const mpq_requant *rq, int64_t acc, unsigned c)
{
    unsigned i = rq->nparams > 1 ? c : 0;
    int32_t mult = rq->mult[i], shift = rq->shift[i];
    int64_t v;
    switch (rq->kind) {
    case MPQ_RQ_SINGLE:
        v = mpq_requant_single(wrap32(acc), mult, shift);
        break;
    case MPQ_RQ_S64_REDUCED:
        v = mpq_requant_s64_reduced(acc, mult, shift);
        break;
    case MPQ_RQ_GENERIC:
        v = mpq_mulshift(acc, mult, shift < 0 ? 0u : (unsigned)shift, rq->round, 32, rq->ovf, NULL);
        break;
    case MPQ_RQ_DOUBLE:
    case MPQ_RQ_COUNT:
    default:
        v = mpq_requant_double(wrap32(acc), mult, shift);
        break;
    }
    v += rq->out_offset;
    if (v < rq->act_min)
        v = rq->act_min;
    if (v > rq->act_max)
        v = rq->act_max;
    return (int32_t)v;
}

int mpq_requant_check(const mpq_requant *rq, unsigned n, char *err, size_t errlen)
{
    if (!rq->mult || !rq->shift || (rq->nparams != 1 && rq->nparams != n)) {
        snprintf(err, errlen, "requantization needs 1 or n=%u multipliers and shifts", n);
        return MPQ_EPARAM;
    }
    if (rq->act_min > rq->act_max) {
        snprintf(err, errlen, "act_min %d > act_max %d", rq->act_min, rq->act_max);
        return MPQ_EPARAM;
    }
    for (unsigned i = 0; i < rq->nparams; i++) {
        int sh = rq->shift[i];
        int bad = rq->mult[i] < 0;
        if (rq->kind == MPQ_RQ_GENERIC)
            bad |= sh < 0 || sh > 126;
        else
            bad |= sh < -31 || sh > (rq->kind == MPQ_RQ_S64_REDUCED ? 14 : 30);
        if (bad) {
            snprintf(err, errlen, "requantization parameter %u (mult %d, shift %d) out of range",
                     i, rq->mult[i], sh);
            return MPQ_EPARAM;
        }
    }
    return MPQ_OK;
}

/* ---- a layer's int32 accumulators to int8 (mpq_mac.h) ---- */

int mpq_rq_i8_init(mpq_rq_i8 *q, const mpq_requant *rq, unsigned n, unsigned wrap_bits)
{
    memset(q, 0, sizeof *q);
    if (rq->act_min < INT8_MIN || rq->act_max > INT8_MAX || wrap_bits < 1 || wrap_bits > 32)
        return MPQ_EPARAM;
    q->rq = *rq;
    q->wrap_bits = wrap_bits;
    q->vec = rq->kind == MPQ_RQ_DOUBLE || rq->kind == MPQ_RQ_SINGLE;
    for (unsigned c = 0; q->vec && c < (rq->nparams > 1 ? n : 1); c++)
        q->vec = !(rq->kind == MPQ_RQ_SINGLE && rq->shift[c] > 0);
    return MPQ_OK;
}

/* a wrapped to `bits` (1..32), sign-extended: two's complement on uint32_t. */
static int32_t wrap_to(int32_t a, unsigned bits)
{
    if (bits >= 32)
        return a;
    uint32_t m = (UINT32_C(1) << bits) - 1, u = (uint32_t)a & m;
    return u > (m >> 1) ? -(int32_t)(m - u) - 1 : (int32_t)u;
}

static int8_t rq_one_i8(const mpq_rq_i8 *q, int32_t a, unsigned c)
{
    return (int8_t)mpq_requant_one(&q->rq, wrap_to(a, q->wrap_bits), c);
}

#ifdef RQ_SSE2
/* floor(v / 2^k) of two int64 lanes, 31 <= k <= 62 (SSE2 has no 64-bit arithmetic shift): a
 * negative v is complemented, shifted logically and complemented back. */
static inline __m128i floor_shift64(__m128i v, __m128i k)
{
    __m128i sign = _mm_shuffle_epi32(_mm_srai_epi32(v, 31), _MM_SHUFFLE(3, 3, 1, 1));
    return _mm_xor_si128(_mm_srl_epi64(_mm_xor_si128(v, sign), k), sign);
}

/* mpq_requant_double (single: mpq_requant_single) of 4 accumulators of one channel,
 * multiplier m >= 0. The 32x32-bit signed products come from pmuludq and a correction of the
 * high half: a signed a < 0 reads as a + 2^32 unsigned, so its product is m * 2^32 too large.
 * Double: srdhm = floor((a*m + 2^30) / 2^31), which gemmlowp's nudge and truncation equal for
 * every a when m >= 0, then RoundingDivideByPOT; single: floor((a*m + 2^(30-s)) / 2^(31-s))
 * for s <= 0. Either result fits 32 bits: its low half is the answer. */
static __m128i rq4(__m128i a, int32_t m, int shift, int single)
{
    const __m128i M = _mm_set1_epi32(m), lo32 = _mm_set_epi32(0, -1, 0, -1);
    if (!single && shift > 0)
        a = _mm_sll_epi32(a, _mm_cvtsi32_si128(shift));
    __m128i corr = _mm_and_si128(_mm_srai_epi32(a, 31), M);
    __m128i pe = _mm_sub_epi64(_mm_mul_epu32(a, M), _mm_slli_epi64(corr, 32));
    __m128i po = _mm_sub_epi64(_mm_mul_epu32(_mm_srli_epi64(a, 32), M),
                               _mm_andnot_si128(lo32, corr));
    int rs = single ? 31 - shift : 31;
    __m128i rnd = _mm_set1_epi64x(INT64_C(1) << (rs - 1)), cnt = _mm_cvtsi32_si128(rs);
    pe = floor_shift64(_mm_add_epi64(pe, rnd), cnt);
    po = floor_shift64(_mm_add_epi64(po, rnd), cnt);
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

/* 4 pixels x 8 channels (c0..c0+7) of acc (row stride n) into y: transposed to one vector
 * per channel, wrapped, requantized, then packed back to 8 bytes per pixel. */
static void tile_i8(const mpq_rq_i8 *q, const int32_t *acc, unsigned n, unsigned c0, int8_t *y)
{
    const mpq_requant *rq = &q->rq;
    __m128i ch[8], r[8];
    for (int h = 0; h < 2; h++) {
        __m128i a0 = _mm_loadu_si128((const __m128i *)(const void *)(acc + c0 + 4 * h));
        __m128i a1 = _mm_loadu_si128((const __m128i *)(const void *)(acc + n + c0 + 4 * h));
        __m128i a2 = _mm_loadu_si128((const __m128i *)(const void *)(acc + 2 * (size_t)n + c0 + 4 * h));
        __m128i a3 = _mm_loadu_si128((const __m128i *)(const void *)(acc + 3 * (size_t)n + c0 + 4 * h));
        __m128i t0 = _mm_unpacklo_epi32(a0, a1), t1 = _mm_unpacklo_epi32(a2, a3);
        __m128i t2 = _mm_unpackhi_epi32(a0, a1), t3 = _mm_unpackhi_epi32(a2, a3);
        ch[4 * h + 0] = _mm_unpacklo_epi64(t0, t1);
        ch[4 * h + 1] = _mm_unpackhi_epi64(t0, t1);
        ch[4 * h + 2] = _mm_unpacklo_epi64(t2, t3);
        ch[4 * h + 3] = _mm_unpackhi_epi64(t2, t3);
    }
    const __m128i wcnt = _mm_cvtsi32_si128((int)(32 - q->wrap_bits));
    for (unsigned c = 0; c < 8; c++) {
        unsigned i = rq->nparams > 1 ? c0 + c : 0;
        __m128i v = _mm_sra_epi32(_mm_sll_epi32(ch[c], wcnt), wcnt);
        r[c] = rq4(v, rq->mult[i], rq->shift[i], rq->kind == MPQ_RQ_SINGLE);
    }
    /* int16 with saturation, the output offset (saturating: |offset| and the clamp lie well
     * inside int16), the activation clamp. The channel order X = (0 4 2 6), Y = (1 5 3 7)
     * makes the byte transpose below come out in channel order. */
    const __m128i off = _mm_set1_epi16((int16_t)rq->out_offset);
    const __m128i lo = _mm_set1_epi16((int16_t)rq->act_min), hi = _mm_set1_epi16((int16_t)rq->act_max);
    __m128i p04 = _mm_packs_epi32(r[0], r[4]), p26 = _mm_packs_epi32(r[2], r[6]);
    __m128i p15 = _mm_packs_epi32(r[1], r[5]), p37 = _mm_packs_epi32(r[3], r[7]);
#define RQ_CLAMP(v) _mm_min_epi16(_mm_max_epi16(_mm_adds_epi16((v), off), lo), hi)
    __m128i X = _mm_packs_epi16(RQ_CLAMP(p04), RQ_CLAMP(p26));
    __m128i Y = _mm_packs_epi16(RQ_CLAMP(p15), RQ_CLAMP(p37));
#undef RQ_CLAMP
    __m128i t0 = _mm_unpacklo_epi8(X, Y), t1 = _mm_unpackhi_epi8(X, Y);
    __m128i u0 = _mm_unpacklo_epi16(t0, t1), u1 = _mm_unpackhi_epi16(t0, t1);
    __m128i r01 = _mm_unpacklo_epi32(u0, u1), r23 = _mm_unpackhi_epi32(u0, u1);
    int8_t *d = y + c0;
    _mm_storel_epi64((__m128i *)(void *)d, r01);
    _mm_storel_epi64((__m128i *)(void *)(d + n), _mm_srli_si128(r01, 8));
    _mm_storel_epi64((__m128i *)(void *)(d + 2 * (size_t)n), r23);
    _mm_storel_epi64((__m128i *)(void *)(d + 3 * (size_t)n), _mm_srli_si128(r23, 8));
}
#endif

#ifdef RQ_AVX2
/* AVX2 has shifts by a count per lane: 8 channels of one pixel per vector, each lane with its
 * channel's parameters, no transposes. The same arithmetic as rq4: the products from vpmuldq
 * (signed) on the even and the odd lanes, double rounding's srdhm then RoundingDivideByPOT,
 * single rounding's floor shift with a negative product complemented around the logical
 * shift (counts up to 62). */
typedef struct rq8_params {
    __m256i mult, mult_odd, left, right, mask, k_even, k_odd, rnd_even, rnd_odd;
    int single;
} rq8_params;

__attribute__((target("avx2"))) static void rq8_setup(const mpq_rq_i8 *q, unsigned c0,
                                                      rq8_params *p)
{
    const mpq_requant *rq = &q->rq;
    int32_t m[8], l[8], r[8], k[8], rs[8];
    for (unsigned c = 0; c < 8; c++) {
        unsigned i = rq->nparams > 1 ? c0 + c : 0;
        int sh = rq->shift[i];
        m[c] = rq->mult[i];
        l[c] = sh > 0 ? sh : 0;
        r[c] = sh > 0 ? 0 : -sh;
        k[c] = 31 - sh; /* single: the right shift of the product */
        rs[c] = 30 - sh; /* single: its rounding bit */
    }
    const __m256i lo32 = _mm256_set1_epi64x(0xffffffff), one = _mm256_set1_epi64x(1);
    p->single = rq->kind == MPQ_RQ_SINGLE;
    p->mult = _mm256_loadu_si256((const __m256i *)(const void *)m);
    p->mult_odd = _mm256_srli_epi64(p->mult, 32);
    p->left = _mm256_loadu_si256((const __m256i *)(const void *)l);
    p->right = _mm256_loadu_si256((const __m256i *)(const void *)r);
    p->mask = _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), p->right), _mm256_set1_epi32(1));
    __m256i kv = _mm256_loadu_si256((const __m256i *)(const void *)k);
    __m256i rv = _mm256_loadu_si256((const __m256i *)(const void *)rs);
    p->k_even = _mm256_and_si256(kv, lo32);
    p->k_odd = _mm256_srli_epi64(kv, 32);
    p->rnd_even = _mm256_sllv_epi64(one, _mm256_and_si256(rv, lo32));
    p->rnd_odd = _mm256_sllv_epi64(one, _mm256_srli_epi64(rv, 32));
}

/* floor(v / 2^k) of four int64 lanes, k per lane in 0..62; the low halves are the answer. */
__attribute__((target("avx2"))) static inline __m256i floor_shift64x4(__m256i v, __m256i k)
{
    __m256i sign = _mm256_shuffle_epi32(_mm256_srai_epi32(v, 31), _MM_SHUFFLE(3, 3, 1, 1));
    return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(v, sign), k), sign);
}

__attribute__((target("avx2"))) static inline __m256i rq8(const rq8_params *p, __m256i a)
{
    const __m256i lo32 = _mm256_set1_epi64x(0xffffffff);
    __m256i pe, po;
    if (p->single) {
        pe = _mm256_add_epi64(_mm256_mul_epi32(a, p->mult), p->rnd_even);
        po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), p->mult_odd), p->rnd_odd);
        pe = floor_shift64x4(pe, p->k_even);
        po = floor_shift64x4(po, p->k_odd);
        return _mm256_or_si256(_mm256_and_si256(pe, lo32), _mm256_slli_epi64(po, 32));
    }
    const __m256i rnd = _mm256_set1_epi64x(INT64_C(1) << 30);
    a = _mm256_sllv_epi32(a, p->left); /* wraps on 32 bits, as mpq_requant_double */
    pe = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(a, p->mult), rnd), 31);
    po = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), p->mult_odd), rnd), 31);
    __m256i h = _mm256_or_si256(_mm256_and_si256(pe, lo32), _mm256_slli_epi64(po, 32));
    /* RoundingDivideByPOT by right[c] (0: h itself) */
    __m256i thr = _mm256_sub_epi32(_mm256_srli_epi32(p->mask, 1), _mm256_srai_epi32(h, 31));
    __m256i up = _mm256_cmpgt_epi32(_mm256_and_si256(h, p->mask), thr);
    return _mm256_sub_epi32(_mm256_srav_epi32(h, p->right), up);
}

/* Channels [c0, c0 + 8) of every pixel, two pixels per step. */
__attribute__((target("avx2"))) static void block8_i8_avx2(const mpq_rq_i8 *q, const int32_t *acc,
                                                           size_t npix, unsigned n, unsigned c0,
                                                           int8_t *y)
{
    rq8_params p;
    rq8_setup(q, c0, &p);
    const __m128i wcnt = _mm_cvtsi32_si128((int)(32 - q->wrap_bits));
    const __m256i off = _mm256_set1_epi16((int16_t)q->rq.out_offset);
    const __m256i lo = _mm256_set1_epi16((int16_t)q->rq.act_min), hi = _mm256_set1_epi16((int16_t)q->rq.act_max);
    for (size_t i = 0; i < npix; i += 2) {
        const size_t j = i + 1 < npix ? i + 1 : i;
        __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(acc + i * n + c0));
        __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(acc + j * n + c0));
        a = rq8(&p, _mm256_sra_epi32(_mm256_sll_epi32(a, wcnt), wcnt));
        b = rq8(&p, _mm256_sra_epi32(_mm256_sll_epi32(b, wcnt), wcnt));
        /* int16 with saturation in pixel order, offset, clamp, int8 */
        __m256i h = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), _MM_SHUFFLE(3, 1, 2, 0));
        h = _mm256_min_epi16(_mm256_max_epi16(_mm256_adds_epi16(h, off), lo), hi);
        __m256i bytes = _mm256_packs_epi16(h, h);
        _mm_storel_epi64((__m128i *)(void *)(y + i * n + c0), _mm256_castsi256_si128(bytes));
        if (j != i)
            _mm_storel_epi64((__m128i *)(void *)(y + j * n + c0), _mm256_extracti128_si256(bytes, 1));
    }
}
#endif

void mpq_requant_i8(const mpq_rq_i8 *q, const int32_t *acc, size_t npix, unsigned n, int8_t *y)
{
    size_t p = 0;
#ifdef RQ_AVX2
    if (q->vec && n >= 8 && mpq_simd_level() == MPQ_SIMD_AVX2 &&
        q->rq.out_offset >= INT16_MIN && q->rq.out_offset <= INT16_MAX) {
        unsigned c = 0;
        for (; c + 8 <= n; c += 8)
            block8_i8_avx2(q, acc, npix, n, c, y);
        for (size_t i = 0; i < npix; i++)
            for (unsigned cc = c; cc < n; cc++)
                y[i * n + cc] = rq_one_i8(q, acc[i * n + cc], cc);
        return;
    }
#endif
#ifdef RQ_SSE2
    if (q->vec && n >= 8 && q->rq.out_offset >= INT16_MIN && q->rq.out_offset <= INT16_MAX)
        for (; p + 4 <= npix; p += 4) {
            const int32_t *a = acc + p * n;
            int8_t *d = y + p * n;
            unsigned c = 0;
            for (; c + 8 <= n; c += 8)
                tile_i8(q, a, n, c, d);
            for (unsigned r = 0; r < 4; r++)
                for (unsigned cc = c; cc < n; cc++)
                    d[r * (size_t)n + cc] = rq_one_i8(q, a[r * (size_t)n + cc], cc);
        }
#endif
    for (size_t i = p * n; i < npix * n; i++)
        y[i] = rq_one_i8(q, acc[i], (unsigned)(i % n));
}
