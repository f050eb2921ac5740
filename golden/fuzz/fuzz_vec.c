/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the vector-file reader (vectors/FORMAT.md). Any input must either be
 * read to a verified end record or refused with a message naming the file; never a crash,
 * a hang, a leak or undefined behaviour.
 *
 * An input that starts with the gzip magic is used as the file itself (the fuzzer attacks
 * the gzip layer); any other input is first gzip-compressed here, so that the fuzzer mutates
 * the decompressed format (header, records, end record) directly. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "mpq.h"
#include "mpq_gen.h"
#include "mpq_vec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static int write_input(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(path, sizeof path, "%.40s/mpq-fuzz-vec-%ld.vec", dir, (long)getpid());
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        if (size && fwrite(data, 1, size, f) != size)
            abort();
    } else {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (deflateInit2(&z, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            abort();
        static uint8_t out[1 << 16];
        z.next_in = (Bytef *)(uintptr_t)data;
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
    }
    fclose(f);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
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
    unsigned long n = 0;
    while ((rc = mpq_vec_reader_next(r, &in, &exp)) == 1)
        n++;
    if (rc < 0 && !strstr(mpq_vec_reader_error(r), path))
        __builtin_trap();
    (void)n;
    mpq_vec_reader_close(r);
    return 0;
}
