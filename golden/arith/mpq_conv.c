/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_conv.c: the spatial layers over NHWC integer tensors (../shared/oracles/FORMAT.md,
 * "Spatial layers"): conv2d with stride, padding, dilation and groups, depthwise with a
 * channel multiplier, average and max pooling; the shape rules they share.
 *
 * The layers themselves are the planned layers of mpq_layer.c, planned here for the
 * activations' range and run once: each output pixel and group is one row of the MAC
 * engine (its im2col patch, [ky][kx][c], 0 where the window leaves the input), the OHWI
 * filters are the engine's [out_c][kh*kw*F] weight matrix, and the fit points are the
 * blocks of the GROUPED order (mpq.h). A depthwise layer is the grouped convolution with
 * in_c groups of one channel. Hardware counterpart: the accelerator's conv mode
 * (rtl/mpq_lane.sv accumulates one output channel; a KLanes-wide slice is one block of
 * input channels at one window position).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq_layer.h"
#include "arith/mpq_mac.h"

static const char *const layer_names[MPQ_LAYER_COUNT] = {"fc", "conv2d", "depthwise", "avgpool",
                                                         "maxpool"};

const char *mpq_layer_name(mpq_layer_kind k)
{
    return (unsigned)k < MPQ_LAYER_COUNT ? layer_names[k] : "?";
}

int mpq_layer_parse(const char *s, mpq_layer_kind *k)
{
    int i = mpq_name_find(layer_names, MPQ_LAYER_COUNT, s);
    if (i < 0)
        return MPQ_EPARAM;
    *k = (mpq_layer_kind)i;
    return MPQ_OK;
}

/* ---- shapes ---- */

static unsigned groups_of(const mpq_conv_shape *s)
{
    if (s->kind == MPQ_LAYER_DEPTHWISE)
        return s->in_c;
    return s->kind == MPQ_LAYER_CONV2D && s->groups ? s->groups : 1;
}

/* Input channels per group (F) and output channels per group. */
static unsigned chans_per_group(const mpq_conv_shape *s)
{
    return s->kind == MPQ_LAYER_CONV2D ? s->in_c / groups_of(s) : 1;
}

unsigned mpq_conv_depth(const mpq_conv_shape *s)
{
    return s->kh * s->kw * chans_per_group(s);
}

size_t mpq_conv_in_count(const mpq_conv_shape *s)
{
    return (size_t)s->batches * s->in_h * s->in_w * s->in_c;
}

size_t mpq_conv_out_count(const mpq_conv_shape *s)
{
    return (size_t)s->batches * s->out_h * s->out_w * s->out_c;
}

size_t mpq_conv_w_count(const mpq_conv_shape *s)
{
    if (s->kind != MPQ_LAYER_CONV2D && s->kind != MPQ_LAYER_DEPTHWISE)
        return 0;
    return (size_t)s->out_c * mpq_conv_depth(s);
}

