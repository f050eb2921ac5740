/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_case.c: the mpq-case text format (../shared/oracles/FORMAT.md): one layer (fully
 * connected, or a spatial layer: conv2d, depthwise, avgpool, maxpool) with its expected
 * outputs. Parsing is strict: every malformed line, and every shape that disagrees with
 * itself, is reported as "file:line: what is wrong" before anything is computed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"
#include "arith/mpq_mac.h"

enum key {
    K_NAME, K_SOURCE, K_M, K_K, K_N, K_X, K_IN_OFFSET, K_W, K_W_OFFSET, K_T, K_ALPHA, K_HP,
    K_BIAS, K_ACC_BITS, K_MULT, K_SHIFT, K_ROUNDING, K_OUT_OFFSET, K_ACT_MIN, K_ACT_MAX,
    K_EXPECT, K_LAYER, K_BATCHES, K_IN_H, K_IN_W, K_IN_C, K_OUT_C, K_KH, K_KW, K_STRIDE, K_PAD,
    K_DILATION, K_GROUPS, K_OUT_H, K_OUT_W, K_COUNT
};
static const char *const key_names[K_COUNT] = {
    "name", "source", "m", "k", "n", "x", "in_offset", "w", "w_offset", "t", "alpha", "hp",
    "bias", "acc_bits", "mult", "shift", "rounding", "out_offset", "act_min", "act_max",
    "expect", "layer", "batches", "in_h", "in_w", "in_c", "out_c", "kh", "kw", "stride", "pad",
    "dilation", "groups", "out_h", "out_w"};

typedef struct field {
    unsigned line;   /* 0: absent */
    int64_t *v;
    size_t count, cap;
} field;

typedef struct parser {
    const char *file;
    char *err;
    size_t errlen;
    field f[K_COUNT];
} parser;

__attribute__((format(printf, 3, 4)))
static int fail(parser *p, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mpq_verror(p->err, p->errlen, p->file, line, fmt, ap);
    va_end(ap);
    return MPQ_EFORMAT;
}

static int push(field *f, int64_t v)
{
    if (f->count == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        int64_t *nv = realloc(f->v, cap * sizeof *nv);
        if (!nv)
            return MPQ_ENOMEM;
        f->v = nv;
        f->cap = cap;
    }
    f->v[f->count++] = v;
    return MPQ_OK;
}

static void parser_free(parser *p)
{
    for (int i = 0; i < K_COUNT; i++)
        free(p->f[i].v);
}

/* Copies field values into a fresh int32 array after checking each lies in [lo, hi]. */
static int take32(parser *p, enum key k, int64_t lo, int64_t hi, int32_t **out)
{
    field *f = &p->f[k];
    *out = malloc((f->count ? f->count : 1) * sizeof **out);
    if (!*out)
        return MPQ_ENOMEM;
    for (size_t i = 0; i < f->count; i++) {
        if (f->v[i] < lo || f->v[i] > hi)
            return fail(p, f->line, "%s value %lld is outside its range %lld..%lld", key_names[k],
                        (long long)f->v[i], (long long)lo, (long long)hi);
        (*out)[i] = (int32_t)f->v[i];
    }
    return MPQ_OK;
}

static int need_count(parser *p, enum key k, size_t want, size_t alt)
{
    field *f = &p->f[k];
    if (f->count != want && (alt == 0 || f->count != alt))
        return fail(p, f->line, "%s has %zu values, expected %zu", key_names[k], f->count, want);
    return MPQ_OK;
}

static int scalar(parser *p, enum key k, int64_t def, int64_t lo, int64_t hi, int64_t *out)
{
    field *f = &p->f[k];
    if (!f->line) {
        *out = def;
        return MPQ_OK;
    }
    if (f->count != 1)
        return fail(p, f->line, "%s takes one value, found %zu", key_names[k], f->count);
    if (f->v[0] < lo || f->v[0] > hi)
        return fail(p, f->line, "%s = %lld is out of range %lld..%lld", key_names[k],
                    (long long)f->v[0], (long long)lo, (long long)hi);
    *out = f->v[0];
    return MPQ_OK;
}

