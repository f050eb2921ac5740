/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_fit.h (internal, not installed): the one accumulator fit of the golden model and the
 * 128-bit helpers behind the public functions. The public header stays portable C: the
 * GCC/Clang `__int128` lives here, for the library's own files and its tests.
 *
 * Hardware counterpart of mpq_fit_acc: the accumulator register of rtl/mpq_lane.sv, which
 * keeps the low AccBits bits of each sum (wrap) or clamps it (saturate).
 */
#ifndef MPQ_FIT_H
#define MPQ_FIT_H

#include <stdint.h>

#include "arith/mpq.h"

__extension__ typedef __int128 mpq_i128;
__extension__ typedef unsigned __int128 mpq_u128;

/* v reduced to a signed `bits`-bit accumulator (1..64): two's complement wrap modulo 2^bits
 * (sat == 0) or clamp to [-2^(bits-1), 2^(bits-1)-1] (sat != 0). *ovf is set to 1 when the
 * result differs from v and left alone otherwise (a sticky flag a caller can carry over a
 * whole reduction). Every wrap is done on uint64_t: no signed overflow. */
static inline int64_t mpq_fit_acc(int64_t v, unsigned bits, int sat, int *ovf)
{
    int64_t hi = (int64_t)((UINT64_MAX >> 1) >> (64 - bits)), lo = -hi - 1;
    if (v >= lo && v <= hi)
        return v;
    *ovf = 1;
    if (sat)
        return v > hi ? hi : lo;
    uint64_t m = UINT64_MAX >> (64 - bits), u = (uint64_t)v & m;
    /* u > hi: the sign bit of the low `bits` bits is set; subtract 2^bits on unsigned. */
    return u > (uint64_t)hi ? -(int64_t)(m - u) - 1 : (int64_t)u;
}

/* floor(v / 2^s), 0 <= s <= 127, without shifting a negative value. */
static inline mpq_i128 mpq_floor_shift(mpq_i128 v, unsigned s)
{
    if (v >= 0)
        return (mpq_i128)((mpq_u128)v >> s);
    return -(mpq_i128)((mpq_u128)(~v) >> s) - 1;
}

/* mpq_fit for a 128-bit v: the value is first brought into int64 range (clamped for the
 * saturating modes, its low 64 bits for wrap: wrapping modulo 2^bits, bits <= 64, does not
 * see the rest), then reduced by mpq_fit_acc. *overflowed (if not NULL) = result != v. */
int64_t mpq_fit_wide(mpq_i128 v, unsigned bits, mpq_ovf_mode o, int *overflowed);
/* mpq_round_shift for a 128-bit v, s in 0..126. */
mpq_i128 mpq_round_shift_wide(mpq_i128 v, unsigned s, mpq_round r);

#endif
