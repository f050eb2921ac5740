/* SPDX-License-Identifier: Apache-2.0 */
/* The mpq-case parser: a good file parses and computes; every kind of malformed file is
 * refused with "file:line: what" (or "file: what" for whole-file problems), never a crash. */
#include <string.h>

#include "check.h"
#include "arith/mpq.h"

static const char good[] =
    "mpq-case 1\n"
    "# comment line\n"
    "name tiny\n"
    "source hand written\n"
    "m 1\nk 3\nn 2\n"
    "x 1 -2 3   # trailing comment\n"
    "in_offset 1\n"
    "t 1 0 -1 0 1 1\n"
    "alpha 3 5\n"
    "hp 0 7 0 0 0 -2\n"
    "bias 10 -10\n"
    "mult 1073741824\nshift 1\n"
    "act_min -128\nact_max 127\n"
    "expect 0 0\n";

static void test_good(void)
{
    mpq_case c;
    char err[256];
    CHECK(mpq_case_parse(good, sizeof good - 1, "good.case", &c, err, sizeof err) == 0, "%s", err);
    /* xr = 2 -1 4; ch0: 10 + 3*(2 - 4) + (-1*7) = -3; ch1: -10 + 5*(-1 + 4) + 4*-2 = -3.
     * mult 2^30 with shift 1 is x1.0 */
    int32_t y[2];
    CHECK(mpq_case_compute(&c, y, err, sizeof err) == 0, "%s", err);
    int64_t acc[2];
    mpq_fc_layer l = {.m = 1, .k = 3, .n = 2, .x = c.x, .in_offset = 1, .t = c.t,
                      .alpha = c.alpha, .hp = c.hp, .bias = c.bias, .acc_bits = 32};
    CHECK(mpq_fc_acc(&l, acc, NULL, err, sizeof err) == 0, "%s", err);
    CHECK_EQ(y[0], acc[0], "unit multiplier passes the accumulator through");
    CHECK_EQ(y[1], acc[1], "unit multiplier passes the accumulator through");
    CHECK(!strcmp(c.name, "tiny") && !strcmp(c.source, "hand written"), "name/source");
    mpq_case_free(&c);
}

/* Replace line `line` (1-based) of the good file with `repl` (NULL: delete it). */
static int variant(int line, const char *repl, char *out, size_t cap)
{
    const char *s = good;
    size_t at = 0;
    for (int ln = 1; *s; ln++) {
        const char *nl = strchr(s, '\n');
        size_t len = (size_t)(nl - s) + 1;
        const char *src = s;
        size_t n = len;
        if (ln == line) {
            src = repl;
            n = repl ? strlen(repl) : 0;
        }
        if (at + n >= cap)
            return -1;
        if (n)
            memcpy(out + at, src, n);
        at += n;
        s += len;
    }
    out[at] = '\0';
    return (int)at;
}

static void test_bad(void)
{
    static const struct {
        int line;
        const char *repl;
        const char *want; /* substring of the message */
    } cases[] = {
        {1, "mpq-case 2\n", "bad.case:1: unsupported format version"},
        {1, "hello\n", "bad.case:1: first line"},
        {5, "m 0\n", "bad.case:5: m = 0 is out of range"},
        {5, "m x\n", "bad.case:5: 'x' is not a decimal integer"},
        {5, "m 99999999999\n", "bad.case:5: 99999999999 does not fit"},
        {8, "x 1 2\n", "bad.case:8: x has 2 values, expected 3"},
        {10, "t 1 0 -1 0 1 2\n", "bad.case:10: t value 2"},
        {11, "alpha 3 5 6\n", "bad.case:11: alpha has 3 values"},
        {11, NULL, "ternary weights need an alpha"},
        {14, "mult -5\n", "bad.case:14: mult value -5"},
        {15, "shift 31\n", "bad.case:15: shift value 31"},
        {16, "act_min 200\n", "act_max 127 is below act_min 200"},
        {18, "expect 0\n", "bad.case:18: expect has 1 values, expected 2"},
        {18, NULL, "bad.case: missing required key 'expect'"},
        {3, "name two words\n", "bad.case:3: name must be one word"},
        {4, "k 3\n", "bad.case:6: key 'k' appears twice (first on line 4)"},
        {4, "frobnicate 1\n", "bad.case:4: unknown key 'frobnicate'"},
        {13, "acc_bits 65\n", "bad.case:19: acc_bits = 65 is out of range"},
        {13, "rounding nearest\n", "bad.case:19: rounding 'nearest'"},
        {8, "x\n", "bad.case:8: x needs at least one value"},
    };
    char buf[2048];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* Inserted keys (acc_bits, rounding on a line we replace) go where the line was. */
        int len = variant(cases[i].line, cases[i].repl, buf, sizeof buf);
        CHECK(len > 0, "variant %zu", i);
        if (cases[i].line == 13) { /* keep the mult line: append the replacement instead */
            len = variant(0, NULL, buf, sizeof buf);
            strcat(buf, cases[i].repl);
            len = (int)strlen(buf);
        }
        mpq_case c;
        char err[256] = "";
        int st = mpq_case_parse(buf, (size_t)len, "bad.case", &c, err, sizeof err);
        CHECK(st == MPQ_EFORMAT, "case %zu (%s) accepted", i, cases[i].want);
        CHECK(strstr(err, cases[i].want) != NULL, "case %zu: message '%s' lacks '%s'", i, err,
              cases[i].want);
        if (!st)
            mpq_case_free(&c);
    }
    mpq_case c;
    char err[256];
    CHECK(mpq_case_parse("", 0, "empty.case", &c, err, sizeof err) == MPQ_EFORMAT, "empty");
    CHECK(strstr(err, "empty.case: empty file") != NULL, "%s", err);
    CHECK(mpq_case_parse("mpq-case 1\0x", 12, "nul.case", &c, err, sizeof err) == MPQ_EFORMAT, "NUL");
    CHECK(mpq_case_load("/nonexistent/x.case", &c, err, sizeof err) == MPQ_EIO, "missing file");
    CHECK(strstr(err, "/nonexistent/x.case: cannot open") != NULL, "%s", err);
    /* Random bytes and random truncations of the good file never crash. */
    for (int i = 0; i < 20000; i++) {
        size_t len = (size_t)test_range(0, sizeof good - 1);
        memcpy(buf, good, len);
        for (int j = 0; j < 3; j++)
            if (len)
                buf[test_range(0, (int64_t)len - 1)] = (char)test_rand();
        if (mpq_case_parse(buf, len, "fuzz.case", &c, err, sizeof err) == 0) {
            int32_t y[64];
            if (c.m * c.n <= 64)
                mpq_case_compute(&c, y, err, sizeof err);
            mpq_case_free(&c);
        }
    }
}

