/* SPDX-License-Identifier: Apache-2.0 */
/* test_explore: the closed-form cost of a (precision, mapping) point (explore/mpq_explore.h)
 * equals what the golden cycle model counts when the point's hardware layers run on it without
 * stalls (mpq_gen, p_valid = p_ready = 1, as mpq-golden model map drives them): every mapping
 * of every MAC layer of the Fashion-MNIST CNN (c16,p2,c32s2,c64s2v,f10) on four
 * configurations, and a seeded random sample of layers, configurations and points. The
 * products by precision are checked against a count over the part's pixels, taps and
 * channels. A planted error in a cost is caught. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "explore/mpq_explore.h"
#include "test_cfgs.h"

static const char *const cfgs[] = {"default", "small", "dense", "tern", "mix2", "wide", "int8"};
#define N_CFGS (sizeof cfgs / sizeof cfgs[0])
static mpq_hwcfg hws[N_CFGS];

typedef mpq_xp_cost sim_counts;

/* Runs part L (shape only) on the cycle model with a random layer of its shape, hp_n sparse
 * entries filled per group (the precision's: the high-precision products compare). Returns 0 or
 * -1 (a failed check). */
static int simulate(const mpq_hwcfg *hw, const mpq_hw_layer *L, uint64_t seed, unsigned hp_n, sim_counts *sc)
{
    char err[512];
    int rc = mpq_xp_simulate(hw, L, seed, hp_n, sc, err, sizeof err);
    CHECK_EQ(rc, 0, "simulate: %s", err);
    return rc ? -1 : 0;
}

/* The layer's products counted pixel by pixel, tap by tap, channel by channel: useful and
 * high-precision (at most hp_n per output channel, tap and aligned block of KLanes input
 * channels). */
static void count_macs(const mpq_hwcfg *hw, const mpq_hw_layer *L, unsigned hp_n, uint64_t *macs, uint64_t *hp)
{
    const mpq_conv_shape *s = &L->s;
    unsigned f = mpq_hw_layer_group_size(L);
    uint64_t taps = 0, hp_per_tap = 0;
    for (unsigned oy = 0; oy < s->out_h; oy++)
        for (unsigned ox = 0; ox < s->out_w; ox++)
            for (unsigned ky = 0; ky < s->kh; ky++)
                for (unsigned kx = 0; kx < s->kw; kx++) {
                    long iy = (long)oy * s->sy - (long)s->py + (long)ky * s->dy;
                    long ix = (long)ox * s->sx - (long)s->px + (long)kx * s->dx;
                    taps += iy >= 0 && iy < (long)s->in_h && ix >= 0 && ix < (long)s->in_w;
                }
    for (unsigned o = 0; o < L->n; o++) {
        unsigned g0 = mpq_hw_layer_group_base(L, o), blk_cnt[4096] = {0};
        for (unsigned c = g0; c < g0 + f; c++)
            blk_cnt[c / hw->klanes]++;
        for (unsigned b = 0; b <= (g0 + f - 1) / hw->klanes; b++)
            hp_per_tap += blk_cnt[b] < hp_n ? blk_cnt[b] : hp_n;
    }
    *macs = taps * s->batches * (uint64_t)f * L->n;
    *hp = taps * s->batches * hp_per_tap;
}

static unsigned mismatches;

static int cost_equal(const mpq_xp_cost *c, const sim_counts *s, char *why, size_t len)
{
    return mpq_xp_sim_equal(c, s, why, len);
}

typedef struct tally {
    uint64_t points, hw_layers, cycles;
    uint64_t with_waits, with_ring_full, with_drain; /* hardware layers that exercise them */
} tally;

/* Point pt of layer l: every distinct hardware layer simulated and compared (the cost of the
 * point is the sum over its parts, checked against the parts' costs). */
