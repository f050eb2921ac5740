/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Vector files: round trip of random cycles, determinism, and every kind of bad file (empty,
 * not gzip, bad magic, other version, version 1, truncated anywhere, a flipped byte, trailing
 * data, absurd header, bad block) giving its error code and a message that names the file.
 * Damage anywhere in a real file (issue 14): no cycle of the damaged block or after it is
 * ever returned. The generator's estimate and the file-size bound against real runs.
 */
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "arith/mpq.h"
#include "stim/mpq_gen.h"
#include "stim/mpq_vec.h"

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

/* Writes a gzip file holding exactly these uncompressed bytes (gzwrite's header is the
 * format's: level 6, mtime 0, OS 3). */
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

    /* Files that are not vector files, or whose first bytes are wrong (gz: compressed). */
    static const struct {
        const char *bytes;
        size_t len;
        int gz, code;
        const char *says;
    } starts[] = {
        {"", 0, 0, MPQ_EFORMAT, "empty"},
        {"hello, world\n", 13, 0, MPQ_EFORMAT, "not gzip"},
        {"MPQVEX\1\0\0\0\0\0", 12, 1, MPQ_EFORMAT, "bad magic"},
        {"MPQVEC\7\0\0\0\0\0", 12, 1, MPQ_EVERSION, "version 7"},
        {"MPQVEC\3\0\377\377\0\0", 12, 1, MPQ_EFORMAT, "header"},
        {"MPQVEC\1\0\377\377\0\0", 12, 1, MPQ_EVERSION, "format version 1 is no longer read"},
    };
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        (starts[i].gz ? write_gz : write_bytes)(bad, starts[i].bytes, starts[i].len);
        expect_bad(bad, starts[i].code, starts[i].says);
    }

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

    /* The gzip header is compared byte for byte (gzip protects none of it): mtime changed. */
    copy_prefix(good, bad, size);
    FILE *g = fopen(bad, "r+b");
    fseek(g, 5, SEEK_SET);
    fputc(0x42, g);
    fclose(g);
    expect_bad(bad, MPQ_ECORRUPT, "gzip header");

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

/* ---- Helpers on the bytes of a file ------------------------------------------------------- */
static uint8_t *load(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    uint8_t *p = malloc(len > 0 ? (size_t)len : 1u);
    if (p && fread(p, 1, (size_t)len, f) != (size_t)len) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *n = p ? (size_t)len : 0;
    return p;
}

/* What zlib inflates from a gzip file before its first error (all of it when intact). */
static uint8_t *gunzip(const uint8_t *z, size_t zn, size_t *n)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    size_t cap = 1u << 16, len = 0;
    uint8_t *out = malloc(cap);
    if (!out || inflateInit2(&s, 31) != Z_OK) {
        free(out);
        *n = 0;
        return NULL;
    }
    s.next_in = (Bytef *)(uintptr_t)z;
    s.avail_in = (uInt)zn;
    for (;;) {
        if (len == cap) {
            uint8_t *bigger = realloc(out, cap *= 2);
            if (!bigger)
                break;
            out = bigger;
        }
        s.next_out = out + len;
        s.avail_out = (uInt)(cap - len);
        int zr = inflate(&s, Z_NO_FLUSH);
        len = cap - s.avail_out;
        if (zr != Z_OK)
            break;
    }
    inflateEnd(&s);
    *n = len;
    return out;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The decompressed layout (FORMAT.md): header length, then blocks until the end record.
 * Recomputes every CRC (header, blocks, end record) when fix is set, so that an edit reaches
 * the check behind the checksums. Returns the header's length. */
