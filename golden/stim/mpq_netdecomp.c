/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_netdecomp.c: a network's int8 layer decomposed post-training into the accelerator's
 * ternary + sparse form, requantized for the new weight step (mpq_qlayer_decompose), and the
 * functional model of a mapped layer in either form (mpq_qlayer_expected); mpq_netmap.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stim/mpq_netmap.h"

void mpq_qdecomp_free(mpq_qdecomp *d)
{
    free(d->t);
    free(d->alpha);
    free(d->hp);
    free(d->bias);
    free(d->mult);
    free(d->shift);
    free(d->step);
    memset(d, 0, sizeof *d);
}

static int is_fc(const mpq_qlayer *q)
{
    return q->s.kind == MPQ_LAYER_FC;
}

static unsigned channels(const mpq_qlayer *q)
{
    return is_fc(q) ? q->n : q->s.out_c;
}

static size_t weight_count(const mpq_qlayer *q)
{
    return is_fc(q) ? (size_t)q->n * q->k : mpq_conv_w_count(&q->s);
}

/* The output channel of flat weight index i in the kind's layout. */
static unsigned channel_of(const mpq_qlayer *q, size_t i)
{
    if (q->s.kind == MPQ_LAYER_DEPTHWISE)
        return (unsigned)(i % q->s.out_c);
    size_t per = is_fc(q) ? q->k : mpq_conv_depth(&q->s);
    return (unsigned)(i / per);
}

static int check_decomp(const mpq_qlayer *q, const mpq_map_decomp *d, char *err, size_t errlen)
{
    if (!q->w || q->t)
        return snprintf(err, errlen, "only a layer with int8 weights can be decomposed"), MPQ_EPARAM;
    if (!is_fc(q) && q->s.kind != MPQ_LAYER_CONV2D && q->s.kind != MPQ_LAYER_DEPTHWISE)
        return snprintf(err, errlen, "a %s layer has no weights to decompose", mpq_layer_name(q->s.kind)),
               MPQ_EPARAM;
    if (!is_fc(q) && mpq_conv_check(&q->s, err, errlen) != 0)
        return MPQ_EPARAM;
    if (is_fc(q) && (q->m == 0 || q->k == 0 || q->n == 0))
        return snprintf(err, errlen, "a fully-connected layer with a zero dimension"), MPQ_EPARAM;
    unsigned nch = channels(q);
    if (!q->w_scale || (q->nw_scale != 1 && q->nw_scale != nch) || !(q->in_scale > 0.0) ||
        !(q->out_scale > 0.0) || !isfinite(q->in_scale) || !isfinite(q->out_scale))
        return snprintf(err, errlen, "the layer's float scales are missing or not positive (input %g, "
                        "output %g, %u weight scales for %u channels): they are needed to requantize "
                        "the decomposed weights", q->in_scale, q->out_scale, q->w_scale ? q->nw_scale : 0,
                        nch), MPQ_EPARAM;
    for (unsigned c = 0; c < q->nw_scale; c++)
        if (!(q->w_scale[c] > 0.0f) || !isfinite(q->w_scale[c]))
            return snprintf(err, errlen, "weight scale %u is %g: not a positive number", c,
                            (double)q->w_scale[c]), MPQ_EPARAM;
    if (d->axis != MPQ_DECOMP_CHANNEL && d->axis != MPQ_DECOMP_WINDOW && d->axis != MPQ_DECOMP_UNSTRUCTURED)
        return snprintf(err, errlen, "unknown decomposition axis %d", (int)d->axis), MPQ_EPARAM;
    if (d->axis == MPQ_DECOMP_UNSTRUCTURED ? !(d->density >= 0.0 && d->density <= 1.0)
                                           : (d->group == 0 || d->group > 256 || d->hp_n > d->group))
        return snprintf(err, errlen, "impossible decomposition %u:%u (density %g): N <= G, 1 <= G <= 256, "
                        "density in 0..1", d->hp_n, d->group, d->density), MPQ_EPARAM;
    if (!(d->thr >= 0.0) || !isfinite(d->thr))
        return snprintf(err, errlen, "ternary threshold %g: expected a number >= 0", d->thr), MPQ_EPARAM;
    return MPQ_OK;
}

/* The golden model's decomposition of the real weights wd along d's axis (the fallbacks of
 * mpq_map_decomp: a window of one position groups along the channels). */
