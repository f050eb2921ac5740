/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_netmap.h: a quantized network's layer (an int8 TFLite convolution, depthwise
 * convolution or fully-connected layer: integer weights, int32 biases, per-channel or
 * per-tensor requantization with TFLite's double rounding) as the accelerator's layers, the
 * way a driver maps it:
 *
 * - the weights become the sparse high-precision entries of every position (the ternary
 *   part and alpha stay 0), which needs HpPerGroup = KLanes and HpBits wide enough for them
 *   (the `dense` configuration); a weight zero point is folded into the weights;
 * - a layer whose window rows do not fit the activation ring (((kh-1)*dy+1) * in_w * ns >
 *   ActDepth) is cut by the host into bands of output columns, each reading only the input
 *   columns its windows touch (exact: every output is computed once, from the same terms);
 * - a thin convolution (the input channels of a pixel fill less than one slice, the first
 *   layer of an image or audio network) may have its kernel taps packed into channels by the
 *   host (im2col: output pixel (b, oy, ox) becomes a 1x1 pixel of kh*kw*in_c channels, tap
 *   by tap, the zero point where a tap lies in padding): every slice then carries up to
 *   KLanes real products instead of in_c. The driver packs when the cycle estimate of the
 *   packed layer (mpq_gen_estimate_run: steps, activation and weight beats) is lower.
 * - what cannot be mapped exactly is refused with the rule and the numbers: the weights of
 *   one output channel beyond the weight buffer (kh*kw*ns slices > KMax/KLanes: the
 *   accelerator requantizes every tile, so a reduction cannot be split), a value outside the
 *   configuration's widths.
 *
 * The outputs of the parts are gathered back into the layer's NHWC output tensor.
 */
#ifndef MPQ_NETMAP_H
#define MPQ_NETMAP_H

#include "arith/mpq.h"
#include "contract/mpq_hw.h"
#include "stim/mpq_hwlayer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A quantized layer in the golden model's terms (mpq.h). */
typedef struct mpq_qlayer {
    mpq_conv_shape s;          /* kind CONV2D or DEPTHWISE: the shape; kind FC: m, k, n below */
    unsigned m, k, n;          /* FC: rows, reduction depth, output channels */
    const int32_t *w;          /* the kind's layout (OHWI, [kh][kw][out_c], FC [n][k]) */
    int32_t w_offset;          /* added to every weight (TFLite's FC weight zero point) */
    const int32_t *bias;       /* [out channels] or NULL (zeros) */
    const int32_t *mult, *shift; /* [nparams]: Q31 multiplier, TFLite shift (left positive) */
    unsigned nparams;          /* 1 (per tensor) or the output channels */
    int32_t in_offset, out_offset, act_min, act_max;
} mpq_qlayer;

typedef struct mpq_map_opts {
    int pack;                  /* 1: pack the taps of thin convolutions when it saves cycles;
                                  0: never; 2: always when possible (tests) */
} mpq_map_opts;

/* One accelerator layer of a mapped layer and where its outputs go. */
typedef struct mpq_map_part {
    mpq_hw_layer L;            /* owned */
    unsigned ox0, ow;          /* the band of output columns it computes */
} mpq_map_part;

typedef struct mpq_map {
    unsigned nparts;
    mpq_map_part *part;
    int packed;                /* the taps were packed into channels */
    unsigned b, oh, ow, oc;    /* the layer's output: batches (FC: rows), rows, columns, channels */
    char how[160];             /* one line: "2 bands of 24 columns, taps packed (27 channels)" */
} mpq_map;

/* Maps q, with input activations x (NHWC; FC: [m][k]), for hw. Returns 0, MPQ_EPARAM with
 * err naming the rule and the numbers when the layer cannot run exactly, or MPQ_ENOMEM. map
 * owns its parts: mpq_map_free. */
int mpq_map_layer(const mpq_hwcfg *hw, const mpq_qlayer *q, const int32_t *x, const mpq_map_opts *o,
                  mpq_map *map, char *err, size_t errlen);
/* Writes part p's outputs y_part ([L.m][L.n], what the accelerator put out) into the layer's
 * output y (NHWC; FC: [m][n]). */
void mpq_map_gather(const mpq_map *map, unsigned p, const int32_t *y_part, int32_t *y);
/* The layer's output (b, oy, ox, c) that part p's output (row r, channel c) is. */
void mpq_map_where(const mpq_map *map, unsigned p, unsigned r, unsigned *b, unsigned *oy, unsigned *ox);
void mpq_map_free(mpq_map *map);

#ifdef __cplusplus
}
#endif
#endif
