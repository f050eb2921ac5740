/* SPDX-License-Identifier: Apache-2.0 */
/* mpq-mnist: Fashion-MNIST through the golden model (make mnist).
 *   1. trains the float MLP 784-256-128-10 from a seed (cached in OUT/mlp-s<seed>-e<epochs>.bin);
 *   2. quantizes it per scheme and reports test accuracy on all 10,000 test images;
 *   3. the study: accuracy versus sparse density and structure, and versus accumulator width
 *      (wrap and saturate) with the golden model's overflow counts.
 * Tables go to stdout and OUT/results.md; the study's data to OUT/density.tsv and
 * OUT/accbits.tsv (plotted by scripts/workloads/mnist-plot.sh). The RTL run is mn_rtl.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mn_cli.h"
#include "mnist.h"

/* The data and the model live until exit; freed by an exit handler on every path. */
static mn_set train_set, test_set;
static mn_mlp mlp;
static void cleanup(void)
{
    mn_mlp_free(&mlp);
    mn_free(&train_set);
    mn_free(&test_set);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mpq-mnist [--data DIR] [--seed S] [--epochs E] [--out DIR] [--quick]\n"
            "                 [--train-count N] [--train-only]\n"
            "       mpq-mnist --emit-vectors DIR --config CFG [--images N] [--acc sat|wrap] [...]\n"
            "Trains (or reuses) the float MLP, quantizes it, reports test accuracy per scheme\n"
            "and the density / accumulator-width study, with the golden model.\n"
            "  --data DIR   the IDX files (default " MN_DATA_DIR ")\n"
            "  --seed S     training seed (default 1)   --epochs E  (default 12)\n"
            "  --out DIR    results and the cached model (default build/mnist)\n"
            "  --quick      1,000 test images and fewer study points (a smoke test)\n"
            "  --train-count N  train on the first N training images (default all 60,000)\n"
            "  --train-only     stop after training (or loading) the cached model\n"
            "  --emit-vectors DIR  instead of the study: the weights the accelerator CFG\n"
            "                   (rtl/cfg/NAME.cfg) computes (HpPerGroup 0: ternary; = KLanes:\n"
            "                   dense int8; else ternary + HpPerGroup:KLanes), their accuracy on\n"
            "                   the test images with its AccBits accumulator, and the layers of\n"
            "                   the first N test images (--images, default 16) as vector files\n"
            "                   DIR/layer<l>.vec; DIR/summary.tsv lists them\n"
            "  --acc sat|wrap   the accumulator of --emit-vectors (default wrap)\n"
            "Exit: 0 done, 2 bad arguments or input.\n");
}

static int quantize_mlp(const void *net, const float *amax, const mn_qspec *spec, mn_qnet *q,
                        char *err, size_t errlen)
{
    return mn_quantize(net, amax, spec, q, err, errlen);
}

/* Test accuracy of q on the first count images x with its accumulator: 0 or an MPQ_E* code
 * (message printed). */
static int eval_q(const mn_qnet *q, const int32_t *x, const mn_set *test, unsigned count,
                  unsigned acc_bits, mpq_acc_mode mode, double *acc)
{
    char err[512];
    int32_t *y = malloc((size_t)count * 10 * sizeof *y);
    if (!y)
        return MPQ_ENOMEM;
    int rc = mn_qnet_run(q, x, count, acc_bits, mode, 16, y, NULL, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "mpq-mnist: golden model: %s\n", err);
    else
        *acc = mn_accuracy(y, test->labels, count, 10);
    free(y);
    return rc;
}

/* --emit-vectors: the scheme the accelerator cfg computes, its accuracy on `count` test
 * images with the cfg's accumulator, and the layers of the first `images` as vector files. */
