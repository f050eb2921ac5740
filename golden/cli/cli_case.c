/* SPDX-License-Identifier: Apache-2.0 */
/* mpq-golden case: compute mpq-case files with the golden model and compare. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "arith/mpq.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mpq-golden case [-q] FILE...\n"
            "       mpq-golden case --emit FILE\n"
            "\n"
            "Computes each mpq-case file (format: ../shared/oracles/FORMAT.md: fc, conv2d,\n"
            "depthwise, avgpool, maxpool) with the golden model and compares with its expect\n"
            "line: one line per failing case naming the first output that differs (y[row][ch],\n"
            "or y[b][oy][ox][ch] for spatial layers), then `N passed, M failed`. A malformed\n"
            "file or a shape that disagrees with itself is refused with file:line; nothing of\n"
            "it is computed.\n"
            "  --emit FILE  print the computed outputs as one line `expect v0 v1 ...`\n"
            "               (the file's own expect line is ignored and may be absent)\n"
            "  -q           do not print a line per passing case\n"
            "Exit: 0 all passed, 1 some case differs, 2 usage or malformed input.\n");
}

static int emit(const char *path)
{
    char err[512];
    mpq_case c;
    int st = mpq_case_load_ex(path, MPQ_CASE_NO_EXPECT, &c, err, sizeof err);
    if (st) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    int32_t *y = malloc((size_t)c.m * c.n * sizeof *y);
    if (!y || (st = mpq_case_compute(&c, y, err, sizeof err))) {
        fprintf(stderr, "%s: %s\n", path, y ? err : "out of memory");
        free(y);
        mpq_case_free(&c);
        return 2;
    }
    fputs("expect", stdout);
    for (size_t i = 0; i < (size_t)c.m * c.n; i++)
        printf(" %d", y[i]);
    putchar('\n');
    free(y);
    mpq_case_free(&c);
    return 0;
}

/* 0 pass, 1 differs, 2 malformed. */
static int check_one(const char *path, int quiet)
{
    char err[512];
    mpq_case c;
    int st = mpq_case_load(path, &c, err, sizeof err);
    if (st) {
        printf("ERROR %s\n", err);
        return 2;
    }
    size_t count = (size_t)c.m * c.n;
    int32_t *y = malloc(count * sizeof *y);
    if (!y || (st = mpq_case_compute(&c, y, err, sizeof err))) {
        printf("ERROR %s: %s\n", path, y ? err : "out of memory");
        free(y);
        mpq_case_free(&c);
        return 2;
    }
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < count; i++)
        if (y[i] != c.expect[i] && !bad++)
            first = i;
    if (bad && c.layer != MPQ_LAYER_FC) {
        size_t pix = first / c.n;
        printf("FAIL  %s (%s): %zu of %zu outputs differ; first y[%zu][%zu][%zu][%zu] = %d, "
               "expected %d\n", c.name, path, bad, count, pix / c.shape.out_w / c.shape.out_h,
               pix / c.shape.out_w % c.shape.out_h, pix % c.shape.out_w, first % c.n, y[first],
               c.expect[first]);
    } else if (bad) {
        printf("FAIL  %s (%s): %zu of %zu outputs differ; first y[%zu][%zu] = %d, expected %d\n",
               c.name, path, bad, count, first / c.n, first % c.n, y[first], c.expect[first]);
    }
    else if (!quiet)
        printf("PASS  %s (%zu outputs)\n", c.name, count);
    free(y);
    mpq_case_free(&c);
    return bad ? 1 : 0;
}

int mpq_cli_case(int argc, char **argv)
{
    int quiet = 0, first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "--help") || !strcmp(argv[first], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[first], "--emit")) {
            if (argc != first + 2) {
                fprintf(stderr, "mpq-golden case: --emit takes exactly one FILE\n");
                return 2;
            }
            return emit(argv[first + 1]);
        } else if (!strcmp(argv[first], "-q")) {
            quiet = 1;
        } else if (!strcmp(argv[first], "--")) {
            first++;
            break;
        } else {
            fprintf(stderr, "mpq-golden case: unknown option '%s'\n", argv[first]);
            usage(stderr);
            return 2;
        }
    }
    if (first >= argc) {
        usage(stderr);
        return 2;
    }
    int pass = 0, failed = 0, malformed = 0;
    for (int i = first; i < argc; i++) {
        int r = check_one(argv[i], quiet);
        pass += r == 0;
        failed += r != 0;
        malformed += r == 2;
    }
    printf("%d passed, %d failed\n", pass, failed);
    return malformed ? 2 : failed ? 1 : 0;
}
