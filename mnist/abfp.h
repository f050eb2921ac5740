/* SPDX-License-Identifier: Apache-2.0 */
/*
 * abfp.h: the Fashion-MNIST networks on analog matrix units in ABFP (golden/arith/mpq_abfp.h):
 * every matrix layer (the MLP's FC layers, the CNN's conv2d layers and its classifier) through
 * the emulated array, everything else (bias, ReLU, max pooling, the argmax) in float
 * (abfp_net.c); noise fine-tuning of the CNN, differential (DNF) and plain noise-aware
 * (abfp_ft.c); the study program mpq-abfp (abfp_main.c, make abfp; docs/abfp.md).
 * Apart from mnist.h so that the cached trained models do not depend on it.
 */
#ifndef MPQ_MNIST_ABFP_H
#define MPQ_MNIST_ABFP_H

#include "arith/mpq_abfp.h"
#include "mnist.h"

#define ABFP_MAX_LAYERS 8

/* A float network with the matrix unit's parameters of each layer. */
typedef struct abfp_net {
    const mn_mlp *mlp;              /* one of the two */
    const cnn_net *cnn;
    unsigned nl;                    /* layers: the MLP's FC layers, or every CNN layer (pools too) */
    mpq_abfp p[ABFP_MAX_LAYERS];    /* per layer (pools: unused) */
    float in_amax[ABFP_MAX_LAYERS]; /* each layer's calibrated input scale (fixed-point modes) */
} abfp_net;

/* Binds the MLP (or the CNN) with the calibrated input scale of each layer from `count`
 * training images (the first layer's inputs, pixels / 255, have scale 1). */
void abfp_net_mlp(abfp_net *an, const mn_mlp *m, const mn_set *calib, unsigned count);
void abfp_net_cnn(abfp_net *an, const cnn_net *c, const mn_set *calib, unsigned count);
/* 1 when layer l has a matrix unit (FC or conv2d). */
int abfp_net_is_matrix(const abfp_net *an, unsigned l);
/* Every matrix layer's parameters to *p, with x_amax = the layer's input scale and seed
 * p->seed + l (each layer its own noise stream). */
void abfp_net_set(abfp_net *an, const mpq_abfp *p);

/* What one evaluation measured. */
typedef struct abfp_eval {
    double acc;                           /* accuracy over the images */
    mpq_abfp_stats st[ABFP_MAX_LAYERS];   /* per layer */
    double sqnr_db[ABFP_MAX_LAYERS];      /* per matrix layer, when asked: its outputs against the
                                             float layer on the same inputs (before the ReLU) */
    double secs;                          /* wall-clock time */
    uint64_t out_hash;                    /* FNV-1a of the final outputs' float bits, in order */
} abfp_eval;
/* Images first .. first+count-1 of s through the network (in batches; the noise numbering
 * counts the images from 0 at `first`, so equal arguments give equal bytes). sqnr: also
 * compute each layer's SQNR (a float pass beside). float_only: every matrix layer in float
 * (the reference path of the same code). Returns 0 or a negative MPQ_E code with err. */
int abfp_net_eval(const abfp_net *an, const mn_set *s, unsigned first, unsigned count, int sqnr,
                  int float_only, abfp_eval *ev, char *err, size_t errlen);

/* ---- Noise fine-tuning of the CNN (abfp_ft.c) ---- */
typedef enum abfp_ft_mode {
    ABFP_FT_QAT = 0, /* noise-aware QAT: every forward pass through the emulated array, noise included */
    ABFP_FT_DNF,     /* differential noise fine-tuning: float forward passes plus samples of the
                        measured differences between the array's outputs and the float ones */
} abfp_ft_mode;
typedef struct abfp_ft_opts {
    abfp_ft_mode mode;
    unsigned long long images;    /* training images to fine-tune on */
    unsigned long long every;     /* evaluate after every `every` images */
    float lr;                     /* Adam's learning rate */
    uint64_t seed;                /* order of the training images */
    unsigned dnf_calib;           /* DNF: images whose differences are sampled */
    unsigned long long dnf_refresh; /* DNF: re-measure the differences every this many images */
    const mn_set *eval_set;       /* evaluated under the array (the net's parameters), images */
    unsigned eval_first, eval_count;
} abfp_ft_opts;
/* One point of a fine-tuning run. */
typedef struct abfp_ft_point {
    unsigned long long images;
    double train_secs;            /* CPU seconds of fine-tuning so far (evaluation excluded) */
    double measure_secs;          /* of them, DNF's measurements of the differences */
    double acc;                   /* under the array */
} abfp_ft_point;
/* Fine-tunes an->cnn (a copy the caller owns: it is changed) on train with an's parameters.
 * pts[npts_max] receives the starting point and one per `every` images; *npts their count.
 * Returns 0 or a negative MPQ_E code with err. */
int abfp_finetune(abfp_net *an, cnn_net *net, const mn_set *train, const abfp_ft_opts *o,
                  abfp_ft_point *pts, unsigned npts_max, unsigned *npts, char *err, size_t errlen);

#endif
