/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_explore_sim.c: a hardware layer of a design point run on the golden cycle model, and
 * the comparison of its counts with the closed form (mpq_explore.h). Kept apart from
 * mpq_explore.c, which never runs the cycle model: the closed form is an independent second
 * computation of the same counts.
 */
#include <stdio.h>
#include <string.h>

#include "explore/mpq_explore.h"
#include "stim/mpq_gen.h"

int mpq_xp_simulate(const mpq_hwcfg *hw, const mpq_hw_layer *L, uint64_t seed, unsigned hp_n, mpq_xp_cost *sim,
                    char *err, size_t errlen)
{
    memset(sim, 0, sizeof *sim);
    mpq_layer_opts o;
    mpq_layer_opts_shape(&o, &L->s, L->m, L->k, L->n);
    o.seed = seed;
    o.hp_n = hp_n;
    mpq_hw_layer l;
    int rc = mpq_hw_layer_random(hw, &o, &l, err, errlen);
    if (rc)
        return rc;
    mpq_timing_opts t;
    mpq_timing_default(seed, 1.0, 1.0, &t);
    mpq_gen *g;
    rc = mpq_gen_new(hw, &l, &t, &g, err, errlen);
    if (rc == 0) {
        static _Thread_local mpq_port_in in;
        static _Thread_local mpq_port_out exp;
        while ((rc = mpq_gen_next(g, &in, &exp)) == 1)
            ;
        if (rc < 0)
            snprintf(err, errlen, "cycle model: %s", mpq_gen_error(g));
        mpq_gen_stats s;
        mpq_gen_stats_get(g, &s);
        sim->cycles = s.cm.cycles - t.tail_cycles; /* the tail's idle cycles are the driver's */
        sim->hw_layers = 1;
        sim->tiles = s.cm.tiles;
        sim->steps = s.cm.steps;
        sim->pad_steps = s.cm.pad_steps;
        sim->rows = s.cm.rows;
        sim->wgt_beats = s.cm.wgt_beats;
        sim->act_beats = s.cm.act_beats;
        sim->data_waits = s.cm.data_waits;
        sim->ring_full = s.cm.ring_full;
        /* The white-box access counters the cycle model keeps (since its last reset: the
         * generator's first cycles): the counts that have no mpq_cm_stats of their own. */
        mpq_cm_counts n;
        mpq_cm_counts_get(mpq_gen_model(g), &n);
        sim->wbuf_reads = n.v[MPQ_CNT_wbuf_reads];
        sim->ring_reads = n.v[MPQ_CNT_ring_reads];
        sim->ring_reads_used = n.v[MPQ_CNT_ring_reads_used];
        sim->mac_slots_tern = n.v[MPQ_CNT_mac_slots_tern];
        sim->mac_slots_hp = n.v[MPQ_CNT_mac_slots_hp];
        sim->macs_live = n.v[MPQ_CNT_macs_live];
        sim->macs_hp = n.v[MPQ_CNT_macs_hp_nz];
        sim->requants = n.v[MPQ_CNT_requants];
        mpq_gen_free(g);
    }
    mpq_hw_layer_free(&l);
    return rc < 0 ? rc : 0;
}

int mpq_xp_sim_equal(const mpq_xp_cost *c, const mpq_xp_cost *sim, char *why, size_t len)
{
    const struct {
        const char *name;
        uint64_t got, want;
    } f[] = {{"cycles", c->cycles, sim->cycles},          {"tiles", c->tiles, sim->tiles},
             {"steps", c->steps, sim->steps},             {"pad_steps", c->pad_steps, sim->pad_steps},
             {"rows", c->rows, sim->rows},                {"wgt_beats", c->wgt_beats, sim->wgt_beats},
             {"act_beats", c->act_beats, sim->act_beats}, {"data_waits", c->data_waits, sim->data_waits},
             {"ring_full", c->ring_full, sim->ring_full},
             {"wbuf_reads", c->wbuf_reads, sim->wbuf_reads},
             {"ring_reads", c->ring_reads, sim->ring_reads},
             {"ring_reads_used", c->ring_reads_used, sim->ring_reads_used},
             {"mac_slots_tern", c->mac_slots_tern, sim->mac_slots_tern},
             {"mac_slots_hp", c->mac_slots_hp, sim->mac_slots_hp},
             {"macs_live", c->macs_live, sim->macs_live},
             {"macs_hp", c->macs_hp, sim->macs_hp},
             {"requants", c->requants, sim->requants}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].got != f[i].want) {
            snprintf(why, len, "%s: closed form %llu, cycle model %llu", f[i].name, (unsigned long long)f[i].got,
                     (unsigned long long)f[i].want);
            return 0;
        }
    return 1;
}
