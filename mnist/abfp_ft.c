/* SPDX-License-Identifier: Apache-2.0 */
/* abfp_ft.c: fine-tuning the CNN for its analog matrix units (abfp.h), two ways, through the
 * hooks of cnn_train_ex (straight-through backward passes in both):
 *   QAT (noise-aware quantization-aware training): every conv2d layer of every training
 *     forward pass runs on the emulated array (ABFP, gain, ADC, noise), its weights prepared
 *     again before every batch;
 *   DNF (differential noise fine-tuning, arXiv 2205.06287): the forward passes stay float; to
 *     each conv2d layer's output is added a sample of the array's differential noise, the
 *     difference between the array's output and the float output of that layer on the same
 *     input, measured on `dnf_calib` training images and measured again every `dnf_refresh`
 *     images (the weights move). The sample of output (pixel p, channel o) is the difference
 *     at (p, o) of a calibration image drawn at random for that element.
 * Time is CPU time of the process (clock()), evaluation excluded, the DNF measurements
 * included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abfp.h"

typedef struct ft_ctx {
    abfp_net *an;
    cnn_net *net;
    const abfp_ft_opts *o;
    const mn_set *train;
    mpq_abfp_wq wq[ABFP_MAX_LAYERS];   /* QAT: the weights on the arrays */
    float *diff[ABFP_MAX_LAYERS];      /* DNF: [dnf_calib][P*O] differences per layer */
    unsigned long long forwards;       /* training forward passes so far (the noise numbering) */
    unsigned long long measured_at;    /* DNF: images seen at the last measurement */
    int measured;
    mn_rng rng;
    abfp_ft_point *pts;
    unsigned npts, npts_max;
    double eval_secs;                  /* CPU seconds spent evaluating */
    double measure_secs;               /* DNF: CPU seconds spent measuring the differences */
    clock_t c0;
    int rc;
    char *err;
    size_t errlen;
} ft_ctx;

static double cpu_s(void) { return (double)clock() / CLOCKS_PER_SEC; }

/* DNF: the differences of every conv2d layer on the first dnf_calib training images, each
 * layer on the float network's input to it. */
