/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_mac_tile.c: the tile kernels of the MAC engine (mpq_mac.h): many rows against a block
 * of MPQ_MAC_LANES channels, 16-bit operand pairs multiply-added into 32-bit lanes, for the
 * layers whose result does not depend on the order of the terms (a wrapping sum), and the
 * checked form that bounds every prefix sum along the order per block of terms.
 *
 * SSE2 when the compiler targets it (pmaddwd: two 16x16-bit products summed into a 32-bit
 * lane), else, or with -DMPQ_NO_SIMD, the plain C twins below each kernel: the same lanes,
 * the same wrapping additions, the same bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "arith/mpq_mac.h"

#if defined(__SSE2__) && !defined(MPQ_NO_SIMD)
#include <emmintrin.h>
#define TILE_SSE2 1
#define LOADU(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define STOREU(p, v) _mm_storeu_si128((__m128i *)(void *)(p), (v))
#endif

enum { L = MPQ_MAC_LANES, ROWS = 4 };

/* ---- plan ---- */

void mpq_mac_tiles_free(mpq_mac_tiles *t)
{
    MPQ_FREE_ALL(t->w, t->aw, t->bias, t->zeros, t->zrow);
    memset(t, 0, sizeof *t);
}

int mpq_mac_tiles_init(mpq_mac_tiles *t, const mpq_mac_plan *p, unsigned groups, int checked)
{
    memset(t, 0, sizeof *t);
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
        if (blk < 1)
            return 1;
        t->blk_pairs = blk < 8 ? (unsigned)blk : 8;
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
    t->aw = checked ? calloc(nw + L, sizeof *t->aw) : NULL;
    t->bias = calloc(nslot + L, sizeof *t->bias);
    t->zeros = calloc(L, sizeof *t->zeros);
    t->zrow = calloc((size_t)2 * t->kpairs + L, sizeof *t->zrow);
    if (!t->w || (checked && !t->aw) || !t->bias || !t->zeros || !t->zrow) {
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
            if (checked) {
                int16_t *adst = t->aw + (dst - t->w);
                for (unsigned i = 0; i < p->k; i++)
                    adst[(size_t)(i / 2) * 2 * L + i % 2] = (int16_t)(src[i] < 0 ? -src[i] : src[i]);
            }
            t->bias[slot] = (int32_t)p->bias[o];
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

void mpq_mac_taps_run(const mpq_mac_tiles *t, const int16_t *const *base, const size_t *toff,
                      unsigned n, const int32_t *init, int32_t *out, size_t out_stride)
{
    for (unsigned b = 0; b < t->nblk; b++) {
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
                        unsigned blk, int nonneg, int32_t fin[2][L], int32_t qo[2][L],
                        int32_t mo[2][L])
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
        BLOCK_END(q00, s00, a00, o00, m00);
        BLOCK_END(q01, s01, a01, o01, m01);
        BLOCK_END(q10, s10, a10, o10, m10);
        BLOCK_END(q11, s11, a11, o11, m11);
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
                    (void)nonneg;
                    a += (int32_t)(x[0] < 0 ? -x[0] : x[0]) * v[0] +
                         (int32_t)(x[1] < 0 ? -x[1] : x[1]) * v[1];
                }
                block_end(q, &qs, &a, &o, &m);
            }
            fin[r][c] = q;
            qo[r][c] = o;
            mo[r][c] = m;
        }
#endif
}

/* The first nc lanes of a checked tile's row into the layer's arrays (whole blocks: fixed
 * copies the compiler inlines). */
static inline void put_lanes(int32_t *out, int32_t *q_or, int32_t *m_or, const int32_t *fin,
                             const int32_t *qo, const int32_t *mo, unsigned nc)
{
    if (nc == L) {
        memcpy(out, fin, L * sizeof *out);
        memcpy(q_or, qo, L * sizeof *q_or);
        memcpy(m_or, mo, L * sizeof *m_or);
        return;
    }
    for (unsigned c = 0; c < nc; c++) {
        out[c] = fin[c];
        q_or[c] = qo[c];
        m_or[c] = mo[c];
    }
}

