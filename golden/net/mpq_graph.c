/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_graph.c: plans and runs a fully-int8 TFLite graph (mpq_graph.h).
 *
 * Plan step (mpq_net_init), operator by operator in the model's order: the tensors each one
 * reads must exist by then (graph inputs, constants, earlier outputs); their types, shapes
 * and quantization are checked; the operator's parameters are computed as TensorFlow Lite
 * Micro's prepare step computes them (mpq_netops.h); constants are decoded once; operators
 * that only compute shapes from static shapes (SHAPE, and the slicing and packing of their
 * results) are evaluated right away. Run step: each operator's kernel, in order.
 *
 * Tensors live in one buffer each (no arena sharing: every intermediate can be dumped),
 * int8 as int8, int32 as int32, float32 as float, in the host's byte order; constants are
 * decoded from little-endian.
 */
#include "net/mpq_graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arith/mpq_layer.h"
#include "net/mpq_netops.h"

#define MAX_RANK MPQ_TFL_MAX_RANK
/* Every tensor of a model together (a guard against shapes no microcontroller model has). */
#define NET_MAX_BYTES ((size_t)1 << 30)

typedef enum kind {
    K_CONV, K_FC, K_POOL, K_ADD, K_MEAN, K_SOFTMAX, K_LUT, K_QUANT_F32, K_DEQUANT, K_PAD, K_COPY,
    K_CONCAT, K_SHAPE, K_SLICE
} kind;

typedef struct plan {
    unsigned op;
    int code;
    kind k;
    int fold;                 /* evaluated at plan time (shape arithmetic) */
    int in, in2, out;         /* tensors */
    size_t esize;             /* bytes per element of the data moved (copy ops) */
    /* CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED */
    mpq_conv_shape cs;
    unsigned fc_m, fc_k, fc_n;
    int32_t *w, *bias, *mult, *shift;
    int32_t in_off, w_off;
    mpq_requant rq;
    int wt;                   /* the weights tensor (its scales: mpq_net_layer_get) */
    float s_in, s_out;        /* input and output scales */
    int report;               /* index into the net's reports, -1 without */
    mpq_layer *layer;         /* CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, pools: the plan */
    /* pools, ADD, MEAN */
    int32_t act_min, act_max;
    int8_t *lut;              /* ADD: [256][256]; LUT ops: [256] (index x + 128) */
    unsigned rank;
    int64_t odim[MAX_RANK];   /* output dims (ADD broadcast, SLICE, MEAN input dims) */
    int64_t s1[MAX_RANK], s2[MAX_RANK]; /* element strides per output axis (0: broadcast) */
    int bcast;
    int64_t n_red;            /* MEAN: inputs per output */
    int32_t mean_mult, in_zp, out_zp;
    int mean_shift;
    mpq_tfl_softmax sm;       /* SOFTMAX */
    int64_t rows;
    unsigned depth;
    float scale;              /* QUANTIZE from float, DEQUANTIZE */
    int64_t before[MAX_RANK]; /* PAD */
    int8_t pad_i8;
    int64_t start[MAX_RANK], step[MAX_RANK]; /* STRIDED_SLICE (strides in elements) */
    unsigned nsrc;            /* CONCATENATION, PACK: sources, and per source the inner run */
    int *src;
    int64_t outer, *inner;
} plan;

typedef struct tval {
    void *data;
    size_t bytes;
    int64_t count;
    uint8_t have;     /* holds a value: constant, folded, set input, or computed by a run */
    uint8_t avail;    /* planning: available to the operators that follow */
    uint8_t computed; /* an op output or a graph input */
    uint8_t owned;
} tval;

struct mpq_net {
    const mpq_tfl_model *m;
    mpq_net_opts o;
    tval *t;
    plan *p;
    unsigned np;
    size_t max_out;           /* elements of ys (MEAN's sums) */
    size_t bytes;             /* tensors and tables planned so far (opts.max_bytes) */
    size_t max_scratch;       /* bytes of the layers' scratch */
    void *scratch;            /* shared by the layers (mpq_layer_run), one at a time */
    int32_t *ys;
    mpq_net_layer_report *rep;
    unsigned nrep, runs;
    double *op_seconds;       /* opts.profile: time spent in each operator over all runs */
};

/* ---- messages ---- */

/* op_fail(net, op, err, errlen, fmt, ...): mpq_tfl_op_fail on net's model. */
#define op_fail(net, ...) mpq_tfl_op_fail((net)->m, __VA_ARGS__)

static const mpq_tfl_tensor *T(const mpq_net *net, int i)
{
    return &net->m->tensors[i];
}

/* "4x3" */
static const char *shape_str(const mpq_tfl_tensor *x, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    if (!x->rank)
        snprintf(buf, len, "scalar");
    for (unsigned i = 0; i < x->rank && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, i ? "x%d" : "%d", x->shape[i]);
    return buf;
}

/* The refusal of a tensor type, with the reason a user needs. */
static int bad_type(const mpq_net *net, unsigned op, const char *role, int ti, const char *want,
                    char *err, size_t errlen)
{
    int type = T(net, ti)->type;
    const char *why = type == MPQ_TFL_FLOAT32 ? "float layers are not supported: the golden model "
                                                "runs fully-int8 models"
                      : type == MPQ_TFL_INT16 ? "int16 activations are not supported"
                      : type == MPQ_TFL_INT4  ? "int4 weights are not supported"
                                              : "";
    return op_fail(net, op, err, errlen, "%s tensor %d is %s, expected %s%s%s", role, ti,
                   mpq_tfl_type_name(type), want, *why ? ": " : "", why);
}

static int want_type(const mpq_net *net, unsigned op, const char *role, int ti, int type,
                     char *err, size_t errlen)
{
    if (T(net, ti)->type == type)
        return MPQ_OK;
    return bad_type(net, op, role, ti, mpq_tfl_type_name(type), err, errlen);
}

/* One scale and zero point (per-tensor quantization) of an activation. */
static int per_tensor(const mpq_net *net, unsigned op, const char *role, int ti, float *scale,
                      int32_t *zp, char *err, size_t errlen)
{
    const mpq_tfl_quant *q = &T(net, ti)->q;
    if (q->has_details)
        return op_fail(net, op, err, errlen, "%s tensor %d has custom quantization details",
                       role, ti);
    if (q->nscale != 1 || q->nzero != 1)
        return op_fail(net, op, err, errlen,
                       "%s tensor %d needs one scale and one zero point (it has %u and %u)", role,
                       ti, q->nscale, q->nzero);
    if (!(q->scale[0] > 0) || isinf(q->scale[0]))
        return op_fail(net, op, err, errlen, "%s tensor %d has scale %g (must be finite and > 0)",
                       role, ti, (double)q->scale[0]);
    if (q->zero_point[0] < INT8_MIN || q->zero_point[0] > INT8_MAX)
        return op_fail(net, op, err, errlen, "%s tensor %d has zero point %lld outside int8", role,
                       ti, (long long)q->zero_point[0]);
    *scale = q->scale[0];
    *zp = (int32_t)q->zero_point[0];
    return MPQ_OK;
}

/* per_tensor of the operator's input it and output ot: the pair every planner reads. */
static int io_quant(const mpq_net *net, unsigned op, int it, int ot, float *s_in, int32_t *z_in,
                    float *s_out, int32_t *z_out, char *err, size_t errlen)
{
    int st = per_tensor(net, op, "input", it, s_in, z_in, err, errlen);
    return st ? st : per_tensor(net, op, "output", ot, s_out, z_out, err, errlen);
}

/* A constant (its buffer holds exactly the bytes its shape needs), decoded. */
static int need_const(const mpq_net *net, unsigned op, const char *role, int ti, char *err,
                      size_t errlen)
{
    if (!net->t[ti].have || net->t[ti].computed)
        return op_fail(net, op, err, errlen, "%s tensor %d is not a constant", role, ti);
    return MPQ_OK;
}

