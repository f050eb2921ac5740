/* SPDX-License-Identifier: Apache-2.0 */
/* mpq_desc.c: the DUT description reader and its checks (mpq_desc.h, docs/dut.md). */
#include "dut/mpq_desc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dut/mpq_expr.h"
#include "dut/mpq_job.h"

static const char *const build_names[MPQ_BUILD_COUNT] = {"plain", "wb", "trace", "cov", "gls"};
static const char *const tensor_names[MPQ_T_COUNT] = {"x", "w", "bias", "mult", "shift", "y"};
static const char *const order_names[MPQ_ORD_COUNT] = {"nhwc", "im2col", "ohwi", "ohwi-dense", "channel",
                                                       "fields"};

const char *mpq_build_name(int b) { return b >= 0 && b < MPQ_BUILD_COUNT ? build_names[b] : "?"; }
const char *mpq_tensor_name(int t) { return t >= 0 && t < MPQ_T_COUNT ? tensor_names[t] : "?"; }
const char *mpq_order_name(int o) { return o >= 0 && o < MPQ_ORD_COUNT ? order_names[o] : "?"; }

int mpq_build_parse(const char *s, int *b)
{
    for (int i = 0; i < MPQ_BUILD_COUNT; i++)
        if (!strcmp(s, build_names[i])) {
            *b = i;
            return 0;
        }
    return MPQ_EPARAM;
}

/* ---- the reader's state -------------------------------------------------------------------- */
#define MAX_TOKENS 80

typedef struct dparse {
    mpq_desc *d;
    const char *wexpr[MPQ_DESC_MAX_PORTS]; /* each port's width, until evaluated */
    unsigned line;
    char *err;
    size_t errlen;
    int status;
    const char *const *ovr; /* the build's NAME=VALUE overrides of `param` lines */
    unsigned novr;
    uint64_t ovr_used;
} dparse;

static int failv(dparse *p, unsigned line, const char *fmt, va_list ap)
{
    if (p->status == 0) {
        mpq_verror(p->err, p->errlen, p->d->path, line, fmt, ap);
        p->status = MPQ_EFORMAT;
    }
    return p->status;
}

/* "path:line: message" at the current line; returns the status. */
__attribute__((format(printf, 2, 3))) static int fail(dparse *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(p, p->line, fmt, ap);
    va_end(ap);
    return p->status;
}

__attribute__((format(printf, 3, 4))) static int fail_at(dparse *p, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    failv(p, line, fmt, ap);
    va_end(ap);
    return p->status;
}

static char *own(mpq_desc *d, char *s)
{
    if (!s)
        return NULL;
    if (d->nowned == d->owned_cap) {
        char **g = mpq_grow(d->owned, &d->owned_cap, sizeof *g);
        if (!g) {
            d->owned = NULL;
            d->nowned = d->owned_cap = 0;
            free(s);
            return NULL;
        }
        d->owned = g;
    }
    d->owned[d->nowned++] = s;
    return s;
}

/* file relative to the description's folder (absolute paths stay). */
static const char *resolve(dparse *p, const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *s = malloc(n);
    if (!s) {
        fail(p, "out of memory");
        p->status = MPQ_ENOMEM;
        return NULL;
    }
    if (file[0] == '/' || !strcmp(dir, "."))
        snprintf(s, n, "%s", file);
    else
        snprintf(s, n, "%s/%s", dir, file);
    if (!own(p->d, s)) {
        p->status = MPQ_ENOMEM;
        return NULL;
    }
    return s;
}

static int valid_name(const char *s)
{
    if (!*s || strlen(s) >= MPQ_DESC_NAME || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

/* "key=value" tokens: the value of key, or NULL. */
static const char *kv(char **tok, int n, const char *key)
{
    size_t k = strlen(key);
    for (int i = 0; i < n; i++)
        if (!strncmp(tok[i], key, k) && tok[i][k] == '=')
            return tok[i] + k + 1;
    return NULL;
}

static int has_word(char **tok, int n, const char *w)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(tok[i], w))
            return 1;
    return 0;
}

/* Every token of tok[from..n) is one of the keys (key=value) or words allowed. */
static int only_keys(dparse *p, char **tok, int n, int from, const char *const *keys, const char *const *words)
{
    for (int i = from; i < n; i++) {
        const char *eq = strchr(tok[i], '=');
        size_t len = eq ? (size_t)(eq - tok[i]) : strlen(tok[i]);
        int ok = 0;
        for (const char *const *k = eq ? keys : words; k && *k && !ok; k++)
            ok = strlen(*k) == len && !strncmp(*k, tok[i], len);
        if (!ok)
            return fail(p, "`%s`: unknown %s in a `%s` line", tok[i], eq ? "key" : "word", tok[0]);
    }
    return 0;
}

/* A value that is an integer expression over the params and lets given so far. */
static int lookup_var(void *ctx, const char *name, size_t len, int64_t *v)
{
    return mpq_desc_value(ctx, name, len, v);
}

