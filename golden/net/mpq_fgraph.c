/* SPDX-License-Identifier: Apache-2.0 */
/* mpq_fgraph.c: a TFLite model in float32 with its matrix units in float or on an emulated
 * ABFP array (mpq_fgraph.h states the operations and their order). */
#include "net/mpq_fgraph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"
#include "arith/mpq_rng.h"
#include "net/mpq_netops.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define MAX_RANK MPQ_TFL_MAX_RANK

typedef struct ftensor {
    float *v;        /* float contents (activations; constants dequantized), or NULL */
    size_t count;    /* elements */
    int is_const;
    int shape_only;  /* an int32/int64 tensor that carries a shape, never a float value */
    int set;         /* written by the last run or set as an input (or a constant) */
} ftensor;

typedef enum fkind { F_SKIP = 0, F_COPY, F_CONV, F_FC, F_POOL, F_ADD, F_MEAN, F_SOFTMAX,
                     F_LOGISTIC, F_PAD, F_CONCAT } fkind;

typedef struct fop {
    fkind kind;
    int act;                  /* fused activation */
    int layer;                /* matrix layer index, -1 */
    mpq_conv_shape s;         /* CONV (conv2d, depthwise), POOL */
    unsigned m, k, rows;      /* FC */
    int in, w, b, in2, out;   /* tensor indices (-1: none) */
    int64_t pads[MAX_RANK][2];/* PAD */
    int axis;                 /* CONCATENATION */
    uint8_t reduce[MAX_RANK]; /* MEAN: axes reduced */
    float beta;               /* SOFTMAX */
    float *scratch;           /* matrix layers on the array: the float layer's outputs */
} fop;

typedef struct fprobe {
    const mpq_abfp *arr;
    unsigned n;
    double *sig2, *err2;
    mpq_abfp_stats *st;
} fprobe;

struct mpq_fgraph {
    const mpq_tfl_model *m;
    const fprobe *probe;      /* during mpq_fgraph_probe */
    float *probe_y;           /* the largest layer output, for the probes */
    size_t probe_cap;
    ftensor *t;
    fop *op;
    mpq_fgraph_layer *layer;
    unsigned nlayers;
    int inputs_set;
};

/* op_fail(g, op, err, errlen, fmt, ...): mpq_tfl_op_fail on g's model. */
#define op_fail(g, ...) mpq_tfl_op_fail((g)->m, __VA_ARGS__)

static const mpq_tfl_tensor *T(const mpq_fgraph *g, int i) { return &g->m->tensors[i]; }

/* ---- constants ---- */

static int is_shape_type(int type) { return type == MPQ_TFL_INT32 || type == MPQ_TFL_INT64 || type == MPQ_TFL_BOOL; }

static int64_t raw_int(const mpq_tfl_tensor *t, size_t i)
{
    if (t->type == MPQ_TFL_INT64) {
        int64_t v;
        memcpy(&v, t->data + i * 8, 8);
        return v;
    }
    int32_t v;
    memcpy(&v, t->data + i * 4, 4);
    return v;
}

/* The quantization entry of element i along the tensor's quantized dimension. */
static unsigned quant_index(const mpq_tfl_tensor *t, size_t i)
{
    if (t->q.nscale <= 1 || t->q.dim < 0 || (unsigned)t->q.dim >= t->rank)
        return 0;
    size_t inner = 1;
    for (unsigned d = (unsigned)t->q.dim + 1; d < t->rank; d++)
        inner *= (size_t)t->shape[d];
    unsigned c = (unsigned)((i / inner) % (size_t)t->shape[t->q.dim]);
    return c < t->q.nscale ? c : 0;
}

/* real = scale[c] * (q - zp[c]) in float: (float)(q - zp) then one multiplication. */
static float dequant_one(const mpq_tfl_tensor *t, size_t i, int64_t q)
{
    unsigned c = quant_index(t, i);
    int64_t zp = t->q.nzero ? t->q.zero_point[c < t->q.nzero ? c : 0] : 0;
    return t->q.scale[c] * (float)(q - zp);
}

static int load_const(mpq_fgraph *g, int ti, char *err, size_t errlen)
{
    const mpq_tfl_tensor *t = T(g, ti);
    ftensor *f = &g->t[ti];
    size_t n = f->count;
    unsigned es = mpq_tfl_type_size(t->type);
    if (es == 0 || t->size < n * es) {
        snprintf(err, errlen, "%s: tensor %d (%s): constant of type %s holds %zu bytes for %zu "
                 "elements", g->m->file, ti, t->name, mpq_tfl_type_name(t->type), t->size, n);
        return MPQ_EPARAM;
    }
    if (!(f->v = malloc((n ? n : 1) * sizeof *f->v)))
        return MPQ_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (t->type == MPQ_TFL_FLOAT32) {
            memcpy(&f->v[i], t->data + i * 4, 4);
        } else if (t->type == MPQ_TFL_INT8 && t->q.nscale) {
            f->v[i] = dequant_one(t, i, (int8_t)t->data[i]);
        } else if (t->type == MPQ_TFL_INT32 && t->q.nscale) {
            f->v[i] = dequant_one(t, i, raw_int(t, i));
        } else {
            snprintf(err, errlen, "%s: tensor %d (%s): a %s constant without quantization is not "
                     "a value the float runner knows", g->m->file, ti, t->name,
                     mpq_tfl_type_name(t->type));
            return MPQ_EPARAM;
        }
        if (!isfinite(f->v[i])) {
            snprintf(err, errlen, "%s: tensor %d (%s): constant %zu is not finite", g->m->file,
                     ti, t->name, i);
            return MPQ_EPARAM;
        }
    }
    f->set = 1;
    return MPQ_OK;
}