static int same_dims(const mpq_tfl_tensor *a, const mpq_tfl_tensor *b)
{
    if (a->rank != b->rank)
        return 0;
    for (unsigned i = 0; i < a->rank; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    return 1;
}

static int check_out_dims(const mpq_net *net, unsigned op, int ti, const int64_t *dims,
                          unsigned rank, char *err, size_t errlen)
{
    const mpq_tfl_tensor *x = T(net, ti);
    int ok = x->rank == rank;
    for (unsigned i = 0; ok && i < rank; i++)
        ok = x->shape[i] == dims[i];
    if (ok)
        return MPQ_OK;
    char got[96], want[96] = "";
    size_t at = 0;
    for (unsigned i = 0; i < rank && at < sizeof want; i++)
        at += (size_t)snprintf(want + at, sizeof want - at, i ? "x%lld" : "%lld",
                               (long long)dims[i]);
    return op_fail(net, op, err, errlen, "output tensor %d has shape %s, the operator computes %s",
                   ti, shape_str(x, got, sizeof got), rank ? want : "scalar");
}

/* ---- tensors ---- */

static unsigned esize_of(int type)
{
    return mpq_tfl_type_size(type);
}

/* Decodes a constant tensor into owned native storage. */
static int decode_const(mpq_net *net, int ti, char *err, size_t errlen)
{
    const mpq_tfl_tensor *x = T(net, ti);
    tval *v = &net->t[ti];
    unsigned es = esize_of(x->type);
    int64_t n = mpq_tfl_elements(x);
    if (!es || n < 0 || x->size != (size_t)n * es) {
        char s[96];
        snprintf(err, errlen, "%s: tensor %d (%s %s): its buffer holds %zu bytes, %s", net->m->file,
                 ti, mpq_tfl_type_name(x->type), shape_str(x, s, sizeof s), x->size,
                 !es || n < 0 ? "and its type or shape has no size" : "which is not its size");
        return MPQ_EPARAM;
    }
    v->data = malloc(x->size + 8);
    if (!v->data) {
        snprintf(err, errlen, "%s: out of memory", net->m->file);
        return MPQ_ENOMEM;
    }
    v->owned = 1;
    v->bytes = x->size;
    v->count = n;
    uint8_t *d = v->data;
    for (size_t i = 0; i < (size_t)n; i++) { /* little-endian elements to native ones */
        uint64_t u = 0;
        for (unsigned b = 0; b < es; b++)
            u |= (uint64_t)x->data[i * es + b] << (8 * b);
        if (es == 1) d[i] = (uint8_t)u;
        else if (es == 2) { uint16_t h = (uint16_t)u; memcpy(d + i * 2, &h, 2); }
        else if (es == 4) { uint32_t w = (uint32_t)u; memcpy(d + i * 4, &w, 4); }
        else memcpy(d + i * 8, &u, 8);
    }
    v->have = v->avail = 1;
    return MPQ_OK;
}

static int32_t get_i32(const mpq_net *net, int ti, int64_t i)
{
    int32_t v;
    memcpy(&v, (const uint8_t *)net->t[ti].data + i * 4, 4);
    return v;
}

/* An integer index vector (int32 or int64 constant). */
static int64_t get_index(const mpq_net *net, int ti, int64_t i)
{
    if (T(net, ti)->type == MPQ_TFL_INT64) {
        int64_t v;
        memcpy(&v, (const uint8_t *)net->t[ti].data + i * 8, 8);
        return v;
    }
    return get_i32(net, ti, i);
}

/* ---- windowed operators: TFLite's rule (mpq_tfl_window) and what this runner refuses ---- */

/* A dilated window far wider than its input reads almost nothing but padding; the kernels'
 * padded copies of the input would be that wide: refused. */
static int window_too_wide(int in, int k, int dil)
{
    return (int64_t)(k - 1) * dil + 1 > 16 * ((int64_t)in + 8);
}

/* The plan of a window over [N, H, W, C] with the operator's options. */
static int plan_window(const mpq_net *net, unsigned op, const mpq_tfl_opts *o, int kh, int kw,
                       int dy, int dx, const mpq_tfl_tensor *in, mpq_conv_shape *s, char *err,
                       size_t errlen)
{
    if (mpq_tfl_window(o, in, kh, kw, dy, dx, s) || window_too_wide(in->shape[1], kh, dy) ||
        window_too_wide(in->shape[2], kw, dx))
        return op_fail(net, op, err, errlen,
                       "window %dx%d, stride %dx%d, dilation %dx%d, padding %d does not fit input "
                       "%dx%d", kh, kw, o->stride_h, o->stride_w, dy, dx, o->padding,
                       in->shape[1], in->shape[2]);
    return MPQ_OK;
}

/* The output tensor ot against the window's [N, out_h, out_w, out_c], then the shape against
 * the kernels' rules (mpq_conv_check, its message as the operator's). */
static int check_window_out(const mpq_net *net, unsigned op, int ot, const mpq_conv_shape *cs,
                            char *err, size_t errlen)
{
    int64_t od[4] = {cs->batches, cs->out_h, cs->out_w, cs->out_c};
    int st = check_out_dims(net, op, ot, od, 4, err, errlen);
    if (st)
        return st;
    if (mpq_conv_check(cs, err, errlen)) {
        char why[256];
        snprintf(why, sizeof why, "%s", err);
        return op_fail(net, op, err, errlen, "%s", why);
    }
    return MPQ_OK;
}

static int act_range(const mpq_net *net, unsigned op, int act, float scale, int32_t zp,
                     int32_t *lo, int32_t *hi, char *err, size_t errlen)
{
    if (mpq_tfl_act_range(act, scale, zp, lo, hi))
        return op_fail(net, op, err, errlen, "fused activation %s (%d) is not supported",
                       mpq_tfl_act_name(act), act);
    return MPQ_OK;
}

/* Rank-4 int8 activation [N, H, W, C] with positive dims. */
static int want_nhwc(const mpq_net *net, unsigned op, const char *role, int ti, char *err,
                     size_t errlen)
{
    const mpq_tfl_tensor *x = T(net, ti);
    int st = want_type(net, op, role, ti, MPQ_TFL_INT8, err, errlen);
    if (st)
        return st;
    if (x->rank != 4 || x->shape[0] < 1 || x->shape[1] < 1 || x->shape[2] < 1 || x->shape[3] < 1) {
        char s[96];
        return op_fail(net, op, err, errlen, "%s tensor %d has shape %s, expected N x H x W x C",
                       role, ti, shape_str(x, s, sizeof s));
    }
    return MPQ_OK;
}

static int nio(const mpq_net *net, unsigned op, unsigned lo, unsigned hi, unsigned nout, char *err,
               size_t errlen)
{
    const mpq_tfl_op *o = &net->m->ops[op];
    if (o->nin < lo || o->nin > hi || o->nout != nout)
        return op_fail(net, op, err, errlen, "has %u inputs and %u outputs (expected %u..%u and %u)",
                       o->nin, o->nout, lo, hi, nout);
    for (unsigned i = 0; i < lo; i++)
        if (o->in[i] < 0)
            return op_fail(net, op, err, errlen, "input %u is missing", i);
    return MPQ_OK;
}

/* ---- CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED ---- */

/* Per-channel (or broadcast per-tensor) multipliers: real[c] = in * w[c] / out as the
 * reference computes it. fc_tensor: the per-tensor FC formula, whose product is in float. */
static int plan_multipliers(const mpq_net *net, unsigned op, plan *p, float s_in, int wt,
                            float s_out, unsigned nch, int fc_tensor, char *err, size_t errlen)
{
    const mpq_tfl_quant *q = &T(net, wt)->q;
    p->mult = malloc((size_t)nch * sizeof *p->mult);
    p->shift = malloc((size_t)nch * sizeof *p->shift);
    if (!p->mult || !p->shift) {
        snprintf(err, errlen, "%s: out of memory", net->m->file);
        return MPQ_ENOMEM;
    }
    for (unsigned c = 0; c < nch; c++) {
        float sw = q->scale[q->nscale > 1 ? c : 0];
        double real = fc_tensor ? (double)(s_in * sw) / (double)s_out
                                : (double)s_in * (double)sw / (double)s_out;
        int sh;
        if (!(sw > 0) || isinf(sw) || mpq_tfl_multiplier(real, &p->mult[c], &sh))
            return op_fail(net, op, err, errlen,
                           "channel %u: weight scale %g gives the multiplier %g, which the "
                           "requantizer cannot represent", c, (double)sw, real);
        p->shift[c] = sh;
    }
    p->rq.nparams = nch;
    p->rq.mult = p->mult;
    p->rq.shift = p->shift;
    return MPQ_OK;
}

/* Weights quantization: one scale, or one per output channel along `dim`. */
static int weight_quant(const mpq_net *net, unsigned op, int wt, unsigned nch, int dim, char *err,
                        size_t errlen)
{
    const mpq_tfl_quant *q = &T(net, wt)->q;
    if (q->has_details)
        return op_fail(net, op, err, errlen, "weights tensor %d has custom quantization", wt);
    if (!(q->nscale == 1 || (q->nscale == nch && q->dim == dim)) || q->nzero != q->nscale)
        return op_fail(net, op, err, errlen,
                       "weights tensor %d: %u scales and %u zero points along dimension %d "
                       "(expected 1, or %u along dimension %d)", wt, q->nscale, q->nzero, q->dim,
                       nch, dim);
    return MPQ_OK;
}

static int plan_bias(mpq_net *net, unsigned op, plan *p, unsigned nch, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &net->m->ops[op];
    int bt = o->nin > 2 ? o->in[2] : -1;
    if (bt < 0)
        return MPQ_OK;
    int st;
    if ((st = want_type(net, op, "bias", bt, MPQ_TFL_INT32, err, errlen)) ||
        (st = need_const(net, op, "bias", bt, err, errlen)))
        return st;
    if (net->t[bt].count != (int64_t)nch)
        return op_fail(net, op, err, errlen, "bias tensor %d has %lld values for %u channels", bt,
                       (long long)net->t[bt].count, nch);
    p->bias = net->t[bt].data; /* owned by the tensor */
    return MPQ_OK;
}

/* The weights as the kernels' int32 array (same layout as the file's). */
static int plan_weights(mpq_net *net, plan *p, int wt, char *err, size_t errlen)
{
    size_t n = (size_t)net->t[wt].count;
    p->w = malloc((n + 1) * sizeof *p->w);
    if (!p->w) {
        snprintf(err, errlen, "%s: out of memory", net->m->file);
        return MPQ_ENOMEM;
    }
    const int8_t *src = net->t[wt].data;
    for (size_t i = 0; i < n; i++)
        p->w[i] = src[i];
    return MPQ_OK;
}

/* The layer planned once (mpq_layer.h) on int8 activations: TFLite's arithmetic, or the
 * accumulator analysis, or the exact kernels everywhere (golden_kernels). The layer keeps its
 * own copy of the weights; the int32 array stays for mpq_net_layer_get (the accelerator's
 * mapping, stim/mpq_netmap) and is freed with the net. */
static int plan_layer(mpq_net *net, unsigned op, plan *p, const mpq_conv_shape *cs, char *err,
                      size_t errlen)
{
    const mpq_net_opts *o = &net->o;
    const mpq_fc_layer mac = {.in_offset = p->in_off, .w = p->w, .w_offset = p->w_off,
                              .bias = p->bias, .acc_bits = o->acc_bits, .acc_mode = o->acc_mode,
                              .order = MPQ_ORDER_SEQ};
    mpq_layer_def d = {.shape = *cs, .mac = p->k == K_POOL ? NULL : &mac,
                       .rq = p->k == K_POOL ? NULL : &p->rq, .act_min = p->act_min,
                       .act_max = p->act_max, .flags = MPQ_LAYER_INT8};
    if (o->analyze && p->k != K_POOL)
        d.flags |= MPQ_LAYER_TRACK | MPQ_LAYER_PREFIX;
    if (o->golden_kernels)
        d.flags |= MPQ_LAYER_EXACT;
    char why[400];
    int st = mpq_layer_init(&p->layer, &d, why, sizeof why);
    if (st == MPQ_ENOMEM) {
        snprintf(err, errlen, "%s: out of memory", net->m->file);
        return st;
    }
    if (st)
        return op_fail(net, op, err, errlen, "%s", why);
    size_t need = mpq_layer_scratch_bytes(p->layer);
    net->max_scratch = need > net->max_scratch ? need : net->max_scratch;
    return MPQ_OK;
}

static int plan_conv(mpq_net *net, unsigned op, plan *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &net->m->ops[op];
    int dw = o->code == MPQ_TFL_DEPTHWISE_CONV_2D;
    int st;
    if ((st = nio(net, op, 2, 3, 1, err, errlen)))
        return st;
    int it = o->in[0], wt = o->in[1], ot = o->out[0];
    if ((st = want_nhwc(net, op, "input", it, err, errlen)) ||
        (st = want_nhwc(net, op, "output", ot, err, errlen)) ||
        (st = want_type(net, op, "weights", wt, MPQ_TFL_INT8, err, errlen)) ||
        (st = need_const(net, op, "weights", wt, err, errlen)))
        return st;
    if (o->opt_type != (dw ? 2 : 1))
        return op_fail(net, op, err, errlen, "options table of type %d, expected %s", o->opt_type,
                       dw ? "DepthwiseConv2DOptions" : "Conv2DOptions");
    const mpq_tfl_tensor *in = T(net, it), *w = T(net, wt);
    char s[96];
    if (w->rank != 4 || w->shape[0] < 1 || w->shape[1] < 1 || w->shape[2] < 1 || w->shape[3] < 1)
        return op_fail(net, op, err, errlen, "weights tensor %d has shape %s, expected %s", wt,
                       shape_str(w, s, sizeof s), dw ? "1 x KH x KW x C" : "O x KH x KW x I");
    mpq_conv_shape *cs = &p->cs;
    memset(cs, 0, sizeof *cs);
    unsigned in_c = (unsigned)in->shape[3], nch;
    if (dw) {
        nch = (unsigned)w->shape[3];
        if (w->shape[0] != 1 || nch % in_c)
            return op_fail(net, op, err, errlen, "weights shape %s does not fit %u input channels",
                           shape_str(w, s, sizeof s), in_c);
        if (o->opt.depth_multiplier && (unsigned)o->opt.depth_multiplier * in_c != nch)
            return op_fail(net, op, err, errlen, "depth multiplier %d with %u input channels does "
                           "not give the weights' %u channels", o->opt.depth_multiplier, in_c, nch);
        cs->kind = MPQ_LAYER_DEPTHWISE;
        cs->groups = 1;
    } else {
        nch = (unsigned)w->shape[0];
        unsigned f = (unsigned)w->shape[3];
        if (in_c % f || nch % (in_c / f))
            return op_fail(net, op, err, errlen, "weights shape %s does not fit %u input channels",
                           shape_str(w, s, sizeof s), in_c);
        cs->kind = MPQ_LAYER_CONV2D;
        cs->groups = in_c / f;
    }
    cs->out_c = nch;
    if ((st = plan_window(net, op, &o->opt, w->shape[1], w->shape[2], o->opt.dilation_h,
                          o->opt.dilation_w, in, cs, err, errlen)))
        return st;
    if ((st = check_window_out(net, op, ot, cs, err, errlen)))
        return st;
    float s_in, s_out;
    int32_t z_in, z_out;
    if ((st = io_quant(net, op, it, ot, &s_in, &z_in, &s_out, &z_out, err, errlen)) ||
        (st = weight_quant(net, op, wt, nch, dw ? 3 : 0, err, errlen)) ||
        (st = plan_multipliers(net, op, p, s_in, wt, s_out, nch, 0, err, errlen)) ||
        (st = plan_bias(net, op, p, nch, err, errlen)) ||
        (st = act_range(net, op, o->opt.activation, s_out, z_out, &p->rq.act_min, &p->rq.act_max,
                        err, errlen)) ||
        (st = plan_weights(net, p, wt, err, errlen)))
        return st;
    /* The reference ignores the weights' zero point of a convolution (symmetric weights). */
    p->k = K_CONV;
    p->in = it;
    p->out = ot;
    p->wt = wt;
    p->s_in = s_in;
    p->s_out = s_out;
    p->in_off = -z_in;
    p->w_off = 0;
    p->rq.kind = MPQ_RQ_DOUBLE;
    p->rq.out_offset = z_out;
    return plan_layer(net, op, p, cs, err, errlen);
}

static int plan_fc(mpq_net *net, unsigned op, plan *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &net->m->ops[op];
    int st;
    if ((st = nio(net, op, 2, 3, 1, err, errlen)))
        return st;
    int it = o->in[0], wt = o->in[1], ot = o->out[0];
    if ((st = want_type(net, op, "input", it, MPQ_TFL_INT8, err, errlen)) ||
        (st = want_type(net, op, "output", ot, MPQ_TFL_INT8, err, errlen)) ||
        (st = want_type(net, op, "weights", wt, MPQ_TFL_INT8, err, errlen)))
        return st;
    if (!net->t[wt].have || net->t[wt].computed)
        return op_fail(net, op, err, errlen, "weights tensor %d is not a constant (only constant "
                       "weights are supported)", wt);
    if (o->opt_type != 8)
        return op_fail(net, op, err, errlen, "options table of type %d, expected "
                       "FullyConnectedOptions", o->opt_type);
    if (o->opt.weights_format)
        return op_fail(net, op, err, errlen, "weights format %d (only DEFAULT is supported)",
                       o->opt.weights_format);
    const mpq_tfl_tensor *w = T(net, wt), *out = T(net, ot);
    char s[96];
    if (w->rank != 2 || w->shape[0] < 1 || w->shape[1] < 1)
        return op_fail(net, op, err, errlen, "weights tensor %d has shape %s, expected N x K", wt,
                       shape_str(w, s, sizeof s));
    int64_t nin = net->t[it].count, nout = mpq_tfl_elements(out);
    unsigned k = (unsigned)w->shape[1], n = (unsigned)w->shape[0];
    if (nin < 1 || nin % k || out->rank < 1 || out->shape[out->rank - 1] != (int32_t)n ||
        nout != nin / k * n)
        return op_fail(net, op, err, errlen, "input shape %s, weights %dx%d and output shape %s "
                       "do not match", shape_str(T(net, it), s, sizeof s), w->shape[0],
                       w->shape[1], shape_str(out, s + 48, sizeof s - 48));
    float s_in, s_out;
    int32_t z_in, z_out;
    if ((st = io_quant(net, op, it, ot, &s_in, &z_in, &s_out, &z_out, err, errlen)) ||
        (st = weight_quant(net, op, wt, n, 0, err, errlen)))
        return st;
    const mpq_tfl_quant *q = &w->q;
    int per_channel = q->nscale > 1;
    if ((st = plan_multipliers(net, op, p, s_in, wt, s_out, n, !per_channel, err, errlen)) ||
        (st = plan_bias(net, op, p, n, err, errlen)) ||
        (st = act_range(net, op, o->opt.activation, s_out, z_out, &p->rq.act_min, &p->rq.act_max,
                        err, errlen)) ||
        (st = plan_weights(net, p, wt, err, errlen)))
        return st;
    if (!per_channel && (q->zero_point[0] < INT8_MIN || q->zero_point[0] > INT8_MAX))
        return op_fail(net, op, err, errlen, "weights zero point %lld outside int8",
                       (long long)q->zero_point[0]);
    p->k = K_FC;
    p->in = it;
    p->out = ot;
    p->wt = wt;
    p->s_in = s_in;
    p->s_out = s_out;
    p->fc_m = (unsigned)(nin / k);
    p->fc_k = k;
    p->fc_n = n;
    p->in_off = -z_in;
    /* Per-tensor weights keep their zero point as an offset; per-channel ones are symmetric. */
    p->w_off = per_channel ? 0 : (int32_t)-q->zero_point[0];
    p->rq.kind = net->o.fc_rounding;
    p->rq.out_offset = z_out;
    mpq_conv_shape cs = mpq_layer_fc_shape(p->fc_m, k, n);
    return plan_layer(net, op, p, &cs, err, errlen);
}

/* ---- pools ---- */

static int plan_pool(mpq_net *net, unsigned op, plan *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &net->m->ops[op];
    int st;
    if ((st = nio(net, op, 1, 1, 1, err, errlen)))
        return st;
    int it = o->in[0], ot = o->out[0];
    if ((st = want_nhwc(net, op, "input", it, err, errlen)) ||
        (st = want_nhwc(net, op, "output", ot, err, errlen)))
        return st;
    if (o->opt_type != 5)
        return op_fail(net, op, err, errlen, "options table of type %d, expected Pool2DOptions",
                       o->opt_type);
    mpq_conv_shape *cs = &p->cs;
    memset(cs, 0, sizeof *cs);
    cs->kind = o->code == MPQ_TFL_AVERAGE_POOL_2D ? MPQ_LAYER_AVGPOOL : MPQ_LAYER_MAXPOOL;
    cs->groups = 1;
    if ((st = plan_window(net, op, &o->opt, o->opt.filter_h, o->opt.filter_w, 1, 1, T(net, it), cs,
                          err, errlen)))
        return st;
    cs->out_c = cs->in_c;
    if ((st = check_window_out(net, op, ot, cs, err, errlen)))
        return st;
    float s_in, s_out;
    int32_t z_in, z_out;
    if ((st = io_quant(net, op, it, ot, &s_in, &z_in, &s_out, &z_out, err, errlen)) ||
        (st = act_range(net, op, o->opt.activation, s_out, z_out, &p->act_min, &p->act_max, err,
                        errlen)))
        return st;
    /* The reference pools the raw values: input and output share their quantization. */
    p->k = K_POOL;
    p->in = it;
    p->out = ot;
    return plan_layer(net, op, p, cs, err, errlen);
}

/* ---- ADD ---- */

static int plan_add(mpq_net *net, unsigned op, plan *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &net->m->ops[op];
    int st;
    if ((st = nio(net, op, 2, 2, 1, err, errlen)))
        return st;
    int a = o->in[0], b = o->in[1], ot = o->out[0];
    if ((st = want_type(net, op, "input", a, MPQ_TFL_INT8, err, errlen)) ||
        (st = want_type(net, op, "input", b, MPQ_TFL_INT8, err, errlen)) ||
        (st = want_type(net, op, "output", ot, MPQ_TFL_INT8, err, errlen)))
        return st;
    const mpq_tfl_tensor *ta = T(net, a), *tb = T(net, b);
    /* Broadcasting: dims aligned at the last axis, each pair equal or one of them 1. */
    unsigned r = ta->rank > tb->rank ? ta->rank : tb->rank;
    int64_t od[MAX_RANK], sa = 1, sb = 1;
    for (int i = (int)r - 1; i >= 0; i--) {
        int ia = i - (int)(r - ta->rank), ib = i - (int)(r - tb->rank);
        int64_t da = ia >= 0 ? ta->shape[ia] : 1, db = ib >= 0 ? tb->shape[ib] : 1;
        if (da < 0 || db < 0 || (da != db && da != 1 && db != 1)) {
            char s1[96], s2[96];
            return op_fail(net, op, err, errlen, "input shapes %s and %s do not broadcast",
                           shape_str(ta, s1, sizeof s1), shape_str(tb, s2, sizeof s2));
        }
        od[i] = da == 1 ? db : da;
        p->s1[i] = da == 1 ? 0 : sa;
        p->s2[i] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
    }
    if ((st = check_out_dims(net, op, ot, od, r, err, errlen)))
        return st;
    p->rank = r;
    memcpy(p->odim, od, sizeof od);
    p->bcast = !same_dims(ta, tb);
    float s1, s2, so;
    int32_t z1, z2, zo;
    mpq_tfl_add prm;
    if ((st = per_tensor(net, op, "input", a, &s1, &z1, err, errlen)) ||
        (st = per_tensor(net, op, "input", b, &s2, &z2, err, errlen)) ||
        (st = per_tensor(net, op, "output", ot, &so, &zo, err, errlen)))
        return st;
    if (o->opt_type != 11 && o->opt_type != 0)
        return op_fail(net, op, err, errlen, "options table of type %d, expected AddOptions",
                       o->opt_type);
    if (mpq_tfl_add_prepare(s1, z1, s2, z2, so, zo, o->opt.activation, &prm))
        return op_fail(net, op, err, errlen, "scales %g + %g -> %g or activation %s give "
                       "multipliers the reference cannot represent", (double)s1, (double)s2,
                       (double)so, mpq_tfl_act_name(o->opt.activation));
    /* The whole function of two int8 values, once (counted with the tensors' bytes: a
     * file of many small ADD operators must not make the plan allocate without limit). */
    size_t limit = net->o.max_bytes ? net->o.max_bytes : NET_MAX_BYTES;
    if (net->bytes > limit - 65536)
        return op_fail(net, op, err, errlen, "the model's tensors and tables need more than %zu "
                       "bytes", limit);
    net->bytes += 65536;
    if (!(p->lut = malloc(65536))) {
        snprintf(err, errlen, "%s: out of memory", net->m->file);
        return MPQ_ENOMEM;
    }
    for (int x = -128; x < 128; x++)
        for (int y = -128; y < 128; y++)
            p->lut[(x + 128) * 256 + (y + 128)] = mpq_tfl_add_one(&prm, (int8_t)x, (int8_t)y);
    p->k = K_ADD;
    p->in = a;
    p->in2 = b;
    p->out = ot;
    return MPQ_OK;
}

/* ---- MEAN ---- */

static int plan_mean(mpq_net *net, unsigned op, plan *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &net->m->ops[op];
    int st;
    if ((st = nio(net, op, 2, 2, 1, err, errlen)))
        return st;
    int it = o->in[0], at = o->in[1], ot = o->out[0];
    if ((st = want_type(net, op, "input", it, MPQ_TFL_INT8, err, errlen)) ||
        (st = want_type(net, op, "output", ot, MPQ_TFL_INT8, err, errlen)) ||
        (st = want_type(net, op, "axis", at, MPQ_TFL_INT32, err, errlen)) ||
        (st = need_const(net, op, "axis", at, err, errlen)))
        return st;
    const mpq_tfl_tensor *in = T(net, it);
    unsigned r = in->rank;
    int red[MAX_RANK] = {0};
    for (int64_t i = 0; i < net->t[at].count; i++) {
        int64_t a = get_i32(net, at, i);
        if (a < -(int64_t)r || a >= (int64_t)r)
            return op_fail(net, op, err, errlen, "axis %lld outside a rank-%u input",
                           (long long)a, r);
        red[a < 0 ? a + (int64_t)r : a] = 1;
    }
    int64_t od[MAX_RANK], n = 1, stride = 1;
    unsigned orank = 0;
    for (int i = (int)r - 1; i >= 0; i--) { /* output strides per input axis */
        p->odim[i] = in->shape[i];
        if (red[i]) {
            n *= in->shape[i];
            p->s1[i] = 0;
        } else {
            p->s1[i] = stride;
            stride *= in->shape[i];
        }
    }
    for (unsigned i = 0; i < r; i++)
        if (!red[i] || o->opt.keep_dims)
            od[orank++] = red[i] ? 1 : in->shape[i];
    if ((st = check_out_dims(net, op, ot, od, orank, err, errlen)))
        return st;
    if (n < 1)
        return op_fail(net, op, err, errlen, "reduces over no element");
    float s_in, s_out;
    int32_t mult;
    int shift;
    if ((st = per_tensor(net, op, "input", it, &s_in, &p->in_zp, err, errlen)) ||
        (st = per_tensor(net, op, "output", ot, &s_out, &p->out_zp, err, errlen)))
        return st;
    if (mpq_tfl_multiplier((double)s_in / (double)s_out, &mult, &shift))
        return op_fail(net, op, err, errlen, "scale ratio %g cannot be represented",
                       (double)s_in / (double)s_out);
    mpq_tfl_mean_params(mult, shift, n, &p->mean_mult, &p->mean_shift);
    /* Reduced axes in one contiguous run (NHWC means over H and W): out[o][i] is the sum of
     * x[o][r][i] over r, without the general index walk. */
    int first = -1, last = -1, contiguous = 1;
    for (int i = 0; i < (int)r; i++)
        if (red[i]) {
            contiguous &= first < 0 || last == i - 1;
            first = first < 0 ? i : first;
            last = i;
        }
    p->outer = 0;
    if (contiguous && first >= 0) {
        p->outer = 1;
        p->depth = 1;
        for (int i = 0; i < first; i++)
            p->outer *= in->shape[i];
        for (int i = last + 1; i < (int)r; i++)
            p->depth *= (unsigned)in->shape[i];
    }
    p->k = K_MEAN;
    p->rank = r;
    p->n_red = n;
    p->in = it;
    p->out = ot;
    net->max_out = (size_t)stride > net->max_out ? (size_t)stride : net->max_out;
    return MPQ_OK;
}

/* ---- SOFTMAX, LOGISTIC, QUANTIZE, DEQUANTIZE ---- */

static int plan_softmax(mpq_net *net, unsigned op, plan *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &net->m->ops[op];
    int st;
    if ((st = nio(net, op, 1, 1, 1, err, errlen)))
        return st;
    int it = o->in[0], ot = o->out[0];
    if ((st = want_type(net, op, "input", it, MPQ_TFL_INT8, err, errlen)) ||
        (st = want_type(net, op, "output", ot, MPQ_TFL_INT8, err, errlen)))
        return st;
    const mpq_tfl_tensor *in = T(net, it);
    if (!same_dims(in, T(net, ot)) || in->rank < 1 || in->shape[in->rank - 1] < 1)
        return op_fail(net, op, err, errlen, "input and output shapes differ or are empty");
    float s_in, s_out;
    int32_t z_in, z_out;
    if ((st = io_quant(net, op, it, ot, &s_in, &z_in, &s_out, &z_out, err, errlen)))
        return st;
    if (s_out != 1.0f / 256 || z_out != -128)
        return op_fail(net, op, err, errlen, "output scale %g and zero point %d (the reference "
                       "requires 1/256 and -128)", (double)s_out, z_out);
    if (o->opt_type != 9)
        return op_fail(net, op, err, errlen, "options table of type %d, expected SoftmaxOptions",
                       o->opt_type);
    if (mpq_tfl_softmax_prepare(o->opt.beta, s_in, &p->sm))
        return op_fail(net, op, err, errlen, "beta %g x input scale %g is outside the range of "
                       "the reference's fixed-point exp (it aborts on this model)",
                       (double)o->opt.beta, (double)s_in);
    p->k = K_SOFTMAX;
    p->in = it;
    p->out = ot;
    p->depth = (unsigned)in->shape[in->rank - 1];
    p->rows = net->t[it].count / p->depth;
    return MPQ_OK;
}

/* Elementwise int8 -> int8 with one input: a 256-entry table of the reference's function. */
static int plan_lut(mpq_net *net, unsigned op, plan *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &net->m->ops[op];
    int it = o->in[0], ot = o->out[0], st;
    float s_in, s_out;
    int32_t z_in, z_out;
    if ((st = io_quant(net, op, it, ot, &s_in, &z_in, &s_out, &z_out, err, errlen)))
        return st;
    if (!(p->lut = malloc(256))) {
        snprintf(err, errlen, "%s: out of memory", net->m->file);
        return MPQ_ENOMEM;
    }
    if (o->code == MPQ_TFL_LOGISTIC) {
        mpq_tfl_logistic lg;
        if (z_out != -128)
            return op_fail(net, op, err, errlen, "output zero point %d (the reference requires "
                           "-128)", z_out);
        if (mpq_tfl_logistic_prepare(s_in, z_in, &lg))
            return op_fail(net, op, err, errlen, "input scale %g is outside the reference's range",
                           (double)s_in);
        for (int x = -128; x < 128; x++)
            p->lut[x + 128] = mpq_tfl_logistic_one(&lg, (int8_t)x);
    } else { /* QUANTIZE int8 -> int8 */
        int32_t mult;
        int shift;
        if (mpq_tfl_multiplier((double)s_in / (double)s_out, &mult, &shift))
            return op_fail(net, op, err, errlen, "scale ratio %g cannot be represented",
                           (double)s_in / (double)s_out);
        for (int x = -128; x < 128; x++)
            p->lut[x + 128] = mpq_tfl_requantize((int8_t)x, z_in, z_out, mult, shift);
    }
    p->k = K_LUT;
    p->in = it;
    p->out = ot;
    return MPQ_OK;
}

static int plan_quant(mpq_net *net, unsigned op, plan *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &net->m->ops[op];
    int st;
    if ((st = nio(net, op, 1, 1, 1, err, errlen)))
        return st;
    int it = o->in[0], ot = o->out[0];
    if (!same_dims(T(net, it), T(net, ot)))
        return op_fail(net, op, err, errlen, "input and output shapes differ");
    int ti = T(net, it)->type, to = T(net, ot)->type;
    if (o->code == MPQ_TFL_LOGISTIC) {
        if (ti != MPQ_TFL_INT8)
            return bad_type(net, op, "input", it, "INT8", err, errlen);
        if (to != MPQ_TFL_INT8)
            return bad_type(net, op, "output", ot, "INT8", err, errlen);
        return plan_lut(net, op, p, err, errlen);
    }
    if (o->code == MPQ_TFL_DEQUANTIZE) {
        if (ti != MPQ_TFL_INT8)
            return bad_type(net, op, "input", it, "INT8", err, errlen);
        if (to != MPQ_TFL_FLOAT32)
            return bad_type(net, op, "output", ot, "FLOAT32", err, errlen);
        if ((st = per_tensor(net, op, "input", it, &p->scale, &p->in_zp, err, errlen)))
            return st;
        p->k = K_DEQUANT;
    } else { /* QUANTIZE */
        if (to != MPQ_TFL_INT8)
            return bad_type(net, op, "output", ot, "INT8", err, errlen);
        if (ti == MPQ_TFL_INT8)
            return plan_lut(net, op, p, err, errlen);
        if (ti != MPQ_TFL_FLOAT32)
            return bad_type(net, op, "input", it, "FLOAT32 or INT8", err, errlen);
        if ((st = per_tensor(net, op, "output", ot, &p->scale, &p->out_zp, err, errlen)))
            return st;
        p->k = K_QUANT_F32;
    }
    p->in = it;
    p->out = ot;
    return MPQ_OK;
}

/* ---- data movement: PAD, RESHAPE, CONCATENATION, PACK, SHAPE, STRIDED_SLICE ---- */

/* Types the data-movement operators carry. */
static int movable(int type)
{
    return type == MPQ_TFL_INT8 || type == MPQ_TFL_INT32 || type == MPQ_TFL_FLOAT32 ||
           type == MPQ_TFL_INT64;
}

static int same_quant(const mpq_tfl_tensor *a, const mpq_tfl_tensor *b)
{
    if (a->type != MPQ_TFL_INT8)
        return 1;
    return a->q.nscale == 1 && b->q.nscale == 1 && a->q.nzero == 1 && b->q.nzero == 1 &&
           a->q.scale[0] == b->q.scale[0] && a->q.zero_point[0] == b->q.zero_point[0];
}

static int want_movable(const mpq_net *net, unsigned op, int it, int ot, char *err, size_t errlen)
{
    int ti = T(net, it)->type;
    if (!movable(ti))
        return bad_type(net, op, "input", it, "INT8, INT32, INT64 or FLOAT32", err, errlen);
    if (T(net, ot)->type != ti)
        return bad_type(net, op, "output", ot, mpq_tfl_type_name(ti), err, errlen);
    return MPQ_OK;
}

static int plan_pad(mpq_net *net, unsigned op, plan *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &net->m->ops[op];
    int st;
    if ((st = nio(net, op, 2, 2, 1, err, errlen)))
        return st;
    int it = o->in[0], pt = o->in[1], ot = o->out[0];
    if ((st = want_movable(net, op, it, ot, err, errlen)) ||
        (st = need_const(net, op, "paddings", pt, err, errlen)))
        return st;
    const mpq_tfl_tensor *in = T(net, it), *pads = T(net, pt);
    unsigned r = in->rank;
    if ((pads->type != MPQ_TFL_INT32 && pads->type != MPQ_TFL_INT64) || pads->rank != 2 ||
        pads->shape[0] != (int32_t)r || pads->shape[1] != 2)
        return op_fail(net, op, err, errlen, "paddings tensor %d must be INT32 or INT64 [%u][2]",
                       pt, r);
    int64_t od[MAX_RANK];
    for (unsigned i = 0; i < r; i++) {
        int64_t b = get_index(net, pt, 2 * i), a = get_index(net, pt, 2 * i + 1);
        if (b < 0 || a < 0 || b > INT32_MAX || a > INT32_MAX)
            return op_fail(net, op, err, errlen, "negative or huge padding on axis %u", i);
        p->before[i] = b;
        od[i] = in->shape[i] + b + a;
    }
    if ((st = check_out_dims(net, op, ot, od, r, err, errlen)))
        return st;
    p->pad_i8 = 0;
    if (in->type == MPQ_TFL_INT8) { /* padded with the output's zero point (raw copy) */
        float s;
        int32_t z;
        if ((st = per_tensor(net, op, "output", ot, &s, &z, err, errlen)))
            return st;
        p->pad_i8 = (int8_t)z;
    }
    p->k = K_PAD;
    p->rank = r;
    for (unsigned i = 0; i < r; i++)
        p->odim[i] = in->shape[i];
    p->esize = esize_of(in->type);
    p->in = it;
    p->out = ot;
    p->fold = net->t[it].have;
    return MPQ_OK;
}

static int plan_reshape(mpq_net *net, unsigned op, plan *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &net->m->ops[op];
    int st;
    if ((st = nio(net, op, 1, 2, 1, err, errlen)))
        return st;
    int it = o->in[0], ot = o->out[0];
    if ((st = want_movable(net, op, it, ot, err, errlen)))
        return st;
    if (net->t[it].count != mpq_tfl_elements(T(net, ot)))
        return op_fail(net, op, err, errlen, "input of %lld elements, output of %lld",
                       (long long)net->t[it].count, (long long)mpq_tfl_elements(T(net, ot)));
    if (!same_quant(T(net, it), T(net, ot)))
        return op_fail(net, op, err, errlen, "input and output quantization differ");
    p->k = K_COPY;
    p->in = it;
    p->out = ot;
    p->fold = net->t[it].have;
    return MPQ_OK;
}

/* CONCATENATION and PACK: the output is `outer` rows, each the concatenation of one
 * `inner[s]`-element run of every source. */
static int plan_concat(mpq_net *net, unsigned op, plan *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &net->m->ops[op];
    int pack = o->code == MPQ_TFL_PACK, st;
    if (o->nin < 1 || o->nout != 1)
        return op_fail(net, op, err, errlen, "has %u inputs and %u outputs", o->nin, o->nout);
    if (o->opt_type != (pack ? 59 : 10))
        return op_fail(net, op, err, errlen, "options table of type %d, expected %s", o->opt_type,
                       pack ? "PackOptions" : "ConcatenationOptions");
    if (pack && o->opt.values_count != (int)o->nin)
        return op_fail(net, op, err, errlen, "values_count %d with %u inputs", o->opt.values_count,
                       o->nin);
    if (!pack && o->opt.activation)
        return op_fail(net, op, err, errlen, "fused activation %s is not supported",
                       mpq_tfl_act_name(o->opt.activation));
    int ot = o->out[0];
    const mpq_tfl_tensor *first = NULL;
    p->src = malloc(o->nin * sizeof *p->src);
    p->inner = malloc(o->nin * sizeof *p->inner);
    if (!p->src || !p->inner) {
        snprintf(err, errlen, "%s: out of memory", net->m->file);
        return MPQ_ENOMEM;
    }
    int fold = 1;
    for (unsigned s = 0; s < o->nin; s++) {
        int it = o->in[s];
        if (it < 0)
            return op_fail(net, op, err, errlen, "input %u is missing", s);
        if ((st = want_movable(net, op, it, ot, err, errlen)))
            return st;
        if (!same_quant(T(net, it), T(net, ot)))
            return op_fail(net, op, err, errlen, "input %u's quantization differs from the "
                           "output's (requantizing concatenation is not supported)", s);
        p->src[s] = it;
        fold &= net->t[it].have;
        first = first ? first : T(net, it);
    }
    unsigned r = first->rank, orank = pack ? r + 1 : r;
    int axis = o->opt.axis < 0 ? o->opt.axis + (int)orank : o->opt.axis;
    if (axis < 0 || axis >= (int)orank || orank > MAX_RANK)
        return op_fail(net, op, err, errlen, "axis %d outside rank %u", o->opt.axis, orank);
    int64_t od[MAX_RANK], total = 0;
    for (unsigned s = 0; s < o->nin; s++) {
        const mpq_tfl_tensor *x = T(net, p->src[s]);
        int ok = x->rank == r;
        for (unsigned i = 0; ok && i < r; i++) /* concatenation: equal except along axis */
            ok = x->shape[i] == first->shape[i] || (!pack && (int)i == axis);
        if (!ok)
            return op_fail(net, op, err, errlen, "input %u's shape does not match input 0's", s);
        int64_t inner = 1;
        for (unsigned i = (unsigned)axis; i < r; i++)
            inner *= x->shape[i];
        p->inner[s] = inner;
        total += pack ? 1 : x->shape[axis];
    }
    for (unsigned i = 0; i < orank; i++) /* pack inserts the new axis */
        od[i] = (int)i == axis ? total : first->shape[pack && (int)i > axis ? i - 1 : i];
    if ((st = check_out_dims(net, op, ot, od, orank, err, errlen)))
        return st;
    p->outer = 1;
    for (int i = 0; i < axis; i++)
        p->outer *= first->shape[i];
    p->k = K_CONCAT;
    p->nsrc = o->nin;
    p->esize = esize_of(first->type);
    p->out = ot;
    p->fold = fold;
    return MPQ_OK;
}

static int plan_shape(mpq_net *net, unsigned op, plan *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &net->m->ops[op];
    int st;
    if ((st = nio(net, op, 1, 1, 1, err, errlen)))
        return st;
    int it = o->in[0], ot = o->out[0];
    if (T(net, ot)->type != MPQ_TFL_INT32)
        return bad_type(net, op, "output", ot, "INT32", err, errlen);
    int64_t od[1] = {T(net, it)->rank};
    if ((st = check_out_dims(net, op, ot, od, 1, err, errlen)))
        return st;
    p->k = K_SHAPE;
    p->in = it;
    p->out = ot;
    p->fold = 1; /* shapes are static */
    return MPQ_OK;
}

static int plan_slice(mpq_net *net, unsigned op, plan *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &net->m->ops[op];
    int st;
    if ((st = nio(net, op, 4, 4, 1, err, errlen)))
        return st;
    int it = o->in[0], ot = o->out[0];
    if ((st = want_movable(net, op, it, ot, err, errlen)))
        return st;
    if (o->opt_type != 32)
        return op_fail(net, op, err, errlen, "options table of type %d, expected "
                       "StridedSliceOptions", o->opt_type);
    const mpq_tfl_opts *opt = &o->opt;
    if (opt->ellipsis_mask || opt->new_axis_mask)
        return op_fail(net, op, err, errlen, "ellipsis and new-axis masks are not supported");
    const mpq_tfl_tensor *in = T(net, it);
    unsigned r = in->rank;
    if (r < 1 || r > 5)
        return op_fail(net, op, err, errlen, "input rank %u (1 to 5 are supported)", r);
    const char *role[3] = {"begin", "end", "strides"};
    for (int j = 0; j < 3; j++) {
        int vt = o->in[1 + j];
        if ((st = want_type(net, op, role[j], vt, MPQ_TFL_INT32, err, errlen)) ||
            (st = net->t[vt].have ? 0 : op_fail(net, op, err, errlen, "%s tensor %d is not "
                                                "known before the run", role[j], vt)))
            return st;
        if (net->t[vt].count != (int64_t)r)
            return op_fail(net, op, err, errlen, "%s tensor %d has %lld values for rank %u",
                           role[j], vt, (long long)net->t[vt].count, r);
    }
    int64_t od[MAX_RANK], stride = 1;
    unsigned orank = 0;
    int64_t estride[MAX_RANK];
    for (int i = (int)r - 1; i >= 0; i--) {
        estride[i] = stride;
        stride *= in->shape[i];
    }
    for (unsigned i = 0; i < r; i++) {
        int64_t dim = in->shape[i];
        int64_t b = get_i32(net, o->in[1], i), e = get_i32(net, o->in[2], i);
        int64_t s = get_i32(net, o->in[3], i);
        if (s == 0)
            return op_fail(net, op, err, errlen, "stride 0 on axis %u", i);
        int shrink = (opt->shrink_axis_mask >> i) & 1;
        /* TFLite's StridedSliceStartForAxis / EndForAxis. */
        if (b < 0)
            b += dim;
        b = s > 0 ? (b < 0 ? 0 : b > dim ? dim : b) : (b < -1 ? -1 : b > dim - 1 ? dim - 1 : b);
        if ((opt->begin_mask >> i) & 1)
            b = s > 0 ? 0 : dim - 1;
        if (shrink) {
            e = b >= dim ? b : b + 1;
        } else {
            if (opt->offset)
                e += b;
            if (e < 0)
                e += dim;
            e = s > 0 ? (e < 0 ? 0 : e > dim ? dim : e) : (e < -1 ? -1 : e > dim - 1 ? dim - 1 : e);
            if ((opt->end_mask >> i) & 1)
                e = s > 0 ? dim : -1;
        }
        int64_t n = s > 0 ? (e - b + s - 1) / s : (b - e - s - 1) / -s;
        n = n < 0 ? 0 : n;
        if (shrink && n != 1)
            return op_fail(net, op, err, errlen, "shrunk axis %u selects %lld elements", i,
                           (long long)n);
        p->start[i] = b;
        p->step[i] = s * estride[i];
        p->odim[i] = n;
        if (!shrink)
            od[orank++] = n;
    }
    if ((st = check_out_dims(net, op, ot, od, orank, err, errlen)))
        return st;
    p->k = K_SLICE;
    p->rank = r;
    p->s1[0] = 0;
    for (unsigned i = 0; i < r; i++) /* the start offset in elements */
        p->s1[0] += p->start[i] * estride[i];
    p->esize = esize_of(in->type);
    p->in = it;
    p->out = ot;
    p->fold = net->t[it].have;
    return MPQ_OK;
}

/* ---- running ---- */

/* Multi-index walk over `rank` dims: advances idx, returns 0 after the last element. */
static int next_index(int64_t *idx, const int64_t *dims, unsigned rank)
{
    for (int i = (int)rank - 1; i >= 0; i--) {
        if (++idx[i] < dims[i])
            return 1;
        idx[i] = 0;
    }
    return 0;
}

static void run_add(mpq_net *net, const plan *p)
{
    const int8_t *a = net->t[p->in].data, *b = net->t[p->in2].data;
    int8_t *y = net->t[p->out].data;
    const int8_t *lut = p->lut;
    int64_t n = net->t[p->out].count;
    if (!p->bcast) {
        for (int64_t i = 0; i < n; i++)
            y[i] = lut[((int)a[i] + 128) * 256 + ((int)b[i] + 128)];
        return;
    }
    int64_t idx[MAX_RANK] = {0};
    int64_t ia = 0, ib = 0;
    for (int64_t i = 0; i < n; i++) {
        ia = ib = 0;
        for (unsigned d = 0; d < p->rank; d++) {
            ia += idx[d] * p->s1[d];
            ib += idx[d] * p->s2[d];
        }
        y[i] = lut[((int)a[ia] + 128) * 256 + ((int)b[ib] + 128)];
        next_index(idx, p->odim, p->rank);
    }
}

static void run_mean(mpq_net *net, const plan *p)
{
    const int8_t *x = net->t[p->in].data;
    int8_t *y = net->t[p->out].data;
    int64_t nout = net->t[p->out].count, nin = net->t[p->in].count;
    uint32_t *sum = (uint32_t *)net->ys; /* int32 sums that wrap as the reference's do */
    memset(sum, 0, (size_t)nout * sizeof *sum);
    if (p->outer) { /* contiguous reduced axes */
        const size_t inner = p->depth;
        for (int64_t o = 0; o < p->outer; o++)
            for (int64_t r = 0; r < p->n_red; r++) {
                const int8_t *src = x + ((size_t)o * (size_t)p->n_red + (size_t)r) * inner;
                uint32_t *dst = sum + (size_t)o * inner;
                for (size_t i = 0; i < inner; i++)
                    dst[i] += (uint32_t)(int32_t)src[i];
            }
    } else {
        int64_t idx[MAX_RANK] = {0};
        for (int64_t i = 0; i < nin; i++) {
            int64_t o = 0;
            for (unsigned d = 0; d < p->rank; d++)
                o += idx[d] * p->s1[d];
            sum[o] += (uint32_t)(int32_t)x[i];
            next_index(idx, p->odim, p->rank);
        }
    }
    for (int64_t o = 0; o < nout; o++)
        y[o] = mpq_tfl_mean_one((int32_t)sum[o], p->n_red, p->in_zp, p->out_zp, p->mean_mult,
                                p->mean_shift);
}

static void run_pad(mpq_net *net, const plan *p)
{
    const uint8_t *x = net->t[p->in].data;
    uint8_t *y = net->t[p->out].data;
    const mpq_tfl_tensor *o = T(net, p->out);
    size_t es = p->esize;
    int64_t nout = net->t[p->out].count, nin = net->t[p->in].count;
    if (es == 1)
        memset(y, (uint8_t)p->pad_i8, (size_t)nout);
    else
        memset(y, 0, (size_t)nout * es); /* int32, int64 and float padding: 0 */
    if (!nin)
        return;
    int64_t ostr[MAX_RANK], s = 1;
    for (int i = (int)p->rank - 1; i >= 0; i--) {
        ostr[i] = s;
        s *= o->shape[i];
    }
    int64_t idx[MAX_RANK] = {0};
    int64_t run = p->rank ? p->odim[p->rank - 1] : 1; /* copy whole innermost rows */
    for (int64_t i = 0; i < nin; i += run) {
        int64_t at = 0;
        for (unsigned d = 0; d < p->rank; d++)
            at += (idx[d] + p->before[d]) * ostr[d];
        memcpy(y + at * es, x + i * es, (size_t)run * es);
        if (p->rank)
            idx[p->rank - 1] = run - 1;
        next_index(idx, p->odim, p->rank);
    }
}

static void run_concat(mpq_net *net, const plan *p)
{
    uint8_t *y = net->t[p->out].data;
    size_t es = p->esize;
    for (int64_t r = 0; r < p->outer; r++)
        for (unsigned s = 0; s < p->nsrc; s++) {
            size_t run = (size_t)p->inner[s] * es;
            memcpy(y, (const uint8_t *)net->t[p->src[s]].data + (size_t)r * run, run);
            y += run;
        }
}

static void run_slice(mpq_net *net, const plan *p)
{
    const uint8_t *x = net->t[p->in].data;
    uint8_t *y = net->t[p->out].data;
    int64_t n = net->t[p->out].count, idx[MAX_RANK] = {0};
    for (int64_t i = 0; i < n; i++) {
        int64_t at = p->s1[0];
        for (unsigned d = 0; d < p->rank; d++)
            at += idx[d] * p->step[d];
        memcpy(y + i * p->esize, x + at * p->esize, p->esize);
        next_index(idx, p->odim, p->rank);
    }
}

/* The report of a layer's run folded into its report over all runs. */
static void note_report(mpq_net *net, const plan *p, const mpq_layer_ovf *o)
{
    mpq_net_layer_report *r = &net->rep[p->report];
    const mpq_conv_shape *s = &p->cs;
    size_t nout = (size_t)net->t[p->out].count;
    if (!r->outputs || o->final_lo < r->acc_lo)
        r->acc_lo = o->final_lo;
    if (!r->outputs || o->final_hi > r->acc_hi)
        r->acc_hi = o->final_hi;
    r->outputs += nout;
    r->n_any += o->n_any;
    r->n_final += o->n_final;
    r->min_bits = o->min_bits > r->min_bits ? o->min_bits : r->min_bits;
    if (o->first_out < 0 || r->first[0] >= 0)
        return;
    size_t i = (size_t)o->first_out;
    if (p->k == K_FC) {
        r->first[0] = (long)(i / p->fc_n);
        r->first[1] = r->first[2] = 0;
        r->first[3] = (long)(i % p->fc_n);
    } else {
        size_t pix = i / s->out_c;
        r->first[3] = (long)(i % s->out_c);
        r->first[2] = (long)(pix % s->out_w);
        r->first[1] = (long)(pix / s->out_w % s->out_h);
        r->first[0] = (long)(pix / s->out_w / s->out_h);
    }
    r->first_term = o->first_term;
    r->first_run = net->runs;
}

static int run_layer(mpq_net *net, const plan *p, char *err, size_t errlen)
{
    mpq_layer_ovf o;
    memset(&o, 0, sizeof o);
    mpq_layer_out out = {.y8 = net->t[p->out].data, .ovf = p->report >= 0 ? &o : NULL};
    char why[400];
    if (mpq_layer_run(p->layer, NULL, net->t[p->in].data, &out, net->scratch, why, sizeof why))
        return op_fail(net, p->op, err, errlen, "%s", why);
    if (p->report >= 0)
        note_report(net, p, &o);
    return MPQ_OK;
}

static int run_op(mpq_net *net, const plan *p, char *err, size_t errlen)
{
    tval *out = &net->t[p->out];
    switch (p->k) {
    case K_CONV:
    case K_FC:
    case K_POOL:
        return run_layer(net, p, err, errlen);
    case K_ADD:
        run_add(net, p);
        break;
    case K_MEAN:
        run_mean(net, p);
        break;
    case K_SOFTMAX: {
        const int8_t *x = net->t[p->in].data;
        int8_t *y = out->data;
        for (int64_t r = 0; r < p->rows; r++)
            if (mpq_tfl_softmax_row(&p->sm, x + r * p->depth, p->depth, y + r * p->depth))
                return op_fail(net, p->op, err, errlen, "row %lld: the sum of exponentials "
                               "leaves the reference's range (it aborts here)", (long long)r);
        break;
    }
    case K_LUT: {
        const int8_t *x = net->t[p->in].data;
        int8_t *y = out->data;
        for (int64_t i = 0; i < out->count; i++)
            y[i] = p->lut[(int)x[i] + 128];
        break;
    }
    case K_QUANT_F32: {
        const float *x = net->t[p->in].data;
        int8_t *y = out->data;
        mpq_tfl_quantize_f32_n(x, y, (size_t)out->count, p->scale, p->out_zp);
        break;
    }
    case K_DEQUANT: {
        const int8_t *x = net->t[p->in].data;
        float *y = out->data;
        for (int64_t i = 0; i < out->count; i++)
            y[i] = mpq_tfl_dequantize(x[i], p->scale, p->in_zp);
        break;
    }
    case K_PAD:
        run_pad(net, p);
        break;
    case K_COPY:
        memcpy(out->data, net->t[p->in].data, out->bytes);
        break;
    case K_CONCAT:
        run_concat(net, p);
        break;
    case K_SHAPE: {
        const mpq_tfl_tensor *x = T(net, p->in);
        for (unsigned i = 0; i < x->rank; i++)
            memcpy((uint8_t *)out->data + 4 * i, &x->shape[i], 4);
        break;
    }
    case K_SLICE:
        run_slice(net, p);
        break;
    }
    return MPQ_OK;
}

/* ---- plan ---- */

/* The operators the golden model runs. */
static int supported(const mpq_net *net, unsigned op, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &net->m->ops[op];
    static const int codes[] = {
        MPQ_TFL_CONV_2D, MPQ_TFL_DEPTHWISE_CONV_2D, MPQ_TFL_FULLY_CONNECTED, MPQ_TFL_ADD,
        MPQ_TFL_AVERAGE_POOL_2D, MPQ_TFL_MAX_POOL_2D, MPQ_TFL_MEAN, MPQ_TFL_PAD, MPQ_TFL_RESHAPE,
        MPQ_TFL_SOFTMAX, MPQ_TFL_LOGISTIC, MPQ_TFL_QUANTIZE, MPQ_TFL_DEQUANTIZE,
        MPQ_TFL_CONCATENATION, MPQ_TFL_SHAPE, MPQ_TFL_STRIDED_SLICE, MPQ_TFL_PACK};
    if (o->custom)
        return op_fail(net, op, err, errlen, "custom operator '%s' is not supported", o->custom);
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (o->code == codes[i])
            return MPQ_OK;
    return op_fail(net, op, err, errlen, "operator not supported (the golden model runs CONV_2D, "
                   "DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, AVERAGE_POOL_2D, MAX_POOL_2D, MEAN, "
                   "PAD, RESHAPE, SOFTMAX, LOGISTIC, QUANTIZE, DEQUANTIZE, CONCATENATION, SHAPE, "
                   "STRIDED_SLICE, PACK)");
}

static int plan_op(mpq_net *net, unsigned op, plan *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &net->m->ops[op];
    p->op = op;
    p->code = o->code;
    p->report = -1;
    p->in = p->in2 = p->out = -1;
    switch (o->code) {
    case MPQ_TFL_CONV_2D:
    case MPQ_TFL_DEPTHWISE_CONV_2D: return plan_conv(net, op, p, err, errlen);
    case MPQ_TFL_FULLY_CONNECTED: return plan_fc(net, op, p, err, errlen);
    case MPQ_TFL_AVERAGE_POOL_2D:
    case MPQ_TFL_MAX_POOL_2D: return plan_pool(net, op, p, err, errlen);
    case MPQ_TFL_ADD: return plan_add(net, op, p, err, errlen);
    case MPQ_TFL_MEAN: return plan_mean(net, op, p, err, errlen);
    case MPQ_TFL_SOFTMAX: return plan_softmax(net, op, p, err, errlen);
    case MPQ_TFL_LOGISTIC:
    case MPQ_TFL_QUANTIZE:
    case MPQ_TFL_DEQUANTIZE: return plan_quant(net, op, p, err, errlen);
    case MPQ_TFL_PAD: return plan_pad(net, op, p, err, errlen);
    case MPQ_TFL_RESHAPE: return plan_reshape(net, op, p, err, errlen);
    case MPQ_TFL_CONCATENATION:
    case MPQ_TFL_PACK: return plan_concat(net, op, p, err, errlen);
    case MPQ_TFL_SHAPE: return plan_shape(net, op, p, err, errlen);
    case MPQ_TFL_STRIDED_SLICE: return plan_slice(net, op, p, err, errlen);
    default:
        return supported(net, op, err, errlen);
    }
}

/* Storage of a tensor an operator writes or the caller sets. */
static int alloc_tensor(mpq_net *net, int ti, char *err, size_t errlen)
{
    const mpq_tfl_tensor *x = T(net, ti);
    tval *v = &net->t[ti];
    unsigned es = esize_of(x->type);
    int64_t n = mpq_tfl_elements(x);
    char s[96];
    if (!es || n < 0) {
        snprintf(err, errlen, "%s: tensor %d (%s %s) has no fixed size", net->m->file, ti,
                 mpq_tfl_type_name(x->type), shape_str(x, s, sizeof s));
        return MPQ_EPARAM;
    }
    size_t bytes = (size_t)n * es, limit = net->o.max_bytes ? net->o.max_bytes : NET_MAX_BYTES;
    if (bytes > limit || net->bytes > limit - bytes) {
        snprintf(err, errlen, "%s: the model's tensors need more than %zu bytes (tensor %d: %s)",
                 net->m->file, limit, ti, shape_str(x, s, sizeof s));
        return MPQ_EPARAM;
    }
    net->bytes += bytes;
    v->data = calloc(bytes + 8, 1);
    if (!v->data) {
        snprintf(err, errlen, "%s: out of memory", net->m->file);
        return MPQ_ENOMEM;
    }
    v->owned = 1;
    v->bytes = bytes;
    v->count = n;
    return MPQ_OK;
}

void mpq_net_opts_default(mpq_net_opts *o)
{
    memset(o, 0, sizeof *o);
    o->fc_rounding = MPQ_RQ_DOUBLE;
    o->acc_bits = 32;
    o->acc_mode = MPQ_ACC_WRAP;
}

static int plan_all(mpq_net *net, char *err, size_t errlen)
{
    const mpq_tfl_model *m = net->m;
    int st;
    if (m->nsubgraphs > 1) {
        snprintf(err, errlen, "%s: %u subgraphs (control flow is not supported)", m->file,
                 m->nsubgraphs);
        return MPQ_EPARAM;
    }
    for (unsigned i = 0; i < m->ninputs; i++) {
        int ti = m->inputs[i];
        if (net->t[ti].avail)
            continue;
        if (T(net, ti)->data) {
            snprintf(err, errlen, "%s: graph input tensor %d is a constant", m->file, ti);
            return MPQ_EPARAM;
        }
        if ((st = alloc_tensor(net, ti, err, errlen)))
            return st;
        net->t[ti].avail = net->t[ti].computed = 1;
    }
    for (unsigned op = 0; op < m->nops; op++) {
        const mpq_tfl_op *o = &m->ops[op];
        if ((st = supported(net, op, err, errlen)))
            return st;
        /* Inputs: earlier outputs, graph inputs or constants (decoded on first use). */
        for (unsigned j = 0; j < o->nin; j++) {
            int ti = o->in[j];
            if (ti < 0 || net->t[ti].avail)
                continue;
            if (!T(net, ti)->data)
                return op_fail(net, op, err, errlen, "input tensor %d is neither a graph input, "
                               "a constant nor an earlier operator's output", ti);
            if (T(net, ti)->has_sparsity)
                return op_fail(net, op, err, errlen, "input tensor %d is sparse (not supported)",
                               ti);
            if ((st = decode_const(net, ti, err, errlen)))
                return st;
        }
        for (unsigned j = 0; j < o->nout; j++) {
            int ti = o->out[j];
            if (net->t[ti].avail || net->t[ti].data || T(net, ti)->data ||
                T(net, ti)->is_variable)
                return op_fail(net, op, err, errlen, "output tensor %d is already a constant, an "
                               "input, a variable or an earlier output", ti);
            if (!movable(T(net, ti)->type))
                return bad_type(net, op, "output", ti, "INT8, INT32, INT64 or FLOAT32", err,
                                errlen);
            if ((st = alloc_tensor(net, ti, err, errlen)))
                return st;
        }
        plan *p = &net->p[op];
        if ((st = plan_op(net, op, p, err, errlen)))
            return st;
        for (unsigned j = 0; j < o->nout; j++)
            net->t[o->out[j]].avail = net->t[o->out[j]].computed = 1;
        if (p->fold) { /* shape arithmetic: computed now, a constant of the run */
            if ((st = run_op(net, p, err, errlen)))
                return st;
            net->t[p->out].have = 1;
        }
    }
    for (unsigned i = 0; i < m->noutputs; i++)
        if (!net->t[m->outputs[i]].avail) {
            snprintf(err, errlen, "%s: graph output tensor %d is never computed", m->file,
                     m->outputs[i]);
            return MPQ_EPARAM;
        }
    return MPQ_OK;
}

int mpq_net_init(mpq_net **out, const mpq_tfl_model *m, const mpq_net_opts *o, char *err,
                 size_t errlen)
{
    *out = NULL;
    mpq_net *net = calloc(1, sizeof *net);
    if (!net) {
        snprintf(err, errlen, "%s: out of memory", m->file);
        return MPQ_ENOMEM;
    }
    net->m = m;
    if (o)
        net->o = *o;
    else
        mpq_net_opts_default(&net->o);
    if (net->o.acc_bits < 2 || net->o.acc_bits > 32 ||
        (net->o.fc_rounding != MPQ_RQ_DOUBLE && net->o.fc_rounding != MPQ_RQ_SINGLE)) {
        snprintf(err, errlen, "accumulator width %u (2..32) or FC rounding out of range",
                 net->o.acc_bits);
        free(net);
        return MPQ_EPARAM;
    }
    if (net->o.acc_bits < 32 || net->o.acc_mode != MPQ_ACC_WRAP)
        net->o.analyze = 1;
    net->t = calloc(m->ntensors + 1, sizeof *net->t);
    net->p = calloc(m->nops + 1, sizeof *net->p);
    net->np = m->nops;
    int st = MPQ_ENOMEM;
    if (!net->t || !net->p) {
        snprintf(err, errlen, "%s: out of memory", m->file);
        goto fail;
    }
    if ((st = plan_all(net, err, errlen)))
        goto fail;
    net->ys = malloc((net->max_out + 1) * sizeof *net->ys);
    net->scratch = aligned_alloc(16, (net->max_scratch + 16) & ~(size_t)15);
    if (net->o.analyze) {
        for (unsigned i = 0; i < net->np; i++)
            if (net->p[i].k == K_CONV || net->p[i].k == K_FC)
                net->p[i].report = (int)net->nrep++;
        net->rep = calloc(net->nrep + 1, sizeof *net->rep);
        for (unsigned i = 0, j = 0; net->rep && i < net->np; i++)
            if (net->p[i].report >= 0) {
                mpq_net_layer_report *r = &net->rep[j++];
                r->op = i;
                r->code = net->p[i].code;
                r->first[0] = r->first[1] = r->first[2] = r->first[3] = r->first_term = -1;
            }
    }
    if (net->o.profile)
        net->op_seconds = calloc(net->np + 1, sizeof *net->op_seconds);
    st = MPQ_ENOMEM;
    if ((net->o.profile && !net->op_seconds) || !net->ys || !net->scratch ||
        (net->o.analyze && !net->rep)) {
        snprintf(err, errlen, "%s: out of memory", m->file);
        goto fail;
    }
    *out = net;
    return MPQ_OK;
fail:
    mpq_net_free(net);
    return st;
}

void mpq_net_free(mpq_net *net)
{
    if (!net)
        return;
    for (unsigned i = 0; net->t && i < net->m->ntensors; i++)
        if (net->t[i].owned)
            free(net->t[i].data);
    for (unsigned i = 0; net->p && i < net->np; i++) {
        plan *p = &net->p[i];
        free(p->w);
        free(p->mult);
        free(p->shift);
        free(p->lut);
        free(p->src);
        free(p->inner);
        mpq_layer_free(p->layer);
    }
    free(net->scratch);
    free(net->op_seconds);
    free(net->t);
    free(net->p);
    free(net->ys);
    free(net->rep);
    free(net);
}

/* ---- inputs, outputs, results ---- */

unsigned mpq_net_ninputs(const mpq_net *net)
{
    return net->m->ninputs;
}
unsigned mpq_net_noutputs(const mpq_net *net)
{
    return net->m->noutputs;
}
int mpq_net_input_tensor(const mpq_net *net, unsigned i)
{
    return i < net->m->ninputs ? net->m->inputs[i] : -1;
}
int mpq_net_output_tensor(const mpq_net *net, unsigned i)
{
    return i < net->m->noutputs ? net->m->outputs[i] : -1;
}
size_t mpq_net_tensor_bytes(const mpq_net *net, unsigned tensor)
{
    return tensor < net->m->ntensors ? net->t[tensor].bytes : 0;
}

/* Native <-> little-endian copy of `bytes` bytes of `es`-byte elements. */
static void copy_le(uint8_t *dst, const uint8_t *src, size_t bytes, unsigned es)
{
    const uint16_t probe = 1;
    uint8_t little;
    memcpy(&little, &probe, 1);
    if (little || es <= 1) {
        memcpy(dst, src, bytes);
        return;
    }
    for (size_t i = 0; i + es <= bytes; i += es)
        for (unsigned b = 0; b < es; b++)
            dst[i + b] = src[i + es - 1 - b];
}

int mpq_net_set_input(mpq_net *net, unsigned i, const void *bytes, size_t len, char *err,
                      size_t errlen)
{
    int ti = mpq_net_input_tensor(net, i);
    if (ti < 0) {
        snprintf(err, errlen, "%s: the model has %u inputs (no input %u)", net->m->file,
                 net->m->ninputs, i);
        return MPQ_EPARAM;
    }
    tval *v = &net->t[ti];
    if (len != v->bytes) {
        char s[96];
        snprintf(err, errlen, "%s input %u (tensor %d, %s %s) is %zu bytes, got %zu", net->m->file,
                 i, ti, mpq_tfl_type_name(T(net, ti)->type), shape_str(T(net, ti), s, sizeof s),
                 v->bytes, len);
        return MPQ_EPARAM;
    }
    copy_le(v->data, bytes, len, esize_of(T(net, ti)->type));
    v->have = 1;
    return MPQ_OK;
}

int mpq_net_run(mpq_net *net, char *err, size_t errlen)
{
    for (unsigned i = 0; i < net->m->ninputs; i++)
        if (!net->t[net->m->inputs[i]].have) {
            snprintf(err, errlen, "%s: input %u (tensor %d) was never set", net->m->file, i,
                     net->m->inputs[i]);
            return MPQ_EPARAM;
        }
    for (unsigned op = 0; op < net->np; op++) {
        const plan *p = &net->p[op];
        if (p->fold)
            continue;
        struct timespec t0, t1;
        if (net->op_seconds)
            clock_gettime(CLOCK_MONOTONIC, &t0);
        int st = run_op(net, p, err, errlen);
        if (net->op_seconds) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            net->op_seconds[op] += (double)(t1.tv_sec - t0.tv_sec) +
                                   1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        }
        if (st)
            return st;
        net->t[p->out].have = 1;
    }
    net->runs++;
    return MPQ_OK;
}

