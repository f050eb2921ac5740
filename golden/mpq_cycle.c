/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_cycle.c: the golden cycle model, a direct C reading of docs/timing.md.
 *
 * Its arithmetic is its own per-slice code (decode the beat, mask k >= k_len, exact sums,
 * fit per step); it never calls mpq_fc, so the functional model stays an independent
 * second implementation that the generator compares it with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpq.h"
#include "mpq_hw.h"

enum { ST_IDLE = 0, ST_LOAD = 1, ST_RUN = 2, ST_DRAIN = 3 };

/* A weight slice of one lane, decoded when it is stored. */
typedef struct cm_lane_slice {
    int16_t t[MPQ_KLANES_MAX]; /* 16-bit so the lane sum is a 16x16->32 multiply-add */
    uint8_t idx[MPQ_KLANES_MAX];
    int16_t val[MPQ_KLANES_MAX];
} cm_lane_slice;

/* One stage of the result pipeline: a row of Lanes values. */
typedef struct cm_stage {
    int valid;
    long row;
    int64_t v[MPQ_LANES_MAX];
} cm_stage;

struct mpq_cm {
    mpq_hwcfg hw;
    unsigned idx_w, lane_w, out_words;
    /* registers */
    int state;
    long tile;
    unsigned wslice, slice, row;
    /* latched configuration beat, decoded */
    unsigned k_len, m_rows, n_slices;
    int acc_sat;
    int32_t in_offset, out_offset, act_min, act_max;
    int32_t bias[MPQ_LANES_MAX], mult[MPQ_LANES_MAX], alpha[MPQ_LANES_MAX], shift[MPQ_LANES_MAX];
    int64_t acc[MPQ_LANES_MAX];
    uint64_t ovf;
    cm_stage rq1, rq2, out;
    uint32_t out_data[MPQ_PORT_WORDS_MAX];
    cm_lane_slice *wbuf; /* [KMax/KLanes][Lanes] */
};

int mpq_cm_new(const mpq_hwcfg *hw, mpq_cm **out)
{
    char err[160];
    *out = NULL;
    if (mpq_hwcfg_check(hw, err, sizeof err) != 0)
        return MPQ_EPARAM;
    mpq_cm *cm = calloc(1, sizeof *cm);
    if (!cm)
        return MPQ_ENOMEM;
    cm->hw = *hw;
    cm->idx_w = mpq_hw_idx_w(hw);
    cm->lane_w = mpq_hw_lane_w(hw);
    cm->out_words = MPQ_WORDS(mpq_hw_out_w(hw));
    cm->wbuf = calloc((size_t)(hw->kmax / hw->klanes) * hw->lanes, sizeof *cm->wbuf);
    if (!cm->wbuf) {
        free(cm);
        return MPQ_ENOMEM;
    }
    cm->tile = -1;
    cm->rq1.row = cm->rq2.row = cm->out.row = -1;
    *out = cm;
    return 0;
}

void mpq_cm_free(mpq_cm *cm)
{
    if (!cm)
        return;
    free(cm->wbuf);
    free(cm);
}

static void cm_reset(mpq_cm *cm)
{
    cm->state = ST_IDLE;
    cm->wslice = cm->slice = cm->row = 0;
    cm->ovf = 0;
    cm->rq1.valid = cm->rq2.valid = cm->out.valid = 0;
    cm->rq1.row = cm->rq2.row = cm->out.row = -1;
    memset(cm->out_data, 0, sizeof cm->out_data);
    /* The latched configuration is cleared too (cfg_q <= 0); the tile count survives so that
     * reports keep numbering tiles across a mid-run reset. */
    cm->k_len = cm->m_rows = cm->n_slices = 0;
}

/* Readiness of the pipeline stages for these inputs (docs/timing.md, RUN). */
static int cm_out_free(const mpq_cm *cm, const mpq_port_in *in)
{
    return !cm->out.valid || in->out_ready;
}
static int cm_rq2_free(const mpq_cm *cm, const mpq_port_in *in)
{
    return !cm->rq2.valid || cm_out_free(cm, in);
}
static int cm_rq1_free(const mpq_cm *cm, const mpq_port_in *in)
{
    return !cm->rq1.valid || cm_rq2_free(cm, in);
}

static int cm_act_ready(const mpq_cm *cm, const mpq_port_in *in)
{
    if (cm->state != ST_RUN)
        return 0;
    int last = cm->slice == cm->n_slices - 1u;
    return !last || cm_rq1_free(cm, in);
}

