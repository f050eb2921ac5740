/* SPDX-License-Identifier: Apache-2.0 */
/* DUT descriptions (golden/dut/): the expressions, the reader and its refusals (file, line and
 * port named), the check against a Verilated model's header, and the beats a layer becomes
 * under each order, against references written here element by element. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "arith/mpq.h"
#include "arith/mpq_bits.h"
#include "dut/mpq_beats.h"
#include "dut/mpq_desc.h"
#include "dut/mpq_expr.h"
#include "dut/mpq_job.h"

static int lookup_ab(void *ctx, const char *name, size_t len, int64_t *v)
{
    (void)ctx;
    if (len == 1 && name[0] == 'a')
        return *v = 7, 0;
    if (len == 5 && !memcmp(name, "Lanes", 5))
        return *v = 8, 0;
    return -1;
}

static void test_expr(void)
{
    static const struct {
        const char *text;
        int64_t want;
    } good[] = {{"1", 1}, {"256 + 96*Lanes", 1024}, {"2*(a+1)-3", 13}, {"-a", -7}, {"log2(1)", 0},
                {"log2(5)", 3}, {"log2(16)", 4}, {"min(a, 3)", 3}, {"max(a,3)*2", 14}, {"0x10 % 3", 1},
                {"7/2", 3}, {"-7/2", -3}, {" a ", 7}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t v = -1;
        char err[200];
        CHECK(mpq_expr_eval(good[i].text, lookup_ab, NULL, &v, err, sizeof err) == 0, "%s: %s", good[i].text, err);
        CHECK_EQ(v, good[i].want, "%s", good[i].text);
    }
    static const struct {
        const char *text, *why;
    } bad[] = {{"b", "unknown name `b`"}, {"1/0", "division by zero"}, {"(1", "`)` expected"},
               {"2*", "ends early"}, {"log2(0)", "log2 of a number below 1"}, {"min(1)", "takes 2 arguments"},
               {"9223372036854775807+1", "does not fit 64 bits"}, {"1 2", "unexpected text"}, {"", "ends early"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v;
        char err[200] = "";
        CHECK(mpq_expr_eval(bad[i].text, lookup_ab, NULL, &v, err, sizeof err) == MPQ_EPARAM, "%s refused", bad[i].text);
        CHECK(strstr(err, bad[i].why) != NULL, "%s: message `%s` names `%s`", bad[i].text, err, bad[i].why);
    }
}

/* A small DUT in the shape of examples/osa/osa.dut. */
static const char *const good_desc =
    "dut acc_top\n"
    "param Lanes 4\n"
    "let W 8*Lanes   # a width\n"
    "clock clk\nreset rst_n low 3\n"
    "stream cfg in axis=s_cfg width=32 last\n"
    "stream act in valid=a_valid ready=a_ready data=a_data width=W\n"
    "stream wgt in axis=s_wgt width=W\n"
    "stream out out axis=m_out width=W last\n"
    "port mode_i in 2 value=1\nport busy_o out 1\n"
    "limit window 64\n"
    "beats cfg fields kh*kw,out_c,in_offset\n"
    "beats cfg bias,mult,shift\n"
    "beats act x order=im2col per-beat=3\n"
    "beats wgt w order=ohwi-dense\n"
    "beats out y last=row\n";

static mpq_desc *parse(const char *text, const char *const *params, unsigned np, char *err, size_t errlen)
{
    mpq_desc *d = NULL;
    err[0] = '\0';
    if (mpq_desc_parse(text, strlen(text), "t.dut", params, np, &d, err, errlen) != 0)
        return NULL;
    return d;
}

static void test_desc(void)
{
    char err[600];
    const char *over[] = {"Lanes=3"};
    mpq_desc *d = parse(good_desc, over, 1, err, sizeof err);
    CHECK(d != NULL, "the good description: %s", err);
    if (!d)
        return;
    CHECK(!strcmp(d->top, "acc_top") && d->reset_low && d->reset_cycles == 3, "dut, reset");
    CHECK_EQ(d->nstreams, 4, "streams");
    int s_cfg = mpq_desc_stream_find(d, "cfg"), s_act = mpq_desc_stream_find(d, "act");
    CHECK(s_cfg >= 0 && d->streams[s_cfg].last >= 0 && !strcmp(d->ports[d->streams[s_cfg].valid].name, "s_cfg_tvalid"),
          "the AXI4-Stream names");
    CHECK(s_act >= 0 && d->streams[s_act].width == 24 && d->streams[s_act].last < 0, "the override sets W = 24");
    int tie = mpq_desc_port_find(d, "mode_i");
    CHECK(tie >= 0 && d->ports[tie].role == MPQ_DR_TIE && d->ports[tie].value == 1, "a tied input");
    CHECK_EQ(d->items[2].bits, 8, "x's default element width");
    CHECK_EQ(d->items[2].per_beat, 3, "per-beat given");
    CHECK_EQ(d->items[3].per_beat, 3, "per-beat default: 24 / 8");
    mpq_desc_free(d);
}

