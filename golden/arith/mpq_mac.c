/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_mac.c: the exact multiply-accumulate engine of the layers (mpq_mac.h). Hardware
 * counterpart: one channel's accumulator of rtl/mpq_lane.sv.
 *
 * Every partial sum is exact: 16-bit operands with 32-bit block sums when the value bounds
 * allow it (the loops compilers turn into multiply-add vector instructions), a 64-bit kernel
 * when the bounds prove no 64-bit sum can overflow, a 128-bit kernel otherwise. The
 * accumulator itself is only ever changed by the fit of mpq_fit.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq_layer.h"
#include "arith/mpq_mac.h"

#if defined(__SSE2__) && !defined(MPQ_NO_SIMD)
#include <emmintrin.h>
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define MAC_AVX2 1
#endif
#endif

/* ---- plan ---- */

/* Smallest and largest of v[0..count-1] into *lo, *hi (mpq_mac.h). SSE2 has no 32-bit
 * min/max: the values are packed to 16 bits with saturation and compared there; when no
 * value reached the 16-bit limits the result is exact, else the plain loop decides. */
void mpq_min_max32(const int32_t *v, size_t count, int32_t *lo, int32_t *hi)
{
    size_t i = 0;
    if (!count) {
        *lo = *hi = 0;
        return;
    }
    int32_t l = v[0], h = v[0];
#if defined(__SSE2__) && !defined(MPQ_NO_SIMD)
    if (count >= 8) {
        __m128i mn = _mm_set1_epi16(INT16_MAX), mx = _mm_set1_epi16(INT16_MIN);
        for (; i + 8 <= count; i += 8) {
            __m128i p = _mm_packs_epi32(_mm_loadu_si128((const __m128i *)(const void *)(v + i)),
                                        _mm_loadu_si128((const __m128i *)(const void *)(v + i + 4)));
            mn = _mm_min_epi16(mn, p);
            mx = _mm_max_epi16(mx, p);
        }
        int16_t mns[8], mxs[8];
        _mm_storeu_si128((__m128i *)(void *)mns, mn);
        _mm_storeu_si128((__m128i *)(void *)mxs, mx);
        for (int j = 0; j < 8; j++) {
            l = mns[j] < l ? mns[j] : l;
            h = mxs[j] > h ? mxs[j] : h;
        }
        if (l <= INT16_MIN || h >= INT16_MAX) /* saturated: look again in 32 bits */
            i = 0;
    }
#endif
    for (; i < count; i++) {
        l = v[i] < l ? v[i] : l;
        h = v[i] > h ? v[i] : h;
    }
    *lo = l;
    *hi = h;
}

int64_t mpq_abs_max32(const int32_t *v, size_t count, int32_t offset)
{
    if (!count)
        return 0;
    int32_t lo, hi;
    mpq_min_max32(v, count, &lo, &hi);
    int64_t a = mpq_abs64((int64_t)lo + offset), b = mpq_abs64((int64_t)hi + offset);
    return a > b ? a : b;
}

static void entries_free(mpq_mac_entries *e)
{
    MPQ_FREE_ALL(e->ptr, e->k, e->v);
    memset(e, 0, sizeof *e);
}

static size_t sparse_nnz(const mpq_fc_layer *l)
{
    size_t nnz = 0;
    if (l->hp) {
        for (size_t i = 0; i < (size_t)l->n * l->k; i++)
            nnz += l->hp[i] != 0;
    } else if (l->hp_nm) {
        const mpq_nm *s = l->hp_nm;
        for (size_t i = 0; i < (size_t)s->rows * s->ngroups * s->n; i++)
            nnz += s->val[i] != 0;
    } else if (l->hp_csr) {
        nnz = l->hp_csr->rowptr[l->hp_csr->rows];
    }
    return nnz;
}

/* Appends channel c's entries of an N:G matrix; the entries of a group may come in any
 * position order: inserted sorted. */
static size_t entries_put_nm(const mpq_nm *s, unsigned c, mpq_mac_entries *e, size_t at)
{
    for (unsigned grp = 0; grp < s->ngroups; grp++) {
        size_t first = at;
        for (unsigned j = 0; j < s->n; j++) {
            size_t i = ((size_t)c * s->ngroups + grp) * s->n + j;
            if (!s->val[i])
                continue;
            uint32_t kk = grp * s->g + s->pos[i];
            size_t p = at++;
            for (; p > first && e->k[p - 1] > kk; p--) {
                e->k[p] = e->k[p - 1];
                e->v[p] = e->v[p - 1];
            }
            e->k[p] = kk;
            e->v[p] = s->val[i];
        }
    }
    return at;
}

static int entries_build(const mpq_fc_layer *l, mpq_mac_entries *e)
{
    size_t nnz = sparse_nnz(l);
    e->ptr = calloc((size_t)l->n + 1, sizeof *e->ptr);
    e->k = malloc((nnz ? nnz : 1) * sizeof *e->k);
    e->v = malloc((nnz ? nnz : 1) * sizeof *e->v);
    if (!e->ptr || !e->k || !e->v) {
        entries_free(e);
        return MPQ_ENOMEM;
    }
    size_t at = 0;
    for (unsigned c = 0; c < l->n; c++) {
        e->ptr[c] = (uint32_t)at;
        if (l->hp) {
            for (unsigned i = 0; i < l->k; i++)
                if (l->hp[(size_t)c * l->k + i]) {
                    e->k[at] = i;
                    e->v[at++] = l->hp[(size_t)c * l->k + i];
                }
        } else if (l->hp_nm) {
            at = entries_put_nm(l->hp_nm, c, e, at);
        } else if (l->hp_csr) {
            const mpq_csr *s = l->hp_csr;
            for (uint32_t i = s->rowptr[c]; i < s->rowptr[c + 1]; i++) {
                e->k[at] = s->col[i];
                e->v[at++] = s->val[i];
            }
        }
        e->ptr[c + 1] = (uint32_t)at;
    }
    return MPQ_OK;
}

