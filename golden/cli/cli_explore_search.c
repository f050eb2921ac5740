/* SPDX-License-Identifier: Apache-2.0 */
/* mpq-golden explore search: the per-layer precision x mapping search over a real int8
 * TFLite model (explore/mpq_xp_model.h, explore/mpq_nsga.h; docs/explore.md). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arith/mpq.h"
#include "cli/cli.h"
#include "explore/mpq_nsga.h"
#include "explore/mpq_xp_model.h"
#include "net/mpq_tflite.h"

static const char *tag = "mpq-golden explore search";

static void usage(FILE *f)
{
    fprintf(f, "usage: mpq-golden explore search MODEL.tflite --config NAME --energy TABLE\n"
               "            [--precisions LIST] [--count N] [--seed S] [--inputs FILE]\n"
               "            [--pop P] [--gens G] [--ga-seed S] [--json OUT] [--md OUT]\n"
               "Searches one precision per CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED layer of an\n"
               "int8 model (LIST, comma-separated: int8, tern+Nhp; default tern+0hp,tern+1hp,tern+2hp,\n"
               "int8, those the configuration offers), each layer at its least-energy mapping, for the\n"
               "Pareto front of cycles, energy per inference (TABLE: the energy-per-action table of\n"
               "scripts/golden/explore-energy.py, block `# config NAME`), weight bits and the fidelity of\n"
               "the logits against the int8 model over N inputs (default 16; random from seed S, default\n"
               "1, or FILE's raw inputs): noise-to-signal ratio (SQNR) and top-1 agreement. NSGA-II,\n"
               "population P (default 32), G generations (default 30), its own seed (default 1); the\n"
               "first population holds every uniform precision. Prints the layers, the baselines\n"
               "(uniform precisions; int8 at the default mapping), the front and the energy saved at\n"
               "equal fidelity; --json and --md write them. Exit 0, 2 usage or a bad input.\n");
}

typedef struct xs_args {
    const char *model, *config, *energy, *precs, *inputs, *json, *md;
    uint64_t seed, ga_seed;
    unsigned count, pop, gens;
} xs_args;

/* Returns 0, 1 (help printed) or -1 (usage error printed). */
static int parse_args(int argc, char **argv, xs_args *a)
{
    *a = (xs_args){.precs = NULL, .seed = 1, .ga_seed = 1, .count = 16, .pop = 32, .gens = 30};
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n = 0;
        if (!strcmp(o, "--help") || !strcmp(o, "-h"))
            return usage(stdout), 1;
        if (o[0] != '-') {
            if (a->model)
                return cli_fail2(tag, "one MODEL.tflite only"), -1;
            a->model = o;
            continue;
        }
        if (!v)
            return fprintf(stderr, "%s: %s needs a value\n", tag, o), -1;
        i++;
        if (!strcmp(o, "--config"))
            a->config = v;
        else if (!strcmp(o, "--energy"))
            a->energy = v;
        else if (!strcmp(o, "--precisions"))
            a->precs = v;
        else if (!strcmp(o, "--inputs"))
            a->inputs = v;
        else if (!strcmp(o, "--json"))
            a->json = v;
        else if (!strcmp(o, "--md"))
            a->md = v;
        else if (!strcmp(o, "--seed") || !strcmp(o, "--ga-seed")) {
            if (cli_parse_u64(tag, o, v, 0, UINT64_MAX, o[2] == 's' ? &a->seed : &a->ga_seed) != 0)
                return -1;
        } else if (!strcmp(o, "--count") || !strcmp(o, "--pop") || !strcmp(o, "--gens")) {
            uint64_t hi = o[2] == 'c' ? 100000 : o[2] == 'p' ? 4096 : 100000, lo = o[2] == 'g' ? 0 : o[2] == 'p' ? 2 : 1;
            if (cli_parse_u64(tag, o, v, lo, hi, &n) != 0)
                return -1;
            *(o[2] == 'c' ? &a->count : o[2] == 'p' ? &a->pop : &a->gens) = (unsigned)n;
        } else
            return fprintf(stderr, "%s: unknown option %s\n", tag, o), -1;
    }
    if (!a->model || !a->config || !a->energy)
        return cli_fail2(tag, "MODEL.tflite, --config NAME and --energy TABLE are required"), -1;
    return 0;
}

