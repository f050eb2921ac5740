/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_abfp.c: adaptive block floating point on an analog matrix unit, emulated exactly
 * (the format, its order of operations and its noise: mpq_abfp.h; why: docs/abfp.md).
 *
 * Every float operation is one of the header's, in its order: IEEE double for the mantissas
 * and the ADC input, float32 for the digital rescaling and the accumulation across tiles. No
 * libm, no contraction (the pragma below for clang; golden.mk adds -ffp-contract=off for gcc),
 * and float arithmetic evaluated in its own type (FLT_EVAL_METHOD 0: SSE, not x87).
 */
#include <errno.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq_abfp.h"
#include "arith/mpq_layer.h"
#include "arith/mpq_mac.h"
#include "arith/mpq_rng.h"

/* SSE2 twins of the scale and mantissa loops: the same IEEE operations lane by lane, so the
 * same bits (golden/abfp-repro builds the plain C with -DMPQ_NO_SIMD and compares). */
#if defined(__SSE2__) && !defined(MPQ_NO_SIMD)
#include <emmintrin.h>
#define ABFP_SSE2 1
#endif

/* AVX2 twins of the conversion and mantissa loops, chosen at run time as the MAC engine
 * chooses its kernels (mpq_simd_level: the CPU, and mpq_simd_limit). Every AVX2 CPU has
 * POPCNT. */
#if defined(ABFP_SSE2) && defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define ABFP_AVX2 1
#define ABFP_AVX2_FN __attribute__((target("avx2,popcnt")))
#endif

#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "mpq_abfp.c needs float arithmetic evaluated in its own type (FLT_EVAL_METHOD 0)"
#endif
#if defined(__FAST_MATH__)
#error "mpq_abfp.c needs IEEE arithmetic as written: no -ffast-math (it reorders and drops roundings)"
#endif
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#ifdef ABFP_SSE2
/* The set bits of a 4-bit mask. */
static inline unsigned bits4(int m) { return (unsigned)((m & 1) + ((m >> 1) & 1) + ((m >> 2) & 1) + ((m >> 3) & 1)); }
#endif

void mpq_abfp_default(mpq_abfp *p)
{
    memset(p, 0, sizeof *p);
    p->n = 128;
    p->bw = p->bx = p->bout = 8;
    p->gain = 1.0f;
    p->round_mant = MPQ_ROUND_HALF_EVEN;
    p->round_adc = MPQ_ROUND_HALF_EVEN;
    p->noise = 0.0;
    p->seed = 1;
    p->scale = MPQ_ABFP_SCALE_TILE;
    p->x_amax = 1.0f;
}

static const char *const scale_names[MPQ_ABFP_SCALE_COUNT] = {"tile", "channel", "tensor"};

const char *mpq_abfp_scale_name(mpq_abfp_scale s)
{
    return (unsigned)s < MPQ_ABFP_SCALE_COUNT ? scale_names[s] : "?";
}

int mpq_abfp_check(const mpq_abfp *p, char *err, size_t errlen)
{
    if (p->n < 1 || p->n > MPQ_ABFP_N_MAX) {
        snprintf(err, errlen, "n: %u is not in 1..%u", p->n, MPQ_ABFP_N_MAX);
        return MPQ_EPARAM;
    }
    if (p->bw < MPQ_ABFP_BITS_MIN || p->bw > MPQ_ABFP_BITS_MAX) {
        snprintf(err, errlen, "bw: %u is not in %u..%u", p->bw, MPQ_ABFP_BITS_MIN, MPQ_ABFP_BITS_MAX);
        return MPQ_EPARAM;
    }
    if (p->bx < MPQ_ABFP_BITS_MIN || p->bx > MPQ_ABFP_BITS_MAX) {
        snprintf(err, errlen, "bx: %u is not in %u..%u", p->bx, MPQ_ABFP_BITS_MIN, MPQ_ABFP_BITS_MAX);
        return MPQ_EPARAM;
    }
    if (p->bout < MPQ_ABFP_BITS_MIN || p->bout > MPQ_ABFP_BOUT_MAX) {
        snprintf(err, errlen, "bout: %u is not in %u..%u", p->bout, MPQ_ABFP_BITS_MIN, MPQ_ABFP_BOUT_MAX);
        return MPQ_EPARAM;
    }
    /* Written so that NaN fails too. */
    if (!(p->gain > 0.0f && p->gain <= MPQ_ABFP_GAIN_MAX)) {
        snprintf(err, errlen, "gain: %g is not in (0, %g]", (double)p->gain, MPQ_ABFP_GAIN_MAX);
        return MPQ_EPARAM;
    }
    if (!(p->noise >= 0.0 && p->noise <= MPQ_ABFP_NOISE_MAX)) {
        snprintf(err, errlen, "noise: %g is not in [0, %g]", p->noise, MPQ_ABFP_NOISE_MAX);
        return MPQ_EPARAM;
    }
    if ((unsigned)p->round_mant >= MPQ_ROUND_COUNT || (unsigned)p->round_adc >= MPQ_ROUND_COUNT) {
        snprintf(err, errlen, "%s: unknown rounding %d",
                 (unsigned)p->round_mant >= MPQ_ROUND_COUNT ? "round" : "adc-round",
                 (unsigned)p->round_mant >= MPQ_ROUND_COUNT ? (int)p->round_mant : (int)p->round_adc);
        return MPQ_EPARAM;
    }
    if ((unsigned)p->scale >= MPQ_ABFP_SCALE_COUNT) {
        snprintf(err, errlen, "scale: unknown scale granularity %d", (int)p->scale);
        return MPQ_EPARAM;
    }
    if (p->scale != MPQ_ABFP_SCALE_TILE && !(p->x_amax > 0.0f && p->x_amax <= FLT_MAX)) {
        snprintf(err, errlen, "x-amax: %g is not a positive finite input scale", (double)p->x_amax);
        return MPQ_EPARAM;
    }
    return MPQ_OK;
}

/* A whole decimal number in lo..hi, or -1. */
static int parse_range(const char *name, const char *v, unsigned long long lo, unsigned long long hi,
                       unsigned long long *out, char *err, size_t errlen)
{
    char *end;
    if (*v < '0' || *v > '9') {
        snprintf(err, errlen, "%s: `%s` is not a whole number in %llu..%llu", name, v, lo, hi);
        return MPQ_EPARAM;
    }
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || errno == ERANGE || x < lo || x > hi) {
        snprintf(err, errlen, "%s: `%s` is not a whole number in %llu..%llu", name, v, lo, hi);
        return MPQ_EPARAM;
    }
    *out = x;
    return MPQ_OK;
}

static int parse_real(const char *name, const char *v, double *out, char *err, size_t errlen)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || x != x) {
        snprintf(err, errlen, "%s: `%s` is not a number", name, v);
        return MPQ_EPARAM;
    }
    *out = x;
    return MPQ_OK;
}

int mpq_abfp_set(mpq_abfp *p, const char *name, const char *value, char *err, size_t errlen)
{
    unsigned long long u;
    double d;
    mpq_abfp q = *p;
    int rc = MPQ_OK;
    if (!strcmp(name, "n")) {
        if ((rc = parse_range(name, value, 1, MPQ_ABFP_N_MAX, &u, err, errlen)) == 0)
            q.n = (unsigned)u;
    } else if (!strcmp(name, "bw") || !strcmp(name, "bx") || !strcmp(name, "bits")) {
        if ((rc = parse_range(name, value, MPQ_ABFP_BITS_MIN, MPQ_ABFP_BITS_MAX, &u, err, errlen)) == 0) {
            if (name[1] != 'x')
                q.bw = (unsigned)u;
            if (name[1] != 'w')
                q.bx = (unsigned)u;
        }
    } else if (!strcmp(name, "bout")) {
        if ((rc = parse_range(name, value, MPQ_ABFP_BITS_MIN, MPQ_ABFP_BOUT_MAX, &u, err, errlen)) == 0)
            q.bout = (unsigned)u;
    } else if (!strcmp(name, "seed")) {
        if ((rc = parse_range(name, value, 0, UINT64_MAX, &u, err, errlen)) == 0)
            q.seed = u;
    } else if (!strcmp(name, "gain")) {
        if ((rc = parse_real(name, value, &d, err, errlen)) == 0) {
            if (!(d > 0.0 && d <= MPQ_ABFP_GAIN_MAX)) {
                snprintf(err, errlen, "gain: `%s` is not in (0, %g]", value, MPQ_ABFP_GAIN_MAX);
                rc = MPQ_EPARAM;
            } else {
                q.gain = (float)d;
            }
        }
    } else if (!strcmp(name, "noise")) {
        if ((rc = parse_real(name, value, &d, err, errlen)) == 0) {
            if (!(d >= 0.0 && d <= MPQ_ABFP_NOISE_MAX)) {
                snprintf(err, errlen, "noise: `%s` is not in [0, %g] (ADC steps)", value, MPQ_ABFP_NOISE_MAX);
                rc = MPQ_EPARAM;
            } else {
                q.noise = d;
            }
        }
    } else if (!strcmp(name, "x-amax")) {
        if ((rc = parse_real(name, value, &d, err, errlen)) == 0) {
            if (!(d > 0.0 && d <= FLT_MAX)) {
                snprintf(err, errlen, "x-amax: `%s` is not a positive finite scale", value);
                rc = MPQ_EPARAM;
            } else {
                q.x_amax = (float)d;
            }
        }
    } else if (!strcmp(name, "round") || !strcmp(name, "adc-round")) {
        mpq_round r;
        if (mpq_round_parse(value, &r) != 0) {
            snprintf(err, errlen, "%s: `%s` is not floor, zero, half_up, half_down, half_away or half_even",
                     name, value);
            rc = MPQ_EPARAM;
        } else if (name[0] == 'r') {
            q.round_mant = r;
        } else {
            q.round_adc = r;
        }
    } else if (!strcmp(name, "scale")) {
        unsigned i = 0;
        while (i < MPQ_ABFP_SCALE_COUNT && strcmp(value, scale_names[i]))
            i++;
        if (i == MPQ_ABFP_SCALE_COUNT) {
            snprintf(err, errlen, "scale: `%s` is not tile, channel or tensor", value);
            rc = MPQ_EPARAM;
        } else {
            q.scale = (mpq_abfp_scale)i;
        }
    } else {
        snprintf(err, errlen, "%s: not an ABFP parameter (n, bw, bx, bits, bout, gain, noise, seed, "
                 "round, adc-round, scale, x-amax)", name);
        rc = MPQ_EPARAM;
    }
    if (rc == MPQ_OK)
        *p = q;
    return rc;
}

/* ---- Exact roundings of a double to an integer (|t| < 2^52) ---- */

static int64_t round_exact(double t, mpq_round r)
{
    int64_t i = (int64_t)t; /* toward zero; exact for |t| < 2^52 */
    if ((double)i > t)
        i--;                /* floor */
    double f = t - (double)i; /* exact: the fraction, in [0, 1) */
    switch (r) {
    case MPQ_ROUND_FLOOR: return i;
    case MPQ_ROUND_ZERO: return (f > 0.0 && t < 0.0) ? i + 1 : i;
    case MPQ_ROUND_HALF_UP: return f >= 0.5 ? i + 1 : i;
    case MPQ_ROUND_HALF_DOWN: return f > 0.5 ? i + 1 : i;
    case MPQ_ROUND_HALF_AWAY: return (f > 0.5 || (f == 0.5 && t > 0.0)) ? i + 1 : i;
    case MPQ_ROUND_HALF_EVEN: return (f > 0.5 || (f == 0.5 && (i & 1))) ? i + 1 : i;
    case MPQ_ROUND_COUNT: break;
    }
    return i;
}

