/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_sb.c: the golden model as a scoreboard (mpq_sb.h). Bookkeeping only: the handle keeps
 * a layer's description and tensors, fills the mpq_fc_layer / mpq_conv_layer / mpq_requant
 * structures of arith/mpq.h from them, and calls mpq_fc, mpq_conv, mpq_pool; every number it
 * returns was computed there.
 */
#include "export/mpq_sb.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The input tensors, X .. SHIFT, are held as int32 except T (int8, as the layers take it). */
#define SB_INPUTS (MPQ_SB_SHIFT + 1)

struct mpq_sb {
    int declared;
    mpq_conv_shape shape;       /* kind MPQ_LAYER_FC: only the kind is meaningful */
    unsigned m, k, n;           /* FC; spatial: n = out_c */
    size_t count[MPQ_SB_TENSOR_COUNT];
    int32_t in_offset, w_offset;
    unsigned acc_bits, group;
    mpq_acc_mode acc_mode;
    mpq_order order;
    mpq_rq_kind rq_kind;
    unsigned nparams;
    mpq_round round;
    mpq_ovf_mode ovf_mode;
    int32_t out_offset, act_min, act_max;
    int alpha_per_tensor;
    int32_t *in[SB_INPUTS];     /* NULL when absent; in[MPQ_SB_T] unused */
    int8_t *t;
    /* Results of the last run (ran != 0). */
    int ran;
    int32_t *y, *first;
    int64_t *acc;
    uint8_t *flags;
    size_t n_final, n_any;
    long long first_out;        /* output index of the first overflow, -1 if none */
    long first_red;             /* its reduction index (-1: fit(bias)) */
    /* Comparisons since the run. */
    long long compared, mismatches, bad_index;
    int32_t bad_got;
    char err[512];
    char msg[1024];
};

static const char *const tensor_names[MPQ_SB_TENSOR_COUNT] = {
    "x", "w", "t", "alpha", "hp", "bias", "mult", "shift", "y", "ovf", "first",
};

const char *mpq_sb_tensor_name(int tensor)
{
    return tensor >= 0 && tensor < MPQ_SB_TENSOR_COUNT ? tensor_names[tensor] : "?";
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(mpq_sb *sb, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sb->err, sizeof sb->err, fmt, ap);
    va_end(ap);
    return status;
}

/* Every entry point starts here: a NULL handle is refused, the message cleared. */
#define SB_ENTER(sb)                                                                           \
    do {                                                                                       \
        if (!(sb))                                                                             \
            return MPQ_EPARAM;                                                                 \
        (sb)->err[0] = '\0';                                                                   \
    } while (0)

static void drop_results(mpq_sb *sb)
{
    free(sb->y);
    free(sb->first);
    free(sb->acc);
    free(sb->flags);
    sb->y = sb->first = NULL;
    sb->acc = NULL;
    sb->flags = NULL;
    sb->ran = 0;
    sb->compared = sb->mismatches = 0;
    sb->bad_index = -1;
}

static void drop_inputs(mpq_sb *sb)
{
    for (int i = 0; i < SB_INPUTS; i++) {
        free(sb->in[i]);
        sb->in[i] = NULL;
    }
    free(sb->t);
    sb->t = NULL;
}

mpq_sb *mpq_sb_new(void)
{
    mpq_sb *sb = calloc(1, sizeof *sb);
    if (sb)
        sb->bad_index = -1;
    return sb;
}

void mpq_sb_free(mpq_sb *sb)
{
    if (!sb)
        return;
    drop_results(sb);
    drop_inputs(sb);
    free(sb);
}

const char *mpq_sb_error(const mpq_sb *sb)
{
    return sb ? sb->err : "no scoreboard handle (mpq_sb_new returned NULL or was not called)";
}

static int is_pool(const mpq_sb *sb)
{
    return sb->shape.kind == MPQ_LAYER_AVGPOOL || sb->shape.kind == MPQ_LAYER_MAXPOOL;
}

