/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_float.c: what quantization costs. The float reference of a layer, error statistics
 * (SQNR, max abs error), and the split of real weights into ternary x alpha plus a sparse
 * high-precision residual in N:G structure (the accelerator's weight format).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpq.h"

void mpq_fc_f64(unsigned m, unsigned k, unsigned n, const double *x, const double *w,
                const double *bias, double *y)
{
    for (unsigned r = 0; r < m; r++)
        for (unsigned c = 0; c < n; c++) {
            double s = bias ? bias[c] : 0.0;
            const double *xr = x + (size_t)r * k, *wc = w + (size_t)c * k;
            for (unsigned i = 0; i < k; i++)
                s += xr[i] * wc[i];
            y[(size_t)r * n + c] = s;
        }
}

void mpq_err_compute(const double *ref, const double *q, size_t count, mpq_err_stats *e)
{
    double sig = 0.0, noise = 0.0, mx = 0.0;
    for (size_t i = 0; i < count; i++) {
        double d = ref[i] - q[i];
        sig += ref[i] * ref[i];
        noise += d * d;
        if (fabs(d) > mx)
            mx = fabs(d);
    }
    e->max_abs = mx;
    e->mse = count ? noise / (double)count : 0.0;
    if (noise == 0.0)
        e->sqnr_db = INFINITY;
    else if (sig == 0.0)
        e->sqnr_db = -INFINITY;
    else
        e->sqnr_db = 10.0 * log10(sig / noise);
}

void mpq_decomp_free(mpq_decomp *d)
{
    free(d->t);
    free(d->alpha);
    free(d->hp);
    free(d->step);
    d->t = NULL;
    d->alpha = NULL;
    d->hp = NULL;
    d->step = NULL;
}

/* Marks in `sel` the hp_n largest |res| (> 0) among res[0..len-1]; ties to the lower index. */
static void select_largest(const double *res, unsigned len, unsigned hp_n, uint8_t *sel)
{
    memset(sel, 0, len);
    for (unsigned e = 0; e < hp_n; e++) {
        int best = -1;
        for (unsigned j = 0; j < len; j++)
            if (!sel[j] && fabs(res[j]) > 0.0 && (best < 0 || fabs(res[j]) > fabs(res[best])))
                best = (int)j;
        if (best < 0)
            break;
        sel[best] = 1;
    }
}

int mpq_decompose(const double *w, unsigned n, unsigned k, const mpq_decomp_opts *o,
                  mpq_decomp *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (n == 0 || k == 0 || o->hp_bits < 2 || o->hp_bits > 16 || o->alpha_bits < 2 ||
        o->alpha_bits > 16 || !(o->thr >= 0.0) || (o->group && o->hp_n > o->group)) {
        snprintf(err, errlen,
                 "impossible decomposition parameters (n=%u k=%u N:G=%u:%u hp_bits=%u "
                 "alpha_bits=%u thr=%g)", n, k, o->hp_n, o->group, o->hp_bits, o->alpha_bits,
                 o->thr);
        return MPQ_EPARAM;
    }
    for (size_t i = 0; i < (size_t)n * k; i++)
        if (!isfinite(w[i])) {
            snprintf(err, errlen, "weight [%zu][%zu] is not finite", i / k, i % k);
            return MPQ_EPARAM;
        }
    d->n = n;
    d->k = k;
    d->t = calloc((size_t)n * k, 1);
    d->hp = calloc((size_t)n * k, sizeof *d->hp);
    d->alpha = calloc(n, sizeof *d->alpha);
    d->step = calloc(n, sizeof *d->step);
    double *res = malloc((size_t)k * sizeof *res);
    uint8_t *sel = malloc(k);
    if (!d->t || !d->hp || !d->alpha || !d->step || !res || !sel) {
        free(res);
        free(sel);
        mpq_decomp_free(d);
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    const double hmax = (double)((1 << (o->hp_bits - 1)) - 1);
    const double amax = (double)((1 << (o->alpha_bits - 1)) - 1);
    double norm = 0.0, e_tern = 0.0, e_all = 0.0;
    for (unsigned c = 0; c < n; c++) {
        const double *wc = w + (size_t)c * k;
        int8_t *tc = d->t + (size_t)c * k;
        int32_t *hc = d->hp + (size_t)c * k;
        double mean = 0.0;
        for (unsigned i = 0; i < k; i++)
            mean += fabs(wc[i]);
        mean /= k;
        double delta = o->thr * mean, kept = 0.0;
        unsigned nkept = 0;
        for (unsigned i = 0; i < k; i++) {
            tc[i] = (int8_t)(fabs(wc[i]) > delta ? (wc[i] > 0 ? 1 : -1) : 0);
            if (tc[i]) {
                kept += fabs(wc[i]);
                nkept++;
            }
        }
        double alpha_real = nkept ? kept / nkept : 0.0;
        for (unsigned i = 0; i < k; i++)
            res[i] = wc[i] - alpha_real * tc[i];
        if (o->hp_n) {
            unsigned g = o->group ? o->group : k;
            for (unsigned k0 = 0; k0 < k; k0 += g)
                select_largest(res + k0, k - k0 < g ? k - k0 : g, o->hp_n, sel + k0);
        } else {
            memset(sel, 0, k);
        }
        double rmax = 0.0;
        for (unsigned i = 0; i < k; i++)
            if (sel[i] && fabs(res[i]) > rmax)
                rmax = fabs(res[i]);
        /* The step makes alpha an integer number of high-precision steps, as fine as the
         * largest selected residual allows. */
        double step;
        int32_t ai;
        if (alpha_real == 0.0) {
            ai = 0;
            step = rmax > 0.0 ? rmax / hmax : 1.0;
        } else if (rmax == 0.0) {
            ai = (int32_t)amax;
            step = alpha_real / ai;
        } else {
            double a = nearbyint(alpha_real / (rmax / hmax));
            ai = (int32_t)(a < 1.0 ? 1.0 : a > amax ? amax : a);
            step = alpha_real / ai;
        }
        d->alpha[c] = ai;
        d->step[c] = step;
        for (unsigned i = 0; i < k; i++) {
            double approx_t = step * ai * tc[i];
            int32_t h = 0;
            if (sel[i]) {
                double q = nearbyint(res[i] / step);
                h = (int32_t)(q > hmax ? hmax : q < -hmax ? -hmax : q);
            }
            hc[i] = h;
            d->hp_nnz += h != 0;
            double approx = approx_t + step * h;
            norm += wc[i] * wc[i];
            e_tern += (wc[i] - approx_t) * (wc[i] - approx_t);
            e_all += (wc[i] - approx) * (wc[i] - approx);
        }
    }
    free(res);
    free(sel);
    d->density = (double)d->hp_nnz / ((double)n * k);
    d->rel_err_tern = norm > 0 ? sqrt(e_tern / norm) : 0.0;
    d->rel_err = norm > 0 ? sqrt(e_all / norm) : 0.0;
    return MPQ_OK;
}