/* Half to even by the exact IEEE addition of 1.5 * 2^52: for |t| <= 2^51 the sum lies where
 * the spacing of doubles is 1, so it is t rounded to the nearest integer, ties to even (the
 * default rounding of IEEE arithmetic), and the subtraction is exact. */
#define RNE_SHIFT 6755399441055744.0
static inline double rne(double t) { return (t + RNE_SHIFT) - RNE_SHIFT; }

static inline int64_t round_any(double t, mpq_round r)
{
    return r == MPQ_ROUND_HALF_EVEN ? (int64_t)rne(t) : round_exact(t, r);
}

/* R(t) clamped to [-m, m]; t is first limited to +-(m+1), which keeps it exact to round and
 * changes no result. *clamped (if not NULL) is set when the clamp changed the value. */
static inline int64_t round_clamp(double t, int64_t m, mpq_round r, int *clamped)
{
    double lim = (double)(m + 1);
    if (t > lim)
        t = lim;
    else if (t < -lim)
        t = -lim;
    int64_t q = round_any(t, r);
    int c = 0;
    if (q > m) {
        q = m;
        c = 1;
    } else if (q < -m) {
        q = -m;
        c = 1;
    }
    if (clamped)
        *clamped = c;
    return q;
}

static int64_t mant_max(unsigned bits) { return ((int64_t)1 << (bits - 1)) - 1; }

int32_t mpq_abfp_mantissa(float v, float s, unsigned bits, mpq_round r)
{
    if (s == 0.0f || bits < 2 || bits > 31)
        return 0;
    int64_t m = mant_max(bits);
    return (int32_t)round_clamp(((double)v * (double)m) / (double)s, m, r, NULL);
}

/* ---- Noise ---- */

double mpq_abfp_normal(uint64_t seed, uint64_t i)
{
    const uint64_t field = (1u << 21) - 1;
    uint64_t sum = 0;
    for (unsigned d = 0; d < 4; d++) {
        mpq_rng g;
        /* Draw j of the stream `seed` is the first draw of the stream seed + j*gamma. */
        mpq_rng_seed(&g, seed + (4 * i + d) * 0x9e3779b97f4a7c15ull);
        uint64_t u = mpq_rng_u64(&g);
        sum += (u & field) + ((u >> 21) & field) + ((u >> 42) & field);
    }
    return ((double)sum - 6.0 * (double)field) * (1.0 / 2097152.0);
}

#ifdef ABFP_AVX2
/* quant_slice's half-even mantissas, eight a step, through the reciprocal of the scale (as
 * quant_row_rcp, docs/abfp.md): t = (v*m)*(1/s) is within 2^-51 (relative) of the quotient,
 * IEEE division's within 2^-53, so both round to the same integer unless t lies within 2^-30
 * of a half-integer: then those eight are divided. t is first limited to +-(m+1), an integer,
 * which changes neither rounding's clamped result nor brings a value near a half-integer.
 * Returns how many values it did (a multiple of 8), adding the clamped ones to *clamped. */
ABFP_AVX2_FN static unsigned quant_slice_avx2(const float *v, unsigned len, double dm, float s, int16_t *q,
                                              unsigned *clamped)
{
    const __m256d vm = _mm256_set1_pd(dm), vnm = _mm256_set1_pd(-dm), vl = _mm256_set1_pd(dm + 1.0);
    const __m256d vnl = _mm256_set1_pd(-(dm + 1.0)), rcp = _mm256_set1_pd(1.0 / (double)s);
    const __m256d vs = _mm256_set1_pd((double)s), shift = _mm256_set1_pd(RNE_SHIFT);
    const __m256d half = _mm256_set1_pd(0.5 - 0x1p-30);
    const __m256d absmask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffll));
    unsigned i = 0, cl = 0;
    for (; i + 8 <= len; i += 8) {
        __m256 f = _mm256_loadu_ps(v + i);
        __m256d a[2] = {_mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(f)), vm),
                        _mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(f, 1)), vm)};
        __m256d tc[2], r[2];
        int amb = 0;
        for (unsigned h = 0; h < 2; h++) {
            tc[h] = _mm256_max_pd(_mm256_min_pd(_mm256_mul_pd(a[h], rcp), vl), vnl);
            r[h] = _mm256_sub_pd(_mm256_add_pd(tc[h], shift), shift);
            amb |= _mm256_movemask_pd(_mm256_cmp_pd(_mm256_and_pd(_mm256_sub_pd(tc[h], r[h]), absmask), half, _CMP_GE_OQ));
        }
        __m128i w[2];
        for (unsigned h = 0; h < 2; h++) {
            if (amb) { /* IEEE division, as quant_slice */
                tc[h] = _mm256_max_pd(_mm256_min_pd(_mm256_div_pd(a[h], vs), vl), vnl);
                r[h] = _mm256_sub_pd(_mm256_add_pd(tc[h], shift), shift);
            }
            cl += (unsigned)__builtin_popcount((unsigned)_mm256_movemask_pd(
                _mm256_cmp_pd(_mm256_and_pd(r[h], absmask), vm, _CMP_GT_OQ)));
            w[h] = _mm256_cvttpd_epi32(_mm256_max_pd(_mm256_min_pd(r[h], vm), vnm));
        }
        _mm_storeu_si128((__m128i *)(void *)(q + i), _mm_packs_epi32(w[0], w[1]));
    }
    *clamped += cl;
    return i;
}
#endif

#ifdef ABFP_AVX2
/* quant_slice_avx2 for a scale no smaller than any |v| (a tile's or a row's maximum): IEEE
 * division gives |(v*m)/s| <= m, so nothing is clamped, and t is within 2^-35 of it: no limit,
 * no count. */
ABFP_AVX2_FN static unsigned quant_tile_avx2(const float *v, unsigned len, double dm, float s, int16_t *q)
{
    const __m256d vm = _mm256_set1_pd(dm), rcp = _mm256_set1_pd(1.0 / (double)s);
    const __m256d vs = _mm256_set1_pd((double)s), shift = _mm256_set1_pd(RNE_SHIFT);
    const __m256d half = _mm256_set1_pd(0.5 - 0x1p-30);
    const __m256d absmask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffll));
    unsigned i = 0;
    for (; i + 8 <= len; i += 8) {
        __m256 f = _mm256_loadu_ps(v + i);
        __m256d a[2] = {_mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(f)), vm),
                        _mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(f, 1)), vm)};
        __m256d t[2], r[2], amb = _mm256_setzero_pd();
        for (unsigned h = 0; h < 2; h++) {
            t[h] = _mm256_mul_pd(a[h], rcp);
            r[h] = _mm256_sub_pd(_mm256_add_pd(t[h], shift), shift);
            amb = _mm256_or_pd(amb, _mm256_cmp_pd(_mm256_and_pd(_mm256_sub_pd(t[h], r[h]), absmask), half, _CMP_GE_OQ));
        }
        if (_mm256_movemask_pd(amb)) /* IEEE division, as quant_slice */
            for (unsigned h = 0; h < 2; h++)
                r[h] = _mm256_sub_pd(_mm256_add_pd(_mm256_div_pd(a[h], vs), shift), shift);
        _mm_storeu_si128((__m128i *)(void *)(q + i),
                         _mm_packs_epi32(_mm256_cvttpd_epi32(r[0]), _mm256_cvttpd_epi32(r[1])));
    }
    return i;
}
#endif

/* q[i] = R((v[i] * m) / s) clamped to [-m, m] for one slice (s > 0; bounded: s >= every
 * |v[i]|, a hint for speed); returns how many were clamped. The half-even loop is branch-free
 * so that the compiler vectorizes it. */
static unsigned quant_slice(const float *v, unsigned len, int64_t m, float s, mpq_round r, int bounded,
                            int16_t *q)
{
    double dm = (double)m, ds = (double)s, lim = dm + 1.0;
    unsigned clamped = 0;
    if (r == MPQ_ROUND_HALF_EVEN) {
        unsigned i = 0;
#ifdef ABFP_AVX2
        if (mpq_simd_level() == MPQ_SIMD_AVX2)
            i = bounded ? quant_tile_avx2(v, len, dm, s, q) : quant_slice_avx2(v, len, dm, s, q, &clamped);
#else
        (void)bounded;
#endif
#ifdef ABFP_SSE2
        const __m128d vm = _mm_set1_pd(dm), vs = _mm_set1_pd(ds), vl = _mm_set1_pd(lim), vnl = _mm_set1_pd(-lim);
        const __m128d vnm = _mm_set1_pd(-dm), shift = _mm_set1_pd(RNE_SHIFT);
        __m128i cnt = _mm_setzero_si128();
        for (; i + 4 <= len; i += 4) {
            __m128 f = _mm_loadu_ps(v + i);
            __m128d t0 = _mm_div_pd(_mm_mul_pd(_mm_cvtps_pd(f), vm), vs);
            __m128d t1 = _mm_div_pd(_mm_mul_pd(_mm_cvtps_pd(_mm_movehl_ps(f, f)), vm), vs);
            t0 = _mm_max_pd(_mm_min_pd(t0, vl), vnl);
            t1 = _mm_max_pd(_mm_min_pd(t1, vl), vnl);
            t0 = _mm_sub_pd(_mm_add_pd(t0, shift), shift);
            t1 = _mm_sub_pd(_mm_add_pd(t1, shift), shift);
            __m128d c0 = _mm_or_pd(_mm_cmpgt_pd(t0, vm), _mm_cmplt_pd(t0, vnm));
            __m128d c1 = _mm_or_pd(_mm_cmpgt_pd(t1, vm), _mm_cmplt_pd(t1, vnm));
            cnt = _mm_sub_epi64(cnt, _mm_castpd_si128(c0));
            cnt = _mm_sub_epi64(cnt, _mm_castpd_si128(c1));
            t0 = _mm_max_pd(_mm_min_pd(t0, vm), vnm);
            t1 = _mm_max_pd(_mm_min_pd(t1, vm), vnm);
            __m128i i32 = _mm_unpacklo_epi64(_mm_cvttpd_epi32(t0), _mm_cvttpd_epi32(t1));
            _mm_storel_epi64((__m128i *)(void *)(q + i), _mm_packs_epi32(i32, i32));
        }
        uint64_t c2[2];
        _mm_storeu_si128((__m128i *)(void *)c2, cnt);
        clamped += (unsigned)(c2[0] + c2[1]);
#endif
        for (; i < len; i++) {
            double t = ((double)v[i] * dm) / ds;
            t = t > lim ? lim : t;
            t = t < -lim ? -lim : t;
            double x = rne(t);
            clamped += (unsigned)(x > dm) + (unsigned)(x < -dm);
            x = x > dm ? dm : x;
            x = x < -dm ? -dm : x;
            q[i] = (int16_t)x;
        }
        return clamped;
    }
    for (unsigned i = 0; i < len; i++) {
        int c;
        q[i] = (int16_t)round_clamp(((double)v[i] * dm) / ds, m, r, &c);
        clamped += (unsigned)c;
    }
    return clamped;
}

