/* SPDX-License-Identifier: Apache-2.0 */
/* mpq-golden model abfp: a TFLite model in float32 with its matrix units on an emulated
 * analog array in adaptive block floating point (net/mpq_fgraph.h, arith/mpq_abfp.h), its
 * output SQNR against the same model in float (docs/abfp.md, "Real models"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"
#include "arith/mpq_abfp.h"
#include "cli/cli.h"
#include "net/mpq_fgraph.h"
#include "net/mpq_graph.h"
#include "net/mpq_tflite.h"

#define MAX_FILES 64
#define MAX_GAINS 32

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mpq-golden model abfp MODEL.tflite [--input IN]... [--random N] [--seed S]\n"
            "            [--input-range LO:HI | --input-range-of MODEL2] [--n N]\n"
            "            [--bits B | --bw B --bx B] [--bout B] [--gain G | --gain best [--gains LIST]]\n"
            "            [--noise SIGMA] [--noise-seed S] [--round R] [--adc-round R]\n"
            "            [--scale tile|channel|tensor] [--layers] [--int8] [--tsv]\n"
            "            [--output OUT] [--output-ref REF]\n"
            "Runs the model in float32 (an int8 model's weights and biases dequantized; its\n"
            "activations float) once with every CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED in\n"
            "float, the reference, and once with them on the emulated ABFP array, on the same\n"
            "inputs, and prints the SQNR of the logits (the input of a final SOFTMAX or\n"
            "LOGISTIC, else the outputs) against the reference and the share of ADC conversions\n"
            "that saturate (docs/abfp.md).\n"
            "  --input IN       one inference: the raw little-endian input in its own type (int8\n"
            "                   dequantized with its quantization); repeatable (single-input models)\n"
            "  --random N       N random inferences (default 4 without --input): uniform over the\n"
            "                   input's int8 grid (its quantization, or the QUANTIZE reading it),\n"
            "                   or over --input-range, or over the range MODEL2's input 0 has\n"
            "                   (a float twin's inputs as its int8 model's); from --seed S (default 1)\n"
            "  --n, --bits, --bw, --bx, --bout, --gain, --noise, --round, --adc-round, --scale:\n"
            "                   the array (mpq_abfp.h; defaults n 128, 8 bits, gain 1, no noise,\n"
            "                   half-even, per-tile scales); --noise-seed S: layer l draws from S + l\n"
            "  --scale channel|tensor  fixed point on the same array: each layer's static input\n"
            "                   scale is the largest |input| of its float runs on these inputs\n"
            "  --gain best      each layer its own gain of --gains (default 1,2,4,...,128): the one\n"
            "                   of the highest local SQNR (the layer's outputs against the float\n"
            "                   layer on the same float inputs), each layer judged alone on the\n"
            "                   float network's activations (with --layers: the whole table)\n"
            "  --layers         per layer: gain, conversions, saturated share, local SQNR\n"
            "  --int8           also the int8 model (TFLite Micro's arithmetic) against the float\n"
            "                   reference, on the same inputs\n"
            "  --tsv            machine-readable lines (summary, then per layer)\n"
            "  --output OUT, --output-ref REF  the logits on the array, in float (what the SQNR\n"
            "                   compares): every inference's in order, raw float32\n"
            "Exit: 0, 2 usage, a bad parameter (named), an unreadable or unsupported model.\n");
}

typedef struct abfp_args {
    const char *model, *range_of, *out_path, *ref_path;
    const char *files[MAX_FILES];
    unsigned nfiles, nrandom;
    uint64_t seed, noise_seed;
    int has_range, best, layers, int8, tsv;
    float lo, hi;
    double gains[MAX_GAINS];
    unsigned ngains;
    mpq_abfp p;
} abfp_args;

static int bad(const char *what, const char *v)
{
    fprintf(stderr, "mpq-golden model abfp: %s%s%s\n", what, v ? " " : "", v ? v : "");
    return 2;
}

static int parse_gains(abfp_args *a, const char *v)
{
    char *end;
    a->ngains = 0;
    for (const char *s = v; *s;) {
        double g = strtod(s, &end);
        if (end == s || !(g > 0.0 && g <= MPQ_ABFP_GAIN_MAX) || a->ngains == MAX_GAINS)
            return bad("--gains: expected up to 32 gains in (0, 65536], comma-separated, got", v);
        a->gains[a->ngains++] = g;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return bad("--gains: expected up to 32 gains in (0, 65536], comma-separated, got", v);
    }
    return a->ngains ? 0 : bad("--gains: empty", NULL);
}

static int parse_u64(const char *opt, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    unsigned long long u = strtoull(v, &end, 10);
    if (!*v || *end || v[0] == '-' || u < lo || u > hi) {
        fprintf(stderr, "mpq-golden model abfp: %s: `%s` is not in %llu..%llu\n", opt, v,
                (unsigned long long)lo, (unsigned long long)hi);
        return 2;
    }
    *out = u;
    return 0;
}

/* An option of the array: --NAME VALUE through mpq_abfp_set, which names it. */
static int array_opt(abfp_args *a, const char *name, const char *v)
{
    char err[256];
    if (!strcmp(name, "gain") && !strcmp(v, "best")) {
        a->best = 1;
        return 0;
    }
    if (!strcmp(name, "gain"))
        a->best = 0;
    if (mpq_abfp_set(&a->p, name, v, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-golden model abfp: --%s\n", err);
        return 2;
    }
    return 0;
}

static int parse_value_opt(abfp_args *a, const char *s, const char *v)
{
    static const char *const arr[] = {"n", "bits", "bw", "bx", "bout", "gain", "noise", "round",
                                      "adc-round", "scale", NULL};
    for (unsigned i = 0; arr[i]; i++)
        if (!strcmp(s + 2, arr[i]))
            return array_opt(a, arr[i], v);
    uint64_t u;
    if (!strcmp(s, "--input")) {
        if (a->nfiles == MAX_FILES)
            return bad("more than 64 --input files", NULL);
        a->files[a->nfiles++] = v;
    } else if (!strcmp(s, "--random")) {
        if (parse_u64(s, v, 1, 100000, &u))
            return 2;
        a->nrandom = (unsigned)u;
    } else if (!strcmp(s, "--seed") || !strcmp(s, "--noise-seed")) {
        if (parse_u64(s, v, 0, UINT64_MAX, &u))
            return 2;
        *(s[2] == 's' ? &a->seed : &a->noise_seed) = u;
    } else if (!strcmp(s, "--gains")) {
        return parse_gains(a, v);
    } else if (!strcmp(s, "--output") || !strcmp(s, "--output-ref")) {
        *(s[8] ? &a->ref_path : &a->out_path) = v;
    } else if (!strcmp(s, "--input-range-of")) {
        a->range_of = v;
    } else if (!strcmp(s, "--input-range")) {
        char *end;
        a->lo = strtof(v, &end);
        if (*end != ':' || !(a->lo < (a->hi = strtof(end + 1, &end))) || *end || !isfinite(a->hi) ||
            !isfinite(a->lo))
            return bad("--input-range: expected LO:HI with finite LO < HI, got", v);
        a->has_range = 1;
    } else {
        return bad("unknown option", s);
    }
    return 0;
}

static int parse_args(abfp_args *a, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    mpq_abfp_default(&a->p);
    a->seed = a->noise_seed = 1;
    for (unsigned i = 0; i < 8; i++)
        a->gains[i] = (double)(1u << i);
    a->ngains = 8;
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        int *flag = !strcmp(s, "--layers") ? &a->layers : !strcmp(s, "--int8") ? &a->int8
                  : !strcmp(s, "--tsv") ? &a->tsv : NULL;
        if (flag) {
            *flag = 1;
        } else if (s[0] == '-' && s[1] == '-') {
            if (i + 1 >= argc)
                return bad(s, "needs a value");
            int rc = parse_value_opt(a, s, argv[++i]);
            if (rc)
                return rc;
        } else if (!a->model) {
            a->model = s;
        } else {
            return bad("unexpected argument", s);
        }
    }
    if (!a->model)
        return bad("expected MODEL.tflite (see mpq-golden model abfp --help)", NULL);
    if (!a->nfiles && !a->nrandom)
        a->nrandom = 4;
    return 0;
}

