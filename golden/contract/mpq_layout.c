/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_layout.c: the tables of mpq_layout.h, the one description of the parameters, the
 * configuration beat and the port widths. The RTL's copy (rtl/mpq_layout_pkg.sv,
 * rtl/mpq_params_check.sv) and the tables of docs/timing.md are written from here by
 * `mpq-golden layout` (golden/cli/cli_layout.c); the width functions below carry their SV text.
 */
#include "contract/mpq_layout.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "arith/mpq.h"
#include "arith/mpq_bits.h"

#define P(field) offsetof(mpq_hwcfg, field)

const mpq_param_desc mpq_params[MPQ_P_COUNT] = {
    [MPQ_P_LANES] = {.key = "Lanes", .offset = P(lanes), .lo = 1, .hi = MPQ_LANES_MAX, .dflt = 8,
                     .hwcfg_lsb = 8, .hwcfg_width = 8,
                     .doc = "output channels computed in parallel"},
    [MPQ_P_KLANES] = {.key = "KLanes", .offset = P(klanes), .lo = 2, .hi = MPQ_KLANES_MAX, .dflt = 16,
                      .rule = MPQ_RULE_POW2, .hwcfg_lsb = 16, .hwcfg_width = 8,
                      .doc = "reduction elements per cycle (one *slice*) and sparse group size G"},
    [MPQ_P_HP_PER_GROUP] = {.key = "HpPerGroup", .offset = P(hp_per_group), .lo = 0,
                            .hi = MPQ_KLANES_MAX, .dflt = 1, .rule = MPQ_RULE_LE_OTHER,
                            .other = MPQ_P_KLANES, .hwcfg_lsb = 24, .hwcfg_width = 8,
                            .doc = "sparse high-precision entries per lane per slice (N of N:G)"},
    [MPQ_P_ACT_BITS] = {.key = "ActBits", .offset = P(act_bits), .lo = 2, .hi = 8, .dflt = 8,
                        .hwcfg_lsb = 32, .hwcfg_width = 8, .doc = "signed activation width"},
    [MPQ_P_HP_BITS] = {.key = "HpBits", .offset = P(hp_bits), .lo = 2, .hi = 8, .dflt = 8,
                       .hwcfg_lsb = 40, .hwcfg_width = 8, .doc = "signed high-precision weight width"},
    [MPQ_P_ALPHA_BITS] = {.key = "AlphaBits", .offset = P(alpha_bits), .lo = 2, .hi = 16, .dflt = 8,
                          .hwcfg_lsb = 48, .hwcfg_width = 8, .doc = "signed ternary scale width"},
    [MPQ_P_ACC_BITS] = {.key = "AccBits", .offset = P(acc_bits), .lo = 16, .hi = 32, .dflt = 32,
                        .hwcfg_lsb = 56, .hwcfg_width = 8, .doc = "accumulator width"},
    [MPQ_P_OUT_BITS] = {.key = "OutBits", .offset = P(out_bits), .lo = 2, .hi = 16, .dflt = 8,
                        .hwcfg_lsb = 64, .hwcfg_width = 8, .doc = "signed output width"},
    [MPQ_P_KMAX] = {.key = "KMax", .offset = P(kmax), .lo = 1, .hi = 65535, .dflt = 1024,
                    .rule = MPQ_RULE_MULTIPLE_OF, .other = MPQ_P_KLANES, .hwcfg_lsb = 72,
                    .hwcfg_width = 24,
                    .doc = "weight buffer size in reduction elements (KMax/KLanes slices): "
                           "the largest kh*kw*ceil(c_len/KLanes)*KLanes of a tile"},
    [MPQ_P_ACT_DEPTH] = {.key = "ActDepth", .offset = P(act_depth), .lo = 2, .hi = 32768,
                         .dflt = 1024, .rule = MPQ_RULE_POW2, .hwcfg_lsb = 96, .hwcfg_width = 16,
                         .doc = "activation ring entries (slices): the window's input rows must fit"},
};
#undef P

unsigned mpq_hwcfg_value(const mpq_hwcfg *hw, mpq_param p)
{
    unsigned v;
    memcpy(&v, (const char *)hw + mpq_params[p].offset, sizeof v);
    return v;
}

void mpq_hwcfg_set(mpq_hwcfg *hw, mpq_param p, unsigned v)
{
    memcpy((char *)hw + mpq_params[p].offset, &v, sizeof v);
}

/* ---- widths: each C function beside the SV text `mpq-golden layout` writes for it ---------- */
static unsigned log2_ceil(unsigned v)
{
    unsigned r = 0;
    while ((1u << r) < v)
        r++;
    return r;
}