void mpq_cm_eval(const mpq_cm *cm, const mpq_port_in *in, mpq_port_out *out)
{
    if (!in->rst_n) {
        /* Asynchronous reset: every register is at its reset value. */
        out->cfg_ready = out->wgt_ready = out->act_ready = 0;
        out->out_valid = out->busy = out->done = 0;
        out->ovf = 0;
        memset(out->out_data, 0, cm->out_words * sizeof out->out_data[0]);
        return;
    }
    out->cfg_ready = cm->state == ST_IDLE;
    out->wgt_ready = cm->state == ST_LOAD;
    out->act_ready = (uint8_t)cm_act_ready(cm, in);
    out->out_valid = (uint8_t)cm->out.valid;
    out->busy = cm->state != ST_IDLE;
    out->done = cm->state == ST_DRAIN && !cm->rq1.valid && !cm->rq2.valid && !cm->out.valid;
    out->ovf = cm->ovf;
    memcpy(out->out_data, cm->out_data, cm->out_words * sizeof out->out_data[0]);
}

static int32_t field_s16(const uint32_t *w, unsigned lsb) { return mpq_sext(mpq_bits_get(w, lsb, 16), 16); }

static void cm_latch_cfg(mpq_cm *cm, const uint32_t *d)
{
    const mpq_hwcfg *hw = &cm->hw;
    cm->k_len = mpq_bits_get(d, 0, 16);
    cm->m_rows = mpq_bits_get(d, 16, 16);
    cm->acc_sat = (int)mpq_bits_get(d, 32, 1);
    cm->in_offset = mpq_sext(mpq_bits_get(d, 48, 16), hw->act_bits + 1u);
    cm->out_offset = field_s16(d, 64);
    cm->act_min = field_s16(d, 80);
    cm->act_max = field_s16(d, 96);
    for (unsigned l = 0; l < hw->lanes; l++) {
        unsigned b = 128u + 96u * l;
        cm->bias[l] = mpq_sext(mpq_bits_get(d, b, 32), 32);
        cm->mult[l] = mpq_sext(mpq_bits_get(d, b + 32u, 32), 32);
        cm->alpha[l] = mpq_sext(mpq_bits_get(d, b + 64u, 16), hw->alpha_bits);
        cm->shift[l] = field_s16(d, b + 80u);
    }
    cm->n_slices = (cm->k_len + hw->klanes - 1u) / hw->klanes;
}

static void cm_store_slice(mpq_cm *cm, const uint32_t *d)
{
    const mpq_hwcfg *hw = &cm->hw;
    unsigned nsl = hw->kmax / hw->klanes;
    if (cm->wslice >= nsl)
        return; /* k_len > KMax violates the contract; nothing sensible to store */
    cm_lane_slice *row = &cm->wbuf[(size_t)cm->wslice * hw->lanes];
    for (unsigned l = 0; l < hw->lanes; l++) {
        unsigned base = l * cm->lane_w;
        cm_lane_slice *s = &row[l];
        for (unsigned j = 0; j < hw->klanes; j++) {
            uint32_t code = mpq_bits_get(d, base + 2u * j, 2);
            s->t[j] = code == 1u ? 1 : code == 3u ? -1 : 0; /* 10 reserved, counts as 0 */
        }
        for (unsigned e = 0; e < hw->hp_per_group; e++) {
            unsigned eb = base + 2u * hw->klanes + e * (cm->idx_w + hw->hp_bits);
            s->idx[e] = (uint8_t)mpq_bits_get(d, eb, cm->idx_w);
            s->val[e] = (int16_t)mpq_sext(mpq_bits_get(d, eb + cm->idx_w, hw->hp_bits), hw->hp_bits);
        }
    }
}

/* acc fitted to AccBits (<= 32 by the contract) in the accumulator's mode; *ovf set when it
 * did not fit. The same rule as mpq_acc_fit, inlined for the per-cycle path. */
static inline int64_t cm_fit(int64_t v, unsigned bits, int sat, int *ovf)
{
    int64_t hi = ((int64_t)1 << (bits - 1)) - 1, lo = -hi - 1;
    if (v >= lo && v <= hi)
        return v;
    *ovf = 1;
    if (sat)
        return v > hi ? hi : lo;
    uint64_t m = ((uint64_t)1 << bits) - 1u, u = (uint64_t)v & m;
    return u > (uint64_t)hi ? (int64_t)u - ((int64_t)1 << bits) : (int64_t)u;
}

/* One accumulation step of every lane on slice cm->slice with activation beat d. The sums
 * are exact in 32 bits: |x + in_offset| < 2^(ActBits+1) <= 2^9, |t| <= 1, |hp| <= 2^7 and at
 * most KLanes <= 64 terms, so |tsum| < 2^15 and |hsum| < 2^22. */
