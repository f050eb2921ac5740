/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_bits.h: bit fields of word arrays, the packing of every wide port, beat and
 * configuration word (the contract's tables, the port buffers, the driver). Words are
 * little-endian: bit i of the field array is bit i%32 of word i/32.
 */
#ifndef MPQ_BITS_H
#define MPQ_BITS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" { /* tb/mpq_dut.cpp's traced build calls them from C++ */
#endif

#define MPQ_WORDS(bits) (((bits) + 31u) / 32u)

/* Bit-field helpers on word arrays (fields up to 32 bits wide, any alignment). */
void mpq_bits_put(uint32_t *words, unsigned lsb, unsigned width, uint32_t value);
/* The field's value, zero-extended. */
uint32_t mpq_bits_get(const uint32_t *words, unsigned lsb, unsigned width);
/* The low `width` bits of v, sign-extended. */
int32_t mpq_sext(uint32_t v, unsigned width);

#ifdef __cplusplus
}
#endif
#endif
