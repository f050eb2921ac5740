/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_tflite: the .tflite reader and the graph runner (golden/net/).
 *
 *  - models built in memory (tfl_build.h) read back field by field;
 *  - hostile files: every truncation, byte mutations, and crafted corruptions, each refused
 *    with a message that names the table and field (never a crash: run it under SAN=1);
 *  - TFLite's integer arithmetic of ADD, MEAN, SOFTMAX, LOGISTIC, QUANTIZE, DEQUANTIZE, the
 *    FC roundings, conv, pools and the data-movement operators on small graphs whose outputs
 *    are worked out by hand in the comments;
 *  - refusals of what the golden model does not run (operator, float, int16, sizes);
 *  - the accumulator analysis on a layer whose partial sums are known;
 *  - the int8 fast path against the golden kernels on random layers (seeded).
 *
 * `test_tflite --write-seeds DIR` writes the fuzz seed corpus (small models) instead.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "arith/mpq.h"
#include "net/mpq_graph.h"
#include "arith/mpq_layer.h"
#include "net/mpq_netops.h"
#include "net/mpq_tflite.h"
#include "tfl_build.h"

static const int32_t S1[] = {1}, S2[] = {2}, S3[] = {3};

/* ---- helpers ---- */

static uint8_t *build(const tb_model *m, size_t *len)
{
    return tb_build(m, len);
}

/* Parses and plans; on failure returns the status with the message in err. */
static int plan(const uint8_t *buf, size_t len, const mpq_net_opts *o, mpq_tfl_model *m,
                mpq_net **net, char *err, size_t errlen)
{
    *net = NULL;
    int st = mpq_tfl_parse(buf, len, "test.tflite", m, err, errlen);
    if (st)
        return st;
    st = mpq_net_init(net, m, o, err, errlen);
    if (st)
        mpq_tfl_free(m);
    return st;
}

/* Runs a one-input model; copies tensor `t` (bytes) to out. Returns 0 or the status. */
static int run1(const tb_model *tm, const mpq_net_opts *o, const void *in, size_t inlen, int t,
                void *out, size_t outlen, char *err, size_t errlen)
{
    size_t len;
    uint8_t *buf = build(tm, &len);
    mpq_tfl_model m;
    mpq_net *net;
    int st = plan(buf, len, o, &m, &net, err, errlen);
    free(buf);
    if (st)
        return st;
    st = mpq_net_set_input(net, 0, in, inlen, err, errlen);
    if (!st)
        st = mpq_net_run(net, err, errlen);
    if (!st && mpq_net_tensor_bytes(net, (unsigned)t) != outlen)
        st = MPQ_EPARAM;
    if (!st)
        st = mpq_net_tensor_get(net, (unsigned)t, out);
    mpq_net_free(net);
    mpq_tfl_free(&m);
    return st;
}

/* --write-seeds: every hand-worked graph is also written there as a fuzz seed. */
static const char *seed_dir;

static void write_model(const tb_model *tm, const char *what)
{
    char path[600];
    size_t at = (size_t)snprintf(path, sizeof path, "%s/", seed_dir);
    for (const char *c = what; *c && at + 8 < sizeof path; c++)
        path[at++] = *c == ' ' ? '-' : *c;
    snprintf(path + at, sizeof path - at, ".tflite");
    size_t len;
    uint8_t *buf = build(tm, &len);
    FILE *f = fopen(path, "wb");
    int bad = !f || fwrite(buf, 1, len, f) != len;
    if (f)
        bad |= fclose(f) != 0;
    CHECK(!bad, "%s: cannot write", path);
    free(buf);
}

/* Both kernel paths must give `want`. */
static void expect_i8(const char *what, const tb_model *tm, const mpq_net_opts *o0, const void *in,
                      size_t inlen, int t, const int8_t *want, size_t n)
{
    if (seed_dir)
        write_model(tm, what);
    for (int golden = 0; golden < 2; golden++) {
        mpq_net_opts o;
        if (o0)
            o = *o0;
        else
            mpq_net_opts_default(&o);
        o.golden_kernels = golden;
        int8_t got[256];
        char err[512] = "";
        int st = run1(tm, &o, in, inlen, t, got, n, err, sizeof err);
        CHECK(st == 0, "%s (%s kernels): status %d: %s", what, golden ? "golden" : "fast", st, err);
        for (size_t i = 0; !st && i < n; i++)
            CHECK_EQ(got[i], want[i], "%s (%s kernels): element %zu", what,
                     golden ? "golden" : "fast", i);
    }
}

static void expect_refusal(const char *what, const tb_model *tm, const char *needle)
{
    size_t len;
    uint8_t *buf = build(tm, &len);
    mpq_tfl_model m;
    mpq_net *net;
    char err[600] = "";
    int st = plan(buf, len, NULL, &m, &net, err, sizeof err);
    free(buf);
    CHECK(st != 0, "%s: accepted", what);
    CHECK(strstr(err, needle) != NULL, "%s: message '%s' lacks '%s'", what, err, needle);
    CHECK(strncmp(err, "test.tflite: ", 13) == 0, "%s: message '%s' does not name the file", what,
          err);
    if (!st) {
        mpq_net_free(net);
        mpq_tfl_free(&m);
    }
}

/* An int8 activation of the given shape, scale, zero point. */
static int act(tb_model *m, unsigned rank, const int32_t *shape, float scale, int64_t zp)
{
    return tb_tensor_add(m, MPQ_TFL_INT8, rank, shape, scale, zp);
}

static int const_t(tb_model *m, int type, unsigned rank, const int32_t *shape, const void *data,
                   size_t size, float scale)
{
    int t = tb_tensor_add(m, type, rank, shape, scale, 0);
    m->t[t].data = data;
    m->t[t].size = size;
    return t;
}

static void io(tb_model *m, int in, int out)
{
    m->nin = m->nout = 1;
    m->in[0] = in;
    m->out[0] = out;
}

static void op_io(tb_op *o, unsigned nin, const int *in, int out)
{
    o->nin = nin;
    memcpy(o->in, in, nin * sizeof *in);
    o->nout = 1;
    o->out[0] = out;
}

/* The 1x1 convolution of the hand-worked example (below), activation `act_fn`. */
static void conv_model(tb_model *m, int act_fn)
{
    static const int8_t w[4] = {1, 2, 3, 4};
    static const int32_t bias[2] = {1, -1}, in_s[4] = {1, 1, 1, 2}, w_s[4] = {2, 1, 1, 2};
    static uint8_t bias_le[8];
    for (int i = 0; i < 2; i++)
        fb_le(bias_le + 4 * i, (uint32_t)bias[i], 4);
    memset(m, 0, sizeof *m);
    int x = act(m, 4, in_s, 1.0f, 0);
    int wt = const_t(m, MPQ_TFL_INT8, 4, w_s, w, 4, 0);
    m->t[wt].nq = 2;
    m->t[wt].scale[0] = 1.0f;
    m->t[wt].scale[1] = 0.5f;
    int bt = const_t(m, MPQ_TFL_INT32, 1, S2, bias_le, 8, 0);
    int y = act(m, 4, in_s, 1.0f, 10);
    m->t[y].shape[3] = 2;
    tb_op *o = tb_op_add(m, MPQ_TFL_CONV_2D, 1);
    tb_opt(o, 0, TB_I8, MPQ_TFL_PAD_VALID);
    tb_opt(o, 1, TB_I32, 1);
    tb_opt(o, 2, TB_I32, 1);
    tb_opt(o, 3, TB_I8, act_fn);
    op_io(o, 3, (int[]){x, wt, bt}, y);
    io(m, x, y);
}

/* ---- reader ---- */

