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
int mpq_cli_model(int argc, char **argv);
int mpq_cli_model_map(int argc, char **argv); /* mpq-golden model map (cli_model_map.c) */
#endif
