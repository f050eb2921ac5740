/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_arith.c: exact integer arithmetic of the golden model: accumulator fit, rounding
 * shifts, the TFLite/gemmlowp requantizers and the generic multiply-and-shift.
 * Hardware counterpart: rtl/mpq_lane.sv (fit) and rtl/mpq_requant.sv (double rounding).
 *
 * Every wrap and every arithmetic shift is done on unsigned or 128-bit values so that no
 * line relies on signed overflow or on the implementation-defined right shift of negatives.
 */
#include <math.h>
#include <string.h>

#include "mpq.h"

typedef unsigned __int128 mpq_u128;

/* floor(v / 2^s), 0 <= s <= 127, without shifting a negative value. */
static mpq_i128 floor_shift(mpq_i128 v, unsigned s)
{
    if (v >= 0)
        return (mpq_i128)((mpq_u128)v >> s);
    return -(mpq_i128)((mpq_u128)(~v) >> s) - 1;
}

/* Two's complement value of the low `bits` bits of v (1..64). */
static int64_t wrap_bits(mpq_i128 v, unsigned bits)
{
    mpq_u128 u = (mpq_u128)v & (((mpq_u128)1 << bits) - 1);
    mpq_u128 sign = (mpq_u128)1 << (bits - 1);
    if (u & sign)
        return (int64_t)((mpq_i128)u - ((mpq_i128)1 << bits));
    return (int64_t)u;
}

static int32_t wrap32(int64_t v)
{
    return (int32_t)wrap_bits(v, 32);
}

int64_t mpq_fit(mpq_i128 v, unsigned bits, mpq_ovf_mode o, int *overflowed)
{
    if (bits < 1)
        bits = 1;
    if (bits > 64)
        bits = 64;
    mpq_i128 hi = ((mpq_i128)1 << (bits - 1)) - 1;
    mpq_i128 lo = -hi - 1;
    mpq_i128 r;
    switch (o) {
    case MPQ_OVF_SAT_SYM:
        lo = -hi;
        r = v < lo ? lo : v > hi ? hi : v;
        break;
    case MPQ_OVF_WRAP:
        r = wrap_bits(v, bits);
        break;
    case MPQ_OVF_SAT:
    case MPQ_OVF_COUNT:
    default:
        r = v < lo ? lo : v > hi ? hi : v;
        break;
    }
    if (overflowed)
        *overflowed = (r != v);
    return (int64_t)r;
}

int64_t mpq_acc_fit(int64_t v, unsigned bits, mpq_acc_mode mode, int *overflowed)
{
    return mpq_fit(v, bits, mode == MPQ_ACC_SAT ? MPQ_OVF_SAT : MPQ_OVF_WRAP, overflowed);
}

mpq_i128 mpq_round_shift(mpq_i128 v, unsigned s, mpq_round r)
{
    if (s == 0)
        return v;
    if (s > 126)
        s = 126;
    mpq_i128 q = floor_shift(v, s);
    mpq_i128 rem = (mpq_i128)((mpq_u128)v & (((mpq_u128)1 << s) - 1)); /* 0 .. 2^s-1 */
    mpq_i128 half = (mpq_i128)1 << (s - 1);
    switch (r) {
    case MPQ_ROUND_FLOOR:
        return q;
    case MPQ_ROUND_ZERO:
        return (v < 0 && rem != 0) ? q + 1 : q;
    case MPQ_ROUND_HALF_UP:
        return rem >= half ? q + 1 : q;
    case MPQ_ROUND_HALF_DOWN:
        return rem > half ? q + 1 : q;
    case MPQ_ROUND_HALF_AWAY:
        if (rem == half)
            return v < 0 ? q : q + 1;
        return rem > half ? q + 1 : q;
    case MPQ_ROUND_HALF_EVEN:
        if (rem == half)
            return (q & 1) ? q + 1 : q;
        return rem > half ? q + 1 : q;
    case MPQ_ROUND_COUNT:
    default:
        return q;
    }
}

int64_t mpq_mulshift(int64_t acc, int64_t mult, unsigned rshift, mpq_round r, unsigned bits,
                     mpq_ovf_mode o, int *overflowed)
{
    mpq_i128 prod = (mpq_i128)acc * mult; /* |prod| < 2^126: exact */
    return mpq_fit(mpq_round_shift(prod, rshift, r), bits, o, overflowed);
}

int32_t mpq_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * b; /* |ab| <= 2^62 */
    int64_t nudge = ab >= 0 ? (INT64_C(1) << 30) : 1 - (INT64_C(1) << 30);
    /* gemmlowp divides with C truncation toward zero. */
    return (int32_t)((ab + nudge) / (INT64_C(1) << 31));
}

int32_t mpq_rdbpot(int32_t x, int exponent)
{
    if (exponent <= 0)
        return x;
    if (exponent > 31)
        exponent = 31;
    int64_t mask = (INT64_C(1) << exponent) - 1;
    int64_t rem = (int64_t)((uint64_t)(int64_t)x & (uint64_t)mask);
    int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    int64_t q = (int64_t)floor_shift(x, (unsigned)exponent);
    return (int32_t)(q + (rem > threshold ? 1 : 0));
}

