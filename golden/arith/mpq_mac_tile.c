/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_mac_tile.c: the tile kernels of the MAC engine (mpq_mac.h): many rows against a block
 * of MPQ_MAC_LANES channels, 16-bit operand pairs multiply-added into 32-bit lanes, for the
 * layers whose result does not depend on the order of the terms (a wrapping sum), and the
 * checked form that bounds every prefix sum along the order per block of terms.
 *
 * SSE2 when the compiler targets it (pmaddwd: two 16x16-bit products summed into a 32-bit
 * lane), AVX2 at run time when the CPU has it (vpmaddwd: one block of 8 channels per vector,
 * the same weight layout), else, or with -DMPQ_NO_SIMD, the plain C twins below each kernel:
 * the same lanes, the same wrapping additions, the same bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "arith/mpq_layer.h"
#include "arith/mpq_mac.h"

#if defined(__SSE2__) && !defined(MPQ_NO_SIMD)
#include <emmintrin.h>
#define TILE_SSE2 1
#define LOADU(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define STOREU(p, v) _mm_storeu_si128((__m128i *)(void *)(p), (v))
#endif

#if defined(TILE_SSE2) && defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define TILE_AVX2 1
#define AVX2_FN __attribute__((target("avx2")))
#define LOAD8(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define STORE8(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))
#endif

/* ---- the level of vector instructions (mpq_layer.h) ---- */

static mpq_simd simd_max = MPQ_SIMD_AVX2;

static mpq_simd simd_cap(void)
{
#if defined(TILE_AVX2)
    static int cap = -1; /* a benign race: every thread computes the same value */
    if (cap < 0) {
        __builtin_cpu_init();
        cap = __builtin_cpu_supports("avx2") ? MPQ_SIMD_AVX2 : MPQ_SIMD_SSE2;
    }
    return (mpq_simd)cap;
#elif defined(TILE_SSE2)
    return MPQ_SIMD_SSE2;
#else
    return MPQ_SIMD_NONE;
#endif
}

mpq_simd mpq_simd_level(void)
{
    mpq_simd c = simd_cap();
#if defined(TILE_SSE2)
    if (simd_max < MPQ_SIMD_SSE2) /* the plain C twins are built without SSE2 only */
        return MPQ_SIMD_SSE2;
#endif
    return c < simd_max ? c : simd_max;
}

mpq_simd mpq_simd_limit(mpq_simd max)
{
    simd_max = max;
    return mpq_simd_level();
}

const char *mpq_simd_name(mpq_simd s)
{
    static const char *const names[] = {"none", "sse2", "avx2"};
    return (unsigned)s < 3 ? names[s] : "?";
}

#ifdef TILE_AVX2
static int avx2_on(void)
{
    return mpq_simd_level() == MPQ_SIMD_AVX2;
}
#endif

enum { L = MPQ_MAC_LANES, ROWS = 4 };

/* ---- plan ---- */

void mpq_mac_tiles_free(mpq_mac_tiles *t)
{
    MPQ_FREE_ALL(t->w, t->aw, t->fw, t->bias, t->zeros, t->zrow);
    memset(t, 0, sizeof *t);
}

int mpq_mac_tiles_init(mpq_mac_tiles *t, const mpq_mac_plan *p, unsigned groups, int checked)
{
    memset(t, 0, sizeof *t);
    const int second = checked == MPQ_TILES_CHECKED; /* the second stream: |w| and fw */
    if (p->kernel != MPQ_MAC_K16 || !p->w16 || p->t || p->e.ptr[p->n] || groups < 1 ||
        p->n % groups)
        return 1;
    const int64_t xw = p->xmax * (p->wmax16 ? p->wmax16 : 1);
    if (2 * xw > INT32_MAX) /* a pair's sum must be exact in a lane */
        return 1;
    if (checked) {
        /* Every lane value (prefix, bound) within |bias| + xmax * chan_bound < 2^31, and a
         * block's sum of |x|*|w| (2 terms per pair) below 2^30. */
        for (unsigned c = 0; c < p->n; c++)
            if ((mpq_i128)mpq_abs64(p->bias[c]) + (mpq_i128)p->xmax * p->chan_bound[c] >= INT32_MAX)
                return 1;
        int64_t blk = ((INT64_C(1) << 30) - 1) / (2 * (xw ? xw : 1));
        if (second && blk < 1)
            return 1;
        t->blk_pairs = !second ? 0 : blk < 8 ? (unsigned)blk : 8;
    } else {
        for (unsigned c = 0; c < p->n; c++)
            if (p->bias[c] < INT32_MIN || p->bias[c] > INT32_MAX)
                return 1;
    }
    t->groups = groups;
    t->cpg = p->n / groups;
    t->nblk = (t->cpg + L - 1) / L;
    t->k = p->k;
    t->kpairs = (p->k + 1) / 2;
    const size_t nslot = (size_t)groups * t->nblk * L, nw = nslot * t->kpairs * 2;
    t->w = calloc(nw + L, sizeof *t->w);
    t->aw = second ? calloc(nw + L, sizeof *t->aw) : NULL;
    t->fw = second ? calloc(nw + L, sizeof *t->fw) : NULL;
    t->bias = calloc(nslot + L, sizeof *t->bias);
    t->zeros = calloc(L, sizeof *t->zeros);
    t->zrow = calloc((size_t)2 * t->kpairs + L, sizeof *t->zrow);
    if (!t->w || (second && (!t->aw || !t->fw)) || !t->bias || !t->zeros || !t->zrow) {
        mpq_mac_tiles_free(t);
        return MPQ_ENOMEM;
    }
    for (unsigned g = 0; g < groups; g++)
        for (unsigned c = 0; c < t->cpg; c++) {
            const unsigned o = g * t->cpg + c;
            const size_t slot = ((size_t)g * t->nblk + c / L) * L + c % L;
            int16_t *dst = t->w + (slot - c % L) * t->kpairs * 2 + (size_t)(c % L) * 2;
            const int16_t *src = p->w16 + (size_t)o * p->k;
            for (unsigned i = 0; i < p->k; i++)
                dst[(size_t)(i / 2) * 2 * L + i % 2] = src[i];
            if (second) {
                int16_t *adst = t->aw + (dst - t->w), *fdst = t->fw + (dst - t->w);
                for (unsigned i = 0; i < p->k; i++) {
                    adst[(size_t)(i / 2) * 2 * L + i % 2] = (int16_t)(src[i] < 0 ? -src[i] : src[i]);
                    if (i % 2 == 0) /* the first term of each pair alone */
                        fdst[(size_t)(i / 2) * 2 * L] = src[i];
                }
            }
            t->bias[slot] = (int32_t)p->bias[o];
        }
    return 0;
}

int mpq_mac_tiles_from16(mpq_mac_tiles *t, const int16_t *w, size_t w_stride, unsigned n,
                         unsigned k, unsigned groups)
{
    memset(t, 0, sizeof *t);
    if (groups < 1 || k < 1 || n % groups)
        return MPQ_EPARAM;
    t->groups = groups;
    t->cpg = n / groups;
    t->nblk = (t->cpg + L - 1) / L;
    t->k = k;
    t->kpairs = (k + 1) / 2;
    const size_t nslot = (size_t)groups * t->nblk * L, nw = nslot * t->kpairs * 2;
    t->w = calloc(nw + L, sizeof *t->w);
    t->bias = calloc(nslot + L, sizeof *t->bias);
    t->zeros = calloc(L, sizeof *t->zeros);
    t->zrow = calloc((size_t)2 * t->kpairs + L, sizeof *t->zrow);
    if (!t->w || !t->bias || !t->zeros || !t->zrow) {
        mpq_mac_tiles_free(t);
        return MPQ_ENOMEM;
    }
    /* Block by block, pair by pair: the layout is written in order (k odd: the last pair's
     * second weight stays 0). */
    for (unsigned g = 0; g < groups; g++)
        for (unsigned b = 0; b < t->nblk; b++) {
            int16_t *dst = t->w + ((size_t)g * t->nblk + b) * L * t->kpairs * 2;
            const int16_t *src[L];
            unsigned nc = t->cpg - b * L < L ? t->cpg - b * L : L;
            for (unsigned c = 0; c < nc; c++)
                src[c] = w + ((size_t)g * t->cpg + b * L + c) * w_stride;
            for (unsigned j = 0; j < k / 2; j++, dst += 2 * L)
                for (unsigned c = 0; c < nc; c++) {
                    dst[2 * c] = src[c][2 * j];
                    dst[2 * c + 1] = src[c][2 * j + 1];
                }
            for (unsigned c = 0; k % 2 && c < nc; c++)
                dst[2 * c] = src[c][k - 1];
        }
    return 0;
}

