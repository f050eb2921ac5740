/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_units.h (internal to the golden cycle model): the C twins of the RTL units that
 * mpq_top.c (mpq_top.sv's control) instantiates, each in the file named after its module:
 *   mpq_ram.c  - rtl/mpq_ram.sv, as u_wbuf, the weight buffer (slices stored decoded), and as
 *                u_abuf, the activation ring (beats stored as they come);
 *   mpq_win.c  - rtl/mpq_win.sv, the window generator and the ring's writer control;
 *   mpq_lane.c - rtl/mpq_lane.sv, one output channel's weight decode and step.
 * The requantizer's twin is mpq_requant_double (mpq.h, golden/arith/mpq_requant.c).
 */
#ifndef MPQ_UNITS_H
#define MPQ_UNITS_H

#include "contract/mpq_hw.h"

/* One lane's part of a weight slice, decoded (mpq_lane.sv's view of wgt_i): ternary weights
 * (code 10, reserved, counts as 0) and the sparse entries (position, signed value). 16-bit so
 * the lane sums are 16x16->32 multiply-adds. */
typedef struct mpq_lane_slice {
    int16_t t[MPQ_KLANES_MAX];
    uint8_t idx[MPQ_KLANES_MAX];
    int16_t val[MPQ_KLANES_MAX];
    uint8_t hp_nz; /* entries with a non-zero value (the access counters' macs_hp_nz) */
} mpq_lane_slice;

/* Lane `lane`'s part of weight beat `beat`, decoded (mpq_lane.sv: tern_sum's code table and
 * sparse_sum's entry fields). */
void mpq_lane_decode(const mpq_hwcfg *hw, const uint32_t *beat, unsigned lane, mpq_lane_slice *s);

/* The lane's configuration (its part of the cfg beat, as mpq_lane.sv reads it). */
typedef struct mpq_lane_cfg {
    int32_t bias, alpha;
    int acc_sat;
} mpq_lane_cfg;

/* One step of every lane of the array (mpq_lane.sv acc_step in each of mpq_top.sv's Lanes
 * instances) on one activation slice xr (KLanes masked, offset activations, |xr| < 2^9): lane l
 * with configuration c[l] and weights s[l] computes p = alpha*sum(xr*t) + sum(xr[idx]*val)
 * exactly, then acc[l] = fit((first ? fit(bias) : acc[l]) + p) to AccBits. Returns the lanes
 * where a fit of this step changed a value: bit l for lane l. */
uint64_t mpq_lanes_step(const mpq_hwcfg *hw, const mpq_lane_cfg *c, const mpq_lane_slice *s,
                        const int16_t *xr, int first, int64_t *acc);

/* The weight buffer (u_wbuf, an mpq_ram.sv in mpq_top.sv): KMax/KLanes entries of one decoded
 * slice per lane. */
typedef struct mpq_wbuf {
    unsigned nslices, lanes;
    mpq_lane_slice *mem; /* [nslices][lanes] */
} mpq_wbuf;
/* Returns 0 or MPQ_ENOMEM. */
int mpq_wbuf_init(mpq_wbuf *b, const mpq_hwcfg *hw);
void mpq_wbuf_free(mpq_wbuf *b);
/* The write port: entry `slice` takes weight beat `beat` (ignored when slice >= nslices,
 * which the contract rules out: k_len <= KMax). */
void mpq_wbuf_write(mpq_wbuf *b, const mpq_hwcfg *hw, unsigned slice, const uint32_t *beat);
/* The read port: lane `lane`'s part of entry `slice`. */
static inline const mpq_lane_slice *mpq_wbuf_read(const mpq_wbuf *b, unsigned slice, unsigned lane)
{
    return &b->mem[(size_t)slice * b->lanes + lane];
}

/* The activation ring (u_abuf): ActDepth activation beats, each the words of act_data_i. */
typedef struct mpq_abuf {
    unsigned depth, words;
    uint32_t *mem; /* [depth][words] */
} mpq_abuf;
/* Returns 0 or MPQ_ENOMEM. */
int mpq_abuf_init(mpq_abuf *b, const mpq_hwcfg *hw);
void mpq_abuf_free(mpq_abuf *b);
/* The write port: entry addr takes beat (mpq_ram.sv `mem_q[waddr_i] <= wdata_i`). */
void mpq_abuf_write(mpq_abuf *b, unsigned addr, const uint32_t *beat);
/* The read port: entry addr's words. */
static inline const uint32_t *mpq_abuf_read(const mpq_abuf *b, unsigned addr)
{
    return &b->mem[(size_t)addr * b->words];
}

/* The window generator (mpq_win.sv): the tile's geometry, the writer's count, the reader's
 * position. */
typedef struct mpq_win {
    /* the tile (latched beat) */
    unsigned c_len, in_h, in_w, batches, out_h, out_w, kh, kw, sy, sx, dy, dx, py, px;
    unsigned n_slices;   /* ceil(c_len / KLanes) */
    uint64_t total;      /* slices of the tile */
    /* registers */
    uint32_t wcount;     /* slices written */
    unsigned b, oy, ox, ky, kx, s, wslot;
    int rdone;           /* every pixel read */
} mpq_win;
/* What mpq_win.sv's combinational outputs are in the current cycle. */
typedef struct mpq_win_view {
    int pad, ready, first, last;
    int64_t iy, ix;        /* the tap's input row and column (outside the input: padding) */
    uint64_t need, oldest; /* the step's global slice count; the first slice still protected */
    unsigned raddr, waddr; /* ring addresses */
    int act_ready;
} mpq_win_view;
/* The tile's fields from a configuration beat (cfg_q). */
void mpq_win_latch(mpq_win *w, const mpq_hwcfg *hw, const uint32_t *beat);
/* start_i: every counter to 0 (the configuration handshake). */
void mpq_win_start(mpq_win *w);
/* The outputs this cycle (write_en_i: the FSM is not IDLE). */
void mpq_win_eval(const mpq_win *w, const mpq_hwcfg *hw, int write_en, mpq_win_view *v);
/* step_o for read_en_i and rq1_free_i. */
static inline int mpq_win_step(const mpq_win *w, const mpq_win_view *v, int read_en, int rq1_free)
{
    return read_en && !w->rdone && v->ready && (!v->last || rq1_free);
}
/* The edge: the writer counts a beat (we), the reader advances (step). */
void mpq_win_tick(mpq_win *w, const mpq_win_view *v, int step, int we);
/* done_o: every pixel read and every beat written. */
static inline int mpq_win_done(const mpq_win *w) { return w->rdone && (uint64_t)w->wcount == w->total; }

#endif