static int eval_now(dparse *p, const char *expr, int64_t *v, const char *what)
{
    char why[300];
    if (mpq_expr_eval(expr, lookup_var, p->d, v, why, sizeof why) != 0)
        return fail(p, "%s: %s", what, why);
    return 0;
}

int mpq_desc_value(const mpq_desc *d, const char *name, size_t len, int64_t *v)
{
    for (unsigned i = 0; i < d->nparams; i++)
        if (strlen(d->params[i].name) == len && !strncmp(d->params[i].name, name, len)) {
            *v = d->params[i].value;
            return 0;
        }
    for (unsigned i = 0; i < d->nlets; i++)
        if (strlen(d->lets[i].name) == len && !strncmp(d->lets[i].name, name, len)) {
            *v = d->lets[i].value;
            return 0;
        }
    return -1;
}

int mpq_desc_port_find(const mpq_desc *d, const char *name)
{
    for (unsigned i = 0; i < d->nports; i++)
        if (!strcmp(d->ports[i].name, name))
            return (int)i;
    return -1;
}

int mpq_desc_stream_find(const mpq_desc *d, const char *name)
{
    for (unsigned i = 0; i < d->nstreams; i++)
        if (!strcmp(d->streams[i].name, name))
            return (int)i;
    return -1;
}

/* ---- ports and streams --------------------------------------------------------------------- */
static int add_port(dparse *p, const char *name, int out, mpq_desc_role role, int stream, const char *wexpr)
{
    mpq_desc *d = p->d;
    if (!valid_name(name))
        return fail(p, "port `%s`: not a port name (letters, digits, _)", name);
    int prev = mpq_desc_port_find(d, name);
    if (prev >= 0)
        return fail(p, "port %s: described twice (first on line %u)", name, d->ports[prev].line);
    if (d->nports == MPQ_DESC_MAX_PORTS)
        return fail(p, "port %s: more than %u ports", name, MPQ_DESC_MAX_PORTS);
    mpq_desc_port *q = &d->ports[d->nports];
    memset(q, 0, sizeof *q);
    snprintf(q->name, sizeof q->name, "%s", name);
    q->out = out;
    q->role = role;
    q->stream = stream;
    q->builds = MPQ_BUILDS_ALL;
    q->line = p->line;
    p->wexpr[d->nports++] = wexpr;
    return 0;
}

static int parse_dir(dparse *p, const char *s, int *out)
{
    if (!strcmp(s, "in") || !strcmp(s, "out")) {
        *out = s[0] == 'o';
        return 0;
    }
    return fail(p, "`%s`: in or out expected", s);
}

/* The AXI4-Stream form: PREFIX_tvalid, _tready, _tdata, and with `last` / `user=W` _tlast,
 * _tuser. */
static int stream_axis(dparse *p, int s, int out, const char *prefix, char **tok, int n)
{
    char name[MPQ_DESC_NAME + 16];
    const char *w = kv(tok, n, "width"), *user = kv(tok, n, "user");
    static const struct {
        const char *suffix;
        mpq_desc_role role;
        int flips; /* ready runs the other way */
    } sig[] = {{"tvalid", MPQ_DR_VALID, 0}, {"tready", MPQ_DR_READY, 1}, {"tdata", MPQ_DR_DATA, 0},
               {"tlast", MPQ_DR_LAST, 0}, {"tuser", MPQ_DR_USER, 0}};
    for (unsigned i = 0; i < sizeof sig / sizeof sig[0]; i++) {
        if ((sig[i].role == MPQ_DR_LAST && !has_word(tok, n, "last")) || (sig[i].role == MPQ_DR_USER && !user))
            continue;
        if (strlen(prefix) + 8 >= MPQ_DESC_NAME)
            return fail(p, "stream %s: axis prefix `%s` is too long", p->d->streams[s].name, prefix);
        snprintf(name, sizeof name, "%s_%s", prefix, sig[i].suffix);
        const char *we = sig[i].role == MPQ_DR_DATA ? w : sig[i].role == MPQ_DR_USER ? user : "1";
        if (add_port(p, name, out ^ sig[i].flips, sig[i].role, s, we))
            return p->status;
    }
    return 0;
}

