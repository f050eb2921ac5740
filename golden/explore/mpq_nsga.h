/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_nsga.h: NSGA-II (Deb et al., 2002), the multi-objective search of the paper issue 29
 * follows, over vectors of small integers (a network's per-layer precision choices).
 *
 * An individual is `genes` values, each 0..alleles-1; its objectives (all minimized) come
 * from the caller's evaluation function. Every distinct individual is evaluated once: the
 * archive keeps them all, with their objectives, and the search's answer is the archive's
 * non-dominated set (not only the last population's). Each generation makes `pop` children by
 * binary tournament (lower rank, then larger crowding distance), uniform crossover and a
 * per-gene mutation to a random other value, then keeps the best `pop` of parents and
 * children by rank and crowding distance. Every random choice comes from one mpq_rng seeded
 * with opts.seed, and the evaluation order is fixed: the same options and evaluations give
 * the same archive, in the same order.
 */
#ifndef MPQ_NSGA_H
#define MPQ_NSGA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { MPQ_NSGA_MAX_OBJ = 8 };

/* Writes the nobj objectives of genes into obj. Returns 0, or non-zero with err set: the
 * search stops and returns that value. */
typedef int (*mpq_nsga_eval_fn)(void *ctx, const uint8_t *genes, double *obj, char *err, size_t errlen);

typedef struct mpq_nsga_opts {
    unsigned genes;            /* 1..4096 */
    unsigned alleles;          /* values per gene, 1..255 */
    unsigned nobj;             /* 1..MPQ_NSGA_MAX_OBJ */
    unsigned pop;              /* 2..4096 */
    unsigned gens;             /* generations after the first population */
    uint64_t seed;
    double p_cross;            /* a pair of parents is crossed with this probability */
    double p_mut;              /* each gene of a child mutates with this; <= 0: 1/genes */
    const uint8_t *init;       /* ninit individuals [ninit][genes] put first in the first
                                  population (baselines); the rest is random */
    unsigned ninit;
} mpq_nsga_opts;

/* Every distinct individual evaluated, in evaluation order. */
typedef struct mpq_nsga_archive {
    size_t n, cap;
    unsigned genes, nobj;
    uint8_t *g;                /* [n][genes] */
    double *obj;               /* [n][nobj] */
    size_t *slot, nslot;       /* hash table of indices + 1 (0: empty) */
} mpq_nsga_archive;

/* Runs the search; a (zeroed by the caller, or left from nothing) receives every evaluated
 * individual. Returns 0, MPQ_EPARAM with err (options out of range), MPQ_ENOMEM, or the
 * evaluation function's non-zero status. Free a with mpq_nsga_archive_free either way. */
int mpq_nsga_run(const mpq_nsga_opts *o, mpq_nsga_eval_fn f, void *ctx, mpq_nsga_archive *a, char *err,
                 size_t errlen);

/* Whether objectives x dominate y (no worse in every one, better in one). */
int mpq_nsga_dominates(const double *x, const double *y, unsigned nobj);

/* The archive's non-dominated individuals (of equal objectives, the first evaluated), their
 * indices into idx (a->n entries of room), sorted by the objectives in order. Returns how
 * many. */
size_t mpq_nsga_front(const mpq_nsga_archive *a, size_t *idx);

/* The archive index of genes, or -1 when it was not evaluated. */
long mpq_nsga_find(const mpq_nsga_archive *a, const uint8_t *genes);

void mpq_nsga_archive_free(mpq_nsga_archive *a);

#ifdef __cplusplus
}
#endif
#endif