/* ---- wrapping tiles ---- */

/* acc[r][c] = sum over the pairs of rows[r] . block wb, wrapping. */
#ifdef TILE_SSE2
static void tile4(const int16_t *const rows[ROWS], const int16_t *wb, unsigned npairs,
                  int32_t acc[ROWS][L])
{
    __m128i a00 = _mm_setzero_si128(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00,
            a30 = a00, a31 = a00;
    const int16_t *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
    for (unsigned j = 0; j < npairs; j++) {
        __m128i w0 = LOADU(wb + (size_t)j * 16), w1 = LOADU(wb + (size_t)j * 16 + 8);
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
    STOREU(acc[0], a00);
    STOREU(acc[0] + 4, a01);
    STOREU(acc[1], a10);
    STOREU(acc[1] + 4, a11);
    STOREU(acc[2], a20);
    STOREU(acc[2] + 4, a21);
    STOREU(acc[3], a30);
    STOREU(acc[3] + 4, a31);
}

/* One row (a fully-connected layer's single input row): two accumulator pairs over
 * alternate operand pairs, for the additions to overlap. */
static void tile1(const int16_t *row, const int16_t *wb, unsigned npairs, int32_t acc[L])
{
    __m128i a0 = _mm_setzero_si128(), a1 = a0, b0 = a0, b1 = a0;
    unsigned j = 0;
    for (; j + 2 <= npairs; j += 2) {
        int32_t p, q;
        memcpy(&p, row + 2 * j, 4);
        memcpy(&q, row + 2 * j + 2, 4);
        __m128i x = _mm_set1_epi32(p), z = _mm_set1_epi32(q);
        const int16_t *w = wb + (size_t)j * 16;
        a0 = _mm_add_epi32(a0, _mm_madd_epi16(x, LOADU(w)));
        a1 = _mm_add_epi32(a1, _mm_madd_epi16(x, LOADU(w + 8)));
        b0 = _mm_add_epi32(b0, _mm_madd_epi16(z, LOADU(w + 16)));
        b1 = _mm_add_epi32(b1, _mm_madd_epi16(z, LOADU(w + 24)));
    }
    for (; j < npairs; j++) {
        int32_t p;
        memcpy(&p, row + 2 * j, 4);
        __m128i x = _mm_set1_epi32(p);
        const int16_t *w = wb + (size_t)j * 16;
        a0 = _mm_add_epi32(a0, _mm_madd_epi16(x, LOADU(w)));
        a1 = _mm_add_epi32(a1, _mm_madd_epi16(x, LOADU(w + 8)));
    }
    STOREU(acc, _mm_add_epi32(a0, b0));
    STOREU(acc + 4, _mm_add_epi32(a1, b1));
}
#else
/* The pmaddwd lane: the exact pair sum (the plan's bound), added with wrap. */
static inline uint32_t pair_madd(const int16_t *x, const int16_t *w)
{
    return (uint32_t)((int32_t)x[0] * w[0] + (int32_t)x[1] * w[1]);
}

static void tile1(const int16_t *row, const int16_t *wb, unsigned npairs, int32_t acc[L])
{
    for (unsigned c = 0; c < L; c++) {
        uint32_t a = 0;
        for (unsigned j = 0; j < npairs; j++)
            a += pair_madd(row + 2 * j, wb + (size_t)j * 2 * L + c * 2);
        acc[c] = (int32_t)a;
    }
}

static void tile4(const int16_t *const rows[ROWS], const int16_t *wb, unsigned npairs,
                  int32_t acc[ROWS][L])
{
    for (unsigned r = 0; r < ROWS; r++)
        tile1(rows[r], wb, npairs, acc[r]);
}
#endif


#ifdef TILE_AVX2
/* ---- AVX2: one block of 8 channels per 256-bit vector ---- */

enum { ROWS8 = 8 };

static inline int32_t pair_at(const int16_t *r, unsigned j)
{
    int32_t p;
    memcpy(&p, r + 2 * j, 4);
    return p;
}

/* tile4 for 8 rows. */
AVX2_FN static void tile8_avx2(const int16_t *const rows[ROWS8], const int16_t *wb,
                               unsigned npairs, int32_t acc[ROWS8][L])
{
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
            a7 = a0;
    const int16_t *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3], *r4 = rows[4],
                  *r5 = rows[5], *r6 = rows[6], *r7 = rows[7];
    for (unsigned j = 0; j < npairs; j++) {
        const __m256i w = LOAD8(wb + (size_t)j * 16);
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_set1_epi32(pair_at(r0, j)), w));
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_set1_epi32(pair_at(r1, j)), w));
        a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_set1_epi32(pair_at(r2, j)), w));
        a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_set1_epi32(pair_at(r3, j)), w));
        a4 = _mm256_add_epi32(a4, _mm256_madd_epi16(_mm256_set1_epi32(pair_at(r4, j)), w));
        a5 = _mm256_add_epi32(a5, _mm256_madd_epi16(_mm256_set1_epi32(pair_at(r5, j)), w));
        a6 = _mm256_add_epi32(a6, _mm256_madd_epi16(_mm256_set1_epi32(pair_at(r6, j)), w));
        a7 = _mm256_add_epi32(a7, _mm256_madd_epi16(_mm256_set1_epi32(pair_at(r7, j)), w));
    }
    STORE8(acc[0], a0);
    STORE8(acc[1], a1);
    STORE8(acc[2], a2);
    STORE8(acc[3], a3);
    STORE8(acc[4], a4);
    STORE8(acc[5], a5);
    STORE8(acc[6], a6);
    STORE8(acc[7], a7);
}

/* tile1: four accumulators over the pairs, for the additions to overlap. */
AVX2_FN static void tile1_avx2(const int16_t *row, const int16_t *wb, unsigned npairs,
                               int32_t acc[L])
{
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    unsigned j = 0;
    for (; j + 4 <= npairs; j += 4) {
        const int16_t *w = wb + (size_t)j * 16;
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_set1_epi32(pair_at(row, j)), LOAD8(w)));
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_set1_epi32(pair_at(row, j + 1)), LOAD8(w + 16)));
        a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_set1_epi32(pair_at(row, j + 2)), LOAD8(w + 32)));
        a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_set1_epi32(pair_at(row, j + 3)), LOAD8(w + 48)));
    }
    for (; j < npairs; j++)
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_set1_epi32(pair_at(row, j)),
                                                     LOAD8(wb + (size_t)j * 16)));
    STORE8(acc, _mm256_add_epi32(_mm256_add_epi32(a0, a1), _mm256_add_epi32(a2, a3)));
}

/* n pixels' taps against two blocks (16 channels from c0): the operands of taps 2j and 2j+1
 * interleaved per 128-bit half (channels 0-3 and 8-11, then 4-7 and 12-15), against wv: the
 * weights of the two blocks' matching halves side by side, two vectors per pair (TAPS_WV).
 * Pixel i's 16 sums plus init go to out + i*stride (the second block's first nc1 lanes).
 * Inlined with a constant np, the weights stay in registers across the pixels. */
#define TAPS_WV 16 /* pairs held in registers: a window of up to 32 taps */
AVX2_FN static inline __attribute__((always_inline)) void
taps16_avx2(const int16_t *const *base, size_t c0, const size_t *toff, const __m256i *wv,
            unsigned np, unsigned n, const int32_t *init, unsigned nc1, int32_t *out,
            size_t stride)
{
    const __m256i in0 = LOAD8(init), in1 = LOAD8(init + L);
    for (unsigned i = 0; i < n; i++, out += stride) {
        const int16_t *bp = base[i] + c0;
        __m256i lo = _mm256_setzero_si256(), hi = lo;
        for (unsigned j = 0; j < np; j++) {
            const __m256i xa = LOAD8(bp + toff[2 * j]), xb = LOAD8(bp + toff[2 * j + 1]);
            lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(xa, xb), wv[2 * j]));
            hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(xa, xb), wv[2 * j + 1]));
        }
        STORE8(out, _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20), in0));
        const __m256i r1 = _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x31), in1);
        if (nc1 == L) {
            STORE8(out + L, r1);
        } else {
            int32_t tmp[L];
            STORE8(tmp, r1);
            memcpy(out + L, tmp, nc1 * sizeof *out);
        }
    }
}

