/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_netops.h: the integer arithmetic of the TFLite operators that are not a
 * multiply-accumulate layer (ADD, MEAN, SOFTMAX, LOGISTIC, QUANTIZE, DEQUANTIZE) and the
 * prepare-time parameters of every operator, as TensorFlow Lite Micro's reference kernels
 * compute them: the multipliers come from float scales promoted to double (in the order the
 * reference multiplies them: it matters for the last bit), the fixed-point exp and
 * reciprocal are gemmlowp's, and every int32 sum that the reference lets wrap wraps here too
 * (explicitly, on unsigned values).
 *
 * The convolutions, fully-connected layers and pools are not here: they are the golden
 * model's own kernels (mpq_conv, mpq_fc, mpq_pool) with its requantizer (mpq_requant_one).
 */
#ifndef MPQ_NETOPS_H
#define MPQ_NETOPS_H

#include <stdint.h>

#include "arith/mpq.h"
#include "net/mpq_tflite.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- prepare-time parameters ---- */

/* TFLite's Quantize(scale, zero_point, f) of the fused-activation range: zero_point +
 * (int32)roundf(f / scale), the division and rounding in float. Returns 0, or MPQ_EPARAM
 * when the rounded value is not a finite int32 (the reference refuses the model then). */
int mpq_tfl_quantize_value(float scale, int32_t zero_point, float f, int32_t *q);

/* CalculateActivationRangeQuantized: the clamp [*lo, *hi] of an int8 output (scale,
 * zero_point) for fused activation act (NONE, RELU, RELU6, RELU_N1_TO_1). Returns 0 or
 * MPQ_EPARAM (an activation the kernels do not fuse, or a bound that does not quantize). */
int mpq_tfl_act_range(int act, float scale, int32_t zero_point, int32_t *lo, int32_t *hi);

/* QuantizeMultiplier as the reference uses it: mult * 2^(shift-31) = real (frexp, then round
 * half away from zero). Returns 0, or MPQ_EPARAM when real is negative, not finite, or so
 * large that the shift passes 30 (the reference's shift would overflow). */
int mpq_tfl_multiplier(double real, int32_t *mult, int *shift);

/* ComputePaddingHeightWidth of one window axis: the output size *out and the leading padding
 * *pad of a window of k taps dilated by dil, moved by stride over in positions, with padding
 * MPQ_TFL_PAD_SAME or MPQ_TFL_PAD_VALID (the far side takes the odd row of SAME). Returns 0, or
 * MPQ_EPARAM for another padding, an input, kernel, stride or dilation below 1, or no output
 * position. */
int mpq_tfl_window_axis(int padding, int in, int k, int stride, int dil, int64_t *out,
                        unsigned *pad);

/* The window's part of a convolution or pool shape over an NHWC input in, with o's padding
 * and strides, a kh x kw kernel and dilation dy x dx: batches, in_h, in_w, in_c, kh, kw, sy,
 * sx, dy, dx, out_h, out_w, py, px; the other fields are left as they are. Returns 0 or
 * MPQ_EPARAM (mpq_tfl_window_axis refuses an axis). */
int mpq_tfl_window(const mpq_tfl_opts *o, const mpq_tfl_tensor *in, int kh, int kw, int dy, int dx,
                   mpq_conv_shape *s);

/* ---- ADD (reference_integer_ops::Add, int8) ---- */
typedef struct mpq_tfl_add {
    int32_t in1_offset, in2_offset, out_offset; /* -zero points, output zero point */
    int32_t in1_mult, in2_mult, out_mult;
    int in1_shift, in2_shift, out_shift;        /* <= 0 */
    int left_shift;                             /* 20 for int8 */
    int32_t act_min, act_max;
} mpq_tfl_add;
/* The parameters TFLite Micro's add prepare computes from the three tensors' scales and zero
 * points and the fused activation. Returns 0 or MPQ_EPARAM (a multiplier not below one:
 * the reference aborts on such a model; or an activation range error). */
int mpq_tfl_add_prepare(float s1, int32_t z1, float s2, int32_t z2, float so, int32_t zo, int act,
                        mpq_tfl_add *p);
