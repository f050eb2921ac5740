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
 * - a depthwise layer (one input channel per lane: a plain depthwise tile uses Lanes of the
 *   KLanes elements of each slice, one tap per cycle) may have its taps packed the same way,
 *   per tile: its output channels in groups of the largest divisor of out_c up to Lanes, and
 *   output pixel (b, oy, ox) becomes a 1x1 pixel holding, per group, the kh*kw taps of the
 *   input channels the group's outputs read (o / channel multiplier; tap-major: packed
 *   channel tap*nci + c), the zero point in padding and up to a whole number of slices. The
 *   layer runs as a 1x1 conv2d with one group per tile (the RTL's grouped convolution: each
 *   tile streams only its group's slices), each lane's weights non-zero only on its own
 *   channel's taps: a 3x3 tile of 8 channels takes 5 slices per pixel instead of 9 taps of
 *   one slice. The price is in activation beats: every output pixel carries its window
 *   again (5 beats per pixel and tile instead of 1 per input pixel and tile). Packed when the
 *   estimate is lower, as the thin case; mpq_map_opts.pack 0 keeps the plain depthwise.
 *   The sums are the same terms in another order; the accumulator wraps (acc_sat 0), so the
 *   outputs equal mpq_qlayer_expected of the depthwise layer whatever the order.
 * - what cannot be mapped exactly is refused with the rule and the numbers: the weights of
 *   one output channel beyond the weight buffer (kh*kw*ns slices > KMax/KLanes: the
 *   accelerator requantizes every tile, so a reduction cannot be split), a value outside the
 *   configuration's widths.
 *
 * Mixed precision (mpq_map_opts.decomp): the driver may instead decompose the int8 weights
 * post-training into the accelerator's own form, ternary t with a per-channel alpha plus
 * sparse high-precision entries hp (mpq_decompose_conv, mpq_decompose), and requantize for
 * the new weight step as a TFLite converter would (mpq_qlayer_decompose). The mapped layer
 * then computes the decomposed layer exactly (mpq_qlayer_expected), not the int8 one: an
 * approximation of it. Its sparse entries must obey the configuration's N:G rule in the
 * layout the layer runs in (at most HpPerGroup of them per output channel, window position
 * and aligned block of KLanes input channels; with packed taps, per aligned block of KLanes
 * packed channels): the driver packs only when the packed layout obeys it, and refuses a
 * layer that obeys it in no layout, naming the group. So that the packed layout can hold the
 * decomposition, `channels-N:G` groups along the reduction as the accelerator runs the
 * layer: the driver first chooses the layout from the shape (as for int8 weights), and when
 * it packs the taps (a thin convolution or a depthwise layer) the N:G groups are G
 * consecutive packed channels of one output channel, aligned on the tile group's first
 * (mpq_qlayer_decompose_blocks); otherwise they stay per window position over the input
 * channels (depthwise: over G output channels at one window position). `window-N:G` and
 * `unstructured-D` keep the layer's own layout.
 *
 * The driver's choices above are one mapping (stim/mpq_hwmap.h: every image, whole rows, the
 * widest column bands that fit, the packing); mpq_map_opts.map gives another (mpq-tb net --map,
 * the search's choice). Either way the layer is cut into exactly the hardware layers
 * mpq_xp_parts gives for the mapping, each with its input window.
 *
 * The outputs of the parts are gathered back into the layer's NHWC output tensor.
 */
#ifndef MPQ_NETMAP_H
#define MPQ_NETMAP_H

#include "arith/mpq.h"
#include "contract/mpq_hw.h"
#include "stim/mpq_hwlayer.h"
#include "stim/mpq_hwmap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A quantized layer in the golden model's terms (mpq.h): int8 weights w, or (t not NULL) the
 * accelerator's ternary + sparse form, weight = alpha[c]*t + hp in w's layout. */
typedef struct mpq_qlayer {
    mpq_conv_shape s;          /* kind CONV2D or DEPTHWISE: the shape; kind FC: m, k, n below */
    unsigned m, k, n;          /* FC: rows, reduction depth, output channels */
    const int32_t *w;          /* the kind's layout (OHWI, [kh][kw][out_c], FC [n][k]) */
    int32_t w_offset;          /* added to every weight (TFLite's FC weight zero point) */
    const int8_t *t;           /* NULL, or ternary weights in w's layout (w, w_offset unused) */
    const int32_t *alpha;      /* with t: [out channels] */
    const int32_t *hp;         /* with t: sparse weights in w's layout, 0 where absent */
    const int32_t *bias;       /* [out channels] or NULL (zeros) */
    const int32_t *mult, *shift; /* [nparams]: Q31 multiplier, TFLite shift (left positive) */
    unsigned nparams;          /* 1 (per tensor) or the output channels */
    int32_t in_offset, out_offset, act_min, act_max;
    /* The float scales the integers stand for (needed only to decompose): real input =
     * in_scale * (x + in_offset), real weight = w_scale[c or 0] * (w + w_offset), real
     * output = out_scale * (y - out_offset), bias in units of in_scale * w_scale[c or 0]. */
    double in_scale, out_scale;
    const float *w_scale;      /* [nw_scale], nw_scale 1 or the output channels */
    unsigned nw_scale;
} mpq_qlayer;

/* A post-training decomposition of int8 weights into ternary + sparse high precision: per
 * output channel, TWN ternary weights (threshold thr * mean|W|), then the largest residuals
 * kept in high precision, hp_n of every group of `group` weights along `axis`
 * (MPQ_DECOMP_CHANNEL: consecutive input channels at one window position, aligned on the
 * absolute channel as the accelerator's groups, or, where mpq_map_layer packs the taps, G
 * consecutive packed channels (above); MPQ_DECOMP_WINDOW: consecutive window
 * positions at one channel), or (MPQ_DECOMP_UNSTRUCTURED) round(density * K) of each output
 * channel's K weights. Layers without a window to group along (1x1 convolutions,
 * fully-connected layers) take MPQ_DECOMP_WINDOW's N:G along the channels. */
typedef struct mpq_map_decomp {
    mpq_decomp_axis axis;
    unsigned hp_n, group;      /* N:G (CHANNEL, WINDOW); hp_n 0: ternary only; hp_n <= group */
    double density;            /* UNSTRUCTURED: 0..1 */
    double thr;                /* TWN threshold (0.7) */
} mpq_map_decomp;

/* A decomposition as text, the names of the CNN study (docs/cnn-results.md): "ternary"
 * (hp_n 0), "channels-N:G", "window-N:G", "unstructured-D" (D a fraction "1/16" or a decimal,
 * 0 < D <= 1); thr 0.7. Returns 0, or MPQ_EPARAM with err naming what is wrong (N > G, G 0,
 * D out of range, an unknown structure). */
int mpq_map_decomp_parse(const char *text, mpq_map_decomp *d, char *err, size_t errlen);
/* d as the study names it in its tables: "ternary only", "channels 1:16", "window 2:9",
 * "unstructured 0.0625". */
void mpq_map_decomp_name(const mpq_map_decomp *d, char *buf, size_t len);

/* A decomposition per layer, as text: "SPEC,SPEC,..." (mpq_map_decomp_parse's forms, or
 * "int8": the layer keeps its int8 weights), one per CONV_2D, DEPTHWISE_CONV_2D and
 * FULLY_CONNECTED layer in operator order. d[i] gets item i, int8[i] is 1 for an "int8" item;
 * at most max items. Returns 0 with *n items, or MPQ_EPARAM with err naming the item. */
int mpq_map_decomp_list_parse(const char *text, mpq_map_decomp *d, unsigned char *int8, unsigned max,
                              unsigned *n, char *err, size_t errlen);

typedef struct mpq_map_opts {
    int pack;                  /* 1: pack the taps of thin convolutions and of depthwise layers
                                  when it saves cycles;
                                  0: never; 2: always when possible (tests) */
    const mpq_map_decomp *decomp; /* NULL: the int8 weights as they are; else decompose every
                                  layer given with int8 weights (mpq_qlayer_decompose) */
    /* Per layer instead (nlayers > 0; mpq_netrun): layers[i] for the i-th MAC layer in
     * operator order, NULL keeping its int8 weights; nlayers must be the model's MAC layers. */
    const mpq_map_decomp *const *layers;
    unsigned nlayers;
    /* The mapping (mpq_hwmap.h): NULL, the driver's own (every image, whole rows, the widest
     * column bands that fit, taps packed as `pack` says); else this one (img, bh, bw 0: the
     * whole axis), refused with the rule unless mpq_xp_map_check passes for the layer, and
     * then cut into exactly mpq_xp_parts' hardware layers. `pack` then only picks the layout
     * the decomposer groups along (the search's). Per layer instead (nmaps > 0; mpq_netrun):
     * maps[i] for the i-th MAC layer in operator order, NULL for the driver's own; nmaps must
     * be the model's MAC layers. */
    const mpq_xp_map *map;
    const mpq_xp_map *const *maps;
    unsigned nmaps;
} mpq_map_opts;

/* A mapping per layer, as text: items separated by ',' or ';', one per CONV_2D,
 * DEPTHWISE_CONV_2D and FULLY_CONNECTED layer in operator order, each `default` (the
 * driver's own mapping: def[i] = 1) or mpq_xp_map_parse's fields ("cols=16",
 * "img=1/rows=4/cols=0/pack=0/order=inner", "img=1 rows=4 cols=0 pack=0 order=inner"). At
 * most max items. Returns 0 with *n items, or MPQ_EPARAM with err naming the item (its
 * number from 1 and its text) and what is wrong. */
int mpq_map_list_parse(const char *text, mpq_xp_map *maps, unsigned char *def, unsigned max, unsigned *n,
                       char *err, size_t errlen);

/* A decomposed layer: q is the layer in ternary + sparse form (shape, offsets and clamp of
 * the source; per-channel requantization), its arrays owned here. */
typedef struct mpq_qdecomp {
    mpq_qlayer q;
    int8_t *t;
    int32_t *alpha, *hp, *bias, *mult, *shift;
    double *step;              /* [channels]: real weight ~= step[c] * (alpha[c]*t + hp) */
    size_t weights, hp_nnz;    /* weights of the layer, non-zero sparse entries among them */
    double w_norm2, err_norm2; /* sum of the real weights squared, and of their error squared */
} mpq_qdecomp;

/* Decomposes int8 layer q (w given, its scales set) as d says, with the widths of hw
 * (HpBits for hp, AlphaBits for alpha). The new weight step of channel c is step[c] (alpha[c]
 * is a whole number of steps: mpq_decompose); a channel left without any weight keeps its
 * int8 step. Requantization as a TFLite converter computes it for that step: multiplier and
 * shift from mpq_quantize_multiplier(in_scale * step[c] / out_scale), the int32 bias
 * round(bias * w_scale[c] / step[c]) (half away from zero, saturated to int32). Returns 0,
 * MPQ_EPARAM (err says why: no scales, impossible parameters) or MPQ_ENOMEM. out owns its
 * arrays: mpq_qdecomp_free. */
int mpq_qlayer_decompose(const mpq_hwcfg *hw, const mpq_qlayer *q, const mpq_map_decomp *d,
                         mpq_qdecomp *out, char *err, size_t errlen);
/* mpq_qlayer_decompose with the N:G groups of a layout the host repacks the layer into:
 * block (NULL: q's own layout, as mpq_qlayer_decompose) names the group of every weight in
 * q's layout (mpq_decompose_conv_blocks); used only for d->axis MPQ_DECOMP_CHANNEL of a
 * convolution. mpq_map_layer passes the blocks of the layout it will run the layer in. */
int mpq_qlayer_decompose_blocks(const mpq_hwcfg *hw, const mpq_qlayer *q, const mpq_map_decomp *d,
                                const uint32_t *block, mpq_qdecomp *out, char *err, size_t errlen);
void mpq_qdecomp_free(mpq_qdecomp *d);

/* The functional model of q on hw: y (NHWC; FC: [m][n]) from x as mpq_conv / mpq_fc compute
 * it with hw's accumulator (AccBits, wrapping) in the accelerator's grouped order and TFLite's
 * double rounding. What the mapped parts of q, gathered, must equal. Returns 0, MPQ_EPARAM
 * (err says why) or MPQ_ENOMEM. */
int mpq_qlayer_expected(const mpq_hwcfg *hw, const mpq_qlayer *q, const int32_t *x, int32_t *y,
                        char *err, size_t errlen);

/* One accelerator layer of a mapped layer and where its outputs go: images b0..b0+nb-1,
 * rows oy0..oy0+oh-1, columns ox0..ox0+ow-1 of the layer's output (FC: rows b0.. of the
 * matrix, oh = ow = 1), its output row r being (b0 + r/(ow*oh), oy0 + r/ow%oh, ox0 + r%ow). */
typedef struct mpq_map_part {
    mpq_hw_layer L;            /* owned */
    unsigned b0, oy0, ox0, nb, oh, ow;
} mpq_map_part;

typedef struct mpq_map {
    unsigned nparts;
    mpq_map_part *part;
    int decomposed;            /* opts.decomp was applied: dq holds the layer mapped */
    mpq_qdecomp dq;
    int packed;                /* the taps were packed into channels (thin or depthwise) */
    unsigned b, oh, ow, oc;    /* the layer's output: batches (FC: rows), rows, columns, channels */
    mpq_xp_map xm;             /* the mapping the parts are (mpq_xp_parts), whole axes resolved */
    char how[160];             /* one line: "conv2d, 2 bands of 24 output columns, taps packed into 27
                                  channels"; a given mapping: ", --map MAP: N parts" */
} mpq_map;

/* Maps q, with input activations x (NHWC; FC: [m][k]), for hw; with o->decomp, the
 * decomposition of q (map->dq). x NULL: the plan and every check alone, the parts' activations
 * not filled in (whether a layer runs does not depend on them). Returns 0, MPQ_EPARAM with err
 * naming the rule and the numbers when the layer cannot run exactly, or MPQ_ENOMEM. map owns
 * its parts and dq: mpq_map_free. */
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
