/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_rng.h: the library's one pseudo-random generator (internal). splitmix64: every stream
 * is a seed; the same seed gives the same numbers on every platform.
 */
#ifndef MPQ_RNG_H
#define MPQ_RNG_H

#include <stdint.h>

typedef struct mpq_rng {
    uint64_t s;
} mpq_rng;

static inline void mpq_rng_seed(mpq_rng *r, uint64_t seed) { r->s = seed; }

static inline uint64_t mpq_rng_u64(mpq_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform integer in [0, n), n >= 1 (multiply-shift; bias below 2^-32 for n < 2^32). */
static inline uint32_t mpq_rng_below(mpq_rng *r, uint32_t n)
{
    return (uint32_t)(((mpq_rng_u64(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform integer in [lo, hi], lo <= hi. */
static inline int64_t mpq_rng_range(mpq_rng *r, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1u; /* modulo 2^64: no signed overflow */
    uint64_t off = span == 0 ? mpq_rng_u64(r) : mpq_rng_u64(r) % span;
    return (int64_t)((uint64_t)lo + off); /* two's complement conversion (gcc, clang) */
}

/* 1 with probability p (0 <= p <= 1). */
static inline int mpq_rng_bernoulli(mpq_rng *r, double p)
{
    return (double)(mpq_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0) < p;
}

#endif