/* One output element: AddFunc(x, y). */
int8_t mpq_tfl_add_one(const mpq_tfl_add *p, int8_t x, int8_t y);

/* ---- MEAN (reference_ops::QuantizedMeanOrSum, int8) ---- */
/* The requantization of one output from the int32 sum of its n inputs (sum wraps as the
 * reference's int32 sum does): the reference folds 1/n into the multiplier (mult, shift as
 * prepared from in_scale / out_scale) and requantizes sum - in_zp * n with double rounding.
 * mpq_tfl_mean_params gives the folded multiplier once per layer. */
void mpq_tfl_mean_params(int32_t mult, int shift, int64_t n, int32_t *mult_n, int *shift_n);
int8_t mpq_tfl_mean_one(int32_t sum, int64_t n, int32_t in_zp, int32_t out_zp, int32_t mult_n,
                        int shift_n);

/* ---- SOFTMAX (reference_ops::Softmax, int8 in, int8 out) ---- */
typedef struct mpq_tfl_softmax {
    int32_t mult;
    int left_shift;
    int32_t diff_min;
} mpq_tfl_softmax;
/* PreprocessSoftmaxScaling(beta, input_scale, 5 integer bits) and CalculateInputRadius.
 * Returns 0 or MPQ_EPARAM (the rescaled multiplier is not above one, or its shift passes
 * 30: the reference aborts). */
int mpq_tfl_softmax_prepare(float beta, float in_scale, mpq_tfl_softmax *p);
/* One row of `depth` int8 values. Returns 0, or MPQ_EPARAM when the sum of exponentials
 * leaves the range the reference checks (it aborts: rows of thousands of equal maxima). */
int mpq_tfl_softmax_row(const mpq_tfl_softmax *p, const int8_t *x, unsigned depth, int8_t *y);

/* ---- LOGISTIC (reference_integer_ops::Logistic, int8) ---- */
typedef struct mpq_tfl_logistic {
    int32_t in_zp, mult, range_radius;
    int left_shift;
} mpq_tfl_logistic;
/* Returns 0 or MPQ_EPARAM (a scale whose multiplier the reference cannot represent). */
int mpq_tfl_logistic_prepare(float in_scale, int32_t in_zp, mpq_tfl_logistic *p);
int8_t mpq_tfl_logistic_one(const mpq_tfl_logistic *p, int8_t x);

/* ---- QUANTIZE, DEQUANTIZE ---- */
/* float -> int8: clamp(zp + (int32)roundf(x / scale), -128, 127), the division in float
 * (reference_ops::AffineQuantize). A value that does not round to an int32 (NaN, infinity,
 * beyond 2^31) converts as x86's cvttss2si does (INT32_MIN), which is what the reference
 * compiled for this machine computes. */
int8_t mpq_tfl_quantize_f32(float x, float scale, int32_t zp);
/* y[i] = mpq_tfl_quantize_f32(x[i], scale, zp) for i < n, four at a time where SSE2 is. */
void mpq_tfl_quantize_f32_n(const float *x, int8_t *y, size_t n, float scale, int32_t zp);
/* int8 -> int8 (reference_ops::Requantize): clamp(requant_double(x - in_zp, mult, shift) +
 * out_zp). */
int8_t mpq_tfl_requantize(int8_t x, int32_t in_zp, int32_t out_zp, int32_t mult, int shift);
/* int8 -> float: (float)((double)scale * (x - zp)). */
float mpq_tfl_dequantize(int8_t x, float scale, int32_t zp);

/* ---- gemmlowp fixed point (exposed for the unit tests) ---- */
/* exp(a) for a <= 0 in Q(int_bits).(31-int_bits), result Q0.31 (exp_on_negative_values). */
int32_t mpq_gl_exp_on_negative(int32_t a, int int_bits);
/* 1 / (1 + a) for a in [0, 1) in Q0.31 (one_over_one_plus_x_for_x_in_0_1). */
int32_t mpq_gl_one_over_one_plus_x(int32_t a);
/* logistic(a) in Q(int_bits).(31-int_bits), result Q0.31. */
int32_t mpq_gl_logistic(int32_t a, int int_bits);

#ifdef __cplusplus
}
#endif
#endif