#define WALK_MAX 4096u /* blk_off holds this many */
static size_t walk(uint8_t *d, size_t n, int fix, size_t *blk_off, unsigned *nblk, size_t *end_off)
{
    size_t h = 12 + rd32(d + 8);
    if (fix && h + 4 <= n)
        wr32(d + h, (uint32_t)crc32(0L, d, (uInt)h));
    size_t o = h + 4;
    unsigned b = 0;
    *end_off = n;
    while (o + 8 <= n) {
        uint32_t len = rd32(d + o);
        if (len == 0) {
            *end_off = o;
            if (fix && o + 16 <= n)
                wr32(d + o + 12, (uint32_t)crc32(0L, d, (uInt)(o + 12)));
            break;
        }
        if (o + 8 + len > n)
            break;
        if (fix)
            wr32(d + o + 4, (uint32_t)crc32(0L, d + o + 8, len));
        if (blk_off && b < WALK_MAX)
            blk_off[b] = o;
        b++;
        o += 8 + len;
    }
    if (nblk)
        *nblk = b;
    return h + 4;
}

/* Writes the decompressed bytes of `good`, edited by `edit` (which may change the length by up
 * to 64 bytes),
 * with every CRC fixed or not, as a gzip file `out`. */
static void edited(const char *good, const char *out, int fix,
                   size_t (*edit)(uint8_t *d, size_t n))
{
    size_t zn, n;
    uint8_t *z = load(good, &zn);
    uint8_t *d = z ? gunzip(z, zn, &n) : NULL;
    uint8_t *e = d ? malloc(n + 64) : NULL;
    if (e) {
        memcpy(e, d, n);
        n = edit(e, n);
        size_t end;
        if (fix)
            walk(e, n, 1, NULL, NULL, &end);
        write_gz(out, e, n);
    }
    CHECK(e != NULL, "cannot edit %s", good);
    free(z);
    free(d);
    free(e);
}

/* Offsets in a version-3 header: the parameter count, then the fields after the parameters. */
#define H_NP 12u
#define H_AFTER_P (14u + 4u * MPQ_P_COUNT)
#define H_KIND (H_AFTER_P + 16u)
#define H_NSHAPE (H_AFTER_P + 20u)
#define H_SHAPE (H_AFTER_P + 22u)

static size_t ed_payload(uint8_t *d, size_t n)
{
    size_t end, off[WALK_MAX];
    unsigned nb;
    size_t h = walk(d, n, 0, off, &nb, &end);
    (void)h;
    d[off[0] + 8 + 100] ^= 0x10; /* a record byte of block 0 */
    return n;
}
static size_t ed_command(uint8_t *d, size_t n)
{
    size_t h = 12 + rd32(d + 8);
    d[h - 3] ^= 0x01; /* a byte of the command string */
    return n;
}
static size_t insert4(uint8_t *d, size_t n, size_t at, uint32_t v)
{
    memmove(d + at + 4, d + at, n - at);
    wr32(d + at, v);
    wr32(d + 8, rd32(d + 8) + 4);
    return n + 4;
}
static size_t remove4(uint8_t *d, size_t n, size_t at)
{
    memmove(d + at, d + at + 4, n - at - 4);
    wr32(d + 8, rd32(d + 8) - 4);
    return n - 4;
}
static size_t ed_more_params(uint8_t *d, size_t n)
{
    d[H_NP] = (uint8_t)(MPQ_P_COUNT + 1);
    return insert4(d, n, H_AFTER_P, 7);
}
static size_t ed_fewer_params(uint8_t *d, size_t n)
{
    d[H_NP] = (uint8_t)(MPQ_P_COUNT - 1);
    return remove4(d, n, H_AFTER_P - 4);
}
static size_t ed_kind_conv(uint8_t *d, size_t n)
{
    wr32(d + H_KIND, MPQ_VEC_KIND_CONV2D);
    return n;
}
static size_t ed_kind_unknown(uint8_t *d, size_t n)
{
    wr32(d + H_KIND, 7);
    return n;
}
static size_t ed_two_shapes(uint8_t *d, size_t n)
{
    d[H_NSHAPE] = 2;
    return remove4(d, n, H_SHAPE + 8);
}
static size_t ed_m_zero(uint8_t *d, size_t n)
{
    wr32(d + H_SHAPE, 0);
    return n;
}
static size_t ed_block_len(uint8_t *d, size_t n)
{
    size_t end, off[WALK_MAX];
    unsigned nb;
    walk(d, n, 0, off, &nb, &end);
    wr32(d + off[0], MPQ_VEC_BLOCK_MAX + 1);
    return n;
}
static size_t ed_reserved_flag(uint8_t *d, size_t n)
{
    size_t end, off[WALK_MAX];
    unsigned nb;
    walk(d, n, 0, off, &nb, &end);
    d[off[0] + 8 + 1] |= 0x80;             /* B: EXT, so byte 2 is C */
    memmove(d + off[0] + 8 + 3, d + off[0] + 8 + 2, n - (off[0] + 8 + 2));
    d[off[0] + 8 + 2] = 0x02;              /* C: version 1's END bit, reserved now */
    wr32(d + off[0], rd32(d + off[0]) + 1);
    return n + 1;
}
static size_t ed_count(uint8_t *d, size_t n)
{
    size_t end;
    walk(d, n, 0, NULL, NULL, &end);
    d[end + 4] ^= 1;
    return n;
}
static size_t ed_append(uint8_t *d, size_t n)
{
    d[n] = 0;
    return n + 1;
}
static size_t ed_none(uint8_t *d, size_t n)
{
    (void)d;
    return n;
}

