/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_vec.c: vector files (vectors/FORMAT.md). One gzip member holding a header, one
 * record per cycle that stores only what changed, and an end record with the cycle count
 * and a CRC-32 of everything before it. Streamed through fixed buffers: constant memory.
 * The writer is atomic (path.tmp, renamed by close).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "mpq.h"
#include "mpq_vec.h"

#define VEC_MAGIC "MPQVEC"
#define VEC_BUF 65536u
#define VEC_HDR_MAX 4096u

/* Record flag bits (FORMAT.md). Byte A: inputs; byte B: expected outputs; byte C: extension. */
enum {
    A_RST_N = 1u << 0, A_CFG_VALID = 1u << 1, A_WGT_VALID = 1u << 2, A_ACT_VALID = 1u << 3,
    A_OUT_READY = 1u << 4, A_CFG_DATA = 1u << 5, A_WGT_DATA = 1u << 6, A_ACT_DATA = 1u << 7,
};
enum {
    B_CFG_READY = 1u << 0, B_WGT_READY = 1u << 1, B_ACT_READY = 1u << 2, B_OUT_VALID = 1u << 3,
    B_BUSY = 1u << 4, B_DONE = 1u << 5, B_OUT_DATA = 1u << 6, B_EXT = 1u << 7,
};
enum { C_OVF = 1u << 0, C_END = 1u << 1, C_KNOWN = C_OVF | C_END };

/* Byte widths of the buses of a configuration. */
typedef struct vec_geom {
    unsigned cfg_b, wgt_b, act_b, out_b, ovf_b;
    unsigned cfg_w, wgt_w, act_w, out_w; /* in bits */
} vec_geom;

static void geom_of(const mpq_hwcfg *hw, vec_geom *g)
{
    g->cfg_w = mpq_hw_cfg_w(hw);
    g->wgt_w = mpq_hw_wgt_w(hw);
    g->act_w = mpq_hw_act_w(hw);
    g->out_w = mpq_hw_out_w(hw);
    g->cfg_b = (g->cfg_w + 7u) / 8u;
    g->wgt_b = (g->wgt_w + 7u) / 8u;
    g->act_b = (g->act_w + 7u) / 8u;
    g->out_b = (g->out_w + 7u) / 8u;
    g->ovf_b = (hw->lanes + 7u) / 8u;
}

/* A bus of `bits` bits as little-endian bytes, bits above the width zero. */
static void bus_to_bytes(const uint32_t *w, unsigned bits, uint8_t *out)
{
    unsigned nb = (bits + 7u) / 8u;
    for (unsigned i = 0; i < nb; i++)
        out[i] = (uint8_t)(w[i / 4u] >> (8u * (i % 4u)));
    if (bits % 8u)
        out[nb - 1] &= (uint8_t)((1u << (bits % 8u)) - 1u);
}

static void bytes_to_bus(const uint8_t *in, unsigned bits, uint32_t *w)
{
    unsigned nb = (bits + 7u) / 8u, nw = MPQ_WORDS(bits);
    memset(w, 0, nw * sizeof *w);
    for (unsigned i = 0; i < nb; i++)
        w[i / 4u] |= (uint32_t)in[i] << (8u * (i % 4u));
    if (bits % 32u)
        w[nw - 1] &= (1u << (bits % 32u)) - 1u;
}

/* Equal within the bus width (bits above are ignored). */
static int bus_equal(const uint32_t *a, const uint32_t *b, unsigned bits)
{
    unsigned full = bits / 32u;
    if (memcmp(a, b, full * sizeof *a) != 0)
        return 0;
    if (bits % 32u) {
        uint32_t m = (1u << (bits % 32u)) - 1u;
        return ((a[full] ^ b[full]) & m) == 0;
    }
    return 1;
}

static void put_u16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const uint8_t *p) { return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32; }

/* ------------------------------------------------------------------------------------------ */
/* Writer                                                                                     */

struct mpq_vec_writer {
    FILE *f;
    char *path, *tmp;
    z_stream z;
    int z_ok, io_error;
    vec_geom g;
    uint32_t crc;
    uint64_t cycles;
    uint8_t buf[VEC_BUF]; /* uncompressed bytes waiting for deflate */
    size_t len;
    uint8_t zout[VEC_BUF];
    /* last values written */
    uint32_t cfg[MPQ_PORT_WORDS_MAX], wgt[MPQ_PORT_WORDS_MAX], act[MPQ_PORT_WORDS_MAX];
    uint32_t out[MPQ_PORT_WORDS_MAX];
    uint64_t ovf;
};

