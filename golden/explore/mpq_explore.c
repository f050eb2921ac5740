/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_explore.c: the design space of one layer and the closed-form cost of a point
 * (mpq_explore.h; the equations are derived in docs/explore.md).
 *
 * The cycles of a tile follow from docs/timing.md's cycle behaviour without simulating it:
 * the writer takes one activation beat per cycle up to min(A, oldest + ActDepth), the reader
 * steps once per cycle when its slice is written. Both are max-plus recurrences; the writer's
 * limit changes only when the reader enters a new output row, so the tile's cycles follow
 * from one pass over its output rows and one over its output columns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore/mpq_explore.h"

#define NEG_INF INT64_MIN

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* Floor division by a positive d. */
static int64_t floordiv(int64_t a, int64_t d) { return a >= 0 ? a / d : -((-a + d - 1) / d); }

/* The taps k of one axis whose input i0 + k*d lies in [0, in): *lo..*hi (empty: lo > hi). */
static void valid_taps(int64_t i0, unsigned in, unsigned k, unsigned d, int64_t *lo, int64_t *hi)
{
    *lo = i0 >= 0 ? 0 : floordiv(-i0 + d - 1, d);
    *hi = min64((int64_t)k - 1, floordiv((int64_t)in - 1 - i0, d));
}

/* ---- one tile's cycles ---- */

typedef struct tile_time {
    uint64_t cycles, waits, ring_full, nonpad_taps; /* nonpad_taps: per lane, all slices */
} tile_time;

/* The largest need - i over a non-padding tap of an output column (the column part of it),
 * and the non-padding column taps summed over the columns. */
static int64_t cols_pass(const mpq_conv_shape *s, int64_t ns, int64_t T, uint64_t *sum_kx)
{
    int64_t best = NEG_INF;
    *sum_kx = 0;
    for (unsigned ox = 0; ox < s->out_w; ox++) {
        int64_t ix0 = (int64_t)ox * s->sx - s->px, lo, hi;
        valid_taps(ix0, s->in_w, s->kw, s->dx, &lo, &hi);
        if (lo > hi)
            continue;
        *sum_kx += (uint64_t)(hi - lo + 1);
        /* ix - kx = ix0 + kx*(dx - 1) grows with kx: the last valid tap */
        best = max64(best, ns * (ix0 + hi * ((int64_t)s->dx - 1)) - T * ox);
    }
    return best;
}

/* The tile's cycles, waits and ring-full cycles (docs/explore.md, "Cycles of a tile"). Step i
 * of the tile (pixel p, tap (ky, kx), slice s) needs slice need_i = ((b*in_h + iy)*in_w + ix)*ns
 * + s; it is taken in cycle c_i = max(c_{i-1} + 1, need_i + 2 + G_R) (non-padding steps; cycle
 * 0 is the cfg handshake, c_{-1} = W), G_R = max(0, e_R' - L_R' over the rows R' before R),
 * e_R the cycle of row R's last step and L_R = min(A, oldest_R + ActDepth) the writer's limit
 * while the reader is in row R (rows with L_R = A hold nothing back). The writer has written
 * all A beats in cycle A + 1 + G over every row. */