/* Edits behind the checksums reach the format's own checks; edits not fixed up are caught by
 * the checksum of the part they damage, named in the message. */
static void test_format_edits(const mpq_hwcfg *hw)
{
    char good[512], bad[512], msg[600];
    snprintf(good, sizeof good, "%s/edit-good.vec", dir);
    snprintf(bad, sizeof bad, "%s/edit.vec", dir);
    CHECK_EQ(write_file(hw, good, 31, 30000), 0, "write");
    edited(good, bad, 1, ed_none);
    CHECK_EQ(read_all(bad, msg, sizeof msg), 0, "recompressed and re-checksummed, it reads: %s", msg);
    /* Each edit, whether the checksums are fixed up after it, and what the reader says. */
    static const struct {
        size_t (*edit)(uint8_t *d, size_t n);
        int fix, code;
        const char *says;
    } edits[] = {
        {ed_payload, 0, MPQ_ECORRUPT, "block 0 (from cycle 0): checksum mismatch: the file is damaged"},
        {ed_command, 0, MPQ_ECORRUPT, "header checksum mismatch"},
        {ed_more_params, 1, MPQ_EVERSION, "parameters; this reader knows"},
        {ed_kind_conv, 1, MPQ_EFORMAT, "a convolution has 16 shape values, not 3"},
        {ed_kind_unknown, 1, MPQ_EFORMAT, "unknown layer kind 7"},
        {ed_two_shapes, 1, MPQ_EFORMAT, "3 shape values"},
        {ed_m_zero, 1, MPQ_EFORMAT, "impossible layer shape"},
        {ed_block_len, 1, MPQ_ECORRUPT, "block 0 (from cycle 0): impossible block length"},
        {ed_reserved_flag, 1, MPQ_ECORRUPT, "block 0 (from cycle 0): the record of cycle 0 sets reserved flags"},
        {ed_count, 1, MPQ_ECORRUPT, "the end record counts"},
        {ed_count, 0, MPQ_ECORRUPT, "stream checksum mismatch"},
        {ed_append, 1, MPQ_ECORRUPT, "after the end record"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        edited(good, bad, edits[i].fix, edits[i].edit);
        expect_bad(bad, edits[i].code, edits[i].says);
    }
    edited(good, bad, 1, ed_fewer_params);
    if (MPQ_P_COUNT == 10) /* version 3 has 10 (ActDepth the 10th) */
        expect_bad(bad, MPQ_EFORMAT, "at least 10");
    else
        CHECK_EQ(read_all(bad, msg, sizeof msg), 0, "a parameter added later takes its default: %s", msg);

    /* The file has several blocks, none above the limit, each ending at a record boundary
     * (the round trip reads them back cycle by cycle). */
    size_t zn, n, end;
    static size_t off[WALK_MAX];
    unsigned nb = 0;
    uint8_t *z = load(good, &zn);
    uint8_t *d = z ? gunzip(z, zn, &n) : NULL;
    if (d) {
        walk(d, n, 0, off, &nb, &end);
        CHECK(nb >= 3, "30000 random cycles make several blocks (%u)", nb);
        for (unsigned b = 0; b < nb; b++)
            CHECK(rd32(d + off[b]) <= MPQ_VEC_BLOCK_MAX, "block %u is %u bytes", b, rd32(d + off[b]));
        CHECK(end + 16 == n, "the end record closes the stream");
    }
    free(z);
    free(d);

    /* The writer refuses a header a reader would refuse. */
    mpq_vec_header h;
    header_for(hw, &h);
    h.kind = MPQ_VEC_KIND_CONV2D;
    h.nshape = 2;
    mpq_vec_writer *w;
    CHECK_EQ(mpq_vec_writer_open(bad, &h, &w, msg, sizeof msg), MPQ_EPARAM, "kind 1 of 2 values written");
    CHECK(strstr(msg, "16 shape values") != NULL, "%s", msg);

    /* A file of no cycles: header and end record. */
    CHECK_EQ(write_file(hw, bad, 1, 0), 0, "write an empty run");
    CHECK_EQ(read_all(bad, msg, sizeof msg), 0, "no cycles: %s", msg);
}

/* A convolution's kind and shape go through a file; a shape the configuration cannot run
 * is refused by the writer (and would be by the reader). */
static void test_conv_header(const mpq_hwcfg *hw)
{
    char path[512], msg[600];
    snprintf(path, sizeof path, "%s/conv.vec", dir);
    mpq_layer_opts o;
    memset(&o, 0, sizeof o);
    CHECK_EQ(mpq_conv_shape_parse("depthwise b=2 h=9 w=7 c=20 o=40 k=3x2 s=2x1 d=1x2 p=1x0",
                                  &o.shape, msg, sizeof msg), 0, "%s", msg);
    mpq_hw_layer l;
    CHECK_EQ(mpq_hw_layer_shape(&o, &l, msg, sizeof msg), 0, "%s", msg);
    mpq_vec_header h;
    header_for(hw, &h);
    mpq_vec_header_set_layer(&h, &l);
    mpq_vec_writer *w;
    CHECK_EQ(mpq_vec_writer_open(path, &h, &w, msg, sizeof msg), 0, "%s", msg);
    CHECK_EQ(mpq_vec_writer_close(w, msg, sizeof msg), 0, "%s", msg);
    mpq_vec_reader *r;
    CHECK_EQ(mpq_vec_reader_open(path, &r, msg, sizeof msg), 0, "%s", msg);
    if (!r)
        return;
    const mpq_vec_header *g = mpq_vec_reader_header(r);
    mpq_conv_shape s;
    CHECK_EQ(g->kind, MPQ_VEC_KIND_DEPTHWISE, "kind");
    CHECK_EQ(mpq_vec_header_conv_shape(g, &s), 1, "a convolution");
    CHECK(memcmp(&s, &l.s, sizeof s) == 0, "the shape comes back");
    CHECK_EQ(g->m, 2u * l.s.out_h * l.s.out_w, "m = output pixels");
    CHECK_EQ(g->k, 6u, "k = the reduction depth kh*kw");
    CHECK_EQ(g->n, 40u, "n = out_c");
    mpq_vec_reader_close(r);
    /* Rows wider than the ring: refused by name. */
    CHECK_EQ(mpq_conv_shape_parse("conv2d h=4 w=4000 c=64 o=8 k=3 p=1", &o.shape, msg, sizeof msg), 0,
             "%s", msg);
    CHECK_EQ(mpq_hw_layer_shape(&o, &l, msg, sizeof msg), 0, "%s", msg);
    mpq_vec_header_set_layer(&h, &l);
    CHECK_EQ(mpq_vec_writer_open(path, &h, &w, msg, sizeof msg), MPQ_EPARAM, "a shape too wide");
    CHECK(strstr(msg, "activation ring") != NULL, "%s", msg);
}

/* A file of an old format version: d holds its fixed part (fixed bytes after the 12-byte header),
 * the three strings follow (the last, the command that made name); it is refused with the
 * command that regenerates it. */
static void expect_old(unsigned version, const char *name, const char *cmd, uint8_t *d,
                       size_t fixed)
{
    char path[512], want[160];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    const char *const str[3] = {"mpq-golden 0.1", "random:random hp-n=1", cmd};
    memcpy(d, "MPQVEC\0\0", 8);
    d[6] = (uint8_t)version;
    size_t o = 12 + fixed;
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(str[i]);
        d[o] = (uint8_t)l;
        memcpy(d + o + 2, str[i], l);
        o += 2 + l;
    }
    wr32(d + 8, (uint32_t)(o - 12));
    write_gz(path, d, o + 3 + 12);
    snprintf(want, sizeof want, "format version %u is no longer read", version);
    expect_bad(path, MPQ_EVERSION, want);
    snprintf(want, sizeof want, "regenerate it: %s", cmd);
    expect_bad(path, MPQ_EVERSION, want);
}

