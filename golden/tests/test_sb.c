/* SPDX-License-Identifier: Apache-2.0 */
/* The scoreboard API (export/mpq_sb.h): hand-checked layers and helpers, the messages of
 * every refusal, a mismatch's description, and random convolutions through the handle
 * (tensors put in pieces) against direct calls of mpq_conv and mpq_pool. */
#include <string.h>

#include "check.h"
#include "export/mpq_sb.h"

#define CHECK_OK(call) CHECK_EQ((call), MPQ_OK, "%s: %s", #call, mpq_sb_error(sb))
#define CHECK_REFUSED(call, text)                                                            \
    do {                                                                                     \
        CHECK_EQ((call), MPQ_EPARAM, "%s accepted", #call);                                  \
        CHECK(strstr(mpq_sb_error(sb), text) != NULL, "%s: message '%s' lacks '%s'", #call,  \
              mpq_sb_error(sb), text);                                                       \
    } while (0)

/* y = W x + b by hand, requantized by 0.5 (mult 2^30, shift 0) with gemmlowp's rounding. */
static void fc_by_hand(mpq_sb *sb)
{
    const int32_t x[3] = {1, 2, 3}, w[6] = {1, 1, 1, 1, -1, 2}, bias[2] = {10, 0};
    const int32_t mult = 1 << 30, shift = 0;
    CHECK_OK(mpq_sb_fc(sb, 1, 3, 2));
    CHECK_EQ(mpq_sb_count(sb, MPQ_SB_X), 3, "x count");
    CHECK_EQ(mpq_sb_count(sb, MPQ_SB_W), 6, "w count");
    CHECK_EQ(mpq_sb_count(sb, MPQ_SB_Y), 2, "y count");
    CHECK_EQ(mpq_sb_count(sb, MPQ_SB_MULT), 1, "mult count");
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_X, 0, 3, x));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_W, 0, 6, w));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_BIAS, 0, 2, bias));
    CHECK_REFUSED(mpq_sb_run(sb), "mult was not put");
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_MULT, 0, 1, &mult));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_SHIFT, 0, 1, &shift));
    CHECK_OK(mpq_sb_run(sb));
    int32_t y[2] = {0, 0};
    int64_t acc[2] = {0, 0};
    CHECK_OK(mpq_sb_get(sb, MPQ_SB_Y, 0, 2, y));
    CHECK_OK(mpq_sb_get_acc(sb, 0, 2, acc));
    /* 1+2+3+10 = 16 -> 8; 1-2+6 = 5 -> 2.5, rounded half up by SRDHM -> 3 */
    CHECK_EQ(acc[0], 16, "acc 0");
    CHECK_EQ(acc[1], 5, "acc 1");
    CHECK_EQ(y[0], 8, "y 0");
    CHECK_EQ(y[1], 3, "y 1");
    CHECK_EQ(mpq_sb_ovf_count(sb, MPQ_OVF_ANY), 0, "no overflow");
    CHECK(!strcmp(mpq_sb_ovf_describe(sb), "no output overflows the 32-bit wrapping accumulator"),
          "%s", mpq_sb_ovf_describe(sb));

    const int32_t got[2] = {8, 4};
    CHECK_EQ(mpq_sb_compare(sb, 0, 1, got), 0, "first element matches");
    CHECK_EQ(mpq_sb_compare(sb, 1, 1, got + 1), 1, "second differs");
    CHECK_EQ(mpq_sb_mismatches(sb), 1, "mismatches add up");
    const char *want = "1 of 2 compared outputs differ (of 2); first: fc y[row=0,c=1] (element 1): "
                       "expected 3, got 4; accumulator 5 (32-bit wrap), requantization double "
                       "rounding with mult 1073741824 shift 0 (parameter 0), out_offset 0, clamp "
                       "[-2147483648, 2147483647]; accumulator overflow: none";
    CHECK(!strcmp(mpq_sb_report(sb), want), "report:\n  %s\nwant:\n  %s", mpq_sb_report(sb), want);

    /* Offsets and the output clamp: x+1 = {2,3,4}: 9+10 = 19 -> 9.5 -> 10, then +5, clamp 12 */
    CHECK_OK(mpq_sb_offsets(sb, 1, 0));
    CHECK_OK(mpq_sb_output(sb, 5, -128, 12));
    CHECK_REFUSED(mpq_sb_get(sb, MPQ_SB_Y, 0, 2, y), "no results");
    CHECK_OK(mpq_sb_run(sb));
    CHECK_OK(mpq_sb_get(sb, MPQ_SB_Y, 0, 2, y));
    /* channel 1: 2-3+8 = 7 -> 3.5 -> 4, +5 = 9 */
    CHECK_EQ(y[0], 12, "clamped");
    CHECK_EQ(y[1], 9, "offset");
    CHECK(!strcmp(mpq_sb_report(sb), "all 0 compared outputs match (of 2)"), "%s",
          mpq_sb_report(sb));
}