static void test_reader(void)
{
    tb_model tm;
    conv_model(&tm, MPQ_TFL_ACT_RELU6);
    size_t len;
    uint8_t *buf = build(&tm, &len);
    mpq_tfl_model m;
    char err[512];
    int st = mpq_tfl_parse(buf, len, "conv.tflite", &m, err, sizeof err);
    CHECK(st == 0, "parse: %s", err);
    if (!st) {
        CHECK_EQ(m.version, 3, "version");
        CHECK_EQ(m.ntensors, 4, "tensors");
        CHECK_EQ(m.nops, 1, "ops");
        CHECK_EQ(m.ninputs, 1, "inputs");
        CHECK_EQ(m.inputs[0], 0, "input tensor");
        CHECK_EQ(m.outputs[0], 3, "output tensor");
        CHECK(m.description && !strcmp(m.description, "mpq test model"), "description");
        const mpq_tfl_tensor *w = &m.tensors[1], *b = &m.tensors[2], *y = &m.tensors[3];
        CHECK_EQ(w->type, MPQ_TFL_INT8, "weights type");
        CHECK_EQ(w->rank, 4, "weights rank");
        CHECK_EQ(w->shape[0], 2, "weights dim 0");
        CHECK_EQ(w->shape[3], 2, "weights dim 3");
        CHECK_EQ(w->size, 4, "weights bytes");
        CHECK(w->data && w->data[3] == 4, "weights data");
        CHECK_EQ(w->q.nscale, 2, "weight scales");
        CHECK(w->q.scale[1] == 0.5f, "weight scale 1");
        CHECK_EQ(b->type, MPQ_TFL_INT32, "bias type");
        CHECK(b->data && b->data[4] == 0xFF, "bias -1 little-endian");
        CHECK_EQ(y->q.zero_point[0], 10, "output zero point");
        const mpq_tfl_op *o = &m.ops[0];
        CHECK_EQ(o->code, MPQ_TFL_CONV_2D, "op code");
        CHECK_EQ(o->nin, 3, "op inputs");
        CHECK_EQ(o->opt_type, 1, "options type");
        CHECK_EQ(o->opt.padding, MPQ_TFL_PAD_VALID, "padding");
        CHECK_EQ(o->opt.activation, MPQ_TFL_ACT_RELU6, "activation");
        CHECK_EQ(o->opt.dilation_w, 1, "dilation default");
        CHECK_EQ(mpq_net_op_macs(&m, 0), 4, "MACs: 2 outputs x 2 inputs");
        mpq_tfl_free(&m);
    }
    free(buf);
}

/* Every prefix of a valid model is refused with a message naming the file. */
static void test_truncations(void)
{
    tb_model tm;
    conv_model(&tm, 0);
    size_t len;
    uint8_t *buf = build(&tm, &len);
    unsigned refused = 0;
    for (size_t n = 0; n < len; n++) {
        uint8_t *cut = malloc(n + 1); /* exactly n bytes for ASan to watch */
        memcpy(cut, buf, n);
        mpq_tfl_model m;
        char err[512] = "";
        int st = mpq_tfl_parse(cut, n, "cut.tflite", &m, err, sizeof err);
        if (st) {
            refused++;
            CHECK(!strncmp(err, "cut.tflite: ", 12), "truncated at %zu: message '%s'", n, err);
        } else {
            mpq_tfl_free(&m);
        }
        free(cut);
    }
    /* The buffers come first in the file: a cut never leaves a complete model. */
    CHECK_EQ(refused, len, "truncations refused");
    free(buf);
}

/* Deterministic mutations of every byte: each file is read, planned and (when small) run,
 * or refused; never a crash or a read outside the buffer (ASan). */
static void test_mutations(void)
{
    tb_model tm;
    conv_model(&tm, 0);
    size_t len;
    uint8_t *buf = build(&tm, &len);
    static const uint8_t vals[] = {0x00, 0xFF, 0x80, 0x7F, 0x01, 0x40};
    unsigned parsed = 0, planned = 0, ran = 0;
    for (size_t i = 0; i < len; i++)
        for (size_t v = 0; v < sizeof vals + 1; v++) {
            uint8_t *mut = malloc(len);
            memcpy(mut, buf, len);
            mut[i] = v < sizeof vals ? vals[v] : (uint8_t)(mut[i] ^ 0x10);
            mpq_tfl_model m;
            mpq_net *net;
            char err[512];
            if (!mpq_tfl_parse(mut, len, "mut.tflite", &m, err, sizeof err)) {
                parsed++;
                if (!mpq_net_init(&net, &m, NULL, err, sizeof err)) {
                    planned++;
                    int t = mpq_net_input_tensor(net, 0);
                    size_t n = t >= 0 ? mpq_net_tensor_bytes(net, (unsigned)t) : 0;
                    if (t >= 0 && n <= 4096) {
                        static uint8_t zero[4096];
                        if (!mpq_net_set_input(net, 0, zero, n, err, sizeof err) &&
                            !mpq_net_run(net, err, sizeof err))
                            ran++;
                    }
                    mpq_net_free(net);
                } else {
                    CHECK(!strncmp(err, "mut.tflite: ", 12), "byte %zu: message '%s'", i, err);
                }
                mpq_tfl_free(&m);
            } else {
                CHECK(!strncmp(err, "mut.tflite: ", 12), "byte %zu: message '%s'", i, err);
            }
            free(mut);
        }
    free(buf);
    printf("test_tflite: %zu bytes x 7 mutations: %u read, %u planned, %u ran\n", len, parsed,
           planned, ran);
    CHECK(parsed > 0 && ran > 0, "some mutations (padding, scales) must still run");
}

/* Little-endian field access for the crafted corruptions. */
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Position of field `id` of the table at `t` (0 when absent). */
static size_t field_at(const uint8_t *b, size_t t, unsigned id)
{
    size_t vt = (size_t)((int64_t)t - (int32_t)rd32(b + t));
    unsigned vtlen = b[vt] | b[vt + 1] << 8;
    if (4 + 2 * id + 2 > vtlen)
        return 0;
    unsigned off = b[vt + 4 + 2 * id] | b[vt + 5 + 2 * id] << 8;
    return off ? t + off : 0;
}

static size_t deref(const uint8_t *b, size_t at)
{
    return at + rd32(b + at);
}

static void expect_parse_error(const uint8_t *buf, size_t len, const char *what, const char *needle)
{
    mpq_tfl_model m;
    char err[512] = "";
    int st = mpq_tfl_parse(buf, len, "bad.tflite", &m, err, sizeof err);
    CHECK(st != 0, "%s: accepted", what);
    CHECK(strstr(err, needle) != NULL, "%s: message '%s' lacks '%s'", what, err, needle);
    if (!st)
        mpq_tfl_free(&m);
}

static void test_hostile(void)
{
    tb_model tm;
    conv_model(&tm, 0);
    size_t len;
    uint8_t *buf = build(&tm, &len), *b = malloc(len);
    size_t root = rd32(buf);
    size_t subgraphs = deref(buf, field_at(buf, root, 2));
    size_t sg0 = deref(buf, subgraphs + 4);
    size_t tensors = deref(buf, field_at(buf, sg0, 0));
    size_t t1 = deref(buf, tensors + 4 + 4); /* tensor 1: the weights */
    size_t shape = field_at(buf, t1, 0);
    size_t ops = deref(buf, field_at(buf, sg0, 3));
    size_t op0 = deref(buf, ops + 4);

    memcpy(b, buf, len);
    memcpy(b + 4, "TFL2", 4);
    expect_parse_error(b, len, "identifier", "not a TensorFlow Lite model");
    expect_parse_error(buf, 7, "tiny file", "shorter than a flatbuffer header");

    memcpy(b, buf, len); /* the shape vector's length runs past the end */
    fb_le(b + deref(b, shape), 0x10000000, 4);
    expect_parse_error(b, len, "vector length",
                       "SubGraph 0: Tensor 1: field shape: vector of 268435456 elements runs past "
                       "the end of the file");

    memcpy(b, buf, len); /* the shape offset points outside the file */
    fb_le(b + shape, (uint32_t)(len - shape + 100), 4);
    expect_parse_error(b, len, "offset", "Tensor 1: field shape: offset points outside the file");

    memcpy(b, buf, len); /* the tensor's vtable lies outside the file */
    fb_le(b + t1, (uint32_t)(int32_t)-(int32_t)(len), 4);
    expect_parse_error(b, len, "vtable", "Tensor 1: vtable of the table at byte");

    memcpy(b, buf, len); /* a buffer index out of range */
    fb_le(b + field_at(b, t1, 2), 99, 4);
    expect_parse_error(b, len, "buffer index",
                       "Tensor 1: field buffer: buffer 99 does not exist (the model has 3)");

    memcpy(b, buf, len); /* an operator input out of range */
    size_t ins = deref(b, field_at(b, op0, 1));
    fb_le(b + ins + 4, 77, 4);
    expect_parse_error(b, len, "op input",
                       "SubGraph 0: Operator 0: field inputs: tensor 77 does not exist");

    memcpy(b, buf, len); /* an opcode index out of range */
    fb_le(b + field_at(b, op0, 0), 5, 4);
    expect_parse_error(b, len, "opcode", "Operator 0: field opcode_index: operator code 5");

    memcpy(b, buf, len); /* a rank the reader refuses */
    fb_le(b + deref(b, shape), 9, 4);
    expect_parse_error(b, len, "rank", "Tensor 1: field shape: 9 dimensions");

    memcpy(b, buf, len); /* the schema version */
    fb_le(b + field_at(b, root, 0), 2, 4);
    expect_parse_error(b, len, "version", "schema version 2");

    memcpy(b, buf, len); /* a vtable entry past the table's size */
    size_t vt = (size_t)((int64_t)t1 - (int32_t)rd32(b + t1));
    fb_le(b + vt + 4, 0xFFF0, 2);
    expect_parse_error(b, len, "field offset", "Tensor 1: field shape: lies outside its table");

    memcpy(b, buf, len); /* a vtable size that is odd */
    fb_le(b + vt, 5, 2);
    expect_parse_error(b, len, "vtable size", "has an invalid size 5");

    /* A self-referencing vector of tables: the copy budget stops it (no quadratic work). */
    memcpy(b, buf, len);
    fb_le(b + tensors, 0x100000, 4);
    expect_parse_error(b, len, "tensor count", "field tensors: vector of 1048576 elements");

    free(b);
    free(buf);
}