static int decompose_weights(const mpq_hwcfg *hw, const mpq_qlayer *q, const mpq_map_decomp *d, const double *wd,
                             const uint32_t *block, mpq_decomp *dc, char *err, size_t errlen)
{
    unsigned depth = is_fc(q) ? q->k : mpq_conv_depth(&q->s);
    mpq_decomp_opts o = {.thr = d->thr, .hp_n = d->hp_n, .group = d->group, .hp_bits = hw->hp_bits,
                         .alpha_bits = hw->alpha_bits};
    mpq_decomp_axis axis = d->axis;
    if (axis == MPQ_DECOMP_UNSTRUCTURED) {
        o.hp_n = (unsigned)lround(d->density * depth);
        o.group = 0;
    } else if (axis == MPQ_DECOMP_WINDOW && (is_fc(q) || q->s.kh * q->s.kw == 1)) {
        axis = MPQ_DECOMP_CHANNEL;
    }
    if (block && axis == MPQ_DECOMP_CHANNEL && !is_fc(q))
        return mpq_decompose_conv_blocks(wd, &q->s, block, &o, dc, err, errlen);
    if (is_fc(q)) /* along k: the channel axis of the 1x1 view, or one group per row */
        return mpq_decompose(wd, q->n, q->k, &o, dc, err, errlen);
    return mpq_decompose_conv(wd, &q->s, axis, &o, dc, err, errlen);
}

/* The requantization of channel c for step: TFLite's converter's bias and multiplier. */
static void requantize_channel(const mpq_qlayer *q, unsigned c, double sw, mpq_qdecomp *out)
{
    double step = out->step[c];
    double b = q->bias ? (double)q->bias[c] * sw / step : 0.0;
    b = b < 0.0 ? -floor(-b + 0.5) : floor(b + 0.5); /* half away from zero */
    out->bias[c] = b > 2147483647.0 ? INT32_MAX : b < -2147483648.0 ? INT32_MIN : (int32_t)b;
    int sh = 0;
    if (mpq_quantize_multiplier(q->in_scale * step / q->out_scale, &out->mult[c], &sh) != 0) {
        out->mult[c] = 0; /* cannot happen: the scales were checked positive and finite */
        sh = 0;
    }
    out->shift[c] = sh;
}

int mpq_qlayer_decompose(const mpq_hwcfg *hw, const mpq_qlayer *q, const mpq_map_decomp *d,
                         mpq_qdecomp *out, char *err, size_t errlen)
{
    return mpq_qlayer_decompose_blocks(hw, q, d, NULL, out, err, errlen);
}

int mpq_qlayer_decompose_blocks(const mpq_hwcfg *hw, const mpq_qlayer *q, const mpq_map_decomp *d,
                                const uint32_t *block, mpq_qdecomp *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = check_decomp(q, d, err, errlen);
    if (rc)
        return rc;
    unsigned nch = channels(q);
    size_t nw = weight_count(q);
    double *wd = malloc(nw * sizeof *wd);
    out->bias = malloc(nch * sizeof *out->bias);
    out->mult = malloc(nch * sizeof *out->mult);
    out->shift = malloc(nch * sizeof *out->shift);
    if (!wd || !out->bias || !out->mult || !out->shift) {
        free(wd);
        mpq_qdecomp_free(out);
        return snprintf(err, errlen, "out of memory"), MPQ_ENOMEM;
    }
    for (size_t i = 0; i < nw; i++) {
        unsigned c = channel_of(q, i);
        wd[i] = (double)q->w_scale[q->nw_scale == 1 ? 0 : c] * ((double)q->w[i] + q->w_offset);
    }
    mpq_decomp dc;
    if ((rc = decompose_weights(hw, q, d, wd, block, &dc, err, errlen)) != 0) {
        free(wd);
        mpq_qdecomp_free(out);
        return rc;
    }
    out->t = dc.t;
    out->alpha = dc.alpha;
    out->hp = dc.hp;
    out->step = dc.step;
    out->hp_nnz = dc.hp_nnz;
    out->weights = nw;
    /* A channel without any weight keeps its int8 step: its bias and multiplier stay the
     * model's (any step gives the same zero weights). */
    unsigned char *used = calloc(nch, 1);
    if (!used) {
        free(wd);
        mpq_qdecomp_free(out);
        return snprintf(err, errlen, "out of memory"), MPQ_ENOMEM;
    }
    for (size_t i = 0; i < nw; i++)
        if (out->t[i] || out->hp[i])
            used[channel_of(q, i)] = 1;
    for (unsigned c = 0; c < nch; c++) {
        double sw = (double)q->w_scale[q->nw_scale == 1 ? 0 : c];
        if (!used[c])
            out->step[c] = sw;
        requantize_channel(q, c, sw, out);
    }
    for (size_t i = 0; i < nw; i++) {
        unsigned c = channel_of(q, i);
        double e = wd[i] - out->step[c] * ((double)out->alpha[c] * out->t[i] + out->hp[i]);
        out->w_norm2 += wd[i] * wd[i];
        out->err_norm2 += e * e;
    }
    free(used);
    free(wd);
    out->q = *q;
    out->q.w = NULL;
    out->q.w_offset = 0;
    out->q.t = out->t;
    out->q.alpha = out->alpha;
    out->q.hp = out->hp;
    out->q.bias = out->bias;
    out->q.mult = out->mult;
    out->q.shift = out->shift;
    out->q.nparams = nch;
    return MPQ_OK;
}