/* The operands of taps 2j, 2j+1 of 8 channels as one vector of pairs. */
AVX2_FN static inline __m256i tap_pairs8(const int16_t *bp, const size_t *toff, unsigned j)
{
    const __m128i xa = LOADU(bp + toff[2 * j]), xb = LOADU(bp + toff[2 * j + 1]);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_unpacklo_epi16(xa, xb)),
                                   _mm_unpackhi_epi16(xa, xb), 1);
}

AVX2_FN static void taps8_avx2(const int16_t *bp, const size_t *toff, const int16_t *wb,
                               unsigned np, int32_t out[L])
{
    __m256i a0 = _mm256_setzero_si256(), a1 = a0;
    unsigned j = 0;
    for (; j + 2 <= np; j += 2) {
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(tap_pairs8(bp, toff, j), LOAD8(wb + (size_t)j * 16)));
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(tap_pairs8(bp, toff, j + 1), LOAD8(wb + (size_t)j * 16 + 16)));
    }
    for (; j < np; j++)
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(tap_pairs8(bp, toff, j), LOAD8(wb + (size_t)j * 16)));
    STORE8(out, _mm256_add_epi32(a0, a1));
}

AVX2_FN static inline __m256i vmag8(__m256i v)
{
    return _mm256_xor_si256(v, _mm256_srai_epi32(v, 31));
}

/* The block end of one vector of 8 lanes (block_end). */
#define BLOCK_END8(Q, QS, A, QO, MO)                                                            \
    do {                                                                                       \
        __m256i pos_ = _mm256_srai_epi32(_mm256_add_epi32((A), _mm256_sub_epi32((Q), (QS))), 1); \
        __m256i neg_ = _mm256_sub_epi32((A), pos_);                                            \
        (MO) = _mm256_or_si256((MO), _mm256_or_si256(vmag8(_mm256_add_epi32((QS), pos_)),      \
                                                     vmag8(_mm256_sub_epi32((QS), neg_))));    \
        (QO) = _mm256_or_si256((QO), vmag8(Q));                                                \
        (QS) = (Q);                                                                            \
        (A) = _mm256_setzero_si256();                                                          \
    } while (0)

/* The exact form's end of a pair: the prefix after its first term (QS + A, A the first
 * term's product) and after both (Q), both exact, into the running maximum HI and minimum
 * LO (the exact form keeps those in the q and m registers and turns them into magnitudes at
 * the end: EXACT_DONE8). */
#define EXACT_END8(Q, QS, A, HI, LO)                                                            \
    do {                                                                                       \
        __m256i mid_ = _mm256_add_epi32((QS), (A));                                            \
        (HI) = _mm256_max_epi32((HI), _mm256_max_epi32(mid_, (Q)));                            \
        (LO) = _mm256_min_epi32((LO), _mm256_min_epi32(mid_, (Q)));                            \
        (QS) = (Q);                                                                            \
        (A) = _mm256_setzero_si256();                                                          \
    } while (0)
#define END8(EXACT, Q, QS, A, QO, MO)                                                           \
    do {                                                                                       \
        if (EXACT)                                                                             \
            EXACT_END8(Q, QS, A, QO, MO);                                                      \
        else                                                                                   \
            BLOCK_END8(Q, QS, A, QO, MO);                                                      \
    } while (0)
/* The exact form's start (HI, LO from the bias) and end (both become q = m, the OR of the
 * extremes' magnitudes). */
#define EXACT_START8(EXACT, B, QO, MO)                                                          \
    do {                                                                                       \
        if (EXACT)                                                                             \
            (QO) = (MO) = (B);                                                                 \
    } while (0)
#define EXACT_DONE8(EXACT, QO, MO)                                                              \
    do {                                                                                       \
        if (EXACT)                                                                             \
            (QO) = (MO) = _mm256_or_si256(vmag8(QO), vmag8(MO));                               \
    } while (0)

/* Where a checked kernel of 4 rows writes: row r's 8 lanes at fin + r*stride, qo + r*stride
 * and mo + r*stride (mo NULL: not written; the exact form's m is its q). */
typedef struct chk_dst {
    int32_t *fin, *qo, *mo;
    size_t stride;
} chk_dst;

/* check2 for 4 rows, one block of 8 channels per vector. */
AVX2_FN static inline __attribute__((always_inline)) void
check4_avx2(const int16_t *const rows[4], const int16_t *wb, const int16_t *awb,
            const int32_t *bias, unsigned np, unsigned blk, int nonneg, int exact, chk_dst d)
{
    const __m256i b = LOAD8(bias), mb = vmag8(b);
    __m256i q0 = b, q1 = b, q2 = b, q3 = b, s0 = b, s1 = b, s2 = b, s3 = b;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    __m256i o0 = mb, o1 = mb, o2 = mb, o3 = mb, m0 = mb, m1 = mb, m2 = mb, m3 = mb;
    EXACT_START8(exact, b, o0, m0);
    EXACT_START8(exact, b, o1, m1);
    EXACT_START8(exact, b, o2, m2);
    EXACT_START8(exact, b, o3, m3);
    for (unsigned j0 = 0; j0 < np; j0 += blk) {
        const unsigned j1 = j0 + blk < np ? j0 + blk : np;
        for (unsigned j = j0; j < j1; j++) {
            const __m256i w = LOAD8(wb + (size_t)j * 16), v = LOAD8(awb + (size_t)j * 16);
            const __m256i x0 = _mm256_set1_epi32(pair_at(rows[0], j)), x1 = _mm256_set1_epi32(pair_at(rows[1], j));
            const __m256i x2 = _mm256_set1_epi32(pair_at(rows[2], j)), x3 = _mm256_set1_epi32(pair_at(rows[3], j));
            q0 = _mm256_add_epi32(q0, _mm256_madd_epi16(x0, w));
            q1 = _mm256_add_epi32(q1, _mm256_madd_epi16(x1, w));
            q2 = _mm256_add_epi32(q2, _mm256_madd_epi16(x2, w));
            q3 = _mm256_add_epi32(q3, _mm256_madd_epi16(x3, w));
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(nonneg ? x0 : _mm256_abs_epi16(x0), v));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(nonneg ? x1 : _mm256_abs_epi16(x1), v));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(nonneg ? x2 : _mm256_abs_epi16(x2), v));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(nonneg ? x3 : _mm256_abs_epi16(x3), v));
        }
        END8(exact, q0, s0, a0, o0, m0);
        END8(exact, q1, s1, a1, o1, m1);
        END8(exact, q2, s2, a2, o2, m2);
        END8(exact, q3, s3, a3, o3, m3);
    }
    EXACT_DONE8(exact, o0, m0);
    EXACT_DONE8(exact, o1, m1);
    EXACT_DONE8(exact, o2, m2);
    EXACT_DONE8(exact, o3, m3);
    STORE8(d.fin, q0);
    STORE8(d.fin + d.stride, q1);
    STORE8(d.fin + 2 * d.stride, q2);
    STORE8(d.fin + 3 * d.stride, q3);
    STORE8(d.qo, o0);
    STORE8(d.qo + d.stride, o1);
    STORE8(d.qo + 2 * d.stride, o2);
    STORE8(d.qo + 3 * d.stride, o3);
    if (d.mo) {
        STORE8(d.mo, m0);
        STORE8(d.mo + d.stride, m1);
        STORE8(d.mo + 2 * d.stride, m2);
        STORE8(d.mo + 3 * d.stride, m3);
    }
}

/* The three forms the callers need: bounds over |x| or x (non-negative operands), exact. */
AVX2_FN static void check4_avx2_pos(const int16_t *const rows[4], const int16_t *wb,
                                    const int16_t *awb, const int32_t *bias, unsigned np,
                                    unsigned blk, chk_dst d)
{
    check4_avx2(rows, wb, awb, bias, np, blk, 1, 0, d);
}

AVX2_FN static void check4_avx2_any(const int16_t *const rows[4], const int16_t *wb,
                                    const int16_t *awb, const int32_t *bias, unsigned np,
                                    unsigned blk, chk_dst d)
{
    check4_avx2(rows, wb, awb, bias, np, blk, 0, 0, d);
}

