/* SPDX-License-Identifier: Apache-2.0 */
/* mpq-mnist-rtl: test images through the Verilated accelerator (make mnist, make cnn).
 * The model is the float MLP of mpq-mnist or the float CNN of mpq-cnn (told apart by the
 * file's magic), quantized in the format of this RTL build (ternary + HpPerGroup:KLanes
 * sparse int8; ternary only when HpPerGroup = 0; dense int8 when HpPerGroup = KLanes). Every
 * layer with weights runs on the accelerator (mn_cosim.c: FC layers as 1x1 convolutions,
 * conv2d layers in the conv mode), tiled over the output channels as the stimulus generator
 * drives it, the golden cycle model in lockstep comparing every output port in every cycle;
 * max pooling has no unit in the accelerator and runs on the host in the golden model
 * (mpq_pool). Each layer's input is what the RTL (or the host's pooling) produced, and each
 * layer's outputs are compared with the golden model's on that same input. Reports the RTL's
 * accuracy, the golden model's on the same images, cycles, array utilization and simulation
 * time. With --save-vectors DIR, every layer with weights is also written as a vector file
 * (the cycles it drove) and DIR/summary.tsv lists them with their cycles and MACs and the
 * golden model's accuracy of this configuration's weights on all the test images: the CNN's
 * workload of make ppa (scripts/ppa/ppa.mk). Exit 0, 1 on a mismatch, 2 on bad input. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mnist.h"
#include "tb_cosim.h"

/* The data and the model live until exit; freed by an exit handler on every path. */
static mn_set train_set, test_set;
static mn_mlp mlp;
static cnn_net cnn;
static mn_qnet qnet;
static int32_t *bufs[4];
static void cleanup(void)
{
    mn_qnet_free(&qnet);
    mn_mlp_free(&mlp);
    cnn_free(&cnn);
    mn_free(&train_set);
    mn_free(&test_set);
    for (int i = 0; i < 4; i++)
        free(bufs[i]);
}

static const char *tag = "mpq-mnist-rtl";

/* The model file's kind from its magic: 1 MLP, 2 CNN, 0 neither (err says). */
static int model_kind(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char magic[8] = {0};
    if (!f) {
        snprintf(err, errlen, "%s: cannot open (make mnist / make cnn trains it)", path);
        return 0;
    }
    size_t got = fread(magic, 1, 8, f);
    fclose(f);
    if (got == 8 && !memcmp(magic, "MPQMLP1", 8))
        return 1;
    if (got == 8 && !memcmp(magic, "MPQCNN1", 8))
        return 2;
    snprintf(err, errlen, "%s: neither an mpq MLP nor an mpq CNN file (bad magic)", path);
    return 0;
}

/* Multiply-accumulates of a layer on m images: every output channel of every output pixel
 * times the window positions inside the input times the input channels. */
static uint64_t layer_macs(const mn_qlayer *ql, unsigned m)
{
    if (ql->kind == MPQ_LAYER_FC)
        return (uint64_t)m * ql->k * ql->n;
    const mpq_conv_shape *s = &ql->s;
    uint64_t vy = 0, vx = 0;
    for (unsigned o = 0; o < s->out_h; o++)
        for (unsigned k = 0; k < s->kh; k++) {
            long i = (long)o * s->sy - (long)s->py + (long)k * s->dy;
            vy += i >= 0 && i < (long)s->in_h;
        }
    for (unsigned o = 0; o < s->out_w; o++)
        for (unsigned k = 0; k < s->kw; k++) {
            long i = (long)o * s->sx - (long)s->px + (long)k * s->dx;
            vx += i >= 0 && i < (long)s->in_w;
        }
    return (uint64_t)m * vy * vx * s->in_c * s->out_c;
}

/* Every layer of qnet on m images, input in buf[1]: layers with weights on the RTL, max pooling
 * on the host; each layer's outputs checked against the golden model's on the same input.
 * One line per layer and a total; *out: the final outputs (in buf). save_dir (NULL: none):
 * each layer with weights also as save_dir/<kind>-layer<l>.vec, one line per layer to summary
 * (name, m, k, n, cycles, MACs, file; max pooling as a comment). Returns 0, 1, 2. */
