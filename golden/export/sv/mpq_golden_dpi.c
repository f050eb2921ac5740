/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_golden_dpi.c: the DPI-C side of mpq_golden_pkg.sv, a thin adapter from SystemVerilog's
 * types (int, byte, longint, real, string, chandle, open arrays through svdpi.h) to the
 * scoreboard API of export/mpq_sb.h. It converts and checks arguments; all arithmetic is the
 * golden library's. Each function is declared, with the same name, by an `import "DPI-C"` of
 * mpq_golden_pkg.sv, which documents them; the types follow IEEE 1800 Annex H (int: int,
 * byte: char, longint: long long, real: double, string: const char *, chandle: void *,
 * output scalars: pointers, open arrays: svOpenArrayHandle).
 *
 * Open arrays are one-dimensional unpacked arrays of int, byte or longint; element i of a
 * tensor piece is the array's i-th element from the left (buf[i] for `int buf[N]`), read and
 * written one at a time through svGetArrElemPtr1, which every simulator provides whatever its
 * layout (svGetArrayPtr may return NULL). The simulator compiles this file (Verilator compiles
 * it as C++) or loads it as part of build/libmpq_dpi.so (`make export`); it needs svdpi.h
 * from the simulator and -I golden.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svdpi.h"
#include "export/mpq_sb.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a chandle points to: the layer's handle, the adapter's own message (for arguments
 * refused before they reach mpq_sb) and a conversion buffer for tensor pieces. */
typedef struct dpi_layer {
    mpq_sb *sb;
    char err[256];
    int32_t *buf;
    size_t cap;
} dpi_layer;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int dpi_fail(dpi_layer *d, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, sizeof d->err, fmt, ap);
    va_end(ap);
    return status;
}

/* The handle of a chandle, with the adapter's message cleared; NULL for a null chandle. */
static dpi_layer *layer_of(void *h)
{
    dpi_layer *d = (dpi_layer *)h;
    if (d)
        d->err[0] = '\0';
    return d;
}

void *mpq_dpi_new(void)
{
    dpi_layer *d = (dpi_layer *)calloc(1, sizeof *d);
    if (d && !(d->sb = mpq_sb_new())) {
        free(d);
        d = NULL;
    }
    return d;
}

void mpq_dpi_free(void *h)
{
    dpi_layer *d = (dpi_layer *)h;
    if (!d)
        return;
    mpq_sb_free(d->sb);
    free(d->buf);
    free(d);
}

const char *mpq_dpi_error(void *h)
{
    const dpi_layer *d = (const dpi_layer *)h;
    if (!d)
        return "null chandle: mpq_dpi_new failed or was not called";
    return d->err[0] ? d->err : mpq_sb_error(d->sb);
}

const char *mpq_dpi_strerror(int status)
{
    return mpq_strerror(status);
}

/* Names of the constants mpq_golden_pkg.sv repeats, so that a testbench can check them:
 * what 0 layer kinds, 1 tensors, 2 roundings, 3 overflow modes. */
const char *mpq_dpi_name(int what, int value)
{
    switch (what) {
    case 0:
        return value >= 0 && value < MPQ_LAYER_COUNT ? mpq_layer_name((mpq_layer_kind)value) : "?";
    case 1:
        return mpq_sb_tensor_name(value);
    case 2:
        return value >= 0 && value < MPQ_ROUND_COUNT ? mpq_round_name((mpq_round)value) : "?";
    case 3:
        return value >= 0 && value < MPQ_OVF_COUNT ? mpq_ovf_mode_name((mpq_ovf_mode)value) : "?";
    default:
        return "?";
    }
}

