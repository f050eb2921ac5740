/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq-golden options: the table of the layer and timing options that the stimulus tools share
 * (mpq_stim_opts, golden/stim/mpq_opts.c), for people (--help's form) or for scripts (--json:
 * name, value type, range or choices, tools, whether it shapes the layer, help). The farm
 * (scripts/farm) writes its jobs' lockstep arguments from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "stim/mpq_opts.h"

int mpq_cli_options(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: mpq-golden options [--json]\n"
                   "The layer and timing options that mpq-golden gen and mpq-tb lockstep share, from\n"
                   "their one table: as --help lists them, or (--json) as a JSON array of {name, arg,\n"
                   "type, lo, hi, choices, tools, layer, help} for scripts.\n"
                   "Exit: 0, 2 usage error.\n");
            return 0;
        }
        if (strcmp(argv[i], "--json")) {
            fprintf(stderr, "mpq-golden options: unknown argument `%s`; see --help\n", argv[i]);
            return 2;
        }
        json = 1;
    }
    mpq_stim_args a;
    memset(&a, 0, sizeof a);
    mpq_opt_set set = mpq_stim_set(&a, 0, 0, NULL);
    static char buf[65536];
    size_t n = json ? mpq_opt_json(&set, 1, buf, sizeof buf) : mpq_opt_help(&set, 1, buf, sizeof buf);
    if (n >= sizeof buf) {
        fprintf(stderr, "mpq-golden options: the table does not fit %zu bytes\n", sizeof buf);
        return 2;
    }
    fputs(buf, stdout);
    return 0;
}
