/* SPDX-License-Identifier: Apache-2.0 */
/* mpq-golden model mixprec: a model's int8 weights decomposed post-training into the
 * accelerator's ternary + sparse int8 form (stim/mpq_netmap.h, mpq_qlayer_decompose) at each
 * point of the CNN study's density/structure grid; per point the share of weights kept in
 * high precision, the fidelity of the final output against the int8 model over N inputs (top-1
 * agreement, SQNR of the logits) and the exact cycles on each ternary configuration (golden
 * cycle model, which the RTL equals), or why the configuration cannot hold the point. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"
#include "cli/cli.h"
#include "contract/mpq_hw.h"
#include "net/mpq_fidelity.h"
#include "net/mpq_graph.h"
#include "net/mpq_netrun.h"
#include "net/mpq_tflite.h"

enum { MX_MAXCFG = 8, MX_MAXPTS = 64 };
static const char *tag = "mpq-golden model mixprec";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mpq-golden model mixprec MODEL.tflite [--configs LIST] [--ref-config NAME]\n"
            "            [--grid full|quick | --points LIST] [--inputs FILE | --count N --seed S]\n"
            "            [--json OUT]\n"
            "Decomposes every CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED layer's int8 weights\n"
            "post-training into ternary (TWN, threshold 0.7 mean|W|, per-channel alpha) + sparse int8\n"
            "residuals, requantized as a TFLite converter would, at each point of the CNN study's grid\n"
            "(docs/cnn-results.md: channels N:4/8/16/32, window N:3/9, unstructured; densities 0 ..\n"
            "1/3; --grid quick: 0, 1/16, 1/9) or of LIST (comma-separated: int8, ternary,\n"
            "channels-N:G, window-N:G, unstructured-D). Per point: the share of weights in high\n"
            "precision (int8 non-zeros / weights), the relative L2 error of the real weights, and over\n"
            "the N inputs the agreement of the top class (argmax of the logits, first index on ties)\n"
            "with the int8 model and the SQNR of the logits (the int8 tensor before a final SOFTMAX,\n"
            "DEQUANTIZE or RESHAPE; anomaly_detection: its output), both computed with the functional\n"
            "golden model on --ref-config (default int8: HpPerGroup 16, KMax 4096, 32-bit accumulator)\n"
            "; then the cycles of input 0 on the golden cycle model of each configuration of --configs\n"
            "(default tern,default,mix2,int8), '-' where it cannot hold the point (the reason in the\n"
            "JSON), and whether its output equals the reference's. Inputs: FILE holds N inputs one\n"
            "after the other (raw little endian), else N (default 8) random inputs, input k from seed\n"
            "S + k (default 1; mpq-golden model map's rule).\n"
            "Exit: 0, 1 a layer's cycle-model output differs from its functional model, 2 usage or a\n"
            "bad file.\n");
}

typedef struct mx_args {
    const char *model, *configs, *ref_cfg, *grid, *points, *inputs, *json;
    uint64_t seed;
    unsigned count;
} mx_args;

typedef struct mx_point {
    int int8;                  /* the model's own int8 weights */
    mpq_map_decomp d;
    char name[48], dens[16], spec[48]; /* spec: as --points and mpq-tb net --decomp take it */
} mx_point;

typedef struct mx_result {
    uint64_t weights, hp;
    double w_norm2, err_norm2;
    mpq_fid_sum fid;
    int held[MX_MAXCFG], same[MX_MAXCFG];
    uint64_t cycles[MX_MAXCFG];
    char why[MX_MAXCFG][320];
} mx_result;

typedef struct mx_ctx {
    mpq_tfl_model m;
    mpq_net *net;
    mpq_netrun_layer *rows;
    mpq_hwcfg ref, hw[MX_MAXCFG];
    char cfg[MX_MAXCFG][64];
    unsigned ncfg;
    mpq_fid fid;               /* the inputs, the logits and the int8 model's */
    int8_t *dec0;              /* [nlog], the point's input 0 on the reference */
    int8_t *tmp;               /* [nlog] */
    unsigned nrows;            /* rows of the last run */
} mx_ctx;

/* ---- the command line ---- */

static int parse_u64(const char *opt, const char *v, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (!*v || *end || errno || v[0] == '-' || x > max) {
        fprintf(stderr, "%s: %s '%s': expected a whole number 0..%" PRIu64 "\n", tag, opt, v, max);
        return -1;
    }
    *out = x;
    return 0;
}