/* ---- arithmetic worked by hand ---- */

static void test_arith(void)
{
    /* ADD with every scale 1.0: r1 = r2 = 1/2 (mult 2^30, shift 0), ro = 2/2^20 (mult
     * 2^30, shift -18): x << 20 halves to x * 2^19, the sum halves to (x+y) * 2^18, and the
     * shift by 18 gives x + y exactly. Output scale 2.0: ro = 2^-20 (shift -19): 1 + 0 gives
     * 0.5, rounded away from zero to 1; -1 + 0 gives -1. */
    mpq_tfl_add p;
    CHECK(!mpq_tfl_add_prepare(1, 0, 1, 0, 1, 0, 0, &p), "add prepare");
    CHECK_EQ(p.in1_mult, 1 << 30, "add in1 mult");
    CHECK_EQ(p.out_shift, -18, "add out shift");
    CHECK_EQ(mpq_tfl_add_one(&p, 3, 4), 7, "3 + 4");
    CHECK_EQ(mpq_tfl_add_one(&p, -100, -100), -128, "saturates");
    CHECK(!mpq_tfl_add_prepare(1, 0, 1, 0, 2, 0, 0, &p), "add prepare, out scale 2");
    CHECK_EQ(mpq_tfl_add_one(&p, 1, 0), 1, "(1+0)/2 rounds away");
    CHECK_EQ(mpq_tfl_add_one(&p, -1, 0), -1, "(-1+0)/2 rounds away");
    CHECK_EQ(mpq_tfl_add_one(&p, 3, 2), 3, "(3+2)/2 = 2.5 rounds to 3");
    CHECK(!mpq_tfl_add_prepare(1, 0, 1, 0, 1, 0, MPQ_TFL_ACT_RELU6, &p), "add relu6");
    CHECK_EQ(mpq_tfl_add_one(&p, 5, 4), 6, "relu6 clamps 9 to 6");
    CHECK(mpq_tfl_add_prepare(1, 0, 1, 0, 1e-9f, 0, 0, &p) != 0, "output multiplier >= 1");

    /* MEAN of 4 values with scales equal: the multiplier of 1.0 is (2^30, shift 1); n = 4
     * folds in as a shift of 2: (2^30, -1). The sum 11 (mean 2.75): srdhm(11, 2^30) =
     * floor((11 + 1) / 2) = 6, then 6 / 2 = 3. */
    int32_t mn;
    int sn;
    mpq_tfl_mean_params(1 << 30, 1, 4, &mn, &sn);
    CHECK_EQ(mn, 1 << 30, "mean mult");
    CHECK_EQ(sn, -1, "mean shift");
    CHECK_EQ(mpq_tfl_mean_one(11, 4, 0, 0, mn, sn), 3, "mean 2.75");
    /* Raw values summing to 11 with zero point 5: (11 - 20) / 4 = -2.25: srdhm(-9, 2^30)
     * truncates (-9 - 1) / 2 + 2^-31 to -4, then -4 / 2 = -2. */
    CHECK_EQ(mpq_tfl_mean_one(11, 4, 5, 0, mn, sn), -2, "zero point 5: (11-20)/4");

    /* gemmlowp fixed point: exp(0) is one (INT32_MAX in Q0.31), logistic(0) one half. */
    CHECK_EQ(mpq_gl_exp_on_negative(0, 5), INT32_MAX, "exp(0)");
    CHECK_EQ(mpq_gl_logistic(0, 4), 1 << 30, "logistic(0)");
    for (int k = 1; k <= 64; k++) { /* exp(-k/8) within 2^-20 (gemmlowp's accuracy) */
        int32_t a = -(int32_t)((uint32_t)k << (26 - 3));
        double got = mpq_gl_exp_on_negative(a, 5) / 2147483648.0, want = exp(-k / 8.0);
        CHECK(fabs(got - want) < 1e-6, "exp(-%d/8): %.9f vs %.9f", k, got, want);
    }
    for (int k = 0; k < 64; k++) { /* 1 / (1 + x) */
        double x = k / 64.0;
        double got = mpq_gl_one_over_one_plus_x((int32_t)(x * 2147483648.0)) / 2147483648.0;
        CHECK(fabs(got - 1 / (1 + x)) < 1e-6, "1/(1+%g): %.9f", x, got);
    }

    /* SOFTMAX of a row of four equal values: each is 1/4, 64/256, stored as 64 - 128. */
    mpq_tfl_softmax sm;
    CHECK(!mpq_tfl_softmax_prepare(1.0f, 1.0f / 16, &sm), "softmax prepare");
    int8_t row[4] = {0, 0, 0, 0}, out[4];
    CHECK(!mpq_tfl_softmax_row(&sm, row, 4, out), "softmax row");
    for (int i = 0; i < 4; i++)
        CHECK_EQ(out[i], -64, "softmax uniform %d", i);
    /* One value far above the others (scale 1: the others are e^-100 below): 1 -> 127. */
    CHECK(!mpq_tfl_softmax_prepare(1.0f, 1.0f, &sm), "softmax prepare scale 1");
    int8_t row2[3] = {100, 0, 0};
    CHECK(!mpq_tfl_softmax_row(&sm, row2, 3, out), "softmax row 2");
    CHECK_EQ(out[0], 127, "softmax winner");
    CHECK_EQ(out[1], -128, "softmax loser");
    CHECK(mpq_tfl_softmax_prepare(1.0f, 1e-12f, &sm) != 0, "tiny input scale: refused");

    /* LOGISTIC at the zero point is 1/2: 128/256 - 128 = 0. */
    mpq_tfl_logistic lg;
    CHECK(!mpq_tfl_logistic_prepare(0.1f, 7, &lg), "logistic prepare");
    CHECK_EQ(mpq_tfl_logistic_one(&lg, 7), 0, "logistic(0)");
    CHECK_EQ(mpq_tfl_logistic_one(&lg, 127), 127, "logistic(12) saturates");
    CHECK_EQ(mpq_tfl_logistic_one(&lg, -128), -128, "logistic(-13.5)");

    /* QUANTIZE rounds half away from zero in float; DEQUANTIZE in double. */
    CHECK_EQ(mpq_tfl_quantize_f32(2.5f, 1.0f, 0), 3, "2.5");
    CHECK_EQ(mpq_tfl_quantize_f32(-2.5f, 1.0f, 0), -3, "-2.5");
    CHECK_EQ(mpq_tfl_quantize_f32(-0.4f, 1.0f, 0), 0, "-0.4");
    CHECK_EQ(mpq_tfl_quantize_f32(0.75f, 0.5f, -128), -126, "0.75/0.5 = 1.5 -> 2, + zp");
    CHECK_EQ(mpq_tfl_quantize_f32(1000.0f, 1.0f, 0), 127, "clamps");
    CHECK_EQ(mpq_tfl_quantize_f32(NAN, 1.0f, 0), -128, "NaN converts as INT32_MIN");
    CHECK(mpq_tfl_dequantize(-3, 0.5f, -1) == -1.0f, "dequantize");
    /* The rounding against libm's roundf over a sweep of floats (ties, fractions near 1/2,
     * large values, both signs). */
    for (int i = -300000; i <= 300000; i++) {
        float v = i * 0.25f + (i % 7) * 0.00001f;
        int32_t want = (int32_t)roundf(v);
        want = want < -128 ? -128 : want > 127 ? 127 : want;
        if (mpq_tfl_quantize_f32(v, 1.0f, 0) != want) {
            CHECK(0, "quantize %.7g: %d, roundf %d", (double)v, mpq_tfl_quantize_f32(v, 1.0f, 0), want);
            break;
        }
        float big = v * 16777216.0f; /* values from 2^23 on, and past int32 */
        int32_t wb = big >= -2147483648.0f && big < 2147483648.0f ? (int32_t)roundf(big) : INT32_MIN;
        wb = wb < -128 ? -128 : wb > 127 ? 127 : wb;
        CHECK_EQ(mpq_tfl_quantize_f32(big, 1.0f, 0), wb, "quantize %.9g", (double)big);
    }
    CHECK_EQ(mpq_tfl_quantize_f32(0.49999997f, 1.0f, 0), 0, "just below one half");
    /* The vector form equals the scalar one lane by lane: the sweep's values, the specials,
     * and random bit patterns, at scales and zero points that push every kind to a clamp. */
    {
        enum { NQ = 4099 };
        static float qx[NQ];
        int8_t qy[NQ];
        uint32_t st = 12345;
        const float specials[] = {NAN, INFINITY, -INFINITY, 2147483648.0f, -2147483648.0f,
                                  2147483520.0f, 0.5f, -0.5f, 1.5f, -1.5f, 0.49999997f, -0.0f};
        for (int i = 0; i < NQ; i++) {
            st = st * 1664525u + 1013904223u;
            uint32_t bits = st;
            float r;
            memcpy(&r, &bits, sizeof r);
            qx[i] = i < 12 ? specials[i] : i % 3 ? (float)(i - 2000) * 0.25f : r;
        }
        const float scales[] = {1.0f, 0.5f, 3.0e-7f, 1.0e7f};
        const int32_t zps[] = {0, -128, 127, -5};
        for (int a = 0; a < 4; a++) {
            mpq_tfl_quantize_f32_n(qx, qy, NQ, scales[a], zps[a]);
            for (int i = 0; i < NQ; i++)
                if (qy[i] != mpq_tfl_quantize_f32(qx[i], scales[a], zps[a])) {
                    CHECK(0, "quantize_n lane %d (%.9g / %g + %d): %d, scalar %d", i, (double)qx[i],
                          (double)scales[a], zps[a], qy[i], mpq_tfl_quantize_f32(qx[i], scales[a], zps[a]));
                    break;
                }
        }
    }
    /* int8 -> int8 with the scale doubled: 3 -> 1.5 -> 2; -3 -> -1.5: srdhm(-3, 2^30)
     * truncates (-3 - 1) / 2 + 2^-31 to -1 (gemmlowp's nudge). */
    CHECK_EQ(mpq_tfl_requantize(3, 0, 0, 1 << 30, 0), 2, "requantize 1.5");
    CHECK_EQ(mpq_tfl_requantize(-3, 0, 0, 1 << 30, 0), -1, "requantize -1.5");

    /* Activation ranges: output scale 0.5, zero point -10: RELU6 is [-10, -10 + 12]. */
    int32_t lo, hi;
    CHECK(!mpq_tfl_act_range(MPQ_TFL_ACT_RELU6, 0.5f, -10, &lo, &hi), "relu6 range");
    CHECK(lo == -10 && hi == 2, "relu6 range [%d, %d]", lo, hi);
    CHECK(mpq_tfl_act_range(4, 0.5f, 0, &lo, &hi) != 0, "TANH is not a fused activation here");

    /* Multipliers: 0.25 is (2^30, -1); below 2^-31 flushes to zero; 2^30 and up refused. */
    int32_t mult;
    int shift;
    CHECK(!mpq_tfl_multiplier(0.25, &mult, &shift) && mult == 1 << 30 && shift == -1, "0.25");
    CHECK(!mpq_tfl_multiplier(1e-12, &mult, &shift) && mult == 0 && shift == 0, "tiny");
    CHECK(mpq_tfl_multiplier(2e9, &mult, &shift) != 0, "too large");
}

