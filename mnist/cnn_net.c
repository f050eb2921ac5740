/* SPDX-License-Identifier: Apache-2.0 */
/* cnn_net.c: a small float CNN for 28x28 images (conv2d + ReLU, max pooling, a classifier
 * over the whole last map), trained with mini-batch Adam on softmax cross-entropy.
 *
 * Each conv2d runs as im2col + a matrix product: the patch of output pixel p is
 * col[p][(ky*kw + kx)*in_c + c] (0 where the window leaves the image: SAME padding with real
 * zeros, the quantized model's zero point), and the weights are kept transposed during
 * training, wt[k][o], so every inner loop runs over the output channels and vectorizes.
 * Deterministic: every random choice (initialization, shuffles) comes from the seed and the
 * loops have a fixed order; built with -O3 and reassociation allowed (mnist/cnn.mk), so the
 * result depends on the binary, never on the run. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnist.h"

#define BATCH 32u
#define IMG 28u

/* ---- Architecture ---- */

/* Reads a decimal number at *p (1..1000); 0 when there is none. */
static unsigned num(const char **p)
{
    unsigned v = 0;
    int digits = 0;
    while (**p >= '0' && **p <= '9' && digits < 5) {
        v = v * 10 + (unsigned)(**p - '0');
        (*p)++;
        digits++;
    }
    return v <= 1000 ? v : 0;
}

/* TFLite SAME padding of one axis: out = ceil(in / s), the odd row at the far side. */
static void same_pad(unsigned in, unsigned k, unsigned s, unsigned *out, unsigned *pad)
{
    *out = (in + s - 1) / s;
    long total = (long)(*out - 1) * s + k - in;
    *pad = total > 0 ? (unsigned)(total / 2) : 0;
}

static int parse_arch(cnn_net *net, const char *arch, char *err, size_t errlen)
{
    if (strlen(arch) >= sizeof net->arch) {
        snprintf(err, errlen, "architecture `%s` is too long", arch);
        return MPQ_EPARAM;
    }
    snprintf(net->arch, sizeof net->arch, "%s", arch);
    unsigned h = IMG, w = IMG, c = 1;
    const char *p = arch;
    int done = 0;
    while (*p) {
        if (net->nl == CNN_MAX_LAYERS || done) {
            snprintf(err, errlen, "architecture `%s`: %s", arch,
                     done ? "the classifier fN must be the last layer" : "too many layers");
            return MPQ_EPARAM;
        }
        cnn_layer *L = &net->layer[net->nl];
        mpq_conv_shape *s = &L->s;
        memset(s, 0, sizeof *s);
        s->batches = 1;
        s->in_h = h;
        s->in_w = w;
        s->in_c = c;
        s->dy = s->dx = 1;
        s->groups = 1;
        char op = *p++;
        unsigned n = num(&p);
        if (op == 'c' || op == 'f') {
            unsigned k = 3, st = 1, valid = op == 'f';
            while (op == 'c' && (*p == 'k' || *p == 's' || *p == 'v')) {
                char mod = *p++;
                if (mod == 'v')
                    valid = 1;
                else if (mod == 'k')
                    k = num(&p);
                else
                    st = num(&p);
            }
            if (op == 'f')
                k = h == w ? h : 0;
            s->kind = MPQ_LAYER_CONV2D;
            s->out_c = n;
            s->kh = s->kw = k;
            s->sy = s->sx = st;
            if (n == 0 || k == 0 || st == 0 || k > h || k > w) {
                snprintf(err, errlen, "architecture `%s`: layer %u (%c) has no valid filter count, "
                         "kernel or stride for its %ux%u input", arch, net->nl + 1, op, h, w);
                return MPQ_EPARAM;
            }
            if (valid) {
                s->out_h = (h - k) / st + 1;
                s->out_w = (w - k) / st + 1;
            } else {
                same_pad(h, k, st, &s->out_h, &s->py);
                same_pad(w, k, st, &s->out_w, &s->px);
            }
            L->relu = op == 'c';
            done = op == 'f';
        } else if (op == 'p') {
            s->kind = MPQ_LAYER_MAXPOOL;
            s->out_c = c;
            s->kh = s->kw = s->sy = s->sx = n;
            if (n < 2 || n > h || n > w) {
                snprintf(err, errlen, "architecture `%s`: layer %u: pooling window %u on a %ux%u map",
                         arch, net->nl + 1, n, h, w);
                return MPQ_EPARAM;
            }
            s->out_h = h / n;
            s->out_w = w / n;
        } else {
            snprintf(err, errlen, "architecture `%s`: unknown layer `%c` (cN[kK][sS][v], pP, fN)", arch, op);
            return MPQ_EPARAM;
        }
        char cerr[256];
        if (mpq_conv_check(s, cerr, sizeof cerr) != 0) {
            snprintf(err, errlen, "architecture `%s`: layer %u: %s", arch, net->nl + 1, cerr);
            return MPQ_EPARAM;
        }
        h = s->out_h;
        w = s->out_w;
        c = s->out_c;
        net->nl++;
        if (*p == ',')
            p++;
        else if (*p) {
            snprintf(err, errlen, "architecture `%s`: unexpected `%c`", arch, *p);
            return MPQ_EPARAM;
        }
    }
    if (!done || h != 1 || w != 1 || c != 10) {
        snprintf(err, errlen, "architecture `%s` must end with the classifier f10", arch);
        return MPQ_EPARAM;
    }
    return 0;
}