/* mpq_mac_tiles_ends for R rows, one block of 8 channels per vector: the plain kernel's sums
 * from bias + off, the OR of the lanes every blk pairs (one instruction a row), off taken
 * off the final sums. */
#define ENDS_ROWS 8 /* tile8_avx2's rows: the ORs spill, touched once a block */
AVX2_FN static inline __attribute__((always_inline)) void
ends_body(const int16_t *const rows[ENDS_ROWS], const int16_t *wb, const int32_t *bias,
          __m256i off, unsigned np, unsigned blk, chk_dst d)
{
    const __m256i b = _mm256_add_epi32(LOAD8(bias), off);
    __m256i q[ENDS_ROWS], o[ENDS_ROWS];
    for (unsigned r = 0; r < ENDS_ROWS; r++)
        q[r] = o[r] = b;
    for (unsigned j0 = 0; j0 < np; j0 += blk) {
        const unsigned j1 = j0 + blk < np ? j0 + blk : np;
        for (unsigned j = j0; j < j1; j++) {
            const __m256i w = LOAD8(wb + (size_t)j * 16);
            for (unsigned r = 0; r < ENDS_ROWS; r++)
                q[r] = _mm256_add_epi32(q[r], _mm256_madd_epi16(_mm256_set1_epi32(pair_at(rows[r], j)), w));
        }
        for (unsigned r = 0; r < ENDS_ROWS; r++)
            o[r] = _mm256_or_si256(o[r], q[r]);
    }
    for (unsigned r = 0; r < ENDS_ROWS; r++) {
        STORE8(d.fin + r * d.stride, _mm256_sub_epi32(q[r], off));
        STORE8(d.qo + r * d.stride, o[r]);
    }
}

/* ends_body; blocks of 8 pairs (the accelerator's 16 lanes) unrolled. */
AVX2_FN static void ends_avx2(const int16_t *const rows[ENDS_ROWS], const int16_t *wb,
                              const int32_t *bias, uint32_t off, unsigned np, unsigned blk,
                              chk_dst d)
{
    const __m256i voff = _mm256_set1_epi32((int32_t)off);
    if (blk == 8)
        ends_body(rows, wb, bias, voff, np, 8, d);
    else
        ends_body(rows, wb, bias, voff, np, blk, d);
}

/* The exact form for two rows (r0, r1 of the tile, at d's rows r0 and r0 + 1): per pair the
 * prefix after its first term (q + x.fw, fw the pair's first weight alone) and after both
 * (q + x.w) into each lane's running maximum and minimum. Two rows keep every value in a
 * register (four spilled: measured slower). */
AVX2_FN static inline __attribute__((always_inline)) void
exact2_avx2(const int16_t *ra, const int16_t *rb, const int16_t *wb, const int16_t *fwb,
            __m256i b, unsigned np, chk_dst d, unsigned r0)
{
    __m256i q0 = b, q1 = b, h0 = b, h1 = b, l0 = b, l1 = b;
#define EXACT_PAIR(X, Q, H, LO)                                                                 \
    do {                                                                                       \
        const __m256i mid_ = _mm256_add_epi32((Q), _mm256_madd_epi16((X), f));                 \
        (Q) = _mm256_add_epi32((Q), _mm256_madd_epi16((X), w));                                \
        (H) = _mm256_max_epi32((H), _mm256_max_epi32(mid_, (Q)));                              \
        (LO) = _mm256_min_epi32((LO), _mm256_min_epi32(mid_, (Q)));                            \
    } while (0)
    for (unsigned j = 0; j < np; j++) {
        const __m256i w = LOAD8(wb + (size_t)j * 16), f = LOAD8(fwb + (size_t)j * 16);
        EXACT_PAIR(_mm256_set1_epi32(pair_at(ra, j)), q0, h0, l0);
        EXACT_PAIR(_mm256_set1_epi32(pair_at(rb, j)), q1, h1, l1);
    }
#undef EXACT_PAIR
    const __m256i o0 = _mm256_or_si256(vmag8(h0), vmag8(l0)), o1 = _mm256_or_si256(vmag8(h1), vmag8(l1));
    const size_t a0 = (size_t)r0 * d.stride, a1 = a0 + d.stride;
    STORE8(d.fin + a0, q0);
    STORE8(d.fin + a1, q1);
    STORE8(d.qo + a0, o0);
    STORE8(d.qo + a1, o1);
    if (d.mo) {
        STORE8(d.mo + a0, o0);
        STORE8(d.mo + a1, o1);
    }
}

/* The exact form for 4 rows: two passes of two rows over the block's weights. */
AVX2_FN static void check4_avx2_exact(const int16_t *const rows[4], const int16_t *wb,
                                      const int16_t *fwb, const int32_t *bias, unsigned np,
                                      chk_dst d)
{
    const __m256i b = LOAD8(bias);
    exact2_avx2(rows[0], rows[1], wb, fwb, b, np, d, 0);
    exact2_avx2(rows[2], rows[3], wb, fwb, b, np, d, 2);
}

/* One row against `nb` blocks (1..4; a fully-connected layer's single row): the row's operand
 * pair broadcast once for all of them. Block i's weights at wb[i], awb[i], bias[i]. */
AVX2_FN static inline __attribute__((always_inline)) void
check_row_avx2(const int16_t *row, const int16_t *const *wb, const int16_t *const *awb,
               const int32_t *const *bias, unsigned nb, unsigned np, unsigned blk, int nonneg,
               int exact, int32_t fin[4][L], int32_t qo[4][L], int32_t mo[4][L])
{
    __m256i q[4], s[4], a[4], o[4], m[4];
    for (unsigned i = 0; i < 4; i++) {
        q[i] = s[i] = i < nb ? LOAD8(bias[i]) : _mm256_setzero_si256();
        o[i] = m[i] = exact ? q[i] : vmag8(q[i]);
        a[i] = _mm256_setzero_si256();
    }
    for (unsigned j0 = 0; j0 < np; j0 += blk) {
        const unsigned j1 = j0 + blk < np ? j0 + blk : np;
        for (unsigned j = j0; j < j1; j++) {
            const __m256i x = _mm256_set1_epi32(pair_at(row, j));
            const __m256i z = nonneg ? x : _mm256_abs_epi16(x);
            for (unsigned i = 0; i < 4; i++)
                if (i < nb) {
                    q[i] = _mm256_add_epi32(q[i], _mm256_madd_epi16(x, LOAD8(wb[i] + (size_t)j * 16)));
                    a[i] = _mm256_add_epi32(a[i], _mm256_madd_epi16(z, LOAD8(awb[i] + (size_t)j * 16)));
                }
        }
        for (unsigned i = 0; i < 4; i++)
            if (i < nb)
                END8(exact, q[i], s[i], a[i], o[i], m[i]);
    }
    for (unsigned i = 0; i < nb; i++) {
        EXACT_DONE8(exact, o[i], m[i]);
        STORE8(fin[i], q[i]);
        STORE8(qo[i], o[i]);
        STORE8(mo[i], m[i]);
    }
}

/* 4 or 1 blocks; bounds (nonneg or not) or exact (blk 0). */
#define CHECK_ROW_FORMS(NAME, NB)                                                               \
    AVX2_FN static void NAME(const int16_t *row, const int16_t *const *wb,                      \
                             const int16_t *const *awb, const int32_t *const *bias, unsigned np, \
                             unsigned blk, int nonneg, int32_t fin[4][L], int32_t qo[4][L],     \
                             int32_t mo[4][L])                                                  \
    {                                                                                           \
        if (!blk)                                                                               \
            check_row_avx2(row, wb, awb, bias, NB, np, 1, 1, 1, fin, qo, mo);                   \
        else if (nonneg)                                                                        \
            check_row_avx2(row, wb, awb, bias, NB, np, blk, 1, 0, fin, qo, mo);                 \
        else                                                                                    \
            check_row_avx2(row, wb, awb, bias, NB, np, blk, 0, 0, fin, qo, mo);                 \
    }
CHECK_ROW_FORMS(check_row4_avx2, 4)
CHECK_ROW_FORMS(check_row1_avx2, 1)

/* The exact form of one pixel's taps against two blocks (16 channels, as taps16_avx2): the
 * prefix after each pair's first tap and after both into running extremes. */