/* A version-2 file (contract version 1) is refused with the command that regenerates it. */
static void test_version2(void)
{
    uint8_t d[400] = {0};
    /* P = 9, 9 parameters, 2 seeds, kind 0, S = 3, M K N, mode: 76 bytes. */
    d[12] = 9;
    d[12 + 2 + 36 + 16 + 4] = 3;
    expect_old(2, "v2.vec", "mpq-golden gen -o v2.vec --m 5 --seed 3", d, 76);
}

/* A version-1 file: 9 parameters, 2 seeds, M K N mode (68 bytes). */
static void test_version1(void)
{
    uint8_t d[400] = {0};
    expect_old(1, "old.vec", "mpq-golden gen -o old.vec --m 4 --seed 9", d, 68);
}

/* ---- Damage anywhere in a real file (issue 14) -------------------------------------------- */

/* One cycle as a number: equal cycles give equal digests. */
static uint32_t cycle_digest(const mpq_hwcfg *hw, const mpq_port_in *in, const mpq_port_out *x)
{
    uint8_t bits[12] = {in->rst_n, in->cfg_valid, in->wgt_valid, in->act_valid, in->out_ready,
                        x->cfg_ready, x->wgt_ready, x->act_ready, x->out_valid, x->busy, x->done};
    uLong c = crc32(0L, bits, sizeof bits);
    c = crc32(c, (const Bytef *)in->cfg_data, (uInt)(MPQ_WORDS(mpq_hw_cfg_w(hw)) * 4u));
    c = crc32(c, (const Bytef *)in->wgt_data, (uInt)(MPQ_WORDS(mpq_hw_wgt_w(hw)) * 4u));
    c = crc32(c, (const Bytef *)in->act_data, (uInt)(MPQ_WORDS(mpq_hw_act_w(hw)) * 4u));
    c = crc32(c, (const Bytef *)&x->ovf, sizeof x->ovf);
    if (x->out_valid)
        c = crc32(c, (const Bytef *)x->out_data, (uInt)(MPQ_WORDS(mpq_hw_out_w(hw)) * 4u));
    return (uint32_t)c;
}

