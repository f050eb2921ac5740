/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_fc.c: the quantized fully-connected layer (dense intN, ternary x alpha, sparse
 * high-precision, or their sum) with exact accumulation in a declared order, wrap or
 * saturate, and overflow detection. Hardware counterpart: rtl/mpq_lane.sv (one channel's
 * accumulator, GROUPED order with group = KLanes) and rtl/mpq_requant.sv.
 *
 * Every partial sum is exact: a 64-bit kernel when the layer's value bounds prove no 64-bit
 * sum can overflow, a 128-bit kernel otherwise. The accumulator itself is only ever changed
 * by mpq_fit, so wrap and saturation are explicit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpq.h"

/* Sparse entries of one layer as per-channel lists sorted by k. */
typedef struct entries {
    uint32_t *ptr; /* [n+1] */
    uint32_t *k;
    int64_t *v;
} entries;

static void entries_free(entries *e)
{
    free(e->ptr);
    free(e->k);
    free(e->v);
}

static int entries_build(const mpq_fc_layer *l, entries *e)
{
    memset(e, 0, sizeof *e);
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
            const mpq_nm *s = l->hp_nm;
            for (unsigned grp = 0; grp < s->ngroups; grp++) {
                /* Entries of a group may come in any position order: insert sorted. */
                size_t first = at;
                for (unsigned j = 0; j < s->n; j++) {
                    size_t i = ((size_t)c * s->ngroups + grp) * s->n + j;
                    if (!s->val[i])
                        continue;
                    uint32_t kk = grp * s->g + s->pos[i];
                    size_t p = at++;
                    while (p > first && e->k[p - 1] > kk) {
                        e->k[p] = e->k[p - 1];
                        e->v[p] = e->v[p - 1];
                        p--;
                    }
                    e->k[p] = kk;
                    e->v[p] = s->val[i];
                }
            }
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

static int64_t abs64(int64_t v)
{
    return v < 0 ? -v : v;
}

/* The 64-bit kernel is safe when every partial sum is bounded by 2^62. */
static int fits_narrow(const mpq_fc_layer *l, const entries *e)
{
    int64_t xmax = 0, wmax = 0, amax = 0, hmax = 0;
    for (size_t i = 0; i < (size_t)l->m * l->k; i++) {
        int64_t v = abs64((int64_t)l->x[i] + l->in_offset);
        if (v > xmax)
            xmax = v;
    }
    if (l->w)
        for (size_t i = 0; i < (size_t)l->n * l->k; i++) {
            int64_t v = abs64((int64_t)l->w[i] + l->w_offset);
            if (v > wmax)
                wmax = v;
        }
    if (l->t)
        for (unsigned c = 0; c < (l->alpha_per_tensor ? 1u : l->n); c++)
            if (abs64(l->alpha[c]) > amax)
                amax = abs64(l->alpha[c]);
    for (size_t i = 0; i < e->ptr[l->n]; i++)
        if (abs64(e->v[i]) > hmax)
            hmax = abs64(e->v[i]);
    if (xmax >= (INT64_C(1) << 31) || wmax >= (INT64_C(1) << 31))
        return 0;
    /* |p| <= k * xmax * (wmax + amax + hmax); all factors < 2^33: use doubles for the bound. */
    double bound = (double)l->k * (double)xmax * ((double)wmax + (double)amax + (double)hmax);
    return bound < 4611686018427387904.0; /* 2^62: range sums only; the caller adds in 128 bits */
}

/* Partial sum over k in [k0, k1) of one (row, channel). `ecur` is the channel's entry cursor,
 * advanced past the range. Two instances: 64-bit and 128-bit sums. */
#define DEFINE_RANGE_SUM(NAME, SUM_T)                                                          \
    static SUM_T NAME(const int64_t *xr, const int64_t *wrow,          \
                      const int32_t *xr32, const int32_t *wrow32, const int8_t *trow,          \
                      int64_t alpha, const entries *e, uint32_t *ecur, uint32_t eend,          \
                      unsigned k0, unsigned k1)                                                \
    {                                                                                          \
        SUM_T p = 0;                                                                           \
        if (wrow32) {                                                                          \
            SUM_T s = 0;                                                                       \
            for (unsigned i = k0; i < k1; i++)                                                 \
                s += (int64_t)xr32[i] * wrow32[i];                                             \
            p += s;                                                                            \
        } else if (wrow) {                                                                     \
            for (unsigned i = k0; i < k1; i++)                                                 \
                p += (SUM_T)xr[i] * wrow[i];                                                   \
        }                                                                                      \
        if (trow) {                                                                            \
            SUM_T s = 0;                                                                       \
            if (xr32)                                                                          \
                for (unsigned i = k0; i < k1; i++)                                             \
                    s += xr32[i] * trow[i];                                                    \
            else                                                                               \
                for (unsigned i = k0; i < k1; i++)                                             \
                    s += (SUM_T)xr[i] * trow[i];                                               \
            p += s * alpha;                                                                    \
        }                                                                                      \
        uint32_t j = *ecur;                                                                    \
        for (; j < eend && e->k[j] < k1; j++)                                                  \
            p += (SUM_T)xr[e->k[j]] * e->v[j];                                                 \
        *ecur = j;                                                                             \
        return p;                                                                              \
    }
DEFINE_RANGE_SUM(range_sum64, int64_t)
DEFINE_RANGE_SUM(range_sum128, mpq_i128)

/* The common case of narrow data (|x + in_offset| and |w + w_offset| below 2^15): 16-bit
 * operands and 32-bit sums over blocks short enough (`blk`) that no 32-bit sum can overflow,
 * which compilers turn into multiply-add vector instructions. */
static int64_t range_sum16(const int64_t *xr, const int16_t *xr16, const int16_t *wrow16,
                           const int8_t *trow, int64_t alpha, const entries *e, uint32_t *ecur,
                           uint32_t eend, unsigned k0, unsigned k1, unsigned blk)
{
    int64_t p = 0;
    for (unsigned b0 = k0; b0 < k1; b0 += blk) {
        unsigned b1 = b0 + blk < k1 ? b0 + blk : k1;
        if (wrow16) {
            int32_t s = 0;
            for (unsigned i = b0; i < b1; i++)
                s += (int32_t)xr16[i] * wrow16[i];
            p += s;
        }
        if (trow) {
            int32_t s = 0;
            for (unsigned i = b0; i < b1; i++)
                s += (int32_t)xr16[i] * trow[i];
            p += (int64_t)s * alpha;
        }
    }
    uint32_t j = *ecur;
    for (; j < eend && e->k[j] < k1; j++)
        p += xr[e->k[j]] * e->v[j];
    *ecur = j;
    return p;
}

/* Every group's partial sum of one (row, channel) at once, 16-bit kernel: psum[g] for the
 * groups k = g*step .. g*step+step-1. The loops stay vectorizable; used when each group's
 * fit must be checked (saturation, overflow tracking). */
static void group_sums16(const int64_t *xr, const int16_t *xr16, const int16_t *wrow16,
                         const int8_t *trow, int64_t alpha, const entries *e, uint32_t ebeg,
                         uint32_t eend, unsigned k, unsigned step, unsigned blk, int64_t *psum)
{
    unsigned ngroups = (k + step - 1) / step;
    unsigned g = 0;
    for (; g < ngroups; g++) {
        unsigned k0 = g * step, k1 = k0 + step < k ? k0 + step : k;
        int64_t p = 0;
        for (unsigned b0 = k0; b0 < k1; b0 += blk) {
            unsigned b1 = b0 + blk < k1 ? b0 + blk : k1;
            int32_t sw = 0, st = 0;
            if (wrow16)
                for (unsigned i = b0; i < b1; i++)
                    sw += (int32_t)xr16[i] * wrow16[i];
            if (trow)
                for (unsigned i = b0; i < b1; i++)
                    st += (int32_t)xr16[i] * trow[i];
            p += sw + (int64_t)st * alpha;
        }
        psum[g] = p;
    }
    for (uint32_t j = ebeg; j < eend; j++)
        psum[e->k[j] / step] += xr[e->k[j]] * e->v[j];
}

/* mpq_fit for accumulators of at most 62 bits and |v| < 2^63, in 64-bit arithmetic. */
static inline int64_t fit62(int64_t v, unsigned bits, int sat, int *o)
{
    int64_t hi = (INT64_C(1) << (bits - 1)) - 1, lo = -hi - 1, r;
    if (sat)
        r = v > hi ? hi : v < lo ? lo : v;
    else
        r = (int64_t)(((uint64_t)(v - lo) & (((uint64_t)1 << bits) - 1))) + lo;
    *o = r != v;
    return r;
}

int mpq_fc_acc(const mpq_fc_layer *l, int64_t *acc, mpq_fc_ovf *ovf, char *err, size_t errlen)
{
    if (!l->x || (!l->w && !l->t && !l->hp && !l->hp_nm && !l->hp_csr)) {
        snprintf(err, errlen, "layer has no activations or no weights");
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
    if (l->order == MPQ_ORDER_GROUPED && l->group < 1) {
        snprintf(err, errlen, "grouped accumulation needs a group size >= 1");
        return MPQ_EPARAM;
    }
    if ((l->hp_nm && (l->hp_nm->rows != l->n || l->hp_nm->k != l->k)) ||
        (l->hp_csr && (l->hp_csr->rows != l->n || l->hp_csr->k != l->k))) {
        snprintf(err, errlen, "sparse matrix shape differs from the layer's n x k");
        return MPQ_EPARAM;
    }
    if (l->t)
        for (size_t i = 0; i < (size_t)l->n * l->k; i++)
            if (l->t[i] < -1 || l->t[i] > 1) {
                snprintf(err, errlen, "ternary weight t[%zu][%zu] = %d is not -1, 0 or 1",
                         i / l->k, i % l->k, l->t[i]);
                return MPQ_EPARAM;
            }

    entries e;
    if (entries_build(l, &e))
        return MPQ_ENOMEM;
    int narrow = fits_narrow(l, &e);
    /* Value bounds: the 16-bit kernel, and the static proof that no fit can overflow. */
    int64_t xmax = 0, wmax = 0;
    for (size_t i = 0; i < (size_t)l->m * l->k; i++)
        if (abs64((int64_t)l->x[i] + l->in_offset) > xmax)
            xmax = abs64((int64_t)l->x[i] + l->in_offset);
    if (l->w)
        for (size_t i = 0; i < (size_t)l->n * l->k; i++)
            if (abs64((int64_t)l->w[i] + l->w_offset) > wmax)
                wmax = abs64((int64_t)l->w[i] + l->w_offset);
    int k16 = narrow && xmax < 32768 && wmax < 32768;
    unsigned blk = 1;
    if (k16) {
        int64_t worst = xmax * (wmax > 1 ? wmax : 1);
        int64_t b = worst ? (INT64_C(2147483647) / worst) : l->k;
        blk = b >= (int64_t)l->k ? (l->k ? l->k : 1) : b < 1 ? 1 : (unsigned)b;
    }
    int64_t *xr = malloc(((size_t)l->k + 1) * sizeof *xr);
    int32_t *xr32 = malloc(((size_t)l->k + 1) * sizeof *xr32);
    int16_t *xr16 = malloc(((size_t)l->k + 1) * sizeof *xr16);
    mpq_i128 *chan_bound = malloc(((size_t)l->n + 1) * sizeof *chan_bound);
    int64_t *psum = malloc(((size_t)l->k + 1) * sizeof *psum);
    int64_t *wq = NULL;
    int32_t *wq32 = NULL;
    int16_t *wq16 = NULL;
    if (l->w) {
        wq = malloc(((size_t)l->n * l->k + 1) * sizeof *wq);
        wq32 = malloc(((size_t)l->n * l->k + 1) * sizeof *wq32);
        wq16 = malloc(((size_t)l->n * l->k + 1) * sizeof *wq16);
    }
    if (!xr || !xr32 || !xr16 || !chan_bound || !psum || (l->w && (!wq || !wq32 || !wq16))) {
        free(xr);
        free(xr32);
        free(xr16);
        free(chan_bound);
        free(psum);
        free(wq);
        free(wq32);
        free(wq16);
        entries_free(&e);
        return MPQ_ENOMEM;
    }
    if (l->w)
        for (size_t i = 0; i < (size_t)l->n * l->k; i++) {
            wq[i] = (int64_t)l->w[i] + l->w_offset;
            wq32[i] = narrow ? (int32_t)wq[i] : 0;
            wq16[i] = k16 ? (int16_t)wq[i] : 0;
        }
    /* Fold the ternary and sparse weights into one dense 16-bit weight alpha*t + hp (+ w)
     * when every such value fits: the sums are exact integers, so the mixed layer becomes
     * one multiply-add stream. */
    int16_t *weff16 = NULL;
    int64_t *wrow = malloc(((size_t)l->k + 1) * sizeof *wrow);
    if (k16 && wrow && (l->t || e.ptr[l->n]))
        weff16 = malloc(((size_t)l->n * l->k + 1) * sizeof *weff16);
    if (weff16) {
        int64_t femax = 0;
        for (unsigned c = 0; c < l->n && weff16; c++) {
            int64_t alpha = l->t ? l->alpha[l->alpha_per_tensor ? 0 : c] : 0;
            for (unsigned i = 0; i < l->k; i++) {
                wrow[i] = l->w ? wq[(size_t)c * l->k + i] : 0;
                if (l->t && l->t[(size_t)c * l->k + i] && abs64(alpha) < (INT64_C(1) << 40))
                    wrow[i] += alpha * l->t[(size_t)c * l->k + i];
                else if (l->t && l->t[(size_t)c * l->k + i])
                    wrow[i] = INT64_C(1) << 40; /* does not fold */
            }
            for (uint32_t j = e.ptr[c]; j < e.ptr[c + 1]; j++)
                wrow[e.k[j]] += e.v[j];
            for (unsigned i = 0; i < l->k; i++) {
                if (abs64(wrow[i]) >= 32768) {
                    free(weff16);
                    weff16 = NULL;
                    break;
                }
                weff16[(size_t)c * l->k + i] = (int16_t)wrow[i];
                if (abs64(wrow[i]) > femax)
                    femax = abs64(wrow[i]);
            }
        }
        if (weff16) {
            int64_t worst = xmax * (femax > 1 ? femax : 1);
            int64_t b = worst ? (INT64_C(2147483647) / worst) : l->k;
            blk = b >= (int64_t)l->k ? (l->k ? l->k : 1) : b < 1 ? 1 : (unsigned)b;
        }
    }
    free(wrow);

    /* chan_bound[c] = sum over k of the largest |weight| a unit activation meets: with
     * |xr| <= X every partial sum of channel c is at most X * chan_bound[c]. */
    for (unsigned c = 0; c < l->n; c++) {
        mpq_i128 b = 0;
        int64_t alpha = l->t ? abs64(l->alpha[l->alpha_per_tensor ? 0 : c]) : 0;
        for (unsigned i = 0; i < l->k; i++) {
            if (l->w)
                b += abs64(wq[(size_t)c * l->k + i]);
            if (l->t && l->t[(size_t)c * l->k + i])
                b += alpha;
        }
        for (uint32_t j = e.ptr[c]; j < e.ptr[c + 1]; j++)
            b += abs64(e.v[j]);
        chan_bound[c] = b;
    }

    mpq_ovf_mode fitmode = l->acc_mode == MPQ_ACC_SAT ? MPQ_OVF_SAT : MPQ_OVF_WRAP;
    const mpq_i128 acc_hi = ((mpq_i128)1 << (l->acc_bits - 1)) - 1;
    unsigned order_step = l->order == MPQ_ORDER_SEQ ? 1 : l->group;
    if (ovf) {
        ovf->n_final = ovf->n_any = 0;
        ovf->first_row = ovf->first_ch = ovf->first_k_pos = -1;
        ovf->first_bias = 0;
    }

    for (unsigned r = 0; r < l->m; r++) {
        int64_t row_max = 0;
        for (unsigned i = 0; i < l->k; i++) {
            xr[i] = (int64_t)l->x[(size_t)r * l->k + i] + l->in_offset;
            xr32[i] = narrow ? (int32_t)xr[i] : 0;
            xr16[i] = k16 ? (int16_t)xr[i] : 0;
            if (abs64(xr[i]) > row_max)
                row_max = abs64(xr[i]);
        }
        for (unsigned c = 0; c < l->n; c++) {
            const int8_t *trow = l->t ? l->t + (size_t)c * l->k : NULL;
            int64_t alpha = l->t ? l->alpha[l->alpha_per_tensor ? 0 : c] : 0;
            int64_t bias = l->bias ? l->bias[c] : 0;
            uint32_t ecur = e.ptr[c], eend = e.ptr[c + 1];
            const int16_t *wrow16 = l->w ? wq16 + (size_t)c * l->k : NULL;
            if (weff16) { /* everything is in the folded dense weight */
                wrow16 = weff16 + (size_t)c * l->k;
                trow = NULL;
                ecur = eend;
            }
            /* When every partial sum provably fits, no fit changes anything: the order is
             * irrelevant and the whole row is one step. A wrapping accumulator without
             * tracking gives the same result in any order too. */
            int safe = (mpq_i128)abs64(bias) + (mpq_i128)row_max * chan_bound[c] <= acc_hi;
            unsigned step = (safe || (!ovf && l->acc_mode == MPQ_ACC_WRAP))
                                ? (l->k ? l->k : 1) : order_step;
            int o = 0, any = 0;
            int32_t first_k = -1;
            int64_t a = mpq_fit(bias, l->acc_bits, fitmode, &o);
            if (o) {
                any = 1;
                if (ovf && ovf->first_row < 0) {
                    ovf->first_row = r;
                    ovf->first_ch = c;
                    ovf->first_k_pos = -1;
                    ovf->first_bias = 1;
                }
            }
            mpq_i128 exact = bias;
            unsigned k_start = 0;
            if (k16 && step < l->k && l->acc_bits <= 62) {
                /* Group-by-group fits on 64-bit values: |a| < 2^61 and |p| < 2^62. */
                group_sums16(xr, xr16, wrow16, trow, alpha, &e,
                             ecur, eend, l->k, step, blk, psum);
                int sat = l->acc_mode == MPQ_ACC_SAT;
                int64_t ex = bias;
                for (unsigned g = 0; g * step < l->k; g++) {
                    ex += psum[g];
                    a = fit62(a + psum[g], l->acc_bits, sat, &o);
                    if (o && !any) {
                        any = 1;
                        first_k = (int32_t)((g + 1) * step < l->k ? (g + 1) * step - 1 : l->k - 1);
                        if (ovf && ovf->first_row < 0) {
                            ovf->first_row = r;
                            ovf->first_ch = c;
                            ovf->first_k_pos = first_k;
                        }
                    }
                }
                exact = ex;
                k_start = l->k; /* done */
            }
            for (unsigned k0 = k_start; k0 < l->k; k0 += step) {
                unsigned k1 = k0 + step < l->k ? k0 + step : l->k;
                mpq_i128 p;
                if (k16)
                    p = range_sum16(xr, xr16, wrow16, trow,
                                    alpha, &e, &ecur, eend, k0, k1, blk);
                else if (narrow)
                    p = range_sum64(xr, NULL, xr32, l->w ? wq32 + (size_t)c * l->k : NULL,
                                    trow, alpha, &e, &ecur, eend, k0, k1);
                else
                    p = range_sum128(xr, l->w ? wq + (size_t)c * l->k : NULL, NULL, NULL,
                                     trow, alpha, &e, &ecur, eend, k0, k1);
                exact += p;
                a = mpq_fit((mpq_i128)a + p, l->acc_bits, fitmode, &o);
                if (o && !any) {
                    any = 1;
                    first_k = (int32_t)(k1 - 1);
                    if (ovf && ovf->first_row < 0) {
                        ovf->first_row = r;
                        ovf->first_ch = c;
                        ovf->first_k_pos = first_k;
                    }
                }
            }
            acc[(size_t)r * l->n + c] = a;
            if (ovf) {
                int fin = 0;
                mpq_fit(exact, l->acc_bits, MPQ_OVF_SAT, &fin);
                ovf->n_final += fin;
                ovf->n_any += any;
                if (ovf->flags)
                    ovf->flags[(size_t)r * l->n + c] =
                        (uint8_t)((fin ? MPQ_OVF_FINAL : 0) | (any ? MPQ_OVF_ANY : 0));
                if (ovf->first_k)
                    ovf->first_k[(size_t)r * l->n + c] = first_k;
            }
        }
    }
    free(xr);
    free(xr32);
    free(xr16);
    free(chan_bound);
    free(psum);
    free(wq);
    free(wq32);
    free(wq16);
    free(weff16);
    entries_free(&e);
    return MPQ_OK;
}

int mpq_fc(const mpq_fc_layer *l, const mpq_requant *rq, int32_t *y, int64_t *acc,
           mpq_fc_ovf *ovf, char *err, size_t errlen)
{
    if (!rq->mult || !rq->shift || (rq->nparams != 1 && rq->nparams != l->n)) {
        snprintf(err, errlen, "requantization needs 1 or n=%u multipliers and shifts", l->n);
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
    int64_t *a = acc ? acc : malloc(((size_t)l->m * l->n + 1) * sizeof *a);
    if (!a)
        return MPQ_ENOMEM;
    int st = mpq_fc_acc(l, a, ovf, err, errlen);
    if (!st)
        for (unsigned r = 0; r < l->m; r++)
            for (unsigned c = 0; c < l->n; c++)
                y[(size_t)r * l->n + c] = mpq_requant_one(rq, a[(size_t)r * l->n + c], c);
    if (!acc)
        free(a);
    return st;
}
