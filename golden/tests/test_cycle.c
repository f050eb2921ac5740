/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The golden cycle model against the functional model (every random layer x configuration x
 * timing runs through mpq_gen, which compares every output pixel and overflow flag with mpq_fc
 * or mpq_conv), fully-connected layers and convolutions alike, and the cycle formulas of
 * docs/timing.md: a fully-connected tile without stalls takes 1 + S + M*S + 4 cycles (latency
 * 3), done_o once per tile, every activation beat taken once.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "arith/mpq.h"
#include "stim/mpq_gen.h"
#include "stim/mpq_vec.h"
#include "test_cfgs.h"

static const char *const cfgs[] = {"default", "tern", "mix2", "dense", "small", "wide"};
#define N_CFGS (sizeof cfgs / sizeof cfgs[0])
static mpq_hwcfg hws[N_CFGS];

typedef struct run_stats {
    uint64_t cycles, cfg_hs, wgt_hs, act_hs, out_hs, dones;
    int done_outside_drain;  /* done_o in a cycle whose state is not DRAIN */
    uint64_t first_cfg, last_done;
} run_stats;

/* Bits that differ between the n words of a and b (the last word masked to `last`). */
static uint64_t diff_bits(const uint32_t *a, const uint32_t *b, unsigned n, uint32_t last)
{
    uint64_t t = 0;
    for (unsigned i = 0; i < n; i++)
        t += (uint64_t)__builtin_popcount((a[i] ^ b[i]) & (i + 1u == n ? last : 0xffffffffu));
    return t;
}

/* Runs the generator to its end; returns its status. A second cycle model, counting its
 * switching activity (mpq_cm_activity_on), takes the same inputs: its outputs must be the
 * generator's in every cycle (counting changes nothing), and its counts of the input buses,
 * the weight buffer's writes and the accumulators must equal the ones recomputed here from
 * the ports, the model's position (mpq_cm_where_get) and its registers (mpq_cm_regs_get); an
 * entry's first write changes its power-on bits (mpq_cm_power_on). */