unsigned mpq_hw_idx_w(const mpq_hwcfg *hw) { return log2_ceil(hw->klanes); }
unsigned mpq_hw_entry_w(const mpq_hwcfg *hw) { return mpq_hw_idx_w(hw) + hw->hp_bits; }
unsigned mpq_hw_lane_w(const mpq_hwcfg *hw) { return 2u * hw->klanes + hw->hp_per_group * mpq_hw_entry_w(hw); }
unsigned mpq_hw_cfg_w(const mpq_hwcfg *hw) { return MPQ_CFG_TILE_W + MPQ_CFG_LANE_W * hw->lanes; }
unsigned mpq_hw_wgt_w(const mpq_hwcfg *hw) { return hw->lanes * mpq_hw_lane_w(hw); }
unsigned mpq_hw_act_w(const mpq_hwcfg *hw) { return hw->klanes * hw->act_bits; }
unsigned mpq_hw_out_w(const mpq_hwcfg *hw) { return hw->lanes * hw->out_bits; }
unsigned mpq_wgt_tern_lsb(unsigned j) { return 2u * j; }
unsigned mpq_wgt_entry_lsb(const mpq_hwcfg *hw, unsigned e) { return 2u * hw->klanes + e * mpq_hw_entry_w(hw); }

#define PB(p) (1u << (p))
const mpq_width_desc mpq_widths[MPQ_W_COUNT] = {
    [MPQ_W_IDX] = {"IdxW", "idx_w", PB(MPQ_P_KLANES), NULL, "$clog2(KLanes)", "log2(KLanes)",
                   mpq_hw_idx_w},
    [MPQ_W_ENTRY] = {"EntryW", "entry_w", PB(MPQ_P_KLANES) | PB(MPQ_P_HP_BITS), NULL,
                     "idx_w(KLanes) + HpBits", "IdxW + HpBits", mpq_hw_entry_w},
    [MPQ_W_LANE] = {"LaneW", "lane_w", PB(MPQ_P_KLANES) | PB(MPQ_P_HP_PER_GROUP) | PB(MPQ_P_HP_BITS),
                    NULL, "2 * KLanes + HpPerGroup * entry_w(KLanes, HpBits)",
                    "2*KLanes + HpPerGroup*EntryW", mpq_hw_lane_w},
    [MPQ_W_CFG] = {"CfgW", "cfg_w", PB(MPQ_P_LANES), NULL, "CFG_TILE_W + CFG_LANE_W * Lanes",
                   "256 + 96*Lanes", mpq_hw_cfg_w},
    [MPQ_W_WGT] = {"WgtW", "wgt_w",
                   PB(MPQ_P_LANES) | PB(MPQ_P_KLANES) | PB(MPQ_P_HP_PER_GROUP) | PB(MPQ_P_HP_BITS),
                   NULL, "Lanes * lane_w(KLanes, HpPerGroup, HpBits)", "Lanes*LaneW", mpq_hw_wgt_w},
    [MPQ_W_ACT] = {"ActW", "act_w", PB(MPQ_P_KLANES) | PB(MPQ_P_ACT_BITS), NULL, "KLanes * ActBits",
                   "KLanes*ActBits", mpq_hw_act_w},
    [MPQ_W_OUT] = {"OutW", "out_w", PB(MPQ_P_LANES) | PB(MPQ_P_OUT_BITS), NULL, "Lanes * OutBits",
                   "Lanes*OutBits", mpq_hw_out_w},
    [MPQ_W_TERN_LSB] = {"tern_lsb(j)", "wgt_tern_lsb", 0, "j", "2 * j",
                        "ternary code j of a lane's weight part: bits [2j+1:2j]", NULL},
    [MPQ_W_ENTRY_LSB] = {"entry_lsb(e)", "wgt_entry_lsb", PB(MPQ_P_KLANES) | PB(MPQ_P_HP_BITS), "e",
                         "2 * KLanes + e * entry_w(KLanes, HpBits)",
                         "sparse entry e of a lane's weight part: base 2*KLanes + e*EntryW", NULL},
};
#undef PB