/* ---- the inferences' inputs ---- */

typedef struct inputs {
    unsigned runs, ninputs;
    float **x; /* [runs * ninputs] */
} inputs;

static void inputs_free(inputs *in)
{
    for (unsigned i = 0; in->x && i < in->runs * in->ninputs; i++)
        free(in->x[i]);
    free(in->x);
}

/* The file's first `want` bytes into a new buffer; *len the bytes read (want + 1: too long). */
static uint8_t *read_bytes(const char *path, size_t want, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = f ? malloc(want + 1) : NULL;
    *len = buf ? fread(buf, 1, want + 1, f) : 0;
    if (f)
        fclose(f);
    return buf;
}

static int input_from_file(const mpq_tfl_model *m, int ti, const char *path, float *x, size_t count)
{
    size_t len;
    const mpq_tfl_tensor *t = &m->tensors[ti];
    unsigned es = mpq_tfl_type_size(t->type);
    uint8_t *buf = read_bytes(path, count * es, &len);
    int ok = buf && es && len == count * es &&
             (t->type == MPQ_TFL_FLOAT32 || (t->type == MPQ_TFL_INT8 && t->q.nscale));
    for (size_t j = 0; ok && j < count; j++) {
        if (t->type == MPQ_TFL_FLOAT32) {
            memcpy(&x[j], buf + j * 4, 4);
        } else {
            int64_t zp = t->q.nzero ? t->q.zero_point[0] : 0; /* per-tensor activations */
            x[j] = t->q.scale[0] * (float)((int8_t)buf[j] - zp);
        }
    }
    free(buf);
    if (!ok)
        fprintf(stderr, "mpq-golden model abfp: %s: cannot read, or not %zu values of the input's "
                "type %s (FLOAT32 or quantized INT8)\n", path, count, mpq_tfl_type_name(t->type));
    return ok ? 0 : 2;
}

