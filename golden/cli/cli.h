/* SPDX-License-Identifier: Apache-2.0 */
/* Subcommands of mpq-golden: each gets argv from its own name on, returns the exit code
 * (0 success, 1 check failed, 2 usage or input error). */
#ifndef MPQ_CLI_H
#define MPQ_CLI_H
int mpq_cli_case(int argc, char **argv);
int mpq_cli_gen(int argc, char **argv);
int mpq_cli_vecinfo(int argc, char **argv);
int mpq_cli_cfg(int argc, char **argv);
int mpq_cli_layout(int argc, char **argv);
int mpq_cli_options(int argc, char **argv);
int mpq_cli_dut(int argc, char **argv);
int mpq_cli_model(int argc, char **argv);
int mpq_cli_model_map(int argc, char **argv); /* mpq-golden model map (cli_model_map.c) */
int mpq_cli_model_mixprec(int argc, char **argv); /* mpq-golden model mixprec (cli_model_mixprec.c) */
int mpq_cli_model_abfp(int argc, char **argv); /* mpq-golden model abfp (cli_model_abfp.c) */
int mpq_cli_explore(int argc, char **argv);
int mpq_cli_explore_search(int argc, char **argv); /* mpq-golden explore search (cli_explore_search.c) */

/* ---- what the generators share (cli_text.c) ---- */
#include <stddef.h>
#include <stdint.h>
/* A growing text buffer: tprintf appends; oom is set (and the text cut) when memory runs out. */
typedef struct text {
    char *s;
    size_t len, cap;
    int oom;
} text;
void tprintf(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The whole file (NUL-terminated, *len bytes), or NULL (errno says why). */
char *cli_read_file(const char *path, size_t *len);
/* path replaced by s[0..len) through a temporary file and a rename. 0 or -1. */
int cli_write_atomic(const char *path, const char *s, size_t len);
/* v as a decimal integer in lo..hi into *out; else -1, printed as "TOOL: OPT V: not an integer
 * in LO..HI". */
int cli_parse_u64(const char *tool, const char *opt, const char *v, uint64_t lo, uint64_t hi, uint64_t *out);
/* "TOOL: WHAT" on stderr; returns 2 (a usage or input error). */
int cli_fail2(const char *tool, const char *what);

/* ---- what model map and explore model share (cli_model_map.c) ---- */
#include <stdint.h>

#include "net/mpq_graph.h"
#include "net/mpq_netrun.h"
#include "net/mpq_tflite.h"
/* A model ready for mpq_netrun: loaded, planned with the golden kernels, its inputs set. */
typedef struct cli_net {
    mpq_tfl_model m;
    mpq_net *net;
    mpq_netrun_layer *rows; /* one per operator and one more, for mpq_netrun */
} cli_net;
/* Loads model into cn, inputs from the raw file input or (input NULL) random from seed
 * (mpq_net_inputs_init). 0, or -1 with the message in err and nothing left to free. */
int cli_net_open(cli_net *cn, const char *model, const char *input, uint64_t seed, char *err,
                 size_t errlen);
void cli_net_close(cli_net *cn);
#endif
