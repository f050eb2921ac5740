/* SPDX-License-Identifier: Apache-2.0 */
/* tb_opts.h: mpq-tb's command line (`mpq-tb --help`): the layer and timing options the
 * stimulus tools share (mpq_stim_opts, golden/stim/mpq_opts.h) and mpq-tb's own table. */
#ifndef TB_OPTS_H
#define TB_OPTS_H

#include <stdint.h>
#include <stdio.h>

#include "stim/mpq_opts.h"

typedef struct tb_opts {
    int replay;                 /* 1 replay files, 0 lockstep */
    const char **files;         /* replay: the vector files (the array is owned) */
    int nfiles;
    mpq_stim_args stim;         /* the layer and timing options, -q, --stats (stim.given) */
    uint64_t bare_repeat;       /* --bare R: the benchmark's bare loop, R passes */
    int inject_hold;            /* --inject-hold: break the stream rules once */
    uint64_t inject_after;      /* --inject-hold-after C: not before cycle C */
    const char *snapshot_every; /* --snapshot-every N | Ns | 0 (tb/tb_snap.h) */
    double snap_seconds;        /* parsed: seconds between snapshots (0: by cycles or off) */
    uint64_t snap_cycles;       /* parsed: cycles between snapshots (0: by seconds or off) */
    int whitebox;               /* --whitebox: compare the RTL's registers every cycle too */
    int source_thread;          /* -1 auto, 0 off, 1 on */
    unsigned max_mismatches;
    const char *trace_dir;      /* parent of per-test trace folders */
    unsigned keep_traces;       /* --keep-traces: trace folders kept in trace_dir (0: all) */
    const char *trace_bin;
    const char *trace_build;    /* shell command that builds trace_bin, run on the first mismatch */
    const char *junit;
    const char *results;        /* --results FILE: one JSON line per test, appended */
    const char *config_file;
    const char *name;           /* test name prefix */
    unsigned before, after;     /* waveform window */
    /* internal: the traced re-simulation of a mismatch */
    int trace_mode;
    uint64_t trace_at;
    const char *trace_out;      /* folder of this test's trace */
    uint64_t given;             /* bit TB_O_*: the option of mpq-tb's own table was given */
} tb_opts;

/* mpq-tb's own options, in table order (the order the writer writes them in). */
enum {
    TB_O_CONFIG = 0, TB_O_NAME, TB_O_TRACE_DIR, TB_O_KEEP_TRACES, TB_O_INJECT_HOLD, TB_O_WHITEBOX, TB_O_MAX_MISMATCHES,
    TB_O_WINDOW_BEFORE, TB_O_WINDOW_AFTER, TB_O_TRACE_BIN, TB_O_TRACE_BUILD, TB_O_JUNIT, TB_O_RESULTS,
    TB_O_SOURCE_THREAD, TB_O_BARE, TB_O_SNAPSHOT_EVERY, TB_O_INJECT_AFTER, TB_O_TRACE_AT, TB_O_TRACE_OUT,
    TB_O_COUNT
};

/* Parses argv into o. Returns 0 to run, 1 after printing --help (exit 0), 2 on a usage error
 * (the message is printed). tb_opts_free releases what it allocated. */
int tb_opts_parse(int argc, char **argv, tb_opts *o);
void tb_opts_free(tb_opts *o);
/* Appends the options of mpq-tb's own table that are given in o and in mask (bits TB_O_*) to
 * argv (as mpq_opt_write). Returns 0 or -1 when full. */
int tb_opts_write(const tb_opts *o, uint64_t mask, const char **argv, int *argc, int max, char *buf,
                  size_t buflen, size_t *used);

#endif
