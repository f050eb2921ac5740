/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_netkern.h: the planned int8 fast path of the graph runner's convolutions and
 * fully-connected layers, for TFLite's own arithmetic only (32-bit wrapping accumulator,
 * double or single rounding).
 *
 * It computes exactly what mpq_conv_acc / mpq_fc_acc followed by mpq_requant_one compute for
 * a 32-bit wrapping accumulator: the sum of the terms (x + in_offset) * (w + w_offset) plus
 * the bias, modulo 2^32, requantized. Since a wrapping sum does not depend on the order of
 * its terms, the kernel is free to reorder them: it lays a block of output pixels out as
 * im2col rows of 16-bit operands and reduces 4 rows against 8 channels at a time with
 * 16-bit multiply-adds into 32-bit lanes (SSE2; plain C with -DMPQ_NO_SIMD), then adds the
 * bias and requantizes in the same pass. Weights are converted and laid out once.
 *
 * The golden kernels stay the reference: the analysis modes (narrow or saturating
 * accumulators, overflow tracking) use them, the graph runner can be told to use them for
 * everything (mpq_net_opts.golden_kernels), and the unit tests compare both on random layers.
 */
#ifndef MPQ_NETKERN_H
#define MPQ_NETKERN_H

#include <stddef.h>
#include <stdint.h>

#include "arith/mpq.h"

typedef struct mpq_nk {
    mpq_conv_shape s;         /* CONV2D or DEPTHWISE geometry (FC: a 1x1 convolution) */
    int dw;                   /* depthwise: taps paired instead of input channels */
    unsigned ocp, tpairs;     /* depthwise: out_c rounded up to 8, (kh*kw + 1) / 2 */
    unsigned hp, wp;          /* the padded input's height and width */
    int direct;               /* 1x1, stride 1, unpadded, even depth: rows are input pixels */
    int16_t *wt;              /* analysis scan: [k or kh*kw][ocp] w + w_offset, channel-minor */
    int scan32;               /* the scan's int32 lanes are exact (per-channel bound < 2^31) */
    size_t *toff;             /* depthwise: [2*tpairs] element offset of each tap's pixel */
    unsigned groups, cpg, fpg; /* groups, output and input channels per group */
    unsigned k, kp, nblk;     /* depth per group, depth rounded up to even, 8-channel blocks */
    int32_t in_off;
    int16_t *w;               /* [groups][nblk][kp/2][8][2]: w + w_offset, zero-padded;
                               * depthwise: [nblk][tpairs][8][2] (channel, tap pair) */
    int32_t *bias;            /* [groups*nblk*8] */
    int32_t *mult;            /* [groups*nblk*8] */
    int8_t *shift;            /* [groups*nblk*8] TFLite's signed shift */
    int single;               /* single rounding (MPQ_RQ_SINGLE) instead of double */
    int vec;                  /* the vector epilogue applies (single rounding: no shift > 0,
                               * whose results would need saturating to 32 bits) */
    int32_t out_off, act_min, act_max;
} mpq_nk;

/* Plans a CONV2D shape s (groups allowed) with OHWI weights w[out_c][kh][kw][in_c/groups],
 * or a DEPTHWISE shape with weights [kh][kw][out_c], and offsets, bias [out_c] (NULL: zeros)
 * and the requantization rq (MPQ_RQ_DOUBLE or MPQ_RQ_SINGLE, 1 or out_c parameters).
 * Returns 0, 1 when the layer does not suit the fast path (a weight or activation offset that
 * does not fit 16 bits, another rounding kind), MPQ_ENOMEM. */
int mpq_nk_plan(mpq_nk *l, const mpq_conv_shape *s, const int32_t *w, int32_t w_off,
                const int32_t *bias, int32_t in_off, const mpq_requant *rq);
/* int16 elements of scratch mpq_nk_run needs. */
size_t mpq_nk_scratch(const mpq_nk *l);
/* y (int8, NHWC) from x (int8, NHWC). */
void mpq_nk_run(const mpq_nk *l, const int8_t *x, int8_t *y, int16_t *scratch);
void mpq_nk_free(mpq_nk *l);

/* Average or max pooling (kind AVGPOOL or MAXPOOL, a shape mpq_conv_check accepts) of int8
 * NHWC x into y: mpq_pool's arithmetic (windows clipped to the input, TFLite's rounding of
 * the average, then the clamp) on int8 directly. acc: scratch [in_c]. */
void mpq_nk_pool(const mpq_conv_shape *s, const int8_t *x, int32_t act_min, int32_t act_max,
                 int8_t *y, int32_t *acc);


/* The accumulator analysis of a convolution (CONV2D or DEPTHWISE; an FC layer as a 1x1
 * CONV2D over batches x 1 x 1 x k) in the golden model's order: the accumulator starts at
 * the bias, then adds the terms (x + in_off) * (w + w_off) in the order ky, kx, c (window
 * positions outside the input add none). Exact 64-bit sums (int8 models stay far below). A
 * `bits`-bit accumulator, wrapping or saturating, overflows exactly when some prefix leaves
 * [-2^(bits-1), 2^(bits-1)): before the first such prefix every sum is exact. */
typedef struct mpq_nk_scan_result {
    int64_t pmin, pmax;    /* over every prefix of every output (the bias alone included) */
    int64_t fmin, fmax;    /* over the final sums */
    uint64_t n_any;        /* outputs with a prefix outside the range */
    uint64_t n_final;      /* outputs whose final sum is outside it */
    long first[4];         /* n, y, x, c of the first such output, -1: none */
    long first_term;       /* its reduction index (ky*kw + kx)*F + c, -1: the bias */
} mpq_nk_scan_result;
/* Fills *o for activations x (int32, NHWC), weights w in the golden layout (OHWI; depthwise
 * [kh][kw][out_c]), bias [out_c] or NULL, 2 <= bits <= 64. Plain C, 64-bit sums. */
void mpq_nk_scan(const mpq_conv_shape *s, const int32_t *x, int32_t in_off, const int32_t *w,
                 int32_t w_off, const int32_t *bias, unsigned bits, mpq_nk_scan_result *o);

/* The same scan, planned once (mpq_nk_plan_scan: the layer as for mpq_nk_plan, plus the
 * weights channel-minor) and run on int8 activations 8 channels at a time: the im2col rows
 * (zeros in the padding add nothing, so the prefix sums are the golden order's) against the
 * weights, with the running minimum and maximum of each lane. Exact in 32-bit lanes when
 * every channel's |bias| + max|x + in_off| * sum|w + w_off| fits (l->scan32); otherwise, and
 * for the first overflowing output's term, mpq_nk_scan_run falls back on the plain scan
 * (x32: scratch [input elements]). Returns 0, 1 (not plannable: use mpq_nk_scan), MPQ_ENOMEM. */
int mpq_nk_plan_scan(mpq_nk *l, const mpq_conv_shape *s, const int32_t *w, int32_t w_off,
                     const int32_t *bias, int32_t in_off);
void mpq_nk_scan_run(const mpq_nk *l, const int8_t *x, const int32_t *w, int32_t w_off,
                     const int32_t *bias, unsigned bits, int16_t *scratch, int32_t *x32,
                     mpq_nk_scan_result *o);

#endif