/* The explicit form: valid=P ready=P|none data=P [last=P] [user=P:W]. */
static int stream_ports(dparse *p, int s, int out, char **tok, int n)
{
    mpq_desc_stream *st = &p->d->streams[s];
    const char *valid = kv(tok, n, "valid"), *ready = kv(tok, n, "ready"), *data = kv(tok, n, "data");
    const char *last = kv(tok, n, "last"), *user = kv(tok, n, "user");
    if (!valid)
        return fail(p, "stream %s has no valid port (valid=PORT, or axis=PREFIX for AXI4-Stream names)", st->name);
    if (!data)
        return fail(p, "stream %s has no data port (data=PORT)", st->name);
    if (!ready)
        return fail(p, "stream %s: ready=PORT expected (ready=none for a stream without back-pressure)", st->name);
    if (add_port(p, valid, out, MPQ_DR_VALID, s, "1") || add_port(p, data, out, MPQ_DR_DATA, s, kv(tok, n, "width")))
        return p->status;
    if (strcmp(ready, "none") && add_port(p, ready, !out, MPQ_DR_READY, s, "1"))
        return p->status;
    if (last && add_port(p, last, out, MPQ_DR_LAST, s, "1"))
        return p->status;
    if (user) {
        char *colon = strchr(user, ':');
        if (!colon)
            return fail(p, "stream %s: user=PORT:WIDTH expected", st->name);
        *colon = '\0';
        if (add_port(p, user, out, MPQ_DR_USER, s, colon + 1))
            return p->status;
    }
    return 0;
}

static int st_stream(dparse *p, char **tok, int n)
{
    mpq_desc *d = p->d;
    if (n < 3)
        return fail(p, "stream NAME in|out axis=PREFIX width=W [last] [user=W], or valid=P ready=P data=P width=W ...");
    if (d->nstreams == MPQ_DESC_MAX_STREAMS)
        return fail(p, "stream %s: more than %u streams", tok[1], MPQ_DESC_MAX_STREAMS);
    if (!valid_name(tok[1]) || mpq_desc_stream_find(d, tok[1]) >= 0)
        return fail(p, "stream `%s`: not a new stream name", tok[1]);
    int out = 0;
    if (parse_dir(p, tok[2], &out))
        return p->status;
    static const char *const keys[] = {"axis", "width", "valid", "ready", "data", "last", "user", NULL};
    static const char *const words[] = {"last", NULL};
    if (only_keys(p, tok, n, 3, keys, words))
        return p->status;
    if (!kv(tok, n, "width"))
        return fail(p, "stream %s: width=W (the data port's bits) expected", tok[1]);
    int s = (int)d->nstreams++;
    mpq_desc_stream *st = &d->streams[s];
    memset(st, 0, sizeof *st);
    snprintf(st->name, sizeof st->name, "%s", tok[1]);
    st->out = out;
    st->line = p->line;
    const char *axis = kv(tok, n, "axis");
    if (axis && (kv(tok, n, "valid") || kv(tok, n, "ready") || kv(tok, n, "data") || kv(tok, n, "last")))
        return fail(p, "stream %s: axis=PREFIX names every port; give either it or valid=/ready=/data=", st->name);
    return axis ? stream_axis(p, s, out, axis, tok, n) : stream_ports(p, s, out, tok, n);
}

static int parse_builds(dparse *p, const char *s, unsigned *mask)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    *mask = 0;
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        int b;
        if (mpq_build_parse(t, &b) != 0)
            return fail(p, "builds=%s: `%s` is not a build (plain, wb, trace, cov, gls)", s, t);
        *mask |= 1u << b;
    }
    return 0;
}

/* port NAME in|out WIDTH [flag | const | value=V] [builds=b,...] */
static int st_port(dparse *p, char **tok, int n)
{
    mpq_desc *d = p->d;
    if (n < 4)
        return fail(p, "port NAME in|out WIDTH [flag|const|value=V] [builds=B,...] expected");
    int out = 0;
    if (parse_dir(p, tok[2], &out))
        return p->status;
    static const char *const keys[] = {"value", "builds", NULL};
    static const char *const words[] = {"flag", "const", NULL};
    if (only_keys(p, tok, n, 4, keys, words))
        return p->status;
    const char *value = kv(tok, n, "value"), *builds = kv(tok, n, "builds");
    mpq_desc_role role = has_word(tok, n, "const") ? MPQ_DR_CONST : value ? MPQ_DR_TIE : MPQ_DR_FLAG;
    if (!out && role != MPQ_DR_TIE)
        return fail(p, "port %s: an input outside the streams needs value=V (the level mpq holds it at)", tok[1]);
    if (out && role == MPQ_DR_TIE)
        return fail(p, "port %s: value= is for inputs; an output is a flag or const", tok[1]);
    if (add_port(p, tok[1], out, role, -1, tok[3]))
        return p->status;
    mpq_desc_port *q = &d->ports[d->nports - 1];
    if (value && eval_now(p, value, &q->value, q->name))
        return p->status;
    return builds ? parse_builds(p, builds, &q->builds) : 0;
}

static int st_clock(dparse *p, char **tok, int n)
{
    if (n != 2)
        return fail(p, "clock PORT expected");
    if (p->d->clock >= 0)
        return fail(p, "a second clock (%s): mpq drives one clock", tok[1]);
    p->d->clock = (int)p->d->nports;
    return add_port(p, tok[1], 0, MPQ_DR_CLOCK, -1, "1");
}