/* Returns 0 to run, 1 after --help, 2 after a message. */
static int parse_args(int argc, char **argv, mx_args *a)
{
    *a = (mx_args){.configs = "tern,default,mix2,int8", .ref_cfg = "int8", .grid = "full", .seed = 1, .count = 8};
    static const char *const takes[] = {"--configs", "--ref-config", "--grid", "--points", "--inputs",
                                        "--json", "--seed", "--count"};
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
            return usage(stdout), 1;
        int t = -1;
        for (int j = 0; j < 8; j++)
            if (!strcmp(arg, takes[j]))
                t = j;
        if (t >= 0 && !v)
            return fprintf(stderr, "%s: %s needs a value\n", tag, arg), 2;
        uint64_t x = 0;
        const char **dst[] = {&a->configs, &a->ref_cfg, &a->grid, &a->points, &a->inputs, &a->json};
        if (t >= 0 && t < 6) {
            *dst[t] = v;
        } else if (t == 6) {
            if (parse_u64(arg, v, UINT64_MAX, &a->seed) != 0)
                return 2;
        } else if (t == 7) {
            if (parse_u64(arg, v, 100000, &x) != 0)
                return 2;
            if (x == 0)
                return fprintf(stderr, "%s: --count must be at least 1\n", tag), 2;
            a->count = (unsigned)x;
        } else if (arg[0] == '-' || a->model) {
            fprintf(stderr, "%s: unknown option or extra argument '%s'\n", tag, arg);
            return usage(stderr), 2;
        } else {
            a->model = arg;
        }
        i += t >= 0;
    }
    if (!a->model)
        return usage(stderr), 2;
    if (strcmp(a->grid, "full") && strcmp(a->grid, "quick"))
        return fprintf(stderr, "%s: --grid '%s': expected full or quick\n", tag, a->grid), 2;
    return 0;
}

/* ---- the grid of the CNN study (mnist/cnn_main.c) ---- */

static int add_point(mx_point *p, unsigned *n, const mx_point *pt)
{
    if (*n >= MX_MAXPTS)
        return -1;
    p[(*n)++] = *pt;
    return 0;
}

/* The study's cells: N = density x G a whole number > 0, else no cell. */
static unsigned grid_points(int quick, mx_point *p)
{
    static const double dens[] = {1.0 / 64, 1.0 / 32, 1.0 / 16, 1.0 / 9, 1.0 / 8, 2.0 / 9, 1.0 / 4, 1.0 / 3};
    static const char *const dname[] = {"1/64", "1/32", "1/16", "1/9", "1/8", "2/9", "1/4", "1/3"};
    static const struct { mpq_decomp_axis axis; unsigned g; } cols[] = {
        {MPQ_DECOMP_CHANNEL, 4}, {MPQ_DECOMP_CHANNEL, 8}, {MPQ_DECOMP_CHANNEL, 16}, {MPQ_DECOMP_CHANNEL, 32},
        {MPQ_DECOMP_WINDOW, 3}, {MPQ_DECOMP_WINDOW, 9}, {MPQ_DECOMP_UNSTRUCTURED, 0}};
    unsigned n = 0;
    mx_point pt = {.int8 = 1, .name = "int8 (the model)", .dens = "1", .spec = "int8"};
    add_point(p, &n, &pt);
    pt = (mx_point){.d = {.axis = MPQ_DECOMP_CHANNEL, .group = 16, .thr = 0.7}, .dens = "0", .spec = "ternary"};
    mpq_map_decomp_name(&pt.d, pt.name, sizeof pt.name);
    add_point(p, &n, &pt);
    for (unsigned c = 0; c < sizeof cols / sizeof cols[0]; c++)
        for (unsigned di = 0; di < sizeof dens / sizeof dens[0]; di++) {
            if (quick && strcmp(dname[di], "1/16") && strcmp(dname[di], "1/9"))
                continue;
            double nreal = dens[di] * cols[c].g;
            unsigned hp_n = (unsigned)lround(nreal);
            if (cols[c].g && (fabs(nreal - hp_n) > 1e-9 || hp_n == 0))
                continue;
            pt = (mx_point){.d = {.axis = cols[c].axis, .hp_n = hp_n, .group = cols[c].g, .density = dens[di],
                                  .thr = 0.7}};
            snprintf(pt.dens, sizeof pt.dens, "%s", dname[di]);
            mpq_map_decomp_name(&pt.d, pt.name, sizeof pt.name);
            if (cols[c].axis == MPQ_DECOMP_UNSTRUCTURED) {
                snprintf(pt.name, sizeof pt.name, "unstructured");
                snprintf(pt.spec, sizeof pt.spec, "unstructured-%s", dname[di]);
            } else {
                snprintf(pt.spec, sizeof pt.spec, "%s-%u:%u", cols[c].axis == MPQ_DECOMP_WINDOW ? "window" : "channels",
                         hp_n, cols[c].g);
            }
            add_point(p, &n, &pt);
        }
    return n;
}