/* "int8" or "tern+Nhp" into p. */
static int parse_prec(const char *s, mpq_xp_prec *p)
{
    unsigned n;
    char tail;
    if (!strcmp(s, "int8"))
        return *p = (mpq_xp_prec){0, 0}, 0;
    if (sscanf(s, "tern+%uhp%c", &n, &tail) == 1 && n <= 64)
        return *p = (mpq_xp_prec){1, n}, 0;
    return -1;
}

/* The searched precisions: LIST, or the default list's members hw offers. */
static int load_precs(const char *list, const mpq_hwcfg *hw, mpq_xp_prec *p, unsigned *np)
{
    mpq_xp_prec offered[80];
    unsigned no = mpq_xp_precisions(hw, offered, 80);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list ? list : "tern+0hp,tern+1hp,tern+2hp,int8");
    *np = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        mpq_xp_prec q;
        if (parse_prec(tok, &q) != 0)
            return fprintf(stderr, "%s: --precisions: `%s` is not int8 or tern+Nhp\n", tag, tok), -1;
        unsigned ok = 0;
        for (unsigned j = 0; j < no; j++)
            ok |= offered[j].tern == q.tern && (offered[j].hp_n == q.hp_n || !q.tern);
        if (!ok && list)
            return fprintf(stderr, "%s: --precisions: %s is not offered by --config (its precisions: "
                           "`mpq-golden explore space`)\n", tag, tok), -1;
        if (!ok)
            continue;
        if (!q.tern)
            q.hp_n = hw->klanes;
        if (*np == MPQ_XPM_MAX_PRECS)
            return fprintf(stderr, "%s: --precisions: more than %d\n", tag, MPQ_XPM_MAX_PRECS), -1;
        p[(*np)++] = q;
    }
    return *np ? 0 : (fprintf(stderr, "%s: no precision to search\n", tag), -1);
}

/* ---- the search ---- */

typedef struct xs_ctx {
    mpq_xpm x;
    mpq_fid_sum *fid;          /* per archive entry, in evaluation order */
    size_t nfid, capfid;
} xs_ctx;

static int eval_fn(void *ctx, const uint8_t *genes, double *obj, char *err, size_t errlen)
{
    xs_ctx *c = ctx;
    mpq_xpm_obj o;
    int rc = mpq_xpm_eval(&c->x, genes, &o, err, errlen);
    if (rc)
        return rc;
    if (c->nfid == c->capfid) {
        size_t cap = c->capfid ? 2 * c->capfid : 256;
        mpq_fid_sum *f = realloc(c->fid, cap * sizeof *f);
        if (!f)
            return snprintf(err, errlen, "out of memory"), MPQ_ENOMEM;
        c->fid = f;
        c->capfid = cap;
    }
    c->fid[c->nfid++] = o.fid;
    obj[0] = o.cycles;
    obj[1] = o.energy_pj;
    obj[2] = o.weight_bits;
    obj[3] = o.nsr;
    return 0;
}

static void uniform(const mpq_xpm *x, unsigned pi, uint8_t *g);

/* eval_fn for searches where some layer lacks some precision: such a gene means the layer's
 * substitute (uniform()'s rule), so every vector is legal and the same vector is evaluated
 * once. */
static int eval_held(void *ctx, const uint8_t *genes, double *obj, char *err, size_t errlen)
{
    xs_ctx *c = ctx;
    uint8_t g[4096], u[4096];
    for (unsigned l = 0; l < c->x.nl; l++) {
        g[l] = genes[l];
        if (!c->x.l[l].c[g[l]].held) {
            uniform(&c->x, g[l], u);
            g[l] = u[l];
        }
    }
    return eval_fn(ctx, g, obj, err, errlen);
}

/* Uniform vector of precision pi: every layer at pi where it holds it, else at the nearest
 * precision after it in the list that it holds, else before. */
static void uniform(const mpq_xpm *x, unsigned pi, uint8_t *g)
{
    for (unsigned l = 0; l < x->nl; l++) {
        unsigned best = pi;
        for (unsigned d = 0; d < x->np && !x->l[l].c[best].held; d++)
            best = pi + d + 1 < x->np && x->l[l].c[pi + d + 1].held ? pi + d + 1
                   : pi >= d + 1 && x->l[l].c[pi - d - 1].held     ? pi - d - 1
                                                                   : best;
        g[l] = (uint8_t)best;
    }
}