static int st_reset(dparse *p, char **tok, int n)
{
    mpq_desc *d = p->d;
    if (n < 3 || n > 4 || (strcmp(tok[2], "low") && strcmp(tok[2], "high")))
        return fail(p, "reset PORT low|high [CYCLES] expected");
    if (d->reset >= 0)
        return fail(p, "a second reset (%s)", tok[1]);
    d->reset = (int)d->nports;
    d->reset_low = !strcmp(tok[2], "low");
    if (n == 4) {
        int64_t c;
        if (eval_now(p, tok[3], &c, "reset cycles"))
            return p->status;
        if (c < 1 || c > 1000000)
            return fail(p, "reset %s: %lld cycles: 1..1000000 expected", tok[1], (long long)c);
        d->reset_cycles = (unsigned)c;
    }
    return add_port(p, tok[1], 0, MPQ_DR_RESET, -1, "1");
}

/* ---- build statements ---------------------------------------------------------------------- */
static int add_file(dparse *p, const char **list, unsigned *count, const char *file)
{
    if (*count == MPQ_DESC_MAX_FILES)
        return fail(p, "more than %u files", MPQ_DESC_MAX_FILES);
    const char *r = resolve(p, p->d->dir, file);
    if (!r)
        return p->status;
    list[(*count)++] = r;
    return 0;
}