int cnn_init(cnn_net *net, const char *arch, uint64_t seed, char *err, size_t errlen)
{
    memset(net, 0, sizeof *net);
    int rc = parse_arch(net, arch, err, errlen);
    if (rc != 0) {
        memset(net, 0, sizeof *net);
        return rc;
    }
    mn_rng r = {seed};
    for (unsigned l = 0; l < net->nl; l++) {
        cnn_layer *L = &net->layer[l];
        if (L->s.kind != MPQ_LAYER_CONV2D)
            continue;
        size_t nw = mpq_conv_w_count(&L->s);
        L->w = malloc(nw * sizeof *L->w);
        L->b = calloc(L->s.out_c, sizeof *L->b);
        if (!L->w || !L->b) {
            cnn_free(net);
            snprintf(err, errlen, "out of memory");
            return MPQ_ENOMEM;
        }
        double sd = sqrt(2.0 / mpq_conv_depth(&L->s)); /* He initialization */
        for (size_t i = 0; i < nw; i++)
            L->w[i] = (float)(mn_rng_normal(&r) * sd);
    }
    return 0;
}

void cnn_free(cnn_net *net)
{
    for (unsigned l = 0; l < CNN_MAX_LAYERS; l++) {
        free(net->layer[l].w);
        free(net->layer[l].b);
    }
    memset(net, 0, sizeof *net);
}

size_t cnn_weight_count(const cnn_net *net)
{
    size_t n = 0;
    for (unsigned l = 0; l < net->nl; l++)
        n += mpq_conv_w_count(&net->layer[l].s);
    return n;
}

static size_t out_size(const mpq_conv_shape *s) { return (size_t)s->out_h * s->out_w * s->out_c; }
static size_t in_size(const mpq_conv_shape *s) { return (size_t)s->in_h * s->in_w * s->in_c; }

/* ---- Kernels ---- */

/* The im2col patches of x (one image) for shape s: col[out_h*out_w][kh*kw*in_c]. */
static void im2col(const mpq_conv_shape *s, const float *x, float *col)
{
    unsigned K = mpq_conv_depth(s), C = s->in_c;
    for (unsigned oy = 0; oy < s->out_h; oy++)
        for (unsigned ox = 0; ox < s->out_w; ox++) {
            float *row = col + ((size_t)oy * s->out_w + ox) * K;
            for (unsigned ky = 0; ky < s->kh; ky++) {
                long iy = (long)oy * s->sy - (long)s->py + ky;
                for (unsigned kx = 0; kx < s->kw; kx++) {
                    long ix = (long)ox * s->sx - (long)s->px + kx;
                    float *dst = row + ((size_t)ky * s->kw + kx) * C;
                    if (iy < 0 || iy >= (long)s->in_h || ix < 0 || ix >= (long)s->in_w)
                        memset(dst, 0, C * sizeof *dst);
                    else
                        memcpy(dst, x + ((size_t)iy * s->in_w + (size_t)ix) * C, C * sizeof *dst);
                }
            }
        }
}