/* An 8-bit accumulator: 100 + 100 overflows at k = 1 and wraps to -56. */
static void overflow_by_hand(mpq_sb *sb)
{
    const int32_t x[2] = {100, 100}, w[2] = {1, 1}, mult = 1 << 30, shift = 1;
    CHECK_OK(mpq_sb_fc(sb, 1, 2, 1));
    CHECK_OK(mpq_sb_acc(sb, 8, MPQ_ACC_WRAP, MPQ_ORDER_SEQ, 1));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_X, 0, 2, x));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_W, 0, 2, w));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_MULT, 0, 1, &mult));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_SHIFT, 0, 1, &shift));
    CHECK_OK(mpq_sb_run(sb));
    int64_t acc = 0;
    int32_t flags = 0, first = 0, y = 0;
    CHECK_OK(mpq_sb_get_acc(sb, 0, 1, &acc));
    CHECK_OK(mpq_sb_get(sb, MPQ_SB_OVF, 0, 1, &flags));
    CHECK_OK(mpq_sb_get(sb, MPQ_SB_FIRST, 0, 1, &first));
    CHECK_OK(mpq_sb_get(sb, MPQ_SB_Y, 0, 1, &y));
    CHECK_EQ(acc, -56, "wrapped");
    CHECK_EQ(flags, MPQ_OVF_FINAL | MPQ_OVF_ANY, "flags");
    CHECK_EQ(first, 1, "first k");
    CHECK_EQ(y, -56, "x2 by shift 1, x0.5 by mult");
    CHECK_EQ(mpq_sb_ovf_count(sb, MPQ_OVF_FINAL), 1, "final");
    const char *want = "1 of 1 outputs overflow the 8-bit wrapping accumulator (1 in the final "
                       "sum); first: y[row=0,c=0] at k=1";
    CHECK(!strcmp(mpq_sb_ovf_describe(sb), want), "%s", mpq_sb_ovf_describe(sb));
    CHECK(strstr(mpq_sb_describe(sb, 0, 0), "accumulator overflow: the exact sum does not fit; "
                 "first fit that changed the sum: k=1") != NULL, "%s", mpq_sb_describe(sb, 0, 0));
}

/* A 3x3 all-ones convolution over a 3x3 all-ones input with SAME padding: each output counts
 * the window positions inside the input (4 at corners, 6 at edges, 9 in the middle); then
 * maxpool and avgpool of 1..9 by hand. */