static void check_point(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_xp_point *pt, const char *what,
                        uint64_t seed, tally *n)
{
    char ms[160], ps[32], why[200];
    mpq_xp_map_str(&pt->map, ms, sizeof ms);
    mpq_xp_prec_str(&pt->prec, ps, sizeof ps);
    unsigned np = mpq_xp_parts(hw, l, &pt->map, NULL, 0);
    mpq_xp_part *parts = calloc(np, sizeof *parts);
    CHECK(parts && mpq_xp_parts(hw, l, &pt->map, parts, np) == np, "%s: parts", what);
    if (!parts)
        return;
    mpq_xp_cost total, sum, one;
    CHECK_EQ(mpq_xp_point_cost(hw, l, pt, &total), 0, "%s %s %s", what, ps, ms);
    memset(&sum, 0, sizeof sum);
    for (unsigned p = 0; p < np; p++) {
        const mpq_hw_layer *L = &parts[p].L;
        mpq_xp_hw_layer_cost(hw, L, &pt->prec, &one);
        mpq_xp_cost_add(&sum, &one, 1);
        /* parts equal in shape cost the same: simulate each shape once */
        int seen = 0;
        for (unsigned q = 0; q < p && !seen; q++)
            seen = !memcmp(&parts[q].L.s, &L->s, sizeof L->s);
        if (seen)
            continue;
        sim_counts sc;
        if (simulate(hw, L, seed + p, pt->prec.tern ? pt->prec.hp_n : hw->klanes, &sc) != 0)
            break;
        if (!cost_equal(&one, &sc, why, sizeof why)) {
            mismatches++;
            CHECK(0, "%s %s %s part %u (b0 %u oy0 %u ox0 %u): %s", what, ps, ms, p, parts[p].b0, parts[p].oy0,
                  parts[p].ox0, why);
        }
        uint64_t macs, hp;
        count_macs(hw, L, pt->prec.tern ? pt->prec.hp_n : hw->klanes, &macs, &hp);
        CHECK_EQ(one.macs, macs, "%s %s %s part %u: useful products", what, ps, ms, p);
        CHECK_EQ(one.macs_hp, hp, "%s %s %s part %u: high-precision products", what, ps, ms, p);
        n->hw_layers++;
        n->cycles += sc.cycles;
        n->with_waits += sc.data_waits > 0;
        n->with_ring_full += sc.ring_full > 0;
        /* beats left to write after the last step: DRAIN longer than the pipeline's 4 cycles */
        n->with_drain += sc.cycles > sc.tiles * 5 + sc.wgt_beats + sc.steps + sc.data_waits;
    }
    CHECK(!memcmp(&sum, &total, sizeof sum), "%s %s %s: the point's cost is not the sum of its parts'", what, ps,
          ms);
    free(parts);
    n->points++;
}

/* Every mapping (both loop orders cost the same: one of them simulated) at a random
 * precision of each MAC layer of the CNN, on the default, small, dense and tern configurations. */