#ifdef ABFP_SSE2
/* Two lanes of a row through the reciprocal: t = (v*m)*rcp, rcp = 1/s. t is within 2^-51
 * relative of the true quotient and IEEE division's result within 2^-53, so both round (half
 * even) to the same integer unless t lies within 2^-30 of a half-integer (after limiting it to
 * +-(lim+1), which changes no result): *amb collects those lanes, whose row is then divided. */
static inline __m128d quot2_nb(__m128d vm, __m128d rcp, __m128d lim1, __m128d *amb)
{
    const __m128d shift = _mm_set1_pd(RNE_SHIFT), half = _mm_set1_pd(0.5 - 0x1p-30);
    const __m128d absmask = _mm_castsi128_pd(_mm_set1_epi64x(0x7fffffffffffffffll));
    __m128d t = _mm_mul_pd(vm, rcp);
    __m128d tc = _mm_max_pd(_mm_min_pd(t, lim1), _mm_sub_pd(_mm_setzero_pd(), lim1));
    __m128d dist = _mm_and_pd(_mm_sub_pd(tc, _mm_sub_pd(_mm_add_pd(tc, shift), shift)), absmask);
    *amb = _mm_or_pd(*amb, _mm_cmpge_pd(dist, half));
    return t;
}

/* quant_lanes with half-even mantissas and reciprocals, four lanes a step: the mantissas of
 * the whole row from t = (v*m)*rcp. Returns the clamped count, or -1 when some lane was
 * ambiguous (quot2_nb): then the caller divides the row (q written, to be overwritten). */
static int quant_row_rcp(const float *v, const float *s, const double *rcp, unsigned count, int64_t m,
                         int16_t *q)
{
    double dm = (double)m, lim = dm + 1.0;
    const __m128d vm = _mm_set1_pd(dm), vl = _mm_set1_pd(lim), vnl = _mm_set1_pd(-lim);
    const __m128d vnm = _mm_set1_pd(-dm), shift = _mm_set1_pd(RNE_SHIFT), lim1 = _mm_set1_pd(lim + 1.0);
    const __m128 zero = _mm_setzero_ps();
    __m128d amb = _mm_setzero_pd();
    __m128i cnt = _mm_setzero_si128();
    unsigned c = 0;
    for (; c + 4 <= count; c += 4) {
        __m128 f = _mm_loadu_ps(v + c), live = _mm_cmpneq_ps(_mm_loadu_ps(s + c), zero);
        __m128d t0 = quot2_nb(_mm_mul_pd(_mm_cvtps_pd(f), vm), _mm_loadu_pd(rcp + c), lim1, &amb);
        __m128d t1 = quot2_nb(_mm_mul_pd(_mm_cvtps_pd(_mm_movehl_ps(f, f)), vm), _mm_loadu_pd(rcp + c + 2), lim1, &amb);
        t0 = _mm_sub_pd(_mm_add_pd(_mm_max_pd(_mm_min_pd(t0, vl), vnl), shift), shift);
        t1 = _mm_sub_pd(_mm_add_pd(_mm_max_pd(_mm_min_pd(t1, vl), vnl), shift), shift);
        __m128 c0 = _mm_castpd_ps(_mm_or_pd(_mm_cmpgt_pd(t0, vm), _mm_cmplt_pd(t0, vnm)));
        __m128 c1 = _mm_castpd_ps(_mm_or_pd(_mm_cmpgt_pd(t1, vm), _mm_cmplt_pd(t1, vnm)));
        /* The 64-bit lane masks as four 32-bit ones, counted only where the scale is live. */
        __m128 cl = _mm_and_ps(_mm_shuffle_ps(c0, c1, 0x88), live);
        cnt = _mm_sub_epi32(cnt, _mm_castps_si128(cl));
        t0 = _mm_max_pd(_mm_min_pd(t0, vm), vnm);
        t1 = _mm_max_pd(_mm_min_pd(t1, vm), vnm);
        __m128i i32 = _mm_unpacklo_epi64(_mm_cvttpd_epi32(t0), _mm_cvttpd_epi32(t1));
        _mm_storel_epi64((__m128i *)(void *)(q + c), _mm_packs_epi32(i32, i32));
    }
    if (_mm_movemask_pd(amb))
        return -1;
    int32_t c4[4];
    _mm_storeu_si128((__m128i *)(void *)c4, cnt);
    unsigned clamped = (unsigned)(c4[0] + c4[1] + c4[2] + c4[3]);
    for (; c < count; c++)
        if (s[c] != 0.0f)
            clamped += quant_slice(v + c, 1, m, s[c], MPQ_ROUND_HALF_EVEN, 0, q + c);
    return (int)clamped;
}
#endif

/* q[c] = R((v[c] * m) / s[c]) clamped, each value with its own scale (depthwise: the channels
 * side by side); rcp[c] = 1.0 / s[c] in double (1.0 where s[c] is 0; NULL: divide every
 * value). A zero scale leaves q[c] unwritten (never read). Returns how many clamped. */
static unsigned quant_lanes(const float *v, const float *s, const double *rcp, unsigned count, int64_t m,
                            mpq_round r, int16_t *q)
{
    unsigned clamped = 0, c = 0;
#ifdef ABFP_SSE2
    if (r == MPQ_ROUND_HALF_EVEN && rcp) {
        int k = quant_row_rcp(v, s, rcp, count, m, q);
        if (k >= 0)
            return (unsigned)k;
        rcp = NULL; /* an ambiguous lane: the row by division */
    }
    if (r == MPQ_ROUND_HALF_EVEN) {
        double dm = (double)m, lim = dm + 1.0;
        const __m128d vm = _mm_set1_pd(dm), vl = _mm_set1_pd(lim), vnl = _mm_set1_pd(-lim);
        const __m128d vnm = _mm_set1_pd(-dm), shift = _mm_set1_pd(RNE_SHIFT), zero = _mm_setzero_pd();
        for (; c + 2 <= count; c += 2) {
            __m128d sc = _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(const void *)(s + c))));
            __m128d vv = _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(const void *)(v + c))));
            /* Lanes of zero scale divide by 1 instead (their result is dropped). */
            __m128d live = _mm_cmpneq_pd(sc, zero);
            sc = _mm_or_pd(_mm_and_pd(live, sc), _mm_andnot_pd(live, _mm_set1_pd(1.0)));
            __m128d t = _mm_div_pd(_mm_mul_pd(vv, vm), sc);
            t = _mm_max_pd(_mm_min_pd(t, vl), vnl);
            t = _mm_sub_pd(_mm_add_pd(t, shift), shift);
            __m128d cl = _mm_and_pd(live, _mm_or_pd(_mm_cmpgt_pd(t, vm), _mm_cmplt_pd(t, vnm)));
            t = _mm_max_pd(_mm_min_pd(t, vm), vnm);
            int mask = _mm_movemask_pd(cl);
            clamped += (unsigned)(mask & 1) + (unsigned)(mask >> 1);
            __m128i i32 = _mm_cvttpd_epi32(t);
            q[c] = (int16_t)_mm_cvtsi128_si32(i32);
            q[c + 1] = (int16_t)_mm_cvtsi128_si32(_mm_srli_si128(i32, 4));
        }
    }
#else
    (void)rcp;
#endif
    for (; c < count; c++)
        if (s[c] != 0.0f)
            clamped += quant_slice(v + c, 1, m, s[c], r, 0, q + c);
    return clamped;
}

/* ---- Weights ---- */

void mpq_abfp_wq_free(mpq_abfp_wq *wq)
{
    for (unsigned t = 0; wq->tiles && t < wq->ntiles; t++)
        mpq_mac_tiles_free(&wq->tiles[t]);
    free(wq->tiles);
    free(wq->q);
    free(wq->scale);
    memset(wq, 0, sizeof *wq);
}

/* wq->tiles for `groups` groups of rows: tile t's mantissas in the MAC engine's layout, so
 * that the array's dots run on its kernels (exact: every dot, and so every partial sum of
 * it, fits 32 bits when the caller asks). Returns 0 or MPQ_ENOMEM (wq then freed). */
static int wq_tiles(mpq_abfp_wq *wq, unsigned groups)
{
    size_t width = (size_t)wq->ntiles * wq->n;
    wq->tiles = calloc(wq->ntiles, sizeof *wq->tiles);
    int rc = wq->tiles ? 0 : MPQ_ENOMEM;
    for (unsigned t = 0; t < wq->ntiles && rc == 0; t++) {
        unsigned len = wq->k - t * wq->n < wq->n ? wq->k - t * wq->n : wq->n;
        rc = mpq_mac_tiles_from16(&wq->tiles[t], wq->q + (size_t)t * wq->n, width, wq->rows, len, groups);
    }
    if (rc != 0)
        mpq_abfp_wq_free(wq);
    return rc ? MPQ_ENOMEM : 0;
}

/* wq->tiles again for `groups` groups (a grouped convolution). Returns 0 or MPQ_ENOMEM. */
static int wq_regroup(mpq_abfp_wq *wq, unsigned groups)
{
    for (unsigned t = 0; t < wq->ntiles; t++)
        mpq_mac_tiles_free(&wq->tiles[t]);
    free(wq->tiles);
    return wq_tiles(wq, groups);
}

static float max_abs(const float *v, size_t count)
{
    float s = 0.0f;
    size_t i = 0;
#ifdef ABFP_SSE2
    /* The maximum does not depend on the order: four lanes, then across them. */
    __m128 mx = _mm_setzero_ps();
    const __m128 abs = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
    for (; i + 4 <= count; i += 4)
        mx = _mm_max_ps(mx, _mm_and_ps(_mm_loadu_ps(v + i), abs));
    float l[4];
    _mm_storeu_ps(l, mx);
    for (unsigned j = 0; j < 4; j++)
        s = l[j] > s ? l[j] : s;
#endif
    for (; i < count; i++) {
        float a = v[i] < 0.0f ? -v[i] : v[i];
        s = a > s ? a : s;
    }
    return s;
}

/* 1 when every value is finite. */
static int all_finite(const float *v, size_t count, size_t *bad)
{
#ifdef ABFP_SSE2
    /* Any lane with an all-ones exponent (infinity or NaN): then look for the first one. */
    const __m128i ex = _mm_set1_epi32(0x7f800000);
    __m128i any = _mm_setzero_si128();
    size_t j = 0;
    for (; j + 4 <= count; j += 4) {
        __m128i b = _mm_and_si128(_mm_loadu_si128((const __m128i *)(const void *)(v + j)), ex);
        any = _mm_or_si128(any, _mm_cmpeq_epi32(b, ex));
    }
    int found = _mm_movemask_epi8(any) != 0;
    for (; j < count && !found; j++)
        found = !(v[j] >= -FLT_MAX && v[j] <= FLT_MAX);
    if (!found)
        return 1;
#endif
    for (size_t i = 0; i < count; i++)
        if (!(v[i] >= -FLT_MAX && v[i] <= FLT_MAX)) {
            *bad = i;
            return 0;
        }
    return 1;
}