static int inputs_make(const abfp_args *a, const mpq_tfl_model *m, const mpq_fgraph *g, inputs *in)
{
    in->ninputs = mpq_fgraph_ninputs(g);
    in->runs = a->nfiles ? a->nfiles : a->nrandom;
    if (a->nfiles && in->ninputs != 1)
        return bad("--input takes single-input models; use --random", NULL);
    if (!(in->x = calloc((size_t)in->runs * in->ninputs, sizeof *in->x)))
        return bad("out of memory", NULL);
    for (unsigned r = 0; r < in->runs; r++)
        for (unsigned i = 0; i < in->ninputs; i++) {
            size_t n = mpq_fgraph_input_count(g, i);
            float lo, hi, *x = in->x[r * in->ninputs + i] = malloc((n ? n : 1) * sizeof *x);
            if (!x)
                return bad("out of memory", NULL);
            if (a->nfiles) {
                if (input_from_file(m, m->inputs[0], a->files[r], x, n))
                    return 2;
                continue;
            }
            mpq_fgraph_input_range(g, i, &lo, &hi);
            if (a->has_range)
                lo = a->lo, hi = a->hi;
            mpq_fgraph_random_input(a->seed, r, i, lo, hi, x, n);
        }
    return 0;
}

/* ---- runs ---- */

typedef struct sqnr_acc {
    double sig2, err2;
} sqnr_acc;

