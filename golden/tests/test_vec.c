/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Vector files: round trip of random cycles, determinism, and every kind of bad file (empty,
 * not gzip, bad magic, other version, truncated anywhere, a flipped byte, trailing data,
 * absurd header) giving its error code and a message that names the file.
 */
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "mpq.h"
#include "mpq_gen.h"
#include "mpq_vec.h"

static char dir[256];

static void header_for(const mpq_hwcfg *hw, mpq_vec_header *h)
{
    memset(h, 0, sizeof *h);
    h->version = MPQ_VEC_VERSION;
    h->hw = *hw;
    h->seed = 11;
    h->timing_seed = 12;
    h->m = 3;
    h->k = hw->klanes + 1;
    h->n = hw->lanes;
    snprintf(h->generator, sizeof h->generator, "test_vec");
    snprintf(h->source, sizeof h->source, "random cycles");
    snprintf(h->command, sizeof h->command, "test_vec --seed 11");
}

static void random_bus(uint32_t *w, unsigned bits)
{
    for (unsigned i = 0; i < MPQ_WORDS(bits); i++)
        w[i] = (uint32_t)test_rand();
    if (bits % 32)
        w[MPQ_WORDS(bits) - 1] &= (1u << (bits % 32)) - 1u;
}

/* Random cycles in which buses change now and then, like real stimulus. */
static void random_cycle(const mpq_hwcfg *hw, mpq_port_in *in, mpq_port_out *exp)
{
    in->rst_n = test_range(0, 9) != 0;
    in->cfg_valid = (uint8_t)test_range(0, 1);
    in->wgt_valid = (uint8_t)test_range(0, 1);
    in->act_valid = (uint8_t)test_range(0, 1);
    in->out_ready = (uint8_t)test_range(0, 1);
    if (test_range(0, 5) == 0)
        random_bus(in->cfg_data, mpq_hw_cfg_w(hw));
    if (test_range(0, 3) == 0)
        random_bus(in->wgt_data, mpq_hw_wgt_w(hw));
    if (test_range(0, 1) == 0)
        random_bus(in->act_data, mpq_hw_act_w(hw));
    exp->cfg_ready = (uint8_t)test_range(0, 1);
    exp->wgt_ready = (uint8_t)test_range(0, 1);
    exp->act_ready = (uint8_t)test_range(0, 1);
    exp->out_valid = (uint8_t)test_range(0, 1);
    exp->busy = (uint8_t)test_range(0, 1);
    exp->done = (uint8_t)test_range(0, 1);
    if (test_range(0, 20) == 0)
        exp->ovf = test_rand() & (hw->lanes >= 64 ? ~0ull : (1ull << hw->lanes) - 1u);
    if (test_range(0, 2) == 0)
        random_bus(exp->out_data, mpq_hw_out_w(hw));
}

static int bus_eq(const uint32_t *a, const uint32_t *b, unsigned bits)
{
    return memcmp(a, b, MPQ_WORDS(bits) * sizeof *a) == 0;
}

