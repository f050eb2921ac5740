/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_top.h: the golden cycle model, the C twin of rtl/mpq_top.sv (docs/timing.md, "Cycle
 * behaviour"). Its units mirror the RTL's: golden/cycle/mpq_ram.c (rtl/mpq_ram.sv: u_wbuf, the
 * weight buffer, and u_abuf, the activation ring), mpq_lane_decode (the beat decode),
 * golden/cycle/mpq_win.c (rtl/mpq_win.sv, the window generator), golden/cycle/mpq_lane.c
 * (rtl/mpq_lane.sv, one lane's step) and
 * mpq_requant_double (golden/arith/mpq_requant.c, rtl/mpq_requant.sv); golden/cycle/mpq_top.c is the
 * control (FSM, counters, result pipeline) of mpq_top.sv.
 *
 * Its arithmetic is its own per-slice code; it never calls the functional model (mpq_fc),
 * which the stimulus generator (mpq_gen.h) compares it with as an independent second
 * implementation.
 */
#ifndef MPQ_TOP_H
#define MPQ_TOP_H

#include "contract/mpq_hw.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mpq_cm mpq_cm;

/* FSM states of mpq_top.sv (state_e). */
enum { MPQ_ST_IDLE = 0, MPQ_ST_LOAD = 1, MPQ_ST_RUN = 2, MPQ_ST_DRAIN = 3 };

/* Where the array is, for mismatch reports: tile = number of cfg handshakes since the last
 * reset - 1 (the layer starts again from its first tile after a reset). */
typedef struct mpq_cm_where {
    long tile;       /* -1 before the first cfg handshake */
    unsigned resets; /* resets after a tile had begun: 0 in a run without a mid-layer reset */
    int state;       /* MPQ_ST_* */
    unsigned wslice; /* weight slice being loaded (LOAD) */
    /* The window generator's step (RUN): output pixel (b, oy, ox), tap (ky, kx), channel slice
     * s (channels s*KLanes ..); pad: the tap lies outside the input. A fully-connected layer is
     * the 1x1 case: pixel (0, m, 0), slice s = k slice. */
    unsigned b, oy, ox, ky, kx, s;
    long iy, ix;     /* the tap's input row and column; outside the input: pad */
    int pad;
    long pixel;      /* (b*out_h + oy)*out_w + ox: the output row of the tile */
    uint32_t written;/* activation slices taken so far in the tile */
    /* the tile's geometry */
    unsigned c_len, n_slices, in_h, in_w, out_h, out_w, kh, kw, batches;
    long out_row;    /* pixel of the tile now on out_data_o, -1 when out is empty */
} mpq_cm_where;

/* The registers a white-box check compares with the RTL's (mpq_top.sv's white-box ports):
 * every lane's accumulator (acc_q), the finished row in rq1 (the lanes' row_q), the high
 * products in rq2 (rq2_q), and the two stages' valid bits. rq1/rq2 data are meaningful only
 * while their valid bit is set. */
typedef struct mpq_cm_regs {
    int64_t acc[MPQ_LANES_MAX]; /* AccBits-bit, sign-extended */
    int64_t rq1[MPQ_LANES_MAX];
    int32_t rq2[MPQ_LANES_MAX];
    int rq1_valid, rq2_valid;
} mpq_cm_regs;

/* Events of the arithmetic and of the pipeline the model went through (functional coverage of
 * the stimulus; counts since the model was made). */
typedef struct mpq_cm_stats {
    uint64_t tiles, steps, rows;  /* cfg handshakes, lane-array steps, finished pixels (rows) */
    uint64_t pad_steps;           /* steps on a padding tap */
    uint64_t wgt_beats, act_beats;/* handshakes on the weight and activation ports */
    uint64_t cycles;              /* clock edges out of reset */
    uint64_t ring_full;           /* cycles an activation beat waited for room in the ring */
    uint64_t data_waits;          /* cycles the window generator waited for its slice */
    uint64_t acc_max, acc_min;    /* a lane's step landed exactly on AccMax / AccMin (no overflow) */
    uint64_t ovf_wrap, ovf_sat;   /* fits that overflowed, wrapping / saturating */
    uint64_t srdhm_ties;          /* SaturatingRoundingDoublingHighMul exactly half-way */
    uint64_t rdbpot_ties;         /* RoundingDivideByPOT exactly half-way */
    uint64_t clamp_lo, clamp_hi;  /* outputs clamped to act_min / act_max */
    uint64_t stall_last;          /* a row's last slice held back (rq1 not free: back-pressure) */
    uint64_t out_stalls;          /* cycles an output row waited for out_ready_i */
    uint64_t pipe_seen;           /* the pipeline patterns reached: bit p for p = rq1 valid
                                   * | rq2 valid << 1 | out valid << 2 | out_ready_i << 3
                                   * | a row's last step waiting for rq1 << 4 (MPQ_PIPE_*) */
    uint64_t pipe_drain;          /* the patterns reached whose next two cycles both took the
                                   * output (out_ready_i high) */
    unsigned max_row, max_slice;  /* the largest pixel (row) and slice index reached */
    unsigned max_tile;
} mpq_cm_stats;

/* The white-box RTL's access counters (mpq_top.sv dbg_counts_o), counted as the RTL counts
 * them: v[MPQ_CNT_*] of contract/mpq_layout.h's MPQ_WB_COUNT_LIST, since the last reset (a
 * reset clears them, as it clears the RTL's), one increment per clock edge out of reset. */
typedef struct mpq_cm_counts {
    uint64_t v[MPQ_CNT_COUNT];
} mpq_cm_counts;

/* Switching activity of the datapath, the energy model's data-dependent actions (docs/
 * explore.md, "The energy-per-action table"): bits that changed from one clock edge to the
 * next on each bus, as the RTL presents it. The memories' read ports are combinational
 * (mpq_ram.sv), so their data and what follows them (xr, the lanes' operands) change whenever
 * the read address or the entry does, step or no step. Counted only after
 * mpq_cm_activity_on, out of reset. */
typedef struct mpq_cm_activity {
    uint64_t cycles;           /* clock edges counted */
    uint64_t wgt_in, act_in;   /* wgt_data_i, act_data_i */
    uint64_t wbuf_wr, ring_wr; /* memory bits a write changed (u_wbuf, u_abuf) */
    uint64_t wbuf_rd, ring_rd; /* the read ports' data: wgt_slice, act_slice */
    uint64_t wbuf_ra, ring_ra; /* cycles whose read address differs from the last one's */
    uint64_t xr;               /* the lanes' shared activation operand (KLanes x XrW bits) */
    uint64_t xr_hold;          /* of xr: those on edges whose weight slice did not change */
    uint64_t tern_x;           /* xr toggles x the lanes whose ternary code there is not 0 */
    uint64_t mul_x;            /* toggles of the high-precision multipliers' xr operand
                                * (xr[idx]), in the entries whose value is not 0 */
    uint64_t acc;              /* the lanes' accumulators (Lanes x AccBits) */
    uint64_t row;              /* the lanes' finished rows: rq1 (row_q, Lanes x AccBits) */
    uint64_t rq;               /* the requantizer's registers: rq2 (32 bits), out (OutBits) */
} mpq_cm_activity;

/* The bits of a pipeline pattern (mpq_cm_stats.pipe_seen): which result stages hold a row,
 * whether the output is taken, whether the array has a finished row to push into rq1. */
#define MPQ_PIPE_RQ1 1u
#define MPQ_PIPE_RQ2 2u
#define MPQ_PIPE_OUT 4u
#define MPQ_PIPE_READY 8u
#define MPQ_PIPE_ROW 16u
#define MPQ_PIPE_PATTERNS 32u

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
/* The registers in the current cycle (after the last edge). */
void mpq_cm_regs_get(const mpq_cm *cm, mpq_cm_regs *r);
/* The events so far. */
void mpq_cm_stats_get(const mpq_cm *cm, mpq_cm_stats *s);
/* The access counters since the last reset. */
void mpq_cm_counts_get(const mpq_cm *cm, mpq_cm_counts *c);
/* Starts counting the switching activity (mpq_cm_activity) from the next edge. Returns 0 or
 * MPQ_ENOMEM. A clone does not count. */
int mpq_cm_activity_on(mpq_cm *cm);
/* The activity counted so far (zeros when it is not on). */
void mpq_cm_activity_get(const mpq_cm *cm, mpq_cm_activity *a);
/* What an entry of a memory (MPQ_CM_MEM_*) that was never written reads as in the activity
 * count: the memories have no reset, so a read before the first write returns the power-on
 * state, random bits (the gate-level simulation starts every register random too); here a
 * fixed pseudo-random pattern per memory and entry, so that the counts are deterministic.
 * Fills and returns buf (words words). */
enum { MPQ_CM_MEM_WBUF = 1, MPQ_CM_MEM_RING = 2 };
const uint32_t *mpq_cm_power_on(uint32_t *buf, unsigned words, unsigned mem, unsigned entry);
/* A second model in src's state (registers, buffers, counts): it then runs on its own, as src
 * would have (mpq-tb's snapshots start their waveform's golden registers from the stimulus
 * generator's model). Returns 0 or MPQ_ENOMEM (*out NULL). */
int mpq_cm_clone(const mpq_cm *src, mpq_cm **out);

#ifdef __cplusplus
}
#endif
#endif