/* A new layer: nothing of the previous one survives; scalars take their defaults. */
static void declare(mpq_sb *sb, mpq_layer_kind kind)
{
    drop_results(sb);
    drop_inputs(sb);
    memset(sb->count, 0, sizeof sb->count);
    sb->shape = (mpq_conv_shape){.kind = kind};
    sb->in_offset = sb->w_offset = 0;
    sb->acc_bits = 32;
    sb->acc_mode = MPQ_ACC_WRAP;
    sb->order = MPQ_ORDER_SEQ;
    sb->group = 1;
    sb->rq_kind = MPQ_RQ_DOUBLE;
    sb->nparams = 1;
    sb->round = MPQ_ROUND_HALF_AWAY;
    sb->ovf_mode = MPQ_OVF_SAT;
    sb->out_offset = 0;
    sb->act_min = INT32_MIN;
    sb->act_max = INT32_MAX;
    sb->alpha_per_tensor = 0;
    sb->declared = 1;
}

/* Element counts of every tensor, once the shape is known. */
static void size_tensors(mpq_sb *sb, size_t x, size_t w, size_t y)
{
    size_t *c = sb->count;
    c[MPQ_SB_X] = x;
    if (!is_pool(sb)) {
        c[MPQ_SB_W] = c[MPQ_SB_T] = c[MPQ_SB_HP] = w;
        c[MPQ_SB_ALPHA] = c[MPQ_SB_BIAS] = sb->n;
        c[MPQ_SB_MULT] = c[MPQ_SB_SHIFT] = sb->nparams;
        c[MPQ_SB_OVF] = c[MPQ_SB_FIRST] = y;
    }
    c[MPQ_SB_Y] = y;
}

int mpq_sb_fc(mpq_sb *sb, unsigned m, unsigned k, unsigned n)
{
    SB_ENTER(sb);
    sb->declared = 0;
    if (!m || !k || !n)
        return fail(sb, MPQ_EPARAM, "fc: m %u, k %u and n %u must be >= 1", m, k, n);
    const unsigned long long lim = 1ull << 31;
    if ((unsigned long long)m * k >= lim || (unsigned long long)n * k >= lim ||
        (unsigned long long)m * n >= lim)
        return fail(sb, MPQ_EPARAM, "fc: m %u, k %u, n %u make a tensor of 2^31 elements or more",
                    m, k, n);
    declare(sb, MPQ_LAYER_FC);
    sb->m = m;
    sb->k = k;
    sb->n = n;
    size_tensors(sb, (size_t)m * k, (size_t)n * k, (size_t)m * n);
    return MPQ_OK;
}

int mpq_sb_conv(mpq_sb *sb, int kind, unsigned batches, unsigned in_h, unsigned in_w,
                unsigned in_c, unsigned out_c, unsigned kh, unsigned kw, unsigned sy,
                unsigned sx, unsigned py, unsigned px, unsigned dy, unsigned dx,
                unsigned groups, unsigned out_h, unsigned out_w)
{
    SB_ENTER(sb);
    sb->declared = 0;
    if (kind != MPQ_LAYER_CONV2D && kind != MPQ_LAYER_DEPTHWISE && kind != MPQ_LAYER_AVGPOOL &&
        kind != MPQ_LAYER_MAXPOOL)
        return fail(sb, MPQ_EPARAM, "layer kind %d is not conv2d (%d), depthwise (%d), avgpool "
                    "(%d) or maxpool (%d); an fc layer is declared with mpq_sb_fc", kind,
                    MPQ_LAYER_CONV2D, MPQ_LAYER_DEPTHWISE, MPQ_LAYER_AVGPOOL, MPQ_LAYER_MAXPOOL);
    mpq_conv_shape s = {
        .kind = (mpq_layer_kind)kind, .batches = batches, .in_h = in_h, .in_w = in_w,
        .in_c = in_c, .out_c = out_c, .kh = kh, .kw = kw, .sy = sy, .sx = sx, .py = py,
        .px = px, .dy = dy, .dx = dx, .groups = groups ? groups : 1, .out_h = out_h,
        .out_w = out_w,
    };
    int st = mpq_conv_check(&s, sb->err, sizeof sb->err);
    if (st)
        return st;
    declare(sb, s.kind);
    sb->shape = s;
    sb->n = out_c;
    sb->k = mpq_conv_depth(&s);
    sb->m = batches * out_h * out_w; /* < 2^31: mpq_conv_check bounds the element counts */
    size_tensors(sb, mpq_conv_in_count(&s), mpq_conv_w_count(&s), mpq_conv_out_count(&s));
    return MPQ_OK;
}