/* The file: mpq-golden gen --m 64 --k 512 --n 32 --seed 3 (default configuration),
 * 2-byte overwrites at 500 places (every byte of the first and last 64, the rest spread).
 * For each, the first decompressed byte that differs tells the damaged block; the reader
 * must fail, and every cycle it returned before must be an undamaged cycle of an earlier
 * block. */
static void test_damage(const mpq_hwcfg *hw)
{
    char good[512], bad[512], err[512];
    snprintf(good, sizeof good, "%s/issue14.vec", dir);
    snprintf(bad, sizeof bad, "%s/issue14-damaged.vec", dir);
    mpq_layer_opts lo = {.seed = 3, .m = 64, .k = 512, .n = 32, .hp_n = hw->hp_per_group};
    mpq_hw_layer l;
    mpq_timing_opts to;
    mpq_timing_default(3, 1.0, 1.0, &to);
    mpq_vec_header h;
    header_for(hw, &h);
    h.m = 64;
    h.k = 512;
    h.n = 32;
    mpq_gen *g = NULL;
    mpq_vec_writer *w = NULL;
    static mpq_port_in in;
    static mpq_port_out x;
    int ok = mpq_hw_layer_random(hw, &lo, &l, err, sizeof err) == 0 &&
             mpq_gen_new(hw, &l, &to, &g, err, sizeof err) == 0 &&
             mpq_vec_writer_open(good, &h, &w, err, sizeof err) == 0;
    while (ok && mpq_gen_next(g, &in, &x) == 1)
        ok = mpq_vec_writer_put(w, &in, &x) == 0;
    ok = ok && mpq_vec_writer_close(w, err, sizeof err) == 0;
    CHECK(ok, "the issue's file: %s", err);
    mpq_gen_free(g);
    mpq_hw_layer_free(&l);
    if (!ok)
        return;

    /* The intact file: every cycle's digest, each block's first cycle and place. */
    static uint32_t digest[10000];
    static uint64_t first[64];
    static size_t blk_off[WALK_MAX];
    unsigned nblk = 0, total = 0;
    mpq_vec_reader *r;
    CHECK_EQ(mpq_vec_reader_open(good, &r, err, sizeof err), 0, "%s", err);
    for (int rc; (rc = mpq_vec_reader_next(r, &in, &x)) == 1 && total < 10000;) {
        if (mpq_vec_reader_blocks(r) > nblk && nblk < 64)
            first[nblk++] = total;
        digest[total++] = cycle_digest(hw, &in, &x);
    }
    mpq_vec_reader_close(r);
    CHECK_EQ(total, 8344, "the issue's file has 8,344 cycles");
    size_t zn, dn, end;
    uint8_t *z = load(good, &zn);
    uint8_t *d = z ? gunzip(z, zn, &dn) : NULL;
    uint8_t *zb = z ? malloc(zn) : NULL;
    unsigned nb2 = 0;
    size_t hdr = d ? walk(d, dn, 0, blk_off, &nb2, &end) : 0;
    CHECK(d && zb && nb2 == nblk && nblk >= 2, "blocks: %u in the stream, %u read", nb2, nblk);
    if (!d || !zb || nb2 != nblk) {
        free(z);
        free(d);
        free(zb);
        return;
    }
    unsigned tested = 0, named = 0;
    for (size_t i = 0; i < 500; i++) {
        size_t at = i < 64 ? i : i < 128 ? zn - 2 - (i - 64) : 64 + (i - 128) * (zn - 192) / 372;
        if (at + 2 > zn)
            continue;
        memcpy(zb, z, zn);
        zb[at] ^= 0xa5;
        zb[at + 1] ^= 0x5a;
        write_bytes(bad, zb, zn);
        /* The damaged block: where the inflated bytes first differ. */
        size_t bn;
        uint8_t *bd = gunzip(zb, zn, &bn);
        size_t diff = 0;
        while (bd && diff < bn && diff < dn && bd[diff] == d[diff])
            diff++;
        free(bd);
        uint64_t limit = total; /* no decompressed byte differs: only the end may fail */
        long dmg_block = -1;
        if (diff < dn || bn != dn) {
            if (diff < hdr)
                limit = 0;
            for (unsigned b = 0; b < nblk && diff >= hdr; b++)
                if (diff >= blk_off[b] && (b + 1 == nblk ? diff < end : diff < blk_off[b + 1])) {
                    limit = first[b];
                    dmg_block = (long)b;
                }
        }
        /* Read it: every cycle returned must be intact and before the damaged block. */
        uint64_t got = 0;
        int rc = mpq_vec_reader_open(bad, &r, err, sizeof err), bad_cycle = 0;
        const char *msg = err;
        if (rc == 0) {
            while ((rc = mpq_vec_reader_next(r, &in, &x)) == 1) {
                if (got >= total || cycle_digest(hw, &in, &x) != digest[got])
                    bad_cycle = 1;
                got++;
            }
            msg = mpq_vec_reader_error(r);
        }
        CHECK(rc < 0, "2 bytes overwritten at %zu of %zu: read clean", at, zn);
        CHECK(!bad_cycle, "2 bytes overwritten at %zu: a damaged cycle was returned", at);
        CHECK(got <= limit, "2 bytes overwritten at %zu (block %ld, from cycle %llu): %llu cycles "
              "returned before the error (%s)", at, dmg_block, (unsigned long long)limit,
              (unsigned long long)got, msg);
        CHECK(strstr(msg, bad) != NULL, "the message names the file: %s", msg);
        if (dmg_block >= 0) {
            char want[80];
            snprintf(want, sizeof want, "block %ld (from cycle %llu)", dmg_block,
                     (unsigned long long)limit);
            CHECK(strstr(msg, want) != NULL, "2 bytes overwritten at %zu: the message names %s: %s",
                  at, want, msg);
            named++;
        }
        if (msg != err)
            mpq_vec_reader_close(r);
        tested++;
    }
    CHECK(tested >= 490, "%u damaged files", tested);
    printf("test_vec: %u damaged copies of the issue's file (%zu bytes, %u blocks): none returned a "
           "damaged cycle, %u damaged a block and their message named it\n", tested, zn, nblk, named);
    free(z);
    free(d);
    free(zb);
}

