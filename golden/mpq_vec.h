/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_vec.h: vector files, the cycle-exact stimulus and expected outputs of one run
 * (vectors/FORMAT.md is the format; golden/mpq_vec.c implements it). Streamed with constant
 * memory; the writer is atomic (temporary file + rename); the reader refuses empty,
 * truncated, corrupted, foreign-version and foreign-configuration files.
 *
 * Functions return 0 (the reader's _next: 1 per cycle, 0 at the end) or a negative MPQ_E*
 * code (mpq.h) with a message in err or in the object (mpq_vec_reader_error()).
 */
#ifndef MPQ_VEC_H
#define MPQ_VEC_H

#include "mpq_hw.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MPQ_VEC_VERSION 1u

/* ---- Vector files (vectors/FORMAT.md) ---- */
typedef struct mpq_vec_header {
    uint32_t version;        /* MPQ_VEC_VERSION */
    mpq_hwcfg hw;            /* configuration fingerprint */
    uint64_t seed;           /* layer seed */
    uint64_t timing_seed;
    uint32_t m, k, n;
    uint32_t acc_sat;
    char generator[64];      /* e.g. "mpq-golden 0.1" */
    char source[256];        /* "random:<profile>" or the case file's name */
    char command[512];       /* the command line that made the file */
} mpq_vec_header;

typedef struct mpq_vec_writer mpq_vec_writer;
/* Writes to path.tmp, renamed to path by close. Returns 0, MPQ_EIO (cannot create: err
 * names the file) or MPQ_ENOMEM. */
int mpq_vec_writer_open(const char *path, const mpq_vec_header *h, mpq_vec_writer **out,
                        char *err, size_t errlen);
/* One cycle. Returns 0 or MPQ_EIO (a write error; abort the writer). */
int mpq_vec_writer_put(mpq_vec_writer *w, const mpq_port_in *in, const mpq_port_out *exp);
/* Writes the end record, renames path.tmp to path and frees w. Returns 0 or MPQ_EIO (err
 * says what failed; the temporary file is removed). */
int mpq_vec_writer_close(mpq_vec_writer *w, char *err, size_t errlen);
/* Frees w and removes the temporary file; NULL is fine. */
void mpq_vec_writer_abort(mpq_vec_writer *w);

typedef struct mpq_vec_reader mpq_vec_reader;
/* Opens and reads the header. Returns 0, or MPQ_EIO, MPQ_EFORMAT, MPQ_ETRUNC, MPQ_ECORRUPT,
 * MPQ_EVERSION, MPQ_ENOMEM with err naming the file and what is wrong. */
int mpq_vec_reader_open(const char *path, mpq_vec_reader **out, char *err, size_t errlen);
const mpq_vec_header *mpq_vec_reader_header(const mpq_vec_reader *r);
/* Returns 1 with the next cycle, 0 at the verified end record, negative on error
 * (message in mpq_vec_reader_error). Data buses hold their value between records. */
int mpq_vec_reader_next(mpq_vec_reader *r, mpq_port_in *in, mpq_port_out *exp);
/* Why _next failed, naming the file and the cycle. */
const char *mpq_vec_reader_error(const mpq_vec_reader *r);
/* Cycles returned so far. */
uint64_t mpq_vec_reader_cycle(const mpq_vec_reader *r);
/* Closes and frees r; NULL is fine. */
void mpq_vec_reader_close(mpq_vec_reader *r);

#ifdef __cplusplus
}
#endif
#endif