int mpq_sb_padding(unsigned in, unsigned k, unsigned s, unsigned d, int same, unsigned *pad,
                   unsigned *out)
{
    if (!in || !k || !s || !d || !pad || !out)
        return MPQ_EPARAM;
    unsigned long long e = (unsigned long long)(k - 1) * d + 1;
    if (e > INT32_MAX)
        return MPQ_EPARAM;
    if (same) {
        unsigned long long o = ((unsigned long long)in + s - 1) / s;
        unsigned long long need = (o - 1) * s + e;
        *out = (unsigned)o;
        *pad = need > in ? (unsigned)((need - in) / 2) : 0;
        return MPQ_OK;
    }
    if (e > in)
        return MPQ_EPARAM;
    *out = (unsigned)((in - e) / s + 1);
    *pad = 0;
    return MPQ_OK;
}

#define SB_DECLARED(sb)                                                                        \
    do {                                                                                       \
        if (!(sb)->declared)                                                                   \
            return fail(sb, MPQ_EPARAM, "no layer declared (mpq_sb_fc or mpq_sb_conv first)"); \
    } while (0)

int mpq_sb_offsets(mpq_sb *sb, int32_t in_offset, int32_t w_offset)
{
    SB_ENTER(sb);
    SB_DECLARED(sb);
    drop_results(sb);
    sb->in_offset = in_offset;
    sb->w_offset = w_offset;
    return MPQ_OK;
}

int mpq_sb_acc(mpq_sb *sb, unsigned bits, int mode, int order, unsigned group)
{
    SB_ENTER(sb);
    SB_DECLARED(sb);
    if (bits < 1 || bits > 64)
        return fail(sb, MPQ_EPARAM, "accumulator width %u is outside 1..64", bits);
    if (mode != MPQ_ACC_WRAP && mode != MPQ_ACC_SAT)
        return fail(sb, MPQ_EPARAM, "accumulator mode %d is not wrap (%d) or sat (%d)", mode,
                    MPQ_ACC_WRAP, MPQ_ACC_SAT);
    if (order != MPQ_ORDER_SEQ && order != MPQ_ORDER_GROUPED)
        return fail(sb, MPQ_EPARAM, "accumulation order %d is not seq (%d) or grouped (%d)", order,
                    MPQ_ORDER_SEQ, MPQ_ORDER_GROUPED);
    if (order == MPQ_ORDER_GROUPED && group < 1)
        return fail(sb, MPQ_EPARAM, "the grouped order needs a group of at least 1 channel");
    drop_results(sb);
    sb->acc_bits = bits;
    sb->acc_mode = (mpq_acc_mode)mode;
    sb->order = (mpq_order)order;
    sb->group = group ? group : 1;
    return MPQ_OK;
}

int mpq_sb_requant(mpq_sb *sb, int kind, unsigned nparams)
{
    SB_ENTER(sb);
    SB_DECLARED(sb);
    if (kind < 0 || kind >= MPQ_RQ_COUNT)
        return fail(sb, MPQ_EPARAM, "requantization kind %d is outside 0..%d", kind,
                    MPQ_RQ_COUNT - 1);
    if (is_pool(sb))
        return fail(sb, MPQ_EPARAM, "%s takes no requantization (mpq_sb_output sets its clamp)",
                    mpq_layer_name(sb->shape.kind));
    if (nparams != 1 && nparams != sb->n)
        return fail(sb, MPQ_EPARAM, "requantization needs 1 (per tensor) or %u (per channel) "
                    "multiplier/shift pairs, not %u", sb->n, nparams);
    drop_results(sb);
    sb->rq_kind = (mpq_rq_kind)kind;
    sb->nparams = nparams;
    sb->count[MPQ_SB_MULT] = sb->count[MPQ_SB_SHIFT] = nparams;
    free(sb->in[MPQ_SB_MULT]);
    free(sb->in[MPQ_SB_SHIFT]);
    sb->in[MPQ_SB_MULT] = sb->in[MPQ_SB_SHIFT] = NULL;
    return MPQ_OK;
}

int mpq_sb_requant_generic(mpq_sb *sb, int round, int ovf)
{
    SB_ENTER(sb);
    SB_DECLARED(sb);
    if (round < 0 || round >= MPQ_ROUND_COUNT)
        return fail(sb, MPQ_EPARAM, "rounding %d is outside 0..%d", round, MPQ_ROUND_COUNT - 1);
    if (ovf < 0 || ovf >= MPQ_OVF_COUNT)
        return fail(sb, MPQ_EPARAM, "overflow mode %d is outside 0..%d", ovf, MPQ_OVF_COUNT - 1);
    drop_results(sb);
    sb->round = (mpq_round)round;
    sb->ovf_mode = (mpq_ovf_mode)ovf;
    return MPQ_OK;
}

