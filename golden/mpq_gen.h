/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_gen.h: the driver. Turns a hardware layer (mpq_hwlayer.h) plus timing options into a
 * stream of cycles (every input port + every expected output port) by running the golden
 * cycle model (mpq_cycle.h). Lockstep co-simulation consumes it directly; `mpq-golden gen`
 * writes it to a vector file (mpq_vec.h).
 */
#ifndef MPQ_GEN_H
#define MPQ_GEN_H

#include "mpq_cycle.h"
#include "mpq_hwlayer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mpq_timing_opts {
    uint64_t seed;           /* valid gaps and back-pressure */
    double p_valid;          /* probability a source with a pending beat raises valid */
    double p_ready;          /* probability out_ready_i is 1 in a cycle */
    unsigned reset_cycles;   /* cycles with rst_ni = 0 at the start (>= 1) */
    unsigned tail_cycles;    /* idle cycles after the last tile's done */
} mpq_timing_opts;

/* The timing of a run whose layer seed is layer_seed, as every tool derives it (mpq-golden
 * gen and mpq-tb lockstep give the same cycles for the same seed and layer): timing seed =
 * layer seed, 2 reset cycles, 2 tail cycles, and the given probabilities. */
void mpq_timing_default(uint64_t layer_seed, double p_valid, double p_ready, mpq_timing_opts *t);

/* What a run of layer shape m x k x n on hw will take, before running it (mpq-golden gen
 * prints it and refuses runaway shapes). The beat counts are exact: per tile of Lanes
 * channels one configuration beat, ceil(K/KLanes) weight beats, M * ceil(K/KLanes) activation
 * beats and M output rows. The cycle count is an estimate: reset and tail cycles, per tile the
 * beats at p_valid each (activations and output rows overlap: the slower of M*S/p_valid and
 * M/p_ready) and a pipeline drain of 4 cycles (docs/timing.md's 1 + S + M*S + 4 per tile
 * without stalls). Runs of more than 2,000 cycles measured
 * 0.92 to 1.06 of it over 6 configurations, 9 shapes and p_valid, p_ready from 0.25 to 1
 * (golden/tests/test_vec.c, test_estimate, keeps a few of them within 10%). */
typedef struct mpq_gen_estimate {
    uint64_t cycles;                                 /* estimated */
    uint64_t cfg_beats, wgt_beats, act_beats, out_rows; /* exact */
} mpq_gen_estimate;
/* Fills e. Nothing is allocated; any shape is fine (0 gives zero beats). */
void mpq_gen_estimate_run(const mpq_hwcfg *hw, unsigned m, unsigned k, unsigned n,
                          const mpq_timing_opts *t, mpq_gen_estimate *e);

typedef struct mpq_gen mpq_gen;
/* The generator keeps a pointer to l: the layer must outlive it. Every output row and each
 * tile's overflow flags from the cycle model are compared with mpq_hw_layer_expected as they
 * appear; a disagreement makes mpq_gen_next fail with the message in mpq_gen_error.
 * Returns 0, MPQ_EPARAM (configuration, layer or timing out of range: err says which) or
 * MPQ_ENOMEM. */
int mpq_gen_new(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_timing_opts *t,
                mpq_gen **out, char *err, size_t errlen);
/* Frees g; NULL is fine. */
void mpq_gen_free(mpq_gen *g);
/* Next cycle: fills in (every input port) and exp (every expected output port).
 * Returns 1 for a cycle, 0 after the last one, MPQ_EPARAM when the two golden models
 * disagree or the cycle model deadlocks (message in mpq_gen_error). */
int mpq_gen_next(mpq_gen *g, mpq_port_in *in, mpq_port_out *exp);
/* Where the expected model is in the cycle last returned (for reports). */
void mpq_gen_where(const mpq_gen *g, mpq_cm_where *w);
/* Why mpq_gen_next failed ("" before a failure). */
const char *mpq_gen_error(const mpq_gen *g);
/* Cycles returned so far. */
uint64_t mpq_gen_cycle(const mpq_gen *g);

#ifdef __cplusplus
}
#endif
#endif