/* source-list FILE: the files it names, one per line ('#' comments), relative to its folder. */
static int st_source_list(dparse *p, const char *file)
{
    const char *path = resolve(p, p->d->dir, file);
    if (!path)
        return p->status;
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(p, "source-list %s: cannot read %s: %s", file, path, strerror(errno));
    char dir[1024], line[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    while (p->status == 0 && fgets(line, sizeof line, f)) {
        char *h = strchr(line, '#');
        if (h)
            *h = '\0';
        char *s = line, *e = line + strlen(line);
        while (*s == ' ' || *s == '\t')
            s++;
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
        if (!*s)
            continue;
        if (p->d->nsources == MPQ_DESC_MAX_FILES) {
            fail(p, "source-list %s: more than %u files", file, MPQ_DESC_MAX_FILES);
            break;
        }
        const char *r = resolve(p, dir, s);
        if (r)
            p->d->sources[p->d->nsources++] = r;
    }
    fclose(f);
    return p->status;
}

static int st_files(dparse *p, char **tok, int n)
{
    mpq_desc *d = p->d;
    if (n < 2)
        return fail(p, "%s FILE... expected", tok[0]);
    if (!strcmp(tok[0], "source-list"))
        return n == 2 ? st_source_list(p, tok[1]) : fail(p, "source-list FILE expected");
    for (int i = 1; i < n && p->status == 0; i++) {
        if (!strcmp(tok[0], "source"))
            add_file(p, d->sources, &d->nsources, tok[i]);
        else if (!strcmp(tok[0], "include"))
            add_file(p, d->includes, &d->nincludes, tok[i]);
        else
            add_file(p, d->waivers, &d->nwaivers, tok[i]);
    }
    return p->status;
}

static int st_wrapper(dparse *p, char **tok, int n)
{
    int b;
    if (n != 4 || mpq_build_parse(tok[1], &b) != 0)
        return fail(p, "wrapper BUILD MODULE FILE expected (BUILD: plain, wb, trace, cov, gls)");
    if (!valid_name(tok[2]))
        return fail(p, "wrapper: `%s` is not a module name", tok[2]);
    p->d->wrapper_top[b] = tok[2];
    p->d->wrapper_file[b] = resolve(p, p->d->dir, tok[3]);
    return p->status;
}

static int add_var(dparse *p, mpq_desc_var *vars, unsigned *count, const char *name, const char *expr)
{
    int64_t v;
    if (!valid_name(name))
        return fail(p, "`%s`: not a name", name);
    if (mpq_desc_value(p->d, name, strlen(name), &v) == 0 || mpq_job_field_known(name, strlen(name)))
        return fail(p, "`%s` is already a parameter, a let or a layer field", name);
    if (*count == MPQ_DESC_MAX_VARS)
        return fail(p, "more than %u parameters or lets", MPQ_DESC_MAX_VARS);
    int overridden = 0;
    for (unsigned i = 0; vars == p->d->params && i < p->novr; i++) {
        const char *eq = strchr(p->ovr[i], '=');
        if (!eq || (size_t)(eq - p->ovr[i]) != strlen(name) || strncmp(p->ovr[i], name, strlen(name)))
            continue;
        char why[300];
        if (mpq_expr_eval(eq + 1, NULL, NULL, &v, why, sizeof why) != 0) {
            snprintf(p->err, p->errlen, "%s: parameter %s=%s: %s", p->d->path, name, eq + 1, why);
            return p->status = MPQ_EPARAM;
        }
        p->ovr_used |= 1ull << i;
        overridden = 1;
    }
    if (!overridden && eval_now(p, expr, &v, name))
        return p->status;
    mpq_desc_var *x = &vars[(*count)++];
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", name);
    x->value = v;
    x->expr = expr;
    x->overridden = overridden;
    x->line = p->line;
    return 0;
}

/* ---- what the DUT computes ----------------------------------------------------------------- */
static int st_arith(dparse *p, char **tok, int n)
{
    mpq_desc *d = p->d;
    static const char *const keys[] = {"in-bits", "w-bits", "out-bits", "acc-bits", "acc", "requant", NULL};
    if (only_keys(p, tok, n, 1, keys, NULL))
        return p->status;
    static const struct {
        const char *key;
        size_t off;
        int64_t lo, hi;
    } w[] = {{"in-bits", offsetof(mpq_desc, in_bits), 2, 8}, {"w-bits", offsetof(mpq_desc, w_bits), 2, 8},
             {"out-bits", offsetof(mpq_desc, out_bits), 2, 16}, {"acc-bits", offsetof(mpq_desc, acc_bits), 8, 32}};
    for (unsigned i = 0; i < sizeof w / sizeof w[0]; i++) {
        const char *s = kv(tok, n, w[i].key);
        int64_t v;
        if (!s)
            continue;
        if (eval_now(p, s, &v, w[i].key))
            return p->status;
        if (v < w[i].lo || v > w[i].hi)
            return fail(p, "arith %s=%lld: %lld..%lld expected", w[i].key, (long long)v, (long long)w[i].lo,
                        (long long)w[i].hi);
        *(unsigned *)(void *)((char *)d + w[i].off) = (unsigned)v;
    }
    const char *acc = kv(tok, n, "acc"), *rq = kv(tok, n, "requant");
    if (acc && strcmp(acc, "wrap") && strcmp(acc, "sat"))
        return fail(p, "arith acc=%s: wrap or sat expected", acc);
    d->acc_sat = acc && !strcmp(acc, "sat");
    if (rq && strcmp(rq, "double") && strcmp(rq, "single"))
        return fail(p, "arith requant=%s: double (TFLite's default) or single expected", rq);
    d->requant = rq && !strcmp(rq, "single") ? MPQ_RQ_SINGLE : MPQ_RQ_DOUBLE;
    return 0;
}

static int st_kinds(dparse *p, char **tok, int n)
{
    p->d->kinds = 0;
    for (int i = 1; i < n; i++) {
        mpq_layer_kind k;
        if (mpq_layer_parse(tok[i], &k) != 0 || (k != MPQ_LAYER_FC && k != MPQ_LAYER_CONV2D && k != MPQ_LAYER_DEPTHWISE))
            return fail(p, "kinds: `%s` is not fc, conv2d or depthwise", tok[i]);
        p->d->kinds |= 1u << k;
    }
    return n > 1 ? 0 : fail(p, "kinds fc|conv2d|depthwise... expected");
}

/* Names in a layer-field expression must be fields, params or lets. */
static int check_field_name(void *ctx, const char *name, size_t len)
{
    dparse *p = ctx;
    int64_t v;
    if (mpq_job_field_known(name, len) || mpq_desc_value(p->d, name, len, &v) == 0)
        return 0;
    return fail(p, "`%.*s` is not a layer field (%s), a parameter or a let", (int)len, name, mpq_job_field_list());
}

static int st_limit(dparse *p, char **tok, int n)
{
    mpq_desc *d = p->d;
    if (n != 3)
        return fail(p, "limit EXPR MAX expected (the layer field expression at most MAX; no blanks in EXPR)");
    if (d->nlimits == MPQ_DESC_MAX_LIMITS)
        return fail(p, "more than %u limits", MPQ_DESC_MAX_LIMITS);
    if (mpq_expr_names(tok[1], check_field_name, p))
        return p->status;
    mpq_desc_limit *l = &d->limits[d->nlimits++];
    l->expr = tok[1];
    l->line = p->line;
    return eval_now(p, tok[2], &l->max, "limit");
}

static int st_bind(dparse *p, char **tok, int n)
{
    if (n != 4)
        return fail(p, "bind IN_STRUCT OUT_STRUCT HEADER expected");
    p->d->bind_in = tok[1];
    p->d->bind_out = tok[2];
    p->d->bind_header = tok[3];
    return 0;
}

static int st_codec(dparse *p, char **tok, int n)
{
    if (n != 2 || (strcmp(tok[1], "layout") && strcmp(tok[1], "mpq")))
        return fail(p, "codec layout|mpq expected");
    p->d->codec = !strcmp(tok[1], "mpq") ? MPQ_CODEC_MPQ : MPQ_CODEC_LAYOUT;
    return 0;
}

/* ---- beats lines ----------------------------------------------------------------------------- */
static int item_tensors(dparse *p, mpq_desc_item *it, char *list)
{
    for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
        int found = -1;
        for (int i = 0; i < MPQ_T_COUNT; i++)
            if (!strcmp(t, tensor_names[i]))
                found = i;
        if (found < 0)
            return fail(p, "beats: `%s` is not a tensor (x, w, bias, mult, shift, y) nor `fields`", t);
        if (it->ntensors == MPQ_T_COUNT)
            return fail(p, "beats: too many tensors");
        it->tensor[it->ntensors++] = (mpq_tensor)found;
    }
    if (it->ntensors > 1)
        for (unsigned i = 0; i < it->ntensors; i++)
            if (it->tensor[i] != MPQ_T_BIAS && it->tensor[i] != MPQ_T_MULT && it->tensor[i] != MPQ_T_SHIFT)
                return fail(p, "beats: only bias, mult and shift interleave (a row per output channel)");
    return 0;
}

