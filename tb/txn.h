/* SPDX-License-Identifier: Apache-2.0 */
/*
 * txn.h: the transaction-level check (issue 27, item 2), for an accelerator without a cycle
 * model. Its DUT is whatever this binary's model is (tb/mpq_dut.h); its description (compiled
 * in) says how layers become beats. A test resets the DUT, then drives every input stream with
 * the beats of one or more layers, one after the other, each beat offered with random valid
 * gaps and held until its handshake; it takes each output stream's beats under random
 * back-pressure and compares them, in order, with the beats the golden model's output tensors
 * give (latency free: only the order of the beats on each stream is fixed). It fails on:
 *   - a beat whose compared bits or last differ (the report names the tensor element, its beat
 *     and the cycle), or an output beat after the last one expected;
 *   - an output stream that breaks the stream rules (valid dropped, or data / last changed,
 *     before the handshake);
 *   - an SV assertion of the DUT;
 *   - no beat on any stream (input taken or output given) for --deadlock cycles while output
 *     beats are still expected (deadlock: a DUT busy taking a large layer's inputs is not);
 *   - a layer whose last output beat comes more than --max-latency cycles after its first
 *     input beat (when given).
 * A failure writes a trace folder as mpq-tb does (report.txt, report.json, and from a traced
 * re-run of the same test, wave.fst and wave.gtkw around the failing cycle). Every random choice
 * comes from the printed seeds; the same seeds give the same cycles.
 *
 * mpq-txn is the program for any described DUT (tb/txn_main.c); mpq-tb txn runs it on mpq's own
 * accelerator (codec mpq).
 */
#ifndef TXN_H
#define TXN_H

#include <stdint.h>

#include "stim/mpq_opts.h"

/* The command line: [random] [options] | case FILE... | model FILE.tflite, from argv[1] on;
 * argv[0] is the program; sub, when not NULL, the subcommand that reaches it (mpq-tb's "txn"),
 * given again in reproduce lines and the traced re-run. Returns the exit status: 0 every test
 * passed, 1 one failed, 2 an error (bad options, a layer the DUT cannot run, nothing run). */
int txn_main(int argc, char **argv, const char *sub);

#endif
