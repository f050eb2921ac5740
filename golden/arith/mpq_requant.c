/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_requant.c: the C twin of rtl/mpq_requant.sv, TFLite/gemmlowp requantization of one
 * accumulator. The RTL computes it in two combinational halves between pipeline registers:
 *   mul half: a = wrap32(acc << max(shift, 0)); hi = SaturatingRoundingDoublingHighMul(a, mult)
 *   out half: rq = RoundingDivideByPOT(hi, max(-shift, 0)); y = clamp(out_offset + rq, ...)
 * mpq_srdhm is the mul half's multiplier, mpq_rdbpot the out half's divider,
 * mpq_requant_double both, mpq_requant_one the whole unit with the clamp. The single-rounding
 * and int16 (64-bit accumulator) kinds are TFLite's other paths, which the RTL does not have.
 *
 * No signed overflow and no right shift of a negative value: 128-bit or unsigned arithmetic.
 */
#include "arith/mpq.h"
#include <stdio.h>

#include "arith/mpq_fit.h"
#include "arith/mpq_mac.h"

/* acc reduced to int32 by two's complement wrap (TFLite's int32 accumulator). */
static int32_t wrap32(int64_t v)
{
    return (int32_t)mpq_fit_wide(v, 32, MPQ_OVF_WRAP, NULL);
}

/* mul half: gemmlowp SaturatingRoundingDoublingHighMul (mpq_requant.sv `hi_o`). */
int32_t mpq_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * b; /* |ab| <= 2^62 */
    int64_t nudge = ab >= 0 ? (INT64_C(1) << 30) : 1 - (INT64_C(1) << 30);
    /* gemmlowp divides with C truncation toward zero. */
    return (int32_t)((ab + nudge) / (INT64_C(1) << 31));
}

/* out half: gemmlowp RoundingDivideByPOT (mpq_requant.sv `rq`). */
int32_t mpq_rdbpot(int32_t x, int exponent)
{
    if (exponent <= 0)
        return x;
    if (exponent > 31)
        exponent = 31;
    int64_t mask = (INT64_C(1) << exponent) - 1;
    int64_t rem = (int64_t)((uint64_t)(int64_t)x & (uint64_t)mask);
    int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    int64_t q = (int64_t)mpq_floor_shift(x, (unsigned)exponent);
    return (int32_t)(q + (rem > threshold ? 1 : 0));
}

/* mul half then out half: the datapath of rtl/mpq_requant.sv, without the clamp. */
int32_t mpq_requant_double(int32_t acc, int32_t mult, int shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    int32_t a = wrap32((int64_t)((uint64_t)(int64_t)acc << left));
    return mpq_rdbpot(mpq_srdhm(a, mult), right);
}

/* TFLite's single-rounding variant (not in the RTL: a software twin of the same step). */
int32_t mpq_requant_single(int32_t acc, int32_t mult, int shift)
{
    if (shift > 30)
        shift = 30;
    if (shift < -31)
        shift = -31;
    mpq_i128 v = (mpq_i128)acc * mult + ((mpq_i128)1 << (30 - shift));
    return (int32_t)mpq_fit_wide(mpq_floor_shift(v, (unsigned)(31 - shift)), 32, MPQ_OVF_SAT, NULL);
}

/* The int16-activation path of CMSIS-NN / TFLite (64-bit accumulator; not in the RTL). */
int32_t mpq_requant_s64_reduced(int64_t acc, int32_t mult, int shift)
{
    if (shift > 14)
        shift = 14;
    if (shift < -31)
        shift = -31;
    int64_t rm = mult < 0x7FFF0000 ? (int64_t)mpq_floor_shift((int64_t)mult + (1 << 15), 16) : 0x7FFF;
    mpq_i128 v = (mpq_i128)acc * rm + ((mpq_i128)1 << (14 - shift));
    return (int32_t)mpq_fit_wide(mpq_floor_shift(v, (unsigned)(15 - shift)), 32, MPQ_OVF_SAT, NULL);
}

/* One lane's whole requantizer, mpq_requant.sv's mul half and out half including the out
 * half's clamp(out_offset + rq, act_min, act_max); the other kinds are its software siblings. */
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

int mpq_requant_check(const mpq_requant *rq, unsigned n, char *err, size_t errlen)
{
    if (!rq->mult || !rq->shift || (rq->nparams != 1 && rq->nparams != n)) {
        snprintf(err, errlen, "requantization needs 1 or n=%u multipliers and shifts", n);
        return MPQ_EPARAM;
    }
    if (rq->act_min > rq->act_max) {
        snprintf(err, errlen, "act_min %d > act_max %d", rq->act_min, rq->act_max);
        return MPQ_EPARAM;
    }
    for (unsigned i = 0; i < rq->nparams; i++) {
        int sh = rq->shift[i];
        int bad = rq->mult[i] < 0;
        if (rq->kind == MPQ_RQ_GENERIC)
            bad |= sh < 0 || sh > 126;
        else
            bad |= sh < -31 || sh > (rq->kind == MPQ_RQ_S64_REDUCED ? 14 : 30);
        if (bad) {
            snprintf(err, errlen, "requantization parameter %u (mult %d, shift %d) out of range",
                     i, rq->mult[i], sh);
            return MPQ_EPARAM;
        }
    }
    return MPQ_OK;
}