static double sqnr_db(double sig2, double err2)
{
    if (err2 == 0.0)
        return INFINITY;
    return 10.0 * log10(sig2 / err2);
}

/* Every inference once; abfp NULL: the float reference, kept in ref; else compared with it.
 * The model's outputs, all inferences in order, raw float32, to dump (may be NULL). */
static int run_all(mpq_fgraph *g, const inputs *in, const mpq_abfp *abfp, float *ref, sqnr_acc *acc,
                   FILE *dump)
{
    char err[512];
    size_t off = 0;
    acc->sig2 = acc->err2 = 0.0;
    for (unsigned r = 0; r < in->runs; r++) {
        for (unsigned i = 0; i < in->ninputs; i++)
            if (mpq_fgraph_set_input(g, i, in->x[r * in->ninputs + i], mpq_fgraph_input_count(g, i),
                                     err, sizeof err))
                return bad(err, NULL);
        if (mpq_fgraph_run(g, abfp, r, err, sizeof err))
            return bad(err, NULL);
        for (unsigned o = 0; o < mpq_fgraph_noutputs(g); o++) {
            size_t n = 0;
            const float *y = mpq_fgraph_tensor(g, mpq_fgraph_logits_tensor(g, o), &n);
            if (dump && fwrite(y, sizeof *y, n, dump) != n)
                return bad("cannot write --output or --output-ref", NULL);
            for (size_t j = 0; j < n; j++, off++) {
                if (!abfp) {
                    ref[off] = y[j];
                    continue;
                }
                double d = (double)y[j] - ref[off];
                acc->sig2 += (double)ref[off] * ref[off];
                acc->err2 += d * d;
            }
        }
    }
    return 0;
}

/* The probe's table: per layer and gain, saturated share and local SQNR. */
static void print_probe(const abfp_args *a, const mpq_fgraph *g, const double *sig2,
                        const double *err2, const mpq_abfp_stats *st)
{
    for (unsigned l = 0; l < mpq_fgraph_nlayers(g); l++)
        for (unsigned j = 0; j < a->ngains; j++) {
            size_t i = (size_t)l * a->ngains + j;
            const mpq_fgraph_layer *L = mpq_fgraph_layer_at(g, l);
            double sh = st[i].conversions ? 100.0 * (double)st[i].saturated / (double)st[i].conversions : 0.0;
            printf(a->tsv ? "probe\t%u\t%u\t%s\t%g\t%.4f\t%.3f\n"
                          : "  probe layer %2u op %3u %-17s gain %-4g saturated %7.3f%%  SQNR %6.2f dB\n",
                   l, L->op, mpq_tfl_op_name(L->code), a->gains[j], sh, sqnr_db(sig2[i], err2[i]));
        }
}

/* Each layer's gain: the one of a->gains with the highest local SQNR, each layer judged alone
 * on the float network's activations (mpq_fgraph_probe); ties to the smaller gain. */
static int best_gains(const abfp_args *a, mpq_fgraph *g, const inputs *in, mpq_abfp *arr)
{
    unsigned nl = mpq_fgraph_nlayers(g), ng = a->ngains;
    size_t np = (size_t)nl * ng + 1;
    mpq_abfp *pa = malloc(np * sizeof *pa);
    double *sig2 = calloc(np, sizeof *sig2), *err2 = calloc(np, sizeof *err2);
    mpq_abfp_stats *st = calloc(np, sizeof *st);
    int rc = pa && sig2 && err2 && st ? 0 : bad("out of memory", NULL);
    for (size_t i = 0; rc == 0 && i + 1 < np; i++) {
        pa[i] = arr[i / ng];
        pa[i].gain = (float)a->gains[i % ng];
    }
    char err[512];
    for (unsigned r = 0; r < in->runs && rc == 0; r++) {
        for (unsigned i = 0; i < in->ninputs && rc == 0; i++)
            if (mpq_fgraph_set_input(g, i, in->x[r * in->ninputs + i], mpq_fgraph_input_count(g, i),
                                     err, sizeof err))
                rc = bad(err, NULL);
        if (rc == 0 && mpq_fgraph_probe(g, pa, ng, r, sig2, err2, st, err, sizeof err))
            rc = bad(err, NULL);
    }
    for (unsigned l = 0; l < nl && rc == 0; l++) {
        size_t b = (size_t)l * ng, best = b;
        for (size_t j = b + 1; j < b + ng; j++)
            if (sqnr_db(sig2[j], err2[j]) > sqnr_db(sig2[best], err2[best]))
                best = j;
        arr[l].gain = pa[best].gain;
    }
    if (rc == 0 && a->layers)
        print_probe(a, g, sig2, err2, st);
    free(pa);
    free(sig2);
    free(err2);
    free(st);
    return rc;
}

