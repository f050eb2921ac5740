/* SPDX-License-Identifier: Apache-2.0 */
/* The interface tables (mpq_layout.c): their consistency, the configuration-beat accessors
 * and legality check against independent, field-by-field references, and the configuration
 * lookup by name. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "arith/mpq.h"
#include "contract/mpq_hw.h"

/* Every bit of each part of the configuration beat belongs to exactly one field, and the
 * hwcfg_o fields do not overlap the version byte or each other. */
static void test_tables(void)
{
    uint8_t tile[MPQ_CFG_TILE_W] = {0}, lane[MPQ_CFG_LANE_W] = {0};
    for (int f = 0; f < MPQ_CFG_FIELD_COUNT; f++) {
        const mpq_cfg_desc *d = &mpq_cfg_fields[f];
        int is_lane = mpq_cfg_is_lane_field((mpq_cfg_field)f);
        unsigned part = is_lane ? MPQ_CFG_LANE_W : MPQ_CFG_TILE_W;
        CHECK(d->width >= 1 && d->lsb + d->width <= part, "field %s inside its part", d->name);
        for (unsigned b = d->lsb; b < d->lsb + d->width && b < part; b++) {
            uint8_t *used = is_lane ? &lane[b] : &tile[b];
            CHECK(*used == 0, "bit %u of the %s part used twice (%s)", b, is_lane ? "lane" : "tile",
                  d->name);
            *used = 1;
        }
    }
    for (unsigned b = 0; b < MPQ_CFG_TILE_W; b++)
        CHECK(tile[b], "tile bit %u belongs to no field", b);
    for (unsigned b = 0; b < MPQ_CFG_LANE_W; b++)
        CHECK(lane[b], "lane bit %u belongs to no field", b);

    uint8_t hw[MPQ_HWCFG_BITS] = {0};
    for (unsigned b = 0; b < 8; b++)
        hw[b] = 1; /* the contract version */
    mpq_hwcfg dflt;
    for (int p = 0; p < MPQ_P_COUNT; p++) {
        const mpq_param_desc *d = &mpq_params[p];
        CHECK(d->lo <= d->dflt && d->dflt <= d->hi, "%s default within its range", d->key);
        CHECK(d->hi < (1ull << d->hwcfg_width), "%s's largest value fits its hwcfg_o field", d->key);
        for (unsigned b = d->hwcfg_lsb; b < d->hwcfg_lsb + d->hwcfg_width && b < MPQ_HWCFG_BITS; b++) {
            CHECK(hw[b] == 0, "hwcfg_o bit %u used twice (%s)", b, d->key);
            hw[b] = 1;
        }
        mpq_hwcfg_set(&dflt, (mpq_param)p, d->dflt);
        CHECK_EQ(mpq_hwcfg_value(&dflt, (mpq_param)p), d->dflt, "set/get %s", d->key);
    }
    char err[256];
    CHECK_EQ(mpq_hwcfg_check(&dflt, err, sizeof err), 0, "the defaults are legal: %s", err);
    /* The port table keeps its own rules (names, one clock, streams, record bits), and the C
     * names of the ports drop the direction suffix. */
    CHECK_EQ(mpq_port_table_check(err, sizeof err), 0, "the port table: %s", err);
    char f[32];
    for (size_t i = 0; i < mpq_port_count; i++) {
        const char *n = mpq_ports[i].name;
        size_t len = strlen(n);
        mpq_port_field(&mpq_ports[i], f, sizeof f);
        CHECK(strlen(f) == len - (!strcmp(n + len - 3, "_ni") ? 1 : 2) && !strncmp(f, n, strlen(f)),
              "the C name of %s is %s", n, f);
    }
    /* The width table's C twins are the exported functions. */
    CHECK(mpq_widths[MPQ_W_LANE].c == mpq_hw_lane_w && mpq_widths[MPQ_W_CFG].c == mpq_hw_cfg_w,
          "width table entries");
}

