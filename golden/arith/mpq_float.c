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

#include "arith/mpq.h"
#include "arith/mpq_mac.h"

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
    void *owned[] = {d->t, d->alpha, d->hp, d->step};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        free(owned[i]);
    memset(d, 0, sizeof *d);
}

/* The weights of one layer as the decomposition sees them: output channel c's j-th weight
 * (j < k) at flat index at(c, j), and the N:G groups as lists of flat indices. */
typedef struct wview {
    unsigned n, k;
    size_t cstride, jstride;   /* flat index = c*cstride + j*jstride */
    size_t *gidx;              /* every group's flat indices, group after group */
    size_t *gstart;            /* [ngroups+1] */
    size_t ngroups;
} wview;

static size_t at(const wview *v, unsigned c, unsigned j)
{
    return (size_t)c * v->cstride + (size_t)j * v->jstride;
}

/* Marks in `sel` the hp_n largest |res| (> 0) of one group; ties to the earlier entry. */
static void select_largest(const double *res, const size_t *idx, size_t len, unsigned hp_n,
                           uint8_t *sel)
{
    for (unsigned e = 0; e < hp_n; e++) {
        size_t best = SIZE_MAX;
        for (size_t j = 0; j < len; j++) {
            size_t i = idx[j];
            if (!sel[i] && fabs(res[i]) > 0.0 && (best == SIZE_MAX || fabs(res[i]) > fabs(res[best])))
                best = i;
        }
        if (best == SIZE_MAX)
            break;
        sel[best] = 1;
    }
}

/* Ternary part of channel c (threshold thr * mean|W|, scale = mean of the kept |W|) into
 * d->t; returns the real scale, leaves the residual in res. */
static double ternary_part(const double *w, const wview *v, unsigned c, double thr,
                           mpq_decomp *d, double *res)
{
    double mean = 0.0, kept = 0.0;
    unsigned nkept = 0;
    for (unsigned j = 0; j < v->k; j++)
        mean += fabs(w[at(v, c, j)]);
    mean /= v->k;
    for (unsigned j = 0; j < v->k; j++) {
        size_t i = at(v, c, j);
        d->t[i] = (int8_t)(fabs(w[i]) > thr * mean ? (w[i] > 0 ? 1 : -1) : 0);
        if (d->t[i]) {
            kept += fabs(w[i]);
            nkept++;
        }
    }
    double alpha_real = nkept ? kept / nkept : 0.0;
    for (unsigned j = 0; j < v->k; j++)
        res[at(v, c, j)] = w[at(v, c, j)] - alpha_real * d->t[at(v, c, j)];
    return alpha_real;
}

/* Channel c's step, chosen so that alpha is an integer number of high-precision steps, as
 * fine as the largest selected residual allows; then its quantized residual, and the squared
 * norms sq[] (weights, ternary error, total error) accumulated. */
static void quantize_channel(const double *w, const wview *v, unsigned c, double alpha_real,
                             const double *res, const uint8_t *sel, const mpq_decomp_opts *o,
                             mpq_decomp *d, double sq[3])
{
    const double hmax = (double)((1 << (o->hp_bits - 1)) - 1);
    const double amax = (double)((1 << (o->alpha_bits - 1)) - 1);
    double rmax = 0.0, step;
    for (unsigned j = 0; j < v->k; j++)
        if (sel[at(v, c, j)] && fabs(res[at(v, c, j)]) > rmax)
            rmax = fabs(res[at(v, c, j)]);
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
    for (unsigned j = 0; j < v->k; j++) {
        size_t i = at(v, c, j);
        double approx_t = step * ai * d->t[i];
        int32_t h = 0;
        if (sel[i]) {
            double q = nearbyint(res[i] / step);
            h = (int32_t)(q > hmax ? hmax : q < -hmax ? -hmax : q);
        }
        d->hp[i] = h;
        d->hp_nnz += h != 0;
        double approx = approx_t + step * h;
        sq[0] += w[i] * w[i];
        sq[1] += (w[i] - approx_t) * (w[i] - approx_t);
        sq[2] += (w[i] - approx) * (w[i] - approx);
    }
}

/* The three steps over any layout: ternary per channel, the hp_n largest residuals of each
 * group, then per channel the step that makes alpha an integer number of high-precision
 * steps, as fine as the largest selected residual allows, and the quantized residual. */