int mpq_sb_output(mpq_sb *sb, int32_t out_offset, int32_t act_min, int32_t act_max)
{
    SB_ENTER(sb);
    SB_DECLARED(sb);
    if (act_min > act_max)
        return fail(sb, MPQ_EPARAM, "act_min %d > act_max %d", act_min, act_max);
    drop_results(sb);
    sb->out_offset = out_offset;
    sb->act_min = act_min;
    sb->act_max = act_max;
    return MPQ_OK;
}

int mpq_sb_alpha_per_tensor(mpq_sb *sb, int on)
{
    SB_ENTER(sb);
    SB_DECLARED(sb);
    drop_results(sb);
    sb->alpha_per_tensor = on != 0;
    return MPQ_OK;
}

long long mpq_sb_count(const mpq_sb *sb, int tensor)
{
    if (!sb || !sb->declared || tensor < 0 || tensor >= MPQ_SB_TENSOR_COUNT)
        return MPQ_EPARAM;
    return (long long)sb->count[tensor];
}

/* Checks that [offset, offset+count) lies inside the tensor. */
static int in_range(mpq_sb *sb, int tensor, size_t offset, size_t count)
{
    size_t n = sb->count[tensor];
    if (offset > n || count > n - offset)
        return fail(sb, MPQ_EPARAM, "%s: elements [%zu, %zu + %zu) lie outside its %zu elements",
                    tensor_names[tensor], offset, offset, count, n);
    return MPQ_OK;
}

static int input_tensor(mpq_sb *sb, int tensor, const char *what)
{
    SB_DECLARED(sb);
    if (tensor < 0 || tensor >= SB_INPUTS)
        return fail(sb, MPQ_EPARAM, "%s: tensor %d (%s) is not an input tensor (x .. shift)", what,
                    tensor, mpq_sb_tensor_name(tensor));
    if (!sb->count[tensor])
        return fail(sb, MPQ_EPARAM, "%s: a %s layer has no tensor %s", what,
                    mpq_layer_name(sb->shape.kind), tensor_names[tensor]);
    return MPQ_OK;
}

int mpq_sb_put(mpq_sb *sb, int tensor, size_t offset, size_t count, const int32_t *v)
{
    SB_ENTER(sb);
    int st = input_tensor(sb, tensor, "put");
    if (st || (st = in_range(sb, tensor, offset, count)))
        return st;
    if (count && !v)
        return fail(sb, MPQ_EPARAM, "put %s: no values", tensor_names[tensor]);
    if (tensor == MPQ_SB_T)
        for (size_t i = 0; i < count; i++)
            if (v[i] < -1 || v[i] > 1)
                return fail(sb, MPQ_EPARAM, "put t: element %zu is %d, not -1, 0 or 1",
                            offset + i, v[i]);
    size_t n = sb->count[tensor];
    if (tensor == MPQ_SB_T ? !sb->t : !sb->in[tensor]) {
        void *p = tensor == MPQ_SB_T ? calloc(n, sizeof *sb->t) : calloc(n, sizeof(int32_t));
        if (!p)
            return fail(sb, MPQ_ENOMEM, "put %s: out of memory for %zu elements",
                        tensor_names[tensor], n);
        if (tensor == MPQ_SB_T)
            sb->t = p;
        else
            sb->in[tensor] = p;
    }
    drop_results(sb);
    if (tensor == MPQ_SB_T)
        for (size_t i = 0; i < count; i++)
            sb->t[offset + i] = (int8_t)v[i];
    else if (count)
        memcpy(sb->in[tensor] + offset, v, count * sizeof *v);
    return MPQ_OK;
}

int mpq_sb_clear(mpq_sb *sb, int tensor)
{
    SB_ENTER(sb);
    int st = input_tensor(sb, tensor, "clear");
    if (st)
        return st;
    drop_results(sb);
    if (tensor == MPQ_SB_T) {
        free(sb->t);
        sb->t = NULL;
    } else {
        free(sb->in[tensor]);
        sb->in[tensor] = NULL;
    }
    return MPQ_OK;
}

