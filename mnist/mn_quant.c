/* SPDX-License-Identifier: Apache-2.0 */
/* mn_quant.c: the MLP in the accelerator's number formats, computed with the golden model.
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
    for (unsigned l = 0; l < MN_MAX_LAYERS; l++)
        qlayer_free(&q->layer[l]);
    memset(q, 0, sizeof *q);
}

int mn_quantize(const mn_mlp *m, const float *amax, mn_scheme scheme, unsigned hp_n,
                unsigned group, double density, mn_qnet *q, char *err, size_t errlen)
{
    memset(q, 0, sizeof *q);
    q->scheme = scheme;
    q->hp_n = hp_n;
    q->group = group;
    q->nl = m->nl;
    double err2 = 0.0, norm2 = 0.0;
    size_t nnz = 0, total = 0;
    double s_in = 1.0 / 255.0;
    for (unsigned l = 0; l < m->nl; l++) {
        unsigned k = m->dim[l], n = m->dim[l + 1];
        int last = l + 1 == m->nl;
        mn_qlayer *ql = &q->layer[l];
        ql->k = k;
        ql->n = n;
        ql->in_offset = 128;
        double s_out = last ? amax[l] / 127.0 : amax[l] / 255.0;
        ql->out_offset = last ? 0 : -128;
        ql->act_min = -128;
        ql->act_max = 127;
        ql->bias = malloc(n * sizeof *ql->bias);
        ql->mult = malloc(n * sizeof *ql->mult);
        ql->shift = malloc(n * sizeof *ql->shift);
        double *wd = malloc((size_t)n * k * sizeof *wd);
        double *sw = malloc(n * sizeof *sw);
        if (!ql->bias || !ql->mult || !ql->shift || !wd || !sw) {
            free(wd);
            free(sw);
            mn_qnet_free(q);
            snprintf(err, errlen, "out of memory");
            return MPQ_ENOMEM;
        }
        for (size_t i = 0; i < (size_t)n * k; i++) {
            wd[i] = m->w[l][i];
            norm2 += wd[i] * wd[i];
        }
        total += (size_t)n * k;
        int rc = 0;
        if (scheme == MN_DENSE8) {
            ql->w = malloc((size_t)n * k * sizeof *ql->w);
            if (!ql->w)
                rc = MPQ_ENOMEM;
            for (unsigned c = 0; rc == 0 && c < n; c++) {
                double mx = 0.0;
                for (unsigned i = 0; i < k; i++)
                    mx = fmax(mx, fabs(wd[(size_t)c * k + i]));
                sw[c] = mx > 0.0 ? mx / 127.0 : 1.0;
                for (unsigned i = 0; i < k; i++) {
                    double v = wd[(size_t)c * k + i];
                    int32_t wq = (int32_t)lrint(v / sw[c]);
                    ql->w[(size_t)c * k + i] = wq;
                    err2 += (v - sw[c] * wq) * (v - sw[c] * wq);
                }
            }
            if (rc)
                snprintf(err, errlen, "out of memory");
        } else {
            /* Unstructured (group 0): the density's share of each row, largest first. */
            unsigned n_row = group ? hp_n : (unsigned)lround(density * k);
            mpq_decomp_opts o = {.thr = 0.7, .hp_n = scheme == MN_MIXED ? n_row : 0,
                                 .group = scheme == MN_MIXED ? group : 0, .hp_bits = 8, .alpha_bits = 8};
            mpq_decomp d;
            rc = mpq_decompose(wd, n, k, &o, &d, err, errlen);
            if (rc == 0) {
                ql->t = d.t;
                ql->alpha = d.alpha;
                d.t = NULL;
                d.alpha = NULL;
                if (scheme == MN_MIXED) {
                    ql->hp = d.hp;
                    d.hp = NULL;
                    nnz += d.hp_nnz;
                }
                for (unsigned c = 0; c < n; c++)
                    sw[c] = d.step[c];
                for (unsigned c = 0; c < n; c++)
                    for (unsigned i = 0; i < k; i++) {
                        size_t j = (size_t)c * k + i;
                        double wq = (double)ql->alpha[c] * ql->t[j] + (ql->hp ? ql->hp[j] : 0);
                        err2 += (wd[j] - sw[c] * wq) * (wd[j] - sw[c] * wq);
                    }
                mpq_decomp_free(&d);
            }
        }
        for (unsigned c = 0; rc == 0 && c < n; c++) {
            double sc = s_in * sw[c];
            double bq = m->b[l][c] / sc;
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
        if (rc != 0) {
            mn_qnet_free(q);
            return rc;
        }
        s_in = s_out;
    }
    q->hp_density = total ? (double)nnz / (double)total : 0.0;
    q->rel_err = norm2 > 0 ? sqrt(err2 / norm2) : 0.0;
    return 0;
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
        int32_t *out = last ? y : (bufs[l & 1] = realloc(bufs[l & 1], (size_t)m * ql->n * sizeof(int32_t)));
        if (!out) {
            rc = MPQ_ENOMEM;
            snprintf(err, errlen, "out of memory");
            break;
        }
        mpq_fc_layer fl = {0};
        fl.m = m;
        fl.k = ql->k;
        fl.n = ql->n;
        fl.x = in;
        fl.in_offset = ql->in_offset;
        fl.w = ql->w;
        fl.t = ql->t;
        fl.alpha = ql->t ? ql->alpha : NULL;
        fl.hp = ql->hp;
        fl.bias = ql->bias;
        fl.acc_bits = acc_bits;
        fl.acc_mode = acc_mode;
        fl.order = MPQ_ORDER_GROUPED;
        fl.group = group;
        mpq_requant rq = {0};
        rq.kind = MPQ_RQ_DOUBLE;
        rq.nparams = ql->n;
        rq.mult = ql->mult;
        rq.shift = ql->shift;
        rq.out_offset = ql->out_offset;
        rq.act_min = ql->act_min;
        rq.act_max = ql->act_max;
        mpq_fc_ovf ovf;
        memset(&ovf, 0, sizeof ovf);
        rc = mpq_fc(&fl, &rq, out, NULL, ovf_any ? &ovf : NULL, err, errlen);
        if (ovf_any)
            *ovf_any += ovf.n_any;
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