int mpq_abfp_wq_make(const mpq_abfp *p, const float *w, unsigned rows, unsigned k,
                     mpq_abfp_wq *wq, char *err, size_t errlen)
{
    memset(wq, 0, sizeof *wq);
    int rc = mpq_abfp_check(p, err, errlen);
    if (rc != 0)
        return rc;
    if (rows == 0 || k == 0) {
        snprintf(err, errlen, "weights: %u x %u is empty", rows, k);
        return MPQ_EPARAM;
    }
    size_t bad;
    if (!all_finite(w, (size_t)rows * k, &bad)) {
        snprintf(err, errlen, "weights: value %zu (row %zu, column %zu) is not finite", bad, bad / k, bad % k);
        return MPQ_EPARAM;
    }
    unsigned n = p->n, nt = (k + n - 1) / n;
    size_t width = (size_t)nt * n;
    wq->q = calloc((size_t)rows * width, sizeof *wq->q);
    wq->scale = malloc((size_t)rows * nt * sizeof *wq->scale);
    if (!wq->q || !wq->scale) {
        mpq_abfp_wq_free(wq);
        return MPQ_ENOMEM;
    }
    wq->rows = rows;
    wq->k = k;
    wq->n = n;
    wq->ntiles = nt;
    wq->bw = p->bw;
    float tensor = p->scale == MPQ_ABFP_SCALE_TENSOR ? max_abs(w, (size_t)rows * k) : 0.0f;
    int64_t m = mant_max(p->bw);
    for (unsigned o = 0; o < rows; o++) {
        const float *wo = w + (size_t)o * k;
        float row = p->scale == MPQ_ABFP_SCALE_CHANNEL ? max_abs(wo, k) : tensor;
        for (unsigned t = 0; t < nt; t++) {
            unsigned len = k - t * n < n ? k - t * n : n;
            const float *v = wo + (size_t)t * n;
            float s = p->scale == MPQ_ABFP_SCALE_TILE ? max_abs(v, len) : row;
            int16_t *q = wq->q + (size_t)o * width + (size_t)t * n;
            wq->scale[(size_t)o * nt + t] = s;
            if (s != 0.0f)
                quant_slice(v, len, m, s, p->round_mant, 1, q);
        }
    }
    double d = (double)n * (double)m * (double)mant_max(p->bx);
    return d <= 2147483647.0 ? wq_tiles(wq, 1) : MPQ_OK;
}

/* ---- The array and the ADC ---- */

/* The per-call constants of the conversions. */
typedef struct abfp_adc {
    double gm, d;       /* G*Mo and D = n*Mw*Mx, both exact in double */
    int64_t mo;
    float step;         /* n / (G*Mo), float32 */
    int dot32;          /* every dot fits int32 */
} abfp_adc;

static void adc_init(const mpq_abfp *p, abfp_adc *a)
{
    a->mo = mant_max(p->bout);
    a->gm = (double)p->gain * (double)a->mo;
    a->d = (double)p->n * (double)mant_max(p->bw) * (double)mant_max(p->bx);
    a->step = (float)p->n / (p->gain * (float)a->mo);
    a->dot32 = a->d <= 2147483647.0;
}

/* Quantizes one reduction vector x[k] into its tiles: tile t's mantissas at xq + t*ts
 * (ts >= n), zeros past len up to ts and for a zero tile (the MAC engine reads them, times
 * zero weights or for a conversion that is skipped), its scale xs[t]. Returns 0, or -1 when a
 * value is not finite (*bad: its index; finite: the caller knows every value is). */
static int quant_x(const mpq_abfp *p, const float *x, unsigned k, unsigned nt, size_t ts, int16_t *xq,
                   float *xs, uint64_t *clipped, int finite, size_t *bad)
{
    unsigned n = p->n;
    int64_t m = mant_max(p->bx);
    if (!finite && !all_finite(x, k, bad))
        return -1;
    for (unsigned t = 0; t < nt; t++) {
        unsigned len = k - t * n < n ? k - t * n : n;
        const float *v = x + (size_t)t * n;
        int16_t *q = xq + (size_t)t * ts;
        float s = p->scale == MPQ_ABFP_SCALE_TILE ? max_abs(v, len) : p->x_amax;
        xs[t] = s;
        if (s != 0.0f)
            *clipped += quant_slice(v, len, m, s, p->round_mant, p->scale == MPQ_ABFP_SCALE_TILE, q);
        else
            len = 0;
        memset(q + len, 0, (ts - len) * sizeof *q);
    }
    return 0;
}

static int32_t dot32(const int16_t *a, const int16_t *b, unsigned n)
{
    int32_t s = 0;
    for (unsigned i = 0; i < n; i++)
        s += (int32_t)a[i] * b[i];
    return s;
}

static int64_t dot64(const int16_t *a, const int16_t *b, unsigned n)
{
    int64_t s = 0;
    for (unsigned i = 0; i < n; i++)
        s += (int64_t)a[i] * b[i];
    return s;
}

/* One conversion: the dot d of a tile with scales sw, sx through the gain, the noise of
 * conversion i and the ADC; returns acc plus its rescaled code (mpq_abfp.h, steps 4 and 5). */
static inline float convert(const mpq_abfp *p, const abfp_adc *a, int64_t d, float sw, float sx, uint64_t i,
                            float acc, mpq_abfp_stats *st)
{
    double v = ((double)d * a->gm) / a->d;
    if (p->noise != 0.0)
        v += p->noise * mpq_abfp_normal(p->seed, i);
    int c;
    int64_t code = round_clamp(v, a->mo, p->round_adc, &c);
    st->saturated += (uint64_t)c;
    float ct = sw * sx;
    ct = ct * a->step;
    return acc + (float)code * ct;
}

/* Depthwise outputs o0..o1-1 of one pixel (xq[K][C], xs[nt][C] quantized), one at a time. */
static void dw_outputs(const mpq_abfp *p, const abfp_adc *a, const mpq_abfp_wq *wq, unsigned C, unsigned mult,
                       unsigned o0, unsigned o1, const int16_t *xq, const float *xs, uint64_t r,
                       const float *bias, float *y, mpq_abfp_stats *st)
{
    unsigned n = wq->n, nt = wq->ntiles, K = wq->k, O = wq->rows;
    size_t width = (size_t)nt * n;
    for (unsigned o = o0; o < o1; o++) {
        unsigned c = o / mult;
        const int16_t *wo = wq->q + (size_t)o * width;
        float acc = 0.0f;
        for (unsigned t = 0; t < nt; t++) {
            float sw = wq->scale[(size_t)o * nt + t], sx = xs[(size_t)t * C + c];
            st->conversions++;
            if (sw == 0.0f || sx == 0.0f) {
                st->zero_tiles++;
                continue;
            }
            unsigned len = K - t * n < n ? K - t * n : n;
            int64_t d = 0;
            for (unsigned i = 0; i < len; i++)
                d += (int64_t)wo[t * n + i] * xq[(size_t)(t * n + i) * C + c];
            acc = convert(p, a, d, sw, sx, (r * O + o) * nt + t, acc, st);
        }
        if (bias)
            acc += bias[o];
        y[o] = acc;
    }
}

#ifdef ABFP_SSE2

/* The ADC step of convert() in four lanes held as two pairs of doubles (v0: lanes 0-1, v1:
 * lanes 2-3): limited to +-(mo + 1), rounded half even (RNE_SHIFT), saturated to +-mo, in
 * convert()'s order. Returns the codes as floats; *sat gets the lanes that saturated (bits
 * 0-3). dw_outputs4 and convert4 share it. */
typedef struct adc4_k {
    __m128d shift, mo, nmo, lim, nlim;
} adc4_k;

static inline adc4_k adc4_consts(const abfp_adc *a)
{
    adc4_k k = {_mm_set1_pd(RNE_SHIFT), _mm_set1_pd((double)a->mo), _mm_set1_pd(-(double)a->mo),
                _mm_set1_pd((double)(a->mo + 1)), _mm_set1_pd(-(double)(a->mo + 1))};
    return k;
}

static inline __m128 adc4(const adc4_k *k, __m128d v0, __m128d v1, int *sat)
{
    v0 = _mm_sub_pd(_mm_add_pd(_mm_max_pd(_mm_min_pd(v0, k->lim), k->nlim), k->shift), k->shift);
    v1 = _mm_sub_pd(_mm_add_pd(_mm_max_pd(_mm_min_pd(v1, k->lim), k->nlim), k->shift), k->shift);
    int s0 = _mm_movemask_pd(_mm_or_pd(_mm_cmpgt_pd(v0, k->mo), _mm_cmplt_pd(v0, k->nmo)));
    int s1 = _mm_movemask_pd(_mm_or_pd(_mm_cmpgt_pd(v1, k->mo), _mm_cmplt_pd(v1, k->nmo)));
    *sat = s0 | (s1 << 2);
    v0 = _mm_max_pd(_mm_min_pd(v0, k->mo), k->nmo);
    v1 = _mm_max_pd(_mm_min_pd(v1, k->mo), k->nmo);
    return _mm_movelh_ps(_mm_cvtpd_ps(v0), _mm_cvtpd_ps(v1));
}

/* dw_outputs for four channels at once (channel multiplier 1, no noise, half-even ADC, dots
 * within int32): lane by lane the same IEEE operations as convert(), in the same order. wt is
 * the weights' mantissas transposed, [ntiles*n][O]. Returns the saturated conversions. */
static unsigned dw_outputs4(const abfp_adc *a, const mpq_abfp_wq *wq, const int16_t *wt, unsigned C, unsigned o,
                            const int16_t *xq, const float *xs, const float *bias, float *y, uint64_t *zero_tiles)
{
    unsigned n = wq->n, nt = wq->ntiles, K = wq->k, sat = 0;
    const __m128d gm = _mm_set1_pd(a->gm), dd = _mm_set1_pd(a->d);
    const adc4_k k = adc4_consts(a);
    const __m128 step = _mm_set1_ps(a->step), zero = _mm_setzero_ps();
    __m128 acc = _mm_setzero_ps();
    for (unsigned t = 0; t < nt; t++) {
        unsigned len = K - t * n < n ? K - t * n : n;
        __m128i d = _mm_setzero_si128();
        for (unsigned i = 0; i < len; i++) {
            size_t row = (size_t)t * n + i;
            __m128i w4 = _mm_loadl_epi64((const __m128i *)(const void *)(wt + row * wq->rows + o));
            __m128i x4 = _mm_loadl_epi64((const __m128i *)(const void *)(xq + row * C + o));
            __m128i lo = _mm_mullo_epi16(w4, x4), hi = _mm_mulhi_epi16(w4, x4);
            d = _mm_add_epi32(d, _mm_unpacklo_epi16(lo, hi));
        }
        __m128d v0 = _mm_div_pd(_mm_mul_pd(_mm_cvtepi32_pd(d), gm), dd);
        __m128d v1 = _mm_div_pd(_mm_mul_pd(_mm_cvtepi32_pd(_mm_shuffle_epi32(d, 0xee)), gm), dd);
        int s;
        __m128 code = adc4(&k, v0, v1, &s);
        const float *ws = wq->scale + (size_t)o * nt + t;
        __m128 sw = _mm_setr_ps(ws[0], ws[nt], ws[2 * nt], ws[3 * nt]);
        __m128 sx = _mm_loadu_ps(xs + (size_t)t * C + o);
        __m128 live = _mm_and_ps(_mm_cmpneq_ps(sw, zero), _mm_cmpneq_ps(sx, zero));
        int lm = _mm_movemask_ps(live), sm = s & lm;
        *zero_tiles += 4u - bits4(lm);
        sat += bits4(sm);
        __m128 ct = _mm_mul_ps(_mm_mul_ps(sw, sx), step);
        __m128 sum = _mm_add_ps(acc, _mm_mul_ps(code, ct));
        acc = _mm_or_ps(_mm_and_ps(live, sum), _mm_andnot_ps(live, acc)); /* a zero tile adds nothing */
    }
    if (bias)
        acc = _mm_add_ps(acc, _mm_loadu_ps(bias + o));
    _mm_storeu_ps(y + o, acc);
    return sat;
}
#endif

