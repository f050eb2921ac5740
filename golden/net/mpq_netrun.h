/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_netrun.h: a model run with its convolutions and fully-connected layers on the
 * accelerator and every other operator on the host (the golden model), the way a driver runs
 * it: each layer mapped (stim/mpq_netmap.h), each of its parts run by an executor, the parts'
 * outputs gathered into the layer's output tensor, which the operators that follow read.
 *
 * The executor is an interface: the golden cycle model (mpq_accel_cycle_model, here: exact
 * cycles, no RTL) or the Verilated RTL in lockstep with it (tb/tb_net.h, mpq-tb net). Every
 * layer's gathered output is compared with the golden model's output of the same operator on
 * the same input; a difference is reported with the operator, the tensor and the element
 * (n, y, x, c).
 */
#ifndef MPQ_NETRUN_H
#define MPQ_NETRUN_H

#include "arith/mpq_rng.h"
#include "contract/mpq_hw.h"
#include "net/mpq_graph.h"
#include "stim/mpq_netmap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a hardware layer comes from, for the executor's reports. */
typedef struct mpq_accel_where {
    const char *model;          /* the model file */
    unsigned op;                /* operator index */
    int code;                   /* its builtin code (MPQ_TFL_*) */
    int out_tensor;             /* its output tensor */
    const mpq_map *map;         /* the layer's map */
    unsigned part;              /* which of its parts */
    uint64_t macs;              /* the model's MACs this part computes (its share of the op's
                                 * outputs x the op's reduction; not the hardware layer's
                                 * products, which count a packed layer's zero taps) */
} mpq_accel_where;

/* What running one hardware layer took. */
typedef struct mpq_accel_stats {
    uint64_t cycles;            /* from the first configuration beat to the last output (no
                                   reset or idle cycles around the layer) */
    uint64_t steps;             /* lane-array steps */
    uint64_t data_waits;        /* steps waiting for their activation slice */
    uint64_t out_stalls;        /* cycles an output row waited for out_ready_i */
    double secs;                /* simulation time (wall clock) */
} mpq_accel_stats;

typedef struct mpq_accel {
    void *ctx;
    const char *name;           /* "cycle model", "RTL" */
    /* Runs L; writes its outputs y[L->m][L->n] as the accelerator put them out. Returns 0, 1
     * (a mismatch: the executor has reported it) or 2 (an error: err says why). */
    int (*run)(void *ctx, const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_accel_where *w,
               int32_t *y, mpq_accel_stats *st, char *err, size_t errlen);
} mpq_accel;

/* The golden cycle model as executor: drives each tile without stalls (every source offers a
 * beat in every cycle, out_ready_i high) and collects the outputs from out_data_o. */
extern const mpq_accel mpq_accel_cycle_model;

/* The functional golden model as executor (mpq_hw_layer_expected): the same outputs as the
 * cycle model, no cycles (stats 0); faster where only the values matter. */
extern const mpq_accel mpq_accel_functional;

/* Sets net's inputs: from the file `path` (raw little endian, the inputs in order, exactly
 * their bytes), or, path NULL, random from seed (mpq_net_random_input, input after input).
 * The one input rule of `mpq-tb net`. Returns 0, or MPQ_EPARAM with err naming the file
 * (unreadable, shorter or longer than the inputs), or MPQ_ENOMEM. */
int mpq_net_inputs_init(mpq_net *net, const mpq_tfl_model *m, const char *path, uint64_t seed, char *err,
                        size_t errlen);

/* One convolution or fully-connected layer of a run. */
typedef struct mpq_netrun_layer {
    unsigned op;
    int code;
    char shape[96];             /* "conv2d 96x96x3>48x48x8 k3 s2" */
    char how[160];              /* the map's description */
    char mapping[96];           /* the mapping its parts are (mpq_xp_map_str) */
    unsigned parts;
    uint64_t macs;              /* useful multiply-accumulates (mpq_net_op_macs) */
    uint64_t weights;           /* the layer's weights */
    uint64_t hp_weights;        /* of them in high precision: all of an int8 layer, the non-zero
                                   sparse entries of a decomposed one */
    double w_norm2, err_norm2;  /* decomposed: sum of the real weights squared, and of the
                                   decomposition's error squared (0 for int8) */
    mpq_accel_stats st;         /* summed over the parts */
} mpq_netrun_layer;

/* The fields of row r that every JSON table of layers holds (mpq-golden model map, mpq-tb net),
 * in this order: "op", "type", "shape", "map", "mapping", "parts", "macs", "cycles", "steps",
 * "data_waits", "out_stalls"; comma separated, without braces, into buf (cut to len). Returns
 * what snprintf returns. */
int mpq_netrun_layer_json(const mpq_netrun_layer *r, char *buf, size_t len);

/* Runs net (inputs set) with its layers on ex for hw: *rows (one per layer, in operator order,
 * *nrows of them, owned by the caller, at least mpq_net_ops(net) entries). Returns 0, 1 (a
 * layer's outputs differ from the golden model's, or the executor found a mismatch: err says
 * where), or 2 (a layer the accelerator cannot run: err names the operator and the rule, and
 * nothing ran, for every layer is mapped before the first runs; or an executor error).
 *
 * With mo->decomp the run is approximate (mixed precision): every layer is decomposed into
 * ternary + sparse weights (mpq_qlayer_decompose), so it no longer computes the model's int8
 * layer; its gathered output is compared instead with the functional model of the decomposed
 * layer on the same input (mpq_qlayer_expected: a difference returns 1), and the
 * accelerator's output flows on to the operators that follow. The net's tensors then hold
 * the decomposed network's values; compare its outputs with an int8 run (mpq_net_run) of
 * the same input for the fidelity. With mo->layers (a decomposition per layer, NULL for an
 * int8 one) each decomposed layer is checked that way and each int8 layer against the golden
 * model's operator on the same (approximate) input; mo->nlayers other than the model's MAC
 * layers returns 2. With mo->maps (a mapping per layer, NULL for the driver's own) each layer
 * is cut into that mapping's hardware layers; a mapping the layer cannot run (mpq_xp_map_check)
 * returns 2 before anything runs, as does mo->nmaps other than the model's MAC layers. */
int mpq_netrun(mpq_net *net, const mpq_tfl_model *m, const mpq_hwcfg *hw, const mpq_map_opts *mo,
               const mpq_accel *ex, mpq_netrun_layer *rows, unsigned *nrows, char *err, size_t errlen);

/* A random input for tensor t of model m, `bytes` raw little-endian bytes into buf, from r: int8
 * uniform over the whole range; float32 uniform over what the QUANTIZE that reads it maps to
 * the whole int8 range (else -1..1). mpq-golden model map and mpq-txn model draw their inputs
 * with it. */
void mpq_net_random_input(const mpq_tfl_model *m, int t, mpq_rng *r, uint8_t *buf, size_t bytes);

/* The network's layer NL as the driver maps it (its int8 weights, requantization and float
 * scales; the arrays stay the net's). */
void mpq_netrun_qlayer(const mpq_net_layer *NL, mpq_qlayer *q);

#ifdef __cplusplus
}
#endif
#endif
