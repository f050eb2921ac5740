/* SPDX-License-Identifier: Apache-2.0 */
/* mpq-golden model: run a fully-int8 TFLite model through the golden model (bit-exact against
 * TensorFlow Lite Micro), or describe one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "arith/mpq.h"
#include "arith/mpq_layer.h"
#include "net/mpq_graph.h"
#include "net/mpq_tflite.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mpq-golden model run MODEL.tflite --input IN [--output OUT] [--dump DIR]\n"
            "                            [--fc-rounding double|single] [--acc-bits N] [--acc-sat]\n"
            "                            [--repeat N] [--profile] [--golden-kernels]\n"
            "                            [--simd sse2|avx2]\n"
            "       mpq-golden model info MODEL.tflite\n"
            "       mpq-golden model map MODEL.tflite --config NAME ...  (the layers on the\n"
            "                            accelerator's cycle model: mpq-golden model map --help)\n"
            "       mpq-golden model mixprec MODEL.tflite ...  (ternary + sparse int8 decompositions:\n"
            "                            cycles, high-precision share, fidelity; --help)\n"
            "       mpq-golden model abfp MODEL.tflite ...  (in float, its matrix units on an\n"
            "                            analog ABFP array: mpq-golden model abfp --help)\n"
            "\n"
            "run   runs the model once on IN, the raw little-endian bytes of the model's input in\n"
            "      its own type and shape, and writes the output the same way to OUT. A model with\n"
            "      several inputs (outputs) takes one --input (--output) per tensor in the model's\n"
            "      order, or one file holding them all one after the other. The arithmetic is\n"
            "      TensorFlow Lite Micro's, bit for bit.\n"
            "  --dump DIR         every tensor the run computes (and the inputs), one raw file per\n"
            "                     tensor named <tensor index>.bin in the tensor's own type\n"
            "  --fc-rounding R    requantization of FULLY_CONNECTED: double (TFLite Micro, default) or\n"
            "                     single (LiteRT's reference kernels)\n"
            "  --acc-bits N       accumulate CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED in N\n"
            "                     bits (2..32; 32 is TFLite's): the outputs use the N-bit\n"
            "                     accumulators, and a table per layer gives the first overflowing\n"
            "                     output and the narrowest accumulator that never overflows on\n"
            "                     this input (order: bias, then ky, kx, c)\n"
            "  --acc-sat          saturate the N-bit accumulator instead of wrapping\n"
            "  --repeat N         run N times and print the time per inference\n"
            "  --profile          print the time per inference of each operator\n"
            "  --golden-kernels   compute every layer with the MAC engine's exact kernels (fits\n"
            "                     at every term) instead of its tile kernels (same results)\n"
            "  --simd LEVEL       the vector instructions of the kernels at most: sse2 or avx2\n"
            "                     (default: the best the CPU has; the same results)\n"
            "info  prints the operators (options, tensors, MACs), the tensors (type, shape,\n"
            "      quantization) and whether the golden model runs the model.\n"
            "Exit: 0 success, 2 usage error, unreadable or unsupported model, or bad input file.\n");
}

/* ---- files ---- */

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 0, n = 0;
    uint8_t *buf = NULL;
    for (;;) {
        if (n == cap) {
            size_t c = cap / 65536;
            if (!(buf = mpq_grow(buf, &c, 65536))) {
                fclose(f);
                return -1;
            }
            cap = c * 65536;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (!got)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* path.tmp, then rename. */
static int write_atomic(const char *path, const void *data, size_t len)
{
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 5);
    if (!tmp)
        return -1;
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    int bad = !f;
    if (f) {
        bad |= len && fwrite(data, 1, len, f) != len;
        bad |= fclose(f) != 0;
    }
    if (bad || rename(tmp, path) != 0) {
        if (f)
            remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

static int write_tensor(const mpq_net *net, unsigned t, const char *path)
{
    size_t n = mpq_net_tensor_bytes(net, t);
    void *buf = malloc(n + 1);
    int st = buf ? mpq_net_tensor_get(net, t, buf) : -1;
    if (!st)
        st = write_atomic(path, buf, n);
    free(buf);
    if (st) {
        fprintf(stderr, "mpq-golden model: %s: cannot write: %s\n", path, strerror(errno));
        return 2;
    }
    return 0;
}

/* mkdir -p: every missing folder of path. 0 or -1 (errno set). */
static int make_dirs(const char *path)
{
    size_t n = strlen(path);
    char *p = malloc(n + 1);
    if (!p)
        return -1;
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != 0)
            continue;
        char c = p[i];
        p[i] = 0;
        if (mkdir(p, 0777) && errno != EEXIST) {
            free(p);
            return -1;
        }
        p[i] = c;
    }
    free(p);
    struct stat st;
    if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* ---- model run ---- */

#define MAX_IO 16

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void print_reports(const mpq_net *net, const mpq_tfl_model *m, const mpq_net_opts *o)
{
    unsigned n;
    const mpq_net_layer_report *r = mpq_net_reports(net, &n);
    printf("accumulator analysis: %u bits, %s, order: bias, then ky, kx, c (FC: k)\n", o->acc_bits,
           o->acc_mode == MPQ_ACC_SAT ? "saturating" : "wrapping");
    printf("%4s  %-18s %10s %10s  %-22s %6s  %8s  %s\n", "op", "type", "outputs", "overflowed",
           "first (n,y,x,c)", "term", "min bits", "final sums");
    for (unsigned i = 0; i < n; i++) {
        char first[48] = "-", term[16] = "-";
        if (r[i].first[0] >= 0) {
            snprintf(first, sizeof first, "(%ld,%ld,%ld,%ld)", r[i].first[0], r[i].first[1],
                     r[i].first[2], r[i].first[3]);
            snprintf(term, sizeof term, r[i].first_term < 0 ? "bias" : "%ld", r[i].first_term);
        }
        printf("%4u  %-18s %10llu %10llu  %-22s %6s  %8u  [%lld, %lld]\n", r[i].op,
               mpq_tfl_op_name(r[i].code), (unsigned long long)r[i].outputs,
               (unsigned long long)r[i].n_any, first, term, r[i].min_bits, (long long)r[i].acc_lo,
               (long long)r[i].acc_hi);
    }
    (void)m;
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *v)
{
    char *end;
    errno = 0;
    unsigned long x = strtoul(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || x < lo || x > hi)
        return -1;
    *v = (unsigned)x;
    return 0;
}

/* What `model run` was asked. */
typedef struct run_args {
    const char *model, *dump, *in[MAX_IO], *out[MAX_IO];
    unsigned nin, nout, repeat;
    mpq_net_opts o;
} run_args;

/* The value of an option that takes one, parsed into r; 0, or 2 with the message printed. */
static int run_option(run_args *r, const char *a, const char *v)
{
    if (!strcmp(a, "--input") || !strcmp(a, "--output")) {
        unsigned *n = a[2] == 'i' ? &r->nin : &r->nout;
        if (*n == MAX_IO) {
            fprintf(stderr, "mpq-golden model run: more than %d %s files\n", MAX_IO, a);
            return 2;
        }
        (a[2] == 'i' ? r->in : r->out)[(*n)++] = v;
    } else if (!strcmp(a, "--dump")) {
        r->dump = v;
    } else if (!strcmp(a, "--fc-rounding")) {
        if (!strcmp(v, "double"))
            r->o.fc_rounding = MPQ_RQ_DOUBLE;
        else if (!strcmp(v, "single"))
            r->o.fc_rounding = MPQ_RQ_SINGLE;
        else {
            fprintf(stderr, "mpq-golden model run: --fc-rounding '%s': expected double or "
                    "single\n", v);
            return 2;
        }
    } else if (!strcmp(a, "--acc-bits")) {
        if (parse_uint(v, 2, 32, &r->o.acc_bits)) {
            fprintf(stderr, "mpq-golden model run: --acc-bits '%s': expected 2..32\n", v);
            return 2;
        }
    } else if (!strcmp(a, "--repeat")) {
        if (parse_uint(v, 1, 1000000, &r->repeat)) {
            fprintf(stderr, "mpq-golden model run: --repeat '%s': expected 1..1000000\n", v);
            return 2;
        }
    } else { /* --simd */
        mpq_simd lv = MPQ_SIMD_SSE2;
        while (lv <= MPQ_SIMD_AVX2 && strcmp(v, mpq_simd_name(lv)))
            lv++;
        if (lv > MPQ_SIMD_AVX2) {
            fprintf(stderr, "mpq-golden model run: --simd '%s': expected sse2 or avx2\n", v);
            return 2;
        }
        mpq_simd_limit(lv);
    }
    return 0;
}

/* The command line of `model run` into r: 0, 1 for --help (printed), or 2 (message printed). */
static int run_parse(int argc, char **argv, run_args *r)
{
    memset(r, 0, sizeof *r);
    r->repeat = 1;
    mpq_net_opts_default(&r->o);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(a, "--input") || !strcmp(a, "--output") || !strcmp(a, "--dump") ||
                    !strcmp(a, "--fc-rounding") || !strcmp(a, "--acc-bits") ||
                    !strcmp(a, "--repeat") || !strcmp(a, "--simd");
        if (takes && !v) {
            fprintf(stderr, "mpq-golden model run: %s needs a value\n", a);
            return 2;
        }
        if (takes) {
            if (run_option(r, a, v))
                return 2;
            i++;
        } else if (!strcmp(a, "--acc-sat")) {
            r->o.acc_mode = MPQ_ACC_SAT;
        } else if (!strcmp(a, "--profile")) {
            r->o.profile = 1;
        } else if (!strcmp(a, "--golden-kernels")) {
            r->o.golden_kernels = 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 1;
        } else if (a[0] == '-' || r->model) {
            fprintf(stderr, "mpq-golden model run: unexpected argument '%s' (see mpq-golden "
                    "model --help)\n", a);
            return 2;
        } else {
            r->model = a;
        }
    }
    if (!r->model || !r->nin) {
        fprintf(stderr, "mpq-golden model run: %s (see mpq-golden model --help)\n",
                !r->model ? "no MODEL.tflite" : "no --input");
        return 2;
    }
    return 0;
}

/* The --input files into the net: one file per input, or one file holding every input one
 * after the other. 0, or 2 with the message printed. */
static int run_inputs(mpq_net *net, const run_args *r)
{
    unsigned nmi = mpq_net_ninputs(net);
    char err[700];
    uint8_t *buf = NULL;
    for (unsigned f = 0, i = 0; f < r->nin; f++) {
        size_t len, at = 0, need = 0;
        if (read_file(r->in[f], &buf, &len)) {
            fprintf(stderr, "mpq-golden model run: %s: cannot read: %s\n", r->in[f], strerror(errno));
            return 2;
        }
        unsigned last = r->nin == nmi ? i : nmi - 1;
        for (unsigned j = i; j <= last; j++)
            need += mpq_net_tensor_bytes(net, (unsigned)mpq_net_input_tensor(net, j));
        if (last > i && len != need) {
            fprintf(stderr, "mpq-golden model run: %s: wrong size: the model's %u inputs take %zu "
                    "bytes, got %zu\n", r->in[f], nmi, need, len);
            free(buf);
            return 2;
        }
        for (; i <= last; i++) {
            size_t n = last > i || at ? mpq_net_tensor_bytes(net, (unsigned)mpq_net_input_tensor(net, i))
                                      : len;
            if (mpq_net_set_input(net, i, buf + at, n, err, sizeof err)) {
                fprintf(stderr, "mpq-golden model run: %s: wrong size: %s\n", r->in[f], err);
                free(buf);
                return 2;
            }
            at += n;
        }
        free(buf);
        buf = NULL;
    }
    return 0;
}

/* The outputs into the --output files (one per output, or all in one) and every computed
 * tensor into --dump. 0, or 2 with the message printed. */
static int run_outputs(mpq_net *net, const mpq_tfl_model *m, const run_args *r)
{
    unsigned nmo = mpq_net_noutputs(net);
    int rc = 0;
    if (r->nout == nmo) {
        for (unsigned i = 0; i < r->nout && !rc; i++)
            rc = write_tensor(net, (unsigned)mpq_net_output_tensor(net, i), r->out[i]);
    } else if (r->nout) { /* every output in one file, one after the other */
        size_t total = 0;
        for (unsigned i = 0; i < nmo; i++)
            total += mpq_net_tensor_bytes(net, (unsigned)mpq_net_output_tensor(net, i));
        uint8_t *all = malloc(total + 1);
        for (size_t i = 0, at = 0; all && i < nmo; i++) {
            unsigned t = (unsigned)mpq_net_output_tensor(net, (unsigned)i);
            mpq_net_tensor_get(net, t, all + at);
            at += mpq_net_tensor_bytes(net, t);
        }
        if (!all || write_atomic(r->out[0], all, total)) {
            fprintf(stderr, "mpq-golden model run: %s: cannot write: %s\n", r->out[0], strerror(errno));
            rc = 2;
        }
        free(all);
    }
    if (r->dump && !rc) {
        if (make_dirs(r->dump)) {
            fprintf(stderr, "mpq-golden model run: %s: cannot create: %s\n", r->dump, strerror(errno));
            rc = 2;
        }
        for (unsigned t = 0; t < m->ntensors && !rc; t++) {
            if (!mpq_net_tensor_computed(net, t))
                continue;
            char path[4200];
            snprintf(path, sizeof path, "%s/%u.bin", r->dump, t);
            rc = write_tensor(net, t, path);
        }
    }
    return rc;
}

static int model_run(int argc, char **argv)
{
    run_args r;
    int st = run_parse(argc, argv, &r);
    if (st)
        return st == 1 ? 0 : 2;
    char err[700];
    mpq_tfl_model m;
    if (mpq_tfl_load(r.model, &m, err, sizeof err)) {
        fprintf(stderr, "mpq-golden model run: %s\n", err);
        return 2;
    }
    mpq_net *net = NULL;
    int rc = 2;
    if (mpq_net_init(&net, &m, &r.o, err, sizeof err)) {
        fprintf(stderr, "mpq-golden model run: %s\n", err);
        goto done;
    }
    unsigned nmi = mpq_net_ninputs(net), nmo = mpq_net_noutputs(net);
    if ((r.nin != nmi && r.nin != 1) || (r.nout && r.nout != nmo && r.nout != 1)) {
        fprintf(stderr, "mpq-golden model run: %s has %u inputs and %u outputs; got %u --input "
                "and %u --output (give one per tensor, or one file for all)\n", r.model, nmi, nmo,
                r.nin, r.nout);
        goto done;
    }
    if (run_inputs(net, &r))
        goto done;
    double dt = 0, best = 1e30;
    for (unsigned k = 0; k < r.repeat; k++) {
        double t0 = now_s();
        if (mpq_net_run(net, err, sizeof err)) {
            fprintf(stderr, "mpq-golden model run: %s\n", err);
            goto done;
        }
        double t = now_s() - t0;
        dt += t;
        best = t < best ? t : best;
    }
    if (r.repeat > 1)
        printf("%s: %u runs, %.4f ms per inference (mean), %.4f ms (best), %s\n", r.model, r.repeat,
               1e3 * dt / r.repeat, 1e3 * best, mpq_simd_name(mpq_simd_level()));
    if (r.o.profile) {
        printf("%4s  %-18s %12s %10s\n", "op", "type", "MACs", "ms/run");
        for (unsigned i = 0; i < m.nops; i++)
            printf("%4u  %-18s %12lld %10.4f\n", i, mpq_tfl_op_name(m.ops[i].code),
                   (long long)mpq_net_op_macs(&m, i), 1e3 * mpq_net_op_seconds(net, i) / r.repeat);
    }
    rc = run_outputs(net, &m, &r);
    if (!rc && (r.o.analyze || r.o.acc_bits < 32 || r.o.acc_mode != MPQ_ACC_WRAP))
        print_reports(net, &m, &r.o);
done:
    mpq_net_free(net);
    mpq_tfl_free(&m);
    return rc;
}

/* ---- model info ---- */

static const char *shape_text(const mpq_tfl_tensor *t, char *buf, size_t len)
{
    size_t at = 0;
    snprintf(buf, len, "scalar");
    for (unsigned i = 0; i < t->rank && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, i ? "x%d" : "%d", t->shape[i]);
    return buf;
}

static const char *quant_text(const mpq_tfl_tensor *t, char *buf, size_t len)
{
    const mpq_tfl_quant *q = &t->q;
    if (!q->nscale) {
        snprintf(buf, len, "-");
    } else if (q->nscale == 1) {
        snprintf(buf, len, "scale %.9g zp %lld", (double)q->scale[0],
                 q->nzero ? (long long)q->zero_point[0] : 0LL);
    } else {
        float lo = q->scale[0], hi = q->scale[0];
        int zero = 1;
        for (unsigned i = 0; i < q->nscale; i++) {
            lo = q->scale[i] < lo ? q->scale[i] : lo;
            hi = q->scale[i] > hi ? q->scale[i] : hi;
        }
        for (unsigned i = 0; i < q->nzero; i++)
            zero &= q->zero_point[i] == 0;
        snprintf(buf, len, "%u scales along dim %d [%.3g, %.3g] zp %s", q->nscale, q->dim,
                 (double)lo, (double)hi, zero ? "0" : "varies");
    }
    return buf;
}

static const char *opts_text(const mpq_tfl_op *o, char *buf, size_t len)
{
    const mpq_tfl_opts *p = &o->opt;
    const char *pad = p->padding == 0 ? "SAME" : p->padding == 1 ? "VALID" : "?";
    buf[0] = 0;
    switch (o->opt_type) {
    case 1:
        snprintf(buf, len, "stride %dx%d dilation %dx%d %s %s", p->stride_h, p->stride_w,
                 p->dilation_h, p->dilation_w, pad, mpq_tfl_act_name(p->activation));
        break;
    case 2:
        snprintf(buf, len, "stride %dx%d dilation %dx%d mult %d %s %s", p->stride_h, p->stride_w,
                 p->dilation_h, p->dilation_w, p->depth_multiplier, pad,
                 mpq_tfl_act_name(p->activation));
        break;
    case 5:
        snprintf(buf, len, "window %dx%d stride %dx%d %s %s", p->filter_h, p->filter_w,
                 p->stride_h, p->stride_w, pad, mpq_tfl_act_name(p->activation));
        break;
    case 8:
        snprintf(buf, len, "%s%s", mpq_tfl_act_name(p->activation),
                 p->keep_num_dims ? " keep_num_dims" : "");
        break;
    case 9:
        snprintf(buf, len, "beta %g", (double)p->beta);
        break;
    case 10:
        snprintf(buf, len, "axis %d %s", p->axis, mpq_tfl_act_name(p->activation));
        break;
    case 11:
        snprintf(buf, len, "%s", mpq_tfl_act_name(p->activation));
        break;
    case 27:
        snprintf(buf, len, "keep_dims %d", p->keep_dims);
        break;
    case 32:
        snprintf(buf, len, "masks begin %d end %d shrink %d", p->begin_mask, p->end_mask,
                 p->shrink_axis_mask);
        break;
    case 59:
        snprintf(buf, len, "values %d axis %d", p->values_count, p->axis);
        break;
    default:
        break;
    }
    return buf;
}

static void list(char *buf, size_t len, const int32_t *v, unsigned n)
{
    size_t at = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < n && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, i ? ",%d" : "%d", v[i]);
}

