/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq.h: bit-exact quantized arithmetic and layers (the functional golden model).
 *
 * Numbers (accumulator fit, rounding, overflow modes), requantization (TFLite double and
 * single rounding, the int16 64-bit path, generic multiply-and-shift), weight encodings
 * (ternary 2-bit and 5-trit, N:G and CSR sparse), the quantized fully-connected layer with
 * overflow detection, a float reference with error statistics, ternary + sparse
 * decomposition, and the mpq-case file format. Analog matrix units in adaptive block floating
 * point (ABFP) have their own manual: arith/mpq_abfp.h.
 *
 * The library never prints and never exits: functions return 0 or a negative MPQ_E* code.
 */
#ifndef MPQ_H
#define MPQ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status codes: 0 ok, negative error ---- */
#define MPQ_OK 0
#define MPQ_EPARAM (-1)   /* impossible or out-of-range parameter */
#define MPQ_ENOMEM (-2)
#define MPQ_EIO (-3)      /* read/write failure */
#define MPQ_EFORMAT (-4)  /* malformed input file */
#define MPQ_ETRUNC (-5)   /* input ends early */
#define MPQ_ECORRUPT (-6) /* checksum or compressed-stream corruption */
#define MPQ_EVERSION (-7) /* unsupported format version */
#define MPQ_ECONFIG (-8)  /* made for another RTL configuration */
/* Returns a static one-line description of a status code. */
const char *mpq_strerror(int status);
/* Writes "file:line: message" (line 0: "file: message"), the message formatted from fmt and
 * ap, into err (errlen bytes, cut to fit): the one form of the library's messages about an
 * input file. Returns nothing; the caller returns its status code. */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 0)))
#endif
void mpq_verror(char *err, size_t errlen, const char *file, unsigned line, const char *fmt, va_list ap);
/* Returns buf (an array of *cap elements of elem bytes) reallocated to twice as many (16 when
 * *cap is 0) with *cap updated, or NULL with buf freed (out of memory, or past SIZE_MAX bytes):
 * the one growth rule of the library's and the tools' growing buffers. */
void *mpq_grow(void *buf, size_t *cap, size_t elem);
/* Opens path for reading (fopen mode "r" or "rb"): the one way the library opens an input
 * file. Returns the stream, or NULL with "PATH: cannot open: <strerror>" or "PATH: is a
 * directory, not a file" in err (fopen opens a directory, and only its first read fails). */
FILE *mpq_fopen_read(const char *path, const char *mode, char *err, size_t errlen);
/* Reads the file path whole into a new buffer: *buf holds *len bytes and a NUL after them
 * (*buf is NULL when the file is empty; the caller frees it). A read that fails part way is
 * MPQ_EIO ("PATH: read error") unless partial_ok, which keeps what was read. Returns 0,
 * MPQ_EIO ("PATH: cannot read: <strerror>" when fopen fails) or MPQ_ENOMEM ("PATH: out of
 * memory"), with nothing allocated on error. */
int mpq_read_whole(const char *path, int partial_ok, char **buf, size_t *len, char *err,
                   size_t errlen);

/* ---- Accumulator ---- */
typedef enum mpq_acc_mode { MPQ_ACC_WRAP = 0, MPQ_ACC_SAT = 1 } mpq_acc_mode;

/* Returns exact v reduced to a signed `bits`-bit accumulator (1..64): wrapped modulo 2^bits
 * or clamped. *overflowed (if not NULL) is set to 1 when the result differs from v, else 0. */
int64_t mpq_acc_fit(int64_t v, unsigned bits, mpq_acc_mode mode, int *overflowed);

/* ---- gemmlowp / TFLite requantization ---- */
/* Returns gemmlowp's SaturatingRoundingDoublingHighMul: (a*b + nudge) / 2^31 truncated,
 * nudge rounds half up; INT32_MIN*INT32_MIN saturates to INT32_MAX. */
int32_t mpq_srdhm(int32_t a, int32_t b);
/* Returns gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded half away from zero,
 * 0 <= exponent <= 31. */
int32_t mpq_rdbpot(int32_t x, int exponent);
/* Returns TFLite's MultiplyByQuantizedMultiplier, double rounding: left shift max(shift,0)
 * with 32-bit wrap, srdhm, then rdbpot by max(-shift,0). shift in -31..30. (These three are
 * the C twin of rtl/mpq_requant.sv, in golden/arith/mpq_requant.c.) */