/* ---- ports ---------------------------------------------------------------------------------- */
#define IN MPQ_DIR_IN
#define OUT MPQ_DIR_OUT
#define A MPQ_REC_A
#define B MPQ_REC_B
#define C MPQ_REC_C
#define NO MPQ_REC_NONE
const mpq_port_desc mpq_ports[] = {
    {"clk_i", IN, MPQ_ROLE_CLOCK, NULL, MPQ_PW_BIT, 0, NO, "clock, everything on the rising edge"},
    {"rst_ni", IN, MPQ_ROLE_RESET_N, NULL, MPQ_PW_BIT, 0, A(0), "asynchronous active-low reset"},
    {"cfg_valid_i", IN, MPQ_ROLE_VALID, "cfg", MPQ_PW_BIT, 0, A(1), "tile configuration stream"},
    {"cfg_ready_o", OUT, MPQ_ROLE_READY, "cfg", MPQ_PW_BIT, 0, B(0), NULL},
    {"cfg_data_i", IN, MPQ_ROLE_DATA, "cfg", MPQ_W_CFG, 0, A(5), NULL},
    {"wgt_valid_i", IN, MPQ_ROLE_VALID, "wgt", MPQ_PW_BIT, 0, A(2), "weight stream, one slice per beat"},
    {"wgt_ready_o", OUT, MPQ_ROLE_READY, "wgt", MPQ_PW_BIT, 0, B(1), NULL},
    {"wgt_data_i", IN, MPQ_ROLE_DATA, "wgt", MPQ_W_WGT, 0, A(6), NULL},
    {"act_valid_i", IN, MPQ_ROLE_VALID, "act", MPQ_PW_BIT, 0, A(3), "activation stream, one slice per beat"},
    {"act_ready_o", OUT, MPQ_ROLE_READY, "act", MPQ_PW_BIT, 0, B(2), NULL},
    {"act_data_i", IN, MPQ_ROLE_DATA, "act", MPQ_W_ACT, 0, A(7), NULL},
    {"out_valid_o", OUT, MPQ_ROLE_VALID, "out", MPQ_PW_BIT, 0, B(3),
     "result stream, one row of Lanes outputs per beat"},
    {"out_ready_i", IN, MPQ_ROLE_READY, "out", MPQ_PW_BIT, 0, A(4), NULL},
    {"out_data_o", OUT, MPQ_ROLE_DATA, "out", MPQ_W_OUT, 0, B(6), NULL},
    {"busy_o", OUT, MPQ_ROLE_FLAG, NULL, MPQ_PW_BIT, 0, B(4), "a tile is in progress (state is not IDLE)"},
    {"done_o", OUT, MPQ_ROLE_FLAG, NULL, MPQ_PW_BIT, 0, B(5),
     "high for exactly one cycle, the last cycle of a tile (see DRAIN)"},
    {"ovf_o", OUT, MPQ_ROLE_FLAG, NULL, MPQ_PW_LANES, 0, C(0),
     "sticky per-lane accumulator overflow flags of the current tile"},
    {"hwcfg_o", OUT, MPQ_ROLE_CONST, NULL, MPQ_PW_HWCFG, 0, NO,
     "constant: the configuration this RTL was built with"},
    /* The registers the testbench compares with the golden cycle model's every cycle
     * (mpq-tb --whitebox) and shows beside them in a waveform (tb/build-model.sh kinds wb and
     * trace); absent from the plain build and from synthesis. */
    {"dbg_acc_o", OUT, MPQ_ROLE_FLAG, NULL, MPQ_PW_LANES_ACC, 1, NO, "every lane's accumulator (acc_q)"},
    {"dbg_rq1_o", OUT, MPQ_ROLE_FLAG, NULL, MPQ_PW_LANES_ACC, 1, NO, "rq1: the finished row (the lanes' row_q)"},
    {"dbg_rq1_valid_o", OUT, MPQ_ROLE_FLAG, NULL, MPQ_PW_BIT, 1, NO, "rq1 holds a row"},
    {"dbg_rq2_o", OUT, MPQ_ROLE_FLAG, NULL, MPQ_PW_LANES_32, 1, NO, "rq2: the requantizer's high products"},
    {"dbg_rq2_valid_o", OUT, MPQ_ROLE_FLAG, NULL, MPQ_PW_BIT, 1, NO, "rq2 holds a row"},
    {"dbg_counts_o", OUT, MPQ_ROLE_FLAG, NULL, MPQ_PW_COUNTS, 1, NO,
     "the access counters since reset, 64 bits each (MPQ_WB_COUNT_LIST)"},
};
#undef IN
#undef OUT
#undef A
#undef B
#undef C
#undef NO
const size_t mpq_port_count = sizeof mpq_ports / sizeof mpq_ports[0];

const char *const mpq_wb_count_names[MPQ_CNT_COUNT] = {
#define X(name, what) #name,
    MPQ_WB_COUNT_LIST(X)
#undef X
};
const char *const mpq_wb_count_docs[MPQ_CNT_COUNT] = {
#define X(name, what) what,
    MPQ_WB_COUNT_LIST(X)
#undef X
};

unsigned mpq_port_width(const mpq_hwcfg *hw, int w)
{
    switch (w) {
    case MPQ_PW_BIT:
        return 1;
    case MPQ_PW_LANES:
        return hw->lanes;
    case MPQ_PW_HWCFG:
        return MPQ_HWCFG_BITS;
    case MPQ_PW_LANES_ACC:
        return hw->lanes * hw->acc_bits;
    case MPQ_PW_LANES_32:
        return hw->lanes * 32u;
    case MPQ_PW_COUNTS:
        return MPQ_WB_COUNT_BITS;
    default:
        return w >= 0 && w < MPQ_W_COUNT && mpq_widths[w].c ? mpq_widths[w].c(hw) : 0;
    }
}

