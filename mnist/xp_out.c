/* SPDX-License-Identifier: Apache-2.0 */
/* xp_out.c: runs xp_search for mpq-explore-net and writes its fronts, baselines and chosen
 * points (docs/explore.md "The search"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mn_cli.h"
#include "xp_out.h"

#define EQUAL_ACC 0.005 /* "equal accuracy": within 0.5 points */

/* A baseline: a precision vector at a mapping per layer, and its objectives. */
typedef struct base {
    const char *name;
    xp_net_pt pt;
    int valid;
} base;

static size_t vec_index(const xp_net *n, const unsigned *prec)
{
    size_t v = 0, s = 1;
    for (unsigned l = 0; l < n->nl; l++, s *= n->np)
        v += prec[l] * s;
    return v;
}

/* Uniform precision p; mapping: the default (best = 0) or each layer's least-energy one. */
static int uniform(const xp_report *r, unsigned p, int best, xp_net_pt *pt)
{
    const xp_net *n = r->n;
    memset(pt, 0, sizeof *pt);
    for (unsigned l = 0; l < n->nl; l++) {
        xp_obj o, bo = {0};
        mpq_xp_map bm;
        size_t nm = mpq_xp_mappings(n->hw, &n->layer[l], NULL, 0), found = 0;
        mpq_xp_map *maps = calloc(nm + 1, sizeof *maps);
        if (!maps)
            return -1;
        if (best)
            nm = mpq_xp_mappings(n->hw, &n->layer[l], maps, nm);
        else
            mpq_xp_map_default(n->hw, &n->layer[l], &maps[0]), nm = 1;
        for (size_t i = 0; i < nm; i++)
            if (xp_layer_obj(n, l, p, &maps[i], &o) == 0 && (!found++ || o.energy_pj < bo.energy_pj))
                bo = o, bm = maps[i];
        free(maps);
        if (!found)
            return -1;
        pt->prec[l] = p;
        pt->map[l] = bm;
        pt->o.cycles += bo.cycles;
        pt->o.energy_pj += bo.energy_pj;
        pt->o.wmem_bits += bo.wmem_bits;
    }
    pt->o.acc = r->acc[vec_index(n, pt->prec)];
    return 0;
}

/* The least-energy front point with accuracy >= acc - 0.5 points (NULL when none). */
static const xp_net_pt *at_equal_acc(const xp_net_pt *f, size_t nf, double acc)
{
    const xp_net_pt *b = NULL;
    for (size_t i = 0; i < nf; i++)
        if (f[i].o.acc >= acc - EQUAL_ACC - 1e-12 && (!b || f[i].o.energy_pj < b->o.energy_pj))
            b = &f[i];
    return b;
}

static const char *precs_str(const xp_net *n, const xp_net_pt *p, char *buf, size_t len)
{
    size_t k = 0;
    buf[0] = 0;
    for (unsigned l = 0; l < n->nl && k < len; l++) {
        char s[32];
        k += (size_t)snprintf(buf + k, len - k, "%s%s", l ? "/" : "", mpq_xp_prec_str(&n->prec[p->prec[l]], s, sizeof s));
    }
    return buf;
}

static FILE *open_tmp(const char *out, const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.tmp", out, name);
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "mpq-explore-net: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static int publish(FILE *f, const char *out, const char *name)
{
    char tmp[1200], path[1200];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", out, name);
    snprintf(path, sizeof path, "%s/%s", out, name);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "mpq-explore-net: cannot write %s: %s\n", path, strerror(errno));
        remove(tmp);
        return 2;
    }
    return 0;
}

static void json_point(FILE *f, const xp_net *n, const xp_net_pt *p)
{
    char s[64];
    fprintf(f, "{\"energy_nj\": %.3f, \"cycles\": %.1f, \"weight_bits\": %.0f, \"accuracy\": %.4f, \"layers\": [",
            p->o.energy_pj / 1e3, p->o.cycles, p->o.wmem_bits, 100.0 * p->o.acc);
    for (unsigned l = 0; l < n->nl; l++) {
        fprintf(f, "%s{\"precision\": \"%s\", ", l ? ", " : "", mpq_xp_prec_str(&n->prec[p->prec[l]], s, sizeof s));
        fprintf(f, "\"mapping\": \"%s\"}", mpq_xp_map_str(&p->map[l], s, sizeof s));
    }
    fprintf(f, "]}");
}

