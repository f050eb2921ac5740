/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_golden: GMAC/s of the functional golden model: a 1024x1024 FC layer with M = 64
 * (issue 2's benchmark), a 3x3 conv 56x56x64 -> 64 beside the FC layer of its im2col GEMM
 * (the same MACs), and a 3x3 depthwise on 112x112x32 (issue 15's); dense int8 and
 * ternary + 1:16 sparse int8, each with and without overflow detection, at a 32-bit and a
 * 20-bit accumulator. Prints tables; with --json FILE also writes the figures (top-level
 * "macs" and "layers" for the FC layer, "conv3x3" and "depthwise3x3" objects beside them).
 * One core, best of several repetitions, in CPU time.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"

#define BENCH_SEED 0x1234567ull
#include "bench.h"

/* One timed layer: an FC layer or a convolution, computed with or without tracking. */
typedef struct bench_layer {
    char name[96];
    const mpq_fc_layer *fc;
    const mpq_conv_layer *conv;
    double macs;
    double plain, track, overhead; /* best seconds, best seconds, median ratio */
} bench_layer;

static double time_once(const bench_layer *b, int64_t *acc, uint8_t *flags, int32_t *first,
                        int track)
{
    char err[256];
    mpq_fc_ovf fo = {.flags = flags, .first_k = first};
    mpq_conv_ovf co = {.flags = flags, .first_r = first};
    double t0 = now();
    int st = b->fc ? mpq_fc_acc(b->fc, acc, track ? &fo : NULL, err, sizeof err)
                   : mpq_conv_acc(b->conv, acc, track ? &co : NULL, err, sizeof err);
    if (st) {
        fprintf(stderr, "bench_golden: %s: %s\n", b->name, err);
        exit(1);
    }
    return now() - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One layer without and with overflow detection, the two interleaved in each of `reps`
 * rounds (a shared host's speed drifts between rounds): best time of each, and the median of
 * the rounds' time ratios as the detection's overhead. */
static void time_layer(bench_layer *b, size_t nout, int reps)
{
    int64_t *acc = malloc(nout * sizeof *acc);
    uint8_t *flags = malloc(nout);
    int32_t *first = malloc(nout * sizeof *first);
    double *ratio = malloc((size_t)reps * sizeof *ratio);
    if (!acc || !flags || !first || !ratio) {
        fprintf(stderr, "bench_golden: out of memory\n");
        exit(1);
    }
    b->plain = b->track = 1e30;
    for (int r = 0; r < reps; r++) {
        double tp = time_once(b, acc, flags, first, 0), tt = time_once(b, acc, flags, first, 1);
        b->plain = tp < b->plain ? tp : b->plain;
        b->track = tt < b->track ? tt : b->track;
        ratio[r] = tt / tp;
    }
    qsort(ratio, (size_t)reps, sizeof *ratio, cmp_double);
    b->overhead = reps % 2 ? ratio[reps / 2] : (ratio[reps / 2 - 1] + ratio[reps / 2]) / 2;
    free(acc);
    free(flags);
    free(first);
    free(ratio);
}

/* Random int8 activations and the three weight kinds of a layer with nw weights and n
 * channels: dense int8 w, ternary t with alpha in 1..127, and hp with one non-zero in every
 * aligned group of 16 consecutive weights (1:16 along the input channels of FC and conv2d
 * rows, along the channels of a depthwise [kh][kw][out_c] window position). */
typedef struct bench_data {
    int32_t *x, *w, *hp, *alpha;
    int8_t *t;
} bench_data;

static void make_data(bench_data *d, size_t nx, size_t nw, unsigned n)
{
    d->x = malloc(nx * sizeof *d->x);
    d->w = malloc(nw * sizeof *d->w);
    d->hp = calloc(nw, sizeof *d->hp);
    d->alpha = malloc(n * sizeof *d->alpha);
    d->t = malloc(nw);
    if (!d->x || !d->w || !d->hp || !d->alpha || !d->t) {
        fprintf(stderr, "bench_golden: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < nx; i++)
        d->x[i] = rnd(-128, 127);
    for (size_t i = 0; i < nw; i++) {
        d->w[i] = rnd(-128, 127);
        d->t[i] = (int8_t)rnd(-1, 1);
    }
    for (unsigned c = 0; c < n; c++)
        d->alpha[c] = rnd(1, 127);
    for (size_t base = 0; base < nw; base += 16)
        d->hp[base + (size_t)rnd(0, nw - base < 16 ? (int32_t)(nw - base) - 1 : 15)] = rnd(-127, 127);
}

static void free_data(bench_data *d)
{
    free(d->x);
    free(d->w);
    free(d->hp);
    free(d->alpha);
    free(d->t);
}

/* A 3x3 layer, stride 1, padding 1, on an hw x hw x c input (c filters for conv2d). */
static mpq_conv_shape shape3x3(mpq_layer_kind kind, unsigned hw, unsigned c)
{
    mpq_conv_shape s = {.kind = kind, .batches = 1, .in_h = hw, .in_w = hw, .in_c = c,
                        .out_c = c, .kh = 3, .kw = 3, .sy = 1, .sx = 1, .py = 1, .px = 1,
                        .dy = 1, .dx = 1, .groups = 1, .out_h = hw, .out_w = hw};
    return s;
}

/* The three convolutions of a shape on fresh data d, and their table rows: dense int8 at
 * acc 32, ternary + 1:16 at acc 32 and at acc 20, all wrapping, grouped by 16 as the
 * accelerator. */
static void conv_layers(const char *tag, const mpq_conv_shape *s, bench_data *d,
                        mpq_conv_layer out[3], bench_layer rows[3])
{
    make_data(d, mpq_conv_in_count(s), mpq_conv_w_count(s), s->out_c);
    static const char *const kinds[3] = {"int8, acc 32", "ternary + 1:16 int8, acc 32",
                                         "ternary + 1:16 int8, acc 20"};
    for (int i = 0; i < 3; i++) {
        memset(&rows[i], 0, sizeof rows[i]);
        snprintf(rows[i].name, sizeof rows[i].name, "%s %s", tag, kinds[i]);
        rows[i].conv = &out[i];
        rows[i].macs = (double)mpq_conv_out_count(s) * mpq_conv_depth(s);
    }
    mpq_conv_layer base = {.shape = *s, .x = d->x, .in_offset = 3, .acc_bits = 32,
                           .acc_mode = MPQ_ACC_WRAP, .order = MPQ_ORDER_GROUPED, .group = 16};
    out[0] = out[1] = out[2] = base;
    out[0].w = d->w;
    out[1].t = out[2].t = d->t;
    out[1].alpha = out[2].alpha = d->alpha;
    out[1].hp = out[2].hp = d->hp;
    out[2].acc_bits = 20;
}

static void print_rows(const char *title, bench_layer *rows, size_t n, const bench_layer *ref)
{
    printf("\n%s\n| layer | GMAC/s | GMAC/s with overflow detection | overhead |%s\n|---|---|---|---|%s\n",
           title, ref ? " FC / this |" : "", ref ? "---|" : "");
    for (size_t i = 0; i < n; i++) {
        printf("| %s | %.2f | %.2f | %.2fx |", rows[i].name, rows[i].macs / rows[i].plain * 1e-9,
               rows[i].macs / rows[i].track * 1e-9, rows[i].overhead);
        if (ref)
            printf(" %.2fx |", (ref->macs / ref->plain) / (rows[i].macs / rows[i].plain));
        putchar('\n');
    }
}

static void json_rows(FILE *f, const bench_layer *rows, size_t n)
{
    fprintf(f, "[");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s{\"layer\": \"%s\", \"macs\": %.0f, \"gmacs\": %.3f, \"gmacs_ovf\": %.3f, "
                "\"overhead\": %.3f}", i ? ", " : "", rows[i].name, rows[i].macs,
                rows[i].macs / rows[i].plain * 1e-9, rows[i].macs / rows[i].track * 1e-9,
                rows[i].overhead);
    fprintf(f, "]");
}

/* The three tables as JSON (atomically): the FC layer's rows, conv3x3's, depthwise3x3's.
 * Returns 0, or 1 (printed). */
static int write_json(const char *json, double macs, const bench_layer *fc, size_t nfc, double cmacs,
                      const bench_layer *conv, size_t nconv, double dmacs, const bench_layer *dw, size_t ndw)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", json);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        perror(tmp);
        return 1;
    }
    fprintf(f, "{\"macs\": %.0f, \"layers\": ", macs);
    json_rows(f, fc, nfc);
    fprintf(f, ",\n \"conv3x3\": {\"macs\": %.0f, \"layers\": ", cmacs);
    json_rows(f, conv, nconv);
    fprintf(f, "},\n \"depthwise3x3\": {\"macs\": %.0f, \"layers\": ", dmacs);
    json_rows(f, dw, ndw);
    fprintf(f, "}}\n");
    if (fclose(f) || rename(tmp, json)) {
        perror(json);
        return 1;
    }
    return 0;
}

/* --json FILE and --reps N. Returns 0 or 2 (usage printed). */
static int parse_args(int argc, char **argv, const char **json, int *reps)
{
    *json = NULL;
    *reps = 15;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json") && i + 1 < argc)
            *json = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc && (*reps = atoi(argv[i + 1])) >= 1)
            i++;
        else {
            fprintf(stderr, "usage: bench_golden [--json FILE] [--reps N], N >= 1\n");
            return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *json;
    int reps;
    if (parse_args(argc, argv, &json, &reps) != 0)
        return 2;
    /* Issue 2's FC layer: 1024x1024, M = 64. */
    const unsigned M = 64, K = 1024, N = 1024;
    bench_data fd;
    make_data(&fd, (size_t)M * K, (size_t)N * K, N);
    mpq_nm nm;
    char err[256];
    if (mpq_nm_from_dense(fd.hp, N, K, 1, 16, &nm, err, sizeof err)) {
        fprintf(stderr, "bench_golden: %s\n", err);
        return 1;
    }
    mpq_fc_layer dense = {.m = M, .k = K, .n = N, .x = fd.x, .in_offset = 3, .w = fd.w,
                          .acc_bits = 32, .acc_mode = MPQ_ACC_WRAP,
                          .order = MPQ_ORDER_GROUPED, .group = 16};
    mpq_fc_layer mixed = {.m = M, .k = K, .n = N, .x = fd.x, .in_offset = 3, .t = fd.t,
                          .alpha = fd.alpha, .hp_nm = &nm, .acc_bits = 32,
                          .acc_mode = MPQ_ACC_WRAP, .order = MPQ_ORDER_GROUPED, .group = 16};
    /* A narrow accumulator: the static bound cannot rule overflow out, so detection checks
     * groups of 16 (the worst case of the detection's cost). */
    mpq_fc_layer narrow = mixed;
    narrow.acc_bits = 20;
    const double macs = (double)M * K * N;
    bench_layer fc_rows[] = {
        {"dense int8, acc 32", &dense, NULL, macs, 0, 0, 0},
        {"ternary + 1:16 int8, acc 32", &mixed, NULL, macs, 0, 0, 0},
        {"ternary + 1:16 int8, acc 20 (per-group checks)", &narrow, NULL, macs, 0, 0, 0},
    };

    /* conv3x3: 56x56x64 -> 64, stride 1, pad 1 (a ResNet stage); the FC layer of its im2col
     * GEMM (m = 3136 pixels, k = 576, n = 64: the same MACs) beside it. */
    mpq_conv_shape cs = shape3x3(MPQ_LAYER_CONV2D, 56, 64);
    bench_data cd;
    mpq_conv_layer cl[3];
    bench_layer conv_rows[5];
    conv_layers("conv3x3", &cs, &cd, cl, conv_rows);
    const unsigned gm = cs.out_h * cs.out_w, gk = mpq_conv_depth(&cs), gn = cs.out_c;
    bench_data gd;
    make_data(&gd, (size_t)gm * gk, (size_t)gn * gk, gn);
    mpq_fc_layer g_dense = {.m = gm, .k = gk, .n = gn, .x = gd.x, .in_offset = 3, .w = gd.w,
                            .acc_bits = 32, .acc_mode = MPQ_ACC_WRAP,
                            .order = MPQ_ORDER_GROUPED, .group = 16};
    mpq_fc_layer g_narrow = {.m = gm, .k = gk, .n = gn, .x = gd.x, .in_offset = 3, .t = gd.t,
                             .alpha = gd.alpha, .hp = gd.hp, .acc_bits = 20,
                             .acc_mode = MPQ_ACC_WRAP, .order = MPQ_ORDER_GROUPED, .group = 16};
    const double cmacs = conv_rows[0].macs;
    conv_rows[3] = (bench_layer){"FC 3136x576x64 int8, acc 32 (same MACs)", &g_dense, NULL, cmacs, 0, 0, 0};
    conv_rows[4] = (bench_layer){"FC 3136x576x64 ternary + 1:16, acc 20", &g_narrow, NULL, cmacs, 0, 0, 0};

    /* depthwise3x3: 112x112x32, stride 1, pad 1 (MobileNet's first block). 1:16 along the
     * channels: one non-zero in every 16 consecutive channels of a window position. */
    mpq_conv_shape ds = shape3x3(MPQ_LAYER_DEPTHWISE, 112, 32);
    bench_data dd;
    mpq_conv_layer dl[3];
    bench_layer dw_rows[3];
    conv_layers("depthwise3x3", &ds, &dd, dl, dw_rows);
    const double dmacs = dw_rows[0].macs;

    const size_t nfc = sizeof fc_rows / sizeof fc_rows[0];
    const size_t nconv = sizeof conv_rows / sizeof conv_rows[0];
    const size_t ndw = sizeof dw_rows / sizeof dw_rows[0];
    for (size_t i = 0; i < nfc; i++)
        time_layer(&fc_rows[i], (size_t)M * N, reps);
    for (size_t i = 0; i < nconv; i++)
        time_layer(&conv_rows[i], mpq_conv_out_count(&cs), reps);
    for (size_t i = 0; i < ndw; i++)
        time_layer(&dw_rows[i], mpq_conv_out_count(&ds), reps);
    printf("golden model, one core, CPU time, best of %d; overhead: median of the %d rounds' ratios (each\n"
           "round times both); FC / this: the 1024x1024 dense FC row's GMAC/s over this row's\n", reps,
           reps);
    print_rows("1024x1024 layer, M=64 (67108864 MACs)", fc_rows, nfc, NULL);
    print_rows("conv3x3 56x56x64 -> 64, stride 1, pad 1", conv_rows, nconv, &fc_rows[0]);
    print_rows("depthwise3x3 112x112x32, stride 1, pad 1", dw_rows, ndw, &fc_rows[0]);
    if (json && write_json(json, macs, fc_rows, nfc, cmacs, conv_rows, nconv, dmacs, dw_rows, ndw) != 0)
        return 1;
    mpq_nm_free(&nm);
    free_data(&fd);
    free_data(&cd);
    free_data(&gd);
    free_data(&dd);
    return 0;
}
