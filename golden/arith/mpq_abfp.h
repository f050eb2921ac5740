/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_abfp.h: adaptive block floating point (ABFP), the number format of an analog
 * mixed-signal matrix unit ("Adaptive Block Floating-Point for Analog Deep Learning Hardware",
 * Basumallik et al., arXiv 2205.06287), emulated exactly and deterministically
 * (golden/arith/mpq_abfp.c; the reasoning and the study: docs/abfp.md).
 *
 * The matrix unit. A product y = W x (W: rows x k) is cut along the reduction into tiles of n
 * (n = the analog array's width; the last tile is zero-padded to n). For output o and tile t:
 *   1. scales: s_w = max |W[o][tile t]|, s_x = max |x[tile t]| (float32, exact);
 *   2. mantissas: qw = R_m(W * Mw / s_w), qx = R_m(x * Mx / s_x), Mw = 2^(bw-1) - 1,
 *      Mx = 2^(bx-1) - 1 (signed, symmetric), each computed in double as
 *      ((double)v * M) / (double)s (the product is exact, the quotient one IEEE rounding),
 *      then rounded to an integer with R_m (round_mant) and clamped to [-M, M]; a zero scale
 *      gives zero mantissas;
 *   3. the analog array forms the exact integer dot d = sum qw*qx (int64);
 *   4. the ADC: its full scale is the largest dot the array can form, D = n*Mw*Mx (an
 *      n-wide array of full-scale values), mapped on Mo = 2^(bout-1) - 1 steps, after the gain
 *      G: a = ((double)d * ((double)G * Mo)) / (double)D  (two IEEE double roundings, in this
 *      order), plus noise: a += noise * z (z a standard normal, below; skipped when noise is
 *      0); code = R_adc(a) (round_adc) clamped to [-Mo, Mo] (a clamped code is a saturated
 *      conversion);
 *   5. the digital side, in float32 (FLT_EVAL_METHOD 0, no contraction):
 *      step = (float)n / (G * (float)Mo) once per call; per tile c_t = (s_w * s_x) * step;
 *      acc = 0, then acc += (float)code_t * c_t for t = 0, 1, ... in order; y = acc + bias
 *      (when there is a bias).
 * So y ~ sum_t code_t * s_w*s_x*n / (G*Mo), the float32 dot product when nothing saturates.
 *
 * Fixed point on the same array (MPQ_ABFP_SCALE_CHANNEL, _TENSOR): the same steps with s_w the
 * maximum of the whole row (CHANNEL) or of the whole matrix (TENSOR), and s_x = x_amax for
 * every tile, a static calibrated scale: inputs beyond it clamp to +-Mx (counted).
 *
 * Noise: z of conversion i (i below) is the Irwin-Hall sum of 12 uniforms: the draws
 * j = 4i .. 4i+3 of the splitmix64 stream of `seed` (draw j = mix(seed + (j+1)*0x9e3779b97f4a7c15),
 * mpq_rng.h), each cut into three 21-bit fields (bits 0-20, 21-41, 42-62); with S the sum of the
 * 12 fields, z = (S - 6*(2^21 - 1)) * 2^-21: mean 0, variance 1 - 2^-42, |z| <= 6; exact,
 * without libm. The conversion index of output o (of `rows`), tile t (of ntiles) at input row r
 * is i = (r*rows + o)*ntiles + t; a convolution's r is the output pixel (b*out_h + oy)*out_w + ox
 * and its rows are out_c. Draws do not depend on the data, so a run is reproducible to the bit.
 *
 * All of it is bit-reproducible across compilers and optimization levels (tested with gcc and
 * clang at -O0 and -O2): the only float operations are IEEE +, -, *, / in the order above and
 * conversions between integers, float and double; no libm.
 */
#ifndef MPQ_ABFP_H
#define MPQ_ABFP_H

#include <stddef.h>
#include <stdint.h>

#include "arith/mpq.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Granularity of the scales. */
typedef enum mpq_abfp_scale {
    MPQ_ABFP_SCALE_TILE = 0, /* ABFP: per tile, each weight row slice and the input slice */
    MPQ_ABFP_SCALE_CHANNEL,  /* fixed point: weights per output channel, inputs per tensor */
    MPQ_ABFP_SCALE_TENSOR,   /* fixed point: weights per tensor, inputs per tensor */
    MPQ_ABFP_SCALE_COUNT
} mpq_abfp_scale;

/* The parameters of the matrix unit. Ranges (mpq_abfp_check): */
#define MPQ_ABFP_N_MAX 65536u     /* n: 1..65536 */
#define MPQ_ABFP_BITS_MIN 2u      /* bw, bx: 2..16 */
#define MPQ_ABFP_BITS_MAX 16u
#define MPQ_ABFP_BOUT_MAX 24u     /* bout: 2..24 */
#define MPQ_ABFP_GAIN_MAX 65536.0 /* gain: (0, 65536] */
#define MPQ_ABFP_NOISE_MAX 1e6    /* noise: [0, 1e6] ADC steps */
typedef struct mpq_abfp {
    unsigned n;            /* tile width along the reduction */
    unsigned bw, bx;       /* weight and input mantissa bits (signed) */
    unsigned bout;         /* ADC bits (signed) */
    float gain;            /* G, the amplification before the ADC */
    mpq_round round_mant;  /* R_m, rounding of the mantissas (default half even) */
    mpq_round round_adc;   /* R_adc, rounding of the ADC (default half even) */
    double noise;          /* standard deviation of the Gaussian noise at the ADC input, in ADC steps */
    uint64_t seed;         /* of the noise */
    mpq_abfp_scale scale;  /* default MPQ_ABFP_SCALE_TILE */
    float x_amax;          /* SCALE_CHANNEL and _TENSOR: the static input scale (> 0) */
} mpq_abfp;

/* Sets *p to n 128, 8-bit weights, inputs and ADC, gain 1, half-even roundings, no noise,
 * seed 1, per-tile scales, x_amax 1. */
void mpq_abfp_default(mpq_abfp *p);
/* Checks every parameter against its range. Returns 0, or MPQ_EPARAM with err naming the
 * parameter as mpq_abfp_set names it ("n: 0 is not in 1..65536"). */
int mpq_abfp_check(const mpq_abfp *p, char *err, size_t errlen);
/* Sets one parameter from text: "n", "bw", "bx", "bits" (bw and bx), "bout", "gain", "noise",
 * "seed", "round" (mantissas), "adc-round" (mpq_round_parse names), "scale" ("tile",
 * "channel", "tensor"), "x-amax". Checks the value's range. Returns 0, or MPQ_EPARAM with err
 * naming the parameter and what is wrong. */
int mpq_abfp_set(mpq_abfp *p, const char *name, const char *value, char *err, size_t errlen);
/* Returns "tile", "channel", "tensor" ("?" when out of range). */
const char *mpq_abfp_scale_name(mpq_abfp_scale s);

/* One mantissa: R(((double)v * M) / (double)s) clamped to [-M, M], M = 2^(bits-1) - 1;
 * 0 when s is 0. s > 0 finite (or 0), v finite, bits 2..16. */
int32_t mpq_abfp_mantissa(float v, float s, unsigned bits, mpq_round r);
/* z of conversion i of the stream `seed` (above). */
double mpq_abfp_normal(uint64_t seed, uint64_t i);

/* What the ADC did. */
typedef struct mpq_abfp_stats {
    uint64_t conversions;  /* ADC conversions: outputs x tiles */
    uint64_t saturated;    /* of them, codes clamped to +-Mo */
    uint64_t zero_tiles;   /* of them, with a zero weight or input scale (code 0 without noise) */
    uint64_t x_clipped;    /* inputs clamped to the static scale (fixed-point modes) */
    uint64_t macs;         /* multiply-accumulates of the array, padding included */
} mpq_abfp_stats;

/* Weights prepared for the array: the mantissas and scales of every (row, tile). */
struct mpq_mac_tiles;
typedef struct mpq_abfp_wq {
    unsigned rows, k, n, ntiles; /* ntiles = ceil(k / n) */
    unsigned bw;
    int16_t *q;                  /* [rows][ntiles*n], zero-padded */
    float *scale;                /* [rows][ntiles] */
    struct mpq_mac_tiles *tiles; /* [ntiles]: q tile by tile in the integer MAC engine's
                                  * layout (mpq_mac.h), when every dot of p fits 32 bits;
                                  * else NULL. Internal: only mpq_abfp.c reads it. */
} mpq_abfp_wq;
/* Quantizes w[rows][k] (finite floats) with p (which must pass mpq_abfp_check). Returns 0,
 * MPQ_EPARAM (err: a weight not finite, or p), MPQ_ENOMEM. Free with mpq_abfp_wq_free. */
int mpq_abfp_wq_make(const mpq_abfp *p, const float *w, unsigned rows, unsigned k,
                     mpq_abfp_wq *wq, char *err, size_t errlen);
void mpq_abfp_wq_free(mpq_abfp_wq *wq);

/* y[m][rows] = the matrix unit's W x for each row of x[m][k] (+ bias[rows] when not NULL),
 * conversions numbered from input row r0 (r = r0 + row). wq made with the same p. st (may be
 * NULL) is added to. Returns 0, MPQ_EPARAM (err: an input not finite; wq not made for p),
 * MPQ_ENOMEM. */
int mpq_abfp_mvm(const mpq_abfp *p, const mpq_abfp_wq *wq, unsigned m, const float *x,
                 const float *bias, uint64_t r0, float *y, mpq_abfp_stats *st, char *err,
                 size_t errlen);

/* The fully-connected layer y[m][rows] from x[m][k], weights [rows][k] (a model's dequantized
 * weights), bias [rows] or NULL: mpq_abfp_wq_make then mpq_abfp_mvm from row 0. */
int mpq_abfp_fc(const mpq_abfp *p, unsigned m, unsigned k, unsigned rows, const float *x,
                const float *w, const float *bias, float *y, mpq_abfp_stats *st, char *err,
                size_t errlen);

/* A conv2d (groups included) or depthwise layer of shape s (mpq_conv_check; kinds CONV2D and
 * DEPTHWISE) on float NHWC x with float weights in the kind's layout (OHWI, [kh][kw][out_c]):
 * y [B][out_h][out_w][out_c]; conversions numbered from pixel r0 (r = r0 + the output pixel,
 * so that consecutive calls on batches of images can continue one numbering). The matrix unit's reduction vector of output (pixel, o) is the
 * window of mpq.h's reduction index r = (ky*kw + kx)*F + c (F = in_c/groups; depthwise F = 1,
 * the channel o/ch_mult), positions outside the input being zeros in it (the array sees them
 * as zero inputs), cut into tiles of n from r = 0. Returns 0, MPQ_EPARAM (err), MPQ_ENOMEM. */
int mpq_abfp_conv(const mpq_abfp *p, const mpq_conv_shape *s, const float *x, const float *w,
                  const float *bias, uint64_t r0, float *y, mpq_abfp_stats *st, char *err,
                  size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