/* Writes `cycles` random cycles to path; the same seed gives the same file. */
static int write_file(const mpq_hwcfg *hw, const char *path, uint64_t seed, unsigned cycles)
{
    mpq_vec_header h;
    header_for(hw, &h);
    test_rng_state = seed;
    mpq_vec_writer *w;
    char err[512];
    if (mpq_vec_writer_open(path, &h, &w, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    static mpq_port_in in;
    static mpq_port_out exp;
    memset(&in, 0, sizeof in);
    memset(&exp, 0, sizeof exp);
    for (unsigned c = 0; c < cycles; c++) {
        random_cycle(hw, &in, &exp);
        if (mpq_vec_writer_put(w, &in, &exp) != 0)
            return -1;
    }
    return mpq_vec_writer_close(w, err, sizeof err);
}

static void test_round_trip(const mpq_hwcfg *hw, const char *name)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/rt-%s.vec", dir, name);
    unsigned cycles = 20000;
    uint64_t seed = test_rand();
    CHECK_EQ(write_file(hw, path, seed, cycles), 0, "write %s", name);
    CHECK(access(path, F_OK) == 0 && access(strcat(strcpy(err, path), ".tmp"), F_OK) != 0,
          "atomic: the file exists, its .tmp does not");
    mpq_vec_reader *r;
    CHECK_EQ(mpq_vec_reader_open(path, &r, err, sizeof err), 0, "%s", err);
    if (!r)
        return;
    const mpq_vec_header *h = mpq_vec_reader_header(r);
    CHECK(mpq_hwcfg_equal(&h->hw, hw), "header configuration");
    CHECK_EQ(h->seed, 11, "seed");
    CHECK(strcmp(h->command, "test_vec --seed 11") == 0, "command");
    /* Replay the same random sequence and compare every field of every cycle. */
    static mpq_port_in in, rin;
    static mpq_port_out exp, rexp;
    memset(&in, 0, sizeof in);
    memset(&exp, 0, sizeof exp);
    uint64_t saved = test_rng_state;
    test_rng_state = seed;
    int bad = 0;
    uint32_t last_out[MPQ_PORT_WORDS_MAX] = {0};
    for (unsigned c = 0; c < cycles && !bad; c++) {
        random_cycle(hw, &in, &exp);
        int rc = mpq_vec_reader_next(r, &rin, &rexp);
        if (rc != 1) {
            CHECK_EQ(rc, 1, "cycle %u: %s", c, mpq_vec_reader_error(r));
            bad = 1;
            break;
        }
        bad |= rin.rst_n != in.rst_n || rin.cfg_valid != in.cfg_valid ||
               rin.wgt_valid != in.wgt_valid || rin.act_valid != in.act_valid ||
               rin.out_ready != in.out_ready;
        bad |= !bus_eq(rin.cfg_data, in.cfg_data, mpq_hw_cfg_w(hw)) ||
               !bus_eq(rin.wgt_data, in.wgt_data, mpq_hw_wgt_w(hw)) ||
               !bus_eq(rin.act_data, in.act_data, mpq_hw_act_w(hw));
        bad |= rexp.cfg_ready != exp.cfg_ready || rexp.wgt_ready != exp.wgt_ready ||
               rexp.act_ready != exp.act_ready || rexp.out_valid != exp.out_valid ||
               rexp.busy != exp.busy || rexp.done != exp.done || rexp.ovf != exp.ovf;
        /* out_data is stored only while out_valid: then it must match. */
        if (exp.out_valid) {
            bad |= !bus_eq(rexp.out_data, exp.out_data, mpq_hw_out_w(hw));
            memcpy(last_out, exp.out_data, sizeof last_out);
        }
        CHECK(!bad, "%s: cycle %u differs after the round trip", name, c);
    }
    test_rng_state = saved;
    CHECK_EQ(mpq_vec_reader_next(r, &rin, &rexp), 0, "%s: clean end: %s", name, mpq_vec_reader_error(r));
    CHECK_EQ(mpq_vec_reader_cycle(r), cycles, "cycle count");
    mpq_vec_reader_close(r);
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static int same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb)
            same = 0;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* Reads a file to the end; returns the first non-positive status and the message. */
static int read_all(const char *path, char *msg, size_t len)
{
    mpq_vec_reader *r;
    int rc = mpq_vec_reader_open(path, &r, msg, len);
    if (rc != 0)
        return rc;
    static mpq_port_in in;
    static mpq_port_out exp;
    while ((rc = mpq_vec_reader_next(r, &in, &exp)) == 1)
        ;
    snprintf(msg, len, "%s", mpq_vec_reader_error(r));
    mpq_vec_reader_close(r);
    return rc;
}

static void copy_prefix(const char *from, const char *to, long n)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    for (long i = 0; a && b && i < n; i++) {
        int c = fgetc(a);
        if (c == EOF)
            break;
        fputc(c, b);
    }
    if (a)
        fclose(a);
    if (b)
        fclose(b);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(p, 1, n, f);
        fclose(f);
    }
}

static void expect_bad(const char *path, int code, const char *want)
{
    char msg[600];
    int rc = read_all(path, msg, sizeof msg);
    CHECK(rc < 0, "%s must be refused (got %d)", path, rc);
    if (code)
        CHECK_EQ(rc, code, "%s: error code (message: %s)", path, msg);
    CHECK(strstr(msg, path) != NULL, "message names the file: %s", msg);
    CHECK(strstr(msg, want) != NULL, "message `%s` says `%s`", msg, want);
}

/* Writes a gzip file holding exactly these uncompressed bytes. */
#include <zlib.h>
static void write_gz(const char *path, const void *p, size_t n)
{
    gzFile g = gzopen(path, "wb");
    if (g) {
        gzwrite(g, p, (unsigned)n);
        gzclose(g);
    }
}

