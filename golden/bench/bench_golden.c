/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_golden: GMAC/s of the functional golden model on a 1024x1024 layer with M = 64
 * (issue 2's benchmark): dense int8, and ternary + 1:16 sparse int8, each with and
 * without overflow detection. Prints a table; with --json FILE also writes the figures.
 * One core, best of several repetitions.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpq.h"

static uint64_t rng = 0x1234567;
static int32_t rnd(int32_t lo, int32_t hi)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (int32_t)((rng >> 33) % (uint64_t)(hi - lo + 1));
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double time_once(const mpq_fc_layer *l, int64_t *acc, mpq_fc_ovf *ovf)
{
    char err[256];
    double t0 = now();
    if (mpq_fc_acc(l, acc, ovf, err, sizeof err)) {
        fprintf(stderr, "bench_golden: %s\n", err);
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
static void time_layer(const mpq_fc_layer *l, int64_t *acc, int reps, double *plain,
                       double *track, double *overhead)
{
    uint8_t *flags = malloc((size_t)l->m * l->n);
    int32_t *first_k = malloc((size_t)l->m * l->n * sizeof *first_k);
    double *ratio = malloc((size_t)reps * sizeof *ratio);
    if (!flags || !first_k || !ratio) {
        fprintf(stderr, "bench_golden: out of memory\n");
        exit(1);
    }
    mpq_fc_ovf ovf = {.flags = flags, .first_k = first_k};
    *plain = *track = 1e30;
    for (int r = 0; r < reps; r++) {
        double tp = time_once(l, acc, NULL), tt = time_once(l, acc, &ovf);
        *plain = tp < *plain ? tp : *plain;
        *track = tt < *track ? tt : *track;
        ratio[r] = tt / tp;
    }
    qsort(ratio, (size_t)reps, sizeof *ratio, cmp_double);
    *overhead = reps % 2 ? ratio[reps / 2] : (ratio[reps / 2 - 1] + ratio[reps / 2]) / 2;
    free(flags);
    free(first_k);
    free(ratio);
}

int main(int argc, char **argv)
{
    const char *json = NULL;
    int reps = 15;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json") && i + 1 < argc)
            json = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc && (reps = atoi(argv[i + 1])) >= 1)
            i++;
        else {
            fprintf(stderr, "usage: bench_golden [--json FILE] [--reps N], N >= 1\n");
            return 2;
        }
    }
    const unsigned M = 64, K = 1024, N = 1024;
    int32_t *x = malloc(sizeof(int32_t) * M * K), *w = malloc(sizeof(int32_t) * N * K);
    int32_t *hp = calloc((size_t)N * K, sizeof *hp), *alpha = malloc(sizeof(int32_t) * N);
    int8_t *t = malloc((size_t)N * K);
    int64_t *acc = malloc(sizeof(int64_t) * M * N);
    if (!x || !w || !hp || !alpha || !t || !acc)
        return 1;
    for (size_t i = 0; i < (size_t)M * K; i++)
        x[i] = rnd(-128, 127);
    for (size_t i = 0; i < (size_t)N * K; i++) {
        w[i] = rnd(-128, 127);
        t[i] = (int8_t)rnd(-1, 1);
    }
    for (unsigned c = 0; c < N; c++) {
        alpha[c] = rnd(1, 127);
        for (unsigned g = 0; g < K / 16; g++)
            hp[(size_t)c * K + g * 16 + (unsigned)rnd(0, 15)] = rnd(-127, 127);
    }
    mpq_nm nm;
    char err[256];
    if (mpq_nm_from_dense(hp, N, K, 1, 16, &nm, err, sizeof err)) {
        fprintf(stderr, "bench_golden: %s\n", err);
        return 1;
    }
    mpq_fc_layer dense = {.m = M, .k = K, .n = N, .x = x, .in_offset = 3, .w = w,
                          .acc_bits = 32, .acc_mode = MPQ_ACC_WRAP,
                          .order = MPQ_ORDER_GROUPED, .group = 16};
    mpq_fc_layer mixed = {.m = M, .k = K, .n = N, .x = x, .in_offset = 3, .t = t, .alpha = alpha,
                          .hp_nm = &nm, .acc_bits = 32, .acc_mode = MPQ_ACC_WRAP,
                          .order = MPQ_ORDER_GROUPED, .group = 16};
    /* A narrow accumulator: the static bound cannot rule overflow out, so detection checks
     * every group of 16 (the worst case of the detection's cost). */
    mpq_fc_layer narrow = mixed;
    narrow.acc_bits = 20;
    const double macs = (double)M * K * N;
    struct { const char *name; const mpq_fc_layer *l; double plain, track, overhead; } rows[] = {
        {"dense int8, acc 32", &dense, 0, 0, 0},
        {"ternary + 1:16 int8, acc 32", &mixed, 0, 0, 0},
        {"ternary + 1:16 int8, acc 20 (per-group checks)", &narrow, 0, 0, 0},
    };
    const size_t nrows = sizeof rows / sizeof rows[0];
    printf("golden model, 1024x1024 layer, M=64 (%.0f MACs), best of %d, one core; overhead: median\n"
           "of the %d rounds' ratios (each round times both)\n", macs, reps, reps);
    printf("| layer | GMAC/s | GMAC/s with overflow detection | overhead |\n|---|---|---|---|\n");
    for (size_t i = 0; i < nrows; i++) {
        time_layer(rows[i].l, acc, reps, &rows[i].plain, &rows[i].track, &rows[i].overhead);
        printf("| %s | %.2f | %.2f | %.2fx |\n", rows[i].name, macs / rows[i].plain * 1e-9,
               macs / rows[i].track * 1e-9, rows[i].overhead);
    }
    if (json) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", json);
        FILE *f = fopen(tmp, "w");
        if (!f) {
            perror(tmp);
            return 1;
        }
        fprintf(f, "{\"macs\": %.0f, \"layers\": [", macs);
        for (size_t i = 0; i < nrows; i++)
            fprintf(f, "%s{\"layer\": \"%s\", \"gmacs\": %.3f, \"gmacs_ovf\": %.3f, \"overhead\": %.3f}",
                    i ? ", " : "", rows[i].name, macs / rows[i].plain * 1e-9,
                    macs / rows[i].track * 1e-9, rows[i].overhead);
        fprintf(f, "]}\n");
        if (fclose(f) || rename(tmp, json)) {
            perror(json);
            return 1;
        }
    }
    mpq_nm_free(&nm);
    free(x);
    free(w);
    free(hp);
    free(alpha);
    free(t);
    free(acc);
    return 0;
}
