/* SPDX-License-Identifier: Apache-2.0 */
/* tb_cosim.c: the per-cycle step of tb_cosim.h. */
#include "tb_cosim.h"

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

uint32_t tb_compare(const mpq_hwcfg *hw, const mpq_port_out *e, const mpq_port_out *a)
{
    uint32_t m = 0;
#define X(idx, field, port, rec) m |= (uint32_t)(e->field != a->field) << (idx);
    MPQ_OUT_BITS(X)
#undef X
#define X(idx, field, port, bus, width, store, rec, valid) \
    if (MPQ_PORT_DEFINED(e, valid))                        \
        m |= (uint32_t)differs_##store(&e->field, &a->field, hw, width) << (idx);
    MPQ_OUT_BUSES(X)
#undef X
    return m;
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

int tb_rtl_config(mpq_hwcfg *hw, char *err, size_t errlen)
{
    mpq_dut *probe = mpq_dut_new(1);
    if (!probe) {
        snprintf(err, errlen, "out of memory for the DUT");
        return 2;
    }
    uint32_t words[MPQ_HWCFG_WORDS];
    mpq_dut_hwcfg(probe, words);
    mpq_dut_free(probe);
    if (mpq_hwcfg_unpack(words, hw) != 0) {
        snprintf(err, errlen, "the RTL reports contract version %u on hwcfg_o, this testbench "
                 "speaks version %u", words[0] & 0xffu, MPQ_CONTRACT_VERSION);
        return 2;
    }
    return 0;
}

int tb_cosim_open(tb_cosim *c, const mpq_hwcfg *hw, int whitebox, uint64_t init_seed,
                  const char *what, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->hw = *hw;
    c->traced = mpq_dut_traced();
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
    c->dut = mpq_dut_new(init_seed);
    if (!c->dut) {
        snprintf(err, errlen, "out of memory for the DUT");
        return 2;
    }
    if ((c->whitebox || c->traced) && mpq_cm_new(hw, &c->shadow, err, errlen) != 0) {
        tb_cosim_close(c);
        return 2;
    }
    return 0;
}

void tb_cosim_close(tb_cosim *c)
{
    mpq_dut_free(c->dut);
    mpq_cm_free(c->shadow);
    c->dut = NULL;
    c->shadow = NULL;
}

uint32_t tb_cosim_step(tb_cosim *c, const mpq_port_in *in, const mpq_port_out *exp, mpq_port_out *act)
{
    mpq_dut_eval(c->dut, in, act);
    uint32_t mis = tb_compare(&c->hw, exp, act);
    if (c->shadow) {
        mpq_cm_where_get(c->shadow, &c->where);
        if (c->traced) { /* this cycle's registers beside the RTL's */
            mpq_cm_regs now;
            mpq_cm_regs_get(c->shadow, &now);
            mpq_dut_set_expected(c->dut, &c->hw, exp, &now, &c->where, mis, c->cycle);
        }
    }
    mpq_dut_tick(c->dut);
    if (mpq_dut_assert_failed(c->dut))
        mis |= 1u << TB_P_ASSERT;
    if (c->whitebox) { /* the registers the edge left, in both */
        mpq_cm_tick(c->shadow, in);
        mpq_cm_regs_get(c->shadow, &c->exp_regs);
        mpq_dut_regs(c->dut, &c->hw, &c->act_regs);
        mis |= tb_compare_regs(&c->hw, &c->exp_regs, &c->act_regs);
    } else if (c->shadow) {
        mpq_cm_tick(c->shadow, in);
    }
    c->cycle++;
    return mis;
}