static int64_t rnd_field(const mpq_cfg_desc *d)
{
    if (d->width >= 32)
        return d->is_signed ? (int64_t)(int32_t)(uint32_t)test_rand() : (int64_t)(uint32_t)test_rand();
    int64_t lo = d->is_signed ? -((int64_t)1 << (d->width - 1)) : 0;
    int64_t hi = d->is_signed ? ((int64_t)1 << (d->width - 1)) - 1 : ((int64_t)1 << d->width) - 1;
    return test_range(lo, hi);
}

/* put/get against a bit-by-bit reference; used bits as the RTL reads them. */
static void test_access(void)
{
    mpq_hwcfg hw = {8, 16, 1, 6, 8, 5, 32, 8, 1024, 1024};
    for (int it = 0; it < 2000; it++) {
        uint32_t beat[MPQ_PORT_WORDS_MAX] = {0};
        int64_t want[MPQ_CFG_FIELD_COUNT][8];
        for (unsigned l = 0; l < hw.lanes; l++) {
            for (int f = 0; f < MPQ_CFG_FIELD_COUNT; f++) {
                if (!mpq_cfg_is_lane_field((mpq_cfg_field)f) && l > 0)
                    continue;
                want[f][l] = rnd_field(&mpq_cfg_fields[f]);
                CHECK(mpq_cfg_fits((mpq_cfg_field)f, want[f][l]), "fits %s", mpq_cfg_fields[f].name);
                mpq_cfg_put(beat, (mpq_cfg_field)f, l, want[f][l]);
            }
        }
        for (unsigned l = 0; l < hw.lanes; l++) {
            for (int f = 0; f < MPQ_CFG_FIELD_COUNT; f++) {
                const mpq_cfg_desc *d = &mpq_cfg_fields[f];
                if (!mpq_cfg_is_lane_field((mpq_cfg_field)f) && l > 0)
                    continue;
                CHECK_EQ(mpq_cfg_get(beat, (mpq_cfg_field)f, l), want[f][l], "%s lane %u", d->name, l);
                /* bit-by-bit: bit b of the field's two's complement at lsb + b */
                unsigned lsb = mpq_cfg_lsb((mpq_cfg_field)f, l);
                for (unsigned b = 0; b < d->width; b++) {
                    unsigned at = lsb + b;
                    unsigned bit = (unsigned)(((uint64_t)want[f][l] >> b) & 1u);
                    CHECK_EQ(beat[at / 32] >> (at % 32) & 1u, bit, "%s bit %u", d->name, b);
                }
            }
        }
        /* The hardware's view: in_offset from ActBits+1 bits, alpha from AlphaBits bits. */
        int64_t off = mpq_cfg_get(beat, MPQ_CFG_IN_OFFSET, 0);
        int64_t m = (int64_t)1 << (hw.act_bits + 1), r = ((off % m) + m) % m;
        CHECK_EQ(mpq_cfg_get_used(&hw, beat, MPQ_CFG_IN_OFFSET, 0), r >= m / 2 ? r - m : r, "used in_offset");
        int64_t al = mpq_cfg_get(beat, MPQ_CFG_ALPHA, 3);
        m = (int64_t)1 << hw.alpha_bits;
        r = ((al % m) + m) % m;
        CHECK_EQ(mpq_cfg_get_used(&hw, beat, MPQ_CFG_ALPHA, 3), r >= m / 2 ? r - m : r, "used alpha");
    }
    CHECK(!mpq_cfg_fits(MPQ_CFG_C_LEN, 65536), "c_len 65536 does not fit");
    CHECK(!mpq_cfg_fits(MPQ_CFG_KH, 256), "kh 256 does not fit");
    CHECK(!mpq_cfg_fits(MPQ_CFG_IN_OFFSET, -32769), "in_offset -32769 does not fit");
    CHECK(mpq_cfg_fits(MPQ_CFG_BIAS, INT32_MIN), "bias INT32_MIN fits");
}

/* The legality rules written out by hand (docs/timing.md, contract version 2), against
 * mpq_cfg_check. */