typedef struct xs_run {
    mpq_tfl_model m;
    mpq_net *net;
    mpq_fid fid;
    xs_ctx c;
    mpq_nsga_archive ar;
    size_t *front, nfront;
    uint8_t *base;             /* [np][nl]: the uniform vectors */
    double secs;
    int have_m, have_fid, have_x;
} xs_run;

static int xs_setup(xs_run *r, const xs_args *a, const mpq_hwcfg *hw, const mpq_xp_energy *e,
                    const mpq_xp_prec *precs, unsigned np, char *err, size_t errlen)
{
    if (mpq_tfl_load(a->model, &r->m, err, errlen) != 0)
        return 2;
    r->have_m = 1;
    mpq_net_opts o;
    mpq_net_opts_default(&o);
    o.golden_kernels = 1;
    if (mpq_net_init(&r->net, &r->m, &o, err, errlen) != 0)
        return 2;
    if (mpq_fid_init(&r->fid, &r->m, r->net, a->inputs, a->count, a->seed, err, errlen) != 0)
        return 2;
    r->have_fid = 1;
    r->have_x = 1;
    if (mpq_xpm_init(&r->c.x, &r->m, r->net, hw, e, precs, np, &r->fid, err, errlen) != 0)
        return 2;
    r->base = malloc((size_t)np * r->c.x.nl);
    if (!r->base)
        return snprintf(err, errlen, "out of memory"), 2;
    for (unsigned pi = 0; pi < np; pi++)
        uniform(&r->c.x, pi, r->base + (size_t)pi * r->c.x.nl);
    return 0;
}

static int xs_search(xs_run *r, const xs_args *a, char *err, size_t errlen)
{
    mpq_nsga_opts o = {.genes = r->c.x.nl, .alleles = r->c.x.np, .nobj = 4, .pop = a->pop, .gens = a->gens,
                       .seed = a->ga_seed, .p_cross = 0.9, .p_mut = 0, .init = r->base,
                       .ninit = r->c.x.np < a->pop ? r->c.x.np : a->pop};
    /* a layer that does not hold a precision: the search must not pick it */
    int holes = 0;
    for (unsigned l = 0; l < r->c.x.nl; l++)
        for (unsigned pi = 0; pi < r->c.x.np; pi++)
            holes |= !r->c.x.l[l].c[pi].held;
    clock_t t0 = clock();
    int rc = mpq_nsga_run(&o, holes ? eval_held : eval_fn, &r->c, &r->ar, err, errlen);
    r->secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    if (rc)
        return 2;
    r->front = malloc((r->ar.n ? r->ar.n : 1) * sizeof *r->front);
    if (!r->front)
        return snprintf(err, errlen, "out of memory"), 2;
    r->nfront = mpq_nsga_front(&r->ar, r->front);
    return 0;
}

static void xs_free(xs_run *r)
{
    if (r->have_x)
        mpq_xpm_free(&r->c.x);
    free(r->c.fid);
    mpq_nsga_archive_free(&r->ar);
    free(r->front);
    free(r->base);
    if (r->have_fid)
        mpq_fid_free(&r->fid);
    mpq_net_free(r->net);
    if (r->have_m)
        mpq_tfl_free(&r->m);
}

/* ---- the report ---- */

/* Archive entry i's precisions as the search ran them (substitutes applied). */
static void effective(const xs_run *r, size_t i, uint8_t *g)
{
    const mpq_xpm *x = &r->c.x;
    uint8_t u[4096];
    memcpy(g, r->ar.g + i * r->ar.genes, x->nl);
    for (unsigned l = 0; l < x->nl; l++)
        if (!x->l[l].c[g[l]].held) {
            uniform(x, g[l], u);
            g[l] = u[l];
        }
}