static int run_pool(mpq_sb *sb)
{
    if (sb->out_offset)
        return fail(sb, MPQ_EPARAM, "%s: out_offset %d given, but pools keep the input's "
                    "quantization (mpq_sb_output's out_offset must be 0)",
                    mpq_layer_name(sb->shape.kind), sb->out_offset);
    return mpq_pool(&sb->shape, sb->in[MPQ_SB_X], sb->act_min, sb->act_max, sb->y, sb->err,
                    sizeof sb->err);
}

/* FC or convolution, with the overflow report. */
static int run_mac(mpq_sb *sb, size_t ny)
{
    if (!sb->in[MPQ_SB_MULT] || !sb->in[MPQ_SB_SHIFT])
        return fail(sb, MPQ_EPARAM, "%s: the requantization's %s was not put (%u values: "
                    "mpq_sb_requant)", mpq_layer_name(sb->shape.kind),
                    sb->in[MPQ_SB_MULT] ? "shift" : "mult", sb->nparams);
    sb->acc = malloc((ny + 1) * sizeof *sb->acc);
    sb->flags = malloc(ny + 1);
    sb->first = malloc((ny + 1) * sizeof *sb->first);
    if (!sb->acc || !sb->flags || !sb->first)
        return fail(sb, MPQ_ENOMEM, "out of memory for %zu outputs", ny);
    mpq_requant rq = {
        .kind = sb->rq_kind, .nparams = sb->nparams, .mult = sb->in[MPQ_SB_MULT],
        .shift = sb->in[MPQ_SB_SHIFT], .round = sb->round, .ovf = sb->ovf_mode,
        .out_offset = sb->out_offset, .act_min = sb->act_min, .act_max = sb->act_max,
    };
    mpq_fc_layer fc = {
        .m = sb->m, .k = sb->k, .n = sb->n, .x = sb->in[MPQ_SB_X], .in_offset = sb->in_offset,
        .w = sb->in[MPQ_SB_W], .w_offset = sb->w_offset, .t = sb->t,
        .alpha = sb->in[MPQ_SB_ALPHA], .alpha_per_tensor = sb->alpha_per_tensor,
        .hp = sb->in[MPQ_SB_HP], .bias = sb->in[MPQ_SB_BIAS], .acc_bits = sb->acc_bits,
        .acc_mode = sb->acc_mode, .order = sb->order, .group = sb->group,
    };
    if (sb->shape.kind == MPQ_LAYER_FC) {
        mpq_fc_ovf ovf = {.flags = sb->flags, .first_k = sb->first};
        int st = mpq_fc(&fc, &rq, sb->y, sb->acc, &ovf, sb->err, sizeof sb->err);
        if (st)
            return st;
        sb->n_final = ovf.n_final;
        sb->n_any = ovf.n_any;
        sb->first_out = ovf.first_row < 0 ? -1 : (long long)ovf.first_row * sb->n + ovf.first_ch;
        sb->first_red = ovf.first_bias ? -1 : ovf.first_k_pos;
        return MPQ_OK;
    }
    mpq_conv_layer l = mpq_conv_layer_of_fc(&sb->shape, &fc);
    mpq_conv_ovf ovf = {.flags = sb->flags, .first_r = sb->first};
    int st = mpq_conv(&l, &rq, sb->y, sb->acc, &ovf, sb->err, sizeof sb->err);
    if (st)
        return st;
    sb->n_final = ovf.n_final;
    sb->n_any = ovf.n_any;
    const mpq_conv_shape *s = &sb->shape;
    sb->first_out = ovf.first_b < 0 ? -1
        : (((long long)ovf.first_b * s->out_h + ovf.first_oy) * s->out_w + ovf.first_ox) * s->out_c
          + ovf.first_ch;
    sb->first_red = ovf.first_bias ? -1 : ovf.first_red;
    return MPQ_OK;
}

int mpq_sb_run(mpq_sb *sb)
{
    SB_ENTER(sb);
    SB_DECLARED(sb);
    drop_results(sb);
    if (!sb->in[MPQ_SB_X])
        return fail(sb, MPQ_EPARAM, "%s: x was not put", mpq_layer_name(sb->shape.kind));
    size_t ny = sb->count[MPQ_SB_Y];
    sb->y = malloc((ny + 1) * sizeof *sb->y);
    if (!sb->y)
        return fail(sb, MPQ_ENOMEM, "out of memory for %zu outputs", ny);
    int st = is_pool(sb) ? run_pool(sb) : run_mac(sb, ny);
    if (st) {
        if (!sb->err[0])
            fail(sb, st, "%s", mpq_strerror(st));
        drop_results(sb);
        return st;
    }
    sb->ran = 1;
    return MPQ_OK;
}