static int run_layers(const mpq_hwcfg *hw, const char *kind, int32_t *const *buf, int32_t *ref, unsigned m,
                      const char *save_dir, const char *cmd, FILE *summary, const int32_t **out)
{
    char err[1024];
    /* steps: the lane array's steps the layer needs (pixels x taps x channel slices per tile);
     * MAC util: useful multiply-accumulates / (cycles x Lanes x KLanes). */
    printf("%-6s %-34s %12s %12s %8s %8s %10s %10s\n", "layer", "shape", "cycles", "steps", "util",
           "MAC util", "sim s", "Mcyc/s");
    const int32_t *in = buf[1];
    uint64_t tot_c = 0, tot_i = 0, tot_m = 0;
    double tot_s = 0, lanes = (double)hw->lanes * hw->klanes;
    for (unsigned l = 0; l < qnet.nl; l++) {
        const mn_qlayer *ql = &qnet.layer[l];
        int32_t *o = buf[l & 1];
        size_t nout = (size_t)m * mn_qlayer_out_size(ql);
        char shape[96], name[32], vec[48];
        const mpq_conv_shape *s = &ql->s;
        if (ql->kind == MPQ_LAYER_FC)
            snprintf(shape, sizeof shape, "fc m=%u k=%u n=%u", m, ql->k, ql->n);
        else
            snprintf(shape, sizeof shape, "%s %ux%ux%u>%ux%ux%u k%u s%u", mpq_layer_name(ql->kind), s->in_h,
                     s->in_w, s->in_c, s->out_h, s->out_w, s->out_c, s->kh, s->sy);
        /* The golden model's output of this layer on the same input. */
        if (mn_qlayer_run(ql, in, m, hw->acc_bits, MPQ_ACC_WRAP, hw->klanes, ref, NULL, err, sizeof err) != 0) {
            fprintf(stderr, "%s: golden model, layer %u: %s\n", tag, l + 1, err);
            return 2;
        }
        if (ql->kind == MPQ_LAYER_MAXPOOL) {
            memcpy(o, ref, nout * sizeof *o); /* no pooling unit: the host runs it */
            printf("%-6u %-34s %12s %12s %8s %8s %10s %10s\n", l + 1, shape, "host", "-", "-", "-", "-", "-");
            if (summary)
                fprintf(summary, "# layer%u\t%s: on the host, no cycles\n", l + 1, shape);
            in = o;
            continue;
        }
        mpq_hw_layer L;
        if (mn_qlayer_to_hw(hw, ql, in, m, &L, err, sizeof err) != 0) {
            fprintf(stderr, "%s: layer %u (%s) does not fit this accelerator: %s\n", tag, l + 1, shape, err);
            return 2;
        }
        snprintf(name, sizeof name, "layer %u", l + 1);
        snprintf(vec, sizeof vec, "%s-layer%u", kind, l + 1);
        mn_rtl_stats st;
        int status = mn_rtl_layer(hw, &L, tag, name, vec, save_dir, cmd, o, &st);
        mpq_hw_layer_free(&L);
        if (status)
            return status;
        if (memcmp(o, ref, nout * sizeof *o) != 0) {
            fprintf(stderr, "%s: layer %u: the RTL's outputs differ from the golden model's\n", tag, l + 1);
            return 1;
        }
        uint64_t macs = layer_macs(ql, m);
        printf("%-6u %-34s %12" PRIu64 " %12" PRIu64 " %8.3f %8.3f %10.2f %10.3f\n", l + 1, shape, st.cycles,
               st.steps, (double)st.steps / (double)st.cycles, (double)macs / ((double)st.cycles * lanes), st.secs,
               (double)st.cycles / st.secs / 1e6);
        fflush(stdout);
        if (summary)
            fprintf(summary, "layer%u\t%u\t%u\t%u\t%" PRIu64 "\t%" PRIu64 "\t%s.vec\n", l + 1, m, ql->k, ql->n,
                    st.cycles, macs, vec);
        tot_m += macs;
        tot_c += st.cycles;
        tot_i += st.steps;
        tot_s += st.secs;
        in = o;
    }
    printf("%-6s %-34s %12" PRIu64 " %12" PRIu64 " %8.3f %8.3f %10.2f %10.3f\n", "all", "", tot_c, tot_i,
           (double)tot_i / (double)tot_c, (double)tot_m / ((double)tot_c * lanes), tot_s, (double)tot_c / tot_s / 1e6);
    *out = in;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: mpq-mnist-rtl --model FILE [--images N] [--data DIR] [--config CFG]\n"
               "                     [--scheme auto|mixed|tern|dense] [--save-vectors DIR]\n"
               "Runs the first N test images (default 1000) through the Verilated accelerator,\n"
               "every layer, every output port compared every cycle with the golden model.\n"
               "FILE: the float MLP cached by mpq-mnist or the float CNN cached by mpq-cnn.\n"
               "--scheme: the weights' format; auto (default) is the one of the configuration:\n"
               "ternary + HpPerGroup:KLanes, ternary when HpPerGroup = 0, dense int8 when\n"
               "HpPerGroup = KLanes.\n"
               "--save-vectors DIR: every layer with weights also as a vector file (the cycles it\n"
               "drove; DIR/<mnist|cnn>-layer<l>.vec), and DIR/summary.tsv: per layer m, k, n,\n"
               "cycles, MACs and file, and the golden model's accuracy of these weights on all\n"
               "the test images with this configuration's accumulator (make ppa's workload).\n"
               "Exit 0, 1 mismatch, 2 bad input.\n");
}

