/* SPDX-License-Identifier: Apache-2.0 */
/* txn_run.h: one test of the transaction-level check (txn.h): its layers, the cycle loop over
 * the model's frames, and what it found. Internal to the testbench. */
#ifndef TXN_RUN_H
#define TXN_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "dut/mpq_beats.h"
#include "dut/mpq_desc.h"
#include "dut/mpq_job.h"
#include "txn_opts.h"

/* Streams wider than this many words are refused. */
#define TXN_MAX_WORDS 256u

typedef enum txn_kind {
    TXN_F_DATA = 0,   /* an output beat's compared bits differ */
    TXN_F_LAST,       /* its last differs */
    TXN_F_EXTRA,      /* an output beat after the last one expected */
    TXN_F_DROP,       /* an output stream dropped valid before its handshake */
    TXN_F_HOLD,       /* an output stream changed data or last before its handshake */
    TXN_F_ASSERT,     /* an SV assertion of the DUT failed */
    TXN_F_DEADLOCK,   /* no beat on any stream for --deadlock cycles */
    TXN_F_LATENCY,    /* a layer took longer than --max-latency */
    TXN_F_UNTAKEN,    /* the outputs are complete but input beats were never taken */
    TXN_F_COUNT
} txn_kind;

typedef struct txn_failure {
    txn_kind kind;
    uint64_t cycle;          /* the cycle it happened in (cycles count from 0, the first reset cycle) */
    int stream;              /* the stream (index in the description), -1 none */
    unsigned job;            /* the layer of the beat */
    uint64_t beat;           /* the beat within its layer's beats on the stream */
    uint64_t run_beat;       /* and within the test's */
    uint64_t value;          /* DEADLOCK: cycles without a beat; LATENCY: the layer's cycles;
                              * UNTAKEN: the beats left */
    uint32_t exp[TXN_MAX_WORDS], act[TXN_MAX_WORDS], care[TXN_MAX_WORDS];
    int exp_last, act_last;
} txn_failure;

/* A stream's progress when the test stopped. */
typedef struct txn_progress {
    uint64_t taken, total;
    int valid, ready;
} txn_progress;

typedef struct txn_result {
    char name[300];
    char repro[2048];
    char error[2048];
    char trace_dir[1400];
    char trace_note[1200];
    int have_wave; /* wave.fst and wave.gtkw were written into trace_dir */
    const char *file;         /* case / model file, or NULL */
    uint64_t seed;            /* the test's seed: layers and timing */
    double p_valid, p_ready;
    uint64_t cycles;
    double seconds;
    unsigned failures;        /* counted; the first is f */
    txn_failure f;
    txn_progress prog[MPQ_DESC_MAX_STREAMS];
    uint64_t trace_lo, trace_hi; /* the traced re-run's window */
} txn_result;

/* One test's layers. */
typedef struct txn_jobs {
    unsigned n;
    mpq_job *job;
    mpq_beats **beats;
} txn_jobs;

/* The layers of test t: random (test seed `seed`, o->jobs layers), case file, or (model mode)
 * `given`, a model operator's job made beforehand, taken over (zeroed). hw: mpq's configuration
 * for codec mpq (else NULL). Returns 0, or 2 with err. */
int txn_jobs_make(const mpq_desc *d, const mpq_hwcfg *hw, const txn_opts *o, uint64_t seed, unsigned t,
                  mpq_job *given, txn_jobs *js, char *err, size_t errlen);
void txn_jobs_free(txn_jobs *js);

/* The streams' ports in this binary's model; checked once. Returns 0 or 2 with err. */
int txn_check_model(const mpq_desc *d, char *err, size_t errlen);

/* Runs one test of jobs on a fresh DUT (power-on state from `seed`), timing from `seed` and o.
 * Returns 0 passed, 1 failed (res->f), 2 an error (res->error). */
int txn_run_test(const mpq_desc *d, const txn_opts *o, const txn_jobs *js, uint64_t seed, txn_result *res);

/* The report of a failed test: printed, and into dir (report.txt, report.json); the GTKWave save
 * file of the traced re-run (wave.gtkw). */
void txn_print_report(FILE *f, const mpq_desc *d, const txn_jobs *js, const txn_result *r);
void txn_short(const mpq_desc *d, const txn_jobs *js, const txn_result *r, char *buf, size_t len);
int txn_write_reports(const char *dir, const mpq_desc *d, const txn_jobs *js, const txn_result *r,
                      unsigned before, unsigned after);
int txn_write_gtkw(const char *dir, const mpq_desc *d, const txn_result *r, uint64_t cycle);
const char *txn_kind_name(txn_kind k);

#endif