static int plan_tensors(mpq_fgraph *g, char *err, size_t errlen)
{
    for (unsigned i = 0; i < g->m->ntensors; i++) {
        const mpq_tfl_tensor *t = T(g, (int)i);
        ftensor *f = &g->t[i];
        int64_t n = mpq_tfl_elements(t);
        if (n < 0) {
            snprintf(err, errlen, "%s: tensor %u (%s): bad shape", g->m->file, i, t->name);
            return MPQ_EPARAM;
        }
        f->count = (size_t)n;
        f->is_const = t->data != NULL;
        f->shape_only = is_shape_type(t->type) && !(t->data && t->q.nscale);
        if (f->shape_only)
            continue;
        if (f->is_const) {
            int rc = load_const(g, (int)i, err, errlen);
            if (rc)
                return rc;
        } else if (!(f->v = calloc(n ? (size_t)n : 1, sizeof *f->v))) {
            return MPQ_ENOMEM;
        }
    }
    return MPQ_OK;
}

/* ---- planning ---- */

static int in_at(const mpq_tfl_op *o, unsigned i) { return i < o->nin ? o->in[i] : -1; }

static int plan_window(const mpq_fgraph *g, unsigned op, fop *p, int kh, int kw, int dy, int dx,
                       char *err, size_t errlen)
{
    const mpq_tfl_op *o = &g->m->ops[op];
    const mpq_tfl_tensor *in = T(g, p->in), *out = T(g, p->out);
    mpq_conv_shape *s = &p->s;
    if (in->rank != 4 || out->rank != 4)
        return op_fail(g, op, err, errlen, "input and output must be NHWC");
    if (mpq_tfl_window(&o->opt, in, kh, kw, dy, dx, s))
        return op_fail(g, op, err, errlen, "window %dx%d does not fit input %dx%d", kh, kw,
                       in->shape[1], in->shape[2]);
    if (s->groups == 0)
        s->groups = 1;
    if ((unsigned)out->shape[0] != s->batches || (unsigned)out->shape[1] != s->out_h ||
        (unsigned)out->shape[2] != s->out_w || (unsigned)out->shape[3] != s->out_c)
        return op_fail(g, op, err, errlen, "output shape does not match the window's");
    int rc = mpq_conv_check(s, err, errlen);
    return rc ? op_fail(g, op, err, errlen, "shape refused") : MPQ_OK;
}

static int plan_bias(const mpq_fgraph *g, unsigned op, fop *p, unsigned rows, char *err, size_t errlen)
{
    if (p->b < 0)
        return MPQ_OK;
    if (!g->t[p->b].is_const || !g->t[p->b].v || g->t[p->b].count != rows)
        return op_fail(g, op, err, errlen, "bias must be a constant of %u values", rows);
    return MPQ_OK;
}

static int plan_conv(mpq_fgraph *g, unsigned op, fop *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &g->m->ops[op];
    p->in = in_at(o, 0), p->w = in_at(o, 1), p->b = in_at(o, 2);
    if (p->in < 0 || p->w < 0 || !g->t[p->w].is_const || !g->t[p->w].v || T(g, p->w)->rank != 4)
        return op_fail(g, op, err, errlen, "needs an input and constant 4-d weights");
    const mpq_tfl_tensor *w = T(g, p->w), *in = T(g, p->in);
    int dw = o->code == MPQ_TFL_DEPTHWISE_CONV_2D;
    p->s.kind = dw ? MPQ_LAYER_DEPTHWISE : MPQ_LAYER_CONV2D;
    p->s.out_c = (unsigned)w->shape[dw ? 3 : 0];
    if (!dw && in->rank == 4 && w->shape[3] > 0 && in->shape[3] % w->shape[3] == 0)
        p->s.groups = (unsigned)(in->shape[3] / w->shape[3]);
    int rc = plan_window(g, op, p, w->shape[1], w->shape[2], o->opt.dilation_h, o->opt.dilation_w,
                         err, errlen);
    if (rc)
        return rc;
    p->k = mpq_conv_depth(&p->s);
    p->rows = p->s.out_c;
    return plan_bias(g, op, p, p->rows, err, errlen);
}

static int plan_fc(mpq_fgraph *g, unsigned op, fop *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &g->m->ops[op];
    p->in = in_at(o, 0), p->w = in_at(o, 1), p->b = in_at(o, 2);
    if (p->in < 0 || p->w < 0 || !g->t[p->w].is_const || !g->t[p->w].v || T(g, p->w)->rank != 2)
        return op_fail(g, op, err, errlen, "needs an input and constant 2-d weights");
    const mpq_tfl_tensor *w = T(g, p->w);
    p->rows = (unsigned)w->shape[0];
    p->k = (unsigned)w->shape[1];
    size_t n = g->t[p->in].count;
    if (p->k == 0 || p->rows == 0 || n % p->k || g->t[p->out].count != n / p->k * p->rows)
        return op_fail(g, op, err, errlen, "input of %zu values, weights %ux%u, output of %zu",
                       n, p->rows, p->k, g->t[p->out].count);
    p->m = (unsigned)(n / p->k);
    return plan_bias(g, op, p, p->rows, err, errlen);
}