static int item_fields(dparse *p, mpq_desc_item *it, char *list)
{
    for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
        if (it->nfields == MPQ_DESC_MAX_FIELDS)
            return fail(p, "beats: more than %u fields", MPQ_DESC_MAX_FIELDS);
        if (mpq_expr_names(t, check_field_name, p))
            return p->status;
        it->field[it->nfields++] = t;
    }
    return it->nfields ? 0 : fail(p, "beats STREAM fields EXPR,EXPR,... expected");
}

/* The order a tensor travels in by default, and whether `o` is one it can take. */
static int order_fits(mpq_tensor t, mpq_beat_order o)
{
    switch (t) {
    case MPQ_T_X: return o == MPQ_ORD_NHWC || o == MPQ_ORD_IM2COL;
    case MPQ_T_W: return o == MPQ_ORD_OHWI || o == MPQ_ORD_OHWI_DENSE;
    case MPQ_T_Y: return o == MPQ_ORD_NHWC;
    case MPQ_T_BIAS: case MPQ_T_MULT: case MPQ_T_SHIFT: return o == MPQ_ORD_CHANNEL;
    case MPQ_T_COUNT: break;
    }
    return 0;
}
static mpq_beat_order order_default(mpq_tensor t)
{
    return t == MPQ_T_X || t == MPQ_T_Y ? MPQ_ORD_NHWC : t == MPQ_T_W ? MPQ_ORD_OHWI : MPQ_ORD_CHANNEL;
}

static int item_keys(dparse *p, mpq_desc_item *it, char **tok, int n)
{
    static const char *const keys[] = {"order", "bits", "per-beat", "align", "last", "pad", NULL};
    if (only_keys(p, tok, n, 3, keys, NULL))
        return p->status;
    const char *order = kv(tok, n, "order"), *align = kv(tok, n, "align"), *last = kv(tok, n, "last");
    const char *pad = kv(tok, n, "pad"), *bits = kv(tok, n, "bits"), *per = kv(tok, n, "per-beat");
    if (order) {
        int o = -1;
        for (int i = 0; i < MPQ_ORD_COUNT - 1; i++)
            if (!strcmp(order, order_names[i]))
                o = i;
        if (o < 0 || it->order == MPQ_ORD_FIELDS || !order_fits(it->tensor[0], (mpq_beat_order)o))
            return fail(p, "beats: order=%s does not apply to %s", order,
                        it->order == MPQ_ORD_FIELDS ? "fields" : tensor_names[it->tensor[0]]);
        it->order = (mpq_beat_order)o;
    }
    if (align && strcmp(align, "row") && strcmp(align, "none"))
        return fail(p, "beats: align=%s: row or none expected", align);
    it->align_row = !align || !strcmp(align, "row");
    static const char *const lasts[] = {"item", "row", "job", "none"};
    it->last = MPQ_LAST_ITEM;
    for (int i = 0; last && i < 4; i++)
        if (!strcmp(last, lasts[i]))
            it->last = (mpq_last)i;
    if (last && strcmp(last, lasts[it->last]))
        return fail(p, "beats: last=%s: item, row, job or none expected", last);
    if (pad && strcmp(pad, "zero") && strcmp(pad, "any"))
        return fail(p, "beats: pad=%s: zero or any expected", pad);
    it->pad_random = pad && !strcmp(pad, "any");
    int64_t v;
    if (bits && (eval_now(p, bits, &v, "bits") || v < 1 || v > 32))
        return p->status ? p->status : fail(p, "beats: bits=%s: 1..32 expected", bits);
    it->bits = bits ? (unsigned)v : 0;
    if (per && (eval_now(p, per, &v, "per-beat") || v < 1 || v > 4096))
        return p->status ? p->status : fail(p, "beats: per-beat=%s: 1..4096 expected", per);
    it->per_beat = per ? (unsigned)v : 0;
    return 0;
}

