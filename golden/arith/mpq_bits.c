/* SPDX-License-Identifier: Apache-2.0 */
/* mpq_bits.c: bit fields of word arrays (mpq_bits.h). */
#include "arith/mpq_bits.h"

void mpq_bits_put(uint32_t *w, unsigned lsb, unsigned width, uint32_t value)
{
    if (width == 0)
        return;
    uint64_t mask = (width >= 32 ? 0xffffffffull : ((1ull << width) - 1u));
    uint64_t v = (uint64_t)value & mask;
    unsigned word = lsb / 32u, off = lsb % 32u;
    uint64_t cur = (uint64_t)w[word] | (off + width > 32u ? (uint64_t)w[word + 1] << 32 : 0);
    cur = (cur & ~(mask << off)) | (v << off);
    w[word] = (uint32_t)cur;
    if (off + width > 32u)
        w[word + 1] = (uint32_t)(cur >> 32);
}

uint32_t mpq_bits_get(const uint32_t *w, unsigned lsb, unsigned width)
{
    if (width == 0)
        return 0;
    uint64_t mask = (width >= 32 ? 0xffffffffull : ((1ull << width) - 1u));
    unsigned word = lsb / 32u, off = lsb % 32u;
    uint64_t cur = (uint64_t)w[word] | (off + width > 32u ? (uint64_t)w[word + 1] << 32 : 0);
    return (uint32_t)((cur >> off) & mask);
}

int32_t mpq_sext(uint32_t v, unsigned width)
{
    if (width >= 32)
        return (int32_t)(v > 0x7fffffffu ? -(int64_t)(~v) - 1 : (int64_t)v);
    uint32_t m = (1u << width) - 1u;
    v &= m;
    if (v >> (width - 1))
        return (int32_t)((int64_t)v - ((int64_t)1 << width));
    return (int32_t)v;
}
