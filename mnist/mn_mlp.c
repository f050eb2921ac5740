/* SPDX-License-Identifier: Apache-2.0 */
/* mn_mlp.c: a float MLP (ReLU hidden layers, softmax cross-entropy) trained with mini-batch
 * SGD with momentum. Deterministic: every random choice (initialization, shuffling) comes
 * from the seed; the loops have a fixed order. Built with -O3 and reassociation allowed so
 * the dot products vectorize (mnist/mnist.mk); the result is the same on every run. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnist.h"

#define BATCH 64u

double mn_rng_unit(mn_rng *r) { return (double)(mn_rng_next(r) >> 11) * 0x1.0p-53; }
double mn_rng_normal(mn_rng *r)
{
    double u = mn_rng_unit(r), v = mn_rng_unit(r);
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

void mn_shuffle(mn_rng *r, unsigned *order, unsigned n)
{
    for (unsigned i = n ? n - 1 : 0; i > 0; i--) {
        unsigned j = (unsigned)(mn_rng_next(r) % (i + 1u));
        unsigned tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
}

int mn_mlp_init(mn_mlp *m, const unsigned *dims, unsigned nl, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    if (nl < 1 || nl > MN_MAX_LAYERS)
        return MPQ_EPARAM;
    m->nl = nl;
    mn_rng r = {seed};
    for (unsigned l = 0; l <= nl; l++)
        m->dim[l] = dims[l];
    for (unsigned l = 0; l < nl; l++) {
        size_t nw = (size_t)dims[l + 1] * dims[l];
        m->w[l] = malloc(nw * sizeof(float));
        m->b[l] = calloc(dims[l + 1], sizeof(float));
        if (!m->w[l] || !m->b[l]) {
            mn_mlp_free(m);
            return MPQ_ENOMEM;
        }
        double sd = sqrt(2.0 / dims[l]); /* He initialization */
        for (size_t i = 0; i < nw; i++)
            m->w[l][i] = (float)(mn_rng_normal(&r) * sd);
    }
    return 0;
}

void mn_mlp_free(mn_mlp *m)
{
    for (unsigned l = 0; l < MN_MAX_LAYERS; l++) {
        free(m->w[l]);
        free(m->b[l]);
    }
    memset(m, 0, sizeof *m);
}