/* ---- small graphs worked by hand ---- */

static void test_graphs(void)
{
    tb_model m;
    /* CONV_2D 1x1 on the pixel (3, 2), weights ((1, 2), (3, 4)) with scales 1 and 1/2, bias
     * (1, -1), output zero point 10: channel 0: 3 + 4 + 1 = 8; channel 1: (9 + 8 - 1) / 2 =
     * 8; NONE gives 18, 18; RELU6 clamps to 10 + 6 = 16. */
    int8_t px[2] = {3, 2};
    conv_model(&m, MPQ_TFL_ACT_NONE);
    expect_i8("conv 1x1", &m, NULL, px, 2, 3, (const int8_t[]){18, 18}, 2);
    conv_model(&m, MPQ_TFL_ACT_RELU6);
    expect_i8("conv 1x1 relu6", &m, NULL, px, 2, 3, (const int8_t[]){16, 16}, 2);

    /* FULLY_CONNECTED, per-tensor scales 1, 1, 4 (multiplier 1/4 = (2^30, -1)), weight 1,
     * inputs 1 and 5: double rounding (TFLite Micro): srdhm rounds 1/2 up to 1, then 1/2
     * rounds away to 1; 5: 3 then 1.5 -> 2. Single rounding (LiteRT): 1/4 -> 0, 5/4 -> 1. */
    memset(&m, 0, sizeof m);
    static const int8_t one = 1;
    int x = act(&m, 2, (const int32_t[]){2, 1}, 1.0f, 0);
    int w = const_t(&m, MPQ_TFL_INT8, 2, (const int32_t[]){1, 1}, &one, 1, 1.0f);
    int y = act(&m, 2, (const int32_t[]){2, 1}, 4.0f, 0);
    tb_op *o = tb_op_add(&m, MPQ_TFL_FULLY_CONNECTED, 8);
    op_io(o, 2, (int[]){x, w}, y);
    io(&m, x, y);
    int8_t fin[2] = {1, 5};
    expect_i8("fc double rounding", &m, NULL, fin, 2, y, (const int8_t[]){1, 2}, 2);
    mpq_net_opts single;
    mpq_net_opts_default(&single);
    single.fc_rounding = MPQ_RQ_SINGLE;
    expect_i8("fc single rounding", &m, &single, fin, 2, y, (const int8_t[]){0, 1}, 2);

    /* ADD broadcasting (2 values along the last axis) with every scale 1: x + y. */
    memset(&m, 0, sizeof m);
    static const int8_t b10[2] = {10, 20};
    x = act(&m, 3, (const int32_t[]){1, 2, 2}, 1.0f, 0);
    int c = const_t(&m, MPQ_TFL_INT8, 1, S2, b10, 2, 1.0f);
    y = act(&m, 3, (const int32_t[]){1, 2, 2}, 1.0f, 0);
    o = tb_op_add(&m, MPQ_TFL_ADD, 11);
    op_io(o, 2, (int[]){x, c}, y);
    io(&m, x, y);
    int8_t a4[4] = {1, 2, 3, 4};
    expect_i8("add broadcast", &m, NULL, a4, 4, y, (const int8_t[]){11, 22, 13, 24}, 4);

    /* MEAN over H and W of (1, 2, 3, 5), keep_dims: 2.75 -> 3 (test_arith). */
    memset(&m, 0, sizeof m);
    static const int32_t axes[2] = {1, 2};
    static uint8_t axes_le[8];
    fb_le(axes_le, 1, 4);
    fb_le(axes_le + 4, 2, 4);
    (void)axes;
    int8_t a5[4] = {1, 2, 3, 5};
    x = act(&m, 4, (const int32_t[]){1, 2, 2, 1}, 1.0f, 0);
    c = const_t(&m, MPQ_TFL_INT32, 1, S2, axes_le, 8, 0);
    y = act(&m, 4, (const int32_t[]){1, 1, 1, 1}, 1.0f, 0);
    o = tb_op_add(&m, MPQ_TFL_MEAN, 27);
    tb_opt(o, 0, TB_U8, 1);
    op_io(o, 2, (int[]){x, c}, y);
    io(&m, x, y);
    expect_i8("mean", &m, NULL, a5, 4, y, (const int8_t[]){3}, 1);

    /* AVERAGE_POOL_2D 2x2 of (1, 2, 3, 5): (11 + 2) / 4 = 3; MAX_POOL_2D: 5. */
    for (int mx = 0; mx < 2; mx++) {
        memset(&m, 0, sizeof m);
        x = act(&m, 4, (const int32_t[]){1, 2, 2, 1}, 1.0f, 0);
        y = act(&m, 4, (const int32_t[]){1, 1, 1, 1}, 1.0f, 0);
        o = tb_op_add(&m, mx ? MPQ_TFL_MAX_POOL_2D : MPQ_TFL_AVERAGE_POOL_2D, 5);
        tb_opt(o, 0, TB_I8, MPQ_TFL_PAD_VALID);
        tb_opt(o, 1, TB_I32, 2);
        tb_opt(o, 2, TB_I32, 2);
        tb_opt(o, 3, TB_I32, 2);
        tb_opt(o, 4, TB_I32, 2);
        op_io(o, 1, (int[]){x}, y);
        io(&m, x, y);
        expect_i8(mx ? "max pool" : "average pool", &m, NULL, a5, 4, y,
                  (const int8_t[]){mx ? 5 : 3}, 1);
    }

    /* PAD one row above and one column right, output zero point 5:
     * (5 5 5 / 1 2 5 / 3 4 5). */
    memset(&m, 0, sizeof m);
    static uint8_t pads_le[32];
    static const int32_t pads[8] = {0, 0, 1, 0, 0, 1, 0, 0};
    for (int i = 0; i < 8; i++)
        fb_le(pads_le + 4 * i, (uint32_t)pads[i], 4);
    x = act(&m, 4, (const int32_t[]){1, 2, 2, 1}, 1.0f, 5);
    c = const_t(&m, MPQ_TFL_INT32, 2, (const int32_t[]){4, 2}, pads_le, 32, 0);
    y = act(&m, 4, (const int32_t[]){1, 3, 3, 1}, 1.0f, 5);
    o = tb_op_add(&m, MPQ_TFL_PAD, 22);
    op_io(o, 2, (int[]){x, c}, y);
    io(&m, x, y);
    expect_i8("pad", &m, NULL, a4, 4, y, (const int8_t[]){5, 5, 5, 1, 2, 5, 3, 4, 5}, 9);

    /* SOFTMAX of (0, 0, 0, 0): -64 each (test_arith). */
    memset(&m, 0, sizeof m);
    x = act(&m, 2, (const int32_t[]){1, 4}, 1.0f / 16, 0);
    y = act(&m, 2, (const int32_t[]){1, 4}, 1.0f / 256, -128);
    o = tb_op_add(&m, MPQ_TFL_SOFTMAX, 9);
    tb_opt(o, 0, TB_F32, 1.0);
    op_io(o, 1, (int[]){x}, y);
    io(&m, x, y);
    int8_t z4[4] = {0, 0, 0, 0};
    expect_i8("softmax", &m, NULL, z4, 4, y, (const int8_t[]){-64, -64, -64, -64}, 4);

    /* QUANTIZE float -> int8 (scale 0.5, zero point -128): 0.75 -> 1.5 -> 2 - 128. */
    memset(&m, 0, sizeof m);
    x = tb_tensor_add(&m, MPQ_TFL_FLOAT32, 1, S3, 0, 0);
    y = act(&m, 1, S3, 0.5f, -128);
    o = tb_op_add(&m, MPQ_TFL_QUANTIZE, 0);
    op_io(o, 1, (int[]){x}, y);
    io(&m, x, y);
    float fq[3] = {0.75f, 100.0f, -1.0f};
    expect_i8("quantize", &m, NULL, fq, sizeof fq, y, (const int8_t[]){-126, 72, -128}, 3);

    /* SHAPE -> STRIDED_SLICE (element 0, shrunk to a scalar) -> PACK with 2 and 3 ->
     * RESHAPE of a 1x6 tensor to 1x2x3 (the anomaly_detection pattern): the data passes
     * unchanged, the packed shape is (1, 2, 3). Then CONCATENATION with itself along axis
     * 2: (1 2 3 1 2 3 / 4 5 6 4 5 6). */
    memset(&m, 0, sizeof m);
    static uint8_t zero_le[4], one_le[4], two_le[4], three_le[4];
    fb_le(one_le, 1, 4);
    fb_le(two_le, 2, 4);
    fb_le(three_le, 3, 4);
    x = act(&m, 2, (const int32_t[]){1, 6}, 1.0f, 0);
    int shp = tb_tensor_add(&m, MPQ_TFL_INT32, 1, S2, 0, 0);
    int b0 = const_t(&m, MPQ_TFL_INT32, 1, S1, zero_le, 4, 0);
    int e1 = const_t(&m, MPQ_TFL_INT32, 1, S1, one_le, 4, 0);
    int d0 = tb_tensor_add(&m, MPQ_TFL_INT32, 0, S1, 0, 0);
    int k2 = const_t(&m, MPQ_TFL_INT32, 0, S1, two_le, 4, 0);
    int k3 = const_t(&m, MPQ_TFL_INT32, 0, S1, three_le, 4, 0);
    int packed = tb_tensor_add(&m, MPQ_TFL_INT32, 1, S3, 0, 0);
    int r = act(&m, 3, (const int32_t[]){1, 2, 3}, 1.0f, 0);
    y = act(&m, 3, (const int32_t[]){1, 2, 6}, 1.0f, 0);
    o = tb_op_add(&m, MPQ_TFL_SHAPE, 55);
    tb_opt(o, 0, TB_I8, MPQ_TFL_INT32);
    op_io(o, 1, (int[]){x}, shp);
    o = tb_op_add(&m, MPQ_TFL_STRIDED_SLICE, 32);
    tb_opt(o, 4, TB_I32, 1);
    op_io(o, 4, (int[]){shp, b0, e1, e1}, d0);
    o = tb_op_add(&m, MPQ_TFL_PACK, 59);
    tb_opt(o, 0, TB_I32, 3);
    op_io(o, 3, (int[]){d0, k2, k3}, packed);
    o = tb_op_add(&m, MPQ_TFL_RESHAPE, 0);
    op_io(o, 2, (int[]){x, packed}, r);
    o = tb_op_add(&m, MPQ_TFL_CONCATENATION, 10);
    tb_opt(o, 0, TB_I32, 2);
    op_io(o, 2, (int[]){r, r}, y);
    io(&m, x, y);
    int8_t six[6] = {1, 2, 3, 4, 5, 6};
    expect_i8("shape ops", &m, NULL, six, 6, y,
              (const int8_t[]){1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6}, 12);
    int32_t pk[3] = {0};
    char err[512];
    CHECK(!run1(&m, NULL, six, 6, packed, pk, sizeof pk, err, sizeof err), "pack: %s", err);
    CHECK(pk[0] == 1 && pk[1] == 2 && pk[2] == 3, "packed shape %d %d %d", pk[0], pk[1], pk[2]);
}