static int plan_pool(mpq_fgraph *g, unsigned op, fop *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &g->m->ops[op];
    p->in = in_at(o, 0);
    p->s.kind = o->code == MPQ_TFL_MAX_POOL_2D ? MPQ_LAYER_MAXPOOL : MPQ_LAYER_AVGPOOL;
    if (p->in < 0 || T(g, p->in)->rank != 4)
        return op_fail(g, op, err, errlen, "input must be NHWC");
    p->s.out_c = (unsigned)T(g, p->in)->shape[3];
    return plan_window(g, op, p, o->opt.filter_h, o->opt.filter_w, 1, 1, err, errlen);
}

static int same_or_one(int a, int b) { return a == b || a == 1 || b == 1; }

static int plan_add(mpq_fgraph *g, unsigned op, fop *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &g->m->ops[op];
    p->in = in_at(o, 0), p->in2 = in_at(o, 1);
    if (p->in < 0 || p->in2 < 0)
        return op_fail(g, op, err, errlen, "needs two inputs");
    const mpq_tfl_tensor *a = T(g, p->in), *b = T(g, p->in2), *y = T(g, p->out);
    if (a->rank > y->rank || b->rank > y->rank)
        return op_fail(g, op, err, errlen, "inputs of higher rank than the output");
    for (unsigned d = 0; d < y->rank; d++) {
        int da = d + a->rank >= y->rank ? a->shape[d + a->rank - y->rank] : 1;
        int db = d + b->rank >= y->rank ? b->shape[d + b->rank - y->rank] : 1;
        if (!same_or_one(da, db) || (da != y->shape[d] && db != y->shape[d]))
            return op_fail(g, op, err, errlen, "shapes do not broadcast to the output's");
    }
    return MPQ_OK;
}

static int plan_mean(mpq_fgraph *g, unsigned op, fop *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &g->m->ops[op];
    p->in = in_at(o, 0);
    int ax = in_at(o, 1);
    if (p->in < 0 || ax < 0 || !T(g, ax)->data || !is_shape_type(T(g, ax)->type))
        return op_fail(g, op, err, errlen, "needs constant int axes");
    const mpq_tfl_tensor *in = T(g, p->in), *axes = T(g, ax);
    size_t kept = 1;
    for (size_t i = 0; i < g->t[ax].count; i++) {
        int64_t a = raw_int(axes, i);
        if (a < 0)
            a += in->rank;
        if (a < 0 || a >= (int64_t)in->rank)
            return op_fail(g, op, err, errlen, "axis %lld out of range", (long long)raw_int(axes, i));
        p->reduce[a] = 1;
    }
    for (unsigned d = 0; d < in->rank; d++)
        kept *= p->reduce[d] ? 1 : (size_t)in->shape[d];
    if (kept != g->t[p->out].count)
        return op_fail(g, op, err, errlen, "output count does not match the reduction");
    return MPQ_OK;
}

static int plan_pad(mpq_fgraph *g, unsigned op, fop *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &g->m->ops[op];
    p->in = in_at(o, 0);
    int pt = in_at(o, 1);
    if (p->in < 0 || pt < 0 || !T(g, pt)->data || !is_shape_type(T(g, pt)->type))
        return op_fail(g, op, err, errlen, "needs constant int paddings");
    const mpq_tfl_tensor *in = T(g, p->in), *y = T(g, p->out);
    if (g->t[pt].count != 2u * in->rank || y->rank != in->rank)
        return op_fail(g, op, err, errlen, "paddings must be [rank][2]");
    for (unsigned d = 0; d < in->rank; d++) {
        p->pads[d][0] = raw_int(T(g, pt), 2 * d);
        p->pads[d][1] = raw_int(T(g, pt), 2 * d + 1);
        if (p->pads[d][0] < 0 || p->pads[d][1] < 0 ||
            in->shape[d] + p->pads[d][0] + p->pads[d][1] != y->shape[d])
            return op_fail(g, op, err, errlen, "padding of axis %u does not give the output", d);
    }
    return MPQ_OK;
}

static int plan_concat(mpq_fgraph *g, unsigned op, fop *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &g->m->ops[op];
    const mpq_tfl_tensor *y = T(g, p->out);
    int axis = o->opt.axis < 0 ? o->opt.axis + (int)y->rank : o->opt.axis;
    if (axis < 0 || axis >= (int)y->rank)
        return op_fail(g, op, err, errlen, "axis %d out of range", o->opt.axis);
    p->axis = axis;
    size_t total = 0;
    for (unsigned i = 0; i < o->nin; i++) {
        if (o->in[i] < 0 || T(g, o->in[i])->rank != y->rank)
            return op_fail(g, op, err, errlen, "input %u is absent or of another rank", i);
        total += g->t[o->in[i]].count;
    }
    return total == g->t[p->out].count ? MPQ_OK
                                       : op_fail(g, op, err, errlen, "inputs do not fill the output");
}