static void test_cnn(void)
{
    static const char *const shapes[] = {
        "conv2d h=28 w=28 c=1 o=16 k=3 p=1",       /* c16 */
        "conv2d h=14 w=14 c=16 o=32 k=3 s=2 p=1",  /* c32s2 (SAME, padding on both sides) */
        "conv2d h=14 w=14 c=16 o=32 k=3 s=2 p=0 oh=7 ow=7", /* TFLite SAME: the odd row below */
        "conv2d h=7 w=7 c=32 o=64 k=3 s=2",        /* c64s2v */
        "conv2d b=4 h=7 w=7 c=32 o=64 k=3 s=2",    /* four images, img per weight load */
    };
    tally n = {0};
    clock_t t0 = clock();
    for (unsigned ci = 0; ci < 4; ci++) {
        const mpq_hwcfg *hw = &hws[ci];
        for (unsigned si = 0; si <= sizeof shapes / sizeof shapes[0]; si++) {
            mpq_layer_opts o = {0};
            char err[256];
            if (si == sizeof shapes / sizeof shapes[0]) { /* f10 */
                o.shape.kind = MPQ_LAYER_FC;
                o.m = 1, o.k = 576, o.n = 10;
            } else {
                CHECK_EQ(mpq_conv_shape_parse(shapes[si], &o.shape, err, sizeof err), 0, "%s", err);
            }
            mpq_hw_layer l;
            CHECK_EQ(mpq_hw_layer_shape(&o, &l, err, sizeof err), 0, "%s", err);
            size_t nm = mpq_xp_mappings(hw, &l, NULL, 0);
            mpq_xp_map *maps = calloc(nm, sizeof *maps);
            mpq_xp_prec precs[80];
            unsigned npr = mpq_xp_precisions(hw, precs, 80);
            CHECK(maps && mpq_xp_mappings(hw, &l, maps, nm) == nm, "mappings");
            for (size_t i = 0; maps && i < nm; i++) {
                if (maps[i].order != MPQ_XP_CHANNELS_INNER)
                    continue;
                mpq_xp_point pt = {precs[test_range(0, npr - 1)], maps[i]};
                char what[200];
                snprintf(what, sizeof what, "%s cnn layer %u", cfgs[ci], si);
                check_point(hw, &l, &pt, what, test_rand(), &n);
            }
            free(maps);
        }
    }
    printf("cnn: %llu points (every mapping of 6 layers on 4 configurations), %llu hardware layers, "
           "%llu cycles simulated (%llu with data waits, %llu with the ring full, %llu with beats after the "
           "last step): closed form == cycle model (%.1f s)\n", (unsigned long long)n.points,
           (unsigned long long)n.hw_layers, (unsigned long long)n.cycles, (unsigned long long)n.with_waits,
           (unsigned long long)n.with_ring_full, (unsigned long long)n.with_drain,
           (double)(clock() - t0) / CLOCKS_PER_SEC);
}

/* Layers whose window rows fill the ring exactly (the writer held back by a full ring, the
 * reader then waiting for the row it could not write), every mapping of each. */
static void test_ring_edge(void)
{
    static const struct {
        unsigned cfg;
        const char *shape;
    } cases[] = {
        {1, "conv2d h=5 w=16 c=16 o=3 k=1"},           /* small: 16 columns x 4 slices = 64 */
        {1, "conv2d h=6 w=21 c=4 o=3 k=3 p=1"},        /* 3 rows x 21 = 63 */
        {1, "conv2d b=2 h=9 w=12 c=4 o=5 k=3 d=2 p=2"}, /* 5 rows x 12 = 60 */
        {1, "conv2d h=7 w=32 c=8 o=3 k=1 s=2"},        /* 32 x 2 = 64, stride 2 */
        {0, "conv2d h=4 w=64 c=256 o=8 k=1"},          /* default: 64 x 16 = 1024 */
        {0, "depthwise h=6 w=8 c=64 o=64 k=3 p=1"},
    };
    tally n = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const mpq_hwcfg *hw = &hws[cases[i].cfg];
        mpq_layer_opts o = {0};
        char err[256];
        CHECK_EQ(mpq_conv_shape_parse(cases[i].shape, &o.shape, err, sizeof err), 0, "%s", err);
        mpq_hw_layer l;
        CHECK_EQ(mpq_hw_layer_shape(&o, &l, err, sizeof err), 0, "%s", err);
        size_t nm = mpq_xp_mappings(hw, &l, NULL, 0);
        mpq_xp_map *maps = calloc(nm, sizeof *maps);
        CHECK(maps && mpq_xp_mappings(hw, &l, maps, nm) == nm, "mappings");
        for (size_t k = 0; maps && k < nm; k++)
            if (maps[k].order == MPQ_XP_CHANNELS_INNER) {
                mpq_xp_point pt = {{1, 0}, maps[k]};
                check_point(hw, &l, &pt, cases[i].shape, test_rand(), &n);
            }
        free(maps);
    }
    CHECK(n.with_ring_full > 0 && n.with_waits > 0, "the ring-edge layers exercise neither a full ring nor waits");
    printf("ring edge: %llu points, %llu hardware layers (%llu with data waits, %llu with the ring full): closed "
           "form == cycle model\n", (unsigned long long)n.points, (unsigned long long)n.hw_layers,
           (unsigned long long)n.with_waits, (unsigned long long)n.with_ring_full);
}