static void conv_by_hand(mpq_sb *sb)
{
    int32_t x[9], w[9], y[9];
    const int32_t mult = 1 << 30, shift = 1; /* x1 */
    for (int i = 0; i < 9; i++) {
        x[i] = 1;
        w[i] = 1;
    }
    unsigned pad = 0, out = 0;
    CHECK_OK(mpq_sb_padding(3, 3, 1, 1, 1, &pad, &out));
    CHECK(pad == 1 && out == 3, "SAME 3/3/1: pad %u out %u", pad, out);
    CHECK_OK(mpq_sb_conv(sb, MPQ_LAYER_CONV2D, 1, 3, 3, 1, 1, 3, 3, 1, 1, pad, pad, 1, 1, 1, out,
                         out));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_X, 0, 9, x));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_W, 0, 9, w));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_MULT, 0, 1, &mult));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_SHIFT, 0, 1, &shift));
    CHECK_OK(mpq_sb_run(sb));
    CHECK_OK(mpq_sb_get(sb, MPQ_SB_Y, 0, 9, y));
    const int32_t want[9] = {4, 6, 4, 6, 9, 6, 4, 6, 4};
    for (int i = 0; i < 9; i++)
        CHECK_EQ(y[i], want[i], "conv y[%d]", i);
    CHECK(strstr(mpq_sb_describe(sb, 5, 7), "conv2d y[b=0,oy=1,ox=2,c=0] (element 5): expected "
                 "6, got 7; accumulator 6") != NULL, "%s", mpq_sb_describe(sb, 5, 7));

    for (int i = 0; i < 9; i++)
        x[i] = i + 1;
    CHECK_OK(mpq_sb_conv(sb, MPQ_LAYER_MAXPOOL, 1, 3, 3, 1, 1, 2, 2, 1, 1, 0, 0, 1, 1, 1, 2, 2));
    CHECK_REFUSED(mpq_sb_requant(sb, MPQ_RQ_DOUBLE, 1), "takes no requantization");
    CHECK_EQ(mpq_sb_count(sb, MPQ_SB_W), 0, "pools have no weights");
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_X, 0, 9, x));
    CHECK_OK(mpq_sb_output(sb, 0, -128, 8));
    CHECK_OK(mpq_sb_run(sb));
    CHECK_OK(mpq_sb_get(sb, MPQ_SB_Y, 0, 4, y));
    CHECK(y[0] == 5 && y[1] == 6 && y[2] == 8 && y[3] == 8, "maxpool %d %d %d %d", y[0], y[1],
          y[2], y[3]);
    CHECK_REFUSED(mpq_sb_get_acc(sb, 0, 1, NULL), "has no accumulators");
    /* avgpool 2x2: (1+2+4+5)/4 = 3, (2+3+5+6)/4 = 4, (4+5+7+8)/4 = 6, (5+6+8+9)/4 = 7 */
    CHECK_OK(mpq_sb_conv(sb, MPQ_LAYER_AVGPOOL, 1, 3, 3, 1, 1, 2, 2, 1, 1, 0, 0, 1, 1, 1, 2, 2));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_X, 0, 9, x));
    CHECK_OK(mpq_sb_output(sb, 3, -128, 127));
    CHECK_REFUSED(mpq_sb_run(sb), "pools keep the input's quantization");
    CHECK_OK(mpq_sb_output(sb, 0, -128, 127));
    CHECK_OK(mpq_sb_run(sb));
    CHECK_OK(mpq_sb_get(sb, MPQ_SB_Y, 0, 4, y));
    CHECK(y[0] == 3 && y[1] == 4 && y[2] == 6 && y[3] == 7, "avgpool %d %d %d %d", y[0], y[1],
          y[2], y[3]);
}

/* Ternary + sparse: w = alpha*t + hp per channel, by hand. */
static void ternary_by_hand(mpq_sb *sb)
{
    const int32_t x[4] = {1, 2, 3, 4}, t[8] = {1, 0, -1, 1, 0, 0, 1, -1};
    const int32_t alpha[2] = {3, 5}, hp[8] = {0, 7, 0, 0, -2, 0, 0, 0};
    const int32_t mult[2] = {1 << 30, 1 << 30}, shift[2] = {1, 0};
    CHECK_OK(mpq_sb_fc(sb, 1, 4, 2));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_X, 0, 4, x));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_T, 0, 8, t));
    CHECK_OK(mpq_sb_requant(sb, MPQ_RQ_DOUBLE, 2));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_MULT, 0, 2, mult));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_SHIFT, 0, 2, shift));
    CHECK_REFUSED(mpq_sb_run(sb), "ternary weights without alpha");
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_ALPHA, 0, 2, alpha));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_HP, 0, 8, hp));
    CHECK_OK(mpq_sb_run(sb));
    int64_t acc[2];
    int32_t y[2];
    CHECK_OK(mpq_sb_get_acc(sb, 0, 2, acc));
    CHECK_OK(mpq_sb_get(sb, MPQ_SB_Y, 0, 2, y));
    /* c0: 3*(1 - 3 + 4) + 7*2 = 20 -> x1 = 20; c1: 5*(3 - 4) - 2*1 = -7 -> x0.5 = -3.5 -> -3 */
    CHECK_EQ(acc[0], 20, "ternary + sparse c0");
    CHECK_EQ(acc[1], -7, "ternary + sparse c1");
    CHECK_EQ(y[0], 20, "y c0");
    CHECK_EQ(y[1], -3, "y c1 (SRDHM rounds half up: -3.5 -> -3)");
    /* per-tensor alpha: alpha[0] = 3 for both channels: c1 = 3*(-1) - 2 = -5 -> -2.5 -> -2 */
    CHECK_OK(mpq_sb_alpha_per_tensor(sb, 1));
    CHECK_OK(mpq_sb_run(sb));
    CHECK_OK(mpq_sb_get_acc(sb, 1, 1, acc + 1));
    CHECK_EQ(acc[1], -5, "alpha per tensor");
}

