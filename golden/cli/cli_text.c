/* SPDX-License-Identifier: Apache-2.0 */
/* cli_text.c: what the generators of mpq-golden share: a growing text buffer, reading a whole
 * file, writing one atomically (cli.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

void tprintf(text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = t->cap - t->len;
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->oom = 1;
            return;
        }
        if (t->s && (size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)n;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->oom = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

char *cli_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    text t = {0};
    char buf[8192];
    size_t n;
    tprintf(&t, "%s", "");
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        tprintf(&t, "%.*s", (int)n, buf);
    int bad = ferror(f) || t.oom;
    fclose(f);
    if (bad) {
        free(t.s);
        return NULL;
    }
    *len = t.len;
    return t.s;
}

int cli_write_atomic(const char *path, const char *s, size_t len)
{
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return -1;
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return -1;
    int bad = fwrite(s, 1, len, f) != len;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

int cli_parse_u64(const char *tool, const char *opt, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = v ? strtoull(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || v[0] == '-' || x < lo || x > hi) {
        fprintf(stderr, "%s: %s %s: not an integer in %" PRIu64 "..%" PRIu64 "\n", tool, opt, v ? v : "(none)", lo,
                hi);
        return -1;
    }
    *out = x;
    return 0;
}

int cli_fail2(const char *tool, const char *what)
{
    fprintf(stderr, "%s: %s\n", tool, what);
    return 2;
}