/* --points LIST. Returns the count, or 0 after a message. */
static unsigned list_points(const char *list, mx_point *p)
{
    char buf[2048], err[256];
    snprintf(buf, sizeof buf, "%s", list);
    unsigned n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        mx_point pt = {.int8 = !strcmp(tok, "int8")};
        snprintf(pt.spec, sizeof pt.spec, "%s", tok);
        if (pt.int8) {
            snprintf(pt.name, sizeof pt.name, "int8 (the model)");
            snprintf(pt.dens, sizeof pt.dens, "1");
        } else if (mpq_map_decomp_parse(tok, &pt.d, err, sizeof err) != 0) {
            fprintf(stderr, "%s: --points: %s\n", tag, err);
            return 0;
        } else {
            mpq_map_decomp_name(&pt.d, pt.name, sizeof pt.name);
            snprintf(pt.dens, sizeof pt.dens, "%.4g", pt.d.axis == MPQ_DECOMP_UNSTRUCTURED || pt.d.hp_n
                                                          ? pt.d.density : 0.0);
        }
        if (add_point(p, &n, &pt) != 0) {
            fprintf(stderr, "%s: --points: more than %d points\n", tag, MX_MAXPTS);
            return 0;
        }
    }
    if (!n)
        fprintf(stderr, "%s: --points: empty list\n", tag);
    return n;
}

/* ---- setting up ---- */

static int load_cfg(const char *name, mpq_hwcfg *hw)
{
    char err[1024];
    if (mpq_hwcfg_load_named(name, hw, NULL, 0, err, sizeof err) != 0)
        return fprintf(stderr, "%s: %s\n", tag, err), -1;
    return 0;
}

static int load_configs(mx_ctx *c, const mx_args *a)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", a->configs);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (c->ncfg == MX_MAXCFG)
            return fprintf(stderr, "%s: --configs: more than %d configurations\n", tag, MX_MAXCFG), -1;
        snprintf(c->cfg[c->ncfg], sizeof c->cfg[0], "%s", tok);
        if (load_cfg(tok, &c->hw[c->ncfg]) != 0)
            return -1;
        c->ncfg++;
    }
    return load_cfg(a->ref_cfg, &c->ref);
}

static int setup(mx_ctx *c, const mx_args *a)
{
    char err[1024];
    if (load_configs(c, a) != 0)
        return -1;
    if (mpq_tfl_load(a->model, &c->m, err, sizeof err) != 0)
        return fprintf(stderr, "%s: %s\n", tag, err), -1;
    mpq_net_opts o;
    mpq_net_opts_default(&o);
    o.golden_kernels = 1;
    if (mpq_net_init(&c->net, &c->m, &o, err, sizeof err) != 0)
        return fprintf(stderr, "%s: %s\n", tag, err), -1;
    if (mpq_fid_init(&c->fid, &c->m, c->net, a->inputs, a->count, a->seed, err, sizeof err) != 0)
        return fprintf(stderr, "%s: %s\n", tag, err), -1;
    c->rows = calloc(mpq_net_ops(c->net) + 1, sizeof *c->rows);
    c->dec0 = malloc(c->fid.nlog);
    c->tmp = malloc(c->fid.nlog);
    if (!c->rows || !c->dec0 || !c->tmp)
        return fprintf(stderr, "%s: out of memory\n", tag), -1;
    return 0;
}

/* ---- one point ---- */

/* Input k through the point's network on ex for hw; its logits into c->tmp. Returns
 * mpq_netrun's status (err says why). */
static int run_once(mx_ctx *c, const mpq_hwcfg *hw, const mx_point *p, const mpq_accel *ex, unsigned k,
                    uint64_t *cycles, char *err, size_t errlen)
{
    mpq_map_opts mo = {.pack = 1, .decomp = p->int8 ? NULL : &p->d};
    if (mpq_fid_set_input(&c->fid, k, err, errlen) != 0)
        return 2;
    unsigned n = 0;
    int rc = mpq_netrun(c->net, &c->m, hw, &mo, ex, c->rows, &n, err, errlen);
    c->nrows = n;
    if (rc)
        return rc;
    if (mpq_net_tensor_get(c->net, (unsigned)c->fid.logits, c->tmp) != 0)
        return snprintf(err, errlen, "the logits tensor %d was not computed", c->fid.logits), 2;
    *cycles = 0;
    for (unsigned i = 0; i < n; i++)
        *cycles += c->rows[i].st.cycles;
    return 0;
}