static int parse_lines(parser *p, char *text, size_t len, mpq_case *c)
{
    unsigned line = 0;
    int seen_header = 0, rounding_seen = 0;
    char *s = text, *end = text + len;
    while (s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        char *e = nl ? nl : end;
        line++;
        *e = '\0';
        if (memchr(s, '\0', (size_t)(e - s)))
            return fail(p, line, "line contains a NUL byte");
        char *hash = strchr(s, '#');
        if (hash)
            *hash = '\0';
        char *save = NULL;
        char *tok = strtok_r(s, " \t\r", &save);
        s = e + 1;
        if (!tok)
            continue;
        if (!seen_header) {
            char *ver = strtok_r(NULL, " \t\r", &save);
            if (strcmp(tok, "mpq-case") || !ver)
                return fail(p, line, "first line must be 'mpq-case 1'");
            if (strcmp(ver, "1") || strtok_r(NULL, " \t\r", &save))
                return fail(p, line, "unsupported format version '%s' (this reader knows 1)", ver);
            seen_header = 1;
            continue;
        }
        int k;
        for (k = 0; k < K_COUNT; k++)
            if (!strcmp(tok, key_names[k]))
                break;
        if (k == K_COUNT)
            return fail(p, line, "unknown key '%s'", tok);
        field *f = &p->f[k];
        if (f->line)
            return fail(p, line, "key '%s' appears twice (first on line %u)", tok, f->line);
        f->line = line;
        if (k == K_NAME || k == K_SOURCE || k == K_ROUNDING || k == K_LAYER) {
            char *rest = strtok_r(NULL, "", &save);
            while (rest && (*rest == ' ' || *rest == '\t'))
                rest++;
            if (!rest || !*rest)
                return fail(p, line, "%s needs a value", tok);
            size_t rl = strlen(rest);
            while (rl && (rest[rl - 1] == ' ' || rest[rl - 1] == '\t' || rest[rl - 1] == '\r'))
                rest[--rl] = '\0';
            if (k == K_NAME) {
                if (strpbrk(rest, " \t") || rl >= sizeof c->name)
                    return fail(p, line, "name must be one word of at most %zu characters",
                                sizeof c->name - 1);
                memcpy(c->name, rest, rl + 1);
            } else if (k == K_SOURCE) {
                snprintf(c->source, sizeof c->source, "%s", rest);
            } else if (k == K_LAYER) {
                if (mpq_layer_parse(rest, &c->layer))
                    return fail(p, line, "layer '%s' is not fc, conv2d, depthwise, avgpool or maxpool",
                                rest);
            } else {
                rounding_seen = 1;
                if (!strcmp(rest, "double"))
                    c->rounding = MPQ_RQ_DOUBLE;
                else if (!strcmp(rest, "single"))
                    c->rounding = MPQ_RQ_SINGLE;
                else if (!strcmp(rest, "s64_reduced"))
                    c->rounding = MPQ_RQ_S64_REDUCED;
                else
                    return fail(p, line, "rounding '%s' is not double, single or s64_reduced", rest);
            }
            continue;
        }
        for (char *v; (v = strtok_r(NULL, " \t\r", &save));) {
            char *endp;
            errno = 0;
            long long x = strtoll(v, &endp, 10);
            if (*endp || endp == v)
                return fail(p, line, "'%s' is not a decimal integer", v);
            if (errno == ERANGE || x < INT32_MIN || x > INT32_MAX)
                return fail(p, line, "%s does not fit in 32 bits", v);
            if (push(f, x))
                return MPQ_ENOMEM;
        }
        if (f->count == 0)
            return fail(p, line, "%s needs at least one value", tok);
    }
    if (!seen_header)
        return fail(p, 0, "empty file (no 'mpq-case 1' line)");
    if (!rounding_seen)
        c->rounding = MPQ_RQ_DOUBLE;
    return MPQ_OK;
}

int mpq_case_parse(const char *text, size_t len, const char *name, mpq_case *c, char *err,
                   size_t errlen)
{
    return mpq_case_parse_ex(text, len, name, 0, c, err, errlen);
}

