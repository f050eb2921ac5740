/* SPDX-License-Identifier: Apache-2.0 */
/* mn_quant.c: the MLP and the CNN in the accelerator's number formats, computed with the
 * golden model (FC layers with mpq_fc, convolutions with mpq_conv, max pooling with mpq_pool).
 *
 * Activations are int8 with a zero point (TFLite style): a layer's input is
 * x_real = s_in * (q + in_offset); the image is q = pixel - 128 with s_in = 1/255 and
 * in_offset = 128; a hidden layer's output uses s = max activation / 255 (calibrated) and
 * zero point -128, so ReLU is the clamp at -128; the logits use s = max |logit| / 127 and
 * zero point 0. Weights are W ~= s_w[c] * Wq[c] with Wq dense int8, ternary alpha*t, or
 * alpha*t + hp (mpq_decompose); the bias is round(b / (s_in s_w)) in int32 and the
 * requantization multiplier s_in s_w / s_out comes from mpq_quantize_multiplier. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mnist.h"

void mn_calibrate(const mn_mlp *m, const mn_set *s, unsigned count, float *amax)
{
    float buf[MN_MAX_LAYERS][1024];
    float *act[MN_MAX_LAYERS];
    for (unsigned l = 0; l < MN_MAX_LAYERS; l++)
        act[l] = buf[l];
    for (unsigned l = 0; l < m->nl; l++)
        amax[l] = 1e-6f;
    unsigned npix = s->rows * s->cols;
    if (count > s->n)
        count = s->n;
    for (unsigned i = 0; i < count; i++) {
        mn_mlp_forward(m, &s->images[(size_t)i * npix], act);
        for (unsigned l = 0; l < m->nl; l++)
            for (unsigned o = 0; o < m->dim[l + 1]; o++)
                if (fabsf(act[l][o]) > amax[l])
                    amax[l] = fabsf(act[l][o]);
    }
}

void mn_input(const uint8_t *img, unsigned npix, int32_t *x)
{
    for (unsigned i = 0; i < npix; i++)
        x[i] = (int32_t)img[i] - 128;
}

static void qlayer_free(mn_qlayer *q)
{
    free(q->w);
    free(q->t);
    free(q->alpha);
    free(q->hp);
    free(q->bias);
    free(q->mult);
    free(q->shift);
    memset(q, 0, sizeof *q);
}

void mn_qnet_free(mn_qnet *q)
{
    for (unsigned l = 0; l < MN_MAX_QLAYERS; l++)
        qlayer_free(&q->layer[l]);
    memset(q, 0, sizeof *q);
}

size_t mn_qlayer_out_size(const mn_qlayer *ql)
{
    if (ql->kind == MPQ_LAYER_FC)
        return ql->n;
    return (size_t)ql->s.out_h * ql->s.out_w * ql->s.out_c;
}

/* Sums over the layers of a quantization: sparse non-zeros, weights, and the squared norms
 * of the weights and of their error. */
typedef struct qsums {
    size_t nnz, total;
    double norm2, err2;
} qsums;

/* Dense int8 per output channel: w ~= sw[c] * wq, wq in [-127, 127]. */
static int quantize_dense(mn_qlayer *ql, const double *wd, double *sw, qsums *sum)
{
    unsigned n = ql->n, k = ql->k;
    ql->w = malloc((size_t)n * k * sizeof *ql->w);
    if (!ql->w)
        return MPQ_ENOMEM;
    for (unsigned c = 0; c < n; c++) {
        double mx = 0.0;
        for (unsigned i = 0; i < k; i++)
            mx = fmax(mx, fabs(wd[(size_t)c * k + i]));
        sw[c] = mx > 0.0 ? mx / 127.0 : 1.0;
        for (unsigned i = 0; i < k; i++) {
            double v = wd[(size_t)c * k + i];
            int32_t wq = (int32_t)lrint(v / sw[c]);
            ql->w[(size_t)c * k + i] = wq;
            sum->err2 += (v - sw[c] * wq) * (v - sw[c] * wq);
        }
    }
    return 0;
}