/* Depthwise, one output pixel: col[K][C] its windows of every input channel side by side;
 * each output channel o reduces the column of channel o/mult (mpq_abfp.h's definition, done
 * for all channels at once). xq[K][C], xs[nt][C] scratch; wt the weights' mantissas transposed
 * [ntiles*n][out_c] (NULL: no four-channel path). Returns 0, or -1 when an input is not finite. */
static int depthwise_pixel(const mpq_abfp *p, const abfp_adc *a, const mpq_abfp_wq *wq, const int16_t *wt,
                           unsigned C, unsigned mult, const float *col, int16_t *xq, float *xs, double *rcp,
                           uint64_t r, const float *bias, float *y, mpq_abfp_stats *st)
{
    unsigned n = wq->n, nt = wq->ntiles, K = wq->k, O = wq->rows;
    size_t bad;
    if (!all_finite(col, (size_t)K * C, &bad))
        return -1;
    int64_t m = mant_max(p->bx);
    for (unsigned t = 0; t < nt; t++) {
        unsigned len = K - t * n < n ? K - t * n : n;
        float *s = xs + (size_t)t * C;
        for (unsigned c = 0; c < C; c++)
            s[c] = p->scale == MPQ_ABFP_SCALE_TILE ? 0.0f : p->x_amax;
        if (p->scale == MPQ_ABFP_SCALE_TILE)
            for (unsigned i = 0; i < len; i++) {
                const float *v = col + (size_t)(t * n + i) * C;
                for (unsigned c = 0; c < C; c++) {
                    float av = v[c] < 0.0f ? -v[c] : v[c];
                    s[c] = av > s[c] ? av : s[c];
                }
            }
        /* Row by row of the window, every channel with its own scale (and its reciprocal). */
        for (unsigned c = 0; c < C; c++)
            rcp[c] = 1.0 / (s[c] != 0.0f ? (double)s[c] : 1.0);
        for (unsigned i = 0; i < len; i++)
            st->x_clipped += quant_lanes(col + (size_t)(t * n + i) * C, s, rcp, C, m, p->round_mant,
                                         xq + (size_t)(t * n + i) * C);
    }
    unsigned o = 0;
#ifdef ABFP_SSE2
    if (wt) {
        for (; o + 4 <= O; o += 4)
            st->saturated += dw_outputs4(a, wq, wt, C, o, xq, xs, bias, y, &st->zero_tiles);
        st->conversions += (uint64_t)o * nt;
    }
#else
    (void)wt;
#endif
    dw_outputs(p, a, wq, C, mult, o, O, xq, xs, r, bias, y, st);
    st->macs += (uint64_t)O * nt * n;
    return 0;
}

/* Outputs o0..o1-1 of one reduction vector (xq, xs): y[o - o0] (y_stride apart), conversion
 * index (r*rows_total + o)*ntiles + t. */
static void outputs(const mpq_abfp *p, const abfp_adc *a, const mpq_abfp_wq *wq, unsigned o0, unsigned o1,
                    const int16_t *xq, const float *xs, uint64_t r, unsigned rows_total,
                    const float *bias, float *y, size_t y_stride, mpq_abfp_stats *st)
{
    unsigned n = wq->n, nt = wq->ntiles;
    size_t width = (size_t)nt * n;
    for (unsigned o = o0; o < o1; o++) {
        const int16_t *wo = wq->q + (size_t)o * width;
        const float *ws = wq->scale + (size_t)o * nt;
        float acc = 0.0f;
        for (unsigned t = 0; t < nt; t++) {
            st->conversions++;
            if (ws[t] == 0.0f || xs[t] == 0.0f) {
                st->zero_tiles++; /* contributes exactly 0: skipped by the digital side */
                continue;
            }
            /* The padding of the last tile is zeros on both sides: no need to add it. */
            unsigned len = t + 1 < nt ? n : wq->k - t * n;
            int64_t d = a->dot32 ? (int64_t)dot32(wo + (size_t)t * n, xq + (size_t)t * n, len)
                                 : dot64(wo + (size_t)t * n, xq + (size_t)t * n, len);
            acc = convert(p, a, d, ws[t], xs[t], (r * rows_total + o) * nt + t, acc, st);
        }
        if (bias)
            acc += bias[o];
        y[(size_t)(o - o0) * y_stride] = acc;
    }
}

/* ---- The array's dots on the integer MAC engine ----
 *
 * A block of reduction vectors (FC input rows, or output pixels) is quantized once; then,
 * tile by tile, the MAC engine (mpq_mac_tiles_run: AVX2, SSE2 or plain C, exact because every
 * dot fits 32 bits) forms the dots of every (vector, output) of the tile, and each output's
 * conversion adds to its accumulator. Each accumulator still sees its tiles in order 0, 1, ...,
 * so every result is the bits of outputs()'s. */

enum { ABFP_BLOCK = 32 }; /* reduction vectors per block */

#ifdef ABFP_SSE2
/* Four lanes of convert_row (half-even ADC; sw != 0 is the live mask, sx != 0): lane by lane
 * convert()'s IEEE operations in its order. Returns the saturated conversions of live lanes
 * in bits 0-3 and the zero tiles in bits 4-7 (counts). */
static inline unsigned convert4(const mpq_abfp *p, const abfp_adc *a, const int32_t *dot, const float *sw,
                                __m128 sx, uint64_t i0, uint64_t di, float *acc)
{
    const __m128d gm = _mm_set1_pd(a->gm), dd = _mm_set1_pd(a->d);
    const adc4_k k = adc4_consts(a);
    __m128i d = _mm_loadu_si128((const __m128i *)(const void *)dot);
    __m128d v0 = _mm_div_pd(_mm_mul_pd(_mm_cvtepi32_pd(d), gm), dd);
    __m128d v1 = _mm_div_pd(_mm_mul_pd(_mm_cvtepi32_pd(_mm_shuffle_epi32(d, 0xee)), gm), dd);
    if (p->noise != 0.0) {
        const __m128d nz = _mm_set1_pd(p->noise);
        v0 = _mm_add_pd(v0, _mm_mul_pd(nz, _mm_setr_pd(mpq_abfp_normal(p->seed, i0),
                                                       mpq_abfp_normal(p->seed, i0 + di))));
        v1 = _mm_add_pd(v1, _mm_mul_pd(nz, _mm_setr_pd(mpq_abfp_normal(p->seed, i0 + 2 * di),
                                                       mpq_abfp_normal(p->seed, i0 + 3 * di))));
    }
    int s;
    __m128 code = adc4(&k, v0, v1, &s);
    __m128 w = _mm_loadu_ps(sw), ac = _mm_loadu_ps(acc);
    __m128 live = _mm_cmpneq_ps(w, _mm_setzero_ps());
    __m128 ct = _mm_mul_ps(_mm_mul_ps(w, sx), _mm_set1_ps(a->step));
    __m128 sum = _mm_add_ps(ac, _mm_mul_ps(code, ct));
    _mm_storeu_ps(acc, _mm_or_ps(_mm_and_ps(live, sum), _mm_andnot_ps(live, ac))); /* a zero tile adds nothing */
    int lm = _mm_movemask_ps(live);
    return bits4(s & lm) | (4u - bits4(lm)) << 4;
}
#endif

#ifdef ABFP_AVX2
/* a * c modulo 2^64 in each 64-bit lane, from 32-bit products. */
ABFP_AVX2_FN static inline __m256i mul64(__m256i a, __m256i c)
{
    __m256i lo = _mm256_mul_epu32(a, c);
    __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), c),
                                     _mm256_mul_epu32(a, _mm256_srli_epi64(c, 32)));
    return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

/* mpq_abfp_normal of conversions i0 + l*di, l = 0..3, one per lane: the same integers, the
 * sum of fields (< 2^26) turned into a double exactly (2^52 + sum, less 2^52), then the same
 * two exact operations. */
ABFP_AVX2_FN static inline __m256d normal4_avx2(uint64_t seed, uint64_t i0, uint64_t di)
{
    const uint64_t gamma = 0x9e3779b97f4a7c15ull;
    const __m256i g = _mm256_set1_epi64x((long long)gamma), field = _mm256_set1_epi64x((1 << 21) - 1);
    const __m256i c1 = _mm256_set1_epi64x((long long)0xbf58476d1ce4e5b9ull);
    const __m256i c2 = _mm256_set1_epi64x((long long)0x94d049bb133111ebull);
    __m256i z = _mm256_setr_epi64x((long long)(seed + (4 * i0 + 1) * gamma),
                                   (long long)(seed + (4 * (i0 + di) + 1) * gamma),
                                   (long long)(seed + (4 * (i0 + 2 * di) + 1) * gamma),
                                   (long long)(seed + (4 * (i0 + 3 * di) + 1) * gamma));
    __m256i sum = _mm256_setzero_si256();
    for (unsigned d = 0; d < 4; d++, z = _mm256_add_epi64(z, g)) {
        __m256i u = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)), c1);
        u = mul64(_mm256_xor_si256(u, _mm256_srli_epi64(u, 27)), c2);
        u = _mm256_xor_si256(u, _mm256_srli_epi64(u, 31));
        sum = _mm256_add_epi64(sum, _mm256_add_epi64(_mm256_and_si256(u, field),
              _mm256_add_epi64(_mm256_and_si256(_mm256_srli_epi64(u, 21), field), _mm256_and_si256(_mm256_srli_epi64(u, 42), field))));
    }
    const __m256d two52 = _mm256_set1_pd(0x1p52);
    __m256d sd = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(sum, _mm256_castpd_si256(two52))), two52);
    return _mm256_mul_pd(_mm256_sub_pd(sd, _mm256_set1_pd(6.0 * (double)((1 << 21) - 1))), _mm256_set1_pd(1.0 / 2097152.0));
}

/* Eight lanes a step of convert_row (half-even ADC, sx != 0, sw != 0 the live mask): lane by
 * lane convert()'s IEEE operations in its order, except that the code is rounded before it is
 * limited to +-(Mo+1): |v| < 2^40 (|d| <= D, |noise * z| <= 6e6), where the rounding is exact
 * and a value beyond Mo + 1 saturates either way. Returns how many lanes it did. */