static void md_point_row(FILE *f, const xp_net *n, const char *name, const xp_net_pt *p)
{
    char s[256];
    fprintf(f, "| %s | %s | %.2f%% | %.1f | %.0f | %.1f |\n", name, precs_str(n, p, s, sizeof s), 100.0 * p->o.acc,
            p->o.energy_pj / 1e3, p->o.cycles, p->o.wmem_bits / 1e3);
}

/* One front point layer by layer (its precision and mapping, and that layer's cost). */
static void md_point_layers(FILE *f, const xp_net *n, const char *name, const xp_net_pt *p)
{
    char ps[32], ms[64];
    fprintf(f, "\n**%s**: accuracy %.2f%%, %.1f nJ, %.0f cycles, %.1f kbit of weights\n\n", name, 100.0 * p->o.acc,
            p->o.energy_pj / 1e3, p->o.cycles, p->o.wmem_bits / 1e3);
    fprintf(f, "| layer | precision | mapping | energy (nJ) | cycles |\n|---|---|---|---|---|\n");
    for (unsigned l = 0; l < n->nl; l++) {
        xp_obj o;
        if (xp_layer_obj(n, l, p->prec[l], &p->map[l], &o) != 0)
            continue;
        fprintf(f, "| %u | %s | %s | %.1f | %.0f |\n", l + 1, mpq_xp_prec_str(&n->prec[p->prec[l]], ps, sizeof ps),
                mpq_xp_map_str(&p->map[l], ms, sizeof ms), o.energy_pj / 1e3, o.cycles);
    }
}

typedef struct results {
    xp_net_pt *front;
    size_t nf, evaluated;
    base b[2 + XP_MAX_PRECS]; /* int8 default, int8 best mapping, each uniform best */
    unsigned nb;
    const xp_net_pt *chosen[3];
    const char *chosen_name[3];
    double seconds;
} results;

static void write_tsv(FILE *f, const xp_report *r, const results *s)
{
    char ps[256];
    fprintf(f, "# Pareto front of the Fashion-MNIST CNN on %s (mpq-explore-net), per inference\n", r->cfg);
    fprintf(f, "# energy_nj\tcycles\tweight_kbit\taccuracy_pct\tprecisions\n");
    for (size_t i = 0; i < s->nf; i++)
        fprintf(f, "%.3f\t%.1f\t%.3f\t%.2f\t%s\n", s->front[i].o.energy_pj / 1e3, s->front[i].o.cycles,
                s->front[i].o.wmem_bits / 1e3, 100.0 * s->front[i].o.acc, precs_str(r->n, &s->front[i], ps, sizeof ps));
    fprintf(f, "\n\n# baselines: energy_nj cycles weight_kbit accuracy_pct name\n");
    for (unsigned i = 0; i < s->nb; i++)
        if (s->b[i].valid)
            fprintf(f, "%.3f\t%.1f\t%.3f\t%.2f\t%s\n", s->b[i].pt.o.energy_pj / 1e3, s->b[i].pt.o.cycles,
                    s->b[i].pt.o.wmem_bits / 1e3, 100.0 * s->b[i].pt.o.acc, s->b[i].name);
}

/* The distinct hardware layers of layer l of point p, in explore sample's line form (tag
 * `point N`, N = 8 * chosen + l), the part count of each shape after "x". */