/* The directory of --save-vectors, made if missing: 0, or -1 after a message naming the
 * option. */
static int save_dir_ready(const char *dir)
{
    struct stat st;
    if (!*dir) {
        fprintf(stderr, "%s: --save-vectors: the directory name is empty\n", tag);
        return -1;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: --save-vectors: cannot create `%s`: %s\n", tag, dir, strerror(errno));
        return -1;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s: --save-vectors: `%s` is not a directory\n", tag, dir);
        return -1;
    }
    return 0;
}

/* The golden model's test accuracy of qnet on every image of test_set, with the accelerator's
 * accumulator (AccBits, wrapping, grouped by KLanes), in slices of images (the first layer's
 * outputs of all 10,000 images at once would take half a gigabyte). 0, or 2 after a message. */
static int test_accuracy(const mpq_hwcfg *hw, double *acc)
{
    enum { SLICE = 500 };
    char err[1024];
    unsigned npix = test_set.rows * test_set.cols, right = 0;
    int32_t *x = malloc((size_t)SLICE * qnet.in_size * sizeof *x), *y = malloc((size_t)SLICE * qnet.classes * sizeof *y);
    int rc = x && y ? 0 : 2;
    if (rc)
        fprintf(stderr, "%s: out of memory\n", tag);
    for (unsigned i0 = 0; rc == 0 && i0 < test_set.n; i0 += SLICE) {
        unsigned n = test_set.n - i0 < SLICE ? test_set.n - i0 : SLICE;
        for (unsigned i = 0; i < n; i++)
            mn_input(&test_set.images[(size_t)(i0 + i) * npix], npix, &x[(size_t)i * qnet.in_size]);
        if (mn_qnet_run(&qnet, x, n, hw->acc_bits, MPQ_ACC_WRAP, hw->klanes, y, NULL, err, sizeof err) != 0) {
            fprintf(stderr, "%s: golden model: %s\n", tag, err);
            rc = 2;
        } else {
            right += (unsigned)(mn_accuracy(y, &test_set.labels[i0], n, qnet.classes) * n + 0.5);
        }
    }
    free(x);
    free(y);
    *acc = test_set.n ? (double)right / test_set.n : 0.0;
    return rc;
}

/* The command line. */
typedef struct rtl_args {
    const char *data, *model, *cfgpath, *scheme, *save_dir;
    unsigned images;
    char cmd[512]; /* the command line, into the vector files' headers */
} rtl_args;

