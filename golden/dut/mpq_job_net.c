/* SPDX-License-Identifier: Apache-2.0 */
/* mpq_job_net.c: a TFLite model's convolution and fully-connected layers as jobs of the
 * transaction-level check (mpq_job.h, mpq_job_model). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq_rng.h"
#include "dut/mpq_job.h"
#include "net/mpq_graph.h"
#include "net/mpq_netrun.h"
#include "net/mpq_tflite.h"

/* "0,2-4" into want[0..nops): 0, or MPQ_EPARAM with err. */
static int parse_ops(const char *ops, unsigned nops, unsigned char *want, char *err, size_t errlen)
{
    const char *s = ops;
    while (*s) {
        char *end;
        unsigned long lo = strtoul(s, &end, 10), hi = lo;
        if (end == s || *s == '-' || *s == '+')
            break;
        if (*end == '-') {
            s = end + 1;
            hi = strtoul(s, &end, 10);
            if (end == s || *s == '-' || *s == '+' || hi < lo)
                break;
        }
        if (hi >= nops) {
            snprintf(err, errlen, "--ops %s: the model has operators 0..%u", ops, nops ? nops - 1 : 0);
            return MPQ_EPARAM;
        }
        for (unsigned long i = lo; i <= hi; i++)
            want[i] = 1;
        if (*end == '\0')
            return 0;
        if (*end != ',')
            break;
        s = end + 1;
    }
    snprintf(err, errlen, "--ops %s: expected operator indices and ranges, e.g. 0,2-4", ops);
    return MPQ_EPARAM;
}

/* The layer NL (its input tensor's int8 values in xin) as an mpq_case with per-channel
 * requantization. Returns 0 or MPQ_ENOMEM. */
static int case_of(const mpq_net_layer *NL, const int8_t *xin, mpq_case *c)
{
    memset(c, 0, sizeof *c);
    c->layer = NL->s.kind;
    if (c->layer == MPQ_LAYER_FC) {
        c->m = NL->m, c->k = NL->k, c->n = NL->n;
    } else {
        c->shape = NL->s;
        c->m = NL->s.batches * NL->s.out_h * NL->s.out_w;
        c->n = NL->s.out_c;
        c->k = mpq_conv_depth(&NL->s);
    }
    size_t nx = c->layer == MPQ_LAYER_FC ? (size_t)c->m * c->k : mpq_conv_in_count(&c->shape);
    size_t nw = c->layer == MPQ_LAYER_FC ? (size_t)c->n * c->k : mpq_conv_w_count(&c->shape);
    c->x = malloc((nx ? nx : 1) * sizeof *c->x);
    c->w = malloc((nw ? nw : 1) * sizeof *c->w);
    c->bias = malloc((c->n ? c->n : 1) * sizeof *c->bias);
    c->mult = malloc((c->n ? c->n : 1) * sizeof *c->mult);
    c->shift = malloc((c->n ? c->n : 1) * sizeof *c->shift);
    if (!c->x || !c->w || !c->bias || !c->mult || !c->shift) {
        mpq_case_free(c);
        return MPQ_ENOMEM;
    }
    for (size_t i = 0; i < nx; i++)
        c->x[i] = xin[i];
    memcpy(c->w, NL->w, nw * sizeof *c->w);
    for (unsigned o = 0; o < c->n; o++) {
        unsigned q = NL->rq.nparams > 1 ? o : 0;
        c->bias[o] = NL->bias ? NL->bias[o] : 0;
        c->mult[o] = NL->rq.mult[q];
        c->shift[o] = NL->rq.shift[q];
    }
    c->nmult = c->nshift = c->n;
    c->in_offset = NL->in_offset;
    c->w_offset = NL->w_offset;
    c->out_offset = NL->rq.out_offset;
    c->act_min = NL->rq.act_min;
    c->act_max = NL->rq.act_max;
    c->acc_bits = 32;
    return 0;
}

typedef struct model_run {
    const mpq_desc *d;
    mpq_tfl_model m;
    mpq_net *net;
    const char *base;           /* the model's file name, for the jobs' sources */
    int tflite_arith;           /* d computes as TFLite Micro does */
} model_run;

/* Operator op's job from the net's state before the operator runs; the operator then runs.
 * Returns 0 with *j, 1 (skip: the DUT does not run it; why says) or a negative code (err). */