static void helpers_by_hand(void)
{
    unsigned pad = 9, out = 9;
    CHECK(mpq_sb_padding(5, 3, 2, 1, 1, &pad, &out) == 0 && pad == 1 && out == 3, "SAME 5/3/2");
    CHECK(mpq_sb_padding(4, 3, 2, 1, 1, &pad, &out) == 0 && pad == 0 && out == 2, "SAME 4/3/2");
    CHECK(mpq_sb_padding(5, 3, 2, 1, 0, &pad, &out) == 0 && pad == 0 && out == 2, "VALID 5/3/2");
    CHECK(mpq_sb_padding(7, 3, 1, 2, 0, &pad, &out) == 0 && out == 3, "VALID dilated");
    CHECK(mpq_sb_padding(7, 3, 1, 3, 1, &pad, &out) == 0 && pad == 3 && out == 7, "SAME dilated");
    CHECK_EQ(mpq_sb_padding(2, 3, 1, 1, 0, &pad, &out), MPQ_EPARAM, "VALID window too large");
    CHECK_EQ(mpq_sb_padding(2, 3, 0, 1, 0, &pad, &out), MPQ_EPARAM, "stride 0");

    int32_t mult = 0, shift = 0;
    CHECK(mpq_sb_quantize_scale(0.5, 1.0, 1.0, &mult, &shift) == 0 && mult == 1 << 30 && shift == 0,
          "0.5: %d %d", mult, shift);
    CHECK(mpq_sb_quantize_scale(0.5, 0.25, 2.0, &mult, &shift) == 0 && mult == 1 << 30 &&
          shift == -3, "1/16: %d %d", mult, shift);
    /* 0.75 = 3/4: mult 0.75*2^31 = 1610612736, shift 0 */
    CHECK(mpq_sb_quantize_scale(3.0, 0.5, 2.0, &mult, &shift) == 0 && mult == 1610612736 &&
          shift == 0, "0.75: %d %d", mult, shift);
    CHECK_EQ(mpq_sb_quantize_scale(1.0, -1.0, 1.0, &mult, &shift), MPQ_EPARAM, "negative scale");
    CHECK_EQ(mpq_sb_quantize_scale(1.0, 1.0, 0.0, &mult, &shift), MPQ_EPARAM, "zero out scale");

    int32_t y = 0;
    /* 100 << 1 = 200, x0.5 = 100, +3 = 103, clamp 101 */
    CHECK(mpq_sb_requant_value(MPQ_RQ_DOUBLE, 100, 1 << 30, 1, 0, 0, 3, -128, 101, &y) == 0 &&
          y == 101, "requant_value %d", y);
    /* single rounding: 5 * 0.5 = 2.5 -> floor(2.5 + 0.5) = 3; -5 -> floor(-2.5 + 0.5) = -2 */
    CHECK(mpq_sb_requant_value(MPQ_RQ_SINGLE, 5, 1 << 30, 0, 0, 0, 0, INT32_MIN, INT32_MAX, &y) == 0
          && y == 3, "single 2.5 -> %d", y);
    CHECK(mpq_sb_requant_value(MPQ_RQ_SINGLE, -5, 1 << 30, 0, 0, 0, 0, INT32_MIN, INT32_MAX, &y) == 0
          && y == -2, "single -2.5 -> %d", y);
    /* double rounding: -2.5 -> SRDHM rounds half up (-2), RDBPOT nothing: -2 ... and 2.5 -> 3 */
    CHECK(mpq_sb_requant_value(MPQ_RQ_DOUBLE, -5, 1 << 30, 0, 0, 0, 0, INT32_MIN, INT32_MAX, &y) == 0
          && y == -2, "double -2.5 -> %d", y);
    /* generic: 7 * 3 / 2^2 = 5.25 -> floor 5, half_even 5; 10 * 1 / 2^2 = 2.5 -> half_even 2 */
    CHECK(mpq_sb_requant_value(MPQ_RQ_GENERIC, 10, 1, 2, MPQ_ROUND_HALF_EVEN, MPQ_OVF_SAT, 0,
                               INT32_MIN, INT32_MAX, &y) == 0 && y == 2, "half even %d", y);
    CHECK(mpq_sb_requant_value(MPQ_RQ_GENERIC, 10, 1, 2, MPQ_ROUND_HALF_AWAY, MPQ_OVF_SAT, 0,
                               INT32_MIN, INT32_MAX, &y) == 0 && y == 3, "half away %d", y);
    CHECK_EQ(mpq_sb_requant_value(MPQ_RQ_DOUBLE, 1, 1 << 30, 31, 0, 0, 0, -1, 1, &y), MPQ_EPARAM,
             "shift 31");
    CHECK_EQ(mpq_sb_requant_value(MPQ_RQ_DOUBLE, 1, -1, 0, 0, 0, 0, -1, 1, &y), MPQ_EPARAM,
             "negative mult");
    CHECK_EQ(mpq_sb_requant_value(MPQ_RQ_COUNT, 1, 1, 0, 0, 0, 0, -1, 1, &y), MPQ_EPARAM, "kind");

    int64_t f = 0;
    int o = 0;
    CHECK(mpq_sb_acc_fit(1 << 19, 20, MPQ_ACC_WRAP, &f, &o) == 0 && f == -(1 << 19) && o == 1,
          "wrap 20 bits");
    CHECK(mpq_sb_acc_fit(1 << 19, 20, MPQ_ACC_SAT, &f, &o) == 0 && f == (1 << 19) - 1 && o == 1,
          "sat 20 bits");
    CHECK(mpq_sb_acc_fit(-5, 20, MPQ_ACC_SAT, &f, &o) == 0 && f == -5 && o == 0, "fits");
    CHECK_EQ(mpq_sb_acc_fit(1, 65, MPQ_ACC_WRAP, &f, &o), MPQ_EPARAM, "65 bits");
    CHECK_EQ(mpq_sb_acc_fit(1, 8, 2, &f, &o), MPQ_EPARAM, "mode 2");
    CHECK(!strcmp(mpq_sb_tensor_name(MPQ_SB_FIRST), "first") && !strcmp(mpq_sb_tensor_name(99), "?"),
          "tensor names");
}

