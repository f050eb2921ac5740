/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_tflite.c: the bounds-checked .tflite reader (mpq_tflite.h).
 *
 * A flatbuffer is a graph of tables, vectors and strings joined by 32-bit offsets. A table
 * starts with a signed offset back to its vtable (u16 vtable size, u16 table size, then one
 * u16 per field: the field's byte offset inside the table, 0 when absent); offset fields
 * hold an unsigned distance forward to their target; a vector or string is a u32 count then
 * its elements. Every read below goes through rd_* helpers that check the bytes lie inside
 * the file first, and every copied element is charged to a budget proportional to the file
 * size, so that a file whose offsets all point at the same big vector cannot make the reader
 * work quadratically.
 */
#include "net/mpq_tflite.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"

/* ---- names ---- */

static const char *const op_names[] = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE",
    "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION", "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC",
    "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1", "RELU6", "RESHAPE",
    "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH", "CONCAT_EMBEDDINGS",
    "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND",
    "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2", "SPLIT", "LOG_SOFTMAX",
    "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM", "ARG_MAX", "MINIMUM",
    "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE", "SIN",
    "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG",
    "SUM", "SQRT", "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD",
    "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT", "UNPACK",
    "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD",
    "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS",
    "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK",
    "ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND",
    "HARD_SWISH", "IF", "WHILE", "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5",
    "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM", "BATCH_MATMUL",
    "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO", "RFFT2D",
    "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE", "HASHTABLE_FIND", "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE", "VAR_HANDLE", "READ_VARIABLE",
    "ASSIGN_VARIABLE", "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL", "BUCKETIZE",
    "RANDOM_UNIFORM", "MULTINOMIAL", "GELU", "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_SUM", "ATAN2",
    "UNSORTED_SEGMENT_MIN", "SIGN", "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT",
    "STABLEHLO_LOGISTIC", "STABLEHLO_ADD", "STABLEHLO_DIVIDE", "STABLEHLO_MULTIPLY",
    "STABLEHLO_MAXIMUM", "STABLEHLO_RESHAPE", "STABLEHLO_CLAMP", "STABLEHLO_CONCATENATE",
    "STABLEHLO_BROADCAST_IN_DIM", "STABLEHLO_CONVOLUTION", "STABLEHLO_SLICE",
    "STABLEHLO_CUSTOM_CALL", "STABLEHLO_REDUCE", "STABLEHLO_ABS", "STABLEHLO_AND",
    "STABLEHLO_COSINE", "STABLEHLO_EXPONENTIAL", "STABLEHLO_FLOOR", "STABLEHLO_LOG",
    "STABLEHLO_MINIMUM", "STABLEHLO_NEGATE", "STABLEHLO_OR", "STABLEHLO_POWER",
    "STABLEHLO_REMAINDER", "STABLEHLO_RSQRT", "STABLEHLO_SELECT", "STABLEHLO_SUBTRACT",
    "STABLEHLO_TANH", "STABLEHLO_SCATTER", "STABLEHLO_COMPARE", "STABLEHLO_CONVERT",
    "STABLEHLO_DYNAMIC_SLICE", "STABLEHLO_DYNAMIC_UPDATE_SLICE", "STABLEHLO_PAD",
    "STABLEHLO_IOTA", "STABLEHLO_DOT_GENERAL", "STABLEHLO_REDUCE_WINDOW", "STABLEHLO_SORT",
    "STABLEHLO_WHILE", "STABLEHLO_GATHER", "STABLEHLO_TRANSPOSE", "DILATE",
    "STABLEHLO_RNG_BIT_GENERATOR", "REDUCE_WINDOW", "STABLEHLO_COMPOSITE",
    "STABLEHLO_SHIFT_LEFT", "STABLEHLO_CBRT", "STABLEHLO_CASE",
};

const char *mpq_tfl_op_name(int code)
{
    return code >= 0 && (size_t)code < sizeof op_names / sizeof op_names[0] ? op_names[code] : "?";
}

int mpq_tfl_op_fail(const mpq_tfl_model *m, unsigned op, char *err, size_t errlen, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: op %u (%s): %s", m->file, op, mpq_tfl_op_name(m->ops[op].code), what);
    return MPQ_EPARAM;
}