static float dot(const float *a, const float *b, unsigned n)
{
    float s = 0.0f;
    for (unsigned i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static void forward_f(const mn_mlp *m, const float *in, float *const *act)
{
    const float *x = in;
    for (unsigned l = 0; l < m->nl; l++) {
        unsigned k = m->dim[l], n = m->dim[l + 1];
        for (unsigned o = 0; o < n; o++) {
            float v = m->b[l][o] + dot(&m->w[l][(size_t)o * k], x, k);
            act[l][o] = (l + 1 < m->nl && v < 0.0f) ? 0.0f : v;
        }
        x = act[l];
    }
}

void mn_mlp_forward(const mn_mlp *m, const uint8_t *img, float *const *act)
{
    float x[1024];
    for (unsigned i = 0; i < m->dim[0] && i < 1024; i++)
        x[i] = (float)img[i] / 255.0f;
    forward_f(m, x, act);
}

unsigned mn_argmax_f(const float *v, unsigned n)
{
    unsigned best = 0;
    for (unsigned i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

double mn_mlp_accuracy(const mn_mlp *m, const mn_set *s, unsigned count)
{
    float buf[MN_MAX_LAYERS][1024];
    float *act[MN_MAX_LAYERS];
    for (unsigned l = 0; l < MN_MAX_LAYERS; l++)
        act[l] = buf[l];
    unsigned npix = s->rows * s->cols, right = 0;
    if (count > s->n)
        count = s->n;
    for (unsigned i = 0; i < count; i++) {
        mn_mlp_forward(m, &s->images[(size_t)i * npix], act);
        right += mn_argmax_f(act[m->nl - 1], m->dim[m->nl]) == s->labels[i];
    }
    return count ? (double)right / count : 0.0;
}

/* The training state: gradients, momenta, activations and deltas of every layer. */
typedef struct mlp_train_bufs {
    float *gw[MN_MAX_LAYERS], *gb[MN_MAX_LAYERS];
    float *vw[MN_MAX_LAYERS], *vb[MN_MAX_LAYERS];
    float *act[MN_MAX_LAYERS], *delta[MN_MAX_LAYERS];
} mlp_train_bufs;

static void train_bufs_free(const mn_mlp *m, mlp_train_bufs *t)
{
    for (unsigned l = 0; l < m->nl; l++) {
        free(t->gw[l]);
        free(t->vw[l]);
        free(t->gb[l]);
        free(t->vb[l]);
        free(t->act[l]);
        free(t->delta[l]);
    }
}

/* All zero. Returns 0 or MPQ_ENOMEM (what was had is freed). */
static int train_bufs_alloc(const mn_mlp *m, mlp_train_bufs *t)
{
    memset(t, 0, sizeof *t);
    for (unsigned l = 0; l < m->nl; l++) {
        size_t nw = (size_t)m->dim[l + 1] * m->dim[l];
        t->gw[l] = calloc(nw, sizeof(float));
        t->vw[l] = calloc(nw, sizeof(float));
        t->gb[l] = calloc(m->dim[l + 1], sizeof(float));
        t->vb[l] = calloc(m->dim[l + 1], sizeof(float));
        t->act[l] = calloc(m->dim[l + 1], sizeof(float));
        t->delta[l] = calloc(m->dim[l + 1], sizeof(float));
        if (!t->gw[l] || !t->vw[l] || !t->gb[l] || !t->vb[l] || !t->act[l] || !t->delta[l]) {
            train_bufs_free(m, t);
            return MPQ_ENOMEM;
        }
    }
    return 0;
}

/* One sample x of class `label`: forward, softmax cross-entropy, and its gradients added to
 * gw and gb. Returns the sample's loss. */
static double backprop_sample(const mn_mlp *m, const float *x, unsigned label, mlp_train_bufs *t)
{
    unsigned nl = m->nl;
    float **act = t->act, **delta = t->delta;
    forward_f(m, x, act);
    /* Softmax cross-entropy. */
    float *z = act[nl - 1], zmax = z[0], sum = 0.0f;
    for (unsigned o = 1; o < 10; o++)
        zmax = z[o] > zmax ? z[o] : zmax;
    for (unsigned o = 0; o < 10; o++) {
        delta[nl - 1][o] = expf(z[o] - zmax);
        sum += delta[nl - 1][o];
    }
    for (unsigned o = 0; o < 10; o++)
        delta[nl - 1][o] /= sum;
    double loss = -log((double)delta[nl - 1][label] + 1e-30);
    delta[nl - 1][label] -= 1.0f;
    /* Backward. */
    for (unsigned l = nl; l-- > 0;) {
        unsigned k = m->dim[l], n = m->dim[l + 1];
        const float *in = l ? act[l - 1] : x;
        for (unsigned o = 0; o < n; o++) {
            float d = delta[l][o];
            if (d == 0.0f)
                continue;
            t->gb[l][o] += d;
            float *g = &t->gw[l][(size_t)o * k];
            for (unsigned i = 0; i < k; i++)
                g[i] += d * in[i];
        }
        if (l) {
            float *dp = delta[l - 1];
            memset(dp, 0, k * sizeof(float));
            for (unsigned o = 0; o < n; o++) {
                float d = delta[l][o];
                const float *w = &m->w[l][(size_t)o * k];
                for (unsigned i = 0; i < k; i++)
                    dp[i] += d * w[i];
            }
            for (unsigned i = 0; i < k; i++)
                if (act[l - 1][i] <= 0.0f)
                    dp[i] = 0.0f;
        }
    }
    return loss;
}

/* SGD with momentum mu over a batch's gradients (scale: the learning rate over the batch). */
static void sgd_step(mn_mlp *m, mlp_train_bufs *t, float mu, float scale)
{
    for (unsigned l = 0; l < m->nl; l++) {
        size_t nw = (size_t)m->dim[l + 1] * m->dim[l];
        for (size_t i = 0; i < nw; i++) {
            t->vw[l][i] = mu * t->vw[l][i] - scale * t->gw[l][i];
            m->w[l][i] += t->vw[l][i];
        }
        for (unsigned o = 0; o < m->dim[l + 1]; o++) {
            t->vb[l][o] = mu * t->vb[l][o] - scale * t->gb[l][o];
            m->b[l][o] += t->vb[l][o];
        }
    }
}

int mn_mlp_train(mn_mlp *m, const mn_set *train, const mn_set *test, unsigned epochs,
                 uint64_t seed, FILE *logf)
{
    unsigned nl = m->nl, npix = train->rows * train->cols;
    if (npix != m->dim[0] || m->dim[nl] != 10)
        return MPQ_EPARAM;
    mlp_train_bufs t;
    unsigned *order = malloc(train->n * sizeof *order);
    float *x = malloc(npix * sizeof *x);
    int rc = order && x ? train_bufs_alloc(m, &t) : MPQ_ENOMEM;
    if (rc != 0) {
        free(order);
        free(x);
        return rc;
    }
    mn_rng r = {seed ^ 0x5eedf00dull};
    for (unsigned i = 0; i < train->n; i++)
        order[i] = i;
    const float mu = 0.9f;
    for (unsigned ep = 0; ep < epochs; ep++) {
        mn_shuffle(&r, order, train->n);
        float lr = 0.05f * powf(0.85f, (float)ep);
        double loss = 0.0;
        for (unsigned b0 = 0; b0 < train->n; b0 += BATCH) {
            unsigned bn = train->n - b0 < BATCH ? train->n - b0 : BATCH;
            for (unsigned l = 0; l < nl; l++) {
                memset(t.gw[l], 0, (size_t)m->dim[l + 1] * m->dim[l] * sizeof(float));
                memset(t.gb[l], 0, m->dim[l + 1] * sizeof(float));
            }
            for (unsigned s = 0; s < bn; s++) {
                unsigned idx = order[b0 + s];
                const uint8_t *img = &train->images[(size_t)idx * npix];
                for (unsigned i = 0; i < npix; i++)
                    x[i] = (float)img[i] / 255.0f;
                loss += backprop_sample(m, x, train->labels[idx], &t);
            }
            sgd_step(m, &t, mu, lr / (float)bn);
        }
        if (logf)
            fprintf(logf, "mnist: epoch %u/%u: loss %.4f, test accuracy %.2f%%\n", ep + 1, epochs,
                    loss / train->n, 100.0 * mn_mlp_accuracy(m, test, test->n));
    }
    train_bufs_free(m, &t);
    free(order);
    free(x);
    return rc;
}

/* ---- File: "MPQMLP1\0", u32 nl, u32 dims[nl+1], then w[l] and b[l] as IEEE floats, all
 * little-endian. ---- */
void mn_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
uint32_t mn_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int mn_write_floats(FILE *f, const float *v, size_t n)
{
    uint8_t b[4];
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        mn_put32(b, u);
        if (fwrite(b, 1, 4, f) != 4)
            return -1;
    }
    return 0;
}

int mn_read_floats(FILE *f, const char *path, const char *what, float *v, size_t n, char *err,
                   size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b[4];
        if (fread(b, 1, 4, f) != 4) {
            snprintf(err, errlen, "%s: truncated in %s", path, what);
            return MPQ_ETRUNC;
        }
        uint32_t u = mn_get32(b);
        memcpy(&v[i], &u, 4);
        if (!isfinite(v[i])) {
            snprintf(err, errlen, "%s: corrupted: a weight of %s is not finite", path, what);
            return MPQ_ECORRUPT;
        }
    }
    return 0;
}

int mn_read_end(FILE *f, const char *path, int rc, char *err, size_t errlen)
{
    if (rc == 0 && fgetc(f) != EOF) {
        snprintf(err, errlen, "%s: corrupted: data after the last layer", path);
        rc = MPQ_ECORRUPT;
    }
    fclose(f);
    return rc;
}

FILE *mn_create_tmp(const char *path, char *tmp, size_t tmplen, char *err, size_t errlen)
{
    snprintf(tmp, tmplen, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
    return f;
}

int mn_publish(FILE *f, const char *tmp, const char *path, int bad, char *err, size_t errlen)
{
    errno = 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno ? errno : EIO));
        remove(tmp);
        return MPQ_EIO;
    }
    return 0;
}