static int w_deflate(mpq_vec_writer *w, int flush)
{
    w->crc = (uint32_t)crc32(w->crc, w->buf, (uInt)w->len);
    w->z.next_in = w->buf;
    w->z.avail_in = (uInt)w->len;
    int zr;
    do {
        w->z.next_out = w->zout;
        w->z.avail_out = VEC_BUF;
        zr = deflate(&w->z, flush);
        if (zr == Z_STREAM_ERROR)
            return MPQ_EIO;
        size_t have = VEC_BUF - w->z.avail_out;
        if (have && fwrite(w->zout, 1, have, w->f) != have) {
            w->io_error = errno ? errno : EIO;
            return MPQ_EIO;
        }
    } while (w->z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
    w->len = 0;
    return 0;
}

/* Room for n more bytes in the buffer. */
static int w_reserve(mpq_vec_writer *w, size_t n)
{
    if (w->len + n > VEC_BUF)
        return w_deflate(w, Z_NO_FLUSH);
    return 0;
}

static void w_free(mpq_vec_writer *w)
{
    if (w->z_ok)
        deflateEnd(&w->z);
    if (w->f)
        fclose(w->f);
    free(w->path);
    free(w->tmp);
    free(w);
}

static size_t put_str(uint8_t *p, const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    put_u16(p, (uint32_t)n);
    memcpy(p + 2, s, n);
    return 2 + n;
}

int mpq_vec_writer_open(const char *path, const mpq_vec_header *h, mpq_vec_writer **out, char *err,
                        size_t errlen)
{
    *out = NULL;
    char why[200];
    if (mpq_hwcfg_check(&h->hw, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: header configuration: %s", path, why);
        return MPQ_EPARAM;
    }
    mpq_vec_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "%s: out of memory", path);
        return MPQ_ENOMEM;
    }
    size_t pl = strlen(path);
    w->path = malloc(pl + 1);
    w->tmp = malloc(pl + 5);
    if (!w->path || !w->tmp) {
        w_free(w);
        snprintf(err, errlen, "%s: out of memory", path);
        return MPQ_ENOMEM;
    }
    memcpy(w->path, path, pl + 1);
    memcpy(w->tmp, path, pl);
    memcpy(w->tmp + pl, ".tmp", 5);
    w->f = fopen(w->tmp, "wb");
    if (!w->f) {
        snprintf(err, errlen, "%s: cannot create: %s", w->tmp, strerror(errno));
        w_free(w);
        return MPQ_EIO;
    }
    /* gzip wrapper (windowBits 16 + 15); zlib writes mtime 0 and no name: same bytes every time. */
    if (deflateInit2(&w->z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        snprintf(err, errlen, "%s: zlib deflateInit2 failed", path);
        fclose(w->f);
        w->f = NULL;
        remove(w->tmp);
        w_free(w);
        return MPQ_EIO;
    }
    w->z_ok = 1;
    geom_of(&h->hw, &w->g);
    w->crc = (uint32_t)crc32(0L, Z_NULL, 0);

    /* Header: magic, version, body length, body. */
    uint8_t *p = w->buf;
    memcpy(p, VEC_MAGIC, 6);
    put_u16(p + 6, MPQ_VEC_VERSION);
    uint8_t *body = p + 12;
    size_t n = 0;
    /* The parameters in the order of the table (mpq_layout.c). */
    for (int i = 0; i < MPQ_P_COUNT; i++, n += 4)
        put_u32(body + n, mpq_hwcfg_value(&h->hw, (mpq_param)i));
    put_u64(body + n, h->seed);
    n += 8;
    put_u64(body + n, h->timing_seed);
    n += 8;
    const uint32_t shape[4] = {h->m, h->k, h->n, h->acc_sat};
    for (int i = 0; i < 4; i++, n += 4)
        put_u32(body + n, shape[i]);
    n += put_str(body + n, h->generator, sizeof h->generator - 1);
    n += put_str(body + n, h->source, sizeof h->source - 1);
    n += put_str(body + n, h->command, sizeof h->command - 1);
    put_u32(p + 8, (uint32_t)n);
    w->len = 12 + n;
    *out = w;
    return 0;
}

int mpq_vec_writer_put(mpq_vec_writer *w, const mpq_port_in *in, const mpq_port_out *exp)
{
    const vec_geom *g = &w->g;
    if (w_reserve(w, 3 + g->cfg_b + g->wgt_b + g->act_b + g->out_b + g->ovf_b) != 0)
        return MPQ_EIO;
    uint8_t a = (uint8_t)((in->rst_n ? A_RST_N : 0) | (in->cfg_valid ? A_CFG_VALID : 0) |
                          (in->wgt_valid ? A_WGT_VALID : 0) | (in->act_valid ? A_ACT_VALID : 0) |
                          (in->out_ready ? A_OUT_READY : 0));
    uint8_t b = (uint8_t)((exp->cfg_ready ? B_CFG_READY : 0) | (exp->wgt_ready ? B_WGT_READY : 0) |
                          (exp->act_ready ? B_ACT_READY : 0) | (exp->out_valid ? B_OUT_VALID : 0) |
                          (exp->busy ? B_BUSY : 0) | (exp->done ? B_DONE : 0));
    int cfg_ch = !bus_equal(in->cfg_data, w->cfg, g->cfg_w);
    int wgt_ch = !bus_equal(in->wgt_data, w->wgt, g->wgt_w);
    int act_ch = !bus_equal(in->act_data, w->act, g->act_w);
    /* out_data is don't-care while out_valid is 0: stored only when valid and changed. */
    int out_ch = exp->out_valid && !bus_equal(exp->out_data, w->out, g->out_w);
    uint64_t lane_mask = w->g.ovf_b >= 8 ? ~0ull : (1ull << (8u * w->g.ovf_b)) - 1u;
    int ovf_ch = ((exp->ovf ^ w->ovf) & lane_mask) != 0;
    a |= (uint8_t)((cfg_ch ? A_CFG_DATA : 0) | (wgt_ch ? A_WGT_DATA : 0) | (act_ch ? A_ACT_DATA : 0));
    b |= (uint8_t)((out_ch ? B_OUT_DATA : 0) | (ovf_ch ? B_EXT : 0));
    uint8_t *p = w->buf + w->len;
    *p++ = a;
    *p++ = b;
    if (ovf_ch)
        *p++ = C_OVF;
    if (cfg_ch) {
        bus_to_bytes(in->cfg_data, g->cfg_w, p);
        p += g->cfg_b;
        memcpy(w->cfg, in->cfg_data, MPQ_WORDS(g->cfg_w) * sizeof w->cfg[0]);
    }
    if (wgt_ch) {
        bus_to_bytes(in->wgt_data, g->wgt_w, p);
        p += g->wgt_b;
        memcpy(w->wgt, in->wgt_data, MPQ_WORDS(g->wgt_w) * sizeof w->wgt[0]);
    }
    if (act_ch) {
        bus_to_bytes(in->act_data, g->act_w, p);
        p += g->act_b;
        memcpy(w->act, in->act_data, MPQ_WORDS(g->act_w) * sizeof w->act[0]);
    }
    if (out_ch) {
        bus_to_bytes(exp->out_data, g->out_w, p);
        p += g->out_b;
        memcpy(w->out, exp->out_data, MPQ_WORDS(g->out_w) * sizeof w->out[0]);
    }
    if (ovf_ch) {
        uint64_t v = exp->ovf & lane_mask;
        for (unsigned i = 0; i < g->ovf_b; i++)
            *p++ = (uint8_t)(v >> (8u * i));
        w->ovf = v;
    }
    w->len = (size_t)(p - w->buf);
    w->cycles++;
    return 0;
}

void mpq_vec_writer_abort(mpq_vec_writer *w)
{
    if (!w)
        return;
    if (w->f) {
        fclose(w->f);
        w->f = NULL;
    }
    remove(w->tmp);
    w_free(w);
}

int mpq_vec_writer_close(mpq_vec_writer *w, char *err, size_t errlen)
{
    int rc = w_reserve(w, 3 + 12);
    if (rc == 0) {
        uint8_t *p = w->buf + w->len;
        p[0] = 0;
        p[1] = B_EXT;
        p[2] = C_END;
        w->len += 3;
        /* The CRC covers every byte before the trailer. */
        uint32_t crc = (uint32_t)crc32(w->crc, w->buf, (uInt)w->len);
        p = w->buf + w->len;
        put_u64(p, w->cycles);
        put_u32(p + 8, crc);
        w->len += 12;
        rc = w_deflate(w, Z_FINISH);
    }
    if (rc == 0 && fflush(w->f) != 0)
        rc = MPQ_EIO;
    int saved = errno;
    if (fclose(w->f) != 0 && rc == 0) {
        rc = MPQ_EIO;
        saved = errno;
    }
    w->f = NULL;
    if (rc == 0 && rename(w->tmp, w->path) != 0) {
        rc = MPQ_EIO;
        saved = errno;
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s: write failed: %s", w->path, strerror(saved ? saved : EIO));
        remove(w->tmp);
    }
    w_free(w);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Reader                                                                                     */

struct mpq_vec_reader {
    FILE *f;
    char *path;
    z_stream z;
    int z_ok;
    int z_end;      /* the gzip member ended */
    int done;       /* end record verified */
    int failed;
    mpq_vec_header h;
    vec_geom g;
    uint64_t cycles;
    uint32_t crc;
    uint8_t zin[VEC_BUF];
    uint8_t buf[VEC_BUF + 64];
    size_t pos, len, crc_pos; /* buf[pos..len) not yet parsed; crc covers buf[..crc_pos) */
    /* held values */
    mpq_port_in in;
    mpq_port_out exp;
    char err[512];
};

static int r_fail(mpq_vec_reader *r, int code, const char *fmt, const char *detail)
{
    char what[400];
    snprintf(what, sizeof what, fmt, detail ? detail : "");
    snprintf(r->err, sizeof r->err, "%s: %s", r->path, what);
    r->failed = code;
    return code;
}

/* Decompress more bytes so that at least `need` are available at buf[pos..]; returns 0, or
 * MPQ_ETRUNC when the data ends first (the caller names what was cut), or another error. */
static int r_fill(mpq_vec_reader *r, size_t need)
{
    while (r->len - r->pos < need) {
        /* Fold the parsed bytes into the CRC and move the rest to the front. */
        r->crc = (uint32_t)crc32(r->crc, r->buf + r->crc_pos, (uInt)(r->pos - r->crc_pos));
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = r->crc_pos = 0;
        if (r->z_end)
            return MPQ_ETRUNC;
        if (r->z.avail_in == 0) {
            size_t got = fread(r->zin, 1, VEC_BUF, r->f);
            if (got == 0) {
                if (ferror(r->f))
                    return r_fail(r, MPQ_EIO, "read error%s", NULL);
                return MPQ_ETRUNC; /* the gzip stream is cut short */
            }
            r->z.next_in = r->zin;
            r->z.avail_in = (uInt)got;
        }
        r->z.next_out = r->buf + r->len;
        r->z.avail_out = (uInt)(VEC_BUF - r->len);
        int zr = inflate(&r->z, Z_NO_FLUSH);
        r->len = VEC_BUF - r->z.avail_out;
        if (zr == Z_STREAM_END) {
            r->z_end = 1;
            /* Nothing may follow the gzip member. */
            int c = r->z.avail_in ? 1 : fgetc(r->f) != EOF;
            if (c)
                return r_fail(r, MPQ_ECORRUPT, "corrupted: data after the end of the gzip stream%s",
                              NULL);
        } else if (zr == Z_DATA_ERROR) {
            return r_fail(r, MPQ_ECORRUPT, "corrupted (gzip: %s)", r->z.msg ? r->z.msg : "bad data");
        } else if (zr == Z_MEM_ERROR) {
            return r_fail(r, MPQ_ENOMEM, "out of memory%s", NULL);
        } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
            return r_fail(r, MPQ_ECORRUPT, "corrupted (gzip: %s)", r->z.msg ? r->z.msg : "error");
        }
    }
    return 0;
}

static int r_trunc(mpq_vec_reader *r, int rc, const char *where)
{
    if (rc != MPQ_ETRUNC)
        return rc;
    char what[160];
    snprintf(what, sizeof what, "truncated %s (no end record)", where);
    return r_fail(r, MPQ_ETRUNC, "%s", what);
}

static int r_str(mpq_vec_reader *r, const uint8_t *body, size_t blen, size_t *off, char *dst,
                 size_t cap, const char *name)
{
    if (*off + 2 > blen)
        return r_fail(r, MPQ_EFORMAT, "malformed header: %s missing", name);
    size_t n = get_u16(body + *off);
    if (n >= cap || *off + 2 + n > blen)
        return r_fail(r, MPQ_EFORMAT, "malformed header: %s too long", name);
    memcpy(dst, body + *off + 2, n);
    dst[n] = '\0';
    if (memchr(dst, '\0', n))
        return r_fail(r, MPQ_EFORMAT, "malformed header: %s holds a NUL byte", name);
    *off += 2 + n;
    return 0;
}

int mpq_vec_reader_open(const char *path, mpq_vec_reader **out, char *err, size_t errlen)
{
    *out = NULL;
    mpq_vec_reader *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "%s: out of memory", path);
        return MPQ_ENOMEM;
    }
    r->path = strdup(path);
    if (!r->path) {
        free(r);
        snprintf(err, errlen, "%s: out of memory", path);
        return MPQ_ENOMEM;
    }
    r->f = fopen(path, "rb");
    if (!r->f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        mpq_vec_reader_close(r);
        return MPQ_EIO;
    }
    if (inflateInit2(&r->z, 16 + 15) != Z_OK) { /* gzip only */
        snprintf(err, errlen, "%s: zlib inflateInit2 failed", path);
        mpq_vec_reader_close(r);
        return MPQ_EIO;
    }
    r->z_ok = 1;
    r->crc = (uint32_t)crc32(0L, Z_NULL, 0);

    /* An empty file, or one that is not gzip at all, gets its own message. */
    int c = fgetc(r->f);
    if (c == EOF) {
        snprintf(err, errlen, "%s: empty file (not a vector file)", path);
        mpq_vec_reader_close(r);
        return MPQ_EFORMAT;
    }
    int c2 = fgetc(r->f);
    if (c != 0x1f || c2 != 0x8b) {
        snprintf(err, errlen, "%s: not a vector file (not gzip-compressed)", path);
        mpq_vec_reader_close(r);
        return MPQ_EFORMAT;
    }
    rewind(r->f);

    int rc = r_trunc(r, r_fill(r, 12), "in the header");
    if (rc == 0 && memcmp(r->buf, VEC_MAGIC, 6) != 0)
        rc = r_fail(r, MPQ_EFORMAT, "not a vector file (bad magic)%s", NULL);
    if (rc == 0 && get_u16(r->buf + 6) != MPQ_VEC_VERSION) {
        char v[80];
        snprintf(v, sizeof v, "%u, this reader reads version %u", get_u16(r->buf + 6), MPQ_VEC_VERSION);
        rc = r_fail(r, MPQ_EVERSION, "format version %s", v);
    }
    size_t blen = 0;
    if (rc == 0) {
        blen = get_u32(r->buf + 8);
        if (blen < 4u * MPQ_P_COUNT + 38u || blen > VEC_HDR_MAX) /* parameters, seeds, shape, 3 empty strings */
            rc = r_fail(r, MPQ_EFORMAT, "malformed header: impossible header length%s", NULL);
    }
    if (rc == 0)
        rc = r_trunc(r, r_fill(r, 12 + blen), "in the header");
    if (rc == 0) {
        const uint8_t *body = r->buf + r->pos + 12;
        mpq_vec_header *h = &r->h;
        h->version = MPQ_VEC_VERSION;
        size_t off = 0;
        for (int i = 0; i < MPQ_P_COUNT; i++, off += 4)
            mpq_hwcfg_set(&h->hw, (mpq_param)i, get_u32(body + off));
        h->seed = get_u64(body + off);
        off += 8;
        h->timing_seed = get_u64(body + off);
        off += 8;
        h->m = get_u32(body + off);
        h->k = get_u32(body + off + 4);
        h->n = get_u32(body + off + 8);
        h->acc_sat = get_u32(body + off + 12);
        off += 16;
        rc = r_str(r, body, blen, &off, h->generator, sizeof h->generator, "generator");
        if (rc == 0)
            rc = r_str(r, body, blen, &off, h->source, sizeof h->source, "source");
        if (rc == 0)
            rc = r_str(r, body, blen, &off, h->command, sizeof h->command, "command");
        if (rc == 0 && off != blen)
            rc = r_fail(r, MPQ_EFORMAT, "malformed header: %s", "unexpected bytes after the strings");
        char why[200];
        if (rc == 0 && mpq_hwcfg_check(&h->hw, why, sizeof why) != 0)
            rc = r_fail(r, MPQ_EFORMAT, "malformed header: configuration %s", why);
        if (rc == 0 && (h->m < 1 || h->m > 65535 || h->k < 1 || h->k > h->hw.kmax || h->n < 1 ||
                        h->acc_sat > 1))
            rc = r_fail(r, MPQ_EFORMAT, "malformed header: %s", "impossible layer shape");
        r->pos += 12 + blen;
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s", r->err);
        mpq_vec_reader_close(r);
        return rc;
    }
    geom_of(&r->h.hw, &r->g);
    *out = r;
    return 0;
}

