/* SPDX-License-Identifier: Apache-2.0 */
/* mpq_expr.c: integer expressions (mpq_expr.h), a recursive-descent evaluator. */
#include "dut/mpq_expr.h"

#include <stdio.h>
#include <string.h>

#include "arith/mpq.h"

typedef struct expr_parser {
    const char *s, *p;
    mpq_expr_lookup lookup;
    void *ctx;
    char *err;
    size_t errlen;
    int failed;
    unsigned depth;
} expr_parser;

static int64_t parse_sum(expr_parser *e);

static void fail(expr_parser *e, const char *what, const char *at)
{
    if (e->failed)
        return;
    e->failed = 1;
    if (at && *at)
        snprintf(e->err, e->errlen, "%s at `%.20s` in `%s`", what, at, e->s);
    else
        snprintf(e->err, e->errlen, "%s in `%s`", what, e->s);
}

static void skip_blanks(expr_parser *e)
{
    while (*e->p == ' ' || *e->p == '\t')
        e->p++;
}

static int is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

/* a op b exactly, or an error. */
static int64_t arith(expr_parser *e, char op, int64_t a, int64_t b, const char *at)
{
    int64_t r = 0;
    int bad = 0;
    switch (op) {
    case '+': bad = __builtin_add_overflow(a, b, &r); break;
    case '-': bad = __builtin_sub_overflow(a, b, &r); break;
    case '*': bad = __builtin_mul_overflow(a, b, &r); break;
    default:
        if (b == 0) {
            fail(e, "division by zero", at);
            return 0;
        }
        if (a == INT64_MIN && b == -1)
            bad = 1;
        else
            r = op == '/' ? a / b : a % b;
    }
    if (bad)
        fail(e, "the result does not fit 64 bits", at);
    return r;
}

static int64_t parse_number(expr_parser *e)
{
    const char *at = e->p;
    int base = 10;
    if (e->p[0] == '0' && (e->p[1] == 'x' || e->p[1] == 'X')) {
        base = 16;
        e->p += 2;
    }
    int64_t v = 0;
    int digits = 0;
    for (;; e->p++) {
        char c = *e->p;
        int d = c >= '0' && c <= '9' ? c - '0' : base == 16 && c >= 'a' && c <= 'f' ? c - 'a' + 10
                : base == 16 && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            break;
        if (v > (INT64_MAX - d) / base) {
            fail(e, "the number does not fit 64 bits", at);
            return 0;
        }
        v = v * base + d;
        digits++;
    }
    if (!digits || is_name_char(*e->p))
        fail(e, "bad number", at);
    return v;
}

/* ceil(log2(v)), v >= 1. */
static int64_t log2_ceil(int64_t v)
{
    int64_t r = 0;
    while (r < 63 && ((int64_t)1 << r) < v)
        r++;
    return r;
}

static int64_t parse_call(expr_parser *e, const char *name, size_t len)
{
    int64_t a[2] = {0, 0};
    unsigned want = len == 4 && !memcmp(name, "log2", 4) ? 1u : 2u, n = 0;
    e->p++; /* '(' */
    for (;;) {
        int64_t v = parse_sum(e);
        if (n < 2)
            a[n] = v;
        n++;
        skip_blanks(e);
        if (*e->p == ',') {
            e->p++;
            continue;
        }
        if (*e->p != ')') {
            fail(e, "`)` expected", e->p);
            return 0;
        }
        e->p++;
        break;
    }
    if (n != want) {
        char what[80];
        snprintf(what, sizeof what, "%.*s takes %u argument%s, not %u", (int)len, name, want,
                 want == 1 ? "" : "s", n);
        fail(e, what, name);
        return 0;
    }
    if (want == 1) {
        if (a[0] < 1)
            fail(e, "log2 of a number below 1", name);
        return a[0] < 1 ? 0 : log2_ceil(a[0]);
    }
    int is_min = name[1] == 'i';
    return is_min ? (a[0] < a[1] ? a[0] : a[1]) : (a[0] > a[1] ? a[0] : a[1]);
}

static int64_t parse_unary(expr_parser *e)
{
    skip_blanks(e);
    if (++e->depth > 200) {
        fail(e, "nested too deeply", e->p);
        return 0;
    }
    int64_t v = 0;
    const char *at = e->p;
    if (*e->p == '-') {
        e->p++;
        v = arith(e, '-', 0, parse_unary(e), at);
    } else if (*e->p == '(') {
        e->p++;
        v = parse_sum(e);
        skip_blanks(e);
        if (*e->p != ')')
            fail(e, "`)` expected", e->p);
        else
            e->p++;
    } else if (*e->p >= '0' && *e->p <= '9') {
        v = parse_number(e);
    } else if (is_name_start(*e->p)) {
        const char *name = e->p;
        while (is_name_char(*e->p))
            e->p++;
        size_t len = (size_t)(e->p - name);
        int is_fn = (len == 4 && !memcmp(name, "log2", 4)) || (len == 3 && (!memcmp(name, "min", 3) ||
                                                                          !memcmp(name, "max", 3)));
        skip_blanks(e);
        if (is_fn && *e->p == '(') {
            v = parse_call(e, name, len);
        } else if (!e->lookup || e->lookup(e->ctx, name, len, &v) != 0) {
            char what[120];
            snprintf(what, sizeof what, "unknown name `%.*s`", (int)(len < 60 ? len : 60), name);
            fail(e, what, NULL);
        }
    } else {
        fail(e, *e->p ? "a number, a name or `(` expected" : "the expression ends early", e->p);
    }
    e->depth--;
    return v;
}

static int64_t parse_product(expr_parser *e)
{
    int64_t v = parse_unary(e);
    for (;;) {
        skip_blanks(e);
        char op = *e->p;
        if (e->failed || (op != '*' && op != '/' && op != '%'))
            return v;
        const char *at = e->p++;
        v = arith(e, op, v, parse_unary(e), at);
    }
}

static int64_t parse_sum(expr_parser *e)
{
    int64_t v = parse_product(e);
    for (;;) {
        skip_blanks(e);
        char op = *e->p;
        if (e->failed || (op != '+' && op != '-'))
            return v;
        const char *at = e->p++;
        v = arith(e, op, v, parse_product(e), at);
    }
}

int mpq_expr_eval(const char *text, mpq_expr_lookup lookup, void *ctx, int64_t *v, char *err,
                  size_t errlen)
{
    expr_parser e = {text, text, lookup, ctx, err, errlen, 0, 0};
    int64_t r = parse_sum(&e);
    skip_blanks(&e);
    if (!e.failed && *e.p)
        fail(&e, "unexpected text", e.p);
    if (e.failed)
        return MPQ_EPARAM;
    *v = r;
    return 0;
}

int mpq_expr_names(const char *text, int (*fn)(void *ctx, const char *name, size_t len), void *ctx)
{
    const char *p = text;
    while (*p) {
        if (*p >= '0' && *p <= '9') { /* a number, 0x digits included */
            while (is_name_char(*p))
                p++;
            continue;
        }
        if (!is_name_start(*p)) {
            p++;
            continue;
        }
        const char *name = p;
        while (is_name_char(*p))
            p++;
        size_t len = (size_t)(p - name);
        const char *q = p;
        while (*q == ' ' || *q == '\t')
            q++;
        int is_fn = *q == '(' && ((len == 4 && !memcmp(name, "log2", 4)) ||
                                  (len == 3 && (!memcmp(name, "min", 3) || !memcmp(name, "max", 3))));
        if (!is_fn) {
            int rc = fn(ctx, name, len);
            if (rc)
                return rc;
        }
    }
    return 0;
}