static int check_weights(const mpq_fc_layer *l, char *err, size_t errlen)
{
    if (!l->w && !l->t && !l->hp && !l->hp_nm && !l->hp_csr) {
        snprintf(err, errlen, "layer has no weights");
        return MPQ_EPARAM;
    }
    if ((l->hp != NULL) + (l->hp_nm != NULL) + (l->hp_csr != NULL) > 1) {
        snprintf(err, errlen, "sparse weights given in more than one form");
        return MPQ_EPARAM;
    }
    if (l->t && !l->alpha) {
        snprintf(err, errlen, "ternary weights without alpha");
        return MPQ_EPARAM;
    }
    if (l->acc_bits < 1 || l->acc_bits > 64) {
        snprintf(err, errlen, "accumulator width %u is outside 1..64", l->acc_bits);
        return MPQ_EPARAM;
    }
    if ((l->hp_nm && (l->hp_nm->rows != l->n || l->hp_nm->k != l->k)) ||
        (l->hp_csr && (l->hp_csr->rows != l->n || l->hp_csr->k != l->k))) {
        snprintf(err, errlen, "sparse matrix shape differs from the layer's n x k");
        return MPQ_EPARAM;
    }
    /* A scan without early exit (it vectorizes), then the first bad weight when there is one. */
    int bad = 0;
    for (size_t i = 0; l->t && i < (size_t)l->n * l->k; i++)
        bad |= (uint8_t)(l->t[i] + 1) > 2;
    for (size_t i = 0; bad && i < (size_t)l->n * l->k; i++)
        if (l->t[i] < -1 || l->t[i] > 1) {
            snprintf(err, errlen, "ternary weight t[%zu][%zu] = %d is not -1, 0 or 1",
                     i / l->k, i % l->k, l->t[i]);
            return MPQ_EPARAM;
        }
    return MPQ_OK;
}

/* Largest number of terms whose 32-bit sum cannot overflow with |x| <= xmax, |w| <= wmax. */
static unsigned block_len(unsigned k, int64_t xmax, int64_t wmax)
{
    int64_t worst = xmax * (wmax > 1 ? wmax : 1);
    int64_t b = worst ? INT64_C(2147483647) / worst : (int64_t)k;
    return b >= (int64_t)k ? (k ? k : 1) : b < 1 ? 1 : (unsigned)b;
}

/* Folds w + alpha*t + hp of every channel into `out` when every sum fits 16 bits (exact
 * integers: the mixed layer becomes one multiply-add stream). K16 plans only: |w + w_offset|
 * < 2^15, so with |alpha| < 2^15 every dense sum is exact in 32 bits. `row` is scratch [k].
 * Returns the largest |folded weight|, or -1 when some weight does not fold. */
static int64_t fold16(const mpq_mac_plan *p, const mpq_fc_layer *l, int16_t *out, int32_t *row)
{
    int32_t lo = 0, hi = 0;
    for (unsigned c = 0; c < l->n; c++) {
        const size_t base = (size_t)c * l->k;
        if (l->t && mpq_abs64(p->alpha[c]) >= 32768)
            return -1;
        const int32_t alpha = (int32_t)p->alpha[c], off = l->w_offset;
        if (l->w)
            for (unsigned i = 0; i < l->k; i++)
                row[i] = l->w[base + i] + off;
        else
            memset(row, 0, (size_t)l->k * sizeof *row);
        if (l->t)
            for (unsigned i = 0; i < l->k; i++)
                row[i] += alpha * l->t[base + i];
        for (uint32_t j = p->e.ptr[c]; j < p->e.ptr[c + 1]; j++) {
            int64_t v = (int64_t)row[p->e.k[j]] + p->e.v[j];
            if (mpq_abs64(v) >= 32768)
                return -1;
            row[p->e.k[j]] = (int32_t)v;
        }
        for (unsigned i = 0; i < l->k; i++) {
            lo = row[i] < lo ? row[i] : lo;
            hi = row[i] > hi ? row[i] : hi;
            out[base + i] = (int16_t)row[i];
        }
        if (lo <= -32768 || hi >= 32768)
            return -1;
    }
    return -(int64_t)lo > hi ? -(int64_t)lo : hi;
}

