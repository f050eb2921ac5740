/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_hw.h: the accelerator's configuration and ports as the C side sees them.
 *
 * - mpq_hwcfg (mpq_layout.h): the RTL configuration, read from rtl/cfg/NAME.cfg, checked
 *   against the legality rules of mpq_layout.c, packed into the hwcfg_o port's value.
 * - mpq_port_in / mpq_port_out: the value of every port in one cycle (docs/timing.md), from
 *   the generated contract/mpq_ports.h, with the one packing of the 1-bit ports.
 * - bit-field helpers on the word arrays that hold wide ports.
 *
 * Wide ports are arrays of uint32_t words, little-endian (word 0 holds bits 31..0), the
 * same layout as Verilator's VlWide. Bits above a port's width are zero.
 * Functions that can fail return 0 or a negative MPQ_E* code (mpq.h) and, where they take
 * err/errlen, leave a message there; the library never prints and never exits.
 */
#ifndef MPQ_HW_H
#define MPQ_HW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "contract/mpq_layout.h"
#include "arith/mpq_bits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Legality per the parameter table (docs/timing.md, "Parameters"), and every data port
 * within MPQ_PORT_WORDS_MAX words. Returns 0, or MPQ_EPARAM with a message in err. */
int mpq_hwcfg_check(const mpq_hwcfg *hw, char *err, size_t errlen);
/* Parse a `Key = value` file (rtl/cfg/NAME.cfg). Returns 0; MPQ_EIO (cannot open or read),
 * MPQ_EFORMAT (unknown, missing or duplicate keys, bad values) or MPQ_EPARAM (an illegal
 * combination), each with "path:line: what is wrong" in err. */
int mpq_hwcfg_load(const char *path, mpq_hwcfg *hw, char *err, size_t errlen);
/* The path of configuration `name`: name itself when it contains '/' or ends in ".cfg";
 * otherwise NAME.cfg in the first of $MPQ_CFG_DIR, ./rtl/cfg and the rtl/cfg folder of the
 * source tree this program was built in (found from the executable's place), where it exists.
 * Returns 0, or MPQ_EPARAM with "no configuration `name` (have: a b c)" in err. */
int mpq_hwcfg_find(const char *name, char *path, size_t pathlen, char *err, size_t errlen);
/* Configuration `name` found (mpq_hwcfg_find) and loaded (mpq_hwcfg_load) into hw; its path
 * into path[pathlen] unless path is NULL. Returns 0 or the first error, with its message in
 * err. */
int mpq_hwcfg_load_named(const char *name, mpq_hwcfg *hw, char *path, size_t pathlen, char *err, size_t errlen);
/* The names of the configurations in the folder mpq_hwcfg_find would search, space
 * separated and sorted, into buf (empty when none). Returns buf. */
const char *mpq_hwcfg_list(char *buf, size_t len);
/* The hwcfg_o port value, and back. Returns 0; unpack returns MPQ_EVERSION when the port
 * reports another contract version and MPQ_EFORMAT when its unused bits are not zero. */
void mpq_hwcfg_pack(const mpq_hwcfg *hw, uint32_t words[MPQ_HWCFG_WORDS]);
int mpq_hwcfg_unpack(const uint32_t words[MPQ_HWCFG_WORDS], mpq_hwcfg *hw);
/* "Lanes=8 KLanes=16 HpPerGroup=1 ..." for messages; returns buf. */
const char *mpq_hwcfg_str(const mpq_hwcfg *hw, char *buf, size_t len);
/* 1 when every parameter is equal, else 0. */
int mpq_hwcfg_equal(const mpq_hwcfg *a, const mpq_hwcfg *b);


/* Largest data port: every mpq_port_* buffer is this many words, whatever the config. */
#define MPQ_PORT_WORDS_MAX 256u

/* mpq_port_in / mpq_port_out, the value of every port in one cycle, and the lists of the
 * ports (generated from mpq_ports[] of mpq_layout.c). */
#include "contract/mpq_ports.h"

/* The 1-bit ports, each at its bit of a vector-file record (MPQ_REC_*): the one packing of
 * the port flags, which the vector files, the source thread and the benchmark's loop share.
 * _in / _out: one side's; mpq_port_bits: both (bytes A and B of a record). */
static inline uint32_t mpq_port_in_bits(const mpq_port_in *in)
{
    uint32_t w = 0;
#define MPQ_X_(idx, field, port, rec) w |= (uint32_t)(in->field != 0) << (rec);
    MPQ_IN_BITS(MPQ_X_)
#undef MPQ_X_
    return w;
}
static inline uint32_t mpq_port_out_bits(const mpq_port_out *out)
{
    uint32_t w = 0;
#define MPQ_X_(idx, field, port, rec) w |= (uint32_t)(out->field != 0) << (rec);
    MPQ_OUT_BITS(MPQ_X_)
#undef MPQ_X_
    return w;
}
static inline uint32_t mpq_port_bits(const mpq_port_in *in, const mpq_port_out *out)
{
    return mpq_port_in_bits(in) | mpq_port_out_bits(out);
}