/* A seeded random sample: random convolutions (and FC layers) on random configurations, a
 * random legal mapping and precision each. */
static void test_random(unsigned iters)
{
    tally n = {0};
    unsigned tried = 0;
    for (unsigned it = 0; it < iters; it++) {
        unsigned ci = (unsigned)test_range(0, N_CFGS - 1);
        const mpq_hwcfg *hw = &hws[ci];
        mpq_layer_opts o = {0};
        if (test_range(0, 5) == 0) {
            o.shape.kind = MPQ_LAYER_FC;
            o.m = (unsigned)test_range(1, 40);
            o.k = (unsigned)test_range(1, hw->kmax < 600 ? hw->kmax : 600);
            o.n = (unsigned)test_range(1, 3 * hw->lanes);
        } else {
            mpq_hw_conv_shape_random(hw, test_rand(), 30000, &o.shape);
        }
        mpq_hw_layer l;
        char err[256], what[300];
        if (mpq_hw_layer_shape(&o, &l, err, sizeof err) != 0)
            continue;
        unsigned flags = test_range(0, 1) ? MPQ_XP_ALL_SIZES : 0; /* uneven cuts too */
        size_t nm = mpq_xp_mappings_ex(hw, &l, flags, NULL, 0);
        tried++;
        if (nm == 0)
            continue;
        mpq_xp_map *maps = calloc(nm, sizeof *maps);
        mpq_xp_prec precs[80];
        unsigned npr = mpq_xp_precisions(hw, precs, 80);
        if (!maps || mpq_xp_mappings_ex(hw, &l, flags, maps, nm) != nm) {
            CHECK(0, "mappings");
            free(maps);
            continue;
        }
        mpq_xp_point pt = {precs[test_range(0, npr - 1)], maps[test_range(0, (int64_t)nm - 1)]};
        mpq_conv_shape_format(&l.s, what, sizeof what);
        char w2[360];
        snprintf(w2, sizeof w2, "random %u %s %s", it, cfgs[ci], what);
        check_point(hw, &l, &pt, w2, test_rand(), &n);
        free(maps);
    }
    printf("random: %llu points of %u layers, %llu hardware layers, %llu cycles (%llu with data waits, %llu "
           "with the ring full, %llu with beats after the last step): closed form == cycle model\n",
           (unsigned long long)n.points, tried, (unsigned long long)n.hw_layers, (unsigned long long)n.cycles,
           (unsigned long long)n.with_waits, (unsigned long long)n.with_ring_full,
           (unsigned long long)n.with_drain);
}

/* Part P's input from the full layer's: the rows and columns its band reads, the host's
 * zero point in its explicit padding, or (packed) the host's im2col of the full input. */
static void part_input(const mpq_hw_layer *full, const mpq_xp_part *P, int packed, mpq_hw_layer *Lp)
{
    const mpq_conv_shape *s = &full->s, *b = &Lp->s;
    unsigned C = b->in_c;
    for (unsigned n = 0; n < b->batches; n++)
        for (unsigned y = 0; y < b->in_h; y++)
            for (unsigned x = 0; x < b->in_w; x++) {
                int32_t *dst = &Lp->x[(((size_t)n * b->in_h + y) * b->in_w + x) * C];
                int pad = y >= b->in_h - P->padr_y || x >= b->in_w - P->padr_x;
                unsigned bn = P->b0 + n, yy = P->iy0 + y, xx = P->ix0 + x;
                for (unsigned c = 0; c < C; c++) {
                    unsigned tap = c / s->in_c, ch = c % s->in_c;
                    long iy = yy, ix = xx;
                    if (packed) { /* pixel (yy, xx) of the packed layer is output pixel (oy, ox) */
                        iy = (long)yy * s->sy - (long)s->py + (long)(tap / s->kw) * s->dy;
                        ix = (long)xx * s->sx - (long)s->px + (long)(tap % s->kw) * s->dx;
                    }
                    int out = pad || iy < 0 || iy >= (long)s->in_h || ix < 0 || ix >= (long)s->in_w;
                    dst[c] = out ? -full->in_offset
                                 : full->x[(((size_t)bn * s->in_h + (size_t)iy) * s->in_w + (size_t)ix) * s->in_c + ch];
                }
            }
}

