/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_cycle.h: the golden cycle model, the C twin of rtl/mpq_top.sv (docs/timing.md, "Cycle
 * behaviour"). Its units mirror the RTL's: golden/mpq_wbuf.c (rtl/mpq_wbuf.sv, the weight
 * buffer and the beat decode), golden/mpq_lane.c (rtl/mpq_lane.sv, one lane's step) and
 * mpq_requant_double (golden/mpq_requant.c, rtl/mpq_requant.sv); golden/mpq_cycle.c is the
 * control (FSM, counters, result pipeline) of mpq_top.sv.
 *
 * Its arithmetic is its own per-slice code; it never calls the functional model (mpq_fc),
 * which the stimulus generator (mpq_gen.h) compares it with as an independent second
 * implementation.
 */
#ifndef MPQ_CYCLE_H
#define MPQ_CYCLE_H

#include "mpq_hw.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mpq_cm mpq_cm;

/* FSM states of mpq_top.sv (state_e). */
enum { MPQ_ST_IDLE = 0, MPQ_ST_LOAD = 1, MPQ_ST_RUN = 2, MPQ_ST_DRAIN = 3 };

/* Where the array is, for mismatch reports: tile = number of cfg handshakes - 1. */
typedef struct mpq_cm_where {
    long tile;       /* -1 before the first cfg handshake */
    int state;       /* MPQ_ST_* */
    unsigned wslice; /* weight slice being loaded (LOAD) */
    unsigned row;    /* activation row in the array (RUN) */
    unsigned slice;  /* k slice expected next (RUN): k = slice*KLanes .. +KLanes-1 */
    unsigned k_len, m_rows;
    long out_row;    /* row of the tile now on out_data_o, -1 when out is empty */
} mpq_cm_where;

/* Allocates a model in the reset state. Returns 0, MPQ_EPARAM (an illegal configuration:
 * err says why) or MPQ_ENOMEM. */
int mpq_cm_new(const mpq_hwcfg *hw, mpq_cm **out, char *err, size_t errlen);
/* Frees the model; NULL is fine. */
void mpq_cm_free(mpq_cm *cm);
/* The output ports in the current cycle for these inputs (combinational; no state change). */
void mpq_cm_eval(const mpq_cm *cm, const mpq_port_in *in, mpq_port_out *out);
/* The rising clock edge at the end of the cycle whose inputs are `in`. */
void mpq_cm_tick(mpq_cm *cm, const mpq_port_in *in);
/* Where the array is in the current cycle (before the edge). */
void mpq_cm_where_get(const mpq_cm *cm, mpq_cm_where *w);

#ifdef __cplusplus
}
#endif
#endif