int mn_save(const char *path, int (*put)(FILE *f, const void *ctx), const void *ctx, char *err, size_t errlen)
{
    char tmp[1100];
    FILE *f = mn_create_tmp(path, tmp, sizeof tmp, err, errlen);
    if (!f)
        return MPQ_EIO;
    return mn_publish(f, tmp, path, put(f, ctx), err, errlen);
}

static int mlp_write(FILE *f, const void *ctx)
{
    const mn_mlp *m = ctx;
    uint8_t hdr[8 + 4 + 4 * (MN_MAX_LAYERS + 1)];
    memcpy(hdr, "MPQMLP1", 8);
    mn_put32(hdr + 8, m->nl);
    for (unsigned l = 0; l <= m->nl; l++)
        mn_put32(hdr + 12 + 4 * l, m->dim[l]);
    int bad = fwrite(hdr, 1, 12 + 4 * (m->nl + 1), f) != 12 + 4 * (m->nl + 1);
    for (unsigned l = 0; !bad && l < m->nl; l++)
        bad = mn_write_floats(f, m->w[l], (size_t)m->dim[l + 1] * m->dim[l]) ||
              mn_write_floats(f, m->b[l], m->dim[l + 1]);
    return bad;
}

int mn_mlp_save(const mn_mlp *m, const char *path, char *err, size_t errlen)
{
    return mn_save(path, mlp_write, m, err, errlen);
}

