/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_lane.c: C twin of rtl/mpq_lane.sv, one output channel of the array: the decode of its
 * part of a weight slice and one accumulation step, taken in every lane of the array at once
 * (docs/timing.md, "Arithmetic").
 */
#include "arith/mpq.h"
#include "cycle/mpq_units.h"
#include "arith/mpq_fit.h" /* mpq_fit_acc: mpq_lane.sv fit(), the one accumulator fit */

/* mpq_bits_get of a field of at most 32 bits, inlined in the per-code loop below. */
static inline uint32_t beat_get(const uint32_t *beat, unsigned lsb, unsigned width)
{
    unsigned word = lsb / 32u, off = lsb % 32u;
    uint64_t cur = (uint64_t)beat[word] | (off + width > 32u ? (uint64_t)beat[word + 1u] << 32 : 0);
    return (uint32_t)(cur >> off) & (uint32_t)((1ull << width) - 1u);
}

/* mpq_lane.sv tern_sum (`code = wgt[wgt_tern_lsb(j) +: 2]`) and sparse_sum (idx, val fields). */
void mpq_lane_decode(const mpq_hwcfg *hw, const uint32_t *beat, unsigned lane, mpq_lane_slice *s)
{
    unsigned base = lane * mpq_hw_lane_w(hw), idx_w = mpq_hw_idx_w(hw);
    for (unsigned j = 0; j < hw->klanes; j++) {
        uint32_t code = beat_get(beat, base + mpq_wgt_tern_lsb(j), 2);
        s->t[j] = code == 1u ? 1 : code == 3u ? -1 : 0; /* 10 reserved, counts as 0 */
    }
    s->hp_nz = 0;
    for (unsigned e = 0; e < hw->hp_per_group; e++) {
        unsigned eb = base + mpq_wgt_entry_lsb(hw, e);
        s->idx[e] = (uint8_t)mpq_bits_get(beat, eb, idx_w);
        s->val[e] = (int16_t)mpq_sext(mpq_bits_get(beat, eb + idx_w, hw->hp_bits), hw->hp_bits);
        s->hp_nz = (uint8_t)(s->hp_nz + (s->val[e] != 0));
    }
}

/* mpq_lane.sv acc_step, one lane. The sums are exact in 32 bits: |xr| < 2^9, |t| <= 1,
 * |hp| <= 2^7 and at most KLanes <= 64 terms, so |tsum| < 2^15 and |hsum| < 2^22. Inlined
 * into the array's loop, which then keeps the configuration in registers. */
static inline int64_t lane_step(const mpq_hwcfg *hw, const mpq_lane_cfg *c, const mpq_lane_slice *s,
                                const int16_t *xr, int first, int64_t acc, int *ovf)
{
    const unsigned kl = hw->klanes, hpn = hw->hp_per_group;
    int32_t tsum = 0, hsum = 0;
    for (unsigned j = 0; j < kl; j++)
        tsum += (int32_t)xr[j] * s->t[j];
    for (unsigned e = 0; e < hpn; e++)
        hsum += (int32_t)xr[s->idx[e]] * s->val[e];
    int64_t p = (int64_t)c->alpha * tsum + hsum;
    int64_t base = first ? mpq_fit_acc(c->bias, hw->acc_bits, c->acc_sat, ovf) : acc;
    return mpq_fit_acc(base + p, hw->acc_bits, c->acc_sat, ovf);
}

uint64_t mpq_lanes_step(const mpq_hwcfg *hw, const mpq_lane_cfg *c, const mpq_lane_slice *s,
                        const int16_t *xr, int first, int64_t *acc)
{
    uint64_t ovf = 0;
    for (unsigned l = 0; l < hw->lanes; l++) {
        int o = 0;
        acc[l] = lane_step(hw, &c[l], &s[l], xr, first, acc[l], &o);
        ovf |= (uint64_t)o << l;
    }
    return ovf;
}
