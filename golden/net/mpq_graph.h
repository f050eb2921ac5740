/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_graph.h: a fully-int8 TFLite model (mpq_tflite.h) run by the golden model, bit-exact
 * against TensorFlow Lite Micro's reference kernels.
 *
 * mpq_net_init plans the whole graph before anything runs: every operator is checked (its
 * type, tensor types, shapes, quantization and options), refused with its index, name and
 * reason when the golden model cannot run it exactly, and planned once (weights laid out,
 * multipliers and activation ranges computed as the reference's prepare step computes them,
 * lookup tables of the elementwise operators built, buffers allocated). mpq_net_run then
 * executes the operators in the model's order without allocating.
 *
 * The convolutions, fully-connected layers and pools are the golden model's own planned
 * layers (arith/mpq_layer.h: its MAC engine and requantizer), planned once per model on int8
 * activations; with TFLite's 32-bit wrapping accumulator they take the engine's tile kernel,
 * for the analysis its checked tile kernel, with golden_kernels its exact kernels.
 *
 * Operators: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED (with the golden model's
 * requantizer), AVERAGE_POOL_2D, MAX_POOL_2D, ADD (broadcasting),
 * MEAN, SOFTMAX, LOGISTIC, QUANTIZE (float -> int8, int8 -> int8), DEQUANTIZE (int8 ->
 * float), PAD, RESHAPE, CONCATENATION, SHAPE, STRIDED_SLICE, PACK. Activations are int8
 * (asymmetric, per tensor), weights int8 (per channel or per tensor), biases int32; float32
 * only enters through QUANTIZE and leaves through DEQUANTIZE; int32 tensors carry shapes.
 *
 * Arithmetic choices the references differ on are options: the fully-connected layers'
 * requantization rounds twice (TFLite Micro, the default) or once (LiteRT's reference
 * kernels). A narrower accumulator (acc_bits < 32) makes the convolutions and
 * fully-connected layers accumulate in that many bits (wrapping, or saturating) in the
 * golden model's order (bias first, then the terms ky, kx, c: mpq.h), and each such layer
 * reports where it overflowed and the narrowest accumulator that would not have.
 */
#ifndef MPQ_GRAPH_H
#define MPQ_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "arith/mpq.h"
#include "net/mpq_tflite.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mpq_net_opts {
    mpq_rq_kind fc_rounding; /* MPQ_RQ_DOUBLE (TFLite Micro) or MPQ_RQ_SINGLE (LiteRT ref) */
    unsigned acc_bits;       /* 2..32: the layers' accumulator (32: TFLite's int32) */
    mpq_acc_mode acc_mode;   /* MPQ_ACC_WRAP (TFLite) or MPQ_ACC_SAT */
    int analyze;             /* overflow reports and minimum widths per layer (always on
                              * when acc_bits < 32 or saturating: the layers' checked tile
                              * kernel, MPQ_LAYER_PREFIX) */
    size_t max_bytes;        /* the tensors' and tables' total the plan accepts (0: 1 GiB) */
    int profile;             /* time each operator (mpq_net_op_seconds) */
    int golden_kernels;      /* run every layer through the engine's exact kernels and
                              * mpq_requant_one (MPQ_LAYER_EXACT: the same results, slower) */
} mpq_net_opts;
/* Fills *o with TFLite Micro's arithmetic: double rounding, 32-bit wrapping accumulators. */
void mpq_net_opts_default(mpq_net_opts *o);

typedef struct mpq_net mpq_net;

/* Plans model m (which must outlive the net). Returns 0; MPQ_EPARAM with "file: op 5
 * (TANH): reason" or "file: tensor 7: reason" in err when some operator or tensor cannot be
 * run exactly; MPQ_ENOMEM. */
int mpq_net_init(mpq_net **net, const mpq_tfl_model *m, const mpq_net_opts *o, char *err,
                 size_t errlen);
void mpq_net_free(mpq_net *net);

/* The graph's inputs and outputs: tensor index, and the bytes of their raw little-endian
 * contents (the tensor's own type and shape). */
unsigned mpq_net_ninputs(const mpq_net *net);
unsigned mpq_net_noutputs(const mpq_net *net);
int mpq_net_input_tensor(const mpq_net *net, unsigned i);
int mpq_net_output_tensor(const mpq_net *net, unsigned i);
size_t mpq_net_tensor_bytes(const mpq_net *net, unsigned tensor);

/* Copies input i from `bytes` raw little-endian bytes. Returns 0 or MPQ_EPARAM (len is not
 * the input's size; err says both). */
int mpq_net_set_input(mpq_net *net, unsigned i, const void *bytes, size_t len, char *err,
                      size_t errlen);