/* The result tensors need a run; the overflow report is a convolution's or FC layer's. */
static int result_ready(mpq_sb *sb, const char *what)
{
    SB_DECLARED(sb);
    if (!sb->ran)
        return fail(sb, MPQ_EPARAM, "%s: no results (mpq_sb_run has not succeeded since the last "
                    "change)", what);
    return MPQ_OK;
}

int mpq_sb_get(mpq_sb *sb, int tensor, size_t offset, size_t count, int32_t *v)
{
    SB_ENTER(sb);
    SB_DECLARED(sb);
    if (tensor < 0 || tensor >= MPQ_SB_TENSOR_COUNT)
        return fail(sb, MPQ_EPARAM, "get: tensor %d is outside 0..%d", tensor,
                    MPQ_SB_TENSOR_COUNT - 1);
    int st = in_range(sb, tensor, offset, count);
    if (st)
        return st;
    if (count && !v)
        return fail(sb, MPQ_EPARAM, "get %s: no array", tensor_names[tensor]);
    if (tensor >= SB_INPUTS) {
        if ((st = result_ready(sb, "get")))
            return st;
        if (!sb->count[tensor])
            return fail(sb, MPQ_EPARAM, "get: a %s layer has no tensor %s",
                        mpq_layer_name(sb->shape.kind), tensor_names[tensor]);
        for (size_t i = 0; i < count; i++)
            v[i] = tensor == MPQ_SB_Y ? sb->y[offset + i]
                 : tensor == MPQ_SB_OVF ? sb->flags[offset + i] : sb->first[offset + i];
        return MPQ_OK;
    }
    if (tensor == MPQ_SB_T ? !sb->t : !sb->in[tensor])
        return fail(sb, MPQ_EPARAM, "get: %s was not put", tensor_names[tensor]);
    for (size_t i = 0; i < count; i++)
        v[i] = tensor == MPQ_SB_T ? sb->t[offset + i] : sb->in[tensor][offset + i];
    return MPQ_OK;
}

int mpq_sb_get_acc(mpq_sb *sb, size_t offset, size_t count, int64_t *v)
{
    SB_ENTER(sb);
    int st = result_ready(sb, "get_acc");
    if (st)
        return st;
    if (is_pool(sb))
        return fail(sb, MPQ_EPARAM, "get_acc: a %s layer has no accumulators",
                    mpq_layer_name(sb->shape.kind));
    if ((st = in_range(sb, MPQ_SB_Y, offset, count)))
        return st;
    if (count && !v)
        return fail(sb, MPQ_EPARAM, "get_acc: no array");
    if (count)
        memcpy(v, sb->acc + offset, count * sizeof *v);
    return MPQ_OK;
}

long long mpq_sb_ovf_count(mpq_sb *sb, unsigned which)
{
    SB_ENTER(sb);
    int st = result_ready(sb, "ovf_count");
    if (st)
        return st;
    if (is_pool(sb))
        return fail(sb, MPQ_EPARAM, "ovf_count: a %s layer has no accumulator",
                    mpq_layer_name(sb->shape.kind));
    if (which != MPQ_OVF_FINAL && which != MPQ_OVF_ANY)
        return fail(sb, MPQ_EPARAM, "ovf_count: %u is not MPQ_OVF_FINAL (1) or MPQ_OVF_ANY (2)",
                    which);
    return (long long)(which == MPQ_OVF_FINAL ? sb->n_final : sb->n_any);
}

/* Output element i in the layer's coordinates: "y[row=r,c=c]" or "y[b=..,oy=..,ox=..,c=..]". */
static void out_coords(const mpq_sb *sb, size_t i, char *buf, size_t len)
{
    const mpq_conv_shape *s = &sb->shape;
    if (s->kind == MPQ_LAYER_FC) {
        snprintf(buf, len, "y[row=%zu,c=%zu]", i / sb->n, i % sb->n);
        return;
    }
    size_t c = i % s->out_c, p = i / s->out_c;
    size_t ox = p % s->out_w, q = p / s->out_w;
    snprintf(buf, len, "y[b=%zu,oy=%zu,ox=%zu,c=%zu]", q / s->out_h, q % s->out_h, ox, c);
}

