/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_top.c: the golden cycle model (mpq_top.h), a direct C reading of docs/timing.md and
 * the twin of rtl/mpq_top.sv: FSM, the weight slice counter, the shared activation
 * preprocessing (xr) and the rq1 -> rq2 -> out pipeline. The units it drives have twins of
 * their own: mpq_win.c (mpq_win.sv), mpq_ram.c (the two mpq_ram.sv, u_wbuf and u_abuf),
 * mpq_lane.c (mpq_lane.sv), and the requantizer's halves below (mpq_requant.sv).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"
#include "arith/mpq_rng.h"
#include "cycle/mpq_units.h"
#include "cycle/mpq_top.h"

/* One stage of the result pipeline: a pixel's Lanes values. */
typedef struct cm_stage {
    int valid;
    long row; /* the pixel's index in the tile: (b*out_h + oy)*out_w + ox */
    int64_t v[MPQ_LANES_MAX];
    uint64_t ties; /* rq2: lanes whose high product was a rounding tie (coverage only) */
} cm_stage;

struct mpq_cm {
    mpq_hwcfg hw;
    unsigned out_words;
    /* registers */
    int state;
    long tile;        /* cfg handshakes since the last reset - 1: the tile of the layer */
    unsigned resets;  /* resets after a tile had begun (mid-layer or between layers) */
    unsigned wslice;
    mpq_win win;
    /* latched configuration beat, decoded */
    unsigned n_wslices; /* kh*kw*ceil(c_len/KLanes), truncated to 16 bits as the RTL does */
    int acc_sat;
    int32_t in_offset, out_offset, act_min, act_max;
    mpq_lane_cfg lane[MPQ_LANES_MAX];
    int32_t mult[MPQ_LANES_MAX], shift[MPQ_LANES_MAX];
    int64_t acc[MPQ_LANES_MAX];
    uint64_t ovf;
    cm_stage rq1, rq2, out;
    uint32_t out_data[MPQ_PORT_WORDS_MAX];
    mpq_wbuf wbuf;
    mpq_abuf abuf;
    mpq_cm_stats stats;
    mpq_cm_counts counts; /* the white-box access counters, since the last reset */
    unsigned pipe_prev[2]; /* the pipeline patterns of the last two cycles (stats only) */
    unsigned pipe_prev_n;  /* how many of them since the last reset */
    /* mpq_win.sv's combinational outputs in the current cycle: they read only registers
     * (the window's and the state), so they are evaluated once per edge (cm_view), not by
     * each of eval, tick and where_get. */
    mpq_win_view view;
    struct cm_act *act; /* the switching activity's counter, NULL unless mpq_cm_activity_on */
};

static void cm_act_free(struct cm_act *a);

static void cm_view(mpq_cm *cm)
{
    mpq_win_eval(&cm->win, &cm->hw, cm->state != MPQ_ST_IDLE, &cm->view);
}

int mpq_cm_new(const mpq_hwcfg *hw, mpq_cm **out, char *err, size_t errlen)
{
    *out = NULL;
    char why[200];
    if (mpq_hwcfg_check(hw, why, sizeof why) != 0) {
        snprintf(err, errlen, "cycle model: %s", why);
        return MPQ_EPARAM;
    }
    mpq_cm *cm = calloc(1, sizeof *cm);
    if (!cm || mpq_wbuf_init(&cm->wbuf, hw) != 0 || mpq_abuf_init(&cm->abuf, hw) != 0) {
        if (cm)
            mpq_wbuf_free(&cm->wbuf);
        free(cm);
        snprintf(err, errlen, "cycle model: out of memory");
        return MPQ_ENOMEM;
    }
    cm->hw = *hw;
    cm->out_words = MPQ_WORDS(mpq_hw_out_w(hw));
    cm->tile = -1;
    cm->rq1.row = cm->rq2.row = cm->out.row = -1;
    cm_view(cm);
    *out = cm;
    return 0;
}

void mpq_cm_free(mpq_cm *cm)
{
    if (!cm)
        return;
    mpq_wbuf_free(&cm->wbuf);
    mpq_abuf_free(&cm->abuf);
    cm_act_free(cm->act);
    free(cm);
}

int mpq_cm_clone(const mpq_cm *src, mpq_cm **out)
{
    char err[200];
    int rc = mpq_cm_new(&src->hw, out, err, sizeof err); /* src's hw passed the check */
    if (rc != 0)
        return MPQ_ENOMEM;
    mpq_cm *cm = *out;
    mpq_wbuf wbuf = cm->wbuf; /* this model's own buffers, of src's sizes */
    mpq_abuf abuf = cm->abuf;
    *cm = *src;
    cm->act = NULL; /* a clone does not count activity */
    cm->wbuf = wbuf;
    cm->abuf = abuf;
    memcpy(wbuf.mem, src->wbuf.mem, (size_t)wbuf.nslices * wbuf.lanes * sizeof *wbuf.mem);
    memcpy(abuf.mem, src->abuf.mem, (size_t)abuf.depth * abuf.words * sizeof *abuf.mem);
    return 0;
}

