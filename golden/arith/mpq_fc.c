/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_fc.c: the quantized fully-connected layer (dense intN, ternary x alpha, sparse
 * high-precision, or their sum) with exact accumulation in a declared order, wrap or
 * saturate, and overflow detection. Hardware counterpart: rtl/mpq_lane.sv (one channel's
 * accumulator, GROUPED order with group = KLanes) and rtl/mpq_requant.sv.
 *
 * The arithmetic is the engine of mpq_mac.c: this file plans the layer, walks its rows and
 * notes overflows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq_mac.h"

/* Records one output's overflow result: counts, per-output arrays, the first in
 * (row, channel) order. */
static void fc_note(mpq_fc_ovf *ovf, unsigned r, unsigned c, unsigned n, mpq_mac_out o)
{
    if (mpq_mac_note(&ovf->n_final, &ovf->n_any, ovf->flags, ovf->first_k, (size_t)r * n + c, o,
                     ovf->first_row >= 0)) {
        ovf->first_row = r;
        ovf->first_ch = c;
        ovf->first_k_pos = o.first;
        ovf->first_bias = o.first < 0;
    }
}

int mpq_fc_acc(const mpq_fc_layer *l, int64_t *acc, mpq_fc_ovf *ovf, char *err, size_t errlen)
{
    int st = mpq_mac_check_order(l->x, l->order, l->group, err, errlen);
    if (st)
        return st;
    int64_t xmax = mpq_abs_max32(l->x, (size_t)l->m * l->k, l->in_offset);
    mpq_mac_plan plan;
    st = mpq_mac_plan_init(&plan, l, xmax, ovf != NULL, err, errlen);
    if (st)
        return st;
    unsigned ncuts = 0;
    unsigned *cuts = mpq_mac_cuts_uniform(l->k, l->order == MPQ_ORDER_SEQ ? 1 : l->group, &ncuts);
    mpq_mac_row row;
    mpq_mac_out *outs = malloc(((size_t)l->n + 1) * sizeof *outs);
    if (!cuts || !outs || mpq_mac_row_init(&row, l->k)) {
        free(cuts);
        free(outs);
        mpq_mac_plan_free(&plan);
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    if (ovf) {
        ovf->n_final = ovf->n_any = 0;
        ovf->first_row = ovf->first_ch = ovf->first_k_pos = -1;
        ovf->first_bias = 0;
    }
    for (unsigned r = 0; r < l->m; r++) {
        mpq_mac_row_put(&plan, &row, 0, l->x + (size_t)r * l->k, l->k, l->in_offset);
        mpq_mac_row_load(&plan, &row);
        mpq_mac_chans(&plan, &row, 0, l->n, cuts, ncuts, outs);
        for (unsigned c = 0; c < l->n; c++) {
            acc[(size_t)r * l->n + c] = outs[c].acc;
            if (ovf)
                fc_note(ovf, r, c, l->n, outs[c]);
        }
    }
    free(outs);
    mpq_mac_row_free(&row);
    free(cuts);
    mpq_mac_plan_free(&plan);
    return MPQ_OK;
}

int mpq_fc(const mpq_fc_layer *l, const mpq_requant *rq, int32_t *y, int64_t *acc,
           mpq_fc_ovf *ovf, char *err, size_t errlen)
{
    int st = mpq_requant_check(rq, l->n, err, errlen);
    if (st)
        return st;
    int64_t *a = acc ? acc : malloc(((size_t)l->m * l->n + 1) * sizeof *a);
    if (!a)
        return MPQ_ENOMEM;
    st = mpq_fc_acc(l, a, ovf, err, errlen);
    if (!st)
        for (unsigned r = 0; r < l->m; r++)
            for (unsigned c = 0; c < l->n; c++)
                y[(size_t)r * l->n + c] = mpq_requant_one(rq, a[(size_t)r * l->n + c], c);
    if (!acc)
        free(a);
    return st;
}