/* A reduction index in the layer's coordinates: "k=17" or "r=17 (ky=1,kx=2,c=0)". */
static void red_coords(const mpq_sb *sb, long r, char *buf, size_t len)
{
    const mpq_conv_shape *s = &sb->shape;
    if (r < 0) {
        snprintf(buf, len, "fit(bias)");
    } else if (s->kind == MPQ_LAYER_FC) {
        snprintf(buf, len, "k=%ld", r);
    } else {
        unsigned f = s->kind == MPQ_LAYER_DEPTHWISE ? 1 : s->in_c / s->groups;
        unsigned long pos = (unsigned long)r / f;
        snprintf(buf, len, "r=%ld (ky=%lu,kx=%lu,c=%lu)", r, pos / s->kw, pos % s->kw,
                 (unsigned long)r % f);
    }
}

static const char *rq_kind_name(mpq_rq_kind k)
{
    switch (k) {
    case MPQ_RQ_DOUBLE: return "double rounding";
    case MPQ_RQ_SINGLE: return "single rounding";
    case MPQ_RQ_S64_REDUCED: return "s64 reduced";
    case MPQ_RQ_GENERIC: return "generic";
    case MPQ_RQ_COUNT:
    default: return "?";
    }
}

const char *mpq_sb_ovf_describe(mpq_sb *sb)
{
    if (!sb)
        return mpq_sb_error(sb);
    long long n = mpq_sb_ovf_count(sb, MPQ_OVF_ANY);
    if (n < 0)
        return sb->err;
    const char *mode = sb->acc_mode == MPQ_ACC_SAT ? "saturating" : "wrapping";
    if (n == 0) {
        snprintf(sb->msg, sizeof sb->msg, "no output overflows the %u-bit %s accumulator",
                 sb->acc_bits, mode);
        return sb->msg;
    }
    char at[96], red[96];
    out_coords(sb, (size_t)sb->first_out, at, sizeof at);
    red_coords(sb, sb->first_red, red, sizeof red);
    snprintf(sb->msg, sizeof sb->msg, "%lld of %zu outputs overflow the %u-bit %s accumulator "
             "(%zu in the final sum); first: %s at %s", n, sb->count[MPQ_SB_Y], sb->acc_bits, mode,
             sb->n_final, at, red);
    return sb->msg;
}

long long mpq_sb_compare(mpq_sb *sb, size_t offset, size_t count, const int32_t *got)
{
    SB_ENTER(sb);
    int st = result_ready(sb, "compare");
    if (st || (st = in_range(sb, MPQ_SB_Y, offset, count)))
        return st;
    if (count && !got)
        return fail(sb, MPQ_EPARAM, "compare: no values");
    long long bad = 0;
    for (size_t i = 0; i < count; i++) {
        if (got[i] == sb->y[offset + i])
            continue;
        if (sb->bad_index < 0) {
            sb->bad_index = (long long)(offset + i);
            sb->bad_got = got[i];
        }
        bad++;
    }
    sb->compared += (long long)count;
    sb->mismatches += bad;
    return bad;
}

long long mpq_sb_mismatches(const mpq_sb *sb)
{
    return sb ? sb->mismatches : MPQ_EPARAM;
}

/* Writes the description of output `index` (checked by the caller) into buf. */
static void describe_into(const mpq_sb *sb, size_t index, int32_t got, char *buf, size_t len)
{
    char at[96];
    out_coords(sb, index, at, sizeof at);
    int n = snprintf(buf, len, "%s %s (element %zu): expected %d, got %d",
                     mpq_layer_name(sb->shape.kind), at, index, sb->y[index], got);
    size_t used = n > 0 ? (size_t)n : 0;
    if (used >= len)
        return;
    buf += used;
    len -= used;
    if (is_pool(sb)) {
        snprintf(buf, len, "; clamp [%d, %d]", sb->act_min, sb->act_max);
        return;
    }
    unsigned p = sb->nparams > 1 ? (unsigned)(index % sb->n) : 0;
    n = snprintf(buf, len, "; accumulator %lld (%u-bit %s), requantization %s with mult %d "
                 "shift %d (parameter %u), out_offset %d, clamp [%d, %d]; accumulator overflow: ",
                 (long long)sb->acc[index], sb->acc_bits,
                 sb->acc_mode == MPQ_ACC_SAT ? "sat" : "wrap", rq_kind_name(sb->rq_kind),
                 sb->in[MPQ_SB_MULT][p], sb->in[MPQ_SB_SHIFT][p], p, sb->out_offset, sb->act_min,
                 sb->act_max);
    used = n > 0 ? (size_t)n : 0;
    if (used >= len)
        return;
    buf += used;
    len -= used;
    if (!sb->flags[index]) {
        snprintf(buf, len, "none");
        return;
    }
    /* MPQ_OVF_FINAL implies MPQ_OVF_ANY: the last fit changes a sum that does not fit. */
    char red[96];
    red_coords(sb, sb->first[index], red, sizeof red);
    snprintf(buf, len, "%s; first fit that changed the sum: %s",
             sb->flags[index] & MPQ_OVF_FINAL ? "the exact sum does not fit"
                                              : "a partial sum did not fit (the exact sum does)",
             red);
}

