/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_wbuf.c: C twin of u_wbuf (rtl/mpq_ram.sv instantiated in rtl/mpq_top.sv), the weight
 * buffer: one entry per k slice, written once per tile in LOAD, read in RUN at the slice being
 * accumulated. The RTL stores the raw
 * beat and its lanes decode it every step; this twin decodes once when storing (the same
 * decode, mpq_lane_decode), which the per-cycle path of lockstep simulation needs.
 */
#include <stdlib.h>

#include "mpq.h"
#include "mpq_cm_units.h"

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