const char *mpq_port_field(const mpq_port_desc *p, char *buf, size_t len)
{
    size_t n = strlen(p->name);
    /* "_i" / "_o" go; of "_ni" / "_no" only the direction letter. */
    if (n > 3 && p->name[n - 3] == '_' && p->name[n - 2] == 'n')
        n -= 1;
    else if (n > 2 && p->name[n - 2] == '_')
        n -= 2;
    snprintf(buf, len, "%.*s", (int)n, p->name);
    return buf;
}

/* The rule that port p breaks, or NULL; seen counts the roles met so far. */
static const char *port_rule(size_t i, unsigned *seen, uint32_t *recs)
{
    const mpq_port_desc *p = &mpq_ports[i];
    size_t n = strlen(p->name);
    char want = p->dir == MPQ_DIR_IN ? 'i' : 'o';
    if (n < 3 || p->name[n - 2] != (p->role == MPQ_ROLE_RESET_N ? 'n' : '_') || p->name[n - 1] != want)
        return p->role == MPQ_ROLE_RESET_N ? "an active-low input's name ends in _ni"
                                           : "the name does not end in its direction's suffix (_i, _o)";
    seen[p->role]++;
    if ((p->role == MPQ_ROLE_CLOCK || p->role == MPQ_ROLE_RESET_N) &&
        (p->dir != MPQ_DIR_IN || p->width != MPQ_PW_BIT))
        return "the clock and the reset are 1-bit inputs";
    int part = p->role == MPQ_ROLE_VALID ? 0 : p->role == MPQ_ROLE_READY ? 1 : p->role == MPQ_ROLE_DATA ? 2 : -1;
    if ((part >= 0) != (p->stream != NULL))
        return "valid, ready and data ports belong to a stream, and only they";
    if (part > 0 && (i < (size_t)part || !mpq_ports[i - (size_t)part].stream ||
                     strcmp(mpq_ports[i - (size_t)part].stream, p->stream) != 0 ||
                     mpq_ports[i - (size_t)part].role != MPQ_ROLE_VALID))
        return "a stream's ports are its valid, ready and data, in that order";
    if (part > 0 && (p->dir == mpq_ports[i - (size_t)part].dir) != (part == 2))
        return "a stream's data runs with its valid, its ready against them";
    if ((part == 0 || part == 1) && p->width != MPQ_PW_BIT)
        return "valid and ready are 1 bit";
    int recorded = !p->whitebox && p->role != MPQ_ROLE_CLOCK && p->role != MPQ_ROLE_CONST;
    if (recorded != (p->rec != MPQ_REC_NONE))
        return "every port of the contract but the clock and the constants has a record bit, and only they";
    if (p->rec != MPQ_REC_NONE) {
        int first = p->dir == MPQ_DIR_IN ? MPQ_REC_A(0) : MPQ_REC_B(0);
        int last = p->dir == MPQ_DIR_IN ? MPQ_REC_A(7) : MPQ_REC_C(7);
        if (p->rec < first || p->rec > last || p->rec == MPQ_REC_EXT)
            return "an input's record bit is in byte A, an output's in byte B (but B7) or C";
        if (recs[p->rec / 32] >> (p->rec % 32) & 1u)
            return "its record bit is another port's";
        recs[p->rec / 32] |= 1u << (p->rec % 32);
    }
    if (p->width == MPQ_PW_LANES && p->role != MPQ_ROLE_FLAG)
        return "a Lanes-bit port is a flag vector";
    return NULL;
}

int mpq_port_table_check(char *err, size_t errlen)
{
    unsigned seen[MPQ_ROLE_CONST + 1] = {0};
    uint32_t recs[1] = {0};
    for (size_t i = 0; i < mpq_port_count; i++) {
        const char *why = port_rule(i, seen, recs);
        if (why) {
            snprintf(err, errlen, "mpq_ports[%zu] %s: %s", i, mpq_ports[i].name, why);
            return MPQ_EPARAM;
        }
    }
    if (seen[MPQ_ROLE_CLOCK] != 1 || seen[MPQ_ROLE_RESET_N] != 1 || seen[MPQ_ROLE_CONST] != 1) {
        snprintf(err, errlen, "mpq_ports: one clock, one active-low reset and one constant (have %u, %u, %u)",
                 seen[MPQ_ROLE_CLOCK], seen[MPQ_ROLE_RESET_N], seen[MPQ_ROLE_CONST]);
        return MPQ_EPARAM;
    }
    return 0;
}

