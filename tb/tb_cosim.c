/* SPDX-License-Identifier: Apache-2.0 */
/* tb_cosim.c: the per-cycle step of tb_cosim.h. */
#include "tb_cosim.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "arith/mpq.h"

const char *const tb_port_names[TB_P_COUNT] = {
#define X(idx, field, port, ...) [idx] = #port,
    MPQ_OUT_BITS(X) MPQ_OUT_BUSES(X)
#undef X
    [TB_P_ASSERT] = "assertion", [TB_P_ACC] = "accumulator", [TB_P_RQ1] = "rq1", [TB_P_RQ2] = "rq2",
};

/* 1 when a bus of width code w differs within its width (WORDS) or at all (U64). */
static int differs_WORDS(const uint32_t (*e)[MPQ_PORT_WORDS_MAX], const uint32_t (*a)[MPQ_PORT_WORDS_MAX],
                         const mpq_hwcfg *hw, int w)
{
    unsigned bits = mpq_port_width(hw, w), nw = MPQ_WORDS(bits);
    uint32_t diff = 0;
    for (unsigned i = 0; i + 1 < nw; i++)
        diff |= (*e)[i] ^ (*a)[i];
    uint32_t top = bits % 32 ? (1u << (bits % 32)) - 1u : ~0u;
    diff |= ((*e)[nw - 1] ^ (*a)[nw - 1]) & top;
    return diff != 0;
}
static int differs_U64(const uint64_t *e, const uint64_t *a, const mpq_hwcfg *hw, int w)
{
    (void)hw, (void)w;
    return *e != *a;
}

/* tb_compare, inlined into the per-cycle step. */
static inline uint32_t compare_out(const mpq_hwcfg *hw, const mpq_port_out *e, const mpq_port_out *a)
{
    uint32_t m = 0;
    /* The 1-bit ports, bytes at the struct's start (contract/mpq_hw.h): compared as one word,
     * port by port only when they differ. */
    uint64_t ef = 0, af = 0;
    if (MPQ_OUT_BITS_PLACED) {
        memcpy(&ef, e, MPQ_OUT_BITS_N);
        memcpy(&af, a, MPQ_OUT_BITS_N);
    }
    if (!MPQ_OUT_BITS_PLACED || ef != af) {
#define X(idx, field, port, rec) m |= (uint32_t)(e->field != a->field) << (idx);
        MPQ_OUT_BITS(X)
#undef X
    }
#define X(idx, field, port, bus, width, store, rec, valid) \
    if (MPQ_PORT_DEFINED(e, valid))                        \
        m |= (uint32_t)differs_##store(&e->field, &a->field, hw, width) << (idx);
    MPQ_OUT_BUSES(X)
#undef X
    return m;
}

uint32_t tb_compare(const mpq_hwcfg *hw, const mpq_port_out *e, const mpq_port_out *a)
{
    return compare_out(hw, e, a);
}

uint32_t tb_compare_regs(const mpq_hwcfg *hw, const mpq_cm_regs *e, const mpq_cm_regs *a)
{
    uint32_t m = 0;
    for (unsigned l = 0; l < hw->lanes; l++) {
        m |= (uint32_t)(e->acc[l] != a->acc[l]) << TB_P_ACC;
        m |= (uint32_t)(e->rq1_valid && e->rq1[l] != a->rq1[l]) << TB_P_RQ1;
        m |= (uint32_t)(e->rq2_valid && e->rq2[l] != a->rq2[l]) << TB_P_RQ2;
    }
    m |= (uint32_t)(e->rq1_valid != a->rq1_valid) << TB_P_RQ1;
    m |= (uint32_t)(e->rq2_valid != a->rq2_valid) << TB_P_RQ2;
    return m;
}

/* ---- mpq's ports beyond the contract's structs: reached by name (tb/mpq_dut.h) ------------------ */
/* Port `name` of the model, or -1 with err. */
static int port_of(const char *name, char *err, size_t errlen)
{
    int i = mpq_dut_port_find(name);
    if (i < 0)
        snprintf(err, errlen, "the Verilated model (%s, build %s) has no port %s", mpq_dut_desc_path(),
                 mpq_dut_build(), name);
    return i;
}

