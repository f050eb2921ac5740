/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_hwmap.h: a mapping of one layer onto the accelerator's hardware layers, as the host
 * schedules it (docs/explore.md, "The space"): images per hardware layer (how many share one
 * weight load), output rows and output columns per band (each band a hardware layer that
 * reads only the input rows and columns its windows touch, plus explicit padding on its far
 * side the host fills with the zero point), whether the kernel taps are packed into channels
 * (a host im2col: a thin conv2d, mpq_hw_packed_shape; a depthwise layer per tile,
 * mpq_hw_dw_packed_shape), and the order of the tile loops.
 *
 * One geometry for everyone: explore/ costs the parts a mapping gives (mpq_explore.h),
 * stim/mpq_netmap.c builds their data and runs them (mpq-tb net --map, mpq-golden model map
 * --map). A layer is a stim/mpq_hwlayer.h layer used for its shape only (mpq_hw_layer_shape).
 * Functions return 0 or a negative MPQ_E* code with a message in err where they take one.
 */
#ifndef MPQ_HWMAP_H
#define MPQ_HWMAP_H

#include "arith/mpq.h"
#include "contract/mpq_hw.h"
#include "stim/mpq_hwlayer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The loop order of a mapping's hardware layers and tiles. No state survives a tile on this
 * accelerator (every tile loads its weights and streams its activations), so the two orders
 * cost the same; they differ only in which beats a host-side memory would see repeated. */
enum { MPQ_XP_CHANNELS_INNER = 0, MPQ_XP_CHANNELS_OUTER = 1 };

/* A mapping. img: images per hardware layer (1..batches; FC: 1); bh: output rows per band
 * (FC: rows of the matrix per part); bw: output columns per band (FC: 1); pack: 1 packs the
 * kernel taps into channels (conv2d without groups, in_c < KLanes, kh*kw > 1; depthwise,
 * kh*kw > 1: the bands then cut the packed layer, whose pixels are the output's); order:
 * MPQ_XP_CHANNELS_*. Bands are cut from the first row/column, the last one may be smaller. */
typedef struct mpq_xp_map {
    unsigned img, bh, bw, pack, order;
} mpq_xp_map;

/* The default mapping: every image, whole rows and columns, no packing, channels inner
 * (what the driver does when the layer fits), or the fewest column bands that fit, balanced
 * (img = rows = cols = 0 when not even one column fits). */
void mpq_xp_map_default(const mpq_hwcfg *hw, const mpq_hw_layer *l, mpq_xp_map *m);

/* Whether mapping m of layer l (shape only) runs on hw: every hardware layer passes the
 * shape rules (mpq_conv_check) and the tile rules (weights fit KMax, window rows fit the
 * ring, the configuration beat's field widths, 32-bit counts). A mapping whose bands have
 * more than 512 distinct shapes along one axis (a kernel far wider than its stride) is
 * refused too. Returns 0 or MPQ_EPARAM with the rule in err (err may be NULL). */
int mpq_xp_map_check(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_xp_map *m, char *err, size_t errlen);

/* The hardware layers (shape only: no arrays) of mapping m, in the mapping's order, with the
 * first output (image, row, column) each computes; at most max into parts (NULL to count).
 * The input a part reads: images b0.., rows iy0.. (in_h of them, the last padr_y of them
 * explicit padding the host fills with the zero point), columns ix0.. likewise; packed
 * layers read the host's im2col rows instead. Returns the number of parts. */
typedef struct mpq_xp_part {
    mpq_hw_layer L;
    unsigned b0, oy0, ox0;        /* the first output image, row, column of the part */
    unsigned iy0, ix0, padr_y, padr_x;
} mpq_xp_part;
unsigned mpq_xp_parts(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_xp_map *m, mpq_xp_part *parts,
                      unsigned max);

/* Calls fn on every distinct hardware-layer shape of mapping m of l (shape only) with how
 * many parts have it (parts equal in shape cost the same); stops at fn's first non-zero
 * return, which it returns; -1 for a mapping out of range (img, bh or bw 0 or too large, more
 * than 512 distinct band shapes along an axis). */
typedef int (*mpq_xp_part_fn)(void *ctx, const mpq_hw_layer *L, uint64_t mult);
int mpq_xp_part_shapes(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_xp_map *m, mpq_xp_part_fn fn, void *ctx);

/* The legal mappings of l on hw (Timeloop's mapspace for this accelerator): images per layer,
 * rows per band and columns per band each over the sizes that give a distinct number of
 * parts (ceil(n/size) for every count), packing where legal, both loop orders; every
 * combination that passes mpq_xp_map_check. At most max into out (NULL to count). Returns
 * how many there are. */
size_t mpq_xp_mappings(const mpq_hwcfg *hw, const mpq_hw_layer *l, mpq_xp_map *out, size_t max);
/* The same with flags: MPQ_XP_ALL_SIZES takes every size per axis (n, n-1, .., 1: uneven cuts
 * too, such as netmap's widest-first 83 + 83 + 34 columns), not only the balanced cut of each
 * part count. */
#define MPQ_XP_ALL_SIZES 1u
size_t mpq_xp_mappings_ex(const mpq_hwcfg *hw, const mpq_hw_layer *l, unsigned flags, mpq_xp_map *out, size_t max);

/* "img=1 rows=7 cols=14 pack=0 order=inner", for reports; mpq_xp_map_parse reads it back. */
const char *mpq_xp_map_str(const mpq_xp_map *m, char *buf, size_t len);

/* A mapping as text: key=value fields separated by spaces or '/', any order, each at most
 * once: img=N, rows=N, cols=N (0 or absent: the whole axis, every image), pack=0|1 (absent:
 * 0), order=inner|outer (absent: inner); mpq_xp_map_str's form, or the compact
 * "img=1/rows=0/cols=4/pack=0/order=inner". The text ends at its end or at ',' or ';' (not
 * part of it). Zeros stay zeros in *m: mpq_xp_map_whole turns them into the layer's sizes.
 * Returns 0, or MPQ_EPARAM with err naming the field and what is wrong. */
int mpq_xp_map_parse(const char *text, mpq_xp_map *m, char *err, size_t errlen);
/* m with img, bh, bw 0 replaced by l's whole axis (every image; all output rows, FC: all rows
 * of the matrix; all output columns, FC: 1). */
void mpq_xp_map_whole(const mpq_hw_layer *l, mpq_xp_map *m);

#ifdef __cplusplus
}
#endif
#endif