static int measure(ft_ctx *c)
{
    const cnn_net *net = c->net;
    unsigned N = c->o->dnf_calib, npix = c->train->rows * c->train->cols;
    float *act[CNN_MAX_LAYERS] = {0};
    int rc = 0;
    for (unsigned l = 0; l < net->nl && rc == 0; l++) {
        const mpq_conv_shape *s = &net->layer[l].s;
        if (!(act[l] = malloc((size_t)s->out_h * s->out_w * s->out_c * sizeof(float))))
            rc = MPQ_ENOMEM;
    }
    float *x = malloc(npix * sizeof *x), *y = NULL;
    size_t maxo = 0;
    for (unsigned l = 0; l < net->nl; l++) {
        const mpq_conv_shape *s = &net->layer[l].s;
        size_t n = (size_t)s->out_h * s->out_w * s->out_c;
        maxo = n > maxo ? n : maxo;
        if (rc == 0 && s->kind == MPQ_LAYER_CONV2D && !c->diff[l] && !(c->diff[l] = malloc((size_t)N * n * sizeof(float))))
            rc = MPQ_ENOMEM;
    }
    if (rc == 0 && (!x || !(y = malloc(maxo * sizeof *y))))
        rc = MPQ_ENOMEM;
    for (unsigned i = 0; rc == 0 && i < N; i++) {
        const uint8_t *img = &c->train->images[(size_t)i * npix];
        cnn_forward(net, img, act);
        for (unsigned p = 0; p < npix; p++)
            x[p] = (float)img[p] / 255.0f;
        const float *in = x;
        for (unsigned l = 0; rc == 0 && l < net->nl; l++) {
            const cnn_layer *L = &net->layer[l];
            if (L->s.kind == MPQ_LAYER_CONV2D) {
                size_t n = (size_t)L->s.out_h * L->s.out_w * L->s.out_c;
                rc = mpq_abfp_conv(&c->an->p[l], &L->s, in, L->w, L->b, ((uint64_t)1 << 40) + (c->forwards + i) * L->s.out_h * L->s.out_w,
                                   y, NULL, c->err, c->errlen);
                /* cnn_forward's act is after the ReLU; the float output before it is needed:
                 * recompute it from the same input as the array's difference partner. */
                float *d = c->diff[l] + (size_t)i * n;
                if (rc == 0) {
                    /* float layer, pre-activation: y_f = b + W x, summed in float as cnn_net.c */
                    unsigned P = L->s.out_h * L->s.out_w, K = mpq_conv_depth(&L->s), O = L->s.out_c;
                    float *col = malloc((size_t)K * sizeof *col);
                    if (!col) {
                        rc = MPQ_ENOMEM;
                        break;
                    }
                    for (unsigned pp = 0; pp < P; pp++) {
                        unsigned oy = pp / L->s.out_w, ox = pp % L->s.out_w;
                        for (unsigned ky = 0; ky < L->s.kh; ky++)
                            for (unsigned kx = 0; kx < L->s.kw; kx++) {
                                long iy = (long)oy * L->s.sy - (long)L->s.py + ky;
                                long ix = (long)ox * L->s.sx - (long)L->s.px + kx;
                                float *dst = col + ((size_t)ky * L->s.kw + kx) * L->s.in_c;
                                int inside = iy >= 0 && iy < (long)L->s.in_h && ix >= 0 && ix < (long)L->s.in_w;
                                for (unsigned ch = 0; ch < L->s.in_c; ch++)
                                    dst[ch] = inside ? in[((size_t)iy * L->s.in_w + (size_t)ix) * L->s.in_c + ch] : 0.0f;
                            }
                        for (unsigned o = 0; o < O; o++) {
                            float f = L->b[o];
                            const float *wo = L->w + (size_t)o * K;
                            for (unsigned k = 0; k < K; k++)
                                f += col[k] * wo[k];
                            d[(size_t)pp * O + o] = y[(size_t)pp * O + o] - f;
                        }
                    }
                    free(col);
                }
            }
            in = act[l];
        }
    }
    for (unsigned l = 0; l < CNN_MAX_LAYERS; l++)
        free(act[l]);
    free(x);
    free(y);
    return rc;
}

static int hook_layer(void *ctx, unsigned l, int phase, unsigned image, const float *col, unsigned P, unsigned K,
                      unsigned O, float *y)
{
    ft_ctx *c = ctx;
    (void)image;
    (void)K;
    if (c->rc != 0)
        return 0;
    if (c->o->mode == ABFP_FT_QAT) {
        if (phase != 0)
            return 0;
        /* Conversions numbered by the forward pass: fresh noise in every pass. */
        c->rc = mpq_abfp_mvm(&c->an->p[l], &c->wq[l], P, col, c->net->layer[l].b, (uint64_t)c->forwards * P, y, NULL,
                             c->err, c->errlen);
        return 1;
    }
    if (phase != 1)
        return 0;
    const float *d = c->diff[l];
    unsigned N = c->o->dnf_calib;
    size_t n = (size_t)P * O;
    for (size_t i = 0; i < n; i++) {
        unsigned img = (unsigned)(((mn_rng_next(&c->rng) >> 32) * N) >> 32);
        y[i] += d[(size_t)img * n + i];
    }
    if (l + 1 == c->net->nl)
        c->forwards++;
    return 0;
}