int mpq_net_tensor_get(const mpq_net *net, unsigned tensor, void *out)
{
    if (tensor >= net->m->ntensors || !net->t[tensor].have)
        return MPQ_EPARAM;
    copy_le(out, net->t[tensor].data, net->t[tensor].bytes, esize_of(T(net, (int)tensor)->type));
    return MPQ_OK;
}

int mpq_net_tensor_computed(const mpq_net *net, unsigned tensor)
{
    return tensor < net->m->ntensors && net->t[tensor].computed && net->t[tensor].have;
}

double mpq_net_op_seconds(const mpq_net *net, unsigned op)
{
    return net->op_seconds && op < net->np ? net->op_seconds[op] : 0.0;
}

const mpq_net_layer_report *mpq_net_reports(const mpq_net *net, unsigned *count)
{
    *count = net->rep ? net->nrep : 0;
    return net->rep;
}

/* a * b for a, b >= 0, saturated at INT64_MAX (hostile shapes). */
static int64_t mul_sat(int64_t a, int64_t b)
{
    return b && a > INT64_MAX / b ? INT64_MAX : a * b;
}

int64_t mpq_net_op_macs(const mpq_tfl_model *m, unsigned op)
{
    if (op >= m->nops)
        return 0;
    const mpq_tfl_op *o = &m->ops[op];
    if (o->nin < 2 || o->nout < 1 || o->in[0] < 0 || o->in[1] < 0)
        return 0;
    const mpq_tfl_tensor *w = &m->tensors[o->in[1]], *y = &m->tensors[o->out[0]];
    int64_t ny = mpq_tfl_elements(y);
    if (ny < 0)
        return 0;
    switch (o->code) {
    case MPQ_TFL_CONV_2D:
        return w->rank == 4 && w->shape[1] > 0 && w->shape[2] > 0 && w->shape[3] > 0
                   ? mul_sat(mul_sat(mul_sat(ny, w->shape[1]), w->shape[2]), w->shape[3]) : 0;
    case MPQ_TFL_DEPTHWISE_CONV_2D:
        return w->rank == 4 && w->shape[1] > 0 && w->shape[2] > 0
                   ? mul_sat(mul_sat(ny, w->shape[1]), w->shape[2]) : 0;
    case MPQ_TFL_FULLY_CONNECTED:
        return w->rank == 2 && w->shape[1] > 0 ? mul_sat(ny, w->shape[1]) : 0;
    default:
        return 0;
    }
}

