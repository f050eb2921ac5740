/* SPDX-License-Identifier: Apache-2.0 */
/* mpq-cnn: a small CNN on Fashion-MNIST through the golden model (make cnn).
 *   1. trains the float CNN from a seed (cnn_net.c; cached in
 *      OUT/cnn-<arch>-s<seed>-e<epochs>.bin, the same seed giving the same bytes);
 *   2. quantizes it per scheme (mn_quant.c) and reports test accuracy on all 10,000 test
 *      images with the golden model (mpq_conv, mpq_pool);
 *   3. the study (mn_study.c): accuracy versus sparse density and structure, the N:G groups
 *      along the input channels, along the kernel window, or unstructured; and versus the
 *      accumulator width (wrap and saturate) with the golden model's overflow counts.
 * Tables go to stdout and OUT/results.md; the study's data to OUT/density.tsv and
 * OUT/accbits.tsv (plotted by scripts/workloads/mnist-plot.sh). The RTL run is mpq-mnist-rtl (mn_rtl.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mn_cli.h"
#include "mnist.h"

/* The data and the model live until exit; freed by an exit handler on every path. */
static mn_set train_set, test_set;
static cnn_net net;
static int32_t *xq;
static void cleanup(void)
{
    cnn_free(&net);
    mn_free(&train_set);
    mn_free(&test_set);
    free(xq);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mpq-cnn [--data DIR] [--arch A] [--seed S] [--epochs E] [--out DIR] [--quick]\n"
            "               [--train-count N] [--test-count N] [--train-only]\n"
            "Trains (or reuses) the float CNN, quantizes it, reports test accuracy per scheme and\n"
            "the density / structure / accumulator-width study, with the golden model.\n"
            "  --data DIR   the IDX files (default " MN_DATA_DIR ")\n"
            "  --arch A     the network (default " CNN_DEFAULT_ARCH "): cN conv of N 3x3\n"
            "               filters (kK kernel, sS stride, v VALID, else SAME), pP PxP max\n"
            "               pooling, fN the classifier over the whole last map (N = 10)\n"
            "  --seed S     training seed (default 1)   --epochs E  (default 6)\n"
            "  --out DIR    results and the cached model (default build/cnn)\n"
            "  --quick      1,000 test images and fewer study points (a smoke test)\n"
            "  --test-count N  evaluate on the first N test images (default 10,000; --quick 1,000)\n"
            "  --train-count N  train on the first N training images (default all 60,000)\n"
            "  --train-only     stop after training (or loading) the cached model\n"
            "Exit: 0 done, 2 bad arguments or input.\n");
}

static int quantize_cnn(const void *n, const float *amax, const mn_qspec *spec, mn_qnet *q, char *err,
                        size_t errlen)
{
    return cnn_quantize(n, amax, spec, q, err, errlen);
}

/* The model's file: the architecture in the name, commas as underscores. */
static void model_path(char *path, size_t len, const char *out, const char *arch, unsigned long long seed,
                       unsigned epochs, unsigned train_n)
{
    char a[64];
    snprintf(a, sizeof a, "%s", arch);
    for (char *p = a; *p; p++)
        if (*p == ',')
            *p = '_';
    if (train_n == 60000)
        snprintf(path, len, "%s/cnn-%s-s%llu-e%u.bin", out, a, seed, epochs);
    else
        snprintf(path, len, "%s/cnn-%s-s%llu-e%u-n%u.bin", out, a, seed, epochs, train_n);
}

/* Describes the network's layers into buf (one line each). */
static void describe(const cnn_net *n, FILE *f, const char *prefix)
{
    for (unsigned l = 0; l < n->nl; l++) {
        const mpq_conv_shape *s = &n->layer[l].s;
        fprintf(f, "%slayer %u: %-8s %2ux%2ux%-3u -> %2ux%2ux%-3u", prefix, l + 1,
                l + 1 == n->nl ? "fc" : mpq_layer_name(s->kind), s->in_h, s->in_w, s->in_c, s->out_h,
                s->out_w, s->out_c);
        if (s->kind == MPQ_LAYER_CONV2D)
            fprintf(f, "  %ux%u stride %u pad %u,%u  %zu weights%s\n", s->kh, s->kw, s->sy, s->py, s->px,
                    mpq_conv_w_count(s), n->layer[l].relu ? ", ReLU" : "");
        else
            fprintf(f, "  %ux%u stride %u\n", s->kh, s->kw, s->sy);
    }
}

