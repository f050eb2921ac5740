/* SPDX-License-Identifier: Apache-2.0 */
/* Rounding, saturation and requantization at their edges, and exhaustively over small
 * widths against references written from the definitions (exact rationals via long double
 * for small values, 128-bit integers otherwise). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "arith/mpq.h"
#include "arith/mpq_fit.h"
#include "arith/mpq_layer.h"
#include "arith/mpq_mac.h"

/* floor(a / b) for b > 0, from C's truncating division. */
static mpq_i128 floordiv(mpq_i128 a, mpq_i128 b)
{
    mpq_i128 q = a / b;
    if ((a % b != 0) && (a < 0))
        q--;
    return q;
}

static int32_t ref_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    /* round half up of a*b / 2^31 */
    return (int32_t)floordiv((mpq_i128)a * b + ((mpq_i128)1 << 30), (mpq_i128)1 << 31);
}

static int32_t ref_rdbpot(int32_t x, int e)
{
    /* half away from zero of x / 2^e */
    mpq_i128 ax = x < 0 ? -(mpq_i128)x : x;
    mpq_i128 q = e ? (ax + ((mpq_i128)1 << (e - 1))) / ((mpq_i128)1 << e) : ax;
    return (int32_t)(x < 0 ? -q : q);
}

static int32_t ref_wrap32(mpq_i128 v)
{
    mpq_i128 m = (mpq_i128)1 << 32;
    mpq_i128 r = ((v % m) + m) % m;
    return (int32_t)(r >= ((mpq_i128)1 << 31) ? r - m : r);
}

static int32_t ref_requant_double(int32_t acc, int32_t mult, int shift)
{
    int l = shift > 0 ? shift : 0, r = shift > 0 ? 0 : -shift;
    return ref_rdbpot(ref_srdhm(ref_wrap32((mpq_i128)acc * ((mpq_i128)1 << l)), mult), r);
}

/* Rounding of v / 2^s from the definition, exact for |v| < 2^50. */
static long long ref_round(long long v, unsigned s, mpq_round r)
{
    long double x = (long double)v / ldexpl(1.0L, (int)s);
    long double f = floorl(x), frac = x - f;
    switch (r) {
    case MPQ_ROUND_FLOOR: return (long long)f;
    case MPQ_ROUND_ZERO: return (long long)truncl(x);
    case MPQ_ROUND_HALF_UP: return (long long)(frac >= 0.5L ? f + 1 : f);
    case MPQ_ROUND_HALF_DOWN: return (long long)(frac > 0.5L ? f + 1 : f);
    case MPQ_ROUND_HALF_AWAY: return (long long)(frac == 0.5L ? (x < 0 ? f : f + 1) : roundl(x));
    case MPQ_ROUND_HALF_EVEN:
        if (frac == 0.5L)
            return (long long)(fmodl(f, 2.0L) == 0.0L ? f : f + 1);
        return (long long)(frac > 0.5L ? f + 1 : f);
    case MPQ_ROUND_COUNT:
    default: return 0;
    }
}

static void test_srdhm_rdbpot(void)
{
    /* Edges: the one saturating product, ties, extremes. */
    CHECK_EQ(mpq_srdhm(INT32_MIN, INT32_MIN), INT32_MAX, "INT32_MIN*INT32_MIN saturates");
    CHECK_EQ(mpq_srdhm(INT32_MIN, INT32_MAX), -INT32_MAX, "edge");
    CHECK_EQ(mpq_srdhm(INT32_MAX, INT32_MAX), INT32_MAX - 1, "edge");
    CHECK_EQ(mpq_srdhm(1, 1 << 30), 1, "0.5 rounds up");
    CHECK_EQ(mpq_srdhm(-1, 1 << 30), 0, "-0.5 rounds up to 0");
    CHECK_EQ(mpq_srdhm(-3, 1 << 30), -1, "-1.5 rounds up to -1");
    CHECK_EQ(mpq_rdbpot(5, 1), 3, "2.5 away from zero");
    CHECK_EQ(mpq_rdbpot(-5, 1), -3, "-2.5 away from zero");
    CHECK_EQ(mpq_rdbpot(INT32_MIN, 31), -1, "edge");
    CHECK_EQ(mpq_rdbpot(INT32_MAX, 31), 1, "edge");
    CHECK_EQ(mpq_rdbpot(-(1 << 30), 31), -1, "-0.5 away from zero");
    CHECK_EQ(mpq_rdbpot((1 << 30) - 1, 31), 0, "edge");
    for (int i = 0; i < 2000000; i++) {
        int32_t a = (int32_t)test_rand(), b = (int32_t)test_rand();
        if (i % 7 == 0)
            a = (int32_t)test_range(-3, 3);
        if (i % 11 == 0)
            b = i % 2 ? INT32_MIN : INT32_MAX;
        CHECK_EQ(mpq_srdhm(a, b), ref_srdhm(a, b), "srdhm(%d, %d)", a, b);
        int e = (int)test_range(0, 31);
        CHECK_EQ(mpq_rdbpot(a, e), ref_rdbpot(a, e), "rdbpot(%d, %d)", a, e);
    }
}

