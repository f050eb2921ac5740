/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_vec.c: vector files (vectors/FORMAT.md, version 3). One gzip member holding a header
 * with its own CRC-32, the cycle records (one per cycle, storing only what changed) grouped
 * into blocks of up to 64 KiB that each carry the CRC-32 of their records, and an end record
 * with the cycle count and a CRC-32 of everything before it. The reader inflates and verifies
 * a whole block before it returns any cycle of it: a damaged file stops at the damaged block,
 * its cycles never reach a testbench. Streamed through fixed buffers: constant memory. The
 * writer is atomic (path.tmp, renamed by close).
 */
#define ZLIB_CONST /* next_in is const */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "arith/mpq.h"
#include "stim/mpq_hwlayer.h"
#include "stim/mpq_vec.h"

#define VEC_MAGIC "MPQVEC"
#define VEC_ZBUF 65536u   /* compressed bytes per read or write */
#define VEC_HDR_MAX 4096u /* largest header body */
#define VEC_FRAME 8u      /* block frame: payload length, payload CRC-32 */
#define VEC_END 16u       /* end record: length 0, cycle count, stream CRC-32 */
/* Configuration parameters every version-2 file carries: the nine of its first release
 * (Lanes .. KMax). A parameter appended to mpq_params[] later takes its default in the
 * files written before it existed. */
#define VEC_P_MIN 10u /* version 3: ActDepth is the 10th */
_Static_assert(MPQ_P_COUNT >= VEC_P_MIN, "parameters are appended to mpq_params[], never removed");
/* Version 1 files (no block checksums) were written until this date. */
#define VEC_V1_UNTIL "2026-12-01"
/* The gzip header the writer produces: deflate, no flags, mtime 0, XFL 0 (level 6), OS 3.
 * gzip protects none of these bytes, so the reader compares them. */
static const uint8_t vec_gzip_header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};

/* The record flags (FORMAT.md, "Cycle records"): bytes A, B and C are bits 0..23 of one word,
 * at the bits of the port table (mpq_ports[] of mpq_layout.c, through contract/mpq_ports.h). */

/* Bit and byte widths of the buses of a configuration (MPQ_BUS_*). */
typedef struct vec_geom {
    unsigned bits[MPQ_BUS_COUNT], bytes[MPQ_BUS_COUNT];
} vec_geom;

