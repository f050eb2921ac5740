/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_explore.h: the (precision, mapping) design space of one layer on the accelerator and
 * the exact cost of each point (docs/explore.md, issue 29 items 1 and 2).
 *
 * - A layer is a stim/mpq_hwlayer.h layer used for its shape only (mpq_hw_layer_shape: no
 *   arrays): fully connected, conv2d (grouped) or depthwise.
 * - A precision is what a configuration lets one layer choose at run time: ternary weights
 *   plus hp_n high-precision entries per lane and group of KLanes (0..HpPerGroup), or dense
 *   int8 (no ternary part, an entry at every position: HpPerGroup = KLanes). Everything else
 *   (Lanes, KLanes, HpPerGroup, the widths, KMax, ActDepth) is fixed when the RTL is built.
 * - A mapping is what the host chooses when it schedules the layer: images per hardware layer
 *   (how many share one weight load), output rows and output columns per band (each band a
 *   hardware layer that reads only the input rows and columns its windows touch), whether
 *   the kernel taps of a thin convolution are packed into channels (a host im2col), and the
 *   order of the tile loops.
 * - The cost of a point is a closed form (no cycle is simulated): cycles and every access
 *   count, equal to what the golden cycle model (cycle/mpq_top.h) counts when the layer's
 *   hardware layers are driven without stalls (p_valid = p_ready = 1, as mpq-golden model
 *   map runs them); golden/tests/test_explore.c checks the equality.
 *
 * Functions return 0 or a negative MPQ_E* code with a message in err where they take one.
 */
#ifndef MPQ_EXPLORE_H
#define MPQ_EXPLORE_H

#include <stdio.h>

#include "arith/mpq.h"
#include "contract/mpq_hw.h"
#include "stim/mpq_hwlayer.h"
#include "stim/mpq_hwmap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A precision: tern = 1: ternary weights (with alpha) plus hp_n entries per lane and group;
 * tern = 0: dense int8, hp_n = KLanes entries and no ternary part. */
typedef struct mpq_xp_prec {
    unsigned tern, hp_n;
} mpq_xp_prec;

typedef struct mpq_xp_point {
    mpq_xp_prec prec;
    mpq_xp_map map;
} mpq_xp_point;

/* The cost of a point: one list of its counts (X(name, what)), from which the struct, the
 * sums and the reports are expanded. The first nine are what the golden cycle model counts
 * (mpq_cm_stats); the rest follow from them and from the shape. */
#define MPQ_XP_COST_FIELDS(X)                                                                        \
    X(cycles, "every tile, cfg handshake to done (no reset or idle cycles)")                         \
    X(tiles, "configuration beats")                                                                  \
    X(steps, "lane-array steps (one slice of one tap of one pixel, all lanes)")                      \
    X(pad_steps, "steps on a padding tap")                                                           \
    X(rows, "finished pixels (output beats)")                                                        \
    X(wgt_beats, "weight beats = weight-buffer writes (one slice of every lane each)")               \
    X(act_beats, "activation beats = activation-ring writes")                                        \
    X(data_waits, "cycles the window generator waited for its slice")                                \
    X(ring_full, "cycles an activation beat waited for room in the ring")                            \
    X(hw_layers, "hardware layers (parts)")                                                          \
    X(wbuf_reads, "weight-buffer reads: one per step")                                               \
    X(ring_reads, "ring reads: the read port is addressed every step")                               \
    X(ring_reads_used, "ring reads whose data a non-padding step uses")                              \
    X(mac_slots_tern, "steps * Lanes * KLanes: the ternary array's products")                        \
    X(mac_slots_hp, "steps * Lanes * HpPerGroup: the sparse multipliers'")                           \
    X(macs, "useful products (streamed channels of the lanes' groups, non-padding taps)")            \
    X(macs_tern, "of them done by the ternary part (tern = 1: all)")                                 \
    X(macs_hp, "high-precision products with every entry filled: min(hp_n, the lane's channels) "    \
               "per lane, slice and non-padding tap (an upper bound: the weights decide)")           \
    X(macs_live, "the ternary array's products on live activations: Lanes * the tile's c_len per "   \
                 "non-padding tap (every lane, real or idle; the RTL's counter)")                    \
    X(requants, "rows * Lanes: the requantizer's outputs")                                           \
    X(requants_used, "rows * real output channels")                                                  \
    X(weight_bits, "the weight stream's bits of real lanes: per lane and slice 2*KLanes (tern) + "   \
                   "hp_n*(log2(KLanes)+HpBits)")

typedef struct mpq_xp_cost {
#define MPQ_XP_FIELD_(name, what) uint64_t name;
    MPQ_XP_COST_FIELDS(MPQ_XP_FIELD_)
#undef MPQ_XP_FIELD_
} mpq_xp_cost;

/* The precisions hw offers, in order (ternary with 0..HpPerGroup entries, then dense int8
 * when HpPerGroup = KLanes and HpBits >= 8), at most max of them into out (out may be NULL
 * to count). Returns how many there are. */