/* The three tables of the study on the golden model (mn_study.c). Returns 0 or -1 (printed). */
static int run_study(mn_study *st, const char *arch, unsigned long long seed, unsigned epochs, int quick)
{
    /* --- Schemes (N:G along the input channels: the accelerator's groups) --- */
    static const mn_study_scheme schemes[] = {
        {"dense int8 (per-channel)", {.scheme = MN_DENSE8}},
        {"ternary only (TWN 0.7)", {.scheme = MN_TERN}},
        {"ternary only, first layer int8", {.scheme = MN_TERN, .first_dense = 1}},
        {"ternary + 1:16 int8 (the default RTL)", {.scheme = MN_MIXED, .hp_n = 1, .group = 16}},
        {"ternary + 2:16 int8 (mix2 RTL)", {.scheme = MN_MIXED, .hp_n = 2, .group = 16}},
        {"ternary + 4:16 int8", {.scheme = MN_MIXED, .hp_n = 4, .group = 16}},
    };
    fprintf(st->md, "Test accuracy on %u Fashion-MNIST test images (golden model, int8 activations, "
            "32-bit accumulator), CNN %s (%zu weights), seed %llu, %u epochs:\n\n", st->count, arch,
            cnn_weight_count(&net), seed, epochs);
    describe(&net, st->md, "    ");
    fprintf(st->md, "\n");
    if (mn_study_schemes(st, schemes, sizeof schemes / sizeof schemes[0]) != 0)
        return -1;

    /* --- Density x structure: the axis of the N:G groups --- */
    static const double dens[] = {0.0, 1.0 / 64, 1.0 / 32, 1.0 / 16, 1.0 / 9, 1.0 / 8, 2.0 / 9, 1.0 / 4, 1.0 / 3};
    static const char *const dname[] = {"0", "1/64", "1/32", "1/16", "1/9", "1/8", "2/9", "1/4", "1/3"};
    static const mn_study_column cols[] = {
        {"channels N:4", MPQ_DECOMP_CHANNEL, 4}, {"channels N:8", MPQ_DECOMP_CHANNEL, 8},
        {"channels N:16", MPQ_DECOMP_CHANNEL, 16}, {"channels N:32", MPQ_DECOMP_CHANNEL, 32},
        {"window N:3", MPQ_DECOMP_WINDOW, 3}, {"window N:9", MPQ_DECOMP_WINDOW, 9},
        {"unstructured", MPQ_DECOMP_UNSTRUCTURED, 0},
    };
    static const double qdens[] = {0.0, 1.0 / 16, 1.0 / 9};
    static const char *const qdname[] = {"0", "1/16", "1/9"};
    if (mn_study_density(st, "Accuracy versus high-precision density and structure (ternary + sparse "
                         "int8; the first layer dense int8 in every cell, the others alike; N:G with "
                         "N = density x G; channels: G consecutive input channels at one kernel "
                         "position, aligned on the channel index, the accelerator's groups; window: G "
                         "consecutive kernel positions ky*kw + kx of one input channel, N:3 a kernel "
                         "row, N:9 the whole 3x3 window; unstructured: the largest residuals of each "
                         "output channel). In brackets the measured density, int8 non-zeros / weights, "
                         "the first layer's included:",
                         cols, sizeof cols / sizeof cols[0], quick ? qdens : dens, quick ? qdname : dname,
                         quick ? 3 : sizeof dens / sizeof dens[0], 1, 1) != 0)
        return -1;

    /* --- Accumulator width, wrap and saturate (ternary + 1:16 along the channels) --- */
    size_t per_image = 0;
    for (unsigned l = 0; l < net.nl; l++)
        if (net.layer[l].s.kind == MPQ_LAYER_CONV2D)
            per_image += (size_t)net.layer[l].s.out_h * net.layer[l].s.out_w * net.layer[l].s.out_c;
    size_t outputs = (size_t)st->count * per_image;
    char intro[320];
    snprintf(intro, sizeof intro, "Accuracy and overflows versus accumulator width (ternary + 1:16 along "
             "the input channels, grouped by 16 as the accelerator adds; an output counts when any partial "
             "sum of its accumulation overflowed; %zu outputs in all):", outputs);
    mn_qspec mixed = {.scheme = MN_MIXED, .axis = MPQ_DECOMP_CHANNEL, .hp_n = 1, .group = 16};
    if (mn_study_accbits(st, intro, "ternary + 1:16", &mixed, outputs, 12, quick ? 10 : 2) != 0)
        return -1;
    return mn_study_publish(st);
}

/* The float CNN of path: loaded when the cache holds it, else trained from seed (net holds
 * the initialized net) and saved. Returns 0 or 2 (printed). */