int32_t mpq_requant_double(int32_t acc, int32_t mult, int shift);

/* Returns TFLite single rounding (TFLITE_SINGLE_ROUNDING): (acc*mult + 2^(30-shift)) >> (31-shift),
 * exact in wider arithmetic, arithmetic shift (floor), result saturated to int32.
 * shift in -31..30. */
int32_t mpq_requant_single(int32_t acc, int32_t mult, int shift);
/* Returns the CMSIS-NN / TFLite int16 path (64-bit accumulator): rm = (mult + 2^15) >> 16, or 0x7FFF when
 * mult >= 0x7FFF0000; result (acc*rm + 2^(14-shift)) >> (15-shift), exact, floor shift,
 * saturated to int32. shift in -31..14. */
int32_t mpq_requant_s64_reduced(int64_t acc, int32_t mult, int shift);

/* Rounding of a division by 2^s, for the generic requantizer. */
typedef enum mpq_round {
    MPQ_ROUND_FLOOR = 0,     /* toward -infinity (plain arithmetic shift) */
    MPQ_ROUND_ZERO,          /* toward zero (truncation) */
    MPQ_ROUND_HALF_UP,       /* ties toward +infinity */
    MPQ_ROUND_HALF_DOWN,     /* ties toward -infinity */
    MPQ_ROUND_HALF_AWAY,     /* ties away from zero */
    MPQ_ROUND_HALF_EVEN,     /* ties to even (banker's) */
    MPQ_ROUND_COUNT
} mpq_round;
/* What happens when a result does not fit its signed width. */
typedef enum mpq_ovf_mode {
    MPQ_OVF_SAT = 0,  /* clamp to [-2^(b-1), 2^(b-1)-1] */
    MPQ_OVF_SAT_SYM,  /* clamp to [-(2^(b-1)-1), 2^(b-1)-1] */
    MPQ_OVF_WRAP,     /* two's complement wrap modulo 2^b */
    MPQ_OVF_COUNT
} mpq_ovf_mode;
/* Return the mode's name ("floor", ..., "sat", ...), "?" when out of range. */
const char *mpq_round_name(mpq_round r);
const char *mpq_ovf_mode_name(mpq_ovf_mode o);
/* Parse "floor", "zero", "half_up", ... / "sat", "sat_sym", "wrap". Return 0 or MPQ_EPARAM. */
int mpq_round_parse(const char *s, mpq_round *r);
int mpq_ovf_mode_parse(const char *s, mpq_ovf_mode *o);

/* Generic multiply-and-shift: returns round(acc * mult / 2^rshift) with rounding r, computed
 * exactly (the product is held in 128 bits inside the library), then reduced to a signed
 * `bits`-bit value (1..64) with overflow mode o. rshift in 0..126. *overflowed (if not NULL)
 * tells whether the reduction changed the value. */
int64_t mpq_mulshift(int64_t acc, int64_t mult, unsigned rshift, mpq_round r,
                     unsigned bits, mpq_ovf_mode o, int *overflowed);
/* Returns the exact round(v / 2^s) with rounding r; s in 0..126 (larger s count as 126). */
int64_t mpq_round_shift(int64_t v, unsigned s, mpq_round r);
/* Returns v reduced to a signed `bits`-bit value (1..64) with mode o; *overflowed (if not
 * NULL) is set to 1 when the result differs from v, else 0. */
int64_t mpq_fit(int64_t v, unsigned bits, mpq_ovf_mode o, int *overflowed);

/* TFLite QuantizeMultiplier: real = mult * 2^(shift-31), mult in [2^30, 2^31) (or 0).
 * Returns 0 or MPQ_EPARAM.
 * Rounds half away from zero; mult 2^31 becomes 2^30 with shift+1; a shift below -31 gives
 * mult 0, shift 0; a shift above 30 gives (2^31-1, 30). real must be finite and >= 0
 * (MPQ_EPARAM otherwise). */
int mpq_quantize_multiplier(double real, int32_t *mult, int *shift);
/* The part of QuantizeMultiplier both of the library's forms share (mpq_quantize_multiplier
 * saturates a shift above 30; mpq_tfl_multiplier, net/mpq_netops.h, refuses it): real =
 * *q * 2^(*e-31), *q in [2^30, 2^31) rounded half away from zero (2^31 becomes 2^30 with
 * *e+1), or *q = *e = 0 for 0 and below 2^-32 (a shift below -31, which the reference flushes
 * to zero). *e may pass 30: the caller's rule. Returns 0, or MPQ_EPARAM when real is negative,
 * NaN or infinite. */