/* Runs every operator once. Returns 0, or MPQ_EPARAM / MPQ_ENOMEM with "file: op n
 * (NAME): reason" (an input never set; a softmax row beyond the reference's range). */
int mpq_net_run(mpq_net *net, char *err, size_t errlen);
/* Writes the raw little-endian bytes of a tensor (mpq_net_tensor_bytes of them) into out.
 * Returns 0, or MPQ_EPARAM when the tensor holds no value (never computed, not a constant,
 * not an input). */
int mpq_net_tensor_get(const mpq_net *net, unsigned tensor, void *out);
/* Whether the last run (or the plan, for shape computations) wrote the tensor: the op
 * outputs and the graph inputs. */
int mpq_net_tensor_computed(const mpq_net *net, unsigned tensor);

/* Overflow analysis of one convolution or fully-connected layer over all runs so far
 * (opts.analyze). The output index is NHWC (n, y, x, c); a fully-connected output is (n, 0,
 * 0, c). */
typedef struct mpq_net_layer_report {
    unsigned op;               /* operator index */
    int code;                  /* CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED */
    uint64_t outputs;          /* outputs computed (over all runs) */
    uint64_t n_any;            /* outputs whose accumulator overflowed at acc_bits */
    uint64_t n_final;          /* outputs whose exact final sum does not fit acc_bits */
    long first[4];             /* n, y, x, c of the first overflowing output; -1: none */
    long first_term;           /* its reduction index (ky*kw + kx)*C + c, or FC's k; -1:
                                * the bias alone */
    unsigned first_run;        /* the run (0, 1, ...) it happened in */
    unsigned min_bits;         /* narrowest accumulator that never overflows in any run */
    int64_t acc_lo, acc_hi;    /* range of the exact final sums */
} mpq_net_layer_report;
/* The reports, one per convolution or fully-connected layer in operator order (*count of
 * them; NULL when opts.analyze is off). Owned by the net. */
const mpq_net_layer_report *mpq_net_reports(const mpq_net *net, unsigned *count);

/* Seconds spent in operator `op` over all runs so far (opts.profile; 0 otherwise). */
double mpq_net_op_seconds(const mpq_net *net, unsigned op);

/* One operator at a time: another executor (the RTL runner, mpq-tb net) runs the layers and
 * the golden model the rest. mpq_net_run_op runs operator op of the plan (a shape operator
 * folded at plan time does nothing); the operators must run in order, each once per
 * inference, after the inputs are set. */
unsigned mpq_net_ops(const mpq_net *net);
/* The operator's builtin code (MPQ_TFL_*), -1 past the last. */
int mpq_net_op_code(const mpq_net *net, unsigned op);
int mpq_net_run_op(mpq_net *net, unsigned op, char *err, size_t errlen);
/* Replaces an op output's contents with `len` raw little-endian bytes (what another executor
 * computed for it). Returns 0, or MPQ_EPARAM when the tensor is not an op output or len is
 * not its size. */
int mpq_net_tensor_set(mpq_net *net, unsigned tensor, const void *bytes, size_t len);

/* A convolution or fully-connected operator of the plan in the golden model's terms (mpq.h):
 * what mpq_conv / mpq_fc compute for it. The arrays belong to the net. */
typedef struct mpq_net_layer {
    unsigned op;
    int code;                  /* CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED */
    mpq_conv_shape s;          /* kind CONV2D or DEPTHWISE; kind FC: m, k, n below */
    unsigned m, k, n;          /* FC: rows, reduction, output channels */
    const int32_t *w;          /* the kind's layout (OHWI, [kh][kw][out_c], FC [n][k]) */
    int32_t w_offset, in_offset;
    const int32_t *bias;       /* [channels] */
    mpq_requant rq;            /* kind, per-channel or per-tensor mult/shift, out_offset, clamp */
    int in_tensor, out_tensor;
    /* The model's quantization, from which rq was computed: real input = in_scale * (x +
     * in_offset), real weight = w_scale[c or 0] * (w + w_offset), real output = out_scale *
     * (y - out_offset); the int32 bias has the scale in_scale * w_scale[c or 0]. */
    float in_scale, out_scale;
    const float *w_scale;      /* [nw_scale]: 1 (per tensor) or one per output channel */
    unsigned nw_scale;
} mpq_net_layer;
/* Fills L for operator op. Returns 0, or MPQ_EPARAM when op is not such a layer. */
int mpq_net_layer_get(const mpq_net *net, unsigned op, mpq_net_layer *L);

/* Multiply-accumulates of operator `op` of a model (CONV_2D, DEPTHWISE_CONV_2D,
 * FULLY_CONNECTED; 0 for the others or when its shapes do not make sense). */
int64_t mpq_net_op_macs(const mpq_tfl_model *m, unsigned op);

#ifdef __cplusplus
}
#endif
#endif
