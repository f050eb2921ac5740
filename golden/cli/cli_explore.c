/* SPDX-License-Identifier: Apache-2.0 */
/* mpq-golden explore: a layer's (precision, mapping) space and the exact cost of its points
 * (explore/mpq_explore.h, docs/explore.md); `explore model` checks the closed form against
 * the cycle model on every MAC layer of a TFLite model as mpq-golden model map maps it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"
#include "arith/mpq_rng.h"
#include "cli/cli.h"
#include "contract/mpq_hw.h"
#include "explore/mpq_explore.h"
#include "net/mpq_graph.h"
#include "net/mpq_netrun.h"
#include "net/mpq_tflite.h"

static const char tool[] = "mpq-golden explore";

static void usage(FILE *f)
{
    fprintf(f, "usage: mpq-golden explore space --config NAME (--shape 'conv2d h=.. w=.. c=.. o=.. ...' |\n"
               "                                --fc M,K,N) [--list] [--all-sizes]\n"
               "       mpq-golden explore sample --config NAME (--shape ... | --fc M,K,N) [--seed S]\n"
               "                                 [--sample-every COUNT]\n"
               "       mpq-golden explore model MODEL.tflite --config NAME [--seed S] [--sample-every K]\n"
               "                                [--decomp SPEC] [--map LIST] [--list]\n"
               "       mpq-golden explore search MODEL.tflite --config NAME --energy TABLE ... (its --help)\n"
               "space: the precisions the configuration offers, the legal mappings of the layer (images\n"
               "  per weight load, output rows and columns per band, tap packing, loop order), the\n"
               "  closed-form cost of the default mapping and of the fewest-cycle one; --list: every\n"
               "  point, one line each (cycles, beats, waits, products by precision); --all-sizes: every\n"
               "  band size, not only the balanced cut of each part count.\n"
               "sample: COUNT random points of the every-size space (seed S), each distinct hardware layer\n"
               "  on one line: its shape as mpq-tb lockstep --shape reads it (FC: --m --k --n) and its\n"
               "  closed-form counts (scripts/golden/explore-rtl.sh runs them on the RTL).\n"
               "model: every CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED layer mapped as `mpq-golden\n"
               "  model map` maps it and run on the golden cycle model (its executor, no stalls); each\n"
               "  hardware layer's cycles, steps and data waits compared with the closed form; with\n"
               "  --sample-every K, every K-th hardware layer also as a layer of its own: a random point\n"
               "  of its space (seed S) on the cycle model, every count it keeps compared. --decomp\n"
               "  ternary|channels-N:KLanes, or one of those or int8 per MAC layer, comma-separated:\n"
               "  the weights decomposed (the explorer's tern+N, as mpq-tb net --decomp); --list:\n"
               "  each hardware layer's closed-form counts, one line (op, part, precision, counts);\n"
               "  --map LIST: each layer cut by its mapping (mpq-tb net --map's items), and per layer\n"
               "  a line `op N point PREC MAP: closed form cycles C hw_layers H, cycle model C' in H'\n"
               "  parts`: the point's cost as the search computes it beside the parts the driver ran.\n"
               "search: the per-layer precision search over a real model (NSGA-II; `explore search --help`).\n"
               "Exit: 0, 1 a closed-form count differs from the cycle model, 2 usage or input error.\n");
}

static int load_hw(const char *cfg, mpq_hwcfg *hw)
{
    char err[1024];
    if (!cfg)
        return cli_fail2(tool, "--config NAME is required");
    if (mpq_hwcfg_load_named(cfg, hw, NULL, 0, err, sizeof err) != 0)
        return cli_fail2(tool, err);
    return 0;
}

static void print_cost(const char *label, const mpq_xp_point *pt, const mpq_xp_cost *c)
{
    char ps[32], ms[160];
    printf("%s%-9s %-44s cycles %" PRIu64 " hw_layers %" PRIu64 " tiles %" PRIu64 " steps %" PRIu64
           " waits %" PRIu64 " ring_full %" PRIu64 " wgt_beats %" PRIu64 " act_beats %" PRIu64 " macs %" PRIu64
           " macs_tern %" PRIu64 " macs_hp %" PRIu64 " requants %" PRIu64 " weight_bits %" PRIu64 "\n",
           label, mpq_xp_prec_str(&pt->prec, ps, sizeof ps), mpq_xp_map_str(&pt->map, ms, sizeof ms), c->cycles,
           c->hw_layers, c->tiles, c->steps, c->data_waits, c->ring_full, c->wgt_beats, c->act_beats, c->macs,
           c->macs_tern, c->macs_hp, c->requants_used, c->weight_bits);
}

/* The layer of --shape or --fc. */
static int parse_layer(const char *shape, const char *fc, mpq_hw_layer *l)
{
    mpq_layer_opts o;
    memset(&o, 0, sizeof o);
    char err[512];
    if (fc) {
        o.shape.kind = MPQ_LAYER_FC;
        if (sscanf(fc, "%u,%u,%u", &o.m, &o.k, &o.n) != 3)
            return cli_fail2(tool, "--fc M,K,N: three positive integers");
    } else if (!shape) {
        return cli_fail2(tool, "--shape or --fc is required");
    } else if (mpq_conv_shape_parse(shape, &o.shape, err, sizeof err) != 0) {
        return cli_fail2(tool, err);
    }
    if (mpq_hw_layer_shape(&o, l, err, sizeof err) != 0)
        return cli_fail2(tool, err);
    return 0;
}