/* The dense weight arrays of the chosen kernel, then the fold. */
static int plan_dense(mpq_mac_plan *p, const mpq_fc_layer *l, int64_t xmax, int64_t wmax)
{
    size_t nk = (size_t)l->n * l->k;
    p->blk = block_len(l->k, xmax, wmax);
    if (p->kernel == MPQ_MAC_K16 && (l->w || l->t || p->e.ptr[l->n])) {
        p->w16 = malloc((nk + 1) * sizeof *p->w16);
        int32_t *row = malloc(((size_t)l->k + 1) * sizeof *row);
        if (!p->w16 || !row) {
            free(row);
            return MPQ_ENOMEM;
        }
        int64_t femax = (l->t || p->e.ptr[l->n]) ? fold16(p, l, p->w16, row) : -1;
        free(row);
        if (femax >= 0) { /* everything is in w16 */
            p->t = NULL;
            entries_free(&p->e);
            p->e.ptr = calloc((size_t)l->n + 1, sizeof *p->e.ptr);
            if (!p->e.ptr)
                return MPQ_ENOMEM;
            wmax = femax;
        } else if (l->w) {
            for (size_t i = 0; i < nk; i++)
                p->w16[i] = (int16_t)(l->w[i] + l->w_offset);
        } else {
            free(p->w16);
            p->w16 = NULL;
        }
        p->blk = block_len(l->k, xmax, wmax);
        p->wmax16 = wmax;
    } else if (l->w) {
        p->wq = malloc((nk + 1) * sizeof *p->wq);
        p->wq32 = p->kernel == MPQ_MAC_K64 ? malloc((nk + 1) * sizeof *p->wq32) : NULL;
        if (!p->wq || (p->kernel == MPQ_MAC_K64 && !p->wq32))
            return MPQ_ENOMEM;
        for (size_t i = 0; i < nk; i++) {
            p->wq[i] = (int64_t)l->w[i] + l->w_offset;
            if (p->wq32)
                p->wq32[i] = (int32_t)p->wq[i];
        }
    }
    p->need_x64 = p->kernel != MPQ_MAC_K16 || p->e.ptr[l->n] != 0;
    return MPQ_OK;
}

/* The tracking kernel's layout: 16-bit weights, every one in w16 (folded or dense only),
 * accumulators of at most 30 bits so that lane + segment sum stays in 32 bits. */
int mpq_mac_plan_lanes(mpq_mac_plan *p)
{
    if (p->wi || !(p->track || p->sat) || p->kernel != MPQ_MAC_K16 || !p->w16 || p->t ||
        p->e.ptr[p->n] || p->acc_bits > 30)
        return MPQ_OK;
    p->kpairs = (p->k + 1) / 2;
    size_t nblk = (p->n + MPQ_MAC_LANES - 1) / MPQ_MAC_LANES;
    p->wi = calloc(nblk * p->kpairs * 2 * MPQ_MAC_LANES + 1, sizeof *p->wi);
    if (!p->wi)
        return MPQ_ENOMEM;
    for (unsigned c = 0; c < p->n; c++)
        for (unsigned i = 0; i < p->k; i++)
            p->wi[((size_t)(c / MPQ_MAC_LANES) * p->kpairs + i / 2) * 2 * MPQ_MAC_LANES +
                  (c % MPQ_MAC_LANES) * 2 + i % 2] = p->w16[(size_t)c * p->k + i];
    return MPQ_OK;
}

int mpq_mac_plan_init(mpq_mac_plan *p, const mpq_fc_layer *l, int64_t xmax, int track,
                      char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    int st = check_weights(l, err, errlen);
    if (st)
        return st;
    p->k = l->k;
    p->n = l->n;
    p->acc_bits = l->acc_bits;
    p->sat = l->acc_mode == MPQ_ACC_SAT;
    p->track = track;
    p->xmax = xmax;
    p->t = l->t;
    p->alpha = calloc((size_t)l->n + 1, sizeof *p->alpha);
    p->bias = calloc((size_t)l->n + 1, sizeof *p->bias);
    p->chan_bound = calloc((size_t)l->n + 1, sizeof *p->chan_bound);
    if (!p->alpha || !p->bias || !p->chan_bound || entries_build(l, &p->e))
        goto nomem;
    int64_t wmax = 0, amax = 0, hmax = 0;
    for (unsigned c = 0; c < l->n; c++) {
        p->alpha[c] = l->t ? l->alpha[l->alpha_per_tensor ? 0 : c] : 0;
        p->bias[c] = l->bias ? l->bias[c] : 0;
        amax = mpq_abs64(p->alpha[c]) > amax ? mpq_abs64(p->alpha[c]) : amax;
        /* Separate loops over each weight array: they vectorize. */
        const size_t base = (size_t)c * l->k;
        int64_t sw = 0, nt = 0;
        if (l->w) {
            int64_t off = l->w_offset;
            for (unsigned i = 0; i < l->k; i++) {
                int64_t wv = mpq_abs64(l->w[base + i] + off);
                sw += wv;
                wmax = wv > wmax ? wv : wmax;
            }
        }
        if (l->t)
            for (unsigned i = 0; i < l->k; i++)
                nt += l->t[base + i] != 0;
        mpq_i128 b = (mpq_i128)sw + (mpq_i128)nt * mpq_abs64(p->alpha[c]);
        for (uint32_t j = p->e.ptr[c]; j < p->e.ptr[c + 1]; j++) {
            b += mpq_abs64(p->e.v[j]);
            hmax = mpq_abs64(p->e.v[j]) > hmax ? mpq_abs64(p->e.v[j]) : hmax;
        }
        p->chan_bound[c] = b;
    }
    /* |partial sum| <= k * xmax * (wmax + amax + hmax); every factor < 2^33: doubles bound it. */
    int narrow = xmax < (INT64_C(1) << 31) && wmax < (INT64_C(1) << 31) &&
                 (double)l->k * (double)xmax * ((double)wmax + (double)amax + (double)hmax) <
                     4611686018427387904.0; /* 2^62 */
    p->kernel = !narrow ? MPQ_MAC_K128
                : xmax < 32768 && wmax < 32768 ? MPQ_MAC_K16 : MPQ_MAC_K64;
    if (plan_dense(p, l, xmax, wmax))
        goto nomem;
    return MPQ_OK;
nomem:
    mpq_mac_plan_free(p);
    snprintf(err, errlen, "out of memory");
    return MPQ_ENOMEM;
}