static void tile_cycles(const mpq_hwcfg *hw, const mpq_conv_shape *s, unsigned nslices, tile_time *o)
{
    const int64_t ns = nslices, T = (int64_t)s->kh * s->kw * ns, W = T;
    const int64_t A = (int64_t)s->batches * s->in_h * s->in_w * ns, depth = hw->act_depth;
    const int64_t row_steps = (int64_t)s->out_w * T;
    uint64_t sum_kx, sum_ky = 0;
    int64_t xmax = cols_pass(s, ns, T, &sum_kx);
    int64_t e = W, G = 0, r = 0;
    const int ky_last = (int64_t)s->dy * s->in_w >= (int64_t)s->kw; /* iy*in_w - ky*kw grows with ky */
    for (unsigned b = 0; b < s->batches; b++) {
        int64_t bterm = ns * (int64_t)b * s->in_h * s->in_w - T * (int64_t)b * s->out_h * s->out_w;
        for (unsigned oy = 0; oy < s->out_h; oy++, r++) {
            int64_t iy0 = (int64_t)oy * s->sy - s->py, lo, hi;
            valid_taps(iy0, s->in_h, s->kh, s->dy, &lo, &hi);
            int64_t last = (r + 1) * row_steps - 1, e_row = e + row_steps;
            if (lo <= hi && xmax != NEG_INF) {
                int64_t ky = ky_last ? hi : lo;
                int64_t yterm = ns * ((iy0 + ky * s->dy) * s->in_w - ky * s->kw) - T * oy * s->out_w;
                e_row = max64(e_row, G + 2 + last + bterm + yterm + xmax);
            }
            if (b == 0 && lo <= hi)
                sum_ky += (uint64_t)(hi - lo + 1);
            e = e_row;
            int64_t top = iy0 < 0 ? 0 : iy0 > (int64_t)s->in_h ? (int64_t)s->in_h : iy0;
            int64_t oldest = ((int64_t)b * s->in_h + top) * s->in_w * ns;
            if (oldest + depth < A) /* a row whose limit is A never holds the writer back */
                G = max64(G, e - (oldest + depth));
        }
    }
    int64_t steps = (int64_t)s->batches * s->out_h * row_steps;
    int64_t done = max64(e + 4, A + 1 + G); /* pipeline empty, and every beat written */
    o->cycles = (uint64_t)(done + 1);
    o->waits = (uint64_t)(e - W - steps);
    o->ring_full = (uint64_t)G;
    o->nonpad_taps = (uint64_t)s->batches * sum_ky * sum_kx;
}

/* ---- one hardware layer ---- */

/* The channels of [g0, g0 + f) in slice s of a tile starting at slice cs0. */
static unsigned slice_overlap(unsigned g0, unsigned f, unsigned cs0, unsigned s, unsigned klanes)
{
    unsigned a = (cs0 + s) * klanes, z = a + klanes, lo = g0 > a ? g0 : a, hi = g0 + f < z ? g0 + f : z;
    return hi > lo ? hi - lo : 0;
}

/* One tile's products per non-padding tap: useful (sum of the lanes' group sizes) and
 * high-precision (at most hp_n per lane and slice). */
static void tile_macs(const mpq_hwcfg *hw, const mpq_hw_layer *L, unsigned t, const mpq_hw_tile *tp,
                      unsigned hp_n, uint64_t *useful, uint64_t *hp, unsigned *real_lanes)
{
    unsigned f = mpq_hw_layer_group_size(L), o0 = t * hw->lanes, o1 = o0 + hw->lanes;
    if (o1 > L->n)
        o1 = L->n;
    *useful = *hp = 0;
    *real_lanes = o1 - o0;
    for (unsigned o = o0; o < o1; o++) {
        unsigned g0 = mpq_hw_layer_group_base(L, o);
        *useful += f;
        for (unsigned s = 0; s < tp->n_slices; s++) {
            unsigned c = slice_overlap(g0, f, tp->cs0, s, hw->klanes);
            *hp += c < hp_n ? c : hp_n;
        }
    }
}

static unsigned log2u(unsigned v)
{
    unsigned r = 0;
    while ((1u << r) < v)
        r++;
    return r;
}