/* ---- refusals ---- */

static void test_refusals(void)
{
    tb_model m;
    memset(&m, 0, sizeof m);
    int x = act(&m, 2, (const int32_t[]){1, 4}, 1.0f, 0);
    int y = act(&m, 2, (const int32_t[]){1, 4}, 1.0f, 0);
    tb_op *o = tb_op_add(&m, 28 /* TANH */, 0);
    op_io(o, 1, (int[]){x}, y);
    io(&m, x, y);
    expect_refusal("tanh", &m, "op 0 (TANH): operator not supported");

    conv_model(&m, 0); /* the convolution with float activations */
    m.t[0].type = m.t[3].type = MPQ_TFL_FLOAT32;
    expect_refusal("float conv", &m, "op 0 (CONV_2D): input tensor 0 is FLOAT32, expected INT8: "
                   "float layers are not supported");
    conv_model(&m, 0);
    m.t[0].type = m.t[3].type = MPQ_TFL_INT16;
    expect_refusal("int16 conv", &m, "int16 activations are not supported");
    conv_model(&m, 0);
    m.t[3].shape[1] = 2; /* an output shape the convolution does not compute */
    expect_refusal("conv output shape", &m, "output tensor 3 has shape 1x2x1x2, the operator "
                   "computes 1x1x1x2");
    conv_model(&m, 0);
    m.t[2].size = 4; /* a bias buffer of the wrong size */
    expect_refusal("bias size", &m, "tensor 2 (INT32 2): its buffer holds 4 bytes");
    conv_model(&m, 0);
    m.op[0].in[0] = 3; /* reads its own output */
    expect_refusal("order", &m, "input tensor 3 is neither a graph input");
    conv_model(&m, 9); /* an activation kind that is not a fused clamp */
    expect_refusal("activation", &m, "fused activation ? (9) is not supported");

    memset(&m, 0, sizeof m); /* a dilated window millions of columns wide over 4 columns */
    static const int8_t w3[3] = {1, 1, 1};
    x = act(&m, 4, (const int32_t[]){1, 1, 4, 1}, 1.0f, 0);
    int wt = const_t(&m, MPQ_TFL_INT8, 4, (const int32_t[]){1, 1, 3, 1}, w3, 3, 1.0f);
    y = act(&m, 4, (const int32_t[]){1, 1, 4, 1}, 1.0f, 0);
    o = tb_op_add(&m, MPQ_TFL_CONV_2D, 1);
    tb_opt(o, 1, TB_I32, 1);
    tb_opt(o, 2, TB_I32, 1);
    tb_opt(o, 4, TB_I32, 1 << 25);
    op_io(o, 2, (int[]){x, wt}, y);
    io(&m, x, y);
    expect_refusal("huge dilation", &m, "dilation 1x33554432");

    memset(&m, 0, sizeof m); /* softmax whose output quantization is not 1/256, -128 */
    x = act(&m, 2, (const int32_t[]){1, 4}, 1.0f, 0);
    y = act(&m, 2, (const int32_t[]){1, 4}, 1.0f / 128, -128);
    o = tb_op_add(&m, MPQ_TFL_SOFTMAX, 9);
    tb_opt(o, 0, TB_F32, 1.0);
    op_io(o, 1, (int[]){x}, y);
    io(&m, x, y);
    expect_refusal("softmax scale", &m, "(the reference requires 1/256 and -128)");

    /* An input of the wrong size is refused with both sizes. */
    conv_model(&m, 0);
    size_t len;
    uint8_t *buf = build(&m, &len);
    mpq_tfl_model tm;
    mpq_net *net;
    char err[512] = "";
    if (!plan(buf, len, NULL, &tm, &net, err, sizeof err)) {
        int8_t in[3] = {0};
        CHECK(mpq_net_set_input(net, 0, in, 3, err, sizeof err) != 0, "short input accepted");
        CHECK(strstr(err, "is 2 bytes, got 3") != NULL, "input size message '%s'", err);
        CHECK(mpq_net_run(net, err, sizeof err) != 0, "run without input");
        CHECK(strstr(err, "was never set") != NULL, "unset input message '%s'", err);
        mpq_net_free(net);
        mpq_tfl_free(&tm);
    } else {
        CHECK(0, "plan: %s", err);
    }
    free(buf);
}

