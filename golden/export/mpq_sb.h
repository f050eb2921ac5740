/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_sb.h: the golden model as a scoreboard, for testbenches written in other languages.
 *
 * A flat API over the layers of arith/mpq.h (mpq_fc, mpq_conv, mpq_pool, mpq_requant_one,
 * mpq_quantize_multiplier): plain integers, flat arrays and one opaque handle, so that a
 * SystemVerilog testbench (DPI-C: export/sv/mpq_golden_dpi.c and mpq_golden_pkg.sv) or a
 * Python one (ctypes: export/python/mpq_golden.py) can compute a layer's expected output
 * tensor, compare the DUT's with it and describe a mismatch. It adds no arithmetic: every
 * number comes from the functions named above (docs/scoreboard.md walks through it).
 *
 * Use: declare a layer (mpq_sb_fc or mpq_sb_conv), which forgets the previous one; set its
 * scalars (offsets, accumulator, requantization, output clamp); put the tensors it needs,
 * whole or in pieces; mpq_sb_run; then read the outputs, accumulators and overflow report,
 * or compare the DUT's outputs and describe what differs. Putting a tensor again and running
 * again serves the next transaction of the same layer.
 *
 * Tensors are flat arrays of integers in the layouts of mpq.h:
 *   FC:        x [m][k], weights [n][k], outputs [m][n];
 *   spatial:   x NHWC [B][in_h][in_w][in_c], outputs NHWC [B][out_h][out_w][out_c];
 *              conv2d weights OHWI [out_c][kh][kw][in_c/groups], depthwise [kh][kw][out_c].
 * A layer's weights are the sum of whichever of W (dense, plus w_offset), T (ternary -1/0/+1
 * times ALPHA of its output channel) and HP (sparse high-precision, dense form, 0 where
 * absent) were put: mpq's mixed ternary + sparse form is T, ALPHA and HP.
 *
 * Every function that can fail returns 0 (MPQ_OK) or a negative MPQ_* code of mpq.h and
 * leaves a one-line message in the handle (mpq_sb_error). The library never prints, never
 * exits and never keeps a pointer to the caller's arrays: put and get copy.
 */
#ifndef MPQ_SB_H
#define MPQ_SB_H

#include <stddef.h>
#include <stdint.h>

#include "arith/mpq.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One layer under check: its description, its tensors, its last results, its last message. */
typedef struct mpq_sb mpq_sb;

/* The tensors of a layer; a layer kind uses some of them (mpq_sb_count gives 0 for the rest). */
typedef enum mpq_sb_tensor {
    MPQ_SB_X = 0,     /* activations */
    MPQ_SB_W,         /* dense weights (any integers up to 32 bits) */
    MPQ_SB_T,         /* ternary weights, -1, 0 or +1, layout of W */
    MPQ_SB_ALPHA,     /* ternary scale per output channel [n] (per tensor: element 0 only) */
    MPQ_SB_HP,        /* sparse high-precision weights, dense form, layout of W */
    MPQ_SB_BIAS,      /* [n] */
    MPQ_SB_MULT,      /* requantization multipliers [nparams] (mpq_sb_requant) */
    MPQ_SB_SHIFT,     /* requantization shifts [nparams] */
    MPQ_SB_Y,         /* outputs, after mpq_sb_run (read only) */
    MPQ_SB_OVF,       /* per output: MPQ_OVF_FINAL | MPQ_OVF_ANY of mpq.h (read only) */
    MPQ_SB_FIRST,     /* per output: the reduction index of the first fit that overflowed
                       * (FC: the k; spatial: (ky*kw + kx)*F + c as mpq.h), -1 if none (read only) */
    MPQ_SB_TENSOR_COUNT
} mpq_sb_tensor;
/* Returns "x", "w", "t", "alpha", "hp", "bias", "mult", "shift", "y", "ovf", "first"; "?" when
 * out of range. */
const char *mpq_sb_tensor_name(int tensor);

/* Returns a new handle with no layer declared, or NULL when out of memory. */
mpq_sb *mpq_sb_new(void);
/* Frees the handle and everything it holds; NULL is ignored. */
void mpq_sb_free(mpq_sb *sb);
/* Returns the message of the last call that failed on this handle, "" after one that
 * succeeded. The string lives until the next call on the handle. sb NULL: a fixed message. */
const char *mpq_sb_error(const mpq_sb *sb);