/* Returns 0 to run, 1 after --help, 2 after a message. */
static int parse_args(int argc, char **argv, rtl_args *a)
{
    *a = (rtl_args){.data = MN_DATA_DIR, .cfgpath = "rtl/cfg/default.cfg", .scheme = "auto", .images = 1000};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 1;
        } else if (i + 1 < argc && !strcmp(argv[i], "--model")) {
            a->model = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--data")) {
            a->data = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--config")) {
            a->cfgpath = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--scheme")) {
            a->scheme = argv[++i];
        } else if (!strcmp(argv[i], "--save-vectors")) {
            if (i + 1 == argc) {
                fprintf(stderr, "%s: --save-vectors needs a directory\n", tag);
                return 2;
            }
            a->save_dir = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--images")) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end || v < 1 || v > 10000) {
                fprintf(stderr, "%s: --images must be 1..10000\n", tag);
                return 2;
            }
            a->images = (unsigned)v;
        } else {
            fprintf(stderr, "%s: unknown option `%s`; see --help\n", tag, argv[i]);
            return 2;
        }
    }
    if (!a->model) {
        fprintf(stderr, "%s: --model FILE is required (make mnist / make cnn trains it)\n", tag);
        return 2;
    }
    size_t used = 0;
    a->cmd[0] = '\0';
    for (int i = 0; i < argc && used + 2 < sizeof a->cmd; i++) {
        int n = snprintf(a->cmd + used, sizeof a->cmd - used, "%s%s", i ? " " : "", argv[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    return 0;
}

/* The RTL's configuration (checked against the cfg file), the weight scheme for it, the data
 * and the network (kind 1 MLP, 2 CNN), quantized into qnet. Returns 0, or 2 after a message. */
static int load_network(const rtl_args *a, mpq_hwcfg *hw, mn_qspec *spec, int *kind)
{
    char err[1024];
    mpq_hwcfg want;
    if (tb_rtl_config(hw, err, sizeof err) != 0 || mpq_hwcfg_load(a->cfgpath, &want, err, sizeof err) != 0 ||
        !mpq_hwcfg_equal(hw, &want)) {
        fprintf(stderr, "%s: %s is not the configuration of this RTL build\n", tag, a->cfgpath);
        return 2;
    }
    *spec = (mn_qspec){.scheme = MN_MIXED, .axis = MPQ_DECOMP_CHANNEL, .hp_n = hw->hp_per_group, .group = hw->klanes};
    if (!strcmp(a->scheme, "tern") || (!strcmp(a->scheme, "auto") && hw->hp_per_group == 0))
        spec->scheme = MN_TERN;
    else if (!strcmp(a->scheme, "dense") || (!strcmp(a->scheme, "auto") && hw->hp_per_group == hw->klanes))
        spec->scheme = MN_DENSE8;
    else if (strcmp(a->scheme, "mixed") && strcmp(a->scheme, "auto")) {
        fprintf(stderr, "%s: --scheme `%s` is not auto, mixed, tern or dense\n", tag, a->scheme);
        return 2;
    }
    atexit(cleanup);
    *kind = model_kind(a->model, err, sizeof err);
    if (!*kind || mn_load(a->data, "train", &train_set, err, sizeof err) != 0 ||
        mn_load(a->data, "t10k", &test_set, err, sizeof err) != 0 ||
        (*kind == 1 && mn_mlp_load(&mlp, a->model, err, sizeof err) != 0) ||
        (*kind == 2 && cnn_load(&cnn, a->model, NULL, err, sizeof err) != 0)) {
        fprintf(stderr, "%s: %s\n", tag, err);
        return 2;
    }
    float amax[MN_MAX_QLAYERS];
    int rc;
    if (*kind == 1) {
        mn_calibrate(&mlp, &train_set, 2000, amax);
        rc = mn_quantize(&mlp, amax, spec, &qnet, err, sizeof err);
    } else {
        cnn_calibrate(&cnn, &train_set, 2000, amax);
        rc = cnn_quantize(&cnn, amax, spec, &qnet, err, sizeof err);
    }
    if (rc != 0) {
        fprintf(stderr, "%s: quantize: %s\n", tag, err);
        return 2;
    }
    return 0;
}

/* --save-vectors: the summary's head (the accuracy of these weights on every test image) in
 * a temporary file (*stmp) that its layers join as they pass; published only when every
 * layer passed. Returns it, or NULL after a message. */
static FILE *open_summary(const rtl_args *a, const mpq_hwcfg *hw, const char *hb, const char *sname,
                          int kind, char *spath, size_t splen, char *stmp, size_t stlen)
{
    double tacc;
    char err[1024];
    if (test_accuracy(hw, &tacc) != 0)
        return NULL;
    snprintf(spath, splen, "%s/summary.tsv", a->save_dir);
    remove(spath); /* no stale summary beside a failed run's files */
    FILE *summary = mn_create_tmp(spath, stmp, stlen, err, sizeof err);
    if (!summary) {
        fprintf(stderr, "%s: --save-vectors: %s\n", tag, err);
        return NULL;
    }
    const char *net = kind == 1 ? "MLP" : "CNN", *arch = kind == 1 ? "784-256-128-10" : cnn.arch;
    fprintf(summary, "# %s; weights %s; accumulator %u-bit wrapping; %s %s, %u test images; %s\n", hb, sname,
            hw->acc_bits, net, arch, a->images, a->cmd);
    fprintf(summary, "network\t%s %s\n", net, arch);
    fprintf(summary, "accuracy\t%.4f\t%u\n", 100.0 * tacc, test_set.n);
    fprintf(summary, "# layer\tm\tk\tn\tcycles\tmacs\tvectors\n");
    printf("mnist-rtl: golden model accuracy %.2f%% on all %u test images (%u-bit wrapping accumulator); "
           "the layers as vector files in %s\n", 100.0 * tacc, test_set.n, hw->acc_bits, a->save_dir);
    return summary;
}

int main(int argc, char **argv)
{
    rtl_args a;
    int prc = parse_args(argc, argv, &a);
    if (prc != 0)
        return prc == 1 ? 0 : 2;
    if (a.save_dir && save_dir_ready(a.save_dir) != 0)
        return 2;
    char err[1024];
    mpq_hwcfg hw;
    mn_qspec spec;
    int kind;
    if (load_network(&a, &hw, &spec, &kind) != 0)
        return 2;
    unsigned m = a.images, npix = test_set.rows * test_set.cols;
    size_t maxsz = qnet.in_size;
    for (unsigned l = 0; l < qnet.nl; l++)
        maxsz = mn_qlayer_out_size(&qnet.layer[l]) > maxsz ? mn_qlayer_out_size(&qnet.layer[l]) : maxsz;
    int32_t *gy = bufs[0] = malloc((size_t)m * qnet.classes * sizeof *gy);
    int32_t *buf[2] = {bufs[1] = malloc((size_t)m * maxsz * sizeof(int32_t)),
                       bufs[2] = malloc((size_t)m * maxsz * sizeof(int32_t))};
    int32_t *ref = bufs[3] = malloc((size_t)m * maxsz * sizeof(int32_t));
    if (!gy || !buf[0] || !buf[1] || !ref) {
        fprintf(stderr, "%s: out of memory\n", tag);
        return 2;
    }
    for (unsigned i = 0; i < m; i++)
        mn_input(&test_set.images[(size_t)i * npix], npix, &buf[1][(size_t)i * npix]);
    /* The golden model on the same images, for the comparison of accuracies. */
    if (mn_qnet_run(&qnet, buf[1], m, hw.acc_bits, MPQ_ACC_WRAP, hw.klanes, gy, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "%s: golden model: %s\n", tag, err);
        return 2;
    }
    char hb[256], sname[64];
    if (spec.scheme == MN_MIXED)
        snprintf(sname, sizeof sname, "ternary + %u:%u int8", spec.hp_n, spec.group);
    else
        snprintf(sname, sizeof sname, "%s", spec.scheme == MN_TERN ? "ternary only" : "dense int8");
    printf("mnist-rtl: %u test images through the accelerator (%s), %s %s, weights %s, every port "
           "compared every cycle\n", m, mpq_hwcfg_str(&hw, hb, sizeof hb), kind == 1 ? "MLP" : "CNN",
           kind == 1 ? "784-256-128-10" : cnn.arch, sname);
    char spath[1200], stmp[1300];
    FILE *summary = NULL;
    if (a.save_dir && !(summary = open_summary(&a, &hw, hb, sname, kind, spath, sizeof spath, stmp, sizeof stmp)))
        return 2;
    const int32_t *in = NULL;
    int status = run_layers(&hw, kind == 1 ? "mnist" : "cnn", buf, ref, m, a.save_dir, a.cmd, summary, &in);
    if (status == 0) {
        double racc = mn_accuracy(in, test_set.labels, m, qnet.classes);
        double gacc = mn_accuracy(gy, test_set.labels, m, qnet.classes);
        int same = memcmp(in, gy, (size_t)m * qnet.classes * sizeof *gy) == 0;
        printf("mnist-rtl: RTL accuracy %.2f%%, golden model %.2f%% on the same %u images; every layer's "
               "outputs equal the golden model's; final outputs %s\n",
               100.0 * racc, 100.0 * gacc, m, same ? "identical" : "DIFFER");
        if (!same)
            status = 1;
    }
    if (summary) {
        if (status != 0) {
            fclose(summary);
            remove(stmp);
        } else if (mn_publish(summary, stmp, spath, ferror(summary), err, sizeof err) != 0) {
            fprintf(stderr, "%s: --save-vectors: %s\n", tag, err);
            status = 2;
        }
    }
    return status;
}