/* ---- accumulator analysis ---- */

static void test_acc_bits(void)
{
    /* FC of four terms 127 * 127 = 16129: partial sums 16129, 32258, 48387, 64516. A 16-bit
     * accumulator (max 32767) overflows at term 2; 64516 needs 17 bits. */
    tb_model m;
    memset(&m, 0, sizeof m);
    static const int8_t w127[4] = {127, 127, 127, 127};
    int x = act(&m, 2, (const int32_t[]){1, 4}, 1.0f, 0);
    int w = const_t(&m, MPQ_TFL_INT8, 2, (const int32_t[]){1, 4}, w127, 4, 1.0f);
    int y = act(&m, 2, (const int32_t[]){1, 1}, 1024.0f, 0);
    tb_op *o = tb_op_add(&m, MPQ_TFL_FULLY_CONNECTED, 8);
    op_io(o, 2, (int[]){x, w}, y);
    io(&m, x, y);
    size_t len;
    uint8_t *buf = build(&m, &len);
    mpq_net_opts opts;
    mpq_net_opts_default(&opts);
    opts.acc_bits = 16;
    mpq_tfl_model tm;
    mpq_net *net;
    char err[512] = "";
    int8_t in[4] = {127, 127, 127, 127}, out;
    if (!plan(buf, len, &opts, &tm, &net, err, sizeof err) &&
        !mpq_net_set_input(net, 0, in, 4, err, sizeof err) && !mpq_net_run(net, err, sizeof err)) {
        unsigned n;
        const mpq_net_layer_report *r = mpq_net_reports(net, &n);
        CHECK_EQ(n, 1, "one layer report");
        if (n == 1) {
            CHECK_EQ(r->n_any, 1, "overflowed outputs");
            CHECK_EQ(r->first_term, 2, "first overflowing term");
            CHECK_EQ(r->first[3], 0, "first overflowing channel");
            CHECK_EQ(r->min_bits, 17, "narrowest accumulator");
            CHECK_EQ(r->acc_hi, 64516, "final sum");
        }
        /* The 16-bit sum wraps to 64516 - 65536 = -1020; /1024 rounds to -1. */
        CHECK(!mpq_net_tensor_get(net, (unsigned)y, &out), "output");
        CHECK_EQ(out, -1, "the wrapped accumulator reaches the output");
        mpq_net_free(net);
        mpq_tfl_free(&tm);
    } else {
        CHECK(0, "acc-bits run: %s", err);
    }
    free(buf);
}

/* The widest prefix sum (bias first, then ky, kx, c over the window positions inside the
 * input) of every output of a conv, depthwise or FC (1x1 conv) layer, from the definition:
 * the magnitudes ORed (their bit length + 1 is the narrowest accumulator), and the range of
 * the final sums. */
static void ref_prefix(const mpq_conv_shape *s, const int32_t *x, int32_t in_off, const int32_t *w,
                       int32_t w_off, const int32_t *bias, uint64_t *mags, int64_t *flo,
                       int64_t *fhi)
{
    const int dw = s->kind == MPQ_LAYER_DEPTHWISE;
    const unsigned f = dw ? 1 : s->in_c, mult = dw ? s->out_c / s->in_c : 1;
    *mags = 0;
    *flo = INT64_MAX;
    *fhi = INT64_MIN;
    for (unsigned b = 0; b < s->batches; b++)
        for (unsigned oy = 0; oy < s->out_h; oy++)
            for (unsigned ox = 0; ox < s->out_w; ox++)
                for (unsigned o = 0; o < s->out_c; o++) {
                    int64_t acc = bias[o];
                    *mags |= acc < 0 ? ~(uint64_t)acc : (uint64_t)acc;
                    for (unsigned ky = 0; ky < s->kh; ky++)
                        for (unsigned kx = 0; kx < s->kw; kx++) {
                            long iy = (long)(oy * s->sy + ky * s->dy) - (long)s->py;
                            long ix = (long)(ox * s->sx + kx * s->dx) - (long)s->px;
                            if (iy < 0 || iy >= (long)s->in_h || ix < 0 || ix >= (long)s->in_w)
                                continue;
                            for (unsigned c = 0; c < f; c++) {
                                unsigned ci = dw ? o / mult : c;
                                int64_t xv = x[(((size_t)b * s->in_h + (size_t)iy) * s->in_w +
                                                (size_t)ix) * s->in_c + ci] + in_off;
                                int64_t wv = dw ? w[((size_t)ky * s->kw + kx) * s->out_c + o]
                                                : w[(((size_t)o * s->kh + ky) * s->kw + kx) * f + c];
                                acc += xv * (wv + w_off);
                                *mags |= acc < 0 ? ~(uint64_t)acc : (uint64_t)acc;
                            }
                        }
                    *flo = acc < *flo ? acc : *flo;
                    *fhi = acc > *fhi ? acc : *fhi;
                }
}

/* The accumulator analysis of the planned layers (MPQ_LAYER_PREFIX: the checked tile kernels,
 * and the exact kernels with MPQ_LAYER_EXACT) on int8 activations against the golden
 * kernels' own overflow tracking (mpq_conv_acc, mpq_fc_acc: MPQ_ORDER_SEQ): the same
 * accumulators, outputs overflowed, flags and first terms per output, first overflow, count
 * of final sums outside; and against ref_prefix: the narrowest accumulator and the range of
 * the final sums. Random conv, depthwise and FC layers at random widths, wrapping and
 * saturating, inputs of either sign or non-negative ones (in_offset >= 128). */