/* "int8 x3, tern+1hp x25": how many layers at each precision. */
static void prec_summary(const mpq_xpm *x, const uint8_t *g, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = 0;
    for (unsigned pi = 0; pi < x->np; pi++) {
        unsigned n = 0;
        for (unsigned l = 0; l < x->nl; l++)
            n += g[l] == pi;
        char ps[32];
        if (n && off < len)
            off += (size_t)snprintf(buf + off, len - off, "%s%s x%u", off ? ", " : "",
                                    mpq_xp_prec_str(&x->prec[pi], ps, sizeof ps), n);
    }
}

static double sqnr_of(const mpq_fid_sum *f)
{
    return mpq_fid_sqnr_db(f);
}

static void md_layers(text *t, const xs_run *r)
{
    const mpq_xpm *x = &r->c.x;
    char ps[32], ms[160];
    tprintf(t, "\n| op | layer | default mapping |");
    for (unsigned pi = 0; pi < x->np; pi++)
        tprintf(t, " %s: cycles, nJ |", mpq_xp_prec_str(&x->prec[pi], ps, sizeof ps));
    tprintf(t, "\n|---|---|---|");
    for (unsigned pi = 0; pi < x->np; pi++)
        tprintf(t, "---|");
    tprintf(t, "\n");
    for (unsigned l = 0; l < x->nl; l++) {
        const mpq_xpm_layer *L = &x->l[l];
        tprintf(t, "| %u | %s | %s |", L->op, L->shape_text, mpq_xp_map_str(&L->map0, ms, sizeof ms));
        for (unsigned pi = 0; pi < x->np; pi++) {
            const mpq_xpm_choice *c = &L->c[pi];
            if (!c->held)
                tprintf(t, " - |");
            else
                tprintf(t, " %" PRIu64 ", %.1f%s%s |", c->cost.cycles, c->energy_pj / 1e3, c->map.pack ? " (packed)" : "",
                        c->trades ? " *" : "");
        }
        tprintf(t, "\n");
    }
}

static void md_row(text *t, const char *label, const mpq_xpm *x, const uint8_t *g, const double *obj,
                   const mpq_fid_sum *f)
{
    char sum[512], q[32];
    prec_summary(x, g, sum, sizeof sum);
    double db = f ? sqnr_of(f) : INFINITY;
    snprintf(q, sizeof q, isinf(db) ? "exact" : "%.1f", db);
    tprintf(t, "| %s | %s | %s | ", label, sum, q);
    if (f && x->fid->classifier)
        tprintf(t, "%u/%u", f->agree, f->inputs);
    else
        tprintf(t, "%s", f ? "n/a" : "exact");
    tprintf(t, " | %.1f | %.0f | %.1f |\n", obj[1] / 1e3, obj[0], obj[2] / 1e3);
}

/* The least-energy front point whose SQNR is at least db (and, for a classifier, whose top
 * class agrees on every input when full_top1), or -1. */
static long least_energy_at(const xs_run *r, double db, int full_top1)
{
    long best = -1;
    for (size_t k = 0; k < r->nfront; k++) {
        size_t i = r->front[k];
        const mpq_fid_sum *f = &r->c.fid[i];
        if (sqnr_of(f) < db || (full_top1 && r->c.x.fid->classifier && f->agree != f->inputs))
            continue;
        if (best < 0 || r->ar.obj[i * 4 + 1] < r->ar.obj[(size_t)best * 4 + 1])
            best = (long)i;
    }
    return best;
}

static void md_baselines(text *t, const xs_run *r, double *int8_def, double *int8_best)
{
    const mpq_xpm *x = &r->c.x;
    char ps[32], label[96];
    *int8_def = *int8_best = NAN;
    tprintf(t, "\n| point | precisions | SQNR dB | top-1 | energy (nJ) | cycles | weights (kbit) |\n"
               "|---|---|---|---|---|---|---|\n");
    if (x->int8 >= 0) {
        const uint8_t *g = r->base + (size_t)x->int8 * x->nl;
        mpq_xpm_obj o;
        mpq_xpm_cost(x, g, 1, &o);
        double obj[3] = {o.cycles, o.energy_pj, o.weight_bits};
        md_row(t, "uniform int8, default mapping (baseline)", x, g, obj, NULL);
        *int8_def = o.energy_pj;
    }
    for (unsigned pi = 0; pi < x->np; pi++) {
        long i = mpq_nsga_find(&r->ar, r->base + (size_t)pi * x->nl);
        if (i < 0)
            continue;
        snprintf(label, sizeof label, "uniform %s, least-energy mapping", mpq_xp_prec_str(&x->prec[pi], ps, sizeof ps));
        md_row(t, label, x, r->base + (size_t)pi * x->nl, r->ar.obj + (size_t)i * 4, &r->c.fid[i]);
        if ((int)pi == x->int8)
            *int8_best = r->ar.obj[(size_t)i * 4 + 1];
    }
}

