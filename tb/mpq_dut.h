/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_dut.h: the Verilated accelerator behind a C API (the only C++ in the harness is its
 * implementation, tb/mpq_dut.cpp). One build per RTL configuration; the traced build wraps
 * mpq_top in tb/mpq_tb_top.sv, whose extra inputs carry the expected outputs and a per-cycle
 * mismatch flag into the waveform beside the DUT's own signals.
 *
 * A cycle c is: mpq_dut_eval (apply inputs, settle, read outputs), compare, then
 * mpq_dut_tick (the rising edge that ends it). In a waveform (traced build), cycle c spans
 * times 10c .. 10c+9: at 10c the clock rises (the edge that ended cycle c-1) and the inputs,
 * the expected values and the DUT's outputs and registers of cycle c appear together; the clock
 * falls at 10c+5.
 */
#ifndef MPQ_DUT_H
#define MPQ_DUT_H

#include <stdint.h>

#include "cycle/mpq_top.h"
#include "contract/mpq_hw.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mpq_dut mpq_dut;

/* A model in its power-on state: registers without a reset value, and those with one until
 * the first reset, hold random bits drawn from init_seed (Verilator's --x-initial unique;
 * the same seed gives the same bits). NULL when out of memory. */
mpq_dut *mpq_dut_new(uint64_t init_seed);
void mpq_dut_free(mpq_dut *d);
/* 1 in the traced build (mpq_dut_trace_* and mpq_dut_set_expected work), 0 otherwise. */
int mpq_dut_traced(void);
/* 1 in the white-box builds (wb and trace: the RTL's dbg_* ports exist and mpq_dut_regs
 * works), 0 otherwise. */
int mpq_dut_whitebox(void);
/* The DUT's white-box registers in the current cycle (after the last edge), in the golden
 * cycle model's terms; white-box builds only (zeroes otherwise). */
void mpq_dut_regs(mpq_dut *d, const mpq_hwcfg *hw, mpq_cm_regs *r);

/* Apply the inputs of the current cycle with the clock low, settle, read every output. */
void mpq_dut_eval(mpq_dut *d, const mpq_port_in *in, mpq_port_out *out);
/* mpq_dut_eval without reading the outputs: the bare loop of the benchmark (mpq-tb --bare). */
void mpq_dut_apply(mpq_dut *d, const mpq_port_in *in);
/* The rising edge that ends the current cycle. */
void mpq_dut_tick(mpq_dut *d);
/* The constant hwcfg_o port. */
void mpq_dut_hwcfg(mpq_dut *d, uint32_t words[MPQ_HWCFG_WORDS]);
/* 1 once an SV assertion of the DUT has failed (Verilator printed its message). */
int mpq_dut_assert_failed(const mpq_dut *d);

/* Traced build only. Expected outputs and registers, where the golden window generator is,
 * mismatch bit mask and cycle number shown in the waveform for the current cycle (call
 * between eval and tick). */
void mpq_dut_set_expected(mpq_dut *d, const mpq_hwcfg *hw, const mpq_port_out *exp,
                          const mpq_cm_regs *regs, const mpq_cm_where *w, uint32_t mismatch,
                          uint64_t cycle);
/* Opens an FST file; dumping happens in eval/tick while it is open and enabled. 0 or -1. */
int mpq_dut_trace_open(mpq_dut *d, const char *path);
void mpq_dut_trace_enable(mpq_dut *d, int on);
void mpq_dut_trace_close(mpq_dut *d);

#ifdef __cplusplus
}
#endif
#endif