void mpq_mac_plan_free(mpq_mac_plan *p)
{
    MPQ_FREE_ALL(p->w16, p->wq, p->wq32, p->alpha, p->bias, p->chan_bound, p->wi);
    entries_free(&p->e);
    memset(p, 0, sizeof *p);
}

void mpq_mac_plan_untrack(mpq_mac_plan *p)
{
    free(p->wi);
    p->wi = NULL;
    p->track = 0;
}

int mpq_mac_note(size_t *n_final, size_t *n_any, uint8_t *flags, int32_t *first, size_t i,
                 mpq_mac_out o, int seen)
{
    int any = (o.flags & MPQ_OVF_ANY) != 0;
    *n_final += (o.flags & MPQ_OVF_FINAL) != 0;
    *n_any += (size_t)any;
    if (flags)
        flags[i] = o.flags;
    if (first)
        first[i] = o.first;
    return any && !seen;
}

/* ---- rows ---- */

int mpq_mac_row_init(mpq_mac_row *r, unsigned k)
{
    r->k = k;
    r->max = 0;
    r->x = malloc(((size_t)k + 1) * sizeof *r->x);
    r->x32 = malloc(((size_t)k + 1) * sizeof *r->x32);
    r->x16 = malloc(((size_t)k + 1) * sizeof *r->x16);
    r->psum = malloc(((size_t)k + 1) * sizeof *r->psum);
    r->xb = malloc(((size_t)k / 2 + 1) * 4 * sizeof *r->xb);
    if (!r->x || !r->x32 || !r->x16 || !r->psum || !r->xb) {
        mpq_mac_row_free(r);
        return MPQ_ENOMEM;
    }
    return MPQ_OK;
}

void mpq_mac_row_free(mpq_mac_row *r)
{
    MPQ_FREE_ALL(r->x, r->x32, r->x16, r->psum, r->xb);
    memset(r, 0, sizeof *r);
}

int mpq_mac_check_order(const int32_t *x, mpq_order order, unsigned group, char *err,
                        size_t errlen)
{
    if (!x) {
        snprintf(err, errlen, "layer has no activations");
        return MPQ_EPARAM;
    }
    if (order == MPQ_ORDER_GROUPED && group < 1) {
        snprintf(err, errlen, "grouped accumulation needs a group size >= 1");
        return MPQ_EPARAM;
    }
    return MPQ_OK;
}

void mpq_mac_row_put(const mpq_mac_plan *p, mpq_mac_row *r, unsigned at, const int32_t *src,
                     unsigned count, int32_t offset)
{
    if (!src) { /* terms left out: zeros in every form the kernel reads */
        memset(r->x + at, 0, (size_t)count * sizeof *r->x);
        memset(r->x16 + at, 0, (size_t)count * sizeof *r->x16);
        memset(r->x32 + at, 0, (size_t)count * sizeof *r->x32);
        return;
    }
    if (p->need_x64)
        for (unsigned i = 0; i < count; i++)
            r->x[at + i] = (int64_t)src[i] + offset;
    if (p->kernel == MPQ_MAC_K16) /* |src + offset| < 2^15: the sum is exact in 32 bits */
        for (unsigned i = 0; i < count; i++)
            r->x16[at + i] = (int16_t)(src[i] + offset);
    else if (p->kernel == MPQ_MAC_K64)
        for (unsigned i = 0; i < count; i++)
            r->x32[at + i] = (int32_t)((int64_t)src[i] + offset);
}

void mpq_mac_row_load(const mpq_mac_plan *p, mpq_mac_row *r)
{
    int64_t mx = 0;
    if (p->kernel == MPQ_MAC_K16) { /* min and max of 16-bit values: vector instructions */
        int16_t lo = 0, hi = 0;
        for (unsigned i = 0; i < r->k; i++) {
            lo = r->x16[i] < lo ? r->x16[i] : lo;
            hi = r->x16[i] > hi ? r->x16[i] : hi;
        }
        mx = -(int64_t)lo > hi ? -(int64_t)lo : hi;
    } else if (p->kernel == MPQ_MAC_K64) {
        for (unsigned i = 0; i < r->k; i++)
            mx = mpq_abs64(r->x32[i]) > mx ? mpq_abs64(r->x32[i]) : mx;
    } else {
        for (unsigned i = 0; i < r->k; i++)
            mx = mpq_abs64(r->x[i]) > mx ? mpq_abs64(r->x[i]) : mx;
    }
    r->max = mx;
    /* The tracking kernel's operand pairs (x[2j], x[2j+1]) as one 32-bit word, four times
     * (one vector of a multiply-add against four channels' weight pairs). */
    if (p->wi)
        for (unsigned j = 0; j < p->kpairs; j++) {
            uint32_t lo = (uint16_t)r->x16[2 * j];
            uint32_t hi = 2 * j + 1 < r->k ? (uint16_t)r->x16[2 * j + 1] : 0;
            for (int q = 0; q < 4; q++)
                r->xb[4 * j + (unsigned)q] = (int32_t)(lo | hi << 16);
        }
}