/* The cost of one tile (timing tt of its slice count) into c. */
static void tile_cost(const mpq_hwcfg *hw, const mpq_hw_layer *L, unsigned t, const mpq_hw_tile *tp,
                      const tile_time *tt, const mpq_xp_prec *p, mpq_xp_cost *c)
{
    const mpq_conv_shape *s = &L->s;
    uint64_t T = (uint64_t)s->kh * s->kw * tp->n_slices;
    uint64_t rows = (uint64_t)s->batches * s->out_h * s->out_w, steps = rows * T;
    uint64_t nonpad_steps = tt->nonpad_taps * tp->n_slices, useful, hp;
    unsigned real;
    tile_macs(hw, L, t, tp, p->tern ? p->hp_n : hw->klanes, &useful, &hp, &real);
    c->cycles += tt->cycles;
    c->tiles++;
    c->steps += steps;
    c->pad_steps += steps - nonpad_steps;
    c->rows += rows;
    c->wgt_beats += tp->wgt_beats;
    c->act_beats += tp->act_beats;
    c->data_waits += tt->waits;
    c->ring_full += tt->ring_full;
    c->wbuf_reads += steps;
    c->ring_reads += steps;
    c->ring_reads_used += nonpad_steps;
    c->mac_slots_tern += steps * hw->lanes * hw->klanes;
    c->mac_slots_hp += steps * hw->lanes * hw->hp_per_group;
    c->macs += tt->nonpad_taps * useful;
    c->macs_tern += p->tern ? tt->nonpad_taps * useful : 0;
    c->macs_hp += tt->nonpad_taps * hp;
    c->macs_live += tt->nonpad_taps * hw->lanes * tp->c_len; /* the slices of a tap: c_len channels */
    c->requants += rows * hw->lanes;
    c->requants_used += rows * real;
    uint64_t entry = (uint64_t)log2u(hw->klanes) + hw->hp_bits;
    c->weight_bits += tp->wgt_beats * real * ((p->tern ? 2u * hw->klanes : 0u) + p->hp_n * entry);
}

void mpq_xp_hw_layer_cost(const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_xp_prec *p, mpq_xp_cost *c)
{
    memset(c, 0, sizeof *c);
    c->hw_layers = 1;
    /* Tiles of equal slice counts have equal timing: a few distinct counts per layer. */
    unsigned memo_ns[4] = {0, 0, 0, 0}, nmemo = 0;
    tile_time memo[4];
    unsigned tiles = mpq_hw_layer_tiles(hw, L);
    for (unsigned t = 0; t < tiles; t++) {
        mpq_hw_tile tp;
        mpq_hw_layer_tile(hw, L, t, &tp);
        tile_time tt, *hit = NULL;
        for (unsigned i = 0; i < nmemo; i++)
            if (memo_ns[i] == tp.n_slices)
                hit = &memo[i];
        if (!hit) {
            tile_cycles(hw, &L->s, tp.n_slices, &tt);
            hit = &tt;
            if (nmemo < 4) {
                memo_ns[nmemo] = tp.n_slices;
                memo[nmemo++] = tt;
            }
        }
        tile_cost(hw, L, t, &tp, hit, p, c);
    }
}

void mpq_xp_cost_add(mpq_xp_cost *c, const mpq_xp_cost *d, uint64_t mult)
{
#define MPQ_XP_ADD_(name, what) c->name += mult * d->name;
    MPQ_XP_COST_FIELDS(MPQ_XP_ADD_)
#undef MPQ_XP_ADD_
}

/* ---- precisions ---- */

unsigned mpq_xp_precisions(const mpq_hwcfg *hw, mpq_xp_prec *out, unsigned max)
{
    unsigned n = 0;
    for (unsigned h = 0; h <= hw->hp_per_group; h++, n++)
        if (out && n < max)
            out[n] = (mpq_xp_prec){1, h};
    if (hw->hp_per_group == hw->klanes && hw->hp_bits >= 8) {
        if (out && n < max)
            out[n] = (mpq_xp_prec){0, hw->klanes};
        n++;
    }
    return n;
}

static int prec_ok(const mpq_hwcfg *hw, const mpq_xp_prec *p)
{
    if (p->tern)
        return p->tern == 1 && p->hp_n <= hw->hp_per_group;
    return p->hp_n == hw->klanes && hw->hp_per_group == hw->klanes && hw->hp_bits >= 8;
}

typedef struct cost_ctx {
    const mpq_hwcfg *hw;
    const mpq_xp_prec *p;
    mpq_xp_cost *c;
} cost_ctx;

static int cost_fn(void *ctx, const mpq_hw_layer *L, uint64_t mult)
{
    cost_ctx *x = ctx;
    mpq_xp_cost one;
    mpq_xp_hw_layer_cost(x->hw, L, x->p, &one);
    mpq_xp_cost_add(x->c, &one, mult);
    return 0;
}

