/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_hwlayer.h: one mixed-precision fully-connected layer in the accelerator's terms
 * (ternary + sparse int weights, per-channel alpha/bias/requantization), its contract checks,
 * its expected outputs from the functional model (mpq.h), and deterministic random layers
 * with the stimulus profiles the regression uses.
 * Functions return 0 or a negative MPQ_E* code (mpq.h), with a message in err where they
 * take one.
 */
#ifndef MPQ_HWLAYER_H
#define MPQ_HWLAYER_H

#include "arith/mpq.h"
#include "arith/mpq_rng.h"
#include "contract/mpq_hw.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A layer: a fully-connected layer (x[m][k], weights [n][k]), a convolution (conv2d, weights
 * OHWI [out_c][kh][kw][in_c/groups]) or a depthwise convolution (weights [kh][kw][out_c]),
 * with the semantics of mpq.h (NHWC tensors, TFLite padding). The accelerator runs each as
 * convolutions of Lanes output channels at a time (tiles): a fully-connected layer is the
 * 1x1 convolution of an image of m rows, 1 column and k channels. */
typedef struct mpq_hw_layer {
    mpq_conv_shape s;                     /* kind FC (its 1x1 view), CONV2D or DEPTHWISE */
    unsigned m, k, n;                     /* output pixels (FC: rows), reduction depth, channels */
    int acc_sat;                          /* 1 saturate, 0 wrap */
    int32_t in_offset, out_offset, act_min, act_max;
    int32_t *x;                           /* NHWC (FC: [m][k]), signed ActBits values */
    int8_t *t;                            /* -1/0/+1, in the kind's weight layout */
    int32_t *hp;                          /* signed HpBits, 0 where absent, the same layout;
                                             <= HpPerGroup non-zeros of one output channel per
                                             window position and aligned block of KLanes input
                                             channels (the accelerator's N:G groups) */
    int32_t *alpha, *bias, *mult, *shift; /* [n] each */
} mpq_hw_layer;

/* Allocate the arrays of a fully-connected layer of this shape, zeroed. Returns 0,
 * MPQ_EPARAM (a zero dimension) or MPQ_ENOMEM (then l holds nothing to free). */
int mpq_hw_layer_alloc(mpq_hw_layer *l, unsigned m, unsigned k, unsigned n);
/* The same for a convolution of shape s (kind CONV2D or DEPTHWISE; it must pass
 * mpq_conv_check). Returns 0, MPQ_EPARAM with err saying why, or MPQ_ENOMEM. */
int mpq_hw_layer_alloc_conv(mpq_hw_layer *l, const mpq_conv_shape *s, char *err, size_t errlen);
/* The shape-only layer of convolution s (no arrays; l holds nothing to free), for fits and
 * estimates: l->s = s with groups 0 read as 1, the GEMM's m = batches x out_h x out_w, k = the
 * depth of one output (mpq_conv_depth), n = out_c; every other field zero. s is not checked. */
void mpq_hw_layer_of_conv(mpq_hw_layer *l, const mpq_conv_shape *s);
/* The taps of convolution s packed into channels (the host's im2col of a thin layer): the
 * 1x1 conv2d over kh*kw*in_c channels with s's batches, output grid and out_c, one group; the
 * mapping that packs (stim/mpq_netmap.c) and its cost (explore/mpq_explore.c) use this one
 * shape. s is not checked. */
void mpq_hw_packed_shape(const mpq_conv_shape *s, mpq_conv_shape *p);
/* The taps of depthwise convolution s packed per tile (the host's packing of a depthwise
 * layer, stim/mpq_netmap.h): output channels in groups of *opg (the largest divisor of out_c
 * up to Lanes: one tile each); per group the kh*kw taps of the *nci input channels its outputs
 * read (o / channel multiplier), tap-major, padded to *fp channels, a whole number of slices;
 * the layer becomes the 1x1 conv2d p of out_c / *opg groups over s's output grid, in_c = groups
 * * fp. The mapping that packs and its cost (explore/mpq_explore.c) use this one shape. s is
 * not checked (out_c a multiple of in_c). */
void mpq_hw_dw_packed_shape(const mpq_hwcfg *hw, const mpq_conv_shape *s, unsigned *opg, unsigned *nci,
                            unsigned *fp, mpq_conv_shape *p);
