/* SPDX-License-Identifier: Apache-2.0 */
/* txn_opts.h: the command line of the transaction-level check (txn.h): the layer and timing
 * options the stimulus tools share (golden/stim/mpq_opts.h) and a table of its own. */
#ifndef TXN_OPTS_H
#define TXN_OPTS_H

#include <stdint.h>

#include "stim/mpq_opts.h"

typedef enum txn_mode { TXN_RANDOM = 0, TXN_CASE, TXN_MODEL } txn_mode;

typedef struct txn_opts {
    txn_mode mode;
    const char **files;         /* case: the mpq-case files; model: the .tflite (the array is owned) */
    int nfiles;
    mpq_stim_args stim;         /* --seed, --runs, --cycles, the layer options, --p-valid, --p-ready, -q */
    unsigned jobs;              /* --jobs: layers per random test, back to back */
    const char *ops;            /* --ops: model mode, the operators to run (default every conv/fc) */
    uint64_t deadlock;          /* --deadlock: cycles without a beat on any stream */
    uint64_t max_latency;       /* --max-latency: 0 none */
    unsigned max_mismatches;
    unsigned tail;              /* --tail: idle cycles checked after the last beat */
    int source_thread;          /* --source-thread: -1 auto, 0 off, 1 on (the beats' thread) */
    const char *name, *trace_dir, *trace_bin, *trace_build, *junit, *results;
    unsigned before, after;     /* waveform window */
    /* internal: the traced re-run of a failure */
    int trace_mode;
    uint64_t trace_at;
    const char *trace_out;
    uint64_t given;             /* bit TXN_O_*: given */
} txn_opts;

/* The table's entries, in table order (the order the writer writes them in). */
enum {
    TXN_O_JOBS = 0, TXN_O_OPS, TXN_O_DEADLOCK, TXN_O_MAX_LATENCY, TXN_O_TAIL, TXN_O_NAME, TXN_O_TRACE_DIR,
    TXN_O_MAX_MISMATCHES, TXN_O_WINDOW_BEFORE, TXN_O_WINDOW_AFTER, TXN_O_TRACE_BIN, TXN_O_TRACE_BUILD,
    TXN_O_JUNIT, TXN_O_RESULTS, TXN_O_SOURCE_THREAD, TXN_O_TRACE_AT, TXN_O_TRACE_OUT, TXN_O_COUNT
};
/* The stimulus options it takes (bits MPQ_SO_*). */
#define TXN_STIM_MASK                                                                                        \
    ((1ull << MPQ_SO_SEED) | (1ull << MPQ_SO_RUNS) | (1ull << MPQ_SO_CYCLES) | (1ull << MPQ_SO_LAYER) |       \
     (1ull << MPQ_SO_SHAPE) | (1ull << MPQ_SO_M) | (1ull << MPQ_SO_K) | (1ull << MPQ_SO_N) |                 \
     (1ull << MPQ_SO_HP_N) | (1ull << MPQ_SO_ACC) | (1ull << MPQ_SO_PROFILE) | (1ull << MPQ_SO_P_VALID) |    \
     (1ull << MPQ_SO_P_READY) | (1ull << MPQ_SO_QUIET))

/* Parses argv into o (self names the program in messages and --help). Returns 0 to run, 1
 * after printing --help, 2 on a usage error (printed). txn_opts_free releases the file list. */
int txn_opts_parse(int argc, char **argv, const char *self, txn_opts *o);
void txn_opts_free(txn_opts *o);
/* The arguments that run test `seed` (random mode) or file `file` alone again, with the options
 * of both tables given in o and in the masks (stim: bits MPQ_SO_*, own: bits TXN_O_*): appended
 * to argv[*argc..] (at most max, NULL-terminated), their text in buf[*used..]. 0 or -1 (full). */
int txn_opts_argv(const txn_opts *o, uint64_t seed, const char *file, uint64_t stim_mask, uint64_t own_mask,
                  const char **argv, int *argc, int max, char *buf, size_t buflen, size_t *used);

#endif
