/* SPDX-License-Identifier: Apache-2.0 */
/* Minimal test helpers: every failed CHECK prints where and what, the program exits 1 at
 * the end if any failed. Random tests print their seed. */
#ifndef MPQ_TEST_CHECK_H
#define MPQ_TEST_CHECK_H
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failures;
#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            if (check_failures++ < 20) {                                                     \
                fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);     \
                fprintf(stderr, __VA_ARGS__);                                                \
                fputc('\n', stderr);                                                         \
            }                                                                                \
        }                                                                                    \
    } while (0)
#define CHECK_EQ(a, b, ...)                                                                  \
    do {                                                                                     \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                      \
        CHECK(check_a_ == check_b_, __VA_ARGS__);                                            \
        if (check_a_ != check_b_ && check_failures <= 20)                                    \
            fprintf(stderr, "    got %lld, want %lld\n", check_a_, check_b_);                \
    } while (0)

static int check_done(const char *name)
{
    if (check_failures)
        printf("%s: %d checks failed\n", name, check_failures);
    else
        printf("%s: all checks passed\n", name);
    return check_failures ? 1 : 0;
}

/* splitmix64: the tests' seeded generator. */
static uint64_t test_rng_state;
static inline uint64_t test_rand(void)
{
    uint64_t z = (test_rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
/* Uniform in [lo, hi]. */
static inline int64_t test_range(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(test_rand() % (uint64_t)(hi - lo + 1));
}
static inline void test_seed(const char *name, uint64_t seed)
{
    const char *env = getenv("MPQ_TEST_SEED");
    if (env)
        seed = strtoull(env, NULL, 0);
    test_rng_state = seed;
    printf("%s: seed %" PRIu64 " (MPQ_TEST_SEED=%" PRIu64 " reproduces)\n", name, seed, seed);
}
#endif
