/* SPDX-License-Identifier: Apache-2.0 */
/* mpq_hw.c: the RTL configuration (rtl/cfg/<name>.cfg, hwcfg_o) and port layout helpers. */
#include "mpq_hw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpq.h"

static int is_pow2(unsigned v) { return v != 0 && (v & (v - 1)) == 0; }

static unsigned log2u(unsigned v)
{
    unsigned r = 0;
    while ((1u << r) < v)
        r++;
    return r;
}

int mpq_hwcfg_check(const mpq_hwcfg *hw, char *err, size_t errlen)
{
#define RANGE(field, name, lo, hi)                                                         \
    do {                                                                                   \
        if (hw->field < (lo) || hw->field > (hi)) {                                        \
            snprintf(err, errlen, "%s = %u is outside %u..%u", name, hw->field, (unsigned)(lo), \
                     (unsigned)(hi));                                                      \
            return MPQ_EPARAM;                                                             \
        }                                                                                  \
    } while (0)
    RANGE(lanes, "Lanes", 1, MPQ_LANES_MAX);
    RANGE(klanes, "KLanes", 2, MPQ_KLANES_MAX);
    if (!is_pow2(hw->klanes)) {
        snprintf(err, errlen, "KLanes = %u is not a power of two", hw->klanes);
        return MPQ_EPARAM;
    }
    if (hw->hp_per_group > hw->klanes) {
        snprintf(err, errlen, "HpPerGroup = %u is more than KLanes = %u", hw->hp_per_group, hw->klanes);
        return MPQ_EPARAM;
    }
    RANGE(act_bits, "ActBits", 2, 8);
    RANGE(hp_bits, "HpBits", 2, 8);
    RANGE(alpha_bits, "AlphaBits", 2, 16);
    RANGE(acc_bits, "AccBits", 16, 32);
    RANGE(out_bits, "OutBits", 2, 16);
    RANGE(kmax, "KMax", hw->klanes, 65535);
    if (hw->kmax % hw->klanes != 0) {
        snprintf(err, errlen, "KMax = %u is not a multiple of KLanes = %u", hw->kmax, hw->klanes);
        return MPQ_EPARAM;
    }
#undef RANGE
    /* Every data port must fit the fixed-size port buffers. */
    unsigned widest = mpq_hw_cfg_w(hw);
    if (mpq_hw_wgt_w(hw) > widest)
        widest = mpq_hw_wgt_w(hw);
    if (MPQ_WORDS(widest) > MPQ_PORT_WORDS_MAX) {
        snprintf(err, errlen, "a data port would be %u bits wide, more than %u", widest,
                 MPQ_PORT_WORDS_MAX * 32u);
        return MPQ_EPARAM;
    }
    return 0;
}

static const struct {
    const char *key;
    size_t off;
} hw_keys[] = {
    {"Lanes", offsetof(mpq_hwcfg, lanes)},
    {"KLanes", offsetof(mpq_hwcfg, klanes)},
    {"HpPerGroup", offsetof(mpq_hwcfg, hp_per_group)},
    {"ActBits", offsetof(mpq_hwcfg, act_bits)},
    {"HpBits", offsetof(mpq_hwcfg, hp_bits)},
    {"AlphaBits", offsetof(mpq_hwcfg, alpha_bits)},
    {"AccBits", offsetof(mpq_hwcfg, acc_bits)},
    {"OutBits", offsetof(mpq_hwcfg, out_bits)},
    {"KMax", offsetof(mpq_hwcfg, kmax)},
};
#define N_KEYS (sizeof hw_keys / sizeof hw_keys[0])

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