/* beats STREAM fields E,E,... | TENSOR[,TENSOR...] [order=] [bits=] [per-beat=] [align=] [last=] [pad=] */
static int st_beats(dparse *p, char **tok, int n)
{
    mpq_desc *d = p->d;
    if (n < 3)
        return fail(p, "beats STREAM fields E,E,... | TENSOR [key=value...] expected");
    int s = mpq_desc_stream_find(d, tok[1]);
    if (s < 0)
        return fail(p, "beats: no stream `%s` is described (above this line)", tok[1]);
    if (d->nitems == MPQ_DESC_MAX_ITEMS)
        return fail(p, "more than %u beats lines", MPQ_DESC_MAX_ITEMS);
    mpq_desc_item *it = &d->items[d->nitems];
    memset(it, 0, sizeof *it);
    it->stream = s;
    it->line = p->line;
    if (!strcmp(tok[2], "fields")) {
        it->order = MPQ_ORD_FIELDS;
        if (n < 4 || item_fields(p, it, tok[3]))
            return p->status ? p->status : fail(p, "beats STREAM fields EXPR,EXPR,... expected");
        tok++, n--; /* the keys follow the list */
    } else {
        if (item_tensors(p, it, tok[2]))
            return p->status;
        it->order = order_default(it->tensor[0]);
    }
    if (item_keys(p, it, tok, n))
        return p->status;
    mpq_desc_stream *st = &d->streams[s];
    if (st->nitems == 0)
        st->first_item = d->nitems;
    else if (st->first_item + st->nitems != d->nitems)
        return fail(p, "beats: the lines of stream %s must follow each other", st->name);
    st->nitems++;
    d->nitems++;
    return 0;
}

/* ---- lines --------------------------------------------------------------------------------- */
static int statement(dparse *p, char **tok, int n)
{
    mpq_desc *d = p->d;
    const char *w = tok[0];
    if (!strcmp(w, "dut")) {
        if (n != 2 || !valid_name(tok[1]))
            return fail(p, "dut TOP_MODULE expected");
        if (d->top[0])
            return fail(p, "a second dut line");
        snprintf(d->top, sizeof d->top, "%s", tok[1]);
        d->dut_line = p->line;
        return 0;
    }
    if (!strcmp(w, "source") || !strcmp(w, "source-list") || !strcmp(w, "include") || !strcmp(w, "waiver"))
        return st_files(p, tok, n);
    if (!strcmp(w, "param"))
        return n == 3 ? add_var(p, d->params, &d->nparams, tok[1], tok[2]) : fail(p, "param NAME VALUE expected");
    static const struct {
        const char *word;
        int (*fn)(dparse *, char **, int);
    } table[] = {{"wrapper", st_wrapper}, {"clock", st_clock}, {"reset", st_reset}, {"stream", st_stream},
                 {"port", st_port}, {"arith", st_arith}, {"kinds", st_kinds}, {"limit", st_limit},
                 {"bind", st_bind}, {"codec", st_codec}, {"beats", st_beats}};
    for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(w, table[i].word))
            return table[i].fn(p, tok, n);
    return fail(p, "`%s`: unknown statement (dut, source, source-list, include, waiver, wrapper, param, let, "
                   "clock, reset, stream, port, arith, kinds, limit, bind, codec, beats)", w);
}

/* One line, in place: the comment cut, `let NAME EXPR...` whole, anything else in tokens. */
static int parse_line(dparse *p, char *s)
{
    char *h = strchr(s, '#');
    if (h)
        *h = '\0';
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    if (!*s)
        return 0;
    if (!strncmp(s, "let", 3) && (s[3] == ' ' || s[3] == '\t')) {
        char *name = s + 4;
        while (*name == ' ' || *name == '\t')
            name++;
        char *sp = name;
        while (*sp && *sp != ' ' && *sp != '\t')
            sp++;
        if (!*sp)
            return fail(p, "let NAME EXPR expected");
        *sp++ = '\0';
        return add_var(p, p->d->lets, &p->d->nlets, name, sp);
    }
    char *tok[MAX_TOKENS];
    int n = 0;
    for (char *t = strtok(s, " \t"); t; t = strtok(NULL, " \t")) {
        if (n == MAX_TOKENS)
            return fail(p, "more than %d words on a line", MAX_TOKENS);
        tok[n++] = t;
    }
    return statement(p, tok, n);
}

/* ---- after the last line --------------------------------------------------------------------- */
static int eval_widths(dparse *p)
{
    mpq_desc *d = p->d;
    for (unsigned i = 0; i < d->nports && p->status == 0; i++) {
        mpq_desc_port *q = &d->ports[i];
        int64_t w;
        char why[300];
        if (mpq_expr_eval(p->wexpr[i], lookup_var, d, &w, why, sizeof why) != 0)
            return fail_at(p, q->line, "port %s: width: %s", q->name, why);
        if (w < 1 || w > 65536)
            return fail_at(p, q->line, "port %s: width %lld: 1..65536 expected", q->name, (long long)w);
        if ((q->role == MPQ_DR_VALID || q->role == MPQ_DR_READY || q->role == MPQ_DR_LAST ||
             q->role == MPQ_DR_CLOCK || q->role == MPQ_DR_RESET) && w != 1)
            return fail_at(p, q->line, "port %s: a 1-bit port", q->name);
        if ((q->role == MPQ_DR_TIE || q->role == MPQ_DR_USER) && w > 64)
            return fail_at(p, q->line, "port %s: %lld bits: a tied input or a user port has at most 64", q->name,
                           (long long)w);
        q->width = (unsigned)w;
        if (q->stream >= 0) {
            mpq_desc_stream *st = &d->streams[q->stream];
            int *slot = q->role == MPQ_DR_VALID ? &st->valid : q->role == MPQ_DR_READY ? &st->ready
                        : q->role == MPQ_DR_DATA ? &st->data : q->role == MPQ_DR_LAST ? &st->last : &st->user;
            *slot = (int)i;
            if (q->role == MPQ_DR_DATA)
                st->width = q->width;
        }
    }
    return p->status;
}