static int model_info(int argc, char **argv)
{
    if (argc != 3 || argv[2][0] == '-') {
        if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
            usage(stdout);
            return 0;
        }
        fprintf(stderr, "mpq-golden model info: expected one MODEL.tflite (see mpq-golden model "
                "--help)\n");
        return 2;
    }
    char err[700], a[160], b[160], c[160];
    mpq_tfl_model m;
    if (mpq_tfl_load(argv[2], &m, err, sizeof err)) {
        fprintf(stderr, "mpq-golden model info: %s\n", err);
        return 2;
    }
    printf("%s: TensorFlow Lite schema %u, %u subgraph%s, %u operators, %u tensors, %u buffers\n",
           m.file, m.version, m.nsubgraphs, m.nsubgraphs == 1 ? "" : "s", m.nops, m.ntensors,
           m.nbuffers);
    if (m.description)
        printf("description: %s\n", m.description);
    for (int io = 0; io < 2; io++) {
        unsigned n = io ? m.noutputs : m.ninputs;
        const int32_t *v = io ? m.outputs : m.inputs;
        for (unsigned i = 0; i < n; i++) {
            const mpq_tfl_tensor *t = &m.tensors[v[i]];
            printf("%s %u: tensor %d %s %s (%s), %lld bytes\n", io ? "output" : "input", i, v[i],
                   mpq_tfl_type_name(t->type), shape_text(t, a, sizeof a), quant_text(t, b, sizeof b),
                   (long long)mpq_tfl_elements(t) * mpq_tfl_type_size(t->type));
        }
    }
    mpq_net *net = NULL;
    if (mpq_net_init(&net, &m, NULL, err, sizeof err))
        printf("golden model: cannot run it: %s\n", err);
    else
        printf("golden model: runs it (every operator supported)\n");
    mpq_net_free(net);
    printf("\noperators:\n%4s  %-18s %-16s %-10s %12s  %s\n", "op", "type", "inputs", "outputs",
           "MACs", "options");
    int64_t total = 0;
    for (unsigned i = 0; i < m.nops; i++) {
        const mpq_tfl_op *o = &m.ops[i];
        int64_t macs = mpq_net_op_macs(&m, i);
        total = macs > INT64_MAX - total ? INT64_MAX : total + macs;
        list(a, sizeof a, o->in, o->nin);
        list(b, sizeof b, o->out, o->nout);
        printf("%4u  %-18s %-16s %-10s %12lld  %s\n", i,
               o->custom ? o->custom : mpq_tfl_op_name(o->code), a, b, (long long)macs,
               opts_text(o, c, sizeof c));
    }
    printf("total MACs: %lld\n", (long long)total);
    printf("\ntensors:\n%4s  %-7s %-14s %-46s %9s  %s\n", "idx", "type", "shape", "quantization",
           "const", "name");
    for (unsigned i = 0; i < m.ntensors; i++) {
        const mpq_tfl_tensor *t = &m.tensors[i];
        char cb[24] = "-";
        if (t->data)
            snprintf(cb, sizeof cb, "%zu B", t->size);
        printf("%4u  %-7s %-14s %-46s %9s  %s\n", i, mpq_tfl_type_name(t->type),
               shape_text(t, a, sizeof a), quant_text(t, b, sizeof b), cb, t->name ? t->name : "");
    }
    mpq_tfl_free(&m);
    return 0;
}

int mpq_cli_model(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "run"))
        return model_run(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "info"))
        return model_info(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "map"))
        return mpq_cli_model_map(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "mixprec"))
        return mpq_cli_model_mixprec(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "abfp"))
        return mpq_cli_model_abfp(argc, argv);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "mpq-golden model: expected 'run', 'info', 'map' or 'abfp' (see mpq-golden model --help)\n");
    return 2;
}