/* ---- the int8 model on the same inputs ---- */

static void int8_input(const mpq_tfl_tensor *t, const float *x, size_t n, uint8_t *buf)
{
    for (size_t j = 0; j < n; j++) {
        if (t->type == MPQ_TFL_FLOAT32) {
            memcpy(buf + j * 4, &x[j], 4);
            continue;
        }
        int64_t zp = t->q.nzero ? t->q.zero_point[0] : 0;
        double q = nearbyint((double)x[j] / (double)t->q.scale[0]) + (double)zp;
        buf[j] = (uint8_t)(int8_t)(q < -128.0 ? -128.0 : (q > 127.0 ? 127.0 : q));
    }
}

static float int8_output(const mpq_tfl_tensor *t, const uint8_t *buf, size_t j)
{
    if (t->type == MPQ_TFL_FLOAT32) {
        float v;
        memcpy(&v, buf + j * 4, 4);
        return v;
    }
    int64_t zp = t->q.nzero ? t->q.zero_point[0] : 0;
    return t->q.scale[0] * (float)((int8_t)buf[j] - zp);
}

/* One inference of the int8 golden model, its outputs compared with ref from *off on. */
static int int8_one(mpq_net *net, const mpq_tfl_model *m, const mpq_fgraph *g, const inputs *in,
                    unsigned r, const float *ref, size_t *off, sqnr_acc *acc)
{
    char err[512];
    for (unsigned i = 0; i < in->ninputs; i++) {
        const mpq_tfl_tensor *t = &m->tensors[m->inputs[i]];
        size_t bytes = mpq_net_tensor_bytes(net, (unsigned)m->inputs[i]);
        uint8_t *buf = malloc(bytes + 1);
        if (!buf)
            return bad("out of memory", NULL);
        int8_input(t, in->x[r * in->ninputs + i], bytes / mpq_tfl_type_size(t->type), buf);
        int rc = mpq_net_set_input(net, i, buf, bytes, err, sizeof err);
        free(buf);
        if (rc)
            return bad(err, NULL);
    }
    if (mpq_net_run(net, err, sizeof err))
        return bad(err, NULL);
    for (unsigned o = 0; o < m->noutputs; o++) {
        int ti = mpq_fgraph_logits_tensor(g, o);
        const mpq_tfl_tensor *t = &m->tensors[ti];
        size_t bytes = mpq_net_tensor_bytes(net, (unsigned)ti);
        uint8_t *buf = malloc(bytes + 1);
        if (!buf || mpq_net_tensor_get(net, (unsigned)ti, buf)) {
            free(buf);
            return bad("cannot read the int8 model's output", NULL);
        }
        for (size_t j = 0; j < bytes / mpq_tfl_type_size(t->type); j++, (*off)++) {
            double y = int8_output(t, buf, j), d = y - ref[*off];
            acc->sig2 += (double)ref[*off] * ref[*off];
            acc->err2 += d * d;
        }
        free(buf);
    }
    return 0;
}