static int plan_copy(mpq_fgraph *g, unsigned op, fop *p, char *err, size_t errlen)
{
    p->in = in_at(&g->m->ops[op], 0);
    if (p->in < 0 || g->t[p->in].shape_only || g->t[p->in].count != g->t[p->out].count)
        return op_fail(g, op, err, errlen, "input and output must hold the same number of values");
    return MPQ_OK;
}

static int plan_kind(mpq_fgraph *g, unsigned op, fop *p, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &g->m->ops[op];
    switch (o->code) {
    case MPQ_TFL_CONV_2D:
    case MPQ_TFL_DEPTHWISE_CONV_2D: p->kind = F_CONV; return plan_conv(g, op, p, err, errlen);
    case MPQ_TFL_FULLY_CONNECTED: p->kind = F_FC; return plan_fc(g, op, p, err, errlen);
    case MPQ_TFL_AVERAGE_POOL_2D:
    case MPQ_TFL_MAX_POOL_2D: p->kind = F_POOL; return plan_pool(g, op, p, err, errlen);
    case MPQ_TFL_ADD: p->kind = F_ADD; return plan_add(g, op, p, err, errlen);
    case MPQ_TFL_MEAN: p->kind = F_MEAN; return plan_mean(g, op, p, err, errlen);
    case MPQ_TFL_PAD: p->kind = F_PAD; return plan_pad(g, op, p, err, errlen);
    case MPQ_TFL_CONCATENATION: p->kind = F_CONCAT; return plan_concat(g, op, p, err, errlen);
    case MPQ_TFL_SOFTMAX:
        p->kind = F_SOFTMAX;
        p->beta = o->opt.beta;
        return plan_copy(g, op, p, err, errlen);
    case MPQ_TFL_LOGISTIC: p->kind = F_LOGISTIC; return plan_copy(g, op, p, err, errlen);
    case MPQ_TFL_QUANTIZE:
    case MPQ_TFL_DEQUANTIZE:
    case MPQ_TFL_RESHAPE: p->kind = F_COPY; return plan_copy(g, op, p, err, errlen);
    default: return op_fail(g, op, err, errlen, "not an operator the float runner knows");
    }
}

static int plan_op(mpq_fgraph *g, unsigned op, char *err, size_t errlen)
{
    const mpq_tfl_op *o = &g->m->ops[op];
    fop *p = &g->op[op];
    p->layer = -1;
    p->in = p->w = p->b = p->in2 = -1;
    if (o->custom)
        return op_fail(g, op, err, errlen, "custom operator %s", o->custom);
    if (o->nout != 1 || o->out[0] < 0)
        return op_fail(g, op, err, errlen, "expected one output");
    p->out = o->out[0];
    if (g->t[p->out].shape_only) { /* SHAPE, STRIDED_SLICE, PACK of shapes: RESHAPE is static */
        p->kind = F_SKIP;
        return MPQ_OK;
    }
    if (o->code == MPQ_TFL_SHAPE)
        return op_fail(g, op, err, errlen, "SHAPE into a non-integer tensor");
    p->act = o->opt.activation;
    if (p->act != MPQ_TFL_ACT_NONE && p->act != MPQ_TFL_ACT_RELU && p->act != MPQ_TFL_ACT_RELU6 &&
        p->act != MPQ_TFL_ACT_RELU_N1_TO_1)
        return op_fail(g, op, err, errlen, "fused activation %s", mpq_tfl_act_name(p->act));
    int rc = plan_kind(g, op, p, err, errlen);
    if (rc == 0 && (p->kind == F_CONV || p->kind == F_FC)) {
        mpq_fgraph_layer *L = &g->layer[g->nlayers];
        p->layer = (int)g->nlayers++;
        L->op = op;
        L->code = o->code;
        L->k = p->k;
        L->rows = p->rows;
        L->macs = (uint64_t)g->t[p->out].count * p->k;
        if (!(p->scratch = malloc(g->t[p->out].count * sizeof *p->scratch)))
            return MPQ_ENOMEM;
    }
    return rc;
}

int mpq_fgraph_init(mpq_fgraph **out, const mpq_tfl_model *m, char *err, size_t errlen)
{
    *out = NULL;
    mpq_fgraph *g = calloc(1, sizeof *g);
    if (!g)
        return MPQ_ENOMEM;
    g->m = m;
    g->t = calloc(m->ntensors ? m->ntensors : 1, sizeof *g->t);
    g->op = calloc(m->nops ? m->nops : 1, sizeof *g->op);
    g->layer = calloc(m->nops ? m->nops : 1, sizeof *g->layer);
    int rc = (!g->t || !g->op || !g->layer) ? MPQ_ENOMEM : plan_tensors(g, err, errlen);
    for (unsigned op = 0; rc == 0 && op < m->nops; op++)
        rc = plan_op(g, op, err, errlen);
    for (unsigned i = 0; rc == 0 && i < m->ninputs + m->noutputs; i++) {
        int ti = i < m->ninputs ? m->inputs[i] : m->outputs[i - m->ninputs];
        if (g->t[ti].shape_only)
            rc = op_fail(g, 0, err, errlen, "graph input or output %d is not a real-valued tensor", ti);
    }
    if (rc) {
        mpq_fgraph_free(g);
        return rc;
    }
    *out = g;
    return MPQ_OK;
}

