/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_beats.h: one layer's beats on every stream of a DUT description: the input beats to
 * drive and the expected output beats, each with the bits that are compared, and for a
 * mismatch the tensor element a bit belongs to.
 *
 * Codec layout (mpq_desc.h): the description's `beats` lines place each tensor's elements
 * (element j of a beat at bits [j*bits +: bits], two's complement) row by row. Codec mpq:
 * the beats of mpq's own contract (docs/timing.md: a configuration beat, weight and
 * activation slices and output rows per tile of Lanes channels), made by stim/mpq_hwlayer.h.
 */
#ifndef MPQ_BEATS_H
#define MPQ_BEATS_H

#include <stddef.h>
#include <stdint.h>

#include "dut/mpq_desc.h"
#include "dut/mpq_job.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mpq_beats mpq_beats;

/* The beats of job j (which must outlive them) on the streams of d. hw: the configuration of
 * mpq's accelerator (codec mpq only; NULL otherwise). seed: the random bits of unused element
 * slots (pad=any) and of the bits mpq's hardware masks. Returns 0; MPQ_EPARAM with
 * "desc:line: field `kh*kw` = 300 does not fit 8 bits" when the layer does not fit the layout;
 * MPQ_ENOMEM. */
int mpq_beats_open(const mpq_desc *d, const mpq_hwcfg *hw, const mpq_job *j, uint64_t seed, mpq_beats **out,
                   char *err, size_t errlen);
void mpq_beats_free(mpq_beats *b);
/* The beats of stream s. */
uint64_t mpq_beats_count(const mpq_beats *b, unsigned s);
/* Beat i of stream s: data (MPQ_WORDS(width) words, bits above the width zero) and its last
 * bit; for an output stream, care has a 1 for every bit that is compared (NULL allowed).
 * An input stream's beats must be asked for in order (0, 1, ...: masked bits are drawn in
 * order); an output stream's in any order. */
void mpq_beats_get(mpq_beats *b, unsigned s, uint64_t i, uint32_t *data, uint32_t *care, int *last);
/* The element of output stream s's beat i that holds bit `bit`: its name in the layer's
 * coordinates ("y[b=0][oy=3][ox=1][c=5]", FC "y[m=2][c=7]"), its lsb in the beat and its
 * width. Returns 0, or -1 when the bit is in no element (padding). */
int mpq_beats_element(const mpq_beats *b, unsigned s, uint64_t i, unsigned bit, char *name, size_t len,
                      unsigned *lsb, unsigned *bits);

#ifdef __cplusplus
}
#endif
#endif