/* The transpose of im2col: dx += the patches' gradients dcol, each to its input position. */
static void col2im_add(const mpq_conv_shape *s, const float *dcol, float *dx)
{
    unsigned K = mpq_conv_depth(s), C = s->in_c;
    for (unsigned oy = 0; oy < s->out_h; oy++)
        for (unsigned ox = 0; ox < s->out_w; ox++) {
            const float *row = dcol + ((size_t)oy * s->out_w + ox) * K;
            for (unsigned ky = 0; ky < s->kh; ky++) {
                long iy = (long)oy * s->sy - (long)s->py + ky;
                for (unsigned kx = 0; kx < s->kw; kx++) {
                    long ix = (long)ox * s->sx - (long)s->px + kx;
                    if (iy < 0 || iy >= (long)s->in_h || ix < 0 || ix >= (long)s->in_w)
                        continue;
                    const float *src = row + ((size_t)ky * s->kw + kx) * C;
                    float *d = dx + ((size_t)iy * s->in_w + (size_t)ix) * C;
                    for (unsigned c = 0; c < C; c++)
                        d[c] += src[c];
                }
            }
        }
}

/* y[P][O] = b + col[P][K] wt[K][O] (ReLU: relu_fwd). */
static void conv_fwd(unsigned P, unsigned K, unsigned O, const float *col, const float *wt,
                     const float *b, float *y)
{
    for (unsigned p = 0; p < P; p++) {
        float *yp = y + (size_t)p * O;
        memcpy(yp, b, O * sizeof *yp);
        const float *cp = col + (size_t)p * K;
        for (unsigned k = 0; k < K; k++) {
            float v = cp[k];
            if (v == 0.0f)
                continue;
            const float *wk = wt + (size_t)k * O;
            for (unsigned o = 0; o < O; o++)
                yp[o] += v * wk[o];
        }
    }
}

