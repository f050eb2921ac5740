/* SPDX-License-Identifier: Apache-2.0 */
/* mpq_nsga.c: NSGA-II over small-integer vectors (mpq_nsga.h). Never prints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"
#include "arith/mpq_rng.h"
#include "explore/mpq_nsga.h"

/* ---- the archive: every distinct individual, found again by hash ---- */

static uint64_t hash_genes(const uint8_t *g, unsigned n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (unsigned i = 0; i < n; i++)
        h = (h ^ g[i]) * 1099511628211ull;
    return h;
}

long mpq_nsga_find(const mpq_nsga_archive *a, const uint8_t *genes)
{
    if (!a->nslot)
        return -1;
    for (size_t s = hash_genes(genes, a->genes) & (a->nslot - 1);; s = (s + 1) & (a->nslot - 1)) {
        size_t v = a->slot[s];
        if (!v)
            return -1;
        if (!memcmp(a->g + (v - 1) * a->genes, genes, a->genes))
            return (long)(v - 1);
    }
}

/* Room for one more individual (arrays and a hash table at most half full). */
static int archive_grow(mpq_nsga_archive *a)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 256;
        uint8_t *g = realloc(a->g, cap * a->genes);
        if (g)
            a->g = g;
        double *obj = realloc(a->obj, cap * a->nobj * sizeof *obj);
        if (obj)
            a->obj = obj;
        if (!g || !obj)
            return MPQ_ENOMEM;
        a->cap = cap;
    }
    if (2 * (a->n + 1) <= a->nslot)
        return 0;
    size_t nslot = a->nslot ? 2 * a->nslot : 512;
    size_t *slot = calloc(nslot, sizeof *slot);
    if (!slot)
        return MPQ_ENOMEM;
    for (size_t i = 0; i < a->n; i++) {
        size_t s = hash_genes(a->g + i * a->genes, a->genes) & (nslot - 1);
        while (slot[s])
            s = (s + 1) & (nslot - 1);
        slot[s] = i + 1;
    }
    free(a->slot);
    a->slot = slot;
    a->nslot = nslot;
    return 0;
}

/* The archive index of genes, evaluating and adding it when new. Returns 0 or a status. */
static int archive_get(mpq_nsga_archive *a, const uint8_t *genes, mpq_nsga_eval_fn f, void *ctx, size_t *idx,
                       char *err, size_t errlen)
{
    long at = mpq_nsga_find(a, genes);
    if (at >= 0) {
        *idx = (size_t)at;
        return 0;
    }
    int rc = archive_grow(a);
    if (rc)
        return snprintf(err, errlen, "out of memory"), rc;
    double *obj = a->obj + a->n * a->nobj;
    if ((rc = f(ctx, genes, obj, err, errlen)) != 0)
        return rc;
    memcpy(a->g + a->n * a->genes, genes, a->genes);
    size_t s = hash_genes(genes, a->genes) & (a->nslot - 1);
    while (a->slot[s])
        s = (s + 1) & (a->nslot - 1);
    a->slot[s] = a->n + 1;
    *idx = a->n++;
    return 0;
}

void mpq_nsga_archive_free(mpq_nsga_archive *a)
{
    free(a->g);
    free(a->obj);
    free(a->slot);
    memset(a, 0, sizeof *a);
}

int mpq_nsga_dominates(const double *x, const double *y, unsigned nobj)
{
    int better = 0;
    for (unsigned i = 0; i < nobj; i++) {
        if (x[i] > y[i])
            return 0;
        better |= x[i] < y[i];
    }
    return better;
}

/* ---- ranking: fast non-dominated sort and crowding distance ---- */

typedef struct member {
    size_t idx;                /* into the archive */
    unsigned rank;
    double crowd;
} member;

/* qsort's context (qsort takes none): the archive and the objective sorted on. The search is
 * single-threaded; two searches must not run at once in one process. */
static const mpq_nsga_archive *sort_a;
static unsigned sort_k;

static int by_obj(const void *x, const void *y)
{
    const member *p = *(member *const *)x, *q = *(member *const *)y;
    double u = sort_a->obj[p->idx * sort_a->nobj + sort_k], v = sort_a->obj[q->idx * sort_a->nobj + sort_k];
    return u < v ? -1 : u > v ? 1 : (p->idx > q->idx) - (p->idx < q->idx);
}

