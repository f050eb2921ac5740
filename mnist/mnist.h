/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mnist.h: the Fashion-MNIST workload (make mnist). A float MLP trained in C, quantized to
 * the accelerator's number formats, evaluated with the golden model, and run through the
 * Verilated accelerator (mn_rtl.c).
 */
#ifndef MPQ_MNIST_H
#define MPQ_MNIST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mpq.h"
#include "mpq_hw.h"

/* ---- Data: IDX files of the Debian package dataset-fashion-mnist (gzip, read with zlib) ---- */
typedef struct mn_set {
    unsigned n, rows, cols;
    uint8_t *images; /* [n][rows*cols] */
    uint8_t *labels; /* [n], 0..9 */
} mn_set;
#define MN_DATA_DIR "/usr/share/datasets/fashion-mnist"
/* prefix "train" or "t10k". Errors name the file and what is wrong; returns 0 or -1. */
int mn_load(const char *dir, const char *prefix, mn_set *s, char *err, size_t errlen);
void mn_free(mn_set *s);

/* ---- Float MLP ---- */
#define MN_MAX_LAYERS 4
typedef struct mn_mlp {
    unsigned nl;                 /* layers */
    unsigned dim[MN_MAX_LAYERS + 1];
    float *w[MN_MAX_LAYERS];     /* [dim[l+1]][dim[l]] row-major */
    float *b[MN_MAX_LAYERS];     /* [dim[l+1]] */
} mn_mlp;
int mn_mlp_init(mn_mlp *m, const unsigned *dims, unsigned nl, uint64_t seed);
void mn_mlp_free(mn_mlp *m);
/* Mini-batch SGD with momentum, deterministic from seed. log: one line per epoch or NULL. */
int mn_mlp_train(mn_mlp *m, const mn_set *train, const mn_set *test, unsigned epochs,
                 uint64_t seed, FILE *log);
/* Activations of every layer for one image (act[l]: dim[l+1] values, ReLU on hidden). */
void mn_mlp_forward(const mn_mlp *m, const uint8_t *img, float *const *act);
double mn_mlp_accuracy(const mn_mlp *m, const mn_set *s, unsigned count);
/* Binary file, written atomically (path.tmp + rename); load checks everything. */
int mn_mlp_save(const mn_mlp *m, const char *path, char *err, size_t errlen);
int mn_mlp_load(mn_mlp *m, const char *path, char *err, size_t errlen);

/* ---- Quantized network ---- */
typedef enum mn_scheme {
    MN_DENSE8 = 0,  /* dense int8 weights, per-channel scale */
    MN_TERN,        /* ternary {-1,0,1} x per-channel alpha (TWN threshold 0.7 mean|W|) */
    MN_MIXED,       /* ternary + sparse int8 residual (N:G, or unstructured with group 0) */
} mn_scheme;

typedef struct mn_qlayer {
    unsigned k, n;
    int32_t in_offset;         /* x_real = s_in * (q + in_offset) */
    int32_t *w;                /* dense int8 [n][k] (MN_DENSE8) */
    int8_t *t;                 /* [n][k] (MN_TERN, MN_MIXED) */
    int32_t *alpha;            /* [n] */
    int32_t *hp;               /* [n][k], 0 where absent (MN_MIXED) */
    int32_t *bias;             /* [n], int32 */
    int32_t *mult, *shift;     /* [n], TFLite double rounding */
    int32_t out_offset, act_min, act_max;
} mn_qlayer;

typedef struct mn_qnet {
    mn_scheme scheme;
    unsigned hp_n, group;      /* MN_MIXED: N:G (group 0: unstructured, hp_n per row) */
    unsigned nl;
    mn_qlayer layer[MN_MAX_LAYERS];
    double hp_density;         /* sparse non-zeros / weights, over all layers */
    double rel_err;            /* weight approximation error ||W - Wq|| / ||W||, all layers */
} mn_qnet;

/* Calibration: the largest activation of each layer over `count` training images. */
void mn_calibrate(const mn_mlp *m, const mn_set *s, unsigned count, float *amax);
/* Quantizes m: int8 activations (scales from amax), weights per scheme. MN_MIXED: hp_n per
 * aligned group of `group`, or with group 0 unstructured at `density` (round(density*k) per
 * output channel). */
int mn_quantize(const mn_mlp *m, const float *amax, mn_scheme scheme, unsigned hp_n,
                unsigned group, double density, mn_qnet *q, char *err, size_t errlen);
void mn_qnet_free(mn_qnet *q);
/* int8 input of an image: pixel - 128 (the first layer's in_offset is 128). */
void mn_input(const uint8_t *img, unsigned npix, int32_t *x);

/* Integer inference of rows [0, m) with the golden model: the final layer's int8 outputs
 * y[m][10]. acc_bits / acc_mode: the accumulator (order: grouped by `group`, as the
 * accelerator with KLanes = group). ovf_any: outputs whose accumulation overflowed (may be
 * NULL). Returns 0 or a negative MPQ_E code with err. */
int mn_qnet_run(const mn_qnet *q, const int32_t *x, unsigned m, unsigned acc_bits,
                mpq_acc_mode acc_mode, unsigned group, int32_t *y, size_t *ovf_any,
                char *err, size_t errlen);
/* The layers of the first m rows of x as vector files DIR/layer<l>.vec (mn_vec.c) for the
 * accelerator hw, each made as `mpq-golden gen` makes one (full-rate valid/ready), the next
 * layer fed with the golden model's outputs; accumulator saturating when acc_sat. One line
 * per layer to summary: name, m, k, n, cycles, MACs. cmd goes into the files' headers.
 * Returns 0, 1 when the golden models disagree, 2 on bad input (message in err). */
int mn_emit_vectors(const mn_qnet *q, const mpq_hwcfg *hw, const int32_t *x, unsigned m, int acc_sat,
                    const char *dir, const char *cmd, FILE *summary, char *err, size_t errlen);
/* Accuracy of int outputs y[m][10] (argmax, first index on ties). */
double mn_accuracy(const int32_t *y, const uint8_t *labels, unsigned m, unsigned classes);

#endif
