/* SPDX-License-Identifier: Apache-2.0 */
/* abfp_net.c: the MLP and the CNN with their matrix layers on emulated analog arrays in ABFP
 * (mpq_abfp_mvm, mpq_abfp_conv) and the rest in float, in batches of images (abfp.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "abfp.h"
#include "mn_cli.h"

#define ABFP_BATCH 100u

/* Binds one of the two networks (the other NULL) with each matrix layer's input range: the
 * image's [0, 1] for the first, the calibrated output range amax of the layer before it for
 * the others; the default ABFP parameters on each. */
static void bind(abfp_net *an, const mn_mlp *m, const cnn_net *c, const mn_set *calib, unsigned count)
{
    memset(an, 0, sizeof *an);
    an->mlp = m;
    an->cnn = c;
    an->nl = m ? m->nl : c->nl;
    _Static_assert(MN_MAX_LAYERS <= ABFP_MAX_LAYERS && CNN_MAX_LAYERS <= ABFP_MAX_LAYERS, "amax holds any net's");
    float amax[ABFP_MAX_LAYERS];
    if (m)
        mn_calibrate(m, calib, count, amax);
    else
        cnn_calibrate(c, calib, count, amax);
    an->in_amax[0] = 1.0f;
    for (unsigned l = 1; l < an->nl; l++)
        an->in_amax[l] = amax[l - 1];
    mpq_abfp p;
    mpq_abfp_default(&p);
    abfp_net_set(an, &p);
}

void abfp_net_mlp(abfp_net *an, const mn_mlp *m, const mn_set *calib, unsigned count)
{
    bind(an, m, NULL, calib, count);
}

void abfp_net_cnn(abfp_net *an, const cnn_net *c, const mn_set *calib, unsigned count)
{
    bind(an, NULL, c, calib, count);
}

int abfp_net_is_matrix(const abfp_net *an, unsigned l)
{
    return an->mlp ? l < an->nl : (l < an->nl && an->cnn->layer[l].s.kind == MPQ_LAYER_CONV2D);
}

void abfp_net_set(abfp_net *an, const mpq_abfp *p)
{
    for (unsigned l = 0; l < an->nl; l++) {
        an->p[l] = *p;
        an->p[l].x_amax = an->in_amax[l];
        an->p[l].seed = p->seed + l;
    }
}

/* Values of one image at the output of layer l. */
static size_t out_size(const abfp_net *an, unsigned l)
{
    if (an->mlp)
        return an->mlp->dim[l + 1];
    const mpq_conv_shape *s = &an->cnn->layer[l].s;
    return (size_t)s->out_h * s->out_w * s->out_c;
}

static double *to_double(const float *v, size_t n)
{
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (d)
        for (size_t i = 0; i < n; i++)
            d[i] = v[i];
    return d;
}

/* The float layer (double sums) on B images: y from x. */
static int layer_float(const abfp_net *an, unsigned l, unsigned B, const float *x, float *y, char *err,
                       size_t errlen)
{
    int rc = 0;
    if (an->mlp) {
        unsigned k = an->mlp->dim[l], n = an->mlp->dim[l + 1];
        double *xd = to_double(x, (size_t)B * k), *wd = to_double(an->mlp->w[l], (size_t)n * k);
        double *bd = to_double(an->mlp->b[l], n), *yd = malloc((size_t)B * n * sizeof *yd);
        if (!xd || !wd || !bd || !yd)
            rc = MPQ_ENOMEM;
        else
            mpq_fc_f64(B, k, n, xd, wd, bd, yd);
        for (size_t i = 0; rc == 0 && i < (size_t)B * n; i++)
            y[i] = (float)yd[i];
        free(xd), free(wd), free(bd), free(yd);
        return rc;
    }
    const cnn_layer *L = &an->cnn->layer[l];
    mpq_conv_shape s = L->s;
    s.batches = B;
    size_t nx = mpq_conv_in_count(&s), ny = mpq_conv_out_count(&s);
    double *xd = to_double(x, nx), *wd = to_double(L->w, mpq_conv_w_count(&s)), *bd = to_double(L->b, s.out_c);
    double *yd = malloc(ny * sizeof *yd);
    if (!xd || !wd || !bd || !yd)
        rc = MPQ_ENOMEM;
    else
        rc = mpq_conv_f64(&s, xd, wd, bd, yd, err, errlen);
    for (size_t i = 0; rc == 0 && i < ny; i++)
        y[i] = (float)yd[i];
    free(xd), free(wd), free(bd), free(yd);
    return rc;
}

/* The layer on the array: B images from image i0 (the conversion numbering). */
static int layer_abfp(const abfp_net *an, unsigned l, const mpq_abfp_wq *wq, unsigned B, uint64_t i0,
                      const float *x, float *y, mpq_abfp_stats *st, char *err, size_t errlen)
{
    if (an->mlp)
        return mpq_abfp_mvm(&an->p[l], wq, B, x, an->mlp->b[l], i0, y, st, err, errlen);
    const cnn_layer *L = &an->cnn->layer[l];
    mpq_conv_shape s = L->s;
    s.batches = B;
    return mpq_abfp_conv(&an->p[l], &s, x, L->w, L->b, i0 * s.out_h * s.out_w, y, st, err, errlen);
}