ABFP_AVX2_FN static unsigned convert_row_avx2(const mpq_abfp *p, const abfp_adc *a, const int32_t *dot,
                                              const float *sw, float sx, unsigned cnt, uint64_t i0, unsigned nt,
                                              float *acc, mpq_abfp_stats *st)
{
    const __m256d gm = _mm256_set1_pd(a->gm), dd = _mm256_set1_pd(a->d), shift = _mm256_set1_pd(RNE_SHIFT);
    const __m256d mo = _mm256_set1_pd((double)a->mo), nmo = _mm256_set1_pd(-(double)a->mo);
    const __m256d absmask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffll));
    const __m256 vsx = _mm256_set1_ps(sx), step = _mm256_set1_ps(a->step), zero = _mm256_setzero_ps();
    unsigned c = 0, sat = 0, dead = 0;
    for (; c + 8 <= cnt; c += 8) {
        __m256i d = _mm256_loadu_si256((const __m256i *)(const void *)(dot + c));
        __m256d v0 = _mm256_div_pd(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(d)), gm), dd);
        __m256d v1 = _mm256_div_pd(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(d, 1)), gm), dd);
        if (p->noise != 0.0) {
            const __m256d nz = _mm256_set1_pd(p->noise);
            v0 = _mm256_add_pd(v0, _mm256_mul_pd(nz, normal4_avx2(p->seed, i0 + (uint64_t)c * nt, nt)));
            v1 = _mm256_add_pd(v1, _mm256_mul_pd(nz, normal4_avx2(p->seed, i0 + (uint64_t)(c + 4) * nt, nt)));
        }
        v0 = _mm256_sub_pd(_mm256_add_pd(v0, shift), shift);
        v1 = _mm256_sub_pd(_mm256_add_pd(v1, shift), shift);
        int s0 = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_and_pd(v0, absmask), mo, _CMP_GT_OQ));
        int s1 = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_and_pd(v1, absmask), mo, _CMP_GT_OQ));
        v0 = _mm256_max_pd(_mm256_min_pd(v0, mo), nmo);
        v1 = _mm256_max_pd(_mm256_min_pd(v1, mo), nmo);
        __m256 code = _mm256_set_m128(_mm256_cvtpd_ps(v1), _mm256_cvtpd_ps(v0));
        __m256 w = _mm256_loadu_ps(sw + c), ac = _mm256_loadu_ps(acc + c);
        __m256 live = _mm256_cmp_ps(w, zero, _CMP_NEQ_UQ);
        __m256 ct = _mm256_mul_ps(_mm256_mul_ps(w, vsx), step);
        __m256 sum = _mm256_add_ps(ac, _mm256_mul_ps(code, ct));
        _mm256_storeu_ps(acc + c, _mm256_blendv_ps(ac, sum, live)); /* a zero tile adds nothing */
        int lm = _mm256_movemask_ps(live);
        sat += (unsigned)__builtin_popcount((unsigned)((s0 | (s1 << 4)) & lm));
        dead += 8u - (unsigned)__builtin_popcount((unsigned)lm);
    }
    st->saturated += sat;
    st->zero_tiles += dead;
    return c;
}
#endif

/* Tile t's conversions of outputs o0 .. o0+cnt-1 of one reduction vector: acc[c] plus the
 * rescaled code of dot[c], sw[c] the weights' scales of the tile, sx the vector's; conversion
 * index i0 + c*nt. As outputs() does it, one conversion at a time. */
static void convert_row(const mpq_abfp *p, const abfp_adc *a, const int32_t *dot, const float *sw, float sx,
                        unsigned cnt, uint64_t i0, unsigned nt, float *acc, mpq_abfp_stats *st)
{
    st->conversions += cnt;
    if (sx == 0.0f) {
        st->zero_tiles += cnt;
        return;
    }
    unsigned c = 0;
#ifdef ABFP_AVX2
    if (p->round_adc == MPQ_ROUND_HALF_EVEN && mpq_simd_level() == MPQ_SIMD_AVX2)
        c = convert_row_avx2(p, a, dot, sw, sx, cnt, i0, nt, acc, st);
#endif
#ifdef ABFP_SSE2
    if (p->round_adc == MPQ_ROUND_HALF_EVEN) {
        const __m128 vsx = _mm_set1_ps(sx);
        for (; c + 4 <= cnt; c += 4) {
            unsigned k = convert4(p, a, dot + c, sw + c, vsx, i0 + (uint64_t)c * nt, nt, acc + c);
            st->saturated += k & 15u;
            st->zero_tiles += k >> 4;
        }
    }
#endif
    for (; c < cnt; c++) {
        if (sw[c] == 0.0f) {
            st->zero_tiles++;
            continue;
        }
        acc[c] = convert(p, a, dot[c], sw[c], sx, i0 + (uint64_t)c * nt, acc[c], st);
    }
}

/* The scratch of a block: mantissas [groups][ABFP_BLOCK][nt*ts], scales
 * [groups][ABFP_BLOCK][nt], dots and accumulators [ABFP_BLOCK][rows], the weights' scales
 * transposed [nt][rows]. */
typedef struct abfp_block {
    size_t ts;   /* a tile's stride in xq: n rounded up to even (the engine reads pairs) */
    int16_t *xq;
    float *xs, *acc, *swt;
    int32_t *dot;
} abfp_block;

static void block_free(abfp_block *b)
{
    MPQ_FREE_ALL(b->xq, b->xs, b->acc, b->swt, b->dot);
}

static int block_init(abfp_block *b, const mpq_abfp_wq *wq, unsigned groups)
{
    unsigned nt = wq->ntiles, rows = wq->rows;
    b->ts = wq->n + (wq->n & 1u);
    b->xq = malloc((size_t)groups * ABFP_BLOCK * nt * b->ts * sizeof *b->xq);
    b->xs = malloc((size_t)groups * ABFP_BLOCK * nt * sizeof *b->xs);
    b->acc = malloc((size_t)ABFP_BLOCK * rows * sizeof *b->acc);
    b->dot = malloc((size_t)ABFP_BLOCK * rows * sizeof *b->dot);
    b->swt = malloc((size_t)nt * rows * sizeof *b->swt);
    if (!b->xq || !b->xs || !b->acc || !b->dot || !b->swt) {
        block_free(b);
        return MPQ_ENOMEM;
    }
    for (unsigned o = 0; o < rows; o++)
        for (unsigned t = 0; t < nt; t++)
            b->swt[(size_t)t * rows + o] = wq->scale[(size_t)o * nt + t];
    return 0;
}

/* Outputs o0 .. o0+cpg-1 (group g of the tiles) of nv quantized vectors of the block (from
 * row j0 of its scratch: group g's rows of a convolution), vector j being reduction vector
 * r0 + j: y[j*y_stride + c] (+ bias[o0 + c]). */
static void block_outputs(const mpq_abfp *p, const abfp_adc *a, const mpq_abfp_wq *wq, const abfp_block *b,
                          unsigned g, size_t j0, unsigned nv, uint64_t r0, const float *bias, float *y,
                          size_t y_stride, mpq_abfp_stats *st)
{
    unsigned nt = wq->ntiles, rows = wq->rows, cpg = wq->tiles[0].cpg, o0 = g * cpg;
    size_t xstride = (size_t)nt * b->ts;
    const int16_t *xq = b->xq + j0 * xstride;
    const float *xs = b->xs + j0 * nt;
    memset(b->acc, 0, (size_t)nv * cpg * sizeof *b->acc);
    for (unsigned t = 0; t < nt; t++) {
        mpq_mac_tiles_run(&wq->tiles[t], g, xq + (size_t)t * b->ts, xstride, nv, NULL, b->dot, cpg);
        for (unsigned j = 0; j < nv; j++)
            convert_row(p, a, b->dot + (size_t)j * cpg, b->swt + (size_t)t * rows + o0, xs[(size_t)j * nt + t],
                        cpg, ((r0 + j) * rows + o0) * nt + t, nt, b->acc + (size_t)j * cpg, st);
    }
    for (unsigned j = 0; j < nv; j++) {
        float *yj = y + (size_t)j * y_stride;
        const float *aj = b->acc + (size_t)j * cpg;
        for (unsigned c = 0; c < cpg; c++)
            yj[c] = bias ? aj[c] + bias[o0 + c] : aj[c];
    }
    st->macs += (uint64_t)nv * cpg * nt * wq->n;
}

/* mpq_abfp_mvm on the MAC engine (wq->tiles, every dot within 32 bits), ABFP_BLOCK rows at a
 * time. A row that is not finite stops it after the rows before it, as the plain loop does:
 * returns its index, or m. */
static unsigned mvm_tiles(const mpq_abfp *p, const abfp_adc *a, const mpq_abfp_wq *wq, const abfp_block *b,
                          unsigned m, const float *x, const float *bias, uint64_t r0, float *y,
                          mpq_abfp_stats *st, size_t *bad)
{
    unsigned nt = wq->ntiles, k = wq->k;
    for (unsigned r = 0; r < m; r += ABFP_BLOCK) {
        unsigned nv = 0, want = m - r < ABFP_BLOCK ? m - r : ABFP_BLOCK;
        while (nv < want && quant_x(p, x + (size_t)(r + nv) * k, k, nt, b->ts, b->xq + (size_t)nv * nt * b->ts,
                                    b->xs + (size_t)nv * nt, &st->x_clipped, 0, bad) == 0)
            nv++;
        if (nv)
            block_outputs(p, a, wq, b, 0, 0, nv, r0 + r, bias, y + (size_t)r * wq->rows, wq->rows, st);
        if (nv < want)
            return r + nv;
    }
    return m;
}

static int check_wq(const mpq_abfp *p, const mpq_abfp_wq *wq, char *err, size_t errlen)
{
    int rc = mpq_abfp_check(p, err, errlen);
    if (rc != 0)
        return rc;
    if (!wq->q || wq->n != p->n || wq->bw != p->bw) {
        snprintf(err, errlen, "weights were prepared for another n or bw (n %u, bw %u; now n %u, bw %u)",
                 wq->n, wq->bw, p->n, p->bw);
        return MPQ_EPARAM;
    }
    return MPQ_OK;
}

int mpq_abfp_mvm(const mpq_abfp *p, const mpq_abfp_wq *wq, unsigned m, const float *x,
                 const float *bias, uint64_t r0, float *y, mpq_abfp_stats *st, char *err,
                 size_t errlen)
{
    int rc = check_wq(p, wq, err, errlen);
    if (rc != 0)
        return rc;
    if (bias) {
        size_t bad;
        if (!all_finite(bias, wq->rows, &bad)) {
            snprintf(err, errlen, "bias: value %zu is not finite", bad);
            return MPQ_EPARAM;
        }
    }
    mpq_abfp_stats local = {0};
    if (!st)
        st = &local;
    abfp_adc a;
    adc_init(p, &a);
    if (wq->tiles && a.dot32) {
        abfp_block b;
        if (block_init(&b, wq, 1) != 0)
            return MPQ_ENOMEM;
        size_t bad = 0;
        unsigned r = mvm_tiles(p, &a, wq, &b, m, x, bias, r0, y, st, &bad);
        block_free(&b);
        if (r < m) {
            snprintf(err, errlen, "input row %u, value %zu is not finite", r, bad);
            return MPQ_EPARAM;
        }
        return MPQ_OK;
    }
    unsigned nt = wq->ntiles, k = wq->k;
    int16_t *xq = malloc((size_t)nt * wq->n * sizeof *xq);
    float *xs = malloc(nt * sizeof *xs);
    if (!xq || !xs) {
        free(xq);
        free(xs);
        return MPQ_ENOMEM;
    }
    for (unsigned r = 0; r < m; r++) {
        size_t bad;
        if (quant_x(p, x + (size_t)r * k, k, nt, wq->n, xq, xs, &st->x_clipped, 0, &bad) != 0) {
            snprintf(err, errlen, "input row %u, value %zu is not finite", r, bad);
            rc = MPQ_EPARAM;
            break;
        }
        outputs(p, &a, wq, 0, wq->rows, xq, xs, r0 + r, wq->rows, bias, y + (size_t)r * wq->rows, 1, st);
        st->macs += (uint64_t)wq->rows * nt * wq->n;
    }
    free(xq);
    free(xs);
    return rc;
}

