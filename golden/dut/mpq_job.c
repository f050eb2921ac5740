/* SPDX-License-Identifier: Apache-2.0 */
/* mpq_job.c: the layers of the transaction-level check and their expected outputs
 * (mpq_job.h). */
#include "dut/mpq_job.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq_rng.h"
#include "dut/mpq_expr.h"

/* ---- fields ---------------------------------------------------------------------------------- */
typedef struct job_field {
    const char *name;
    int64_t (*get)(const mpq_job *j);
} job_field;

#define SHAPE_FIELD(f) \
    static int64_t get_##f(const mpq_job *j) { return (int64_t)j->shape.f; }
SHAPE_FIELD(batches)
SHAPE_FIELD(in_h)
SHAPE_FIELD(in_w)
SHAPE_FIELD(in_c)
SHAPE_FIELD(out_h)
SHAPE_FIELD(out_w)
SHAPE_FIELD(out_c)
SHAPE_FIELD(kh)
SHAPE_FIELD(kw)
SHAPE_FIELD(sy)
SHAPE_FIELD(sx)
SHAPE_FIELD(dy)
SHAPE_FIELD(dx)
SHAPE_FIELD(py)
SHAPE_FIELD(px)
#undef SHAPE_FIELD
static int64_t get_kind(const mpq_job *j) { return j->is_hw ? j->hl.s.kind : j->c.layer; }
static int64_t get_groups(const mpq_job *j) { return j->shape.groups ? j->shape.groups : 1; }
static int64_t get_ch_mult(const mpq_job *j)
{
    return get_kind(j) == MPQ_LAYER_DEPTHWISE && j->shape.in_c ? j->shape.out_c / j->shape.in_c : 1;
}
static int64_t get_depth(const mpq_job *j)
{
    const mpq_conv_shape *s = &j->shape;
    return get_kind(j) == MPQ_LAYER_DEPTHWISE ? (int64_t)s->kh * s->kw
                                              : (int64_t)s->kh * s->kw * (s->in_c / get_groups(j));
}
static int64_t get_window(const mpq_job *j) { return (int64_t)j->shape.kh * j->shape.kw * j->shape.in_c; }
static int64_t get_pixels(const mpq_job *j)
{
    return (int64_t)j->shape.batches * j->shape.out_h * j->shape.out_w;
}
static int64_t get_in_offset(const mpq_job *j) { return j->is_hw ? j->hl.in_offset : j->c.in_offset; }
static int64_t get_w_offset(const mpq_job *j) { return j->is_hw ? 0 : j->c.w_offset; }
static int64_t get_out_offset(const mpq_job *j) { return j->is_hw ? j->hl.out_offset : j->c.out_offset; }
static int64_t get_act_min(const mpq_job *j) { return j->is_hw ? j->hl.act_min : j->c.act_min; }
static int64_t get_act_max(const mpq_job *j) { return j->is_hw ? j->hl.act_max : j->c.act_max; }

static const job_field job_fields[] = {
    {"kind", get_kind},       {"batches", get_batches}, {"in_h", get_in_h},     {"in_w", get_in_w},
    {"in_c", get_in_c},       {"out_h", get_out_h},     {"out_w", get_out_w},   {"out_c", get_out_c},
    {"kh", get_kh},           {"kw", get_kw},           {"sy", get_sy},         {"sx", get_sx},
    {"dy", get_dy},           {"dx", get_dx},           {"py", get_py},         {"px", get_px},
    {"groups", get_groups},   {"ch_mult", get_ch_mult}, {"depth", get_depth},   {"window", get_window},
    {"pixels", get_pixels},   {"m", get_pixels},        {"k", get_depth},       {"n", get_out_c},
    {"in_offset", get_in_offset}, {"w_offset", get_w_offset}, {"out_offset", get_out_offset},
    {"act_min", get_act_min}, {"act_max", get_act_max},
};
#define NFIELDS (sizeof job_fields / sizeof job_fields[0])

static const job_field *field_of(const char *name, size_t len)
{
    for (size_t i = 0; i < NFIELDS; i++)
        if (strlen(job_fields[i].name) == len && !strncmp(job_fields[i].name, name, len))
            return &job_fields[i];
    return NULL;
}

int mpq_job_field_known(const char *name, size_t len) { return field_of(name, len) != NULL; }