/* The int8 model's output SQNR against the float reference; NaN when it cannot run. */
static double int8_sqnr(const mpq_tfl_model *m, const mpq_fgraph *g, const inputs *in,
                        const float *ref)
{
    mpq_net_opts o;
    mpq_net *net;
    char err[512];
    mpq_net_opts_default(&o);
    if (mpq_net_init(&net, m, &o, err, sizeof err)) {
        fprintf(stderr, "mpq-golden model abfp: --int8: %s\n", err);
        return NAN;
    }
    sqnr_acc acc = {0, 0};
    size_t off = 0;
    int rc = 0;
    for (unsigned r = 0; r < in->runs && rc == 0; r++)
        rc = int8_one(net, m, g, in, r, ref, &off, &acc);
    mpq_net_free(net);
    return rc ? NAN : sqnr_db(acc.sig2, acc.err2);
}

/* ---- report ---- */

static void report(const abfp_args *a, const mpq_tfl_model *m, const mpq_fgraph *g,
                   const mpq_abfp *arr, unsigned runs, const sqnr_acc *out, double int8_db)
{
    uint64_t conv = 0, sat = 0;
    unsigned nl = mpq_fgraph_nlayers(g);
    for (unsigned l = 0; l < nl; l++) {
        conv += mpq_fgraph_layer_at(g, l)->st.conversions;
        sat += mpq_fgraph_layer_at(g, l)->st.saturated;
    }
    double share = conv ? 100.0 * (double)sat / (double)conv : 0.0;
    const mpq_abfp *p = &a->p;
    char gain[32];
    snprintf(gain, sizeof gain, a->best ? "best" : "%g", (double)p->gain);
    if (a->tsv) {
        printf("summary\t%s\t%u\t%u\t%u\t%u\t%s\t%g\t%s\t%u\t%.3f\t%.4f\t%llu\t%.3f\n", a->model,
               p->n, p->bw, p->bx, p->bout, gain, p->noise, mpq_abfp_scale_name(p->scale), runs,
               sqnr_db(out->sig2, out->err2), share, (unsigned long long)conv, int8_db);
    } else {
        printf("%s: n %u, bw %u, bx %u, bout %u, gain %s, noise %g, seed %llu, scale %s: %u "
               "inferences, output SQNR %.2f dB against float, ADC conversions %llu, saturated "
               "%.3f%%\n", a->model, p->n, p->bw, p->bx, p->bout, a->best ? "best per layer" : gain,
               p->noise, (unsigned long long)a->noise_seed, mpq_abfp_scale_name(p->scale), runs,
               sqnr_db(out->sig2, out->err2), (unsigned long long)conv, share);
        if (a->int8)
            printf("  int8 model (TFLite Micro's arithmetic): output SQNR %.2f dB against float\n", int8_db);
    }
    for (unsigned l = 0; l < nl && (a->layers || a->tsv); l++) {
        const mpq_fgraph_layer *L = mpq_fgraph_layer_at(g, l);
        double sh = L->st.conversions ? 100.0 * (double)L->st.saturated / (double)L->st.conversions : 0.0;
        if (a->tsv)
            printf("layer\t%u\t%u\t%s\t%u\t%u\t%llu\t%g\t%llu\t%.4f\t%.3f\n", l, L->op,
                   mpq_tfl_op_name(L->code), L->k, L->rows, (unsigned long long)L->macs,
                   (double)arr[l].gain, (unsigned long long)L->st.conversions, sh,
                   sqnr_db(L->sig2, L->err2));
        else
            printf("  layer %2u op %3u %-17s k %5u rows %4u gain %-4g conversions %9llu saturated "
                   "%7.3f%%  SQNR %6.2f dB\n", l, L->op, mpq_tfl_op_name(L->code), L->k, L->rows,
                   (double)arr[l].gain, (unsigned long long)L->st.conversions, sh,
                   sqnr_db(L->sig2, L->err2));
    }
    (void)m;
}

