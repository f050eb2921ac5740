/* SPDX-License-Identifier: Apache-2.0 */
/* xp_search.c: the exhaustive Pareto search of xp.h (per-layer fronts, their sums per
 * precision vector, the network's front). Never prints. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xp.h"

int xp_dominates(const xp_obj *a, const xp_obj *b)
{
    if (a->cycles > b->cycles || a->energy_pj > b->energy_pj || a->wmem_bits > b->wmem_bits || a->acc < b->acc)
        return 0;
    return a->cycles < b->cycles || a->energy_pj < b->energy_pj || a->wmem_bits < b->wmem_bits || a->acc > b->acc;
}

static int obj_equal(const xp_obj *a, const xp_obj *b)
{
    return a->cycles == b->cycles && a->energy_pj == b->energy_pj && a->wmem_bits == b->wmem_bits && a->acc == b->acc;
}

/* Keeps the non-dominated points of a[0..n) in their order (of equal ones the first). */
static size_t pareto(xp_net_pt *a, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int out = 0;
        for (size_t j = 0; j < n && !out; j++)
            out = j != i && (xp_dominates(&a[j].o, &a[i].o) || (j < i && obj_equal(&a[j].o, &a[i].o)));
        if (!out)
            a[k++] = a[i];
    }
    return k;
}

int xp_layer_obj(const xp_net *n, unsigned l, unsigned p, const mpq_xp_map *m, xp_obj *o)
{
    mpq_xp_point pt = {.prec = n->prec[p], .map = *m};
    mpq_xp_cost c;
    if (mpq_xp_point_cost(n->hw, &n->layer[l], &pt, &c) != 0)
        return -1;
    /* Every part streams all the layer's weights once: the stored bits are one part's. */
    o->cycles = (double)c.cycles / n->images;
    o->energy_pj = mpq_xp_energy_of(n->e, &c) / n->images;
    o->wmem_bits = c.hw_layers ? (double)c.weight_bits / (double)c.hw_layers : 0;
    o->acc = 0;
    return 0;
}

/* The non-dominated (cycles, energy, weight memory) mappings of layer l at precision p. */
static int layer_front(const xp_net *n, unsigned l, unsigned p, xp_net_pt **out, size_t *cnt, size_t *evaluated)
{
    size_t nm = mpq_xp_mappings(n->hw, &n->layer[l], NULL, 0);
    mpq_xp_map *maps = calloc(nm ? nm : 1, sizeof *maps);
    xp_net_pt *pts = calloc(nm ? nm : 1, sizeof *pts);
    if (!maps || !pts) {
        free(maps);
        free(pts);
        return -1;
    }
    mpq_xp_mappings(n->hw, &n->layer[l], maps, nm);
    size_t k = 0;
    for (size_t i = 0; i < nm; i++) {
        if (xp_layer_obj(n, l, p, &maps[i], &pts[k].o) != 0)
            continue;
        pts[k].prec[l] = p;
        pts[k++].map[l] = maps[i];
    }
    free(maps);
    *evaluated += k;
    *cnt = pareto(pts, k);
    *out = pts;
    return 0;
}

/* The Pareto-filtered sums of acc[0..na) and the layer front f[0..nf) of layer l. */
static xp_net_pt *merge(const xp_net_pt *a, size_t na, const xp_net_pt *f, size_t nf, unsigned l, size_t *cnt)
{
    xp_net_pt *s = malloc((na && nf ? na * nf : 1) * sizeof *s);
    if (!s)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nf; j++, k++) {
            s[k] = a[i];
            s[k].prec[l] = f[j].prec[l];
            s[k].map[l] = f[j].map[l];
            s[k].o.cycles += f[j].o.cycles;
            s[k].o.energy_pj += f[j].o.energy_pj;
            s[k].o.wmem_bits += f[j].o.wmem_bits;
        }
    *cnt = pareto(s, k);
    return s;
}

static int pt_cmp(const void *pa, const void *pb)
{
    const xp_net_pt *a = pa, *b = pb;
    const double ka[4] = {a->o.energy_pj, a->o.cycles, a->o.wmem_bits, -a->o.acc};
    const double kb[4] = {b->o.energy_pj, b->o.cycles, b->o.wmem_bits, -b->o.acc};
    for (int i = 0; i < 4; i++)
        if (ka[i] != kb[i])
            return ka[i] < kb[i] ? -1 : 1;
    for (int i = 0; i < XP_MAX_LAYERS; i++)
        if (a->prec[i] != b->prec[i])
            return a->prec[i] < b->prec[i] ? -1 : 1;
    return memcmp(a->map, b->map, sizeof a->map);
}

/* The network's points of precision vector v: the sums of its layers' fronts. */
static xp_net_pt *vector_points(const xp_net *n, xp_net_pt *const *lf, const size_t *lfn, size_t v, size_t *cnt)
{
    xp_net_pt *cur = calloc(1, sizeof *cur);
    size_t nc = 1;
    for (unsigned l = 0; cur && l < n->nl; l++) {
        unsigned p = (unsigned)(v % n->np);
        v /= n->np;
        xp_net_pt *next = merge(cur, nc, lf[l * n->np + p], lfn[l * n->np + p], l, &nc);
        free(cur);
        cur = next;
    }
    *cnt = nc;
    return cur;
}

int xp_search(const xp_net *n, const double *acc, xp_net_pt **front, size_t *count, size_t *evaluated,
              char *err, size_t errlen)
{
    size_t nv = 1, nf = 0, cap = 0;
    xp_net_pt *lf[XP_MAX_LAYERS * XP_MAX_PRECS] = {0}, *all = NULL;
    size_t lfn[XP_MAX_LAYERS * XP_MAX_PRECS] = {0};
    int rc = 0;
    *evaluated = 0;
    err[0] = 0;
    for (unsigned l = 0; l < n->nl; l++)
        nv *= n->np;
    for (unsigned i = 0; rc == 0 && i < n->nl * n->np; i++) {
        rc = layer_front(n, i / n->np, i % n->np, &lf[i], &lfn[i], evaluated);
        if (rc == 0 && lfn[i] == 0) {
            snprintf(err, errlen, "layer %u has no legal mapping on this configuration", i / n->np + 1);
            rc = -1;
        }
    }
    for (size_t v = 0; rc == 0 && v < nv; v++) {
        size_t nc;
        xp_net_pt *pts = vector_points(n, lf, lfn, v, &nc);
        if (pts && nf + nc > cap) {
            xp_net_pt *grown = realloc(all, 2 * (nf + nc) * sizeof *all);
            if (grown)
                all = grown, cap = 2 * (nf + nc);
        }
        if (!pts || nf + nc > cap) {
            free(pts);
            rc = -1;
            break;
        }
        for (size_t i = 0; i < nc; i++, nf++) {
            all[nf] = pts[i];
            all[nf].o.acc = acc[v];
        }
        free(pts);
        if (nf > 4096 || v + 1 == nv)
            nf = pareto(all, nf);
    }
    for (unsigned i = 0; i < XP_MAX_LAYERS * XP_MAX_PRECS; i++)
        free(lf[i]);
    if (rc != 0) {
        if (!err[0])
            snprintf(err, errlen, "out of memory");
        free(all);
        return -1;
    }
    qsort(all, nf, sizeof *all, pt_cmp);
    *front = all;
    *count = nf;
    return 0;
}