static int explore_space(const mpq_hwcfg *hw, const mpq_hw_layer *l, int list, unsigned flags)
{
    mpq_xp_prec precs[80];
    unsigned np = mpq_xp_precisions(hw, precs, 80);
    size_t nm = mpq_xp_mappings_ex(hw, l, flags, NULL, 0);
    mpq_xp_map *maps = calloc(nm ? nm : 1, sizeof *maps);
    if (!maps)
        return cli_fail2(tool, "out of memory");
    mpq_xp_mappings_ex(hw, l, flags, maps, nm);
    printf("precisions %u, mappings %zu, points %zu\n", np, nm, nm * np);
    mpq_xp_point best = {precs[0], {0, 0, 0, 0, 0}}, def = {precs[0], {0, 0, 0, 0, 0}};
    mpq_xp_cost bc, dc;
    uint64_t best_cycles = UINT64_MAX;
    for (size_t i = 0; i < nm; i++)
        for (unsigned p = 0; p < np; p++) {
            mpq_xp_point pt = {precs[p], maps[i]};
            mpq_xp_cost c;
            mpq_xp_point_cost(hw, l, &pt, &c);
            if (list)
                print_cost("", &pt, &c);
            if (c.cycles < best_cycles) {
                best_cycles = c.cycles;
                best = pt;
                bc = c;
            }
        }
    mpq_xp_map_default(hw, l, &def.map);
    if (mpq_xp_map_check(hw, l, &def.map, NULL, 0) == 0) {
        mpq_xp_point_cost(hw, l, &def, &dc);
        print_cost("default:  ", &def, &dc);
    } else {
        printf("default:  no mapping runs this layer on this configuration\n");
    }
    if (nm)
        print_cost("fewest cycles: ", &best, &bc);
    free(maps);
    return 0;
}

/* explore sample: count random points of the every-size space, each distinct hardware layer
 * of each as one line a testbench can run (its shape, or FC m/k/n) with its closed-form counts. */
/* Whether a part before parts[p] has the same shape: each distinct hardware layer once. */
static int shape_seen(const mpq_xp_part *parts, unsigned p)
{
    for (unsigned q = 0; q < p; q++)
        if (!memcmp(&parts[q].L.s, &parts[p].L.s, sizeof parts[p].L.s))
            return 1;
    return 0;
}

