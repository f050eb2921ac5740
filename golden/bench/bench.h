/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench.h: what the layer benchmarks (bench_golden, bench_abfp) share: their seeded draw of
 * operands and their clock. Bench code only. Define BENCH_SEED (the generator's first state)
 * before including it: each benchmark keeps its own seed, so its layers stay the same.
 */
#ifndef MPQ_BENCH_H
#define MPQ_BENCH_H
#include <stdint.h>
#include <time.h>

#ifndef BENCH_SEED
#error "define BENCH_SEED before including bench.h"
#endif

/* An LCG (Knuth's MMIX constants, unsigned so that it wraps); uniform enough in [lo, hi]
 * for operands, and the same on every host. */
static uint64_t rng = BENCH_SEED;
static int32_t rnd(int32_t lo, int32_t hi)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (int32_t)((rng >> 33) % (uint64_t)(hi - lo + 1));
}

/* CPU time of this (single-threaded) process: on a shared host the wall clock also counts
 * the time other tenants hold the core, which swings from run to run by 2x. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
#endif