unsigned *mpq_mac_cuts_uniform(unsigned k, unsigned step, unsigned *ncuts)
{
    if (step < 1)
        step = 1;
    unsigned n = k ? (k + step - 1) / step : 1;
    unsigned *cuts = malloc((size_t)n * sizeof *cuts);
    if (!cuts)
        return NULL;
    for (unsigned j = 0; j < n; j++)
        cuts[j] = (j + 1) * step < k ? (j + 1) * step : k;
    *ncuts = n;
    return cuts;
}

/* ---- kernels ---- */

/* Sum over [k0, k1) of the 16-bit kernel: exact 32-bit sums over blocks of blk terms. */
static int64_t range_sum16(const mpq_mac_plan *p, const mpq_mac_row *r, unsigned c,
                           unsigned k0, unsigned k1)
{
    const int16_t *x = r->x16, *w = p->w16 ? p->w16 + (size_t)c * p->k : NULL;
    const int8_t *t = p->t ? p->t + (size_t)c * p->k : NULL;
    int64_t s = 0;
    for (unsigned b0 = k0; b0 < k1; b0 += p->blk) {
        unsigned b1 = b0 + p->blk < k1 ? b0 + p->blk : k1;
        if (w) {
            int32_t sw = 0;
            for (unsigned i = b0; i < b1; i++)
                sw += (int32_t)x[i] * w[i];
            s += sw;
        }
        if (t) {
            int32_t st = 0;
            for (unsigned i = b0; i < b1; i++)
                st += (int32_t)x[i] * t[i];
            s += (int64_t)st * p->alpha[c];
        }
    }
    return s;
}

/* Sum over [k0, k1) of the 64-bit kernel (narrow bounds: no 64-bit sum overflows, 32-bit
 * operands) and of the 128-bit kernel (anything else): one body, two sum types. */
#define DEFINE_RANGE_SUM(NAME, SUM_T, X_T, XROW, WROW)                                          \
    static SUM_T NAME(const mpq_mac_plan *p, const mpq_mac_row *r, unsigned c, unsigned k0,    \
                      unsigned k1)                                                             \
    {                                                                                          \
        const X_T *x = r->XROW, *w = p->WROW ? p->WROW + (size_t)c * p->k : NULL;              \
        const int8_t *t = p->t ? p->t + (size_t)c * p->k : NULL;                               \
        SUM_T s = 0, st = 0;                                                                   \
        for (unsigned i = k0; w && i < k1; i++)                                                \
            s += (SUM_T)x[i] * w[i];                                                           \
        for (unsigned i = k0; t && i < k1; i++)                                                \
            st += (SUM_T)x[i] * t[i];                                                          \
        return s + st * p->alpha[c];                                                           \
    }
DEFINE_RANGE_SUM(range_sum64, int64_t, int32_t, x32, wq32)
DEFINE_RANGE_SUM(range_sum128, mpq_i128, int64_t, x, wq)

/* Dense part plus the sparse entries in [k0, k1); *ecur walks channel c's sorted entries. */
static mpq_i128 range_sum(const mpq_mac_plan *p, const mpq_mac_row *r, unsigned c,
                          unsigned k0, unsigned k1, uint32_t *ecur)
{
    mpq_i128 s = p->kernel == MPQ_MAC_K16   ? range_sum16(p, r, c, k0, k1)
                 : p->kernel == MPQ_MAC_K64 ? range_sum64(p, r, c, k0, k1)
                                            : range_sum128(p, r, c, k0, k1);
    uint32_t j = *ecur, end = p->e.ptr[c + 1];
    for (; j < end && p->e.k[j] < k1; j++)
        s += (mpq_i128)r->x[p->e.k[j]] * p->e.v[j];
    *ecur = j;
    return s;
}

/* Every segment's sum of one channel into r->psum (16-bit kernel, all values in 64 bits). */
static void segment_sums16(const mpq_mac_plan *p, mpq_mac_row *r, unsigned c,
                           const unsigned *cuts, unsigned ncuts)
{
    uint32_t j = p->e.ptr[c], end = p->e.ptr[c + 1];
    unsigned k0 = 0;
    for (unsigned g = 0; g < ncuts; g++) {
        int64_t s = range_sum16(p, r, c, k0, cuts[g]);
        for (; j < end && p->e.k[j] < cuts[g]; j++)
            s += r->x[p->e.k[j]] * p->e.v[j];
        r->psum[g] = s;
        k0 = cuts[g];
    }
}

