/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_abuf.c: C twin of u_abuf (rtl/mpq_ram.sv instantiated in rtl/mpq_top.sv), the activation
 * ring: ActDepth entries, each one activation beat as it came on act_data_i.
 */
#include <stdlib.h>
#include <string.h>

#include "mpq.h"
#include "mpq_cm_units.h"

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

/* mpq_ram.sv: `if (we_i) mem_q[waddr_i] <= wdata_i`. */
void mpq_abuf_write(mpq_abuf *b, unsigned addr, const uint32_t *beat)
{
    memcpy(&b->mem[(size_t)addr * b->words], beat, b->words * sizeof *beat);
}