/* Ternary (+ sparse int8): mpq_decompose along k for an FC layer, mpq_decompose_conv along
 * spec->axis for a convolution; w ~= sw[c] * (alpha[c] * t + hp). */
static int quantize_decomposed(mn_qlayer *ql, const double *wd, const mn_qspec *spec, double *sw,
                               qsums *sum, char *err, size_t errlen)
{
    unsigned n = ql->n, k = ql->k;
    int mixed = spec->scheme == MN_MIXED;
    int unstructured = spec->axis == MPQ_DECOMP_UNSTRUCTURED || spec->group == 0;
    unsigned n_row = unstructured ? (unsigned)lround(spec->density * k) : spec->hp_n;
    mpq_decomp_opts o = {.thr = 0.7, .hp_n = mixed ? n_row : 0,
                         .group = mixed && !unstructured ? spec->group : 0, .hp_bits = 8, .alpha_bits = 8};
    mpq_decomp d;
    int rc;
    if (ql->kind == MPQ_LAYER_FC)
        rc = mpq_decompose(wd, n, k, &o, &d, err, errlen);
    else
        rc = mpq_decompose_conv(wd, &ql->s, unstructured ? MPQ_DECOMP_UNSTRUCTURED : spec->axis, &o, &d,
                                err, errlen);
    if (rc != 0)
        return rc;
    ql->t = d.t;
    ql->alpha = d.alpha;
    d.t = NULL;
    d.alpha = NULL;
    if (mixed) {
        ql->hp = d.hp;
        d.hp = NULL;
        sum->nnz += d.hp_nnz;
    }
    for (unsigned c = 0; c < n; c++)
        sw[c] = d.step[c];
    for (unsigned c = 0; c < n; c++)
        for (unsigned i = 0; i < k; i++) {
            size_t j = (size_t)c * k + i;
            double wq = (double)ql->alpha[c] * ql->t[j] + (ql->hp ? ql->hp[j] : 0);
            sum->err2 += (wd[j] - sw[c] * wq) * (wd[j] - sw[c] * wq);
        }
    mpq_decomp_free(&d);
    return 0;
}

/* One layer with weights (ql->kind, k, n and s set): its input has scale *s (then set to the
 * output's) and zero point -128 (in_offset 128); its output scale amax / 255 with zero point
 * -128 (hidden: ReLU is the clamp at -128), or amax / 127 and 0 (last). Weights w [n][k] and
 * biases b [n] real. */
static int quantize_layer(mn_qlayer *ql, const float *w, const float *b, double *s, float amax,
                          int last, const mn_qspec *spec, qsums *sum, char *err, size_t errlen)
{
    double s_in = *s, s_out = last ? amax / 127.0 : amax / 255.0;
    unsigned k = ql->k, n = ql->n;
    ql->in_offset = 128;
    ql->out_offset = last ? 0 : -128;
    ql->act_min = -128;
    ql->act_max = 127;
    ql->bias = malloc(n * sizeof *ql->bias);
    ql->mult = malloc(n * sizeof *ql->mult);
    ql->shift = malloc(n * sizeof *ql->shift);
    double *wd = malloc((size_t)n * k * sizeof *wd);
    double *sw = malloc(n * sizeof *sw);
    int rc = ql->bias && ql->mult && ql->shift && wd && sw ? 0 : MPQ_ENOMEM;
    for (size_t i = 0; rc == 0 && i < (size_t)n * k; i++) {
        wd[i] = w[i];
        sum->norm2 += wd[i] * wd[i];
    }
    sum->total += (size_t)n * k;
    if (rc == 0)
        rc = spec->scheme == MN_DENSE8 ? quantize_dense(ql, wd, sw, sum)
                                       : quantize_decomposed(ql, wd, spec, sw, sum, err, errlen);
    if (rc == 0 && spec->scheme == MN_DENSE8 && spec->first_dense) /* int8 within a mixed net */
        for (size_t i = 0; i < (size_t)n * k; i++)
            sum->nnz += ql->w[i] != 0;
    if (rc == MPQ_ENOMEM)
        snprintf(err, errlen, "out of memory");
    for (unsigned c = 0; rc == 0 && c < n; c++) {
        double sc = s_in * sw[c];
        double bq = b[c] / sc;
        ql->bias[c] = (int32_t)fmax(-2147483648.0, fmin(2147483647.0, (double)lrint(bq)));
        int sh;
        if (mpq_quantize_multiplier(sc / s_out, &ql->mult[c], &sh) != 0 || sh < -31 || sh > 30) {
            ql->mult[c] = 0; /* a scale outside the hardware's range: output 0 */
            sh = 0;
        }
        ql->shift[c] = sh;
    }
    free(wd);
    free(sw);
    if (rc == 0)
        *s = s_out;
    return rc;
}

