/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tb_net.h: mpq-tb net MODEL.tflite (`mpq-tb net --help`): an int8 TFLite model with every
 * CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED layer on the Verilated accelerator and every
 * other operator on the host (the golden model), as mpq-golden model map runs it on the golden
 * cycle model (golden/net/mpq_netrun.h). The RTL executor drives each hardware layer the way
 * lockstep does (tb_source_layer: the golden driver and cycle model, valid gaps and
 * back-pressure from a printed seed), compares every output port in every cycle
 * (tb_cosim_step), and collects the outputs from out_data_o; mpq_netrun compares every gathered
 * layer output with the golden model, and the model's final output is compared with the golden
 * model's run of the whole model (TensorFlow Lite Micro's arithmetic: make models/golden).
 *
 * A mismatch leaves the usual trace folder (report.txt, report.json, the layer's cycles as the
 * DUT saw them in layer.vec, wave.fst and wave.gtkw from the traced build's replay of it); the
 * report names the model, the operator, its output tensor and element (n, y, x, c), the cycle,
 * the lane and its MACs' step, and the command that reproduces it.
 */
#ifndef TB_NET_H
#define TB_NET_H

#include <stddef.h>

#include "tb_opts.h"
#include "tb_report.h"
#include "tb_snap.h"

/* mpq-tb net: argv[1] is "net". Returns the exit status: 0 every layer and the final output
 * equal, 1 a mismatch (reported), 2 bad input or a layer this configuration cannot run. */
int tb_net_main(int argc, char **argv);

/* mpq_tb.c's waveform of a failed test (res: its first mismatch; o->replay with res->file, or
 * its lockstep run) into trace_out: wave.fst and wave.gtkw, from the newest of snap's snapshots
 * before the window (tb_snap.h; NULL: none), else from a traced re-run from cycle 0. Returns
 * 0, or -1 with note saying why there is no waveform. */
int tb_make_waveform(const tb_opts *o, const char *self, const tb_result *res, const char *trace_out,
                     tb_snap *snap, char *note, size_t notelen);

#endif