static void cm_reset(mpq_cm *cm)
{
    cm->state = MPQ_ST_IDLE;
    cm->wslice = 0;
    mpq_win_start(&cm->win); /* mpq_win.sv's registers reset to 0 */
    cm->ovf = 0;
    cm->rq1.valid = cm->rq2.valid = cm->out.valid = 0;
    cm->rq1.row = cm->rq2.row = cm->out.row = -1;
    /* Every data register with a reset in the RTL: the lanes' acc_q and row_q (rq1), rq2_q,
     * out_q. */
    memset(cm->acc, 0, sizeof cm->acc);
    memset(cm->rq1.v, 0, sizeof cm->rq1.v);
    memset(cm->rq2.v, 0, sizeof cm->rq2.v);
    memset(cm->out.v, 0, sizeof cm->out.v);
    memset(cm->out_data, 0, sizeof cm->out_data);
    /* The latched configuration is cleared too (cfg_q <= 0). The layer starts again from its
     * first tile after a reset, so the tile count does too; reports say which reset it follows. */
    if (cm->tile >= 0)
        cm->resets++;
    cm->tile = -1;
    static const uint32_t zero_beat[MPQ_PORT_WORDS_MAX];
    mpq_win_latch(&cm->win, &cm->hw, zero_beat);
    cm->n_wslices = 0;
    cm->pipe_prev_n = 0;
    memset(&cm->counts, 0, sizeof cm->counts);
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

/* The tile's last cycle: DRAIN, every pixel read and beat written, the pipeline empty. */
static int cm_done(const mpq_cm *cm)
{
    return cm->state == MPQ_ST_DRAIN && mpq_win_done(&cm->win) && !cm->rq1.valid && !cm->rq2.valid &&
           !cm->out.valid;
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
    const mpq_win_view *v = &cm->view;
    out->cfg_ready = cm->state == MPQ_ST_IDLE;
    out->wgt_ready = cm->state == MPQ_ST_LOAD;
    out->act_ready = (uint8_t)v->act_ready;
    out->out_valid = (uint8_t)cm->out.valid;
    out->busy = cm->state != MPQ_ST_IDLE;
    out->done = (uint8_t)cm_done(cm);
    out->ovf = cm->ovf;
    memcpy(out->out_data, cm->out_data, cm->out_words * sizeof out->out_data[0]);
}

/* mpq_top.sv: `cfg_d = cfg_data_i` on the cfg handshake; the fields as the RTL reads them
 * (mpq_layout_pkg::cfg_tile_t / cfg_lane_t, used bits only). */
static void cm_latch_cfg(mpq_cm *cm, const uint32_t *d)
{
    const mpq_hwcfg *hw = &cm->hw;
    mpq_win_latch(&cm->win, hw, d);
    cm->n_wslices = (cm->win.kh * cm->win.kw * ((cm->win.c_len + hw->klanes - 1) / hw->klanes)) & 0xffffu;
    cm->acc_sat = (int)mpq_cfg_get_used(hw, d, MPQ_CFG_ACC_SAT, 0);
    cm->in_offset = (int32_t)mpq_cfg_get_used(hw, d, MPQ_CFG_IN_OFFSET, 0);
    cm->out_offset = (int32_t)mpq_cfg_get_used(hw, d, MPQ_CFG_OUT_OFFSET, 0);
    cm->act_min = (int32_t)mpq_cfg_get_used(hw, d, MPQ_CFG_ACT_MIN, 0);
    cm->act_max = (int32_t)mpq_cfg_get_used(hw, d, MPQ_CFG_ACT_MAX, 0);
    for (unsigned l = 0; l < hw->lanes; l++) {
        cm->lane[l].bias = (int32_t)mpq_cfg_get_used(hw, d, MPQ_CFG_BIAS, l);
        cm->lane[l].alpha = (int32_t)mpq_cfg_get_used(hw, d, MPQ_CFG_ALPHA, l);
        cm->lane[l].acc_sat = cm->acc_sat;
        cm->mult[l] = (int32_t)mpq_cfg_get_used(hw, d, MPQ_CFG_MULT, l);
        cm->shift[l] = (int32_t)mpq_cfg_get_used(hw, d, MPQ_CFG_SHIFT, l);
    }
}

/* mpq_top.sv's activation preprocessing: xr[j] = x[j] + in_offset of the slice d (ring entry)
 * the window reads, a padding tap's x being the zero point (xr = 0), channels c = s*KLanes + j
 * at or past c_len masked to 0. Inlined into the step; the activity counter calls it too. */
static inline __attribute__((always_inline)) void cm_xr(const mpq_cm *cm, const mpq_win_view *v,
                                                        const uint32_t *d, int16_t xr[MPQ_KLANES_MAX])
{
    const mpq_hwcfg *hw = &cm->hw;
    unsigned c0 = cm->win.s * hw->klanes, ab = hw->act_bits;
    uint32_t sign = 1u << (ab - 1u), mask = (sign << 1) - 1u;
    if (v->pad) {
        memset(xr, 0, MPQ_KLANES_MAX * sizeof *xr);
    } else if (ab == 8u && c0 + hw->klanes <= cm->win.c_len && MPQ_PORT_BYTES_LE) {
        /* A full slice of bytes (the common case): element j is byte j % 4 of word j / 4, which
         * on a little-endian host is byte j of the entry: a loop the compiler vectorizes. */
        const unsigned char *b = (const unsigned char *)d;
        for (unsigned j = 0; j < hw->klanes; j++)
            xr[j] = (int16_t)((int32_t)(b[j] ^ 0x80u) - 0x80 + cm->in_offset);
    } else if (ab == 8u && c0 + hw->klanes <= cm->win.c_len) {
        /* The same, word by word (KLanes = 2 uses the low half of one word). */
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
            xr[j] = (int16_t)(c0 + j < cm->win.c_len ? x + cm->in_offset : 0);
        }
    }
}