void mpq_fgraph_free(mpq_fgraph *g)
{
    if (!g)
        return;
    for (unsigned i = 0; g->t && i < g->m->ntensors; i++)
        free(g->t[i].v);
    for (unsigned i = 0; g->op && i < g->m->nops; i++)
        free(g->op[i].scratch);
    free(g->probe_y);
    free(g->t);
    free(g->op);
    free(g->layer);
    free(g);
}

unsigned mpq_fgraph_nlayers(const mpq_fgraph *g) { return g->nlayers; }
const mpq_fgraph_layer *mpq_fgraph_layer_at(const mpq_fgraph *g, unsigned l)
{
    return l < g->nlayers ? &g->layer[l] : NULL;
}

void mpq_fgraph_stats_reset(mpq_fgraph *g)
{
    for (unsigned l = 0; l < g->nlayers; l++) {
        mpq_fgraph_layer *L = &g->layer[l];
        memset(&L->st, 0, sizeof L->st);
        L->sig2 = L->err2 = 0.0;
        L->in_amax = 0.0f;
    }
}

unsigned mpq_fgraph_ninputs(const mpq_fgraph *g) { return g->m->ninputs; }
unsigned mpq_fgraph_noutputs(const mpq_fgraph *g) { return g->m->noutputs; }
size_t mpq_fgraph_input_count(const mpq_fgraph *g, unsigned i)
{
    return i < g->m->ninputs ? g->t[g->m->inputs[i]].count : 0;
}
size_t mpq_fgraph_output_count(const mpq_fgraph *g, unsigned i)
{
    return i < g->m->noutputs ? g->t[g->m->outputs[i]].count : 0;
}
const float *mpq_fgraph_output(const mpq_fgraph *g, unsigned i)
{
    return i < g->m->noutputs ? g->t[g->m->outputs[i]].v : NULL;
}

/* The operator writing tensor ti, or -1. */
static int producer(const mpq_fgraph *g, int ti)
{
    for (unsigned op = 0; op < g->m->nops; op++)
        if (g->op[op].out == ti)
            return (int)op;
    return -1;
}

int mpq_fgraph_logits_tensor(const mpq_fgraph *g, unsigned i)
{
    if (i >= g->m->noutputs)
        return -1;
    int ti = g->m->outputs[i];
    for (int op = producer(g, ti); op >= 0; op = producer(g, g->op[op].in)) {
        if (g->op[op].kind == F_SOFTMAX || g->op[op].kind == F_LOGISTIC)
            return g->op[op].in;
        if (g->op[op].kind != F_COPY)
            break;
    }
    return ti;
}

const float *mpq_fgraph_tensor(const mpq_fgraph *g, int tensor, size_t *count)
{
    if (tensor < 0 || (unsigned)tensor >= g->m->ntensors || !g->t[tensor].v)
        return NULL;
    *count = g->t[tensor].count;
    return g->t[tensor].v;
}

static int int8_range(const mpq_tfl_tensor *t, float *lo, float *hi)
{
    if (t->type != MPQ_TFL_INT8 || t->q.nscale != 1)
        return 0;
    int64_t zp = t->q.nzero ? t->q.zero_point[0] : 0;
    *lo = t->q.scale[0] * (float)(-128 - zp);
    *hi = t->q.scale[0] * (float)(127 - zp);
    return 1;
}

void mpq_fgraph_input_range(const mpq_fgraph *g, unsigned i, float *lo, float *hi)
{
    *lo = -1.0f;
    *hi = 1.0f;
    if (i >= g->m->ninputs)
        return;
    int ti = g->m->inputs[i];
    if (int8_range(T(g, ti), lo, hi))
        return;
    for (unsigned op = 0; op < g->m->nops; op++) {
        const mpq_tfl_op *o = &g->m->ops[op];
        if (o->code == MPQ_TFL_QUANTIZE && o->nin && o->in[0] == ti && o->nout &&
            int8_range(T(g, o->out[0]), lo, hi))
            return;
    }
}

void mpq_fgraph_random_input(uint64_t seed, uint64_t run, unsigned i, float lo, float hi,
                             float *x, size_t count)
{
    mpq_rng r;
    mpq_rng_seed(&r, seed + (run << 32) + ((uint64_t)i << 48));
    float step = (hi - lo) / 255.0f;
    for (size_t j = 0; j < count; j++)
        x[j] = lo + (float)(mpq_rng_u64(&r) >> 56) * step;
}

int mpq_fgraph_set_input(mpq_fgraph *g, unsigned i, const float *x, size_t count, char *err,
                         size_t errlen)
{
    if (i >= g->m->ninputs || count != g->t[g->m->inputs[i]].count) {
        snprintf(err, errlen, "%s: input %u: %zu values, expected %zu", g->m->file, i, count,
                 mpq_fgraph_input_count(g, i));
        return MPQ_EPARAM;
    }
    for (size_t j = 0; j < count; j++)
        if (!isfinite(x[j])) {
            snprintf(err, errlen, "%s: input %u: value %zu is not finite", g->m->file, i, j);
            return MPQ_EPARAM;
        }
    ftensor *f = &g->t[g->m->inputs[i]];
    memcpy(f->v, x, count * sizeof *x);
    f->set = 1;
    return MPQ_OK;
}

/* ---- float kernels (the order of mpq_fgraph.h) ---- */

