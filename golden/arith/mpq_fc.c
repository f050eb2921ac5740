/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_fc.c: the quantized fully-connected layer (dense intN, ternary x alpha, sparse
 * high-precision, or their sum) with exact accumulation in a declared order, wrap or
 * saturate, and overflow detection. Hardware counterpart: rtl/mpq_lane.sv (one channel's
 * accumulator, GROUPED order with group = KLanes) and rtl/mpq_requant.sv.
 *
 * The layer is a planned layer of mpq_layer.c (the MAC engine of mpq_mac.c underneath),
 * planned here for the activations' range and run once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq_layer.h"
#include "arith/mpq_mac.h"

int mpq_fc_acc(const mpq_fc_layer *l, int64_t *acc, mpq_fc_ovf *ovf, char *err, size_t errlen)
{
    return mpq_fc(l, NULL, NULL, acc, ovf, err, errlen);
}

/* One plan of the layer (mpq_layer.h) for its activations' range, one run. */
int mpq_fc(const mpq_fc_layer *l, const mpq_requant *rq, int32_t *y, int64_t *acc,
           mpq_fc_ovf *ovf, char *err, size_t errlen)
{
    int st = mpq_mac_check_order(l->x, l->order, l->group, err, errlen);
    if (st)
        return st;
    mpq_layer_def d = {.shape = mpq_layer_fc_shape(l->m, l->k, l->n), .mac = l, .rq = rq,
                       .flags = MPQ_LAYER_RANGED | (ovf ? MPQ_LAYER_TRACK : 0)};
    mpq_min_max32(l->x, (size_t)l->m * l->k, &d.x_min, &d.x_max);
    mpq_layer *pl;
    if ((st = mpq_layer_init(&pl, &d, err, errlen)))
        return st;
    mpq_layer_ovf o = {.flags = ovf ? ovf->flags : NULL, .first = ovf ? ovf->first_k : NULL};
    mpq_layer_out out = {.acc = acc, .y = y, .ovf = ovf ? &o : NULL};
    st = mpq_layer_run(pl, l->x, NULL, &out, NULL, err, errlen);
    mpq_layer_free(pl);
    if (st || !ovf)
        return st;
    ovf->n_final = o.n_final;
    ovf->n_any = o.n_any;
    ovf->first_row = ovf->first_ch = ovf->first_k_pos = -1;
    ovf->first_bias = 0;
    if (o.first_out >= 0) {
        ovf->first_row = (long)((size_t)o.first_out / l->n);
        ovf->first_ch = (long)((size_t)o.first_out % l->n);
        ovf->first_k_pos = o.first_term;
        ovf->first_bias = o.first_term < 0;
    }
    return MPQ_OK;
}
