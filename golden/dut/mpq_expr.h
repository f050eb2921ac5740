/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_expr.h: the integer expressions of a DUT description (mpq_desc.h): widths in terms of
 * the top module's parameters ("256 + 96*Lanes"), configuration words in terms of a layer's
 * shape ("kh*kw*in_c"), limits.
 *
 * Grammar: sums of products of unary terms; a term is a decimal or 0x hexadecimal number, a
 * name (letters, digits, '_', not starting with a digit), a call log2(e) (the ceiling of the
 * base-2 logarithm: log2(1) = 0, log2(5) = 3), min(a, b) or max(a, b), or a parenthesized
 * expression. Operators + - * / % (division truncates toward zero) and unary minus. All
 * arithmetic is exact in 64-bit signed integers: a result outside that range, a division by
 * zero and log2 of a number below 1 are errors, never wrapped.
 */
#ifndef MPQ_EXPR_H
#define MPQ_EXPR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The value of a name: returns 0 with *v set, or -1 when the name is unknown. */
typedef int (*mpq_expr_lookup)(void *ctx, const char *name, size_t len, int64_t *v);

/* Evaluates the whole of text. Returns 0 with *v, or MPQ_EPARAM with err saying what is wrong
 * ("unknown name `Lans`", "`)` expected after `(3`", "division by zero", "`2*` ends early",
 * "the result does not fit 64 bits"). */
int mpq_expr_eval(const char *text, mpq_expr_lookup lookup, void *ctx, int64_t *v, char *err,
                  size_t errlen);

/* Calls fn(ctx, name, len) for every name text mentions (not the function names), in order.
 * Returns 0, or what fn returned when it returned non-zero (the walk stops). Syntax is not
 * checked. */
int mpq_expr_names(const char *text, int (*fn)(void *ctx, const char *name, size_t len), void *ctx);

#ifdef __cplusplus
}
#endif
#endif
