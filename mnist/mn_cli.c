/* SPDX-License-Identifier: Apache-2.0 */
/* mn_cli.c: the command-line programs' shared helpers (mn_cli.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int mn_opt_common(const char *prog, int argc, char **argv, int *i, mn_opts *o)
{
    const char *a = argv[*i];
    unsigned long long v;
    if (!strcmp(a, "--quick"))
        o->quick = 1;
    else if (!strcmp(a, "--train-only"))
        o->train_only = 1;
    else if (*i + 1 >= argc)
        return 0; /* the options below take a value */
    else if (!strcmp(a, "--data"))
        o->data = argv[++*i];
    else if (!strcmp(a, "--out"))
        o->out = argv[++*i];
    else if (!strcmp(a, "--seed")) {
        if (mn_parse_u(prog, a, argv[++*i], 0, ~0ull, &o->seed) != 0)
            return -1;
    } else if (!strcmp(a, "--epochs")) {
        if (mn_parse_u(prog, a, argv[++*i], 1, 200, &v) != 0)
            return -1;
        o->epochs = (unsigned)v;
    } else if (!strcmp(a, "--train-count")) {
        if (mn_parse_u(prog, a, argv[++*i], 100, 60000, &v) != 0)
            return -1;
        o->train_count = (unsigned)v;
    } else
        return 0;
    return 1;
}