static void rtl_lines(FILE *f, const xp_net *n, unsigned tag, unsigned l, const xp_net_pt *p)
{
    const mpq_xp_map *m = &p->map[l];
    const mpq_xp_prec *pr = &n->prec[p->prec[l]];
    unsigned np = mpq_xp_parts(n->hw, &n->layer[l], m, NULL, 0);
    mpq_xp_part *parts = calloc(np ? np : 1, sizeof *parts);
    if (!parts)
        return;
    mpq_xp_parts(n->hw, &n->layer[l], m, parts, np);
    for (unsigned i = 0; i < np; i++) {
        unsigned mult = 0, first = i;
        for (unsigned j = 0; j < np; j++)
            if (!memcmp(&parts[j].L.s, &parts[i].L.s, sizeof parts[i].L.s) && parts[j].L.m == parts[i].L.m) {
                mult++;
                first = j < first ? j : first;
            }
        if (first != i)
            continue;
        mpq_xp_part_line(f, n->hw, tag, pr, m, i, mult, &parts[i].L);
    }
    free(parts);
}

/* front-rtl.txt: the three chosen points' hardware layers for scripts/golden/explore-rtl.sh. */
static void write_rtl(FILE *f, const xp_report *r, const results *s)
{
    fprintf(f, "# The hardware layers of the three chosen front points on %s (point 8*i+layer; \"x\": parts "
               "of that shape); their cycles per inference: ", r->cfg);
    for (unsigned i = 0; i < 3; i++)
        fprintf(f, "%s%s %.0f", i ? ", " : "", s->chosen_name[i], s->chosen[i] ? s->chosen[i]->o.cycles : 0.0);
    fprintf(f, "\n");
    for (unsigned i = 0; i < 3; i++)
        for (unsigned l = 0; s->chosen[i] && l < r->n->nl; l++)
            rtl_lines(f, r->n, XP_MAX_LAYERS * i + l, l, s->chosen[i]);
}

static void write_json(FILE *f, const xp_report *r, const results *s)
{
    fprintf(f, "{\"config\": \"%s\", \"images\": %u, \"batch\": %.0f, \"search\": \"exhaustive\", "
               "\"points_costed\": %zu, \"seconds\": %.2f,\n \"baselines\": {",
            r->cfg, r->images, r->n->images, s->evaluated, s->seconds);
    for (unsigned i = 0; i < s->nb; i++) {
        fprintf(f, "%s\n  \"%s\": ", i ? "," : "", s->b[i].name);
        if (s->b[i].valid)
            json_point(f, r->n, &s->b[i].pt);
        else
            fprintf(f, "null");
    }
    fprintf(f, "},\n \"chosen\": {");
    for (unsigned i = 0; i < 3; i++) {
        fprintf(f, "%s\n  \"%s\": ", i ? "," : "", s->chosen_name[i]);
        if (s->chosen[i])
            json_point(f, r->n, s->chosen[i]);
        else
            fprintf(f, "null");
    }
    fprintf(f, "},\n \"front\": [");
    for (size_t i = 0; i < s->nf; i++) {
        fprintf(f, "%s\n  ", i ? "," : "");
        json_point(f, r->n, &s->front[i]);
    }
    fprintf(f, "\n]}\n");
}

/* "x% less energy than NAME (a nJ) at b% accuracy (c%)" for baseline b. */
static void md_saving(FILE *f, const xp_net *n, const results *s, const base *b)
{
    char ps[256];
    if (!b->valid)
        return;
    const xp_net_pt *e = at_equal_acc(s->front, s->nf, b->pt.o.acc);
    if (!e)
        return;
    fprintf(f, "- against **%s** (%.1f nJ, %.2f%%): the least-energy front point within 0.5 points, %s, "
               "%.2f%%, %.1f nJ: **%.1f%% less energy**, %.0f against %.0f cycles\n",
            b->name, b->pt.o.energy_pj / 1e3, 100.0 * b->pt.o.acc, precs_str(n, e, ps, sizeof ps), 100.0 * e->o.acc,
            e->o.energy_pj / 1e3, 100.0 * (1.0 - e->o.energy_pj / b->pt.o.energy_pj), e->o.cycles, b->pt.o.cycles);
}

