/* SPDX-License-Identifier: Apache-2.0 */
/* Status codes of the library, its message form and its growth rule (mpq.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arith/mpq.h"

const char *mpq_strerror(int status)
{
    switch (status) {
    case MPQ_OK: return "ok";
    case MPQ_EPARAM: return "impossible or out-of-range parameter";
    case MPQ_ENOMEM: return "out of memory";
    case MPQ_EIO: return "read or write failure";
    case MPQ_EFORMAT: return "malformed input";
    case MPQ_ETRUNC: return "input ends early (truncated)";
    case MPQ_ECORRUPT: return "corrupted data (checksum or compressed stream)";
    case MPQ_EVERSION: return "unsupported format version";
    case MPQ_ECONFIG: return "made for another RTL configuration";
    default: return "unknown status";
    }
}

void mpq_verror(char *err, size_t errlen, const char *file, unsigned line, const char *fmt, va_list ap)
{
    char what[448];
    vsnprintf(what, sizeof what, fmt, ap);
    if (line)
        snprintf(err, errlen, "%s:%u: %s", file, line, what);
    else
        snprintf(err, errlen, "%s: %s", file, what);
}

void *mpq_grow(void *buf, size_t *cap, size_t elem)
{
    size_t n = *cap ? *cap : 8; /* doubled below: 16 */
    void *nb = elem && n <= SIZE_MAX / 2 / elem ? realloc(buf, 2 * n * elem) : NULL;
    if (!nb) {
        free(buf);
        return NULL;
    }
    *cap = 2 * n;
    return nb;
}

FILE *mpq_fopen_read(const char *path, const char *mode, char *err, size_t errlen)
{
    FILE *f = fopen(path, mode);
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory, not a file", path);
        fclose(f);
        return NULL;
    }
    return f;
}

/* Both read loops stop at the first short fread: end of file or an error, told apart by ferror. */
static int read_stream(FILE *f, const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
    size_t cap = 0, got;
    char chunk[8192];
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        while (*len + got + 1 > cap) {
            char *g = mpq_grow(*buf, &cap, 1);
            if (!g) {
                *buf = NULL;
                snprintf(err, errlen, "%s: out of memory", path);
                return MPQ_ENOMEM;
            }
            *buf = g;
        }
        memcpy(*buf + *len, chunk, got);
        *len += got;
    }
    if (*buf)
        (*buf)[*len] = '\0';
    return 0;
}

int mpq_read_whole(const char *path, int partial_ok, char **buf, size_t *len, char *err,
                   size_t errlen)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return MPQ_EIO;
    }
    int st = read_stream(f, path, buf, len, err, errlen);
    int bad = !st && !partial_ok && ferror(f);
    fclose(f);
    if (bad) {
        free(*buf);
        *buf = NULL;
        snprintf(err, errlen, "%s: read error", path);
        return MPQ_EIO;
    }
    if (st)
        *len = 0;
    return st;
}
