/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_layer.h: the golden model's layers, planned once and run on any number of inputs.
 *
 * Every fully-connected, convolution, depthwise and pooling layer the golden model computes
 * goes through here: mpq_fc, mpq_conv and mpq_pool (mpq.h) plan, run once and free; the graph
 * runner (net/mpq_graph.c) plans each layer of a model once and runs it per inference. The
 * plan checks the layer, lays out its weights for the MAC engine (mpq_mac.h) and chooses the
 * engine's kernel from the value bounds (the activations' range and the weights):
 *
 *   tile      the result does not depend on the order of the terms: a wrapping accumulator
 *             of at most 32 bits that nothing tracks, or bounds that prove no fit can change
 *             a value. 16-bit operand pairs multiply-added into 32-bit lanes, 4 rows x 8
 *             channels (im2col rows of a padded 16-bit copy of the input; depthwise: the
 *             window's taps in pairs, 8 channels per vector). Wrapping additions: exact
 *             modulo 2^32, which is all such an accumulator keeps.
 *   checked   overflow analysis (MPQ_LAYER_PREFIX): the same lanes from the bias, with every
 *             prefix sum bounded per block of 16 terms (mpq_mac.h); the outputs the bounds
 *             leave undecided, and the first overflowing one, are then followed term by term
 *             (mpq_mac_prefix).
 *   exact     everything else (any order, saturation, tracking with per-output reports,
 *             ternary and sparse weights, operands beyond 16 bits): the engine's exact
 *             kernels, one output row at a time, fits at the declared order's points.
 *
 * All three compute the same numbers (golden/tests: test_fc, test_conv, test_tflite compare
 * them with MPQ_LAYER_EXACT and against naive references). One run at a time per plan.
 */
#ifndef MPQ_LAYER_H
#define MPQ_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "arith/mpq.h"

typedef struct mpq_layer mpq_layer;

#define MPQ_LAYER_TRACK 1u  /* overflow reports (mpq_layer_ovf) */
#define MPQ_LAYER_PREFIX 2u /* with TRACK: also the narrowest accumulator that never overflows
                             * and the range of the final sums (order SEQ, dense weights); the
                             * per-output arrays are then optional and cost exact scans */
#define MPQ_LAYER_EXACT 4u  /* the exact kernels only (cross-checks; mpq-golden's
                             * --golden-kernels) */
#define MPQ_LAYER_INT8 8u   /* runs take int8 activations (x_min, x_max are -128, 127) */
#define MPQ_LAYER_RANGED 16u /* int32 runs: the caller took x_min, x_max from the very input
                              * it runs (mpq_fc, mpq_conv), so the run does not scan it again */

typedef struct mpq_layer_def {
    /* CONV2D, DEPTHWISE, AVGPOOL, MAXPOOL; a fully-connected layer is mpq_layer_fc_shape(m,
     * k, n): m rows of k activations, n channels. */
    mpq_conv_shape shape;
    /* Conv and FC: the arithmetic (in_offset, w, w_offset, t, alpha, alpha_per_tensor, hp,
     * hp_nm and hp_csr (FC only), bias, acc_bits, acc_mode, order, group; m, k, n and x are
     * not read). The arrays are read during mpq_layer_init only. Pools: NULL. */
    const mpq_fc_layer *mac;
    const mpq_requant *rq;     /* conv and FC: NULL, or the requantization of the y outputs */
    int32_t act_min, act_max;  /* pools: the clamp */
    int32_t x_min, x_max;      /* int32 runs: every activation lies in [x_min, x_max] */
    unsigned flags;            /* MPQ_LAYER_* */
} mpq_layer_def;

/* The shape of a fully-connected layer: kind FC, batches = m, in_c = k, out_c = n, every
 * spatial extent, stride and dilation 1. Output (r, c) is element r*n + c. */
mpq_conv_shape mpq_layer_fc_shape(unsigned m, unsigned k, unsigned n);

/* Plans the layer. Returns 0; MPQ_EPARAM with err saying what (shape, weights, accumulator,
 * requantization, flags); MPQ_ENOMEM. */
int mpq_layer_init(mpq_layer **l, const mpq_layer_def *d, char *err, size_t errlen);
void mpq_layer_free(mpq_layer *l);

/* Overflow report of one run (MPQ_LAYER_TRACK), outputs indexed as the outputs. */
typedef struct mpq_layer_ovf {
    uint8_t *flags;       /* [outputs] or NULL, caller-owned: MPQ_OVF_FINAL, MPQ_OVF_ANY */
    int32_t *first;       /* [outputs] or NULL: the reduction index of the last term of the
                           * run whose fit overflowed first (-1: none, or fit(bias)) */
    size_t n_final, n_any;
    long first_out;       /* the first output (in output order) that overflowed, -1: none */
    long first_term;      /* its first[] value (-1: fit(bias)) */
    unsigned min_bits;    /* PREFIX: the narrowest accumulator no prefix sum leaves */
    int64_t final_lo, final_hi; /* PREFIX: range of the exact final sums (bias included) */
} mpq_layer_ovf;

/* What a run writes: any of them may be NULL (y and y8 need the plan's rq; y8 its clamp
 * within int8; ovf the TRACK flag). Outputs NHWC ([m][n] for FC). */
typedef struct mpq_layer_out {
    int64_t *acc;         /* the fitted accumulators (conv, FC) */
    int32_t *y;           /* requantized (conv, FC: mpq_requant_one), pooled (pools) */
    int8_t *y8;           /* the same as int8 */
    mpq_layer_ovf *ovf;
} mpq_layer_out;

/* Bytes of scratch a run needs (the padded input, im2col rows, the int32 lanes). */
size_t mpq_layer_scratch_bytes(const mpq_layer *l);

/* One run on x (int32, within the planned range) or x8 (int8, MPQ_LAYER_INT8 plans): exactly
 * one of them. scratch: mpq_layer_scratch_bytes of memory aligned to 16 bytes (one buffer
 * may serve many plans, one run at a time), or NULL: the run allocates it. Returns 0;
 * MPQ_EPARAM (err: an activation outside the planned range, an output the plan cannot give);
 * MPQ_ENOMEM (scratch NULL only). */
int mpq_layer_run(mpq_layer *l, const int32_t *x, const int8_t *x8, mpq_layer_out *out,
                  void *scratch, char *err, size_t errlen);

/* "tile", "checked", "verdict", "exact" or "pool": the kernel the plan chose. */
const char *mpq_layer_kernel(const mpq_layer *l);

/* The vector instructions of the tile kernels and the int8 requantizer: plain C (builds with
 * -DMPQ_NO_SIMD or without SSE2: MPQ_SIMD_NONE), SSE2 (every x86-64 build), AVX2 (x86-64 with
 * GCC or Clang, chosen at run time when the CPU has it). Every level computes the same
 * numbers. */
typedef enum mpq_simd { MPQ_SIMD_NONE = 0, MPQ_SIMD_SSE2, MPQ_SIMD_AVX2 } mpq_simd;
/* The level in use: the best the build and the CPU offer, at most the limit. */
mpq_simd mpq_simd_level(void);
/* Sets the limit (tests compare the levels; a tool may ask for a lower one; below the build's
 * lowest, the lowest) and returns the level now in use. Not for use while another thread
 * runs a layer. */
mpq_simd mpq_simd_limit(mpq_simd max);
/* "none", "sse2", "avx2" ("?" when out of range). */
const char *mpq_simd_name(mpq_simd s);

#endif
