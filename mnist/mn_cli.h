/* SPDX-License-Identifier: Apache-2.0 */
/* mn_cli.h: what the command-line programs of mnist/ (mpq-mnist, mpq-cnn) share. Apart from
 * mnist.h (which it includes; mnist.h never includes it) so that the trained models, cached by
 * the objects they come from, do not depend on it. */
#ifndef MN_CLI_H
#define MN_CLI_H

#include <stdio.h>

#include "mnist.h"

/* Seconds on the monotonic clock. */
double mn_now_s(void);

/* The unsigned decimal v of option opt, in lo..hi: returns 0 with *out set, or -1 after one
 * message on stderr naming prog, opt and the range ("PROG: OPT: `V` is not a number in LO..HI"). */
int mn_parse_u(const char *prog, const char *opt, const char *v, unsigned long long lo,
               unsigned long long hi, unsigned long long *out);

/* The options mpq-mnist and mpq-cnn share: --data DIR, --out DIR, --seed S, --epochs E
 * (1..200), --train-count N (100..60000), --quick, --train-only. Set the defaults before the
 * first call. */
typedef struct mn_opts {
    const char *data, *out;
    unsigned long long seed;
    unsigned epochs, train_count; /* train_count 0: every training image */
    int quick, train_only;
} mn_opts;
/* argv[*i] as one of the shared options: returns 1 when it was one (its value taken, *i on
 * the value), 0 when it is not, -1 after a message naming prog and the option when its value is
 * bad. */
int mn_opt_common(const char *prog, int argc, char **argv, int *i, mn_opts *o);

/* A program's own options: argv[*i] taken (returns 1, *i on its last value), not one of them
 * (0), or bad (-1, after a message naming the program and the option). */
typedef int (*mn_opt_fn)(void *ctx, int argc, char **argv, int *i);
/* The whole command line: the shared options into o, --help/-h (usage on stdout), the rest
 * through own(ctx, ...). Returns 0 to go on, 1 after the usage (exit 0), 2 after a message on
 * stderr naming prog and the option that is bad, unknown or missing its value (exit 2). */
int mn_parse_opts(const char *prog, int argc, char **argv, mn_opts *o, void (*usage)(FILE *),
                  mn_opt_fn own, void *ctx);

/* The training and test sets of Fashion-MNIST in o->data (28x28 images), the training set cut
 * to o->train_count images when that is set. Returns 0, or 2 after a message naming prog and
 * the file or the problem. */
int mn_load_sets(const char *prog, const mn_opts *o, mn_set *train, mn_set *test);

#endif