/* The network's totals after its last layer; on a layer's failure rc, q freed. Returns rc. */
static int finish(mn_qnet *q, const qsums *sum, int rc)
{
    if (rc != 0) {
        mn_qnet_free(q);
        return rc;
    }
    q->hp_density = sum->total ? (double)sum->nnz / (double)sum->total : 0.0;
    q->rel_err = sum->norm2 > 0 ? sqrt(sum->err2 / sum->norm2) : 0.0;
    return 0;
}

int mn_quantize(const mn_mlp *m, const float *amax, const mn_qspec *spec, mn_qnet *q, char *err,
                size_t errlen)
{
    memset(q, 0, sizeof *q);
    q->spec = *spec;
    q->nl = m->nl;
    q->in_size = m->dim[0];
    q->classes = m->dim[m->nl];
    qsums sum = {0};
    double s = 1.0 / 255.0;
    int rc = 0;
    for (unsigned l = 0; l < m->nl && rc == 0; l++) {
        mn_qlayer *ql = &q->layer[l];
        ql->kind = MPQ_LAYER_FC;
        ql->k = m->dim[l];
        ql->n = m->dim[l + 1];
        rc = quantize_layer(ql, m->w[l], m->b[l], &s, amax[l], l + 1 == m->nl, spec, &sum, err, errlen);
    }
    return finish(q, &sum, rc);
}

int cnn_quantize(const cnn_net *net, const float *amax, const mn_qspec *spec, mn_qnet *q,
                 char *err, size_t errlen)
{
    memset(q, 0, sizeof *q);
    if (net->nl > MN_MAX_QLAYERS) {
        snprintf(err, errlen, "%u layers: at most %u", net->nl, MN_MAX_QLAYERS);
        return MPQ_EPARAM;
    }
    q->spec = *spec;
    q->nl = net->nl;
    q->in_size = net->layer[0].s.in_h * net->layer[0].s.in_w * net->layer[0].s.in_c;
    q->classes = net->layer[net->nl - 1].s.out_c;
    qsums sum = {0};
    double s = 1.0 / 255.0;
    int first = 1, rc = 0;
    for (unsigned l = 0; l < net->nl && rc == 0; l++) {
        const cnn_layer *L = &net->layer[l];
        mn_qlayer *ql = &q->layer[l];
        int last = l + 1 == net->nl;
        ql->kind = L->s.kind;
        ql->s = L->s;
        ql->n = L->s.out_c;
        if (L->s.kind == MPQ_LAYER_MAXPOOL) {
            /* Max pooling commutes with the monotonic int8 code: same scale, same zero point. */
            ql->in_offset = 128;
            ql->out_offset = -128;
            ql->act_min = -128;
            ql->act_max = 127;
            continue;
        }
        ql->k = mpq_conv_depth(&L->s);
        mn_qspec dense = {.scheme = MN_DENSE8, .first_dense = 1};
        const mn_qspec *ls = spec->first_dense && first && spec->scheme != MN_DENSE8 ? &dense : spec;
        rc = quantize_layer(ql, L->w, L->b, &s, amax[l], last, ls, &sum, err, errlen);
        first = 0;
    }
    return finish(q, &sum, rc);
}