static void hook_batch(void *ctx, const cnn_net *net)
{
    ft_ctx *c = ctx;
    if (c->rc != 0)
        return;
    if (c->o->mode == ABFP_FT_QAT) {
        for (unsigned l = 0; l < net->nl && c->rc == 0; l++) {
            const cnn_layer *L = &net->layer[l];
            if (L->s.kind != MPQ_LAYER_CONV2D)
                continue;
            mpq_abfp_wq_free(&c->wq[l]);
            c->rc = mpq_abfp_wq_make(&c->an->p[l], L->w, L->s.out_c, mpq_conv_depth(&L->s), &c->wq[l], c->err,
                                     c->errlen);
        }
        return;
    }
    unsigned long long seen = c->forwards;
    if (!c->measured || seen - c->measured_at >= c->o->dnf_refresh) {
        double t = cpu_s();
        c->rc = measure(c);
        c->measure_secs += cpu_s() - t;
        c->measured_at = seen;
        c->measured = 1;
    }
}

static void record(ft_ctx *c, unsigned long long images)
{
    double t = cpu_s();
    abfp_eval ev;
    int rc = abfp_net_eval(c->an, c->o->eval_set, c->o->eval_first, c->o->eval_count, 0, 0, &ev, c->err, c->errlen);
    if (rc != 0 && c->rc == 0)
        c->rc = rc;
    if (c->npts < c->npts_max) {
        abfp_ft_point *p = &c->pts[c->npts++];
        p->images = images;
        p->acc = ev.acc;
        p->train_secs = t - (double)c->c0 / CLOCKS_PER_SEC - c->eval_secs;
        p->measure_secs = c->measure_secs;
    }
    c->eval_secs += cpu_s() - t;
}

static void hook_progress(void *ctx, const cnn_net *net, unsigned long long images)
{
    (void)net;
    ft_ctx *c = ctx;
    if (c->rc == 0)
        record(c, images);
}

/* QAT counts its forward passes here (the DNF hook counts them itself). */
static int hook_layer_qat(void *ctx, unsigned l, int phase, unsigned image, const float *col, unsigned P,
                          unsigned K, unsigned O, float *y)
{
    ft_ctx *c = ctx;
    int r = hook_layer(ctx, l, phase, image, col, P, K, O, y);
    if (phase == 0 && l + 1 == c->net->nl)
        c->forwards++;
    return r;
}

int abfp_finetune(abfp_net *an, cnn_net *net, const mn_set *train, const abfp_ft_opts *o,
                  abfp_ft_point *pts, unsigned npts_max, unsigned *npts, char *err, size_t errlen)
{
    ft_ctx c;
    memset(&c, 0, sizeof c);
    c.an = an;
    c.net = net;
    c.o = o;
    c.train = train;
    c.rng.s = o->seed ^ 0xd1f5eedull;
    c.pts = pts;
    c.npts_max = npts_max;
    c.err = err;
    c.errlen = errlen;
    an->cnn = net;
    if (o->mode == ABFP_FT_DNF && (o->dnf_calib == 0 || o->dnf_calib > train->n || o->dnf_refresh == 0)) {
        snprintf(err, errlen, "dnf: %u calibration images of %u, refresh every %llu: out of range", o->dnf_calib,
                 train->n, o->dnf_refresh);
        return MPQ_EPARAM;
    }
    c.c0 = clock();
    record(&c, 0);
    cnn_train_opts t = {
        .lr = o->lr,
        .max_images = o->images,
        .layer = o->mode == ABFP_FT_QAT ? hook_layer_qat : hook_layer,
        .batch = hook_batch,
        .progress = hook_progress,
        .every = o->every,
        .ctx = &c,
    };
    unsigned epochs = (unsigned)((o->images + train->n - 1) / train->n);
    int rc = cnn_train_ex(net, train, NULL, epochs ? epochs : 1, o->seed, NULL, &t);
    if (rc == 0)
        rc = c.rc;
    for (unsigned l = 0; l < ABFP_MAX_LAYERS; l++) {
        mpq_abfp_wq_free(&c.wq[l]);
        free(c.diff[l]);
    }
    *npts = c.npts;
    return rc;
}