static float act_apply(int act, float y)
{
    switch (act) {
    case MPQ_TFL_ACT_RELU: return y > 0.0f ? y : 0.0f;
    case MPQ_TFL_ACT_RELU6: return y < 0.0f ? 0.0f : (y > 6.0f ? 6.0f : y);
    case MPQ_TFL_ACT_RELU_N1_TO_1: return y < -1.0f ? -1.0f : (y > 1.0f ? 1.0f : y);
    default: return y;
    }
}

static void act_all(int act, float *y, size_t n)
{
    if (act != MPQ_TFL_ACT_NONE)
        for (size_t i = 0; i < n; i++)
            y[i] = act_apply(act, y[i]);
}

/* One output of a conv2d / depthwise window: acc over (ky, kx, c) in order, in-bounds only. */
static float conv_one(const mpq_conv_shape *s, const float *x, const float *w, unsigned b,
                      unsigned oy, unsigned ox, unsigned o)
{
    int dw = s->kind == MPQ_LAYER_DEPTHWISE;
    unsigned F = dw ? 1 : s->in_c / s->groups, c0 = dw ? o / (s->out_c / s->in_c) : (o / (s->out_c / s->groups)) * F;
    float acc = 0.0f;
    for (unsigned ky = 0; ky < s->kh; ky++) {
        long iy = (long)(oy * s->sy + ky * s->dy) - (long)s->py;
        if (iy < 0 || iy >= (long)s->in_h)
            continue;
        for (unsigned kx = 0; kx < s->kw; kx++) {
            long ix = (long)(ox * s->sx + kx * s->dx) - (long)s->px;
            if (ix < 0 || ix >= (long)s->in_w)
                continue;
            const float *xp = x + (((size_t)b * s->in_h + (size_t)iy) * s->in_w + (size_t)ix) * s->in_c + c0;
            if (dw) {
                acc += xp[0] * w[((size_t)ky * s->kw + kx) * s->out_c + o];
            } else {
                const float *wp = w + (((size_t)o * s->kh + ky) * s->kw + kx) * F;
                for (unsigned c = 0; c < F; c++)
                    acc += xp[c] * wp[c];
            }
        }
    }
    return acc;
}

static void conv_float(const mpq_conv_shape *s, const float *x, const float *w, const float *bias, float *y)
{
    for (unsigned b = 0; b < s->batches; b++)
        for (unsigned oy = 0; oy < s->out_h; oy++)
            for (unsigned ox = 0; ox < s->out_w; ox++)
                for (unsigned o = 0; o < s->out_c; o++) {
                    float acc = conv_one(s, x, w, b, oy, ox, o);
                    *y++ = bias ? acc + bias[o] : acc;
                }
}

static void fc_float(unsigned m, unsigned k, unsigned rows, const float *x, const float *w,
                     const float *bias, float *y)
{
    for (unsigned i = 0; i < m; i++)
        for (unsigned o = 0; o < rows; o++) {
            const float *xp = x + (size_t)i * k, *wp = w + (size_t)o * k;
            float acc = 0.0f;
            for (unsigned j = 0; j < k; j++)
                acc += xp[j] * wp[j];
            y[(size_t)i * rows + o] = bias ? acc + bias[o] : acc;
        }
}

static void pool_float(const mpq_conv_shape *s, const float *x, float *y)
{
    int mx = s->kind == MPQ_LAYER_MAXPOOL;
    for (unsigned b = 0; b < s->batches; b++)
        for (unsigned oy = 0; oy < s->out_h; oy++)
            for (unsigned ox = 0; ox < s->out_w; ox++)
                for (unsigned c = 0; c < s->in_c; c++) {
                    float acc = mx ? -INFINITY : 0.0f;
                    unsigned cnt = 0;
                    for (unsigned ky = 0; ky < s->kh; ky++)
                        for (unsigned kx = 0; kx < s->kw; kx++) {
                            long iy = (long)(oy * s->sy + ky) - (long)s->py;
                            long ix = (long)(ox * s->sx + kx) - (long)s->px;
                            if (iy < 0 || iy >= (long)s->in_h || ix < 0 || ix >= (long)s->in_w)
                                continue;
                            float v = x[(((size_t)b * s->in_h + (size_t)iy) * s->in_w + (size_t)ix) * s->in_c + c];
                            acc = mx ? (v > acc ? v : acc) : acc + v;
                            cnt++;
                        }
                    *y++ = mx ? acc : acc / (float)cnt;
                }
}

/* Row-major strides of a tensor's shape aligned right to `rank` dimensions (broadcast: 0). */
static void bstrides(const mpq_tfl_tensor *t, unsigned rank, size_t *st)
{
    size_t s = 1;
    for (unsigned d = rank; d-- > 0;) {
        int has = d + t->rank >= rank;
        int dim = has ? t->shape[d + t->rank - rank] : 1;
        st[d] = dim == 1 ? 0 : s;
        s *= (size_t)dim;
    }
}