static int explore_sample(const mpq_hwcfg *hw, const mpq_hw_layer *l, uint64_t seed, unsigned count)
{
    size_t nm = mpq_xp_mappings_ex(hw, l, MPQ_XP_ALL_SIZES, NULL, 0);
    mpq_xp_map *maps = calloc(nm ? nm : 1, sizeof *maps);
    mpq_xp_prec pr[80];
    unsigned npr = mpq_xp_precisions(hw, pr, 80);
    if (!maps)
        return cli_fail2(tool, "out of memory");
    mpq_xp_mappings_ex(hw, l, MPQ_XP_ALL_SIZES, maps, nm);
    mpq_rng r;
    mpq_rng_seed(&r, seed);
    printf("# seed %" PRIu64 ": %u of %zu points\n", seed, count, nm * npr);
    for (unsigned i = 0; i < count && nm; i++) {
        mpq_xp_point pt = {pr[mpq_rng_u64(&r) % npr], maps[mpq_rng_u64(&r) % nm]};
        unsigned np = mpq_xp_parts(hw, l, &pt.map, NULL, 0);
        mpq_xp_part *parts = calloc(np, sizeof *parts);
        if (!parts)
            break;
        mpq_xp_parts(hw, l, &pt.map, parts, np);
        for (unsigned p = 0; p < np; p++)
            if (!shape_seen(parts, p))
                mpq_xp_part_line(stdout, hw, i, &pt.prec, &pt.map, p, 0, &parts[p].L);
        free(parts);
    }
    free(maps);
    return 0;
}

/* ---- explore model: the closed form beside model map's executor ---- */

typedef struct xcheck {
    uint64_t hw_layers, bad, cycles;
    unsigned every;          /* --sample-every K: one random point of every K-th hardware layer */
    uint64_t sampled, sampled_parts;
    int list;                /* --list: every hardware layer's closed-form counts, one line each */
    mpq_xp_prec prec;        /* the counts' precision: int8, or --decomp's tern + hp_n */
    mpq_xp_prec *op_prec;    /* --decomp SPEC,SPEC,...: each operator's, else NULL */
    mpq_rng rng;
    char first[600];
    const mpq_net *net;      /* the layers' shapes, for the point check */
    int points;              /* --map given: print and check each layer's point */
    uint64_t op_cycles, op_parts; /* the current layer's parts so far, on the cycle model */
} xcheck;

static xcheck xc;

/* A random point of L's own space (L taken as a layer): each distinct part shape of it on
 * the cycle model, every count it keeps compared with the closed form. */
static void sample_point(const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_accel_where *w)
{
    size_t nm = mpq_xp_mappings(hw, L, NULL, 0);
    mpq_xp_map *maps = calloc(nm ? nm : 1, sizeof *maps);
    mpq_xp_prec pr[80];
    unsigned npr = mpq_xp_precisions(hw, pr, 80);
    if (!maps || !nm) {
        free(maps);
        return;
    }
    mpq_xp_mappings(hw, L, maps, nm);
    mpq_xp_point pt = {pr[mpq_rng_u64(&xc.rng) % npr], maps[mpq_rng_u64(&xc.rng) % nm]};
    free(maps);
    unsigned np = mpq_xp_parts(hw, L, &pt.map, NULL, 0);
    mpq_xp_part *parts = calloc(np, sizeof *parts);
    if (!parts)
        return;
    mpq_xp_parts(hw, L, &pt.map, parts, np);
    for (unsigned p = 0; p < np; p++) {
        if (shape_seen(parts, p))
            continue;
        mpq_xp_cost c, sim;
        char err[300], ms[120];
        mpq_xp_hw_layer_cost(hw, &parts[p].L, &pt.prec, &c);
        unsigned hp_n = pt.prec.tern ? pt.prec.hp_n : hw->klanes;
        int rc = mpq_xp_simulate(hw, &parts[p].L, mpq_rng_u64(&xc.rng), hp_n, &sim, err, sizeof err);
        xc.sampled_parts++;
        if (rc == 0 && mpq_xp_sim_equal(&c, &sim, err, sizeof err))
            continue;
        if (!xc.bad++)
            snprintf(xc.first, sizeof xc.first, "op %u part %u, sampled point %s, hardware layer %u: %s", w->op,
                     w->part, mpq_xp_map_str(&pt.map, ms, sizeof ms), p, err);
    }
    xc.sampled++;
    free(parts);
}

/* After the last part of a layer (--map): the point (its precision, the mapping its parts
 * were cut by) costed as the search costs it, mpq_xp_point_cost on the layer's shape, beside
 * the cycle model's sum over the parts the driver ran; printed, a difference counted. */
