/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tb_cosim.h: the Verilated DUT under the testbench, one cycle at a time (Ibex cosim's
 * step() + get_errors()): apply the cycle's inputs, compare every output port with the
 * expected value, clock, and report which ports (and whether an SV assertion) failed.
 * The one per-cycle step of mpq-tb and of the Fashion-MNIST RTL runner.
 *
 * White-box mode (a white-box build, mpq-tb --whitebox) also runs a golden cycle model on the
 * same inputs (the shadow model) and compares the RTL's internal registers with it after every
 * edge: every lane's accumulator, rq1, rq2 (XiangShan difftest's state comparison). A bug then
 * shows in the cycle it acts, not when its value reaches out_data_o. The traced build runs the
 * shadow model too, to show its registers in the waveform beside the RTL's.
 */
#ifndef TB_COSIM_H
#define TB_COSIM_H

#include <stddef.h>
#include <stdint.h>

#include "cycle/mpq_top.h"
#include "mpq_dut.h"
#include "contract/mpq_hw.h"

/* What is compared every cycle; bit i of a mismatch mask. First the outputs of the contract
 * (bit MPQ_OUT_* of contract/mpq_ports.h: the port table's outputs in declaration order),
 * then the RTL's assertions, then the white-box registers. */
enum { TB_P_ASSERT = MPQ_OUT_COUNT, TB_P_ACC, TB_P_RQ1, TB_P_RQ2, TB_P_COUNT };
extern const char *const tb_port_names[TB_P_COUNT];
#define TB_P_WHITEBOX ((1u << TB_P_ACC) | (1u << TB_P_RQ1) | (1u << TB_P_RQ2))

/* The outputs where actual a differs from expected e, a bit per MPQ_OUT_*: every one in every
 * cycle, but a stream's data only while its valid is expected (the contract's don't-care,
 * out_data_o while out_valid_o), and a bus only within its width. */
uint32_t tb_compare(const mpq_hwcfg *hw, const mpq_port_out *e, const mpq_port_out *a);
/* The white-box registers that differ: TB_P_ACC (any lane's accumulator), TB_P_RQ1 / TB_P_RQ2
 * (a valid bit, or a lane's data while the stage is valid). */
uint32_t tb_compare_regs(const mpq_hwcfg *hw, const mpq_cm_regs *e, const mpq_cm_regs *a);

/* The white-box ports (the RTL's registers) and the traced wrapper's inputs (tb/mpq_tb_top.sv:
 * the golden model's registers and window, the mismatch flags, the cycle), by name. */
enum { TB_WB_ACC, TB_WB_RQ1, TB_WB_RQ1_VALID, TB_WB_RQ2, TB_WB_RQ2_VALID, TB_WB_COUNT };
enum {
    TB_EXP_ACC, TB_EXP_RQ1, TB_EXP_RQ1_VALID, TB_EXP_RQ2, TB_EXP_RQ2_VALID, TB_EXP_WIN_B, TB_EXP_WIN_OY,
    TB_EXP_WIN_OX, TB_EXP_WIN_KY, TB_EXP_WIN_KX, TB_EXP_WIN_S, TB_EXP_WIN_PAD, TB_EXP_MISMATCH,
    TB_EXP_MISMATCH_PORTS, TB_EXP_CYCLE, TB_EXP_COUNT
};

typedef struct tb_cosim {
    mpq_dut *dut;
    mpq_hwcfg hw;
    uint64_t cycle;   /* cycles stepped */
    int traceable;    /* the traced build: it can write a waveform (tb_cosim_trace_start) */
    int traced;       /* a waveform is written: expected values and flags go into it */
    int whitebox;     /* compare the white-box registers every cycle */
    mpq_cm *shadow;   /* the golden cycle model on the same inputs (whitebox or traced) */
    /* The last step, for reports: where the shadow model was in it, and the registers the
     * edge that ended it left in the model (expected) and in the RTL (actual). */
    mpq_cm_where where;
    mpq_cm_regs exp_regs, act_regs;
    int wb[TB_WB_COUNT];           /* port numbers (white-box) */
    int exp[TB_EXP_COUNT];         /* port numbers (traced) */
    int exp_out[MPQ_OUT_COUNT];    /* the wrapper's exp_<field> of each compared output (traced) */
    int counts_port;               /* dbg_counts_o (white-box and traced builds), else -1 */
} tb_cosim;

/* The configuration the RTL of this binary was built with (its hwcfg_o port). Returns 0, or
 * 2 with err saying why (out of memory, another contract version). */
int tb_rtl_config(mpq_hwcfg *hw, char *err, size_t errlen);
/* A DUT in its power-on state (random bits from init_seed in its registers) whose RTL must
 * have been built with hw (what: the vector file or test that asks for it, named in the
 * message); whitebox: compare the white-box registers (the binary must be a white-box build).
 * Returns 0, or 2 with err. */
int tb_cosim_open(tb_cosim *c, const mpq_hwcfg *hw, int whitebox, uint64_t init_seed,
                  const char *what, char *err, size_t errlen);
void tb_cosim_close(tb_cosim *c);
/* From the next step on (traced build, once its waveform is open: mpq_dut_trace_open), the
 * golden model's expected outputs, registers and window position go into the wrapper's
 * inputs beside the DUT's. The shadow model that supplies the registers is the white-box
 * one, else a new one: in the reset state (from cycle 0), or a copy of `model` (the stimulus
 * generator's, in the cycle the next step runs: a snapshot's process). Returns 0, or 2 with
 * err (not a traced build, out of memory). */
int tb_cosim_trace_start(tb_cosim *c, const mpq_cm *model, char *err, size_t errlen);
/* One cycle: inputs in, outputs into act, compared with exp, then the rising edge. Returns
 * the mismatch mask: tb_compare's bits, TB_P_ASSERT when an SV assertion failed at the edge
 * that ended the cycle (assertions belong to the cycle whose edge raised them), and in
 * white-box mode the registers that differ after that edge. */
uint32_t tb_cosim_step(tb_cosim *c, const mpq_port_in *in, const mpq_port_out *exp, mpq_port_out *act);
/* The RTL's access counters now (dbg_counts_o: the white-box and traced builds), v[MPQ_CNT_*].
 * Returns 1, or 0 when this build has none (the plain build). */
int tb_cosim_counts(const tb_cosim *c, uint64_t v[MPQ_CNT_COUNT]);
/* Compares the RTL's access counters with the golden cycle model's (model: the shadow model or
 * the stimulus generator's, on the same inputs since the same reset). Returns 0 when every
 * counter is equal (or this build has none: *compared 0), else 1 with the first difference in
 * why ("access counter macs_live: RTL 120, cycle model 128"). v: the RTL's counts. */
int tb_cosim_counts_check(const tb_cosim *c, const mpq_cm *model, uint64_t v[MPQ_CNT_COUNT], int *compared,
                          char *why, size_t len);

#endif