/* ---- Declaring the layer (forgets tensors, results and scalars: see the defaults) ---- */
/* A fully-connected layer: y[m][n] from x[m][k]. */
int mpq_sb_fc(mpq_sb *sb, unsigned m, unsigned k, unsigned n);
/* A spatial layer of kind MPQ_LAYER_CONV2D, MPQ_LAYER_DEPTHWISE, MPQ_LAYER_AVGPOOL or
 * MPQ_LAYER_MAXPOOL, with the fields of mpq_conv_shape (mpq.h: stride, padding above and
 * left, dilation, groups, and the output size that implies the far-side padding), checked by
 * mpq_conv_check (the message says what is wrong). groups 0 reads as 1. */
int mpq_sb_conv(mpq_sb *sb, int kind, unsigned batches, unsigned in_h, unsigned in_w,
                unsigned in_c, unsigned out_c, unsigned kh, unsigned kw, unsigned sy,
                unsigned sx, unsigned py, unsigned px, unsigned dy, unsigned dx,
                unsigned groups, unsigned out_h, unsigned out_w);
/* TFLite's padding of one axis (ComputePaddingHeightWidth): for input size `in`, kernel k,
 * stride s >= 1 and dilation d >= 1, with e = (k-1)*d + 1: SAME (same != 0) gives
 * out = ceil(in/s) and pad = max((out-1)*s + e - in, 0) / 2 above or left; VALID gives
 * out = floor((in - e)/s) + 1 and pad 0. Writes *pad and *out. Returns 0, or MPQ_EPARAM
 * when k, s or d is 0 or VALID's window is larger than the input. */
int mpq_sb_padding(unsigned in, unsigned k, unsigned s, unsigned d, int same, unsigned *pad,
                   unsigned *out);

/* ---- Scalars (defaults after a declaration in brackets) ---- */
/* Zero points added to every activation and dense weight [0, 0]. */
int mpq_sb_offsets(mpq_sb *sb, int32_t in_offset, int32_t w_offset);
/* Accumulator: width bits 1..64, mode MPQ_ACC_WRAP or MPQ_ACC_SAT, order MPQ_ORDER_SEQ or
 * MPQ_ORDER_GROUPED with `group` >= 1 input channels per fit (the accelerator's KLanes), as
 * mpq_fc_layer and mpq_conv_layer describe them [32, wrap, seq, 1]. Overflow is reported
 * (MPQ_SB_OVF, mpq_sb_ovf_count) whatever the mode. */
int mpq_sb_acc(mpq_sb *sb, unsigned bits, int mode, int order, unsigned group);
/* Requantization kind (mpq_rq_kind: MPQ_RQ_DOUBLE is TFLite's default double rounding and
 * rtl/mpq_requant.sv, MPQ_RQ_SINGLE TFLite's single rounding, MPQ_RQ_S64_REDUCED its int16
 * path, MPQ_RQ_GENERIC mpq_mulshift) and the number of multiplier/shift pairs, 1 (per tensor)
 * or n (per channel); sizes MULT and SHIFT and clears them [double, 1, mult and shift unset].
 * Shifts are TFLite's (left positive) except for GENERIC (a right shift >= 0). Convolutions
 * and FC layers need MULT and SHIFT put before mpq_sb_run; pools use none. */
int mpq_sb_requant(mpq_sb *sb, int kind, unsigned nparams);
/* Rounding (mpq_round) and reduction to 32 bits (mpq_ovf_mode) of MPQ_RQ_GENERIC
 * [half away from zero, saturate]. */
int mpq_sb_requant_generic(mpq_sb *sb, int round, int ovf);
/* Output zero point and clamp: y = clamp(out_offset + requant(acc), act_min, act_max)
 * [0, INT32_MIN, INT32_MAX]. Pools clamp with act_min and act_max and take no out_offset
 * (TFLite's pools keep the input's quantization: a non-zero one is refused at mpq_sb_run). */
int mpq_sb_output(mpq_sb *sb, int32_t out_offset, int32_t act_min, int32_t act_max);
/* One ternary scale for every channel (ALPHA element 0) when on != 0 [per channel]. */
int mpq_sb_alpha_per_tensor(mpq_sb *sb, int on);

/* ---- Tensors ---- */
/* Returns the number of elements of the tensor for the declared layer (0 for one the kind
 * does not use), or MPQ_EPARAM for an unknown tensor or when no layer is declared. */
long long mpq_sb_count(const mpq_sb *sb, int tensor);
/* Copies v[0..count) into elements [offset, offset+count) of an input tensor (X to SHIFT).
 * The first put of a tensor since the declaration makes it present, with zeros elsewhere;
 * a layer uses W, T, HP and BIAS only when present. T takes -1, 0, 1 only. Forgets the
 * results of the last run. Returns 0, or MPQ_EPARAM (not an input tensor, past its end, a
 * bad ternary value: the message names the element). */
