/* SPDX-License-Identifier: Apache-2.0 */
/* PLACEHOLDER so the tree links while this subcommand is written; replaced by the real one. */
#include <stdio.h>

#include "cli.h"

int mpq_cli_case(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "mpq-golden case: not written yet\n");
    return 2;
}
