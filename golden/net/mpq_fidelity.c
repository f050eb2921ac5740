/* SPDX-License-Identifier: Apache-2.0 */
/* mpq_fidelity.c: an approximate run's logits against the int8 model's (mpq_fidelity.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"
#include "net/mpq_fidelity.h"
#include "net/mpq_netrun.h"

/* The int8 tensor the top class is read from: the model's first output, or what a final
 * DEQUANTIZE, SOFTMAX or RESHAPE reads. */
static int find_logits(mpq_fid *f, char *err, size_t errlen)
{
    const mpq_tfl_model *m = f->m;
    int t = m->outputs[0];
    for (int moved = 1; moved;) {
        moved = 0;
        for (unsigned o = 0; o < m->nops && !moved; o++) {
            const mpq_tfl_op *op = &m->ops[o];
            int code = op->code;
            if (op->nout < 1 || op->out[0] != t || op->nin < 1 || op->in[0] < 0)
                continue;
            if (code == MPQ_TFL_DEQUANTIZE || code == MPQ_TFL_SOFTMAX || code == MPQ_TFL_RESHAPE) {
                f->classifier |= code == MPQ_TFL_SOFTMAX;
                t = op->in[0];
                moved = 1;
            }
        }
    }
    const mpq_tfl_tensor *x = &m->tensors[t];
    if (x->type != MPQ_TFL_INT8)
        return snprintf(err, errlen, "%s: the output tensor %d is not int8: no logits to compare", m->file, t),
               MPQ_EPARAM;
    f->logits = t;
    f->nlog = mpq_net_tensor_bytes(f->net, (unsigned)t);
    f->zp = x->q.nzero ? (int32_t)x->q.zero_point[0] : 0;
    return 0;
}

/* The whole binary file (*len bytes), or NULL with errno. */
static uint8_t *read_binary(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len == cap) {
            size_t ncap = cap ? 2 * cap : 65536;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb)
                break;
            buf = nb;
            cap = ncap;
        }
        size_t n = fread(buf + *len, 1, cap - *len, fp);
        *len += n;
        if (n == 0)
            break;
    }
    int oom = *len == cap, bad = ferror(fp);
    fclose(fp);
    if (oom || bad) {
        free(buf);
        errno = oom ? ENOMEM : EIO;
        return NULL;
    }
    return buf;
}

static int read_inputs(mpq_fid *f, const char *path, char *err, size_t errlen)
{
    for (unsigned i = 0; i < mpq_net_ninputs(f->net); i++)
        f->in_bytes += mpq_net_tensor_bytes(f->net, (unsigned)mpq_net_input_tensor(f->net, i));
    if (!path)
        return 0;
    size_t len = 0;
    f->inputs = read_binary(path, &len);
    if (!f->inputs)
        return snprintf(err, errlen, "--inputs %s: %s", path, strerror(errno)), MPQ_EPARAM;
    if (len == 0 || f->in_bytes == 0 || len % f->in_bytes)
        return snprintf(err, errlen, "--inputs %s: %zu bytes, not a whole number of inputs of %zu bytes", path, len,
                        f->in_bytes), MPQ_EPARAM;
    f->count = (unsigned)(len / f->in_bytes);
    return 0;
}

int mpq_fid_set_input(const mpq_fid *f, unsigned k, char *err, size_t errlen)
{
    if (!f->inputs)
        return mpq_net_inputs_init(f->net, f->m, NULL, f->seed + k, err, errlen) ? MPQ_EPARAM : 0;
    size_t off = (size_t)k * f->in_bytes;
    for (unsigned i = 0; i < mpq_net_ninputs(f->net); i++) {
        size_t b = mpq_net_tensor_bytes(f->net, (unsigned)mpq_net_input_tensor(f->net, i));
        if (mpq_net_set_input(f->net, i, f->inputs + off, b, err, errlen) != 0)
            return MPQ_EPARAM;
        off += b;
    }
    return 0;
}

int mpq_fid_init(mpq_fid *f, const mpq_tfl_model *m, mpq_net *net, const char *path, unsigned count,
                 uint64_t seed, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->m = m;
    f->net = net;
    f->count = count;
    f->seed = seed;
    int rc = read_inputs(f, path, err, errlen);
    if (!rc)
        rc = find_logits(f, err, errlen);
    if (rc)
        return rc;
    if (f->count == 0)
        return snprintf(err, errlen, "no inputs"), MPQ_EPARAM;
    f->ref = malloc((size_t)f->count * f->nlog);
    if (!f->ref)
        return snprintf(err, errlen, "out of memory"), MPQ_ENOMEM;
    char why[1024];
    for (unsigned k = 0; k < f->count; k++) {
        if (mpq_fid_set_input(f, k, why, sizeof why) != 0 || mpq_net_run(net, why, sizeof why) != 0)
            return snprintf(err, errlen, "input %u: %s", k, why), MPQ_EPARAM;
        if (mpq_net_tensor_get(net, (unsigned)f->logits, f->ref + (size_t)k * f->nlog) != 0)
            return snprintf(err, errlen, "input %u: the logits tensor %d was not computed", k, f->logits),
                   MPQ_EPARAM;
    }
    return 0;
}

void mpq_fid_free(mpq_fid *f)
{
    free(f->inputs);
    free(f->ref);
    memset(f, 0, sizeof *f);
}

static size_t argmax(const int8_t *v, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

void mpq_fid_add(const mpq_fid *f, unsigned k, const int8_t *logits, mpq_fid_sum *s)
{
    const int8_t *ref = f->ref + (size_t)k * f->nlog;
    s->agree += argmax(ref, f->nlog) == argmax(logits, f->nlog);
    s->inputs++;
    for (size_t j = 0; j < f->nlog; j++) {
        double sg = (double)ref[j] - f->zp, e = (double)logits[j] - ref[j];
        s->sig += sg * sg;
        s->noise += e * e;
    }
}

double mpq_fid_sqnr_db(const mpq_fid_sum *s)
{
    return s->noise > 0 ? 10.0 * log10(s->sig / s->noise) : INFINITY;
}