int mpq_multiplier_split(double real, int64_t *q, int *e);

/* Stores in *lo, *hi the range of a `bits`-bit integer (1..32 signed, 1..32 unsigned). */
void mpq_int_range(unsigned bits, int is_signed, int64_t *lo, int64_t *hi);

/* ---- Weight encodings ---- */
/* Ternary, 2-bit codes, 4 per byte, weight i at bits [2(i%4)+1 : 2(i%4)] of byte i/4:
 * 00 = 0, 01 = +1, 11 = -1, 10 = invalid (the accelerator's code). These four return 0,
 * MPQ_EPARAM (pack: a weight outside -1..1) or MPQ_EFORMAT (unpack: an invalid code). */
int mpq_tern_pack2(const int8_t *t, size_t count, uint8_t *out);   /* out: (count+3)/4 bytes */
int mpq_tern_unpack2(const uint8_t *in, size_t count, int8_t *t);  /* MPQ_EFORMAT on code 10 */
/* Ternary, 5 trits per byte (base 3, digit d = t+1, first weight least significant),
 * byte values 0..242; out: (count+4)/5 bytes. */
int mpq_tern_pack5(const int8_t *t, size_t count, uint8_t *out);
int mpq_tern_unpack5(const uint8_t *in, size_t count, int8_t *t);  /* MPQ_EFORMAT on > 242 */

/* N:G structured sparse matrix [rows][k]: in each aligned group of g columns of a row, at
 * most n entries, each (position within the group, value). Entry slots of a group are
 * contiguous: slot (r, grp, e) at index (r*ngroups + grp)*n + e; unused slots have value 0. */
typedef struct mpq_nm {
    unsigned rows, k, n, g, ngroups; /* ngroups = ceil(k/g) */
    uint8_t *pos;                    /* [rows*ngroups*n], < g */
    int32_t *val;                    /* [rows*ngroups*n] */
} mpq_nm;
/* From a dense [rows][k] matrix; returns 0, MPQ_ENOMEM, or MPQ_EPARAM (err says row and
 * group) when a group holds more than n non-zeros; n <= g <= 256. Caller frees with
 * mpq_nm_free. */
int mpq_nm_from_dense(const int32_t *dense, unsigned rows, unsigned k, unsigned n, unsigned g,
                      mpq_nm *out, char *err, size_t errlen);
/* Writes the dense [rows][k] form (zeros where no entry). */
void mpq_nm_to_dense(const mpq_nm *s, int32_t *dense);
void mpq_nm_free(mpq_nm *s);

/* Unstructured sparse (CSR) matrix [rows][k]. */
typedef struct mpq_csr {
    unsigned rows, k;
    uint32_t *rowptr; /* [rows+1] */
    uint32_t *col;    /* [nnz] */
    int32_t *val;     /* [nnz] */
} mpq_csr;
/* From a dense [rows][k] matrix (the non-zeros in column order); returns 0 or MPQ_ENOMEM.
 * Caller frees with mpq_csr_free. */
int mpq_csr_from_dense(const int32_t *dense, unsigned rows, unsigned k, mpq_csr *out);
/* Writes the dense [rows][k] form. */
void mpq_csr_to_dense(const mpq_csr *s, int32_t *dense);
void mpq_csr_free(mpq_csr *s);

/* ---- Requantization of a layer's accumulators ---- */
typedef enum mpq_rq_kind {
    MPQ_RQ_DOUBLE = 0,   /* TFLite double rounding, mpq_requant_double (acc wrapped to int32) */
    MPQ_RQ_SINGLE,       /* mpq_requant_single (acc wrapped to int32) */
    MPQ_RQ_S64_REDUCED,  /* mpq_requant_s64_reduced (64-bit acc) */
    MPQ_RQ_GENERIC,      /* mpq_mulshift(acc, mult, shift, round, 32, ovf) with shift = right shift */
    MPQ_RQ_COUNT
} mpq_rq_kind;
typedef struct mpq_requant {
    mpq_rq_kind kind;
    unsigned nparams;        /* 1 (per tensor) or n (per channel) */
    const int32_t *mult;     /* [nparams] */
    const int32_t *shift;    /* [nparams]; left positive for TFLite kinds, right shift >= 0 for GENERIC */
    mpq_round round;         /* GENERIC only */
    mpq_ovf_mode ovf;        /* GENERIC only: reduction to 32 bits before the offset */
    int32_t out_offset;
    int32_t act_min, act_max; /* clamp of out_offset + requant (exact, no wrap) */
} mpq_requant;
/* Returns one output: clamp(out_offset + requant(acc, channel c), act_min, act_max). The
 * whole of rtl/mpq_requant.sv for MPQ_RQ_DOUBLE (golden/arith/mpq_requant.c). */