/* Crowding distance of the members of one front (ptrs, n of them). */
static void crowding(const mpq_nsga_archive *a, member **f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        f[i]->crowd = 0;
    for (unsigned k = 0; k < a->nobj; k++) {
        sort_a = a;
        sort_k = k;
        qsort(f, n, sizeof *f, by_obj);
        double lo = a->obj[f[0]->idx * a->nobj + k], hi = a->obj[f[n - 1]->idx * a->nobj + k];
        f[0]->crowd = f[n - 1]->crowd = INFINITY;
        if (!(hi > lo) || isinf(hi - lo))
            continue;
        for (size_t i = 1; i + 1 < n; i++)
            f[i]->crowd += (a->obj[f[i + 1]->idx * a->nobj + k] - a->obj[f[i - 1]->idx * a->nobj + k]) / (hi - lo);
    }
}

/* Ranks the n members (rank 0: non-dominated) and sets their crowding distances. Returns 0
 * or MPQ_ENOMEM. */
static int rank_all(const mpq_nsga_archive *a, member *m, size_t n)
{
    member **f = malloc(n * sizeof *f);
    unsigned char *done = calloc(n, 1);
    if (!f || !done) {
        free(f);
        free(done);
        return MPQ_ENOMEM;
    }
    size_t left = n;
    for (unsigned r = 0; left; r++) {
        size_t nf = 0;
        for (size_t i = 0; i < n; i++) {
            if (done[i])
                continue;
            int dominated = 0;
            for (size_t j = 0; j < n && !dominated; j++)
                dominated = !done[j] && j != i &&
                            mpq_nsga_dominates(a->obj + m[j].idx * a->nobj, a->obj + m[i].idx * a->nobj, a->nobj);
            if (!dominated)
                f[nf++] = &m[i];
        }
        for (size_t i = 0; i < nf; i++) {
            f[i]->rank = r;
            done[f[i] - m] = 1;
        }
        left -= nf;
        crowding(a, f, nf);
    }
    free(f);
    free(done);
    return 0;
}

static int better(const member *x, const member *y)
{
    return x->rank < y->rank || (x->rank == y->rank && x->crowd > y->crowd);
}

static int by_rank_crowd(const void *x, const void *y)
{
    const member *p = x, *q = y;
    if (better(p, q))
        return -1;
    if (better(q, p))
        return 1;
    return (p->idx > q->idx) - (p->idx < q->idx);
}

/* ---- the search ---- */

static int check_opts(const mpq_nsga_opts *o, char *err, size_t errlen)
{
    if (o->genes < 1 || o->genes > 4096 || o->alleles < 1 || o->alleles > 255)
        return snprintf(err, errlen, "genes %u (1..4096) or values per gene %u (1..255) out of range", o->genes,
                        o->alleles), MPQ_EPARAM;
    if (o->nobj < 1 || o->nobj > MPQ_NSGA_MAX_OBJ || o->pop < 2 || o->pop > 4096)
        return snprintf(err, errlen, "objectives %u (1..%d) or population %u (2..4096) out of range", o->nobj,
                        MPQ_NSGA_MAX_OBJ, o->pop), MPQ_EPARAM;
    for (size_t i = 0; i < (size_t)o->ninit * o->genes; i++)
        if (o->init[i] >= o->alleles)
            return snprintf(err, errlen, "initial individual %zu: value %u >= %u", i / o->genes, o->init[i],
                            o->alleles), MPQ_EPARAM;
    return 0;
}

/* One child of the population m (pop members, ranked) into child. */
static void make_child(const mpq_nsga_opts *o, const mpq_nsga_archive *a, const member *m, mpq_rng *r,
                       uint8_t *child)
{
    const member *p[2];
    for (int k = 0; k < 2; k++) {
        const member *x = &m[mpq_rng_below(r, o->pop)], *y = &m[mpq_rng_below(r, o->pop)];
        p[k] = better(y, x) ? y : x;
    }
    const uint8_t *g0 = a->g + p[0]->idx * a->genes, *g1 = a->g + p[1]->idx * a->genes;
    int cross = mpq_rng_bernoulli(r, o->p_cross);
    double pm = o->p_mut > 0 ? o->p_mut : 1.0 / o->genes;
    for (unsigned i = 0; i < o->genes; i++) {
        child[i] = cross && (mpq_rng_u64(r) & 1u) ? g1[i] : g0[i];
        if (o->alleles > 1 && mpq_rng_bernoulli(r, pm))
            child[i] = (uint8_t)((child[i] + 1u + mpq_rng_below(r, o->alleles - 1u)) % o->alleles);
    }
}

