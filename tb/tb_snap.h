/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tb_snap.h: snapshots of a running lockstep test, so that a late mismatch's waveform does
 * not cost a second run from cycle 0 (XiangShan difftest's LightSSS: fork the simulator now
 * and then, keep the last children paused, wake one on a failure).
 *
 * Every N cycles or seconds (--snapshot-every) the testbench forks. The child is the whole
 * test at that cycle, copy-on-write: the Verilated model, the stimulus generator with its
 * golden cycle model and random state. Before the fork the source thread is stopped and the
 * cycles it made ahead are consumed (tb_source_pause), so the child has one thread and its
 * generator is at the child's cycle; the parent restarts the thread at once. The child blocks
 * on a socket; the last two are kept (an older one is killed and reaped when a new one is
 * made, all of a test's when it ends), and each dies with the parent (PR_SET_PDEATHSIG).
 *
 * On a mismatch at cycle M, the newest snapshot at or before M - window-before is woken: it
 * opens the FST (the traced build: its model can write one from any cycle), starts the
 * waveform's golden registers from a copy of the generator's cycle model, runs to M +
 * window-after, writes wave.fst and wave.gtkw (each through a temporary file and a rename)
 * and exits 1 when its first mismatch is at M. It writes nothing else (no results, JUnit or
 * report: only the parent does; its standard output goes to /dev/null) and leaves with _exit.
 * Without such a snapshot (none taken yet, the mismatch too early, the child gone, a replay
 * test) the caller falls back to the traced re-run from cycle 0.
 */
#ifndef TB_SNAP_H
#define TB_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "tb_report.h"
#include "tb_source.h"

/* What a woken snapshot writes: cycles lo..hi into dir/wave.fst, first mismatch at `at`. */
typedef struct tb_snap_order {
    uint64_t lo, hi, at;
    char dir[1200];
} tb_snap_order;

typedef struct tb_snap tb_snap;

/* Snapshots every `seconds` of the test's time or every `cycles` cycles (one of them; both 0:
 * none, NULL is returned, as when out of memory). */
tb_snap *tb_snap_new(double seconds, uint64_t cycles);
/* Drops every snapshot (killed, reaped) and frees s; NULL is fine. */
void tb_snap_free(tb_snap *s);
/* A test starts at cycle 0: the previous test's snapshots are dropped. Returns the cycle at
 * which to call tb_snap_poll first (UINT64_MAX for s NULL). */
uint64_t tb_snap_begin(tb_snap *s);
/* Between cycles: c cycles of the test have run. Takes a snapshot when one is due (pausing
 * src first, over as many calls as its thread needs to hand over what it made ahead).
 * Returns 0 with *next the cycle of the next call; or 1 in a woken snapshot's process, with
 * *order what to write (the process must end in tb_snap_exit). */
int tb_snap_poll(tb_snap *s, uint64_t c, tb_source *src, uint64_t *next, tb_snap_order *order);
/* The parent, after a mismatch: wakes the newest snapshot at or before order->lo and waits for
 * it. Returns 0 when it wrote wave.fst and wave.gtkw and saw the first mismatch at order->at
 * (*from: the snapshot's cycle, *seconds its wall time); -1 otherwise, with note saying why
 * ("" when there was no snapshot to wake). */
int tb_snap_wake(tb_snap *s, const tb_snap_order *order, uint64_t *from, double *seconds, char *note,
                 size_t notelen);
/* The end of a woken snapshot: wave.gtkw for res (wave.fst was written: `wave_ok`), and the
 * exit status the parent reads: 1 reproduced at order->at, 3 not, 2 an error. */
_Noreturn void tb_snap_exit(const tb_snap_order *order, const tb_result *res, int status, int wave_ok);

#endif
