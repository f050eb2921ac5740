/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_job.h: one transaction of the transaction-level check: a layer, its input tensors and
 * the output tensor the golden model computes for it.
 *
 * Two forms, one per codec of mpq_desc.h:
 *   - an int8 layer (codec layout): a fully-connected layer, a convolution or a depthwise
 *     convolution with dense int8 weights, per-channel bias and TFLite requantization, as an
 *     mpq-case (mpq.h); from a random draw that fits the description (its kinds, limits and
 *     arithmetic), from an mpq-case file, or from a TFLite model's layer;
 *   - mpq's own mixed-precision layer (codec mpq): mpq_hw_layer (stim/mpq_hwlayer.h), drawn as
 *     the lockstep co-simulation draws its layers.
 * The expected output is the golden functional model's (mpq_fc, mpq_conv), never the DUT's.
 */
#ifndef MPQ_JOB_H
#define MPQ_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "arith/mpq.h"
#include "contract/mpq_hw.h"
#include "dut/mpq_desc.h"
#include "stim/mpq_hwlayer.h"
#include "stim/mpq_opts.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mpq_job {
    int is_hw;            /* 1: hl (codec mpq); 0: c (codec layout) */
    mpq_case c;           /* the layer; mult and shift per output channel; c.expect: y */
    mpq_hw_layer hl;      /* codec mpq: the layer */
    int32_t *hy;          /* codec mpq: expected y[m][n] */
    mpq_conv_shape shape; /* the layer as a convolution (FC: m pixels of 1x1, k channels) */
    uint64_t seed;        /* the layer seed (random jobs) */
    unsigned op;          /* the operator index (model jobs) */
    char source[300];     /* what it is: "random conv2d ... seed 7", "case FILE", "model FILE op 3" */
} mpq_job;

/* The names the layer-field expressions of a description may use (docs/dut.md): kind (fc 0,
 * conv2d 1, depthwise 2), batches, in_h, in_w, in_c, out_h, out_w, out_c, kh, kw, sy, sx, dy,
 * dx, py, px, groups, ch_mult, depth (reduction depth of one output), window (kh*kw*in_c: an
 * im2col row), pixels (batches*out_h*out_w), m, k, n (the FC view: pixels, depth, out_c),
 * in_offset, w_offset, out_offset, act_min, act_max. */
int mpq_job_field_known(const char *name, size_t len);
/* The names above, comma-separated (for messages). */
const char *mpq_job_field_list(void);
/* The value of field `name` for job j: 0 with *v, or -1 for an unknown name. */
int mpq_job_field(const mpq_job *j, const char *name, size_t len, int64_t *v);
/* The value of an expression over the fields of j and the description's params and lets.
 * Returns 0, or MPQ_EPARAM with err. */
int mpq_job_eval(const mpq_desc *d, const mpq_job *j, const char *expr, int64_t *v, char *err, size_t errlen);

/* Whether the description's DUT runs j: its kind among the `kinds`, every `limit`. Returns 0,
 * or MPQ_EPARAM with "desc:line: limit depth <= 256: this layer has 576" in err. */
int mpq_job_fits(const mpq_desc *d, const mpq_job *j, char *err, size_t errlen);

/* Frees the job's arrays and zeroes it. */
void mpq_job_free(mpq_job *j);

/* A random int8 layer for description d (codec layout) from `seed` and the layer options of a
 * that were given (a->given: --layer, --shape, --m, --k, --n, --profile: random, overflow
 * (extreme magnitudes), requant-edge, extreme): shapes mostly small, every kind the DUT runs,
 * strides, dilations, paddings, groups now and then; values drawn so that the outputs spread
 * over the output range. Redraws (up to 1000 times) a shape that breaks a limit. Returns 0,
 * MPQ_EPARAM (an option the DUT cannot run, or no shape found: err says which limit) or
 * MPQ_ENOMEM. */
int mpq_job_random(const mpq_desc *d, const mpq_stim_args *a, uint64_t seed, mpq_job *j, char *err,
                   size_t errlen);
/* An mpq-case file as a job for description d: a convolution or FC layer with dense weights
 * (no ternary or sparse part), per-tensor parameters repeated per channel, the description's
 * arithmetic (its expected outputs are the golden model's, not the file's). Returns 0, or the
 * reader's code / MPQ_EPARAM with err. */
int mpq_job_from_case(const mpq_desc *d, const char *path, mpq_job *j, char *err, size_t errlen);
/* Takes over c (a layer with per-channel mult and shift, dense w) as job j for description d:
 * computes its expected output with d's arithmetic. c is zeroed. Returns 0, MPQ_EPARAM,
 * MPQ_ENOMEM. */
int mpq_job_adopt(const mpq_desc *d, mpq_case *c, const char *source, mpq_job *j, char *err, size_t errlen);

/* The convolution and fully-connected layers of TFLite model `path` as jobs for description d
 * (codec layout). The golden model runs the model once (net/mpq_graph.h, TFLite Micro's
 * arithmetic) on a random input from `seed` (mpq_net_random_input); a layer's job takes the
 * int8 activations that run gives it, the model's weights, bias and quantization
 * (mpq_net_layer_get) and, as its expected output, what the golden model computes with d's
 * arithmetic (mpq_job_adopt); when d's arithmetic is TFLite's (32-bit wrapping accumulator,
 * double rounding) that output must equal the net's own for the operator, else the call fails.
 * ops: operator indices and ranges ("0,2-4"), each a layer the DUT runs; NULL: every such
 * layer the DUT runs, the others skipped (*skipped of them, the first one's reason in
 * skip_why). Returns 0 with *jobs (*n of them, in operator order; mpq_job_free each, then
 * free the array), MPQ_EIO / MPQ_EFORMAT (the model), MPQ_EPARAM (a bad --ops list, a chosen
 * layer the DUT cannot run, no layer at all), MPQ_ENOMEM; err says which. */
int mpq_job_model(const mpq_desc *d, const char *path, const char *ops, uint64_t seed, mpq_job **jobs,
                  unsigned *n, unsigned *skipped, char *skip_why, size_t skiplen, char *err, size_t errlen);

/* mpq's own layer (codec mpq) for configuration hw: run `seed` of the lockstep options a
 * (mpq_stim_layer_opts), its expected outputs from the functional model. Returns 0,
 * MPQ_EPARAM or MPQ_ENOMEM with err. */
int mpq_job_hw_random(const mpq_hwcfg *hw, const mpq_stim_args *a, uint64_t seed, mpq_job *j,
                      char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