int mn_mlp_load(mn_mlp *m, const char *path, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return MPQ_EIO;
    }
    uint8_t hdr[12 + 4 * (MN_MAX_LAYERS + 1)];
    int rc = 0;
    if (fread(hdr, 1, 12, f) != 12 || memcmp(hdr, "MPQMLP1", 8) != 0) {
        snprintf(err, errlen, "%s: not an mpq MLP file (bad magic)", path);
        rc = MPQ_EFORMAT;
    }
    unsigned nl = rc ? 0 : mn_get32(hdr + 8);
    if (rc == 0 && (nl < 1 || nl > MN_MAX_LAYERS)) {
        snprintf(err, errlen, "%s: malformed: %u layers", path, nl);
        rc = MPQ_EFORMAT;
    }
    unsigned dims[MN_MAX_LAYERS + 1];
    if (rc == 0 && fread(hdr + 12, 4, nl + 1, f) != nl + 1) {
        snprintf(err, errlen, "%s: truncated in the header", path);
        rc = MPQ_ETRUNC;
    }
    for (unsigned l = 0; rc == 0 && l <= nl; l++) {
        dims[l] = mn_get32(hdr + 12 + 4 * l);
        if (dims[l] < 1 || dims[l] > 1024) {
            snprintf(err, errlen, "%s: malformed: layer width %u", path, dims[l]);
            rc = MPQ_EFORMAT;
        }
    }
    if (rc == 0 && mn_mlp_init(m, dims, nl, 0) != 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = MPQ_ENOMEM;
    }
    for (unsigned l = 0; rc == 0 && l < nl; l++) {
        char what[32];
        snprintf(what, sizeof what, "layer %u", l);
        rc = mn_read_floats(f, path, what, m->w[l], (size_t)dims[l + 1] * dims[l], err, errlen);
        if (rc == 0)
            rc = mn_read_floats(f, path, what, m->b[l], dims[l + 1], err, errlen);
    }
    rc = mn_read_end(f, path, rc, err, errlen);
    if (rc != 0)
        mn_mlp_free(m);
    return rc;
}