static void point_check(const mpq_hwcfg *hw, const mpq_accel_where *w, const mpq_xp_prec *prec)
{
    mpq_net_layer NL;
    mpq_layer_opts lo;
    mpq_hw_layer l;
    char e[256], ms[96], pb[32];
    mpq_xp_point pt = {*prec, w->map->xm};
    mpq_xp_cost c;
    memset(&c, 0, sizeof c);
    int ok = mpq_net_layer_get(xc.net, w->op, &NL) == 0;
    if (ok) {
        mpq_layer_opts_shape(&lo, &NL.s, NL.m, NL.k, NL.n);
        ok = mpq_hw_layer_shape(&lo, &l, e, sizeof e) == 0 && mpq_xp_point_cost(hw, &l, &pt, &c) == 0;
    }
    ok = ok && c.cycles == xc.op_cycles && c.hw_layers == xc.op_parts;
    printf("op %u point %s %s: closed form cycles %" PRIu64 " hw_layers %" PRIu64 ", cycle model %" PRIu64 " in %"
           PRIu64 " parts%s\n", w->op, mpq_xp_prec_str(prec, pb, sizeof pb), mpq_xp_map_str(&pt.map, ms, sizeof ms),
           c.cycles, c.hw_layers, xc.op_cycles, xc.op_parts, ok ? "" : "  DIFFERS");
    if (!ok && !xc.bad++)
        snprintf(xc.first, sizeof xc.first, "op %u, point %s: closed form %" PRIu64 " cycles in %" PRIu64 " hardware "
                 "layers, the driver's parts %" PRIu64 " in %" PRIu64, w->op, ms, c.cycles, c.hw_layers,
                 xc.op_cycles, xc.op_parts);
}

/* model map's executor (the golden cycle model, no stalls), and the closed form of the same
 * hardware layer: a network's int8 weights are high-precision entries everywhere (int8). */
static int xrun(void *ctx, const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_accel_where *w, int32_t *y,
                mpq_accel_stats *st, char *err, size_t errlen)
{
    (void)ctx;
    int rc = mpq_accel_cycle_model.run(mpq_accel_cycle_model.ctx, hw, L, w, y, st, err, errlen);
    if (rc)
        return rc;
    mpq_xp_cost c;
    const mpq_xp_prec *prec = xc.op_prec ? &xc.op_prec[w->op] : &xc.prec;
    mpq_xp_hw_layer_cost(hw, L, prec, &c);
    xc.hw_layers++;
    if (xc.list) {
        char pb[32];
        printf("op %u part %u prec %s", w->op, w->part + 1, mpq_xp_prec_str(prec, pb, sizeof pb));
#define XLIST_(name, what) printf(" %s %" PRIu64, #name, c.name);
        MPQ_XP_COST_FIELDS(XLIST_)
#undef XLIST_
        printf("\n");
    }
    xc.cycles += st->cycles;
    xc.op_cycles = (w->part ? xc.op_cycles : 0) + st->cycles;
    xc.op_parts = (w->part ? xc.op_parts : 0) + 1;
    if (xc.points && w->part + 1 == w->map->nparts)
        point_check(hw, w, prec);
    if (c.cycles != st->cycles || c.steps != st->steps || c.data_waits != st->data_waits) {
        if (!xc.bad++) {
            char sh[200];
            mpq_conv_shape_format(&L->s, sh, sizeof sh);
            snprintf(xc.first, sizeof xc.first, "op %u part %u (%s n=%u): closed form cycles %" PRIu64 " steps %"
                     PRIu64 " waits %" PRIu64 ", cycle model %" PRIu64 " %" PRIu64 " %" PRIu64, w->op, w->part, sh,
                     L->n, c.cycles, c.steps, c.data_waits, st->cycles, st->steps, st->data_waits);
        }
    }
    if (xc.every && xc.hw_layers % xc.every == 0)
        sample_point(hw, L, w);
    return 0;
}

static const mpq_accel xcheck_exec = {NULL, "cycle model + closed form", xrun};

/* A decomposition as the explorer's precision: ternary + hp_n entries per group of KLanes
 * channels (what mpq_xp_model decomposes a layer into), else refused naming spec. */
