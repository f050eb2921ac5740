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
void mpq_mac_plan_free(mpq_mac_plan *p);

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

/* max |v[i] + offset| over count values (0 when count is 0). */
int64_t mpq_abs_max32(const int32_t *v, size_t count, int32_t offset);

#endif