AVX2_FN static void taps_exact16_avx2(const int16_t *bp, const size_t *toff, const int16_t *wb0,
                                      const int16_t *wb1, const int16_t *fw0, const int16_t *fw1,
                                      const int32_t *bias, unsigned np, int32_t fin[2][L],
                                      int32_t qo[2][L])
{
    /* lanes: lo = (block 0 channels 0-3 | block 1 channels 0-3), hi = (0: 4-7 | 1: 4-7) */
    const __m128i b0 = LOADU(bias), b1 = LOADU(bias + 4), b2 = LOADU(bias + 8), b3 = LOADU(bias + 12);
    __m256i ql = _mm256_inserti128_si256(_mm256_castsi128_si256(b0), b2, 1);
    __m256i qh = _mm256_inserti128_si256(_mm256_castsi128_si256(b1), b3, 1);
    __m256i hl = ql, ll = ql, hh = qh, lh = qh;
    for (unsigned j = 0; j < np; j++) {
        const __m256i xa = LOAD8(bp + toff[2 * j]), xb = LOAD8(bp + toff[2 * j + 1]);
        const __m256i ul = _mm256_unpacklo_epi16(xa, xb), uh = _mm256_unpackhi_epi16(xa, xb);
        const size_t o = (size_t)j * 16;
#define HALVES(P0, P1) _mm256_inserti128_si256(_mm256_castsi128_si256(LOADU(P0)), LOADU(P1), 1)
        const __m256i wl = HALVES(wb0 + o, wb1 + o), wh = HALVES(wb0 + o + 8, wb1 + o + 8);
        const __m256i fl = HALVES(fw0 + o, fw1 + o), fh = HALVES(fw0 + o + 8, fw1 + o + 8);
#undef HALVES
        const __m256i ml = _mm256_add_epi32(ql, _mm256_madd_epi16(ul, fl));
        const __m256i mh = _mm256_add_epi32(qh, _mm256_madd_epi16(uh, fh));
        ql = _mm256_add_epi32(ql, _mm256_madd_epi16(ul, wl));
        qh = _mm256_add_epi32(qh, _mm256_madd_epi16(uh, wh));
        hl = _mm256_max_epi32(hl, _mm256_max_epi32(ml, ql));
        ll = _mm256_min_epi32(ll, _mm256_min_epi32(ml, ql));
        hh = _mm256_max_epi32(hh, _mm256_max_epi32(mh, qh));
        lh = _mm256_min_epi32(lh, _mm256_min_epi32(mh, qh));
    }
    const __m256i ol = _mm256_or_si256(vmag8(hl), vmag8(ll)), oh = _mm256_or_si256(vmag8(hh), vmag8(lh));
    STORE8(fin[0], _mm256_permute2x128_si256(ql, qh, 0x20));
    STORE8(fin[1], _mm256_permute2x128_si256(ql, qh, 0x31));
    STORE8(qo[0], _mm256_permute2x128_si256(ol, oh, 0x20));
    STORE8(qo[1], _mm256_permute2x128_si256(ol, oh, 0x31));
}

/* One pixel's checked taps against one block. */
AVX2_FN static void taps_check8_avx2(const int16_t *bp, const size_t *toff, const int16_t *wb,
                                     const int16_t *awb, const int32_t *bias, unsigned np,
                                     unsigned blk, int nonneg, int32_t fin[L], int32_t qo[L],
                                     int32_t mo[L])
{
    const int exact = !blk; /* awb: the first weights of the pairs, operands as they are */
    blk = exact ? 1 : blk;
    nonneg |= exact;
    __m256i q = LOAD8(bias), s = q, a = _mm256_setzero_si256(), o = vmag8(q), m = o;
    EXACT_START8(exact, q, o, m);
    for (unsigned j0 = 0; j0 < np; j0 += blk) {
        const unsigned j1 = j0 + blk < np ? j0 + blk : np;
        for (unsigned j = j0; j < j1; j++) {
            const __m256i x = tap_pairs8(bp, toff, j);
            q = _mm256_add_epi32(q, _mm256_madd_epi16(x, LOAD8(wb + (size_t)j * 16)));
            a = _mm256_add_epi32(a, _mm256_madd_epi16(nonneg ? x : _mm256_abs_epi16(x),
                                                      LOAD8(awb + (size_t)j * 16)));
        }
        END8(exact, q, s, a, o, m);
    }
    EXACT_DONE8(exact, o, m);
    STORE8(fin, q);
    STORE8(qo, o);
    STORE8(mo, m);
}
#endif

/* Rows [0, nr) and channels [0, nc) of a tile plus init into out. */
static void tile_store(const int32_t acc[][L], unsigned nr, unsigned nc, const int32_t *init,
                       int32_t *out, size_t stride)
{
    for (unsigned r = 0; r < nr; r++, out += stride) {
#ifdef TILE_SSE2
        if (nc == L) {
            STOREU(out, _mm_add_epi32(LOADU(acc[r]), LOADU(init)));
            STOREU(out + 4, _mm_add_epi32(LOADU(acc[r] + 4), LOADU(init + 4)));
            continue;
        }
#endif
        for (unsigned c = 0; c < nc; c++)
            out[c] = (int32_t)((uint32_t)acc[r][c] + (uint32_t)init[c]);
    }
}

void mpq_mac_tiles_run(const mpq_mac_tiles *t, unsigned g, const int16_t *rows0,
                       size_t row_stride, unsigned n, const int32_t *init, int32_t *out,
                       size_t out_stride)
{
    const int16_t *zero_row = t->zrow;
    for (unsigned b = 0; b < t->nblk; b++) {
        const size_t slot0 = ((size_t)g * t->nblk + b) * L;
        const int16_t *wb = t->w + slot0 * t->kpairs * 2;
        const int32_t *in = init ? init + slot0 : t->zeros;
        const unsigned nc = t->cpg - b * L < L ? t->cpg - b * L : L;
        int32_t *o = out + (size_t)b * L;
#ifdef TILE_AVX2
        if (avx2_on()) {
            int32_t acc8[ROWS8][L];
            if (n == 1) {
                tile1_avx2(rows0, wb, t->kpairs, acc8[0]);
                tile_store(acc8, 1, nc, in, o, out_stride);
                continue;
            }
            for (unsigned r0 = 0; r0 < n; r0 += ROWS8) {
                const int16_t *rows[ROWS8];
                for (unsigned r = 0; r < ROWS8; r++)
                    rows[r] = r0 + r < n ? rows0 + (size_t)(r0 + r) * row_stride : zero_row;
                tile8_avx2(rows, wb, t->kpairs, acc8);
                tile_store(acc8, n - r0 < ROWS8 ? n - r0 : ROWS8, nc, in,
                           o + (size_t)r0 * out_stride, out_stride);
            }
            continue;
        }
#endif
        int32_t acc[ROWS][L];
        if (n == 1) {
            tile1(rows0, wb, t->kpairs, acc[0]);
            tile_store(acc, 1, nc, in, o, out_stride);
            continue;
        }
        for (unsigned r0 = 0; r0 < n; r0 += ROWS) {
            const int16_t *rows[ROWS];
            for (unsigned r = 0; r < ROWS; r++)
                rows[r] = r0 + r < n ? rows0 + (size_t)(r0 + r) * row_stride : zero_row;
            tile4(rows, wb, t->kpairs, acc);
            tile_store(acc, n - r0 < ROWS ? n - r0 : ROWS, nc, in, o + (size_t)r0 * out_stride,
                       out_stride);
        }
    }
}

/* ---- depthwise ---- */

#ifdef TILE_AVX2
/* mpq_mac_taps_run over pairs of blocks while two remain (taps16_avx2). Returns the first
 * block left. */
AVX2_FN static unsigned taps_run16_avx2(const mpq_mac_tiles *t, const int16_t *const *base,
                                        const size_t *toff, unsigned n, const int32_t *init,
                                        int32_t *out, size_t out_stride)
{
    unsigned b = 0;
    for (; t->kpairs <= TAPS_WV && b + 2 <= t->nblk; b += 2) { /* 16 channels */
        const size_t c0 = (size_t)b * L;
        const int16_t *w0 = t->w + c0 * t->kpairs * 2, *w1 = w0 + (size_t)t->kpairs * 2 * L;
        int32_t in[2 * L];
        memcpy(in, init ? init + c0 : t->zeros, L * sizeof *in);
        memcpy(in + L, init ? init + c0 + L : t->zeros, L * sizeof *in);
        const unsigned nc = t->cpg - (b + 1) * L < L ? t->cpg - (b + 1) * L : L;
        __m256i wv[2 * TAPS_WV];
        for (unsigned j = 0; j < t->kpairs; j++) {
            const int16_t *a = w0 + (size_t)j * 2 * L, *c = w1 + (size_t)j * 2 * L;
            wv[2 * j] = _mm256_inserti128_si256(_mm256_castsi128_si256(LOADU(a)), LOADU(c), 1);
            wv[2 * j + 1] = _mm256_inserti128_si256(_mm256_castsi128_si256(LOADU(a + 8)),
                                                    LOADU(c + 8), 1);
        }
        if (t->kpairs == 5) /* 3x3 windows: the weights in registers */
            taps16_avx2(base, c0, toff, wv, 5, n, in, nc, out + c0, out_stride);
        else
            taps16_avx2(base, c0, toff, wv, t->kpairs, n, in, nc, out + c0, out_stride);
    }
    return b;
}
#endif