int32_t mpq_requant_one(const mpq_requant *rq, int64_t acc, unsigned c);
/* Checks a layer's requantization parameters for n output channels: 1 or n of them, shifts
 * in the kind's range, mult >= 0, act_min <= act_max (what mpq_requant_one assumes). Returns
 * 0 or MPQ_EPARAM (err says). */
int mpq_requant_check(const mpq_requant *rq, unsigned n, char *err, size_t errlen);

/* ---- Fully-connected layer ---- */
/* Accumulation order: SEQ adds one product term at a time (k = 0, 1, ...), fitting the
 * accumulator after each; GROUPED adds the exact partial sum of each aligned group of
 * `group` k's, fitting after each group, as the accelerator does (group = KLanes). Both
 * start from fit(bias). With MPQ_ACC_WRAP the result does not depend on the order. */
typedef enum mpq_order { MPQ_ORDER_SEQ = 0, MPQ_ORDER_GROUPED = 1 } mpq_order;

/* y[m][n] from x[m][k] and weights [n][k]. The term of (row r, channel c, position i), with
 * xr = x[r][i] + in_offset, is
 *     xr*(w[c][i] + w_offset) + alpha[c]*xr*t[c][i] + xr*hp[c][i]
 * for whichever of w, t, hp are present (not NULL). The sparse layer may be given as a dense
 * [n][k] array (hp), in N:G form (hp_nm) or as CSR (hp_csr): at most one of them.
 * Values are exact integers up to 32 bits (activations and weights 1..32 bits); every sum is
 * exact (128-bit when 64 bits could overflow) before each fit. */
typedef struct mpq_fc_layer {
    unsigned m, k, n;
    const int32_t *x; int32_t in_offset;
    const int32_t *w; int32_t w_offset;
    const int8_t *t; const int32_t *alpha;       /* alpha [n] (or [1] if alpha_per_tensor) */
    int alpha_per_tensor;
    const int32_t *hp; const mpq_nm *hp_nm; const mpq_csr *hp_csr;
    const int32_t *bias;                         /* [n] or NULL (zeros) */
    unsigned acc_bits;                           /* 8..64 (1..64 accepted) */
    mpq_acc_mode acc_mode;
    mpq_order order;
    unsigned group;                              /* for MPQ_ORDER_GROUPED, >= 1 */
} mpq_fc_layer;

/* Overflow report (the PyParch feature). Per output (r, c), flags[r*n+c]:
 *   bit 0 (MPQ_OVF_FINAL): the exact final sum does not fit acc_bits;
 *   bit 1 (MPQ_OVF_ANY): some fit along the declared order changed the value;
 * first_k[r*n+c]: the k (last position of the term or group) at which the first fit
 * overflowed, -1 if none (k = -1 also marks fit(bias) overflowing: see first_bias).
 * Summary: counts, and the first overflow in (row, channel, k) order. */
#define MPQ_OVF_FINAL 1u
#define MPQ_OVF_ANY 2u
typedef struct mpq_fc_ovf {
    uint8_t *flags;      /* [m*n] or NULL, caller-owned */
    int32_t *first_k;    /* [m*n] or NULL, caller-owned */
    size_t n_final, n_any;
    long first_row, first_ch, first_k_pos; /* -1 when no overflow */
    int first_bias;      /* 1 if that first overflow was fit(bias) */
} mpq_fc_ovf;

/* Accumulators acc[m][n] (fitted to acc_bits, sign-extended). ovf may be NULL: then no
 * overflow tracking is done (the fast path; the result is identical). Returns 0, MPQ_EPARAM
 * (err says what), MPQ_ENOMEM. */