/* The arrays of every layer: the options' array, noise seed + l, fixed point's input scales. */
static mpq_abfp *arrays(const abfp_args *a, const mpq_fgraph *g)
{
    unsigned nl = mpq_fgraph_nlayers(g);
    mpq_abfp *arr = malloc((nl ? nl : 1) * sizeof *arr);
    for (unsigned l = 0; arr && l < nl; l++) {
        float amax = mpq_fgraph_layer_at(g, l)->in_amax;
        arr[l] = a->p;
        arr[l].seed = a->noise_seed + l;
        arr[l].x_amax = amax > 0.0f ? amax : 1.0f;
    }
    return arr;
}

static int abfp_main(const abfp_args *a, const mpq_tfl_model *m, mpq_fgraph *g, const inputs *in)
{
    size_t per = 0, n = 0;
    for (unsigned o = 0; o < mpq_fgraph_noutputs(g); o++)
        if (mpq_fgraph_tensor(g, mpq_fgraph_logits_tensor(g, o), &n))
            per += n;
    size_t nref = per * in->runs;
    float *ref = malloc((nref ? nref : 1) * sizeof *ref);
    mpq_abfp *arr = NULL;
    sqnr_acc out;
    FILE *fr = a->ref_path ? fopen(a->ref_path, "wb") : NULL, *fo = a->out_path ? fopen(a->out_path, "wb") : NULL;
    int rc = (a->ref_path && !fr) || (a->out_path && !fo) ? bad("cannot open --output or --output-ref", NULL) : 0;
    if (rc == 0)
        rc = ref ? run_all(g, in, NULL, ref, &out, fr) : bad("out of memory", NULL);
    if (rc == 0 && !(arr = arrays(a, g)))
        rc = bad("out of memory", NULL);
    if (rc == 0 && a->best)
        rc = best_gains(a, g, in, arr);
    if (rc == 0) {
        mpq_fgraph_stats_reset(g);
        rc = run_all(g, in, arr, ref, &out, fo);
    }
    if (fr && fclose(fr) && rc == 0)
        rc = bad("cannot write --output-ref", NULL);
    if (fo && fclose(fo) && rc == 0)
        rc = bad("cannot write --output", NULL);
    if (rc == 0)
        report(a, m, g, arr, in->runs, &out, a->int8 ? int8_sqnr(m, g, in, ref) : NAN);
    free(arr);
    free(ref);
    return rc;
}

/* --input-range-of: the range of another model's input 0. */
static int range_of(abfp_args *a)
{
    char err[512];
    mpq_tfl_model m;
    mpq_fgraph *g = NULL;
    if (mpq_tfl_load(a->range_of, &m, err, sizeof err))
        return bad(err, NULL);
    int rc = mpq_fgraph_init(&g, &m, err, sizeof err);
    if (rc == 0) {
        mpq_fgraph_input_range(g, 0, &a->lo, &a->hi);
        a->has_range = 1;
    }
    mpq_fgraph_free(g);
    mpq_tfl_free(&m);
    return rc ? bad(err, NULL) : 0;
}

int mpq_cli_model_abfp(int argc, char **argv)
{
    if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
        usage(stdout);
        return 0;
    }
    abfp_args a;
    int rc = parse_args(&a, argc, argv);
    if (rc == 0 && a.range_of)
        rc = range_of(&a);
    if (rc)
        return rc;
    char err[512];
    mpq_tfl_model m;
    if (mpq_tfl_load(a.model, &m, err, sizeof err))
        return bad(err, NULL);
    mpq_fgraph *g = NULL;
    inputs in = {0, 0, NULL};
    if (mpq_fgraph_init(&g, &m, err, sizeof err))
        rc = bad(err, NULL);
    else
        rc = inputs_make(&a, &m, g, &in);
    if (rc == 0)
        rc = abfp_main(&a, &m, g, &in);
    inputs_free(&in);
    mpq_fgraph_free(g);
    mpq_tfl_free(&m);
    return rc;
}