static void relu_fwd(float *y, size_t count)
{
    for (size_t i = 0; i < count; i++)
        y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

/* Max pooling (windows inside the map); arg[i] receives the input index of output i's max. */
static void pool_fwd(const mpq_conv_shape *s, const float *x, float *y, unsigned *arg)
{
    unsigned C = s->in_c;
    for (unsigned oy = 0; oy < s->out_h; oy++)
        for (unsigned ox = 0; ox < s->out_w; ox++)
            for (unsigned c = 0; c < C; c++) {
                size_t best = ((size_t)oy * s->sy * s->in_w + (size_t)ox * s->sx) * C + c;
                for (unsigned ky = 0; ky < s->kh; ky++)
                    for (unsigned kx = 0; kx < s->kw; kx++) {
                        size_t i = (((size_t)oy * s->sy + ky) * s->in_w + (size_t)ox * s->sx + kx) * C + c;
                        if (x[i] > x[best])
                            best = i;
                    }
                size_t o = ((size_t)oy * s->out_w + ox) * C + c;
                y[o] = x[best];
                if (arg)
                    arg[o] = (unsigned)best;
            }
}

/* ---- Work buffers of one image ---- */
typedef struct cnn_work {
    float *act[CNN_MAX_LAYERS];   /* every layer's output */
    float *col[CNN_MAX_LAYERS];   /* conv2d: the patches */
    unsigned *arg[CNN_MAX_LAYERS];/* pools: where each max came from */
    float *wt[CNN_MAX_LAYERS];    /* conv2d: weights transposed, [K][O] */
    float *x;                     /* the image, pixel / 255 */
} cnn_work;

static void work_free(cnn_work *wk)
{
    for (unsigned l = 0; l < CNN_MAX_LAYERS; l++) {
        free(wk->act[l]);
        free(wk->col[l]);
        free(wk->arg[l]);
        free(wk->wt[l]);
    }
    free(wk->x);
    memset(wk, 0, sizeof *wk);
}

static int work_alloc(const cnn_net *net, cnn_work *wk)
{
    memset(wk, 0, sizeof *wk);
    int bad = !(wk->x = malloc(IMG * IMG * sizeof *wk->x));
    for (unsigned l = 0; l < net->nl; l++) {
        const mpq_conv_shape *s = &net->layer[l].s;
        bad |= !(wk->act[l] = malloc(out_size(s) * sizeof(float)));
        if (s->kind == MPQ_LAYER_CONV2D) {
            bad |= !(wk->col[l] = malloc((size_t)s->out_h * s->out_w * mpq_conv_depth(s) * sizeof(float)));
            bad |= !(wk->wt[l] = malloc(mpq_conv_w_count(s) * sizeof(float)));
        } else {
            bad |= !(wk->arg[l] = malloc(out_size(s) * sizeof(unsigned)));
        }
    }
    if (bad)
        work_free(wk);
    return bad ? MPQ_ENOMEM : 0;
}

/* wt = the transpose of the OHWI weights, for the forward kernels. */
static void transpose_weights(const cnn_net *net, cnn_work *wk)
{
    for (unsigned l = 0; l < net->nl; l++) {
        const cnn_layer *L = &net->layer[l];
        if (L->s.kind != MPQ_LAYER_CONV2D)
            continue;
        unsigned K = mpq_conv_depth(&L->s), O = L->s.out_c;
        for (unsigned o = 0; o < O; o++)
            for (unsigned k = 0; k < K; k++)
                wk->wt[l][(size_t)k * O + o] = L->w[(size_t)o * K + k];
    }
}

/* The forward pass of one image; o (may be NULL) hooks into each conv2d layer. */
static void forward_hooked(const cnn_net *net, cnn_work *wk, const uint8_t *img, const cnn_train_opts *o,
                           unsigned image)
{
    for (unsigned i = 0; i < IMG * IMG; i++)
        wk->x[i] = (float)img[i] / 255.0f;
    const float *in = wk->x;
    for (unsigned l = 0; l < net->nl; l++) {
        const cnn_layer *L = &net->layer[l];
        const mpq_conv_shape *s = &L->s;
        if (s->kind == MPQ_LAYER_CONV2D) {
            unsigned P = s->out_h * s->out_w, K = mpq_conv_depth(s), O = s->out_c;
            im2col(s, in, wk->col[l]);
            if (!(o && o->layer && o->layer(o->ctx, l, 0, image, wk->col[l], P, K, O, wk->act[l]) == 1)) {
                conv_fwd(P, K, O, wk->col[l], wk->wt[l], L->b, wk->act[l]);
                if (o && o->layer)
                    o->layer(o->ctx, l, 1, image, wk->col[l], P, K, O, wk->act[l]);
            }
            if (L->relu)
                relu_fwd(wk->act[l], (size_t)P * O);
        } else {
            pool_fwd(s, in, wk->act[l], wk->arg[l]);
        }
        in = wk->act[l];
    }
}

static void forward_work(const cnn_net *net, cnn_work *wk, const uint8_t *img)
{
    forward_hooked(net, wk, img, NULL, 0);
}

void cnn_forward(const cnn_net *net, const uint8_t *img, float *const *act)
{
    cnn_work wk;
    if (work_alloc(net, &wk) != 0)
        return;
    transpose_weights(net, &wk);
    forward_work(net, &wk, img);
    for (unsigned l = 0; l < net->nl; l++)
        memcpy(act[l], wk.act[l], out_size(&net->layer[l].s) * sizeof(float));
    work_free(&wk);
}

double cnn_accuracy(const cnn_net *net, const mn_set *s, unsigned count)
{
    cnn_work wk;
    if (work_alloc(net, &wk) != 0)
        return 0.0;
    transpose_weights(net, &wk);
    if (count > s->n)
        count = s->n;
    unsigned right = 0, npix = s->rows * s->cols;
    for (unsigned i = 0; i < count; i++) {
        forward_work(net, &wk, &s->images[(size_t)i * npix]);
        right += mn_argmax_f(wk.act[net->nl - 1], 10) == s->labels[i];
    }
    work_free(&wk);
    return count ? (double)right / count : 0.0;
}

void cnn_calibrate(const cnn_net *net, const mn_set *s, unsigned count, float *amax)
{
    for (unsigned l = 0; l < net->nl; l++)
        amax[l] = 1e-6f;
    cnn_work wk;
    if (work_alloc(net, &wk) != 0)
        return;
    transpose_weights(net, &wk);
    if (count > s->n)
        count = s->n;
    unsigned npix = s->rows * s->cols;
    for (unsigned i = 0; i < count; i++) {
        forward_work(net, &wk, &s->images[(size_t)i * npix]);
        for (unsigned l = 0; l < net->nl; l++) {
            size_t n = out_size(&net->layer[l].s);
            for (size_t j = 0; j < n; j++)
                if (fabsf(wk.act[l][j]) > amax[l])
                    amax[l] = fabsf(wk.act[l][j]);
        }
    }
    work_free(&wk);
}

/* ---- Training ---- */

/* Backward pass of one image whose forward pass is in wk; dlast: the loss gradient of the
 * logits. Adds the weight and bias gradients to gw (transposed, [K][O]) and gb; d0, d1:
 * scratch of the largest layer size. */
static void backward(const cnn_net *net, cnn_work *wk, const float *dlast, float *const *gw,
                     float *const *gb, float *d0, float *d1, float *dcol)
{
    float *dy = d0, *dx = d1;
    memcpy(dy, dlast, 10 * sizeof *dy);
    for (unsigned l = net->nl; l-- > 0;) {
        const cnn_layer *L = &net->layer[l];
        const mpq_conv_shape *s = &L->s;
        size_t nin = in_size(s), nout = out_size(s);
        if (s->kind == MPQ_LAYER_MAXPOOL) {
            memset(dx, 0, nin * sizeof *dx);
            for (size_t i = 0; i < nout; i++)
                dx[wk->arg[l][i]] += dy[i];
        } else {
            unsigned P = s->out_h * s->out_w, K = mpq_conv_depth(s), O = s->out_c;
            if (L->relu)
                for (size_t i = 0; i < nout; i++)
                    if (wk->act[l][i] <= 0.0f)
                        dy[i] = 0.0f;
            for (unsigned p = 0; p < P; p++) {
                const float *dyp = dy + (size_t)p * O, *cp = wk->col[l] + (size_t)p * K;
                for (unsigned o = 0; o < O; o++)
                    gb[l][o] += dyp[o];
                for (unsigned k = 0; k < K; k++) {
                    float v = cp[k];
                    if (v == 0.0f)
                        continue;
                    float *g = gw[l] + (size_t)k * O;
                    for (unsigned o = 0; o < O; o++)
                        g[o] += v * dyp[o];
                }
            }
            if (l == 0)
                break; /* no gradient for the image */
            for (unsigned p = 0; p < P; p++) {
                const float *dyp = dy + (size_t)p * O;
                float *dc = dcol + (size_t)p * K;
                for (unsigned k = 0; k < K; k++) {
                    const float *wkk = wk->wt[l] + (size_t)k * O;
                    float sum = 0.0f;
                    for (unsigned o = 0; o < O; o++)
                        sum += wkk[o] * dyp[o];
                    dc[k] = sum;
                }
            }
            memset(dx, 0, nin * sizeof *dx);
            col2im_add(s, dcol, dx);
        }
        float *tmp = dy;
        dy = dx;
        dx = tmp;
    }
}

/* Adam state of one parameter array. */
typedef struct adam {
    float *m, *v;
} adam;

static void adam_step(float *p, const float *g, adam *a, size_t n, float lr, float scale,
                      float bc1, float bc2)
{
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] * scale;
        a->m[i] = b1 * a->m[i] + (1.0f - b1) * gi;
        a->v[i] = b2 * a->v[i] + (1.0f - b2) * gi * gi;
        p[i] -= lr * (a->m[i] / bc1) / (sqrtf(a->v[i] / bc2) + eps);
    }
}

