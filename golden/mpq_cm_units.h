/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_cm_units.h (internal to the golden cycle model): the C twins of the RTL units that
 * mpq_cycle.c (mpq_top.sv's control) instantiates:
 *   golden/mpq_wbuf.c  - rtl/mpq_wbuf.sv, the weight buffer (slices stored decoded);
 *   golden/mpq_lane.c  - rtl/mpq_lane.sv, one output channel's weight decode and step.
 * The requantizer's twin is mpq_requant_double (mpq.h, golden/mpq_requant.c).
 */
#ifndef MPQ_CM_UNITS_H
#define MPQ_CM_UNITS_H

#include "mpq_hw.h"

/* One lane's part of a weight slice, decoded (mpq_lane.sv's view of wgt_i): ternary weights
 * (code 10, reserved, counts as 0) and the sparse entries (position, signed value). 16-bit so
 * the lane sums are 16x16->32 multiply-adds. */
typedef struct mpq_lane_slice {
    int16_t t[MPQ_KLANES_MAX];
    uint8_t idx[MPQ_KLANES_MAX];
    int16_t val[MPQ_KLANES_MAX];
} mpq_lane_slice;

/* Lane `lane`'s part of weight beat `beat`, decoded (mpq_lane.sv: tern_sum's code table and
 * sparse_sum's entry fields). */
void mpq_lane_decode(const mpq_hwcfg *hw, const uint32_t *beat, unsigned lane, mpq_lane_slice *s);

/* The lane's configuration (its part of the cfg beat, as mpq_lane.sv reads it). */
typedef struct mpq_lane_cfg {
    int32_t bias, alpha;
    int acc_sat;
} mpq_lane_cfg;

/* One step of a lane (mpq_lane.sv acc_step): p = alpha*sum(xr*t) + sum(xr[idx]*val) exactly,
 * then acc = fit((first ? fit(bias) : acc) + p) to AccBits. Returns the new accumulator and
 * sets *ovf to 1 when a fit of this step changed its value (left alone otherwise).
 * xr: KLanes masked, offset activations (|xr| < 2^9). */
int64_t mpq_lane_step(const mpq_hwcfg *hw, const mpq_lane_cfg *c, const mpq_lane_slice *s,
                      const int16_t *xr, int first, int64_t acc, int *ovf);

/* The weight buffer (mpq_wbuf.sv): KMax/KLanes entries of one decoded slice per lane. */
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

#endif
