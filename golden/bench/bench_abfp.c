/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_abfp: GMAC/s of the ABFP emulation (golden/arith/mpq_abfp.h) against the integer
 * golden model on the same layers (part of make bench; the goal: ABFP within 2x): the 1024x1024
 * FC layer with M = 64, the 3x3 conv 56x56x64 -> 64 and the 3x3 depthwise on 112x112x32 of
 * bench_golden. Integer: dense int8 weights and activations, 32-bit accumulator, no overflow
 * tracking (mpq_fc_acc, mpq_conv_acc). ABFP: n = 128, 8-bit mantissas and ADC, gain 4, float
 * weights and inputs, the weights prepared inside the call (mpq_abfp_fc, mpq_abfp_conv), without
 * noise and with noise of 1 ADC step. MACs are the layer's (padding of the tiles not counted).
 * One core, best of --reps repetitions, CPU time. --json FILE writes the figures.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq_abfp.h"

#define BENCH_SEED 0x28abf9ull
#include "bench.h"

static void die(const char *what, const char *err)
{
    fprintf(stderr, "bench_abfp: %s: %s\n", what, err);
    exit(1);
}

typedef struct result {
    const char *name;
    double macs, t_int, t_abfp, t_noise;
} result;

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("memory", "out of memory");
    return p;
}

/* One layer: FC when s is NULL (m, k, n), else the convolution of shape s. */
static result run(const char *name, const mpq_conv_shape *s, unsigned m, unsigned k, unsigned n, int reps)
{
    char err[256];
    size_t nx = s ? mpq_conv_in_count(s) : (size_t)m * k, nw = s ? mpq_conv_w_count(s) : (size_t)n * k;
    size_t ny = s ? mpq_conv_out_count(s) : (size_t)m * n;
    int32_t *xi = xmalloc(nx * sizeof *xi), *wi = xmalloc(nw * sizeof *wi);
    float *xf = xmalloc(nx * sizeof *xf), *wf = xmalloc(nw * sizeof *wf), *y = xmalloc(ny * sizeof *y);
    int64_t *acc = xmalloc(ny * sizeof *acc);
    for (size_t i = 0; i < nx; i++) {
        xi[i] = rnd(-128, 127);
        xf[i] = (float)xi[i] / 128.0f;
    }
    for (size_t i = 0; i < nw; i++) {
        wi[i] = rnd(-127, 127);
        wf[i] = (float)wi[i] / 127.0f;
    }
    mpq_fc_layer fc = {.m = m, .k = k, .n = n, .x = xi, .w = wi, .acc_bits = 32, .acc_mode = MPQ_ACC_WRAP};
    mpq_conv_layer cl;
    if (s)
        cl = mpq_conv_layer_of_fc(s, &fc);
    mpq_abfp p;
    mpq_abfp_default(&p);
    p.gain = 4.0f;
    mpq_abfp pn = p;
    pn.noise = 1.0;
    result r = {name, s ? (double)ny * mpq_conv_depth(s) : (double)m * k * n, 1e30, 1e30, 1e30};
    for (int rep = 0; rep < reps; rep++) {
        double t0 = now();
        if ((s ? mpq_conv_acc(&cl, acc, NULL, err, sizeof err) : mpq_fc_acc(&fc, acc, NULL, err, sizeof err)) != 0)
            die(name, err);
        double t1 = now();
        if ((s ? mpq_abfp_conv(&p, s, xf, wf, NULL, 0, y, NULL, err, sizeof err)
               : mpq_abfp_fc(&p, m, k, n, xf, wf, NULL, y, NULL, err, sizeof err)) != 0)
            die(name, err);
        double t2 = now();
        if ((s ? mpq_abfp_conv(&pn, s, xf, wf, NULL, 0, y, NULL, err, sizeof err)
               : mpq_abfp_fc(&pn, m, k, n, xf, wf, NULL, y, NULL, err, sizeof err)) != 0)
            die(name, err);
        double t3 = now();
        r.t_int = t1 - t0 < r.t_int ? t1 - t0 : r.t_int;
        r.t_abfp = t2 - t1 < r.t_abfp ? t2 - t1 : r.t_abfp;
        r.t_noise = t3 - t2 < r.t_noise ? t3 - t2 : r.t_noise;
    }
    free(xi), free(wi), free(xf), free(wf), free(y), free(acc);
    return r;
}

int main(int argc, char **argv)
{
    int reps = 5;
    const char *json = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc)
            json = argv[++i];
        else {
            fprintf(stderr, "usage: bench_abfp [--reps N] [--json FILE]\n");
            return 2;
        }
    }
    if (reps < 1 || reps > 1000) {
        fprintf(stderr, "bench_abfp: --reps: %d is not in 1..1000\n", reps);
        return 2;
    }
    mpq_conv_shape c3 = {MPQ_LAYER_CONV2D, 1, 56, 56, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 56, 56};
    mpq_conv_shape dw = {MPQ_LAYER_DEPTHWISE, 1, 112, 112, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 112, 112};
    result r[3] = {
        run("fc 1024x1024, M=64", NULL, 64, 1024, 1024, reps),
        run("conv 3x3 56x56x64->64", &c3, 0, 0, 0, reps),
        run("depthwise 3x3 112x112x32", &dw, 0, 0, 0, reps),
    };
    printf("ABFP emulation against the integer golden model (one core, best of %d, CPU time):\n", reps);
    printf("%-26s %12s %14s %14s %12s %12s\n", "layer", "int GMAC/s", "ABFP GMAC/s", "+noise GMAC/s", "int/ABFP",
           "int/+noise");
    for (unsigned i = 0; i < 3; i++)
        printf("%-26s %12.3f %14.3f %14.3f %11.2fx %11.2fx\n", r[i].name, r[i].macs / r[i].t_int / 1e9,
               r[i].macs / r[i].t_abfp / 1e9, r[i].macs / r[i].t_noise / 1e9, r[i].t_abfp / r[i].t_int,
               r[i].t_noise / r[i].t_int);
    if (json) {
        char tmp[1100];
        snprintf(tmp, sizeof tmp, "%s.tmp", json);
        FILE *f = fopen(tmp, "w");
        if (!f)
            die(tmp, "cannot write");
        fprintf(f, "{\n  \"reps\": %d,\n  \"layers\": [\n", reps);
        for (unsigned i = 0; i < 3; i++)
            fprintf(f,
                    "    {\"name\": \"%s\", \"macs\": %.0f, \"int_gmacs\": %.4f, \"abfp_gmacs\": %.4f, "
                    "\"abfp_noise_gmacs\": %.4f, \"int_over_abfp\": %.3f, \"int_over_abfp_noise\": %.3f}%s\n",
                    r[i].name, r[i].macs, r[i].macs / r[i].t_int / 1e9, r[i].macs / r[i].t_abfp / 1e9,
                    r[i].macs / r[i].t_noise / 1e9, r[i].t_abfp / r[i].t_int, r[i].t_noise / r[i].t_int,
                    i < 2 ? "," : "");
        fprintf(f, "  ]\n}\n");
        if (fclose(f) != 0 || rename(tmp, json) != 0)
            die(json, "cannot write");
    }
    return 0;
}
