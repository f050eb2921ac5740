/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq.h: bit-exact quantized arithmetic and layers (the functional golden model).
 *
 * SEED: this header was started with the declarations other parts of the tree build on
 * (error codes, accumulator fit, TFLite requantization, the fully-connected layer).
 * Their names and meanings are fixed; the rest of the library is added below them.
 */
#ifndef MPQ_H
#define MPQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status codes: 0 ok, negative error ---- */
#define MPQ_OK 0
#define MPQ_EPARAM (-1)   /* impossible or out-of-range parameter */
#define MPQ_ENOMEM (-2)
#define MPQ_EIO (-3)      /* read/write failure */
#define MPQ_EFORMAT (-4)  /* malformed input file */
#define MPQ_ETRUNC (-5)   /* input ends early */
#define MPQ_ECORRUPT (-6) /* checksum or compressed-stream corruption */
#define MPQ_EVERSION (-7) /* unsupported format version */
#define MPQ_ECONFIG (-8)  /* made for another RTL configuration */
const char *mpq_strerror(int status);

/* ---- Accumulator ---- */
typedef enum mpq_acc_mode { MPQ_ACC_WRAP = 0, MPQ_ACC_SAT = 1 } mpq_acc_mode;

/* Reduce exact v to a signed `bits`-bit accumulator (1..64): wrap modulo 2^bits or clamp.
 * *overflowed (if not NULL) is set to 1 when the result differs from v, else 0. */
int64_t mpq_acc_fit(int64_t v, unsigned bits, mpq_acc_mode mode, int *overflowed);

/* ---- gemmlowp / TFLite requantization ---- */
/* gemmlowp SaturatingRoundingDoublingHighMul: (a*b + nudge) / 2^31 truncated, nudge rounds
 * half up; INT32_MIN*INT32_MIN saturates to INT32_MAX. */
int32_t mpq_srdhm(int32_t a, int32_t b);
/* gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero, 0 <= exponent <= 31. */
int32_t mpq_rdbpot(int32_t x, int exponent);
/* TFLite MultiplyByQuantizedMultiplier, double rounding: left shift max(shift,0) with 32-bit
 * wrap, srdhm, then rdbpot by max(-shift,0). shift in -31..30. */
int32_t mpq_requant_double(int32_t acc, int32_t mult, int shift);

#ifdef __cplusplus
}
#endif
#endif
