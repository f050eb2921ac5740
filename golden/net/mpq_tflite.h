/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_tflite.h: a bounds-checked reader of TensorFlow Lite models (.tflite flatbuffers,
 * schema version 3), the file every int8 microcontroller and NPU flow consumes.
 *
 * No C flatbuffers library is packaged, so the reader is written by hand against the
 * schema's field slots: every offset, length, vtable entry, string and vector is checked
 * against the buffer before it is read (unaligned little-endian reads, no pointer casts),
 * and a truncated, corrupted or hostile file is refused with a message that names the
 * table, its index and the field, e.g.
 *     model.tflite: SubGraph 0: Tensor 12: field shape: vector runs past the end of the file
 * The reader checks structure and indices (tensor, buffer and opcode indices in range,
 * constant data inside the file); what the values mean (shapes, types, quantization of an
 * operator's tensors) is checked by the graph planner (mpq_graph.h).
 *
 * Only the first subgraph is read (the others belong to control-flow operators, which the
 * planner refuses). The library never prints and never exits.
 */
#ifndef MPQ_TFLITE_H
#define MPQ_TFLITE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* TensorType values of the schema (the ones the planner knows; others keep their number). */
enum {
    MPQ_TFL_FLOAT32 = 0,
    MPQ_TFL_FLOAT16 = 1,
    MPQ_TFL_INT32 = 2,
    MPQ_TFL_UINT8 = 3,
    MPQ_TFL_INT64 = 4,
    MPQ_TFL_BOOL = 6,
    MPQ_TFL_INT16 = 7,
    MPQ_TFL_INT8 = 9,
    MPQ_TFL_INT4 = 17
};
/* Returns the schema's name of a TensorType ("INT8", ...), "?" when unknown. */
const char *mpq_tfl_type_name(int type);
/* Returns the size in bytes of one element of the type, 0 for types without one (strings,
 * sub-byte types). */
unsigned mpq_tfl_type_size(int type);

/* BuiltinOperator values of the operators the planner runs. */
enum {
    MPQ_TFL_ADD = 0,
    MPQ_TFL_AVERAGE_POOL_2D = 1,
    MPQ_TFL_CONCATENATION = 2,
    MPQ_TFL_CONV_2D = 3,
    MPQ_TFL_DEPTHWISE_CONV_2D = 4,
    MPQ_TFL_DEQUANTIZE = 6,
    MPQ_TFL_FULLY_CONNECTED = 9,
    MPQ_TFL_LOGISTIC = 14,
    MPQ_TFL_MAX_POOL_2D = 17,
    MPQ_TFL_RESHAPE = 22,
    MPQ_TFL_SOFTMAX = 25,
    MPQ_TFL_PAD = 34,
    MPQ_TFL_MEAN = 40,
    MPQ_TFL_STRIDED_SLICE = 45,
    MPQ_TFL_SHAPE = 77,
    MPQ_TFL_PACK = 83,
    MPQ_TFL_QUANTIZE = 114
};
/* Returns the schema's name of a BuiltinOperator ("CONV_2D", ...), "?" when unknown. */
const char *mpq_tfl_op_name(int code);

/* Fused activations and padding of the options tables. */
enum { MPQ_TFL_ACT_NONE = 0, MPQ_TFL_ACT_RELU = 1, MPQ_TFL_ACT_RELU_N1_TO_1 = 2, MPQ_TFL_ACT_RELU6 = 3 };
enum { MPQ_TFL_PAD_SAME = 0, MPQ_TFL_PAD_VALID = 1 };
/* Returns "NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT", or "?". */
const char *mpq_tfl_act_name(int act);

/* Limits of what the reader accepts (a model beyond them is refused, not truncated). */
#define MPQ_TFL_MAX_RANK 8          /* dimensions of a tensor */
#define MPQ_TFL_MAX_FILE (1u << 31) /* bytes */

/* Affine quantization of a tensor: real = scale[i] * (q - zero_point[i]) along
 * quantized_dimension (one entry: per tensor). nscale == 0: not quantized. */
typedef struct mpq_tfl_quant {
    unsigned nscale, nzero;
    float *scale;        /* [nscale] */
    int64_t *zero_point; /* [nzero] */
    int32_t dim;         /* quantized_dimension */
    int has_details;     /* custom quantization details present (the planner refuses them) */
} mpq_tfl_quant;

typedef struct mpq_tfl_tensor {
    char *name;               /* printable copy (non-printable bytes become '?') */
    int type;                 /* TensorType */
    unsigned rank;            /* number of dimensions (0: scalar) */
    int32_t shape[MPQ_TFL_MAX_RANK];
    uint32_t buffer;          /* index into the model's buffers (0: none) */
    const uint8_t *data;      /* constant contents inside the model's bytes, or NULL */
    size_t size;              /* bytes of data */
    mpq_tfl_quant q;
    int is_variable;
    int has_sparsity;         /* sparse constant (the planner refuses it) */
} mpq_tfl_tensor;

/* The options of an operator, with the schema's defaults where the file leaves a field out.
 * Which fields mean something depends on opt_type (the BuiltinOptions union type). */
typedef struct mpq_tfl_opts {
    int padding, stride_w, stride_h, dilation_w, dilation_h; /* conv, depthwise, pools */
    int depth_multiplier;                                    /* depthwise */
    int filter_w, filter_h;                                  /* pools */
    int activation;                                          /* fused activation */
    int weights_format, keep_num_dims, asymmetric_inputs;    /* fully connected */
    int keep_dims;                                           /* reducers */
    float beta;                                              /* softmax */
    int begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask, offset; /* slice */
    int values_count, axis;                                  /* pack, concatenation */
    int out_type;                                            /* shape */
} mpq_tfl_opts;

typedef struct mpq_tfl_op {
    int code;              /* BuiltinOperator (max of builtin_code and the deprecated byte) */
    int version;
    char *custom;          /* custom operator name, or NULL */
    unsigned nin, nout;
    int32_t *in, *out;     /* tensor indices; -1 marks an absent optional input */
    int opt_type;          /* BuiltinOptions union type (0: none) */
    mpq_tfl_opts opt;
} mpq_tfl_op;

typedef struct mpq_tfl_model {
    char *file;            /* the name messages use */
    uint8_t *bytes;        /* the owned copy of the file */
    size_t len;
    uint32_t version;      /* schema version (3) */
    char *description;
    unsigned nsubgraphs, nbuffers, nopcodes;
    unsigned ntensors, nops, ninputs, noutputs;
    mpq_tfl_tensor *tensors;
    mpq_tfl_op *ops;
    int32_t *inputs, *outputs; /* tensor indices of the subgraph's inputs and outputs */
} mpq_tfl_model;

/* Reads a model from len bytes at buf (copied: the caller keeps nothing alive); `file` is
 * the name messages start with. Returns 0, MPQ_EFORMAT (not a flatbuffer, truncated, an
 * offset, vtable, vector or string outside the file, an index out of range, more than
 * MPQ_TFL_MAX_RANK dimensions) or MPQ_EVERSION (schema version other than 3), with
 * "file: table n: field f: what is wrong" in err; MPQ_ENOMEM. On failure *m is freed. */
int mpq_tfl_parse(const void *buf, size_t len, const char *file, mpq_tfl_model *m, char *err,
                  size_t errlen);
/* mpq_tfl_parse of the file at path; MPQ_EIO when it cannot be read (err names it). */
int mpq_tfl_load(const char *path, mpq_tfl_model *m, char *err, size_t errlen);
void mpq_tfl_free(mpq_tfl_model *m);
/* The message of an operator the graph runners refuse: "FILE: op OP (NAME): " and the
 * formatted reason into err; returns MPQ_EPARAM. */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
int mpq_tfl_op_fail(const mpq_tfl_model *m, unsigned op, char *err, size_t errlen, const char *fmt, ...);

/* Number of elements of a tensor's shape (1 for a scalar), or -1 when a dimension is
 * negative or the product passes 2^31 - 1. */
int64_t mpq_tfl_elements(const mpq_tfl_tensor *t);

#ifdef __cplusplus
}
#endif
#endif
