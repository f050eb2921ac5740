/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_desc.h: a DUT description, the one file that tells mpq how to drive an accelerator's top
 * module (docs/dut.md is the manual of the format):
 *
 *   - how to build it: its top module, sources, include folders, Verilator waivers, the
 *     parameters the build may set (-G), and a testbench wrapper per build kind;
 *   - its clock and reset (name, polarity, cycles at the start);
 *   - its streams (valid / ready / data / last / user ports, or AXI4-Stream names from a
 *     prefix) and its other ports (status flags, constants, tied inputs);
 *   - how a layer's tensors become beats on each stream (element width, elements per beat,
 *     order: NHWC, im2col, weights OHWI, per-channel parameters, configuration words), or that
 *     a codec of the golden library does it (mpq's own accelerator: `codec mpq`);
 *   - what it computes: accumulator, requantization, the layer kinds and limits it runs.
 *
 * From it `mpq-golden dut shim` writes the C++ shim over the Verilated model (no hand-written
 * glue per design) and the transaction-level testbench drives the streams. A description is
 * checked when it is read (statements, names, streams, beat layouts against the tensors they
 * carry) and against the Verilated model before anything is simulated (every port there, with
 * its width and direction; every input of the model driven): each refusal names the file, the
 * line and the port.
 *
 * Everything here returns 0 or a negative MPQ_* code with "file:line: what is wrong" in err;
 * nothing prints.
 */
#ifndef MPQ_DESC_H
#define MPQ_DESC_H

#include <stddef.h>
#include <stdint.h>

#include "arith/mpq.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The kinds of build of a model (tb/build-model.sh): plain, white-box (debug ports), traced
 * (FST, a testbench wrapper may add inputs), coverage, gate-level. */
typedef enum mpq_build {
    MPQ_BUILD_PLAIN = 0, MPQ_BUILD_WB, MPQ_BUILD_TRACE, MPQ_BUILD_COV, MPQ_BUILD_GLS, MPQ_BUILD_COUNT
} mpq_build;
#define MPQ_BUILDS_ALL ((1u << MPQ_BUILD_COUNT) - 1u)
/* "plain", "wb", "trace", "cov", "gls"; "?" out of range. */
const char *mpq_build_name(int b);
/* Returns 0 with *b, or MPQ_EPARAM. */
int mpq_build_parse(const char *s, int *b);

typedef enum mpq_desc_role {
    MPQ_DR_CLOCK = 0, /* the clock: the DUT works on its rising edge */
    MPQ_DR_RESET,     /* the reset (polarity: mpq_desc.reset_low) */
    MPQ_DR_VALID,     /* a stream's */
    MPQ_DR_READY,
    MPQ_DR_DATA,
    MPQ_DR_LAST,
    MPQ_DR_USER,
    MPQ_DR_FLAG,      /* a status output: compared every cycle in cycle-exact mode, not in
                         transaction mode */
    MPQ_DR_CONST,     /* a constant output (read once) */
    MPQ_DR_TIE        /* an input held at a constant value (mpq_desc_port.value) */
} mpq_desc_role;

#define MPQ_DESC_NAME 64
#define MPQ_DESC_MAX_PORTS 256
#define MPQ_DESC_MAX_STREAMS 16
#define MPQ_DESC_MAX_ITEMS 64
#define MPQ_DESC_MAX_VARS 64
#define MPQ_DESC_MAX_FILES 128
#define MPQ_DESC_MAX_FIELDS 64
#define MPQ_DESC_MAX_LIMITS 32

typedef struct mpq_desc_port {
    char name[MPQ_DESC_NAME];
    int out;            /* 1: an output of the DUT; 0: an input */
    mpq_desc_role role;
    int stream;         /* its stream (index into streams), -1 for none */
    unsigned width;     /* bits, evaluated */
    int64_t value;      /* MPQ_DR_TIE: the value driven */
    unsigned builds;    /* bit b (MPQ_BUILD_*): the builds whose model has it */
    unsigned line;
} mpq_desc_port;

/* The tensors of a layer (int8 convolution or fully-connected layer, mpq.h's layouts). */
typedef enum mpq_tensor {
    MPQ_T_X = 0, /* input activations, NHWC (FC: [m][k], the 1x1 convolution of m pixels) */
    MPQ_T_W,     /* weights: conv2d OHWI, depthwise [kh][kw][out_c], FC [n][k] */
    MPQ_T_BIAS,  /* [out_c] */
    MPQ_T_MULT,  /* [out_c]: the requantization multipliers (Q31) */
    MPQ_T_SHIFT, /* [out_c]: TFLite shifts, left positive */
    MPQ_T_Y,     /* output, NHWC (FC: [m][n]) */
    MPQ_T_COUNT
} mpq_tensor;
/* "x", "w", "bias", "mult", "shift", "y". */
const char *mpq_tensor_name(int t);

/* The order of a tensor's elements on a stream (docs/dut.md, "Beat layouts"): the elements
 * form rows (the row named for each order), rows one after the other. */
typedef enum mpq_beat_order {
    MPQ_ORD_NHWC = 0,   /* x or y: a row per pixel (b, h, w), its channels in order */
    MPQ_ORD_IM2COL,     /* x: a row per output pixel (b, oy, ox): its window, taps (ky, kx)
                           in order, each tap's in_c channels; a tap in the padding carries
                           the input zero point (-in_offset) */
    MPQ_ORD_OHWI,       /* w: a row per output channel: (ky, kx, c) over its group's channels */
    MPQ_ORD_OHWI_DENSE, /* w: a row per output channel: (ky, kx, c) over all in_c channels,
                           zero outside the channel's group (depthwise and grouped layers on
                           an array that runs only dense ones) */
    MPQ_ORD_CHANNEL,    /* bias, mult, shift: a row per output channel, the listed tensors
                           interleaved */
    MPQ_ORD_FIELDS,     /* configuration words: one row, one element per field */
    MPQ_ORD_COUNT
} mpq_beat_order;
/* "nhwc", "im2col", "ohwi", "ohwi-dense", "channel", "fields". */
const char *mpq_order_name(int o);

/* Where a stream's `last` is high (docs/dut.md). */
typedef enum mpq_last { MPQ_LAST_ITEM = 0, MPQ_LAST_ROW, MPQ_LAST_JOB, MPQ_LAST_NONE } mpq_last;

/* One `beats` line: a part of a stream's beats per layer, after the previous line's. */
typedef struct mpq_desc_item {
    int stream;
    mpq_beat_order order;
    unsigned ntensors;           /* tensors interleaved in a row (CHANNEL); 1 otherwise; 0 FIELDS */
    mpq_tensor tensor[MPQ_T_COUNT];
    unsigned nfields;            /* FIELDS: the expressions, over the layer's fields */
    const char *field[MPQ_DESC_MAX_FIELDS];
    unsigned bits;               /* element width, two's complement */
    unsigned per_beat;           /* elements per beat: element j at bits [j*bits +: bits] */
    int align_row;               /* 1: each row starts a beat; 0: rows run on in the beats */
    mpq_last last;
    int pad_random;              /* input streams: unused element slots carry random bits (1)
                                    or zero (0); output streams: they are compared (0: must be
                                    zero) or not (1) */
    unsigned line;
} mpq_desc_item;

typedef struct mpq_desc_stream {
    char name[MPQ_DESC_NAME];
    int out;                     /* 1: the DUT sends (output stream) */
    int valid, ready, data, last, user; /* port indices, -1 for none */
    unsigned width;              /* of data */
    unsigned first_item, nitems; /* its `beats` lines, in items[] */
    unsigned line;
} mpq_desc_stream;

typedef struct mpq_desc_var {
    char name[MPQ_DESC_NAME];
    int64_t value;
    const char *expr;            /* let: its expression */
    int overridden;              /* param: set by the build (mpq_desc_load's params) */
    unsigned line;
} mpq_desc_var;

typedef struct mpq_desc_limit {
    const char *expr;            /* over the layer's fields */
    int64_t max;
    unsigned line;
} mpq_desc_limit;

typedef enum mpq_codec { MPQ_CODEC_LAYOUT = 0, MPQ_CODEC_MPQ } mpq_codec;

typedef struct mpq_desc {
    char path[1024];             /* as given */
    char dir[1024];              /* its folder ("." when none): files are relative to it */
    char top[MPQ_DESC_NAME];
    const char *sources[MPQ_DESC_MAX_FILES];  /* resolved against dir, compile order */
    unsigned nsources;
    const char *includes[MPQ_DESC_MAX_FILES];
    unsigned nincludes;
    const char *waivers[MPQ_DESC_MAX_FILES];
    unsigned nwaivers;
    const char *wrapper_top[MPQ_BUILD_COUNT];  /* a testbench top for that build, or NULL */
    const char *wrapper_file[MPQ_BUILD_COUNT];
    mpq_desc_var params[MPQ_DESC_MAX_VARS];
    unsigned nparams;
    mpq_desc_var lets[MPQ_DESC_MAX_VARS];
    unsigned nlets;
    int clock, reset;            /* port indices */
    int reset_low;               /* 1: active low */
    unsigned reset_cycles;       /* held at the start of a run (>= 1) */
    mpq_desc_port ports[MPQ_DESC_MAX_PORTS];
    unsigned nports;
    mpq_desc_stream streams[MPQ_DESC_MAX_STREAMS];
    unsigned nstreams;
    mpq_desc_item items[MPQ_DESC_MAX_ITEMS];
    unsigned nitems;
    mpq_codec codec;
    const char *bind_in, *bind_out, *bind_header; /* `bind`: C structs of the ports, or NULL */
    /* `arith`: what the DUT computes */
    unsigned in_bits, w_bits, out_bits, acc_bits;
    int acc_sat;
    mpq_rq_kind requant;
    unsigned kinds;              /* bit k (mpq_layer_kind): the layer kinds it runs */
    mpq_desc_limit limits[MPQ_DESC_MAX_LIMITS];
    unsigned nlimits;
    unsigned dut_line;           /* the `dut` line, for messages about the whole DUT */
    char *text;                  /* owned: the tokens point into it */
    char **owned;                /* owned strings (resolved paths, source lists) */
    size_t nowned, owned_cap;
} mpq_desc;

/* Parses a description. text: its contents (len bytes); path: its name for messages and the
 * folder its files are relative to. params: "Name=Value" overrides of `param` lines (the
 * build's -G values), nparams of them (an unknown name is an error). Returns 0 with *out (free
 * it with mpq_desc_free), MPQ_EFORMAT with "path:line: what is wrong" (naming the port where
 * one is at fault), MPQ_EPARAM for a bad override, MPQ_ENOMEM. */
int mpq_desc_parse(const char *text, size_t len, const char *path, const char *const *params,
                   unsigned nparams, mpq_desc **out, char *err, size_t errlen);
/* mpq_desc_parse of a file; MPQ_EIO when it cannot be read. */
int mpq_desc_load(const char *path, const char *const *params, unsigned nparams, mpq_desc **out,
                  char *err, size_t errlen);
void mpq_desc_free(mpq_desc *d);

/* The beat layouts: codec layout (every tensor carried once, on a stream of its direction, in
 * an order it takes, its elements wide enough and fitting the data port; the default element
 * widths and counts filled in) or codec mpq's four streams. Part of mpq_desc_parse. Returns 0
 * or MPQ_EFORMAT with "desc:line: ..." in err. */
int mpq_desc_check_layout(mpq_desc *d, char *err, size_t errlen);

/* The index of port `name`, or -1. */
int mpq_desc_port_find(const mpq_desc *d, const char *name);
/* The index of stream `name`, or -1. */
int mpq_desc_stream_find(const mpq_desc *d, const char *name);
/* The value of a param or let `name`: 0 with *v, or -1. */
int mpq_desc_value(const mpq_desc *d, const char *name, size_t len, int64_t *v);

/* ---- The Verilated model's ports ----------------------------------------------------------- */
typedef struct mpq_model_port {
    char name[MPQ_DESC_NAME];
    int out;
    unsigned width;
} mpq_model_port;
/* The top ports a Verilator header declares (Vprefix.h: `VL_IN8(&clk_i,0,0);`,
 * `VL_OUTW(&data_o,127,0,4);`), in declaration order. Returns 0 with *ports (free()) and *n,
 * MPQ_EFORMAT (a port line not understood, no ports: "path:line: ..."), MPQ_EIO, MPQ_ENOMEM. */
int mpq_model_ports_load(const char *path, mpq_model_port **ports, size_t *n, char *err, size_t errlen);
int mpq_model_ports_parse(const char *text, const char *path, mpq_model_port **ports, size_t *n,
                          char *err, size_t errlen);

/* The description against the model of build b (its ports from mpq_model_ports_*; model_path
 * names it in messages): every port the description gives build b must be in the model with
 * the same direction and width, and (unless the build has a wrapper, whose own inputs the
 * testbench drives by name) every input of the model must be described. Returns 0, or
 * MPQ_EFORMAT with "desc:line: port NAME: ..." in err. */
int mpq_desc_check_model(const mpq_desc *d, int b, const mpq_model_port *mp, size_t n,
                         const char *model_path, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