static void add_float(const mpq_fgraph *g, const fop *p)
{
    const mpq_tfl_tensor *y = T(g, p->out);
    size_t sa[MAX_RANK], sb[MAX_RANK], n = g->t[p->out].count;
    bstrides(T(g, p->in), y->rank, sa);
    bstrides(T(g, p->in2), y->rank, sb);
    const float *a = g->t[p->in].v, *b = g->t[p->in2].v;
    float *out = g->t[p->out].v;
    for (size_t i = 0; i < n; i++) {
        size_t rem = i, ia = 0, ib = 0;
        for (unsigned d = y->rank; d-- > 0;) {
            size_t c = rem % (size_t)y->shape[d];
            rem /= (size_t)y->shape[d];
            ia += c * sa[d];
            ib += c * sb[d];
        }
        out[i] = act_apply(p->act, a[ia] + b[ib]);
    }
}

static void mean_float(const mpq_fgraph *g, const fop *p)
{
    const mpq_tfl_tensor *in = T(g, p->in);
    size_t n = g->t[p->in].count, nout = g->t[p->out].count;
    float *y = g->t[p->out].v;
    const float *x = g->t[p->in].v;
    memset(y, 0, nout * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        size_t rem = i, o = 0, mul = 1;
        for (unsigned d = in->rank; d-- > 0;) {
            size_t c = rem % (size_t)in->shape[d];
            rem /= (size_t)in->shape[d];
            if (!p->reduce[d]) {
                o += c * mul;
                mul *= (size_t)in->shape[d];
            }
        }
        y[o] += x[i];
    }
    float cnt = (float)(n / (nout ? nout : 1));
    for (size_t o = 0; o < nout; o++)
        y[o] = y[o] / cnt;
}

static void softmax_float(const fop *p, const float *x, float *y, size_t n, size_t depth)
{
    for (size_t r = 0; r + depth <= n; r += depth) {
        float mx = x[r], s = 0.0f;
        for (size_t j = 1; j < depth; j++)
            mx = x[r + j] > mx ? x[r + j] : mx;
        for (size_t j = 0; j < depth; j++) {
            y[r + j] = expf(p->beta * (x[r + j] - mx));
            s += y[r + j];
        }
        for (size_t j = 0; j < depth; j++)
            y[r + j] = y[r + j] / s;
    }
}

static void pad_float(const mpq_fgraph *g, const fop *p)
{
    const mpq_tfl_tensor *in = T(g, p->in), *y = T(g, p->out);
    size_t n = g->t[p->out].count;
    const float *x = g->t[p->in].v;
    float *out = g->t[p->out].v;
    for (size_t i = 0; i < n; i++) {
        size_t rem = i, ix = 0, mul = 1;
        int inside = 1;
        for (unsigned d = y->rank; d-- > 0;) {
            int64_t c = (int64_t)(rem % (size_t)y->shape[d]) - p->pads[d][0];
            rem /= (size_t)y->shape[d];
            if (c < 0 || c >= in->shape[d])
                inside = 0;
            else
                ix += (size_t)c * mul;
            mul *= (size_t)in->shape[d];
        }
        out[i] = inside ? x[ix] : 0.0f;
    }
}

static void concat_float(const mpq_fgraph *g, unsigned op, const fop *p)
{
    const mpq_tfl_op *o = &g->m->ops[op];
    const mpq_tfl_tensor *y = T(g, p->out);
    size_t outer = 1, done = 0;
    for (int d = 0; d < p->axis; d++)
        outer *= (size_t)y->shape[d];
    size_t row = g->t[p->out].count / (outer ? outer : 1);
    for (unsigned i = 0; i < o->nin; i++) {
        size_t chunk = g->t[o->in[i]].count / (outer ? outer : 1);
        for (size_t r = 0; r < outer; r++)
            memcpy(g->t[p->out].v + r * row + done, g->t[o->in[i]].v + r * chunk, chunk * sizeof(float));
        done += chunk;
    }
}

/* ---- the matrix layers ---- */

static float amax_of(const float *x, size_t n)
{
    float m = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        m = a > m ? a : m;
    }
    return m;
}

static void layer_float(const mpq_fgraph *g, const fop *p, float *y)
{
    const float *x = g->t[p->in].v, *w = g->t[p->w].v, *b = p->b >= 0 ? g->t[p->b].v : NULL;
    if (p->kind == F_FC)
        fc_float(p->m, p->k, p->rows, x, w, b, y);
    else
        conv_float(&p->s, x, w, b, y);
}

/* The layer on array a into y (before the activation), its conversions added to st. */
static int layer_abfp(mpq_fgraph *g, unsigned op, const mpq_abfp *a, uint64_t run, float *y,
                      mpq_abfp_stats *st, char *err, size_t errlen)
{
    const fop *p = &g->op[op];
    const float *x = g->t[p->in].v, *w = g->t[p->w].v, *b = p->b >= 0 ? g->t[p->b].v : NULL;
    int rc;
    if (p->kind == F_FC) {
        mpq_abfp_wq wq;
        rc = mpq_abfp_wq_make(a, w, p->rows, p->k, &wq, err, errlen);
        if (rc == 0)
            rc = mpq_abfp_mvm(a, &wq, p->m, x, b, run * p->m, y, st, err, errlen);
        mpq_abfp_wq_free(&wq);
    } else {
        uint64_t pix = (uint64_t)p->s.batches * p->s.out_h * p->s.out_w;
        rc = mpq_abfp_conv(a, &p->s, x, w, b, run * pix, y, st, err, errlen);
    }
    return rc ? op_fail(g, op, err, errlen, "%s", err) : MPQ_OK;
}