/* mpq_top.sv's lane array: xr of the step's slice d, then every lane's step on weight entry
 * wslot. */
static void cm_step(mpq_cm *cm, const mpq_win_view *v, const uint32_t *d)
{
    const mpq_hwcfg *hw = &cm->hw;
    int16_t xr[MPQ_KLANES_MAX]; /* |x + in_offset| < 2^9 */
    cm_xr(cm, v, d, xr);
    int64_t amax = ((int64_t)1 << (hw->acc_bits - 1)) - 1;
    /* The lanes of a weight slot lie side by side in the buffer (mpq_wbuf_read). */
    uint64_t ovf = mpq_lanes_step(hw, cm->lane, mpq_wbuf_read(&cm->wbuf, cm->win.wslot, 0), xr, v->first, cm->acc);
    /* Coverage: lanes that overflowed, and the others that sit at either end of the range
     * (without an overflow, the common case, a loop with no branch per lane). */
    unsigned at_max = 0, at_min = 0, at_end = 0;
    if (ovf == 0) {
        /* acc is in [-amax-1, amax]: at either end exactly when acc + amax, as unsigned, is
         * 2*amax or wrapped to 2^64-1 (one test per lane; the ends told apart below, rarely). */
        for (unsigned l = 0; l < hw->lanes; l++)
            at_end += (uint64_t)cm->acc[l] + (uint64_t)amax >= 2u * (uint64_t)amax;
    }
    if (ovf == 0 && at_end != 0) {
        for (unsigned l = 0; l < hw->lanes; l++) {
            at_max += cm->acc[l] == amax;
            at_min += cm->acc[l] == -amax - 1;
        }
    } else if (ovf != 0) {
        for (unsigned l = 0; l < hw->lanes; l++) {
            if (ovf >> l & 1u) {
                cm->ovf |= 1ull << l;
                cm->stats.ovf_wrap += !cm->acc_sat;
                cm->stats.ovf_sat += (uint64_t)cm->acc_sat;
            } else {
                at_max += cm->acc[l] == amax;
                at_min += cm->acc[l] == -amax - 1;
            }
        }
    }
    cm->stats.acc_max += at_max;
    cm->stats.acc_min += at_min;
    cm->stats.steps++;
    cm->stats.pad_steps += (uint64_t)v->pad;
}

/* The index in the tile of the pixel the reader is in. */
static long cm_pixel(const mpq_cm *cm)
{
    const mpq_win *w = &cm->win;
    return (long)(((uint64_t)w->b * w->out_h + w->oy) * w->out_w + w->ox);
}

/* mpq_requant.sv's mul half, between rq1 and rq2: a = wrap32(acc << max(shift, 0)),
 * hi = SaturatingRoundingDoublingHighMul(a, mult). */
static int32_t cm_requant_mul(int64_t acc, int32_t mult, int32_t shift, int *tie)
{
    uint32_t left = shift > 0 ? (uint32_t)shift : 0u;
    uint32_t a = left < 32u ? (uint32_t)acc << left : 0u; /* the 32-bit shift drops high bits */
    int64_t ab = (int64_t)mpq_sext(a, 32) * mult;         /* |ab| < 2^62 */
    uint64_t mag = ab < 0 ? (uint64_t)-(ab + 1) + 1u : (uint64_t)ab;
    *tie = (mag & 0x7fffffffu) == 0x40000000u; /* exactly half of 2^31 */
    return mpq_srdhm(mpq_sext(a, 32), mult);
}