const char *mpq_job_field_list(void)
{
    static char list[512];
    if (!list[0]) {
        size_t n = 0;
        for (size_t i = 0; i < NFIELDS && n < sizeof list; i++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", job_fields[i].name);
    }
    return list;
}

int mpq_job_field(const mpq_job *j, const char *name, size_t len, int64_t *v)
{
    const job_field *f = field_of(name, len);
    if (!f)
        return -1;
    *v = f->get(j);
    return 0;
}

typedef struct job_ctx {
    const mpq_desc *d;
    const mpq_job *j;
} job_ctx;

static int job_lookup(void *ctx, const char *name, size_t len, int64_t *v)
{
    job_ctx *c = ctx;
    if (mpq_job_field(c->j, name, len, v) == 0)
        return 0;
    return c->d ? mpq_desc_value(c->d, name, len, v) : -1;
}

int mpq_job_eval(const mpq_desc *d, const mpq_job *j, const char *expr, int64_t *v, char *err, size_t errlen)
{
    job_ctx c = {d, j};
    return mpq_expr_eval(expr, job_lookup, &c, v, err, errlen);
}

int mpq_job_fits(const mpq_desc *d, const mpq_job *j, char *err, size_t errlen)
{
    int kind = (int)get_kind(j);
    if (!(d->kinds >> kind & 1u)) {
        snprintf(err, errlen, "%s: the DUT runs no %s layers (its `kinds` line)", d->path,
                 mpq_layer_name((mpq_layer_kind)kind));
        return MPQ_EPARAM;
    }
    for (unsigned i = 0; i < d->nlimits; i++) {
        int64_t v;
        char why[300];
        if (mpq_job_eval(d, j, d->limits[i].expr, &v, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s:%u: limit: %s", d->path, d->limits[i].line, why);
            return MPQ_EPARAM;
        }
        if (v > d->limits[i].max) {
            snprintf(err, errlen, "%s:%u: limit %s <= %lld: this layer has %lld", d->path, d->limits[i].line,
                     d->limits[i].expr, (long long)d->limits[i].max, (long long)v);
            return MPQ_EPARAM;
        }
    }
    return 0;
}

void mpq_job_free(mpq_job *j)
{
    mpq_case_free(&j->c);
    mpq_hw_layer_free(&j->hl);
    free(j->hy);
    memset(j, 0, sizeof *j);
}

/* ---- the golden outputs of an int8 layer --------------------------------------------------- */
/* The layer of c with the description's arithmetic: accumulator (bits, wrap or saturate, the
 * sequential order ky, kx, c), requantization kind. */
static mpq_fc_layer fc_of(const mpq_desc *d, const mpq_case *c)
{
    mpq_fc_layer fc = {
        .m = c->m, .k = c->k, .n = c->n, .x = c->x, .in_offset = c->in_offset, .w = c->w,
        .w_offset = c->w_offset, .bias = c->bias, .acc_bits = d->acc_bits,
        .acc_mode = d->acc_sat ? MPQ_ACC_SAT : MPQ_ACC_WRAP, .order = MPQ_ORDER_SEQ,
    };
    return fc;
}

static int job_acc(const mpq_desc *d, const mpq_job *j, int64_t *acc, char *err, size_t errlen)
{
    mpq_fc_layer fc = fc_of(d, &j->c);
    if (j->c.layer == MPQ_LAYER_FC)
        return mpq_fc_acc(&fc, acc, NULL, err, errlen);
    mpq_conv_layer l = mpq_conv_layer_of_fc(&j->c.shape, &fc);
    return mpq_conv_acc(&l, acc, NULL, err, errlen);
}

static int job_expect(const mpq_desc *d, mpq_job *j, char *err, size_t errlen)
{
    mpq_case *c = &j->c;
    size_t count = (size_t)c->m * c->n;
    free(c->expect);
    c->expect = malloc((count ? count : 1) * sizeof *c->expect);
    if (!c->expect) {
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    mpq_requant rq = {.kind = d->requant, .nparams = c->n, .mult = c->mult, .shift = c->shift,
                      .out_offset = c->out_offset, .act_min = c->act_min, .act_max = c->act_max};
    c->rounding = d->requant;
    c->acc_bits = d->acc_bits;
    mpq_fc_layer fc = fc_of(d, c);
    if (c->layer == MPQ_LAYER_FC)
        return mpq_fc(&fc, &rq, c->expect, NULL, NULL, err, errlen);
    mpq_conv_layer l = mpq_conv_layer_of_fc(&c->shape, &fc);
    return mpq_conv(&l, &rq, c->expect, NULL, NULL, err, errlen);
}

/* j->shape from the case: its shape, or the FC layer's 1x1 view (m pixels of k channels). */
static void job_shape(mpq_job *j)
{
    const mpq_case *c = &j->c;
    if (c->layer != MPQ_LAYER_FC) {
        j->shape = c->shape;
        if (!j->shape.groups)
            j->shape.groups = 1;
        return;
    }
    mpq_conv_shape s = {.kind = MPQ_LAYER_FC, .batches = 1, .in_h = c->m, .in_w = 1, .in_c = c->k,
                        .out_c = c->n, .kh = 1, .kw = 1, .sy = 1, .sx = 1, .dy = 1, .dx = 1, .groups = 1,
                        .out_h = c->m, .out_w = 1};
    j->shape = s;
}

/* ---- random int8 layers ---------------------------------------------------------------------- */
/* TFLite's SAME or VALID padding of one axis: pad before, output size; 0 when VALID's window
 * is larger than the input. */
static unsigned tfl_pad(unsigned in, unsigned k, unsigned s, unsigned dil, int same, unsigned *out)
{
    unsigned e = (k - 1) * dil + 1;
    if (!same) {
        *out = in >= e ? (in - e) / s + 1 : 0;
        return 0;
    }
    *out = (in + s - 1) / s;
    long total = (long)(*out - 1) * s + e - in;
    return total > 0 ? (unsigned)(total / 2) : 0;
}

#define PICK(r, n) mpq_rng_below((r), (n))

static void random_conv_shape(mpq_rng *r, int kind, mpq_conv_shape *s)
{
    memset(s, 0, sizeof *s);
    s->kind = (mpq_layer_kind)kind;
    s->batches = PICK(r, 8) == 0 ? 2 : 1;
    s->in_h = 1 + PICK(r, 12);
    s->in_w = 1 + PICK(r, 12);
    s->groups = 1;
    if (kind == MPQ_LAYER_DEPTHWISE) {
        s->in_c = 1 + PICK(r, 40);
        s->out_c = s->in_c * (PICK(r, 4) == 0 ? 2 : 1);
    } else if (PICK(r, 6) == 0) {
        s->groups = 2 + PICK(r, 3);
        s->in_c = s->groups * (1 + PICK(r, 8));
        s->out_c = s->groups * (1 + PICK(r, 8));
    } else {
        s->in_c = 1 + PICK(r, 40);
        s->out_c = 1 + PICK(r, 40);
    }
    s->kh = 1 + PICK(r, 5);
    s->kw = 1 + PICK(r, 5);
    s->sy = 1 + (PICK(r, 3) == 0 ? PICK(r, 3) : 0);
    s->sx = 1 + (PICK(r, 3) == 0 ? PICK(r, 3) : 0);
    s->dy = 1 + (PICK(r, 5) == 0);
    s->dx = 1 + (PICK(r, 5) == 0);
    int same = PICK(r, 2);
    s->py = tfl_pad(s->in_h, s->kh, s->sy, s->dy, same, &s->out_h);
    s->px = tfl_pad(s->in_w, s->kw, s->sx, s->dx, same, &s->out_w);
}

/* The kind and shape of draw `r`: the options given, the rest random among the DUT's kinds. */
static int random_shape(const mpq_desc *d, const mpq_stim_args *a, mpq_rng *r, mpq_case *c)
{
    int fc_given = (a->given >> MPQ_SO_M | a->given >> MPQ_SO_K | a->given >> MPQ_SO_N) & 1u;
    int kind = a->given >> MPQ_SO_SHAPE & 1u ? (int)a->shape.kind : a->layer;
    if (kind < 0 && fc_given)
        kind = MPQ_LAYER_FC;
    while (kind < 0) {
        int k = (int)PICK(r, 3);
        if (d->kinds >> k & 1u)
            kind = k;
    }
    c->layer = (mpq_layer_kind)kind;
    if (kind == MPQ_LAYER_FC) {
        c->m = a->given >> MPQ_SO_M & 1u ? a->m : 1 + PICK(r, 16);
        c->k = a->given >> MPQ_SO_K & 1u ? a->k : 1 + PICK(r, PICK(r, 4) ? 256 : 1024);
        c->n = a->given >> MPQ_SO_N & 1u ? a->n : 1 + PICK(r, 48);
        return 0;
    }
    if (a->given >> MPQ_SO_SHAPE & 1u)
        c->shape = a->shape;
    else
        do
            random_conv_shape(r, kind, &c->shape);
        while (mpq_conv_check(&c->shape, NULL, 0) != 0 || !c->shape.out_h || !c->shape.out_w);
    c->m = c->shape.batches * c->shape.out_h * c->shape.out_w;
    c->n = c->shape.out_c;
    c->k = mpq_conv_depth(&c->shape);
    return 0;
}

static int alloc_case(mpq_case *c)
{
    size_t nx = c->layer == MPQ_LAYER_FC ? (size_t)c->m * c->k : mpq_conv_in_count(&c->shape);
    size_t nw = c->layer == MPQ_LAYER_FC ? (size_t)c->n * c->k : mpq_conv_w_count(&c->shape);
    c->x = malloc((nx ? nx : 1) * sizeof *c->x);
    c->w = malloc((nw ? nw : 1) * sizeof *c->w);
    c->bias = malloc(c->n * sizeof *c->bias);
    c->mult = malloc(c->n * sizeof *c->mult);
    c->shift = malloc(c->n * sizeof *c->shift);
    c->nmult = c->nshift = c->n;
    return c->x && c->w && c->bias && c->mult && c->shift ? 0 : MPQ_ENOMEM;
}

static int32_t draw_signed(mpq_rng *r, unsigned bits, int extreme)
{
    int32_t lo = -(1 << (bits - 1)), hi = (1 << (bits - 1)) - 1;
    if (extreme)
        return PICK(r, 2) ? lo : hi;
    return (int32_t)mpq_rng_range(r, lo, hi);
}

static void random_values(const mpq_desc *d, mpq_rng *r, mpq_profile prof, mpq_case *c)
{
    int ext = prof == MPQ_PROF_EXTREME || prof == MPQ_PROF_OVERFLOW;
    size_t nx = c->layer == MPQ_LAYER_FC ? (size_t)c->m * c->k : mpq_conv_in_count(&c->shape);
    size_t nw = c->layer == MPQ_LAYER_FC ? (size_t)c->n * c->k : mpq_conv_w_count(&c->shape);
    for (size_t i = 0; i < nx; i++)
        c->x[i] = draw_signed(r, d->in_bits, ext && PICK(r, 4));
    int32_t wmax = (1 << (d->w_bits - 1)) - 1; /* TFLite's symmetric weights stay off -128; extremes reach it */
    for (size_t i = 0; i < nw; i++)
        c->w[i] = ext && PICK(r, 4) ? draw_signed(r, d->w_bits, 1) : (int32_t)mpq_rng_range(r, -wmax, wmax);
    int32_t half = 1 << (d->in_bits - 1);
    c->in_offset = ext ? (PICK(r, 2) ? half : 1 - half) : (int32_t)mpq_rng_range(r, 1 - half, half);
    c->w_offset = 0;
    for (unsigned o = 0; o < c->n; o++)
        c->bias[o] = ext && PICK(r, 2) ? (PICK(r, 2) ? INT32_MAX - (int32_t)PICK(r, 1000) : INT32_MIN + (int32_t)PICK(r, 1000))
                                       : (int32_t)mpq_rng_range(r, -(1 << 14), 1 << 14);
    int32_t omax = (1 << (d->out_bits - 1)) - 1, omin = -omax - 1;
    c->out_offset = (int32_t)mpq_rng_range(r, omin, omax);
    unsigned clamp = PICK(r, 4);
    c->act_min = clamp == 1 ? c->out_offset : omin; /* ReLU: the zero point */
    c->act_max = clamp == 2 ? (int32_t)mpq_rng_range(r, c->out_offset, omax) : omax;
    if (c->act_min > c->act_max)
        c->act_min = c->act_max;
}

/* Per channel, a multiplier that spreads the channel's accumulators over about the output
 * range (from the accumulators themselves), or (requant-edge) the extreme multipliers and
 * shifts. */
static int random_requant(const mpq_desc *d, mpq_rng *r, mpq_profile prof, mpq_job *j, char *err, size_t errlen)
{
    mpq_case *c = &j->c;
    size_t nacc = (size_t)c->m * c->n;
    int64_t *acc = malloc((nacc ? nacc : 1) * sizeof *acc);
    if (!acc)
        return MPQ_ENOMEM;
    for (unsigned o = 0; o < c->n; o++)
        c->mult[o] = 1 << 30, c->shift[o] = 0;
    int rc = job_acc(d, j, acc, err, errlen);
    for (unsigned o = 0; rc == 0 && o < c->n; o++) {
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (unsigned p = 0; p < c->m; p++) {
            int64_t v = acc[(size_t)p * c->n + o];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        double span = (double)(hi - lo) + 1.0, want = (double)(1 << d->out_bits) * (0.3 + 0.01 * PICK(r, 100));
        int shift;
        if (mpq_quantize_multiplier(want / span, &c->mult[o], &shift) != 0 || shift < -31 || shift > 30)
            c->mult[o] = 1 << 30, shift = shift < -31 ? -31 : 30;
        c->shift[o] = shift;
        if (prof == MPQ_PROF_REQUANT_EDGE && PICK(r, 2)) {
            static const int32_t mults[] = {1 << 30, INT32_MAX, (1 << 30) + 1, 1};
            c->mult[o] = mults[PICK(r, 4)];
            c->shift[o] = PICK(r, 2) ? -31 : (int32_t)PICK(r, 31);
        }
    }
    free(acc);
    return rc;
}

static int random_once(const mpq_desc *d, const mpq_stim_args *a, uint64_t seed, mpq_job *j, char *err,
                       size_t errlen)
{
    mpq_rng r;
    mpq_rng_seed(&r, seed);
    mpq_case *c = &j->c;
    memset(j, 0, sizeof *j);
    random_shape(d, a, &r, c);
    job_shape(j);
    j->seed = seed;
    if (mpq_job_fits(d, j, err, errlen) != 0)
        return MPQ_EPARAM;
    if (alloc_case(c) != 0) {
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    mpq_profile prof = a->given >> MPQ_SO_PROFILE & 1u ? (mpq_profile)a->profile
                       : PICK(&r, 4) == 0 ? (PICK(&r, 2) ? MPQ_PROF_EXTREME : MPQ_PROF_REQUANT_EDGE) : MPQ_PROF_RANDOM;
    random_values(d, &r, prof, c);
    int rc = random_requant(d, &r, prof, j, err, errlen);
    if (rc == 0)
        rc = job_expect(d, j, err, errlen);
    char sh[200] = "";
    if (c->layer == MPQ_LAYER_FC)
        snprintf(sh, sizeof sh, "fc m=%u k=%u n=%u", c->m, c->k, c->n);
    else
        mpq_conv_shape_format(&c->shape, sh, sizeof sh);
    snprintf(j->source, sizeof j->source, "random:%s %s", mpq_profile_name(prof), sh);
    return rc;
}

int mpq_job_random(const mpq_desc *d, const mpq_stim_args *a, uint64_t seed, mpq_job *j, char *err,
                   size_t errlen)
{
    if (a->given >> MPQ_SO_PROFILE & 1u && a->profile != MPQ_PROF_RANDOM && a->profile != MPQ_PROF_EXTREME &&
        a->profile != MPQ_PROF_OVERFLOW && a->profile != MPQ_PROF_REQUANT_EDGE) {
        snprintf(err, errlen, "--profile %s: int8 layers take random, overflow, requant-edge or extreme",
                 mpq_profile_name((mpq_profile)a->profile));
        return MPQ_EPARAM;
    }
    memset(j, 0, sizeof *j);
    int shaped = (a->given >> MPQ_SO_SHAPE | a->given >> MPQ_SO_M | a->given >> MPQ_SO_K | a->given >> MPQ_SO_N) & 1u;
    /* A shape that breaks a limit is drawn again from the next sub-seed (the options given
     * stay), at most 1000 times. */
    int rc = MPQ_EPARAM;
    for (unsigned t = 0; t < (shaped ? 1u : 1000u); t++) {
        mpq_job_free(j);
        rc = random_once(d, a, seed * 1000u + t, j, err, errlen);
        if (rc != MPQ_EPARAM || shaped)
            break;
    }
    j->seed = seed;
    if (rc != 0)
        mpq_job_free(j);
    return rc;
}

/* ---- layers from files ----------------------------------------------------------------------- */
int mpq_job_adopt(const mpq_desc *d, mpq_case *c, const char *source, mpq_job *j, char *err, size_t errlen)
{
    memset(j, 0, sizeof *j);
    j->c = *c;
    memset(c, 0, sizeof *c);
    job_shape(j);
    snprintf(j->source, sizeof j->source, "%s", source);
    int rc = MPQ_EPARAM;
    if (j->c.t || j->c.hp || j->c.alpha)
        snprintf(err, errlen, "%s: a ternary or sparse layer: the DUT takes dense int8 weights", source);
    else if (!j->c.w)
        snprintf(err, errlen, "%s: no dense weights", source);
    else if (j->c.layer != MPQ_LAYER_FC && j->c.layer != MPQ_LAYER_CONV2D && j->c.layer != MPQ_LAYER_DEPTHWISE)
        snprintf(err, errlen, "%s: a %s layer: the DUT runs fc, conv2d and depthwise layers", source,
                 mpq_layer_name(j->c.layer));
    else if (j->c.nmult != j->c.n || j->c.nshift != j->c.n)
        snprintf(err, errlen, "%s: %u multipliers and %u shifts for %u channels", source, j->c.nmult, j->c.nshift,
                 j->c.n);
    else if ((rc = mpq_job_fits(d, j, err, errlen)) == 0)
        rc = job_expect(d, j, err, errlen);
    if (rc != 0)
        mpq_job_free(j);
    return rc;
}

/* Per-tensor multiplier and shift repeated for every channel. */
static int per_channel(mpq_case *c)
{
    if (c->nmult == c->n && c->nshift == c->n)
        return 0;
    int32_t *m = malloc(c->n * sizeof *m), *s = malloc(c->n * sizeof *s);
    if (!m || !s) {
        free(m);
        free(s);
        return MPQ_ENOMEM;
    }
    for (unsigned i = 0; i < c->n; i++) {
        m[i] = c->mult[c->nmult > 1 ? i : 0];
        s[i] = c->shift[c->nshift > 1 ? i : 0];
    }
    free(c->mult);
    free(c->shift);
    c->mult = m;
    c->shift = s;
    c->nmult = c->nshift = c->n;
    return 0;
}

int mpq_job_from_case(const mpq_desc *d, const char *path, mpq_job *j, char *err, size_t errlen)
{
    mpq_case c;
    memset(&c, 0, sizeof c);
    memset(j, 0, sizeof *j);
    int rc = mpq_case_load_ex(path, MPQ_CASE_NO_EXPECT, &c, err, errlen);
    if (rc != 0)
        return rc;
    if (per_channel(&c) != 0) {
        mpq_case_free(&c);
        snprintf(err, errlen, "%s: out of memory", path);
        return MPQ_ENOMEM;
    }
    if (!c.bias) {
        c.bias = calloc(c.n ? c.n : 1, sizeof *c.bias);
        if (!c.bias) {
            mpq_case_free(&c);
            snprintf(err, errlen, "%s: out of memory", path);
            return MPQ_ENOMEM;
        }
    }
    char src[300];
    snprintf(src, sizeof src, "case %s", path);
    return mpq_job_adopt(d, &c, src, j, err, errlen);
}

/* ---- mpq's own layers ------------------------------------------------------------------------ */
int mpq_job_hw_random(const mpq_hwcfg *hw, const mpq_stim_args *a, uint64_t seed, mpq_job *j,
                      char *err, size_t errlen)
{
    memset(j, 0, sizeof *j);
    mpq_layer_opts lo;
    mpq_timing_opts to;
    mpq_stim_layer_opts(a, hw, seed, &lo, &to);
    j->is_hw = 1;
    j->seed = seed;
    int rc = mpq_hw_layer_random(hw, &lo, &j->hl, err, errlen);
    if (rc != 0)
        return rc;
    size_t ny = (size_t)j->hl.m * j->hl.n;
    j->hy = malloc((ny ? ny : 1) * sizeof *j->hy);
    if (!j->hy) {
        mpq_job_free(j);
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    rc = mpq_hw_layer_expected(hw, &j->hl, j->hy, NULL);
    if (rc != 0) {
        mpq_job_free(j);
        snprintf(err, errlen, "the functional model failed on this layer (%d)", rc);
        return rc;
    }
    j->shape = j->hl.s; /* FC: its 1x1 view */
    if (!j->shape.groups)
        j->shape.groups = 1;
    char sh[200] = "";
    if (lo.shape.kind == MPQ_LAYER_FC)
        snprintf(sh, sizeof sh, "fc m=%u k=%u n=%u", lo.m, lo.k, lo.n);
    else
        mpq_conv_shape_format(&lo.shape, sh, sizeof sh);
    snprintf(j->source, sizeof j->source, "random:%s %s hp-n=%u acc=%s", mpq_profile_name(lo.profile), sh, lo.hp_n,
             lo.acc_sat ? "sat" : "wrap");
    return 0;
}