/* Frees the arrays and zeroes l; a zeroed l is fine. */
void mpq_hw_layer_free(mpq_hw_layer *l);
/* The number of weights of one output channel, and the index of the weight of output
 * channel o, window position tap = ky*kw + kx, channel c of o's group (0 <= c < group size,
 * depthwise: c = 0) in l->t and l->hp. */
unsigned mpq_hw_layer_group_size(const mpq_hw_layer *l);
size_t mpq_hw_layer_widx(const mpq_hw_layer *l, unsigned o, unsigned tap, unsigned c);
/* The first input channel of output channel o's group. */
unsigned mpq_hw_layer_group_base(const mpq_hw_layer *l, unsigned o);

/* How tile t (output channels t*Lanes ..) runs: its activation stream carries n_slices
 * slices of every pixel, channels cs0*KLanes .. (the union of its channels' groups, in whole
 * slices), c_len of them real. */
typedef struct mpq_hw_tile {
    unsigned cs0, n_slices, c_len;
    uint64_t wgt_beats;   /* kh*kw*n_slices */
    uint64_t act_beats;   /* batches*in_h*in_w*n_slices */
} mpq_hw_tile;
/* The number of tiles, ceil(n / Lanes), and tile t's plan. */
unsigned mpq_hw_layer_tiles(const mpq_hwcfg *hw, const mpq_hw_layer *l);
void mpq_hw_layer_tile(const mpq_hwcfg *hw, const mpq_hw_layer *l, unsigned t, mpq_hw_tile *tile);
/* Tile t's configuration beat: every field from the layer and the tile's plan, zero
 * parameters for lanes past n. beat: MPQ_WORDS(mpq_hw_cfg_w(hw)) words, overwritten. */
void mpq_hw_layer_cfg_beat(const mpq_hwcfg *hw, const mpq_hw_layer *l, unsigned tile, uint32_t *beat);
/* Weight beat ws (0 .. tp->wgt_beats-1) of tile `tile` (plan tp): window position ws / n_slices,
 * channel slice ws % n_slices, every lane's ternary codes and sparse entries; zero weights
 * outside a lane's group and for lanes past n. Where the hardware masks (channels past c_len)
 * and in unused sparse entries, random values from rng, so that a missing mask shows.
 * d: MPQ_WORDS(mpq_hw_wgt_w(hw)) words, overwritten. */
void mpq_hw_layer_wgt_beat(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_hw_tile *tp, unsigned tile,
                           uint64_t ws, mpq_rng *rng, uint32_t *d);
/* Activation beat a (0 .. tp->act_beats-1) of a tile (plan tp): input pixel a / n_slices in
 * raster order, channel slice a % n_slices of the tile's range; channels past the layer's
 * random from rng (the hardware masks them). d: MPQ_WORDS(mpq_hw_act_w(hw)) words. */
void mpq_hw_layer_act_beat(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_hw_tile *tp, uint64_t a,
                           mpq_rng *rng, uint32_t *d);
/* Contract checks: the shape, every value's range for this hw (each tile's configuration
 * beat through mpq_cfg_check: the weights fit the weight buffer, the window's rows the
 * activation ring, ...), activations, ternary and sparse weights, sparsity per group.
 * Returns 0 or MPQ_EPARAM with "what is wrong" in err. */
int mpq_hw_layer_check(const mpq_hwcfg *hw, const mpq_hw_layer *l, char *err, size_t errlen);
/* Expected outputs y[m][n] and per-channel overflow ovf[n] (1: some intermediate fit
 * overflowed for some pixel; ovf may be NULL) computed with the functional golden model
 * (mpq_fc or mpq_conv in the accelerator's grouped order), not the cycle model. Returns 0,
 * MPQ_ENOMEM or what mpq_fc / mpq_conv return. */
int mpq_hw_layer_expected(const mpq_hwcfg *hw, const mpq_hw_layer *l, int32_t *y, uint8_t *ovf);
/* The accumulators acc[m][n] alone (the same model). Returns as mpq_hw_layer_expected. */
int mpq_hw_layer_acc(const mpq_hwcfg *hw, const mpq_hw_layer *l, int64_t *acc);