/* mpq_requant.sv's out half, between rq2 and out: RoundingDivideByPOT(hi, max(-shift, 0)),
 * then clamp(out_offset + rq, act_min, act_max), exact. */
static int64_t cm_requant_out(mpq_cm *cm, int32_t hi, int32_t shift, int srdhm_tie)
{
    int e = shift < 0 ? -shift : 0;
    int tie = 0;
    if (e > 0) { /* exactly half-way: the remainder is 2^(e-1) */
        uint32_t rem = (uint32_t)hi & ((e < 32 ? (1u << e) : 0u) - 1u);
        tie = rem == 1u << (e - 1);
    }
    int32_t rq = mpq_rdbpot(hi, e);
    int64_t y = (int64_t)cm->out_offset + rq;
    int lo = y < cm->act_min, hi_c = y > cm->act_max;
    cm->stats.clamp_lo += (uint64_t)lo;
    cm->stats.clamp_hi += (uint64_t)hi_c;
    if (!lo && !hi_c) { /* a tie counts where it shows: in an output that is not clamped */
        cm->stats.srdhm_ties += (uint64_t)srdhm_tie;
        cm->stats.rdbpot_ties += (uint64_t)tie;
    }
    if (lo)
        y = cm->act_min;
    if (hi_c)
        y = cm->act_max;
    return y;
}

/* rq1 -> rq2: the finished row's high products (the rq2_q registers). */
static void cm_fill_rq2(mpq_cm *cm)
{
    cm->rq2.ties = 0;
    for (unsigned l = 0; l < cm->hw.lanes; l++) {
        int tie;
        cm->rq2.v[l] = cm_requant_mul(cm->rq1.v[l], cm->mult[l], cm->shift[l], &tie);
        cm->rq2.ties |= (uint64_t)tie << l;
    }
}

/* rq2 -> out: the row's outputs (out_q, out_data_o). */
static void cm_fill_out(mpq_cm *cm)
{
    const mpq_hwcfg *hw = &cm->hw;
    memset(cm->out_data, 0, cm->out_words * sizeof cm->out_data[0]);
    for (unsigned l = 0; l < hw->lanes; l++) {
        int64_t y = cm_requant_out(cm, (int32_t)cm->out.v[l], cm->shift[l], (int)(cm->out.ties >> l & 1u));
        cm->out.v[l] = y;
        mpq_bits_put(cm->out_data, l * hw->out_bits, hw->out_bits, (uint32_t)(y & 0xffffffff));
    }
}

/* The statistics of one cycle (mpq_cm_stats), from the state before its edge. */
static void cm_count(mpq_cm *cm, const mpq_port_in *in, const mpq_win_view *vp, int step, int row_done,
                     int cfg_hs, int wgt_hs, int we, int rq1_free)
{
    const mpq_win_view v = *vp;
    mpq_cm_stats *st = &cm->stats;
    st->stall_last += (uint64_t)(cm->state == MPQ_ST_RUN && !cm->win.rdone && v.ready && v.last && !rq1_free);
    st->out_stalls += (uint64_t)(cm->out.valid && !in->out_ready);
    {
        unsigned row = cm->state == MPQ_ST_RUN && !cm->win.rdone && v.ready && v.last;
        unsigned pat = (cm->rq1.valid ? MPQ_PIPE_RQ1 : 0u) | (cm->rq2.valid ? MPQ_PIPE_RQ2 : 0u) |
                       (cm->out.valid ? MPQ_PIPE_OUT : 0u) | (in->out_ready ? MPQ_PIPE_READY : 0u) |
                       (row ? MPQ_PIPE_ROW : 0u);
        st->pipe_seen |= 1ull << pat;
        /* A pattern whose next two cycles take the output: the cycles in which a stall that
         * should not have been shows as a late or missing row. */
        if (cm->pipe_prev_n >= 2 && (cm->pipe_prev[0] & MPQ_PIPE_READY) && (pat & MPQ_PIPE_READY))
            st->pipe_drain |= 1ull << cm->pipe_prev[1];
        cm->pipe_prev[1] = cm->pipe_prev[0];
        cm->pipe_prev[0] = pat;
        cm->pipe_prev_n += cm->pipe_prev_n < 2;
    }
    st->tiles += (uint64_t)cfg_hs;
    st->rows += (uint64_t)row_done;
    st->wgt_beats += (uint64_t)wgt_hs;
    st->act_beats += (uint64_t)we;
    st->cycles++;
    st->ring_full += (uint64_t)(in->act_valid && cm->state != MPQ_ST_IDLE && !v.act_ready &&
                                (uint64_t)cm->win.wcount < cm->win.total);
    st->data_waits += (uint64_t)(cm->state == MPQ_ST_RUN && !cm->win.rdone && !v.ready);
    if (step) {
        long px = cm_pixel(cm);
        if (px > (long)st->max_row)
            st->max_row = (unsigned)px;
        if (cm->win.s > st->max_slice)
            st->max_slice = cm->win.s;
        if (cm->tile > 0 && (unsigned)cm->tile > st->max_tile)
            st->max_tile = (unsigned)cm->tile;
    }
}

