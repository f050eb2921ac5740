/* SPDX-License-Identifier: Apache-2.0 */
/* test_nsga: NSGA-II (explore/mpq_nsga.h). On a space small enough to enumerate (3^5 vectors,
 * two and three conflicting objectives), the search's front equals the exhaustive Pareto
 * front; every distinct vector is evaluated once; the initial individuals come first; the same
 * seed gives the same archive and another seed another order; the front holds no dominated
 * point and dominates or equals every archived one; an evaluation error stops the search with
 * its status; options out of range are refused. Random problems from a printed seed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arith/mpq.h"
#include "check.h"
#include "explore/mpq_nsga.h"

enum { GENES = 5, ALLELES = 3, SPACE = 243 };

typedef struct problem {
    double w[3][GENES][ALLELES]; /* objective k of gene i at value v */
    unsigned nobj;
    unsigned calls;
    unsigned fail_at;            /* the call that fails (0: none) */
} problem;

static int eval(void *ctx, const uint8_t *g, double *obj, char *err, size_t errlen)
{
    problem *p = ctx;
    if (++p->calls == p->fail_at)
        return snprintf(err, errlen, "planted failure"), 7;
    for (unsigned k = 0; k < p->nobj; k++) {
        obj[k] = 0;
        for (unsigned i = 0; i < GENES; i++)
            obj[k] += p->w[k][i][g[i]];
    }
    /* a non-additive term, as the fidelity is */
    obj[0] += (g[0] == g[1]) ? 0.5 : 0.0;
    return 0;
}

static void random_problem(problem *p, unsigned nobj)
{
    memset(p, 0, sizeof *p);
    p->nobj = nobj;
    for (unsigned k = 0; k < nobj; k++)
        for (unsigned i = 0; i < GENES; i++)
            for (unsigned v = 0; v < ALLELES; v++)
                p->w[k][i][v] = (double)test_range(0, 20);
}

static void decode(unsigned idx, uint8_t *g)
{
    for (unsigned i = 0; i < GENES; i++, idx /= ALLELES)
        g[i] = (uint8_t)(idx % ALLELES);
}

/* The exhaustive front's objective vectors, in out (SPACE x nobj); returns how many. */
static unsigned exhaustive(problem *p, double *out)
{
    static double all[SPACE][3];
    uint8_t g[GENES];
    char err[64];
    for (unsigned i = 0; i < SPACE; i++) {
        decode(i, g);
        eval(p, g, all[i], err, sizeof err);
    }
    unsigned n = 0;
    for (unsigned i = 0; i < SPACE; i++) {
        int keep = 1;
        for (unsigned j = 0; j < SPACE && keep; j++)
            keep = !mpq_nsga_dominates(all[j], all[i], p->nobj);
        for (unsigned j = 0; j < n && keep; j++)
            keep = memcmp(out + j * p->nobj, all[i], p->nobj * sizeof(double)) != 0;
        if (keep)
            memcpy(out + n++ * p->nobj, all[i], p->nobj * sizeof(double));
    }
    return n;
}

static void test_front(unsigned nobj)
{
    problem p;
    random_problem(&p, nobj);
    static double truth[SPACE * 3];
    unsigned nt = exhaustive(&p, truth);
    p.calls = 0;
    uint8_t init[GENES] = {0, 0, 0, 0, 0};
    mpq_nsga_opts o = {.genes = GENES, .alleles = ALLELES, .nobj = nobj, .pop = 24, .gens = 40,
                       .seed = test_rand(), .p_cross = 0.9, .init = init, .ninit = 1};
    mpq_nsga_archive a = {0};
    char err[256];
    CHECK_EQ(mpq_nsga_run(&o, eval, &p, &a, err, sizeof err), 0, "run: %s", err);
    CHECK_EQ(p.calls, a.n, "every distinct vector evaluated once");
    CHECK(a.n <= SPACE, "archive of %zu > the space", a.n);
    CHECK(!memcmp(a.g, init, GENES), "the initial individual is evaluated first");
    for (size_t i = 0; i < a.n; i++)
        for (size_t j = 0; j < i; j++)
            CHECK(memcmp(a.g + i * GENES, a.g + j * GENES, GENES), "archive entries %zu and %zu repeat", i, j);
    size_t *idx = malloc(a.n * sizeof *idx);
    size_t nf = mpq_nsga_front(&a, idx);
    for (unsigned t = 0; t < nt; t++) {
        int found = 0;
        for (size_t k = 0; k < nf && !found; k++)
            found = !memcmp(a.obj + idx[k] * nobj, truth + t * nobj, nobj * sizeof(double));
        CHECK(found, "%u objectives: exhaustive front point %u (of %u) missing from the search's %zu", nobj, t, nt, nf);
    }
    for (size_t k = 0; k < nf; k++)
        for (size_t i = 0; i < a.n; i++)
            CHECK(!mpq_nsga_dominates(a.obj + i * nobj, a.obj + idx[k] * nobj, nobj), "front point dominated");
    CHECK_EQ(nf, nt, "front size equals the exhaustive front's");
    /* the same seed, the same archive */
    mpq_nsga_archive b = {0};
    p.calls = 0;
    CHECK_EQ(mpq_nsga_run(&o, eval, &p, &b, err, sizeof err), 0, "rerun: %s", err);
    CHECK(b.n == a.n && !memcmp(a.g, b.g, a.n * GENES), "same seed, same archive");
    free(idx);
    mpq_nsga_archive_free(&a);
    mpq_nsga_archive_free(&b);
}

static void test_errors(void)
{
    problem p;
    random_problem(&p, 2);
    mpq_nsga_archive a = {0};
    char err[256] = "";
    mpq_nsga_opts o = {.genes = GENES, .alleles = ALLELES, .nobj = 2, .pop = 8, .gens = 3, .seed = 1, .p_cross = 0.9};
    p.fail_at = 11;
    CHECK_EQ(mpq_nsga_run(&o, eval, &p, &a, err, sizeof err), 7, "the evaluation's status stops the search");
    CHECK(strstr(err, "planted"), "its message: %s", err);
    p.fail_at = 0;
    mpq_nsga_opts bad = o;
    bad.pop = 1;
    CHECK_EQ(mpq_nsga_run(&bad, eval, &p, &a, err, sizeof err), MPQ_EPARAM, "population 1 refused");
    bad = o;
    bad.alleles = 0;
    CHECK_EQ(mpq_nsga_run(&bad, eval, &p, &a, err, sizeof err), MPQ_EPARAM, "0 values per gene refused");
    uint8_t init[GENES] = {0, 3, 0, 0, 0};
    bad = o;
    bad.init = init;
    bad.ninit = 1;
    CHECK_EQ(mpq_nsga_run(&bad, eval, &p, &a, err, sizeof err), MPQ_EPARAM, "an initial value >= alleles refused");
    CHECK(strstr(err, "initial"), "named: %s", err);
    mpq_nsga_archive_free(&a);
}

int main(void)
{
    test_seed("test_nsga", (uint64_t)time(NULL));
    for (int r = 0; r < 10; r++) {
        test_front(2);
        test_front(3);
    }
    test_errors();
    return check_done("test_nsga");
}