/* ---- The generator's estimate and the size bound against real runs ----------------------- */
static void test_estimate(void)
{
    static const struct {
        const char *cfg;
        unsigned m, k, n;
        const char *shape; /* a convolution instead of m, k, n */
        double pv, pr;
    } runs[] = {
        {"default", 64, 512, 32, NULL, 1.0, 1.0}, {"default", 256, 512, 8, NULL, 0.7, 0.7},
        {"default", 8, 1024, 16, NULL, 0.3, 1.0}, {"small", 1000, 16, 3, NULL, 1.0, 0.3},
        {"dense", 64, 512, 32, NULL, 1.0, 0.3},   {"mix2", 100, 33, 20, NULL, 0.4, 0.25},
        {"default", 0, 0, 0, "conv2d h=12 w=12 c=40 o=20 k=3 p=1", 1.0, 1.0},
        {"default", 0, 0, 0, "conv2d h=12 w=12 c=40 o=20 k=3 s=2 p=1", 0.5, 0.5},
        {"small", 0, 0, 0, "depthwise h=10 w=9 c=6 o=12 k=2", 0.7, 1.0},
        {"mix2", 0, 0, 0, "conv2d b=2 h=8 w=8 c=12 o=10 k=1 g=2", 1.0, 0.4},
    };
    double rmin = 1e9, rmax = 0.0;
    for (unsigned i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        char path[512], err[512];
        mpq_hwcfg hw;
        snprintf(path, sizeof path, "rtl/cfg/%s.cfg", runs[i].cfg);
        if (mpq_hwcfg_load(path, &hw, err, sizeof err) != 0) {
            CHECK(0, "%s", err);
            continue;
        }
        mpq_layer_opts lo = {.seed = i, .m = runs[i].m, .k = runs[i].k, .n = runs[i].n,
                             .hp_n = hw.hp_per_group};
        if (runs[i].shape)
            CHECK_EQ(mpq_conv_shape_parse(runs[i].shape, &lo.shape, err, sizeof err), 0, "%s", err);
        mpq_timing_opts to;
        mpq_timing_default(i, runs[i].pv, runs[i].pr, &to);
        mpq_gen_estimate e;
        mpq_hw_layer l;
        CHECK_EQ(mpq_hw_layer_shape(&lo, &l, err, sizeof err), 0, "%s", err);
        mpq_gen_estimate_run(&hw, &l, &to, &e);
        mpq_gen *g = NULL;
        mpq_vec_writer *w = NULL;
        mpq_vec_header h;
        header_for(&hw, &h);
        snprintf(path, sizeof path, "%s/estimate.vec", dir);
        static mpq_port_in in;
        static mpq_port_out x;
        uint64_t beats[4] = {0, 0, 0, 0};
        int ok = mpq_hw_layer_random(&hw, &lo, &l, err, sizeof err) == 0;
        if (ok)
            mpq_vec_header_set_layer(&h, &l);
        ok = ok && mpq_gen_new(&hw, &l, &to, &g, err, sizeof err) == 0 &&
             mpq_vec_writer_open(path, &h, &w, err, sizeof err) == 0;
        while (ok && mpq_gen_next(g, &in, &x) == 1) {
            beats[0] += in.cfg_valid && x.cfg_ready;
            beats[1] += in.wgt_valid && x.wgt_ready;
            beats[2] += in.act_valid && x.act_ready;
            beats[3] += x.out_valid && in.out_ready;
            ok = mpq_vec_writer_put(w, &in, &x) == 0;
        }
        ok = ok && mpq_vec_writer_close(w, err, sizeof err) == 0;
        CHECK(ok, "%s", err);
        uint64_t cycles = g ? mpq_gen_cycle(g) : 0;
        double ratio = (double)cycles / (double)e.cycles;
        rmin = ratio < rmin ? ratio : rmin;
        rmax = ratio > rmax ? ratio : rmax;
        CHECK(ratio > 0.9 && ratio < 1.1, "%s %s m=%u k=%u n=%u: %llu cycles, estimate %llu",
              runs[i].cfg, runs[i].shape ? runs[i].shape : "fc", l.m, l.k, l.n,
              (unsigned long long)cycles, (unsigned long long)e.cycles);
        CHECK(beats[0] == e.cfg_beats && beats[1] == e.wgt_beats && beats[2] == e.act_beats &&
                  beats[3] == e.out_rows,
              "%s: the beat counts are exact (%llu %llu %llu %llu, estimate %llu %llu %llu %llu)",
              runs[i].cfg, (unsigned long long)beats[0], (unsigned long long)beats[1],
              (unsigned long long)beats[2], (unsigned long long)beats[3],
              (unsigned long long)e.cfg_beats, (unsigned long long)e.wgt_beats,
              (unsigned long long)e.act_beats, (unsigned long long)e.out_rows);
        long size = file_size(path);
        uint64_t bound = mpq_vec_size_bound(&hw, cycles, e.cfg_beats, e.wgt_beats, e.act_beats,
                                            e.out_rows);
        CHECK(size > 0 && (uint64_t)size <= bound, "%s: file %ld bytes, bound %llu", runs[i].cfg,
              size, (unsigned long long)bound);
        mpq_gen_free(g);
        mpq_hw_layer_free(&l);
    }
    printf("test_vec: gen's cycle estimate: runs took %.3f to %.3f of it (%zu runs, FC and convolutions)\n",
           rmin, rmax, sizeof runs / sizeof runs[0]);
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
            test_format_edits(&hw);
            test_damage(&hw);
            test_conv_header(&hw);
        }
    }
    test_version1();
    test_version2();
    test_estimate();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return check_done("test_vec");
}
