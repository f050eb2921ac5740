/* SPDX-License-Identifier: Apache-2.0 */
/*
 * xp.h: the search over a whole network's per-layer (precision, mapping) points (issue 29
 * item 3, docs/explore.md "The search"). The cost of each point is golden/explore's closed
 * form; its energy the energy-per-action table (scripts/golden/explore-energy.py); the
 * accuracy of a precision vector the caller's (xp_main.c: the golden model on test images).
 *
 * The search is exhaustive and exact: the mapping of a layer changes neither the accuracy nor
 * another layer's cost, so for every precision vector the network's non-dominated (cycles,
 * energy, weight memory) points are the Pareto-filtered sums of each layer's own fronts, and
 * the network's front is the non-dominated set of all of them with the accuracy added. No
 * random choice is made: the same inputs give the same front, in the same order.
 */
#ifndef XP_H
#define XP_H

#include <stddef.h>

#include "explore/mpq_explore.h"

#define XP_MAX_LAYERS 8
#define XP_MAX_PRECS 20

/* A point's objectives, all to be minimized except acc (maximized). */
typedef struct xp_obj {
    double cycles, energy_pj, wmem_bits, acc;
} xp_obj;

/* A network point: one precision index and one mapping per layer, and its objectives. */
typedef struct xp_net_pt {
    unsigned prec[XP_MAX_LAYERS];
    mpq_xp_map map[XP_MAX_LAYERS];
    xp_obj o;
} xp_net_pt;

typedef struct xp_net {
    const mpq_hwcfg *hw;
    const mpq_xp_energy *e;
    unsigned nl;                          /* MAC layers */
    mpq_hw_layer layer[XP_MAX_LAYERS];    /* shape only */
    unsigned np;                          /* precisions searched */
    mpq_xp_prec prec[XP_MAX_PRECS];
    double images;                        /* per inference: totals are divided by this */
} xp_net;

/* The objectives (accuracy left 0) of layer l at precision index p and mapping m. */
int xp_layer_obj(const xp_net *n, unsigned l, unsigned p, const mpq_xp_map *m, xp_obj *o);

/* The search: for every precision vector (np^nl, index v = sum prec[l] * np^l), acc[v] its
 * accuracy; fills *front (malloc'd, caller frees) with the network's non-dominated points,
 * sorted by energy then cycles, and *evaluated with the points whose cost was computed.
 * Returns 0, or -1 with err (out of memory, a layer with no legal mapping). */
int xp_search(const xp_net *n, const double *acc, xp_net_pt **front, size_t *count, size_t *evaluated,
              char *err, size_t errlen);

/* 1 when a dominates b (no worse in every objective, better in one). */
int xp_dominates(const xp_obj *a, const xp_obj *b);

#endif