static void test_analysis(void)
{
    enum { MAXI = 2 * 8 * 8 * 12, MAXW = 24 * 3 * 3 * 12, MAXO = 2 * 8 * 8 * 24 };
    static int32_t x[MAXI], w[MAXW], bias[40];
    static int8_t x8[MAXI];
    static int64_t acc_ref[MAXO], acc[MAXO];
    static uint8_t flags_ref[MAXO], flags[MAXO];
    static int32_t first_ref[MAXO], first[MAXO];
    unsigned layers = 0, checked = 0, overflowing = 0;
    for (int trial = 0; trial < 600; trial++) {
        mpq_conv_shape s = {0};
        int kind = trial % 3;
        s.batches = (unsigned)test_range(1, 2);
        s.in_h = kind == 2 ? 1 : (unsigned)test_range(1, 8);
        s.in_w = kind == 2 ? 1 : (unsigned)test_range(1, 8);
        s.in_c = (unsigned)test_range(1, kind == 2 ? 12 : 9);
        s.kh = kind == 2 ? 1 : (unsigned)test_range(1, 3);
        s.kw = kind == 2 ? 1 : (unsigned)test_range(1, 3);
        s.sy = kind == 2 ? 1 : (unsigned)test_range(1, 2);
        s.sx = kind == 2 ? 1 : (unsigned)test_range(1, 2);
        s.dy = s.dx = 1;
        s.py = s.kh > 1 ? (unsigned)test_range(0, 1) : 0;
        s.px = s.kw > 1 ? (unsigned)test_range(0, 1) : 0;
        s.out_h = (s.in_h + 2 * s.py - s.kh) / s.sy + 1;
        s.out_w = (s.in_w + 2 * s.px - s.kw) / s.sx + 1;
        s.kind = kind == 1 ? MPQ_LAYER_DEPTHWISE : MPQ_LAYER_CONV2D;
        /* FC: up to 5 blocks of 8 channels (a single row takes four at a time) */
        s.out_c = kind == 1 ? s.in_c * (unsigned)test_range(1, 2)
                            : (unsigned)test_range(1, kind == 2 ? 40 : 20);
        s.groups = 1;
        char err[256];
        if (mpq_conv_check(&s, err, sizeof err))
            continue;
        /* Non-negative operands (zero point -128) in a third of the trials. */
        int32_t in_off = trial % 3 == 0 ? 128 : (int32_t)test_range(-127, 128);
        int32_t w_off = kind == 2 ? (int32_t)test_range(-5, 5) : 0;
        for (size_t i = 0; i < mpq_conv_in_count(&s); i++)
            x8[i] = (int8_t)(x[i] = (int32_t)test_range(-128, 127));
        for (size_t i = 0; i < mpq_conv_w_count(&s); i++)
            w[i] = (int32_t)test_range(-127, 127);
        int64_t bmax = test_range(0, 3) ? 40000 : INT32_MAX / 2;
        for (unsigned i = 0; i < s.out_c; i++)
            bias[i] = (int32_t)test_range(-bmax, bmax);
        unsigned bits = (unsigned)test_range(8, 24);
        mpq_acc_mode mode = trial % 2 ? MPQ_ACC_SAT : MPQ_ACC_WRAP;
        size_t nout = mpq_conv_out_count(&s);
        /* The golden kernels' tracking. */
        mpq_conv_shape fcs = mpq_layer_fc_shape(s.batches, s.in_c, s.out_c);
        mpq_fc_layer m = {.m = s.batches, .k = s.in_c, .n = s.out_c, .x = x, .in_offset = in_off,
                          .w = w, .w_offset = w_off, .bias = bias, .acc_bits = bits,
                          .acc_mode = mode, .order = MPQ_ORDER_SEQ};
        long want_first = -1, want_term = -1;
        size_t want_any, want_final;
        int st;
        if (kind == 2) {
            mpq_fc_ovf ov = {.flags = flags_ref, .first_k = first_ref};
            st = mpq_fc_acc(&m, acc_ref, &ov, err, sizeof err);
            want_any = ov.n_any;
            want_final = ov.n_final;
            if (ov.first_row >= 0) {
                want_first = ov.first_row * (long)s.out_c + ov.first_ch;
                want_term = ov.first_bias ? -1 : ov.first_k_pos;
            }
        } else {
            mpq_conv_layer l = {.shape = s, .x = x, .in_offset = in_off, .w = w, .bias = bias,
                                .acc_bits = bits, .acc_mode = mode, .order = MPQ_ORDER_SEQ};
            mpq_conv_ovf ov = {.flags = flags_ref, .first_r = first_ref};
            st = mpq_conv_acc(&l, acc_ref, &ov, err, sizeof err);
            want_any = ov.n_any;
            want_final = ov.n_final;
            if (ov.first_b >= 0) {
                want_first = (long)(((ov.first_b * (long)s.out_h + ov.first_oy) * (long)s.out_w +
                                     ov.first_ox) * (long)s.out_c + ov.first_ch);
                want_term = ov.first_bias ? -1 : ov.first_red;
            }
        }
        CHECK(st == 0, "trial %d: %s", trial, err);
        uint64_t mags;
        int64_t flo, fhi;
        /* an FC layer is a 1x1 convolution over its rows: [n][k] is OHWI */
        ref_prefix(kind == 2 ? &fcs : &s, x, in_off, w, w_off, bias, &mags, &flo, &fhi);
        unsigned want_bits = 1;
        for (uint64_t v = mags; v; v >>= 1)
            want_bits++;
        layers++;
        overflowing += want_any > 0;
        /* The analysis: checked kernels, then exact ones; reports with and without the
         * per-output arrays; the checked kernels at the best SIMD level and at SSE2. */
        const mpq_simd best = mpq_simd_limit(MPQ_SIMD_AVX2);
        for (int pass = 0; pass < 4; pass++) {
            mpq_simd_limit(pass == 1 ? MPQ_SIMD_SSE2 : best);
            mpq_layer_def d = {.shape = kind == 2 ? mpq_layer_fc_shape(s.batches, s.in_c, s.out_c) : s,
                               .mac = &m,
                               .flags = MPQ_LAYER_INT8 | MPQ_LAYER_TRACK | MPQ_LAYER_PREFIX |
                                        (pass >= 2 ? MPQ_LAYER_EXACT : 0)};
            mpq_layer *pl;
            st = mpq_layer_init(&pl, &d, err, sizeof err);
            CHECK(st == 0, "trial %d: plan: %s", trial, err);
            if (st)
                continue;
            checked += pass == 0 && !strcmp(mpq_layer_kernel(pl), "checked");
            /* The checked kernels adapt their block length run by run (the exact form probes
             * blocks every 16th run): pass 0 runs 4 times, 18 in every 8th trial. */
            for (int run = 0; run < (pass ? 1 : trial % 8 ? 4 : 18); run++) {
                mpq_layer_ovf o = {.flags = pass % 2 ? flags : NULL, .first = pass % 2 ? first : NULL};
                mpq_layer_out out = {.acc = acc, .ovf = &o};
                st = mpq_layer_run(pl, NULL, x8, &out, NULL, err, sizeof err);
                CHECK(st == 0, "trial %d: run: %s", trial, err);
                const char *k = mpq_layer_kernel(pl);
                CHECK(!memcmp(acc, acc_ref, nout * sizeof *acc), "trial %d pass %d (%s, kind %d, %u bits %s): "
                      "accumulators differ", trial, pass, k, kind, bits, mode ? "sat" : "wrap");
                CHECK_EQ(o.n_any, want_any, "trial %d pass %d (%s, kind %d, %u bits): outputs overflowed",
                         trial, pass, k, kind, bits);
                CHECK_EQ(o.n_final, want_final, "trial %d pass %d: final sums outside", trial, pass);
                CHECK_EQ(o.first_out, want_first, "trial %d pass %d (%s): first overflowing output",
                         trial, pass, k);
                if (want_first >= 0)
                    CHECK_EQ(o.first_term, want_term, "trial %d pass %d: first overflowing term", trial,
                             pass);
                CHECK_EQ(o.min_bits, want_bits, "trial %d pass %d (%s, kind %d): narrowest accumulator",
                         trial, pass, k, kind);
                CHECK(o.final_lo == flo && o.final_hi == fhi, "trial %d pass %d: final range "
                      "[%lld, %lld], want [%lld, %lld]", trial, pass, (long long)o.final_lo,
                      (long long)o.final_hi, (long long)flo, (long long)fhi);
                if (pass % 2) {
                    CHECK(!memcmp(flags, flags_ref, nout), "trial %d pass %d (%s): flags differ",
                          trial, pass, k);
                    CHECK(!memcmp(first, first_ref, nout * sizeof *first), "trial %d pass %d (%s): "
                          "first terms differ", trial, pass, k);
                }
            }
            mpq_layer_free(pl);
        }
        mpq_simd_limit(best);
    }
    CHECK(checked > layers / 2, "the checked kernels took %u of %u layers", checked, layers);
    printf("test_tflite: accumulator analysis = golden overflow tracking on %u random layers "
           "(%u with overflows; %u through the checked kernels, all also through the exact "
           "ones)\n", layers, overflowing, checked);
}

/* ---- the fast path against the golden kernels ---- */

/* A random CONV_2D (kind 0), DEPTHWISE_CONV_2D (1), FULLY_CONNECTED (2), AVERAGE_POOL_2D (3)
 * or MAX_POOL_2D (4) model; returns the output tensor. */