const mpq_vec_header *mpq_vec_reader_header(const mpq_vec_reader *r) { return &r->h; }
const char *mpq_vec_reader_error(const mpq_vec_reader *r) { return r->err; }
uint64_t mpq_vec_reader_cycle(const mpq_vec_reader *r) { return r->cycles; }

static int r_end(mpq_vec_reader *r)
{
    /* The CRC covers everything up to and including the end record's three bytes. */
    r->crc = (uint32_t)crc32(r->crc, r->buf + r->crc_pos, (uInt)(r->pos - r->crc_pos));
    r->crc_pos = r->pos;
    int rc = r_fill(r, 12);
    if (rc != 0)
        return r_trunc(r, rc, "in the end record");
    uint64_t count = get_u64(r->buf + r->pos);
    uint32_t crc = get_u32(r->buf + r->pos + 8);
    r->pos += 12;
    r->crc_pos = r->pos;
    if (crc != r->crc)
        return r_fail(r, MPQ_ECORRUPT, "corrupted: record checksum mismatch%s", NULL);
    if (count != r->cycles) {
        char what[120];
        snprintf(what, sizeof what, "the end record counts %llu cycles, the file holds %llu",
                 (unsigned long long)count, (unsigned long long)r->cycles);
        return r_fail(r, MPQ_ECORRUPT, "corrupted: %s", what);
    }
    /* Nothing may follow the end record, and the gzip member must end here (its CRC and
     * length are checked by zlib when it does). */
    rc = r_fill(r, 1);
    if (rc == 0)
        return r_fail(r, MPQ_ECORRUPT, "corrupted: data after the end record%s", NULL);
    if (rc != MPQ_ETRUNC)
        return rc;
    if (!r->z_end)
        return r_fail(r, MPQ_ETRUNC, "truncated: the gzip stream does not end%s", NULL);
    r->done = 1;
    return 0;
}