int32_t mpq_requant_double(int32_t acc, int32_t mult, int shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    int32_t a = wrap32((int64_t)((uint64_t)(int64_t)acc << left));
    return mpq_rdbpot(mpq_srdhm(a, mult), right);
}

int32_t mpq_requant_single(int32_t acc, int32_t mult, int shift)
{
    if (shift > 30)
        shift = 30;
    if (shift < -31)
        shift = -31;
    mpq_i128 v = (mpq_i128)acc * mult + ((mpq_i128)1 << (30 - shift));
    return (int32_t)mpq_fit(floor_shift(v, (unsigned)(31 - shift)), 32, MPQ_OVF_SAT, NULL);
}

int32_t mpq_requant_s64_reduced(int64_t acc, int32_t mult, int shift)
{
    if (shift > 14)
        shift = 14;
    if (shift < -31)
        shift = -31;
    int64_t rm = mult < 0x7FFF0000 ? (int64_t)floor_shift((int64_t)mult + (1 << 15), 16) : 0x7FFF;
    mpq_i128 v = (mpq_i128)acc * rm + ((mpq_i128)1 << (14 - shift));
    return (int32_t)mpq_fit(floor_shift(v, (unsigned)(15 - shift)), 32, MPQ_OVF_SAT, NULL);
}

int mpq_quantize_multiplier(double real, int32_t *mult, int *shift)
{
    if (!(real >= 0.0) || isinf(real))
        return MPQ_EPARAM;
    if (real == 0.0) {
        *mult = 0;
        *shift = 0;
        return MPQ_OK;
    }
    int e;
    double q = frexp(real, &e);
    long long qf = llround(q * 2147483648.0); /* half away from zero, as TfLiteRound */
    if (qf == (1LL << 31)) {
        qf /= 2;
        e++;
    }
    if (e < -31) {
        e = 0;
        qf = 0;
    }
    if (e > 30) {
        e = 30;
        qf = (1LL << 31) - 1;
    }
    *mult = (int32_t)qf;
    *shift = e;
    return MPQ_OK;
}

void mpq_int_range(unsigned bits, int is_signed, int64_t *lo, int64_t *hi)
{
    if (bits < 1)
        bits = 1;
    if (bits > 32)
        bits = 32;
    if (is_signed) {
        *hi = (INT64_C(1) << (bits - 1)) - 1;
        *lo = -*hi - 1;
    } else {
        *lo = 0;
        *hi = (INT64_C(1) << bits) - 1;
    }
}

static const char *const round_names[MPQ_ROUND_COUNT] = {
    "floor", "zero", "half_up", "half_down", "half_away", "half_even"};
static const char *const ovf_names[MPQ_OVF_COUNT] = {"sat", "sat_sym", "wrap"};

const char *mpq_round_name(mpq_round r)
{
    return (unsigned)r < MPQ_ROUND_COUNT ? round_names[r] : "?";
}

const char *mpq_ovf_mode_name(mpq_ovf_mode o)
{
    return (unsigned)o < MPQ_OVF_COUNT ? ovf_names[o] : "?";
}

int mpq_round_parse(const char *s, mpq_round *r)
{
    for (unsigned i = 0; i < MPQ_ROUND_COUNT; i++)
        if (!strcmp(s, round_names[i])) {
            *r = (mpq_round)i;
            return MPQ_OK;
        }
    return MPQ_EPARAM;
}

int mpq_ovf_mode_parse(const char *s, mpq_ovf_mode *o)
{
    for (unsigned i = 0; i < MPQ_OVF_COUNT; i++)
        if (!strcmp(s, ovf_names[i])) {
            *o = (mpq_ovf_mode)i;
            return MPQ_OK;
        }
    return MPQ_EPARAM;
}

int32_t mpq_requant_one(const mpq_requant *rq, int64_t acc, unsigned c)
{
    unsigned i = rq->nparams > 1 ? c : 0;
    int32_t mult = rq->mult[i], shift = rq->shift[i];
    int64_t v;
    switch (rq->kind) {
    case MPQ_RQ_SINGLE:
        v = mpq_requant_single(wrap32(acc), mult, shift);
        break;
    case MPQ_RQ_S64_REDUCED:
        v = mpq_requant_s64_reduced(acc, mult, shift);
        break;
    case MPQ_RQ_GENERIC:
        v = mpq_mulshift(acc, mult, shift < 0 ? 0u : (unsigned)shift, rq->round, 32, rq->ovf, NULL);
        break;
    case MPQ_RQ_DOUBLE:
    case MPQ_RQ_COUNT:
    default:
        v = mpq_requant_double(wrap32(acc), mult, shift);
        break;
    }
    v += rq->out_offset;
    if (v < rq->act_min)
        v = rq->act_min;
    if (v > rq->act_max)
        v = rq->act_max;
    return (int32_t)v;
}