/* Non-negative int arguments become unsigned; a negative one is refused by name. */
#define DPI_UNSIGNED(d, v)                                                                     \
    do {                                                                                       \
        if ((v) < 0)                                                                           \
            return dpi_fail(d, MPQ_EPARAM, "%s = %d is negative", #v, (v));                    \
    } while (0)

int mpq_dpi_fc(void *h, int m, int k, int n)
{
    dpi_layer *d = layer_of(h);
    if (!d)
        return MPQ_EPARAM;
    DPI_UNSIGNED(d, m);
    DPI_UNSIGNED(d, k);
    DPI_UNSIGNED(d, n);
    return mpq_sb_fc(d->sb, (unsigned)m, (unsigned)k, (unsigned)n);
}

int mpq_dpi_conv(void *h, int kind, int batches, int in_h, int in_w, int in_c, int out_c,
                 int kh, int kw, int sy, int sx, int py, int px, int dy, int dx, int groups,
                 int out_h, int out_w)
{
    dpi_layer *d = layer_of(h);
    if (!d)
        return MPQ_EPARAM;
    const int v[16] = {batches, in_h, in_w, in_c, out_c, kh, kw, sy, sx, py, px, dy, dx, groups,
                       out_h, out_w};
    static const char *const names[16] = {"batches", "in_h", "in_w", "in_c", "out_c", "kh", "kw",
                                          "sy", "sx", "py", "px", "dy", "dx", "groups", "out_h",
                                          "out_w"};
    for (int i = 0; i < 16; i++)
        if (v[i] < 0)
            return dpi_fail(d, MPQ_EPARAM, "%s = %d is negative", names[i], v[i]);
    return mpq_sb_conv(d->sb, kind, (unsigned)batches, (unsigned)in_h, (unsigned)in_w,
                       (unsigned)in_c, (unsigned)out_c, (unsigned)kh, (unsigned)kw, (unsigned)sy,
                       (unsigned)sx, (unsigned)py, (unsigned)px, (unsigned)dy, (unsigned)dx,
                       (unsigned)groups, (unsigned)out_h, (unsigned)out_w);
}

int mpq_dpi_padding(int in, int k, int s, int dil, int same, int *pad, int *out)
{
    unsigned p = 0, o = 0;
    if (in < 0 || k < 0 || s < 0 || dil < 0)
        return MPQ_EPARAM;
    int st = mpq_sb_padding((unsigned)in, (unsigned)k, (unsigned)s, (unsigned)dil, same, &p, &o);
    if (st || p > INT_MAX || o > INT_MAX)
        return st ? st : MPQ_EPARAM;
    *pad = (int)p;
    *out = (int)o;
    return MPQ_OK;
}

int mpq_dpi_offsets(void *h, int in_offset, int w_offset)
{
    dpi_layer *d = layer_of(h);
    return d ? mpq_sb_offsets(d->sb, in_offset, w_offset) : MPQ_EPARAM;
}

int mpq_dpi_acc(void *h, int bits, int mode, int order, int group)
{
    dpi_layer *d = layer_of(h);
    if (!d)
        return MPQ_EPARAM;
    DPI_UNSIGNED(d, bits);
    DPI_UNSIGNED(d, group);
    return mpq_sb_acc(d->sb, (unsigned)bits, mode, order, (unsigned)group);
}

int mpq_dpi_requant(void *h, int kind, int nparams)
{
    dpi_layer *d = layer_of(h);
    if (!d)
        return MPQ_EPARAM;
    DPI_UNSIGNED(d, nparams);
    return mpq_sb_requant(d->sb, kind, (unsigned)nparams);
}

int mpq_dpi_requant_generic(void *h, int round, int ovf)
{
    dpi_layer *d = layer_of(h);
    return d ? mpq_sb_requant_generic(d->sb, round, ovf) : MPQ_EPARAM;
}

int mpq_dpi_output(void *h, int out_offset, int act_min, int act_max)
{
    dpi_layer *d = layer_of(h);
    return d ? mpq_sb_output(d->sb, out_offset, act_min, act_max) : MPQ_EPARAM;
}

int mpq_dpi_alpha_per_tensor(void *h, int on)
{
    dpi_layer *d = layer_of(h);
    return d ? mpq_sb_alpha_per_tensor(d->sb, on) : MPQ_EPARAM;
}

long long mpq_dpi_count(void *h, int tensor)
{
    dpi_layer *d = layer_of(h);
    return d ? mpq_sb_count(d->sb, tensor) : MPQ_EPARAM;
}

/* Checks a piece [offset, offset+count) against an open array of at least count elements and
 * readies the conversion buffer. */
static int piece(dpi_layer *d, const char *what, int offset, int count, const svOpenArrayHandle a)
{
    DPI_UNSIGNED(d, offset);
    DPI_UNSIGNED(d, count);
    if (!a || svDimensions(a) != 1)
        return dpi_fail(d, MPQ_EPARAM, "%s: the array must be one-dimensional", what);
    if (count > svSize(a, 1))
        return dpi_fail(d, MPQ_EPARAM, "%s: count %d exceeds the array's %d elements", what, count,
                        svSize(a, 1));
    if ((size_t)count > d->cap) {
        int32_t *nb = (int32_t *)realloc(d->buf, ((size_t)count + 1) * sizeof *nb);
        if (!nb)
            return dpi_fail(d, MPQ_ENOMEM, "%s: out of memory", what);
        d->buf = nb;
        d->cap = (size_t)count;
    }
    return MPQ_OK;
}

/* Element i from the left of a one-dimensional open array. */
static void *elem(const svOpenArrayHandle a, int i)
{
    return svGetArrElemPtr1(a, svLeft(a, 1) - i * svIncrement(a, 1));
}

/* Reads count elements of an int (wide = 1) or byte array into d->buf. */
static void read_piece(dpi_layer *d, const svOpenArrayHandle a, int count, int wide)
{
    for (int i = 0; i < count; i++)
        d->buf[i] = wide ? *(const int32_t *)elem(a, i) : *(const signed char *)elem(a, i);
}

static int put_piece(void *h, int tensor, int offset, int count, const svOpenArrayHandle v,
                     int wide)
{
    dpi_layer *d = layer_of(h);
    if (!d)
        return MPQ_EPARAM;
    int st = piece(d, "put", offset, count, v);
    if (st)
        return st;
    read_piece(d, v, count, wide);
    return mpq_sb_put(d->sb, tensor, (size_t)offset, (size_t)count, d->buf);
}

int mpq_dpi_put(void *h, int tensor, int offset, int count, const svOpenArrayHandle v)
{
    return put_piece(h, tensor, offset, count, v, 1);
}

int mpq_dpi_put_i8(void *h, int tensor, int offset, int count, const svOpenArrayHandle v)
{
    return put_piece(h, tensor, offset, count, v, 0);
}

int mpq_dpi_clear(void *h, int tensor)
{
    dpi_layer *d = layer_of(h);
    return d ? mpq_sb_clear(d->sb, tensor) : MPQ_EPARAM;
}

int mpq_dpi_run(void *h)
{
    dpi_layer *d = layer_of(h);
    return d ? mpq_sb_run(d->sb) : MPQ_EPARAM;
}

static int get_piece(void *h, int tensor, int offset, int count, const svOpenArrayHandle v,
                     int wide)
{
    dpi_layer *d = layer_of(h);
    if (!d)
        return MPQ_EPARAM;
    int st = piece(d, "get", offset, count, v);
    if (st || (st = mpq_sb_get(d->sb, tensor, (size_t)offset, (size_t)count, d->buf)))
        return st;
    for (int i = 0; i < count && !wide; i++)
        if (d->buf[i] < -128 || d->buf[i] > 127)
            return dpi_fail(d, MPQ_EPARAM, "get_i8: %s element %d is %d, which does not fit a byte "
                            "(use mpq_dpi_get)", mpq_sb_tensor_name(tensor), offset + i, d->buf[i]);
    for (int i = 0; i < count; i++) {
        if (wide)
            *(int32_t *)elem(v, i) = d->buf[i];
        else
            *(signed char *)elem(v, i) = (signed char)d->buf[i];
    }
    return MPQ_OK;
}

int mpq_dpi_get(void *h, int tensor, int offset, int count, const svOpenArrayHandle v)
{
    return get_piece(h, tensor, offset, count, v, 1);
}

int mpq_dpi_get_i8(void *h, int tensor, int offset, int count, const svOpenArrayHandle v)
{
    return get_piece(h, tensor, offset, count, v, 0);
}

int mpq_dpi_get_acc(void *h, int offset, int count, const svOpenArrayHandle v)
{
    dpi_layer *d = layer_of(h);
    if (!d)
        return MPQ_EPARAM;
    int st = piece(d, "get_acc", offset, count, v);
    for (int i = 0; !st && i < count; i++) {
        int64_t a = 0;
        st = mpq_sb_get_acc(d->sb, (size_t)offset + (size_t)i, 1, &a);
        if (!st)
            *(long long *)elem(v, i) = a;
    }
    return st;
}

long long mpq_dpi_ovf_count(void *h, int which)
{
    dpi_layer *d = layer_of(h);
    if (!d)
        return MPQ_EPARAM;
    if (which < 0)
        return dpi_fail(d, MPQ_EPARAM, "ovf_count: which = %d is negative", which);
    return mpq_sb_ovf_count(d->sb, (unsigned)which);
}

const char *mpq_dpi_ovf_describe(void *h)
{
    dpi_layer *d = layer_of(h);
    return d ? mpq_sb_ovf_describe(d->sb) : mpq_dpi_error(h);
}

static long long compare_piece(void *h, int offset, int count, const svOpenArrayHandle got,
                               int wide)
{
    dpi_layer *d = layer_of(h);
    if (!d)
        return MPQ_EPARAM;
    int st = piece(d, "compare", offset, count, got);
    if (st)
        return st;
    read_piece(d, got, count, wide);
    return mpq_sb_compare(d->sb, (size_t)offset, (size_t)count, d->buf);
}

long long mpq_dpi_compare(void *h, int offset, int count, const svOpenArrayHandle got)
{
    return compare_piece(h, offset, count, got, 1);
}

long long mpq_dpi_compare_i8(void *h, int offset, int count, const svOpenArrayHandle got)
{
    return compare_piece(h, offset, count, got, 0);
}

long long mpq_dpi_mismatches(void *h)
{
    dpi_layer *d = layer_of(h);
    return d ? mpq_sb_mismatches(d->sb) : MPQ_EPARAM;
}

const char *mpq_dpi_describe(void *h, long long index, int got)
{
    dpi_layer *d = layer_of(h);
    if (!d)
        return mpq_dpi_error(h);
    if (index < 0) {
        dpi_fail(d, MPQ_EPARAM, "describe: index %lld is negative", index);
        return d->err;
    }
    return mpq_sb_describe(d->sb, (size_t)index, got);
}

const char *mpq_dpi_report(void *h)
{
    dpi_layer *d = layer_of(h);
    return d ? mpq_sb_report(d->sb) : mpq_dpi_error(h);
}

int mpq_dpi_quantize_multiplier(double real, int *mult, int *shift)
{
    int32_t m = 0;
    int s = 0;
    int st = mpq_quantize_multiplier(real, &m, &s);
    if (!st) {
        *mult = m;
        *shift = s;
    }
    return st;
}

int mpq_dpi_quantize_scale(double in_scale, double w_scale, double out_scale, int *mult,
                           int *shift)
{
    int32_t m = 0, s = 0;
    int st = mpq_sb_quantize_scale(in_scale, w_scale, out_scale, &m, &s);
    if (!st) {
        *mult = m;
        *shift = s;
    }
    return st;
}

int mpq_dpi_requant_value(int kind, long long acc, int mult, int shift, int round, int ovf,
                          int out_offset, int act_min, int act_max, int *y)
{
    int32_t v = 0;
    int st = mpq_sb_requant_value(kind, acc, mult, shift, round, ovf, out_offset, act_min,
                                  act_max, &v);
    if (!st)
        *y = v;
    return st;
}

int mpq_dpi_acc_fit(long long v, int bits, int mode, long long *fitted, int *overflowed)
{
    int64_t f = 0;
    int o = 0;
    if (bits < 0)
        return MPQ_EPARAM;
    int st = mpq_sb_acc_fit(v, (unsigned)bits, mode, &f, &o);
    if (!st) {
        *fitted = f;
        *overflowed = o;
    }
    return st;
}

#ifdef __cplusplus
}
#endif