static void sq_sums(const float *ref, const float *y, size_t n, double *sig2, double *err2)
{
    for (size_t i = 0; i < n; i++) {
        double r = ref[i], d = (double)y[i] - r;
        *sig2 += r * r;
        *err2 += d * d;
    }
}

/* Float layer (its outputs go on), each probe array beside it. */
static int layer_probe(mpq_fgraph *g, unsigned op, uint64_t run, char *err, size_t errlen)
{
    fop *p = &g->op[op];
    const fprobe *pr = g->probe;
    size_t n = g->t[p->out].count, base = (size_t)p->layer * pr->n;
    if (n > g->probe_cap) {
        float *ny = realloc(g->probe_y, n * sizeof *ny);
        if (!ny)
            return MPQ_ENOMEM;
        g->probe_y = ny;
        g->probe_cap = n;
    }
    for (unsigned j = 0; j < pr->n; j++) {
        int rc = layer_abfp(g, op, &pr->arr[base + j], run, g->probe_y, &pr->st[base + j], err, errlen);
        if (rc)
            return rc;
        sq_sums(g->t[p->out].v, g->probe_y, n, &pr->sig2[base + j], &pr->err2[base + j]);
    }
    return MPQ_OK;
}

static int layer_run(mpq_fgraph *g, unsigned op, const mpq_abfp *abfp, uint64_t run, char *err,
                     size_t errlen)
{
    fop *p = &g->op[op];
    mpq_fgraph_layer *L = &g->layer[p->layer];
    float *y = g->t[p->out].v;
    size_t n = g->t[p->out].count;
    if (!abfp) {
        float a = amax_of(g->t[p->in].v, g->t[p->in].count);
        L->in_amax = a > L->in_amax ? a : L->in_amax;
        layer_float(g, p, y);
        int rc = g->probe ? layer_probe(g, op, run, err, errlen) : MPQ_OK;
        act_all(p->act, y, n);
        return rc;
    }
    int rc = layer_abfp(g, op, &abfp[p->layer], run, y, &L->st, err, errlen);
    if (rc)
        return rc;
    layer_float(g, p, p->scratch);
    sq_sums(p->scratch, y, n, &L->sig2, &L->err2);
    act_all(p->act, y, n);
    return MPQ_OK;
}

static int run_op(mpq_fgraph *g, unsigned op, const mpq_abfp *abfp, uint64_t run, char *err,
                  size_t errlen)
{
    fop *p = &g->op[op];
    ftensor *out = &g->t[p->out];
    const mpq_tfl_op *o = &g->m->ops[op];
    for (unsigned i = 0; i < o->nin && p->kind != F_SKIP; i++)
        if (o->in[i] >= 0 && !g->t[o->in[i]].shape_only && !g->t[o->in[i]].set)
            return op_fail(g, op, err, errlen, "input tensor %d holds no value", o->in[i]);
    switch (p->kind) {
    case F_SKIP: return MPQ_OK;
    case F_CONV:
    case F_FC: {
        int rc = layer_run(g, op, abfp, run, err, errlen);
        if (rc)
            return rc;
        break;
    }
    case F_COPY: memcpy(out->v, g->t[p->in].v, out->count * sizeof *out->v); break;
    case F_POOL: pool_float(&p->s, g->t[p->in].v, out->v); act_all(p->act, out->v, out->count); break;
    case F_ADD: add_float(g, p); break;
    case F_MEAN: mean_float(g, p); break;
    case F_SOFTMAX: {
        const mpq_tfl_tensor *t = T(g, p->out);
        size_t depth = t->rank ? (size_t)t->shape[t->rank - 1] : 1;
        softmax_float(p, g->t[p->in].v, out->v, out->count, depth ? depth : 1);
        break;
    }
    case F_LOGISTIC:
        for (size_t i = 0; i < out->count; i++)
            out->v[i] = 1.0f / (1.0f + expf(-g->t[p->in].v[i]));
        break;
    case F_PAD: pad_float(g, p); break;
    case F_CONCAT: concat_float(g, op, p); break;
    }
    out->set = 1;
    return MPQ_OK;
}

int mpq_fgraph_run(mpq_fgraph *g, const mpq_abfp *abfp, uint64_t run, char *err, size_t errlen)
{
    for (unsigned i = 0; i < g->m->ntensors; i++)
        if (!g->t[i].is_const && !g->t[i].shape_only) {
            int is_input = 0;
            for (unsigned j = 0; j < g->m->ninputs; j++)
                is_input |= g->m->inputs[j] == (int32_t)i;
            if (!is_input)
                g->t[i].set = 0;
        }
    for (unsigned op = 0; op < g->m->nops; op++) {
        int rc = run_op(g, op, abfp, run, err, errlen);
        if (rc)
            return rc;
    }
    return MPQ_OK;
}

int mpq_fgraph_probe(mpq_fgraph *g, const mpq_abfp *probe, unsigned nprobe, uint64_t run,
                     double *sig2, double *err2, mpq_abfp_stats *st, char *err, size_t errlen)
{
    fprobe pr = {probe, nprobe, sig2, err2, st};
    g->probe = &pr;
    int rc = mpq_fgraph_run(g, NULL, run, err, errlen);
    g->probe = NULL;
    return rc;
}