mpq_conv_layer mpq_conv_layer_of_fc(const mpq_conv_shape *s, const mpq_fc_layer *fc)
{
    mpq_conv_layer l = {
        .shape = *s, .x = fc->x, .in_offset = fc->in_offset, .w = fc->w, .w_offset = fc->w_offset,
        .t = fc->t, .alpha = fc->alpha, .alpha_per_tensor = fc->alpha_per_tensor, .hp = fc->hp,
        .bias = fc->bias, .acc_bits = fc->acc_bits, .acc_mode = fc->acc_mode, .order = fc->order,
        .group = fc->group,
    };
    return l;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* One axis: out must be what stride, padding and dilation give (mpq_conv_check). */
static int check_axis(const char *axis, unsigned in, unsigned k, unsigned stride, unsigned pad,
                      unsigned dil, unsigned out, char *err, size_t errlen)
{
    if (in < 1 || k < 1 || stride < 1 || dil < 1 || out < 1) {
        snprintf(err, errlen, "%s axis: input %u, kernel %u, stride %u, dilation %u and output %u "
                 "must all be >= 1", axis, in, k, stride, dil, out);
        return MPQ_EPARAM;
    }
    int64_t e = (int64_t)(k - 1) * dil + 1, s = stride, p = pad;
    if (p >= e) {
        snprintf(err, errlen, "%s axis: padding %u is not below the window extent %lld", axis, pad,
                 (long long)e);
        return MPQ_EPARAM;
    }
    int64_t q = (int64_t)(out - 1) * s + e - in - p; /* implied far-side padding */
    int64_t qmax = p + 1 < e - 1 ? p + 1 : e - 1;
    if (q <= -s || q > qmax) {
        int64_t lo = floor_div((int64_t)in + p - e, s) + 1;
        int64_t hi = floor_div((int64_t)in + p - e + qmax, s) + 1;
        snprintf(err, errlen, "%s axis: output size %u disagrees with input %u, kernel %u, stride %u, "
                 "padding %u and dilation %u (expected %lld..%lld)", axis, out, in, k, stride, pad,
                 dil, (long long)(lo < 1 ? 1 : lo), (long long)hi);
        return MPQ_EPARAM;
    }
    return MPQ_OK;
}

int mpq_conv_check(const mpq_conv_shape *s, char *err, size_t errlen)
{
    if (s->kind != MPQ_LAYER_CONV2D && s->kind != MPQ_LAYER_DEPTHWISE &&
        s->kind != MPQ_LAYER_AVGPOOL && s->kind != MPQ_LAYER_MAXPOOL) {
        snprintf(err, errlen, "layer kind %d is not a spatial layer", (int)s->kind);
        return MPQ_EPARAM;
    }
    const char *name = mpq_layer_name(s->kind);
    if (s->batches < 1 || s->in_c < 1 || s->out_c < 1) {
        snprintf(err, errlen, "%s: batches %u, in_c %u and out_c %u must be >= 1", name, s->batches,
                 s->in_c, s->out_c);
        return MPQ_EPARAM;
    }
    unsigned g = s->groups ? s->groups : 1;
    if (s->kind == MPQ_LAYER_CONV2D && (s->in_c % g || s->out_c % g)) {
        snprintf(err, errlen, "conv2d: groups %u do not divide in_c %u and out_c %u", g, s->in_c,
                 s->out_c);
        return MPQ_EPARAM;
    }
    if (s->kind != MPQ_LAYER_CONV2D && g != 1) {
        snprintf(err, errlen, "%s: groups apply to conv2d only", name);
        return MPQ_EPARAM;
    }
    if (s->kind == MPQ_LAYER_DEPTHWISE && s->out_c % s->in_c) {
        snprintf(err, errlen, "depthwise: out_c %u is not a multiple of in_c %u", s->out_c, s->in_c);
        return MPQ_EPARAM;
    }
    int pool = s->kind == MPQ_LAYER_AVGPOOL || s->kind == MPQ_LAYER_MAXPOOL;
    if (pool && s->out_c != s->in_c) {
        snprintf(err, errlen, "%s: out_c %u differs from in_c %u", name, s->out_c, s->in_c);
        return MPQ_EPARAM;
    }
    if (pool && (s->dy != 1 || s->dx != 1)) {
        snprintf(err, errlen, "%s: pooling takes no dilation", name);
        return MPQ_EPARAM;
    }
    int st;
    if ((st = check_axis("height", s->in_h, s->kh, s->sy, s->py, s->dy, s->out_h, err, errlen)) ||
        (st = check_axis("width", s->in_w, s->kw, s->sx, s->px, s->dx, s->out_w, err, errlen)))
        return st;
    double big = 2147483647.0;
    double in = (double)s->batches * s->in_h * s->in_w * s->in_c;
    double out = (double)s->batches * s->out_h * s->out_w * s->out_c;
    double w = (double)s->out_c * s->kh * s->kw * s->in_c;
    if (in > big || out > big || w > big) {
        snprintf(err, errlen, "%s: tensors of more than 2^31 elements", name);
        return MPQ_EPARAM;
    }
    return MPQ_OK;
}

/* ---- convolution ---- */

int mpq_conv_check_kind(const mpq_conv_shape *s, int pool, char *err, size_t errlen)
{
    int is_pool = s->kind == MPQ_LAYER_AVGPOOL || s->kind == MPQ_LAYER_MAXPOOL;
    int is_conv = s->kind == MPQ_LAYER_CONV2D || s->kind == MPQ_LAYER_DEPTHWISE;
    if (pool ? !is_pool : !is_conv) {
        snprintf(err, errlen, "%s is not a %s layer", mpq_layer_name(s->kind),
                 pool ? "pooling" : "convolution");
        return MPQ_EPARAM;
    }
    return mpq_conv_check(s, err, errlen);
}

/* The report of the planned layer in the convolution's terms. */
static void conv_report(const mpq_conv_shape *s, const mpq_layer_ovf *o, mpq_conv_ovf *ovf)
{
    ovf->n_final = o->n_final;
    ovf->n_any = o->n_any;
    ovf->first_b = ovf->first_oy = ovf->first_ox = ovf->first_ch = ovf->first_red = -1;
    ovf->first_bias = 0;
    if (o->first_out < 0)
        return;
    size_t i = (size_t)o->first_out, pix = i / s->out_c;
    ovf->first_ch = (long)(i % s->out_c);
    ovf->first_ox = (long)(pix % s->out_w);
    ovf->first_oy = (long)(pix / s->out_w % s->out_h);
    ovf->first_b = (long)(pix / s->out_w / s->out_h);
    ovf->first_red = o->first_term;
    ovf->first_bias = o->first_term < 0;
}

/* One plan of the layer (mpq_layer.h) for its activations' range, one run. */
static int conv_run(const mpq_conv_layer *l, const mpq_requant *rq, int32_t *y, int64_t *acc,
                    mpq_conv_ovf *ovf, char *err, size_t errlen)
{
    int st = mpq_conv_check_kind(&l->shape, 0, err, errlen);
    if (st || (st = mpq_mac_check_order(l->x, l->order, l->group, err, errlen)))
        return st;
    const mpq_fc_layer m = {.in_offset = l->in_offset, .w = l->w, .w_offset = l->w_offset,
                            .t = l->t, .alpha = l->alpha, .alpha_per_tensor = l->alpha_per_tensor,
                            .hp = l->hp, .bias = l->bias, .acc_bits = l->acc_bits,
                            .acc_mode = l->acc_mode, .order = l->order, .group = l->group};
    mpq_layer_def d = {.shape = l->shape, .mac = &m, .rq = rq,
                       .flags = MPQ_LAYER_RANGED | (ovf ? MPQ_LAYER_TRACK : 0)};
    mpq_min_max32(l->x, mpq_conv_in_count(&l->shape), &d.x_min, &d.x_max);
    mpq_layer *pl;
    if ((st = mpq_layer_init(&pl, &d, err, errlen)))
        return st;
    mpq_layer_ovf o = {.flags = ovf ? ovf->flags : NULL, .first = ovf ? ovf->first_r : NULL};
    mpq_layer_out out = {.acc = acc, .y = y, .ovf = ovf ? &o : NULL};
    st = mpq_layer_run(pl, l->x, NULL, &out, NULL, err, errlen);
    mpq_layer_free(pl);
    if (!st && ovf)
        conv_report(&l->shape, &o, ovf);
    return st;
}

int mpq_conv_acc(const mpq_conv_layer *l, int64_t *acc, mpq_conv_ovf *ovf, char *err,
                 size_t errlen)
{
    return conv_run(l, NULL, NULL, acc, ovf, err, errlen);
}

int mpq_conv(const mpq_conv_layer *l, const mpq_requant *rq, int32_t *y, int64_t *acc,
             mpq_conv_ovf *ovf, char *err, size_t errlen)
{
    return conv_run(l, rq, y, acc, ovf, err, errlen);
}

/* ---- pooling ---- */

int mpq_pool(const mpq_conv_shape *s, const int32_t *x, int32_t act_min, int32_t act_max,
             int32_t *y, char *err, size_t errlen)
{
    mpq_layer_def d = {.shape = *s, .act_min = act_min, .act_max = act_max,
                       .x_min = INT32_MIN, .x_max = INT32_MAX};
    int st = mpq_conv_check_kind(s, 1, err, errlen);
    mpq_layer *pl;
    if (st || (st = mpq_layer_init(&pl, &d, err, errlen)))
        return st;
    mpq_layer_out out = {.y = y};
    st = mpq_layer_run(pl, x, NULL, &out, NULL, err, errlen);
    mpq_layer_free(pl);
    return st;
}