mpq_mac_out mpq_mac_chan(const mpq_mac_plan *p, mpq_mac_row *r, unsigned c,
                         const unsigned *cuts, unsigned ncuts)
{
    mpq_mac_out out = {0, -1, 0};
    const int64_t bias = p->bias[c];
    const mpq_i128 acc_hi = ((mpq_i128)1 << (p->acc_bits - 1)) - 1;
    int any = 0, o = 0;
    int64_t a = mpq_fit_acc(bias, p->acc_bits, p->sat, &any);
    mpq_i128 exact = bias;
    /* When every partial sum provably fits, no fit changes anything: the order is
     * irrelevant and the whole row is one step. A wrapping accumulator without tracking
     * gives the same result in any order too. */
    int safe = (mpq_i128)mpq_abs64(bias) + (mpq_i128)r->max * p->chan_bound[c] <= acc_hi;
    if (safe || (!p->track && !p->sat)) {
        uint32_t ecur = p->e.ptr[c];
        mpq_i128 s = range_sum(p, r, c, 0, p->k, &ecur);
        exact += s;
        int ignored = 0;
        /* K16 and K64 sums stay below 2^62: the fit of int64 values will do. */
        a = p->kernel != MPQ_MAC_K128 ? mpq_fit_acc(a + (int64_t)s, p->acc_bits, 0, &ignored)
                                      : mpq_fit_wide((mpq_i128)a + s, p->acc_bits, MPQ_OVF_WRAP, NULL);
        cuts = NULL; /* done */
    } else if (p->kernel == MPQ_MAC_K16 && p->acc_bits <= 62) {
        /* Segment by segment on 64-bit values: |a| < 2^61 and every |sum| < 2^62. */
        segment_sums16(p, r, c, cuts, ncuts);
        int64_t ex = bias;
        for (unsigned g = 0; g < ncuts; g++) {
            ex += r->psum[g];
            a = mpq_fit_acc(a + r->psum[g], p->acc_bits, p->sat, &o);
            if (o && !any)
                out.first = (int32_t)cuts[g] - 1;
            any |= o;
        }
        exact = ex;
        cuts = NULL;
    }
    if (cuts) {
        uint32_t ecur = p->e.ptr[c];
        mpq_ovf_mode mode = p->sat ? MPQ_OVF_SAT : MPQ_OVF_WRAP;
        for (unsigned g = 0, k0 = 0; g < ncuts; k0 = cuts[g++]) {
            mpq_i128 s = range_sum(p, r, c, k0, cuts[g], &ecur);
            exact += s;
            a = mpq_fit_wide((mpq_i128)a + s, p->acc_bits, mode, &o);
            if (o && !any)
                out.first = (int32_t)cuts[g] - 1;
            any |= o;
        }
    }
    out.acc = a;
    if (p->track && !safe) { /* safe: nothing overflowed, the exact sum included */
        int fin = 0;
        mpq_fit_wide(exact, p->acc_bits, MPQ_OVF_SAT, &fin);
        out.flags = (uint8_t)((fin ? MPQ_OVF_FINAL : 0) | (any ? MPQ_OVF_ANY : 0));
    }
    return out;
}

#ifdef MAC_AVX2
/* The prefixes s0 + x[0]*w[0] + ... + x[i]*w[i] for i < k, every one within int32 (the
 * caller's bound), eight per vector: the products (x sign-extended against w zero-extended,
 * one multiply-add lane each), their running sums inside the vector in two shifts and a
 * carry across its halves, plus the last vector's final prefix. ORs every prefix's magnitude
 * into *mag; *exit (when still -2) becomes the index of the first prefix outside [lo, hi].
 * Returns the last prefix. */
__attribute__((target("avx2"))) static int32_t prefix16_avx2(const int16_t *x, const int16_t *w,
                                                             unsigned k, int32_t s0, int32_t lo,
                                                             int32_t hi, uint32_t *mag, long *exit)
{
    const __m256i vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    const __m256i top = _mm256_set1_epi32(7);
    __m256i carry = _mm256_set1_epi32(s0), m = _mm256_setzero_si256();
    unsigned i = 0;
    for (; i + 8 <= k; i += 8) {
        const __m256i xv = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(x + i)));
        const __m256i wv = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(w + i)));
        __m256i v = _mm256_madd_epi16(xv, wv);
        v = _mm256_add_epi32(v, _mm256_slli_si256(v, 4));
        v = _mm256_add_epi32(v, _mm256_slli_si256(v, 8));
        v = _mm256_add_epi32(v, _mm256_permute2x128_si256(_mm256_shuffle_epi32(v, 0xFF),
                                                          _mm256_shuffle_epi32(v, 0xFF), 0x08));
        v = _mm256_add_epi32(v, carry);
        m = _mm256_or_si256(m, _mm256_xor_si256(v, _mm256_srai_epi32(v, 31)));
        if (*exit == -2) {
            const __m256i out = _mm256_or_si256(_mm256_cmpgt_epi32(v, vhi), _mm256_cmpgt_epi32(vlo, v));
            const int bits = _mm256_movemask_ps(_mm256_castsi256_ps(out));
            if (bits)
                *exit = (long)(i + (unsigned)__builtin_ctz((unsigned)bits));
        }
        carry = _mm256_permutevar8x32_epi32(v, top);
    }
    __m128i h = _mm_or_si128(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
    h = _mm_or_si128(h, _mm_shuffle_epi32(h, 0x4E));
    h = _mm_or_si128(h, _mm_shuffle_epi32(h, 0xB1));
    uint32_t mo = (uint32_t)_mm_cvtsi128_si32(h);
    int32_t s = _mm_cvtsi128_si32(_mm256_castsi256_si128(carry));
    for (; i < k; i++) {
        s += (int32_t)x[i] * w[i];
        mo |= (uint32_t)(s ^ (s >> 31));
        if (*exit == -2 && (s < lo || s > hi))
            *exit = (long)i;
    }
    *mag |= mo;
    return s;
}
#endif