static void test_requant(void)
{
    for (int i = 0; i < 1000000; i++) {
        int32_t acc = (int32_t)test_rand();
        if (i % 3 == 0)
            acc = (int32_t)test_range(-100000, 100000);
        if (i % 97 == 0)
            acc = i % 2 ? INT32_MIN : INT32_MAX;
        int32_t mult = (int32_t)(test_rand() & 0x7FFFFFFF);
        if (i % 13 == 0)
            mult = i % 2 ? INT32_MAX : (1 << 30);
        int shift = (int)test_range(-31, 30);
        CHECK_EQ(mpq_requant_double(acc, mult, shift), ref_requant_double(acc, mult, shift),
                 "double(%d, %d, %d)", acc, mult, shift);
        /* single rounding: (acc*mult + 2^(30-shift)) >> (31-shift), saturated */
        mpq_i128 v = floordiv((mpq_i128)acc * mult + ((mpq_i128)1 << (30 - shift)),
                              (mpq_i128)1 << (31 - shift));
        int32_t want = (int32_t)(v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v);
        CHECK_EQ(mpq_requant_single(acc, mult, shift), want, "single(%d, %d, %d)", acc, mult, shift);
        /* s64 reduced */
        int64_t a64 = (int64_t)test_rand() >> (int)test_range(16, 40);
        int sh = (int)test_range(-31, 14);
        int64_t rm = mult < 0x7FFF0000 ? (mult + (1 << 15)) / (1 << 16) : 0x7FFF;
        v = floordiv((mpq_i128)a64 * rm + ((mpq_i128)1 << (14 - sh)), (mpq_i128)1 << (15 - sh));
        want = (int32_t)(v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v);
        CHECK_EQ(mpq_requant_s64_reduced(a64, mult, sh), want, "s64(%lld, %d, %d)", (long long)a64,
                 mult, sh);
    }
    /* Shift extremes are legal and exact. */
    CHECK_EQ(mpq_requant_double(1, INT32_MAX, 30), ref_requant_double(1, INT32_MAX, 30), "edge");
    CHECK_EQ(mpq_requant_double(INT32_MIN, INT32_MIN + 1 + INT32_MAX, -31), 0, "mult 0");
}

static void test_fit_exhaustive(void)
{
    for (unsigned bits = 1; bits <= 12; bits++) {
        long long hi = (1LL << (bits - 1)) - 1, lo = -hi - 1, span = 1LL << bits;
        for (long long v = -3 * span; v <= 3 * span; v++) {
            int o;
            long long w = ((v - lo) % span + span) % span + lo;
            CHECK_EQ(mpq_fit_wide(v, bits, MPQ_OVF_WRAP, &o), w, "wrap %lld to %u bits", v, bits);
            CHECK_EQ(o, w != v, "wrap flag");
            long long s = v < lo ? lo : v > hi ? hi : v;
            CHECK_EQ(mpq_fit_wide(v, bits, MPQ_OVF_SAT, &o), s, "sat %lld to %u bits", v, bits);
            CHECK_EQ(o, s != v, "sat flag");
            long long ss = v < -hi ? -hi : v > hi ? hi : v;
            CHECK_EQ(mpq_fit_wide(v, bits, MPQ_OVF_SAT_SYM, &o), ss, "sat_sym %lld to %u bits", v, bits);
            CHECK_EQ(mpq_acc_fit(v, bits, MPQ_ACC_SAT, NULL), s, "acc fit sat");
            CHECK_EQ(mpq_fit(v, bits, MPQ_OVF_WRAP, NULL), w, "public fit, wrap");
            /* The one accumulator fit: same values, sticky flag. */
            int sticky = 0;
            CHECK_EQ(mpq_fit_acc(v, bits, 0, &sticky), w, "fit_acc wrap %lld to %u bits", v, bits);
            CHECK_EQ(sticky, w != v, "fit_acc flag");
            sticky = 1;
            CHECK_EQ(mpq_fit_acc(v, bits, 1, &sticky), s, "fit_acc sat");
            CHECK_EQ(sticky, 1, "fit_acc keeps a raised flag");
        }
    }
    /* 64-bit edges. */
    int o;
    CHECK_EQ(mpq_fit_wide((mpq_i128)INT64_MAX + 1, 64, MPQ_OVF_WRAP, &o), INT64_MIN, "edge");
    CHECK_EQ(o, 1, "edge");
    CHECK_EQ(mpq_fit_wide((mpq_i128)INT64_MIN - 1, 64, MPQ_OVF_SAT, &o), INT64_MIN, "edge");
    CHECK_EQ(mpq_fit(INT64_MIN, 64, MPQ_OVF_SAT_SYM, &o), -INT64_MAX, "edge");
    CHECK_EQ(mpq_fit_wide((mpq_i128)1 << 40, 32, MPQ_OVF_WRAP, &o), 0, "edge");
    o = 0;
    CHECK_EQ(mpq_fit_acc(INT64_MIN, 64, 1, &o), INT64_MIN, "fit_acc 64 bits");
    CHECK_EQ(mpq_fit_acc(INT64_MAX, 63, 0, &o), -1, "fit_acc 63 bits wrap");
    CHECK_EQ(o, 1, "fit_acc 63 bits flag");
    CHECK_EQ(mpq_fit_acc(INT64_MIN, 63, 1, &o), -(INT64_C(1) << 62), "fit_acc 63 bits sat");
}