int mpq_fc_acc(const mpq_fc_layer *l, int64_t *acc, mpq_fc_ovf *ovf, char *err, size_t errlen);
/* Accumulate and requantize: y[m][n]. acc (may be NULL) receives the accumulators. Returns
 * as mpq_fc_acc; MPQ_EPARAM also for requantization parameters out of range. */
int mpq_fc(const mpq_fc_layer *l, const mpq_requant *rq, int32_t *y, int64_t *acc,
           mpq_fc_ovf *ovf, char *err, size_t errlen);

/* ---- Spatial layers: convolution, depthwise convolution, pooling ---- */
/* Tensors are NHWC integers: x[b][y][x][c]. Semantics as ../shared/oracles/FORMAT.md
 * ("Spatial layers"): for output (b, oy, ox, o) and window position (ky, kx) the input row
 * and column are iy = oy*sy - py + ky*dy and ix = ox*sx - px + kx*dx; positions outside the
 * input contribute no term (TFLite's padding with the zero point). The bottom and right
 * padding are whatever out_h and out_w imply. */
typedef enum mpq_layer_kind {
    MPQ_LAYER_FC = 0,
    MPQ_LAYER_CONV2D,     /* weights OHWI [out_c][kh][kw][in_c/groups] */
    MPQ_LAYER_DEPTHWISE,  /* weights [kh][kw][out_c], out_c = in_c * ch_mult */
    MPQ_LAYER_AVGPOOL,
    MPQ_LAYER_MAXPOOL,
    MPQ_LAYER_COUNT
} mpq_layer_kind;
/* Returns "fc", "conv2d", "depthwise", "avgpool", "maxpool" ("?" when out of range). */
const char *mpq_layer_name(mpq_layer_kind k);
/* Parses one of those names into *k. Returns 0 or MPQ_EPARAM. */
int mpq_layer_parse(const char *s, mpq_layer_kind *k);

typedef struct mpq_conv_shape {
    mpq_layer_kind kind;          /* CONV2D, DEPTHWISE, AVGPOOL or MAXPOOL */
    unsigned batches;             /* B >= 1 */
    unsigned in_h, in_w, in_c;
    unsigned out_c;               /* conv2d: filters; depthwise: in_c * ch_mult; pools: in_c */
    unsigned kh, kw;              /* filter or pooling window */
    unsigned sy, sx;              /* stride >= 1 */
    unsigned py, px;              /* rows above, columns left of the input */
    unsigned dy, dx;              /* dilation >= 1 (pools: 1) */
    unsigned groups;              /* conv2d: G divides in_c and out_c; others: 1 (0 reads as 1) */
    unsigned out_h, out_w;
} mpq_conv_shape;

/* Checks a shape. Per axis, with the dilated extent e = (k-1)*d + 1, the padding p must be
 * below e and the far-side padding the output size implies, q = (out-1)*s + e - in - p,
 * must satisfy -s < q <= p + 1 and q < e: out is floor((in + p + q' - e)/s) + 1 for a far
 * padding q' between 0 and p + 1 (TFLite's VALID, and its SAME, which puts an odd row or
 * column at the far side), and no window lies wholly in padding. Every extent is >= 1; groups divide in_c and out_c (conv2d);
 * out_c is a multiple of in_c (depthwise) or equal to it (pools); pools take no dilation;
 * element counts stay below 2^31. Returns 0, or MPQ_EPARAM with err saying what is wrong. */
int mpq_conv_check(const mpq_conv_shape *s, char *err, size_t errlen);
/* Returns the number of elements of the input (B*in_h*in_w*in_c), the output
 * (B*out_h*out_w*out_c), the weights (conv2d: out_c*kh*kw*in_c/G; depthwise: kh*kw*out_c;
 * pools: 0), and the reduction depth of one output (conv2d: kh*kw*in_c/G; depthwise and
 * pools: kh*kw). The shape must have passed mpq_conv_check. */
size_t mpq_conv_in_count(const mpq_conv_shape *s);
size_t mpq_conv_out_count(const mpq_conv_shape *s);
size_t mpq_conv_w_count(const mpq_conv_shape *s);
unsigned mpq_conv_depth(const mpq_conv_shape *s);