/* The training state: each convolution's gradients (gw in the layout the backward pass
 * accumulates, gwo in the weights' own), Adam's moments, the backward pass's buffers. */
typedef struct cnn_train_state {
    float *gw[CNN_MAX_LAYERS], *gb[CNN_MAX_LAYERS], *gwo[CNN_MAX_LAYERS];
    adam aw[CNN_MAX_LAYERS], ab[CNN_MAX_LAYERS];
    float *d0, *d1, *dcol;
} cnn_train_state;

static void train_state_free(cnn_train_state *st)
{
    for (unsigned l = 0; l < CNN_MAX_LAYERS; l++) {
        free(st->gw[l]);
        free(st->gwo[l]);
        free(st->gb[l]);
        free(st->aw[l].m);
        free(st->aw[l].v);
        free(st->ab[l].m);
        free(st->ab[l].v);
    }
    free(st->d0);
    free(st->d1);
    free(st->dcol);
}

/* All zero. Returns 0 or MPQ_ENOMEM (nothing left allocated). */
static int train_state_alloc(const cnn_net *net, cnn_train_state *st)
{
    memset(st, 0, sizeof *st);
    size_t maxsz = IMG * IMG, maxcol = 0;
    for (unsigned l = 0; l < net->nl; l++) {
        const mpq_conv_shape *s = &net->layer[l].s;
        maxsz = out_size(s) > maxsz ? out_size(s) : maxsz;
        size_t c = (size_t)s->out_h * s->out_w * mpq_conv_depth(s);
        maxcol = c > maxcol ? c : maxcol;
    }
    st->d0 = malloc(maxsz * sizeof *st->d0);
    st->d1 = malloc(maxsz * sizeof *st->d1);
    st->dcol = malloc(maxcol * sizeof *st->dcol);
    int rc = st->d0 && st->d1 && st->dcol ? 0 : MPQ_ENOMEM;
    for (unsigned l = 0; rc == 0 && l < net->nl; l++) {
        const mpq_conv_shape *s = &net->layer[l].s;
        if (s->kind != MPQ_LAYER_CONV2D)
            continue;
        size_t nw = mpq_conv_w_count(s);
        st->gw[l] = calloc(nw, sizeof(float));
        st->gwo[l] = calloc(nw, sizeof(float));
        st->gb[l] = calloc(s->out_c, sizeof(float));
        st->aw[l].m = calloc(nw, sizeof(float));
        st->aw[l].v = calloc(nw, sizeof(float));
        st->ab[l].m = calloc(s->out_c, sizeof(float));
        st->ab[l].v = calloc(s->out_c, sizeof(float));
        if (!st->gw[l] || !st->gwo[l] || !st->gb[l] || !st->aw[l].m || !st->aw[l].v || !st->ab[l].m ||
            !st->ab[l].v)
            rc = MPQ_ENOMEM;
    }
    if (rc != 0)
        train_state_free(st);
    return rc;
}