/* ---- configuration beat ------------------------------------------------------------------- */
#define NONE {MPQ_B_NONE, 0, 0, 0}
#define CONST(v) {MPQ_B_CONST, (v), 0, 0}
#define PARAM(p) {MPQ_B_PARAM, 0, (p), 0}
#define SMIN(p) {MPQ_B_SMIN, 0, (p), 0}
#define SMAX(p) {MPQ_B_SMAX, 0, (p), 0}
#define OMIN(p) {MPQ_B_OMIN, 0, (p), 0}
#define OMAX(p) {MPQ_B_OMAX, 0, (p), 0}
#define FIELD(f) {MPQ_B_FIELD, 0, 0, (f)}

const mpq_cfg_desc mpq_cfg_fields[MPQ_CFG_FIELD_COUNT] = {
    [MPQ_CFG_C_LEN] = {"c_len", 0, 16, 0, 0, CONST(1), PARAM(MPQ_P_KMAX), NONE,
                       "channels of each pixel the activation stream carries (FC: K)"},
    [MPQ_CFG_IN_H] = {"in_h", 16, 16, 0, 0, CONST(1), NONE, NONE, "input rows (FC: M)"},
    [MPQ_CFG_IN_W] = {"in_w", 32, 16, 0, 0, CONST(1), NONE, NONE, "input columns (FC: 1)"},
    [MPQ_CFG_BATCHES] = {"batches", 48, 16, 0, 0, CONST(1), NONE, NONE, "images, one after the other"},
    [MPQ_CFG_OUT_H] = {"out_h", 64, 16, 0, 0, CONST(1), NONE, NONE, "output rows (FC: M)"},
    [MPQ_CFG_OUT_W] = {"out_w", 80, 16, 0, 0, CONST(1), NONE, NONE, "output columns (FC: 1)"},
    [MPQ_CFG_KH] = {"kh", 96, 8, 0, 0, CONST(1), NONE, NONE, "kernel rows"},
    [MPQ_CFG_KW] = {"kw", 104, 8, 0, 0, CONST(1), NONE, NONE, "kernel columns"},
    [MPQ_CFG_SY] = {"sy", 112, 8, 0, 0, CONST(1), NONE, NONE, "vertical stride"},
    [MPQ_CFG_SX] = {"sx", 120, 8, 0, 0, CONST(1), NONE, NONE, "horizontal stride"},
    [MPQ_CFG_DY] = {"dy", 128, 8, 0, 0, CONST(1), NONE, NONE, "vertical dilation"},
    [MPQ_CFG_DX] = {"dx", 136, 8, 0, 0, CONST(1), NONE, NONE, "horizontal dilation"},
    [MPQ_CFG_PY] = {"py", 144, 8, 0, 0, NONE, NONE, NONE, "rows of padding above the input"},
    [MPQ_CFG_PX] = {"px", 152, 8, 0, 0, NONE, NONE, NONE, "columns of padding left of the input"},
    [MPQ_CFG_ACC_SAT] = {"acc_sat", 160, 1, 0, 0, NONE, NONE, NONE,
                         "1: saturating accumulator; 0: wrap-around"},
    [MPQ_CFG_RSV_161] = {"reserved_161", 161, 15, 0, 1, NONE, NONE, NONE, "reserved, 0"},
    [MPQ_CFG_IN_OFFSET] = {"in_offset", 176, 16, 1, 0, OMIN(MPQ_P_ACT_BITS), OMAX(MPQ_P_ACT_BITS),
                           OMAX(MPQ_P_ACT_BITS), "added to every activation (zero point, negated)"},
    [MPQ_CFG_OUT_OFFSET] = {"out_offset", 192, 16, 1, 0, NONE, NONE, NONE,
                            "added after requantization"},
    [MPQ_CFG_ACT_MIN] = {"act_min", 208, 16, 1, 0, SMIN(MPQ_P_OUT_BITS), FIELD(MPQ_CFG_ACT_MAX), NONE,
                         "lower clamp"},
    [MPQ_CFG_ACT_MAX] = {"act_max", 224, 16, 1, 0, NONE, SMAX(MPQ_P_OUT_BITS), NONE, "upper clamp"},
    [MPQ_CFG_RSV_240] = {"reserved_240", 240, 16, 0, 1, NONE, NONE, NONE, "reserved, 0"},
    [MPQ_CFG_BIAS] = {"bias", 0, 32, 1, 0, NONE, NONE, NONE, "accumulator start value"},
    [MPQ_CFG_MULT] = {"mult", 32, 32, 1, 0, CONST(0), NONE, NONE, "Q31 requantization multiplier"},
    [MPQ_CFG_ALPHA] = {"alpha", 64, 16, 1, 0, SMIN(MPQ_P_ALPHA_BITS), SMAX(MPQ_P_ALPHA_BITS),
                       PARAM(MPQ_P_ALPHA_BITS), "ternary scale"},
    [MPQ_CFG_SHIFT] = {"shift", 80, 16, 1, 0, CONST(-31), CONST(30), NONE,
                       "TFLite shift, left positive"},
};
#undef NONE
#undef CONST
#undef PARAM
#undef SMIN
#undef SMAX
#undef OMIN
#undef OMAX
#undef FIELD

