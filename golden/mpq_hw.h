/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_hw.h: the accelerator as the C side sees it.
 *
 * - mpq_hwcfg: the RTL configuration (rtl/cfg/<name>.cfg, hwcfg_o port), its legality
 *   rules and derived widths.
 * - mpq_port_in / mpq_port_out: the value of every port in one cycle (docs/timing.md).
 * - mpq_cm: the golden cycle model, a C implementation of docs/timing.md.
 *
 * Wide ports are arrays of uint32_t words, little-endian (word 0 holds bits 31..0), the
 * same layout as Verilator's VlWide. Bits above a port's width are zero.
 * Errors are negative MPQ_E* codes (mpq.h); the library never prints and never exits.
 */
#ifndef MPQ_HW_H
#define MPQ_HW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MPQ_CONTRACT_VERSION 1u
#define MPQ_LANES_MAX 64u
#define MPQ_KLANES_MAX 64u
#define MPQ_HWCFG_WORDS 4u

typedef struct mpq_hwcfg {
    unsigned lanes, klanes, hp_per_group;
    unsigned act_bits, hp_bits, alpha_bits, acc_bits, out_bits;
    unsigned kmax;
} mpq_hwcfg;

/* Legality per docs/timing.md. Returns 0, or MPQ_EPARAM with a message in err. */
int mpq_hwcfg_check(const mpq_hwcfg *hw, char *err, size_t errlen);
/* Parse a `Key = value` file (rtl/cfg/NAME.cfg). Unknown or missing keys, duplicates and
 * illegal values are errors; err receives "path:line: what is wrong". */
int mpq_hwcfg_load(const char *path, mpq_hwcfg *hw, char *err, size_t errlen);
/* The hwcfg_o port value, and back. unpack fails (MPQ_EFORMAT) on a wrong contract version. */
void mpq_hwcfg_pack(const mpq_hwcfg *hw, uint32_t words[MPQ_HWCFG_WORDS]);
int mpq_hwcfg_unpack(const uint32_t words[MPQ_HWCFG_WORDS], mpq_hwcfg *hw);
/* "Lanes=8 KLanes=16 HpPerGroup=1 ..." for messages; returns buf. */
const char *mpq_hwcfg_str(const mpq_hwcfg *hw, char *buf, size_t len);
int mpq_hwcfg_equal(const mpq_hwcfg *a, const mpq_hwcfg *b);

/* Port widths in bits, and in 32-bit words. */
unsigned mpq_hw_idx_w(const mpq_hwcfg *hw);
unsigned mpq_hw_lane_w(const mpq_hwcfg *hw);
unsigned mpq_hw_cfg_w(const mpq_hwcfg *hw);
unsigned mpq_hw_wgt_w(const mpq_hwcfg *hw);
unsigned mpq_hw_act_w(const mpq_hwcfg *hw);
unsigned mpq_hw_out_w(const mpq_hwcfg *hw);
#define MPQ_WORDS(bits) (((bits) + 31u) / 32u)

/* Bit-field helpers on word arrays (fields up to 32 bits wide, any alignment). */
void mpq_bits_put(uint32_t *words, unsigned lsb, unsigned width, uint32_t value);
uint32_t mpq_bits_get(const uint32_t *words, unsigned lsb, unsigned width);
/* Sign-extend the low `width` bits of v. */
int32_t mpq_sext(uint32_t v, unsigned width);

/* Largest data port: every mpq_port_* buffer is this many words, whatever the config. */
#define MPQ_PORT_WORDS_MAX 256u

typedef struct mpq_port_in {
    uint8_t rst_n;
    uint8_t cfg_valid, wgt_valid, act_valid, out_ready;
    uint32_t cfg_data[MPQ_PORT_WORDS_MAX];
    uint32_t wgt_data[MPQ_PORT_WORDS_MAX];
    uint32_t act_data[MPQ_PORT_WORDS_MAX];
} mpq_port_in;

typedef struct mpq_port_out {
    uint8_t cfg_ready, wgt_ready, act_ready, out_valid, busy, done;
    uint64_t ovf; /* bit l = ovf_o[l] */
    uint32_t out_data[MPQ_PORT_WORDS_MAX]; /* don't-care when out_valid == 0 */
} mpq_port_out;

/* ---- Golden cycle model (docs/timing.md) ---- */
typedef struct mpq_cm mpq_cm;

/* Where the array is, for mismatch reports: tile = number of cfg handshakes - 1. */
typedef struct mpq_cm_where {
    long tile;       /* -1 before the first cfg handshake */
    int state;       /* 0 IDLE, 1 LOAD, 2 RUN, 3 DRAIN */
    unsigned wslice; /* weight slice being loaded (LOAD) */
    unsigned row;    /* activation row in the array (RUN) */
    unsigned slice;  /* k slice expected next (RUN): k = slice*KLanes .. +KLanes-1 */
    unsigned k_len, m_rows;
    long out_row;    /* row of the tile now on out_data_o, -1 when out is empty */
} mpq_cm_where;

/* Allocates a model in the reset state. Returns 0 or MPQ_EPARAM / MPQ_ENOMEM. */
int mpq_cm_new(const mpq_hwcfg *hw, mpq_cm **out);
void mpq_cm_free(mpq_cm *cm);
/* The output ports in the current cycle for these inputs (combinational; no state change). */
void mpq_cm_eval(const mpq_cm *cm, const mpq_port_in *in, mpq_port_out *out);
/* The rising clock edge at the end of the cycle whose inputs are `in`. */
void mpq_cm_tick(mpq_cm *cm, const mpq_port_in *in);
void mpq_cm_where_get(const mpq_cm *cm, mpq_cm_where *w);
/* Returns nonzero if a cfg beat violates the contract (value ranges); err names the field. */
int mpq_cm_check_cfg_beat(const mpq_hwcfg *hw, const uint32_t *cfg_data, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