static void refusals(void)
{
    mpq_sb *sb = mpq_sb_new();
    if (!sb) {
        CHECK(0, "out of memory");
        return;
    }
    const int32_t v[4] = {0, 2, 0, 0};
    int32_t y[4];
    CHECK_REFUSED(mpq_sb_put(sb, MPQ_SB_X, 0, 1, v), "no layer declared");
    CHECK_REFUSED(mpq_sb_fc(sb, 0, 1, 1), "must be >= 1");
    CHECK_REFUSED(mpq_sb_fc(sb, 65536, 65536, 1), "2^31 elements");
    CHECK_REFUSED(mpq_sb_conv(sb, MPQ_LAYER_FC, 1, 3, 3, 1, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1, 1, 1),
                  "mpq_sb_fc");
    CHECK_REFUSED(mpq_sb_conv(sb, MPQ_LAYER_CONV2D, 1, 3, 3, 1, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1, 3, 1),
                  "output size 3 disagrees");
    CHECK_REFUSED(mpq_sb_conv(sb, MPQ_LAYER_CONV2D, 1, 3, 3, 4, 6, 1, 1, 1, 1, 0, 0, 1, 1, 3, 3, 3),
                  "groups 3 do not divide");
    CHECK_OK(mpq_sb_fc(sb, 2, 2, 2));
    CHECK_REFUSED(mpq_sb_put(sb, MPQ_SB_X, 3, 2, v), "outside its 4 elements");
    CHECK_REFUSED(mpq_sb_put(sb, MPQ_SB_T, 0, 4, v), "element 1 is 2, not -1, 0 or 1");
    CHECK_REFUSED(mpq_sb_put(sb, MPQ_SB_Y, 0, 1, v), "not an input tensor");
    CHECK_REFUSED(mpq_sb_put(sb, 42, 0, 1, v), "not an input tensor");
    CHECK_REFUSED(mpq_sb_run(sb), "x was not put");
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_X, 0, 4, v));
    CHECK_REFUSED(mpq_sb_requant(sb, MPQ_RQ_DOUBLE, 3), "1 (per tensor) or 2 (per channel)");
    CHECK_REFUSED(mpq_sb_requant(sb, 7, 1), "requantization kind 7");
    CHECK_REFUSED(mpq_sb_acc(sb, 0, MPQ_ACC_WRAP, MPQ_ORDER_SEQ, 1), "outside 1..64");
    CHECK_REFUSED(mpq_sb_acc(sb, 16, MPQ_ACC_WRAP, MPQ_ORDER_GROUPED, 0), "group of at least 1");
    CHECK_REFUSED(mpq_sb_output(sb, 0, 5, 4), "act_min 5 > act_max 4");
    const int32_t one = 1 << 30, bad_shift = 40;
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_MULT, 0, 1, &one));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_SHIFT, 0, 1, &bad_shift));
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_W, 0, 4, v));
    CHECK_REFUSED(mpq_sb_run(sb), "(mult 1073741824, shift 40) out of range");
    CHECK_REFUSED(mpq_sb_get(sb, MPQ_SB_Y, 0, 4, y), "no results");
    CHECK_REFUSED(mpq_sb_get(sb, MPQ_SB_BIAS, 0, 2, y), "bias was not put");
    CHECK(!strncmp(mpq_sb_describe(sb, 0, 0), "error: describe: no results", 27), "%s",
          mpq_sb_describe(sb, 0, 0));
    const int32_t good_shift = 0;
    CHECK_OK(mpq_sb_put(sb, MPQ_SB_SHIFT, 0, 1, &good_shift));
    CHECK_OK(mpq_sb_run(sb));
    CHECK_OK(mpq_sb_clear(sb, MPQ_SB_W));
    CHECK_REFUSED(mpq_sb_run(sb), "layer has no weights");
    CHECK_EQ(mpq_sb_count(sb, 99), MPQ_EPARAM, "count of an unknown tensor");
    CHECK(strstr(mpq_sb_error(NULL), "no scoreboard handle") != NULL, "NULL handle");
    CHECK_EQ(mpq_sb_run(NULL), MPQ_EPARAM, "NULL handle");
    mpq_sb_free(sb);
}