static int decomp_prec(const mpq_hwcfg *hw, const char *spec, const mpq_map_decomp *d, mpq_xp_prec *p)
{
    if (d->hp_n && (d->axis != MPQ_DECOMP_CHANNEL || d->group != hw->klanes)) {
        fprintf(stderr, "mpq-golden explore model: --decomp %s: the closed form counts the explorer's precisions: "
                "int8, ternary or channels-N:%u (N high-precision entries per group of KLanes = %u channels)\n",
                spec, hw->klanes, hw->klanes);
        return 2;
    }
    *p = (mpq_xp_prec){1, d->hp_n};
    return 0;
}

#define XM_MAX_LAYERS 512
typedef struct xdecomp {
    mpq_map_decomp d[XM_MAX_LAYERS];
    const mpq_map_decomp *dp[XM_MAX_LAYERS];
    unsigned char int8[XM_MAX_LAYERS];
    unsigned n;                  /* a list's items; 0: one SPEC in d[0] */
} xdecomp;

/* --decomp SPEC or SPEC,SPEC,... (mpq-tb net's forms) into x and mo; 0 or 2 (printed). */
static int parse_decomp(const mpq_hwcfg *hw, const char *spec_text, xdecomp *x, mpq_map_opts *mo)
{
    char err[300];
    int list = strchr(spec_text, ',') != NULL;
    int rc = list ? mpq_map_decomp_list_parse(spec_text, x->d, x->int8, XM_MAX_LAYERS, &x->n, err, sizeof err)
                  : mpq_map_decomp_parse(spec_text, &x->d[0], err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "mpq-golden explore model: --decomp %s: %s\n", spec_text, err);
        return 2;
    }
    mpq_xp_prec p;
    for (unsigned i = 0; i < (list ? x->n : 1); i++) {
        if (!(list && x->int8[i]) && decomp_prec(hw, spec_text, &x->d[i], &p) != 0)
            return 2;
        x->dp[i] = list && x->int8[i] ? NULL : &x->d[i];
    }
    if (list) {
        mo->layers = x->dp;
        mo->nlayers = x->n;
    } else {
        mo->decomp = &x->d[0];
        xc.prec = p;
    }
    return 0;
}

/* Each operator's precision from a --decomp list (xc.op_prec, freed by the caller). */
static int op_precisions(const mpq_hwcfg *hw, const mpq_net *net, const xdecomp *x)
{
    unsigned nops = mpq_net_ops(net), li = 0;
    xc.op_prec = calloc(nops ? nops : 1, sizeof *xc.op_prec);
    if (!xc.op_prec)
        return cli_fail2(tool, "out of memory");
    mpq_net_layer NL;
    for (unsigned op = 0; op < nops; op++) {
        xc.op_prec[op] = (mpq_xp_prec){0, hw->klanes};
        if (mpq_net_layer_get(net, op, &NL) != 0 || li >= x->n)
            continue;
        if (!x->int8[li])
            xc.op_prec[op] = (mpq_xp_prec){1, x->d[li].hp_n};
        li++;
    }
    return 0;
}

