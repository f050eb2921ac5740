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

#include "mpq_hw.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mpq_hw_layer {
    unsigned m, k, n;
    int acc_sat;                          /* 1 saturate, 0 wrap */
    int32_t in_offset, out_offset, act_min, act_max;
    int32_t *x;                           /* [m][k], signed ActBits values */
    int8_t *t;                            /* [n][k], -1/0/+1 */
    int32_t *hp;                          /* [n][k], signed HpBits, 0 where absent;
                                             <= HpPerGroup non-zeros per aligned group of KLanes */
    int32_t *alpha, *bias, *mult, *shift; /* [n] each */
} mpq_hw_layer;

/* Allocate the arrays of a layer of this shape, zeroed. Returns 0, MPQ_EPARAM (a zero
 * dimension) or MPQ_ENOMEM (then l holds nothing to free). */
int mpq_hw_layer_alloc(mpq_hw_layer *l, unsigned m, unsigned k, unsigned n);
/* Frees the arrays and zeroes l; a zeroed l is fine. */
void mpq_hw_layer_free(mpq_hw_layer *l);
/* Contract checks: the shape, every value's range for this hw (each tile's configuration
 * beat through mpq_cfg_check, activations, ternary and sparse weights), sparsity per group.
 * Returns 0 or MPQ_EPARAM with "what is wrong" in err. */
int mpq_hw_layer_check(const mpq_hwcfg *hw, const mpq_hw_layer *l, char *err, size_t errlen);
/* Expected outputs y[m][n] and per-channel overflow ovf[n] (1: some intermediate fit
 * overflowed for some row; ovf may be NULL) computed with the functional golden model (mpq.h),
 * not the cycle model. Returns 0, MPQ_ENOMEM or what mpq_fc returns. */
int mpq_hw_layer_expected(const mpq_hwcfg *hw, const mpq_hw_layer *l, int32_t *y, uint8_t *ovf);
/* The tile's configuration beat (tile t: channels t*Lanes ..): every field from the layer,
 * zero parameters for lanes past n. beat: MPQ_WORDS(mpq_hw_cfg_w(hw)) words, overwritten. */
void mpq_hw_layer_cfg_beat(const mpq_hwcfg *hw, const mpq_hw_layer *l, unsigned tile, uint32_t *beat);

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
    unsigned m, k, n;
    unsigned hp_n;           /* non-zeros per group of KLanes, <= HpPerGroup */
    int acc_sat;
    mpq_profile profile;
} mpq_layer_opts;
/* Returns 0, MPQ_EPARAM (a shape or option this hw cannot run: err names it) or MPQ_ENOMEM. */
int mpq_hw_layer_random(const mpq_hwcfg *hw, const mpq_layer_opts *o, mpq_hw_layer *l,
                        char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
