/* SPDX-License-Identifier: Apache-2.0 */
/* The quantized MLP's layers as vector files (mpq-mnist --emit-vectors): the workload of the
 * gate-level simulation and its switching activity (scripts/ppa/ppa.sh). Each layer of the first
 * m test images becomes one file, made exactly as `mpq-golden gen` makes one (golden cycle
 * model, every input and expected output of every cycle, full-rate valid/ready); the next
 * layer's input is the golden model's output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnist.h"
#include "stim/mpq_gen.h"
#include "stim/mpq_hwlayer.h"
#include "stim/mpq_vec.h"

/* The quantized layer in the accelerator's terms. Dense int8 weights (MN_DENSE8) are all
 * high-precision entries (ternary 0, alpha 0): they need HpPerGroup = KLanes. */
static int hw_layer_of(const mn_qlayer *ql, const int32_t *x, unsigned m, int acc_sat,
                       mpq_hw_layer *L)
{
    if (mpq_hw_layer_alloc(L, m, ql->k, ql->n) != 0)
        return MPQ_ENOMEM;
    L->acc_sat = acc_sat;
    L->in_offset = ql->in_offset;
    L->out_offset = ql->out_offset;
    L->act_min = ql->act_min;
    L->act_max = ql->act_max;
    memcpy(L->x, x, (size_t)m * ql->k * sizeof *x);
    if (ql->w) {
        memcpy(L->hp, ql->w, (size_t)ql->n * ql->k * sizeof *L->hp);
    } else {
        memcpy(L->t, ql->t, (size_t)ql->n * ql->k);
        if (ql->hp)
            memcpy(L->hp, ql->hp, (size_t)ql->n * ql->k * sizeof *L->hp);
        memcpy(L->alpha, ql->alpha, ql->n * sizeof *L->alpha);
    }
    memcpy(L->bias, ql->bias, ql->n * sizeof *L->bias);
    memcpy(L->mult, ql->mult, ql->n * sizeof *L->mult);
    memcpy(L->shift, ql->shift, ql->n * sizeof *L->shift);
    return 0;
}

/* One layer to path; *cycles receives its length. */
static int write_layer(const mpq_hwcfg *hw, const mpq_hw_layer *L, const char *path, unsigned layer,
                       const char *cmd, uint64_t *cycles, char *err, size_t errlen)
{
    mpq_timing_opts t;
    mpq_timing_default(1, 1.0, 1.0, &t); /* full rate, as gen's defaults */
    mpq_vec_header h;
    memset(&h, 0, sizeof h);
    h.version = MPQ_VEC_VERSION;
    h.hw = *hw;
    h.seed = 1;
    h.timing_seed = 1;
    mpq_vec_header_set_layer(&h, L);
    h.acc_sat = (uint32_t)L->acc_sat;
    snprintf(h.generator, sizeof h.generator, "mpq-mnist");
    snprintf(h.source, sizeof h.source, "mnist:layer%u", layer);
    strncpy(h.command, cmd, sizeof h.command - 1);
    mpq_gen *g;
    if (mpq_gen_new(hw, L, &t, &g, err, errlen) != 0)
        return 2;
    mpq_vec_writer *w;
    if (mpq_vec_writer_open(path, &h, &w, err, errlen) != 0) {
        mpq_gen_free(g);
        return 2;
    }
    static mpq_port_in in;
    static mpq_port_out exp;
    int rc;
    while ((rc = mpq_gen_next(g, &in, &exp)) == 1)
        if (mpq_vec_writer_put(w, &in, &exp) != 0) {
            rc = -1;
            snprintf(err, errlen, "%s: write failed", path);
            break;
        }
    if (rc < 0 && !*err)
        snprintf(err, errlen, "%s: %s", path, mpq_gen_error(g));
    *cycles = mpq_gen_cycle(g);
    mpq_gen_free(g);
    if (rc < 0) {
        mpq_vec_writer_abort(w);
        return 1;
    }
    return mpq_vec_writer_close(w, err, errlen) == 0 ? 0 : 2;
}

int mn_emit_vectors(const mn_qnet *q, const mpq_hwcfg *hw, const int32_t *x, unsigned m, int acc_sat,
                    const char *dir, const char *cmd, FILE *summary, char *err, size_t errlen)
{
    const int32_t *in = x;
    int32_t *bufs[2] = {NULL, NULL};
    int rc = 0;
    *err = '\0';
    for (unsigned l = 0; rc == 0 && l < q->nl; l++) {
        const mn_qlayer *ql = &q->layer[l];
        mpq_hw_layer L;
        char path[1200];
        uint64_t cycles = 0;
        bufs[l & 1] = realloc(bufs[l & 1], (size_t)m * ql->n * sizeof(int32_t));
        if (!bufs[l & 1] || hw_layer_of(ql, in, m, acc_sat, &L) != 0) {
            snprintf(err, errlen, "out of memory");
            rc = 2;
            break;
        }
        if (mpq_hw_layer_check(hw, &L, err, errlen) != 0) {
            rc = 2;
        } else if (mpq_hw_layer_expected(hw, &L, bufs[l & 1], NULL) != 0) {
            snprintf(err, errlen, "out of memory");
            rc = 2;
        } else {
            snprintf(path, sizeof path, "%s/layer%u.vec", dir, l + 1);
            rc = write_layer(hw, &L, path, l + 1, cmd, &cycles, err, errlen);
        }
        if (rc == 0)
            fprintf(summary, "layer%u\t%u\t%u\t%u\t%llu\t%llu\n", l + 1, m, ql->k, ql->n,
                    (unsigned long long)cycles, (unsigned long long)m * ql->k * ql->n);
        mpq_hw_layer_free(&L);
        in = bufs[l & 1];
    }
    free(bufs[0]);
    free(bufs[1]);
    return rc;
}