const char *mpq_sb_describe(mpq_sb *sb, size_t index, int32_t got)
{
    if (!sb)
        return mpq_sb_error(sb);
    sb->err[0] = '\0';
    if (result_ready(sb, "describe") || in_range(sb, MPQ_SB_Y, index, 1))
        snprintf(sb->msg, sizeof sb->msg, "error: %s", sb->err);
    else
        describe_into(sb, index, got, sb->msg, sizeof sb->msg);
    return sb->msg;
}

const char *mpq_sb_report(mpq_sb *sb)
{
    if (!sb)
        return mpq_sb_error(sb);
    sb->err[0] = '\0';
    if (result_ready(sb, "report")) {
        snprintf(sb->msg, sizeof sb->msg, "error: %s", sb->err);
        return sb->msg;
    }
    size_t n = sb->count[MPQ_SB_Y];
    if (!sb->mismatches) {
        snprintf(sb->msg, sizeof sb->msg, "all %lld compared outputs match (of %zu)",
                 sb->compared, n);
        return sb->msg;
    }
    int len = snprintf(sb->msg, sizeof sb->msg, "%lld of %lld compared outputs differ (of %zu); "
                       "first: ", sb->mismatches, sb->compared, n);
    if (len > 0 && (size_t)len < sizeof sb->msg)
        describe_into(sb, (size_t)sb->bad_index, sb->bad_got, sb->msg + len,
                      sizeof sb->msg - (size_t)len);
    return sb->msg;
}

int mpq_sb_quantize_scale(double in_scale, double w_scale, double out_scale, int32_t *mult,
                          int32_t *shift)
{
    if (!mult || !shift || !isfinite(in_scale) || !isfinite(w_scale) || !isfinite(out_scale) ||
        in_scale <= 0 || w_scale <= 0 || out_scale <= 0)
        return MPQ_EPARAM;
    int sh = 0;
    int st = mpq_quantize_multiplier(in_scale * w_scale / out_scale, mult, &sh);
    if (st)
        return st;
    *shift = sh;
    return MPQ_OK;
}

int mpq_sb_requant_value(int kind, int64_t acc, int32_t mult, int32_t shift, int round,
                         int ovf, int32_t out_offset, int32_t act_min, int32_t act_max,
                         int32_t *y)
{
    if (!y || kind < 0 || kind >= MPQ_RQ_COUNT || round < 0 || round >= MPQ_ROUND_COUNT ||
        ovf < 0 || ovf >= MPQ_OVF_COUNT)
        return MPQ_EPARAM;
    mpq_requant rq = {
        .kind = (mpq_rq_kind)kind, .nparams = 1, .mult = &mult, .shift = &shift,
        .round = (mpq_round)round, .ovf = (mpq_ovf_mode)ovf, .out_offset = out_offset,
        .act_min = act_min, .act_max = act_max,
    };
    char err[128];
    int st = mpq_requant_check(&rq, 1, err, sizeof err);
    if (st)
        return st;
    *y = mpq_requant_one(&rq, acc, 0);
    return MPQ_OK;
}

int mpq_sb_acc_fit(int64_t v, unsigned bits, int mode, int64_t *fitted, int *overflowed)
{
    if (!fitted || !overflowed || bits < 1 || bits > 64 ||
        (mode != MPQ_ACC_WRAP && mode != MPQ_ACC_SAT))
        return MPQ_EPARAM;
    *fitted = mpq_acc_fit(v, bits, (mpq_acc_mode)mode, overflowed);
    return MPQ_OK;
}