static const char *const type_names[] = {
    "FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16", "COMPLEX64",
    "INT8", "FLOAT64", "COMPLEX128", "UINT64", "RESOURCE", "VARIANT", "UINT32", "UINT16", "INT4",
    "BFLOAT16", "INT2", "UINT4", "FLOAT8_E4M3FN", "FLOAT8_E5M2",
};

const char *mpq_tfl_type_name(int type)
{
    return type >= 0 && (size_t)type < sizeof type_names / sizeof type_names[0] ? type_names[type]
                                                                                 : "?";
}

unsigned mpq_tfl_type_size(int type)
{
    switch (type) {
    case MPQ_TFL_FLOAT32: case MPQ_TFL_INT32: case 15: return 4;
    case MPQ_TFL_FLOAT16: case MPQ_TFL_INT16: case 16: case 18: return 2;
    case MPQ_TFL_UINT8: case MPQ_TFL_BOOL: case MPQ_TFL_INT8: case 21: case 22: return 1;
    case MPQ_TFL_INT64: case 8: case 10: case 12: return 8;
    case 11: return 16;
    default: return 0;
    }
}

const char *mpq_tfl_act_name(int act)
{
    static const char *const names[] = {"NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"};
    return act >= 0 && act < 6 ? names[act] : "?";
}

int64_t mpq_tfl_elements(const mpq_tfl_tensor *t)
{
    int64_t n = 1;
    for (unsigned i = 0; i < t->rank; i++) {
        if (t->shape[i] < 0)
            return -1;
        n *= t->shape[i];
        if (n > INT32_MAX)
            return -1;
    }
    return n;
}

/* ---- bounds-checked access ---- */

typedef struct rd {
    const uint8_t *b;
    size_t n;
    const char *file;
    char *err;
    size_t errlen;
    char ctx[128];    /* the table being read: "SubGraph 0: Tensor 12" */
    uint64_t budget;  /* elements the reader may still copy */
} rd;

/* "file: ctx: field f: message" (field NULL: "file: ctx: message"). Returns MPQ_EFORMAT. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(rd *r, const char *field, const char *fmt, ...)
{
    char what[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (field)
        snprintf(r->err, r->errlen, "%s: %s: field %s: %s", r->file, r->ctx, field, what);
    else
        snprintf(r->err, r->errlen, "%s: %s: %s", r->file, r->ctx, what);
    return MPQ_EFORMAT;
}

static int nomem(rd *r)
{
    snprintf(r->err, r->errlen, "%s: out of memory", r->file);
    return MPQ_ENOMEM;
}

/* Little-endian loads; callers have checked that the bytes are inside the file. */
static uint32_t ld16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}
static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t ld64(const uint8_t *p)
{
    return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}
