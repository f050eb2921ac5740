/* SPDX-License-Identifier: Apache-2.0 */
/* tb_util.h: what the cycle-exact (mpq-tb) and the transaction-level (mpq-txn) testbenches share:
 * the clock of their timings, files written atomically, JSON strings, JUnit XML, trace folders
 * and the last-run record that `make wave` reads, command lines, the traced re-run of a failed
 * test. */
#ifndef TB_UTIL_H
#define TB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stim/mpq_opts.h"

/* Seconds of wall time (a monotonic clock); with MPQ_TB_CPU_TIME set in the environment, of
 * the process's CPU time instead (make bench: on a shared host, time stolen by other tenants
 * is then not counted). */
double tb_now_s(void);

/* dir/name through dir/name.tmp: tb_open_tmp opens the temporary file (fin gets the final
 * name), tb_close_tmp closes it and renames it into place (0), or removes it (-1). */
FILE *tb_open_tmp(const char *dir, const char *name, char *tmp, size_t tlen, char *fin, size_t flen);
int tb_close_tmp(FILE *f, const char *tmp, const char *fin);
/* dir/wave.gtkw opened through tb_open_tmp (tmp and fin as there), its head written: the
 * comment line "[*] " and the formatted title, the dump and save files by absolute path, the
 * view from 20 cycles before cycle c (not before lo; 10 time units a cycle) with a marker at c,
 * and the panes' sizes. The caller writes the signals and closes it with tb_close_tmp. NULL
 * when it cannot be opened. */
#if defined(__GNUC__)
__attribute__((format(printf, 8, 9)))
#endif
FILE *tb_gtkw_open(const char *dir, char *tmp, size_t tlen, char *fin, size_t flen, uint64_t c,
                   uint64_t lo, const char *fmt, ...);
/* The end of a tool's --help: the option lines of the sets (mpq_opt_help), then `exits`, the
 * text on its exit statuses. */
void tb_print_options(FILE *f, const mpq_opt_set *sets, size_t nsets, const char *exits);
/* s as a JSON string, quotes included. */
void tb_json_str(FILE *f, const char *s);
/* argv[0..argc) joined by blanks into buf, each as tb_shell_word writes it. */
void tb_join_cmd(char *buf, size_t len, int argc, char **argv);
/* s as one shell word at buf (len bytes, cut to fit): as it is when it holds only letters,
 * digits and -_./=:,+@%, else in single quotes (a ' as '\''), so that a printed command runs
 * as it ran. Returns the characters written. */
size_t tb_shell_word(char *buf, size_t len, const char *s);

/* A test's trace folder and the files in it (report.txt, report.json, wave.fst, wave.gtkw and
 * their temporaries) removed. */
void tb_remove_trace_dir(const char *dir);
/* Removes the folder set by tb_cleanup_dir (NULL: none) when SIGINT or SIGTERM arrives while it
 * is being written, then exits 128 + the signal. */
void tb_cleanup_on_signal(void);
void tb_cleanup_dir(const char *dir);
/* Every character of s outside [A-Za-z0-9._-] becomes '_' (a test name as a folder name). */
void tb_sanitize(char *s);
/* mkdir -p. 0 or -1. */
int tb_mkdir_p(const char *path);
/* Removes the oldest trace folders of trace_dir (sub-folders holding a report.txt or
 * report.json, oldest by that file's time) so that at most `keep` remain, never one that
 * `current` lists (`trace: DIR` lines: this run's, whatever their number), never one that
 * holds anything but a trace's files (tb_remove_trace_dir's list).
 * keep 0 keeps every folder. Returns the number of folders removed. */
unsigned tb_prune_traces(const char *trace_dir, unsigned keep, const char *current);
/* trace_dir/last-run (atomically): this run's command and the trace folders it wrote, one
 * `trace: DIR` line each (none when every test passed); `make wave` opens the first. */
void tb_write_last_run(const char *trace_dir, const char *cmd, const char *traces);

/* Runs bin with argv (NULL-terminated, at most TB_MAX_ARGS) in a child process and waits:
 * its exit status, or -1 when it could not be run or did not exit. */
#define TB_MAX_ARGS 127
int tb_run_child(const char *bin, const char *const *argv);
/* After a traced re-run into dir: removes what a re-run that died mid-way leaves (a partial FST,
 * the FST writer's hierarchy file, a partial save file); 1 when wave.fst and wave.gtkw are there
 * and not empty, else 0 with the missing one named in why. A sanitizer's report also exits 1,
 * the re-run's "reproduced": only the files say that the waveform was written. */
int tb_wave_written(const char *dir, char *why, size_t len);
/* A failure report's trace lines: the folder and its files (the waveform's only when written),
 * how to open the waveform, then note (why there is none, or where it came from) if any. */
void tb_print_trace(FILE *f, const char *dir, int have_wave, const char *note);

/* JUnit XML, written atomically when closed. */
typedef struct tb_junit tb_junit;
tb_junit *tb_junit_open(const char *path);
/* kind NULL (passed), "failure" or "error". No-op when j is NULL. */
void tb_junit_case(tb_junit *j, const char *name, double seconds, const char *kind, const char *msg);
void tb_junit_close(tb_junit *j);

#endif