static void test_bad_files(const mpq_hwcfg *hw)
{
    char good[512], bad[512];
    snprintf(good, sizeof good, "%s/good.vec", dir);
    snprintf(bad, sizeof bad, "%s/bad.vec", dir);
    CHECK_EQ(write_file(hw, good, 99, 3000), 0, "write");
    long size = file_size(good);
    char msg[600];
    CHECK_EQ(read_all(good, msg, sizeof msg), 0, "the good file reads clean: %s", msg);

    write_bytes(bad, "", 0);
    expect_bad(bad, MPQ_EFORMAT, "empty");
    write_bytes(bad, "hello, world\n", 13);
    expect_bad(bad, MPQ_EFORMAT, "not gzip");
    write_gz(bad, "MPQVEX\1\0\0\0\0\0", 12);
    expect_bad(bad, MPQ_EFORMAT, "bad magic");
    write_gz(bad, "MPQVEC\7\0\0\0\0\0", 12);
    expect_bad(bad, MPQ_EVERSION, "version 7");
    write_gz(bad, "MPQVEC\1\0\377\377\0\0", 12);
    expect_bad(bad, MPQ_EFORMAT, "header");

    /* Truncated at many points: never a clean end. */
    for (long cut = 1; cut < size; cut += (cut < 64 ? 7 : size / 23)) {
        copy_prefix(good, bad, cut);
        expect_bad(bad, 0, "");
        int rc = read_all(bad, msg, sizeof msg);
        CHECK(rc == MPQ_ETRUNC || rc == MPQ_ECORRUPT || rc == MPQ_EFORMAT,
              "cut at %ld of %ld: code %d (%s)", cut, size, rc, msg);
    }
    copy_prefix(good, bad, size - 1);
    expect_bad(bad, MPQ_ETRUNC, "truncated");

    /* A flipped byte anywhere in the compressed data is caught. */
    for (long at = 10; at < size - 8; at += size / 17) {
        copy_prefix(good, bad, size);
        FILE *f = fopen(bad, "r+b");
        fseek(f, at, SEEK_SET);
        int c = fgetc(f);
        fseek(f, at, SEEK_SET);
        fputc(c ^ 0x10, f);
        fclose(f);
        int rc = read_all(bad, msg, sizeof msg);
        CHECK(rc < 0, "flipped byte at %ld of %ld read clean", at, size);
        CHECK(strstr(msg, bad) != NULL, "message names the file: %s", msg);
    }

    /* Trailing garbage after the gzip member. */
    copy_prefix(good, bad, size);
    FILE *f = fopen(bad, "ab");
    fputs("junk", f);
    fclose(f);
    expect_bad(bad, MPQ_ECORRUPT, "after the end");

    CHECK_EQ(mpq_vec_reader_open("/nonexistent/x.vec", &(mpq_vec_reader *){NULL}, msg, sizeof msg),
             MPQ_EIO, "missing file");
    CHECK(strstr(msg, "/nonexistent/x.vec") != NULL, "%s", msg);
}

static void test_determinism(const mpq_hwcfg *hw)
{
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/det-a.vec", dir);
    snprintf(b, sizeof b, "%s/det-b.vec", dir);
    CHECK_EQ(write_file(hw, a, 5, 5000), 0, "write a");
    CHECK_EQ(write_file(hw, b, 5, 5000), 0, "write b");
    CHECK(same_bytes(a, b), "the same cycles give the same bytes");
    CHECK_EQ(write_file(hw, b, 6, 5000), 0, "write b");
    CHECK(!same_bytes(a, b), "other cycles give other bytes");
}

static void test_abort(const mpq_hwcfg *hw)
{
    char path[512], tmp[600], err[256];
    snprintf(path, sizeof path, "%s/aborted.vec", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    mpq_vec_header h;
    header_for(hw, &h);
    mpq_vec_writer *w;
    CHECK_EQ(mpq_vec_writer_open(path, &h, &w, err, sizeof err), 0, "%s", err);
    CHECK(access(tmp, F_OK) == 0, "the temporary file exists while writing");
    mpq_vec_writer_abort(w);
    CHECK(access(tmp, F_OK) != 0 && access(path, F_OK) != 0, "abort leaves nothing behind");
}

int main(void)
{
    test_seed("test_vec", 777);
    snprintf(dir, sizeof dir, "%s/mpq-test-vec-%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    static const char *const cfgs[] = {"default", "small", "dense", "mix2"};
    for (unsigned i = 0; i < 4; i++) {
        char path[128], err[256];
        mpq_hwcfg hw;
        snprintf(path, sizeof path, "rtl/cfg/%s.cfg", cfgs[i]);
        if (mpq_hwcfg_load(path, &hw, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        test_round_trip(&hw, cfgs[i]);
        if (i == 0) {
            test_bad_files(&hw);
            test_determinism(&hw);
            test_abort(&hw);
        }
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return check_done("test_vec");
}