int mpq_mac_prefix16(const mpq_mac_plan *p, const int16_t *x16, int64_t xmax, unsigned c,
                     int64_t lo, int64_t hi, mpq_mac_prefix_out *o)
{
#ifdef MAC_AVX2
    const int64_t bias = p->bias[c];
    if (p->kernel != MPQ_MAC_K16 || !p->w16 || p->t || p->e.ptr[p->n] ||
        mpq_simd_level() != MPQ_SIMD_AVX2 ||
        (mpq_i128)mpq_abs64(bias) + (mpq_i128)xmax * p->chan_bound[c] > INT32_MAX)
        return 1;
    uint32_t mag = 0;
    const int32_t lo32 = lo < INT32_MIN ? INT32_MIN : lo > INT32_MAX ? INT32_MAX : (int32_t)lo;
    const int32_t hi32 = hi < INT32_MIN ? INT32_MIN : hi > INT32_MAX ? INT32_MAX : (int32_t)hi;
    o->exit = bias < lo || bias > hi ? -1 : -2;
    o->final = prefix16_avx2(x16, p->w16 + (size_t)c * p->k, p->k, (int32_t)bias, lo32, hi32,
                             &mag, &o->exit);
    o->mag_or = mpq_mac_mag(bias) | mag;
    return 0;
#else
    (void)p, (void)x16, (void)xmax, (void)c, (void)lo, (void)hi, (void)o;
    return 1;
#endif
}

void mpq_mac_prefix(const mpq_mac_plan *p, mpq_mac_row *r, unsigned c, int64_t lo, int64_t hi,
                    mpq_mac_prefix_out *o)
{
    const int64_t bias = p->bias[c];
    o->mag_or = mpq_mac_mag(bias);
    o->exit = bias < lo || bias > hi ? -1 : -2;
    if (p->kernel == MPQ_MAC_K16 && p->w16 && !p->t && !p->e.ptr[p->n]) {
        /* dense 16-bit operands: every prefix stays far inside int64 */
        const int16_t *w = p->w16 + (size_t)c * p->k;
        if (!mpq_mac_prefix16(p, r->x16, r->max, c, lo, hi, o))
            return;
        int64_t s = bias;
        for (unsigned i = 0; i < p->k; i++) {
            s += (int64_t)r->x16[i] * w[i];
            o->mag_or |= mpq_mac_mag(s);
            if (o->exit == -2 && (s < lo || s > hi))
                o->exit = (long)i;
        }
        o->final = s;
        return;
    }
    mpq_i128 s = bias;
    uint32_t ecur = p->e.ptr[c];
    for (unsigned i = 0; i < p->k; i++) {
        s += range_sum(p, r, c, i, i + 1, &ecur);
        int64_t v = s > INT64_MAX ? INT64_MAX : s < INT64_MIN ? INT64_MIN : (int64_t)s;
        o->mag_or |= mpq_mac_mag(v);
        if (o->exit == -2 && (s < lo || s > hi))
            o->exit = (long)i;
    }
    o->final = s > INT64_MAX ? INT64_MAX : s < INT64_MIN ? INT64_MIN : (int64_t)s;
}

/* ---- MPQ_MAC_LANES channels at once, fits checked per segment ---- */

/* Adds each segment's sums of the block's channels (block b of wi) to the lanes a[], checking
 * the range after every segment: the sums are exact in 32 bits (plan: |a| < 2^29, each
 * segment's |sum| < 2^30); a lane out of range is fitted (rare) and noted. */