static void test_mulshift_exhaustive(void)
{
    static const int64_t mults[] = {1, 3, 5, 7, 100, 127, -1, -3, 1 << 20, 1234567};
    for (int r = 0; r < MPQ_ROUND_COUNT; r++)
        for (int64_t acc = -300; acc <= 300; acc++)
            for (size_t mi = 0; mi < sizeof mults / sizeof mults[0]; mi++)
                for (unsigned s = 0; s <= 12; s++) {
                    long long want = ref_round(acc * mults[mi], s, (mpq_round)r);
                    CHECK_EQ(mpq_round_shift_wide((mpq_i128)acc * mults[mi], s, (mpq_round)r), want,
                             "%s(%lld*%lld >> %u)", mpq_round_name((mpq_round)r), (long long)acc,
                             (long long)mults[mi], s);
                    for (unsigned bits = 4; bits <= 8; bits += 4) {
                        long long hi = (1LL << (bits - 1)) - 1;
                        long long sat = want > hi ? hi : want < -hi - 1 ? -hi - 1 : want;
                        CHECK_EQ(mpq_mulshift(acc, mults[mi], s, (mpq_round)r, bits, MPQ_OVF_SAT,
                                              NULL), sat, "mulshift sat");
                    }
                }
    /* Ties of every mode, spelled out: 2.5, -2.5, 3.5, -3.5 (v / 2). */
    static const struct { long long v; long long want[MPQ_ROUND_COUNT]; } ties[] = {
        /* floor zero half_up half_down half_away half_even */
        {5, {2, 2, 3, 2, 3, 2}},
        {-5, {-3, -2, -2, -3, -3, -2}},
        {7, {3, 3, 4, 3, 4, 4}},
        {-7, {-4, -3, -3, -4, -4, -4}},
    };
    for (size_t i = 0; i < sizeof ties / sizeof ties[0]; i++)
        for (int r = 0; r < MPQ_ROUND_COUNT; r++) {
            CHECK_EQ(mpq_round_shift_wide(ties[i].v, 1, (mpq_round)r), ties[i].want[r], "%s(%lld/2)",
                     mpq_round_name((mpq_round)r), ties[i].v);
            CHECK_EQ(mpq_round_shift(ties[i].v, 1, (mpq_round)r), ties[i].want[r], "public %s",
                     mpq_round_name((mpq_round)r));
        }
    /* Names round trip. */
    for (int r = 0; r < MPQ_ROUND_COUNT; r++) {
        mpq_round back;
        CHECK(mpq_round_parse(mpq_round_name((mpq_round)r), &back) == 0 && back == (mpq_round)r,
              "round name %d", r);
    }
    mpq_round bad;
    CHECK(mpq_round_parse("nearest", &bad) == MPQ_EPARAM, "unknown rounding rejected");
}

