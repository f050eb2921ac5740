/* SPDX-License-Identifier: Apache-2.0 */
/* mpq-golden: command-line front end of the golden model. One subcommand per cli_*.c file. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"case", mpq_cli_case, "compute mpq-case files and compare with their expect lines"},
    {"cfg", mpq_cli_cfg, "read an RTL configuration (rtl/cfg/NAME.cfg) for scripts and make"},
    {"dut", mpq_cli_dut, "check a DUT description; write the C++ shim over its Verilated model"},
    {"explore", mpq_cli_explore, "a layer's precision x mapping space and the exact cost of its points"},
    {"gen", mpq_cli_gen, "generate a cycle-exact vector file for the accelerator"},
    {"layout", mpq_cli_layout, "write or check the RTL package and docs tables of the interface"},
    {"model", mpq_cli_model, "run or describe a fully-int8 TFLite model (bit-exact to TFLite Micro)"},
    {"options", mpq_cli_options, "the layer and timing options of gen and mpq-tb lockstep (--json)"},
    {"vecinfo", mpq_cli_vecinfo, "print and verify vector files"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: mpq-golden COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`mpq-golden COMMAND --help` describes each command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "mpq-golden: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