/* Refuses each of `keys` that is present: "key 'k' <why>". */
static int refuse(parser *p, const enum key *keys, size_t n, const char *why)
{
    for (size_t i = 0; i < n; i++)
        if (p->f[keys[i]].line)
            return fail(p, p->f[keys[i]].line, "key '%s' %s", key_names[keys[i]], why);
    return MPQ_OK;
}

static int require(parser *p, const enum key *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!p->f[keys[i]].line)
            return fail(p, 0, "missing required key '%s'", key_names[keys[i]]);
    return MPQ_OK;
}
#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* A key of two values (stride, pad, dilation), each in [lo, hi]; def when absent. */
static int pair(parser *p, enum key k, unsigned def, int64_t lo, int64_t hi, unsigned *a,
                unsigned *b)
{
    field *f = &p->f[k];
    if (!f->line) {
        *a = *b = def;
        return MPQ_OK;
    }
    if (f->count != 2)
        return fail(p, f->line, "%s takes two values (rows, columns), found %zu", key_names[k], f->count);
    for (int i = 0; i < 2; i++)
        if (f->v[i] < lo || f->v[i] > hi)
            return fail(p, f->line, "%s value %lld is out of range %lld..%lld", key_names[k],
                        (long long)f->v[i], (long long)lo, (long long)hi);
    *a = (unsigned)f->v[0];
    *b = (unsigned)f->v[1];
    return MPQ_OK;
}

static int shape_scalar(parser *p, enum key k, int64_t def, int64_t hi, unsigned *out)
{
    int64_t v = 0;
    int st = scalar(p, k, def, 1, hi, &v);
    *out = (unsigned)v;
    return st;
}

/* The spatial shape keys into c->shape, checked against each other (mpq_conv_check); a
 * disagreement is reported at the line of the key that carries it. */
static int parse_shape(parser *p, mpq_case *c)
{
    mpq_conv_shape *s = &c->shape;
    s->kind = c->layer;
    int st;
    if ((st = shape_scalar(p, K_BATCHES, 1, 1 << 20, &s->batches)) ||
        (st = shape_scalar(p, K_IN_H, 0, 1 << 20, &s->in_h)) ||
        (st = shape_scalar(p, K_IN_W, 0, 1 << 20, &s->in_w)) ||
        (st = shape_scalar(p, K_IN_C, 0, 1 << 20, &s->in_c)) ||
        (st = shape_scalar(p, K_OUT_C, 0, 1 << 20, &s->out_c)) ||
        (st = shape_scalar(p, K_KH, 0, 1 << 16, &s->kh)) ||
        (st = shape_scalar(p, K_KW, 0, 1 << 16, &s->kw)) ||
        (st = shape_scalar(p, K_GROUPS, 1, 1 << 20, &s->groups)) ||
        (st = shape_scalar(p, K_OUT_H, 0, 1 << 20, &s->out_h)) ||
        (st = shape_scalar(p, K_OUT_W, 0, 1 << 20, &s->out_w)) ||
        (st = pair(p, K_STRIDE, 1, 1, 1 << 16, &s->sy, &s->sx)) ||
        (st = pair(p, K_PAD, 0, 0, 1 << 16, &s->py, &s->px)) ||
        (st = pair(p, K_DILATION, 1, 1, 1 << 16, &s->dy, &s->dx)))
        return st;
    char what[256];
    if (mpq_conv_check(s, what, sizeof what)) {
        /* The messages of mpq_conv_check name the rule; blame the key that states it. */
        enum key at = K_LAYER;
        if (!strncmp(what, "height", 6))
            at = K_OUT_H;
        else if (!strncmp(what, "width", 5))
            at = K_OUT_W;
        else if (strstr(what, "groups"))
            at = p->f[K_GROUPS].line ? K_GROUPS : K_IN_C;
        else if (strstr(what, "dilation"))
            at = K_DILATION;
        else if (strstr(what, "out_c"))
            at = K_OUT_C;
        return fail(p, p->f[at].line, "%s", what);
    }
    double in = (double)mpq_conv_in_count(s), out = (double)mpq_conv_out_count(s);
    if (in > (1 << 26) || out > (1 << 26) || (double)mpq_conv_w_count(s) > (1 << 26))
        return fail(p, p->f[K_LAYER].line, "shape is too large (more than 2^26 elements)");
    c->m = s->batches * s->out_h * s->out_w;
    c->n = s->out_c;
    c->k = mpq_conv_depth(s);
    return MPQ_OK;
}