/* The first population: the initial individuals, then random ones (distinct, as far as a
 * few draws find them). */
static int first_pop(const mpq_nsga_opts *o, mpq_nsga_archive *a, mpq_nsga_eval_fn f, void *ctx, mpq_rng *r,
                     member *m, uint8_t *g, char *err, size_t errlen)
{
    for (unsigned i = 0; i < o->pop; i++) {
        if (i < o->ninit)
            memcpy(g, o->init + (size_t)i * o->genes, o->genes);
        else
            for (unsigned tries = 0; tries < 8; tries++) {
                for (unsigned j = 0; j < o->genes; j++)
                    g[j] = (uint8_t)mpq_rng_below(r, o->alleles);
                if (mpq_nsga_find(a, g) < 0)
                    break;
            }
        int rc = archive_get(a, g, f, ctx, &m[i].idx, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

int mpq_nsga_run(const mpq_nsga_opts *o, mpq_nsga_eval_fn f, void *ctx, mpq_nsga_archive *a, char *err,
                 size_t errlen)
{
    int rc = check_opts(o, err, errlen);
    if (rc)
        return rc;
    mpq_nsga_archive_free(a);
    a->genes = o->genes;
    a->nobj = o->nobj;
    mpq_rng r;
    mpq_rng_seed(&r, o->seed);
    member *m = calloc(2 * (size_t)o->pop, sizeof *m);
    uint8_t *g = malloc(o->genes);
    if (!m || !g) {
        free(m);
        free(g);
        return snprintf(err, errlen, "out of memory"), MPQ_ENOMEM;
    }
    rc = first_pop(o, a, f, ctx, &r, m, g, err, errlen);
    if (!rc && (rc = rank_all(a, m, o->pop)) != 0)
        snprintf(err, errlen, "out of memory");
    for (unsigned gen = 0; gen < o->gens && !rc; gen++) {
        for (unsigned i = 0; i < o->pop && !rc; i++) {
            for (unsigned tries = 0; tries < 8; tries++) {
                make_child(o, a, m, &r, g);
                if (mpq_nsga_find(a, g) < 0)
                    break;
            }
            rc = archive_get(a, g, f, ctx, &m[o->pop + i].idx, err, errlen);
        }
        if (!rc && (rc = rank_all(a, m, 2 * (size_t)o->pop)) != 0)
            snprintf(err, errlen, "out of memory");
        if (!rc) {
            qsort(m, 2 * (size_t)o->pop, sizeof *m, by_rank_crowd);
            rc = rank_all(a, m, o->pop);
        }
    }
    free(m);
    free(g);
    return rc;
}

static int by_front_obj(const void *x, const void *y)
{
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    for (unsigned k = 0; k < sort_a->nobj; k++) {
        double u = sort_a->obj[i * sort_a->nobj + k], v = sort_a->obj[j * sort_a->nobj + k];
        if (u != v)
            return u < v ? -1 : 1;
    }
    return (i > j) - (i < j);
}

static int obj_equal(const double *x, const double *y, unsigned nobj)
{
    for (unsigned k = 0; k < nobj; k++)
        if (x[k] != y[k])
            return 0;
    return 1;
}

size_t mpq_nsga_front(const mpq_nsga_archive *a, size_t *idx)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++) {
        const double *x = a->obj + i * a->nobj;
        int keep = 1;
        for (size_t j = 0; j < a->n && keep; j++) {
            const double *y = a->obj + j * a->nobj;
            keep = !mpq_nsga_dominates(y, x, a->nobj) && !(j < i && obj_equal(x, y, a->nobj));
        }
        if (keep)
            idx[n++] = i;
    }
    sort_a = a;
    qsort(idx, n, sizeof *idx, by_front_obj);
    return n;
}