static int emit(int argc, char **argv, const float *amax, const int32_t *x, unsigned count,
                const char *cfg, const char *dir, unsigned images, int acc_sat)
{
    char err[1400], path[1200], cmd[512];
    mpq_hwcfg hw;
    if (mpq_hwcfg_load(cfg, &hw, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-mnist: %s\n", err);
        return 2;
    }
    mn_scheme s = hw.hp_per_group == 0 ? MN_TERN : hw.hp_per_group == hw.klanes ? MN_DENSE8 : MN_MIXED;
    mn_qspec spec = {.scheme = s, .axis = MPQ_DECOMP_CHANNEL, .hp_n = hw.hp_per_group, .group = hw.klanes};
    mn_qnet q;
    if (mn_quantize(&mlp, amax, &spec, &q, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-mnist: quantize: %s\n", err);
        return 2;
    }
    double acc = 0;
    mpq_acc_mode mode = acc_sat ? MPQ_ACC_SAT : MPQ_ACC_WRAP;
    if (images > count || eval_q(&q, x, &test_set, count, hw.acc_bits, mode, &acc) != 0) {
        if (images > count)
            fprintf(stderr, "mpq-mnist: --images %u: only %u test images\n", images, count);
        mn_qnet_free(&q);
        return 2;
    }
    size_t used = 0;
    cmd[0] = '\0';
    for (int i = 0; i < argc && used + 2 < sizeof cmd; i++) {
        int n = snprintf(cmd + used, sizeof cmd - used, "%s%s", i ? " " : "", argv[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/summary.tsv.tmp", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "mpq-mnist: cannot write %s: %s\n", path, strerror(errno));
        mn_qnet_free(&q);
        return 2;
    }
    char hb[256];
    fprintf(f, "# %s; weights %s; accumulator %u-bit %s\n", mpq_hwcfg_str(&hw, hb, sizeof hb),
            s == MN_TERN ? "ternary" : s == MN_DENSE8 ? "dense int8" : "ternary + sparse int8",
            hw.acc_bits, acc_sat ? "saturating" : "wrapping");
    fprintf(f, "accuracy\t%.4f\t%u\n", 100.0 * acc, count);
    fprintf(f, "# layer\tm\tk\tn\tcycles\tmacs\n");
    int rc = mn_emit_vectors(&q, &hw, x, images, acc_sat, dir, cmd, f, err, sizeof err);
    mn_qnet_free(&q);
    if (fclose(f) != 0 && rc == 0) {
        snprintf(err, sizeof err, "%s: write failed", path);
        rc = 2;
    }
    char final[1200];
    snprintf(final, sizeof final, "%s/summary.tsv", dir);
    if (rc != 0 || rename(path, final) != 0) {
        fprintf(stderr, "mpq-mnist: %s\n", rc ? err : "cannot rename the summary");
        remove(path);
        return rc ? rc : 2;
    }
    printf("mnist: %s: accuracy %.2f%% on %u test images (%u-bit %s accumulator); "
           "vectors of %u images in %s\n", cfg, 100.0 * acc, count, hw.acc_bits,
           acc_sat ? "saturating" : "wrapping", images, dir);
    return 0;
}

/* mpq-mnist's own options: the vector files of one configuration. */
typedef struct emit_opts {
    const char *dir, *cfg;
    unsigned images;
    int sat;
} emit_opts;

static int emit_opt(void *ctx, int argc, char **argv, int *i)
{
    emit_opts *e = ctx;
    const char *a = argv[*i];
    unsigned long long v;
    if (*i + 1 >= argc)
        return 0;
    if (!strcmp(a, "--emit-vectors")) {
        e->dir = argv[++*i];
    } else if (!strcmp(a, "--config")) {
        e->cfg = argv[++*i];
    } else if (!strcmp(a, "--acc")) {
        const char *acc = argv[++*i];
        if (strcmp(acc, "sat") && strcmp(acc, "wrap")) {
            fprintf(stderr, "mpq-mnist: --acc: `%s` is not sat or wrap\n", acc);
            return -1;
        }
        e->sat = !strcmp(acc, "sat");
    } else if (!strcmp(a, "--images")) {
        if (mn_parse_u("mpq-mnist", a, argv[++*i], 1, 10000, &v) != 0)
            return -1;
        e->images = (unsigned)v;
    } else {
        return 0;
    }
    return 1;
}

/* The float MLP of this seed and epoch count: from its cache file in out, or trained (and
 * cached). Returns 0, or 2 after a message. */
static int load_or_train(const char *out, unsigned long long seed, unsigned epochs)
{
    char err[1024], path[1200];
    mkdir(out, 0777);
    if (train_set.n == 60000)
        snprintf(path, sizeof path, "%s/mlp-s%llu-e%u.bin", out, seed, epochs);
    else
        snprintf(path, sizeof path, "%s/mlp-s%llu-e%u-n%u.bin", out, seed, epochs, train_set.n);
    double t0 = mn_now_s();
    if (mn_mlp_load(&mlp, path, err, sizeof err) == 0) {
        printf("mnist: float MLP 784-256-128-10 from %s (seed %llu, %u epochs)\n", path, seed, epochs);
        return 0;
    }
    struct stat st;
    if (stat(path, &st) == 0) /* a cached model that does not load is retrained, loudly */
        printf("mnist: the cached model is unusable (%s); training again\n", err);
    unsigned dims[4] = {784, 256, 128, 10};
    printf("mnist: training the float MLP 784-256-128-10, seed %llu, %u epochs\n", seed, epochs);
    fflush(stdout);
    if (mn_mlp_init(&mlp, dims, 3, seed) != 0 ||
        mn_mlp_train(&mlp, &train_set, &test_set, epochs, seed, stdout) != 0) {
        fprintf(stderr, "mpq-mnist: training failed (out of memory)\n");
        return 2;
    }
    if (mn_mlp_save(&mlp, path, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-mnist: %s\n", err);
        return 2;
    }
    printf("mnist: trained in %.1f s, saved %s\n", mn_now_s() - t0, path);
    return 0;
}

/* The study of the quantized MLP on the first `count` test images x: weight schemes, density
 * x structure, accumulator width, into out/results.md, density.tsv and accbits.tsv. Returns
 * 0, or 2 after a message. */
static int run_study(const char *out, int32_t *x, unsigned count, double facc, float *amax,
                     unsigned long long seed, unsigned epochs, int quick)
{
    char rpath[1200];
    snprintf(rpath, sizeof rpath, "%s/results.md.tmp", out);
    mn_study st = {.tag = "mpq-mnist", .out = out, .net = &mlp, .amax = amax, .quantize = quantize_mlp,
                   .x = x, .labels = test_set.labels, .count = count, .float_acc = facc, .group = 16};
    if (!(st.md = fopen(rpath, "w"))) {
        fprintf(stderr, "mpq-mnist: cannot write %s: %s\n", rpath, strerror(errno));
        return 2;
    }

    /* --- Schemes --- */
    static const mn_study_scheme schemes[] = {
        {"dense int8 (per-channel)", {.scheme = MN_DENSE8}},
        {"ternary only (TWN 0.7)", {.scheme = MN_TERN}},
        {"ternary + 1:16 int8 (the default RTL)", {.scheme = MN_MIXED, .hp_n = 1, .group = 16}},
        {"ternary + 2:16 int8 (mix2 RTL)", {.scheme = MN_MIXED, .hp_n = 2, .group = 16}},
    };
    fprintf(st.md, "Test accuracy on %u Fashion-MNIST test images (golden model, int8 activations, "
            "32-bit accumulator), MLP 784-256-128-10, seed %llu, %u epochs:\n\n", count, seed, epochs);
    if (mn_study_schemes(&st, schemes, sizeof schemes / sizeof schemes[0]) != 0)
        return 2;

    /* --- Density x structure (N:G along k; an MLP has no other axis) --- */
    static const double dens[] = {0.0, 1.0 / 64, 1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4};
    static const char *const dname[] = {"0", "1/64", "1/32", "1/16", "1/8", "1/4"};
    static const mn_study_column cols[] = {
        {"N:4", MPQ_DECOMP_CHANNEL, 4}, {"N:8", MPQ_DECOMP_CHANNEL, 8}, {"N:16", MPQ_DECOMP_CHANNEL, 16},
        {"N:32", MPQ_DECOMP_CHANNEL, 32}, {"unstructured", MPQ_DECOMP_UNSTRUCTURED, 0},
    };
    if (mn_study_density(&st, "Accuracy versus high-precision density and structure (ternary + sparse "
                         "int8; N:G with N = density x G; unstructured: the largest residuals of each "
                         "output channel):", cols, sizeof cols / sizeof cols[0], dens, dname,
                         quick ? 3 : sizeof dens / sizeof dens[0], 0, 0) != 0)
        return 2;

    /* --- Accumulator width, wrap and saturate (ternary + 1:16) --- */
    size_t outputs = (size_t)count * (256 + 128 + 10);
    char intro[256];
    snprintf(intro, sizeof intro, "Accuracy and overflows versus accumulator width (ternary + 1:16; an "
             "output counts when any partial sum of its accumulation overflowed; %zu outputs in all):",
             outputs);
    mn_qspec mixed = {.scheme = MN_MIXED, .hp_n = 1, .group = 16};
    if (mn_study_accbits(&st, intro, "ternary + 1:16", &mixed, outputs, 12, quick ? 10 : 2) != 0 || mn_study_publish(&st) != 0)
        return 2;
    return 0;
}

int main(int argc, char **argv)
{
    mn_opts o = {.data = MN_DATA_DIR, .out = "build/mnist", .seed = 1, .epochs = 12};
    emit_opts e = {.images = 16};
    int r = mn_parse_opts("mpq-mnist", argc, argv, &o, usage, emit_opt, &e);
    if (r != 0)
        return r == 1 ? 0 : 2;
    const char *out = o.out, *emit_dir = e.dir, *emit_cfg = e.cfg;
    unsigned long long seed = o.seed;
    unsigned epochs = o.epochs, emit_images = e.images;
    int quick = o.quick, train_only = o.train_only, emit_sat = e.sat;
    if (!emit_dir != !emit_cfg) {
        fprintf(stderr, "mpq-mnist: --emit-vectors and --config go together; see --help\n");
        return 2;
    }
    atexit(cleanup);
    if (mn_load_sets("mpq-mnist", &o, &train_set, &test_set) != 0)
        return 2;
    double t0 = mn_now_s();
    if (load_or_train(out, seed, epochs) != 0)
        return 2;
    if (train_only) {
        mn_mlp_free(&mlp);
        mn_free(&train_set);
        mn_free(&test_set);
        return 0;
    }
    unsigned count = quick ? 1000 : test_set.n;
    float amax[MN_MAX_LAYERS];
    mn_calibrate(&mlp, &train_set, 2000, amax);
    int32_t *x = malloc((size_t)count * 784 * sizeof *x);
    if (!x) {
        fprintf(stderr, "mpq-mnist: out of memory\n");
        return 2;
    }
    for (unsigned i = 0; i < count; i++)
        mn_input(&test_set.images[(size_t)i * 784], 784, &x[(size_t)i * 784]);
    if (emit_dir) {
        int rc = emit(argc, argv, amax, x, count, emit_cfg, emit_dir, emit_images, emit_sat);
        free(x);
        return rc;
    }
    double facc = mn_mlp_accuracy(&mlp, &test_set, count);
    if (run_study(out, x, count, facc, amax, seed, epochs, quick) != 0)
        return 2;
    printf("\nmnist: results in %s/results.md, %s/density.tsv, %s/accbits.tsv (%.1f s)\n", out, out,
           out, mn_now_s() - t0);
    free(x);
    mn_mlp_free(&mlp);
    mn_free(&train_set);
    mn_free(&test_set);
    return 0;
}