/* Float max pooling of B images (windows inside the map, as cnn_net.c's). */
static void pool(const mpq_conv_shape *s, unsigned B, const float *x, float *y)
{
    unsigned C = s->in_c;
    for (unsigned b = 0; b < B; b++) {
        const float *xb = x + (size_t)b * s->in_h * s->in_w * C;
        float *yb = y + (size_t)b * s->out_h * s->out_w * C;
        for (unsigned oy = 0; oy < s->out_h; oy++)
            for (unsigned ox = 0; ox < s->out_w; ox++)
                for (unsigned c = 0; c < C; c++) {
                    float m = xb[((size_t)oy * s->sy * s->in_w + (size_t)ox * s->sx) * C + c];
                    for (unsigned ky = 0; ky < s->kh; ky++)
                        for (unsigned kx = 0; kx < s->kw; kx++) {
                            float v = xb[(((size_t)oy * s->sy + ky) * s->in_w + (size_t)ox * s->sx + kx) * C + c];
                            m = v > m ? v : m;
                        }
                    yb[((size_t)oy * s->out_w + ox) * C + c] = m;
                }
    }
}

static int relu_after(const abfp_net *an, unsigned l)
{
    return an->mlp ? l + 1 < an->nl : an->cnn->layer[l].relu;
}

int abfp_net_eval(const abfp_net *an, const mn_set *s, unsigned first, unsigned count, int sqnr,
                  int float_only, abfp_eval *ev, char *err, size_t errlen)
{
    memset(ev, 0, sizeof *ev);
    double t0 = mn_now_s();
    if (first > s->n || count > s->n - first)
        count = first > s->n ? 0 : s->n - first;
    unsigned npix = s->rows * s->cols;
    size_t maxsz = npix;
    for (unsigned l = 0; l < an->nl; l++)
        maxsz = out_size(an, l) > maxsz ? out_size(an, l) : maxsz;
    float *a = malloc((size_t)ABFP_BATCH * maxsz * sizeof *a), *b = malloc((size_t)ABFP_BATCH * maxsz * sizeof *b);
    float *f = sqnr ? malloc((size_t)ABFP_BATCH * maxsz * sizeof *f) : NULL;
    mpq_abfp_wq wq[ABFP_MAX_LAYERS];
    memset(wq, 0, sizeof wq);
    double sig[ABFP_MAX_LAYERS] = {0}, nse[ABFP_MAX_LAYERS] = {0};
    int rc = a && b && (f || !sqnr) ? 0 : MPQ_ENOMEM;
    /* The MLP's weights go through the array unchanged from batch to batch: prepare them once. */
    for (unsigned l = 0; rc == 0 && an->mlp && !float_only && l < an->nl; l++)
        rc = mpq_abfp_wq_make(&an->p[l], an->mlp->w[l], an->mlp->dim[l + 1], an->mlp->dim[l], &wq[l], err, errlen);
    unsigned right = 0;
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned i0 = first; rc == 0 && i0 < first + count; i0 += ABFP_BATCH) {
        unsigned B = first + count - i0 < ABFP_BATCH ? first + count - i0 : ABFP_BATCH;
        for (size_t i = 0; i < (size_t)B * npix; i++)
            a[i] = (float)s->images[(size_t)i0 * npix + i] / 255.0f;
        for (unsigned l = 0; rc == 0 && l < an->nl; l++) {
            size_t ny = (size_t)B * out_size(an, l);
            if (!abfp_net_is_matrix(an, l)) {
                pool(&an->cnn->layer[l].s, B, a, b);
            } else {
                if (float_only)
                    rc = layer_float(an, l, B, a, b, err, errlen);
                else
                    rc = layer_abfp(an, l, &wq[l], B, i0, a, b, &ev->st[l], err, errlen);
                if (rc == 0 && sqnr) {
                    rc = layer_float(an, l, B, a, f, err, errlen);
                    for (size_t i = 0; rc == 0 && i < ny; i++) {
                        double d = (double)b[i] - (double)f[i];
                        sig[l] += (double)f[i] * f[i];
                        nse[l] += d * d;
                    }
                }
                if (relu_after(an, l))
                    for (size_t i = 0; i < ny; i++)
                        b[i] = b[i] > 0.0f ? b[i] : 0.0f;
            }
            float *t = a;
            a = b;
            b = t;
        }
        for (unsigned i = 0; rc == 0 && i < B; i++)
            right += mn_argmax_f(a + (size_t)i * 10, 10) == s->labels[i0 + i];
        for (size_t i = 0; rc == 0 && i < (size_t)B * 10; i++) {
            uint32_t u;
            memcpy(&u, &a[i], sizeof u);
            for (unsigned byte = 0; byte < 4; byte++)
                h = (h ^ ((u >> (8 * byte)) & 0xffu)) * 0x100000001b3ull;
        }
    }
    for (unsigned l = 0; l < ABFP_MAX_LAYERS; l++) {
        mpq_abfp_wq_free(&wq[l]);
        ev->sqnr_db[l] = nse[l] > 0.0 ? 10.0 * log10(sig[l] / nse[l]) : INFINITY;
    }
    free(a);
    free(b);
    free(f);
    ev->acc = count ? (double)right / count : 0.0;
    ev->out_hash = h;
    ev->secs = mn_now_s() - t0;
    return rc;
}
