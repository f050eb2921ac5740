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

#endif