/* Each bad description is refused with its line, and the port or tensor at fault, named. */
static void test_desc_refusals(void)
{
    static const struct {
        const char *from, *to, *why;
    } bad[] = {
        {"stream act in valid=a_valid ready", "stream act in ready", "t.dut:7: stream act has no valid port"},
        {"width=32 last\n", "width=32 last\nport s_cfg_tdata out 4\n", "t.dut:7: port s_cfg_tdata: described twice"},
        {"beats out y last=row", "beats out x", "tensor x goes into the DUT, but stream out is an output stream"},
        {"beats wgt w order=ohwi-dense\n", "", "stream wgt: no `beats wgt ...` line says what it carries"},
        {"beats act x order=im2col per-beat=3", "beats act x order=im2col per-beat=3 bits=4",
         "4-bit elements do not hold x's 8-bit values"},
        {"beats act x order=im2col per-beat=3", "beats act x order=im2col per-beat=3 bits=11",
         "3 elements of 11 bits do not fit the 32-bit data port a_data"},
        {"beats wgt w order=ohwi-dense", "beats wgt w order=nhwc", "order=nhwc does not apply to w"},
        {"limit window 64", "limit windows 64", "`windows` is not a layer field"},
        {"port mode_i in 2 value=1", "port mode_i in 2", "port mode_i: an input outside the streams needs value=V"},
        {"let W 8*Lanes", "let W 8*Lans", "unknown name `Lans`"},
        {"clock clk", "clock clk\nclock clk2", "a second clock"},
        {"dut acc_top", "dut acc_top\nfrobnicate", "`frobnicate`: unknown statement"},
        {"beats cfg bias,mult,shift", "beats cfg bias,x", "only bias, mult and shift interleave"},
        {"stream wgt in axis=s_wgt width=W", "stream wgt in axis=s_wgt", "stream wgt: width=W"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[2048], err[600];
        const char *at = strstr(good_desc, bad[i].from);
        CHECK(at != NULL, "case %zu: `%s` in the good description", i, bad[i].from);
        if (!at)
            continue;
        snprintf(text, sizeof text, "%.*s%s%s", (int)(at - good_desc), good_desc, bad[i].to, at + strlen(bad[i].from));
        mpq_desc *d = parse(text, NULL, 0, err, sizeof err);
        CHECK(d == NULL, "case %zu refused", i);
        CHECK(strstr(err, bad[i].why) != NULL && !strncmp(err, "t.dut:", 6), "case %zu: `%s` says `%s`", i, err,
              bad[i].why);
        mpq_desc_free(d);
    }
    char err[600];
    const char *over[] = {"Lane=3"};
    CHECK(parse(good_desc, over, 1, err, sizeof err) == NULL && strstr(err, "no such parameter"), "%s", err);
}

static void test_model(void)
{
    char err[600];
    mpq_desc *d = parse(good_desc, NULL, 0, err, sizeof err);
    CHECK(d != NULL, "%s", err);
    if (!d)
        return;
    /* The header of a model with every described port; then one port off at a time. */
    const char *hdr = "    VL_IN8(&clk,0,0);\n    VL_IN8(&rst_n,0,0);\n    VL_IN8(&mode_i,1,0);\n"
                      "    VL_IN8(&s_cfg_tvalid,0,0);\n    VL_OUT8(&s_cfg_tready,0,0);\n    VL_IN(&s_cfg_tdata,31,0);\n"
                      "    VL_IN8(&s_cfg_tlast,0,0);\n    VL_IN8(&a_valid,0,0);\n    VL_OUT8(&a_ready,0,0);\n"
                      "    VL_IN(&a_data,31,0);\n    VL_IN8(&s_wgt_tvalid,0,0);\n    VL_OUT8(&s_wgt_tready,0,0);\n"
                      "    VL_IN(&s_wgt_tdata,31,0);\n    VL_OUT8(&m_out_tvalid,0,0);\n    VL_IN8(&m_out_tready,0,0);\n"
                      "    VL_OUT(&m_out_tdata,31,0);\n    VL_OUT8(&m_out_tlast,0,0);\n    VL_OUT8(&busy_o,0,0);\n";
    static const struct {
        const char *from, *to, *why;
    } cases[] = {
        {"", "", NULL},
        {"VL_IN(&a_data,31,0)", "VL_IN16(&a_data,15,0)", "t.dut:7: port a_data: 32 bits here, 16 bits in the Verilated model"},
        {"    VL_OUT8(&busy_o,0,0);\n", "", "t.dut:11: port busy_o: the Verilated model of acc_top"},
        {"VL_OUT8(&a_ready,0,0)", "VL_IN8(&a_ready,0,0)", "port a_ready: an output here, an input of the Verilated model"},
        {"    VL_OUT8(&busy_o,0,0);\n", "    VL_OUT8(&busy_o,0,0);\n    VL_IN8(&en_i,0,0);\n",
         "port en_i: an input of the Verilated model"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[2048];
        const char *at = strstr(hdr, cases[i].from);
        snprintf(text, sizeof text, "%.*s%s%s", (int)(at - hdr), hdr, cases[i].to, at + strlen(cases[i].from));
        mpq_model_port *mp = NULL;
        size_t n = 0;
        int rc = mpq_model_ports_parse(text, "Vdut.h", &mp, &n, err, sizeof err);
        CHECK(rc == 0, "header %zu: %s", i, err);
        rc = mpq_desc_check_model(d, MPQ_BUILD_PLAIN, mp, n, "Vdut.h", err, sizeof err);
        if (!cases[i].why)
            CHECK(rc == 0, "every port matches: %s", err);
        else
            CHECK(rc == MPQ_EFORMAT && strstr(err, cases[i].why), "header %zu: `%s` says `%s`", i, err, cases[i].why);
        free(mp);
    }
    mpq_model_port *mp = NULL;
    size_t n = 0;
    CHECK(mpq_model_ports_parse("class Vdut {};\n", "Vdut.h", &mp, &n, err, sizeof err) == MPQ_EFORMAT &&
              strstr(err, "no port declarations"), "%s", err);
    mpq_desc_free(d);
}

/* A depthwise layer (2 channels, multiplier 2: 4 outputs) over a 3x2 input, 2x2 kernel,
 * padding 1 above: the beats against the orders written out by hand. */
static void fill_job(mpq_job *j)
{
    memset(j, 0, sizeof *j);
    mpq_case *c = &j->c;
    c->layer = MPQ_LAYER_DEPTHWISE;
    mpq_conv_shape s = {.kind = MPQ_LAYER_DEPTHWISE, .batches = 1, .in_h = 3, .in_w = 2, .in_c = 2, .out_c = 4,
                        .kh = 2, .kw = 2, .sy = 1, .sx = 1, .py = 1, .px = 0, .dy = 1, .dx = 1, .groups = 1,
                        .out_h = 3, .out_w = 1};
    c->shape = s;
    c->m = 3, c->k = 4, c->n = 4;
    c->x = malloc(12 * sizeof *c->x);
    c->w = malloc(16 * sizeof *c->w);
    c->bias = calloc(4, sizeof *c->bias);
    c->mult = malloc(4 * sizeof *c->mult);
    c->shift = calloc(4, sizeof *c->shift);
    c->nmult = c->nshift = 4;
    for (int i = 0; i < 12; i++)
        c->x[i] = 10 + i;
    for (int i = 0; i < 16; i++)
        c->w[i] = i - 8;
    for (int i = 0; i < 4; i++)
        c->mult[i] = 1 << 30;
    c->in_offset = 5;
    c->out_offset = 0;
    c->act_min = -128, c->act_max = 127;
    j->shape = s;
}

static void test_beats(void)
{
    char err[600];
    mpq_desc *d = parse(good_desc, NULL, 0, err, sizeof err);
    CHECK(d != NULL, "%s", err);
    if (!d)
        return;
    mpq_job j;
    fill_job(&j);
    CHECK(mpq_job_adopt(d, &(mpq_case){0}, "empty", &(mpq_job){0}, err, sizeof err) != 0, "an empty case is refused");
    mpq_case c = j.c;
    mpq_job job;
    CHECK(mpq_job_adopt(d, &c, "hand", &job, err, sizeof err) == 0, "%s", err);
    mpq_beats *b = NULL;
    CHECK(mpq_beats_open(d, NULL, &job, 1, &b, err, sizeof err) == 0, "%s", err);
    if (!b) {
        mpq_desc_free(d);
        return;
    }
    int s_cfg = mpq_desc_stream_find(d, "cfg"), s_act = mpq_desc_stream_find(d, "act");
    int s_wgt = mpq_desc_stream_find(d, "wgt"), s_out = mpq_desc_stream_find(d, "out");
    /* cfg: 3 field words, then bias, mult, shift of each of 4 channels, one per beat. */
    CHECK_EQ(mpq_beats_count(b, (unsigned)s_cfg), 3 + 12, "cfg beats");
    uint32_t w[4], care[4];
    int last;
    unsigned want_cfg[] = {4, 4, 5, 0, 1u << 30, 0};
    for (unsigned i = 0; i < 6; i++) {
        mpq_beats_get(b, (unsigned)s_cfg, i, w, NULL, &last);
        CHECK_EQ(w[0], want_cfg[i], "cfg beat %u", i);
        CHECK_EQ(last, i == 2, "cfg beat %u last", i);
    }
    /* act: im2col rows of 2x2 taps x 2 channels = 8 elements, 3 per 32-bit beat: 3 beats a
     * row. Output pixel 0 (oy 0) reads input rows -1 (padding: -in_offset) and 0. */
    CHECK_EQ(mpq_beats_count(b, (unsigned)s_act), 3 * 3, "act beats");
    int32_t want_row0[8] = {-5, -5, -5, -5, 10, 11, 12, 13};
    for (unsigned i = 0; i < 3; i++) {
        mpq_beats_get(b, (unsigned)s_act, i, w, NULL, &last);
        for (unsigned k = 0; k < 3 && i * 3 + k < 8; k++)
            CHECK_EQ(mpq_sext(mpq_bits_get(w, k * 8, 8), 8), want_row0[i * 3 + k], "act beat %u element %u", i, k);
        if (i == 2)
            CHECK_EQ(mpq_bits_get(w, 16, 16), 0, "the padding of the row's last beat is zero");
    }
    /* wgt, dense: channel o reads input channel o / 2; tap t's weight w[t*4 + o]. */
    CHECK_EQ(mpq_beats_count(b, (unsigned)s_wgt), 4 * 2, "wgt beats: 4 rows of 8 in 4-element beats");
    mpq_beats_get(b, (unsigned)s_wgt, 6, w, NULL, &last); /* channel 3, taps 0..1 */
    int32_t want_w3[4] = {0, 3 - 8, 0, 7 - 8};
    for (unsigned k = 0; k < 4; k++)
        CHECK_EQ(mpq_sext(mpq_bits_get(w, k * 8, 8), 8), want_w3[k], "wgt channel 3 element %u", k);
    /* out: a pixel's 4 channels in one beat, last on each; the element names. */
    CHECK_EQ(mpq_beats_count(b, (unsigned)s_out), 3, "out beats");
    mpq_beats_get(b, (unsigned)s_out, 1, w, care, &last);
    CHECK(last == 1 && care[0] == 0xffffffffu, "out beat: last, every bit compared");
    for (unsigned k = 0; k < 4; k++)
        CHECK_EQ(mpq_sext(mpq_bits_get(w, k * 8, 8), 8), job.c.expect[4 + k], "out element %u", k);
    char name[160];
    unsigned lsb, bits;
    CHECK(mpq_beats_element(b, (unsigned)s_out, 1, 20, name, sizeof name, &lsb, &bits) == 0 &&
              !strcmp(name, "y[b=0][oy=1][ox=0][c=2]") && lsb == 16 && bits == 8, "element name `%s`", name);
    mpq_beats_free(b);
    mpq_job_free(&job);
    mpq_desc_free(d);
}

/* Random layers fit the description's limits and kinds, and the same seed gives the same layer. */
static void test_random(void)
{
    char err[600];
    const char *text = "dut t\nclock c\nreset r low\nstream i in axis=s width=64\nstream o out axis=m width=64\n"
                       "kinds conv2d fc\nlimit window 100\nlimit out_c 9\n"
                       "beats i x\nbeats i w\nbeats i mult,shift\nbeats o y\n";
    mpq_desc *d = parse(text, NULL, 0, err, sizeof err);
    CHECK(d != NULL, "%s", err);
    if (!d)
        return;
    mpq_stim_args a;
    memset(&a, 0, sizeof a);
    a.layer = -1;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        mpq_job j1, j2;
        CHECK(mpq_job_random(d, &a, seed, &j1, err, sizeof err) == 0, "seed %llu: %s", (unsigned long long)seed, err);
        CHECK(mpq_job_random(d, &a, seed, &j2, err, sizeof err) == 0, "%s", err);
        int64_t win = 0, oc = 0;
        mpq_job_field(&j1, "window", 6, &win);
        mpq_job_field(&j1, "out_c", 5, &oc);
        CHECK(win <= 100 && oc <= 9 && j1.c.layer != MPQ_LAYER_DEPTHWISE, "seed %llu within the limits",
              (unsigned long long)seed);
        CHECK(!strcmp(j1.source, j2.source) && !memcmp(j1.c.expect, j2.c.expect, (size_t)j1.c.m * j1.c.n * 4),
              "seed %llu twice: the same layer", (unsigned long long)seed);
        mpq_job_free(&j1);
        mpq_job_free(&j2);
    }
    mpq_desc_free(d);
}

int main(void)
{
    test_expr();
    test_desc();
    test_desc_refusals();
    test_model();
    test_beats();
    test_random();
    return check_done("test_dut");
}