/* --map LIST (mpq-tb net's form) into mo; 0 or 2 (printed). */
static int parse_maps(const char *list, mpq_map_opts *mo)
{
    static mpq_xp_map maps[XM_MAX_LAYERS];
    static const mpq_xp_map *mp[XM_MAX_LAYERS];
    static unsigned char def[XM_MAX_LAYERS];
    char err[600];
    unsigned n;
    if (mpq_map_list_parse(list, maps, def, XM_MAX_LAYERS, &n, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-golden explore model: --map: %s\n", err);
        return 2;
    }
    for (unsigned i = 0; i < n; i++)
        mp[i] = def[i] ? NULL : &maps[i];
    mo->maps = mp;
    mo->nmaps = n;
    return 0;
}

static int explore_model(const char *model, const mpq_hwcfg *hw, uint64_t seed, unsigned every, int list,
                         const char *decomp, const char *maps)
{
    char err[1024];
    static xdecomp xd;
    memset(&xc, 0, sizeof xc);
    memset(&xd, 0, sizeof xd);
    xc.prec = (mpq_xp_prec){0, hw->klanes};
    mpq_map_opts mo = {.pack = 1};
    if ((decomp && parse_decomp(hw, decomp, &xd, &mo) != 0) || (maps && parse_maps(maps, &mo) != 0))
        return 2;
    xc.points = maps != NULL;
    cli_net cn;
    if (cli_net_open(&cn, model, NULL, seed, err, sizeof err) != 0)
        return cli_fail2(tool, err);
    if (xd.n && op_precisions(hw, cn.net, &xd) != 0) {
        cli_net_close(&cn);
        return 2;
    }
    xc.every = every;
    xc.list = list;
    xc.net = cn.net;
    mpq_rng_seed(&xc.rng, seed);
    unsigned n = 0;
    int status = mpq_netrun(cn.net, &cn.m, hw, &mo, &xcheck_exec, cn.rows, &n, err, sizeof err);
    if (status)
        cli_fail2(tool, err);
    else {
        printf("%s: %u layers, %" PRIu64 " hardware layers, %" PRIu64 " cycles, %" PRIu64 " sampled points (%" PRIu64
               " hardware layers): %s\n", model, n, xc.hw_layers, xc.cycles, xc.sampled, xc.sampled_parts,
               xc.bad ? "closed form DIFFERS from the cycle model" : "closed form == cycle model");
        if (xc.bad) {
            fprintf(stderr, "mpq-golden explore model: %" PRIu64 " hardware layers differ; first: %s\n", xc.bad, xc.first);
            status = 1;
        }
    }
    cli_net_close(&cn);
    free(xc.op_prec);
    xc.op_prec = NULL;
    return status;
}

int mpq_cli_explore(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : NULL, *cfg = NULL, *shape = NULL, *fc = NULL, *model = NULL,
               *decomp = NULL, *maps = NULL;
    int list = 0;
    unsigned every = 0, flags = 0;
    uint64_t seed = 1;
    if (!what || !strcmp(what, "--help") || !strcmp(what, "-h")) {
        usage(what ? stdout : stderr);
        return what ? 0 : 2;
    }
    if (!strcmp(what, "search"))
        return mpq_cli_explore_search(argc, argv);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(a, "--config") || !strcmp(a, "--shape") || !strcmp(a, "--fc") || !strcmp(a, "--seed") ||
                    !strcmp(a, "--sample-every") || !strcmp(a, "--decomp") || !strcmp(a, "--map");
        if (takes && !v)
            return cli_fail2(tool, "an option needs a value");
        if (!strcmp(a, "--config"))
            cfg = v;
        else if (!strcmp(a, "--shape"))
            shape = v;
        else if (!strcmp(a, "--fc"))
            fc = v;
        else if (!strcmp(a, "--seed")) {
            if (cli_parse_u64(tool, a, v, 0, UINT64_MAX, &seed) != 0)
                return 2;
        } else if (!strcmp(a, "--sample-every")) {
            uint64_t k;
            if (cli_parse_u64(tool, a, v, 0, UINT32_MAX, &k) != 0)
                return 2;
            every = (unsigned)k;
        }
        else if (!strcmp(a, "--decomp"))
            decomp = v;
        else if (!strcmp(a, "--map"))
            maps = v;
        else if (!strcmp(a, "--list"))
            list = 1;
        else if (!strcmp(a, "--all-sizes"))
            flags |= MPQ_XP_ALL_SIZES;
        else if (a[0] != '-' && !model)
            model = a;
        else
            return usage(stderr), cli_fail2(tool, "unknown option or extra argument");
        i += takes;
    }
    mpq_hwcfg hw;
    if (load_hw(cfg, &hw))
        return 2;
    if (!strcmp(what, "space")) {
        mpq_hw_layer l;
        return parse_layer(shape, fc, &l) ? 2 : explore_space(&hw, &l, list, flags);
    }
    if (!strcmp(what, "sample")) {
        mpq_hw_layer l;
        return parse_layer(shape, fc, &l) ? 2 : explore_sample(&hw, &l, seed, every ? every : 1);
    }
    if (!strcmp(what, "model"))
        return model ? explore_model(model, &hw, seed, every, list, decomp, maps) : cli_fail2(tool, "model: MODEL.tflite is required");
    usage(stderr);
    return 2;
}
