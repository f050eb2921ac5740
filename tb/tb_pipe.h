/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tb_pipe.h: a stimulus source (vector file reader or golden generator) running in its own
 * thread, blocks of cycles ahead of the thread that clocks the DUT.
 *
 * The source never depends on what the DUT does (replay reads a file; lockstep's driver
 * follows the golden cycle model's ready signals), so it can run ahead: the cycles, their
 * order and their contents are exactly those of calling the source directly; only the
 * wall-clock time changes. The consumer sees the source's return codes in the same order
 * (1 per cycle, then 0 at the end or a negative error), and after an error the source's
 * own error message is safe to read (the producer has stopped touching it).
 */
#ifndef TB_PIPE_H
#define TB_PIPE_H

#include "cycle/mpq_top.h"

/* One cycle from the source: 1 cycle, 0 end, negative error (mpq_gen_next's codes).
 * `where` may be left alone when the source has no cycle model (replay). */
typedef int (*tb_pipe_fn)(void *ctx, mpq_port_in *in, mpq_port_out *exp, mpq_cm_where *where);

typedef struct tb_pipe tb_pipe;

/* Starts the producer thread on `fn(ctx, ...)` for buses of configuration hw. Returns 0, or
 * MPQ_ENOMEM when memory or the thread could not be had (the caller then runs the source
 * directly). */
int tb_pipe_start(const mpq_hwcfg *hw, tb_pipe_fn fn, void *ctx, tb_pipe **out);
/* The next cycle; returns as fn did. in / exp must hold the previous cycle's values (the
 * caller keeps them between calls): only the buses that changed are written, the first
 * call of a pipe writes all of them (the words of each bus for hw). */
int tb_pipe_next(tb_pipe *p, mpq_port_in *in, mpq_port_out *exp);
/* Where the source's cycle model was in the cycle tb_pipe_next last returned (as filled by
 * fn). For reports, read only on a mismatch: the records stay with the producer otherwise. */
void tb_pipe_where(const tb_pipe *p, mpq_cm_where *where);
/* Snapshots (tb/tb_snap.h): the producer finishes the block it is filling and stops (joined:
 * no other thread then runs); the cycles it made are still returned by tb_pipe_next. */
void tb_pipe_pause(tb_pipe *p);
/* 1 when every cycle the producer made has been returned (after tb_pipe_pause: fn's source is
 * then at the cycle the consumer takes next). */
int tb_pipe_drained(const tb_pipe *p);
/* A new producer thread after tb_pipe_pause, from where the source is. Returns 0, or
 * MPQ_ENOMEM when the thread could not be started (the caller then calls the source). */
int tb_pipe_resume(tb_pipe *p);
/* Stops the producer (wherever it is), joins it and frees p. NULL is fine. */
void tb_pipe_stop(tb_pipe *p);
/* Whether a producer thread is worth having: more than one processor online. */
int tb_pipe_useful(void);

#endif
