/* SPDX-License-Identifier: Apache-2.0 */
/* mpq-mnist-rtl: test images through the Verilated accelerator (make mnist).
 * Every layer of the quantized MLP (ternary + HpPerGroup:KLanes sparse int8, the RTL's own
 * format) runs on the accelerator, tiled over N as the stimulus generator drives it; the golden
 * cycle model runs in lockstep and every output port is compared in every cycle. The next
 * layer's input is what the RTL produced. Reports the RTL's accuracy, the golden model's on the
 * same images, cycles, array utilization and simulation time. Exit 0, 1 on a mismatch, 2 on
 * bad input. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mnist.h"
#include "mpq_gen.h"
#include "mpq_vec.h"
#include "tb_cosim.h"

/* The data and the model live until exit; freed by an exit handler on every path. */
static mn_set train_set, test_set;
static mn_mlp mlp;
static void cleanup(void)
{
    mn_mlp_free(&mlp);
    mn_free(&train_set);
    mn_free(&test_set);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A failing layer as a vector file (the very cycles this run drove), and the one command
 * that replays it on the testbench. */
static void save_layer(const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_timing_opts *t,
                       unsigned li)
{
    char path[256], err[1024];
    snprintf(path, sizeof path, "build/traces/mnist-layer%u.vec", li + 1);
    mpq_vec_header h;
    memset(&h, 0, sizeof h);
    h.version = MPQ_VEC_VERSION;
    h.hw = *hw;
    h.seed = 0;
    h.timing_seed = t->seed;
    h.m = L->m;
    h.k = L->k;
    h.n = L->n;
    h.acc_sat = (uint32_t)L->acc_sat;
    snprintf(h.generator, sizeof h.generator, "mpq-mnist-rtl");
    snprintf(h.source, sizeof h.source, "mnist layer %u", li + 1);
    snprintf(h.command, sizeof h.command, "mpq-mnist-rtl (layer %u of the quantized MLP)", li + 1);
    mpq_gen *g = NULL;
    mpq_vec_writer *w = NULL;
    static mpq_port_in in;
    static mpq_port_out exp;
    int rc = mkdir("build", 0777) == 0 || errno == EEXIST ? 0 : -1;
    if (rc == 0 && mkdir("build/traces", 0777) != 0 && errno != EEXIST)
        rc = -1;
    if (rc == 0)
        rc = mpq_gen_new(hw, L, t, &g, err, sizeof err);
    if (rc == 0)
        rc = mpq_vec_writer_open(path, &h, &w, err, sizeof err);
    while (rc == 0 && (rc = mpq_gen_next(g, &in, &exp)) == 1)
        rc = mpq_vec_writer_put(w, &in, &exp) == 0 ? 0 : -1;
    if (rc != 0)
        mpq_vec_writer_abort(w); /* NULL is fine */
    else
        rc = mpq_vec_writer_close(w, err, sizeof err);
    if (rc == 0)
        fprintf(stderr, "mpq-mnist-rtl: reproduce: build/vl/default/plain/mpq-tb replay %s\n", path);
    else
        fprintf(stderr, "mpq-mnist-rtl: could not save the layer as %s\n", path);
    mpq_gen_free(g);
}

/* One layer on the RTL: x[m][k] -> y[m][n] (the RTL's outputs). */
static int run_layer(const mpq_hwcfg *hw, const mn_qlayer *ql, unsigned li, const int32_t *x,
                     unsigned m, int32_t *y, uint64_t *cycles, double *secs)
{
    mpq_hw_layer L;
    char err[1024];
    if (mpq_hw_layer_alloc(&L, m, ql->k, ql->n) != 0) {
        fprintf(stderr, "mpq-mnist-rtl: out of memory\n");
        return 2;
    }
    L.acc_sat = 0;
    L.in_offset = ql->in_offset;
    L.out_offset = ql->out_offset;
    L.act_min = ql->act_min;
    L.act_max = ql->act_max;
    memcpy(L.x, x, (size_t)m * ql->k * sizeof *x);
    memcpy(L.t, ql->t, (size_t)ql->n * ql->k);
    memcpy(L.hp, ql->hp, (size_t)ql->n * ql->k * sizeof *L.hp);
    memcpy(L.alpha, ql->alpha, ql->n * sizeof *L.alpha);
    memcpy(L.bias, ql->bias, ql->n * sizeof *L.bias);
    memcpy(L.mult, ql->mult, ql->n * sizeof *L.mult);
    memcpy(L.shift, ql->shift, ql->n * sizeof *L.shift);
    if (mpq_hw_layer_check(hw, &L, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-mnist-rtl: layer %u does not fit this accelerator: %s\n", li + 1, err);
        mpq_hw_layer_free(&L);
        return 2;
    }
    mpq_timing_opts t;
    mpq_timing_default(1, 1.0, 1.0, &t);
    mpq_gen *g;
    if (mpq_gen_new(hw, &L, &t, &g, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-mnist-rtl: layer %u: %s\n", li + 1, err);
        mpq_hw_layer_free(&L);
        return 2;
    }
    tb_cosim cs;
    char what[32];
    snprintf(what, sizeof what, "layer %u", li + 1);
    if (tb_cosim_open(&cs, hw, 0, t.seed, what, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-mnist-rtl: %s\n", err);
        mpq_gen_free(g);
        mpq_hw_layer_free(&L);
        return 2;
    }
    static mpq_port_in in;
    static mpq_port_out exp, act;
    unsigned tile = 0, row = 0, tiles = (ql->n + hw->lanes - 1) / hw->lanes;
    uint64_t c = 0;
    int rc, status = 0;
    double t0 = now_s();
    while ((rc = mpq_gen_next(g, &in, &exp)) == 1) {
        uint32_t mis = tb_cosim_step(&cs, &in, &exp, &act); /* the testbench's step */
        if (!mis && act.out_valid && in.out_ready && in.rst_n) {
            for (unsigned l = 0; l < hw->lanes && tile < tiles; l++) {
                unsigned ch = tile * hw->lanes + l;
                if (ch < ql->n)
                    y[(size_t)row * ql->n + ch] =
                        mpq_sext(mpq_bits_get(act.out_data, l * hw->out_bits, hw->out_bits), hw->out_bits);
            }
            if (++row == m) {
                row = 0;
                tile++;
            }
        }
        if (mis) {
            const char *port = "?";
            for (unsigned p = 0; p < TB_P_COUNT; p++)
                if (mis >> p & 1u) {
                    port = tb_port_names[p];
                    break;
                }
            mpq_cm_where w;
            mpq_gen_where(g, &w);
            fprintf(stderr, "mpq-mnist-rtl: MISMATCH in layer %u at cycle %" PRIu64 ": %s (tile %ld, "
                    "row %u, k slice %u)\n", li + 1, c, port, w.tile, w.row, w.slice);
            save_layer(hw, &L, &t, li);
            status = 1;
            break;
        }
        c++;
    }
    if (status == 0 && rc < 0) {
        fprintf(stderr, "mpq-mnist-rtl: layer %u: %s\n", li + 1, mpq_gen_error(g));
        status = 2;
    }
    *secs = now_s() - t0;
    *cycles = c;
    tb_cosim_close(&cs);
    mpq_gen_free(g);
    mpq_hw_layer_free(&L);
    return status;
}

int main(int argc, char **argv)
{
    const char *data = MN_DATA_DIR, *model = NULL, *cfgpath = "rtl/cfg/default.cfg";
    unsigned images = 1000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: mpq-mnist-rtl --model FILE [--images N] [--data DIR] [--config CFG]\n"
                   "Runs the first N test images (default 1000) through the Verilated accelerator,\n"
                   "every layer, every output port compared every cycle with the golden model.\n"
                   "FILE: the float MLP cached by mpq-mnist. Exit 0, 1 mismatch, 2 bad input.\n");
            return 0;
        } else if (i + 1 < argc && !strcmp(argv[i], "--model")) {
            model = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--data")) {
            data = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--config")) {
            cfgpath = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--images")) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end || v < 1 || v > 10000) {
                fprintf(stderr, "mpq-mnist-rtl: --images must be 1..10000\n");
                return 2;
            }
            images = (unsigned)v;
        } else {
            fprintf(stderr, "mpq-mnist-rtl: unknown option `%s`; see --help\n", argv[i]);
            return 2;
        }
    }
    if (!model) {
        fprintf(stderr, "mpq-mnist-rtl: --model FILE is required (make mnist trains it)\n");
        return 2;
    }
    char err[1024];
    /* The configuration the RTL was built with, checked against the cfg file. */
    mpq_hwcfg hw, want;
    if (tb_rtl_config(&hw, err, sizeof err) != 0 || mpq_hwcfg_load(cfgpath, &want, err, sizeof err) != 0 ||
        !mpq_hwcfg_equal(&hw, &want)) {
        fprintf(stderr, "mpq-mnist-rtl: %s is not the configuration of this RTL build\n", cfgpath);
        return 2;
    }
    atexit(cleanup);
    if (mn_load(data, "train", &train_set, err, sizeof err) != 0 ||
        mn_load(data, "t10k", &test_set, err, sizeof err) != 0 || mn_mlp_load(&mlp, model, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-mnist-rtl: %s\n", err);
        return 2;
    }
    float amax[MN_MAX_LAYERS];
    mn_calibrate(&mlp, &train_set, 2000, amax);
    mn_qnet q;
    if (mn_quantize(&mlp, amax, MN_MIXED, hw.hp_per_group, hw.klanes, 0.0, &q, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-mnist-rtl: quantize: %s\n", err);
        return 2;
    }
    unsigned m = images;
    int32_t *x = malloc((size_t)m * 784 * sizeof *x), *gy = malloc((size_t)m * 10 * sizeof *gy);
    int32_t *buf[2] = {malloc((size_t)m * 1024 * sizeof(int32_t)), malloc((size_t)m * 1024 * sizeof(int32_t))};
    if (!x || !gy || !buf[0] || !buf[1]) {
        fprintf(stderr, "mpq-mnist-rtl: out of memory\n");
        return 2;
    }
    for (unsigned i = 0; i < m; i++)
        mn_input(&test_set.images[(size_t)i * 784], 784, &x[(size_t)i * 784]);
    /* The golden model on the same images, for the comparison of accuracies. */
    if (mn_qnet_run(&q, x, m, hw.acc_bits, MPQ_ACC_WRAP, hw.klanes, gy, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-mnist-rtl: golden model: %s\n", err);
        return 2;
    }
    char hb[256];
    printf("mnist-rtl: %u test images through the accelerator (%s), ternary + %u:%u int8, "
           "every port compared every cycle\n", m, mpq_hwcfg_str(&hw, hb, sizeof hb), hw.hp_per_group, hw.klanes);
    printf("%-6s %-18s %12s %12s %8s %10s %10s\n", "layer", "shape", "cycles", "ideal", "util", "sim s", "Mcyc/s");
    const int32_t *in = x;
    uint64_t tot_c = 0, tot_i = 0;
    double tot_s = 0;
    int status = 0;
    for (unsigned l = 0; l < q.nl && status == 0; l++) {
        const mn_qlayer *ql = &q.layer[l];
        uint64_t cyc;
        double s;
        status = run_layer(&hw, ql, l, in, m, buf[l & 1], &cyc, &s);
        if (status)
            break;
        uint64_t ideal = (uint64_t)m * ((ql->k + hw.klanes - 1) / hw.klanes) * ((ql->n + hw.lanes - 1) / hw.lanes);
        char shape[64];
        snprintf(shape, sizeof shape, "m=%u k=%u n=%u", m, ql->k, ql->n);
        printf("%-6u %-18s %12" PRIu64 " %12" PRIu64 " %8.3f %10.2f %10.3f\n", l + 1, shape, cyc, ideal,
               (double)ideal / (double)cyc, s, (double)cyc / s / 1e6);
        tot_c += cyc;
        tot_i += ideal;
        tot_s += s;
        in = buf[l & 1];
    }
    if (status == 0) {
        printf("%-6s %-18s %12" PRIu64 " %12" PRIu64 " %8.3f %10.2f %10.3f\n", "all", "", tot_c, tot_i,
               (double)tot_i / (double)tot_c, tot_s, (double)tot_c / tot_s / 1e6);
        double racc = mn_accuracy(in, test_set.labels, m, 10), gacc = mn_accuracy(gy, test_set.labels, m, 10);
        int same = memcmp(in, gy, (size_t)m * 10 * sizeof *gy) == 0;
        printf("mnist-rtl: RTL accuracy %.2f%%, golden model %.2f%% on the same %u images; final outputs %s\n",
               100.0 * racc, 100.0 * gacc, m, same ? "identical" : "DIFFER");
        if (!same)
            status = 1;
    }
    free(x);
    free(gy);
    free(buf[0]);
    free(buf[1]);
    mn_qnet_free(&q);
    return status;
}