int mpq_cfg_is_lane_field(mpq_cfg_field f) { return f >= MPQ_CFG_FIRST_LANE_FIELD; }

unsigned mpq_cfg_lsb(mpq_cfg_field f, unsigned lane)
{
    unsigned lsb = mpq_cfg_fields[f].lsb;
    return mpq_cfg_is_lane_field(f) ? MPQ_CFG_TILE_W + lane * MPQ_CFG_LANE_W + lsb : lsb;
}

int64_t mpq_bound_value(const mpq_bound *b, const mpq_hwcfg *hw, const uint32_t *beat, unsigned lane)
{
    int64_t p = b->kind == MPQ_B_PARAM || b->kind == MPQ_B_SMIN || b->kind == MPQ_B_SMAX ||
                        b->kind == MPQ_B_OMIN || b->kind == MPQ_B_OMAX
                    ? (int64_t)mpq_hwcfg_value(hw, b->param)
                    : 0;
    switch (b->kind) {
    case MPQ_B_NONE:
        return 0;
    case MPQ_B_CONST:
        return b->value;
    case MPQ_B_PARAM:
        return p;
    case MPQ_B_SMIN:
        return -((int64_t)1 << (p - 1));
    case MPQ_B_SMAX:
        return ((int64_t)1 << (p - 1)) - 1;
    case MPQ_B_OMIN:
        return -((int64_t)1 << p);
    case MPQ_B_OMAX:
        return ((int64_t)1 << p) - 1;
    case MPQ_B_FIELD:
        return mpq_cfg_get(beat, b->field, lane);
    }
    return 0;
}

/* Sign-extend the low `bits` (1..64) of u without undefined behaviour. */
static int64_t sext64(uint64_t u, unsigned bits)
{
    if (bits < 64) {
        uint64_t m = ((uint64_t)1 << bits) - 1u, sign = (uint64_t)1 << (bits - 1);
        u &= m;
        return u & sign ? -(int64_t)(m - u) - 1 : (int64_t)u;
    }
    return u > (uint64_t)INT64_MAX ? -(int64_t)(~u) - 1 : (int64_t)u;
}

static uint64_t get_bits(const uint32_t *beat, unsigned lsb, unsigned width)
{
    uint64_t v = mpq_bits_get(beat, lsb, width < 32 ? width : 32);
    if (width > 32)
        v |= (uint64_t)mpq_bits_get(beat, lsb + 32u, width - 32u) << 32;
    return v;
}

int mpq_cfg_fits(mpq_cfg_field f, int64_t v)
{
    const mpq_cfg_desc *d = &mpq_cfg_fields[f];
    if (d->width >= 64)
        return 1;
    if (d->is_signed) {
        int64_t lim = (int64_t)1 << (d->width - 1);
        return v >= -lim && v < lim;
    }
    return v >= 0 && (uint64_t)v < (uint64_t)1 << d->width;
}

void mpq_cfg_put(uint32_t *beat, mpq_cfg_field f, unsigned lane, int64_t v)
{
    const mpq_cfg_desc *d = &mpq_cfg_fields[f];
    unsigned lsb = mpq_cfg_lsb(f, lane);
    uint64_t u = (uint64_t)v;
    mpq_bits_put(beat, lsb, d->width < 32 ? d->width : 32, (uint32_t)u);
    if (d->width > 32)
        mpq_bits_put(beat, lsb + 32u, d->width - 32u, (uint32_t)(u >> 32));
}

int64_t mpq_cfg_get(const uint32_t *beat, mpq_cfg_field f, unsigned lane)
{
    const mpq_cfg_desc *d = &mpq_cfg_fields[f];
    uint64_t u = get_bits(beat, mpq_cfg_lsb(f, lane), d->width);
    return d->is_signed ? sext64(u, d->width) : (int64_t)u;
}

int64_t mpq_cfg_get_used(const mpq_hwcfg *hw, const uint32_t *beat, mpq_cfg_field f, unsigned lane)
{
    const mpq_cfg_desc *d = &mpq_cfg_fields[f];
    unsigned bits = d->width;
    if (d->used.kind == MPQ_B_PARAM)
        bits = mpq_hwcfg_value(hw, d->used.param);
    else if (d->used.kind == MPQ_B_OMAX)
        bits = mpq_hwcfg_value(hw, d->used.param) + 1u;
    uint64_t u = get_bits(beat, mpq_cfg_lsb(f, lane), bits);
    return d->is_signed ? sext64(u, bits) : (int64_t)u;
}