/* The white-box and traced builds' ports, found once per model. */
static int wb_ports(tb_cosim *c, char *err, size_t errlen)
{
    static const char *const wb[TB_WB_COUNT] = {"dbg_acc_o", "dbg_rq1_o", "dbg_rq1_valid_o", "dbg_rq2_o",
                                               "dbg_rq2_valid_o"};
    static const char *const exp[TB_EXP_COUNT] = {
        "exp_acc", "exp_rq1", "exp_rq1_valid", "exp_rq2", "exp_rq2_valid", "exp_win_b", "exp_win_oy",
        "exp_win_ox", "exp_win_ky", "exp_win_kx", "exp_win_s", "exp_win_pad", "mismatch", "mismatch_ports",
        "tb_cycle"};
    for (int i = 0; c->whitebox && i < TB_WB_COUNT; i++)
        if ((c->wb[i] = port_of(wb[i], err, errlen)) < 0)
            return 2;
    if (!c->traceable)
        return 0;
    for (int i = 0; i < TB_EXP_COUNT; i++)
        if ((c->exp[i] = port_of(exp[i], err, errlen)) < 0)
            return 2;
    char name[80];
#define X(idx, field, port, ...)                                           \
    snprintf(name, sizeof name, "exp_%s", #field);                         \
    if ((c->exp_out[idx] = port_of(name, err, errlen)) < 0)                \
        return 2;
    MPQ_OUT_BITS(X) MPQ_OUT_BUSES(X)
#undef X
    return 0;
}

/* Lane l's field of a white-box bus (w bits per lane), sign-extended. */
static int64_t lane_field(const uint32_t *words, unsigned l, unsigned w)
{
    return mpq_sext(mpq_bits_get(words, l * w, w), w);
}

/* The DUT's white-box registers in the current cycle (after the last edge), in the golden
 * cycle model's terms. */
static void dut_regs(const tb_cosim *c, mpq_cm_regs *r)
{
    static uint32_t acc[MPQ_PORT_WORDS_MAX], rq1[MPQ_PORT_WORDS_MAX], rq2[MPQ_PORT_WORDS_MAX];
    uint32_t v1 = 0, v2 = 0;
    memset(r, 0, sizeof *r);
    mpq_dut_get(c->dut, (size_t)c->wb[TB_WB_ACC], acc);
    mpq_dut_get(c->dut, (size_t)c->wb[TB_WB_RQ1], rq1);
    mpq_dut_get(c->dut, (size_t)c->wb[TB_WB_RQ2], rq2);
    mpq_dut_get(c->dut, (size_t)c->wb[TB_WB_RQ1_VALID], &v1);
    mpq_dut_get(c->dut, (size_t)c->wb[TB_WB_RQ2_VALID], &v2);
    for (unsigned l = 0; l < c->hw.lanes; l++) {
        r->acc[l] = lane_field(acc, l, c->hw.acc_bits);
        r->rq1[l] = lane_field(rq1, l, c->hw.acc_bits);
        r->rq2[l] = (int32_t)lane_field(rq2, l, 32);
    }
    r->rq1_valid = v1 & 1u;
    r->rq2_valid = v2 & 1u;
}

static void put_word(tb_cosim *c, int port, uint64_t v)
{
    uint32_t w[2] = {(uint32_t)v, (uint32_t)(v >> 32)};
    mpq_dut_put(c->dut, (size_t)port, w);
}

static void put_WORDS(tb_cosim *c, int port, const uint32_t (*w)[MPQ_PORT_WORDS_MAX])
{
    mpq_dut_put(c->dut, (size_t)port, *w);
}
static void put_U64(tb_cosim *c, int port, const uint64_t *v) { put_word(c, port, *v); }

/* Traced build: the expected outputs and registers, where the golden window generator is, the
 * mismatch mask and the cycle number, into the wrapper's inputs (tb/mpq_tb_top.sv) for the
 * waveform of the current cycle. */
static void dut_set_expected(tb_cosim *c, const mpq_port_out *exp, const mpq_cm_regs *regs,
                             const mpq_cm_where *w, uint32_t mismatch)
{
    const mpq_hwcfg *hw = &c->hw;
#define X(idx, field, port, rec) put_word(c, c->exp_out[idx], exp->field);
    MPQ_OUT_BITS(X)
#undef X
#define X(idx, field, port, bus, width, store, rec, valid) put_##store(c, c->exp_out[idx], &exp->field);
    MPQ_OUT_BUSES(X)
#undef X
    static uint32_t acc[MPQ_PORT_WORDS_MAX], rq1[MPQ_PORT_WORDS_MAX], rq2[MPQ_PORT_WORDS_MAX];
    memset(acc, 0, sizeof acc);
    memset(rq1, 0, sizeof rq1);
    memset(rq2, 0, sizeof rq2);
    for (unsigned l = 0; l < hw->lanes; l++) {
        mpq_bits_put(acc, l * hw->acc_bits, hw->acc_bits, (uint32_t)regs->acc[l]);
        mpq_bits_put(rq1, l * hw->acc_bits, hw->acc_bits, (uint32_t)regs->rq1[l]);
        mpq_bits_put(rq2, l * 32u, 32u, (uint32_t)regs->rq2[l]);
    }
    mpq_dut_put(c->dut, (size_t)c->exp[TB_EXP_ACC], acc);
    mpq_dut_put(c->dut, (size_t)c->exp[TB_EXP_RQ1], rq1);
    mpq_dut_put(c->dut, (size_t)c->exp[TB_EXP_RQ2], rq2);
    put_word(c, c->exp[TB_EXP_RQ1_VALID], regs->rq1_valid);
    put_word(c, c->exp[TB_EXP_RQ2_VALID], regs->rq2_valid);
    const unsigned where[] = {w->b, w->oy, w->ox, w->ky, w->kx, w->s, w->pad != 0};
    for (int i = 0; i < 7; i++)
        put_word(c, c->exp[TB_EXP_WIN_B + i], where[i]);
    put_word(c, c->exp[TB_EXP_MISMATCH], mismatch != 0);
    put_word(c, c->exp[TB_EXP_MISMATCH_PORTS], mismatch);
    put_word(c, c->exp[TB_EXP_CYCLE], c->cycle);
    mpq_dut_settle(c->dut); /* the wrapper's inputs only feed the waveform */
}

/* The hwcfg_o port's value, read once per process from a model of its own (the RTL of a binary
 * does not change: every test's tb_cosim_open would otherwise build and free a second model). */
static struct {
    pthread_once_t once;
    int port;
    uint32_t words[MPQ_HWCFG_WORDS];
    int have;
} rtl_cfg = {PTHREAD_ONCE_INIT, -1, {0}, 0};

static void rtl_cfg_read(void)
{
    rtl_cfg.port = mpq_dut_port_find("hwcfg_o");
    if (rtl_cfg.port < 0)
        return;
    mpq_dut *probe = mpq_dut_new(1);
    if (!probe)
        return;
    mpq_dut_get(probe, (size_t)rtl_cfg.port, rtl_cfg.words);
    mpq_dut_free(probe);
    rtl_cfg.have = 1;
}

int tb_rtl_config(mpq_hwcfg *hw, char *err, size_t errlen)
{
    pthread_once(&rtl_cfg.once, rtl_cfg_read);
    if (port_of("hwcfg_o", err, errlen) < 0)
        return 2;
    if (!rtl_cfg.have) {
        snprintf(err, errlen, "out of memory for the DUT");
        return 2;
    }
    if (mpq_hwcfg_unpack(rtl_cfg.words, hw) != 0) {
        snprintf(err, errlen, "the RTL reports contract version %u on hwcfg_o, this testbench "
                 "speaks version %u", rtl_cfg.words[0] & 0xffu, MPQ_CONTRACT_VERSION);
        return 2;
    }
    return 0;
}

int tb_cosim_open(tb_cosim *c, const mpq_hwcfg *hw, int whitebox, uint64_t init_seed,
                  const char *what, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->hw = *hw;
    c->traceable = mpq_dut_traced();
    c->whitebox = whitebox;
    if (whitebox && !mpq_dut_whitebox()) {
        snprintf(err, errlen, "--whitebox needs the white-box build of the testbench "
                 "(build/vl/<config>/wb/mpq-tb: make tb-wb CONFIG=...)");
        return 2;
    }
    mpq_hwcfg rtl;
    if (tb_rtl_config(&rtl, err, errlen) != 0)
        return 2;
    if (!mpq_hwcfg_equal(&rtl, hw)) {
        char a[256], b[256];
        snprintf(err, errlen,
                 "%s was made for %s, but this RTL is %s: generate vectors for this configuration "
                 "(mpq-golden gen --config ...) or build the testbench for that one",
                 what, mpq_hwcfg_str(hw, a, sizeof a), mpq_hwcfg_str(&rtl, b, sizeof b));
        return 2;
    }
    if (wb_ports(c, err, errlen) != 0)
        return 2;
    c->counts_port = mpq_dut_port_find("dbg_counts_o");
    c->dut = mpq_dut_new(init_seed);
    if (!c->dut) {
        snprintf(err, errlen, "out of memory for the DUT");
        return 2;
    }
    if (c->whitebox && mpq_cm_new(hw, &c->shadow, err, errlen) != 0) {
        tb_cosim_close(c);
        return 2;
    }
    return 0;
}

int tb_cosim_trace_start(tb_cosim *c, const mpq_cm *model, char *err, size_t errlen)
{
    if (!c->traceable) {
        snprintf(err, errlen, "this testbench is not a traced build");
        return 2;
    }
    if (!c->shadow) {
        int rc = model ? mpq_cm_clone(model, &c->shadow) : mpq_cm_new(&c->hw, &c->shadow, err, errlen);
        if (rc != 0) {
            if (model)
                snprintf(err, errlen, "out of memory for the golden cycle model");
            return 2;
        }
    }
    c->traced = 1;
    return 0;
}

void tb_cosim_close(tb_cosim *c)
{
    mpq_dut_free(c->dut);
    mpq_cm_free(c->shadow);
    c->dut = NULL;
    c->shadow = NULL;
}

/* tb_cosim_step with a shadow model (white-box or traced build). */
static uint32_t step_shadow(tb_cosim *c, const mpq_port_in *in, const mpq_port_out *exp, mpq_port_out *act)
{
    mpq_dut_eval(c->dut, in, act);
    uint32_t mis = tb_compare(&c->hw, exp, act);
    mpq_cm_where_get(c->shadow, &c->where);
    if (c->traced) { /* this cycle's registers beside the RTL's */
        mpq_cm_regs now;
        mpq_cm_regs_get(c->shadow, &now);
        dut_set_expected(c, exp, &now, &c->where, mis);
    }
    mpq_dut_tick(c->dut);
    if (mpq_dut_assert_failed(c->dut))
        mis |= 1u << TB_P_ASSERT;
    mpq_cm_tick(c->shadow, in);
    if (c->whitebox) { /* the registers the edge left, in both */
        mpq_cm_regs_get(c->shadow, &c->exp_regs);
        dut_regs(c, &c->act_regs);
        mis |= tb_compare_regs(&c->hw, &c->exp_regs, &c->act_regs);
    }
    c->cycle++;
    return mis;
}

uint32_t tb_cosim_step(tb_cosim *c, const mpq_port_in *in, const mpq_port_out *exp, mpq_port_out *act)
{
    if (c->shadow) /* white-box and traced builds; the plain build's cycle is below */
        return step_shadow(c, in, exp, act);
    mpq_dut_eval(c->dut, in, act);
    uint32_t mis = compare_out(&c->hw, exp, act);
    mpq_dut_tick(c->dut);
    mis |= (uint32_t)(mpq_dut_assert_failed(c->dut) != 0) << TB_P_ASSERT;
    c->cycle++;
    return mis;
}

int tb_cosim_counts(const tb_cosim *c, uint64_t v[MPQ_CNT_COUNT])
{
    uint32_t w[MPQ_PORT_WORDS_MAX];
    if (c->counts_port < 0 || !c->dut)
        return 0;
    mpq_dut_get(c->dut, (size_t)c->counts_port, w);
    for (int i = 0; i < MPQ_CNT_COUNT; i++)
        v[i] = (uint64_t)w[2 * i] | (uint64_t)w[2 * i + 1] << 32;
    return 1;
}

int tb_cosim_counts_check(const tb_cosim *c, const mpq_cm *model, uint64_t v[MPQ_CNT_COUNT], int *compared,
                          char *why, size_t len)
{
    *compared = 0;
    if (!model || !tb_cosim_counts(c, v))
        return 0;
    *compared = 1;
    mpq_cm_counts e;
    mpq_cm_counts_get(model, &e);
    for (int i = 0; i < MPQ_CNT_COUNT; i++)
        if (e.v[i] != v[i]) {
            snprintf(why, len, "access counter %s: RTL %llu, cycle model %llu (the white-box build's "
                     "dbg_counts_o)", mpq_wb_count_names[i], (unsigned long long)v[i],
                     (unsigned long long)e.v[i]);
            return 1;
        }
    return 0;
}