/* The generated structs put a side's 1-bit ports in their first bytes, in record-bit order
 * (MPQ_*_BITS_REC0: the record bit of the port at offset 0): then the 1-bit ports of a side
 * are set from w in one 64-bit store of bytes, a bit per byte (little-endian hosts; another
 * layout takes the port-by-port path: the condition is a compile-time constant). */
#define MPQ_X_REC0_(type, field, rec) (offsetof(type, field) == 0 ? (unsigned)(rec) : 0u)
#define MPQ_X_IN_REC0_(idx, field, port, rec) +MPQ_X_REC0_(mpq_port_in, field, rec)
#define MPQ_X_OUT_REC0_(idx, field, port, rec) +MPQ_X_REC0_(mpq_port_out, field, rec)
#define MPQ_X_ONE_(idx, field, port, rec) +1u
#define MPQ_X_PLACED_(type, field, rec, rec0, n)                                                     \
    (sizeof ((type *)0)->field == 1 && offsetof(type, field) + (rec0) == (unsigned)(rec) &&      \
     offsetof(type, field) < (n))
#define MPQ_X_IN_PLACED_(idx, field, port, rec) &&MPQ_X_PLACED_(mpq_port_in, field, rec, MPQ_IN_BITS_REC0, MPQ_IN_BITS_N)
#define MPQ_X_OUT_PLACED_(idx, field, port, rec) &&MPQ_X_PLACED_(mpq_port_out, field, rec, MPQ_OUT_BITS_REC0, MPQ_OUT_BITS_N)
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define MPQ_PORT_BYTES_LE 1
#else
#define MPQ_PORT_BYTES_LE 0
#endif
enum {
    MPQ_IN_BITS_REC0 = 0u MPQ_IN_BITS(MPQ_X_IN_REC0_),
    MPQ_OUT_BITS_REC0 = 0u MPQ_OUT_BITS(MPQ_X_OUT_REC0_),
    MPQ_IN_BITS_N = 0u MPQ_IN_BITS(MPQ_X_ONE_),
    MPQ_OUT_BITS_N = 0u MPQ_OUT_BITS(MPQ_X_ONE_),
};
/* 1 when a side's 1-bit ports are bytes at their places in that order. */
enum {
    MPQ_IN_BITS_PLACED = MPQ_PORT_BYTES_LE && MPQ_IN_BITS_N <= 8u MPQ_IN_BITS(MPQ_X_IN_PLACED_),
    MPQ_OUT_BITS_PLACED = MPQ_PORT_BYTES_LE && MPQ_OUT_BITS_N <= 8u MPQ_OUT_BITS(MPQ_X_OUT_PLACED_),
};
#undef MPQ_X_REC0_
#undef MPQ_X_IN_REC0_
#undef MPQ_X_OUT_REC0_
#undef MPQ_X_ONE_
#undef MPQ_X_PLACED_
#undef MPQ_X_IN_PLACED_
#undef MPQ_X_OUT_PLACED_

/* Bit i of b (i < 8) into byte i, as 0 or 1: each byte takes a copy of b and keeps its bit,
 * then adding 0x7f carries a set bit into the byte's top bit (and never past it). */
static inline uint64_t mpq_bits_to_bytes(uint32_t b)
{
    uint64_t x = (uint64_t)(b & 0xffu) * 0x0101010101010101ull & 0x8040201008040201ull;
    return ((x + 0x7f7f7f7f7f7f7f7full) & 0x8080808080808080ull) >> 7;
}

/* The 1-bit ports from w, as the functions above pack them. */
static inline void mpq_port_in_bits_set(uint32_t w, mpq_port_in *in)
{
    if (MPQ_IN_BITS_PLACED) {
        uint64_t bytes = mpq_bits_to_bytes(w >> MPQ_IN_BITS_REC0);
        memcpy(in, &bytes, MPQ_IN_BITS_N);
        return;
    }
#define MPQ_X_(idx, field, port, rec) in->field = (uint8_t)(w >> (rec) & 1u);
    MPQ_IN_BITS(MPQ_X_)
#undef MPQ_X_
}
static inline void mpq_port_out_bits_set(uint32_t w, mpq_port_out *out)
{
    if (MPQ_OUT_BITS_PLACED) {
        uint64_t bytes = mpq_bits_to_bytes(w >> MPQ_OUT_BITS_REC0);
        memcpy(out, &bytes, MPQ_OUT_BITS_N);
        return;
    }
#define MPQ_X_(idx, field, port, rec) out->field = (uint8_t)(w >> (rec) & 1u);
    MPQ_OUT_BITS(MPQ_X_)
#undef MPQ_X_
}
static inline void mpq_port_bits_set(uint32_t w, mpq_port_in *in, mpq_port_out *out)
{
    mpq_port_in_bits_set(w, in);
    mpq_port_out_bits_set(w, out);
}

/* The 32-bit words that a bus of `bits` bits takes as words: by its store (MPQ_*_BUSES). */
static inline unsigned mpq_port_words_WORDS(unsigned bits) { return MPQ_WORDS(bits); }
static inline unsigned mpq_port_words_U64(unsigned bits)
{
    (void)bits;
    return 2;
}

#ifdef __cplusplus
}
#endif
#endif
