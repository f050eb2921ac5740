/* SPDX-License-Identifier: Apache-2.0 */
/* The random int8 layers of the network-mapping tests (test_netmap, test_netdecomp): a conv
 * or FC shape, a layer's buffers and its drawn inputs and zero points, the count of outputs
 * that differ. Each test draws the weights and requantization its own way. Test code only. */
#ifndef MPQ_TEST_LAYERS_H
#define MPQ_TEST_LAYERS_H
#include <string.h>

#include "arith/mpq.h"
#include "check.h"
#include "stim/mpq_netmap.h"

/* A layer of shape q.s (kind FC: q.m, q.k, q.n) and its buffers: nx inputs, nw weights, ny
 * outputs, nch output channels of depth weights each; sw, the per-channel float weight
 * scales, only where a test sets them (NULL otherwise). */
typedef struct test_layer {
    mpq_qlayer q;
    int32_t *x, *w, *bias, *mult, *shift;
    float *sw;
    size_t nx, nw, ny;
    unsigned nch, depth;
} test_layer;

/* Sizes r for shape s (kind FC: m x k inputs, n x k weights), allocates x, w, bias, mult and
 * shift, and draws the int8 inputs uniformly; the rest of r is zero. */
static inline void test_layer_alloc(test_layer *r, const mpq_conv_shape *s, unsigned m, unsigned k, unsigned n)
{
    memset(r, 0, sizeof *r);
    r->q.s = *s;
    int fc = s->kind == MPQ_LAYER_FC;
    r->q.m = m;
    r->q.k = k;
    r->q.n = n;
    r->nx = fc ? (size_t)m * k : mpq_conv_in_count(s);
    r->nw = fc ? (size_t)n * k : mpq_conv_w_count(s);
    r->ny = fc ? (size_t)m * n : mpq_conv_out_count(s);
    r->nch = fc ? n : s->out_c;
    r->depth = fc ? k : mpq_conv_depth(s);
    r->x = malloc(r->nx * sizeof *r->x);
    r->w = malloc(r->nw * sizeof *r->w);
    r->bias = malloc(r->nch * sizeof *r->bias);
    r->mult = malloc(r->nch * sizeof *r->mult);
    r->shift = malloc(r->nch * sizeof *r->shift);
    for (size_t i = 0; i < r->nx; i++)
        r->x[i] = (int32_t)test_range(-128, 127);
}

/* Points r->q at r's weights, biases and requantization, and draws the zero points and the
 * fused activation's clamp: none, or ReLU's (from the output zero point). */
static inline void test_layer_link(test_layer *r)
{
    r->q.w = r->w;
    r->q.bias = r->bias;
    r->q.mult = r->mult;
    r->q.shift = r->shift;
    r->q.in_offset = (int32_t)test_range(-127, 128);
    r->q.out_offset = (int32_t)test_range(-128, 127);
    r->q.act_min = test_range(0, 1) ? -128 : r->q.out_offset;
    r->q.act_max = 127;
}

static inline void test_layer_free(test_layer *r)
{
    free(r->x);
    free(r->w);
    free(r->bias);
    free(r->mult);
    free(r->shift);
    free(r->sw);
}

/* An FC layer's shape: the kind, the rest zero (the layer's m, k, n say its size). */
static inline mpq_conv_shape test_fc_shape(void)
{
    mpq_conv_shape sh;
    memset(&sh, 0, sizeof sh);
    sh.kind = MPQ_LAYER_FC;
    return sh;
}

/* A conv2d or depthwise shape, one batch, one group: h x w x c in, o out channels, kh x kw
 * taps at stride s and dilation d; same: SAME padding (TFLite's split, the smaller half
 * before), else VALID. */
static inline mpq_conv_shape test_conv_shape(mpq_layer_kind kind, unsigned h, unsigned w, unsigned c, unsigned o,
                                             unsigned kh, unsigned kw, unsigned s, unsigned d, int same)
{
    mpq_conv_shape sh;
    memset(&sh, 0, sizeof sh);
    sh.kind = kind;
    sh.batches = 1;
    sh.in_h = h;
    sh.in_w = w;
    sh.in_c = c;
    sh.out_c = o;
    sh.kh = kh;
    sh.kw = kw;
    sh.sy = sh.sx = s;
    sh.dy = sh.dx = d;
    sh.groups = 1;
    unsigned ey = (kh - 1) * d + 1, ex = (kw - 1) * d + 1;
    if (same) {
        sh.out_h = (h + s - 1) / s;
        sh.out_w = (w + s - 1) / s;
        unsigned pty = (sh.out_h - 1) * s + ey > h ? (sh.out_h - 1) * s + ey - h : 0;
        unsigned ptx = (sh.out_w - 1) * s + ex > w ? (sh.out_w - 1) * s + ex - w : 0;
        sh.py = pty / 2;
        sh.px = ptx / 2;
    } else {
        sh.out_h = (h - ey) / s + 1;
        sh.out_w = (w - ex) / s + 1;
    }
    return sh;
}

/* How many of the n outputs y differ from ref; *first, the first that does (0 if none). */
static inline size_t test_count_diff(const int32_t *y, const int32_t *ref, size_t n, size_t *first)
{
    size_t bad = 0;
    *first = 0;
    for (size_t i = 0; i < n; i++)
        if (y[i] != ref[i] && bad++ == 0)
            *first = i;
    return bad;
}
#endif