static float ldf32(const uint8_t *p)
{
    uint32_t u = ld32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* A table: its position, its vtable's position and both sizes. */
typedef struct tab {
    size_t pos, vt;
    unsigned vtlen, tlen;
} tab;

static int tab_at(rd *r, size_t pos, tab *t)
{
    if (pos > r->n || r->n - pos < 4)
        return fail(r, NULL, "table at byte %zu runs past the end of the file", pos);
    int64_t vt = (int64_t)pos - (int64_t)(int32_t)ld32(r->b + pos);
    if (vt < 0 || (uint64_t)vt > r->n - 4)
        return fail(r, NULL, "vtable of the table at byte %zu lies outside the file", pos);
    t->pos = pos;
    t->vt = (size_t)vt;
    t->vtlen = ld16(r->b + t->vt);
    t->tlen = ld16(r->b + t->vt + 2);
    if (t->vtlen < 4 || t->vtlen % 2)
        return fail(r, NULL, "vtable at byte %zu has an invalid size %u", t->vt, t->vtlen);
    if (t->vtlen > r->n - t->vt)
        return fail(r, NULL, "vtable at byte %zu runs past the end of the file", t->vt);
    if (t->tlen < 4 || t->tlen > r->n - pos)
        return fail(r, NULL, "table at byte %zu (%u bytes) runs past the end of the file", pos,
                    t->tlen);
    return MPQ_OK;
}

/* Position of field `id` (`size` bytes) of table t in *at, 0 when the field is absent. */
static int fld(rd *r, const tab *t, unsigned id, unsigned size, const char *name, size_t *at)
{
    unsigned slot = 4 + 2 * id;
    *at = 0;
    if (slot + 2 > t->vtlen)
        return MPQ_OK;
    unsigned off = ld16(r->b + t->vt + slot);
    if (!off)
        return MPQ_OK;
    if (off < 4 || off + size > t->tlen)
        return fail(r, name, "lies outside its table (offset %u, table of %u bytes)", off, t->tlen);
    *at = t->pos + off;
    return MPQ_OK;
}

/* Scalar fields with their schema defaults. */
static int get_i8(rd *r, const tab *t, unsigned id, const char *name, int def, int *v)
{
    size_t at;
    int st = fld(r, t, id, 1, name, &at);
    *v = at ? (int)(int8_t)r->b[at] : def;
    return st;
}
static int get_u8(rd *r, const tab *t, unsigned id, const char *name, int def, int *v)
{
    size_t at;
    int st = fld(r, t, id, 1, name, &at);
    *v = at ? (int)r->b[at] : def;
    return st;
}
static int get_i32(rd *r, const tab *t, unsigned id, const char *name, int32_t def, int32_t *v)
{
    size_t at;
    int st = fld(r, t, id, 4, name, &at);
    *v = at ? (int32_t)ld32(r->b + at) : def;
    return st;
}
static int get_int(rd *r, const tab *t, unsigned id, const char *name, int def, int *v)
{
    int32_t x;
    int st = get_i32(r, t, id, name, def, &x);
    *v = (int)x;
    return st;
}
static int get_u32(rd *r, const tab *t, unsigned id, const char *name, uint32_t def, uint32_t *v)
{
    size_t at;
    int st = fld(r, t, id, 4, name, &at);
    *v = at ? ld32(r->b + at) : def;
    return st;
}
static int get_u64(rd *r, const tab *t, unsigned id, const char *name, uint64_t *v)
{
    size_t at;
    int st = fld(r, t, id, 8, name, &at);
    *v = at ? ld64(r->b + at) : 0;
    return st;
}
static int get_f32(rd *r, const tab *t, unsigned id, const char *name, float def, float *v)
{
    size_t at;
    int st = fld(r, t, id, 4, name, &at);
    *v = at ? ldf32(r->b + at) : def;
    return st;
}

/* An offset field: the position it points to in *target (0 when the field is absent). */
static int get_ref(rd *r, const tab *t, unsigned id, const char *name, size_t *target)
{
    size_t at;
    int st = fld(r, t, id, 4, name, &at);
    *target = 0;
    if (st || !at)
        return st;
    uint64_t to = (uint64_t)at + ld32(r->b + at);
    if (to == at || to > r->n || r->n - to < 4)
        return fail(r, name, "offset points outside the file");
    *target = (size_t)to;
    return MPQ_OK;
}

/* A vector field of `elem`-byte elements: *count and the position of element 0 (count 0
 * and position 0 when absent). Charges the count to the copy budget. */
static int get_vec(rd *r, const tab *t, unsigned id, const char *name, unsigned elem,
                   uint32_t *count, size_t *data)
{
    size_t to;
    int st = get_ref(r, t, id, name, &to);
    *count = 0;
    *data = 0;
    if (st || !to)
        return st;
    uint32_t c = ld32(r->b + to);
    if ((uint64_t)c * elem > r->n - to - 4)
        return fail(r, name, "vector of %u elements runs past the end of the file", c);
    if (c > r->budget)
        return fail(r, name, "vector of %u elements: the file refers to more data than it holds",
                    c);
    r->budget -= c;
    *count = c;
    *data = to + 4;
    return MPQ_OK;
}

/* A string field as a printable, NUL-terminated copy (NULL when absent). */
static int get_str(rd *r, const tab *t, unsigned id, const char *name, char **out)
{
    uint32_t len;
    size_t data;
    *out = NULL;
    int st = get_vec(r, t, id, name, 1, &len, &data);
    if (st || !data)
        return st;
    char *s = malloc((size_t)len + 1);
    if (!s)
        return nomem(r);
    for (uint32_t i = 0; i < len; i++) {
        uint8_t c = r->b[data + i];
        s[i] = c >= 32 && c < 127 ? (char)c : '?';
    }
    s[len] = 0;
    *out = s;
    return MPQ_OK;
}

/* Element i of a vector of tables, opened. */
static int vec_tab(rd *r, size_t data, uint32_t i, const char *name, tab *t)
{
    size_t at = data + (size_t)i * 4;
    uint64_t to = (uint64_t)at + ld32(r->b + at);
    if (to == at || to > r->n)
        return fail(r, NULL, "its offset in the vector %s points outside the file", name);
    return tab_at(r, (size_t)to, t);
}

/* An int32 vector copied into a new array (NULL when empty); *count its length. */
static int get_i32s(rd *r, const tab *t, unsigned id, const char *name, uint32_t *count,
                    int32_t **out)
{
    size_t data;
    *out = NULL;
    int st = get_vec(r, t, id, name, 4, count, &data);
    if (st || !*count)
        return st;
    if (!(*out = malloc((size_t)*count * sizeof **out)))
        return nomem(r);
    for (uint32_t i = 0; i < *count; i++)
        (*out)[i] = (int32_t)ld32(r->b + data + (size_t)i * 4);
    return MPQ_OK;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void set_ctx(rd *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->ctx, sizeof r->ctx, fmt, ap);
    va_end(ap);
}

/* ---- the schema's tables ---- */

typedef struct buf_ref {
    const uint8_t *data;
    size_t size;
} buf_ref;

static int read_quant(rd *r, const tab *t, mpq_tfl_quant *q)
{
    uint32_t ns, nz;
    size_t ds, dz;
    int st, details;
    if ((st = get_vec(r, t, 2, "scale", 4, &ns, &ds)) ||
        (st = get_vec(r, t, 3, "zero_point", 8, &nz, &dz)) ||
        (st = get_u8(r, t, 4, "details_type", 0, &details)) ||
        (st = get_i32(r, t, 6, "quantized_dimension", 0, &q->dim)))
        return st;
    q->has_details = details != 0;
    if (ns && !(q->scale = malloc((size_t)ns * sizeof *q->scale)))
        return nomem(r);
    if (nz && !(q->zero_point = malloc((size_t)nz * sizeof *q->zero_point)))
        return nomem(r);
    q->nscale = ns;
    q->nzero = nz;
    for (uint32_t i = 0; i < ns; i++)
        q->scale[i] = ldf32(r->b + ds + (size_t)i * 4);
    for (uint32_t i = 0; i < nz; i++)
        q->zero_point[i] = (int64_t)ld64(r->b + dz + (size_t)i * 8);
    return MPQ_OK;
}

static int read_tensor(rd *r, const tab *t, const buf_ref *bufs, unsigned nbufs, mpq_tfl_tensor *x)
{
    uint32_t rank;
    size_t shape, qpos, sparsity;
    int st;
    if ((st = get_vec(r, t, 0, "shape", 4, &rank, &shape)))
        return st;
    if (rank > MPQ_TFL_MAX_RANK)
        return fail(r, "shape", "%u dimensions (at most %d are read)", rank, MPQ_TFL_MAX_RANK);
    x->rank = rank;
    for (uint32_t i = 0; i < rank; i++)
        x->shape[i] = (int32_t)ld32(r->b + shape + (size_t)i * 4);
    if ((st = get_i8(r, t, 1, "type", 0, &x->type)) ||
        (st = get_u32(r, t, 2, "buffer", 0, &x->buffer)) ||
        (st = get_str(r, t, 3, "name", &x->name)) ||
        (st = get_ref(r, t, 4, "quantization", &qpos)) ||
        (st = get_u8(r, t, 5, "is_variable", 0, &x->is_variable)) ||
        (st = get_ref(r, t, 6, "sparsity", &sparsity)))
        return st;
    x->has_sparsity = sparsity != 0;
    if (x->buffer >= nbufs)
        return fail(r, "buffer", "buffer %u does not exist (the model has %u)", x->buffer, nbufs);
    x->data = bufs[x->buffer].data;
    x->size = bufs[x->buffer].size;
    if (qpos) {
        tab q;
        if ((st = tab_at(r, qpos, &q)))
            return st;
        size_t len = strlen(r->ctx);
        snprintf(r->ctx + len, sizeof r->ctx - len, ": QuantizationParameters");
        st = read_quant(r, &q, &x->q);
        r->ctx[len] = 0;
        if (st)
            return st;
    }
    return MPQ_OK;
}

/* The options table of an operator, by union type. Types the planner does not use are left
 * unread (their contents cannot matter). */
static int read_options(rd *r, const tab *t, int type, mpq_tfl_opts *o)
{
    int st = MPQ_OK;
    switch (type) {
    case 1: /* Conv2DOptions */
        (void)((st = get_i8(r, t, 0, "padding", 0, &o->padding)) ||
               (st = get_int(r, t, 1, "stride_w", 0, &o->stride_w)) ||
               (st = get_int(r, t, 2, "stride_h", 0, &o->stride_h)) ||
               (st = get_i8(r, t, 3, "fused_activation_function", 0, &o->activation)) ||
               (st = get_int(r, t, 4, "dilation_w_factor", 1, &o->dilation_w)) ||
               (st = get_int(r, t, 5, "dilation_h_factor", 1, &o->dilation_h)));
        break;
    case 2: /* DepthwiseConv2DOptions */
        (void)((st = get_i8(r, t, 0, "padding", 0, &o->padding)) ||
               (st = get_int(r, t, 1, "stride_w", 0, &o->stride_w)) ||
               (st = get_int(r, t, 2, "stride_h", 0, &o->stride_h)) ||
               (st = get_int(r, t, 3, "depth_multiplier", 0, &o->depth_multiplier)) ||
               (st = get_i8(r, t, 4, "fused_activation_function", 0, &o->activation)) ||
               (st = get_int(r, t, 5, "dilation_w_factor", 1, &o->dilation_w)) ||
               (st = get_int(r, t, 6, "dilation_h_factor", 1, &o->dilation_h)));
        break;
    case 5: /* Pool2DOptions */
        (void)((st = get_i8(r, t, 0, "padding", 0, &o->padding)) ||
               (st = get_int(r, t, 1, "stride_w", 0, &o->stride_w)) ||
               (st = get_int(r, t, 2, "stride_h", 0, &o->stride_h)) ||
               (st = get_int(r, t, 3, "filter_width", 0, &o->filter_w)) ||
               (st = get_int(r, t, 4, "filter_height", 0, &o->filter_h)) ||
               (st = get_i8(r, t, 5, "fused_activation_function", 0, &o->activation)));
        break;
    case 8: /* FullyConnectedOptions */
        (void)((st = get_i8(r, t, 0, "fused_activation_function", 0, &o->activation)) ||
               (st = get_i8(r, t, 1, "weights_format", 0, &o->weights_format)) ||
               (st = get_u8(r, t, 2, "keep_num_dims", 0, &o->keep_num_dims)) ||
               (st = get_u8(r, t, 3, "asymmetric_quantize_inputs", 0, &o->asymmetric_inputs)));
        break;
    case 9: /* SoftmaxOptions */
        st = get_f32(r, t, 0, "beta", 0.0f, &o->beta);
        break;
    case 10: /* ConcatenationOptions */
        (void)((st = get_int(r, t, 0, "axis", 0, &o->axis)) ||
               (st = get_i8(r, t, 1, "fused_activation_function", 0, &o->activation)));
        break;
    case 11: /* AddOptions */
        st = get_i8(r, t, 0, "fused_activation_function", 0, &o->activation);
        break;
    case 27: /* ReducerOptions */
        st = get_u8(r, t, 0, "keep_dims", 0, &o->keep_dims);
        break;
    case 32: /* StridedSliceOptions */
        (void)((st = get_int(r, t, 0, "begin_mask", 0, &o->begin_mask)) ||
               (st = get_int(r, t, 1, "end_mask", 0, &o->end_mask)) ||
               (st = get_int(r, t, 2, "ellipsis_mask", 0, &o->ellipsis_mask)) ||
               (st = get_int(r, t, 3, "new_axis_mask", 0, &o->new_axis_mask)) ||
               (st = get_int(r, t, 4, "shrink_axis_mask", 0, &o->shrink_axis_mask)) ||
               (st = get_u8(r, t, 5, "offset", 0, &o->offset)));
        break;
    case 55: /* ShapeOptions */
        st = get_i8(r, t, 0, "out_type", 0, &o->out_type);
        break;
    case 59: /* PackOptions */
        (void)((st = get_int(r, t, 0, "values_count", 0, &o->values_count)) ||
               (st = get_int(r, t, 1, "axis", 0, &o->axis)));
        break;
    default:
        break;
    }
    return st;
}

typedef struct opcode {
    int code, version;
    char *custom;
} opcode;

static int read_operator(rd *r, const tab *t, const opcode *codes, unsigned ncodes,
                         unsigned ntensors, mpq_tfl_op *op)
{
    uint32_t idx, nin, nout;
    size_t opts;
    int st;
    if ((st = get_u32(r, t, 0, "opcode_index", 0, &idx)))
        return st;
    if (idx >= ncodes)
        return fail(r, "opcode_index", "operator code %u does not exist (the model has %u)", idx,
                    ncodes);
    op->code = codes[idx].code;
    op->version = codes[idx].version;
    if (codes[idx].custom && !(op->custom = strdup(codes[idx].custom)))
        return nomem(r);
    if ((st = get_i32s(r, t, 1, "inputs", &nin, &op->in)) ||
        (st = get_i32s(r, t, 2, "outputs", &nout, &op->out)) ||
        (st = get_u8(r, t, 3, "builtin_options_type", 0, &op->opt_type)) ||
        (st = get_ref(r, t, 4, "builtin_options", &opts)))
        return st;
    op->nin = nin;
    op->nout = nout;
    for (uint32_t i = 0; i < nin; i++)
        if (op->in[i] < -1 || op->in[i] >= (int64_t)ntensors)
            return fail(r, "inputs", "tensor %d does not exist (the subgraph has %u)", op->in[i],
                        ntensors);
    for (uint32_t i = 0; i < nout; i++)
        if (op->out[i] < 0 || op->out[i] >= (int64_t)ntensors)
            return fail(r, "outputs", "tensor %d does not exist (the subgraph has %u)", op->out[i],
                        ntensors);
    op->opt.dilation_w = op->opt.dilation_h = 1;
    if (opts) {
        tab o;
        size_t len = strlen(r->ctx);
        snprintf(r->ctx + len, sizeof r->ctx - len, ": builtin_options");
        st = tab_at(r, opts, &o);
        if (!st)
            st = read_options(r, &o, op->opt_type, &op->opt);
        r->ctx[len] = 0;
        if (st)
            return st;
    }
    return MPQ_OK;
}

static int read_io(rd *r, const tab *t, unsigned id, const char *name, unsigned ntensors,
                   unsigned *count, int32_t **out)
{
    uint32_t n;
    int st = get_i32s(r, t, id, name, &n, out);
    *count = n;
    for (uint32_t i = 0; !st && i < n; i++)
        if ((*out)[i] < 0 || (*out)[i] >= (int64_t)ntensors)
            st = fail(r, name, "tensor %d does not exist (the subgraph has %u)", (*out)[i], ntensors);
    return st;
}

static int read_subgraph(rd *r, const tab *sg, const buf_ref *bufs, unsigned nbufs,
                         const opcode *codes, unsigned ncodes, mpq_tfl_model *m)
{
    uint32_t nt, no;
    size_t tdata, odata;
    int st;
    set_ctx(r, "SubGraph 0");
    if ((st = get_vec(r, sg, 0, "tensors", 4, &nt, &tdata)) ||
        (st = get_vec(r, sg, 3, "operators", 4, &no, &odata)))
        return st;
    if ((nt && !(m->tensors = calloc(nt, sizeof *m->tensors))) ||
        (no && !(m->ops = calloc(no, sizeof *m->ops))))
        return nomem(r);
    m->ntensors = nt;
    m->nops = no;
    if ((st = read_io(r, sg, 1, "inputs", nt, &m->ninputs, &m->inputs)) ||
        (st = read_io(r, sg, 2, "outputs", nt, &m->noutputs, &m->outputs)))
        return st;
    for (uint32_t i = 0; i < nt; i++) {
        tab t;
        set_ctx(r, "SubGraph 0: Tensor %u", i);
        if ((st = vec_tab(r, tdata, i, "tensors", &t)))
            return st;
        if ((st = read_tensor(r, &t, bufs, nbufs, &m->tensors[i])))
            return st;
    }
    for (uint32_t i = 0; i < no; i++) {
        tab t;
        set_ctx(r, "SubGraph 0: Operator %u", i);
        if ((st = vec_tab(r, odata, i, "operators", &t)))
            return st;
        if ((st = read_operator(r, &t, codes, ncodes, nt, &m->ops[i])))
            return st;
    }
    return MPQ_OK;
}

static int read_opcodes(rd *r, const tab *model, opcode **out, unsigned *count)
{
    uint32_t n;
    size_t data;
    int st;
    set_ctx(r, "Model");
    if ((st = get_vec(r, model, 1, "operator_codes", 4, &n, &data)))
        return st;
    *count = n;
    if (n && !(*out = calloc(n, sizeof **out)))
        return nomem(r);
    for (uint32_t i = 0; i < n; i++) {
        tab t;
        int dep;
        int32_t code, version;
        set_ctx(r, "OperatorCode %u", i);
        if ((st = vec_tab(r, data, i, "operator_codes", &t)))
            return st;
        if ((st = get_i8(r, &t, 0, "deprecated_builtin_code", 0, &dep)) ||
            (st = get_str(r, &t, 1, "custom_code", &(*out)[i].custom)) ||
            (st = get_i32(r, &t, 2, "version", 1, &version)) ||
            (st = get_i32(r, &t, 3, "builtin_code", 0, &code)))
            return st;
        /* The schema's rule: the larger of the two (old files fill only the byte). */
        (*out)[i].code = code > dep ? (int)code : dep;
        (*out)[i].version = (int)version;
    }
    return MPQ_OK;
}

static int read_buffers(rd *r, const tab *model, buf_ref **out, unsigned *count)
{
    uint32_t n;
    size_t data;
    int st;
    set_ctx(r, "Model");
    if ((st = get_vec(r, model, 4, "buffers", 4, &n, &data)))
        return st;
    *count = n;
    if (n && !(*out = calloc(n, sizeof **out)))
        return nomem(r);
    for (uint32_t i = 0; i < n; i++) {
        tab t;
        uint32_t len;
        size_t at;
        uint64_t off, size;
        set_ctx(r, "Buffer %u", i);
        if ((st = vec_tab(r, data, i, "buffers", &t)))
            return st;
        /* The contents are not copied: no budget charge. */
        if ((st = get_ref(r, &t, 0, "data", &at)) || (st = get_u64(r, &t, 1, "offset", &off)) ||
            (st = get_u64(r, &t, 2, "size", &size)))
            return st;
        if (at) {
            len = ld32(r->b + at);
            if (len > r->n - at - 4)
                return fail(r, "data", "vector of %u bytes runs past the end of the file", len);
            (*out)[i].data = len ? r->b + at + 4 : NULL;
            (*out)[i].size = len;
        } else if (off > 1 && size) { /* data appended after the flatbuffer (models past 2 GB) */
            if (off > r->n || size > r->n - off)
                return fail(r, "offset", "%llu bytes at offset %llu lie outside the file",
                            (unsigned long long)size, (unsigned long long)off);
            (*out)[i].data = r->b + off;
            (*out)[i].size = (size_t)size;
        }
    }
    return MPQ_OK;
}

static int parse(rd *r, mpq_tfl_model *m)
{
    if (r->n < 8 || memcmp(r->b + 4, "TFL3", 4)) {
        snprintf(r->err, r->errlen, "%s: not a TensorFlow Lite model (%s)", r->file,
                 r->n < 8 ? "shorter than a flatbuffer header" : "no TFL3 file identifier");
        return MPQ_EFORMAT;
    }
    tab model, sg;
    opcode *codes = NULL;
    buf_ref *bufs = NULL;
    unsigned ncodes = 0, nbufs = 0;
    uint32_t nsg;
    size_t sgdata;
    set_ctx(r, "Model");
    int st = tab_at(r, ld32(r->b), &model);
    if (!st && !(st = get_u32(r, &model, 0, "version", 0, &m->version)) && m->version != 3) {
        snprintf(r->err, r->errlen, "%s: schema version %u (this reader knows version 3)", r->file,
                 m->version);
        st = MPQ_EVERSION;
    }
    if (!st)
        st = get_str(r, &model, 3, "description", &m->description);
    if (!st)
        st = read_opcodes(r, &model, &codes, &ncodes);
    if (!st)
        st = read_buffers(r, &model, &bufs, &nbufs);
    if (!st) {
        set_ctx(r, "Model");
        st = get_vec(r, &model, 2, "subgraphs", 4, &nsg, &sgdata);
        if (!st && !nsg)
            st = fail(r, "subgraphs", "the model has no subgraph");
    }
    if (!st && !(st = vec_tab(r, sgdata, 0, "subgraphs", &sg))) {
        m->nsubgraphs = nsg;
        m->nbuffers = nbufs;
        m->nopcodes = ncodes;
        st = read_subgraph(r, &sg, bufs, nbufs, codes, ncodes, m);
    }
    for (unsigned i = 0; i < ncodes; i++)
        free(codes[i].custom);
    free(codes);
    free(bufs);
    return st;
}

int mpq_tfl_parse(const void *buf, size_t len, const char *file, mpq_tfl_model *m, char *err,
                  size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (!file)
        file = "model";
    rd r = {.n = len, .file = file, .err = err, .errlen = errlen};
    if (len > MPQ_TFL_MAX_FILE) {
        snprintf(err, errlen, "%s: %zu bytes: larger than the 2 GiB this reader accepts", file, len);
        return MPQ_EFORMAT;
    }
    m->file = strdup(file);
    m->bytes = malloc(len ? len : 1);
    if (!m->file || !m->bytes) {
        mpq_tfl_free(m);
        snprintf(err, errlen, "%s: out of memory", file);
        return MPQ_ENOMEM;
    }
    if (len)
        memcpy(m->bytes, buf, len);
    m->len = len;
    r.b = m->bytes;
    /* Every element copied is 1 to 8 bytes the file holds once: 4x the file size (plus a
     * little for tiny files) is more than any real model needs. */
    r.budget = (uint64_t)len * 4 + 4096;
    int st = parse(&r, m);
    if (st)
        mpq_tfl_free(m);
    return st;
}

int mpq_tfl_load(const char *path, mpq_tfl_model *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    FILE *f = mpq_fopen_read(path, "rb", err, errlen);
    if (!f)
        return MPQ_EIO;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap * 65536 && !(buf = mpq_grow(buf, &cap, 65536))) {
            fclose(f);
            snprintf(err, errlen, "%s: out of memory", path);
            return MPQ_ENOMEM;
        }
        size_t got = fread(buf + len, 1, cap * 65536 - len, f);
        len += got;
        if (got == 0)
            break;
        if (len > MPQ_TFL_MAX_FILE)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errlen, "%s: read error", path);
        return MPQ_EIO;
    }
    int st = mpq_tfl_parse(buf, len, path, m, err, errlen);
    free(buf);
    return st;
}

void mpq_tfl_free(mpq_tfl_model *m)
{
    for (unsigned i = 0; m->tensors && i < m->ntensors; i++) {
        free(m->tensors[i].name);
        free(m->tensors[i].q.scale);
        free(m->tensors[i].q.zero_point);
    }
    for (unsigned i = 0; m->ops && i < m->nops; i++) {
        free(m->ops[i].custom);
        free(m->ops[i].in);
        free(m->ops[i].out);
    }
    free(m->tensors);
    free(m->ops);
    free(m->inputs);
    free(m->outputs);
    free(m->description);
    free(m->file);
    free(m->bytes);
    memset(m, 0, sizeof *m);
}
