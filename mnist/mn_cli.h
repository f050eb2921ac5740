/* SPDX-License-Identifier: Apache-2.0 */
/* mn_cli.h: what the command-line programs of mnist/ (mpq-mnist, mpq-cnn) share. Apart from
 * mnist.h so that the trained models, cached by the objects they come from, do not depend on it. */
#ifndef MN_CLI_H
#define MN_CLI_H

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

#endif