#if defined(__SSE2__) && !defined(MPQ_NO_SIMD)
static void block_segments(const mpq_mac_plan *p, const mpq_mac_row *r, size_t b,
                           const unsigned *cuts, unsigned ncuts, int32_t *a, int *any,
                           int32_t *first)
{
    const int16_t *wb = p->wi + b * p->kpairs * 2 * MPQ_MAC_LANES;
    const int32_t hi = (int32_t)((INT64_C(1) << (p->acc_bits - 1)) - 1), lo = -hi - 1;
    const __m128i vhi = _mm_set1_epi32(hi), vlo = _mm_set1_epi32(lo);
    __m128i va0 = _mm_loadu_si128((const __m128i *)(const void *)a);
    __m128i va1 = _mm_loadu_si128((const __m128i *)(const void *)(a + 4));
    unsigned j0 = 0;
    for (unsigned g = 0; g < ncuts; g++) {
        unsigned j1 = (cuts[g] + 1) / 2;
        __m128i s0 = _mm_setzero_si128(), s1 = _mm_setzero_si128();
        for (unsigned j = j0; j < j1; j++) {
            __m128i xv = _mm_loadu_si128((const __m128i *)(const void *)(r->xb + 4 * (size_t)j));
            const int16_t *w = wb + (size_t)j * 16;
            s0 = _mm_add_epi32(s0, _mm_madd_epi16(xv, _mm_loadu_si128((const __m128i *)(const void *)w)));
            s1 = _mm_add_epi32(s1, _mm_madd_epi16(xv, _mm_loadu_si128((const __m128i *)(const void *)(w + 8))));
        }
        va0 = _mm_add_epi32(va0, s0);
        va1 = _mm_add_epi32(va1, s1);
        __m128i out = _mm_or_si128(_mm_or_si128(_mm_cmpgt_epi32(va0, vhi), _mm_cmpgt_epi32(vlo, va0)),
                                   _mm_or_si128(_mm_cmpgt_epi32(va1, vhi), _mm_cmpgt_epi32(vlo, va1)));
        if (_mm_movemask_epi8(out)) {
            _mm_storeu_si128((__m128i *)(void *)a, va0);
            _mm_storeu_si128((__m128i *)(void *)(a + 4), va1);
            for (int l = 0; l < MPQ_MAC_LANES; l++) {
                int o = 0;
                a[l] = (int32_t)mpq_fit_acc(a[l], p->acc_bits, p->sat, &o);
                if (o && !any[l])
                    first[l] = (int32_t)cuts[g] - 1;
                any[l] |= o;
            }
            va0 = _mm_loadu_si128((const __m128i *)(const void *)a);
            va1 = _mm_loadu_si128((const __m128i *)(const void *)(a + 4));
        }
        j0 = j1;
    }
    _mm_storeu_si128((__m128i *)(void *)a, va0);
    _mm_storeu_si128((__m128i *)(void *)(a + 4), va1);
}
#else
static void block_segments(const mpq_mac_plan *p, const mpq_mac_row *r, size_t b,
                           const unsigned *cuts, unsigned ncuts, int32_t *a, int *any,
                           int32_t *first)
{
    const int16_t *wb = p->wi + b * p->kpairs * 2 * MPQ_MAC_LANES;
    unsigned j0 = 0;
    for (unsigned g = 0; g < ncuts; g++) {
        unsigned j1 = (cuts[g] + 1) / 2;
        for (int l = 0; l < MPQ_MAC_LANES; l++) {
            int32_t s = 0;
            for (unsigned j = j0; j < j1; j++) {
                int16_t x0 = r->x16[2 * j], x1 = 2 * j + 1 < r->k ? r->x16[2 * j + 1] : 0;
                const int16_t *w = wb + (size_t)j * 2 * MPQ_MAC_LANES + 2 * l;
                s += (int32_t)x0 * w[0] + (int32_t)x1 * w[1];
            }
            int o = 0;
            a[l] = (int32_t)mpq_fit_acc((int64_t)a[l] + s, p->acc_bits, p->sat, &o);
            if (o && !any[l])
                first[l] = (int32_t)cuts[g] - 1;
            any[l] |= o;
        }
        j0 = j1;
    }
}
#endif

/* Whether the segments suit the block kernel: every cut but the last falls on a pair
 * boundary, and no segment's sum can reach 2^30. */
static int cuts_fit_pairs(const mpq_mac_plan *p, const unsigned *cuts, unsigned ncuts)
{
    unsigned k0 = 0, longest = 0;
    for (unsigned g = 0; g < ncuts; g++) {
        if (g + 1 < ncuts && cuts[g] % 2)
            return 0;
        longest = cuts[g] - k0 > longest ? cuts[g] - k0 : longest;
        k0 = cuts[g];
    }
    return (mpq_i128)(longest + 1) * p->xmax * (p->wmax16 ? p->wmax16 : 1) < ((mpq_i128)1 << 30);
}

void mpq_mac_chans(const mpq_mac_plan *p, mpq_mac_row *r, unsigned c0, unsigned c1,
                   const unsigned *cuts, unsigned ncuts, mpq_mac_out *out)
{
    enum { L = MPQ_MAC_LANES };
    int blocks = p->wi && cuts_fit_pairs(p, cuts, ncuts);
    const mpq_i128 acc_hi = ((mpq_i128)1 << (p->acc_bits - 1)) - 1;
    for (unsigned c = c0; c < c1;) {
        unsigned b = c / L, l0 = c % L, l1 = c1 - b * L < L ? c1 - b * L : L;
        int unsafe = 0;
        for (unsigned l = l0; blocks && l < l1; l++)
            unsafe |= (mpq_i128)mpq_abs64(p->bias[b * L + l]) +
                          (mpq_i128)r->max * p->chan_bound[b * L + l] > acc_hi;
        if (!unsafe) { /* every channel of the block takes the one-step path */
            for (unsigned l = l0; l < l1; l++)
                out[b * L + l - c0] = mpq_mac_chan(p, r, b * L + l, cuts, ncuts);
            c = b * L + l1;
            continue;
        }
        int32_t a[L], first[L];
        int any[L];
        for (unsigned l = 0; l < L; l++) {
            a[l] = 0;
            first[l] = -1;
            any[l] = 0;
            if (b * L + l < p->n)
                a[l] = (int32_t)mpq_fit_acc(p->bias[b * L + l], p->acc_bits, p->sat, &any[l]);
        }
        block_segments(p, r, b, cuts, ncuts, a, any, first);
        for (unsigned l = l0; l < l1; l++) {
            unsigned ch = b * L + l;
            mpq_mac_out o = {a[l], first[l], 0};
            if (p->track) {
                /* Without any overflow every fit was a no-op: the exact sum is a[l], in range.
                 * After one, the exact sum is summed again (rare). */
                int fin = 0;
                if (any[l]) {
                    uint32_t ecur = p->e.ptr[ch];
                    mpq_fit_wide((mpq_i128)p->bias[ch] + range_sum(p, r, ch, 0, p->k, &ecur),
                                 p->acc_bits, MPQ_OVF_SAT, &fin);
                }
                o.flags = (uint8_t)((fin ? MPQ_OVF_FINAL : 0) | (any[l] ? MPQ_OVF_ANY : 0));
            }
            out[ch - c0] = o;
        }
        c = b * L + l1;
    }
}
