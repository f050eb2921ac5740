/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tb_cosim.h: the Verilated DUT under the testbench, one cycle at a time (Ibex cosim's
 * step() + get_errors()): apply the cycle's inputs, compare every output port with the
 * expected value, clock, and report which ports (and whether an SV assertion) failed.
 * The one per-cycle step of mpq-tb and of the Fashion-MNIST RTL runner.
 */
#ifndef TB_COSIM_H
#define TB_COSIM_H

#include <stddef.h>
#include <stdint.h>

#include "mpq_dut.h"
#include "mpq_hw.h"

/* Output ports compared every cycle; bit i of a mismatch mask. */
enum {
    TB_P_CFG_READY = 0, TB_P_WGT_READY, TB_P_ACT_READY, TB_P_OUT_VALID, TB_P_OUT_DATA,
    TB_P_BUSY, TB_P_DONE, TB_P_OVF, TB_P_ASSERT, TB_P_COUNT
};
extern const char *const tb_port_names[TB_P_COUNT];

/* The ports where actual output a differs from expected e, a bit per TB_P_* (TB_P_ASSERT is
 * the caller's). out_data_o is compared only while out_valid_o is expected (the contract's
 * don't-care), and only within its OutW bits. */
uint32_t tb_compare(const mpq_hwcfg *hw, const mpq_port_out *e, const mpq_port_out *a);

typedef struct tb_cosim {
    mpq_dut *dut;
    mpq_hwcfg hw;
    uint64_t cycle;   /* cycles stepped */
    int traced;       /* the traced build: expected values and flags go to the waveform */
} tb_cosim;

/* The configuration the RTL of this binary was built with (its hwcfg_o port). Returns 0, or
 * 2 with err saying why (out of memory, another contract version). */
int tb_rtl_config(mpq_hwcfg *hw, char *err, size_t errlen);
/* A DUT in its power-on state whose RTL must have been built with hw (what: the vector file
 * or test that asks for it, named in the message). Returns 0, or 2 with err. */
int tb_cosim_open(tb_cosim *c, const mpq_hwcfg *hw, const char *what, char *err, size_t errlen);
void tb_cosim_close(tb_cosim *c);
/* One cycle: inputs in, outputs into act, compared with exp, then the rising edge. Returns
 * the mismatch mask: tb_compare's bits, and TB_P_ASSERT when an SV assertion failed at the
 * edge that ended the cycle (assertions belong to the cycle whose edge raised them). */
uint32_t tb_cosim_step(tb_cosim *c, const mpq_port_in *in, const mpq_port_out *exp, mpq_port_out *act);

#endif
