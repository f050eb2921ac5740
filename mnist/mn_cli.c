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

int mn_parse_opts(const char *prog, int argc, char **argv, mn_opts *o, void (*usage)(FILE *),
                  mn_opt_fn own, void *ctx)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = mn_opt_common(prog, argc, argv, &i, o);
        if (r == 0 && (!strcmp(a, "--help") || !strcmp(a, "-h"))) {
            usage(stdout);
            return 1;
        }
        if (r == 0)
            r = own(ctx, argc, argv, &i);
        if (r == 0)
            fprintf(stderr, "%s: unknown or incomplete option `%s`; see --help\n", prog, a);
        if (r <= 0)
            return 2;
    }
    return 0;
}

int mn_load_sets(const char *prog, const mn_opts *o, mn_set *train, mn_set *test)
{
    char err[1024];
    if (mn_load(o->data, "train", train, err, sizeof err) != 0 ||
        mn_load(o->data, "t10k", test, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    }
    if (train->rows != 28 || train->cols != 28 || test->rows != 28 || test->cols != 28) {
        fprintf(stderr, "%s: %s: images are %ux%u, expected 28x28\n", prog, o->data,
                train->rows != 28 || train->cols != 28 ? train->rows : test->rows,
                train->rows != 28 || train->cols != 28 ? train->cols : test->cols);
        return 2;
    }
    if (o->train_count && o->train_count < train->n)
        train->n = o->train_count;
    return 0;
}