/* The access counters of one cycle (mpq_top.sv's white-box counters), from the state before
 * its edge: the handshakes, the memories' ports, the lanes' products, the requantizer. */
static void cm_count_access(mpq_cm *cm, const mpq_win_view *v, int step, int row_done, int cfg_hs,
                            int wgt_hs, int we, int out_free)
{
    const mpq_hwcfg *hw = &cm->hw;
    uint64_t *n = cm->counts.v;
    n[MPQ_CNT_tile_cycles] += (uint64_t)(cfg_hs || cm->state != MPQ_ST_IDLE);
    n[MPQ_CNT_tiles] += (uint64_t)cfg_hs;
    n[MPQ_CNT_wgt_beats] += (uint64_t)wgt_hs;
    n[MPQ_CNT_act_beats] += (uint64_t)we;
    n[MPQ_CNT_rows] += (uint64_t)row_done;
    n[MPQ_CNT_requants] += cm->rq2.valid && out_free ? hw->lanes : 0u;
    if (!step)
        return;
    n[MPQ_CNT_wbuf_reads]++;
    n[MPQ_CNT_ring_reads]++;
    n[MPQ_CNT_mac_slots_tern] += (uint64_t)hw->lanes * hw->klanes;
    n[MPQ_CNT_mac_slots_hp] += (uint64_t)hw->lanes * hw->hp_per_group;
    if (v->pad) {
        n[MPQ_CNT_pad_steps]++;
        return;
    }
    n[MPQ_CNT_ring_reads_used]++;
    uint64_t c0 = (uint64_t)cm->win.s * hw->klanes, live = 0;
    if (cm->win.c_len > c0)
        live = cm->win.c_len - c0 < hw->klanes ? cm->win.c_len - c0 : hw->klanes;
    n[MPQ_CNT_macs_live] += hw->lanes * live;
    /* Non-zero entries at a live channel (a slice that runs past c_len may hold some at masked
     * positions: their products are 0); a full slice takes the count its decode made. */
    const mpq_lane_slice *ws = mpq_wbuf_read(&cm->wbuf, cm->win.wslot, 0);
    for (unsigned l = 0; l < hw->lanes; l++) {
        if (live == hw->klanes) {
            n[MPQ_CNT_macs_hp_nz] += ws[l].hp_nz;
            continue;
        }
        for (unsigned e = 0; e < hw->hp_per_group; e++)
            n[MPQ_CNT_macs_hp_nz] += ws[l].val[e] != 0 && ws[l].idx[e] < live;
    }
}

/* The control FSM's edge: IDLE -> LOAD on a configuration beat, LOAD -> RUN after the last
 * weight slice, RUN -> DRAIN when the window has read every row, DRAIN -> IDLE when done. */
static void cm_fsm(mpq_cm *cm, const mpq_port_in *in, int cfg_hs, int wgt_hs, int read_done, int done)
{
    switch (cm->state) {
    case MPQ_ST_IDLE:
        if (cfg_hs) {
            cm_latch_cfg(cm, in->cfg_data);
            mpq_win_start(&cm->win);
            cm->ovf = 0;
            cm->wslice = 0;
            cm->tile++;
            cm->state = MPQ_ST_LOAD;
        }
        break;
    case MPQ_ST_LOAD:
        if (wgt_hs) {
            mpq_wbuf_write(&cm->wbuf, &cm->hw, cm->wslice, in->wgt_data);
            cm->counts.v[MPQ_CNT_wbuf_writes]++;
            if (cm->wslice == ((cm->n_wslices - 1u) & 0xffffu))
                cm->state = MPQ_ST_RUN;
            else
                cm->wslice = (cm->wslice + 1u) & 0xffffu;
        }
        break;
    case MPQ_ST_RUN:
        if (read_done)
            cm->state = MPQ_ST_DRAIN;
        break;
    case MPQ_ST_DRAIN:
        if (done)
            cm->state = MPQ_ST_IDLE;
        break;
    default:
        cm->state = MPQ_ST_IDLE;
        break;
    }
}

/* The switching activity (mpq_cm_activity): the raw weight beats as written (the weight
 * buffer keeps them decoded) and every counted bus's value at the last edge. */