static void cm_step(mpq_cm *cm, const uint32_t *d)
{
    const mpq_hwcfg *hw = &cm->hw;
    int16_t xr[MPQ_KLANES_MAX]; /* |x + in_offset| < 2^9 */
    unsigned k0 = cm->slice * hw->klanes, ab = hw->act_bits;
    uint32_t sign = 1u << (ab - 1u), mask = (sign << 1) - 1u;
    if (ab == 8u && k0 + hw->klanes <= cm->k_len) {
        /* A full slice of bytes (the common case): element j is byte j % 4 of word j / 4
         * (KLanes = 2 uses the low half of one word). */
        for (unsigned j = 0; j < hw->klanes; j += 2u) {
            uint32_t w = d[j / 4u] >> (8u * (j % 4u));
            xr[j] = (int16_t)((int32_t)((w & 0xffu) ^ 0x80u) - 0x80 + cm->in_offset);
            xr[j + 1] = (int16_t)((int32_t)((w >> 8 & 0xffu) ^ 0x80u) - 0x80 + cm->in_offset);
        }
    } else {
        for (unsigned j = 0; j < hw->klanes; j++) {
            /* Element j of the beat: ActBits <= 8 bits never span more than two words. */
            unsigned lsb = j * ab, wd = lsb / 32u, off = lsb % 32u;
            uint64_t win = d[wd] | (off + ab > 32u ? (uint64_t)d[wd + 1] << 32 : 0);
            uint32_t u = (uint32_t)(win >> off) & mask;
            int32_t x = (int32_t)(u ^ sign) - (int32_t)sign; /* sign extension without UB */
            xr[j] = (int16_t)(k0 + j < cm->k_len ? x + cm->in_offset : 0);
        }
    }
    const cm_lane_slice *row = &cm->wbuf[(size_t)cm->slice * hw->lanes];
    const unsigned kl = hw->klanes, hpn = hw->hp_per_group;
    for (unsigned l = 0; l < hw->lanes; l++) {
        const cm_lane_slice *s = &row[l];
        int32_t tsum = 0, hsum = 0;
        for (unsigned j = 0; j < kl; j++)
            tsum += (int32_t)xr[j] * s->t[j];
        for (unsigned e = 0; e < hpn; e++)
            hsum += (int32_t)xr[s->idx[e]] * s->val[e];
        int64_t p = (int64_t)cm->alpha[l] * tsum + hsum;
        int o = 0;
        int64_t start = cm->slice == 0 ? cm_fit(cm->bias[l], hw->acc_bits, cm->acc_sat, &o) : cm->acc[l];
        cm->acc[l] = cm_fit(start + p, hw->acc_bits, cm->acc_sat, &o);
        if (o)
            cm->ovf |= 1ull << l;
    }
}

/* The output stage's value: requantize, offset, clamp (docs/timing.md, Arithmetic). */
static void cm_fill_out(mpq_cm *cm)
{
    const mpq_hwcfg *hw = &cm->hw;
    memset(cm->out_data, 0, cm->out_words * sizeof cm->out_data[0]);
    for (unsigned l = 0; l < hw->lanes; l++) {
        int32_t a = (int32_t)cm->out.v[l]; /* AccBits <= 32: the value already fits */
        int32_t rq;
        if (cm->shift[l] > 30 || cm->shift[l] < -31) {
            rq = 0; /* outside the contract; the RTL asserts it never happens */
        } else {
            rq = mpq_requant_double(a, cm->mult[l], cm->shift[l]);
        }
        int64_t y = (int64_t)cm->out_offset + rq;
        if (y < cm->act_min)
            y = cm->act_min;
        if (y > cm->act_max)
            y = cm->act_max;
        cm->out.v[l] = y;
        mpq_bits_put(cm->out_data, l * hw->out_bits, hw->out_bits, (uint32_t)(y & 0xffffffff));
    }
}