int mpq_abfp_fc(const mpq_abfp *p, unsigned m, unsigned k, unsigned rows, const float *x,
                const float *w, const float *bias, float *y, mpq_abfp_stats *st, char *err,
                size_t errlen)
{
    mpq_abfp_wq wq;
    int rc = mpq_abfp_wq_make(p, w, rows, k, &wq, err, errlen);
    if (rc != 0)
        return rc;
    rc = mpq_abfp_mvm(p, &wq, m, x, bias, 0, y, st, err, errlen);
    mpq_abfp_wq_free(&wq);
    return rc;
}

/* The reduction vector of output pixel (b, oy, ox) for input channels c0 .. c0+F-1 (conv2d:
 * r = (ky*kw + kx)*F + c) or for one channel (depthwise, F = 1, c0 = that channel). */
static void window(const mpq_conv_shape *s, const float *x, unsigned b, unsigned oy, unsigned ox,
                   unsigned c0, unsigned F, float *col)
{
    for (unsigned ky = 0; ky < s->kh; ky++) {
        long iy = (long)oy * s->sy - (long)s->py + (long)ky * s->dy;
        for (unsigned kx = 0; kx < s->kw; kx++) {
            long ix = (long)ox * s->sx - (long)s->px + (long)kx * s->dx;
            float *dst = col + ((size_t)ky * s->kw + kx) * F;
            if (iy < 0 || iy >= (long)s->in_h || ix < 0 || ix >= (long)s->in_w) {
                memset(dst, 0, F * sizeof *dst);
                continue;
            }
            const float *src = x + (((size_t)b * s->in_h + (size_t)iy) * s->in_w + (size_t)ix) * s->in_c + c0;
            memcpy(dst, src, F * sizeof *dst);
        }
    }
}

/* The windows of output pixels pix0 .. pix0+want-1, every group, quantized into the block
 * (group g's row j at g*ABFP_BLOCK + j), in the order of the plain loop: pixel by pixel,
 * group by group. Returns how many pixels are complete (want, or the first whose window is
 * not finite). */
static unsigned conv_quant_block(const mpq_abfp *p, const mpq_conv_shape *s, unsigned groups, const float *x,
                                 int finite, uint64_t pix0, unsigned want, float *col, const abfp_block *b,
                                 unsigned nt, mpq_abfp_stats *st)
{
    unsigned K = mpq_conv_depth(s), F = s->in_c / groups;
    size_t bad;
    for (unsigned j = 0; j < want; j++) {
        uint64_t pix = pix0 + j;
        unsigned ox = (unsigned)(pix % s->out_w), oy = (unsigned)(pix / s->out_w % s->out_h);
        unsigned bi = (unsigned)(pix / s->out_w / s->out_h);
        for (unsigned g = 0; g < groups; g++) {
            size_t row = (size_t)g * ABFP_BLOCK + j;
            window(s, x, bi, oy, ox, g * F, F, col);
            if (quant_x(p, col, K, nt, b->ts, b->xq + row * nt * b->ts, b->xs + row * nt, &st->x_clipped,
                        finite, &bad) != 0)
                return j;
        }
    }
    return want;
}

/* A conv2d layer (groups included) on the MAC engine (wq->tiles, made for `groups`; every
 * dot within 32 bits), ABFP_BLOCK output pixels at a time. Returns 0, MPQ_EPARAM (err: a
 * window not finite), MPQ_ENOMEM. */
static int conv_tiles(const mpq_abfp *p, const abfp_adc *a, const mpq_conv_shape *s, const mpq_abfp_wq *wq,
                      unsigned groups, const float *x, const float *bias, uint64_t r0, float *y,
                      mpq_abfp_stats *st, char *err, size_t errlen)
{
    abfp_block b;
    float *col = malloc((size_t)mpq_conv_depth(s) * sizeof *col);
    if (!col || block_init(&b, wq, groups) != 0) {
        free(col);
        return MPQ_ENOMEM;
    }
    uint64_t npix = (uint64_t)s->batches * s->out_h * s->out_w;
    unsigned O = wq->rows, opg = O / groups;
    size_t bad;
    int rc = MPQ_OK, finite = all_finite(x, mpq_conv_in_count(s), &bad); /* else window by window */
    for (uint64_t pix = 0; pix < npix && rc == 0; pix += ABFP_BLOCK) {
        unsigned want = npix - pix < ABFP_BLOCK ? (unsigned)(npix - pix) : ABFP_BLOCK;
        unsigned nv = conv_quant_block(p, s, groups, x, finite, pix, want, col, &b, wq->ntiles, st);
        for (unsigned g = 0; g < groups && nv; g++)
            block_outputs(p, a, wq, &b, g, (size_t)g * ABFP_BLOCK, nv, r0 + pix, bias, y + pix * O + g * opg, O, st);
        if (nv < want) {
            snprintf(err, errlen, "input: a value of the window of output pixel %llu is not finite",
                     (unsigned long long)(pix + nv));
            rc = MPQ_EPARAM;
        }
    }
    free(col);
    block_free(&b);
    return rc;
}

#ifdef ABFP_AVX2
/* ---- Depthwise, eight channels a step in AVX2 ----
 *
 * For per-tile scales, channel multiplier 1, half-even mantissas and ADC, a window
 * within one tile (k <= n) and channels in eights: each window row is read in place, its
 * mantissas are formed through the reciprocal of the channel's scale (quant_slice_avx2's
 * argument; a step with a value within 2^-30 of a half-integer is divided instead) and kept
 * in double, where the products with the weights' mantissas and their sum (|d| < 2^31) are
 * exact: the same d as the integer dot. |v * M / s| <= M, so no mantissa is clamped. */
enum { DW8_TAPS = 32 }; /* window taps held in registers or on the stack */
typedef struct dw8_layer {
    const mpq_conv_shape *s;
    const float *x, *sw, *bias; /* sw: the weights' scales [O] */
    const double *wd;           /* the weights' mantissas [k][O] */
    double m;                   /* Mx */
    const abfp_adc *a;
    const mpq_abfp *p;          /* its noise and seed */
} dw8_layer;

/* The mantissas of one window row of eight channels, v*M in a[2] (two halves), times the
 * reciprocals, rounded; *amb collects the ambiguous lanes. */
ABFP_AVX2_FN static inline void dw8_quot(const __m256d a[2], const __m256d rcp[2], __m256d r[2], __m256d *amb)
{
    const __m256d shift = _mm256_set1_pd(RNE_SHIFT), half = _mm256_set1_pd(0.5 - 0x1p-30);
    const __m256d absmask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffll));
    for (unsigned h = 0; h < 2; h++) {
        __m256d t = _mm256_mul_pd(a[h], rcp[h]);
        r[h] = _mm256_sub_pd(_mm256_add_pd(t, shift), shift);
        *amb = _mm256_or_pd(*amb, _mm256_cmp_pd(_mm256_and_pd(_mm256_sub_pd(t, r[h]), absmask), half, _CMP_GE_OQ));
    }
}

/* The dots of eight channels c of one pixel (rows[i]: window row i at channel c, NULL outside
 * the input) in d[2]; *sx their scales. */
ABFP_AVX2_FN static void dw8_dots(const dw8_layer *L, const float *const *rows, unsigned c, __m256 *sx, __m256d d[2])
{
    unsigned K = mpq_conv_depth(L->s), O = L->s->out_c;
    const __m256 absf = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256d vm = _mm256_set1_pd(L->m), one = _mm256_set1_pd(1.0), shift = _mm256_set1_pd(RNE_SHIFT);
    __m256 v[DW8_TAPS], s = _mm256_setzero_ps();
    for (unsigned i = 0; i < K; i++) {
        v[i] = rows[i] ? _mm256_loadu_ps(rows[i] + c) : _mm256_setzero_ps();
        s = _mm256_max_ps(s, _mm256_and_ps(v[i], absf));
    }
    __m256d sd[2] = {_mm256_cvtps_pd(_mm256_castps256_ps128(s)), _mm256_cvtps_pd(_mm256_extractf128_ps(s, 1))};
    __m256d rcp[2];
    for (unsigned h = 0; h < 2; h++) { /* a zero scale's lanes: all values 0, divided by 1 */
        sd[h] = _mm256_blendv_pd(sd[h], one, _mm256_cmp_pd(sd[h], _mm256_setzero_pd(), _CMP_EQ_OQ));
        rcp[h] = _mm256_div_pd(one, sd[h]);
    }
    d[0] = d[1] = _mm256_setzero_pd();
    for (unsigned i = 0; i < K; i++) {
        __m256d a[2] = {_mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v[i])), vm),
                        _mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v[i], 1)), vm)}, r[2];
        __m256d amb_i = _mm256_setzero_pd();
        dw8_quot(a, rcp, r, &amb_i);
        if (_mm256_movemask_pd(amb_i)) /* IEEE division, as quant_slice */
            for (unsigned h = 0; h < 2; h++)
                r[h] = _mm256_sub_pd(_mm256_add_pd(_mm256_div_pd(a[h], sd[h]), shift), shift);
        const double *w = L->wd + (size_t)i * O + c;
        d[0] = _mm256_add_pd(d[0], _mm256_mul_pd(r[0], _mm256_loadu_pd(w)));
        d[1] = _mm256_add_pd(d[1], _mm256_mul_pd(r[1], _mm256_loadu_pd(w + 4)));
    }
    *sx = s;
}

/* The outputs y[O] of pixel r (rows as dw8_dots; conversion i = r*O + o); counts added to st. */
ABFP_AVX2_FN static void dw8_pixel(const dw8_layer *L, const float *const *rows, uint64_t r, float *y,
                                   mpq_abfp_stats *st)
{
    const abfp_adc *a = L->a;
    const __m256d gm = _mm256_set1_pd(a->gm), dd = _mm256_set1_pd(a->d), shift = _mm256_set1_pd(RNE_SHIFT);
    const __m256d mo = _mm256_set1_pd((double)a->mo), nmo = _mm256_set1_pd(-(double)a->mo);
    const __m256d absmask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffll));
    const __m256 step = _mm256_set1_ps(a->step), zero = _mm256_setzero_ps();
    unsigned O = L->s->out_c, sat = 0, dead = 0;
    for (unsigned c = 0; c < O; c += 8) {
        __m256 sx;
        __m256d d[2], v[2];
        dw8_dots(L, rows, c, &sx, d);
        int sm = 0;
        for (unsigned h = 0; h < 2; h++) { /* the ADC, as convert_row_avx2 */
            v[h] = _mm256_div_pd(_mm256_mul_pd(d[h], gm), dd);
            if (L->p->noise != 0.0)
                v[h] = _mm256_add_pd(v[h], _mm256_mul_pd(_mm256_set1_pd(L->p->noise),
                                                         normal4_avx2(L->p->seed, r * O + c + 4 * h, 1)));
            v[h] = _mm256_sub_pd(_mm256_add_pd(v[h], shift), shift);
            sm |= _mm256_movemask_pd(_mm256_cmp_pd(_mm256_and_pd(v[h], absmask), mo, _CMP_GT_OQ)) << (4 * h);
            v[h] = _mm256_max_pd(_mm256_min_pd(v[h], mo), nmo);
        }
        __m256 code = _mm256_set_m128(_mm256_cvtpd_ps(v[1]), _mm256_cvtpd_ps(v[0]));
        __m256 w = _mm256_loadu_ps(L->sw + c);
        __m256 live = _mm256_and_ps(_mm256_cmp_ps(w, zero, _CMP_NEQ_UQ), _mm256_cmp_ps(sx, zero, _CMP_NEQ_UQ));
        __m256 ct = _mm256_mul_ps(_mm256_mul_ps(w, sx), step);
        __m256 acc = _mm256_and_ps(live, _mm256_add_ps(zero, _mm256_mul_ps(code, ct))); /* a zero tile: 0 */
        if (L->bias)
            acc = _mm256_add_ps(acc, _mm256_loadu_ps(L->bias + c));
        _mm256_storeu_ps(y + c, acc);
        int lm = _mm256_movemask_ps(live);
        sat += (unsigned)__builtin_popcount((unsigned)(sm & lm));
        dead += 8u - (unsigned)__builtin_popcount((unsigned)lm);
    }
    st->saturated += sat;
    st->zero_tiles += dead;
}
#endif