/* The fidelity over the inputs, on the reference configuration's functional model. */
static int point_fidelity(mx_ctx *c, const mx_point *p, mx_result *r, char *err, size_t errlen)
{
    uint64_t cyc;
    mpq_fid_sum fs = {0};
    for (unsigned k = 0; k < c->fid.count; k++) {
        int rc = run_once(c, &c->ref, p, &mpq_accel_functional, k, &cyc, err, errlen);
        if (rc)
            return rc;
        if (k == 0) {
            memcpy(c->dec0, c->tmp, c->fid.nlog);
            for (unsigned i = 0; i < c->nrows; i++) {
                r->weights += c->rows[i].weights;
                r->hp += c->rows[i].hp_weights;
                r->w_norm2 += c->rows[i].w_norm2;
                r->err_norm2 += c->rows[i].err_norm2;
            }
        }
        mpq_fid_add(&c->fid, k, c->tmp, &fs);
    }
    r->fid = fs;
    return 0;
}

/* Cycles of input 0 on each configuration: 2 (cannot hold it) is a '-', 1 a failure. */
static int point_cycles(mx_ctx *c, const mx_point *p, mx_result *r, char *err, size_t errlen)
{
    for (unsigned h = 0; h < c->ncfg; h++) {
        int rc = run_once(c, &c->hw[h], p, &mpq_accel_cycle_model, 0, &r->cycles[h], r->why[h], sizeof r->why[h]);
        if (rc == 1)
            return snprintf(err, errlen, "%s on %s: %s", p->name, c->cfg[h], r->why[h]), 1;
        r->held[h] = rc == 0;
        if (rc == 0) {
            r->why[h][0] = 0;
            r->same[h] = !memcmp(c->tmp, c->dec0, c->fid.nlog);
        }
    }
    return 0;
}

static double sqnr_db(const mx_result *r)
{
    return mpq_fid_sqnr_db(&r->fid);
}

/* ---- the report ---- */

static void print_header(const mx_ctx *c)
{
    printf("%-22s %-7s %9s %9s %9s %9s", "decomposition", "density", "hp share", "w. error", "top-1", "SQNR dB");
    for (unsigned h = 0; h < c->ncfg; h++)
        printf(" %12s", c->cfg[h]);
    printf("\n");
}

static void print_row(const mx_ctx *c, const mx_point *p, const mx_result *r)
{
    char top[32];
    if (c->fid.classifier)
        snprintf(top, sizeof top, "%u/%u", r->fid.agree, c->fid.count);
    else
        snprintf(top, sizeof top, "n/a");
    printf("%-22s %-7s %9.4f %9.4f %9s %9.2f", p->name, p->dens, r->weights ? (double)r->hp / r->weights : 0.0,
           r->w_norm2 > 0 ? sqrt(r->err_norm2 / r->w_norm2) : 0.0, top, sqnr_db(r));
    for (unsigned h = 0; h < c->ncfg; h++) {
        char cell[32];
        if (r->held[h])
            snprintf(cell, sizeof cell, "%" PRIu64 "%s", r->cycles[h], r->same[h] ? "" : "*");
        else
            snprintf(cell, sizeof cell, "-");
        printf(" %12s", cell);
    }
    printf("\n");
    fflush(stdout);
}

/* s with " and \ escaped, for JSON strings. */
static void json_str(text *t, const char *s)
{
    tprintf(t, "\"");
    for (; *s; s++)
        tprintf(t, *s == '"' || *s == '\\' ? "\\%c" : (unsigned char)*s < 0x20 ? " " : "%c", *s);
    tprintf(t, "\"");
}