static int train_or_load(const char *path, const char *arch, unsigned long long seed, unsigned epochs)
{
    char err[1024];
    double t0 = mn_now_s();
    clock_t c0 = clock();
    cnn_net cached;
    if (cnn_load(&cached, path, arch, err, sizeof err) == 0) {
        cnn_free(&net);
        net = cached;
        printf("cnn: float CNN %s from %s (seed %llu, %u epochs)\n", arch, path, seed, epochs);
    } else {
        struct stat st;
        if (stat(path, &st) == 0) /* a cached model that does not load is retrained, loudly */
            printf("cnn: the cached model is unusable (%s); training again\n", err);
        printf("cnn: training the float CNN %s (%zu weights), seed %llu, %u epochs, %u images\n", arch,
               cnn_weight_count(&net), seed, epochs, train_set.n);
        describe(&net, stdout, "cnn:   ");
        fflush(stdout);
        if (cnn_train(&net, &train_set, &test_set, epochs, seed, stdout) != 0) {
            fprintf(stderr, "mpq-cnn: training failed (out of memory)\n");
            return 2;
        }
        if (cnn_save(&net, path, err, sizeof err) != 0) {
            fprintf(stderr, "mpq-cnn: %s\n", err);
            return 2;
        }
        printf("cnn: trained in %.1f s (%.1f s of CPU), saved %s\n", mn_now_s() - t0,
               (double)(clock() - c0) / CLOCKS_PER_SEC, path);
    }
    return 0;
}

/* mpq-cnn's own options. */
typedef struct cnn_opts {
    const char *arch;
    unsigned test_count; /* 0: every test image (1,000 with --quick) */
} cnn_opts;

static int cnn_opt(void *ctx, int argc, char **argv, int *i)
{
    cnn_opts *c = ctx;
    const char *a = argv[*i];
    unsigned long long v;
    if (*i + 1 >= argc)
        return 0;
    if (!strcmp(a, "--arch")) {
        c->arch = argv[++*i];
    } else if (!strcmp(a, "--test-count")) {
        if (mn_parse_u("mpq-cnn", a, argv[++*i], 1, 10000, &v) != 0)
            return -1;
        c->test_count = (unsigned)v;
    } else {
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    mn_opts o = {.data = MN_DATA_DIR, .out = "build/cnn", .seed = 1, .epochs = 6};
    cnn_opts co = {.arch = CNN_DEFAULT_ARCH};
    int r = mn_parse_opts("mpq-cnn", argc, argv, &o, usage, cnn_opt, &co);
    if (r != 0)
        return r == 1 ? 0 : 2;
    const char *arch = co.arch, *out = o.out;
    unsigned long long seed = o.seed;
    unsigned epochs = o.epochs, test_count = co.test_count;
    int quick = o.quick, train_only = o.train_only;
    char err[1024];
    atexit(cleanup);
    /* The architecture first: a bad one is refused before any data is read. */
    if (cnn_init(&net, arch, seed, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-cnn: --arch: %s\n", err);
        return 2;
    }
    if (mn_load_sets("mpq-cnn", &o, &train_set, &test_set) != 0)
        return 2;
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "mpq-cnn: cannot create %s: %s\n", out, strerror(errno));
        return 2;
    }
    char path[1200];
    model_path(path, sizeof path, out, arch, seed, epochs, train_set.n);
    double t0 = mn_now_s();
    if (train_or_load(path, arch, seed, epochs) != 0)
        return 2;
    if (train_only)
        return 0;

    unsigned count = test_count ? test_count : quick ? 1000 : test_set.n, npix = 28 * 28;
    if (count > test_set.n)
        count = test_set.n;
    double facc = cnn_accuracy(&net, &test_set, count);
    float amax[CNN_MAX_LAYERS];
    cnn_calibrate(&net, &train_set, 2000, amax);
    if (!(xq = malloc((size_t)count * npix * sizeof *xq))) {
        fprintf(stderr, "mpq-cnn: out of memory\n");
        return 2;
    }
    for (unsigned i = 0; i < count; i++)
        mn_input(&test_set.images[(size_t)i * npix], npix, &xq[(size_t)i * npix]);
    char rpath[1200];
    snprintf(rpath, sizeof rpath, "%s/results.md.tmp", out);
    mn_study st = {.tag = "mpq-cnn", .out = out, .net = &net, .amax = amax, .quantize = quantize_cnn,
                   .x = xq, .labels = test_set.labels, .count = count, .float_acc = facc, .group = 16};
    if (!(st.md = fopen(rpath, "w"))) {
        fprintf(stderr, "mpq-cnn: cannot write %s: %s\n", rpath, strerror(errno));
        return 2;
    }

    if (run_study(&st, arch, seed, epochs, quick) != 0)
        return 2;
    printf("\ncnn: results in %s/results.md, %s/density.tsv, %s/accbits.tsv (%.1f s)\n", out, out, out,
           mn_now_s() - t0);
    return 0;
}