struct cm_act {
    mpq_cm_activity n;
    unsigned wwords, awords, nslices;
    uint32_t wlast, alast; /* masks of the buses' last words */
    uint32_t *wraw;        /* [nslices][wwords] */
    uint8_t *wseen, *aseen;/* [nslices], [depth]: the entry was written since the count began */
    uint32_t wgt_in[MPQ_PORT_WORDS_MAX], act_in[MPQ_PORT_WORDS_MAX];
    uint32_t wrd[MPQ_PORT_WORDS_MAX], ard[MPQ_PORT_WORDS_MAX];
    int16_t xr[MPQ_KLANES_MAX];
    int16_t xsel[MPQ_LANES_MAX][MPQ_KLANES_MAX]; /* each multiplier's xr operand */
    unsigned wra, rra;     /* the read addresses at the last edge */
    int64_t acc[MPQ_LANES_MAX], rq1[MPQ_LANES_MAX], rq2[MPQ_LANES_MAX], out[MPQ_LANES_MAX];
};

static void cm_act_free(struct cm_act *a)
{
    if (a) {
        free(a->wraw);
        free(a->wseen);
        free(a->aseen);
    }
    free(a);
}

const uint32_t *mpq_cm_power_on(uint32_t *buf, unsigned words, unsigned mem, unsigned entry)
{
    mpq_rng r;
    mpq_rng_seed(&r, (uint64_t)mem << 32 | entry);
    for (unsigned i = 0; i < words; i += 2) {
        uint64_t v = mpq_rng_u64(&r);
        buf[i] = (uint32_t)v;
        if (i + 1u < words)
            buf[i + 1u] = (uint32_t)(v >> 32);
    }
    return buf;
}

static uint32_t last_mask(unsigned bits)
{
    return bits % 32u ? (1u << bits % 32u) - 1u : 0xffffffffu;
}

int mpq_cm_activity_on(mpq_cm *cm)
{
    if (cm->act)
        return 0;
    struct cm_act *a = calloc(1, sizeof *a);
    unsigned ww = mpq_hw_wgt_w(&cm->hw), aw = mpq_hw_act_w(&cm->hw);
    if (!a)
        return MPQ_ENOMEM;
    a->wwords = MPQ_WORDS(ww);
    a->awords = MPQ_WORDS(aw);
    a->wlast = last_mask(ww);
    a->alast = last_mask(aw);
    a->nslices = cm->wbuf.nslices;
    a->wraw = calloc((size_t)a->nslices * a->wwords, sizeof *a->wraw);
    a->wseen = calloc(a->nslices, 1);
    a->aseen = calloc(cm->abuf.depth, 1);
    if (!a->wraw || !a->wseen || !a->aseen) {
        cm_act_free(a);
        return MPQ_ENOMEM;
    }
    memcpy(a->acc, cm->acc, sizeof a->acc);
    memcpy(a->rq1, cm->rq1.v, sizeof a->rq1);
    memcpy(a->rq2, cm->rq2.v, sizeof a->rq2);
    memcpy(a->out, cm->out.v, sizeof a->out);
    cm->act = a;
    return 0;
}

void mpq_cm_activity_get(const mpq_cm *cm, mpq_cm_activity *a)
{
    if (cm->act)
        *a = cm->act->n;
    else
        memset(a, 0, sizeof *a);
}

/* Bits that differ between cur and the n words of prev (the last word masked); prev := cur. */
static uint64_t toggles(uint32_t *prev, const uint32_t *cur, unsigned n, uint32_t last)
{
    uint64_t t = 0;
    for (unsigned i = 0; i < n; i++) {
        uint32_t c = i + 1u == n ? cur[i] & last : cur[i];
        t += (uint64_t)__builtin_popcount(prev[i] ^ c);
        prev[i] = c;
    }
    return t;
}

/* The same for n registers of `bits` bits each (int64_t, two's complement). */
static uint64_t toggles64(int64_t *prev, const int64_t *cur, unsigned n, unsigned bits)
{
    uint64_t m = bits >= 64u ? ~0ull : (1ull << bits) - 1u, t = 0;
    for (unsigned i = 0; i < n; i++) {
        t += (uint64_t)__builtin_popcountll(((uint64_t)prev[i] ^ (uint64_t)cur[i]) & m);
        prev[i] = cur[i];
    }
    return t;
}

/* Bits that differ between two xr operands (XrW bits: xm their mask). */
static inline uint64_t xr_toggles(int16_t prev, int16_t cur, uint32_t xm)
{
    return (uint64_t)__builtin_popcount(((uint32_t)(uint16_t)prev ^ (uint32_t)(uint16_t)cur) & xm);
}

/* The operands the lanes' arithmetic sees in this cycle (mpq_lane.sv tern_sum, sparse_sum):
 * an xr element's toggles count once per lane whose ternary code at that position is not 0,
 * a multiplier's selected operand xr[idx]'s once where its entry's value is not 0 (a zero
 * weight holds its product at 0). wr: slot ws's bits as read (written, or power-on); a->xr
 * still the last edge's. */
