/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_vec.h: vector files, the cycle-exact stimulus and expected outputs of one run
 * (vectors/FORMAT.md is the format, version 3; golden/stim/mpq_vec.c implements it). Cycles are
 * stored in checksummed blocks of up to 64 KiB: the reader verifies a whole block before it
 * returns any cycle of it, so a damaged file never hands out a damaged cycle. Streamed with
 * constant memory; the writer is atomic (temporary file + rename); the reader refuses empty,
 * truncated, damaged, foreign-version and foreign-configuration files, and format version 1
 * files with the command that regenerates them.
 *
 * Functions return 0 (the reader's _next: 1 per cycle, 0 at the end) or a negative MPQ_E*
 * code (mpq.h) with a message in err or in the object (mpq_vec_reader_error()).
 */
#ifndef MPQ_VEC_H
#define MPQ_VEC_H

#include "contract/mpq_hw.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MPQ_VEC_VERSION 3u
/* Largest block payload (uncompressed bytes of whole cycle records). */
#define MPQ_VEC_BLOCK_MAX 65536u
/* Layer kinds (header field `kind`) and the most shape values a header holds. */
#define MPQ_VEC_KIND_FC 0u        /* fully connected: shape M, K, N */
#define MPQ_VEC_KIND_CONV2D 1u    /* conv2d: the 16 values of MPQ_VEC_CONV_SHAPE */
#define MPQ_VEC_KIND_DEPTHWISE 2u /* depthwise: the same 16 values, groups 1 */
#define MPQ_VEC_SHAPE_MAX 16u
/* A convolution's shape values, in this order: batches, in_h, in_w, in_c, out_c, out_h,
 * out_w, kh, kw, sy, sx, dy, dx, py, px, groups. */
#define MPQ_VEC_CONV_SHAPE 16u

/* ---- Vector files (vectors/FORMAT.md) ---- */
typedef struct mpq_vec_header {
    uint32_t version;        /* MPQ_VEC_VERSION */
    mpq_hwcfg hw;            /* configuration fingerprint */
    uint64_t seed;           /* layer seed */
    uint64_t timing_seed;
    uint32_t kind;           /* MPQ_VEC_KIND_* */
    uint32_t nshape;         /* shape values in shape[] */
    uint32_t shape[MPQ_VEC_SHAPE_MAX];
    uint32_t m, k, n;        /* kind FC: shape[0..2]; convolutions: output pixels, reduction
                                depth and output channels (filled by the reader) */
    uint32_t acc_sat;
    char generator[64];      /* e.g. "mpq-golden 0.1" */
    char source[256];        /* "random:<profile>" or the case file's name */
    char command[512];       /* the command line that made the file */
} mpq_vec_header;

struct mpq_hw_layer;
/* Sets h's kind and shape (and m, k, n) to layer l's. */
void mpq_vec_header_set_layer(mpq_vec_header *h, const struct mpq_hw_layer *l);
/* The convolution shape of a header of kind CONV2D or DEPTHWISE (returns 1), or 0 for kind FC
 * (s untouched). */
int mpq_vec_header_conv_shape(const mpq_vec_header *h, struct mpq_conv_shape *s);

typedef struct mpq_vec_writer mpq_vec_writer;
/* Writes to path.tmp, renamed to path by close. For kind FC the shape written is h->m, h->k,
 * h->n (nshape and shape[] are ignored), so callers that fill only m, k, n need nothing
 * else; other kinds write nshape values of shape[]. Returns 0, MPQ_EPARAM (a configuration,
 * kind or shape a reader would refuse: err says which), MPQ_EIO (cannot create: err names
 * the file) or MPQ_ENOMEM. */
int mpq_vec_writer_open(const char *path, const mpq_vec_header *h, mpq_vec_writer **out,
                        char *err, size_t errlen);
/* One cycle. Returns 0 or MPQ_EIO (a write error; abort the writer). */
int mpq_vec_writer_put(mpq_vec_writer *w, const mpq_port_in *in, const mpq_port_out *exp);
/* Compressed bytes written to the temporary file so far (for progress reports). */
uint64_t mpq_vec_writer_bytes(const mpq_vec_writer *w);
/* The temporary file's path ("path.tmp"), valid until close or abort. A program that must
 * remove it from a signal handler copies it beforehand: unlink() of a copy is
 * async-signal-safe, a call into the writer is not. */
const char *mpq_vec_writer_tmp_path(const mpq_vec_writer *w);
/* Writes the last block and the end record, renames path.tmp to path and frees w. Returns 0
 * or MPQ_EIO (err says what failed; the temporary file is removed). */
int mpq_vec_writer_close(mpq_vec_writer *w, char *err, size_t errlen);
/* Frees w and removes the temporary file; NULL is fine. */
void mpq_vec_writer_abort(mpq_vec_writer *w);

/* An upper bound on the size of a file of `cycles` cycles in which the streams hand over
 * cfg, wgt, act beats and out output rows (each data bus changes at most once per beat, and
 * the overflow flags at most Lanes + 1 times per configuration beat): the records
 * uncompressed, plus block frames, header, end record and the worst case of deflate's
 * expansion. Files of more than 2,000 cycles measured 0.15 to 0.96 of it, median 0.71
 * (vectors/FORMAT.md, "Size"): the bound is what gen's limit is checked against. */
uint64_t mpq_vec_size_bound(const mpq_hwcfg *hw, uint64_t cycles, uint64_t cfg, uint64_t wgt,
                            uint64_t act, uint64_t out);

typedef struct mpq_vec_reader mpq_vec_reader;
/* Opens and reads the header. Returns 0, or with err naming the file and what is wrong:
 * MPQ_EIO (cannot open or read), MPQ_EFORMAT (not a vector file, malformed header, a layer
 * kind this reader does not read), MPQ_ETRUNC, MPQ_ECORRUPT (gzip header or header checksum:
 * damaged), MPQ_EVERSION (another format version: versions 1 and 2 with the command that
 * regenerates the file; or more configuration parameters than this reader knows), MPQ_ENOMEM. */
int mpq_vec_reader_open(const char *path, mpq_vec_reader **out, char *err, size_t errlen);
/* The header, m, k, n filled for every kind. Owned by r. */
const mpq_vec_header *mpq_vec_reader_header(const mpq_vec_reader *r);
/* Returns 1 with the next cycle, 0 at the verified end record, negative on error (message
 * in mpq_vec_reader_error, naming the file and the block: "F: block 3 (from cycle 2048):
 * checksum mismatch: the file is damaged"). Every cycle returned comes from a block whose
 * checksum was verified before its first cycle was returned. Data buses hold their value
 * between records. After an error every call returns the same error. */
int mpq_vec_reader_next(mpq_vec_reader *r, mpq_port_in *in, mpq_port_out *exp);
/* Why _next failed ("" before a failure). */
const char *mpq_vec_reader_error(const mpq_vec_reader *r);
/* Cycles returned so far. */
uint64_t mpq_vec_reader_cycle(const mpq_vec_reader *r);
/* Blocks verified so far. */
uint64_t mpq_vec_reader_blocks(const mpq_vec_reader *r);
/* Closes and frees r; NULL is fine. */
void mpq_vec_reader_close(mpq_vec_reader *r);

#ifdef __cplusplus
}
#endif
#endif