unsigned mpq_xp_precisions(const mpq_hwcfg *hw, mpq_xp_prec *out, unsigned max);

/* The cost of one hardware layer L (shape only) at precision p; c is overwritten. L must run
 * on hw (mpq_hw_conv_fits). */
void mpq_xp_hw_layer_cost(const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_xp_prec *p, mpq_xp_cost *c);

/* The cost of point pt of layer l: the sum over its hardware layers. The mapping must pass
 * mpq_xp_map_check; the precision must be one of mpq_xp_precisions. Returns 0 or MPQ_EPARAM
 * (a precision hw does not offer). */
int mpq_xp_point_cost(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_xp_point *pt, mpq_xp_cost *c);

/* c += mult * d, every count. */
void mpq_xp_cost_add(mpq_xp_cost *c, const mpq_xp_cost *d, uint64_t mult);

/* ---- the energy-per-action table (scripts/golden/explore-energy.py, docs/explore.md) ---- */

/* Energy per action in pJ (the table's columns); an action's count is a cost field. */
#define MPQ_XP_ACTIONS(X)                                                                                \
    X(cycle, cycles) X(wgt_beat, wgt_beats) X(wbuf_read, wbuf_reads) X(act_beat, act_beats)          \
    X(ring_read, ring_reads) X(mac_tern, macs_tern) X(mac_hp, macs_hp) X(requant, requants)

typedef struct mpq_xp_energy {
#define MPQ_XP_E_FIELD_(name, count) double name;
    MPQ_XP_ACTIONS(MPQ_XP_E_FIELD_)
#undef MPQ_XP_E_FIELD_
} mpq_xp_energy;

/* Reads the block of configuration cfg in path: the "action<TAB>pJ" lines after the line
 * "# config CFG" up to the next "# config" line (other # lines are comments). Every action
 * must be there once, pJ >= 0. Returns 0 or -1 with err (the file, the line, what is wrong). */
int mpq_xp_energy_load(const char *path, const char *cfg, mpq_xp_energy *e, char *err, size_t errlen);
/* Energy in pJ of a cost. */
double mpq_xp_energy_of(const mpq_xp_energy *e, const mpq_xp_cost *c);

/* ---- the check against the golden cycle model (mpq_explore_sim.c) ---- */

/* Runs hardware layer L (shape only) on the golden cycle model: a random layer of its shape
 * (mpq_hw_layer_random, this seed, hp_n entries per group), driven without stalls by mpq_gen
 * (mpq_timing_default with p_valid = p_ready = 1, as mpq-golden model map). Fills the counts
 * the cycle model keeps (cycles without the tail, tiles, steps, pad_steps, rows, wgt_beats,
 * act_beats, data_waits, ring_full; the rest 0). Returns 0, or MPQ_EPARAM / MPQ_ENOMEM with
 * err (the layer, the generator or the two golden models disagreeing). */
int mpq_xp_simulate(const mpq_hwcfg *hw, const mpq_hw_layer *L, uint64_t seed, unsigned hp_n, mpq_xp_cost *sim,
                    char *err, size_t errlen);
/* 1 when the counts the cycle model keeps are equal in c and sim; else 0 with the first
 * difference ("data_waits: closed form 12, cycle model 14") in why. */
int mpq_xp_sim_equal(const mpq_xp_cost *c, const mpq_xp_cost *sim, char *why, size_t len);

/* The closed form's value of each of the white-box RTL's access counters (contract/
 * mpq_layout.h MPQ_WB_COUNT_LIST, v[MPQ_CNT_*]) from cost c: tile_cycles = cycles (no stalls),
 * wbuf_writes = wgt_beats, ring_writes = act_beats, macs_hp_nz = macs_hp (every entry filled
 * with a non-zero value: equal for layers whose weights fill every entry, as mpq_gen's random
 * ones do; fewer otherwise), the rest by name. Only tile_cycles depends on stalls. */
void mpq_xp_wb_counts(const mpq_xp_cost *c, uint64_t v[MPQ_CNT_COUNT]);
/* " tile_cycles=N tiles=N ..." of v, every counter, for the lines a testbench compares. */
const char *mpq_xp_wb_counts_str(const uint64_t v[MPQ_CNT_COUNT], char *buf, size_t len);

/* Hardware layer L (part `part` of its layer; mult > 0: " x<mult>", the parts of its shape)
 * at precision pr and mapping m, as explore sample's line "point TAG PREC MAP | part ... |
 * SHAPE | tiles ... counters ...": its closed-form cost and white-box counters, which
 * scripts/golden/explore-rtl.sh runs on the RTL and compares. */
void mpq_xp_part_line(FILE *f, const mpq_hwcfg *hw, unsigned tag, const mpq_xp_prec *pr,
                      const mpq_xp_map *m, unsigned part, unsigned mult, const mpq_hw_layer *L);

/* "tern+2hp" / "int8", for reports (mpq_xp_map_str: the mapping). */
const char *mpq_xp_prec_str(const mpq_xp_prec *p, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
