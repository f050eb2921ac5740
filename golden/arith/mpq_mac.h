/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_mac.h (internal): the multiply-accumulate engine shared by the fully-connected layer
 * (mpq_fc.c) and the convolutions (mpq_conv.c). A layer is planned once (weights checked,
 * bounded, folded and laid out for the fastest exact kernel), then each row of activations
 * (an FC row, or a convolution's im2col patch) is reduced against any range of channels
 * along a declared order of fits.
 *
 * Hardware counterpart: one channel's accumulator in rtl/mpq_lane.sv; the fit points are
 * the `cuts` a caller passes (the accelerator fits once per KLanes-wide slice).
 */
#ifndef MPQ_MAC_H
#define MPQ_MAC_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "arith/mpq.h"
#include "arith/mpq_fit.h"

/* Sparse entries of a layer as per-channel lists sorted by reduction index. */
typedef struct mpq_mac_entries {
    uint32_t *ptr; /* [n+1] */
    uint32_t *k;
    int64_t *v;
} mpq_mac_entries;

/* Channels the tracking kernel reduces at once (two 4-lane vectors). */
#define MPQ_MAC_LANES 8

typedef enum mpq_mac_kernel {
    MPQ_MAC_K16 = 0, /* 16-bit operands, exact 32-bit sums over blocks of `blk` terms */
    MPQ_MAC_K64,     /* 32-bit operands, 64-bit sums (bounds prove no overflow) */
    MPQ_MAC_K128     /* anything else: 128-bit sums */
} mpq_mac_kernel;

typedef struct mpq_mac_plan {
    unsigned k, n;
    mpq_mac_kernel kernel;
    unsigned blk;            /* K16: terms per exact 32-bit block */
    unsigned acc_bits;
    int sat, track;
    int64_t xmax;            /* the activations' bound the plan was made for */
    int64_t wmax16;          /* K16: largest |w16| */
    int need_x64;            /* rows need their 64-bit values (sparse entries, K64, K128) */
    int16_t *w16;            /* K16: [n][k], w + w_offset, or alpha*t + hp (+ w) when folded */
    int64_t *wq;             /* K128: [n][k] w + w_offset (NULL without w) */
    int32_t *wq32;           /* K64: the same in 32 bits */
    const int8_t *t;         /* [n][k] ternary weights not folded, or NULL */
    int64_t *alpha;          /* [n] */
    int64_t *bias;           /* [n] (zeros without bias) */
    mpq_mac_entries e;       /* sparse weights not folded */
    mpq_i128 *chan_bound;    /* [n]: sum over k of the largest |weight| a unit activation meets */
    int16_t *wi;             /* tracking kernel: w16 interleaved [n/LANES][k/2][LANES][2], or NULL */
    unsigned kpairs;         /* (k + 1) / 2 */
} mpq_mac_plan;

/* Plans the weights of l (n, k, w, w_offset, t, alpha, hp in any form, bias, acc_bits,
 * acc_mode; m, x, in_offset, order and group are not read) for activations bounded by
 * |x| <= xmax. track: overflow reports will be asked for. Returns 0, MPQ_EPARAM (err says
 * what), MPQ_ENOMEM. The plan owns its arrays: mpq_mac_plan_free. */
int mpq_mac_plan_init(mpq_mac_plan *p, const mpq_fc_layer *l, int64_t xmax, int track,
                      char *err, size_t errlen);
/* Lays out the weights for mpq_mac_chans' tracking kernel (wi) where it applies (a tracked or
 * saturating K16 plan with every weight in w16, acc_bits <= 30); without it mpq_mac_chans
 * gives the same results term by term. Plans that run only through the tile kernels or
 * single outputs (mpq_mac_chan, mpq_mac_prefix) skip it. Returns 0 or MPQ_ENOMEM. */
int mpq_mac_plan_lanes(mpq_mac_plan *p);
void mpq_mac_plan_free(mpq_mac_plan *p);
/* Drops the tracking kernel's layout (track = 0): for a plan whose outputs are only ever
 * followed one at a time (mpq_mac_chan, mpq_mac_prefix), which do not read it. */
void mpq_mac_plan_untrack(mpq_mac_plan *p);

/* One row of activations: the caller fills it with mpq_mac_row_put (x + in_offset, exact,
 * or zeros for terms that are left out), in the form the plan's kernel reads, then
 * mpq_mac_row_load derives the bound and the operand pairs. */
typedef struct mpq_mac_row {
    unsigned k;
    int64_t *x;
    int32_t *x32;
    int16_t *x16;
    int64_t max;             /* max |x[i]| */
    int64_t *psum;           /* [k] scratch: per-segment sums */
    int32_t *xb;             /* tracking kernel: operand pairs, each repeated 4 times */
} mpq_mac_row;
int mpq_mac_row_init(mpq_mac_row *r, unsigned k); /* 0 or MPQ_ENOMEM */
/* Terms [at, at + count) of the row: src[i] + offset (|.| <= the plan's xmax), or zeros when
 * src is NULL. */
void mpq_mac_row_put(const mpq_mac_plan *p, mpq_mac_row *r, unsigned at, const int32_t *src,
                     unsigned count, int32_t offset);
void mpq_mac_row_load(const mpq_mac_plan *p, mpq_mac_row *r);
void mpq_mac_row_free(mpq_mac_row *r);

/* Result of one (row, channel): the fitted accumulator, MPQ_OVF_FINAL / MPQ_OVF_ANY flags
 * (only computed when the plan tracks), and the reduction index of the last term of the
 * first segment whose fit overflowed (-1 when none, or when it was fit(bias): then
 * MPQ_OVF_ANY is set with first == -1). */
typedef struct mpq_mac_out {
    int64_t acc;
    int32_t first;
    uint8_t flags;
} mpq_mac_out;

/* Channel c of row r: starts from fit(bias[c]) and fits after each segment
 * [cuts[j-1], cuts[j]) (cuts strictly increasing, the last one k; ncuts >= 1). When the
 * bounds prove that no fit can change a value, or the accumulator wraps and nothing is
 * tracked, the whole row is one segment (same result). */
mpq_mac_out mpq_mac_chan(const mpq_mac_plan *p, mpq_mac_row *r, unsigned c,
                         const unsigned *cuts, unsigned ncuts);

/* Channels [c0, c1) of row r, out[c - c0] as mpq_mac_chan gives them. When fits must be
 * checked (tracking or saturation and the bounds do not rule overflow out), MPQ_MAC_LANES
 * channels are reduced at once along the segments (16-bit operand pairs into 32-bit lanes,
 * a vector range check per segment), so the checks cost a compare per segment, not a
 * reduction. SSE2 when the compiler targets it, else (or with -DMPQ_NO_SIMD) plain C. */
void mpq_mac_chans(const mpq_mac_plan *p, mpq_mac_row *r, unsigned c0, unsigned c1,
                   const unsigned *cuts, unsigned ncuts, mpq_mac_out *out);

/* The exact prefix sums of channel c of row r, one term at a time in the row's order (every
 * term a fit point), starting from the bias: the OR of their magnitudes (mpq_mac_mag: its bit
 * length is the narrowest signed width minus one holding every prefix), the final sum, and
 * the index of the first term whose prefix leaves [lo, hi] (-1: the bias alone; -2: none).
 * Plain C over the plan's exact weights: the analysis's reference, taken for the few outputs
 * the tile kernels' bounds leave undecided. */
typedef struct mpq_mac_prefix_out {
    uint64_t mag_or;
    int64_t final;
    long exit;
} mpq_mac_prefix_out;
void mpq_mac_prefix(const mpq_mac_plan *p, mpq_mac_row *r, unsigned c, int64_t lo, int64_t hi,
                    mpq_mac_prefix_out *o);
/* mpq_mac_prefix from the row's 16-bit operands x16[0..k) alone (|x16| <= xmax), eight terms
 * per vector: for a dense 16-bit plan whose channel c keeps every prefix within int32
 * (|bias| + xmax * chan_bound), on a CPU with AVX2. Returns 0 when it did, 1 when it does not
 * apply (o untouched: take mpq_mac_prefix). */
int mpq_mac_prefix16(const mpq_mac_plan *p, const int16_t *x16, int64_t xmax, unsigned c,
                     int64_t lo, int64_t hi, mpq_mac_prefix_out *o);

/* |v| for a width: v for v >= 0, -v-1 (~v) below: a signed `b`-bit register holds v exactly
 * when mpq_mac_mag(v) < 2^(b-1). */
static inline uint64_t mpq_mac_mag(int64_t v)
{
    return v < 0 ? ~(uint64_t)v : (uint64_t)v;
}

/* Narrowest signed width (1..64) whose range holds every value whose magnitude is in m. */
static inline unsigned mpq_mac_width(uint64_t m)
{
    unsigned b = 1;
    while (m) {
        b++;
        m >>= 1;
    }
    return b;
}

/* ---- the tile kernels (mpq_mac_tile.c) ----
 *
 * The same sums for a block of MPQ_MAC_LANES channels and several rows at once, in 16-bit
 * operands multiply-added in pairs into 32-bit lanes (SSE2 pmaddwd; plain C with
 * -DMPQ_NO_SIMD): lane (row i, channel c) adds, for each pair j, x[2j]*w[c][2j] +
 * x[2j+1]*w[c][2j+1]. A pair's sum is exact when 2*|x|*|w| < 2^31 (the plan's bound, checked
 * by mpq_mac_tiles_init); the additions wrap modulo 2^32. So a lane is the exact sum modulo
 * 2^32, whatever the order of the terms: what a wrapping accumulator of at most 32 bits
 * keeps, and the exact sum itself when the bounds keep every partial sum inside 32 bits.
 *
 * The checked kernels also watch the accumulator along the row's order. They run the sum
 * from the bias and, every `blk_pairs` pairs, note the exact prefix sum there (Q) and bound
 * the prefixes inside the block: with T the block's sum and A its sum of |x|*|w| (a second
 * multiply-add stream), every prefix inside lies in [Q - (A-T)/2, Q + (A+T)/2] (the sums of
 * the block's negative and positive terms). Per output they return the OR of the magnitudes
 * (mpq_mac_mag) of the exact prefixes (q: a lower bound of the width the output needs, and an
 * overflow at b bits is certain when q >= 2^(b-1)) and of the bounds (m: an upper bound; no
 * overflow at b bits is possible when m < 2^(b-1)). Exact in 32-bit lanes when every
 * channel's |bias| + xmax * chan_bound < 2^31 and a block's |x|*|w| sum stays below 2^30
 * (mpq_mac_tiles_init checks both). */

/* The weights of a layer in the tile kernels' layout: per group of `cpg` consecutive output
 * channels (the rows of a group share their operands), per block of MPQ_MAC_LANES channels,
 * the operand pairs interleaved: weight (channel c, term i) of block b at
 * [b][i/2][c % LANES][i % 2], zeros past the group's channels and past the depth. */
typedef struct mpq_mac_tiles {
    unsigned groups, cpg, nblk;  /* nblk: blocks per group */
    unsigned k, kpairs;          /* depth; pairs (k rounded up to even, halved) */
    int16_t *w;                  /* [groups][nblk][kpairs][LANES][2] */
    int16_t *aw;                 /* |w| in the same layout (checked kernels), or NULL */
    int16_t *fw;                 /* the same with the second weight of each pair 0 (checked
                                  * kernels' exact form), or NULL */
    int32_t *bias;               /* [groups][nblk][LANES], zeros past the channels */
    int32_t *zeros;              /* [LANES]: a zero init */
    int16_t *zrow;               /* [2*kpairs]: a zero row */
    unsigned blk_pairs;          /* checked kernels: pairs per checked block */
} mpq_mac_tiles;

/* Lays out the plan's weights (a K16 plan whose weights are all in w16: no ternary or sparse
 * part left unfolded) for `groups` groups of n/groups channels. checked: MPQ_TILES_PLAIN,
 * MPQ_TILES_CHECKED (also |w| and the block length of the checked kernels) or MPQ_TILES_ENDS
 * (mpq_mac_tiles_ends only: every lane exact, nothing more laid out). Returns 0; 1 when the
 * tile kernels do not apply (the plan's kernel, unfolded weights, a pair sum or, checked or
 * ends, a lane that could leave 32 bits); MPQ_ENOMEM. */
enum { MPQ_TILES_PLAIN = 0, MPQ_TILES_CHECKED = 1, MPQ_TILES_ENDS = 2 };
int mpq_mac_tiles_init(mpq_mac_tiles *t, const mpq_mac_plan *p, unsigned groups, int checked);
void mpq_mac_tiles_free(mpq_mac_tiles *t);
/* Lays out plain 16-bit weights for the wrapping kernels (mpq_mac_tiles_run): channel c's
 * term i is w[c*w_stride + i], n channels in `groups` groups of n/groups, depth k (>= 1).
 * The caller vouches that every pair sum of its rows is exact in 32 bits (2*|x|*|w| < 2^31).
 * No bias (init NULL reads zeros), no checked form. Returns 0, MPQ_EPARAM (n not a multiple
 * of groups), MPQ_ENOMEM. ABFP's tiles of mantissas (mpq_abfp.c) are laid out this way. */
int mpq_mac_tiles_from16(mpq_mac_tiles *t, const int16_t *w, size_t w_stride, unsigned n,
                         unsigned k, unsigned groups);

/* Rows i in [0, n) (operands rows0 + i*row_stride, 2*kpairs each) against every block of
 * group g: out[i*out_stride + c] = init[c] + sum of row i and channel g*cpg + c, modulo 2^32,
 * for c in [0, cpg); init is [groups*nblk*LANES] in the bias layout (t->bias, or t->zeros
 * read as all zeros: pass NULL). */
void mpq_mac_tiles_run(const mpq_mac_tiles *t, unsigned g, const int16_t *rows0,
                       size_t row_stride, unsigned n, const int32_t *init, int32_t *out,
                       size_t out_stride);
/* The checked form, from the bias, with blocks of blk pairs (1..t->blk_pairs): out as above
 * (the exact final sums), and per output the OR of magnitudes q (exact prefixes) and m
 * (bounds) in q_or and m_or, same indexing. nonneg: every operand is >= 0 (the activations'
 * range says so; |x| is then x). blk 0 is the exact form: the second stream multiplies the
 * first weight of each pair alone, giving the prefix inside the pair; every prefix is then
 * exact and m = q (m_or may then be NULL: not written). */
void mpq_mac_tiles_check(const mpq_mac_tiles *t, unsigned g, const int16_t *rows0,
                         size_t row_stride, unsigned n, unsigned blk, int nonneg, int32_t *out,
                         int32_t *q_or, int32_t *m_or, size_t out_stride);

/* The fit points' form (blk >= 1, tiles CHECKED or ENDS): out as mpq_mac_tiles_run from the
 * bias (the exact final sums), and q_or the OR of s + off, modulo 2^32, over s the bias and
 * the exact sums after every blk pairs and at the end: the fits of an accumulator that adds
 * aligned groups of 2*blk terms. With off = 2^(B-1), every one of them lies in the B-bit range
 * exactly when q_or < 2^B. The plain kernel's cost and one vector OR a block. */
void mpq_mac_tiles_ends(const mpq_mac_tiles *t, unsigned g, const int16_t *rows0,
                        size_t row_stride, unsigned n, unsigned blk, uint32_t off, int32_t *out,
                        uint32_t *q_or, size_t out_stride);

/* Depthwise form: one group, k = the window's taps. Pixel i's tap j of channel c reads
 * base[i][toff[j] + c] (channels `LANES`-aligned and padded with zeros up to nblk*LANES; an
 * odd window's last tap pairs with toff[k] = 0 and a zero weight). */
void mpq_mac_taps_run(const mpq_mac_tiles *t, const int16_t *const *base, const size_t *toff,
                      unsigned n, const int32_t *init, int32_t *out, size_t out_stride);
void mpq_mac_taps_check(const mpq_mac_tiles *t, const int16_t *const *base, const size_t *toff,
                        unsigned n, unsigned blk, int nonneg, int32_t *out, int32_t *q_or,
                        int32_t *m_or, size_t out_stride);

/* ---- the requantizer over a layer's accumulators (mpq_requant.c) ----
 *
 * mpq_requant_one for int32 accumulators laid out [pixels][channels], int8 results: each
 * accumulator first wrapped to `wrap_bits` (<= 32: a narrower wrapping accumulator), then
 * requantized with its channel's parameters, offset and clamped. The double and single
 * rounding kinds run 4 accumulators of one channel at a time (SSE2: a tile of 4 pixels x 8
 * channels transposed in registers), every other kind and the tails through
 * mpq_requant_one itself. */
typedef struct mpq_rq_i8 {
    mpq_requant rq;           /* the parameters (its arrays are the caller's) */
    int vec;                  /* the vector form applies (DOUBLE, or SINGLE without a left
                               * shift, whose results would need saturating to 32 bits) */
    unsigned wrap_bits;
} mpq_rq_i8;
/* Fills *q for n channels. Returns 0, or MPQ_EPARAM when rq's clamp is not within int8 or
 * wrap_bits is outside 1..32 (rq itself must have passed mpq_requant_check). */
int mpq_rq_i8_init(mpq_rq_i8 *q, const mpq_requant *rq, unsigned n, unsigned wrap_bits);
/* y[i*n + c] from acc[i*n + c], i in [0, npix), c in [0, n). */
void mpq_requant_i8(const mpq_rq_i8 *q, const int32_t *acc, size_t npix, unsigned n, int8_t *y);

/* Segment ends of the FC orders: SEQ (every term), GROUPED (every `group` terms).
 * Returns a malloc'ed array of *ncuts ends, NULL when out of memory. */
unsigned *mpq_mac_cuts_uniform(unsigned k, unsigned step, unsigned *ncuts);

/* Counts one output's overflow result (mpq_mac_out) into the totals and, when not NULL, the
 * per-output arrays at index i. Returns 1 when it overflowed and no earlier output did
 * (`seen` == 0): the caller then records where. The one overflow-note of the layers. */
int mpq_mac_note(size_t *n_final, size_t *n_any, uint8_t *flags, int32_t *first, size_t i,
                 mpq_mac_out o, int seen);

/* Returns the index of s in names[0..count-1], or -1. */
int mpq_name_find(const char *const *names, unsigned count, const char *s);

/* mpq_conv_check, and the kind is a pooling layer (pool != 0) or a convolution. Returns 0 or
 * MPQ_EPARAM (err says what). */
int mpq_conv_check_kind(const mpq_conv_shape *s, int pool, char *err, size_t errlen);

/* free() of every pointer listed: MPQ_FREE_ALL(a, b, c). */
static inline void mpq_free_each(void *const *ptrs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ptrs[i]);
}
#define MPQ_FREE_ALL(...)                                                                      \
    mpq_free_each((void *const[]){__VA_ARGS__},                                                \
                  sizeof((void *const[]){__VA_ARGS__}) / sizeof(void *))

/* Checks what every layer's accumulation needs: activations, and a group >= 1 for the
 * grouped order. Returns 0 or MPQ_EPARAM (err says what). */
int mpq_mac_check_order(const int32_t *x, mpq_order order, unsigned group, char *err,
                        size_t errlen);

static inline int64_t mpq_abs64(int64_t v)
{
    return v < 0 ? -v : v;
}

/* Smallest and largest of v[0..count-1] into *lo, *hi (both 0 when count is 0). */
void mpq_min_max32(const int32_t *v, size_t count, int32_t *lo, int32_t *hi);

/* max |v[i] + offset| over count values (0 when count is 0). */
int64_t mpq_abs_max32(const int32_t *v, size_t count, int32_t offset);

#endif