int mn_qlayer_run(const mn_qlayer *ql, const int32_t *in, unsigned m, unsigned acc_bits,
                  mpq_acc_mode acc_mode, unsigned group, int32_t *out, size_t *ovf_any,
                  char *err, size_t errlen)
{
    if (ovf_any)
        *ovf_any = 0;
    if (ql->kind == MPQ_LAYER_MAXPOOL) {
        mpq_conv_shape s = ql->s;
        s.batches = m;
        return mpq_pool(&s, in, ql->act_min, ql->act_max, out, err, errlen);
    }
    mpq_requant rq = {.kind = MPQ_RQ_DOUBLE, .nparams = ql->n, .mult = ql->mult, .shift = ql->shift,
                      .out_offset = ql->out_offset, .act_min = ql->act_min, .act_max = ql->act_max};
    /* The accelerator's grouped order; a convolution takes the same fields. */
    mpq_fc_layer fl = {.m = m, .k = ql->k, .n = ql->n, .x = in, .in_offset = ql->in_offset,
                       .w = ql->w, .t = ql->t, .alpha = ql->t ? ql->alpha : NULL, .hp = ql->hp,
                       .bias = ql->bias, .acc_bits = acc_bits, .acc_mode = acc_mode,
                       .order = MPQ_ORDER_GROUPED, .group = group};
    int rc;
    if (ql->kind == MPQ_LAYER_FC) {
        mpq_fc_ovf ovf = {0};
        rc = mpq_fc(&fl, &rq, out, NULL, ovf_any ? &ovf : NULL, err, errlen);
        if (ovf_any)
            *ovf_any = ovf.n_any;
    } else {
        mpq_conv_shape s = ql->s;
        s.batches = m;
        mpq_conv_layer cl = mpq_conv_layer_of_fc(&s, &fl);
        mpq_conv_ovf ovf = {0};
        rc = mpq_conv(&cl, &rq, out, NULL, ovf_any ? &ovf : NULL, err, errlen);
        if (ovf_any)
            *ovf_any = ovf.n_any;
    }
    return rc;
}

int mn_qnet_run(const mn_qnet *q, const int32_t *x, unsigned m, unsigned acc_bits,
                mpq_acc_mode acc_mode, unsigned group, int32_t *y, size_t *ovf_any,
                char *err, size_t errlen)
{
    const int32_t *in = x;
    int32_t *bufs[2] = {NULL, NULL};
    int rc = 0;
    if (ovf_any)
        *ovf_any = 0;
    for (unsigned l = 0; rc == 0 && l < q->nl; l++) {
        const mn_qlayer *ql = &q->layer[l];
        int last = l + 1 == q->nl;
        int32_t *out = last ? y : (bufs[l & 1] = realloc(bufs[l & 1], (size_t)m * mn_qlayer_out_size(ql) * sizeof(int32_t)));
        if (!out) {
            rc = MPQ_ENOMEM;
            snprintf(err, errlen, "out of memory");
            break;
        }
        size_t ovf = 0;
        rc = mn_qlayer_run(ql, in, m, acc_bits, acc_mode, group, out, ovf_any ? &ovf : NULL, err, errlen);
        if (ovf_any)
            *ovf_any += ovf;
        in = out;
    }
    free(bufs[0]);
    free(bufs[1]);
    return rc;
}

double mn_accuracy(const int32_t *y, const uint8_t *labels, unsigned m, unsigned classes)
{
    unsigned right = 0;
    for (unsigned r = 0; r < m; r++) {
        const int32_t *v = &y[(size_t)r * classes];
        unsigned best = 0;
        for (unsigned c = 1; c < classes; c++)
            if (v[c] > v[best])
                best = c;
        right += best == labels[r];
    }
    return m ? (double)right / m : 0.0;
}