void mpq_mac_taps_run(const mpq_mac_tiles *t, const int16_t *const *base, const size_t *toff,
                      unsigned n, const int32_t *init, int32_t *out, size_t out_stride)
{
    unsigned b = 0;
#ifdef TILE_AVX2
    if (avx2_on()) {
        b = taps_run16_avx2(t, base, toff, n, init, out, out_stride);
        for (; b < t->nblk; b++) {
            const size_t c0 = (size_t)b * L;
            const unsigned nc = t->cpg - b * L < L ? t->cpg - b * L : L;
            for (unsigned i = 0; i < n; i++) {
                int32_t acc[1][L];
                taps8_avx2(base[i] + c0, toff, t->w + c0 * t->kpairs * 2, t->kpairs, acc[0]);
                tile_store(acc, 1, nc, init ? init + c0 : t->zeros,
                           out + (size_t)i * out_stride + c0, out_stride);
            }
        }
        return;
    }
#endif
    for (; b < t->nblk; b++) {
        const size_t c0 = (size_t)b * L;
        const int16_t *wb = t->w + c0 * t->kpairs * 2;
        const int32_t *in = init ? init + c0 : t->zeros;
        const unsigned nc = t->cpg - b * L < L ? t->cpg - b * L : L;
        for (unsigned i = 0; i < n; i++) {
            int32_t acc[1][L];
            const int16_t *bp = base[i] + c0;
#ifdef TILE_SSE2
            __m128i a0 = _mm_setzero_si128(), a1 = a0;
            for (unsigned j = 0; j < t->kpairs; j++) {
                __m128i xa = LOADU(bp + toff[2 * j]), xb = LOADU(bp + toff[2 * j + 1]);
                a0 = _mm_add_epi32(a0, _mm_madd_epi16(_mm_unpacklo_epi16(xa, xb), LOADU(wb + (size_t)j * 16)));
                a1 = _mm_add_epi32(a1, _mm_madd_epi16(_mm_unpackhi_epi16(xa, xb), LOADU(wb + (size_t)j * 16 + 8)));
            }
            STOREU(acc[0], a0);
            STOREU(acc[0] + 4, a1);
#else
            for (unsigned c = 0; c < L; c++) {
                uint32_t a = 0;
                for (unsigned j = 0; j < t->kpairs; j++) {
                    const int16_t x[2] = {bp[toff[2 * j] + c], bp[toff[2 * j + 1] + c]};
                    a += (uint32_t)((int32_t)x[0] * wb[(size_t)j * 2 * L + c * 2] +
                                    (int32_t)x[1] * wb[(size_t)j * 2 * L + c * 2 + 1]);
                }
                acc[0][c] = (int32_t)a;
            }
#endif
            tile_store(acc, 1, nc, in, out + (size_t)i * out_stride + c0, out_stride);
        }
    }
}

/* ---- checked tiles ---- */

/* One lane's bookkeeping at the end of a block (plain C; the SSE2 kernels do the same per
 * vector): q the prefix there, qs the prefix at the block's start, a the block's sum of
 * |x|*|w|. All values within 32 bits (mpq_mac_tiles_init). */
static inline void block_end(int32_t q, int32_t *qs, int32_t *a, int32_t *qo, int32_t *mo)
{
    int32_t pos = (*a + (q - *qs)) / 2, neg = *a - pos; /* a + t is even, >= 0 */
    int32_t u = *qs + pos, l = *qs - neg;
    *mo |= (u < 0 ? ~u : u) | (l < 0 ? ~l : l);
    *qo |= q < 0 ? ~q : q;
    *qs = q;
    *a = 0;
}

/* The exact form's end of a pair (plain C): the prefixes after its first term and after both. */
static inline void exact_end(int32_t q, int32_t *qs, int32_t *a, int32_t *qo)
{
    int32_t mid = *qs + *a;
    *qo |= (mid < 0 ? ~mid : mid) | (q < 0 ? ~q : q);
    *qs = q;
    *a = 0;
}

#ifdef TILE_SSE2
static inline __m128i vmag(__m128i v)
{
    return _mm_xor_si128(v, _mm_srai_epi32(v, 31));
}

static inline __m128i vabs16(__m128i v)
{
    return _mm_max_epi16(v, _mm_sub_epi16(_mm_setzero_si128(), v));
}

/* The block end of one vector of lanes (block_end). */
#define BLOCK_END(Q, QS, A, QO, MO)                                                             \
    do {                                                                                       \
        __m128i pos_ = _mm_srai_epi32(_mm_add_epi32((A), _mm_sub_epi32((Q), (QS))), 1);        \
        __m128i neg_ = _mm_sub_epi32((A), pos_);                                               \
        (MO) = _mm_or_si128((MO), _mm_or_si128(vmag(_mm_add_epi32((QS), pos_)),                \
                                               vmag(_mm_sub_epi32((QS), neg_))));              \
        (QO) = _mm_or_si128((QO), vmag(Q));                                                    \
        (QS) = (Q);                                                                            \
        (A) = _mm_setzero_si128();                                                             \
    } while (0)
#define EXACT_END(Q, QS, A, QO)                                                                 \
    do {                                                                                       \
        (QO) = _mm_or_si128((QO), _mm_or_si128(vmag(_mm_add_epi32((QS), (A))), vmag(Q)));      \
        (QS) = (Q);                                                                            \
        (A) = _mm_setzero_si128();                                                             \
    } while (0)
#define END4(EXACT, Q, QS, A, QO, MO)                                                           \
    do {                                                                                       \
        if (EXACT)                                                                             \
            EXACT_END(Q, QS, A, QO);                                                           \
        else                                                                                   \
            BLOCK_END(Q, QS, A, QO, MO);                                                       \
    } while (0)
#endif

#if defined(__GNUC__)
#define TILE_INLINE static inline __attribute__((always_inline))
#else
#define TILE_INLINE static inline
#endif

/* Two rows against one block from the bias: final sums, q and m (see mpq_mac.h). Written
 * once; its callers pass a constant `nonneg`, and the inline specializes it. */
