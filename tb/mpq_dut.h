/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_dut.h: the Verilated accelerator behind a C API (the only C++ in the harness is its
 * implementation, tb/mpq_dut.cpp). One build per RTL configuration; the traced build wraps
 * mpq_top in tb/mpq_tb_top.sv, whose extra inputs carry the expected outputs and a per-cycle
 * mismatch flag into the waveform beside the DUT's own signals.
 *
 * A cycle c is: mpq_dut_eval (clk low, apply inputs, settle, read outputs), compare, then
 * mpq_dut_tick (rising edge). In a waveform, cycle c spans times 10c .. 10c+9 and the edge
 * ending it is at 10c+5.
 */
#ifndef MPQ_DUT_H
#define MPQ_DUT_H

#include <stdint.h>

#include "mpq_hw.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mpq_dut mpq_dut;

/* A model in its power-on state. NULL when out of memory. */
mpq_dut *mpq_dut_new(void);
void mpq_dut_free(mpq_dut *d);
/* 1 in the traced build (mpq_dut_trace_* and mpq_dut_set_expected work), 0 otherwise. */
int mpq_dut_traced(void);

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

/* Traced build only. Expected outputs, mismatch bit mask and cycle number shown in the
 * waveform for the current cycle (call between eval and tick). */
void mpq_dut_set_expected(mpq_dut *d, const mpq_port_out *exp, uint32_t mismatch, uint64_t cycle);
/* Opens an FST file; dumping happens in eval/tick while it is open and enabled. 0 or -1. */
int mpq_dut_trace_open(mpq_dut *d, const char *path);
void mpq_dut_trace_enable(mpq_dut *d, int on);
void mpq_dut_trace_close(mpq_dut *d);

#ifdef __cplusplus
}
#endif
#endif
