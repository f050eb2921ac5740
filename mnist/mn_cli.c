/* SPDX-License-Identifier: Apache-2.0 */
/* mn_cli.c: the command-line programs' shared helpers (mn_cli.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mn_cli.h"

double mn_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int mn_parse_u(const char *prog, const char *opt, const char *v, unsigned long long lo,
               unsigned long long hi, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*v == '\0' || *v == '-' || *end != '\0' || errno || x < lo || x > hi) {
        fprintf(stderr, "%s: %s: `%s` is not a number in %llu..%llu\n", prog, opt, v, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}