static int run(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_timing_opts *t, run_stats *st)
{
    char err[512];
    mpq_gen *g;
    memset(st, 0, sizeof *st);
    int rc = mpq_gen_new(hw, l, t, &g, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "mpq_gen_new: %s\n", err);
        return rc;
    }
    mpq_cm *cm;
    CHECK_EQ(mpq_cm_new(hw, &cm, err, sizeof err), 0, "%s", err);
    CHECK_EQ(mpq_cm_activity_on(cm), 0, "activity on");
    unsigned ww = MPQ_WORDS(mpq_hw_wgt_w(hw)), aw = MPQ_WORDS(mpq_hw_act_w(hw));
    uint32_t wl = mpq_hw_wgt_w(hw) % 32u ? (1u << mpq_hw_wgt_w(hw) % 32u) - 1u : 0xffffffffu;
    uint32_t al = mpq_hw_act_w(hw) % 32u ? (1u << mpq_hw_act_w(hw) % 32u) - 1u : 0xffffffffu;
    unsigned ns = hw->kmax / hw->klanes, ow = MPQ_WORDS(mpq_hw_out_w(hw));
    uint32_t *wmem = calloc((size_t)ns * ww, sizeof *wmem);
    uint8_t *wseen = calloc(ns, 1);
    static uint32_t wprev[MPQ_PORT_WORDS_MAX], aprev[MPQ_PORT_WORDS_MAX];
    memset(wprev, 0, sizeof wprev);
    memset(aprev, 0, sizeof aprev);
    int64_t accprev[MPQ_LANES_MAX] = {0};
    uint64_t amask = hw->acc_bits >= 64u ? ~0ull : (1ull << hw->acc_bits) - 1u;
    mpq_cm_activity want = {0};
    int outs_equal = 1;
    mpq_port_in in;
    mpq_port_out exp, got;
    while ((rc = mpq_gen_next(g, &in, &exp)) == 1) {
        mpq_cm_where w;
        mpq_gen_where(g, &w);
        uint64_t c = st->cycles++;
        mpq_cm_eval(cm, &in, &got);
        outs_equal &= got.cfg_ready == exp.cfg_ready && got.wgt_ready == exp.wgt_ready &&
                      got.act_ready == exp.act_ready && got.out_valid == exp.out_valid && got.done == exp.done &&
                      got.ovf == exp.ovf && (!exp.out_valid || !memcmp(got.out_data, exp.out_data, ow * sizeof got.out_data[0]));
        if (in.rst_n) {
            want.cycles++;
            want.wgt_in += diff_bits(wprev, in.wgt_data, ww, wl);
            want.act_in += diff_bits(aprev, in.act_data, aw, al);
            memcpy(wprev, in.wgt_data, ww * sizeof wprev[0]);
            memcpy(aprev, in.act_data, aw * sizeof aprev[0]);
            if (w.state == MPQ_ST_LOAD && in.wgt_valid && w.wslice < ns && wmem && wseen) {
                /* an entry's first write changes its power-on bits */
                uint32_t *e = &wmem[(size_t)w.wslice * ww];
                if (!wseen[w.wslice])
                    mpq_cm_power_on(e, ww, MPQ_CM_MEM_WBUF, w.wslice);
                want.wbuf_wr += diff_bits(e, in.wgt_data, ww, wl);
                wseen[w.wslice] = 1;
                memcpy(e, in.wgt_data, ww * sizeof *e);
            }
        }
        mpq_cm_tick(cm, &in);
        if (in.rst_n) {
            mpq_cm_regs r;
            mpq_cm_regs_get(cm, &r);
            for (unsigned i = 0; i < hw->lanes; i++) {
                want.acc += (uint64_t)__builtin_popcountll(((uint64_t)r.acc[i] ^ (uint64_t)accprev[i]) & amask);
                accprev[i] = r.acc[i];
            }
        } else {
            memset(accprev, 0, sizeof accprev); /* a reset clears them; the model counts from there */
        }
        if (!in.rst_n)
            continue;
        if (in.cfg_valid && exp.cfg_ready) {
            if (st->cfg_hs++ == 0)
                st->first_cfg = c;
        }
        st->wgt_hs += in.wgt_valid && exp.wgt_ready;
        st->act_hs += in.act_valid && exp.act_ready;
        st->out_hs += exp.out_valid && in.out_ready;
        if (exp.done) {
            st->dones++;
            st->last_done = c;
            if (w.state != MPQ_ST_DRAIN)
                st->done_outside_drain = 1;
        }
    }
    if (rc < 0)
        fprintf(stderr, "mpq_gen_next: %s\n", mpq_gen_error(g));
    mpq_cm_activity a;
    mpq_cm_activity_get(cm, &a);
    CHECK(outs_equal, "a model counting its activity gives the generator's outputs");
    CHECK_EQ(a.cycles, want.cycles, "activity: cycles out of reset");
    CHECK_EQ(a.wgt_in, want.wgt_in, "activity: wgt_data_i toggles");
    CHECK_EQ(a.act_in, want.act_in, "activity: act_data_i toggles");
    CHECK_EQ(a.wbuf_wr, want.wbuf_wr, "activity: weight buffer bits written");
    CHECK_EQ(a.acc, want.acc, "activity: accumulator toggles");
    CHECK(a.xr <= a.cycles * hw->klanes * (hw->act_bits + 2u), "activity: xr toggles within its width");
    CHECK(a.xr_hold <= a.xr, "activity: xr toggles under a held weight slice are some of xr's");
    CHECK(a.tern_x <= a.xr * hw->lanes, "activity: each xr toggle reaches at most every lane's ternary sum");
    CHECK(a.mul_x <= a.cycles * hw->lanes * hw->hp_per_group * (hw->act_bits + 2u),
          "activity: multiplier operand toggles within their width");
    free(wmem);
    free(wseen);
    mpq_cm_free(cm);
    mpq_gen_free(g);
    return rc;
}

/* Every run of a layer: its counts, and for a fully-connected layer without stalls the tile
 * length of docs/timing.md. */
