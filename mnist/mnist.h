/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mnist.h: the Fashion-MNIST workload (make mnist, make cnn). A float MLP (mn_mlp.c) and a
 * float CNN (cnn_net.c) trained in C, quantized to the accelerator's number formats
 * (mn_quant.c), evaluated and studied with the golden model (mn_study.c; the programs
 * mn_main.c and cnn_main.c), and run through the Verilated accelerator (mn_cosim.c, mn_rtl.c).
 */
#ifndef MPQ_MNIST_H
#define MPQ_MNIST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "arith/mpq.h"
#include "contract/mpq_hw.h"
#include "stim/mpq_hwlayer.h"

/* ---- Random numbers: splitmix64; every stream is a seed, the same seed gives the same
 * numbers on every platform (the trainers' initializations and shuffles). ---- */
typedef struct mn_rng { uint64_t s; } mn_rng;
static inline uint64_t mn_rng_next(mn_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
/* Uniform in [0, 1), and a standard normal (Box-Muller, one value per call). */
double mn_rng_unit(mn_rng *r);
double mn_rng_normal(mn_rng *r);
/* Fisher-Yates shuffle of order[n] from r. */
void mn_shuffle(mn_rng *r, unsigned *order, unsigned n);

/* ---- Model files: little-endian u32 and IEEE floats (mn_mlp.c) ---- */
void mn_put32(uint8_t *p, uint32_t v);
uint32_t mn_get32(const uint8_t *p);
/* Writes v[n]; 0 or -1. */
int mn_write_floats(FILE *f, const float *v, size_t n);
/* Reads v[n], every value finite: 0, MPQ_ETRUNC or MPQ_ECORRUPT with err naming path and what. */
int mn_read_floats(FILE *f, const char *path, const char *what, float *v, size_t n, char *err,
                   size_t errlen);
/* Ends the reading of a weights file: with rc 0, anything after the last value makes it
 * MPQ_ECORRUPT (err names path). Closes f; returns rc. */
int mn_read_end(FILE *f, const char *path, int rc, char *err, size_t errlen);
/* Opens path.tmp for writing (tmp receives its name): the file, or NULL with err. */
FILE *mn_create_tmp(const char *path, char *tmp, size_t tmplen, char *err, size_t errlen);
/* Closes f and renames tmp to path; bad: a write failed before. Returns 0 or MPQ_EIO with err
 * (tmp removed). */
int mn_publish(FILE *f, const char *tmp, const char *path, int bad, char *err, size_t errlen);
/* Writes path atomically: put(f, ctx) into path.tmp (nonzero when a write failed), then
 * mn_publish. Returns 0 or MPQ_EIO with err. */
int mn_save(const char *path, int (*put)(FILE *f, const void *ctx), const void *ctx, char *err, size_t errlen);

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
#define MN_MAX_QLAYERS 8 /* of a quantized net (MLP or CNN) */
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
/* Returns the index of the largest of v[0..n-1] (the first on ties), for float scores. */
unsigned mn_argmax_f(const float *v, unsigned n);
/* Binary file, written atomically (path.tmp + rename); load checks everything. */
int mn_mlp_save(const mn_mlp *m, const char *path, char *err, size_t errlen);
int mn_mlp_load(mn_mlp *m, const char *path, char *err, size_t errlen);

/* ---- Quantized network (mn_quant.c): the MLP's and the CNN's ---- */
typedef enum mn_scheme {
    MN_DENSE8 = 0,  /* dense int8 weights, per-channel scale */
    MN_TERN,        /* ternary {-1,0,1} x per-channel alpha (TWN threshold 0.7 mean|W|) */
    MN_MIXED,       /* ternary + sparse int8 residual (N:G along an axis, or unstructured) */
} mn_scheme;

/* How a network's weights are quantized. MN_MIXED: hp_n non-zeros in each group of `group`
 * along `axis` (mpq_decomp_axis: an FC layer has one axis, its k, and takes CHANNEL and
 * WINDOW alike), or with axis UNSTRUCTURED (or group 0) round(density * k) per output
 * channel, the largest residuals. */
typedef struct mn_qspec {
    mn_scheme scheme;
    mpq_decomp_axis axis;
    unsigned hp_n, group;
    double density;
    int first_dense;           /* the first layer dense int8 whatever the scheme (its weights
                                  then count as high-precision non-zeros in hp_density) */
} mn_qspec;

typedef struct mn_qlayer {
    mpq_layer_kind kind;       /* FC, CONV2D (OHWI weights, [n][k] with k = kh*kw*in_c) or MAXPOOL */
    mpq_conv_shape s;          /* CONV2D, MAXPOOL: the shape for one image (batches 1) */
    unsigned k, n;             /* reduction depth and output channels (MAXPOOL: 0, channels) */
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
    mn_qspec spec;
    unsigned nl;
    unsigned in_size, classes; /* values of one image in, and out */
    mn_qlayer layer[MN_MAX_QLAYERS];
    double hp_density;         /* sparse non-zeros / weights, over all layers */
    double rel_err;            /* weight approximation error ||W - Wq|| / ||W||, all layers */
} mn_qnet;

/* Calibration: the largest activation of each layer over `count` training images. */
void mn_calibrate(const mn_mlp *m, const mn_set *s, unsigned count, float *amax);
/* Quantizes m: int8 activations (scales from amax), weights per spec (N:G along k). */
int mn_quantize(const mn_mlp *m, const float *amax, const mn_qspec *spec, mn_qnet *q, char *err,
                size_t errlen);
void mn_qnet_free(mn_qnet *q);
/* Values of one image at the output of layer l (FC: n; spatial: out_h*out_w*out_c). */
size_t mn_qlayer_out_size(const mn_qlayer *ql);
/* int8 input of an image: pixel - 128 (the first layer's in_offset is 128). */
void mn_input(const uint8_t *img, unsigned npix, int32_t *x);

/* Integer inference of images [0, m) with the golden model (mpq_fc, mpq_conv, mpq_pool): the
 * final layer's int8 outputs y[m][classes]. acc_bits / acc_mode: the accumulator (order:
 * grouped by `group`, as the accelerator with KLanes = group). ovf_any: outputs whose
 * accumulation overflowed (may be NULL). Returns 0 or a negative MPQ_E code with err. */
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
/* One layer of that inference: in[m][...] -> out[m][...]. */
int mn_qlayer_run(const mn_qlayer *ql, const int32_t *in, unsigned m, unsigned acc_bits,
                  mpq_acc_mode acc_mode, unsigned group, int32_t *out, size_t *ovf_any,
                  char *err, size_t errlen);
/* Accuracy of int outputs y[m][10] (argmax, first index on ties). */
double mn_accuracy(const int32_t *y, const uint8_t *labels, unsigned m, unsigned classes);

/* ---- Layers on the Verilated accelerator (mn_cosim.c; linked only into mpq-mnist-rtl) ---- */
/* The hardware layer of quantized layer ql (FC or CONV2D) on m images x (the layer's input,
 * [m][...]): ternary (+ sparse) weights as they are, dense int8 weights as sparse weights
 * with every entry used and t = 0 (the dense configuration, HpPerGroup = KLanes, or any
 * layer with no more than HpPerGroup input channels). Checked against hw
 * (mpq_hw_layer_check). Returns 0, or MPQ_EPARAM / MPQ_ENOMEM with err. */
int mn_qlayer_to_hw(const mpq_hwcfg *hw, const mn_qlayer *ql, const int32_t *x, unsigned m,
                    mpq_hw_layer *L, char *err, size_t errlen);
typedef struct mn_rtl_stats {
    uint64_t cycles, steps;    /* cycles run; lane-array steps the layer needs (the ideal) */
    double secs;               /* wall-clock time of the co-simulation */
} mn_rtl_stats;
/* Runs L through the Verilated accelerator with the golden cycle model in lockstep (the
 * stimulus generator, mpq_gen), every output port compared every cycle (tb_cosim_step): y[m][n]
 * receives what the RTL put out. name ("layer 2") is for messages; on a mismatch the layer's
 * cycles are saved as build/traces/<vec_name>.vec and the replay command is printed. save_dir
 * (NULL: none): once the layer passed, the same cycles are also written as
 * save_dir/<vec_name>.vec (the workload of make ppa's gate-level simulation). cmd (the command
 * line) goes into the vector files' headers. Returns 0, 1 on a mismatch, 2 on an error (printed,
 * tag first). */
int mn_rtl_layer(const mpq_hwcfg *hw, const mpq_hw_layer *L, const char *tag, const char *name,
                 const char *vec_name, const char *save_dir, const char *cmd, int32_t *y,
                 mn_rtl_stats *st);

/* ---- The study harness (mn_study.c): a network's accuracy per quantization scheme, versus
 * the sparse density and structure, and versus the accumulator width, on the golden model.
 * Each table goes to stdout and to md (markdown); the studies' data to OUT/density.tsv and
 * OUT/accbits.tsv, written as .tmp files and renamed by mn_study_publish (plotted by
 * scripts/workloads/mnist-plot.sh). ---- */
typedef int (*mn_quantize_fn)(const void *net, const float *amax, const mn_qspec *spec, mn_qnet *q,
                              char *err, size_t errlen);
typedef struct mn_study {
    const char *tag;           /* program name for messages */
    const char *out;           /* folder of the results */
    const void *net;           /* the float network, quantized by quantize with amax */
    const float *amax;
    mn_quantize_fn quantize;
    const int32_t *x;          /* int8 test inputs [count][q.in_size] */
    const uint8_t *labels;
    unsigned count;
    double float_acc;          /* the float network on the same images */
    unsigned group;            /* accumulation order: grouped by the accelerator's KLanes */
    FILE *md;                  /* results.md under construction */
    double tern_acc;           /* set by mn_study_density: ternary only */
} mn_study;
/* Accuracy of one quantization (acc_bits wide accumulator, mode), its overflowing outputs
 * (ovf may be NULL) and the quantized net's statistics (qout may be NULL). Returns 0 or a
 * negative MPQ_E code; the message is printed. */
int mn_study_eval(mn_study *st, const mn_qspec *spec, unsigned acc_bits, mpq_acc_mode mode,
                  double *acc, size_t *ovf, double *density, double *rel_err);
typedef struct mn_study_scheme {
    const char *name;
    mn_qspec spec;
} mn_study_scheme;
/* The table of schemes: float, then each scheme's accuracy, density and weight error. */
int mn_study_schemes(mn_study *st, const mn_study_scheme *s, unsigned n);
typedef struct mn_study_column {
    const char *name;          /* "N:16", "unstructured" */
    mpq_decomp_axis axis;
    unsigned group;            /* 0 for unstructured */
} mn_study_column;
/* Accuracy versus density (rows; "-" where N = density x G is not a whole number) and
 * structure (columns); measured: cells also show the measured density (when layers with
 * fewer weights per group than G make it differ); first_dense: mn_qspec's, in every cell.
 * intro: the markdown paragraph above. */
int mn_study_density(mn_study *st, const char *intro, const mn_study_column *cols, unsigned ncols,
                     const double *dens, const char *const *dname, unsigned nd, int measured,
                     int first_dense);
/* Accuracy and overflowing outputs (of `outputs` in all) versus accumulator width
 * lo, lo+step, .. 32, wrapping and saturating, for one quantization (label names it). */
int mn_study_accbits(mn_study *st, const char *intro, const char *label, const mn_qspec *spec,
                     size_t outputs, unsigned lo, unsigned step);
/* Closes md and renames results.md, density.tsv and accbits.tsv into place. */
int mn_study_publish(mn_study *st);

/* ---- Float CNN (cnn_net.c) ----
 * A sequence of layers over one NHWC image, each an mpq_conv_shape with batches 1: conv2d
 * (3x3 by default, ReLU after every one but the last), max pooling, and the classifier, a
 * conv2d whose window is the whole remaining map (VALID: a fully-connected layer in OHWI
 * order, its k = (y*w + x)*c + channel, the NHWC flattening). Described by a string, e.g.
 * "c16,p2,c32s2,c64s2v,f10": cN a conv of N filters (kK kernel, sS stride, v VALID padding,
 * else TFLite SAME), pP a PxP max pooling of stride P, fN the classifier of N outputs. */
#define CNN_MAX_LAYERS 8
#define CNN_DEFAULT_ARCH "c16,p2,c32s2,c64s2v,f10"
typedef struct cnn_layer {
    mpq_conv_shape s;  /* kind CONV2D or MAXPOOL; batches 1 */
    int relu;          /* conv2d followed by ReLU */
    float *w, *b;      /* conv2d: OHWI [out_c][kh*kw*in_c], [out_c] */
} cnn_layer;
typedef struct cnn_net {
    char arch[64];
    unsigned nl;
    cnn_layer layer[CNN_MAX_LAYERS];
} cnn_net;
/* Parses arch for 28x28x1 images and allocates the net with He-initialized weights from seed.
 * Returns 0, MPQ_EPARAM (err says what is wrong with arch) or MPQ_ENOMEM. */
int cnn_init(cnn_net *net, const char *arch, uint64_t seed, char *err, size_t errlen);
void cnn_free(cnn_net *net);
/* Weights of the net (conv2d layers). */
size_t cnn_weight_count(const cnn_net *net);
/* Mini-batch (32) Adam with a learning rate halved every other epoch, deterministic from seed
 * (initial order and every shuffle; fixed loop order). log: one line per epoch or NULL. */
int cnn_train(cnn_net *net, const mn_set *train, const mn_set *test, unsigned epochs,
              uint64_t seed, FILE *log);
/* cnn_train with options (opt may be NULL: cnn_train's training): the fine-tuning of an
 * analog matrix unit's noise (mnist/abfp_ft.c). The arithmetic of a run without hooks is
 * cnn_train's, bit for bit. */
typedef struct cnn_train_opts {
    float lr;                  /* initial learning rate (0: 2e-3), halved every other epoch */
    unsigned long long max_images; /* stop after this many training images (0: all epochs) */
    /* Called for each conv2d layer l of every training forward pass, with its im2col patches
     * col[P][K] (the reduction vectors, zeros for padding) and its outputs y[P][O] before the
     * ReLU: phase 0 before the float convolution (return 1 when y was written: the float one
     * is skipped), phase 1 after it (y may be changed). image: the training image's index.
     * The backward pass is the float one (a straight-through estimator). */
    int (*layer)(void *ctx, unsigned l, int phase, unsigned image, const float *col, unsigned P,
                 unsigned K, unsigned O, float *y);
    void (*batch)(void *ctx, const cnn_net *net);  /* before each batch: the weights changed */
    void (*progress)(void *ctx, const cnn_net *net, unsigned long long images); /* every `every` */
    unsigned long long every;
    void *ctx;
} cnn_train_opts;
int cnn_train_ex(cnn_net *net, const mn_set *train, const mn_set *test, unsigned epochs,
                 uint64_t seed, FILE *log, const cnn_train_opts *opt);
/* Output of every layer for one image (act[l]: out_h*out_w*out_c values). */
void cnn_forward(const cnn_net *net, const uint8_t *img, float *const *act);
/* The largest output of each layer (after its ReLU) over `count` images of s. */
void cnn_calibrate(const cnn_net *net, const mn_set *s, unsigned count, float *amax);
double cnn_accuracy(const cnn_net *net, const mn_set *s, unsigned count);
/* Binary file, written atomically (path.tmp + rename); load checks everything and that the
 * file holds the architecture arch (NULL: any). */
int cnn_save(const cnn_net *net, const char *path, char *err, size_t errlen);
int cnn_load(cnn_net *net, const char *path, const char *arch, char *err, size_t errlen);
/* Quantizes net as mn_quantize does the MLP (amax from cnn_calibrate): conv2d weights per
 * spec, the N:G groups along spec->axis (mpq_decompose_conv); max pooling on the int8 codes.
 * (mn_quant.c) */
int cnn_quantize(const cnn_net *net, const float *amax, const mn_qspec *spec, mn_qnet *q,
                 char *err, size_t errlen);

#endif
