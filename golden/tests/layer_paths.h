/* SPDX-License-Identifier: Apache-2.0 */
/* The layer tests' common check (test_conv, test_fc): a layer planned through mpq_layer.h on
 * every path it may take gives the naive reference's accumulators, and a count of the layers
 * the tile kernels took. Test code only; include after check.h. */
#ifndef MPQ_TEST_LAYER_PATHS_H
#define MPQ_TEST_LAYER_PATHS_H
#include <string.h>

#include "check.h"
#include "arith/mpq_layer.h"

/* Layers each kernel took (mpq_layer_kernel), over the comparisons below. */
static unsigned n_kernel[2];

/* The layer planned (mpq_layer.h) with the kernel the plan chooses, at the best SIMD level and
 * at SSE2, and with the exact kernels only: all give want[], the naive reference's
 * accumulators. */
static void compare_paths(const mpq_layer_def *d, const int32_t *x, size_t nx, const int64_t *want,
                          size_t n, int iter)
{
    static int64_t acc[1 << 16];
    const mpq_simd best = mpq_simd_limit(MPQ_SIMD_AVX2);
    for (int pass = 0; pass < 2 + (best > MPQ_SIMD_SSE2); pass++) {
        /* the plan's kernel at the best level, the exact ones, the plan's at SSE2 */
        const int exact = pass == 1;
        mpq_simd_limit(pass == 2 ? MPQ_SIMD_SSE2 : best);
        mpq_layer_def e = *d;
        e.flags = exact ? MPQ_LAYER_EXACT : 0;
        e.x_min = e.x_max = nx ? x[0] : 0;
        for (size_t i = 0; i < nx; i++) {
            e.x_min = x[i] < e.x_min ? x[i] : e.x_min;
            e.x_max = x[i] > e.x_max ? x[i] : e.x_max;
        }
        mpq_layer *pl;
        char err[256];
        int st = mpq_layer_init(&pl, &e, err, sizeof err);
        CHECK(st == 0, "iter %d: plan: %s", iter, err);
        if (st)
            continue;
        n_kernel[0] += pass == 0 && !strcmp(mpq_layer_kernel(pl), "tile");
        n_kernel[1] += pass == 0;
        mpq_layer_out out = {.acc = acc};
        CHECK(mpq_layer_run(pl, x, NULL, &out, NULL, err, sizeof err) == 0, "iter %d: %s", iter, err);
        for (size_t i = 0; i < n; i++)
            if (acc[i] != want[i]) {
                CHECK(0, "iter %d: %s kernel (%s): acc[%zu] = %lld, want %lld", iter,
                      mpq_layer_kernel(pl), mpq_simd_name(mpq_simd_level()), i, (long long)acc[i],
                      (long long)want[i]);
                break;
            }
        mpq_layer_free(pl);
    }
    mpq_simd_limit(best);
}

/* The closing line of a layer test: how many layers the tile kernels took, and a check that
 * the random layers reached them often enough to test them. */
static void report_kernels(const char *name)
{
    printf("%s: the tile kernels took %u of %u layers (each also through the exact ones)\n", name,
           n_kernel[0], n_kernel[1]);
    CHECK(n_kernel[0] > n_kernel[1] / 10, "too few layers for the tile kernels");
}
#endif
