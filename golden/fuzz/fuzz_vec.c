/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the vector-file reader (vectors/FORMAT.md, version 2). Any input must
 * either be read to a verified end record or refused with a message naming the file; never a
 * crash, a hang, a leak or undefined behaviour.
 *
 * Three kinds of input:
 * - starting with the gzip magic: the file itself (the fuzzer attacks the gzip layer, its
 *   header, and through it the blocks);
 * - starting with 'F': the rest is a decompressed stream whose checksums (header, every
 *   block, end record) are recomputed here before it is compressed, so that mutations reach
 *   the header fields and the record decoder behind the checksums;
 * - anything else: a decompressed stream compressed as it is, so that mutations of records,
 *   block lengths and checksums exercise the checksum checks themselves.
 * Compression uses the format's gzip header (level 6, mtime 0, OS 3). */
#define ZLIB_CONST
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "arith/mpq.h"
#include "stim/mpq_gen.h"
#include "stim/mpq_vec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];
static uint8_t fixed[1u << 20];

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Recomputes the CRCs of a decompressed stream where its framing allows: the header's (after
 * 12 + body length bytes), each block's (u32 length, u32 CRC, payload), the end record's
 * (a zero length, u64 count, u32 CRC of everything before). Stops where the framing does. */
static void fix_checksums(uint8_t *d, size_t n)
{
    if (n < 12)
        return;
    size_t h = 12 + (size_t)rd32(d + 8);
    if (h + 4 > n || h < 12)
        return;
    wr32(d + h, (uint32_t)crc32(0L, d, (uInt)h));
    size_t o = h + 4;
    while (o + 8 <= n) {
        uint32_t len = rd32(d + o);
        if (len == 0) {
            if (o + 16 <= n)
                wr32(d + o + 12, (uint32_t)crc32(0L, d, (uInt)(o + 12)));
            return;
        }
        if (len > n - o - 8)
            return;
        wr32(d + o + 4, (uint32_t)crc32(0L, d + o + 8, len));
        o += 8 + (size_t)len;
    }
}

static void write_input(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(path, sizeof path, "%.40s/mpq-fuzz-vec-%ld.vec", dir, (long)getpid());
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        if (fwrite(data, 1, size, f) != size)
            abort();
        fclose(f);
        return;
    }
    if (size >= 1 && data[0] == 'F') {
        memcpy(fixed, data + 1, size - 1);
        fix_checksums(fixed, size - 1);
        data = fixed;
        size--;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    gz_header gz;
    memset(&gz, 0, sizeof gz);
    gz.os = 3;
    if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK ||
        deflateSetHeader(&z, &gz) != Z_OK)
        abort();
    static uint8_t out[1 << 16];
    z.next_in = data;
    z.avail_in = (uInt)size;
    int zr;
    do {
        z.next_out = out;
        z.avail_out = sizeof out;
        zr = deflate(&z, Z_FINISH);
        size_t have = sizeof out - z.avail_out;
        if (have && fwrite(out, 1, have, f) != have)
            abort();
    } while (zr == Z_OK);
    deflateEnd(&z);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > sizeof fixed)
        return 0;
    write_input(data, size);
    mpq_vec_reader *r;
    char err[1024];
    if (mpq_vec_reader_open(path, &r, err, sizeof err) != 0) {
        if (!strstr(err, path))
            __builtin_trap(); /* every refusal names the file */
        return 0;
    }
    static mpq_port_in in;
    static mpq_port_out exp;
    int rc;
    while ((rc = mpq_vec_reader_next(r, &in, &exp)) == 1)
        ;
    if (rc < 0 && !strstr(mpq_vec_reader_error(r), path))
        __builtin_trap();
    /* After the end or an error, the reader stays there. */
    if (mpq_vec_reader_next(r, &in, &exp) != rc)
        __builtin_trap();
    mpq_vec_reader_close(r);
    return 0;
}
