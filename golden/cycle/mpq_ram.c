/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_ram.c: C twin of rtl/mpq_ram.sv, the one RAM of the accelerator, in its two instances
 * in rtl/mpq_top.sv:
 *   u_wbuf, the weight buffer: one entry per k slice, written once per tile in LOAD, read in
 *     RUN at the slice being accumulated. The RTL stores the raw beat and its lanes decode it
 *     every step; this twin decodes once when storing (the same decode, mpq_lane_decode),
 *     which the per-cycle path of lockstep simulation needs.
 *   u_abuf, the activation ring: ActDepth entries, each one activation beat as it came on
 *     act_data_i.
 */
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"
#include "cycle/mpq_units.h"

int mpq_wbuf_init(mpq_wbuf *b, const mpq_hwcfg *hw)
{
    b->nslices = hw->kmax / hw->klanes;
    b->lanes = hw->lanes;
    b->mem = calloc((size_t)b->nslices * b->lanes, sizeof *b->mem);
    return b->mem ? 0 : MPQ_ENOMEM;
}

void mpq_wbuf_free(mpq_wbuf *b)
{
    free(b->mem);
    b->mem = NULL;
}

/* mpq_ram.sv (u_wbuf): `if (we_i) mem_q[waddr_i] <= wdata_i`. */
void mpq_wbuf_write(mpq_wbuf *b, const mpq_hwcfg *hw, unsigned slice, const uint32_t *beat)
{
    if (slice >= b->nslices)
        return;
    for (unsigned l = 0; l < b->lanes; l++)
        mpq_lane_decode(hw, beat, l, &b->mem[(size_t)slice * b->lanes + l]);
}

int mpq_abuf_init(mpq_abuf *b, const mpq_hwcfg *hw)
{
    b->depth = hw->act_depth;
    b->words = MPQ_WORDS(mpq_hw_act_w(hw));
    b->mem = calloc((size_t)b->depth * b->words, sizeof *b->mem);
    return b->mem ? 0 : MPQ_ENOMEM;
}

void mpq_abuf_free(mpq_abuf *b)
{
    free(b->mem);
    b->mem = NULL;
}

/* mpq_ram.sv (u_abuf): `if (we_i) mem_q[waddr_i] <= wdata_i`. */
void mpq_abuf_write(mpq_abuf *b, unsigned addr, const uint32_t *beat)
{
    memcpy(&b->mem[(size_t)addr * b->words], beat, b->words * sizeof *beat);
}