/* ---- tile rules: each C twin beside its SV expression ------------------------------------- */
static int64_t tf(const uint32_t *beat, mpq_cfg_field f) { return mpq_cfg_get(beat, f, 0); }

unsigned mpq_cfg_c_slices(const mpq_hwcfg *hw, const uint32_t *beat)
{
    return (unsigned)((tf(beat, MPQ_CFG_C_LEN) + hw->klanes - 1) / hw->klanes);
}

static int weights_fit(const mpq_hwcfg *hw, const uint32_t *b)
{
    return tf(b, MPQ_CFG_KH) * tf(b, MPQ_CFG_KW) * (int64_t)mpq_cfg_c_slices(hw, b) <=
           (int64_t)(hw->kmax / hw->klanes);
}
static int window_fits(const mpq_hwcfg *hw, const uint32_t *b)
{
    return ((tf(b, MPQ_CFG_KH) - 1) * tf(b, MPQ_CFG_DY) + 1) * tf(b, MPQ_CFG_IN_W) *
               (int64_t)mpq_cfg_c_slices(hw, b) <= (int64_t)hw->act_depth;
}
static int input_count(const mpq_hwcfg *hw, const uint32_t *b)
{
    return tf(b, MPQ_CFG_BATCHES) * tf(b, MPQ_CFG_IN_H) * tf(b, MPQ_CFG_IN_W) *
               (int64_t)mpq_cfg_c_slices(hw, b) <= 0xffffffffll;
}
static int output_count(const mpq_hwcfg *hw, const uint32_t *b)
{
    (void)hw;
    return tf(b, MPQ_CFG_BATCHES) * tf(b, MPQ_CFG_OUT_H) * tf(b, MPQ_CFG_OUT_W) <= 0xffffffffll;
}

/* The rules with a beat's numbers (mpq_tile_rule_desc.numbers). */
static void weights_numbers(const mpq_hwcfg *hw, const uint32_t *b, char *buf, size_t len)
{
    int64_t kh = tf(b, MPQ_CFG_KH), kw = tf(b, MPQ_CFG_KW), s = (int64_t)mpq_cfg_c_slices(hw, b);
    snprintf(buf, len, "kh*kw*ceil(c_len/KLanes) = %" PRId64 "*%" PRId64 "*ceil(%" PRId64 "/%u) = %" PRId64
             " %s KMax/KLanes = %u/%u = %u", kh, kw, tf(b, MPQ_CFG_C_LEN), hw->klanes, kh * kw * s,
             weights_fit(hw, b) ? "<=" : ">", hw->kmax, hw->klanes, hw->kmax / hw->klanes);
}
static void window_numbers(const mpq_hwcfg *hw, const uint32_t *b, char *buf, size_t len)
{
    int64_t kh = tf(b, MPQ_CFG_KH), dy = tf(b, MPQ_CFG_DY), w = tf(b, MPQ_CFG_IN_W);
    int64_t s = (int64_t)mpq_cfg_c_slices(hw, b);
    snprintf(buf, len, "((kh-1)*dy+1)*in_w*ceil(c_len/KLanes) = ((%" PRId64 "-1)*%" PRId64 "+1)*%" PRId64
             "*ceil(%" PRId64 "/%u) = %" PRId64 " %s ActDepth = %u", kh, dy, w, tf(b, MPQ_CFG_C_LEN),
             hw->klanes, ((kh - 1) * dy + 1) * w * s, window_fits(hw, b) ? "<=" : ">", hw->act_depth);
}
static void input_numbers(const mpq_hwcfg *hw, const uint32_t *b, char *buf, size_t len)
{
    int64_t n = tf(b, MPQ_CFG_BATCHES), h = tf(b, MPQ_CFG_IN_H), w = tf(b, MPQ_CFG_IN_W);
    snprintf(buf, len, "batches*in_h*in_w*ceil(c_len/KLanes) = %" PRId64 "*%" PRId64 "*%" PRId64
             "*ceil(%" PRId64 "/%u) = %" PRId64 " %s 2^32", n, h, w, tf(b, MPQ_CFG_C_LEN), hw->klanes,
             n * h * w * (int64_t)mpq_cfg_c_slices(hw, b), input_count(hw, b) ? "<" : ">=");
}
static void output_numbers(const mpq_hwcfg *hw, const uint32_t *b, char *buf, size_t len)
{
    int64_t n = tf(b, MPQ_CFG_BATCHES), h = tf(b, MPQ_CFG_OUT_H), w = tf(b, MPQ_CFG_OUT_W);
    snprintf(buf, len, "batches*out_h*out_w = %" PRId64 "*%" PRId64 "*%" PRId64 " = %" PRId64 " %s 2^32", n,
             h, w, n * h * w, output_count(hw, b) ? "<" : ">=");
}

