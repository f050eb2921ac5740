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

/* The 1-bit ports from w, as the functions above pack them. */
static inline void mpq_port_in_bits_set(uint32_t w, mpq_port_in *in)
{
#define MPQ_X_(idx, field, port, rec) in->field = (uint8_t)(w >> (rec) & 1u);
    MPQ_IN_BITS(MPQ_X_)
#undef MPQ_X_
}
static inline void mpq_port_out_bits_set(uint32_t w, mpq_port_out *out)
{
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