static void cm_act_operands(mpq_cm *cm, struct cm_act *a, unsigned ws, const uint32_t *wr,
                            const int16_t *xr, uint32_t xm)
{
    const mpq_hwcfg *hw = &cm->hw;
    mpq_lane_slice po;
    for (unsigned l = 0; l < hw->lanes; l++) {
        const mpq_lane_slice *s = &po;
        if (ws < a->nslices && a->wseen[ws])
            s = mpq_wbuf_read(&cm->wbuf, ws, l);
        else
            mpq_lane_decode(hw, wr, l, &po);
        for (unsigned j = 0; j < hw->klanes; j++)
            if (s->t[j])
                a->n.tern_x += xr_toggles(a->xr[j], xr[j], xm);
        for (unsigned e = 0; e < hw->hp_per_group; e++) {
            int16_t x = xr[s->idx[e] < hw->klanes ? s->idx[e] : 0];
            if (s->val[e])
                a->n.mul_x += xr_toggles(a->xsel[l][e], x, xm);
            a->xsel[l][e] = x;
        }
    }
}

/* Before the edge: the input buses, the read ports and xr as they stand in this cycle; the
 * memories' bits this edge's writes change. */
static void cm_act_before(mpq_cm *cm, const mpq_port_in *in, int wgt_hs, int we)
{
    struct cm_act *a = cm->act;
    const mpq_hwcfg *hw = &cm->hw;
    const mpq_win_view *v = &cm->view;
    a->n.cycles++;
    a->n.wgt_in += toggles(a->wgt_in, in->wgt_data, a->wwords, a->wlast);
    a->n.act_in += toggles(a->act_in, in->act_data, a->awords, a->alast);
    uint32_t wpo[MPQ_PORT_WORDS_MAX], apo[MPQ_PORT_WORDS_MAX];
    unsigned ws = cm->win.wslot;
    a->n.wbuf_ra += ws != a->wra;
    a->n.ring_ra += v->raddr != a->rra;
    a->wra = ws;
    a->rra = v->raddr;
    const uint32_t *wr = ws < a->nslices && a->wseen[ws] ? &a->wraw[(size_t)ws * a->wwords]
                                                         : mpq_cm_power_on(wpo, a->wwords, MPQ_CM_MEM_WBUF, ws);
    uint64_t wt = toggles(a->wrd, wr, a->wwords, a->wlast);
    a->n.wbuf_rd += wt;
    const uint32_t *ar = a->aseen[v->raddr] ? mpq_abuf_read(&cm->abuf, v->raddr)
                                            : mpq_cm_power_on(apo, a->awords, MPQ_CM_MEM_RING, v->raddr);
    a->n.ring_rd += toggles(a->ard, ar, a->awords, a->alast);
    int16_t xr[MPQ_KLANES_MAX];
    cm_xr(cm, v, ar, xr);
    uint32_t xm = (1u << (hw->act_bits + 2u)) - 1u;
    cm_act_operands(cm, a, ws, wr, xr, xm);
    uint64_t xt = 0;
    for (unsigned j = 0; j < hw->klanes; j++) {
        xt += xr_toggles(a->xr[j], xr[j], xm);
        a->xr[j] = xr[j];
    }
    a->n.xr += xt;
    if (!wt) /* the multipliers' weight operand held: only xr moves their products */
        a->n.xr_hold += xt;
    if (wgt_hs && cm->wslice < a->nslices) {
        uint32_t *e = &a->wraw[(size_t)cm->wslice * a->wwords];
        if (!a->wseen[cm->wslice]) {
            memcpy(e, mpq_cm_power_on(wpo, a->wwords, MPQ_CM_MEM_WBUF, cm->wslice), a->wwords * sizeof *e);
            e[a->wwords - 1u] &= a->wlast; /* the entry's bits only */
        }
        a->wseen[cm->wslice] = 1;
        a->n.wbuf_wr += toggles(e, in->wgt_data, a->wwords, a->wlast);
    }
    if (we) {
        uint32_t old[MPQ_PORT_WORDS_MAX];
        memcpy(old, a->aseen[v->waddr] ? mpq_abuf_read(&cm->abuf, v->waddr) : mpq_cm_power_on(apo, a->awords, MPQ_CM_MEM_RING, v->waddr),
               a->awords * sizeof old[0]);
        old[a->awords - 1u] &= a->alast;
        a->aseen[v->waddr] = 1;
        a->n.ring_wr += toggles(old, in->act_data, a->awords, a->alast);
    }
}

