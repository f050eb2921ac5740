/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_gen.h: the driver. Turns a hardware layer (mpq_hwlayer.h) plus timing options into a
 * stream of cycles (every input port + every expected output port) by running the golden
 * cycle model (cycle/mpq_top.h). Lockstep co-simulation consumes it directly; `mpq-golden gen`
 * writes it to a vector file (mpq_vec.h).
 */
#ifndef MPQ_GEN_H
#define MPQ_GEN_H

#include "cycle/mpq_top.h"
#include "stim/mpq_hwlayer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mpq_timing_opts {
    uint64_t seed;           /* valid gaps and back-pressure */
    double p_valid;          /* probability a source with a pending beat raises valid */
    double p_ready;          /* probability out_ready_i is 1 in a cycle */
    unsigned reset_cycles;   /* cycles with rst_ni = 0 at the start (>= 1) */
    unsigned tail_cycles;    /* idle cycles after the last tile's done */
    int offer_early;         /* 1: a stream offers each beat as soon as the driver has it (AXI:
                                the next tile's configuration and weights wait with valid high
                                while this tile computes); 0: only once the tile is open */
    uint64_t reset_at;       /* > 0: once, this many cycles after the first reset, reset again
                                for reset_cycles cycles (rows in flight) and run the layer anew */
} mpq_timing_opts;

/* What the stimulus exercised (functional coverage of a run): counts from the driver and from
 * the golden cycle model. */
typedef struct mpq_gen_stats {
    uint64_t waits;          /* cycles x streams with valid high and ready low */
    uint64_t mid_resets;     /* resets with a layer in progress */
    mpq_cm_stats cm;
} mpq_gen_stats;

/* The timing of a run whose layer seed is layer_seed, as every tool derives it (mpq-golden
 * gen and mpq-tb lockstep give the same cycles for the same seed and layer): timing seed =
 * layer seed, 2 reset cycles, 2 tail cycles, beats offered early, no mid-layer reset, and the
 * given probabilities. */
void mpq_timing_default(uint64_t layer_seed, double p_valid, double p_ready, mpq_timing_opts *t);

/* What a run of layer l (its shape only: mpq_hw_layer_shape, no arrays needed) on hw will
 * take, before running it (mpq-golden gen prints it and refuses runaway shapes). The beat
 * counts are exact: per tile (docs/timing.md) one configuration beat, W = kh*kw*ns weight
 * beats, A = batches*in_h*in_w*ns activation beats and batches*out_h*out_w output pixels. The
 * cycle count is an estimate: reset and tail cycles, per tile the cfg beat at p_valid, then
 * the slower of the A activation beats at p_valid (they flow from the first LOAD cycle on)
 * and the W weight beats at p_valid followed by the slower of the S steps and the pixels at
 * p_ready, and a pipeline drain of 4 cycles (timing.md's 1 + W + S + D + 4 per tile without
 * stalls, D the first window's wait left out). golden/tests/test_vec.c (test_estimate) runs
 * ten layers, FC and convolutions on four configurations with p_valid and p_ready from 0.25
 * to 1, and requires 0.9..1.1 of the estimate (measured 0.98 to 1.05). */
typedef struct mpq_gen_estimate {
    uint64_t cycles;                                 /* estimated */
    uint64_t cfg_beats, wgt_beats, act_beats, out_rows; /* exact */
} mpq_gen_estimate;
/* Fills e. Nothing is allocated; n = 0 gives zero beats. */
void mpq_gen_estimate_run(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_timing_opts *t,
                          mpq_gen_estimate *e);
/* The memory (bytes) a run of layer l (its shape only, as for mpq_gen_estimate_run) takes:
 * the layer's arrays (mpq_hw_layer_alloc: activations, ternary and sparse weights, per-channel
 * parameters) and the generator's (mpq_gen_new: the expected outputs and, while the functional
 * model computes them, a flag per output and its copies of the weights). mpq-tb lockstep refuses a layer above the machine's memory. */
uint64_t mpq_gen_bytes(const mpq_hw_layer *l);

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
/* The golden cycle model, in the cycle mpq_gen_next returns next (mpq_cm_clone copies it). */
const mpq_cm *mpq_gen_model(const mpq_gen *g);
/* Why mpq_gen_next failed ("" before a failure). */
const char *mpq_gen_error(const mpq_gen *g);
/* Cycles returned so far. */
uint64_t mpq_gen_cycle(const mpq_gen *g);
/* What the stimulus exercised so far. */
void mpq_gen_stats_get(const mpq_gen *g, mpq_gen_stats *s);
/* Adds b into a (sums, and maxima for the max_* fields). */
void mpq_gen_stats_add(mpq_gen_stats *a, const mpq_gen_stats *b);
/* Every counter in one line, one table of fields (mpq_gen.c) for both forms: words for a
 * reader ("tiles 2, rows 56, steps 1234, ..., activation beats 80, host im2col 1234": the
 * activation beats a host-side im2col would have sent are the steps) and key=value pairs for
 * scripts ("tiles=2 rows=56 ... im2col_beats=1234"). Returns buf (cut at len - 1). */
const char *mpq_gen_stats_str(const mpq_gen_stats *s, char *buf, size_t len);
const char *mpq_gen_stats_kv(const mpq_gen_stats *s, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