/* One image of class lab: forward, softmax cross-entropy, its gradients added by the
 * backward pass. Returns its loss; *right counts a correct prediction. */
static double train_sample(const cnn_net *net, cnn_work *wk, cnn_train_state *st, const uint8_t *img,
                           unsigned lab, unsigned *right, const cnn_train_opts *opt, unsigned idx)
{
    forward_hooked(net, wk, img, opt, idx);
    /* Softmax cross-entropy. */
    const float *z = wk->act[net->nl - 1];
    float zmax = z[0], sum = 0.0f, dz[10];
    for (unsigned o = 1; o < 10; o++)
        zmax = z[o] > zmax ? z[o] : zmax;
    for (unsigned o = 0; o < 10; o++) {
        dz[o] = expf(z[o] - zmax);
        sum += dz[o];
    }
    for (unsigned o = 0; o < 10; o++)
        dz[o] /= sum;
    double loss = -log((double)dz[lab] + 1e-30);
    *right += mn_argmax_f(z, 10) == lab;
    dz[lab] -= 1.0f;
    backward(net, wk, dz, st->gw, st->gb, st->d0, st->d1, st->dcol);
    return loss;
}

/* Adam step t of every convolution over a batch of bn images' gradients. */
static void train_update(cnn_net *net, cnn_train_state *st, uint64_t t, float lr, unsigned bn)
{
    float bc1 = 1.0f - powf(0.9f, (float)t), bc2 = 1.0f - powf(0.999f, (float)t);
    for (unsigned l = 0; l < net->nl; l++) {
        cnn_layer *L = &net->layer[l];
        if (!st->gw[l])
            continue;
        unsigned K = mpq_conv_depth(&L->s), O = L->s.out_c;
        for (unsigned o = 0; o < O; o++)
            for (unsigned k = 0; k < K; k++)
                st->gwo[l][(size_t)o * K + k] = st->gw[l][(size_t)k * O + o];
        adam_step(L->w, st->gwo[l], &st->aw[l], (size_t)O * K, lr, 1.0f / (float)bn, bc1, bc2);
        adam_step(L->b, st->gb[l], &st->ab[l], O, lr, 1.0f / (float)bn, bc1, bc2);
    }
}

