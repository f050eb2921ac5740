/* SPDX-License-Identifier: Apache-2.0 */
/* mpq-golden model map: a model's layers on the accelerator, exact cycles from the golden
 * cycle model (net/mpq_netrun.h), every layer's output checked against the golden model. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"
#include "arith/mpq_rng.h"
#include "cli/cli.h"
#include "contract/mpq_hw.h"
#include "net/mpq_graph.h"
#include "net/mpq_netrun.h"
#include "net/mpq_tflite.h"

static const char tool[] = "mpq-golden model map";

static void usage(FILE *f)
{
    fprintf(f, "usage: mpq-golden model map MODEL.tflite --config NAME [--input IN] [--seed S]\n"
               "                            [--pack auto|never] [--decomp SPEC] [--map LIST] [--json OUT]\n"
               "Runs the model with its CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED layers on the\n"
               "golden cycle model of configuration NAME (rtl/cfg/NAME.cfg) and every other operator\n"
               "on the host, and prints per layer how it is mapped, its MACs, the accelerator's exact\n"
               "cycles (no stalls), steps, MAC utilization and the activation waits. Every layer's\n"
               "output is checked against the golden model's. IN: the model's input, raw little\n"
               "endian (default: random from --seed, 1). --pack never: no packing of kernel taps into\n"
               "channels (thin convolutions, depthwise layers). --decomp SPEC: decompose every layer's\n"
               "int8 weights into ternary + sparse int8 first (ternary, channels-N:G, window-N:G,\n"
               "unstructured-D; mpq-tb net --decomp), each layer then checked against its decomposed\n"
               "layer's functional model. --map LIST: one mapping per MAC layer in operator order,\n"
               "',' or ';' between them: `default` (the driver's own) or fields img=N/rows=N/cols=N/\n"
               "pack=0|1/order=inner|outer ('/' or spaces between; 0 or absent: the whole axis; mpq-tb\n"
               "net --map); each layer is cut into exactly that mapping's hardware layers\n"
               "(mpq_xp_parts), a mapping the layer cannot run refused with its rule before anything\n"
               "runs. --json OUT: the table as JSON (atomically).\n"
               "Exit: 0, 1 a layer's outputs differ, 2 usage, a bad file or a layer this\n"
               "configuration cannot run (named with its rule).\n");
}

static int write_json(const char *path, const char *model, const char *cfg, const char *decomp,
                      const mpq_hwcfg *hw, const mpq_netrun_layer *rows, unsigned n)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    uint64_t cyc = 0, macs = 0;
    for (unsigned i = 0; i < n; i++) {
        cyc += rows[i].st.cycles;
        macs += rows[i].macs;
    }
    fprintf(f, "{\"model\": \"%s\", \"config\": \"%s\", \"decomp\": \"%s\", \"macs_per_cycle\": %u, \"mpq_cycles\": %" PRIu64
               ", \"macs\": %" PRIu64 ", \"layers\": [\n", model, cfg, decomp ? decomp : "", hw->lanes * hw->klanes, cyc, macs);
    for (unsigned i = 0; i < n; i++) {
        const mpq_netrun_layer *r = &rows[i];
        char row[1024];
        mpq_netrun_layer_json(r, row, sizeof row);
        fprintf(f, "  {%s, \"mac_util\": %.4f}%s\n", row,
                r->st.cycles ? (double)r->macs / ((double)r->st.cycles * hw->lanes * hw->klanes) : 0.0,
                i + 1 < n ? "," : "");
    }
    fprintf(f, "]}\n");
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

/* The per-layer table and its total line. */
static void print_table(const mpq_hwcfg *hw, const char *cfg, const mpq_netrun_layer *rows, unsigned n)
{
    printf("%-4s %-18s %-34s %12s %10s %8s %9s  %s\n", "op", "type", "shape", "MACs", "cycles", "MAC util",
           "act waits", "mapping");
    uint64_t cyc = 0, macs = 0;
    double peak = (double)hw->lanes * hw->klanes;
    for (unsigned i = 0; i < n; i++) {
        const mpq_netrun_layer *r = &rows[i];
        cyc += r->st.cycles;
        macs += r->macs;
        printf("%-4u %-18s %-34s %12" PRIu64 " %10" PRIu64 " %8.3f %9" PRIu64 "  %s\n", r->op, mpq_tfl_op_name(r->code),
               r->shape, r->macs, r->st.cycles, r->st.cycles ? (double)r->macs / ((double)r->st.cycles * peak) : 0.0,
               r->st.data_waits, r->how);
    }
    printf("total: %" PRIu64 " MACs in %" PRIu64 " cycles of the %s configuration (%u x %u MACs per cycle): "
           "MAC utilization %.3f; the host's operators are not counted\n",
           macs, cyc, cfg, hw->lanes, hw->klanes, cyc ? (double)macs / ((double)cyc * peak) : 0.0);
}

/* model map's command line. */
enum { MAP_MAX_LAYERS = 512 };
typedef struct map_args {
    const char *model, *cfg, *input, *json, *decomp;
    mpq_xp_map maps[MAP_MAX_LAYERS];     /* --map's items */
    const mpq_xp_map *mapp[MAP_MAX_LAYERS];
    uint64_t seed;
    mpq_map_opts mo;
    mpq_map_decomp dd; /* --decomp's parse; mo.decomp points here */
} map_args;

