/* SPDX-License-Identifier: Apache-2.0 */
/* tb_report.h: results of one co-simulation test, and the files a mismatch leaves behind
 * (report.txt, report.json, wave.gtkw), JUnit XML. Internal to the testbench. */
#ifndef TB_REPORT_H
#define TB_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "contract/mpq_hw.h"
#include "tb_cosim.h"
#include "tb_util.h"
#include "stim/mpq_gen.h"
#include "stim/mpq_vec.h"

#define TB_MAX_RECORDED 16

typedef struct tb_mismatch {
    uint64_t cycle;
    uint32_t ports;
    mpq_port_in in;
    mpq_port_out exp, act;
    mpq_cm_where where;
    int have_where;
    mpq_cm_regs exp_regs, act_regs; /* white-box mode: the registers after the cycle's edge */
    int have_regs;
} tb_mismatch;

typedef struct tb_result {
    char name[300];
    char file[1024];     /* replay: the vector file */
    char repro[2048];
    char error[2048];
    char trace_dir[1400];
    char trace_note[1200];
    int have_wave;       /* wave.fst and wave.gtkw were written into trace_dir */
    mpq_vec_header h;
    uint64_t cycles, mismatches;
    double seconds;
    int have_counts;     /* the RTL's access counters were compared with the cycle model's */
    uint64_t counts[MPQ_CNT_COUNT];
    /* run_test clears what comes before mis, and each record as it is filled. */
    tb_mismatch mis[TB_MAX_RECORDED];
    uint64_t trace_lo, trace_hi;
} tb_result;

typedef struct tb_summary {
    unsigned passed, failed, errors;
} tb_summary;

/* Fills mis[0].where by running the golden cycle model over the file's inputs. */
int tb_where_from_file(const char *path, tb_result *r, char *err, size_t errlen);
/* Human report (also report.txt). */
void tb_print_report(FILE *f, const tb_result *r);
/* One line: "cycle C: out_data_o lane 2 (channel 10) expected -5, got 7". */
void tb_short(const tb_result *r, char *buf, size_t len);
/* report.txt and report.json in dir (atomically). */
int tb_write_reports(const char *dir, const tb_result *r, unsigned before, unsigned after);
/* wave.gtkw in dir: DUT ports beside expected values, marker on the mismatch. */
int tb_write_gtkw(const char *dir, const tb_result *r, uint64_t mismatch_cycle);

/* One JSON line for a test into f (mpq-tb --results), flushed: {"test", "status" (passed,
 * failed, error), "cycles", "seconds", "seed", "timing_seed", "source", and "first_cycle" of
 * a mismatch or "error"}. No-op when f is NULL. */
void tb_results_line(FILE *f, const tb_result *r, const char *status);


#endif
