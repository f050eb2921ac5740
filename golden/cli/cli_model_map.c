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

static void usage(FILE *f)
{
    fprintf(f, "usage: mpq-golden model map MODEL.tflite --config NAME [--input IN] [--seed S]\n"
               "                            [--pack auto|never] [--json OUT]\n"
               "Runs the model with its CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED layers on the\n"
               "golden cycle model of configuration NAME (rtl/cfg/NAME.cfg) and every other operator\n"
               "on the host, and prints per layer how it is mapped, its MACs, the accelerator's exact\n"
               "cycles (no stalls), steps, MAC utilization and the activation waits. Every layer's\n"
               "output is checked against the golden model's. IN: the model's input, raw little\n"
               "endian (default: random from --seed, 1). --pack never: no packing of kernel taps into\n"
               "channels. --json OUT: the table as JSON (atomically).\n"
               "Exit: 0, 1 a layer's outputs differ, 2 usage, a bad file or a layer this\n"
               "configuration cannot run (named with its rule).\n");
}

static int fail2(const char *what)
{
    fprintf(stderr, "mpq-golden model map: %s\n", what);
    return 2;
}

/* A random input of tensor t: int8 uniform; float32 uniform over what the QUANTIZE that reads
 * it maps to the whole int8 range (else -1..1). */
static void random_input(const mpq_tfl_model *m, int t, mpq_rng *r, uint8_t *buf, size_t bytes)
{
    const mpq_tfl_tensor *x = &m->tensors[t];
    if (x->type != MPQ_TFL_FLOAT32) {
        for (size_t i = 0; i < bytes; i++)
            buf[i] = (uint8_t)mpq_rng_u64(r);
        return;
    }
    double lo = -1.0, hi = 1.0;
    for (unsigned o = 0; o < m->nops; o++)
        if (m->ops[o].code == MPQ_TFL_QUANTIZE && m->ops[o].nin > 0 && m->ops[o].in[0] == t) {
            const mpq_tfl_quant *q = &m->tensors[m->ops[o].out[0]].q;
            if (q->nscale && q->nzero) {
                lo = (double)q->scale[0] * (-128.0 - (double)q->zero_point[0]);
                hi = (double)q->scale[0] * (127.0 - (double)q->zero_point[0]);
            }
        }
    for (size_t i = 0; i + 4 <= bytes; i += 4) {
        float v = (float)(lo + (hi - lo) * (double)(mpq_rng_u64(r) >> 11) / 9007199254740992.0);
        memcpy(buf + i, &v, 4);
    }
}

