/* SPDX-License-Identifier: Apache-2.0 */
/* mpq_beats.c: a layer's beats on a description's streams (mpq_beats.h). */
#include "dut/mpq_beats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq_bits.h"
#include "arith/mpq_rng.h"

/* One `beats` line over this layer: its rows, elements per row, beats. */
typedef struct item_plan {
    uint64_t rows, per_row, beats, first_beat;
    uint64_t beats_per_row; /* align=row */
    int64_t field[MPQ_DESC_MAX_FIELDS];
} item_plan;

/* Codec mpq: where a stream's next beat is (the tiles run one after the other). */
typedef struct hw_cursor {
    unsigned tile;
    uint64_t base;
    mpq_rng rng;
} hw_cursor;

struct mpq_beats {
    const mpq_desc *d;
    const mpq_job *j;
    uint64_t seed;
    item_plan plan[MPQ_DESC_MAX_ITEMS];
    uint64_t count[MPQ_DESC_MAX_STREAMS];
    /* codec mpq */
    mpq_hwcfg hw;
    unsigned n_tiles;
    mpq_hw_tile *tiles;
    int s_cfg, s_wgt, s_act, s_out;
    hw_cursor wgt, act;
};

/* ---- codec layout ---------------------------------------------------------------------------- */
static void item_shape(const mpq_desc_item *it, const mpq_job *j, uint64_t *rows, uint64_t *per_row)
{
    const mpq_conv_shape *s = &j->shape;
    uint64_t pixels = (uint64_t)s->batches * s->out_h * s->out_w, window = (uint64_t)s->kh * s->kw * s->in_c;
    int64_t depth = 0;
    mpq_job_field(j, "depth", 5, &depth);
    switch (it->order) {
    case MPQ_ORD_NHWC:
        if (it->tensor[0] == MPQ_T_X)
            *rows = (uint64_t)s->batches * s->in_h * s->in_w, *per_row = s->in_c;
        else
            *rows = pixels, *per_row = s->out_c;
        return;
    case MPQ_ORD_IM2COL: *rows = pixels, *per_row = window; return;
    case MPQ_ORD_OHWI: *rows = s->out_c, *per_row = (uint64_t)depth; return;
    case MPQ_ORD_OHWI_DENSE: *rows = s->out_c, *per_row = window; return;
    case MPQ_ORD_CHANNEL: *rows = s->out_c, *per_row = it->ntensors; return;
    case MPQ_ORD_FIELDS: case MPQ_ORD_COUNT: break;
    }
    *rows = 1, *per_row = it->nfields;
}

static int plan_layout(mpq_beats *b, char *err, size_t errlen)
{
    const mpq_desc *d = b->d;
    for (unsigned i = 0; i < d->nitems; i++) {
        const mpq_desc_item *it = &d->items[i];
        item_plan *p = &b->plan[i];
        item_shape(it, b->j, &p->rows, &p->per_row);
        p->beats_per_row = (p->per_row + it->per_beat - 1) / it->per_beat;
        p->beats = it->align_row ? p->rows * p->beats_per_row : (p->rows * p->per_row + it->per_beat - 1) / it->per_beat;
        p->first_beat = b->count[it->stream];
        b->count[it->stream] += p->beats;
        for (unsigned f = 0; f < it->nfields; f++) {
            char why[300];
            int64_t v;
            if (mpq_job_eval(d, b->j, it->field[f], &v, why, sizeof why) != 0) {
                snprintf(err, errlen, "%s:%u: field `%s`: %s", d->path, it->line, it->field[f], why);
                return MPQ_EPARAM;
            }
            int64_t lo = it->bits >= 64 ? INT64_MIN : -((int64_t)1 << (it->bits - 1));
            int64_t hi = it->bits >= 63 ? INT64_MAX : ((int64_t)1 << it->bits) - 1;
            if (v < lo || v > hi) {
                snprintf(err, errlen, "%s:%u: field `%s` = %lld does not fit %u bits (layer %s)", d->path, it->line,
                         it->field[f], (long long)v, it->bits, b->j->source);
                return MPQ_EPARAM;
            }
            p->field[f] = v;
        }
    }
    return 0;
}