/* The mapping computes the layer: every part run on the functional model with its slice of
 * the input (and the layer's weights and parameters), its outputs gathered, equal to the
 * whole layer's outputs, each output exactly once. Returns the outputs compared. */
static uint64_t check_mapping_function(const mpq_hwcfg *hw, const mpq_hw_layer *full, const mpq_xp_map *m,
                                       const char *what)
{
    size_t ny = (size_t)full->m * full->n;
    int32_t *y = calloc(ny, sizeof *y), *yp = calloc(ny, sizeof *yp);
    uint8_t *seen = calloc(ny, 1);
    unsigned np = mpq_xp_parts(hw, full, m, NULL, 0);
    mpq_xp_part *parts = calloc(np, sizeof *parts);
    uint64_t got = 0;
    if (!y || !yp || !seen || !parts || mpq_hw_layer_expected(hw, full, y, NULL) != 0)
        goto out;
    mpq_xp_parts(hw, full, m, parts, np);
    const mpq_conv_shape *s = &full->s;
    for (unsigned p = 0; p < np; p++) {
        mpq_hw_layer Lp;
        char err[256];
        int rc = full->s.kind == MPQ_LAYER_FC ? mpq_hw_layer_alloc(&Lp, parts[p].L.m, full->k, full->n)
                                              : mpq_hw_layer_alloc_conv(&Lp, &parts[p].L.s, err, sizeof err);
        CHECK_EQ(rc, 0, "%s: part %u", what, p);
        if (rc)
            break;
        size_t nw = full->s.kind == MPQ_LAYER_FC ? (size_t)full->n * full->k : mpq_conv_w_count(&full->s);
        memcpy(Lp.t, full->t, nw * sizeof *Lp.t); /* OHWI flattened is the packed [o][tap][c] */
        memcpy(Lp.hp, full->hp, nw * sizeof *Lp.hp);
        memcpy(Lp.alpha, full->alpha, full->n * sizeof *Lp.alpha);
        memcpy(Lp.bias, full->bias, full->n * sizeof *Lp.bias);
        memcpy(Lp.mult, full->mult, full->n * sizeof *Lp.mult);
        memcpy(Lp.shift, full->shift, full->n * sizeof *Lp.shift);
        Lp.acc_sat = full->acc_sat, Lp.in_offset = full->in_offset, Lp.out_offset = full->out_offset;
        Lp.act_min = full->act_min, Lp.act_max = full->act_max;
        part_input(full, &parts[p], m->pack, &Lp);
        CHECK_EQ(mpq_hw_layer_expected(hw, &Lp, yp, NULL), 0, "%s: part %u", what, p);
        unsigned oh = Lp.s.out_h, ow = Lp.s.out_w;
        for (unsigned r = 0; r < Lp.m; r++) {
            size_t b = parts[p].b0 + r / (oh * ow), oy = parts[p].oy0 + r / ow % oh, ox = parts[p].ox0 + r % ow;
            size_t row = (b * s->out_h + oy) * s->out_w + ox;
            for (unsigned c = 0; c < full->n; c++) {
                CHECK(!seen[row * full->n + c]++, "%s: output %zu,%u computed twice", what, row, c);
                CHECK_EQ(yp[(size_t)r * full->n + c], y[row * full->n + c], "%s: part %u output %zu channel %u",
                         what, p, row, c);
                got++;
            }
        }
        mpq_hw_layer_free(&Lp);
    }
    CHECK_EQ(got, ny, "%s: outputs computed", what);
out:
    free(y), free(yp), free(seen), free(parts);
    return got;
}