int mpq_xp_point_cost(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_xp_point *pt, mpq_xp_cost *c)
{
    memset(c, 0, sizeof *c);
    if (!prec_ok(hw, &pt->prec))
        return MPQ_EPARAM;
    cost_ctx x = {hw, &pt->prec, c};
    return mpq_xp_part_shapes(hw, l, &pt->map, cost_fn, &x) ? MPQ_EPARAM : 0;
}


const char *mpq_xp_prec_str(const mpq_xp_prec *p, char *buf, size_t len)
{
    if (!p->tern)
        snprintf(buf, len, "int8");
    else
        snprintf(buf, len, "tern+%uhp", p->hp_n);
    return buf;
}

void mpq_xp_wb_counts(const mpq_xp_cost *c, uint64_t v[MPQ_CNT_COUNT])
{
    v[MPQ_CNT_tile_cycles] = c->cycles;
    v[MPQ_CNT_tiles] = c->tiles;
    v[MPQ_CNT_wgt_beats] = c->wgt_beats;
    v[MPQ_CNT_act_beats] = c->act_beats;
    v[MPQ_CNT_wbuf_writes] = c->wgt_beats;
    v[MPQ_CNT_wbuf_reads] = c->wbuf_reads;
    v[MPQ_CNT_ring_writes] = c->act_beats;
    v[MPQ_CNT_ring_reads] = c->ring_reads;
    v[MPQ_CNT_ring_reads_used] = c->ring_reads_used;
    v[MPQ_CNT_pad_steps] = c->pad_steps;
    v[MPQ_CNT_rows] = c->rows;
    v[MPQ_CNT_requants] = c->requants;
    v[MPQ_CNT_mac_slots_tern] = c->mac_slots_tern;
    v[MPQ_CNT_mac_slots_hp] = c->mac_slots_hp;
    v[MPQ_CNT_macs_live] = c->macs_live;
    v[MPQ_CNT_macs_hp_nz] = c->macs_hp;
}

void mpq_xp_part_line(FILE *f, const mpq_hwcfg *hw, unsigned tag, const mpq_xp_prec *pr,
                      const mpq_xp_map *m, unsigned part, unsigned mult, const mpq_hw_layer *L)
{
    char ms[120], ps[32], sh[200], xs[16] = "", wbs[600];
    mpq_xp_cost c;
    uint64_t wb[MPQ_CNT_COUNT];
    mpq_xp_hw_layer_cost(hw, L, pr, &c);
    if (L->s.kind == MPQ_LAYER_FC)
        snprintf(sh, sizeof sh, "--m %u --k %u --n %u", L->m, L->k, L->n);
    else
        mpq_conv_shape_format(&L->s, sh, sizeof sh);
    if (mult)
        snprintf(xs, sizeof xs, " x%u", mult);
    mpq_xp_wb_counts(&c, wb);
    fprintf(f, "point %u %s %s | part %u%s | %s | tiles %llu steps %llu cycles %llu waits %llu "
               "ring_full %llu wgt_beats %llu act_beats %llu pad_steps %llu counters%s\n", tag,
            mpq_xp_prec_str(pr, ps, sizeof ps), mpq_xp_map_str(m, ms, sizeof ms), part, xs, sh,
            (unsigned long long)c.tiles, (unsigned long long)c.steps, (unsigned long long)c.cycles,
            (unsigned long long)c.data_waits, (unsigned long long)c.ring_full,
            (unsigned long long)c.wgt_beats, (unsigned long long)c.act_beats,
            (unsigned long long)c.pad_steps, mpq_xp_wb_counts_str(wb, wbs, sizeof wbs));
}

const char *mpq_xp_wb_counts_str(const uint64_t v[MPQ_CNT_COUNT], char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < MPQ_CNT_COUNT && at < len; i++) {
        int n = snprintf(buf + at, len - at, " %s=%llu", mpq_wb_count_names[i], (unsigned long long)v[i]);
        if (n < 0)
            break;
        at += (size_t)n;
    }
    return buf;
}