/* ---- one operator at a time (another executor for the layers: the RTL runner) ---- */

unsigned mpq_net_ops(const mpq_net *net)
{
    return net->np;
}

int mpq_net_op_code(const mpq_net *net, unsigned op)
{
    return op < net->np ? net->m->ops[op].code : -1;
}

int mpq_net_layer_get(const mpq_net *net, unsigned op, mpq_net_layer *L)
{
    memset(L, 0, sizeof *L);
    if (op >= net->np || (net->p[op].k != K_CONV && net->p[op].k != K_FC))
        return MPQ_EPARAM;
    const plan *p = &net->p[op];
    L->op = op;
    L->code = p->code;
    if (p->k == K_CONV) {
        L->s = p->cs;
    } else {
        L->s.kind = MPQ_LAYER_FC;
        L->m = p->fc_m;
        L->k = p->fc_k;
        L->n = p->fc_n;
    }
    L->w = p->w;
    L->w_offset = p->w_off;
    L->bias = p->bias;
    L->in_offset = p->in_off;
    L->rq = p->rq;
    L->in_tensor = p->in;
    L->out_tensor = p->out;
    const mpq_tfl_quant *wq = &T(net, p->wt)->q;
    L->in_scale = p->s_in;
    L->out_scale = p->s_out;
    L->w_scale = wq->scale;
    L->nw_scale = wq->nscale;
    return MPQ_OK;
}