/* A convolution (conv2d or depthwise). The term of output (b, oy, ox, o), window position
 * (ky, kx) and channel c of o's group, xr = x[b][iy][ix][ci] + in_offset with the input
 * channel ci = g0 + c (conv2d, g0 = (o / (out_c/G)) * in_c/G) or o / ch_mult (depthwise), is
 *     xr*(w + w_offset) + alpha[o]*xr*t + xr*hp
 * with w, t, hp the weights of (o, ky, kx, c) in the layout of the kind, for whichever of
 * w, t, hp are present (hp: dense, 0 where absent). Values are exact integers up to 32 bits.
 *
 * Accumulation order (the accumulator starts at fit(bias[o])):
 *   MPQ_ORDER_SEQ: one term at a time, ky outer, then kx, then c; a fit after each term.
 *   MPQ_ORDER_GROUPED with `group` g (the accelerator's KLanes): ky outer, then kx, then the
 *     channels of o's group in increasing order; the exact sum of each run of consecutive
 *     terms whose absolute input channel ci lies in the same aligned block of g channels
 *     (ci / g equal) is added and fitted; blocks restart at every (ky, kx). A depthwise
 *     output has one term per (ky, kx): every term is fitted. The hardware's N:G sparse
 *     groups are these same blocks: G consecutive input channels at one (ky, kx).
 *   Window positions outside the input contribute no term and no fit.
 * With MPQ_ACC_WRAP and no overflow tracking the result does not depend on the order.
 * The reduction index of a term is r = (ky*kw + kx)*F + c, F = in_c/G (depthwise: F = 1). */
typedef struct mpq_conv_layer {
    mpq_conv_shape shape;        /* kind CONV2D or DEPTHWISE */
    const int32_t *x; int32_t in_offset;          /* [mpq_conv_in_count] */
    const int32_t *w; int32_t w_offset;           /* [mpq_conv_w_count] or NULL */
    const int8_t *t; const int32_t *alpha;        /* t like w; alpha [out_c] or [1] */
    int alpha_per_tensor;
    const int32_t *hp;                            /* like w, or NULL */
    const int32_t *bias;                          /* [out_c] or NULL (zeros) */
    unsigned acc_bits;                            /* 1..64 */
    mpq_acc_mode acc_mode;
    mpq_order order;
    unsigned group;                               /* for MPQ_ORDER_GROUPED, >= 1 */
} mpq_conv_layer;

/* The convolution of shape s over the tensors and arithmetic of fc: x, in_offset, w, w_offset,
 * t, alpha, alpha_per_tensor, hp, bias, acc_bits, acc_mode, order and group are fc's (fc's m,
 * k, n and sparse forms hp_nm, hp_csr are not used). One place maps a layer description that
 * serves both kinds (a case file, a hardware layer, a quantized network's layer) to either
 * kernel. Returns the layer by value. */
mpq_conv_layer mpq_conv_layer_of_fc(const mpq_conv_shape *s, const mpq_fc_layer *fc);

/* Overflow report of a convolution. Per output i = ((b*out_h + oy)*out_w + ox)*out_c + o:
 * flags[i] (MPQ_OVF_FINAL, MPQ_OVF_ANY as for the FC layer) and first_r[i], the reduction
 * index of the last term of the run whose fit overflowed first (-1 if none, or when it was
 * fit(bias)). Summary: counts, and the first overflow in (b, oy, ox, o) order. */
typedef struct mpq_conv_ovf {
    uint8_t *flags;       /* [mpq_conv_out_count] or NULL, caller-owned */
    int32_t *first_r;     /* [mpq_conv_out_count] or NULL, caller-owned */
    size_t n_final, n_any;
    long first_b, first_oy, first_ox, first_ch, first_red; /* -1 when no overflow */
    int first_bias;       /* 1 if that first overflow was fit(bias) */
} mpq_conv_ovf;

/* Accumulators acc[B][out_h][out_w][out_c] (fitted to acc_bits, sign-extended). ovf may be
 * NULL: no tracking (the fast path; identical results). Nothing is written unless the shape
 * and the weights pass their checks. Returns 0, MPQ_EPARAM (err says what), MPQ_ENOMEM. */
int mpq_conv_acc(const mpq_conv_layer *l, int64_t *acc, mpq_conv_ovf *ovf, char *err,
                 size_t errlen);
/* Accumulates and requantizes (mpq_requant_one per output, channel o): y in NHWC. acc (may
 * be NULL) receives the accumulators. Returns as mpq_conv_acc; MPQ_EPARAM also for
 * requantization parameters out of range or not 1 or out_c of them. */