static const char conv[] =
    "mpq-case 1\n"
    "name dw\n"
    "layer depthwise\n"
    "batches 2\n"
    "in_h 2\nin_w 3\nin_c 2\nout_c 4\n"
    "kh 2\nkw 2\n"
    "stride 1 2\npad 1 0\ndilation 1 1\n"
    "out_h 2\nout_w 1\n"
    "x 1 2 3 4 5 6 7 8 9 10 11 12 -1 -2 -3 -4 -5 -6 -7 -8 -9 -10 -11 -12\n"
    "w 1 2 3 4 5 6 7 8 -1 -2 -3 -4 -5 -6 -7 -8\n"
    "bias 1 2 3 4\n"
    "mult 1073741824\nshift 1\n"
    "act_min -1000\nact_max 1000\n"
    "expect 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

/* A spatial case: its shape, the outputs it computes against mpq_conv, and its refusals. */
static void test_spatial(void)
{
    mpq_case c;
    char err[256];
    CHECK(mpq_case_parse(conv, sizeof conv - 1, "dw.case", &c, err, sizeof err) == 0, "%s", err);
    CHECK(c.layer == MPQ_LAYER_DEPTHWISE && c.shape.batches == 2 && c.shape.sx == 2 &&
              c.shape.py == 1 && c.m == 4 && c.n == 4 && c.k == 4, "depthwise shape");
    int32_t y[16];
    int64_t acc[16];
    CHECK(mpq_case_compute(&c, y, err, sizeof err) == 0, "%s", err);
    mpq_conv_layer l = {.shape = c.shape, .x = c.x, .w = c.w, .bias = c.bias, .acc_bits = 32};
    CHECK(mpq_conv_acc(&l, acc, NULL, err, sizeof err) == 0, "%s", err);
    for (int i = 0; i < 16; i++)
        CHECK_EQ(y[i], acc[i], "unit multiplier passes accumulator %d through", i);
    /* Output (b 0, oy 0, ox 0, o 1): window rows -1, 0, columns 0, 1: only row 0 is inside;
     * input channel 0 (ch_mult 2): x 1 and 3 times w[1][0][1] = -2 and w[1][1][1] = -6. */
    CHECK_EQ(acc[1], 2 + 1 * -2 + 3 * -6, "hand-computed depthwise output");
    mpq_case_free(&c);
    static const struct {
        const char *from, *to, *want;
    } bad[] = {
        {"out_w 1\n", "out_w 3\n", "dw.case:15: width axis: output size 3"},
        {"out_c 4\n", "out_c 5\n", "dw.case:8: depthwise: out_c 5 is not a multiple"},
        {"dilation 1 1\n", "dilation 1\n", "dw.case:13: dilation takes two values"},
        {"layer depthwise\n", "layer conv3d\n", "dw.case:3: layer 'conv3d'"},
        {"layer depthwise\n", "layer fc\n", "dw.case:5: key 'in_h' needs a spatial layer"},
        {"layer depthwise\n", "layer avgpool\n", "key 'w' does not apply to layer avgpool"},
        {"batches 2\n", "groups 2\n", "key 'groups' does not apply to layer depthwise"},
        {"kh 2\n", "", "dw.case: missing required key 'kh'"},
        {"x 1 2 ", "x 2 ", "x has 23 values, expected 24"},
        {"bias 1 2 3 4\n", "bias 1 2 3\n", "bias has 3 values, expected 4"},
        {"expect 0 0 ", "expect 0 ", "expect has 15 values, expected 16"},
        {"in_h 2\n", "in_h 0\n", "in_h = 0 is out of range"},
    };
    char buf[2048];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *at = strstr(conv, bad[i].from);
        CHECK(at != NULL, "pattern %zu", i);
        if (!at)
            continue;
        size_t pre = (size_t)(at - conv);
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)pre, conv, bad[i].to, at + strlen(bad[i].from));
        err[0] = 0;
        int st = mpq_case_parse(buf, strlen(buf), "dw.case", &c, err, sizeof err);
        CHECK(st == MPQ_EFORMAT, "spatial case %zu (%s) accepted", i, bad[i].want);
        CHECK(strstr(err, bad[i].want) != NULL, "spatial case %zu: '%s' lacks '%s'", i, err,
              bad[i].want);
        if (!st)
            mpq_case_free(&c);
    }
}

int main(void)
{
    test_seed("test_case", 3);
    test_good();
    test_bad();
    test_spatial();
    return check_done("test_case");
}
