/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The golden cycle model against the functional model (every random layer x configuration x
 * timing runs through mpq_gen, which compares every output row and overflow flag), and the
 * cycle formulas of docs/timing.md: latency 3, utilization without stalls, done_o once per
 * tile, act_ready_o dropping only on a row's last slice with the result pipeline full.
 */
#include <string.h>

#include "check.h"
#include "mpq.h"
#include "mpq_gen.h"
#include "mpq_vec.h"

static const char *const cfgs[] = {"default", "tern", "mix2", "dense", "small"};
#define N_CFGS (sizeof cfgs / sizeof cfgs[0])
static mpq_hwcfg hws[N_CFGS];

static int load_cfgs(void)
{
    for (unsigned i = 0; i < N_CFGS; i++) {
        char path[128], err[256];
        snprintf(path, sizeof path, "rtl/cfg/%s.cfg", cfgs[i]);
        if (mpq_hwcfg_load(path, &hws[i], err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return -1;
        }
    }
    return 0;
}

typedef struct run_stats {
    uint64_t cycles, cfg_hs, wgt_hs, act_hs, out_hs, dones;
    int stall_rule_broken;   /* act_ready low in RUN while not on a last slice or pipeline free */
    int latency_bad;         /* (no-stall runs) a row not on the output 3 cycles after its last slice */
    uint64_t first_cfg, last_done;
} run_stats;

/* Runs the generator to its end; returns its status. */
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
    mpq_port_in in;
    mpq_port_out exp;
    uint64_t pending_row_at[8] = {0};
    unsigned ph = 0, pt = 0; /* ring of rows waiting to come out (no-stall runs only) */
    int was_out_valid = 0;
    while ((rc = mpq_gen_next(g, &in, &exp)) == 1) {
        mpq_cm_where w;
        mpq_gen_where(g, &w);
        uint64_t c = st->cycles++;
        if (!in.rst_n)
            continue;
        if (w.state == 2 && !exp.act_ready && w.slice + 1u != (w.k_len + hw->klanes - 1u) / hw->klanes)
            st->stall_rule_broken = 1;
        if (in.cfg_valid && exp.cfg_ready) {
            if (st->cfg_hs++ == 0)
                st->first_cfg = c;
        }
        st->wgt_hs += in.wgt_valid && exp.wgt_ready;
        if (in.act_valid && exp.act_ready) {
            st->act_hs++;
            if (w.slice + 1u == (w.k_len + hw->klanes - 1u) / hw->klanes)
                pending_row_at[ph++ % 8] = c;
        }
        /* A row appears on the output (a new beat: valid rises or the previous one was taken). */
        if (exp.out_valid && (!was_out_valid || pt < ph)) {
            if (pt < ph && t->p_ready >= 1.0 && t->p_valid >= 1.0) {
                if (c != pending_row_at[pt % 8] + 3u)
                    st->latency_bad = 1;
            }
        }
        if (exp.out_valid && in.out_ready) {
            st->out_hs++;
            pt++;
        }
        was_out_valid = exp.out_valid && !in.out_ready;
        if (exp.done) {
            st->dones++;
            st->last_done = c;
            if (w.state != 3)
                st->stall_rule_broken = 1;
        }
    }
    if (rc < 0)
        fprintf(stderr, "mpq_gen_next: %s\n", mpq_gen_error(g));
    mpq_gen_free(g);
    return rc;
}

static void test_random_layers(void)
{
    unsigned runs = 0;
    uint64_t cycles = 0, outs = 0;
    for (unsigned iter = 0; iter < 400; iter++) {
        unsigned ci = (unsigned)test_range(0, N_CFGS - 1);
        const mpq_hwcfg *hw = &hws[ci];
        mpq_layer_opts o = {0};
        o.seed = test_rand();
        o.m = (unsigned)test_range(1, 12);
        unsigned kcap = hw->kmax < 300 ? hw->kmax : 300;
        o.k = (unsigned)(test_range(0, 9) == 0 ? hw->kmax : test_range(1, kcap));
        o.n = (unsigned)test_range(1, 2 * hw->lanes + 3);
        o.hp_n = (unsigned)test_range(0, hw->hp_per_group);
        o.acc_sat = (int)test_range(0, 1);
        o.profile = (mpq_profile)test_range(0, MPQ_PROF_COUNT - 1);
        mpq_hw_layer l;
        char err[512];
        int rc = mpq_hw_layer_random(hw, &o, &l, err, sizeof err);
        CHECK_EQ(rc, 0, "random layer %s: %s", cfgs[ci], err);
        if (rc != 0)
            continue;
        mpq_timing_opts t = {0};
        t.seed = test_rand();
        t.p_valid = test_range(0, 2) == 0 ? 1.0 : 0.2 + 0.8 * (double)test_range(0, 100) / 100.0;
        t.p_ready = test_range(0, 2) == 0 ? 1.0 : 0.1 + 0.9 * (double)test_range(0, 100) / 100.0;
        t.reset_cycles = (unsigned)test_range(1, 5);
        t.tail_cycles = (unsigned)test_range(0, 3);
        run_stats st;
        rc = run(hw, &l, &t, &st);
        unsigned tiles = (o.n + hw->lanes - 1) / hw->lanes;
        unsigned ns = (o.k + hw->klanes - 1) / hw->klanes;
        CHECK_EQ(rc, 0, "iter %u %s %s m=%u k=%u n=%u", iter, cfgs[ci], mpq_profile_name(o.profile),
                 o.m, o.k, o.n);
        CHECK_EQ(st.dones, tiles, "done_o once per tile");
        CHECK_EQ(st.cfg_hs, tiles, "one cfg beat per tile");
        CHECK_EQ(st.wgt_hs, (uint64_t)tiles * ns, "weight beats");
        CHECK_EQ(st.act_hs, (uint64_t)tiles * ns * o.m, "activation beats");
        CHECK_EQ(st.out_hs, (uint64_t)tiles * o.m, "output beats");
        CHECK(!st.stall_rule_broken, "act_ready_o low outside a last slice, or done_o outside DRAIN");
        CHECK(!st.latency_bad, "latency 3 without stalls");
        if (t.p_valid >= 1.0 && t.p_ready >= 1.0) {
            /* Each tile: 1 cfg + ns load + m*ns run + 4 drain cycles, back to back. */
            uint64_t per_tile = 1u + ns + (uint64_t)o.m * ns + 4u;
            CHECK_EQ(st.last_done - st.first_cfg + 1u, per_tile * tiles,
                     "tile length without stalls (%s m=%u k=%u n=%u)", cfgs[ci], o.m, o.k, o.n);
        }
        mpq_hw_layer_free(&l);
        cycles += st.cycles;
        outs += st.out_hs;
        runs++;
    }
    printf("cycle model == functional model on %u random layers (%llu cycles, %llu output rows)\n",
           runs, (unsigned long long)cycles, (unsigned long long)outs);
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
    if (load_cfgs() != 0)
        return 1;
    test_layer_check();
    test_disagreement_is_caught();
    test_random_layers();
    return check_done("test_cycle");
}
