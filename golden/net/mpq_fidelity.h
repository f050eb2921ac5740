/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_fidelity.h: how close an approximate run of a model (mixed precision: layers
 * decomposed into ternary + sparse int8) comes to the int8 model, over a set of inputs. No
 * labelled data ships with the models, so this is fidelity, not accuracy: the agreement of the
 * top class (argmax of the logits, first index on ties) and the SQNR of the logits against the
 * int8 model's on the same inputs. Used by `mpq-golden model mixprec` and the search over a
 * model's per-layer precisions (`mpq-golden explore search`).
 *
 * The logits: the int8 tensor read by a final DEQUANTIZE, SOFTMAX or RESHAPE (followed back
 * from the model's first output), or that output itself; a model whose logits are not int8 is
 * refused. The inputs: a file of N raw little-endian inputs one after the other, or N random
 * ones, input k from seed + k (mpq_net_inputs_init's rule, as `mpq-golden model map`).
 */
#ifndef MPQ_FIDELITY_H
#define MPQ_FIDELITY_H

#include <stddef.h>
#include <stdint.h>

#include "net/mpq_graph.h"
#include "net/mpq_tflite.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mpq_fid {
    const mpq_tfl_model *m;
    mpq_net *net;              /* not owned */
    uint8_t *inputs;           /* a file's inputs, count x in_bytes, or NULL (random) */
    size_t in_bytes;           /* one input: the model's inputs' bytes, in order */
    unsigned count;
    uint64_t seed;
    int logits;                /* the logits tensor */
    int classifier;            /* 1 when a SOFTMAX follows it (top-1 means something) */
    size_t nlog;
    int32_t zp;                /* the logits' zero point */
    int8_t *ref;               /* [count][nlog]: the int8 model's logits */
} mpq_fid;

/* Sets f up for model m run by net (mpq_net_init'ed on m): the inputs from `path` (NULL: count
 * random inputs from seed), the logits tensor, and the int8 model's logits of every input
 * (mpq_net_run). Returns 0, or MPQ_EPARAM with err naming the file or the tensor, or
 * MPQ_ENOMEM. Free with mpq_fid_free. */
int mpq_fid_init(mpq_fid *f, const mpq_tfl_model *m, mpq_net *net, const char *path, unsigned count,
                 uint64_t seed, char *err, size_t errlen);
void mpq_fid_free(mpq_fid *f);

/* Sets net's inputs to input k. Returns 0 or MPQ_EPARAM with err. */
int mpq_fid_set_input(const mpq_fid *f, unsigned k, char *err, size_t errlen);

/* The fidelity accumulated over inputs: sig = sum of the reference logits minus their zero
 * point, squared; noise = sum of the differences squared; agree = inputs whose top class
 * equals the reference's. */
typedef struct mpq_fid_sum {
    double sig, noise;
    unsigned agree, inputs;
} mpq_fid_sum;

/* Adds input k's logits (nlog int8 values) to s. */
void mpq_fid_add(const mpq_fid *f, unsigned k, const int8_t *logits, mpq_fid_sum *s);
/* 10 log10(sig / noise) in dB; INFINITY when noise is 0. */
double mpq_fid_sqnr_db(const mpq_fid_sum *s);

#ifdef __cplusplus
}
#endif
#endif