static void md_front(text *t, const xs_run *r)
{
    const mpq_xpm *x = &r->c.x;
    uint8_t g[4096];
    tprintf(t, "\n| front point | precisions | SQNR dB | top-1 | energy (nJ) | cycles | weights (kbit) |\n"
               "|---|---|---|---|---|---|---|\n");
    for (size_t k = 0; k < r->nfront; k++) {
        size_t i = r->front[k];
        effective(r, i, g);
        char label[32];
        snprintf(label, sizeof label, "%zu", k + 1);
        md_row(t, label, x, g, r->ar.obj + i * 4, &r->c.fid[i]);
    }
}

static void md_savings(text *t, const xs_run *r, double int8_def, double int8_best)
{
    static const double dbs[] = {INFINITY, 30, 20, 10};
    const mpq_xpm *x = &r->c.x;
    uint8_t g[4096];
    tprintf(t, "\n| fidelity at least | least-energy point | energy (nJ) | saved vs int8, default mapping | "
               "saved vs int8, least-energy mapping |\n|---|---|---|---|---|\n");
    for (size_t j = 0; j < sizeof dbs / sizeof dbs[0]; j++) {
        long i = least_energy_at(r, dbs[j], 1);
        char what[48], sum[512];
        if (isinf(dbs[j]))
            snprintf(what, sizeof what, "exact (the int8 model's logits)");
        else
            snprintf(what, sizeof what, "%.0f dB%s", dbs[j], x->fid->classifier ? ", top-1 on every input" : "");
        if (i < 0) {
            tprintf(t, "| %s | none on the front | | | |\n", what);
            continue;
        }
        effective(r, (size_t)i, g);
        prec_summary(x, g, sum, sizeof sum);
        double en = r->ar.obj[(size_t)i * 4 + 1];
        tprintf(t, "| %s | %s | %.1f | %.1f%% | %.1f%% |\n", what, sum, en / 1e3, 100.0 * (1.0 - en / int8_def),
                100.0 * (1.0 - en / int8_best));
    }
}

/* The chosen precision and mapping of every layer for up to three front points: the
 * least-energy ones at "exact", 20 dB and 10 dB (those that exist, each once). */
static void md_chosen(text *t, const xs_run *r)
{
    static const double dbs[] = {INFINITY, 20, 10};
    const mpq_xpm *x = &r->c.x;
    long pick[3];
    unsigned n = 0;
    for (size_t j = 0; j < sizeof dbs / sizeof dbs[0]; j++) {
        long i = least_energy_at(r, dbs[j], 1);
        int seen = 0;
        for (unsigned k = 0; k < n; k++)
            seen |= pick[k] == i;
        if (i >= 0 && !seen)
            pick[n++] = i;
    }
    if (!n)
        return;
    static uint8_t g[3][4096];
    char ps[32], ms[160];
    tprintf(t, "\nChosen per layer (precision, mapping, cycles) for the least-energy front points above:\n\n| op | layer |");
    for (unsigned k = 0; k < n; k++) {
        double db = sqnr_of(&r->c.fid[pick[k]]);
        effective(r, (size_t)pick[k], g[k]);
        tprintf(t, isinf(db) ? " exact |" : " %.1f dB |", db);
    }
    tprintf(t, "\n|---|---|");
    for (unsigned k = 0; k < n; k++)
        tprintf(t, "---|");
    tprintf(t, "\n");
    for (unsigned l = 0; l < x->nl; l++) {
        tprintf(t, "| %u | %s |", x->l[l].op, x->l[l].shape_text);
        for (unsigned k = 0; k < n; k++) {
            const mpq_xpm_choice *c = &x->l[l].c[g[k][l]];
            tprintf(t, " %s, %s, %" PRIu64 " |", mpq_xp_prec_str(&x->prec[g[k][l]], ps, sizeof ps),
                    mpq_xp_map_str(&c->map, ms, sizeof ms), c->cost.cycles);
        }
        tprintf(t, "\n");
    }
}