int mpq_hwcfg_load(const char *path, mpq_hwcfg *hw, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return MPQ_EIO;
    }
    memset(hw, 0, sizeof *hw);
    unsigned seen[N_KEYS] = {0};
    char line[512];
    unsigned lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s:%u: line too long", path, lineno);
            rc = MPQ_EFORMAT;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (*s == '\0')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%u: expected `Key = value`", path, lineno);
            rc = MPQ_EFORMAT;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        size_t i;
        for (i = 0; i < N_KEYS; i++)
            if (strcmp(key, hw_keys[i].key) == 0)
                break;
        if (i == N_KEYS) {
            snprintf(err, errlen, "%s:%u: unknown key `%s`", path, lineno, key);
            rc = MPQ_EFORMAT;
            break;
        }
        if (seen[i]) {
            snprintf(err, errlen, "%s:%u: `%s` given twice (first on line %u)", path, lineno, key,
                     seen[i]);
            rc = MPQ_EFORMAT;
            break;
        }
        char *end;
        errno = 0;
        unsigned long v = strtoul(val, &end, 10);
        if (*val < '0' || *val > '9' || *end != '\0' || errno != 0 || v > 1000000ul) {
            snprintf(err, errlen, "%s:%u: `%s` is not a valid value for %s", path, lineno, val, key);
            rc = MPQ_EFORMAT;
            break;
        }
        seen[i] = lineno;
        *(unsigned *)((char *)hw + hw_keys[i].off) = (unsigned)v;
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = MPQ_EIO;
    }
    fclose(f);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < N_KEYS; i++) {
        if (!seen[i]) {
            snprintf(err, errlen, "%s: missing key `%s`", path, hw_keys[i].key);
            return MPQ_EFORMAT;
        }
    }
    char why[200];
    if (mpq_hwcfg_check(hw, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        return MPQ_EPARAM;
    }
    return 0;
}

void mpq_hwcfg_pack(const mpq_hwcfg *hw, uint32_t w[MPQ_HWCFG_WORDS])
{
    memset(w, 0, MPQ_HWCFG_WORDS * sizeof w[0]);
    w[0] = (MPQ_CONTRACT_VERSION & 0xffu) | (hw->lanes & 0xffu) << 8 | (hw->klanes & 0xffu) << 16 |
           (hw->hp_per_group & 0xffu) << 24;
    w[1] = (hw->act_bits & 0xffu) | (hw->hp_bits & 0xffu) << 8 | (hw->alpha_bits & 0xffu) << 16 |
           (hw->acc_bits & 0xffu) << 24;
    w[2] = (hw->out_bits & 0xffu) | (hw->kmax & 0xffffffu) << 8;
    w[3] = 0;
}

int mpq_hwcfg_unpack(const uint32_t w[MPQ_HWCFG_WORDS], mpq_hwcfg *hw)
{
    if ((w[0] & 0xffu) != MPQ_CONTRACT_VERSION || w[3] != 0)
        return MPQ_EFORMAT;
    hw->lanes = w[0] >> 8 & 0xffu;
    hw->klanes = w[0] >> 16 & 0xffu;
    hw->hp_per_group = w[0] >> 24 & 0xffu;
    hw->act_bits = w[1] & 0xffu;
    hw->hp_bits = w[1] >> 8 & 0xffu;
    hw->alpha_bits = w[1] >> 16 & 0xffu;
    hw->acc_bits = w[1] >> 24 & 0xffu;
    hw->out_bits = w[2] & 0xffu;
    hw->kmax = w[2] >> 8 & 0xffffffu;
    return 0;
}

const char *mpq_hwcfg_str(const mpq_hwcfg *hw, char *buf, size_t len)
{
    snprintf(buf, len,
             "Lanes=%u KLanes=%u HpPerGroup=%u ActBits=%u HpBits=%u AlphaBits=%u AccBits=%u "
             "OutBits=%u KMax=%u",
             hw->lanes, hw->klanes, hw->hp_per_group, hw->act_bits, hw->hp_bits, hw->alpha_bits,
             hw->acc_bits, hw->out_bits, hw->kmax);
    return buf;
}

int mpq_hwcfg_equal(const mpq_hwcfg *a, const mpq_hwcfg *b)
{
    return a->lanes == b->lanes && a->klanes == b->klanes && a->hp_per_group == b->hp_per_group &&
           a->act_bits == b->act_bits && a->hp_bits == b->hp_bits &&
           a->alpha_bits == b->alpha_bits && a->acc_bits == b->acc_bits &&
           a->out_bits == b->out_bits && a->kmax == b->kmax;
}

unsigned mpq_hw_idx_w(const mpq_hwcfg *hw) { return log2u(hw->klanes); }
unsigned mpq_hw_lane_w(const mpq_hwcfg *hw)
{
    return 2u * hw->klanes + hw->hp_per_group * (mpq_hw_idx_w(hw) + hw->hp_bits);
}
unsigned mpq_hw_cfg_w(const mpq_hwcfg *hw) { return 128u + 96u * hw->lanes; }
unsigned mpq_hw_wgt_w(const mpq_hwcfg *hw) { return hw->lanes * mpq_hw_lane_w(hw); }
unsigned mpq_hw_act_w(const mpq_hwcfg *hw) { return hw->klanes * hw->act_bits; }
unsigned mpq_hw_out_w(const mpq_hwcfg *hw) { return hw->lanes * hw->out_bits; }

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
