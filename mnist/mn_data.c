/* SPDX-License-Identifier: Apache-2.0 */
/* mn_data.c: IDX files (gzip) of dataset-fashion-mnist, read with zlib. Every problem is a
 * message naming the file; nothing is trusted from the header beyond what is checked. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "mnist.h"

/* Reads exactly len bytes; 0, or -1 with err. */
static int gz_read_all(gzFile f, const char *path, void *buf, size_t len, const char *what,
                       char *err, size_t errlen)
{
    uint8_t *p = buf;
    while (len) {
        unsigned chunk = len > (1u << 30) ? (1u << 30) : (unsigned)len;
        int got = gzread(f, p, chunk);
        if (got < 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            snprintf(err, errlen, "%s: corrupted gzip data in the %s (%s)", path, what, msg);
            return -1;
        }
        if (got == 0) {
            snprintf(err, errlen, "%s: truncated in the %s", path, what);
            return -1;
        }
        p += got;
        len -= (size_t)got;
    }
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One IDX file: magic 0x00000800 + ndims, dims (big-endian u32), unsigned bytes. */
static int load_idx(const char *path, unsigned ndims, unsigned *dims, uint8_t **data, char *err,
                    size_t errlen)
{
    *data = NULL;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s (the Debian package dataset-fashion-mnist "
                 "provides it: scripts/install-deps.sh data)", path, strerror(errno ? errno : ENOENT));
        return -1;
    }
    uint8_t hdr[4 + 4 * 3];
    int rc = gz_read_all(f, path, hdr, 4 + 4 * ndims, "header", err, errlen);
    if (rc == 0 && be32(hdr) != (0x800u | ndims)) {
        snprintf(err, errlen, "%s: not an IDX file of unsigned bytes with %u dimensions (magic 0x%08x)",
                 path, ndims, be32(hdr));
        rc = -1;
    }
    size_t total = 1;
    for (unsigned i = 0; rc == 0 && i < ndims; i++) {
        dims[i] = be32(hdr + 4 + 4 * i);
        if (dims[i] == 0 || dims[i] > 1000000u) {
            snprintf(err, errlen, "%s: impossible dimension %u = %u", path, i, dims[i]);
            rc = -1;
        }
        total *= dims[i];
    }
    if (rc == 0 && total > (size_t)1 << 30) {
        snprintf(err, errlen, "%s: impossible size (%zu bytes)", path, total);
        rc = -1;
    }
    if (rc == 0 && !(*data = malloc(total))) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = -1;
    }
    if (rc == 0)
        rc = gz_read_all(f, path, *data, total, "data", err, errlen);
    if (rc == 0) {
        uint8_t extra;
        int got = gzread(f, &extra, 1);
        if (got != 0) {
            snprintf(err, errlen, "%s: %s", path,
                     got > 0 ? "data after the last item" : "corrupted gzip data at the end");
            rc = -1;
        }
    }
    gzclose(f);
    if (rc != 0) {
        free(*data);
        *data = NULL;
    }
    return rc;
}

int mn_load(const char *dir, const char *prefix, mn_set *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    char ipath[1024], lpath[1024];
    snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    unsigned idims[3], ldims[1];
    if (load_idx(ipath, 3, idims, &s->images, err, errlen) != 0)
        return -1;
    if (load_idx(lpath, 1, ldims, &s->labels, err, errlen) != 0) {
        mn_free(s);
        return -1;
    }
    if (idims[0] != ldims[0]) {
        snprintf(err, errlen, "%s holds %u images but %s %u labels", ipath, idims[0], lpath, ldims[0]);
        mn_free(s);
        return -1;
    }
    for (unsigned i = 0; i < ldims[0]; i++) {
        if (s->labels[i] > 9) {
            snprintf(err, errlen, "%s: label %u of item %u is not a class 0..9", lpath, s->labels[i], i);
            mn_free(s);
            return -1;
        }
    }
    s->n = idims[0];
    s->rows = idims[1];
    s->cols = idims[2];
    return 0;
}

void mn_free(mn_set *s)
{
    free(s->images);
    free(s->labels);
    memset(s, 0, sizeof *s);
}