static int op_job(model_run *r, unsigned op, mpq_job *j, char *why, size_t whylen, char *err, size_t errlen)
{
    mpq_net_layer NL;
    mpq_net_layer_get(r->net, op, &NL);
    size_t nin = mpq_net_tensor_bytes(r->net, (unsigned)NL.in_tensor),
           nout = mpq_net_tensor_bytes(r->net, (unsigned)NL.out_tensor);
    int8_t *xin = malloc(nin ? nin : 1), *yout = malloc(nout ? nout : 1);
    mpq_case c;
    int rc = !xin || !yout ? MPQ_ENOMEM : 0;
    if (rc == 0 && mpq_net_tensor_get(r->net, (unsigned)NL.in_tensor, xin) != 0) {
        snprintf(err, errlen, "%s: op %u: its input tensor %d holds no value", r->m.file, op, NL.in_tensor);
        rc = MPQ_EPARAM;
    }
    if (rc == 0)
        rc = case_of(&NL, xin, &c);
    if (rc == 0) {
        char src[300], sh[200] = "";
        if (c.layer == MPQ_LAYER_FC)
            snprintf(sh, sizeof sh, "fc m=%u k=%u n=%u", c.m, c.k, c.n);
        else
            mpq_conv_shape_format(&c.shape, sh, sizeof sh);
        snprintf(src, sizeof src, "model %s op %u %s: %s", r->base, op, mpq_tfl_op_name(NL.code), sh);
        rc = mpq_job_adopt(r->d, &c, src, j, why, whylen);
        mpq_case_free(&c);
        j->op = op;
        rc = rc == MPQ_EPARAM ? 1 : rc;
    }
    if (rc == MPQ_ENOMEM)
        snprintf(err, errlen, "out of memory");
    if (rc >= 0 && mpq_net_run_op(r->net, op, err, errlen) != 0)
        rc = MPQ_EPARAM;
    if (rc == 0 && r->tflite_arith && mpq_net_tensor_get(r->net, (unsigned)NL.out_tensor, yout) == 0) {
        for (size_t i = 0; i < nout && rc == 0; i++)
            if (j->c.expect[i] != yout[i]) {
                snprintf(err, errlen, "%s: the golden model's layer function and its run of the model differ "
                         "at output %zu (%d, %d)", j->source, i, j->c.expect[i], yout[i]);
                rc = MPQ_EPARAM;
            }
    }
    if (rc != 0)
        mpq_job_free(j);
    free(xin);
    free(yout);
    return rc;
}

static int model_open(model_run *r, const char *path, uint64_t seed, char *err, size_t errlen)
{
    int rc = mpq_tfl_load(path, &r->m, err, errlen);
    if (rc != 0)
        return rc;
    mpq_net_opts o;
    mpq_net_opts_default(&o);
    if ((rc = mpq_net_init(&r->net, &r->m, &o, err, errlen)) != 0)
        return rc;
    mpq_rng g;
    mpq_rng_seed(&g, seed);
    for (unsigned i = 0; i < mpq_net_ninputs(r->net) && rc == 0; i++) {
        int t = mpq_net_input_tensor(r->net, i);
        size_t b = mpq_net_tensor_bytes(r->net, (unsigned)t);
        uint8_t *in = malloc(b ? b : 1);
        if (!in)
            return snprintf(err, errlen, "out of memory"), MPQ_ENOMEM;
        mpq_net_random_input(&r->m, t, &g, in, b);
        rc = mpq_net_set_input(r->net, i, in, b, err, errlen);
        free(in);
    }
    return rc;
}

static int collect(model_run *r, const unsigned char *want, mpq_job *jobs, unsigned *n, unsigned *skipped,
                   char *skip_why, size_t skiplen, char *err, size_t errlen)
{
    for (unsigned op = 0; op < mpq_net_ops(r->net); op++) {
        mpq_net_layer NL;
        int layer = mpq_net_layer_get(r->net, op, &NL) == 0;
        if (!layer && want && want[op]) {
            snprintf(err, errlen, "%s: op %u (%s) is not a convolution or fully-connected layer", r->m.file, op,
                     mpq_tfl_op_name(mpq_net_op_code(r->net, op)));
            return MPQ_EPARAM;
        }
        if (!layer || (want && !want[op])) {
            if (mpq_net_run_op(r->net, op, err, errlen) != 0)
                return MPQ_EPARAM;
            continue;
        }
        char why[600];
        int rc = op_job(r, op, &jobs[*n], why, sizeof why, err, errlen);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            (*n)++;
        } else if (want) {
            snprintf(err, errlen, "%s: op %u: %s", r->m.file, op, why);
            return MPQ_EPARAM;
        } else if ((*skipped)++ == 0) {
            snprintf(skip_why, skiplen, "op %u: %s", op, why);
        }
    }
    return 0;
}

int mpq_job_model(const mpq_desc *d, const char *path, const char *ops, uint64_t seed, mpq_job **jobs,
                  unsigned *n, unsigned *skipped, char *skip_why, size_t skiplen, char *err, size_t errlen)
{
    model_run r;
    memset(&r, 0, sizeof r);
    r.d = d;
    r.base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    r.tflite_arith = d->acc_bits == 32 && !d->acc_sat && d->requant == MPQ_RQ_DOUBLE;
    *jobs = NULL;
    *n = *skipped = 0;
    if (skiplen)
        skip_why[0] = '\0';
    unsigned char *want = NULL;
    int rc = model_open(&r, path, seed, err, errlen);
    unsigned nops = rc == 0 ? mpq_net_ops(r.net) : 0;
    if (rc == 0) {
        *jobs = calloc(nops ? nops : 1, sizeof **jobs);
        want = ops ? calloc(nops ? nops : 1, 1) : NULL;
        rc = !*jobs || (ops && !want) ? MPQ_ENOMEM : 0;
        if (rc)
            snprintf(err, errlen, "out of memory");
    }
    if (rc == 0 && ops)
        rc = parse_ops(ops, nops, want, err, errlen);
    if (rc == 0)
        rc = collect(&r, want, *jobs, n, skipped, skip_why, skiplen, err, errlen);
    if (rc == 0 && *n == 0) {
        snprintf(err, errlen, "%s: no layer the DUT runs (%s)", path, *skipped ? skip_why : "no convolution or "
                 "fully-connected layer");
        rc = MPQ_EPARAM;
    }
    if (rc != 0) {
        for (unsigned i = 0; i < *n; i++)
            mpq_job_free(&(*jobs)[i]);
        free(*jobs);
        *jobs = NULL;
        *n = 0;
    }
    free(want);
    mpq_net_free(r.net);
    mpq_tfl_free(&r.m);
    return rc;
}
