/* SPDX-License-Identifier: Apache-2.0 */
/* xp_out.h: mpq-explore-net's search run and its reports (xp_out.c). */
#ifndef XP_OUT_H
#define XP_OUT_H

#include "xp.h"

typedef struct xp_report {
    const xp_net *n;
    const double *acc; /* [nv] accuracy per precision vector */
    size_t nv;
    const char *out, *cfg;
    unsigned images;
} xp_report;

/* Runs the search and writes OUT/front.tsv, front.json and front.md (each atomically), with
 * the baselines (uniform int8 at the default mapping and at its least-energy mapping; every
 * uniform precision at its least-energy mapping), the energy saved at equal accuracy (within
 * 0.5 points) and three points of the front layer by layer. Prints a summary. Returns 0 or 2
 * after a message. */
int xp_report_write(const xp_report *r);

#endif