static void write_md(FILE *f, const xp_report *r, const results *s)
{
    const xp_net *n = r->n;
    fprintf(f, "# Pareto front: Fashion-MNIST CNN on `%s`\n\nPer inference (batch %.0f); accuracy: golden model on "
               "%u test images; energy: the energy-per-action table; exhaustive search, %zu (layer, precision, "
               "mapping) points costed, %zu non-dominated network points.\n\n",
            r->cfg, n->images, r->images, s->evaluated, s->nf);
    fprintf(f, "Energy saved at equal accuracy (within 0.5 points):\n\n");
    for (unsigned i = 0; i < 2; i++)
        md_saving(f, n, s, &s->b[i]);
    fprintf(f, "\n| point | precisions (layer 1/2/..) | accuracy | energy (nJ) | cycles | weights (kbit) |\n"
               "|---|---|---|---|---|---|\n");
    for (unsigned i = 0; i < s->nb; i++)
        if (s->b[i].valid)
            md_point_row(f, n, s->b[i].name, &s->b[i].pt);
    for (size_t i = 0; i < s->nf; i++) {
        char name[32];
        snprintf(name, sizeof name, "front %zu", i + 1);
        md_point_row(f, n, name, &s->front[i]);
    }
    for (unsigned i = 0; i < 3; i++)
        if (s->chosen[i])
            md_point_layers(f, n, s->chosen_name[i], s->chosen[i]);
}

/* The baselines and the three chosen front points. */
static int baselines(const xp_report *r, results *s)
{
    const xp_net *n = r->n;
    unsigned int8 = n->np;
    for (unsigned p = 0; p < n->np; p++)
        if (!n->prec[p].tern)
            int8 = p;
    static char names[XP_MAX_PRECS][48];
    s->b[0].name = "uniform int8, default mapping";
    s->b[1].name = "uniform int8, least-energy mapping";
    s->nb = 2;
    for (unsigned i = 0; i < 2 && int8 < n->np; i++)
        if (uniform(r, int8, i, &s->b[i].pt) == 0)
            s->b[i].valid = 1;
    for (unsigned p = 0; p < n->np; p++) {
        char ps[32];
        if (p == int8)
            continue; /* b[1] */
        snprintf(names[p], sizeof names[p], "uniform %s, least-energy mapping", mpq_xp_prec_str(&n->prec[p], ps, sizeof ps));
        s->b[s->nb].name = names[p];
        s->b[s->nb].valid = uniform(r, p, 1, &s->b[s->nb].pt) == 0;
        s->nb++;
    }
    const xp_net_pt *most = NULL, *least = NULL;
    for (size_t i = 0; i < s->nf; i++) {
        const xp_net_pt *p = &s->front[i];
        if (!most || p->o.acc > most->o.acc)
            most = p;
        if (!least || p->o.energy_pj < least->o.energy_pj)
            least = p;
    }
    s->chosen[0] = most, s->chosen_name[0] = "most accurate";
    s->chosen[1] = s->b[0].valid ? at_equal_acc(s->front, s->nf, s->b[0].pt.o.acc) : NULL;
    s->chosen_name[1] = "least energy within 0.5 points of uniform int8";
    s->chosen[2] = least, s->chosen_name[2] = "least energy";
    return 0;
}

int xp_report_write(const xp_report *r)
{
    results s;
    memset(&s, 0, sizeof s);
    char err[512] = "";
    double t0 = mn_now_s();
    if (xp_search(r->n, r->acc, &s.front, &s.nf, &s.evaluated, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-explore-net: search: %s\n", err);
        return 2;
    }
    s.seconds = mn_now_s() - t0;
    baselines(r, &s);
    static const char *names[4] = {"front.tsv", "front.json", "front.md", "front-rtl.txt"};
    void (*writers[4])(FILE *, const xp_report *, const results *) = {write_tsv, write_json, write_md, write_rtl};
    int rc = 0;
    for (unsigned i = 0; rc == 0 && i < 4; i++) {
        FILE *f = open_tmp(r->out, names[i]);
        if (!f) {
            rc = 2;
            break;
        }
        writers[i](f, r, &s);
        rc = publish(f, r->out, names[i]);
    }
    printf("search: exhaustive, %zu points costed, %zu on the front, %.2f s; %s/front.{tsv,json,md}\n", s.evaluated,
           s.nf, s.seconds, r->out);
    free(s.front);
    return rc;
}