/* The vector g as mpq-tb net --decomp takes it: one SPEC per layer. */
static void json_decomp(text *t, const mpq_xpm *x, const uint8_t *g)
{
    tprintf(t, "\"");
    for (unsigned l = 0; l < x->nl; l++) {
        const mpq_xp_prec *p = &x->prec[g[l]];
        if (!p->tern)
            tprintf(t, "%sint8", l ? "," : "");
        else if (!p->hp_n)
            tprintf(t, "%sternary", l ? "," : "");
        else
            tprintf(t, "%schannels-%u:%u", l ? "," : "", p->hp_n, x->hw->klanes);
    }
    tprintf(t, "\"");
}

static void json_out(text *t, const xs_run *r, const xs_args *a)
{
    const mpq_xpm *x = &r->c.x;
    char ps[32], ms[160];
    uint8_t g[4096];
    tprintf(t, "{\"model\": \"%s\", \"config\": \"%s\", \"inputs\": %u, \"seed\": %" PRIu64 ", \"ga_seed\": %" PRIu64
               ", \"pop\": %u, \"gens\": %u, \"evaluated\": %zu, \"classifier\": %s,\n \"precisions\": [",
            a->model, a->config, r->fid.count, a->seed, a->ga_seed, a->pop, a->gens, r->ar.n,
            r->fid.classifier ? "true" : "false");
    for (unsigned pi = 0; pi < x->np; pi++)
        tprintf(t, "%s\"%s\"", pi ? ", " : "", mpq_xp_prec_str(&x->prec[pi], ps, sizeof ps));
    tprintf(t, "],\n \"layers\": [");
    for (unsigned l = 0; l < x->nl; l++) {
        const mpq_xpm_layer *L = &x->l[l];
        tprintf(t, "%s\n  {\"op\": %u, \"shape\": \"%s\", \"choices\": [", l ? "," : "", L->op, L->shape_text);
        for (unsigned pi = 0; pi < x->np; pi++) {
            const mpq_xpm_choice *c = &L->c[pi];
            tprintf(t, "%s{\"held\": %s", pi ? ", " : "", c->held ? "true" : "false");
            if (c->held)
                tprintf(t, ", \"map\": \"%s\", \"hw_layers\": %" PRIu64 ", \"cycles\": %" PRIu64 ", \"energy_pj\": %.1f, "
                           "\"weight_bits\": %" PRIu64, mpq_xp_map_str(&c->map, ms, sizeof ms), c->cost.hw_layers,
                        c->cost.cycles, c->energy_pj, c->cost.weight_bits);
            tprintf(t, "}");
        }
        tprintf(t, "]}");
    }
    tprintf(t, "],\n \"uniform\": [");
    for (unsigned pi = 0, first = 1; pi < x->np; pi++) {
        long i = mpq_nsga_find(&r->ar, r->base + (size_t)pi * x->nl);
        if (i < 0)
            continue;
        const double *o = r->ar.obj + (size_t)i * 4;
        double db = sqnr_of(&r->c.fid[i]);
        tprintf(t, "%s\n  {\"precision\": \"%s\", \"cycles\": %.0f, \"energy_pj\": %.1f, \"weight_bits\": %.0f, "
                   "\"top1_agree\": %u, \"sqnr_db\": ", first ? "" : ",", mpq_xp_prec_str(&x->prec[pi], ps, sizeof ps),
                o[0], o[1], o[2], r->c.fid[i].agree);
        tprintf(t, isinf(db) ? "\"inf\"}" : "%.3f}", db);
        first = 0;
    }
    if (x->int8 >= 0) {
        mpq_xpm_obj d;
        mpq_xpm_cost(x, r->base + (size_t)x->int8 * x->nl, 1, &d);
        tprintf(t, "],\n \"int8_default_mapping\": {\"cycles\": %.0f, \"energy_pj\": %.1f, \"weight_bits\": %.0f}",
                d.cycles, d.energy_pj, d.weight_bits);
        tprintf(t, ",\n \"front\": [");
    } else {
        tprintf(t, "],\n \"front\": [");
    }
    for (size_t k = 0; k < r->nfront; k++) {
        size_t i = r->front[k];
        const double *o = r->ar.obj + i * 4;
        double db = sqnr_of(&r->c.fid[i]);
        effective(r, i, g);
        tprintf(t, "%s\n  {\"cycles\": %.0f, \"energy_pj\": %.1f, \"weight_bits\": %.0f, \"sqnr_db\": ", k ? "," : "",
                o[0], o[1], o[2]);
        tprintf(t, isinf(db) ? "\"inf\"" : "%.3f", db);
        tprintf(t, ", \"top1_agree\": %u, \"decomp\": ", r->c.fid[i].agree);
        json_decomp(t, x, g);
        tprintf(t, ", \"precisions\": [");
        for (unsigned l = 0; l < x->nl; l++)
            tprintf(t, "%s\"%s\"", l ? ", " : "", mpq_xp_prec_str(&x->prec[g[l]], ps, sizeof ps));
        tprintf(t, "]}");
    }
    tprintf(t, "]}\n");
}