#ifdef ABFP_AVX2
/* Whether depthwise takes dw8_layer's path. */
static int dw8_fits(const mpq_abfp *p, const abfp_adc *a, const mpq_conv_shape *s)
{
    return s->kind == MPQ_LAYER_DEPTHWISE && s->out_c == s->in_c && s->in_c % 8 == 0 &&
           p->round_adc == MPQ_ROUND_HALF_EVEN && p->round_mant == MPQ_ROUND_HALF_EVEN &&
           p->scale == MPQ_ABFP_SCALE_TILE && a->dot32 && mpq_conv_depth(s) <= p->n &&
           mpq_conv_depth(s) <= DW8_TAPS && mpq_simd_level() == MPQ_SIMD_AVX2;
}

/* A depthwise layer on dw8_pixel (dw8_fits; every input finite). Returns 0 or MPQ_ENOMEM. */
static int dw8_layer_run(const mpq_abfp *p, const abfp_adc *a, const mpq_conv_shape *s, const mpq_abfp_wq *wq,
                         const float *x, const float *bias, uint64_t r0, float *y, mpq_abfp_stats *st)
{
    unsigned K = mpq_conv_depth(s), O = s->out_c;
    size_t width = (size_t)wq->ntiles * wq->n;
    double *wd = malloc((size_t)K * O * sizeof *wd);
    float *sw = malloc(O * sizeof *sw);
    if (!wd || !sw) {
        MPQ_FREE_ALL(wd, sw);
        return MPQ_ENOMEM;
    }
    for (unsigned o = 0; o < O; o++) {
        sw[o] = wq->scale[o];
        for (unsigned i = 0; i < K; i++)
            wd[(size_t)i * O + o] = (double)wq->q[(size_t)o * width + i];
    }
    dw8_layer L = {s, x, sw, bias, wd, (double)mant_max(p->bx), a, p};
    const float *rows[DW8_TAPS];
    for (unsigned b = 0; b < s->batches; b++)
        for (unsigned oy = 0; oy < s->out_h; oy++)
            for (unsigned ox = 0; ox < s->out_w; ox++) {
                for (unsigned ky = 0; ky < s->kh; ky++)
                    for (unsigned kx = 0; kx < s->kw; kx++) {
                        long iy = (long)oy * s->sy - (long)s->py + (long)ky * s->dy;
                        long ix = (long)ox * s->sx - (long)s->px + (long)kx * s->dx;
                        int in = iy >= 0 && iy < (long)s->in_h && ix >= 0 && ix < (long)s->in_w;
                        rows[ky * s->kw + kx] =
                            in ? x + (((size_t)b * s->in_h + (size_t)iy) * s->in_w + (size_t)ix) * s->in_c : NULL;
                    }
                uint64_t pix = ((uint64_t)b * s->out_h + oy) * s->out_w + ox;
                dw8_pixel(&L, rows, r0 + pix, y + pix * O, st);
            }
    uint64_t npix = (uint64_t)s->batches * s->out_h * s->out_w;
    st->conversions += npix * O;
    st->macs += npix * O * wq->n;
    MPQ_FREE_ALL(wd, sw);
    return 0;
}
#endif

/* Whether depthwise takes the four-channel path (dw_outputs4): SSE2, channel multiplier 1, no
 * noise, half-even ADC, every dot within int32. */
static int dw_fast(const mpq_abfp *p, const abfp_adc *a, unsigned mult)
{
#ifdef ABFP_SSE2
    return mult == 1 && p->noise == 0.0 && p->round_adc == MPQ_ROUND_HALF_EVEN && a->dot32;
#else
    (void)p, (void)a, (void)mult;
    return 0;
#endif
}

/* The weights' mantissas [rows][ntiles*n] transposed to [ntiles*n][rows] (NULL: no memory). */
static int16_t *transpose_q(const mpq_abfp_wq *wq)
{
    size_t width = (size_t)wq->ntiles * wq->n;
    int16_t *wt = malloc(width * wq->rows * sizeof *wt + 8);
    for (size_t i = 0; wt && i < width; i++)
        for (unsigned o = 0; o < wq->rows; o++)
            wt[i * wq->rows + o] = wq->q[(size_t)o * width + i];
    return wt;
}

/* The layer on the fast paths: conv2d on the MAC engine, depthwise on dw8_layer_run. Returns
 * 1 when neither applies (wq untouched), else mpq_abfp_conv's status. */
static int conv_fast(const mpq_abfp *p, const abfp_adc *a, const mpq_conv_shape *s, mpq_abfp_wq *wq,
                     unsigned groups, const float *x, const float *bias, uint64_t r0, float *y,
                     mpq_abfp_stats *st, char *err, size_t errlen)
{
    if (s->kind == MPQ_LAYER_CONV2D && wq->tiles && a->dot32) {
        if (groups > 1 && wq_regroup(wq, groups) != 0)
            return MPQ_ENOMEM;
        return conv_tiles(p, a, s, wq, groups, x, bias, r0, y, st, err, errlen);
    }
#ifdef ABFP_AVX2
    size_t bad; /* a layer with an input not finite: the plain loop names the pixel */
    if (dw8_fits(p, a, s) && all_finite(x, mpq_conv_in_count(s), &bad))
        return dw8_layer_run(p, a, s, wq, x, bias, r0, y, st);
#else
    (void)bias, (void)y, (void)st;
#endif
    return 1;
}

int mpq_abfp_conv(const mpq_abfp *p, const mpq_conv_shape *s, const float *x, const float *w,
                  const float *bias, uint64_t r0, float *y, mpq_abfp_stats *st, char *err,
                  size_t errlen)
{
    int rc = mpq_abfp_check(p, err, errlen);
    if (rc != 0)
        return rc;
    if (s->kind != MPQ_LAYER_CONV2D && s->kind != MPQ_LAYER_DEPTHWISE) {
        snprintf(err, errlen, "layer kind %s is not conv2d or depthwise", mpq_layer_name(s->kind));
        return MPQ_EPARAM;
    }
    if ((rc = mpq_conv_check(s, err, errlen)) != 0)
        return rc;
    size_t bad;
    if (bias && !all_finite(bias, s->out_c, &bad)) {
        snprintf(err, errlen, "bias: value %zu is not finite", bad);
        return MPQ_EPARAM;
    }
    unsigned K = mpq_conv_depth(s), O = s->out_c;
    int dw = s->kind == MPQ_LAYER_DEPTHWISE;
    unsigned groups = dw ? 1 : (s->groups ? s->groups : 1);
    unsigned F = dw ? 1 : s->in_c / groups, opg = O / groups, mult = dw ? O / s->in_c : 1;
    /* Weights as rows [out_c][K]: OHWI already is; depthwise [kh][kw][out_c] is transposed. */
    float *wt = NULL;
    const float *wrows = w;
    if (dw) {
        wt = malloc((size_t)O * K * sizeof *wt);
        if (!wt)
            return MPQ_ENOMEM;
        for (unsigned r = 0; r < K; r++)
            for (unsigned o = 0; o < O; o++)
                wt[(size_t)o * K + r] = w[(size_t)r * O + o];
        wrows = wt;
    }
    mpq_abfp_wq wq;
    rc = mpq_abfp_wq_make(p, wrows, O, K, &wq, err, errlen);
    free(wt);
    if (rc != 0)
        return rc;
    mpq_abfp_stats local = {0};
    if (!st)
        st = &local;
    abfp_adc a;
    adc_init(p, &a);
    if ((rc = conv_fast(p, &a, s, &wq, groups, x, bias, r0, y, st, err, errlen)) != 1) {
        mpq_abfp_wq_free(&wq);
        return rc;
    }
    rc = MPQ_OK;
    unsigned nt = wq.ntiles;
    /* Depthwise gathers every channel's window at once: [K][in_c]. */
    unsigned cw = dw ? s->in_c : 1;
    float *col = malloc((size_t)K * cw * sizeof *col);
    int16_t *xq = malloc((size_t)nt * p->n * cw * sizeof *xq), *wqt = NULL;
    float *xs = malloc((size_t)nt * cw * sizeof *xs);
    double *rcp = malloc(cw * sizeof *rcp);
    if (!col || !xq || !xs || !rcp || (dw && dw_fast(p, &a, mult) && !(wqt = transpose_q(&wq)))) {
        rc = MPQ_ENOMEM;
        goto out;
    }
    for (unsigned b = 0; b < s->batches && rc == 0; b++)
        for (unsigned oy = 0; oy < s->out_h && rc == 0; oy++)
            for (unsigned ox = 0; ox < s->out_w && rc == 0; ox++) {
                uint64_t pix = ((uint64_t)b * s->out_h + oy) * s->out_w + ox;
                float *yp = y + pix * O;
                if (dw) {
                    window(s, x, b, oy, ox, 0, s->in_c, col);
                    if (depthwise_pixel(p, &a, &wq, wqt, s->in_c, mult, col, xq, xs, rcp, r0 + pix, bias, yp, st) != 0) {
                        snprintf(err, errlen, "input: a value of the window of output pixel %llu is not finite",
                                 (unsigned long long)pix);
                        rc = MPQ_EPARAM;
                    }
                    continue;
                }
                for (unsigned g = 0; g < groups; g++) {
                    window(s, x, b, oy, ox, g * F, F, col);
                    if (quant_x(p, col, K, nt, p->n, xq, xs, &st->x_clipped, 0, &bad) != 0) {
                        snprintf(err, errlen, "input: a value of the window of output pixel %llu is not finite",
                                 (unsigned long long)pix);
                        rc = MPQ_EPARAM;
                        break;
                    }
                    unsigned o0 = g * opg, o1 = o0 + opg;
                    outputs(p, &a, &wq, o0, o1, xq, xs, r0 + pix, O, bias, yp + o0, 1, st);
                    st->macs += (uint64_t)(o1 - o0) * nt * p->n;
                }
            }
out:
    free(col);
    free(rcp);
    free(wqt);
    free(xq);
    free(xs);
    mpq_abfp_wq_free(&wq);
    return rc;
}