static void check_run(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_timing_opts *t,
                      const run_stats *st, const char *what)
{
    unsigned tiles = mpq_hw_layer_tiles(hw, l);
    uint64_t wgt = 0, act = 0;
    for (unsigned i = 0; i < tiles; i++) {
        mpq_hw_tile tp;
        mpq_hw_layer_tile(hw, l, i, &tp);
        wgt += tp.wgt_beats;
        act += tp.act_beats;
    }
    CHECK_EQ(st->dones, tiles, "done_o once per tile (%s)", what);
    CHECK_EQ(st->cfg_hs, tiles, "one cfg beat per tile (%s)", what);
    CHECK_EQ(st->wgt_hs, wgt, "weight beats (%s)", what);
    CHECK_EQ(st->act_hs, act, "every activation slice once per tile (%s)", what);
    CHECK_EQ(st->out_hs, (uint64_t)tiles * l->m, "one output beat per pixel and tile (%s)", what);
    CHECK(!st->done_outside_drain, "done_o outside DRAIN (%s)", what);
    if (l->s.kind == MPQ_LAYER_FC && t->p_valid >= 1.0 && t->p_ready >= 1.0 &&
        hw->act_depth >= 2 * ((l->k + hw->klanes - 1) / hw->klanes)) {
        /* Each tile: 1 cfg + S load (the first activation slices enter meanwhile) + M*S steps
         * + 4 (the last row through rq1, rq2, out; done_o), back to back. */
        uint64_t ns = (l->k + hw->klanes - 1) / hw->klanes;
        uint64_t per_tile = 1u + ns + (uint64_t)l->m * ns + 4u;
        CHECK_EQ(st->last_done - st->first_cfg + 1u, per_tile * tiles, "tile length without stalls (%s)",
                 what);
    }
}

static void random_timing(mpq_timing_opts *t)
{
    memset(t, 0, sizeof *t);
    t->seed = test_rand();
    t->p_valid = test_range(0, 2) == 0 ? 1.0 : 0.2 + 0.8 * (double)test_range(0, 100) / 100.0;
    t->p_ready = test_range(0, 2) == 0 ? 1.0 : 0.1 + 0.9 * (double)test_range(0, 100) / 100.0;
    t->reset_cycles = (unsigned)test_range(1, 5);
    t->tail_cycles = (unsigned)test_range(0, 3);
    t->offer_early = (int)test_range(0, 1);
}

/* The arithmetic of a random layer: sparse weights per group, accumulator mode, data profile. */
static void random_arith(const mpq_hwcfg *hw, mpq_layer_opts *o)
{
    o->hp_n = (unsigned)test_range(0, hw->hp_per_group);
    o->acc_sat = (int)test_range(0, 1);
    o->profile = (mpq_profile)test_range(0, MPQ_PROF_COUNT - 1);
}

/* What the random runs covered. */
typedef struct tally {
    unsigned runs;
    uint64_t cycles, outs;
} tally;

/* The random layer of o through the cycle model with random timing, checked against the
 * functional model (what names it in messages), counted in *n. Returns 1 when it ran, else 0. */
static int run_random(const mpq_hwcfg *hw, const mpq_layer_opts *o, const char *what, tally *n)
{
    run_stats stats, *st = &stats;
    mpq_hw_layer l;
    char err[512];
    int rc = mpq_hw_layer_random(hw, o, &l, err, sizeof err);
    CHECK_EQ(rc, 0, "random layer %s: %s", what, err);
    if (rc != 0)
        return 0;
    mpq_timing_opts t;
    random_timing(&t);
    rc = run(hw, &l, &t, st);
    CHECK_EQ(rc, 0, "%s", what);
    check_run(hw, &l, &t, st, what);
    mpq_hw_layer_free(&l);
    n->runs++;
    n->cycles += st->cycles;
    n->outs += st->out_hs;
    return 1;
}

/* Random layers on random configurations: fully-connected ones (conv 0), or convolutions of
 * random shapes the configuration runs (padding, strides, dilations, groups, depthwise
 * multipliers, batches, kernels as large as the input), against mpq_fc / mpq_conv. */
