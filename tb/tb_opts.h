/* SPDX-License-Identifier: Apache-2.0 */
/* tb_opts.h: mpq-tb's command line (`mpq-tb --help`). */
#ifndef TB_OPTS_H
#define TB_OPTS_H

#include <stdint.h>
#include <stdio.h>

#include "tb_source.h"

typedef struct tb_opts {
    int replay;                 /* 1 replay files, 0 lockstep */
    char **files;               /* replay: the vector files (owned) */
    int nfiles;
    /* lockstep */
    uint64_t seed;
    int have_seed;
    unsigned runs;
    uint64_t min_cycles;        /* --cycles: run layers until this many cycles */
    tb_lockstep_args layer;
    /* both */
    uint64_t bare_repeat;       /* --bare R: the benchmark's bare loop, R passes */
    int inject_hold;            /* --inject-hold: break the stream rules once */
    int whitebox;               /* --whitebox: compare the RTL's registers every cycle too */
    int stats;                  /* --stats: print what the stimulus exercised */
    int source_thread;          /* -1 auto, 0 off, 1 on */
    unsigned max_mismatches;
    const char *trace_dir;      /* parent of per-test trace folders */
    const char *trace_bin;
    const char *trace_build;    /* shell command that builds trace_bin, run on the first mismatch */
    const char *junit;
    const char *results;        /* --results FILE: one JSON line per test, appended */
    const char *config_file;
    const char *name;           /* test name prefix */
    unsigned before, after;     /* waveform window */
    int quiet;
    /* internal: the traced re-simulation of a mismatch */
    int trace_mode;
    uint64_t trace_at;
    const char *trace_out;      /* folder of this test's trace */
} tb_opts;

void tb_usage(FILE *f);
/* Parses argv into o. Returns 0 to run, 1 after printing --help (exit 0), 2 on a usage error
 * (the message is printed). tb_opts_free releases what it allocated. */
int tb_opts_parse(int argc, char **argv, tb_opts *o);
void tb_opts_free(tb_opts *o);

#endif