#define PB(p) (1u << (p))
#define L(x) "longint'(" x ")"
#define SLICES "((" L("tile.c_len") " + " L("KLanes") " - 1) / " L("KLanes") ")"
const mpq_tile_rule_desc mpq_tile_rules[MPQ_R_COUNT] = {
    [MPQ_R_WEIGHTS_FIT] = {"the weights fit the weight buffer", "the weights do not fit the weight buffer",
                           PB(MPQ_P_KLANES) | PB(MPQ_P_KMAX),
                           L("tile.kh") " * " L("tile.kw") " * " SLICES " <= " L("KMax") " / " L("KLanes"),
                           "kh*kw*ceil(c_len/KLanes) <= KMax/KLanes", weights_fit, weights_numbers},
    [MPQ_R_WINDOW_FITS] = {"the window's input rows fit the activation ring",
                           "the window's input rows do not fit the activation ring",
                           PB(MPQ_P_KLANES) | PB(MPQ_P_ACT_DEPTH),
                           "((" L("tile.kh") " - 1) * " L("tile.dy") " + 1) * " L("tile.in_w") " * " SLICES
                           " <= " L("ActDepth"),
                           "((kh-1)*dy+1)*in_w*ceil(c_len/KLanes) <= ActDepth", window_fits, window_numbers},
    [MPQ_R_INPUT_COUNT] = {"the input slices fit 32 bits", "the input slices do not fit 32 bits", PB(MPQ_P_KLANES),
                           L("tile.batches") " * " L("tile.in_h") " * " L("tile.in_w") " * " SLICES
                           " <= 64'hffffffff",
                           "batches*in_h*in_w*ceil(c_len/KLanes) < 2^32", input_count, input_numbers},
    [MPQ_R_OUTPUT_COUNT] = {"the output pixels fit 32 bits", "the output pixels do not fit 32 bits", 0,
                            L("tile.batches") " * " L("tile.out_h") " * " L("tile.out_w") " <= 64'hffffffff",
                            "batches*out_h*out_w < 2^32", output_count, output_numbers},
};
#undef L
#undef SLICES
#undef PB

int mpq_cfg_check(const mpq_hwcfg *hw, const uint32_t *beat, char *err, size_t errlen)
{
    for (unsigned l = 0; l < hw->lanes; l++) {
        for (int f = 0; f < MPQ_CFG_FIELD_COUNT; f++) {
            const mpq_cfg_desc *d = &mpq_cfg_fields[f];
            if (!mpq_cfg_is_lane_field((mpq_cfg_field)f) && l > 0)
                continue; /* the tile part once */
            int64_t v = mpq_cfg_get(beat, (mpq_cfg_field)f, l);
            char who[32] = "";
            if (mpq_cfg_is_lane_field((mpq_cfg_field)f))
                snprintf(who, sizeof who, " of lane %u", l);
            if (d->reserved && v != 0) {
                snprintf(err, errlen, "cfg %s%s is not zero", d->name, who);
                return MPQ_EPARAM;
            }
            int low = d->lo.kind != MPQ_B_NONE && v < mpq_bound_value(&d->lo, hw, beat, l);
            int high = d->hi.kind != MPQ_B_NONE && v > mpq_bound_value(&d->hi, hw, beat, l);
            if (low || high) {
                char lo[64] = "", hi[64] = "";
                if (d->lo.kind != MPQ_B_NONE)
                    snprintf(lo, sizeof lo, "%" PRId64, mpq_bound_value(&d->lo, hw, beat, l));
                if (d->hi.kind == MPQ_B_FIELD)
                    snprintf(hi, sizeof hi, "%s (%" PRId64 ")", mpq_cfg_fields[d->hi.field].name,
                             mpq_bound_value(&d->hi, hw, beat, l));
                else if (d->hi.kind != MPQ_B_NONE)
                    snprintf(hi, sizeof hi, "%" PRId64, mpq_bound_value(&d->hi, hw, beat, l));
                snprintf(err, errlen, "cfg %s%s = %" PRId64 " is outside %s..%s", d->name, who, v,
                         lo, hi);
                return MPQ_EPARAM;
            }
        }
    }
    for (int r = 0; r < MPQ_R_COUNT; r++) {
        if (!mpq_tile_rules[r].holds(hw, beat)) {
            char numbers[400];
            mpq_tile_rules[r].numbers(hw, beat, numbers, sizeof numbers);
            snprintf(err, errlen, "cfg tile: %s: %s", mpq_tile_rules[r].broken, numbers);
            return MPQ_EPARAM;
        }
    }
    return 0;
}
