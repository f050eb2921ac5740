/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_fgraph.h: a TFLite model (mpq_tflite.h) run in float32, every matrix unit (CONV_2D,
 * DEPTHWISE_CONV_2D, FULLY_CONNECTED) either in float or on an emulated analog array in
 * adaptive block floating point (arith/mpq_abfp.h); docs/abfp.md, "Real models".
 *
 * Any model the int8 graph runner reads (mpq_graph.h), and its float twins: an int8 model's
 * weights and biases are dequantized once (real = scale[c] * (q - zero_point[c]), per channel
 * along the quantized dimension), its activations are float32 throughout (QUANTIZE and
 * DEQUANTIZE copy); a float32 model's constants are used as they are. Shape computations
 * (SHAPE, STRIDED_SLICE, PACK on int32 tensors) are skipped: RESHAPE takes the static shape
 * of its output tensor.
 *
 * The float operations, in a fixed order (compiled without contraction into FMA, so that a
 * run gives the same bits with every compiler and optimization level of the CI; SOFTMAX and
 * LOGISTIC call libm's expf, so their bits are those of the C library):
 *   CONV_2D, DEPTHWISE_CONV_2D: per output, acc = 0, acc += x * w over the window in mpq.h's
 *     reduction order (ky, kx, c), positions outside the input skipped; y = acc + bias; then
 *     the fused activation (RELU: max(y, 0), RELU6, RELU_N1_TO_1);
 *   FULLY_CONNECTED: acc = 0, acc += x[k] * w[o][k] for k = 0, 1, ...; y = acc + bias, act;
 *   on the array, the same layers are mpq_abfp_conv / mpq_abfp_fc (bias added last by the
 *     digital side), then the activation;
 *   AVERAGE_POOL_2D: the in-bounds window summed in (ky, kx) order from 0, divided by its
 *     count; MAX_POOL_2D: the largest; MEAN: the inputs summed into their output in the
 *     input's row-major order from 0, divided by the count; ADD: a + b (broadcasting);
 *   SOFTMAX: m = max, e_i = expf(beta * (x_i - m)), s = sum e_i in order, y_i = e_i / s;
 *   LOGISTIC: 1 / (1 + expf(-x)); PAD: zeros; CONCATENATION, RESHAPE: copies.
 *
 * Statistics of a run on the array, per matrix layer, added up over runs: the ADC's
 * conversions and saturations (mpq_abfp_stats), and the layer's local SQNR: its output
 * against the float layer on the same inputs (before the activation). A float run records,
 * per matrix layer, the largest |input| (the static input scale a fixed-point array would be
 * calibrated to).
 *
 * The library never prints and never exits.
 */
#ifndef MPQ_FGRAPH_H
#define MPQ_FGRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "arith/mpq_abfp.h"
#include "net/mpq_tflite.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mpq_fgraph mpq_fgraph;

/* One matrix layer of the model, and what the runs so far measured on it. */
typedef struct mpq_fgraph_layer {
    unsigned op;            /* operator index in the model */
    int code;               /* CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED */
    unsigned k;             /* reduction of one output (kh*kw*in_c/groups, kh*kw, FC k) */
    unsigned rows;          /* output channels */
    uint64_t macs;          /* multiply-accumulates of one inference */
    mpq_abfp_stats st;      /* the array's conversions over the runs on it */
    double sig2, err2;      /* sum of the float layer's outputs squared, of the differences
                             * squared (runs on the array, same inputs) */
    float in_amax;          /* largest |input| over the float runs */
} mpq_fgraph_layer;

/* Plans model m (which must outlive the graph): checks every operator and dequantizes the
 * constants. Returns 0, MPQ_EPARAM with "file: op 5 (TANH): reason" in err (an operator,
 * type or shape the float runner does not run), MPQ_ENOMEM. */
int mpq_fgraph_init(mpq_fgraph **g, const mpq_tfl_model *m, char *err, size_t errlen);
void mpq_fgraph_free(mpq_fgraph *g);

/* The matrix layers, in operator order. */
unsigned mpq_fgraph_nlayers(const mpq_fgraph *g);
const mpq_fgraph_layer *mpq_fgraph_layer_at(const mpq_fgraph *g, unsigned l);
/* Zeroes every layer's statistics (st, sig2, err2; in_amax too). */
void mpq_fgraph_stats_reset(mpq_fgraph *g);

/* The graph's inputs and outputs: count and element counts. */
unsigned mpq_fgraph_ninputs(const mpq_fgraph *g);
unsigned mpq_fgraph_noutputs(const mpq_fgraph *g);
size_t mpq_fgraph_input_count(const mpq_fgraph *g, unsigned i);
size_t mpq_fgraph_output_count(const mpq_fgraph *g, unsigned i);

/* The real range [lo, hi] of input i: its int8 quantization's (scale*(-128 - zp),
 * scale*(127 - zp)) when it is int8, else that of the QUANTIZE operator reading it, else
 * [-1, 1]. */
void mpq_fgraph_input_range(const mpq_fgraph *g, unsigned i, float *lo, float *hi);
/* Fills x (mpq_fgraph_input_count elements) with input i of inference `run` of stream `seed`:
 * element j is lo + u*(hi - lo)/255 with u the uniform integer 0..255 of mpq_rng draw j of the
 * seed (seed + run*2^32 + i*2^48) (on an int8 input's own quantization grid). */
void mpq_fgraph_random_input(uint64_t seed, uint64_t run, unsigned i, float lo, float hi,
                             float *x, size_t count);

/* Copies input i (count real values). Returns 0 or MPQ_EPARAM (count is not the input's
 * element count, or a value is not finite). */
int mpq_fgraph_set_input(mpq_fgraph *g, unsigned i, const float *x, size_t count, char *err,
                         size_t errlen);

/* Runs every operator once. abfp NULL: every layer in float (and in_amax recorded); else
 * abfp[l] is layer l's array (each passing mpq_abfp_check), its noise numbered from input row
 * (pixel) `run` * the layer's rows per inference, and the statistics added to. Returns 0,
 * MPQ_EPARAM (err: an input never set, a non-finite value reaching an array), MPQ_ENOMEM. */
int mpq_fgraph_run(mpq_fgraph *g, const mpq_abfp *abfp, uint64_t run, char *err, size_t errlen);

/* A probe run: every layer in float (its float outputs go on, and in_amax is recorded), and
 * beside it each layer l on each of `nprobe` arrays probe[l*nprobe + j] on the same float
 * inputs: the outputs' squares and squared differences (before the activation) added to
 * sig2[l*nprobe + j] and err2[...], the conversions to st[...]. So each layer's array is
 * judged alone, on the float network's activations (the best gain per layer). Returns as
 * mpq_fgraph_run. */
int mpq_fgraph_probe(mpq_fgraph *g, const mpq_abfp *probe, unsigned nprobe, uint64_t run,
                     double *sig2, double *err2, mpq_abfp_stats *st, char *err, size_t errlen);

/* Output i of the last run (mpq_fgraph_output_count floats), owned by the graph. */
const float *mpq_fgraph_output(const mpq_fgraph *g, unsigned i);

/* The tensor of output i's logits: going back from the output through copies (RESHAPE,
 * QUANTIZE, DEQUANTIZE) and at most one SOFTMAX or LOGISTIC, the input of that SOFTMAX or
 * LOGISTIC; else the output itself. (A softmax of random inputs is nearly one-hot, and equal
 * one-hot outputs hide every error before it: the study compares logits.) */
int mpq_fgraph_logits_tensor(const mpq_fgraph *g, unsigned i);
/* A tensor's values after the last run (count elements), or NULL when it holds no float
 * value. */
const float *mpq_fgraph_tensor(const mpq_fgraph *g, int tensor, size_t *count);

#ifdef __cplusplus
}
#endif
#endif