void mpq_cm_tick(mpq_cm *cm, const mpq_port_in *in)
{
    if (!in->rst_n) {
        cm_reset(cm);
        return;
    }
    int out_free = cm_out_free(cm, in), rq2_free = cm_rq2_free(cm, in), rq1_free = cm_rq1_free(cm, in);
    int act_ready = cm_act_ready(cm, in);
    int cfg_hs = cm->state == ST_IDLE && in->cfg_valid;
    int wgt_hs = cm->state == ST_LOAD && in->wgt_valid;
    int act_hs = act_ready && in->act_valid;
    int last = cm->state == ST_RUN && cm->slice == cm->n_slices - 1u;
    int row_done = act_hs && last;
    int empty = !cm->rq1.valid && !cm->rq2.valid && !cm->out.valid; /* before the edge */
    (void)rq1_free;

    /* Pipeline, from the output backwards so each stage reads its predecessor's old value. */
    if (cm->rq2.valid && out_free) {
        cm->out = cm->rq2;
        cm_fill_out(cm);
    } else if (cm->out.valid && in->out_ready) {
        cm->out.valid = 0;
    }
    if (cm->rq1.valid && rq2_free) {
        cm->rq2 = cm->rq1;
    } else if (cm->rq2.valid && out_free) {
        cm->rq2.valid = 0;
    }
    if (act_hs)
        cm_step(cm, in->act_data);
    if (row_done) {
        cm->rq1.valid = 1;
        cm->rq1.row = cm->row;
        memcpy(cm->rq1.v, cm->acc, cm->hw.lanes * sizeof cm->acc[0]);
    } else if (cm->rq1.valid && rq2_free) {
        cm->rq1.valid = 0;
    }

    switch (cm->state) {
    case ST_IDLE:
        if (cfg_hs) {
            cm_latch_cfg(cm, in->cfg_data);
            cm->ovf = 0;
            cm->wslice = 0;
            cm->tile++;
            cm->state = ST_LOAD;
        }
        break;
    case ST_LOAD:
        if (wgt_hs) {
            cm_store_slice(cm, in->wgt_data);
            if (cm->wslice == cm->n_slices - 1u || cm->n_slices == 0) {
                cm->slice = cm->row = 0;
                cm->state = ST_RUN;
            } else {
                cm->wslice++;
            }
        }
        break;
    case ST_RUN:
        if (act_hs) {
            if (last) {
                cm->slice = 0;
                if (cm->row == cm->m_rows - 1u || cm->m_rows == 0)
                    cm->state = ST_DRAIN;
                else
                    cm->row++;
            } else {
                cm->slice++;
            }
        }
        break;
    case ST_DRAIN:
        if (empty)
            cm->state = ST_IDLE;
        break;
    default:
        cm->state = ST_IDLE;
        break;
    }
}

void mpq_cm_where_get(const mpq_cm *cm, mpq_cm_where *w)
{
    w->tile = cm->tile;
    w->state = cm->state;
    w->wslice = cm->wslice;
    w->row = cm->row;
    w->slice = cm->slice;
    w->k_len = cm->k_len;
    w->m_rows = cm->m_rows;
    w->out_row = cm->out.valid ? cm->out.row : -1;
}

int mpq_cm_check_cfg_beat(const mpq_hwcfg *hw, const uint32_t *d, char *err, size_t errlen)
{
    unsigned k_len = mpq_bits_get(d, 0, 16), m_rows = mpq_bits_get(d, 16, 16);
    if (k_len < 1 || k_len > hw->kmax) {
        snprintf(err, errlen, "cfg k_len = %u is outside 1..KMax = %u", k_len, hw->kmax);
        return 1;
    }
    if (m_rows < 1) {
        snprintf(err, errlen, "cfg m_rows = 0");
        return 1;
    }
    if (mpq_bits_get(d, 33, 15) != 0 || mpq_bits_get(d, 112, 16) != 0) {
        snprintf(err, errlen, "cfg reserved bits are not zero");
        return 1;
    }
    int32_t in_off = field_s16(d, 48);
    int32_t lim = 1 << hw->act_bits;
    if (in_off < -lim || in_off > lim - 1) {
        snprintf(err, errlen, "cfg in_offset = %d is outside [%d, %d]", in_off, -lim, lim - 1);
        return 1;
    }
    int32_t omax = (1 << (hw->out_bits - 1)) - 1, omin = -omax - 1;
    int32_t amin = field_s16(d, 80), amax = field_s16(d, 96);
    if (amin < omin || amax > omax || amin > amax) {
        snprintf(err, errlen, "cfg clamp [%d, %d] is not an ordered range within [%d, %d]", amin,
                 amax, omin, omax);
        return 1;
    }
    int32_t alim = 1 << (hw->alpha_bits - 1);
    for (unsigned l = 0; l < hw->lanes; l++) {
        unsigned b = 128u + 96u * l;
        int32_t mult = mpq_sext(mpq_bits_get(d, b + 32u, 32), 32);
        int32_t alpha = field_s16(d, b + 64u), shift = field_s16(d, b + 80u);
        if (mult < 0) {
            snprintf(err, errlen, "cfg lane %u: mult = %d is negative", l, mult);
            return 1;
        }
        if (alpha < -alim || alpha > alim - 1) {
            snprintf(err, errlen, "cfg lane %u: alpha = %d is outside the signed %u-bit range", l,
                     alpha, hw->alpha_bits);
            return 1;
        }
        if (shift < -31 || shift > 30) {
            snprintf(err, errlen, "cfg lane %u: shift = %d is outside -31..30", l, shift);
            return 1;
        }
    }
    return 0;
}