/* --map LIST into a->maps and a->mo; 0, or 2 after a message. */
static int parse_map(const char *v, map_args *a)
{
    static unsigned char def[MAP_MAX_LAYERS];
    char e[512];
    unsigned n;
    if (mpq_map_list_parse(v, a->maps, def, MAP_MAX_LAYERS, &n, e, sizeof e) != 0) {
        fprintf(stderr, "mpq-golden model map: --map: %s\n", e);
        return 2;
    }
    for (unsigned i = 0; i < n; i++)
        a->mapp[i] = def[i] ? NULL : &a->maps[i];
    a->mo.maps = a->mapp;
    a->mo.nmaps = n;
    return 0;
}

/* Returns 0 to run, 1 after --help, 2 after a message. */
static int parse_args(int argc, char **argv, map_args *a)
{
    *a = (map_args){.seed = 1, .mo = {.pack = 1}};
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage(stdout);
            return 1;
        }
        int takes = !strcmp(arg, "--config") || !strcmp(arg, "--input") || !strcmp(arg, "--seed") ||
                    !strcmp(arg, "--pack") || !strcmp(arg, "--json") || !strcmp(arg, "--decomp") ||
                    !strcmp(arg, "--map");
        if (takes && !v) {
            fprintf(stderr, "mpq-golden model map: %s needs a value\n", arg);
            return 2;
        }
        if (!strcmp(arg, "--config"))
            a->cfg = v;
        else if (!strcmp(arg, "--input"))
            a->input = v;
        else if (!strcmp(arg, "--json"))
            a->json = v;
        else if (!strcmp(arg, "--seed")) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            if (errno || *end || end == v || v[0] == '-') {
                fprintf(stderr, "mpq-golden model map: --seed '%s': expected a non-negative integer\n", v);
                return 2;
            }
            a->seed = s;
        } else if (!strcmp(arg, "--pack")) {
            if (strcmp(v, "auto") && strcmp(v, "never")) {
                fprintf(stderr, "mpq-golden model map: --pack '%s': expected auto or never\n", v);
                return 2;
            }
            a->mo.pack = !strcmp(v, "auto");
        } else if (!strcmp(arg, "--decomp")) {
            char e[256];
            if (mpq_map_decomp_parse(v, &a->dd, e, sizeof e) != 0) {
                fprintf(stderr, "mpq-golden model map: --decomp: %s\n", e);
                return 2;
            }
            a->mo.decomp = &a->dd;
            a->decomp = v;
        } else if (!strcmp(arg, "--map")) {
            if (parse_map(v, a) != 0)
                return 2;
        } else if (arg[0] == '-' || a->model) {
            fprintf(stderr, "mpq-golden model map: unknown option or extra argument '%s'\n", arg);
            usage(stderr);
            return 2;
        } else {
            a->model = arg;
        }
        i += takes;
    }
    if (!a->model || !a->cfg) {
        usage(stderr);
        return 2;
    }
    return 0;
}

int cli_net_open(cli_net *cn, const char *model, const char *input, uint64_t seed, char *err,
                 size_t errlen)
{
    cn->net = NULL;
    cn->rows = NULL;
    if (mpq_tfl_load(model, &cn->m, err, errlen) != 0)
        return -1;
    mpq_net_opts o;
    mpq_net_opts_default(&o);
    o.golden_kernels = 1;
    if (mpq_net_init(&cn->net, &cn->m, &o, err, errlen) != 0)
        goto fail;
    cn->rows = calloc(mpq_net_ops(cn->net) + 1, sizeof *cn->rows);
    if (!cn->rows) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (mpq_net_inputs_init(cn->net, &cn->m, input, seed, err, errlen) != 0)
        goto fail;
    return 0;
fail:
    cli_net_close(cn);
    return -1;
}

void cli_net_close(cli_net *cn)
{
    free(cn->rows);
    mpq_net_free(cn->net);
    mpq_tfl_free(&cn->m);
    cn->rows = NULL;
    cn->net = NULL;
}

int mpq_cli_model_map(int argc, char **argv)
{
    static map_args args;
    int prc = parse_args(argc, argv, &args);
    if (prc != 0)
        return prc == 1 ? 0 : 2;
    const char *model = args.model, *cfg = args.cfg, *input = args.input, *json = args.json;
    uint64_t seed = args.seed;
    mpq_map_opts mo = args.mo;
    char err[1024];
    mpq_hwcfg hw;
    if (mpq_hwcfg_load_named(cfg, &hw, NULL, 0, err, sizeof err) != 0)
        return cli_fail2(tool, err);
    cli_net cn;
    if (cli_net_open(&cn, model, input, seed, err, sizeof err) != 0)
        return cli_fail2(tool, err);
    if (!input)
        printf("input: random, seed %" PRIu64 "\n", seed);
    unsigned n = 0;
    int status = mpq_netrun(cn.net, &cn.m, &hw, &mo, &mpq_accel_cycle_model, cn.rows, &n, err, sizeof err);
    print_table(&hw, cfg, cn.rows, n);
    if (status)
        fprintf(stderr, "mpq-golden model map: %s\n", err);
    else if (json && write_json(json, model, cfg, args.decomp, &hw, cn.rows, n) != 0) {
        snprintf(err, sizeof err, "--json %s: cannot write: %s", json, strerror(errno));
        status = cli_fail2(tool, err);
    }
    cli_net_close(&cn);
    return status;
}