int mpq_net_run_op(mpq_net *net, unsigned op, char *err, size_t errlen)
{
    if (op >= net->np) {
        snprintf(err, errlen, "%s: no op %u (the model has %u)", net->m->file, op, net->np);
        return MPQ_EPARAM;
    }
    if (op == 0)
        for (unsigned i = 0; i < net->m->ninputs; i++)
            if (!net->t[net->m->inputs[i]].have) {
                snprintf(err, errlen, "%s: input %u (tensor %d) was never set", net->m->file, i,
                         net->m->inputs[i]);
                return MPQ_EPARAM;
            }
    const plan *p = &net->p[op];
    if (p->fold)
        return MPQ_OK;
    int st = run_op(net, p, err, errlen);
    if (st == MPQ_OK)
        net->t[p->out].have = 1;
    return st;
}

int mpq_net_tensor_set(mpq_net *net, unsigned tensor, const void *bytes, size_t len)
{
    if (tensor >= net->m->ntensors || !net->t[tensor].data || len != net->t[tensor].bytes ||
        !net->t[tensor].computed)
        return MPQ_EPARAM;
    copy_le(net->t[tensor].data, bytes, len, esize_of(T(net, (int)tensor)->type));
    net->t[tensor].have = 1;
    return MPQ_OK;
}