/* Random layers with data on small and default, random legal mappings (packed ones with
 * ternary weights only: packing regroups the channels, and the N:G rule holds per group of
 * the hardware layer): the gathered outputs equal the layer's. */
static void test_mapping_function(unsigned iters)
{
    uint64_t outs = 0, packed = 0, multi = 0, dw_skipped = 0;
    for (unsigned it = 0; it < iters; it++) {
        const mpq_hwcfg *hw = &hws[test_range(0, 1)];
        mpq_layer_opts o = {0};
        o.seed = test_rand();
        mpq_hw_conv_shape_random(hw, o.seed, 4000, &o.shape);
        mpq_hw_layer shp, full;
        char err[256], what[300];
        if (mpq_hw_layer_shape(&o, &shp, err, sizeof err) != 0)
            continue;
        unsigned flags = test_range(0, 1) ? MPQ_XP_ALL_SIZES : 0;
        size_t nm = mpq_xp_mappings_ex(hw, &shp, flags, NULL, 0);
        mpq_xp_map *maps = calloc(nm ? nm : 1, sizeof *maps);
        if (!maps || !nm) {
            free(maps);
            continue;
        }
        mpq_xp_mappings_ex(hw, &shp, flags, maps, nm);
        mpq_xp_map m = maps[test_range(0, (int64_t)nm - 1)];
        free(maps);
        /* A packed depthwise layer's parts hold the host's per-tile layout (stim/mpq_netmap.c),
         * which this test's thin-packing input does not build: its function is test_netmap's
         * (random depthwise layers forced packed, exact); its cost is checked above. */
        if (m.pack && shp.s.kind == MPQ_LAYER_DEPTHWISE) {
            dw_skipped++;
            continue;
        }
        o.hp_n = m.pack ? 0 : (unsigned)test_range(0, hw->hp_per_group);
        if (mpq_hw_layer_random(hw, &o, &full, err, sizeof err) != 0) {
            CHECK(0, "random layer: %s", err);
            continue;
        }
        char ms[120], sh[200];
        mpq_conv_shape_format(&full.s, sh, sizeof sh);
        snprintf(what, sizeof what, "function %u %s %s", it, sh, mpq_xp_map_str(&m, ms, sizeof ms));
        outs += check_mapping_function(hw, &full, &m, what);
        packed += m.pack;
        multi += mpq_xp_parts(hw, &shp, &m, NULL, 0) > 1;
        mpq_hw_layer_free(&full);
    }
    printf("mappings compute the layer: %u random layers and mappings (%llu of several parts, %llu packed; %llu "
           "packed depthwise left to test_netmap), %llu outputs gathered == the layer's\n", iters,
           (unsigned long long)multi, (unsigned long long)packed, (unsigned long long)dw_skipped,
           (unsigned long long)outs);
}

