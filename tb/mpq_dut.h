/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_dut.h: a Verilated DUT behind a C API. Its implementation is generated: `mpq-golden dut
 * shim` writes, from the DUT's description (golden/dut/mpq_desc.h, docs/dut.md) and the
 * Verilated model's header, the design's part of a C++ shim, which includes the fixed runtime
 * tb/dut_runtime.h (tb/build-model.sh builds both into every testbench). No C++ is written by
 * hand per design.
 *
 * The model's ports are numbered in the order of the Verilated model's declaration. The
 * testbench reaches them three ways:
 *   - frames: every input but the clock as words at fixed offsets of one array (the port's
 *     `offset`; a port of W bits takes MPQ_WORDS(W) words, word 0 holding bits 31..0), every
 *     output likewise in another; mpq_dut_put_frame / mpq_dut_get_frame copy all of them
 *     (the transaction-level testbench);
 *   - one port by number (mpq_dut_put / mpq_dut_get): the debug and wrapper ports;
 *   - the C structs a description binds (`bind`: mpq's contract/mpq_ports.h), field by field
 *     (mpq_dut_apply / mpq_dut_eval): the cycle-exact testbench's hot path.
 *
 * A cycle c is: inputs applied and settled (mpq_dut_put_frame + mpq_dut_settle, or
 * mpq_dut_apply), outputs read, compared, then mpq_dut_tick (the rising edge that ends it). In
 * a waveform (traced build), cycle c spans times 10c .. 10c+9: at 10c the clock rises (the edge
 * that ended cycle c-1) and the inputs, the expected values and the DUT's outputs and registers
 * of cycle c appear together; the clock falls at 10c+5.
 */
#ifndef MPQ_DUT_H
#define MPQ_DUT_H

#include <stddef.h>
#include <stdint.h>

#include "contract/mpq_hw.h" /* mpq_port_in, mpq_port_out (contract/mpq_ports.h) */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mpq_dut mpq_dut;

/* A port of the model. */
typedef struct mpq_dut_port {
    const char *name;
    int out;          /* 1: an output of the model */
    unsigned width;   /* bits */
    unsigned offset;  /* its first word in the frame of its direction; the clock has none */
    int clock;        /* 1 for the clock (driven by mpq_dut_settle / mpq_dut_tick) */
} mpq_dut_port;

/* ---- what this binary's model is ---------------------------------------------------------- */
/* The description the shim was generated from (its text and path) and the parameter
 * overrides of the build ("Name=Value"): mpq_desc_parse of them gives the description the
 * model was built with. */
const char *mpq_dut_desc_text(void);
const char *mpq_dut_desc_path(void);
const char *const *mpq_dut_desc_params(unsigned *n);
/* The build kind: "plain", "wb", "trace", "cov", "gls". */
const char *mpq_dut_build(void);
/* The scope of the top module in a waveform ("TOP.mpq_top", a wrapper's in a traced build). */
const char *mpq_dut_top_scope(void);
size_t mpq_dut_nports(void);
const mpq_dut_port *mpq_dut_ports(void);
/* The number of port `name`, or -1. */
int mpq_dut_port_find(const char *name);
/* The words of the input (out 0) or output (out 1) frame. */
unsigned mpq_dut_frame_words(int out);
/* 1 in a traced build (FST: mpq_dut_trace_*), 0 otherwise. */
int mpq_dut_traced(void);
/* 1 in a white-box build (mpq's dbg_* ports: wb and trace), 0 otherwise. */
int mpq_dut_whitebox(void);

/* ---- the model ------------------------------------------------------------------------------ */
/* A model in its power-on state: reset inactive, tied inputs at their values; registers without
 * a reset value, and those with one until the first reset, hold random bits drawn from
 * init_seed (Verilator's --x-initial unique; the same seed gives the same bits). NULL when out
 * of memory. */
mpq_dut *mpq_dut_new(uint64_t init_seed);
void mpq_dut_free(mpq_dut *d);

/* Port `port` from words (bits above its width ignored), or into words. */
void mpq_dut_put(mpq_dut *d, size_t port, const uint32_t *w);
void mpq_dut_get(const mpq_dut *d, size_t port, uint32_t *w);
/* Every input but the clock from the input frame (mpq_dut_frame_words(0) words); every output
 * into the output frame. */
void mpq_dut_put_frame(mpq_dut *d, const uint32_t *in);
void mpq_dut_get_frame(const mpq_dut *d, uint32_t *out);
/* Settle the inputs put since the last edge (the clock low). */
void mpq_dut_settle(mpq_dut *d);
/* The rising edge that ends the current cycle. */
void mpq_dut_tick(mpq_dut *d);
/* 1 once an SV assertion of the DUT has failed (Verilator printed its message). */
int mpq_dut_assert_failed(const mpq_dut *d);

/* ---- the struct binding (descriptions with `bind mpq_port_in mpq_port_out ...`) ------------- */
/* Apply the inputs of the current cycle, settle (mpq_dut_put_frame + mpq_dut_settle for the
 * struct's fields). */
void mpq_dut_apply(mpq_dut *d, const mpq_port_in *in);
/* mpq_dut_apply, then every output of the struct read. */
void mpq_dut_eval(mpq_dut *d, const mpq_port_in *in, mpq_port_out *out);

/* ---- tracing (traced builds) ------------------------------------------------------------------ */
/* Opens an FST file; dumping happens in settle/tick while it is open and enabled. 0 or -1. */
int mpq_dut_trace_open(mpq_dut *d, const char *path);
void mpq_dut_trace_enable(mpq_dut *d, int on);
void mpq_dut_trace_close(mpq_dut *d);

#ifdef __cplusplus
}
#endif
#endif