static void test_quantize_multiplier(void)
{
    int32_t m;
    int s;
    CHECK(mpq_quantize_multiplier(0.0, &m, &s) == 0 && m == 0 && s == 0, "zero");
    CHECK(mpq_quantize_multiplier(0.5, &m, &s) == 0 && m == (1 << 30) && s == 0, "0.5: %d %d", m, s);
    CHECK(mpq_quantize_multiplier(1.0, &m, &s) == 0 && m == (1 << 30) && s == 1, "1.0: %d %d", m, s);
    CHECK(mpq_quantize_multiplier(1e-12, &m, &s) == 0 && m == 0 && s == 0, "tiny -> 0: %d %d", m, s);
    CHECK(mpq_quantize_multiplier(1e12, &m, &s) == 0 && m == INT32_MAX && s == 30, "huge: %d %d", m, s);
    /* Just below 1.0: rounds up to 2^31, becomes 2^30 with shift + 1. */
    CHECK(mpq_quantize_multiplier(1.0 - 1e-12, &m, &s) == 0 && m == (1 << 30) && s == 1,
          "round-up carry: %d %d", m, s);
    CHECK(mpq_quantize_multiplier(-1.0, &m, &s) == MPQ_EPARAM, "negative rejected");
    CHECK(mpq_quantize_multiplier(NAN, &m, &s) == MPQ_EPARAM, "NaN rejected");
    /* Round trip: |real - mult*2^(shift-31)| <= half an ulp of the Q31 mantissa. */
    for (int i = 0; i < 100000; i++) {
        double real = ldexp((double)(test_rand() >> 11) / 9007199254740992.0, (int)test_range(-30, 20));
        if (real == 0.0)
            continue;
        CHECK(mpq_quantize_multiplier(real, &m, &s) == 0, "edge");
        double back = ldexp((double)m, s - 31);
        CHECK(fabs(back - real) <= ldexp(1.0, s - 32) * 1.0000001, "%.17g -> %d %d", real, m, s);
        CHECK(m >= (1 << 30) || s == 0, "normalized");
    }
}

/* The requantizer over a layer's int32 accumulators to int8 (mpq_requant_i8: 4 pixels x 8
 * channels per vector step, tails and other kinds through mpq_requant_one) against
 * mpq_requant_one of each accumulator wrapped to the accumulator's width: double and single
 * rounding, every shift, per-channel and per-tensor parameters, accumulators of every
 * magnitude, narrower wrapping accumulators, 1..40 channels. */
static void test_requant_i8(void)
{
    enum { NPIX = 9, NCH = 40 };
    static int32_t acc[NPIX * NCH], mult[NCH], shift[NCH];
    static int8_t y[NPIX * NCH];
    long checked = 0;
    const mpq_simd best = mpq_simd_limit(MPQ_SIMD_AVX2);
    for (int iter = 0; iter < 4000; iter++) {
        mpq_simd_limit(iter % 2 ? MPQ_SIMD_SSE2 : best); /* every level the host has */
        unsigned n = (unsigned)test_range(1, NCH), npix = (unsigned)test_range(1, NPIX);
        int single = iter / 2 % 2;
        unsigned per_channel = test_range(0, 1) ? n : 1;
        for (unsigned c = 0; c < per_channel; c++) {
            mult[c] = test_range(0, 9) ? (int32_t)test_range(1 << 30, INT32_MAX) : (int32_t)test_range(0, INT32_MAX);
            shift[c] = (int32_t)test_range(-31, single && test_range(0, 1) ? 0 : 30);
        }
        unsigned bits = test_range(0, 3) ? 32 : (unsigned)test_range(2, 31);
        for (size_t i = 0; i < (size_t)npix * n; i++) {
            int sh = (int)test_range(0, 31);
            acc[i] = (int32_t)(test_range(INT32_MIN, INT32_MAX) >> sh);
        }
        mpq_requant rq = {.kind = single ? MPQ_RQ_SINGLE : MPQ_RQ_DOUBLE, .nparams = per_channel,
                          .mult = mult, .shift = shift, .out_offset = (int32_t)test_range(-128, 127),
                          .act_min = (int32_t)test_range(-128, 0), .act_max = (int32_t)test_range(0, 127)};
        mpq_rq_i8 q;
        CHECK(mpq_rq_i8_init(&q, &rq, n, bits) == 0, "rq_i8 init");
        mpq_requant_i8(&q, acc, npix, n, y);
        for (size_t i = 0; i < (size_t)npix * n; i++) {
            int64_t a = mpq_acc_fit(acc[i], bits, MPQ_ACC_WRAP, NULL);
            int32_t want = mpq_requant_one(&rq, a, (unsigned)(i % n));
            if (y[i] != want) {
                CHECK(0, "iter %d (%s, %s, %u bits): acc %d channel %zu (mult %d shift %d): %d, "
                      "want %d", iter, mpq_simd_name(mpq_simd_level()), single ? "single" : "double",
                      bits, acc[i], i % n,
                      mult[per_channel > 1 ? i % n : 0], shift[per_channel > 1 ? i % n : 0], y[i], want);
                break;
            }
            checked++;
        }
    }
    mpq_simd_limit(best);
    printf("test_arith: the int8 requantizer of layers = mpq_requant_one on %ld accumulators "
           "(up to %s)\n", checked, mpq_simd_name(best));
}

int main(void)
{
    test_seed("test_arith", 20261122);
    test_fit_exhaustive();
    test_srdhm_rdbpot();
    test_requant();
    test_mulshift_exhaustive();
    test_quantize_multiplier();
    test_requant_i8();
    return check_done("test_arith");
}