static void json_point(text *t, const mx_ctx *c, const mx_point *p, const mx_result *r)
{
    tprintf(t, "    {\"spec\": ");
    json_str(t, p->spec);
    tprintf(t, ", \"decomposition\": ");
    json_str(t, p->name);
    double q = sqnr_db(r);
    char qs[32];
    if (isinf(q))
        snprintf(qs, sizeof qs, "\"inf\"");
    else
        snprintf(qs, sizeof qs, "%.3f", q);
    tprintf(t, ", \"density\": \"%s\", \"weights\": %" PRIu64 ", \"hp_weights\": %" PRIu64
               ", \"hp_share\": %.6f, \"weight_rel_l2\": %.6f, \"top1_agree\": %u, \"inputs\": %u, "
               "\"sqnr_db\": %s, \"configs\": [",
            p->dens, r->weights, r->hp, r->weights ? (double)r->hp / r->weights : 0.0,
            r->w_norm2 > 0 ? sqrt(r->err_norm2 / r->w_norm2) : 0.0, r->fid.agree, c->fid.count, qs);
    for (unsigned h = 0; h < c->ncfg; h++) {
        tprintf(t, "%s{\"config\": \"%s\", \"held\": %s, ", h ? ", " : "", c->cfg[h], r->held[h] ? "true" : "false");
        if (r->held[h])
            tprintf(t, "\"mpq_cycles\": %" PRIu64 ", \"output_equals_ref\": %s}", r->cycles[h],
                    r->same[h] ? "true" : "false");
        else {
            tprintf(t, "\"why\": ");
            json_str(t, r->why[h]);
            tprintf(t, "}");
        }
    }
    tprintf(t, "]}");
}

static void ctx_free(mx_ctx *c)
{
    free(c->rows);
    free(c->dec0);
    free(c->tmp);
    mpq_fid_free(&c->fid);
    mpq_net_free(c->net);
    mpq_tfl_free(&c->m);
}

/* Every point: a row printed, its JSON appended. Returns 0, 1 or 2. */
static int run_points(mx_ctx *c, const mx_point *pts, unsigned npts, text *js)
{
    char err[2048];
    print_header(c);
    for (unsigned i = 0; i < npts; i++) {
        mx_result r;
        memset(&r, 0, sizeof r);
        int rc = point_fidelity(c, &pts[i], &r, err, sizeof err);
        if (!rc)
            rc = point_cycles(c, &pts[i], &r, err, sizeof err);
        if (rc) {
            fprintf(stderr, "%s: %s: %s%s\n", tag, pts[i].name, rc == 1 ? "FAILED: " : "", err);
            return rc;
        }
        print_row(c, &pts[i], &r);
        json_point(js, c, &pts[i], &r);
        tprintf(js, "%s\n", i + 1 < npts ? "," : "");
    }
    return 0;
}

int mpq_cli_model_mixprec(int argc, char **argv)
{
    mx_args a;
    int prc = parse_args(argc, argv, &a);
    if (prc)
        return prc == 1 ? 0 : 2;
    static mx_point pts[MX_MAXPTS];
    unsigned npts = a.points ? list_points(a.points, pts) : grid_points(!strcmp(a.grid, "quick"), pts);
    if (!npts)
        return 2;
    static mx_ctx c;
    memset(&c, 0, sizeof c);
    int status = 2;
    text js = {0};
    if (setup(&c, &a) != 0)
        goto done;
    if (c.fid.inputs)
        printf("%s: %s, %u inputs from %s; reference %s\n", tag, a.model, c.fid.count, a.inputs, a.ref_cfg);
    else
        printf("%s: %s, %u random inputs, seed %" PRIu64 " (input k: seed + k); reference %s\n", tag, a.model,
               c.fid.count, a.seed, a.ref_cfg);
    printf("logits: tensor %d (%zu values, zero point %d)%s\n", c.fid.logits, c.fid.nlog, c.fid.zp,
           c.fid.classifier ? ", a SOFTMAX follows" : "; no SOFTMAX: top-1 not applicable");
    tprintf(&js, "{\"model\": ");
    json_str(&js, a.model);
    tprintf(&js, ", \"ref_config\": \"%s\", \"inputs\": %u, \"seed\": %" PRIu64 ", \"classifier\": %s, "
                 "\"points\": [\n", a.ref_cfg, c.fid.count, a.seed, c.fid.classifier ? "true" : "false");
    status = run_points(&c, pts, npts, &js);
    tprintf(&js, "]}\n");
    if (!status)
        printf("cycles: input 0 on the golden cycle model (the RTL's, every cycle), the host's operators not "
           "counted; '-': the configuration cannot hold the point; '*': its output differs from the "
           "reference's\n");
    if (!status && a.json && (js.oom || cli_write_atomic(a.json, js.s, js.len) != 0)) {
        fprintf(stderr, "%s: --json %s: cannot write: %s\n", tag, a.json, js.oom ? "out of memory" : strerror(errno));
        status = 2;
    }
done:
    free(js.s);
    ctx_free(&c);
    return status;
}