int mpq_sb_put(mpq_sb *sb, int tensor, size_t offset, size_t count, const int32_t *v);
/* Makes an input tensor absent again (a layer without dense weights, or without bias). */
int mpq_sb_clear(mpq_sb *sb, int tensor);

/* Computes the layer: mpq_fc, mpq_conv (both with overflow tracking) or mpq_pool. Returns 0,
 * or MPQ_EPARAM (a missing tensor or scalar, or what the layer function refuses: the message
 * says), MPQ_ENOMEM. */
int mpq_sb_run(mpq_sb *sb);
/* Copies elements [offset, offset+count) of a tensor into v: any input tensor that is
 * present, or after a successful run MPQ_SB_Y, MPQ_SB_OVF, MPQ_SB_FIRST (pools have no
 * overflow report). Returns 0 or MPQ_EPARAM. */
int mpq_sb_get(mpq_sb *sb, int tensor, size_t offset, size_t count, int32_t *v);
/* Copies accumulators [offset, offset+count) (one per output, fitted to the accumulator,
 * sign-extended) into v after a successful run of a convolution or FC layer. */
int mpq_sb_get_acc(mpq_sb *sb, size_t offset, size_t count, int64_t *v);

/* ---- Overflow report and comparison ---- */
/* After a run of a convolution or FC layer: the number of outputs whose exact sum does not
 * fit the accumulator (which = MPQ_OVF_FINAL) or that overflowed at some fit along the order
 * (MPQ_OVF_ANY). Returns the count, or MPQ_EPARAM. */
long long mpq_sb_ovf_count(mpq_sb *sb, unsigned which);
/* After a run: one line on the accumulator overflows, e.g. "2 of 64 outputs overflow the
 * 20-bit wrap accumulator (1 in the final sum); first: y[0][3] at k=17". Never NULL. */
const char *mpq_sb_ovf_describe(mpq_sb *sb);

/* Compares got[0..count) with the expected outputs [offset, offset+count) of the last run.
 * Returns the number of elements that differ, or a negative code. Mismatches add up over the
 * calls since the run (pieces of one output tensor, as a monitor sees them), and the first
 * one is kept for mpq_sb_report. */
long long mpq_sb_compare(mpq_sb *sb, size_t offset, size_t count, const int32_t *got);
/* The mismatches counted by mpq_sb_compare since the last run. */
long long mpq_sb_mismatches(const mpq_sb *sb);
/* One line on output element `index` had the DUT given `got`: the element in the layer's
 * coordinates (FC y[row][channel]; spatial y[b][oy][ox][c]), expected and got values, and
 * what made the expected one: its accumulator, the requantization parameters of its
 * channel, the clamp, its overflow flags. Never NULL; on an error the message says so and
 * mpq_sb_error has it too. The string lives until the next call on the handle. */
const char *mpq_sb_describe(mpq_sb *sb, size_t index, int32_t got);
/* "all N outputs match", or "M of N outputs differ; first: " + mpq_sb_describe of the first
 * mismatch compared since the last run (counting only what mpq_sb_compare saw). */
const char *mpq_sb_report(mpq_sb *sb);

/* ---- Stateless helpers ---- */
/* TFLite's multiplier of a layer: the real scale in_scale * w_scale / out_scale, computed
 * in double as TFLite does from its float scales (pass the float values: they convert
 * exactly), then mpq_quantize_multiplier. Returns 0, or MPQ_EPARAM (a scale not finite or
 * not positive). */
int mpq_sb_quantize_scale(double in_scale, double w_scale, double out_scale, int32_t *mult,
                          int32_t *shift);
/* One requantized output: mpq_requant_one with one parameter pair, y = clamp(out_offset +
 * requant(acc), act_min, act_max); round and ovf are read for MPQ_RQ_GENERIC only. Returns
 * 0 with *y set, or MPQ_EPARAM (parameters out of the kind's range: mpq_requant_check). */
int mpq_sb_requant_value(int kind, int64_t acc, int32_t mult, int32_t shift, int round,
                         int ovf, int32_t out_offset, int32_t act_min, int32_t act_max,
                         int32_t *y);
/* mpq_acc_fit with its arguments checked: bits 1..64, mode MPQ_ACC_WRAP or MPQ_ACC_SAT.
 * Returns 0 with *fitted and *overflowed set, or MPQ_EPARAM. */
int mpq_sb_acc_fit(int64_t v, unsigned bits, int mode, int64_t *fitted, int *overflowed);

#ifdef __cplusplus
}
#endif
#endif