static int write_json(const char *path, const char *model, const char *cfg, const mpq_hwcfg *hw,
                      const mpq_netrun_layer *rows, unsigned n)
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
    fprintf(f, "{\"model\": \"%s\", \"config\": \"%s\", \"macs_per_cycle\": %u, \"mpq_cycles\": %" PRIu64
               ", \"macs\": %" PRIu64 ", \"layers\": [\n", model, cfg, hw->lanes * hw->klanes, cyc, macs);
    for (unsigned i = 0; i < n; i++) {
        const mpq_netrun_layer *r = &rows[i];
        fprintf(f, "  {\"op\": %u, \"type\": \"%s\", \"shape\": \"%s\", \"map\": \"%s\", \"parts\": %u, "
                   "\"macs\": %" PRIu64 ", \"cycles\": %" PRIu64 ", \"steps\": %" PRIu64 ", \"data_waits\": %" PRIu64
                   ", \"out_stalls\": %" PRIu64 ", \"mac_util\": %.4f}%s\n",
                r->op, mpq_tfl_op_name(r->code), r->shape, r->how, r->parts, r->macs, r->st.cycles, r->st.steps,
                r->st.data_waits, r->st.out_stalls,
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

int mpq_cli_model_map(int argc, char **argv)
{
    const char *model = NULL, *cfg = NULL, *input = NULL, *json = NULL;
    uint64_t seed = 1;
    mpq_map_opts mo = {.pack = 1};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        int takes = !strcmp(a, "--config") || !strcmp(a, "--input") || !strcmp(a, "--seed") ||
                    !strcmp(a, "--pack") || !strcmp(a, "--json");
        if (takes && !v) {
            fprintf(stderr, "mpq-golden model map: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--config"))
            cfg = v;
        else if (!strcmp(a, "--input"))
            input = v;
        else if (!strcmp(a, "--json"))
            json = v;
        else if (!strcmp(a, "--seed")) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            if (errno || *end || end == v || v[0] == '-') {
                fprintf(stderr, "mpq-golden model map: --seed '%s': expected a non-negative integer\n", v);
                return 2;
            }
            seed = s;
        } else if (!strcmp(a, "--pack")) {
            if (strcmp(v, "auto") && strcmp(v, "never")) {
                fprintf(stderr, "mpq-golden model map: --pack '%s': expected auto or never\n", v);
                return 2;
            }
            mo.pack = !strcmp(v, "auto");
        } else if (a[0] == '-' || model) {
            fprintf(stderr, "mpq-golden model map: unknown option or extra argument '%s'\n", a);
            usage(stderr);
            return 2;
        } else {
            model = a;
        }
        i += takes;
    }
    if (!model || !cfg) {
        usage(stderr);
        return 2;
    }
    char err[1024], path[1024];
    mpq_hwcfg hw;
    if (mpq_hwcfg_find(cfg, path, sizeof path, err, sizeof err) != 0 ||
        mpq_hwcfg_load(path, &hw, err, sizeof err) != 0)
        return fail2(err);
    mpq_tfl_model m;
    if (mpq_tfl_load(model, &m, err, sizeof err) != 0)
        return fail2(err);
    mpq_net_opts o;
    mpq_net_opts_default(&o);
    o.golden_kernels = 1;
    mpq_net *net = NULL;
    int status = 2;
    mpq_netrun_layer *rows = NULL;
    uint8_t *in = NULL;
    if (mpq_net_init(&net, &m, &o, err, sizeof err) != 0) {
        fail2(err);
        goto done;
    }
    size_t total = 0;
    for (unsigned i = 0; i < mpq_net_ninputs(net); i++)
        total += mpq_net_tensor_bytes(net, (unsigned)mpq_net_input_tensor(net, i));
    in = malloc(total ? total : 1);
    rows = calloc(mpq_net_ops(net) + 1, sizeof *rows);
    if (!in || !rows) {
        fail2("out of memory");
        goto done;
    }
    if (input) {
        FILE *f = fopen(input, "rb");
        if (!f) {
            snprintf(err, sizeof err, "--input %s: %s", input, strerror(errno));
            fail2(err);
            goto done;
        }
        size_t got = fread(in, 1, total, f);
        int extra = fgetc(f) != EOF;
        fclose(f);
        if (got != total || extra) {
            snprintf(err, sizeof err, "--input %s: %s than the model's inputs (%zu bytes)", input,
                     got != total ? "shorter" : "longer", total);
            fail2(err);
            goto done;
        }
    } else {
        mpq_rng r;
        mpq_rng_seed(&r, seed);
        size_t off = 0;
        for (unsigned i = 0; i < mpq_net_ninputs(net); i++) {
            int t = mpq_net_input_tensor(net, i);
            size_t b = mpq_net_tensor_bytes(net, (unsigned)t);
            random_input(&m, t, &r, in + off, b);
            off += b;
        }
        printf("input: random, seed %" PRIu64 "\n", seed);
    }
    size_t off = 0;
    for (unsigned i = 0; i < mpq_net_ninputs(net); i++) {
        size_t b = mpq_net_tensor_bytes(net, (unsigned)mpq_net_input_tensor(net, i));
        if (mpq_net_set_input(net, i, in + off, b, err, sizeof err) != 0) {
            fail2(err);
            goto done;
        }
        off += b;
    }
    unsigned n = 0;
    status = mpq_netrun(net, &m, &hw, &mo, &mpq_accel_cycle_model, rows, &n, err, sizeof err);
    printf("%-4s %-18s %-34s %12s %10s %8s %9s  %s\n", "op", "type", "shape", "MACs", "cycles", "MAC util",
           "act waits", "mapping");
    uint64_t cyc = 0, macs = 0;
    double peak = (double)hw.lanes * hw.klanes;
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
           macs, cyc, cfg, hw.lanes, hw.klanes, cyc ? (double)macs / ((double)cyc * peak) : 0.0);
    if (status) {
        fprintf(stderr, "mpq-golden model map: %s\n", err);
        goto done;
    }
    if (json && write_json(json, model, cfg, &hw, rows, n) != 0) {
        snprintf(err, sizeof err, "--json %s: cannot write: %s", json, strerror(errno));
        status = fail2(err);
    }
done:
    free(in);
    free(rows);
    mpq_net_free(net);
    mpq_tfl_free(&m);
    return status;
}