static int ref_legal(const mpq_hwcfg *hw, const uint32_t *d)
{
    uint64_t c_len = mpq_bits_get(d, 0, 16), in_h = mpq_bits_get(d, 16, 16), in_w = mpq_bits_get(d, 32, 16);
    uint64_t batches = mpq_bits_get(d, 48, 16), out_h = mpq_bits_get(d, 64, 16), out_w = mpq_bits_get(d, 80, 16);
    uint64_t kh = mpq_bits_get(d, 96, 8), kw = mpq_bits_get(d, 104, 8), sy = mpq_bits_get(d, 112, 8);
    uint64_t sx = mpq_bits_get(d, 120, 8), dy = mpq_bits_get(d, 128, 8), dx = mpq_bits_get(d, 136, 8);
    if (c_len < 1 || c_len > hw->kmax || !in_h || !in_w || !batches || !out_h || !out_w)
        return 0;
    if (!kh || !kw || !sy || !sx || !dy || !dx)
        return 0;
    if (mpq_bits_get(d, 161, 15) != 0 || mpq_bits_get(d, 240, 16) != 0)
        return 0;
    int32_t in_off = mpq_sext(mpq_bits_get(d, 176, 16), 16), lim = 1 << hw->act_bits;
    if (in_off < -lim || in_off > lim - 1)
        return 0;
    int32_t omax = (1 << (hw->out_bits - 1)) - 1, omin = -omax - 1;
    int32_t amin = mpq_sext(mpq_bits_get(d, 208, 16), 16), amax = mpq_sext(mpq_bits_get(d, 224, 16), 16);
    if (amin < omin || amax > omax || amin > amax)
        return 0;
    uint64_t ns = (c_len + hw->klanes - 1) / hw->klanes;
    if (kh * kw * ns > hw->kmax / hw->klanes)
        return 0; /* the weights do not fit the weight buffer */
    if (((kh - 1) * dy + 1) * in_w * ns > hw->act_depth)
        return 0; /* the window's rows do not fit the activation ring */
    if (batches * in_h * in_w * ns >= (1ull << 32) || batches * out_h * out_w >= (1ull << 32))
        return 0;
    int32_t alim = 1 << (hw->alpha_bits - 1);
    for (unsigned l = 0; l < hw->lanes; l++) {
        unsigned b = 256u + 96u * l;
        int32_t mult = mpq_sext(mpq_bits_get(d, b + 32u, 32), 32);
        int32_t alpha = mpq_sext(mpq_bits_get(d, b + 64u, 16), 16);
        int32_t shift = mpq_sext(mpq_bits_get(d, b + 80u, 16), 16);
        if (mult < 0 || alpha < -alim || alpha > alim - 1 || shift < -31 || shift > 30)
            return 0;
    }
    return 1;
}

/* A geometry field: mostly small, now and then 0 (when bad) or its largest value. */
static int64_t geo(int bad, int64_t hi, int64_t top)
{
    int64_t r = test_range(0, 15);
    if (bad && r == 0)
        return 0;
    if (r == 1)
        return top;
    return test_range(1, hi);
}