/* After the edge: the registers it changed. */
static void cm_act_after(mpq_cm *cm)
{
    struct cm_act *a = cm->act;
    unsigned n = cm->hw.lanes;
    a->n.acc += toggles64(a->acc, cm->acc, n, cm->hw.acc_bits);
    a->n.row += toggles64(a->rq1, cm->rq1.v, n, cm->hw.acc_bits);
    a->n.rq += toggles64(a->rq2, cm->rq2.v, n, 32u) + toggles64(a->out, cm->out.v, n, cm->hw.out_bits);
}

void mpq_cm_tick(mpq_cm *cm, const mpq_port_in *in)
{
    if (!in->rst_n) {
        cm_reset(cm);
        cm_view(cm);
        return;
    }
    const mpq_win_view *v = &cm->view;
    int out_free = cm_out_free(cm, in), rq2_free = cm_rq2_free(cm, in), rq1_free = cm_rq1_free(cm, in);
    int cfg_hs = cm->state == MPQ_ST_IDLE && in->cfg_valid;
    int wgt_hs = cm->state == MPQ_ST_LOAD && in->wgt_valid;
    int we = in->act_valid && v->act_ready;
    int step = mpq_win_step(&cm->win, v, cm->state == MPQ_ST_RUN, rq1_free);
    int row_done = step && v->last;
    int done = cm_done(cm); /* before the edge */
    int read_done = cm->win.rdone;
    cm_count(cm, in, v, step, row_done, cfg_hs, wgt_hs, we, rq1_free);
    cm_count_access(cm, v, step, row_done, cfg_hs, wgt_hs, we, out_free);
    if (cm->act)
        cm_act_before(cm, in, wgt_hs, we);

    /* Pipeline, from the output backwards so each stage reads its predecessor's old value. */
    if (cm->rq2.valid && out_free) {
        cm->out = cm->rq2;
        cm_fill_out(cm);
    } else if (cm->out.valid && in->out_ready) {
        cm->out.valid = 0;
    }
    if (cm->rq1.valid && rq2_free) {
        cm->rq2 = cm->rq1;
        cm_fill_rq2(cm);
    } else if (cm->rq2.valid && out_free) {
        cm->rq2.valid = 0;
    }
    long pixel = cm_pixel(cm);
    if (step) /* reads the ring before this edge's write (mpq_ram: read-during-write is old) */
        cm_step(cm, v, mpq_abuf_read(&cm->abuf, v->raddr));
    if (row_done) {
        cm->rq1.valid = 1;
        cm->rq1.row = pixel;
        memcpy(cm->rq1.v, cm->acc, cm->hw.lanes * sizeof cm->acc[0]);
    } else if (cm->rq1.valid && rq2_free) {
        cm->rq1.valid = 0;
    }
    if (we) {
        mpq_abuf_write(&cm->abuf, v->waddr, in->act_data);
        cm->counts.v[MPQ_CNT_ring_writes]++;
    }
    mpq_win_tick(&cm->win, v, step, we);

    cm_fsm(cm, in, cfg_hs, wgt_hs, read_done, done);
    cm_view(cm);
    if (cm->act)
        cm_act_after(cm);
}

void mpq_cm_stats_get(const mpq_cm *cm, mpq_cm_stats *s) { *s = cm->stats; }

void mpq_cm_counts_get(const mpq_cm *cm, mpq_cm_counts *c) { *c = cm->counts; }

void mpq_cm_regs_get(const mpq_cm *cm, mpq_cm_regs *r)
{
    unsigned n = cm->hw.lanes;
    for (unsigned l = 0; l < n; l++) {
        r->acc[l] = cm->acc[l];
        r->rq1[l] = cm->rq1.v[l];
        r->rq2[l] = (int32_t)cm->rq2.v[l];
    }
    r->rq1_valid = cm->rq1.valid;
    r->rq2_valid = cm->rq2.valid;
}

void mpq_cm_where_get(const mpq_cm *cm, mpq_cm_where *w)
{
    const mpq_win *win = &cm->win;
    const mpq_win_view *vp = &cm->view;
    w->tile = cm->tile;
    w->resets = cm->resets;
    w->state = cm->state;
    w->wslice = cm->wslice;
    w->b = win->b;
    w->oy = win->oy;
    w->ox = win->ox;
    w->ky = win->ky;
    w->kx = win->kx;
    w->s = win->s;
    w->pad = vp->pad;
    w->iy = (long)vp->iy;
    w->ix = (long)vp->ix;
    w->pixel = cm_pixel(cm);
    w->written = win->wcount;
    w->c_len = win->c_len;
    w->n_slices = win->n_slices;
    w->in_h = win->in_h;
    w->in_w = win->in_w;
    w->out_h = win->out_h;
    w->out_w = win->out_w;
    w->kh = win->kh;
    w->kw = win->kw;
    w->batches = win->batches;
    w->out_row = cm->out.valid ? cm->out.row : -1;
}