/* A cost one cycle off (or one wait off) is reported, so the comparison is not vacuous. */
static void test_planted(void)
{
    const mpq_hwcfg *hw = &hws[0];
    mpq_layer_opts o = {0};
    char err[256], why[200];
    CHECK_EQ(mpq_conv_shape_parse("conv2d h=9 w=9 c=20 o=12 k=3 p=1", &o.shape, err, sizeof err), 0, "%s", err);
    mpq_hw_layer l;
    CHECK_EQ(mpq_hw_layer_shape(&o, &l, err, sizeof err), 0, "%s", err);
    mpq_xp_prec p = {1, 1};
    mpq_xp_cost c;
    mpq_xp_hw_layer_cost(hw, &l, &p, &c);
    sim_counts sc;
    CHECK_EQ(simulate(hw, &l, 5, 1, &sc), 0, "simulate");
    CHECK(cost_equal(&c, &sc, why, sizeof why), "planted: the true cost differs: %s", why);
    c.cycles++;
    CHECK(!cost_equal(&c, &sc, why, sizeof why), "a cost one cycle off was not caught");
    c.cycles--;
    c.data_waits++;
    CHECK(!cost_equal(&c, &sc, why, sizeof why), "a cost one wait off was not caught");
    c.data_waits--;
    /* the access counts the cycle model keeps for the white-box RTL's counters */
    c.macs_live++;
    CHECK(!cost_equal(&c, &sc, why, sizeof why) && strstr(why, "macs_live"), "macs_live one off was not caught");
    c.macs_live--;
    c.macs_hp--;
    CHECK(!cost_equal(&c, &sc, why, sizeof why) && strstr(why, "macs_hp"), "macs_hp one off was not caught");
}

/* The space's shape: precisions per configuration, default mapping legal, mappings legal. */
static void test_space(void)
{
    mpq_xp_prec pr[80];
    CHECK_EQ(mpq_xp_precisions(&hws[0], pr, 80), 2, "default: tern+0, tern+1");
    CHECK_EQ(mpq_xp_precisions(&hws[3], pr, 80), 1, "tern: ternary only");
    unsigned n = mpq_xp_precisions(&hws[2], pr, 80);
    CHECK_EQ(n, 18, "dense: tern+0..16 and int8");
    CHECK(n == 18 && pr[17].tern == 0 && pr[17].hp_n == 16, "dense's last precision is int8");
    /* a layer whose rows do not fit the ring: the default mapping cuts columns */
    mpq_layer_opts o = {0};
    char err[256];
    CHECK_EQ(mpq_conv_shape_parse("conv2d h=8 w=200 c=64 o=8 k=3 p=1", &o.shape, err, sizeof err), 0, "%s", err);
    mpq_hw_layer l;
    CHECK_EQ(mpq_hw_layer_shape(&o, &l, err, sizeof err), 0, "%s", err);
    mpq_xp_map m = {1, 8, 200, 0, 0};
    CHECK(mpq_xp_map_check(&hws[0], &l, &m, err, sizeof err) != 0, "whole rows of 200x4 slices x 3 > 1024");
    mpq_xp_map_default(&hws[0], &l, &m);
    CHECK(m.bw < 200 && mpq_xp_map_check(&hws[0], &l, &m, err, sizeof err) == 0, "default mapping: %s", err);
    CHECK_EQ(m.bw, 67, "the fewest bands that fit, balanced: 67 + 67 + 66 columns");
    /* every size: netmap's widest-first cut (83 + 83 + 34) is in that space */
    size_t nb = mpq_xp_mappings(&hws[0], &l, NULL, 0), na = mpq_xp_mappings_ex(&hws[0], &l, MPQ_XP_ALL_SIZES, NULL, 0);
    mpq_xp_map *all = calloc(na ? na : 1, sizeof *all);
    int has83 = 0;
    if (all) {
        mpq_xp_mappings_ex(&hws[0], &l, MPQ_XP_ALL_SIZES, all, na);
        for (size_t i = 0; i < na; i++)
            has83 |= all[i].bw == 83 && all[i].bh == 8 && !all[i].pack;
    }
    CHECK(na > nb && has83, "all sizes: %zu mappings against %zu balanced, 83 columns %d", na, nb, has83);
    free(all);
}

int main(void)
{
    if (test_load_cfgs(cfgs, N_CFGS, hws) != 0)
        return 1;
    test_seed("test_explore", (uint64_t)time(NULL));
    test_space();
    test_planted();
    test_cnn();
    test_ring_edge();
    test_random(400);
    test_mapping_function(150);
    CHECK_EQ(mismatches, 0, "closed-form costs that differ from the cycle model");
    return check_done("test_explore");
}
