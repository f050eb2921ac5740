/* SPDX-License-Identifier: Apache-2.0 */
/* The RTL configuration on the C side: cfg files, legality, hwcfg_o packing, bit fields. */
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "arith/mpq.h"
#include "contract/mpq_hw.h"

static const char *tmpdir(void)
{
    const char *d = getenv("TMPDIR");
    return d ? d : "/tmp";
}

/* Writes text to a temporary cfg file, loads it, returns the status; err gets the message. */
static int load_text(const char *text, mpq_hwcfg *hw, char *path, size_t plen, char *err, size_t elen)
{
    snprintf(path, plen, "%s/mpq-test-hw-%ld.cfg", tmpdir(), (long)getpid());
    FILE *f = fopen(path, "w");
    if (!f)
        return -100;
    fputs(text, f);
    fclose(f);
    int rc = mpq_hwcfg_load(path, hw, err, elen);
    remove(path);
    return rc;
}

static const char *good =
    "# a comment\nLanes = 8\nKLanes = 16\nHpPerGroup = 1\nActBits = 8\nHpBits = 8\n"
    "AlphaBits = 8\nAccBits = 32\nOutBits = 8\nKMax = 1024  # trailing\nActDepth = 1024\n";

static void test_load(void)
{
    mpq_hwcfg hw;
    char path[256], err[512];
    CHECK_EQ(load_text(good, &hw, path, sizeof path, err, sizeof err), 0, "%s", err);
    CHECK_EQ(hw.lanes, 8, "Lanes");
    CHECK_EQ(hw.kmax, 1024, "KMax");
    static const struct {
        const char *text, *want;
        int code;
    } bad[] = {
        {"Lanes = 8\n", "missing key", MPQ_EFORMAT},
        {"Lanes = 8\nLanes = 4\n", "given twice", MPQ_EFORMAT},
        {"Lane = 8\n", "unknown key", MPQ_EFORMAT},
        {"Lanes 8\n", "Key = value", MPQ_EFORMAT},
        {"Lanes = -3\n", "not a valid value", MPQ_EFORMAT},
        {"Lanes = 8x\n", "not a valid value", MPQ_EFORMAT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = load_text(bad[i].text, &hw, path, sizeof path, err, sizeof err);
        CHECK_EQ(rc, bad[i].code, "bad cfg %zu", i);
        CHECK(strstr(err, bad[i].want) != NULL, "message `%s` lacks `%s`", err, bad[i].want);
        CHECK(strstr(err, path) != NULL, "message `%s` names the file", err);
    }
    /* Legal syntax, illegal combination. */
    char text[512];
    snprintf(text, sizeof text, "%s", good);
    char *p = strstr(text, "KLanes = 16");
    memcpy(p, "KLanes = 12", 11);
    CHECK_EQ(load_text(text, &hw, path, sizeof path, err, sizeof err), MPQ_EPARAM, "KLanes 12");
    CHECK(strstr(err, "power of two") != NULL, "%s", err);
    CHECK_EQ(mpq_hwcfg_load("/nonexistent/x.cfg", &hw, err, sizeof err), MPQ_EIO, "missing file");
    CHECK(strstr(err, "/nonexistent/x.cfg") != NULL, "%s", err);
}

static void test_check(void)
{
    mpq_hwcfg base = {8, 16, 1, 8, 8, 8, 32, 8, 1024, 1024}, hw;
    char err[256];
    CHECK_EQ(mpq_hwcfg_check(&base, err, sizeof err), 0, "%s", err);
#define BAD(field, value)                                                        \
    do {                                                                         \
        hw = base;                                                               \
        hw.field = value;                                                        \
        CHECK_EQ(mpq_hwcfg_check(&hw, err, sizeof err), MPQ_EPARAM, #field "=" #value); \
    } while (0)
    BAD(lanes, 0);
    BAD(lanes, 65);
    BAD(klanes, 1);
    BAD(klanes, 24);
    BAD(hp_per_group, 17);
    BAD(act_bits, 9);
    BAD(acc_bits, 15);
    BAD(acc_bits, 33);
    BAD(out_bits, 17);
    BAD(kmax, 1000);
    BAD(kmax, 8);
    BAD(kmax, 65536);
#undef BAD
}

static void test_pack(void)
{
    for (int i = 0; i < 200; i++) {
        mpq_hwcfg hw = {(unsigned)test_range(1, 64), 1u << test_range(1, 6), 0,
                        (unsigned)test_range(2, 8), (unsigned)test_range(2, 8),
                        (unsigned)test_range(2, 16), (unsigned)test_range(16, 32),
                        (unsigned)test_range(2, 16), 0, 0};
        hw.hp_per_group = (unsigned)test_range(0, hw.klanes);
        hw.act_depth = 1u << test_range(1, 15);
        hw.kmax = hw.klanes * (unsigned)test_range(1, 65535 / hw.klanes);
        uint32_t w[MPQ_HWCFG_WORDS];
        mpq_hwcfg_pack(&hw, w);
        CHECK_EQ(w[0] & 0xff, MPQ_CONTRACT_VERSION, "version byte");
        CHECK_EQ(w[0] >> 8 & 0xff, hw.lanes, "Lanes at [15:8]");
        CHECK_EQ(w[2] >> 8 & 0xffffff, hw.kmax, "KMax at [95:72]");
        mpq_hwcfg back;
        CHECK_EQ(mpq_hwcfg_unpack(w, &back), 0, "unpack");
        CHECK(mpq_hwcfg_equal(&hw, &back), "round trip %d", i);
        w[3] ^= 1u << test_range(16, 31); /* an unused bit set (ActDepth is [111:96]) */
        CHECK_EQ(mpq_hwcfg_unpack(w, &back), MPQ_EFORMAT, "unused bits refused");
        w[3] = 0;
        w[0] ^= 2u; /* another contract version */
        CHECK_EQ(mpq_hwcfg_unpack(w, &back), MPQ_EVERSION, "wrong version refused");
    }
}

static void test_bits(void)
{
    /* Against a bit-by-bit reference over random fields of every width and alignment. */
    uint32_t w[8], ref[8];
    for (int i = 0; i < 20000; i++) {
        for (int j = 0; j < 8; j++)
            w[j] = ref[j] = (uint32_t)test_rand();
        unsigned width = (unsigned)test_range(1, 32), lsb = (unsigned)test_range(0, 255 - 32);
        uint32_t v = (uint32_t)test_rand();
        mpq_bits_put(w, lsb, width, v);
        for (unsigned b = 0; b < width; b++) {
            unsigned at = lsb + b;
            ref[at / 32] = (ref[at / 32] & ~(1u << at % 32)) | ((v >> b & 1u) << at % 32);
        }
        CHECK(memcmp(w, ref, sizeof w) == 0, "put lsb=%u width=%u", lsb, width);
        uint32_t got = mpq_bits_get(w, lsb, width);
        uint32_t want = width == 32 ? v : v & ((1u << width) - 1u);
        CHECK_EQ(got, want, "get lsb=%u width=%u", lsb, width);
    }
    CHECK_EQ(mpq_sext(0x80, 8), -128, "sext 8");
    CHECK_EQ(mpq_sext(0x7f, 8), 127, "sext 8");
    CHECK_EQ(mpq_sext(0x1ff, 8), -1, "sext masks");
    CHECK_EQ(mpq_sext(0x80000000u, 32), INT32_MIN, "sext 32");
    CHECK_EQ(mpq_sext(1, 1), -1, "sext 1");
}

static void test_widths(void)
{
    mpq_hwcfg hw = {8, 16, 1, 8, 8, 8, 32, 8, 1024, 1024};
    CHECK_EQ(mpq_hw_idx_w(&hw), 4, "IdxW");
    CHECK_EQ(mpq_hw_lane_w(&hw), 2 * 16 + 1 * (4 + 8), "LaneW");
    CHECK_EQ(mpq_hw_cfg_w(&hw), 256 + 96 * 8, "CfgW");
    CHECK_EQ(mpq_hw_wgt_w(&hw), 8 * 44, "WgtW");
    CHECK_EQ(mpq_hw_act_w(&hw), 128, "ActW");
    CHECK_EQ(mpq_hw_out_w(&hw), 64, "OutW");
}

int main(void)
{
    test_seed("test_hw", 42);
    test_load();
    test_check();
    test_pack();
    test_bits();
    test_widths();
    return check_done("test_hw");
}