int mpq_qlayer_expected(const mpq_hwcfg *hw, const mpq_qlayer *q, const int32_t *x, int32_t *y,
                        char *err, size_t errlen)
{
    mpq_requant rq = {.kind = MPQ_RQ_DOUBLE, .nparams = q->nparams, .mult = q->mult, .shift = q->shift,
                      .out_offset = q->out_offset, .act_min = q->act_min, .act_max = q->act_max};
    mpq_fc_layer fl = {.m = q->m, .k = q->k, .n = q->n, .x = x, .in_offset = q->in_offset,
                       .w = q->t ? NULL : q->w, .w_offset = q->t ? 0 : q->w_offset,
                       .t = q->t, .alpha = q->t ? q->alpha : NULL, .hp = q->t ? q->hp : NULL,
                       .bias = q->bias, .acc_bits = hw->acc_bits, .acc_mode = MPQ_ACC_WRAP,
                       .order = MPQ_ORDER_GROUPED, .group = hw->klanes};
    if (is_fc(q))
        return mpq_fc(&fl, &rq, y, NULL, NULL, err, errlen);
    mpq_conv_layer cl = mpq_conv_layer_of_fc(&q->s, &fl);
    return mpq_conv(&cl, &rq, y, NULL, NULL, err, errlen);
}

/* ---- decompositions as text ---- */

/* "a/b" or a decimal into *v; 0 when the whole text is a number. */
static int parse_fraction(const char *t, double *v)
{
    char *end;
    errno = 0;
    double a = strtod(t, &end);
    if (end == t || errno)
        return -1;
    if (*end == '/') {
        const char *b = end + 1;
        double den = strtod(b, &end);
        if (end == b || errno || den <= 0.0)
            return -1;
        a /= den;
    }
    *v = a;
    return *end ? -1 : 0;
}

int mpq_map_decomp_parse(const char *text, mpq_map_decomp *d, char *err, size_t errlen)
{
    *d = (mpq_map_decomp){.axis = MPQ_DECOMP_CHANNEL, .group = 16, .thr = 0.7};
    if (!strcmp(text, "ternary"))
        return 0;
    const char *rest = NULL;
    if (!strncmp(text, "channels-", 9)) {
        rest = text + 9;
    } else if (!strncmp(text, "window-", 7)) {
        d->axis = MPQ_DECOMP_WINDOW;
        rest = text + 7;
    } else if (!strncmp(text, "unstructured-", 13)) {
        d->axis = MPQ_DECOMP_UNSTRUCTURED;
        if (parse_fraction(text + 13, &d->density) != 0 || !(d->density > 0.0 && d->density <= 1.0))
            return snprintf(err, errlen, "decomposition '%s': the density must be a fraction in (0, 1], "
                            "e.g. unstructured-1/16", text), MPQ_EPARAM;
        return 0;
    } else {
        return snprintf(err, errlen, "decomposition '%s': expected ternary, channels-N:G, window-N:G or "
                        "unstructured-D", text), MPQ_EPARAM;
    }
    unsigned n, g;
    int used = 0;
    if (sscanf(rest, "%u:%u%n", &n, &g, &used) != 2 || rest[used] || g == 0 || n > g || g > 4096)
        return snprintf(err, errlen, "decomposition '%s': expected N:G with 0 <= N <= G, 1 <= G <= 4096",
                        text), MPQ_EPARAM;
    d->hp_n = n;
    d->group = g;
    d->density = (double)n / g;
    return 0;
}

int mpq_map_decomp_list_parse(const char *text, mpq_map_decomp *d, unsigned char *int8, unsigned max,
                              unsigned *n, char *err, size_t errlen)
{
    *n = 0;
    for (const char *p = text;; p++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[64];
        if (len == 0 || len >= sizeof item)
            return snprintf(err, errlen, "item %u of '%.200s': %s", *n + 1, text, len ? "too long" : "empty"),
                   MPQ_EPARAM;
        if (*n == max)
            return snprintf(err, errlen, "more than %u items", max), MPQ_EPARAM;
        memcpy(item, p, len);
        item[len] = 0;
        int8[*n] = !strcmp(item, "int8");
        if (!int8[*n]) {
            char why[256];
            if (mpq_map_decomp_parse(item, &d[*n], why, sizeof why) != 0)
                return snprintf(err, errlen, "item %u: %s", *n + 1, why), MPQ_EPARAM;
        }
        (*n)++;
        if (!end)
            return 0;
        p = end;
    }
}

void mpq_map_decomp_name(const mpq_map_decomp *d, char *buf, size_t len)
{
    if (d->axis != MPQ_DECOMP_UNSTRUCTURED && d->hp_n == 0)
        snprintf(buf, len, "ternary only");
    else if (d->axis == MPQ_DECOMP_UNSTRUCTURED)
        snprintf(buf, len, "unstructured %.4g", d->density);
    else
        snprintf(buf, len, "%s %u:%u", d->axis == MPQ_DECOMP_WINDOW ? "window" : "channels", d->hp_n, d->group);
}