int mpq_conv(const mpq_conv_layer *l, const mpq_requant *rq, int32_t *y, int64_t *acc,
             mpq_conv_ovf *ovf, char *err, size_t errlen);

/* Average or max pooling (kind AVGPOOL or MAXPOOL) of x[B][in_h][in_w][in_c] over the
 * window positions inside the input, channel by channel, into y[B][out_h][out_w][in_c]:
 *   max: clamp(max of the values, act_min, act_max);
 *   avg: s = exact sum of the values, n their count, clamp((s > 0 ? s + n/2 : s - n/2) / n,
 *        act_min, act_max) with the division truncating toward zero (TFLite's rounding).
 * Returns 0, or MPQ_EPARAM (shape, act_min > act_max) with err saying what. */
int mpq_pool(const mpq_conv_shape *s, const int32_t *x, int32_t act_min, int32_t act_max,
             int32_t *y, char *err, size_t errlen);

/* ---- Float reference, error, decomposition ---- */
/* Writes y[m][n] = sum_i x[m][i]*w[n][i] + bias[n] (bias may be NULL), double precision. */
void mpq_fc_f64(unsigned m, unsigned k, unsigned n, const double *x, const double *w,
                const double *bias, double *y);
typedef struct mpq_err_stats {
    double sqnr_db;   /* 10*log10(sum ref^2 / sum (ref-q)^2); +inf when exact */
    double max_abs;   /* max |ref - q| */
    double mse;
} mpq_err_stats;
/* Fills *e with the error of q against ref over count values. */
void mpq_err_compute(const double *ref, const double *q, size_t count, mpq_err_stats *e);

/* Split real weights W[n][k] into step[c] * (alpha[c]*t + hp): ternary t with per-channel
 * threshold thr*mean|W[c]| (TWN: 0.7) and real scale mean|W| over the kept weights; then the
 * residual's hp_n largest magnitudes in each aligned group of `group` (group 0: the hp_n
 * largest of the whole row, unstructured), quantized to hp_bits with step[c] chosen so the
 * ternary scale is exactly alpha[c] (an integer within alpha_bits) steps. */
typedef struct mpq_decomp_opts {
    double thr;          /* 0.7 */
    unsigned hp_n;       /* non-zeros per group (0: ternary only) */
    unsigned group;      /* G, or 0 for unstructured per channel */
    unsigned hp_bits;    /* 2..16 */
    unsigned alpha_bits; /* 2..16 */
} mpq_decomp_opts;
typedef struct mpq_decomp {
    unsigned n, k;
    int8_t *t;           /* [n][k] */
    int32_t *alpha;      /* [n] */
    int32_t *hp;         /* [n][k], dense form, 0 where absent */
    double *step;        /* [n]: W ~= step[c]*(alpha[c]*t + hp) */
    size_t hp_nnz;
    double density;      /* hp_nnz / (n*k) */
    double rel_err_tern; /* ||W - step*alpha*t|| / ||W|| */
    double rel_err;      /* ||W - step*(alpha*t + hp)|| / ||W|| */
} mpq_decomp;
/* Decomposes w; returns 0, MPQ_EPARAM (err says what), MPQ_ENOMEM. d owns its arrays:
 * mpq_decomp_free. */
int mpq_decompose(const double *w, unsigned n, unsigned k, const mpq_decomp_opts *o,
                  mpq_decomp *d, char *err, size_t errlen);
void mpq_decomp_free(mpq_decomp *d);

/* Double-precision convolution of a conv2d or depthwise shape: y[B][out_h][out_w][out_c]
 * from x (NHWC) and real weights w in the kind's layout (OHWI, or [kh][kw][out_c]), bias
 * [out_c] or NULL; the same windows, padding and groups as mpq_conv_acc. Returns 0 or
 * MPQ_EPARAM (shape; err says what). */
int mpq_conv_f64(const mpq_conv_shape *s, const double *x, const double *w, const double *bias,
                 double *y, char *err, size_t errlen);