static void stream_slots_init(mpq_desc *d)
{
    for (unsigned s = 0; s < d->nstreams; s++) {
        mpq_desc_stream *st = &d->streams[s];
        st->valid = st->ready = st->data = st->last = st->user = -1;
    }
}

static int check_whole(dparse *p)
{
    mpq_desc *d = p->d;
    if (!d->top[0])
        return fail_at(p, 0, "no `dut TOP_MODULE` line");
    if (d->clock < 0)
        return fail_at(p, d->dut_line, "no `clock PORT` line");
    if (d->reset < 0)
        return fail_at(p, d->dut_line, "no `reset PORT low|high` line");
    if (d->nstreams == 0)
        return fail_at(p, d->dut_line, "no stream is described");
    if (mpq_desc_check_layout(d, p->err, p->errlen) != 0)
        p->status = MPQ_EFORMAT;
    return p->status;
}

/* Every override named a parameter. */
static int check_overrides(dparse *p)
{
    for (unsigned i = 0; i < p->novr; i++)
        if (!(p->ovr_used >> i & 1u)) {
            const char *eq = strchr(p->ovr[i], '=');
            snprintf(p->err, p->errlen, "%s: `%s`: %s", p->d->path, p->ovr[i],
                     eq ? "the description has no such parameter" : "NAME=VALUE expected");
            return MPQ_EPARAM;
        }
    return 0;
}

static void set_defaults(mpq_desc *d, const char *path)
{
    snprintf(d->path, sizeof d->path, "%s", path);
    snprintf(d->dir, sizeof d->dir, "%s", path);
    char *slash = strrchr(d->dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(d->dir, sizeof d->dir, ".");
    d->clock = d->reset = -1;
    d->reset_cycles = 2;
    d->in_bits = d->w_bits = d->out_bits = 8;
    d->acc_bits = 32;
    d->requant = MPQ_RQ_DOUBLE;
    d->kinds = 1u << MPQ_LAYER_FC | 1u << MPQ_LAYER_CONV2D | 1u << MPQ_LAYER_DEPTHWISE;
}

int mpq_desc_parse(const char *text, size_t len, const char *path, const char *const *params,
                   unsigned nparams, mpq_desc **out, char *err, size_t errlen)
{
    *out = NULL;
    mpq_desc *d = calloc(1, sizeof *d);
    dparse *p = calloc(1, sizeof *p);
    char *t = malloc(len + 1);
    if (!d || !p || !t) {
        free(d), free(p), free(t);
        snprintf(err, errlen, "%s: out of memory", path);
        return MPQ_ENOMEM;
    }
    memcpy(t, text, len);
    t[len] = '\0';
    d->text = t;
    set_defaults(d, path);
    p->d = d;
    p->err = err;
    p->errlen = errlen;
    p->ovr = params;
    p->novr = nparams > 64 ? 64 : nparams;
    if (nparams > 64)
        fail(p, "more than 64 parameter overrides");
    if (memchr(text, '\0', len))
        fail(p, "a NUL byte: not a text file");
    for (char *line = t; line && p->status == 0;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        p->line++;
        parse_line(p, line);
        line = nl ? nl + 1 : NULL;
    }
    stream_slots_init(d);
    int rc = p->status;
    if (rc == 0)
        rc = check_overrides(p);
    if (rc == 0 && eval_widths(p) == 0)
        rc = check_whole(p);
    rc = rc ? rc : p->status;
    free(p);
    if (rc != 0) {
        mpq_desc_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

int mpq_desc_load(const char *path, const char *const *params, unsigned nparams, mpq_desc **out,
                  char *err, size_t errlen)
{
    *out = NULL;
    char *buf;
    size_t len;
    int rc = mpq_read_whole(path, 0, &buf, &len, err, errlen);
    if (rc)
        return rc;
    rc = mpq_desc_parse(buf ? buf : "", len, path, params, nparams, out, err, errlen);
    free(buf);
    return rc;
}

void mpq_desc_free(mpq_desc *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nowned; i++)
        free(d->owned[i]);
    free(d->owned);
    free(d->text);
    free(d);
}