/* The value of row r, element e of item it. */
static int32_t im2col_value(const mpq_job *j, uint64_t r, uint64_t e)
{
    const mpq_conv_shape *s = &j->shape;
    uint64_t ox = r % s->out_w, oy = r / s->out_w % s->out_h, bi = r / ((uint64_t)s->out_w * s->out_h);
    uint64_t c = e % s->in_c, tap = e / s->in_c, ky = tap / s->kw, kx = tap % s->kw;
    long iy = (long)(oy * s->sy + ky * s->dy) - (long)s->py, ix = (long)(ox * s->sx + kx * s->dx) - (long)s->px;
    if (iy < 0 || ix < 0 || iy >= (long)s->in_h || ix >= (long)s->in_w)
        return -j->c.in_offset; /* the zero point: (x + in_offset) is 0 */
    return j->c.x[((bi * s->in_h + (uint64_t)iy) * s->in_w + (uint64_t)ix) * s->in_c + c];
}

static int32_t weight_value(const mpq_job *j, uint64_t o, uint64_t e, int dense)
{
    const mpq_conv_shape *s = &j->shape;
    int kind = j->c.layer;
    if (kind == MPQ_LAYER_FC)
        return j->c.w[o * j->c.k + e];
    uint64_t out_c = s->out_c;
    if (!dense) /* the group's channels */
        return kind == MPQ_LAYER_DEPTHWISE ? j->c.w[e * out_c + o] : j->c.w[o * j->c.k + e];
    uint64_t tap = e / s->in_c, ci = e % s->in_c;
    if (kind == MPQ_LAYER_DEPTHWISE)
        return ci == o / (out_c / s->in_c) ? j->c.w[tap * out_c + o] : 0;
    uint64_t f = s->in_c / s->groups, g0 = o / (out_c / s->groups) * f;
    return ci >= g0 && ci < g0 + f ? j->c.w[o * j->c.k + tap * f + (ci - g0)] : 0;
}

static int32_t element_value(const mpq_beats *b, unsigned item, uint64_t r, uint64_t e)
{
    const mpq_desc_item *it = &b->d->items[item];
    const mpq_job *j = b->j;
    switch (it->order) {
    case MPQ_ORD_FIELDS: return (int32_t)(uint32_t)b->plan[item].field[e];
    case MPQ_ORD_NHWC:
        return it->tensor[0] == MPQ_T_X ? j->c.x[r * j->shape.in_c + e] : j->c.expect[r * j->shape.out_c + e];
    case MPQ_ORD_IM2COL: return im2col_value(j, r, e);
    case MPQ_ORD_OHWI: return weight_value(j, r, e, 0);
    case MPQ_ORD_OHWI_DENSE: return weight_value(j, r, e, 1);
    case MPQ_ORD_CHANNEL: case MPQ_ORD_COUNT: break;
    }
    mpq_tensor t = it->tensor[e];
    return t == MPQ_T_BIAS ? j->c.bias[r] : t == MPQ_T_MULT ? j->c.mult[r] : j->c.shift[r];
}

/* The item of stream s that beat i falls in, and i's place in it. */
static unsigned item_of(const mpq_beats *b, unsigned s, uint64_t i, uint64_t *local)
{
    const mpq_desc_stream *st = &b->d->streams[s];
    unsigned k = st->first_item;
    while (k + 1 < st->first_item + st->nitems && i >= b->plan[k + 1].first_beat)
        k++;
    *local = i - b->plan[k].first_beat;
    return k;
}

/* The first element (row, element) in beat `local` of an item, and how many the beat holds. */
static unsigned beat_span(const mpq_desc_item *it, const item_plan *p, uint64_t local, uint64_t *r, uint64_t *e)
{
    uint64_t n;
    if (it->align_row) {
        *r = local / p->beats_per_row;
        *e = local % p->beats_per_row * it->per_beat;
        n = p->per_row - *e;
    } else {
        uint64_t g = local * it->per_beat;
        *r = p->per_row ? g / p->per_row : 0;
        *e = p->per_row ? g % p->per_row : 0;
        n = p->rows * p->per_row - g;
    }
    return (unsigned)(n < it->per_beat ? n : it->per_beat);
}