int cnn_train(cnn_net *net, const mn_set *train, const mn_set *test, unsigned epochs,
              uint64_t seed, FILE *logf)
{
    return cnn_train_ex(net, train, test, epochs, seed, logf, NULL);
}

int cnn_train_ex(cnn_net *net, const mn_set *train, const mn_set *test, unsigned epochs,
                 uint64_t seed, FILE *logf, const cnn_train_opts *opt)
{
    unsigned npix = train->rows * train->cols;
    if (npix != IMG * IMG || net->nl == 0)
        return MPQ_EPARAM;
    cnn_work wk;
    if (work_alloc(net, &wk) != 0)
        return MPQ_ENOMEM;
    cnn_train_state st;
    unsigned *order = malloc(train->n * sizeof *order);
    if (!order || train_state_alloc(net, &st) != 0) {
        free(order);
        work_free(&wk);
        return MPQ_ENOMEM;
    }
    mn_rng r = {seed ^ 0xc0ffee5eedull};
    for (unsigned i = 0; i < train->n; i++)
        order[i] = i;
    uint64_t t = 0;
    unsigned long long seen = 0;
    float lr0 = opt && opt->lr > 0.0f ? opt->lr : 2e-3f;
    int stop = 0;
    for (unsigned ep = 0; ep < epochs && !stop; ep++) {
        mn_shuffle(&r, order, train->n);
        float lr = lr0 * powf(0.5f, (float)(ep / 2));
        double loss = 0.0;
        unsigned right = 0;
        for (unsigned b0 = 0; b0 < train->n && !stop; b0 += BATCH) {
            unsigned bn = train->n - b0 < BATCH ? train->n - b0 : BATCH;
            transpose_weights(net, &wk);
            if (opt && opt->batch)
                opt->batch(opt->ctx, net);
            for (unsigned l = 0; l < net->nl; l++)
                if (st.gw[l]) {
                    memset(st.gw[l], 0, mpq_conv_w_count(&net->layer[l].s) * sizeof(float));
                    memset(st.gb[l], 0, net->layer[l].s.out_c * sizeof(float));
                }
            for (unsigned i = 0; i < bn; i++) {
                unsigned idx = order[b0 + i];
                loss += train_sample(net, &wk, &st, &train->images[(size_t)idx * npix], train->labels[idx], &right,
                                     opt, idx);
            }
            train_update(net, &st, ++t, lr, bn);
            unsigned long long before = seen;
            seen += bn;
            if (opt && opt->progress && opt->every && seen / opt->every != before / opt->every)
                opt->progress(opt->ctx, net, seen);
            if (opt && opt->max_images && seen >= opt->max_images)
                stop = 1;
        }
        if (logf && test) {
            fprintf(logf, "cnn: epoch %u/%u: loss %.4f, train accuracy %.2f%%, test accuracy %.2f%%\n",
                    ep + 1, epochs, loss / train->n, 100.0 * right / train->n,
                    100.0 * cnn_accuracy(net, test, test->n));
            fflush(logf);
        }
    }
    train_state_free(&st);
    free(order);
    work_free(&wk);
    return 0;
}