static void test_check(void)
{
    mpq_hwcfg hw = {3, 4, 1, 6, 6, 5, 16, 10, 64, 64};
    unsigned legal = 0, tile_rule = 0;
    for (int it = 0; it < 20000; it++) {
        uint32_t beat[MPQ_PORT_WORDS_MAX] = {0};
        /* Mostly legal values, each field out of range now and then. */
        int bad = (int)test_range(0, 3) == 0;
        mpq_cfg_put(beat, MPQ_CFG_C_LEN, 0, bad && test_range(0, 3) == 0 ? test_range(0, 200) : test_range(1, 12));
        mpq_cfg_put(beat, MPQ_CFG_IN_H, 0, geo(bad, 20, 65535));
        mpq_cfg_put(beat, MPQ_CFG_IN_W, 0, geo(bad, 8, 65535));
        mpq_cfg_put(beat, MPQ_CFG_BATCHES, 0, geo(bad, 3, 65535));
        mpq_cfg_put(beat, MPQ_CFG_OUT_H, 0, geo(bad, 20, 65535));
        mpq_cfg_put(beat, MPQ_CFG_OUT_W, 0, geo(bad, 8, 65535));
        mpq_cfg_put(beat, MPQ_CFG_KH, 0, geo(bad, 3, 255));
        mpq_cfg_put(beat, MPQ_CFG_KW, 0, geo(bad, 3, 255));
        mpq_cfg_put(beat, MPQ_CFG_SY, 0, geo(bad, 3, 255));
        mpq_cfg_put(beat, MPQ_CFG_SX, 0, geo(bad, 3, 255));
        mpq_cfg_put(beat, MPQ_CFG_DY, 0, geo(bad, 2, 255));
        mpq_cfg_put(beat, MPQ_CFG_DX, 0, geo(bad, 2, 255));
        mpq_cfg_put(beat, MPQ_CFG_PY, 0, test_range(0, 255));
        mpq_cfg_put(beat, MPQ_CFG_PX, 0, test_range(0, 255));
        mpq_cfg_put(beat, MPQ_CFG_ACC_SAT, 0, test_range(0, 1));
        if (bad && test_range(0, 7) == 0)
            mpq_cfg_put(beat, test_range(0, 1) ? MPQ_CFG_RSV_161 : MPQ_CFG_RSV_240, 0, 1);
        mpq_cfg_put(beat, MPQ_CFG_IN_OFFSET, 0, bad ? test_range(-70, 70) : test_range(-64, 63));
        mpq_cfg_put(beat, MPQ_CFG_OUT_OFFSET, 0, test_range(-32768, 32767));
        int64_t a = bad ? test_range(-600, 600) : test_range(-512, 511);
        int64_t b = bad ? test_range(-600, 600) : test_range(a < -512 ? -512 : a, 511);
        mpq_cfg_put(beat, MPQ_CFG_ACT_MIN, 0, a);
        mpq_cfg_put(beat, MPQ_CFG_ACT_MAX, 0, b);
        for (unsigned l = 0; l < hw.lanes; l++) {
            mpq_cfg_put(beat, MPQ_CFG_BIAS, l, (int32_t)(uint32_t)test_rand());
            mpq_cfg_put(beat, MPQ_CFG_MULT, l, bad && test_range(0, 7) == 0 ? -1 : test_range(0, INT32_MAX));
            mpq_cfg_put(beat, MPQ_CFG_ALPHA, l, bad ? test_range(-20, 20) : test_range(-16, 15));
            mpq_cfg_put(beat, MPQ_CFG_SHIFT, l, bad ? test_range(-40, 40) : test_range(-31, 30));
        }
        char err[256] = "";
        int rc = mpq_cfg_check(&hw, beat, err, sizeof err);
        int want = ref_legal(&hw, beat);
        CHECK_EQ(rc == 0, want, "iteration %d: check says `%s`", it, err);
        if (rc != 0)
            CHECK(strstr(err, "cfg ") == err, "message names the beat: %s", err);
        tile_rule += rc != 0 && (strstr(err, "weight buffer") || strstr(err, "activation ring"));
        legal += (unsigned)want;
    }
    CHECK(legal > 3000 && legal < 19000, "both legal (%u) and illegal beats were tried", legal);
    CHECK(tile_rule > 100, "the tile rules refused beats (%u)", tile_rule);
}

static void test_find(void)
{
    char path[4096], err[1024], list[1024];
    /* From the source tree (make runs the tests at its root). */
    CHECK_EQ(mpq_hwcfg_find("default", path, sizeof path, err, sizeof err), 0, "%s", err);
    mpq_hwcfg hw;
    CHECK_EQ(mpq_hwcfg_load(path, &hw, err, sizeof err), 0, "%s", err);
    mpq_hwcfg_list(list, sizeof list);
    CHECK(strstr(list, "default") && strstr(list, "small"), "list: %s", list);
    CHECK_EQ(mpq_hwcfg_find("doesnotexist", path, sizeof path, err, sizeof err), MPQ_EPARAM, "unknown");
    CHECK(strstr(err, "doesnotexist") && strstr(err, "default"), "message names it and the choices: %s", err);
    CHECK_EQ(mpq_hwcfg_find("some/where.cfg", path, sizeof path, err, sizeof err), 0, "a path");
    CHECK(strcmp(path, "some/where.cfg") == 0, "a path is taken as it is: %s", path);
}

int main(void)
{
    test_seed("test_layout", 5);
    test_tables();
    test_access();
    test_check();
    test_find();
    return check_done("test_layout");
}