static int random_layer(tb_model *m, int kind, uint8_t *data, size_t *insize)
{
    memset(m, 0, sizeof *m);
    static uint8_t bias_le[4 * 64];
    int act_fn = (int)test_range(0, 3);
    float s_in = (float)test_range(1, 100) / 256, s_out = (float)test_range(1, 400) / 64;
    int64_t z_in = test_range(-128, 127), z_out = test_range(-128, 127);
    if (kind == 2) { /* FULLY_CONNECTED */
        unsigned b = (unsigned)test_range(1, 3), k = (unsigned)test_range(1, 70),
                 n = (unsigned)test_range(1, 20);
        int x = act(m, 2, (const int32_t[]){(int32_t)b, (int32_t)k}, s_in, z_in);
        for (size_t i = 0; i < (size_t)n * k; i++)
            data[i] = (uint8_t)test_range(-127, 127);
        int w = const_t(m, MPQ_TFL_INT8, 2, (const int32_t[]){(int32_t)n, (int32_t)k}, data,
                        (size_t)n * k, (float)test_range(1, 100) / 4096);
        if (test_range(0, 3) == 0)
            m->t[w].zp[0] = test_range(-20, 20);
        for (unsigned i = 0; i < n; i++)
            fb_le(bias_le + 4 * i, (uint32_t)test_range(-5000, 5000), 4);
        int bt = const_t(m, MPQ_TFL_INT32, 1, (const int32_t[]){(int32_t)n}, bias_le, 4 * n, 0);
        int y = act(m, 2, (const int32_t[]){(int32_t)b, (int32_t)n}, s_out, z_out);
        tb_op *o = tb_op_add(m, MPQ_TFL_FULLY_CONNECTED, 8);
        tb_opt(o, 0, TB_I8, act_fn);
        op_io(o, 3, (int[]){x, w, bt}, y);
        io(m, x, y);
        *insize = (size_t)b * k;
        return y;
    }
    unsigned c = (unsigned)test_range(1, 12), h = (unsigned)test_range(1, 9),
             wd = (unsigned)test_range(1, 9), kh = (unsigned)test_range(1, 4),
             kw = (unsigned)test_range(1, 4), sy = (unsigned)test_range(1, 3),
             sx = (unsigned)test_range(1, 3), dy = (unsigned)test_range(1, 2),
             dx = (unsigned)test_range(1, 2), pad = (unsigned)test_range(0, 1);
    if (kind >= 3) { /* AVERAGE_POOL_2D, MAX_POOL_2D: no dilation, same quantization */
        dy = dx = 1;
        if (pad == MPQ_TFL_PAD_VALID && (kh > h || kw > wd))
            pad = MPQ_TFL_PAD_SAME;
        long ph = pad == MPQ_TFL_PAD_SAME ? ((long)h + sy - 1) / sy : ((long)h - kh) / sy + 1;
        long pw = pad == MPQ_TFL_PAD_SAME ? ((long)wd + sx - 1) / sx : ((long)wd - kw) / sx + 1;
        int x = act(m, 4, (const int32_t[]){1, (int32_t)h, (int32_t)wd, (int32_t)c}, s_in, z_in);
        int y = act(m, 4, (const int32_t[]){1, (int32_t)ph, (int32_t)pw, (int32_t)c}, s_in, z_in);
        tb_op *o = tb_op_add(m, kind == 3 ? MPQ_TFL_AVERAGE_POOL_2D : MPQ_TFL_MAX_POOL_2D, 5);
        tb_opt(o, 0, TB_I8, pad);
        tb_opt(o, 1, TB_I32, sx);
        tb_opt(o, 2, TB_I32, sy);
        tb_opt(o, 3, TB_I32, kw);
        tb_opt(o, 4, TB_I32, kh);
        tb_opt(o, 5, TB_I8, act_fn);
        op_io(o, 1, (int[]){x}, y);
        io(m, x, y);
        *insize = (size_t)h * wd * c;
        return y;
    }
    unsigned groups = 1, oc, mult = 1;
    if (kind == 1) {
        mult = (unsigned)test_range(1, 3);
        oc = c * mult;
    } else {
        oc = (unsigned)test_range(1, 20);
        if (c % 2 == 0 && test_range(0, 3) == 0)
            groups = 2, oc = 2 * (unsigned)test_range(1, 8);
    }
    /* Output size as TFLite computes it; retry small windows when VALID leaves nothing. */
    long eh = (long)(kh - 1) * dy + 1, ew = (long)(kw - 1) * dx + 1;
    if (pad == MPQ_TFL_PAD_VALID && (eh > (long)h || ew > (long)wd))
        pad = MPQ_TFL_PAD_SAME;
    long oh = pad == MPQ_TFL_PAD_SAME ? ((long)h + sy - 1) / sy : ((long)h - eh) / sy + 1;
    long ow = pad == MPQ_TFL_PAD_SAME ? ((long)wd + sx - 1) / sx : ((long)wd - ew) / sx + 1;
    int x = act(m, 4, (const int32_t[]){1, (int32_t)h, (int32_t)wd, (int32_t)c}, s_in, z_in);
    size_t nw = kind == 1 ? (size_t)kh * kw * oc : (size_t)oc * kh * kw * (c / groups);
    for (size_t i = 0; i < nw; i++)
        data[i] = (uint8_t)test_range(-127, 127);
    int32_t wshape[4] = {kind == 1 ? 1 : (int32_t)oc, (int32_t)kh, (int32_t)kw,
                         kind == 1 ? (int32_t)oc : (int32_t)(c / groups)};
    int w = const_t(m, MPQ_TFL_INT8, 4, wshape, data, nw, 0);
    int per_channel = test_range(0, 1) != 0;
    m->t[w].nq = per_channel ? oc : 1;
    m->t[w].qdim = per_channel && kind == 1 ? 3 : 0;
    for (unsigned i = 0; i < m->t[w].nq; i++)
        m->t[w].scale[i] = (float)test_range(1, 200) / 8192;
    for (unsigned i = 0; i < oc; i++)
        fb_le(bias_le + 4 * i, (uint32_t)test_range(-20000, 20000), 4);
    int bt = const_t(m, MPQ_TFL_INT32, 1, (const int32_t[]){(int32_t)oc}, bias_le, 4 * oc, 0);
    int y = act(m, 4, (const int32_t[]){1, (int32_t)oh, (int32_t)ow, (int32_t)oc}, s_out, z_out);
    tb_op *o = tb_op_add(m, kind == 1 ? MPQ_TFL_DEPTHWISE_CONV_2D : MPQ_TFL_CONV_2D, kind == 1 ? 2 : 1);
    tb_opt(o, 0, TB_I8, pad);
    tb_opt(o, 1, TB_I32, sx);
    tb_opt(o, 2, TB_I32, sy);
    if (kind == 1) {
        tb_opt(o, 3, TB_I32, mult);
        tb_opt(o, 4, TB_I8, act_fn);
        tb_opt(o, 5, TB_I32, dx);
        tb_opt(o, 6, TB_I32, dy);
    } else {
        tb_opt(o, 3, TB_I8, act_fn);
        tb_opt(o, 4, TB_I32, dx);
        tb_opt(o, 5, TB_I32, dy);
    }
    op_io(o, 3, (int[]){x, w, bt}, y);
    io(m, x, y);
    *insize = (size_t)h * wd * c;
    return y;
}

static void test_fast_vs_golden(void)
{
    static uint8_t wdata[20 * 4 * 4 * 12 + 20 * 70 + 64];
    static int8_t in[9 * 9 * 12 + 3 * 70], out[3][4096];
    unsigned layers = 0, outputs = 0;
    for (int trial = 0; trial < 750; trial++) {
        tb_model m;
        size_t insize;
        int kind = trial % 5;
        int y = random_layer(&m, kind, wdata, &insize);
        for (size_t i = 0; i < insize; i++)
            in[i] = (int8_t)test_range(-128, 127);
        mpq_net_opts o;
        mpq_net_opts_default(&o);
        if (kind == 2 && trial % 2)
            o.fc_rounding = MPQ_RQ_SINGLE;
        size_t n = 0;
        int ok = 1;
        const mpq_simd best = mpq_simd_limit(MPQ_SIMD_AVX2);
        for (int pass = 0; pass < 3 && ok; pass++) {
            /* the plan's kernels at the best SIMD level, the exact ones, the plan's at SSE2 */
            const int golden = pass == 1;
            o.golden_kernels = golden;
            mpq_simd_limit(pass == 2 ? MPQ_SIMD_SSE2 : best);
            size_t len;
            uint8_t *buf = build(&m, &len);
            mpq_tfl_model tm;
            mpq_net *net;
            char err[512] = "";
            int st = plan(buf, len, &o, &tm, &net, err, sizeof err);
            free(buf);
            CHECK(st == 0, "trial %d (kind %d): %s", trial, kind, err);
            if (st) {
                ok = 0;
                break;
            }
            n = mpq_net_tensor_bytes(net, (unsigned)y);
            st = n > sizeof out[0] || mpq_net_set_input(net, 0, in, insize, err, sizeof err) ||
                 mpq_net_run(net, err, sizeof err) ||
                 mpq_net_tensor_get(net, (unsigned)y, out[pass]);
            CHECK(st == 0, "trial %d: run: %s", trial, err);
            ok = st == 0;
            mpq_net_free(net);
            mpq_tfl_free(&tm);
        }
        mpq_simd_limit(best);
        if (!ok)
            continue;
        layers++;
        outputs += (unsigned)n;
        for (size_t i = 0; i < n; i++)
            if (out[0][i] != out[1][i] || (best > MPQ_SIMD_SSE2 && out[2][i] != out[1][i])) {
                CHECK(0, "trial %d (kind %d): output %zu: planned %d (SSE2 %d), exact %d", trial,
                      kind, i, out[0][i], out[2][i], out[1][i]);
                break;
            }
    }
    printf("test_tflite: fast path = golden kernels on %u random layers, %u outputs\n", layers,
           outputs);
}

/* ---- the fuzz seed corpus ---- */

static int write_seeds(const char *dir)
{
    seed_dir = dir;
    mkdir(dir, 0777);
    test_seed("test_tflite seeds", 1);
    test_graphs();
    static uint8_t wdata[20 * 4 * 4 * 12 + 20 * 70 + 64];
    static const char *const names[3] = {"random-conv", "random-depthwise", "random-fc"};
    for (int kind = 0; kind < 3; kind++) {
        tb_model m;
        size_t insize;
        random_layer(&m, kind, wdata, &insize);
        write_model(&m, names[kind]);
    }
    return check_done("test_tflite seeds");
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--write-seeds"))
        return write_seeds(argv[2]);
    test_seed("test_tflite", 20261206);
    test_reader();
    test_truncations();
    test_hostile();
    test_mutations();
    test_arith();
    test_graphs();
    test_refusals();
    test_acc_bits();
    test_analysis();
    test_fast_vs_golden();
    return check_done("test_tflite");
}