/* The FC shape keys into c->m, c->k, c->n. */
static int parse_fc_shape(parser *p, mpq_case *c)
{
    int64_t m, k, n;
    int st;
    if ((st = scalar(p, K_M, 0, 1, 1 << 20, &m)) || (st = scalar(p, K_K, 0, 1, 1 << 20, &k)) ||
        (st = scalar(p, K_N, 0, 1, 1 << 20, &n)))
        return st;
    if (m * k > (1 << 26) || n * k > (1 << 26) || m * n > (1 << 26))
        return fail(p, p->f[K_M].line, "shape m=%lld k=%lld n=%lld is too large", (long long)m,
                    (long long)k, (long long)n);
    c->m = (unsigned)m;
    c->k = (unsigned)k;
    c->n = (unsigned)n;
    return MPQ_OK;
}

/* Which keys a layer kind requires and refuses, then its shape. */
static int parse_kind(parser *p, unsigned flags, mpq_case *c)
{
    static const enum key common[] = {K_NAME, K_X, K_ACT_MIN, K_ACT_MAX};
    static const enum key fc_shape[] = {K_M, K_K, K_N};
    static const enum key spatial[] = {K_IN_H, K_IN_W, K_IN_C, K_OUT_C, K_KH, K_KW, K_STRIDE,
                                       K_OUT_H, K_OUT_W};
    static const enum key spatial_extra[] = {K_BATCHES, K_PAD, K_DILATION, K_GROUPS};
    static const enum key requant[] = {K_MULT, K_SHIFT};
    static const enum key not_pool[] = {K_W, K_T, K_HP, K_ALPHA, K_BIAS, K_W_OFFSET, K_IN_OFFSET,
                                        K_ACC_BITS, K_MULT, K_SHIFT, K_ROUNDING, K_OUT_OFFSET,
                                        K_DILATION, K_GROUPS};
    int st;
    if ((st = require(p, common, COUNT_OF(common))))
        return st;
    if (!p->f[K_EXPECT].line && !(flags & MPQ_CASE_NO_EXPECT))
        return fail(p, 0, "missing required key 'expect'");
    int pool = c->layer == MPQ_LAYER_AVGPOOL || c->layer == MPQ_LAYER_MAXPOOL;
    if (c->layer == MPQ_LAYER_FC) {
        if ((st = refuse(p, spatial, COUNT_OF(spatial), "needs a spatial layer (a layer line)")) ||
            (st = refuse(p, spatial_extra, COUNT_OF(spatial_extra),
                         "needs a spatial layer (a layer line)")) ||
            (st = require(p, fc_shape, COUNT_OF(fc_shape))) ||
            (st = require(p, requant, COUNT_OF(requant))))
            return st;
        return parse_fc_shape(p, c);
    }
    char why[64];
    snprintf(why, sizeof why, "does not apply to layer %s", mpq_layer_name(c->layer));
    if ((st = refuse(p, fc_shape, COUNT_OF(fc_shape), why)) ||
        (pool && (st = refuse(p, not_pool, COUNT_OF(not_pool), why))) ||
        (c->layer == MPQ_LAYER_DEPTHWISE && (st = refuse(p, (const enum key[]){K_GROUPS}, 1, why))) ||
        (st = require(p, spatial, COUNT_OF(spatial))) ||
        (!pool && (st = require(p, requant, COUNT_OF(requant)))))
        return st;
    return parse_shape(p, c);
}