TILE_INLINE void check2(const mpq_mac_tiles *t, const int16_t *r0, const int16_t *r1,
                        const int16_t *wb, const int16_t *awb, const int32_t *bias,
                        unsigned blk, int nonneg, int exact, int32_t fin[2][L],
                        int32_t qo[2][L], int32_t mo[2][L])
{
    const unsigned np = t->kpairs;
#ifdef TILE_SSE2
    const __m128i b0 = LOADU(bias), b1 = LOADU(bias + 4);
    __m128i q00 = b0, q01 = b1, q10 = b0, q11 = b1;
    __m128i s00 = b0, s01 = b1, s10 = b0, s11 = b1;
    __m128i a00 = _mm_setzero_si128(), a01 = a00, a10 = a00, a11 = a00;
    __m128i o00 = vmag(b0), o01 = vmag(b1), o10 = o00, o11 = o01;
    __m128i m00 = o00, m01 = o01, m10 = o00, m11 = o01;
    for (unsigned j0 = 0; j0 < np; j0 += blk) {
        const unsigned j1 = j0 + blk < np ? j0 + blk : np;
        for (unsigned j = j0; j < j1; j++) {
            const __m128i w0 = LOADU(wb + (size_t)j * 16), w1 = LOADU(wb + (size_t)j * 16 + 8);
            const __m128i v0 = LOADU(awb + (size_t)j * 16), v1 = LOADU(awb + (size_t)j * 16 + 8);
            int32_t p0, p1;
            memcpy(&p0, r0 + 2 * j, 4);
            memcpy(&p1, r1 + 2 * j, 4);
            const __m128i x0 = _mm_set1_epi32(p0), x1 = _mm_set1_epi32(p1);
            const __m128i z0 = nonneg ? x0 : vabs16(x0), z1 = nonneg ? x1 : vabs16(x1);
            q00 = _mm_add_epi32(q00, _mm_madd_epi16(x0, w0));
            q01 = _mm_add_epi32(q01, _mm_madd_epi16(x0, w1));
            q10 = _mm_add_epi32(q10, _mm_madd_epi16(x1, w0));
            q11 = _mm_add_epi32(q11, _mm_madd_epi16(x1, w1));
            a00 = _mm_add_epi32(a00, _mm_madd_epi16(z0, v0));
            a01 = _mm_add_epi32(a01, _mm_madd_epi16(z0, v1));
            a10 = _mm_add_epi32(a10, _mm_madd_epi16(z1, v0));
            a11 = _mm_add_epi32(a11, _mm_madd_epi16(z1, v1));
        }
        END4(exact, q00, s00, a00, o00, m00);
        END4(exact, q01, s01, a01, o01, m01);
        END4(exact, q10, s10, a10, o10, m10);
        END4(exact, q11, s11, a11, o11, m11);
    }
    if (exact) {
        m00 = o00;
        m01 = o01;
        m10 = o10;
        m11 = o11;
    }
    STOREU(fin[0], q00);
    STOREU(fin[0] + 4, q01);
    STOREU(fin[1], q10);
    STOREU(fin[1] + 4, q11);
    STOREU(qo[0], o00);
    STOREU(qo[0] + 4, o01);
    STOREU(qo[1], o10);
    STOREU(qo[1] + 4, o11);
    STOREU(mo[0], m00);
    STOREU(mo[0] + 4, m01);
    STOREU(mo[1], m10);
    STOREU(mo[1] + 4, m11);
#else
    const int16_t *rows[2] = {r0, r1};
    for (unsigned r = 0; r < 2; r++)
        for (unsigned c = 0; c < L; c++) {
            int32_t q = bias[c], qs = q, a = 0, o = q < 0 ? ~q : q, m = o;
            for (unsigned j0 = 0; j0 < np; j0 += blk) {
                const unsigned j1 = j0 + blk < np ? j0 + blk : np;
                for (unsigned j = j0; j < j1; j++) {
                    const int16_t *x = rows[r] + 2 * j;
                    const int16_t *w = wb + (size_t)j * 2 * L + c * 2, *v = awb + (size_t)j * 2 * L + c * 2;
                    q += (int32_t)x[0] * w[0] + (int32_t)x[1] * w[1];
                    if (nonneg)
                        a += (int32_t)x[0] * v[0] + (int32_t)x[1] * v[1];
                    else
                        a += (int32_t)(x[0] < 0 ? -x[0] : x[0]) * v[0] +
                             (int32_t)(x[1] < 0 ? -x[1] : x[1]) * v[1];
                }
                if (exact)
                    exact_end(q, &qs, &a, &o);
                else
                    block_end(q, &qs, &a, &o, &m);
            }
            fin[r][c] = q;
            qo[r][c] = o;
            mo[r][c] = exact ? o : m;
        }
#endif
}

/* The first nc lanes of a checked tile's row into the layer's arrays at `at` (m_or NULL:
 * not written). */
static inline void put_lanes(int32_t *out, int32_t *q_or, int32_t *m_or, size_t at,
                             const int32_t *fin, const int32_t *qo, const int32_t *mo, unsigned nc)
{
    memcpy(out + at, fin, nc * sizeof *out);
    memcpy(q_or + at, qo, nc * sizeof *q_or);
    if (m_or)
        memcpy(m_or + at, mo, nc * sizeof *m_or);
}

void mpq_mac_tiles_ends(const mpq_mac_tiles *t, unsigned g, const int16_t *rows0,
                        size_t row_stride, unsigned n, unsigned blk, uint32_t off, int32_t *out,
                        uint32_t *q_or, size_t out_stride)
{
    for (unsigned b = 0; b < t->nblk; b++) {
        const size_t slot0 = ((size_t)g * t->nblk + b) * L;
        const int16_t *wb = t->w + slot0 * t->kpairs * 2;
        const int32_t *bias = t->bias + slot0;
        const unsigned nc = t->cpg - b * L < L ? t->cpg - b * L : L;
#ifdef TILE_AVX2
        if (avx2_on()) {
            int32_t *qd = (int32_t *)(void *)q_or; /* the same bits, as the kernels write */
            for (unsigned r0 = 0; r0 < n; r0 += ENDS_ROWS) {
                int32_t fin[ENDS_ROWS][L], qo[ENDS_ROWS][L];
                const int16_t *rows[ENDS_ROWS];
                for (unsigned r = 0; r < ENDS_ROWS; r++)
                    rows[r] = r0 + r < n ? rows0 + (size_t)(r0 + r) * row_stride : t->zrow;
                const int whole = nc == L && r0 + ENDS_ROWS <= n;
                const size_t at0 = (size_t)r0 * out_stride + (size_t)b * L;
                const chk_dst d = whole ? (chk_dst){out + at0, qd + at0, NULL, out_stride}
                                        : (chk_dst){fin[0], qo[0], NULL, L};
                ends_avx2(rows, wb, bias, off, t->kpairs, blk, d);
                for (unsigned r = 0; !whole && r < ENDS_ROWS && r0 + r < n; r++)
                    put_lanes(out, qd, NULL, (size_t)(r0 + r) * out_stride + (size_t)b * L,
                              fin[r], qo[r], NULL, nc);
            }
            continue;
        }
#endif
        for (unsigned r = 0; r < n; r++) { /* lanes are exact: tiles_init's checked bound */
            const int16_t *row = rows0 + (size_t)r * row_stride;
            for (unsigned c = 0; c < nc; c++) {
                uint32_t q = (uint32_t)bias[c] + off, o = q; /* modulo 2^32, as the lanes */
                for (unsigned j = 0; j < t->kpairs; j++) {
                    q += (uint32_t)(row[2 * j] * wb[(size_t)j * 2 * L + c * 2] +
                                    row[2 * j + 1] * wb[(size_t)j * 2 * L + c * 2 + 1]);
                    if ((j + 1) % blk == 0 || j + 1 == t->kpairs)
                        o |= q;
                }
                out[(size_t)r * out_stride + (size_t)b * L + c] = (int32_t)(q - off);
                q_or[(size_t)r * out_stride + (size_t)b * L + c] = o;
            }
        }
    }
}