static int decompose_view(const double *w, const wview *v, const mpq_decomp_opts *o,
                          mpq_decomp *d, char *err, size_t errlen)
{
    size_t total = (size_t)v->n * v->k;
    for (size_t i = 0; i < total; i++)
        if (!isfinite(w[i])) {
            snprintf(err, errlen, "weight %zu is not finite", i);
            return MPQ_EPARAM;
        }
    d->n = v->n;
    d->k = v->k;
    d->t = calloc(total, 1);
    d->hp = calloc(total, sizeof *d->hp);
    d->alpha = calloc(v->n, sizeof *d->alpha);
    d->step = calloc(v->n, sizeof *d->step);
    double *res = malloc(total * sizeof *res), *alpha_real = malloc(v->n * sizeof *alpha_real);
    uint8_t *sel = calloc(total, 1);
    if (!d->t || !d->hp || !d->alpha || !d->step || !res || !alpha_real || !sel) {
        MPQ_FREE_ALL(res, alpha_real, sel);
        mpq_decomp_free(d);
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    for (unsigned c = 0; c < v->n; c++)
        alpha_real[c] = ternary_part(w, v, c, o->thr, d, res);
    if (o->hp_n)
        for (size_t g = 0; g < v->ngroups; g++)
            select_largest(res, v->gidx + v->gstart[g], v->gstart[g + 1] - v->gstart[g], o->hp_n,
                           sel);
    double sq[3] = {0.0, 0.0, 0.0}; /* ||W||^2, ternary error^2, total error^2 */
    for (unsigned c = 0; c < v->n; c++)
        quantize_channel(w, v, c, alpha_real[c], res, sel, o, d, sq);
    MPQ_FREE_ALL(res, alpha_real, sel);
    d->density = (double)d->hp_nnz / ((double)v->n * v->k);
    d->rel_err_tern = sq[0] > 0 ? sqrt(sq[1] / sq[0]) : 0.0;
    d->rel_err = sq[0] > 0 ? sqrt(sq[2] / sq[0]) : 0.0;
    return MPQ_OK;
}

static int check_opts(const mpq_decomp_opts *o, unsigned n, unsigned k, int grouped, char *err,
                      size_t errlen)
{
    if (n == 0 || k == 0 || o->hp_bits < 2 || o->hp_bits > 16 || o->alpha_bits < 2 ||
        o->alpha_bits > 16 || !(o->thr >= 0.0) || (grouped && o->group && o->hp_n > o->group)) {
        snprintf(err, errlen,
                 "impossible decomposition parameters (n=%u k=%u N:G=%u:%u hp_bits=%u "
                 "alpha_bits=%u thr=%g)", n, k, o->hp_n, o->group, o->hp_bits, o->alpha_bits,
                 o->thr);
        return MPQ_EPARAM;
    }
    return MPQ_OK;
}

/* Group lists under construction: flat indices, a new group started where asked. */
typedef struct glist {
    size_t *idx, *start, n, ngroups;
} glist;

static void push_index(glist *g, size_t i, int new_group)
{
    if (new_group)
        g->start[g->ngroups++] = g->n;
    g->idx[g->n++] = i;
}

static int decompose_groups(const double *w, wview *v, glist *g, const mpq_decomp_opts *o,
                            mpq_decomp *d, char *err, size_t errlen)
{
    g->start[g->ngroups] = g->n;
    v->gidx = g->idx;
    v->gstart = g->start;
    v->ngroups = g->ngroups;
    int st = decompose_view(w, v, o, d, err, errlen);
    free(g->idx);
    free(g->start);
    return st;
}

static int glist_init(glist *g, size_t total, char *err, size_t errlen)
{
    g->n = g->ngroups = 0;
    g->idx = malloc((total + 1) * sizeof *g->idx);
    g->start = malloc((total + 2) * sizeof *g->start);
    if (!g->idx || !g->start) {
        free(g->idx);
        free(g->start);
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    return MPQ_OK;
}

int mpq_decompose(const double *w, unsigned n, unsigned k, const mpq_decomp_opts *o,
                  mpq_decomp *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    int st = check_opts(o, n, k, 1, err, errlen);
    wview v = {.n = n, .k = k, .cstride = k, .jstride = 1};
    glist g;
    if (st || (st = glist_init(&g, (size_t)n * k, err, errlen)))
        return st;
    unsigned gs = o->group ? o->group : k;
    for (unsigned c = 0; c < n; c++)
        for (unsigned j = 0; j < k; j++)
            push_index(&g, at(&v, c, j), j % gs == 0);
    return decompose_groups(w, &v, &g, o, d, err, errlen);
}

int mpq_decompose_conv(const double *w, const mpq_conv_shape *s, mpq_decomp_axis axis,
                       const mpq_decomp_opts *o, mpq_decomp *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    int st = mpq_conv_check_kind(s, 0, err, errlen);
    if (st)
        return st;
    if (axis != MPQ_DECOMP_CHANNEL && axis != MPQ_DECOMP_WINDOW && axis != MPQ_DECOMP_UNSTRUCTURED) {
        snprintf(err, errlen, "unknown decomposition axis %d", (int)axis);
        return MPQ_EPARAM;
    }
    int dw = s->kind == MPQ_LAYER_DEPTHWISE;
    unsigned npos = s->kh * s->kw, k = mpq_conv_depth(s), f = k / npos;
    unsigned gs = o->group ? o->group : 1;
    wview v = {.n = s->out_c, .k = k, .cstride = dw ? 1 : k, .jstride = dw ? s->out_c : 1};
    glist g;
    if ((st = check_opts(o, v.n, k, axis != MPQ_DECOMP_UNSTRUCTURED, err, errlen)) ||
        (st = glist_init(&g, (size_t)v.n * k, err, errlen)))
        return st;
    unsigned per = s->out_c / (s->groups ? s->groups : 1);
    if (axis == MPQ_DECOMP_UNSTRUCTURED) {
        for (unsigned c = 0; c < v.n; c++)
            for (unsigned j = 0; j < k; j++)
                push_index(&g, at(&v, c, j), j == 0);
    } else if (axis == MPQ_DECOMP_WINDOW) {
        /* conv2d: weight (o, p, c) at j = p*f + c; depthwise: f = 1. */
        for (unsigned c = 0; c < v.n; c++)
            for (unsigned ci = 0; ci < f; ci++)
                for (unsigned p = 0; p < npos; p++)
                    push_index(&g, at(&v, c, p * f + ci), p % gs == 0);
    } else if (dw) {
        for (unsigned p = 0; p < npos; p++)
            for (unsigned c = 0; c < v.n; c++)
                push_index(&g, at(&v, c, p), c % gs == 0);
    } else {
        for (unsigned c = 0; c < v.n; c++) {
            unsigned g0 = c / per * f;
            for (unsigned p = 0; p < npos; p++)
                for (unsigned ci = 0; ci < f; ci++)
                    push_index(&g, at(&v, c, p * f + ci), ci == 0 || (g0 + ci) % gs == 0);
        }
    }
    return decompose_groups(w, &v, &g, o, d, err, errlen);
}

int mpq_decompose_conv_blocks(const double *w, const mpq_conv_shape *s, const uint32_t *block,
                              const mpq_decomp_opts *o, mpq_decomp *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    int st = mpq_conv_check_kind(s, 0, err, errlen);
    if (st)
        return st;
    int dw = s->kind == MPQ_LAYER_DEPTHWISE;
    unsigned k = mpq_conv_depth(s);
    wview v = {.n = s->out_c, .k = k, .cstride = dw ? 1 : k, .jstride = dw ? s->out_c : 1};
    glist g;
    if ((st = check_opts(o, v.n, k, 1, err, errlen)) || (st = glist_init(&g, (size_t)v.n * k, err, errlen)))
        return st;
    /* A group is a run of one block id along the channel's reduction. */
    for (unsigned c = 0; c < v.n; c++)
        for (unsigned j = 0; j < k; j++)
            push_index(&g, at(&v, c, j), j == 0 || block[at(&v, c, j)] != block[at(&v, c, j - 1)]);
    return decompose_groups(w, &v, &g, o, d, err, errlen);
}

int mpq_conv_f64(const mpq_conv_shape *s, const double *x, const double *w, const double *bias,
                 double *y, char *err, size_t errlen)
{
    int st = mpq_conv_check_kind(s, 0, err, errlen);
    if (st)
        return st;
    int dw = s->kind == MPQ_LAYER_DEPTHWISE;
    unsigned k = mpq_conv_depth(s), f = k / (s->kh * s->kw), per = s->out_c / (dw ? s->in_c : s->groups ? s->groups : 1);
    size_t i = 0;
    for (unsigned b = 0; b < s->batches; b++)
        for (unsigned oy = 0; oy < s->out_h; oy++)
            for (unsigned ox = 0; ox < s->out_w; ox++)
                for (unsigned o = 0; o < s->out_c; o++, i++) {
                    double acc = bias ? bias[o] : 0.0;
                    unsigned ci0 = dw ? o / per : o / per * f;
                    for (unsigned ky = 0; ky < s->kh; ky++) {
                        long iy = (long)oy * s->sy - (long)s->py + (long)ky * s->dy;
                        for (unsigned kx = 0; iy >= 0 && iy < (long)s->in_h && kx < s->kw; kx++) {
                            long ix = (long)ox * s->sx - (long)s->px + (long)kx * s->dx;
                            if (ix < 0 || ix >= (long)s->in_w)
                                continue;
                            const double *xp = x + (((size_t)b * s->in_h + (size_t)iy) * s->in_w +
                                                     (size_t)ix) * s->in_c + ci0;
                            unsigned p = ky * s->kw + kx;
                            for (unsigned c = 0; c < f; c++)
                                acc += xp[c] * (dw ? w[(size_t)p * s->out_c + o]
                                                   : w[(size_t)o * k + (size_t)p * f + c]);
                        }
                    }
                    y[i] = acc;
                }
    return MPQ_OK;
}