/* Weights, bias and requantization of n output channels, each weight array nw values. */
static int parse_weights(parser *p, size_t nw, size_t n, mpq_case *c)
{
    int st;
    if (!p->f[K_W].line && !p->f[K_T].line && !p->f[K_HP].line)
        return fail(p, 0, "no weights: one of w, t, hp is required");
    if (p->f[K_W].line &&
        ((st = need_count(p, K_W, nw, 0)) || (st = take32(p, K_W, INT32_MIN, INT32_MAX, &c->w))))
        return st;
    if (p->f[K_T].line) {
        int32_t *t32 = NULL;
        if ((st = need_count(p, K_T, nw, 0)) || (st = take32(p, K_T, -1, 1, &t32))) {
            free(t32);
            return st;
        }
        c->t = malloc(nw);
        if (!c->t) {
            free(t32);
            return MPQ_ENOMEM;
        }
        for (size_t i = 0; i < nw; i++)
            c->t[i] = (int8_t)t32[i];
        free(t32);
        if (!p->f[K_ALPHA].line)
            return fail(p, p->f[K_T].line, "ternary weights need an alpha line");
    }
    if (p->f[K_ALPHA].line) {
        if ((st = need_count(p, K_ALPHA, n, 1)) ||
            (st = take32(p, K_ALPHA, INT32_MIN, INT32_MAX, &c->alpha)))
            return st;
        c->nalpha = (unsigned)p->f[K_ALPHA].count;
    }
    if (p->f[K_HP].line &&
        ((st = need_count(p, K_HP, nw, 0)) || (st = take32(p, K_HP, INT32_MIN, INT32_MAX, &c->hp))))
        return st;
    if (p->f[K_BIAS].line &&
        ((st = need_count(p, K_BIAS, n, 0)) || (st = take32(p, K_BIAS, INT32_MIN, INT32_MAX, &c->bias))))
        return st;
    if ((st = need_count(p, K_MULT, n, 1)) || (st = take32(p, K_MULT, 0, INT32_MAX, &c->mult)))
        return st;
    c->nmult = (unsigned)p->f[K_MULT].count;
    if ((st = need_count(p, K_SHIFT, n, 1)) ||
        (st = take32(p, K_SHIFT, -31, c->rounding == MPQ_RQ_S64_REDUCED ? 14 : 30, &c->shift)))
        return st;
    c->nshift = (unsigned)p->f[K_SHIFT].count;
    if (c->nmult != c->nshift && c->nmult != 1 && c->nshift != 1)
        return fail(p, p->f[K_SHIFT].line, "mult has %u values but shift has %u", c->nmult, c->nshift);
    return MPQ_OK;
}

static int parse_scalars(parser *p, mpq_case *c)
{
    /* The 32-bit scalars, 0 when absent. */
    const struct { enum key k; int32_t *dst; } i32[] = {
        {K_IN_OFFSET, &c->in_offset}, {K_W_OFFSET, &c->w_offset}, {K_OUT_OFFSET, &c->out_offset},
        {K_ACT_MIN, &c->act_min}, {K_ACT_MAX, &c->act_max}};
    int64_t v = 0;
    int st;
    for (size_t i = 0; i < sizeof i32 / sizeof i32[0]; i++) {
        if ((st = scalar(p, i32[i].k, 0, INT32_MIN, INT32_MAX, &v)))
            return st;
        *i32[i].dst = (int32_t)v;
    }
    if ((st = scalar(p, K_ACC_BITS, 32, 1, 64, &v)))
        return st;
    c->acc_bits = (unsigned)v;
    if (c->act_min > c->act_max)
        return fail(p, p->f[K_ACT_MAX].line, "act_max %d is below act_min %d", c->act_max, c->act_min);
    return MPQ_OK;
}

int mpq_case_parse_ex(const char *text, size_t len, const char *name, unsigned flags, mpq_case *c,
                      char *err, size_t errlen)
{
    parser p;
    memset(&p, 0, sizeof p);
    memset(c, 0, sizeof *c);
    p.file = name;
    p.err = err;
    p.errlen = errlen;
    char *buf = malloc(len + 1);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", name);
        return MPQ_ENOMEM;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    int st = parse_lines(&p, buf, len, c);
    free(buf);
    if (st || (st = parse_kind(&p, flags, c)) || (st = parse_scalars(&p, c)))
        goto out;
    int spatial = c->layer != MPQ_LAYER_FC;
    int pool = c->layer == MPQ_LAYER_AVGPOOL || c->layer == MPQ_LAYER_MAXPOOL;
    size_t nx = spatial ? mpq_conv_in_count(&c->shape) : (size_t)c->m * c->k;
    size_t nw = spatial ? mpq_conv_w_count(&c->shape) : (size_t)c->n * c->k;
    size_t nout = (size_t)c->m * c->n;
    if ((st = need_count(&p, K_X, nx, 0)) || (st = take32(&p, K_X, INT32_MIN, INT32_MAX, &c->x)))
        goto out;
    if (!pool && (st = parse_weights(&p, nw, c->n, c)))
        goto out;
    if (p.f[K_EXPECT].line && ((st = need_count(&p, K_EXPECT, nout, 0)) ||
                               (st = take32(&p, K_EXPECT, INT32_MIN, INT32_MAX, &c->expect))))
        goto out;
out:
    parser_free(&p);
    if (st) {
        if (st == MPQ_ENOMEM)
            snprintf(err, errlen, "%s: out of memory", name);
        mpq_case_free(c);
    }
    return st;
}

