/* SPDX-License-Identifier: Apache-2.0 */
/*
 * txn_feed.h: the beats of a transaction-level test (txn_run.h), encoded on a second thread
 * ahead of the thread that clocks the DUT, as tb/tb_pipe.h runs lockstep's stimulus source.
 *
 * Each stream's beats do not depend on what the DUT does: they come in one fixed order, layer
 * after layer, and each stream's encoder state is its own (mpq_beats.h), so the producer can
 * run ahead: the beats and their bits are exactly those of calling mpq_beats_get in the loop;
 * only where the instructions run changes. Internal to the testbench.
 */
#ifndef TXN_FEED_H
#define TXN_FEED_H

#include <stdint.h>

#include "txn_run.h"

typedef struct txn_feed txn_feed;

/* The beats of js on the streams of d. thread: encode them on a producer thread (0: in
 * txn_feed_next, on the caller's thread; also when the thread cannot be started). Returns 0,
 * or MPQ_ENOMEM. js must outlive the feed and nothing else may call mpq_beats_get on it until
 * txn_feed_close. */
int txn_feed_open(const mpq_desc *d, const txn_jobs *js, int thread, txn_feed **out);
/* Stream s's next beat: data (the stream's words), its last bit, and for an output stream the
 * compared bits in care (NULL allowed). The caller asks for no more beats than the stream has
 * (txn_jobs' counts summed over the layers). */
void txn_feed_next(txn_feed *f, unsigned s, uint32_t *data, uint32_t *care, int *last);
/* Stops the producer, joins it and frees f. NULL is fine. */
void txn_feed_close(txn_feed *f);

#endif