/* ---- File: "MPQCNN1\0", u32 length of the architecture string, the string, then w and b
 * of each conv2d layer as IEEE floats, all little-endian. ---- */

static int cnn_write(FILE *f, const void *ctx)
{
    const cnn_net *net = ctx;
    uint8_t hdr[12];
    memcpy(hdr, "MPQCNN1", 8);
    uint32_t alen = (uint32_t)strlen(net->arch);
    mn_put32(hdr + 8, alen);
    int bad = fwrite(hdr, 1, 12, f) != 12 || fwrite(net->arch, 1, alen, f) != alen;
    for (unsigned l = 0; !bad && l < net->nl; l++) {
        const cnn_layer *L = &net->layer[l];
        if (L->s.kind == MPQ_LAYER_CONV2D)
            bad = mn_write_floats(f, L->w, mpq_conv_w_count(&L->s)) ||
                  mn_write_floats(f, L->b, L->s.out_c);
    }
    return bad;
}

int cnn_save(const cnn_net *net, const char *path, char *err, size_t errlen)
{
    return mn_save(path, cnn_write, net, err, errlen);
}

int cnn_load(cnn_net *net, const char *path, const char *arch, char *err, size_t errlen)
{
    memset(net, 0, sizeof *net);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return MPQ_EIO;
    }
    uint8_t hdr[12];
    char a[64] = {0};
    int rc = 0;
    if (fread(hdr, 1, 12, f) != 12 || memcmp(hdr, "MPQCNN1", 8) != 0) {
        snprintf(err, errlen, "%s: not an mpq CNN file (bad magic)", path);
        rc = MPQ_EFORMAT;
    }
    uint32_t alen = rc ? 0 : mn_get32(hdr + 8);
    if (rc == 0 && alen >= sizeof a) {
        snprintf(err, errlen, "%s: malformed: architecture of %u characters", path, alen);
        rc = MPQ_EFORMAT;
    }
    if (rc == 0 && fread(a, 1, alen, f) != alen) {
        snprintf(err, errlen, "%s: truncated in the header", path);
        rc = MPQ_ETRUNC;
    }
    if (rc == 0 && arch && strcmp(a, arch) != 0) {
        snprintf(err, errlen, "%s: holds architecture `%s`, not `%s`", path, a, arch);
        rc = MPQ_EFORMAT;
    }
    if (rc == 0 && (rc = cnn_init(net, a, 0, err, errlen)) != 0)
        rc = rc == MPQ_ENOMEM ? rc : MPQ_EFORMAT;
    for (unsigned l = 0; rc == 0 && l < net->nl; l++) {
        cnn_layer *L = &net->layer[l];
        char what[32];
        snprintf(what, sizeof what, "layer %u", l + 1);
        if (L->s.kind == MPQ_LAYER_CONV2D) {
            rc = mn_read_floats(f, path, what, L->w, mpq_conv_w_count(&L->s), err, errlen);
            if (rc == 0)
                rc = mn_read_floats(f, path, what, L->b, L->s.out_c, err, errlen);
        }
    }
    rc = mn_read_end(f, path, rc, err, errlen);
    if (rc != 0)
        cnn_free(net);
    return rc;
}