int mpq_case_load(const char *path, mpq_case *c, char *err, size_t errlen)
{
    return mpq_case_load_ex(path, 0, c, err, errlen);
}

int mpq_case_load_ex(const char *path, unsigned flags, mpq_case *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    FILE *f = mpq_fopen_read(path, "rb", err, errlen);
    if (!f)
        return MPQ_EIO;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    int st = MPQ_OK;
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
        if (len == cap) {
            if (cap >= ((size_t)1 << 30)) {
                snprintf(err, errlen, "%s: file is larger than 1 GiB", path);
                st = MPQ_EFORMAT;
                break;
            }
            if (!(buf = mpq_grow(buf, &cap, 1)))
                break;
        }
    }
    if (!st && buf && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        st = MPQ_EIO;
    }
    fclose(f);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        return MPQ_ENOMEM;
    }
    if (!st)
        st = mpq_case_parse_ex(buf, len, path, flags, c, err, errlen);
    free(buf);
    return st;
}

int mpq_case_compute(const mpq_case *c, int32_t *y, char *err, size_t errlen)
{
    if (c->layer == MPQ_LAYER_AVGPOOL || c->layer == MPQ_LAYER_MAXPOOL)
        return mpq_pool(&c->shape, c->x, c->act_min, c->act_max, y, err, errlen);
    int32_t *mult = malloc((size_t)c->n * sizeof *mult);
    int32_t *shift = malloc((size_t)c->n * sizeof *shift);
    if (!mult || !shift) {
        free(mult);
        free(shift);
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    for (unsigned i = 0; i < c->n; i++) {
        mult[i] = c->mult[c->nmult > 1 ? i : 0];
        shift[i] = c->shift[c->nshift > 1 ? i : 0];
    }
    mpq_requant rq = {
        .kind = c->rounding, .nparams = c->n, .mult = mult, .shift = shift,
        .out_offset = c->out_offset, .act_min = c->act_min, .act_max = c->act_max,
    };
    int st;
    /* FORMAT.md: the exact sum wrapped once, which is what the sequential order with a
     * wrapping accumulator gives (MPQ_ACC_WRAP, MPQ_ORDER_SEQ: the zero defaults). */
    mpq_fc_layer fc = {
        .m = c->m, .k = c->k, .n = c->n, .x = c->x, .in_offset = c->in_offset,
        .w = c->w, .w_offset = c->w_offset, .t = c->t, .alpha = c->alpha,
        .alpha_per_tensor = c->nalpha == 1, .hp = c->hp, .bias = c->bias, .acc_bits = c->acc_bits,
    };
    if (c->layer == MPQ_LAYER_FC) {
        st = mpq_fc(&fc, &rq, y, NULL, NULL, err, errlen);
    } else {
        mpq_conv_layer l = mpq_conv_layer_of_fc(&c->shape, &fc);
        st = mpq_conv(&l, &rq, y, NULL, NULL, err, errlen);
    }
    free(mult);
    free(shift);
    return st;
}

void mpq_case_free(mpq_case *c)
{
    MPQ_FREE_ALL(c->x, c->w, c->t, c->alpha, c->hp, c->bias, c->mult, c->shift, c->expect);
    c->x = c->w = c->alpha = c->hp = c->bias = c->mult = c->shift = c->expect = NULL;
    c->t = NULL;
}