void mpq_mac_tiles_check(const mpq_mac_tiles *t, unsigned g, const int16_t *rows0,
                         size_t row_stride, unsigned n, unsigned blk, int nonneg, int32_t *out,
                         int32_t *q_or, int32_t *m_or, size_t out_stride)
{
    const int16_t *zero_row = t->zrow;
    const int exact = !blk;
    const int16_t *const aw = exact ? t->fw : t->aw; /* the second stream's weights */
#ifdef TILE_AVX2
    if (n == 1 && avx2_on()) { /* one row: up to four blocks per pass over it */
        for (unsigned b0 = 0; b0 < t->nblk; b0 += 4) {
            const unsigned nb = t->nblk - b0 < 4 ? t->nblk - b0 : 4;
            const int16_t *wb[4], *awb[4];
            const int32_t *bias[4];
            for (unsigned i = 0; i < 4; i++) {
                const size_t slot0 = ((size_t)g * t->nblk + b0 + (i < nb ? i : 0)) * L;
                wb[i] = t->w + slot0 * t->kpairs * 2;
                awb[i] = aw + slot0 * t->kpairs * 2;
                bias[i] = t->bias + slot0;
            }
            int32_t fin[4][L], qo[4][L], mo[4][L];
            if (nb == 4)
                check_row4_avx2(rows0, wb, awb, bias, t->kpairs, blk, nonneg, fin, qo, mo);
            for (unsigned i = 0; i < nb; i++) {
                if (nb < 4) /* the last blocks, one at a time */
                    check_row1_avx2(rows0, wb + i, awb + i, bias + i, t->kpairs, blk, nonneg,
                                    fin + i, qo + i, mo + i);
                const unsigned b = b0 + i, nc = t->cpg - b * L < L ? t->cpg - b * L : L;
                const size_t at = (size_t)b * L;
                put_lanes(out, q_or, m_or, at, fin[i], qo[i], mo[i], nc);
            }
        }
        return;
    }
#endif
    for (unsigned b = 0; b < t->nblk; b++) {
        const size_t slot0 = ((size_t)g * t->nblk + b) * L;
        const size_t woff = slot0 * t->kpairs * 2;
        const unsigned nc = t->cpg - b * L < L ? t->cpg - b * L : L;
#ifdef TILE_AVX2
        if (avx2_on()) {
            for (unsigned r0 = 0; r0 < n; r0 += 4) {
                int32_t fin[4][L], qo[4][L], mo[4][L];
                const int16_t *rows[4];
                for (unsigned r = 0; r < 4; r++)
                    rows[r] = r0 + r < n ? rows0 + (size_t)(r0 + r) * row_stride : zero_row;
                /* a whole tile straight into the layer's arrays, a partial one through ours */
                const int whole = nc == L && r0 + 4 <= n;
                const size_t at0 = (size_t)r0 * out_stride + (size_t)b * L;
                const chk_dst d = whole ? (chk_dst){out + at0, q_or + at0, m_or ? m_or + at0 : NULL, out_stride}
                                        : (chk_dst){fin[0], qo[0], mo[0], L};
                if (exact)
                    check4_avx2_exact(rows, t->w + woff, aw + woff, t->bias + slot0, t->kpairs, d);
                else if (nonneg)
                    check4_avx2_pos(rows, t->w + woff, aw + woff, t->bias + slot0, t->kpairs, blk, d);
                else
                    check4_avx2_any(rows, t->w + woff, aw + woff, t->bias + slot0, t->kpairs, blk, d);
                for (unsigned r = 0; !whole && r < 4 && r0 + r < n; r++) {
                    const size_t at = (size_t)(r0 + r) * out_stride + (size_t)b * L;
                    put_lanes(out, q_or, m_or, at, fin[r], qo[r], mo[r], nc);
                }
            }
            continue;
        }
#endif
        for (unsigned r0 = 0; r0 < n; r0 += 2) {
            int32_t fin[2][L], qo[2][L], mo[2][L];
            const int16_t *ra = rows0 + (size_t)r0 * row_stride;
            const int16_t *rb = r0 + 1 < n ? ra + row_stride : zero_row;
            if (exact)
                check2(t, ra, rb, t->w + woff, aw + woff, t->bias + slot0, 1, 1, 1, fin, qo, mo);
            else if (nonneg)
                check2(t, ra, rb, t->w + woff, aw + woff, t->bias + slot0, blk, 1, 0, fin, qo, mo);
            else
                check2(t, ra, rb, t->w + woff, aw + woff, t->bias + slot0, blk, 0, 0, fin, qo, mo);
            for (unsigned r = 0; r < 2 && r0 + r < n; r++) {
                const size_t at = (size_t)(r0 + r) * out_stride + (size_t)b * L;
                put_lanes(out, q_or, m_or, at, fin[r], qo[r], mo[r], nc);
            }
        }
    }
}

void mpq_mac_taps_check(const mpq_mac_tiles *t, const int16_t *const *base, const size_t *toff,
                        unsigned n, unsigned blk, int nonneg, int32_t *out, int32_t *q_or,
                        int32_t *m_or, size_t out_stride)
{
    const unsigned np = t->kpairs;
    const int exact = !blk; /* the second stream: first weights of the pairs, operands as they are */
    const int16_t *const aw = exact ? t->fw : t->aw;
    unsigned b = 0;
#ifdef TILE_AVX2
    for (; exact && b + 2 <= t->nblk && avx2_on(); b += 2) { /* 16 channels at once */
        const size_t c0 = (size_t)b * L, wo = c0 * np * 2, wo1 = wo + (size_t)np * 2 * L;
        const unsigned nc = t->cpg - (b + 1) * L < L ? t->cpg - (b + 1) * L : L;
        for (unsigned i = 0; i < n; i++) {
            int32_t fin[2][L], qo[2][L];
            taps_exact16_avx2(base[i] + c0, toff, t->w + wo, t->w + wo1, t->fw + wo, t->fw + wo1,
                              t->bias + c0, np, fin, qo);
            const size_t at = (size_t)i * out_stride + c0;
            put_lanes(out, q_or, m_or, at, fin[0], qo[0], qo[0], L);
            put_lanes(out, q_or, m_or, at + L, fin[1], qo[1], qo[1], nc);
        }
    }
#endif
    for (; b < t->nblk; b++) {
        const size_t c0 = (size_t)b * L;
        const int16_t *wb = t->w + c0 * np * 2, *awb = aw + c0 * np * 2;
        const int32_t *bias = t->bias + c0;
        const unsigned nc = t->cpg - b * L < L ? t->cpg - b * L : L;
        for (unsigned i = 0; i < n; i++) {
            int32_t fin[L], qo[L], mo[L];
            const int16_t *bp = base[i] + c0;
#ifdef TILE_AVX2
            if (avx2_on()) {
                taps_check8_avx2(bp, toff, wb, awb, bias, np, blk, nonneg, fin, qo, mo);
                const size_t at = (size_t)i * out_stride + c0;
                put_lanes(out, q_or, m_or, at, fin, qo, mo, nc);
                continue;
            }
#endif
            const unsigned bl = exact ? 1 : blk;
            const int nn = nonneg || exact;
#ifdef TILE_SSE2
            __m128i q0 = LOADU(bias), q1 = LOADU(bias + 4), s0 = q0, s1 = q1;
            __m128i a0 = _mm_setzero_si128(), a1 = a0;
            __m128i o0 = vmag(q0), o1 = vmag(q1), m0 = o0, m1 = o1;
            for (unsigned j0 = 0; j0 < np; j0 += bl) {
                const unsigned j1 = j0 + bl < np ? j0 + bl : np;
                for (unsigned j = j0; j < j1; j++) {
                    __m128i xa = LOADU(bp + toff[2 * j]), xb = LOADU(bp + toff[2 * j + 1]);
                    __m128i xl = _mm_unpacklo_epi16(xa, xb), xh = _mm_unpackhi_epi16(xa, xb);
                    const int16_t *w = wb + (size_t)j * 16, *v = awb + (size_t)j * 16;
                    q0 = _mm_add_epi32(q0, _mm_madd_epi16(xl, LOADU(w)));
                    q1 = _mm_add_epi32(q1, _mm_madd_epi16(xh, LOADU(w + 8)));
                    a0 = _mm_add_epi32(a0, _mm_madd_epi16(nn ? xl : vabs16(xl), LOADU(v)));
                    a1 = _mm_add_epi32(a1, _mm_madd_epi16(nn ? xh : vabs16(xh), LOADU(v + 8)));
                }
                END4(exact, q0, s0, a0, o0, m0);
                END4(exact, q1, s1, a1, o1, m1);
            }
            if (exact) {
                m0 = o0;
                m1 = o1;
            }
            STOREU(fin, q0);
            STOREU(fin + 4, q1);
            STOREU(qo, o0);
            STOREU(qo + 4, o1);
            STOREU(mo, m0);
            STOREU(mo + 4, m1);
#else
            for (unsigned c = 0; c < L; c++) {
                int32_t q = bias[c], qs = q, a = 0, o = q < 0 ? ~q : q, m = o;
                for (unsigned j0 = 0; j0 < np; j0 += bl) {
                    const unsigned j1 = j0 + bl < np ? j0 + bl : np;
                    for (unsigned j = j0; j < j1; j++) {
                        const int16_t x0 = bp[toff[2 * j] + c], x1 = bp[toff[2 * j + 1] + c];
                        const int16_t *w = wb + (size_t)j * 2 * L + c * 2, *v = awb + (size_t)j * 2 * L + c * 2;
                        q += (int32_t)x0 * w[0] + (int32_t)x1 * w[1];
                        if (nn)
                            a += (int32_t)x0 * v[0] + (int32_t)x1 * v[1];
                        else
                            a += (int32_t)(x0 < 0 ? -x0 : x0) * v[0] + (int32_t)(x1 < 0 ? -x1 : x1) * v[1];
                    }
                    if (exact)
                        exact_end(q, &qs, &a, &o);
                    else
                        block_end(q, &qs, &a, &o, &m);
                }
                fin[c] = q;
                qo[c] = o;
                mo[c] = exact ? o : m;
            }
#endif
            const size_t at = (size_t)i * out_stride + c0;
            put_lanes(out, q_or, m_or, at, fin, qo, mo, nc);
        }
    }
}