/* The position for error messages. Called only on an error: nothing is formatted on the
 * per-cycle path. */
static const char *r_where(const mpq_vec_reader *r, char *buf, size_t len)
{
    snprintf(buf, len, "after cycle %llu", (unsigned long long)r->cycles);
    return buf;
}

int mpq_vec_reader_next(mpq_vec_reader *r, mpq_port_in *in, mpq_port_out *exp)
{
    if (r->failed)
        return r->failed;
    if (r->done)
        return 0;
    const vec_geom *g = &r->g;
    size_t maxrec = 3 + g->cfg_b + g->wgt_b + g->act_b + g->out_b + g->ovf_b;
    int rc = 0;
    if (r->len - r->pos < maxrec) {
        rc = r_fill(r, maxrec);
        if (rc == MPQ_ETRUNC)
            rc = 0; /* a short tail is fine if the records in it are complete */
        else if (rc != 0)
            return rc;
    }
    char where[80]; /* r_where fills it only on an error */
    size_t avail = r->len - r->pos;
    if (avail < 2)
        return r_trunc(r, MPQ_ETRUNC, r_where(r, where, sizeof where));
    const uint8_t *p = r->buf + r->pos;
    uint8_t a = p[0], b = p[1], c = 0;
    size_t need = 2;
    if (b & B_EXT) {
        if (avail < 3)
            return r_trunc(r, MPQ_ETRUNC, r_where(r, where, sizeof where));
        c = p[2];
        need = 3;
        if (c & ~C_KNOWN)
            return r_fail(r, MPQ_ECORRUPT, "corrupted: unknown record flags %s",
                          r_where(r, where, sizeof where));
        if (c & C_END) {
            if (a != 0 || (b & ~B_EXT) != 0 || (c & ~C_END) != 0)
                return r_fail(r, MPQ_ECORRUPT, "corrupted: malformed end record %s",
                              r_where(r, where, sizeof where));
            r->pos += 3;
            rc = r_end(r);
            return rc != 0 ? rc : 0;
        }
    }
    need += ((a & A_CFG_DATA) ? g->cfg_b : 0) + ((a & A_WGT_DATA) ? g->wgt_b : 0) +
            ((a & A_ACT_DATA) ? g->act_b : 0) + ((b & B_OUT_DATA) ? g->out_b : 0) +
            ((c & C_OVF) ? g->ovf_b : 0);
    if (avail < need)
        return r_trunc(r, MPQ_ETRUNC, r_where(r, where, sizeof where));
    p += (b & B_EXT) ? 3 : 2;
    mpq_port_in *hi = &r->in;
    mpq_port_out *he = &r->exp;
    hi->rst_n = (a & A_RST_N) != 0;
    hi->cfg_valid = (a & A_CFG_VALID) != 0;
    hi->wgt_valid = (a & A_WGT_VALID) != 0;
    hi->act_valid = (a & A_ACT_VALID) != 0;
    hi->out_ready = (a & A_OUT_READY) != 0;
    if (a & A_CFG_DATA) {
        bytes_to_bus(p, g->cfg_w, hi->cfg_data);
        p += g->cfg_b;
    }
    if (a & A_WGT_DATA) {
        bytes_to_bus(p, g->wgt_w, hi->wgt_data);
        p += g->wgt_b;
    }
    if (a & A_ACT_DATA) {
        bytes_to_bus(p, g->act_w, hi->act_data);
        p += g->act_b;
    }
    he->cfg_ready = (b & B_CFG_READY) != 0;
    he->wgt_ready = (b & B_WGT_READY) != 0;
    he->act_ready = (b & B_ACT_READY) != 0;
    he->out_valid = (b & B_OUT_VALID) != 0;
    he->busy = (b & B_BUSY) != 0;
    he->done = (b & B_DONE) != 0;
    if (b & B_OUT_DATA) {
        bytes_to_bus(p, g->out_w, he->out_data);
        p += g->out_b;
    }
    if (c & C_OVF) {
        uint64_t v = 0;
        for (unsigned i = 0; i < g->ovf_b; i++)
            v |= (uint64_t)p[i] << (8u * i);
        p += g->ovf_b;
        if (g->ovf_b * 8u > r->h.hw.lanes && (v >> r->h.hw.lanes) != 0)
            return r_fail(r, MPQ_ECORRUPT, "corrupted: overflow flags beyond Lanes %s",
                          r_where(r, where, sizeof where));
        he->ovf = v;
    }
    r->pos += need;
    r->cycles++;
    /* Copy out only the words of each bus (the ports' buffers are large). */
    in->rst_n = hi->rst_n;
    in->cfg_valid = hi->cfg_valid;
    in->wgt_valid = hi->wgt_valid;
    in->act_valid = hi->act_valid;
    in->out_ready = hi->out_ready;
    memcpy(in->cfg_data, hi->cfg_data, MPQ_WORDS(g->cfg_w) * sizeof in->cfg_data[0]);
    memcpy(in->wgt_data, hi->wgt_data, MPQ_WORDS(g->wgt_w) * sizeof in->wgt_data[0]);
    memcpy(in->act_data, hi->act_data, MPQ_WORDS(g->act_w) * sizeof in->act_data[0]);
    exp->cfg_ready = he->cfg_ready;
    exp->wgt_ready = he->wgt_ready;
    exp->act_ready = he->act_ready;
    exp->out_valid = he->out_valid;
    exp->busy = he->busy;
    exp->done = he->done;
    exp->ovf = he->ovf;
    memcpy(exp->out_data, he->out_data, MPQ_WORDS(g->out_w) * sizeof exp->out_data[0]);
    return 1;
}

void mpq_vec_reader_close(mpq_vec_reader *r)
{
    if (!r)
        return;
    if (r->z_ok)
        inflateEnd(&r->z);
    if (r->f)
        fclose(r->f);
    free(r->path);
    free(r);
}
