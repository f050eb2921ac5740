/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_arith.c: exact integer arithmetic of the golden model: accumulator fit (the one
 * in mpq_fit.h, for every width and overflow mode), rounding shifts, the generic
 * multiply-and-shift, TFLite's QuantizeMultiplier, names of the modes. The requantizers that
 * rtl/mpq_requant.sv mirrors are in mpq_requant.c.
 *
 * Every wrap and every arithmetic shift is done on unsigned or 128-bit values so that no
 * line relies on signed overflow or on the implementation-defined right shift of negatives.
 */
#include <math.h>
#include <string.h>

#include "arith/mpq.h"
#include "arith/mpq_fit.h"
#include "arith/mpq_mac.h"

int64_t mpq_fit_wide(mpq_i128 v, unsigned bits, mpq_ovf_mode o, int *overflowed)
{
    if (bits < 1)
        bits = 1;
    if (bits > 64)
        bits = 64;
    int64_t v64;
    if (o == MPQ_OVF_WRAP) {
        uint64_t u = (uint64_t)(mpq_u128)v;
        v64 = u > (uint64_t)INT64_MAX ? -(int64_t)(UINT64_MAX - u) - 1 : (int64_t)u;
    } else {
        v64 = v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (int64_t)v;
    }
    int ignored = 0;
    int64_t r = mpq_fit_acc(v64, bits, o != MPQ_OVF_WRAP, &ignored);
    if (o == MPQ_OVF_SAT_SYM && r == -(int64_t)((UINT64_MAX >> 1) >> (64 - bits)) - 1)
        r++; /* the symmetric range leaves out the most negative value */
    if (overflowed)
        *overflowed = (mpq_i128)r != v;
    return r;
}

int64_t mpq_fit(int64_t v, unsigned bits, mpq_ovf_mode o, int *overflowed)
{
    return mpq_fit_wide(v, bits, o, overflowed);
}

int64_t mpq_acc_fit(int64_t v, unsigned bits, mpq_acc_mode mode, int *overflowed)
{
    return mpq_fit_wide(v, bits, mode == MPQ_ACC_SAT ? MPQ_OVF_SAT : MPQ_OVF_WRAP, overflowed);
}

int64_t mpq_round_shift(int64_t v, unsigned s, mpq_round r)
{
    /* |round(v / 2^s)| <= |v|/2 + 1 for s >= 1: the result fits int64. */
    return (int64_t)mpq_round_shift_wide(v, s, r);
}

mpq_i128 mpq_round_shift_wide(mpq_i128 v, unsigned s, mpq_round r)
{
    if (s == 0)
        return v;
    if (s > 126)
        s = 126;
    mpq_i128 q = mpq_floor_shift(v, s);
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
    return mpq_fit_wide(mpq_round_shift_wide(prod, rshift, r), bits, o, overflowed);
}

int mpq_multiplier_split(double real, int64_t *q, int *e)
{
    *q = 0;
    *e = 0;
    if (!(real >= 0.0) || isinf(real))
        return MPQ_EPARAM;
    if (real == 0.0)
        return MPQ_OK;
    int ex;
    int64_t qf = (int64_t)llround(frexp(real, &ex) * 2147483648.0); /* half away from zero, as TfLiteRound */
    if (qf == INT64_C(1) << 31) {
        qf /= 2;
        ex++;
    }
    if (ex < -31)
        return MPQ_OK;
    *q = qf;
    *e = ex;
    return MPQ_OK;
}

int mpq_quantize_multiplier(double real, int32_t *mult, int *shift)
{
    int64_t q;
    int e;
    if (mpq_multiplier_split(real, &q, &e))
        return MPQ_EPARAM;
    if (e > 30) {
        e = 30;
        q = INT32_MAX;
    }
    *mult = (int32_t)q;
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

int mpq_name_find(const char *const *names, unsigned count, const char *s)
{
    for (unsigned i = 0; i < count; i++)
        if (!strcmp(s, names[i]))
            return (int)i;
    return -1;
}

int mpq_round_parse(const char *s, mpq_round *r)
{
    int i = mpq_name_find(round_names, MPQ_ROUND_COUNT, s);
    if (i < 0)
        return MPQ_EPARAM;
    *r = (mpq_round)i;
    return MPQ_OK;
}

int mpq_ovf_mode_parse(const char *s, mpq_ovf_mode *o)
{
    int i = mpq_name_find(ovf_names, MPQ_OVF_COUNT, s);
    if (i < 0)
        return MPQ_EPARAM;
    *o = (mpq_ovf_mode)i;
    return MPQ_OK;
}