static int xs_report(const xs_run *r, const xs_args *a)
{
    const mpq_xpm *x = &r->c.x;
    text md = {0}, js = {0};
    double def, best;
    tprintf(&md, "%s: %s on %s, %u layers, %u precisions; fidelity over %u inputs (%s, seed %" PRIu64
                 "); NSGA-II population %u, %u generations, seed %" PRIu64 ": %zu vectors evaluated in %.1f s of CPU, "
                 "%zu on the front\n", tag, a->model, a->config, x->nl, x->np, r->fid.count,
            a->inputs ? a->inputs : "random", a->seed, a->pop, a->gens, a->ga_seed, r->ar.n, r->secs, r->nfront);
    md_layers(&md, r);
    md_baselines(&md, r, &def, &best);
    md_front(&md, r);
    if (x->int8 >= 0)
        md_savings(&md, r, def, best);
    md_chosen(&md, r);
    tprintf(&md, "\ncycles and energy: the closed form and the energy-per-action table, per inference, host "
                 "operators not counted; `*`: a mapping with fewer cycles and more energy exists.\n");
    int status = 0;
    if (md.oom)
        return cli_fail2(tag, "out of memory");
    fwrite(md.s, 1, md.len, stdout);
    if (a->md && cli_write_atomic(a->md, md.s, md.len) != 0) {
        fprintf(stderr, "%s: --md %s: cannot write: %s\n", tag, a->md, strerror(errno));
        status = 2;
    }
    json_out(&js, r, a);
    if (a->json && (js.oom || cli_write_atomic(a->json, js.s, js.len) != 0)) {
        fprintf(stderr, "%s: --json %s: cannot write: %s\n", tag, a->json, js.oom ? "out of memory" : strerror(errno));
        status = 2;
    }
    free(md.s);
    free(js.s);
    return status;
}

int mpq_cli_explore_search(int argc, char **argv)
{
    xs_args a;
    int prc = parse_args(argc, argv, &a);
    if (prc)
        return prc > 0 ? 0 : 2;
    char err[2048];
    mpq_hwcfg hw;
    if (mpq_hwcfg_load_named(a.config, &hw, NULL, 0, err, sizeof err) != 0)
        return cli_fail2(tag, err);
    mpq_xp_prec precs[MPQ_XPM_MAX_PRECS];
    unsigned np = 0;
    mpq_xp_energy e;
    if (load_precs(a.precs, &hw, precs, &np) != 0)
        return 2;
    if (mpq_xp_energy_load(a.energy, a.config, &e, err, sizeof err) != 0)
        return fprintf(stderr, "%s: --energy: %s\n", tag, err), 2;
    static xs_run r;
    memset(&r, 0, sizeof r);
    int status = xs_setup(&r, &a, &hw, &e, precs, np, err, sizeof err);
    if (!status)
        status = xs_search(&r, &a, err, sizeof err);
    if (!status)
        status = xs_report(&r, &a);
    else
        fprintf(stderr, "%s: %s\n", tag, err);
    xs_free(&r);
    return status;
}
