/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_vec.h: cycle-exact stimulus and expected outputs for the accelerator.
 *
 * - mpq_hw_layer: one mixed-precision fully-connected layer in the accelerator's terms.
 * - mpq_gen: turns a layer plus timing options (seed, valid/ready probabilities) into a
 *   stream of cycles (inputs + expected outputs) by running the golden cycle model.
 *   Lockstep simulation consumes it directly; `mpq-golden gen` writes it to a file.
 * - mpq_vec_writer / mpq_vec_reader: the vector file (vectors/FORMAT.md), streamed with
 *   constant memory; the writer is atomic (temporary file + rename).
 *
 * Errors are negative MPQ_E* codes (mpq.h) with a message in the object (…_error()).
 */
#ifndef MPQ_VEC_H
#define MPQ_VEC_H

#include "mpq_hw.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MPQ_VEC_VERSION 1u

typedef struct mpq_hw_layer {
    unsigned m, k, n;
    int acc_sat;                          /* 1 saturate, 0 wrap */
    int32_t in_offset, out_offset, act_min, act_max;
    int32_t *x;                           /* [m][k], signed ActBits values */
    int8_t *t;                            /* [n][k], -1/0/+1 */
    int32_t *hp;                          /* [n][k], signed HpBits, 0 where absent;
                                             <= HpPerGroup non-zeros per aligned group of KLanes */
    int32_t *alpha, *bias, *mult, *shift; /* [n] each */
} mpq_hw_layer;

/* Allocate/free the arrays of a layer of this shape (zeroed). */
int mpq_hw_layer_alloc(mpq_hw_layer *l, unsigned m, unsigned k, unsigned n);
void mpq_hw_layer_free(mpq_hw_layer *l);
/* Contract checks (ranges of every value for this hw, sparsity per group, k <= KMax).
 * Returns 0 or MPQ_EPARAM with "what is wrong" in err. */
int mpq_hw_layer_check(const mpq_hwcfg *hw, const mpq_hw_layer *l, char *err, size_t errlen);
/* Expected outputs y[m][n] and per-channel overflow (any intermediate fit overflowed for any
 * row) computed with the functional golden model (mpq.h), not the cycle model. */
int mpq_hw_layer_expected(const mpq_hwcfg *hw, const mpq_hw_layer *l, int32_t *y, uint8_t *ovf);

/* Layer profiles for random generation. */
typedef enum mpq_gen_profile {
    MPQ_PROF_RANDOM = 0,   /* typical values */
    MPQ_PROF_OVERFLOW,     /* large alpha/bias/activations so the accumulator overflows */
    MPQ_PROF_REQUANT_EDGE, /* extreme multipliers and shifts (-31, 30); edge multipliers
                              (2^30, 2^31-1) scaled to the output range, so rounding ties
                              and clamps show in the outputs */
    MPQ_PROF_ZERO_TERN,    /* all-zero ternary weights */
    MPQ_PROF_MAX_SPARSE,   /* every sparse entry used */
    MPQ_PROF_ACC_EDGE,     /* biases chosen so a partial sum lands exactly on an accumulator
                              bound (max, min) or one beyond it */
    MPQ_PROF_COUNT
} mpq_gen_profile;
const char *mpq_gen_profile_name(mpq_gen_profile p);
int mpq_gen_profile_parse(const char *s, mpq_gen_profile *p);

/* Deterministic random layer: the same (hw, seed, shape, options) gives the same layer. */
typedef struct mpq_layer_opts {
    uint64_t seed;
    unsigned m, k, n;
    unsigned hp_n;           /* non-zeros per group of KLanes, <= HpPerGroup */
    int acc_sat;
    mpq_gen_profile profile;
} mpq_layer_opts;
int mpq_hw_layer_random(const mpq_hwcfg *hw, const mpq_layer_opts *o, mpq_hw_layer *l,
                        char *err, size_t errlen);

typedef struct mpq_timing_opts {
    uint64_t seed;
    double p_valid;          /* probability a source with a pending beat raises valid */
    double p_ready;          /* probability out_ready_i is 1 in a cycle */
    unsigned reset_cycles;   /* cycles with rst_ni = 0 at the start (>= 1) */
    unsigned tail_cycles;    /* idle cycles after the last tile's done */
} mpq_timing_opts;

typedef struct mpq_gen mpq_gen;
/* The generator keeps a pointer to l: the layer must outlive it. Every output row and each
 * tile's overflow flags from the cycle model are compared with mpq_hw_layer_expected as they
 * appear; a disagreement makes mpq_gen_next fail with the message in mpq_gen_error. */
int mpq_gen_new(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_timing_opts *t,
                mpq_gen **out, char *err, size_t errlen);
void mpq_gen_free(mpq_gen *g);
/* Next cycle: fills in (every input port) and exp (every expected output port).
 * Returns 1 for a cycle, 0 at the end, negative on error. */
int mpq_gen_next(mpq_gen *g, mpq_port_in *in, mpq_port_out *exp);
/* Where the expected model is in the cycle last returned (for reports). */
void mpq_gen_where(const mpq_gen *g, mpq_cm_where *w);
/* Why mpq_gen_next failed. */
const char *mpq_gen_error(const mpq_gen *g);
/* Cycles returned so far. */
uint64_t mpq_gen_cycle(const mpq_gen *g);

/* ---- Vector files (vectors/FORMAT.md) ---- */
typedef struct mpq_vec_header {
    uint32_t version;        /* MPQ_VEC_VERSION */
    mpq_hwcfg hw;            /* configuration fingerprint */
    uint64_t seed;           /* layer seed */
    uint64_t timing_seed;
    uint32_t m, k, n;
    uint32_t acc_sat;
    char generator[64];      /* e.g. "mpq-golden 0.1" */
    char source[256];        /* "random:<profile>" or the case file's name */
    char command[512];       /* the command line that made the file */
} mpq_vec_header;

typedef struct mpq_vec_writer mpq_vec_writer;
/* Writes to path.tmp, renamed to path by close. */
int mpq_vec_writer_open(const char *path, const mpq_vec_header *h, mpq_vec_writer **out,
                        char *err, size_t errlen);
int mpq_vec_writer_put(mpq_vec_writer *w, const mpq_port_in *in, const mpq_port_out *exp);
int mpq_vec_writer_close(mpq_vec_writer *w, char *err, size_t errlen);  /* frees w */
void mpq_vec_writer_abort(mpq_vec_writer *w);                           /* frees w, removes tmp */

typedef struct mpq_vec_reader mpq_vec_reader;
/* Opens and reads the header. Errors name the file and what is wrong (bad magic,
 * version, truncated, corrupted gzip). */
int mpq_vec_reader_open(const char *path, mpq_vec_reader **out, char *err, size_t errlen);
const mpq_vec_header *mpq_vec_reader_header(const mpq_vec_reader *r);
/* Returns 1 with the next cycle, 0 at the verified end record, negative on error
 * (message in mpq_vec_reader_error). Data buses hold their value between records. */
int mpq_vec_reader_next(mpq_vec_reader *r, mpq_port_in *in, mpq_port_out *exp);
const char *mpq_vec_reader_error(const mpq_vec_reader *r);
uint64_t mpq_vec_reader_cycle(const mpq_vec_reader *r);
void mpq_vec_reader_close(mpq_vec_reader *r);

#ifdef __cplusplus
}
#endif
#endif