static void test_random(int conv, unsigned iters)
{
    unsigned dw = 0, grouped = 0;
    tally n = {0};
    for (unsigned iter = 0; iter < iters; iter++) {
        unsigned ci = (unsigned)test_range(0, N_CFGS - 1);
        const mpq_hwcfg *hw = &hws[ci];
        mpq_layer_opts o = {0};
        o.seed = test_rand();
        const mpq_conv_shape *sh = &o.shape;
        if (conv) {
            mpq_hw_conv_shape_random(hw, o.seed, 20000, &o.shape);
        } else {
            o.m = (unsigned)test_range(1, 12);
            unsigned kcap = hw->kmax < 300 ? hw->kmax : 300;
            o.k = (unsigned)(test_range(0, 9) == 0 ? hw->kmax : test_range(1, kcap));
            o.n = (unsigned)test_range(1, 2 * hw->lanes + 3);
        }
        random_arith(hw, &o);
        char what[300];
        int at = snprintf(what, sizeof what, "iter %u %s %s", iter, cfgs[ci], mpq_profile_name(o.profile));
        if (conv)
            snprintf(what + at, sizeof what - (size_t)at, " %s B=%u %ux%ux%u -> %ux%ux%u k=%ux%u s=%u,%u "
                     "p=%u,%u d=%u,%u g=%u", mpq_layer_name(sh->kind), sh->batches, sh->in_h, sh->in_w,
                     sh->in_c, sh->out_h, sh->out_w, sh->out_c, sh->kh, sh->kw, sh->sy, sh->sx, sh->py,
                     sh->px, sh->dy, sh->dx, sh->groups);
        else
            snprintf(what + at, sizeof what - (size_t)at, " m=%u k=%u n=%u", o.m, o.k, o.n);
        if (run_random(hw, &o, what, &n) && conv) {
            dw += sh->kind == MPQ_LAYER_DEPTHWISE;
            grouped += sh->kind == MPQ_LAYER_CONV2D && sh->groups > 1;
        }
    }
    if (conv)
        printf("cycle model == functional model on %u random convolutions (%u depthwise, %u grouped; "
               "%llu cycles, %llu output pixels)\n", n.runs, dw, grouped, (unsigned long long)n.cycles,
               (unsigned long long)n.outs);
    else
        printf("cycle model == functional model on %u random fully-connected layers (%llu cycles, %llu "
               "output rows)\n", n.runs, (unsigned long long)n.cycles, (unsigned long long)n.outs);
}

/* The two golden models must catch each other: corrupt the layer the functional model sees
 * after the generator has computed its expectations (a stand-in for a bug in one of them). */
static void test_disagreement_is_caught(void)
{
    const mpq_hwcfg *hw = &hws[0];
    mpq_layer_opts o = {.seed = 7, .m = 3, .k = 40, .n = 5, .hp_n = 1, .acc_sat = 0};
    mpq_hw_layer l;
    char err[512];
    CHECK_EQ(mpq_hw_layer_random(hw, &o, &l, err, sizeof err), 0, "%s", err);
    mpq_timing_opts t = {.seed = 1, .p_valid = 1.0, .p_ready = 1.0, .reset_cycles = 1};
    mpq_gen *g;
    CHECK_EQ(mpq_gen_new(hw, &l, &t, &g, err, sizeof err), 0, "%s", err);
    l.x[0] = l.x[0] == 5 ? 6 : 5; /* the cycle model now sees other activations */
    mpq_port_in in;
    mpq_port_out exp;
    int rc;
    while ((rc = mpq_gen_next(g, &in, &exp)) == 1)
        ;
    CHECK(rc < 0, "a changed activation must make the models disagree");
    CHECK(strstr(mpq_gen_error(g), "row 0") != NULL, "message names row 0: %s", mpq_gen_error(g));
    mpq_gen_free(g);
    mpq_hw_layer_free(&l);
}

static void test_layer_check(void)
{
    const mpq_hwcfg *hw = &hws[0];
    mpq_hw_layer l;
    char err[256];
    CHECK_EQ(mpq_hw_layer_alloc(&l, 2, 32, 3), 0, "alloc");
    l.act_max = 10;
    CHECK_EQ(mpq_hw_layer_check(hw, &l, err, sizeof err), 0, "%s", err);
    l.hp[0] = 1;
    l.hp[1] = 2; /* two in group 0 of channel 0, HpPerGroup = 1 */
    CHECK_EQ(mpq_hw_layer_check(hw, &l, err, sizeof err), MPQ_EPARAM, "N:G violation");
    CHECK(strstr(err, "channel 0") != NULL, "%s", err);
    l.hp[1] = 0;
    l.x[5] = 128;
    CHECK_EQ(mpq_hw_layer_check(hw, &l, err, sizeof err), MPQ_EPARAM, "x out of range");
    l.x[5] = 0;
    l.shift[2] = 31;
    CHECK_EQ(mpq_hw_layer_check(hw, &l, err, sizeof err), MPQ_EPARAM, "shift out of range");
    mpq_hw_layer_free(&l);
}

int main(void)
{
    test_seed("test_cycle", 20261122);
    if (test_load_cfgs(cfgs, N_CFGS, hws) != 0)
        return 1;
    test_layer_check();
    test_disagreement_is_caught();
    test_random(0, 400);
    test_random(1, 300);
    return check_done("test_cycle");
}