static int layout_last(const mpq_beats *b, unsigned k, uint64_t local, uint64_t r, uint64_t e, unsigned n)
{
    const mpq_desc_item *it = &b->d->items[k];
    const item_plan *p = &b->plan[k];
    const mpq_desc_stream *st = &b->d->streams[it->stream];
    switch (it->last) {
    case MPQ_LAST_ITEM: return local + 1 == p->beats;
    case MPQ_LAST_ROW: /* the beat holds the last element of its first row */
        (void)r;
        return p->per_row && e + n >= p->per_row;
    case MPQ_LAST_JOB: return k + 1 == st->first_item + st->nitems && local + 1 == p->beats;
    case MPQ_LAST_NONE: break;
    }
    return 0;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static void layout_get(const mpq_beats *b, unsigned s, uint64_t i, uint32_t *data, uint32_t *care, int *last)
{
    const mpq_desc *d = b->d;
    unsigned nw = MPQ_WORDS(d->streams[s].width);
    memset(data, 0, nw * sizeof *data);
    if (care)
        memset(care, 0, nw * sizeof *care);
    uint64_t local, r, e;
    unsigned k = item_of(b, s, i, &local);
    const mpq_desc_item *it = &d->items[k];
    const item_plan *p = &b->plan[k];
    unsigned n = beat_span(it, p, local, &r, &e);
    uint64_t r0 = r, e0 = e;
    for (unsigned slot = 0; slot < n; slot++) {
        mpq_bits_put(data, slot * it->bits, it->bits, (uint32_t)element_value(b, k, r, e));
        if (care)
            mpq_bits_put(care, slot * it->bits, it->bits, 0xffffffffu);
        if (++e == p->per_row)
            e = 0, r++;
    }
    unsigned used = n * it->bits;
    if (d->streams[s].out) {
        if (care && !it->pad_random) /* the rest of the beat must be zero */
            for (unsigned bit = used; bit < d->streams[s].width; bit += 32)
                mpq_bits_put(care, bit, d->streams[s].width - bit < 32 ? d->streams[s].width - bit : 32, 0xffffffffu);
    } else if (it->pad_random) {
        uint64_t h = mix(b->seed ^ (uint64_t)s << 56 ^ i);
        for (unsigned bit = used; bit < d->streams[s].width; bit += 32, h = mix(h))
            mpq_bits_put(data, bit, d->streams[s].width - bit < 32 ? d->streams[s].width - bit : 32, (uint32_t)h);
    }
    *last = d->streams[s].last >= 0 && layout_last(b, k, local, r0, e0, n);
}

/* ---- codec mpq ----------------------------------------------------------------------------------- */
static int plan_hw(mpq_beats *b, const mpq_hwcfg *hw, char *err, size_t errlen)
{
    const mpq_desc *d = b->d;
    if (!hw || !b->j->is_hw) {
        snprintf(err, errlen, "%s: codec mpq needs mpq's configuration and one of its layers", d->path);
        return MPQ_EPARAM;
    }
    b->hw = *hw;
    b->s_cfg = mpq_desc_stream_find(d, "cfg");
    b->s_wgt = mpq_desc_stream_find(d, "wgt");
    b->s_act = mpq_desc_stream_find(d, "act");
    b->s_out = mpq_desc_stream_find(d, "out");
    b->n_tiles = mpq_hw_layer_tiles(hw, &b->j->hl);
    b->tiles = calloc(b->n_tiles ? b->n_tiles : 1, sizeof *b->tiles);
    if (!b->tiles) {
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    for (unsigned t = 0; t < b->n_tiles; t++) {
        mpq_hw_layer_tile(hw, &b->j->hl, t, &b->tiles[t]);
        b->count[b->s_wgt] += b->tiles[t].wgt_beats;
        b->count[b->s_act] += b->tiles[t].act_beats;
    }
    b->count[b->s_cfg] = b->n_tiles;
    b->count[b->s_out] = (uint64_t)b->n_tiles * b->j->hl.m;
    mpq_rng_seed(&b->wgt.rng, b->seed);
    mpq_rng_seed(&b->act.rng, b->seed ^ 0x5bd1e9955bd1e995ull);
    return 0;
}

/* The tile of a stream's beat i (asked for in order) and i's place in it. */
static uint64_t hw_at(const mpq_beats *b, hw_cursor *c, uint64_t i, int wgt)
{
    while (c->tile + 1 < b->n_tiles) {
        uint64_t per = wgt ? b->tiles[c->tile].wgt_beats : b->tiles[c->tile].act_beats;
        if (i < c->base + per)
            break;
        c->base += per;
        c->tile++;
    }
    return i - c->base;
}

static int32_t hw_out_value(const mpq_beats *b, uint64_t i, unsigned lane)
{
    const mpq_hw_layer *l = &b->j->hl;
    uint64_t t = i / l->m, pix = i % l->m, c = t * b->hw.lanes + lane;
    if (c < l->n)
        return b->j->hy[pix * l->n + c];
    int32_t v = l->out_offset; /* a lane past n: requantization of 0 with multiplier 0 */
    return v < l->act_min ? l->act_min : v > l->act_max ? l->act_max : v;
}

static void hw_get(mpq_beats *b, unsigned s, uint64_t i, uint32_t *data, uint32_t *care, int *last)
{
    const mpq_hwcfg *hw = &b->hw;
    unsigned nw = MPQ_WORDS(b->d->streams[s].width);
    *last = 0;
    if ((int)s == b->s_cfg) {
        mpq_hw_layer_cfg_beat(hw, &b->j->hl, (unsigned)i, data);
    } else if ((int)s == b->s_wgt) {
        uint64_t ws = hw_at(b, &b->wgt, i, 1);
        mpq_hw_layer_wgt_beat(hw, &b->j->hl, &b->tiles[b->wgt.tile], b->wgt.tile, ws, &b->wgt.rng, data);
    } else if ((int)s == b->s_act) {
        uint64_t a = hw_at(b, &b->act, i, 0);
        mpq_hw_layer_act_beat(hw, &b->j->hl, &b->tiles[b->act.tile], a, &b->act.rng, data);
    } else {
        memset(data, 0, nw * sizeof *data);
        for (unsigned l = 0; l < hw->lanes; l++)
            mpq_bits_put(data, l * hw->out_bits, hw->out_bits, (uint32_t)hw_out_value(b, i, l));
        if (care) {
            memset(care, 0, nw * sizeof *care);
            for (unsigned bit = 0; bit < mpq_hw_out_w(hw); bit += 32)
                mpq_bits_put(care, bit, mpq_hw_out_w(hw) - bit < 32 ? mpq_hw_out_w(hw) - bit : 32, 0xffffffffu);
        }
    }
}

/* ---- the interface ------------------------------------------------------------------------------- */
int mpq_beats_open(const mpq_desc *d, const mpq_hwcfg *hw, const mpq_job *j, uint64_t seed, mpq_beats **out,
                   char *err, size_t errlen)
{
    *out = NULL;
    mpq_beats *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    b->d = d;
    b->j = j;
    b->seed = seed;
    int rc = d->codec == MPQ_CODEC_MPQ ? plan_hw(b, hw, err, errlen) : plan_layout(b, err, errlen);
    if (rc != 0) {
        mpq_beats_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

void mpq_beats_free(mpq_beats *b)
{
    if (!b)
        return;
    free(b->tiles);
    free(b);
}

uint64_t mpq_beats_count(const mpq_beats *b, unsigned s) { return s < b->d->nstreams ? b->count[s] : 0; }

void mpq_beats_get(mpq_beats *b, unsigned s, uint64_t i, uint32_t *data, uint32_t *care, int *last)
{
    if (b->d->codec == MPQ_CODEC_MPQ)
        hw_get(b, s, i, data, care, last);
    else
        layout_get(b, s, i, data, care, last);
}

/* "y[b=0][oy=3][ox=1][c=5]", or FC's "y[m=2][c=7]", of output pixel p, channel c. */
static void y_name(const mpq_job *j, uint64_t p, uint64_t c, char *name, size_t len)
{
    const mpq_conv_shape *s = &j->shape;
    if (s->kind == MPQ_LAYER_FC)
        snprintf(name, len, "y[m=%llu][c=%llu]", (unsigned long long)p, (unsigned long long)c);
    else
        snprintf(name, len, "y[b=%llu][oy=%llu][ox=%llu][c=%llu]", (unsigned long long)(p / ((uint64_t)s->out_h * s->out_w)),
                 (unsigned long long)(p / s->out_w % s->out_h), (unsigned long long)(p % s->out_w),
                 (unsigned long long)c);
}

int mpq_beats_element(const mpq_beats *b, unsigned s, uint64_t i, unsigned bit, char *name, size_t len,
                      unsigned *lsb, unsigned *bits)
{
    if (b->d->codec == MPQ_CODEC_MPQ) {
        unsigned lane = bit / b->hw.out_bits, m = b->j->hl.m;
        if (lane >= b->hw.lanes || !m)
            return -1;
        uint64_t c = i / m * b->hw.lanes + lane;
        y_name(b->j, i % m, c, name, len);
        if (c >= b->j->hl.n)
            snprintf(name + strlen(name), len - strlen(name), " (lane %u past the layer's %u channels)", lane,
                     b->j->hl.n);
        *lsb = lane * b->hw.out_bits;
        *bits = b->hw.out_bits;
        return 0;
    }
    uint64_t local, r, e;
    unsigned k = item_of(b, s, i, &local);
    const mpq_desc_item *it = &b->d->items[k];
    unsigned n = beat_span(it, &b->plan[k], local, &r, &e), slot = bit / it->bits;
    if (slot >= n)
        return -1;
    uint64_t g = r * b->plan[k].per_row + e + slot;
    y_name(b->j, g / b->plan[k].per_row, g % b->plan[k].per_row, name, len);
    *lsb = slot * it->bits;
    *bits = it->bits;
    return 0;
}