static void geom_of(const mpq_hwcfg *hw, vec_geom *g)
{
#define X(idx, field, port, bus, width, store, rec, valid) \
    g->bits[bus] = mpq_port_width(hw, width);              \
    g->bytes[bus] = (g->bits[bus] + 7u) / 8u;
    MPQ_IN_BUSES(X)
    MPQ_OUT_BUSES(X)
#undef X
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

/* The longest record of a configuration: flags A, B, C and every bus. */
static size_t max_record(const vec_geom *g)
{
    size_t n = 3u;
    for (unsigned b = 0; b < MPQ_BUS_COUNT; b++)
        n += g->bytes[b];
    return n;
}

void mpq_vec_header_set_layer(mpq_vec_header *h, const mpq_hw_layer *l)
{
    h->m = l->m;
    h->k = l->k;
    h->n = l->n;
    if (l->s.kind != MPQ_LAYER_CONV2D && l->s.kind != MPQ_LAYER_DEPTHWISE) {
        h->kind = MPQ_VEC_KIND_FC;
        h->nshape = 3;
        h->shape[0] = l->m;
        h->shape[1] = l->k;
        h->shape[2] = l->n;
        return;
    }
    const mpq_conv_shape *s = &l->s;
    h->kind = s->kind == MPQ_LAYER_CONV2D ? MPQ_VEC_KIND_CONV2D : MPQ_VEC_KIND_DEPTHWISE;
    const uint32_t v[MPQ_VEC_CONV_SHAPE] = {s->batches, s->in_h, s->in_w, s->in_c, s->out_c, s->out_h,
                                            s->out_w, s->kh, s->kw, s->sy, s->sx, s->dy, s->dx,
                                            s->py, s->px, s->groups ? s->groups : 1};
    h->nshape = MPQ_VEC_CONV_SHAPE;
    memcpy(h->shape, v, sizeof v);
}

int mpq_vec_header_conv_shape(const mpq_vec_header *h, mpq_conv_shape *s)
{
    if (h->kind != MPQ_VEC_KIND_CONV2D && h->kind != MPQ_VEC_KIND_DEPTHWISE)
        return 0;
    const uint32_t *v = h->shape;
    memset(s, 0, sizeof *s);
    s->kind = h->kind == MPQ_VEC_KIND_CONV2D ? MPQ_LAYER_CONV2D : MPQ_LAYER_DEPTHWISE;
    s->batches = v[0], s->in_h = v[1], s->in_w = v[2], s->in_c = v[3], s->out_c = v[4];
    s->out_h = v[5], s->out_w = v[6], s->kh = v[7], s->kw = v[8], s->sy = v[9], s->sx = v[10];
    s->dy = v[11], s->dx = v[12], s->py = v[13], s->px = v[14], s->groups = v[15];
    return 1;
}

/* The rules on a header's layer that readers enforce and writers must meet (FORMAT.md,
 * "Header"): the one place that knows which layer kinds and shapes a file may hold.
 * Returns 0 or MPQ_EFORMAT with the reason in why. */
static int header_check(const mpq_vec_header *h, char *why, size_t len)
{
    char cfg[200];
    if (mpq_hwcfg_check(&h->hw, cfg, sizeof cfg) != 0) {
        snprintf(why, len, "configuration %s", cfg);
        return MPQ_EFORMAT;
    }
    if (h->kind == MPQ_VEC_KIND_CONV2D || h->kind == MPQ_VEC_KIND_DEPTHWISE) {
        if (h->nshape != MPQ_VEC_CONV_SHAPE) {
            snprintf(why, len, "a convolution has %u shape values, not %u", MPQ_VEC_CONV_SHAPE,
                     (unsigned)h->nshape);
            return MPQ_EFORMAT;
        }
        mpq_conv_shape cs;
        char e[256];
        for (unsigned i = 0; i < MPQ_VEC_CONV_SHAPE; i++)
            if (h->shape[i] > 65535u) {
                snprintf(why, len, "impossible convolution shape: value %u is %u", i,
                         (unsigned)h->shape[i]);
                return MPQ_EFORMAT;
            }
        mpq_vec_header_conv_shape(h, &cs);
        if (mpq_conv_check(&cs, e, sizeof e) != 0 || mpq_hw_conv_fits(&h->hw, &cs, e, sizeof e) != 0) {
            snprintf(why, len, "impossible convolution shape: %s", e);
            return MPQ_EFORMAT;
        }
    } else if (h->kind != MPQ_VEC_KIND_FC) {
        snprintf(why, len, "unknown layer kind %u (0 fully connected, 1 conv2d, 2 depthwise)",
                 (unsigned)h->kind);
        return MPQ_EFORMAT;
    } else if (h->nshape != 3) {
        snprintf(why, len, "a fully connected layer has 3 shape values (M, K, N), not %u",
                 (unsigned)h->nshape);
        return MPQ_EFORMAT;
    } else {
        uint32_t m = h->shape[0], k = h->shape[1], n = h->shape[2];
        if (m < 1 || m > 65535 || k < 1 || k > h->hw.kmax || n < 1) {
            snprintf(why, len, "impossible layer shape m=%u k=%u n=%u (M 1..65535, K 1..KMax = %u, N >= 1)",
                     (unsigned)m, (unsigned)k, (unsigned)n, h->hw.kmax);
            return MPQ_EFORMAT;
        }
    }
    if (h->acc_sat > 1) {
        snprintf(why, len, "impossible accumulator mode %u (0 wrap, 1 saturate)", (unsigned)h->acc_sat);
        return MPQ_EFORMAT;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Writer                                                                                     */

struct mpq_vec_writer {
    FILE *f;
    char *path, *tmp;
    z_stream z;
    gz_header gz;
    int z_ok, io_errno;
    vec_geom g;
    uint32_t crc;   /* stream CRC-32 of every byte handed to deflate */
    uint64_t cycles, bytes;
    /* The block being filled: its frame, then len bytes of records. */
    uint8_t buf[VEC_FRAME + MPQ_VEC_BLOCK_MAX];
    size_t len;
    uint8_t zout[VEC_ZBUF];
    /* the buses as last written */
    mpq_port_in in;
    mpq_port_out out;
};

/* Compresses n bytes into the file (the stream CRC is the caller's). */
static int w_deflate(mpq_vec_writer *w, const uint8_t *p, size_t n, int flush)
{
    w->z.next_in = p;
    w->z.avail_in = (uInt)n;
    int zr;
    do {
        w->z.next_out = w->zout;
        w->z.avail_out = VEC_ZBUF;
        zr = deflate(&w->z, flush);
        if (zr == Z_STREAM_ERROR)
            return MPQ_EIO;
        size_t have = VEC_ZBUF - w->z.avail_out;
        if (have && fwrite(w->zout, 1, have, w->f) != have) {
            w->io_errno = errno ? errno : EIO;
            return MPQ_EIO;
        }
        w->bytes += have;
    } while (w->z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
    return 0;
}

/* The block in buf, framed by its length and the CRC-32 of its records. */
static int w_flush_block(mpq_vec_writer *w)
{
    if (w->len == 0)
        return 0;
    uint32_t crc = (uint32_t)crc32(0L, w->buf + VEC_FRAME, (uInt)w->len);
    put_u32(w->buf, (uint32_t)w->len);
    put_u32(w->buf + 4, crc);
    w->crc = (uint32_t)crc32(w->crc, w->buf, VEC_FRAME);
    w->crc = (uint32_t)crc32_combine(w->crc, crc, (z_off_t)w->len);
    int rc = w_deflate(w, w->buf, VEC_FRAME + w->len, Z_NO_FLUSH);
    w->len = 0;
    return rc;
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

/* Header: magic, version, body length, body, CRC-32 of all of it. Returns its length. */
_Static_assert(2 + 4 * MPQ_P_COUNT + 8 + 8 + 4 + 2 + 4 * MPQ_VEC_SHAPE_MAX + 4 + 6 +
                       sizeof((mpq_vec_header *)0)->generator +
                       sizeof((mpq_vec_header *)0)->source +
                       sizeof((mpq_vec_header *)0)->command <= VEC_HDR_MAX,
               "the largest header body fits VEC_HDR_MAX");
static size_t header_bytes(const mpq_vec_header *h, uint8_t *p)
{
    memcpy(p, VEC_MAGIC, 6);
    put_u16(p + 6, MPQ_VEC_VERSION);
    uint8_t *body = p + 12;
    size_t n = 0;
    /* The parameters in the order of the table (mpq_layout.c), preceded by their count. */
    put_u16(body, MPQ_P_COUNT);
    n += 2;
    for (int i = 0; i < MPQ_P_COUNT; i++, n += 4)
        put_u32(body + n, mpq_hwcfg_value(&h->hw, (mpq_param)i));
    put_u64(body + n, h->seed);
    n += 8;
    put_u64(body + n, h->timing_seed);
    n += 8;
    put_u32(body + n, h->kind);
    n += 4;
    put_u16(body + n, h->nshape);
    n += 2;
    for (uint32_t i = 0; i < h->nshape; i++, n += 4)
        put_u32(body + n, h->shape[i]);
    put_u32(body + n, h->acc_sat);
    n += 4;
    n += put_str(body + n, h->generator, sizeof h->generator - 1);
    n += put_str(body + n, h->source, sizeof h->source - 1);
    n += put_str(body + n, h->command, sizeof h->command - 1);
    put_u32(p + 8, (uint32_t)n);
    put_u32(p + 12 + n, (uint32_t)crc32(0L, p, (uInt)(12 + n)));
    return 12 + n + 4;
}

int mpq_vec_writer_open(const char *path, const mpq_vec_header *hin, mpq_vec_writer **out,
                        char *err, size_t errlen)
{
    *out = NULL;
    mpq_vec_header h = *hin;
    if (h.kind == MPQ_VEC_KIND_FC) {
        h.nshape = 3;
        h.shape[0] = h.m;
        h.shape[1] = h.k;
        h.shape[2] = h.n;
    }
    char why[300];
    if (h.nshape > MPQ_VEC_SHAPE_MAX) {
        snprintf(err, errlen, "%s: header: %u shape values, at most %u", path, (unsigned)h.nshape,
                 MPQ_VEC_SHAPE_MAX);
        return MPQ_EPARAM;
    }
    if (header_check(&h, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: header: %s", path, why);
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
    /* gzip wrapper (windowBits 16 + 15) with the header fixed on every platform: mtime 0, no
     * name, OS 3. The same cycles give the same bytes. */
    w->gz.os = 3;
    if (deflateInit2(&w->z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        snprintf(err, errlen, "%s: zlib deflateInit2 failed", path);
        mpq_vec_writer_abort(w);
        return MPQ_EIO;
    }
    w->z_ok = 1;
    if (deflateSetHeader(&w->z, &w->gz) != Z_OK) {
        snprintf(err, errlen, "%s: zlib deflateSetHeader failed", path);
        mpq_vec_writer_abort(w);
        return MPQ_EIO;
    }
    geom_of(&h.hw, &w->g);
    uint8_t hdr[12 + VEC_HDR_MAX + 4];
    size_t n = header_bytes(&h, hdr);
    w->crc = (uint32_t)crc32(0L, hdr, (uInt)n);
    if (w_deflate(w, hdr, n, Z_NO_FLUSH) != 0) {
        snprintf(err, errlen, "%s: write failed: %s", w->tmp, strerror(w->io_errno ? w->io_errno : EIO));
        mpq_vec_writer_abort(w);
        return MPQ_EIO;
    }
    *out = w;
    return 0;
}

/* A bus in a record (FORMAT.md): _changed: differs from what was last written; _put: its
 * bytes at p, remembered as last written; _get: read back from its bytes. Words (WORDS)
 * within the bus width; a flag vector (U64) within its bytes. */
static int changed_WORDS(const uint32_t (*cur)[MPQ_PORT_WORDS_MAX], const uint32_t (*last)[MPQ_PORT_WORDS_MAX],
                         const vec_geom *g, unsigned bus)
{
    return !bus_equal(*cur, *last, g->bits[bus]);
}
static void put_WORDS(uint8_t *p, const uint32_t (*cur)[MPQ_PORT_WORDS_MAX], uint32_t (*last)[MPQ_PORT_WORDS_MAX],
                      const vec_geom *g, unsigned bus)
{
    bus_to_bytes(*cur, g->bits[bus], p);
    memcpy(*last, *cur, MPQ_WORDS(g->bits[bus]) * sizeof (*cur)[0]);
}
static uint64_t byte_mask(const vec_geom *g, unsigned bus)
{
    return g->bytes[bus] >= 8 ? ~0ull : (1ull << (8u * g->bytes[bus])) - 1u;
}
static int changed_U64(const uint64_t *cur, const uint64_t *last, const vec_geom *g, unsigned bus)
{
    return ((*cur ^ *last) & byte_mask(g, bus)) != 0;
}
static void put_U64(uint8_t *p, const uint64_t *cur, uint64_t *last, const vec_geom *g, unsigned bus)
{
    uint64_t v = *cur & byte_mask(g, bus);
    for (unsigned i = 0; i < g->bytes[bus]; i++)
        p[i] = (uint8_t)(v >> (8u * i));
    *last = v;
}

int mpq_vec_writer_put(mpq_vec_writer *w, const mpq_port_in *in, const mpq_port_out *exp)
{
    const vec_geom *g = &w->g;
    if (w->len + max_record(g) > MPQ_VEC_BLOCK_MAX && w_flush_block(w) != 0)
        return MPQ_EIO;
    /* The 1-bit ports, and a bit for every bus that changed; an expected output is stored
     * only where it is defined (out_data_o while out_valid_o is 1). */
    uint32_t flags = mpq_port_bits(in, exp);
#define X(idx, field, port, bus, width, store, rec, valid) \
    flags |= (uint32_t)changed_##store(&in->field, &w->in.field, g, bus) << (rec);
    MPQ_IN_BUSES(X)
#undef X
#define X(idx, field, port, bus, width, store, rec, valid) \
    flags |= (uint32_t)(MPQ_PORT_DEFINED(exp, valid) && changed_##store(&exp->field, &w->out.field, g, bus)) << (rec);
    MPQ_OUT_BUSES(X)
#undef X
    if (flags >> 16)
        flags |= 1u << MPQ_REC_EXT;
    uint8_t *p = w->buf + VEC_FRAME + w->len;
    uint8_t *start = p;
    *p++ = (uint8_t)flags;
    *p++ = (uint8_t)(flags >> 8);
    if (flags >> MPQ_REC_EXT & 1u)
        *p++ = (uint8_t)(flags >> 16);
#define X(idx, field, port, bus, width, store, rec, valid)           \
    if (flags >> (rec) & 1u) {                                       \
        put_##store(p, &SIDE->field, &w->LAST.field, g, bus);        \
        p += g->bytes[bus];                                          \
    }
#define SIDE in
#define LAST in
    MPQ_IN_BUSES(X)
#undef SIDE
#undef LAST
#define SIDE exp
#define LAST out
    MPQ_OUT_BUSES(X)
#undef SIDE
#undef LAST
#undef X
    w->len += (size_t)(p - start);
    w->cycles++;
    return 0;
}

uint64_t mpq_vec_writer_bytes(const mpq_vec_writer *w) { return w->bytes; }
const char *mpq_vec_writer_tmp_path(const mpq_vec_writer *w) { return w->tmp; }

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
    int rc = w_flush_block(w);
    if (rc == 0) {
        /* End record: a block length of 0, the cycle count, the CRC-32 of every byte before
         * the CRC itself. */
        uint8_t end[VEC_END];
        put_u32(end, 0);
        put_u64(end + 4, w->cycles);
        put_u32(end + 12, (uint32_t)crc32(w->crc, end, 12));
        rc = w_deflate(w, end, VEC_END, Z_FINISH);
    }
    int saved = w->io_errno;
    if (rc == 0 && fflush(w->f) != 0) {
        rc = MPQ_EIO;
        saved = errno;
    }
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

uint64_t mpq_vec_size_bound(const mpq_hwcfg *hw, uint64_t cycles, uint64_t cfg, uint64_t wgt,
                            uint64_t act, uint64_t out)
{
    vec_geom g;
    geom_of(hw, &g);
    /* Records: bytes A and B every cycle, each bus once per beat, and byte C with the
     * overflow flags at each change (cleared per tile, each lane's flag rises once). */
    const unsigned *b = g.bytes;
    uint64_t raw = 2u * cycles + cfg * b[MPQ_BUS_CFG_DATA] + wgt * b[MPQ_BUS_WGT_DATA] +
                   act * b[MPQ_BUS_ACT_DATA] + out * b[MPQ_BUS_OUT_DATA] +
                   cfg * (hw->lanes + 1u) * (1u + b[MPQ_BUS_OVF]);
    /* A block is closed only when the next record might not fit. */
    uint64_t blocks = raw / (MPQ_VEC_BLOCK_MAX - max_record(&g)) + 1u;
    raw += blocks * VEC_FRAME + 12u + VEC_HDR_MAX + 4u + VEC_END;
    /* Deflate's worst case (zlib's deflateBound is below raw / 2048 + 13) and gzip's
     * header and trailer. */
    return raw + raw / 2048u + 13u + 18u;
}

/* ------------------------------------------------------------------------------------------ */
/* Reader                                                                                     */

/* The inflated bytes: room for a block and its frame (the largest unit read at once). */
#define VEC_RBUF (VEC_FRAME + MPQ_VEC_BLOCK_MAX + 64u)
_Static_assert(VEC_RBUF >= 12u + VEC_HDR_MAX + 4u, "a whole header fits the reader's buffer");

typedef enum r_stage { R_HEADER, R_BLOCKS, R_END } r_stage;

struct mpq_vec_reader {
    FILE *f;
    char *path;
    z_stream z;
    int z_ok;
    int z_end;      /* the gzip member ended */
    int done;       /* end record verified */
    int failed;
    r_stage stage;
    mpq_vec_header h;
    vec_geom g;
    uint64_t cycles;      /* returned */
    uint64_t blocks;      /* verified */
    uint64_t blk_index;   /* the block being read or parsed: its number, its first cycle */
    uint64_t blk_first;
    uint32_t crc;         /* stream CRC-32 of the verified bytes before pos */
    uint8_t zin[VEC_ZBUF];
    uint8_t buf[VEC_RBUF];
    size_t pos, len;      /* buf[pos..len) not yet consumed */
    size_t blk_end;       /* records of the verified block: buf[pos..blk_end) */
    /* held values */
    mpq_port_in in;
    mpq_port_out exp;
    char err[512];
};

/* Where the reader is, for messages: "block 3 (from cycle 2048)". Called only on an error:
 * nothing is formatted on the per-cycle path. */
static const char *r_where(const mpq_vec_reader *r, char *buf, size_t len)
{
    switch (r->stage) {
    case R_HEADER:
        snprintf(buf, len, "in the header");
        break;
    case R_BLOCKS:
        snprintf(buf, len, "block %llu (from cycle %llu)", (unsigned long long)r->blk_index,
                 (unsigned long long)r->blk_first);
        break;
    case R_END:
        snprintf(buf, len, "in the end record (after cycle %llu)", (unsigned long long)r->cycles);
        break;
    }
    return buf;
}

/* Records the error "path: <message>" and returns code; every later call returns it too. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int r_fail(mpq_vec_reader *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mpq_verror(r->err, sizeof r->err, r->path, 0, fmt, ap);
    va_end(ap);
    r->failed = code;
    return code;
}

/* Inflates until `need` (<= VEC_RBUF) bytes are available at buf[pos..]. Called between
 * blocks only (the bytes before pos are consumed). Returns 0, MPQ_ETRUNC when the data ends first (no
 * message: the caller names what was cut), or another error with its message. */
static int r_fill(mpq_vec_reader *r, size_t need)
{
    while (r->len - r->pos < need) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = r->blk_end = 0;
        if (r->z_end)
            return MPQ_ETRUNC;
        if (r->z.avail_in == 0) {
            size_t got = fread(r->zin, 1, VEC_ZBUF, r->f);
            if (got == 0) {
                if (ferror(r->f))
                    return r_fail(r, MPQ_EIO, "read error");
                return MPQ_ETRUNC; /* the gzip stream is cut short */
            }
            r->z.next_in = r->zin;
            r->z.avail_in = (uInt)got;
        }
        /* Inflate no further than needed: a damaged stream then fails while the block it
         * damages is being read, and the message names that block. */
        r->z.next_out = r->buf + r->len;
        r->z.avail_out = (uInt)(need - r->len);
        int zr = inflate(&r->z, Z_NO_FLUSH);
        r->len = need - r->z.avail_out;
        char where[80];
        if (zr == Z_STREAM_END) {
            r->z_end = 1;
            /* Nothing may follow the gzip member. */
            int c = r->z.avail_in ? 1 : fgetc(r->f) != EOF;
            if (c)
                return r_fail(r, MPQ_ECORRUPT, "data after the end of the gzip stream: the file "
                                               "is damaged");
        } else if (zr == Z_MEM_ERROR) {
            return r_fail(r, MPQ_ENOMEM, "out of memory");
        } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
            return r_fail(r, MPQ_ECORRUPT, "%s: corrupted gzip data (%s): the file is damaged",
                          r_where(r, where, sizeof where), r->z.msg ? r->z.msg : "bad data");
        }
    }
    return 0;
}

/* A string field: u16 length and that many bytes. Returns 0, or the reason it is malformed. */
static const char *get_str(const uint8_t *body, size_t blen, size_t *off, char *dst, size_t cap)
{
    if (*off + 2 > blen)
        return "missing";
    size_t n = get_u16(body + *off);
    if (n >= cap || *off + 2 + n > blen)
        return "too long";
    memcpy(dst, body + *off + 2, n);
    dst[n] = '\0';
    if (memchr(dst, '\0', n))
        return "holds a NUL byte";
    *off += 2 + n;
    return NULL;
}

/* Versions 1 and 2 are refused, with the command from the header that makes the file
 * again. Version 1 had no block checksums (a damaged file reached the testbench); version 2
 * holds layers of contract version 1 (a 128 + 96*Lanes-bit configuration beat, fully
 * connected only), which today's RTL does not take. */
static int r_refuse_old(mpq_vec_reader *r, unsigned version)
{
    char cmd[sizeof r->h.command] = "";
    size_t blen = get_u32(r->buf + r->pos + 8);
    if (blen <= VEC_HDR_MAX && r_fill(r, 12 + blen) == 0) {
        const uint8_t *body = r->buf + r->pos + 12;
        /* Version 1 body: 9 parameters, 2 seeds, M K N mode (68 bytes), then generator,
         * source, command. Version 2: P, P parameters, 2 seeds, kind, S, S shape values,
         * mode, then the strings. */
        size_t off = 68;
        if (version == 2 && blen >= 2) {
            size_t np = get_u16(body);
            off = 2 + 4 * np + 16 + 4;
            off = off + 2 <= blen ? off + 2 + 4 * (size_t)get_u16(body + off) + 4 : blen + 1;
        }
        char s[sizeof r->h.command];
        if (off > blen || get_str(body, blen, &off, s, sizeof s) || get_str(body, blen, &off, s, sizeof s) ||
            get_str(body, blen, &off, cmd, sizeof cmd))
            cmd[0] = '\0';
    }
    const char *why = version == 1 ? "format version 1 is no longer read (files made before " VEC_V1_UNTIL
                                     " have no block checksums)"
                                   : "format version 2 is no longer read (its layers are for contract "
                                     "version 1, before the convolution mode: the RTL takes another "
                                     "configuration beat now)";
    if (cmd[0])
        return r_fail(r, MPQ_EVERSION, "%s; regenerate it: %s", why, cmd);
    return r_fail(r, MPQ_EVERSION, "%s; regenerate it with mpq-golden gen (its header names no command)",
                  why);
}

/* The header body (FORMAT.md, "Header"), its CRC already verified. */
static int r_body(mpq_vec_reader *r, const uint8_t *body, size_t blen)
{
    mpq_vec_header *h = &r->h;
    h->version = MPQ_VEC_VERSION;
    size_t off = 0;
    uint32_t np = get_u16(body);
    off += 2;
    if (np > MPQ_P_COUNT)
        return r_fail(r, MPQ_EVERSION,
                      "made for a configuration of %u parameters; this reader knows %u (a newer "
                      "mpq wrote the file)",
                      (unsigned)np, (unsigned)MPQ_P_COUNT);
    if (np < VEC_P_MIN)
        return r_fail(r, MPQ_EFORMAT, "malformed header: %u configuration parameters, at least %u",
                      (unsigned)np, VEC_P_MIN);
    /* Fixed part: parameters, seeds, kind and shape count; checked against blen below. */
    if (off + 4u * np + 22u > blen)
        return r_fail(r, MPQ_EFORMAT, "malformed header: the body ends inside its fields");
    for (unsigned i = 0; i < MPQ_P_COUNT; i++)
        mpq_hwcfg_set(&h->hw, (mpq_param)i, i < np ? get_u32(body + off + 4u * i) : mpq_params[i].dflt);
    off += 4u * np;
    h->seed = get_u64(body + off);
    h->timing_seed = get_u64(body + off + 8);
    h->kind = get_u32(body + off + 16);
    h->nshape = get_u16(body + off + 20);
    off += 22;
    if (h->nshape > MPQ_VEC_SHAPE_MAX)
        return r_fail(r, MPQ_EFORMAT, "malformed header: %u shape values, at most %u",
                      (unsigned)h->nshape, MPQ_VEC_SHAPE_MAX);
    if (off + 4u * h->nshape + 4u > blen)
        return r_fail(r, MPQ_EFORMAT, "malformed header: the body ends inside its fields");
    for (uint32_t i = 0; i < h->nshape; i++, off += 4)
        h->shape[i] = get_u32(body + off);
    h->acc_sat = get_u32(body + off);
    off += 4;
    static const char *const names[3] = {"generator", "source", "command"};
    char *const dst[3] = {h->generator, h->source, h->command};
    const size_t cap[3] = {sizeof h->generator, sizeof h->source, sizeof h->command};
    for (int i = 0; i < 3; i++) {
        const char *bad = get_str(body, blen, &off, dst[i], cap[i]);
        if (bad)
            return r_fail(r, MPQ_EFORMAT, "malformed header: %s %s", names[i], bad);
    }
    if (off != blen)
        return r_fail(r, MPQ_EFORMAT, "malformed header: unexpected bytes after the strings");
    char why[300];
    if (header_check(h, why, sizeof why) != 0)
        return r_fail(r, MPQ_EFORMAT, "malformed header: %s", why);
    mpq_conv_shape cs;
    if (mpq_vec_header_conv_shape(h, &cs)) {
        h->m = cs.batches * cs.out_h * cs.out_w;
        h->k = mpq_conv_depth(&cs);
        h->n = cs.out_c;
    } else {
        h->m = h->shape[0];
        h->k = h->shape[1];
        h->n = h->shape[2];
    }
    return 0;
}

static int r_trunc(mpq_vec_reader *r, int rc)
{
    if (rc != MPQ_ETRUNC)
        return rc;
    char where[80];
    r_where(r, where, sizeof where);
    if (r->stage == R_BLOCKS)
        return r_fail(r, MPQ_ETRUNC, "truncated in %s: no end record", where);
    return r_fail(r, MPQ_ETRUNC, "truncated %s", where);
}

/* Magic, version, body length, body, header CRC. */
static int r_header(mpq_vec_reader *r)
{
    int rc = r_trunc(r, r_fill(r, 12));
    if (rc != 0)
        return rc;
    if (memcmp(r->buf, VEC_MAGIC, 6) != 0)
        return r_fail(r, MPQ_EFORMAT, "not a vector file (bad magic)");
    unsigned version = get_u16(r->buf + 6);
    if (version == 1 || version == 2)
        return r_refuse_old(r, version);
    if (version != MPQ_VEC_VERSION)
        return r_fail(r, MPQ_EVERSION, "format version %u, this reader reads version %u", version,
                      MPQ_VEC_VERSION);
    size_t blen = get_u32(r->buf + 8);
    if (blen < 2u + 4u * VEC_P_MIN + 22u + 4u + 6u || blen > VEC_HDR_MAX)
        return r_fail(r, MPQ_EFORMAT, "malformed header: impossible header length");
    rc = r_trunc(r, r_fill(r, 12 + blen + 4));
    if (rc != 0)
        return rc;
    uint32_t crc = (uint32_t)crc32(0L, r->buf, (uInt)(12 + blen));
    if (crc != get_u32(r->buf + 12 + blen))
        return r_fail(r, MPQ_ECORRUPT, "header checksum mismatch: the file is damaged");
    rc = r_body(r, r->buf + 12, blen);
    if (rc != 0)
        return rc;
    r->crc = (uint32_t)crc32(0L, r->buf, (uInt)(12 + blen + 4));
    r->pos = r->blk_end = 12 + blen + 4;
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
    r->f = mpq_fopen_read(path, "rb", err, errlen);
    if (!r->f) {
        mpq_vec_reader_close(r);
        return MPQ_EIO;
    }
    if (inflateInit2(&r->z, 16 + 15) != Z_OK) { /* gzip only */
        snprintf(err, errlen, "%s: zlib inflateInit2 failed", path);
        mpq_vec_reader_close(r);
        return MPQ_EIO;
    }
    r->z_ok = 1;

    /* An empty file, one that is not gzip at all, and a gzip header that is not the
     * format's each get their own message. */
    uint8_t gz[sizeof vec_gzip_header];
    size_t got = fread(gz, 1, sizeof gz, r->f);
    int rc = 0;
    if (got == 0)
        rc = r_fail(r, MPQ_EFORMAT, "empty file (not a vector file)");
    else if (got < 2 || gz[0] != 0x1f || gz[1] != 0x8b)
        rc = r_fail(r, MPQ_EFORMAT, "not a vector file (not gzip-compressed)");
    else if (got < sizeof gz)
        rc = r_fail(r, MPQ_ETRUNC, "truncated in the gzip header");
    else if (memcmp(gz, vec_gzip_header, sizeof gz) != 0)
        rc = r_fail(r, MPQ_ECORRUPT, "the gzip header is not the format's (1f 8b 08 00 00 00 00 "
                                     "00 00 03): the file is damaged or was recompressed");
    if (rc == 0) {
        rewind(r->f);
        rc = r_header(r);
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s", r->err);
        mpq_vec_reader_close(r);
        return rc;
    }
    r->err[0] = '\0';
    geom_of(&r->h.hw, &r->g);
    r->stage = R_BLOCKS;
    *out = r;
    return 0;
}

const mpq_vec_header *mpq_vec_reader_header(const mpq_vec_reader *r) { return &r->h; }
const char *mpq_vec_reader_error(const mpq_vec_reader *r) { return r->err; }
uint64_t mpq_vec_reader_cycle(const mpq_vec_reader *r) { return r->cycles; }
uint64_t mpq_vec_reader_blocks(const mpq_vec_reader *r) { return r->blocks; }

/* The end record: count and stream CRC; then nothing may follow, and the gzip member must end
 * (zlib checks its CRC and length when it does). */
static int r_end(mpq_vec_reader *r)
{
    r->stage = R_END;
    int rc = r_trunc(r, r_fill(r, VEC_END));
    if (rc != 0)
        return rc;
    const uint8_t *p = r->buf + r->pos;
    uint64_t count = get_u64(p + 4);
    uint32_t crc = (uint32_t)crc32(r->crc, p, 12);
    uint32_t want = get_u32(p + 12);
    r->pos = r->blk_end = r->pos + VEC_END;
    if (crc != want)
        return r_fail(r, MPQ_ECORRUPT, "end record: stream checksum mismatch: the file is damaged");
    if (count != r->cycles)
        return r_fail(r, MPQ_ECORRUPT,
                      "the end record counts %llu cycles, the file holds %llu: the file is damaged",
                      (unsigned long long)count, (unsigned long long)r->cycles);
    rc = r_fill(r, 1);
    if (rc == 0)
        return r_fail(r, MPQ_ECORRUPT, "data after the end record: the file is damaged");
    if (rc != MPQ_ETRUNC)
        return rc;
    if (!r->z_end)
        return r_fail(r, MPQ_ETRUNC, "truncated: the gzip stream does not end");
    r->done = 1;
    return 0;
}

/* The next block, inflated whole and verified before any of its cycles is used; or the end
 * record. */
static int r_block(mpq_vec_reader *r)
{
    r->blk_index = r->blocks;
    r->blk_first = r->cycles;
    int rc = r_fill(r, 4);
    if (rc == MPQ_ETRUNC)
        return r_fail(r, MPQ_ETRUNC, "truncated after cycle %llu (no end record)",
                      (unsigned long long)r->cycles);
    if (rc != 0)
        return rc;
    uint32_t n = get_u32(r->buf + r->pos);
    if (n == 0)
        return r_end(r);
    char where[80];
    if (n > MPQ_VEC_BLOCK_MAX)
        return r_fail(r, MPQ_ECORRUPT, "%s: impossible block length %u: the file is damaged",
                      r_where(r, where, sizeof where), (unsigned)n);
    rc = r_trunc(r, r_fill(r, VEC_FRAME + n));
    if (rc != 0)
        return rc;
    const uint8_t *p = r->buf + r->pos;
    uint32_t crc = (uint32_t)crc32(0L, p + VEC_FRAME, n);
    if (crc != get_u32(p + 4))
        return r_fail(r, MPQ_ECORRUPT, "%s: checksum mismatch: the file is damaged",
                      r_where(r, where, sizeof where));
    r->crc = (uint32_t)crc32(r->crc, p, VEC_FRAME);
    r->crc = (uint32_t)crc32_combine(r->crc, crc, (z_off_t)n);
    r->pos += VEC_FRAME;
    r->blk_end = r->pos + n;
    r->blocks++;
    return 0;
}

/* A record of a verified block that breaks the encoding: only a writer bug or a forged CRC
 * makes one. */
static int r_bad_record(mpq_vec_reader *r, const char *what)
{
    char where[80];
    return r_fail(r, MPQ_ECORRUPT, "%s: the record of cycle %llu %s: the file is damaged",
                  r_where(r, where, sizeof where), (unsigned long long)r->cycles, what);
}

static void get_WORDS(const uint8_t *p, uint32_t (*dst)[MPQ_PORT_WORDS_MAX], const vec_geom *g, unsigned bus)
{
    bytes_to_bus(p, g->bits[bus], *dst);
}
static void get_U64(const uint8_t *p, uint64_t *dst, const vec_geom *g, unsigned bus)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < g->bytes[bus]; i++)
        v |= (uint64_t)p[i] << (8u * i);
    *dst = v;
}
/* 1 when the flag vector just read sets bits above its width (only a damaged file does). */
static int beyond_WORDS(const uint32_t (*v)[MPQ_PORT_WORDS_MAX], const vec_geom *g, unsigned bus)
{
    (void)v, (void)g, (void)bus;
    return 0; /* bytes_to_bus keeps the width */
}
static int beyond_U64(const uint64_t *v, const vec_geom *g, unsigned bus)
{
    return g->bytes[bus] * 8u > g->bits[bus] && (*v >> g->bits[bus]) != 0;
}
/* Copies a bus's words (only those of its width: the ports' buffers are large). */
static void copy_WORDS(uint32_t (*dst)[MPQ_PORT_WORDS_MAX], const uint32_t (*src)[MPQ_PORT_WORDS_MAX],
                       const vec_geom *g, unsigned bus)
{
    memcpy(*dst, *src, MPQ_WORDS(g->bits[bus]) * sizeof (*src)[0]);
}
static void copy_U64(uint64_t *dst, const uint64_t *src, const vec_geom *g, unsigned bus)
{
    (void)g, (void)bus;
    *dst = *src;
}

int mpq_vec_reader_next(mpq_vec_reader *r, mpq_port_in *in, mpq_port_out *exp)
{
    if (r->failed)
        return r->failed;
    if (r->done)
        return 0;
    if (r->pos == r->blk_end) {
        int rc = r_block(r);
        if (rc != 0 || r->done)
            return rc;
    }
    const vec_geom *g = &r->g;
    size_t avail = r->blk_end - r->pos;
    const uint8_t *p = r->buf + r->pos;
    if (avail < 2)
        return r_bad_record(r, "runs past the end of its block");
    uint32_t flags = (uint32_t)p[0] | (uint32_t)p[1] << 8;
    size_t need = 2;
    if (flags >> MPQ_REC_EXT & 1u) {
        if (avail < 3)
            return r_bad_record(r, "runs past the end of its block");
        if (p[2] & ~MPQ_REC_C_KNOWN)
            return r_bad_record(r, "sets reserved flags");
        flags |= (uint32_t)p[2] << 16;
        need = 3;
    }
    p += need;
#define X(idx, field, port, bus, width, store, rec, valid) need += (flags >> (rec) & 1u) ? g->bytes[bus] : 0;
    MPQ_IN_BUSES(X)
    MPQ_OUT_BUSES(X)
#undef X
    if (avail < need)
        return r_bad_record(r, "runs past the end of its block");
    /* The held values take what the record stores; every bus holds its value otherwise. */
    mpq_port_in *hi = &r->in;
    mpq_port_out *he = &r->exp;
#define X(idx, field, port, bus, width, store, rec, valid)                            \
    if (flags >> (rec) & 1u) {                                                        \
        get_##store(p, &HELD->field, g, bus);                                         \
        p += g->bytes[bus];                                                           \
        if (beyond_##store(&HELD->field, g, bus))                                     \
            return r_bad_record(r, "sets bits of " #port " beyond its width");        \
    }
#define HELD hi
    MPQ_IN_BUSES(X)
#undef HELD
#define HELD he
    MPQ_OUT_BUSES(X)
#undef HELD
#undef X
    r->pos += need;
    r->cycles++;
    mpq_port_bits_set(flags, in, exp);
#define X(idx, field, port, bus, width, store, rec, valid) copy_##store(&SIDE->field, &HELD->field, g, bus);
#define SIDE in
#define HELD hi
    MPQ_IN_BUSES(X)
#undef SIDE
#undef HELD
#define SIDE exp
#define HELD he
    MPQ_OUT_BUSES(X)
#undef SIDE
#undef HELD
#undef X
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
