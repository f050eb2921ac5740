/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_xp_model.h: the per-layer precision x mapping search over a real int8 TFLite model
 * (issue 29 items 3 and 4, docs/explore.md "The search over a real model").
 *
 * Every CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED layer of the model chooses one of the
 * searched precisions (mpq_explore.h: tern+N, ternary weights with N high-precision entries
 * per group of KLanes input channels, or int8, the model's own weights) and one mapping.
 *
 * - A precision other than int8 is the model's int8 weights decomposed post-training as the
 *   driver decomposes them (mpq_map_layer with channels-N:KLanes, TWN threshold 0.7: grouped
 *   along the layout it plans for the layer), the layer requantized for its new weight step.
 *   A precision the layer cannot take on the configuration (widths, decomposition refused) is
 *   not offered to it.
 * - The mapping of a (layer, precision) is its least-energy legal mapping (fewest cycles on
 *   a tie) over the layer's whole mapspace (mpq_xp_mappings): a mapping changes neither the
 *   outputs nor another layer's cost, so no other mapping of it can be on the front at that
 *   precision unless it trades cycles for energy, which is reported where it happens. A
 *   packed mapping of a decomposed layer is legal only when the packed layout obeys the N:G
 *   rule (the driver's own test: mpq_map_layer packs it).
 * - The objectives of a precision vector: cycles and energy (the closed form and the
 *   energy-per-action table, summed over the layers), the weight memory (the weight stream's
 *   bits of one hardware layer: every part streams all of the layer's weights), and the
 *   noise-to-signal ratio of the logits against the int8 model over the inputs
 *   (net/mpq_fidelity.h; 0 when exact), all minimized; the top-1 agreement is reported
 *   beside them. The fidelity runs the model with the golden model's operators and, for each
 *   decomposed layer, the functional model of the decomposed layer (mpq_qlayer_expected: what
 *   the accelerator computes for it, bit for bit, as `mpq-tb net --decomp` checks).
 * - The search is mpq_nsga (NSGA-II) from a printed seed, its first population holding every
 *   uniform precision; each distinct vector is evaluated once.
 */
#ifndef MPQ_XP_MODEL_H
#define MPQ_XP_MODEL_H

#include "explore/mpq_explore.h"
#include "net/mpq_fidelity.h"
#include "net/mpq_graph.h"
#include "stim/mpq_netmap.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { MPQ_XPM_MAX_PRECS = 24 };

/* One (layer, precision). */
typedef struct mpq_xpm_choice {
    int held;                  /* 1: the layer runs at this precision */
    char why[200];             /* held 0: why not */
    mpq_xp_map map;            /* its least-energy legal mapping */
    mpq_xp_cost cost;
    double energy_pj;
    int trades;                /* 1: another mapping has fewer cycles at more energy */
    mpq_qdecomp dq;            /* tern precisions: the decomposed layer */
    int have_dq;
} mpq_xpm_choice;

typedef struct mpq_xpm_layer {
    unsigned op;
    int code;
    char shape_text[96];
    mpq_hw_layer shape;        /* shape only */
    mpq_qlayer q;              /* the model's int8 layer (arrays the net's) */
    mpq_xpm_choice c[MPQ_XPM_MAX_PRECS];
    mpq_xp_map map0;           /* the default mapping (mpq_xp_map_default) */
} mpq_xpm_layer;

typedef struct mpq_xpm {
    const mpq_tfl_model *m;
    mpq_net *net;              /* not owned */
    const mpq_hwcfg *hw;
    const mpq_xp_energy *e;
    unsigned np;
    mpq_xp_prec prec[MPQ_XPM_MAX_PRECS];
    int int8;                  /* the index of int8 among prec, or -1 */
    unsigned nl;
    mpq_xpm_layer *l;          /* [nl] */
    const mpq_fid *fid;
    int32_t *x, *y;            /* scratch: the largest layer input and output */
    int8_t *t8, *logits;
    uint64_t evals;            /* fidelity evaluations run */
} mpq_xpm;

/* Sets x up: the model's MAC layers, the cost and least-energy mapping of each at each of the
 * np precisions (each one that hw offers: mpq_xp_precisions), the decompositions. Returns 0,
 * MPQ_EPARAM with err (a precision hw does not offer, a layer that no searched precision can
 * run, no MAC layer) or MPQ_ENOMEM. Free with mpq_xpm_free. */
int mpq_xpm_init(mpq_xpm *x, const mpq_tfl_model *m, mpq_net *net, const mpq_hwcfg *hw, const mpq_xp_energy *e,
                 const mpq_xp_prec *prec, unsigned np, const mpq_fid *fid, char *err, size_t errlen);
void mpq_xpm_free(mpq_xpm *x);

/* The objectives of precision vector p (p[l] an index into x->prec, held by layer l). */
typedef struct mpq_xpm_obj {
    double cycles, energy_pj, weight_bits, nsr; /* nsr: noise / signal of the logits */
    mpq_fid_sum fid;
} mpq_xpm_obj;
/* Returns 0, MPQ_EPARAM with err (a precision the layer does not hold, a run that fails). */
int mpq_xpm_eval(mpq_xpm *x, const uint8_t *p, mpq_xpm_obj *o, char *err, size_t errlen);
/* The cost and energy of p without the fidelity (o->fid, o->nsr zero); default: every layer at
 * its default mapping instead of its least-energy one. */
void mpq_xpm_cost(const mpq_xpm *x, const uint8_t *p, int default_map, mpq_xpm_obj *o);

#ifdef __cplusplus
}
#endif
#endif