#define MAXT 3000

/* Random conv2d / depthwise / pool layers: the handle (tensors put in two pieces each) against
 * mpq_conv and mpq_pool called directly on the same arrays. */
static void random_layers(mpq_sb *sb)
{
    static int32_t x[MAXT], w[MAXT], hp[MAXT], alpha[64], bias[64], mult[64], shift[64];
    static int8_t t8[MAXT];
    static int32_t t[MAXT], y0[MAXT], y1[MAXT], f0[MAXT], f1[MAXT];
    static int64_t a0[MAXT], a1[MAXT];
    static uint8_t fl0[MAXT];
    char err[256];
    int layers = 0;
    for (int iter = 0; iter < 300; iter++) {
        mpq_conv_shape s = {.kind = (mpq_layer_kind)test_range(MPQ_LAYER_CONV2D, MPQ_LAYER_MAXPOOL),
                            .batches = (unsigned)test_range(1, 2)};
        int pool = s.kind >= MPQ_LAYER_AVGPOOL;
        s.in_h = (unsigned)test_range(1, 7);
        s.in_w = (unsigned)test_range(1, 7);
        s.kh = (unsigned)test_range(1, 3);
        s.kw = (unsigned)test_range(1, 3);
        s.sy = (unsigned)test_range(1, 3);
        s.sx = (unsigned)test_range(1, 3);
        s.dy = pool ? 1 : (unsigned)test_range(1, 2);
        s.dx = pool ? 1 : (unsigned)test_range(1, 2);
        s.groups = s.kind == MPQ_LAYER_CONV2D ? (unsigned)test_range(1, 3) : 1;
        s.in_c = s.groups * (unsigned)test_range(1, 4);
        s.out_c = s.kind == MPQ_LAYER_CONV2D ? s.groups * (unsigned)test_range(1, 3)
                : s.kind == MPQ_LAYER_DEPTHWISE ? s.in_c * (unsigned)test_range(1, 2) : s.in_c;
        unsigned ph = 0, pw = 0, oh = 0, ow = 0;
        int same = (int)test_range(0, 1);
        if (mpq_sb_padding(s.in_h, s.kh, s.sy, s.dy, same, &ph, &oh) ||
            mpq_sb_padding(s.in_w, s.kw, s.sx, s.dx, same, &pw, &ow))
            continue;
        s.py = ph;
        s.px = pw;
        s.out_h = oh;
        s.out_w = ow;
        if (mpq_conv_check(&s, err, sizeof err))
            continue;
        size_t nx = mpq_conv_in_count(&s), nw = mpq_conv_w_count(&s), ny = mpq_conv_out_count(&s);
        if (nx > MAXT || nw > MAXT || ny > MAXT)
            continue;
        CHECK_OK(mpq_sb_conv(sb, s.kind, s.batches, s.in_h, s.in_w, s.in_c, s.out_c, s.kh, s.kw,
                             s.sy, s.sx, s.py, s.px, s.dy, s.dx, s.groups, s.out_h, s.out_w));
        for (size_t i = 0; i < nx; i++)
            x[i] = (int32_t)test_range(-128, 127);
        CHECK_OK(mpq_sb_put(sb, MPQ_SB_X, 0, nx / 2, x));
        CHECK_OK(mpq_sb_put(sb, MPQ_SB_X, nx / 2, nx - nx / 2, x + nx / 2));
        int32_t lo = (int32_t)test_range(-128, 0), hi = (int32_t)test_range(0, 127);
        if (pool) {
            CHECK_OK(mpq_sb_output(sb, 0, lo, hi));
            CHECK_OK(mpq_sb_run(sb));
            CHECK_EQ(mpq_pool(&s, x, lo, hi, y0, err, sizeof err), 0, "%s", err);
            CHECK_OK(mpq_sb_get(sb, MPQ_SB_Y, 0, ny, y1));
            CHECK(!memcmp(y0, y1, ny * sizeof *y0), "pool %d outputs", iter);
            layers++;
            continue;
        }
        unsigned n = s.out_c;
        int with_w = (int)test_range(0, 1), with_t = !with_w || test_range(0, 1);
        for (size_t i = 0; i < nw; i++) {
            w[i] = (int32_t)test_range(-128, 127);
            t[i] = (int32_t)test_range(-1, 1);
            t8[i] = (int8_t)t[i];
            hp[i] = test_range(0, 3) ? 0 : (int32_t)test_range(-127, 127);
        }
        for (unsigned c = 0; c < n; c++) {
            alpha[c] = (int32_t)test_range(1, 100);
            bias[c] = (int32_t)test_range(-5000, 5000);
            CHECK_OK(mpq_sb_quantize_scale(0.02, 0.001 * (double)test_range(1, 50), 0.05, &mult[c],
                                           &shift[c]));
        }
        int32_t in_off = (int32_t)test_range(-3, 3), w_off = with_w ? (int32_t)test_range(-2, 2) : 0;
        unsigned bits = (unsigned)test_range(12, 32);
        int sat = (int)test_range(0, 1), grouped = (int)test_range(0, 1);
        unsigned group = (unsigned)test_range(1, 4);
        CHECK_OK(mpq_sb_offsets(sb, in_off, w_off));
        CHECK_OK(mpq_sb_acc(sb, bits, sat, grouped, group));
        CHECK_OK(mpq_sb_requant(sb, MPQ_RQ_DOUBLE, n));
        CHECK_OK(mpq_sb_output(sb, -3, lo, hi));
        if (with_w)
            CHECK_OK(mpq_sb_put(sb, MPQ_SB_W, 0, nw, w));
        if (with_t) {
            CHECK_OK(mpq_sb_put(sb, MPQ_SB_T, 0, nw / 3, t));
            CHECK_OK(mpq_sb_put(sb, MPQ_SB_T, nw / 3, nw - nw / 3, t + nw / 3));
            CHECK_OK(mpq_sb_put(sb, MPQ_SB_ALPHA, 0, n, alpha));
            CHECK_OK(mpq_sb_put(sb, MPQ_SB_HP, 0, nw, hp));
        }
        CHECK_OK(mpq_sb_put(sb, MPQ_SB_BIAS, 0, n, bias));
        CHECK_OK(mpq_sb_put(sb, MPQ_SB_MULT, 0, n, mult));
        CHECK_OK(mpq_sb_put(sb, MPQ_SB_SHIFT, 0, n, shift));
        CHECK_OK(mpq_sb_run(sb));

        mpq_conv_layer l = {
            .shape = s, .x = x, .in_offset = in_off, .w = with_w ? w : NULL, .w_offset = w_off,
            .t = with_t ? t8 : NULL, .alpha = with_t ? alpha : NULL, .hp = with_t ? hp : NULL,
            .bias = bias, .acc_bits = bits, .acc_mode = sat ? MPQ_ACC_SAT : MPQ_ACC_WRAP,
            .order = grouped ? MPQ_ORDER_GROUPED : MPQ_ORDER_SEQ, .group = group,
        };
        mpq_requant rq = {.kind = MPQ_RQ_DOUBLE, .nparams = n, .mult = mult, .shift = shift,
                          .out_offset = -3, .act_min = lo, .act_max = hi};
        mpq_conv_ovf ovf = {.flags = fl0, .first_r = f0};
        CHECK_EQ(mpq_conv(&l, &rq, y0, a0, &ovf, err, sizeof err), 0, "%s", err);
        CHECK_OK(mpq_sb_get(sb, MPQ_SB_Y, 0, ny, y1));
        CHECK_OK(mpq_sb_get_acc(sb, 0, ny, a1));
        CHECK_OK(mpq_sb_get(sb, MPQ_SB_FIRST, 0, ny, f1));
        CHECK(!memcmp(y0, y1, ny * sizeof *y0), "layer %d: outputs differ", iter);
        CHECK(!memcmp(a0, a1, ny * sizeof *a0), "layer %d: accumulators differ", iter);
        CHECK(!memcmp(f0, f1, ny * sizeof *f0), "layer %d: first overflows differ", iter);
        CHECK_EQ(mpq_sb_ovf_count(sb, MPQ_OVF_ANY), (long long)ovf.n_any, "layer %d", iter);
        CHECK_EQ(mpq_sb_ovf_count(sb, MPQ_OVF_FINAL), (long long)ovf.n_final, "layer %d", iter);
        CHECK_EQ(mpq_sb_compare(sb, 0, ny, y0), 0, "layer %d compares equal", iter);
        y0[ny - 1] ^= 1;
        CHECK_EQ(mpq_sb_compare(sb, ny - 1, 1, y0 + ny - 1), 1, "layer %d: one flipped bit", iter);
        layers++;
    }
    CHECK(layers > 150, "only %d random layers were legal", layers);
    printf("test_sb: %d random layers through the handle compared with mpq_conv / mpq_pool\n", layers);
}

int main(void)
{
    test_seed("test_sb", 27);
    mpq_sb *sb = mpq_sb_new();
    if (!sb) {
        printf("test_sb: out of memory\n");
        return 1;
    }
    fc_by_hand(sb);
    overflow_by_hand(sb);
    conv_by_hand(sb);
    ternary_by_hand(sb);
    helpers_by_hand();
    refusals();
    random_layers(sb);
    mpq_sb_free(sb);
    mpq_sb_free(NULL);
    return check_done("test_sb");
}