void mpq_mac_tiles_check(const mpq_mac_tiles *t, unsigned g, const int16_t *rows0,
                         size_t row_stride, unsigned n, unsigned blk, int nonneg, int32_t *out,
                         int32_t *q_or, int32_t *m_or, size_t out_stride)
{
    const int16_t *zero_row = t->zrow;
    for (unsigned b = 0; b < t->nblk; b++) {
        const size_t slot0 = ((size_t)g * t->nblk + b) * L;
        const size_t woff = slot0 * t->kpairs * 2;
        const unsigned nc = t->cpg - b * L < L ? t->cpg - b * L : L;
        for (unsigned r0 = 0; r0 < n; r0 += 2) {
            int32_t fin[2][L], qo[2][L], mo[2][L];
            const int16_t *ra = rows0 + (size_t)r0 * row_stride;
            const int16_t *rb = r0 + 1 < n ? ra + row_stride : zero_row;
            if (nonneg)
                check2(t, ra, rb, t->w + woff, t->aw + woff, t->bias + slot0, blk, 1, fin, qo, mo);
            else
                check2(t, ra, rb, t->w + woff, t->aw + woff, t->bias + slot0, blk, 0, fin, qo, mo);
            for (unsigned r = 0; r < 2 && r0 + r < n; r++) {
                const size_t at = (size_t)(r0 + r) * out_stride + (size_t)b * L;
                put_lanes(out + at, q_or + at, m_or + at, fin[r], qo[r], mo[r], nc);
            }
        }
    }
}

void mpq_mac_taps_check(const mpq_mac_tiles *t, const int16_t *const *base, const size_t *toff,
                        unsigned n, unsigned blk, int nonneg, int32_t *out, int32_t *q_or,
                        int32_t *m_or, size_t out_stride)
{
    const unsigned np = t->kpairs;
    for (unsigned b = 0; b < t->nblk; b++) {
        const size_t c0 = (size_t)b * L;
        const int16_t *wb = t->w + c0 * np * 2, *awb = t->aw + c0 * np * 2;
        const int32_t *bias = t->bias + c0;
        const unsigned nc = t->cpg - b * L < L ? t->cpg - b * L : L;
        for (unsigned i = 0; i < n; i++) {
            int32_t fin[L], qo[L], mo[L];
            const int16_t *bp = base[i] + c0;
#ifdef TILE_SSE2
            __m128i q0 = LOADU(bias), q1 = LOADU(bias + 4), s0 = q0, s1 = q1;
            __m128i a0 = _mm_setzero_si128(), a1 = a0;
            __m128i o0 = vmag(q0), o1 = vmag(q1), m0 = o0, m1 = o1;
            for (unsigned j0 = 0; j0 < np; j0 += blk) {
                const unsigned j1 = j0 + blk < np ? j0 + blk : np;
                for (unsigned j = j0; j < j1; j++) {
                    __m128i xa = LOADU(bp + toff[2 * j]), xb = LOADU(bp + toff[2 * j + 1]);
                    __m128i xl = _mm_unpacklo_epi16(xa, xb), xh = _mm_unpackhi_epi16(xa, xb);
                    const int16_t *w = wb + (size_t)j * 16, *v = awb + (size_t)j * 16;
                    q0 = _mm_add_epi32(q0, _mm_madd_epi16(xl, LOADU(w)));
                    q1 = _mm_add_epi32(q1, _mm_madd_epi16(xh, LOADU(w + 8)));
                    a0 = _mm_add_epi32(a0, _mm_madd_epi16(nonneg ? xl : vabs16(xl), LOADU(v)));
                    a1 = _mm_add_epi32(a1, _mm_madd_epi16(nonneg ? xh : vabs16(xh), LOADU(v + 8)));
                }
                BLOCK_END(q0, s0, a0, o0, m0);
                BLOCK_END(q1, s1, a1, o1, m1);
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
                for (unsigned j0 = 0; j0 < np; j0 += blk) {
                    const unsigned j1 = j0 + blk < np ? j0 + blk : np;
                    for (unsigned j = j0; j < j1; j++) {
                        const int16_t x0 = bp[toff[2 * j] + c], x1 = bp[toff[2 * j + 1] + c];
                        (void)nonneg;
                        const int16_t *w = wb + (size_t)j * 2 * L + c * 2, *v = awb + (size_t)j * 2 * L + c * 2;
                        q += (int32_t)x0 * w[0] + (int32_t)x1 * w[1];
                        a += (int32_t)(x0 < 0 ? -x0 : x0) * v[0] + (int32_t)(x1 < 0 ? -x1 : x1) * v[1];
                    }
                    block_end(q, &qs, &a, &o, &m);
                }
                fin[c] = q;
                qo[c] = o;
                mo[c] = m;
            }
#endif
            const size_t at = (size_t)i * out_stride + c0;
            put_lanes(out + at, q_or + at, m_or + at, fin, qo, mo, nc);
        }
    }
}