/* Axis of the N:G groups of a convolution's sparse residual. */
typedef enum mpq_decomp_axis {
    MPQ_DECOMP_CHANNEL = 0, /* G consecutive input channels at one (ky, kx), aligned on the
                             * absolute input channel as the GROUPED order's blocks (the
                             * accelerator's); depthwise: G consecutive output channels at one
                             * (ky, kx), aligned on the channel index */
    MPQ_DECOMP_WINDOW,      /* G consecutive window positions ky*kw + kx at one input channel
                             * (conv2d) or output channel (depthwise), aligned at 0 */
    MPQ_DECOMP_UNSTRUCTURED /* the hp_n largest of each output channel's weights */
} mpq_decomp_axis;
/* mpq_decompose for the weights of a conv2d or depthwise shape, in that kind's layout: d->t
 * and d->hp come back in the same layout (d->n = out_c, d->k = mpq_conv_depth; for
 * depthwise t and hp are [kh][kw][out_c] like w), alpha and step per output channel.
 * o->group is G of the chosen axis (ignored for UNSTRUCTURED); o->hp_n the non-zeros per
 * group. Returns as mpq_decompose. */
int mpq_decompose_conv(const double *w, const mpq_conv_shape *s, mpq_decomp_axis axis,
                       const mpq_decomp_opts *o, mpq_decomp *d, char *err, size_t errlen);

/* mpq_decompose_conv with groups given by the caller: block[i] (in the kind's weight layout,
 * like w) names the group of weight i; a group is a run of equal block ids along an output
 * channel's reduction (conv2d: OHWI order; depthwise: ky, kx), hp_n non-zeros at most in
 * each (o->group unused). The driver groups this way along the layout a layer runs in when
 * the host repacks it (stim/mpq_netmap.h). Returns as mpq_decompose. */
int mpq_decompose_conv_blocks(const double *w, const mpq_conv_shape *s, const uint32_t *block,
                              const mpq_decomp_opts *o, mpq_decomp *d, char *err, size_t errlen);

/* ---- mpq-case files (../shared/oracles/FORMAT.md) ---- */
typedef struct mpq_case {
    char name[128];
    char source[256];
    mpq_layer_kind layer;  /* MPQ_LAYER_FC unless the file has another `layer` line */
    mpq_conv_shape shape;  /* spatial layers: their shape (checked by mpq_conv_check) */
    /* FC: the shape. Spatial layers: m = batches*out_h*out_w and n = out_c (the outputs are
     * [m][n], NHWC), k = mpq_conv_depth (the reduction depth of one output). */
    unsigned m, k, n;
    int32_t *x; int32_t in_offset;
    int32_t *w; int32_t w_offset;
    int8_t *t; int32_t *alpha; unsigned nalpha;
    int32_t *hp;
    int32_t *bias;
    unsigned acc_bits;
    int32_t *mult, *shift; unsigned nmult, nshift;
    mpq_rq_kind rounding;
    int32_t out_offset, act_min, act_max;
    int32_t *expect;     /* [m*n] */
} mpq_case;
/* Parse one file. Returns 0, or MPQ_EFORMAT, MPQ_EIO, MPQ_ENOMEM with "path:line: what is
 * wrong" in err and a freed case. Checks value ranges (acc_bits 1..64, shift -31..30,
 * mult >= 0, t in {-1,0,1}, counts, act_min <= act_max), the keys each layer kind requires
 * and refuses, and a spatial shape against itself (mpq_conv_check: out_h/out_w as stride,
 * padding and dilation give them, groups dividing the channels). */
int mpq_case_load(const char *path, mpq_case *c, char *err, size_t errlen);
int mpq_case_parse(const char *text, size_t len, const char *name, mpq_case *c,
                   char *err, size_t errlen);
/* Flags of the _ex variants: MPQ_CASE_NO_EXPECT accepts a file without an expect line
 * (c->expect is then NULL). */
#define MPQ_CASE_NO_EXPECT 1u
int mpq_case_load_ex(const char *path, unsigned flags, mpq_case *c, char *err, size_t errlen);
int mpq_case_parse_ex(const char *text, size_t len, const char *name, unsigned flags, mpq_case *c,
                      char *err, size_t errlen);
/* The outputs y[m*n] the golden model computes for the case (sequential order, wrap):
 * mpq_fc, mpq_conv or mpq_pool. Returns 0, MPQ_EPARAM (err says), MPQ_ENOMEM. */
int mpq_case_compute(const mpq_case *c, int32_t *y, char *err, size_t errlen);
void mpq_case_free(mpq_case *c);

#ifdef __cplusplus
}
#endif
#endif
