/* SPDX-License-Identifier: Apache-2.0 */
/* xp_acc.c: the golden model's accuracy of every per-layer precision vector of a quantized
 * network (xp_main.c's objective), and its cache. One pass over the images per chunk walks
 * the tree of precision prefixes: a layer's output is computed once per prefix, not once per
 * vector. Never prints. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xp_acc.h"

#define XP_CHUNK 250u

typedef struct acc_walk {
    const xp_acc_in *in;
    unsigned m;              /* images in this chunk */
    const uint8_t *labels;   /* of this chunk */
    int32_t *buf[MN_MAX_QLAYERS];
    size_t stride[XP_MAX_LAYERS];
    uint64_t *correct;
    char *err;
    size_t errlen;
} acc_walk;

/* Layer l of every branch below prefix vector v, on input x (m images). */
static int walk(acc_walk *w, unsigned l, const int32_t *x, size_t v)
{
    const xp_acc_in *in = w->in;
    if (l == in->q[0].nl) {
        double a = mn_accuracy(x, w->labels, w->m, in->q[0].classes);
        w->correct[v] += (uint64_t)(a * w->m + 0.5);
        return 0;
    }
    int mac = in->mac_of[l];
    unsigned branches = mac < 0 ? 1 : in->np;
    for (unsigned p = 0; p < branches; p++) {
        const mn_qlayer *ql = &in->q[p].layer[l];
        int rc = mn_qlayer_run(ql, x, w->m, in->acc_bits, MPQ_ACC_WRAP, in->group, w->buf[l], NULL, w->err,
                               w->errlen);
        if (rc == 0)
            rc = walk(w, l + 1, w->buf[l], v + (mac < 0 ? 0 : p * w->stride[mac]));
        if (rc != 0)
            return rc;
    }
    return 0;
}

int xp_acc_eval(const xp_acc_in *in, const int32_t *x, const uint8_t *labels, unsigned count, double *acc,
                char *err, size_t errlen)
{
    acc_walk w = {.in = in, .err = err, .errlen = errlen};
    size_t nv = 1, npix = in->in_size;
    unsigned nmac = 0;
    for (unsigned l = 0; l < in->q[0].nl; l++)
        if (in->mac_of[l] >= 0) {
            w.stride[nmac++] = nv;
            nv *= in->np;
        }
    int rc = 0;
    w.correct = calloc(nv, sizeof *w.correct);
    for (unsigned l = 0; rc == 0 && l < in->q[0].nl; l++)
        if (!(w.buf[l] = malloc((size_t)XP_CHUNK * mn_qlayer_out_size(&in->q[0].layer[l]) * sizeof(int32_t))))
            rc = MPQ_ENOMEM;
    if (!w.correct || rc != 0) {
        snprintf(err, errlen, "out of memory");
        rc = MPQ_ENOMEM;
    }
    for (unsigned i0 = 0; rc == 0 && i0 < count; i0 += XP_CHUNK) {
        w.m = count - i0 < XP_CHUNK ? count - i0 : XP_CHUNK;
        w.labels = labels + i0;
        rc = walk(&w, 0, x + (size_t)i0 * npix, 0);
    }
    for (size_t v = 0; rc == 0 && v < nv; v++)
        acc[v] = (double)w.correct[v] / count;
    for (unsigned l = 0; l < in->q[0].nl; l++)
        free(w.buf[l]);
    free(w.correct);
    return rc;
}

uint64_t xp_fnv1a_file(const char *path, int *ok)
{
    uint64_t h = 1469598103934665603ull;
    FILE *f = fopen(path, "rb");
    *ok = f != NULL;
    if (!f)
        return 0;
    int c;
    while ((c = getc(f)) != EOF)
        h = (h ^ (uint64_t)(unsigned char)c) * 1099511628211ull;
    *ok = !ferror(f);
    fclose(f);
    return h;
}

int xp_cache_read(const char *path, const char *key, size_t nv, double *acc, unsigned char *have)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[512], k[400];
    size_t v, hits = 0;
    double a;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%399s %zu %lf", k, &v, &a) == 3 && !strcmp(k, key) && v < nv && a >= 0 && a <= 1) {
            hits += !have[v];
            acc[v] = a;
            have[v] = 1;
        }
    fclose(f);
    return (int)(hits == nv);
}

int xp_cache_write(const char *path, const char *key, size_t nv, const double *acc, char *err, size_t errlen)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "# key (model hash, configuration, images, precisions)\tvector\taccuracy\n");
    for (size_t v = 0; v < nv; v++)
        fprintf(f, "%s\t%zu\t%.17g\n", key, v, acc[v]);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}