/* Layer profiles for random generation. */
typedef enum mpq_profile {
    MPQ_PROF_RANDOM = 0,   /* typical values */
    MPQ_PROF_OVERFLOW,     /* large alpha/bias/activations so the accumulator overflows */
    MPQ_PROF_REQUANT_EDGE, /* extreme multipliers and shifts (-31, 30); edge multipliers
                              (2^30, 2^31-1) scaled to the output range, so rounding ties
                              and clamps show in the outputs */
    MPQ_PROF_ZERO_TERN,    /* all-zero ternary weights */
    MPQ_PROF_MAX_SPARSE,   /* every sparse entry used */
    MPQ_PROF_ACC_EDGE,     /* biases chosen so a partial sum lands exactly on an accumulator
                              bound (max, min) or one beyond it */
    MPQ_PROF_EXTREME,      /* the datapath's widest values: activations at their extreme with
                              the extreme in_offset of the same sign (|x + in_offset| largest),
                              the most negative alpha, ternary weights all of one sign, every
                              sparse entry at the most negative value, biases at the bounds:
                              the top bits of every exact intermediate are driven */
    MPQ_PROF_COUNT
} mpq_profile;
/* "random", "overflow", ...; "?" for a value out of range. */
const char *mpq_profile_name(mpq_profile p);
/* Returns 0, or MPQ_EPARAM for an unknown name. */
int mpq_profile_parse(const char *s, mpq_profile *p);

/* Deterministic random layer: the same (hw, seed, shape, options) gives the same layer. */
typedef struct mpq_layer_opts {
    uint64_t seed;
    mpq_conv_shape shape;    /* kind CONV2D or DEPTHWISE: that shape; kind FC: m, k, n */
    unsigned m, k, n;
    unsigned hp_n;           /* non-zeros per group of KLanes, <= HpPerGroup */
    int acc_sat;
    mpq_profile profile;
} mpq_layer_opts;
/* o zeroed, then its shape: s when s is a convolution (kind CONV2D or DEPTHWISE), else the
 * fully-connected m, k, n (kind FC). */
void mpq_layer_opts_shape(mpq_layer_opts *o, const mpq_conv_shape *s, unsigned m, unsigned k, unsigned n);
/* Returns 0, MPQ_EPARAM (a shape or option this hw cannot run: err names it) or MPQ_ENOMEM. */
int mpq_hw_layer_random(const mpq_hwcfg *hw, const mpq_layer_opts *o, mpq_hw_layer *l,
                        char *err, size_t errlen);

/* A random convolution shape (conv2d, grouped now and then, or depthwise with a channel
 * multiplier) that this hw runs: odd sizes, channel counts that are not multiples of KLanes,
 * kernels from 1x1 to the whole input, strides and dilations up to 3, every legal padding,
 * several images now and then; at most about max_steps lane-array steps in all. The same
 * seed gives the same shape. */
void mpq_hw_conv_shape_random(const mpq_hwcfg *hw, uint64_t seed, uint64_t max_steps,
                              mpq_conv_shape *s);
/* Whether hw can run a convolution of shape s (its weights fit the weight buffer, its window
 * rows the activation ring, ...): 0, or MPQ_EPARAM with err naming the rule and the tile. */
int mpq_hw_conv_fits(const mpq_hwcfg *hw, const mpq_conv_shape *s, char *err, size_t errlen);
/* The shape of the layer o describes (o->shape of kind CONV2D or DEPTHWISE, else the FC
 * o->m, o->k, o->n) into l, without arrays (l->x etc. NULL: nothing to free), for plans and
 * estimates before anything is allocated. Returns 0, or MPQ_EPARAM with err saying what is
 * wrong with the shape. */
int mpq_hw_layer_shape(const mpq_layer_opts *o, mpq_hw_layer *l, char *err, size_t errlen);

/* A convolution shape as one line of text, the form mpq_conv_shape_parse reads:
 * "conv2d b=1 h=8 w=8 c=16 o=32 k=3x3 s=2x2 d=1x1 p=1x1 g=1 oh=4 ow=4". */
void mpq_conv_shape_format(const mpq_conv_shape *s, char *buf, size_t len);
/* Parses that form: the kind first (conv2d or depthwise), then key=value in any order, keys
 * h, w, c and o required; b, g default to 1, k/s/d to 1x1 (one number n means nxn), p to 0x0,
 * oh/ow to the output of symmetric padding (TFLite's SAME when p is half the extent). The
 * shape is checked (mpq_conv_check). Returns 0, or MPQ_EPARAM with err naming the key and
 * what is wrong. */
int mpq_conv_shape_parse(const char *text, mpq_conv_shape *s, char *err, size_t errlen);

/* The lane-array steps of a layer on hw (every tile's pixels x window positions x slices). */
uint64_t mpq_hw_layer_steps(const mpq_hwcfg *hw, const mpq_hw_layer *l);

#ifdef __cplusplus
}
#endif
#endif
