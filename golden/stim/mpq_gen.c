/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_gen.c: the driver. Turns a layer into cycles the way a real driver would (reset, then
 * per tile of Lanes channels: configuration beat, weight slices, activation slices; random
 * valid gaps and output back-pressure from the timing seed) and runs the golden cycle model
 * on them for the expected outputs. Every output row the cycle model produces and every
 * tile's overflow flags are compared with the functional model (mpq_fc) as they appear: the
 * two independent models must agree, or the generator stops with an error.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"
#include "stim/mpq_gen.h"
#include "arith/mpq_rng.h"

enum { PH_RESET, PH_TILES, PH_TAIL, PH_END };

/* One source stream: the layer's beats of that port, numbered 0..total-1 over all tiles. */
typedef struct gen_stream {
    uint64_t next;  /* index of the next beat to send */
    uint64_t limit; /* beats that may be offered so far (total when offered early) */
    uint64_t total;
    int valid;      /* valid is raised with beat `next` on the bus */
    unsigned tile;  /* the tile beat `next` belongs to */
    uint64_t base;  /* the index of that tile's first beat */
} gen_stream;

struct mpq_gen {
    mpq_hwcfg hw;
    const mpq_hw_layer *l;
    mpq_timing_opts t;
    mpq_cm *cm;
    mpq_rng rng;
    unsigned n_tiles;
    mpq_hw_tile *tiles; /* [n_tiles]: each tile's plan */
    unsigned words[MPQ_BUS_COUNT]; /* of each input bus */
    int phase;
    uint64_t cycle, phase_cycles, last_progress;
    /* tiles */
    unsigned done_tiles; /* done_o pulses seen */
    int did_reset;       /* the mid-layer reset (t.reset_at) has happened */
    mpq_gen_stats stats;
    unsigned out_tile, out_row;
    gen_stream cfg, wgt, act;
    mpq_port_in in; /* current inputs; data buses hold between beats */
    mpq_cm_where where;
    int32_t *y_fn;  /* functional model's y[m][n] */
    uint8_t *ovf_fn;
    char err[512];
};

/* The tile of a stream's next beat, and that beat's index within it (the streams advance one
 * beat at a time, so the tile only ever moves forward). `per` gives a tile's beat count. */
static uint64_t stream_at(const mpq_gen *g, gen_stream *st, uint64_t (*per)(const mpq_hw_tile *))
{
    while (st->tile + 1 < g->n_tiles && st->next >= st->base + per(&g->tiles[st->tile])) {
        st->base += per(&g->tiles[st->tile]);
        st->tile++;
    }
    return st->next - st->base;
}
static uint64_t wgt_per(const mpq_hw_tile *t) { return t->wgt_beats; }
static uint64_t act_per(const mpq_hw_tile *t) { return t->act_beats; }
/* The beats of tiles 0..t of a stream (late offering opens a tile at its cfg handshake). */
static uint64_t beats_through(const mpq_gen *g, unsigned t, uint64_t (*per)(const mpq_hw_tile *))
{
    uint64_t n = 0;
    for (unsigned i = 0; i <= t && i < g->n_tiles; i++)
        n += per(&g->tiles[i]);
    return n;
}

/* Raise valid on a stream with a beat it may offer, with probability p_valid. */
static int want_raise(mpq_gen *g, const gen_stream *s)
{
    return !s->valid && s->next < s->limit && mpq_rng_bernoulli(&g->rng, g->t.p_valid);
}

/* Every stream at its first beat. Offered early (AXI: a source raises valid whenever it has
 * data), each stream may offer all its beats at once: the next tile's configuration while
 * this tile computes, its weights while this one's rows are still being accumulated, and
 * the DUT's ready decides. Offered late, a tile's weights and activations wait for its
 * configuration handshake and the next configuration for this tile's last activation beat. */
static void gen_streams_init(mpq_gen *g)
{
    g->cfg.total = g->n_tiles;
    g->wgt.total = beats_through(g, g->n_tiles - 1, wgt_per);
    g->act.total = beats_through(g, g->n_tiles - 1, act_per);
    gen_stream *st[3] = {&g->cfg, &g->wgt, &g->act};
    for (int i = 0; i < 3; i++) {
        st[i]->next = 0;
        st[i]->valid = 0;
        st[i]->tile = 0;
        st[i]->base = 0;
        st[i]->limit = g->t.offer_early ? st[i]->total : 0;
    }
    if (!g->t.offer_early)
        g->cfg.limit = 1;
    g->done_tiles = g->out_tile = g->out_row = 0;
}

int mpq_gen_new(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_timing_opts *t,
                mpq_gen **out, char *err, size_t errlen)
{
    *out = NULL;
    char why[400];
    if (mpq_hwcfg_check(hw, why, sizeof why) != 0) {
        snprintf(err, errlen, "configuration: %s", why);
        return MPQ_EPARAM;
    }
    if (mpq_hw_layer_check(hw, l, why, sizeof why) != 0) {
        snprintf(err, errlen, "layer: %s", why);
        return MPQ_EPARAM;
    }
    if (!(t->p_valid > 0.0 && t->p_valid <= 1.0) || !(t->p_ready > 0.0 && t->p_ready <= 1.0)) {
        snprintf(err, errlen, "p-valid = %g and p-ready = %g must lie in (0, 1]", t->p_valid,
                 t->p_ready);
        return MPQ_EPARAM;
    }
    if (t->reset_cycles < 1 || t->reset_cycles > 1000000u || t->tail_cycles > 1000000u) {
        snprintf(err, errlen, "reset cycles must be 1..1e6 and tail cycles 0..1e6");
        return MPQ_EPARAM;
    }
    mpq_gen *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    g->hw = *hw;
    g->l = l;
    g->t = *t;
#define X(idx, field, port, bus, width, store, rec, valid) g->words[bus] = MPQ_WORDS(mpq_port_width(hw, width));
    MPQ_IN_BUSES(X)
#undef X
    g->n_tiles = mpq_hw_layer_tiles(hw, l);
    g->tiles = calloc(g->n_tiles, sizeof *g->tiles);
    if (!g->tiles) {
        snprintf(err, errlen, "out of memory");
        mpq_gen_free(g);
        return MPQ_ENOMEM;
    }
    for (unsigned i = 0; i < g->n_tiles; i++)
        mpq_hw_layer_tile(hw, l, i, &g->tiles[i]);
    mpq_rng_seed(&g->rng, t->seed);
    g->y_fn = malloc((size_t)l->m * l->n * sizeof *g->y_fn);
    g->ovf_fn = malloc(l->n);
    int rc = MPQ_ENOMEM;
    if (g->y_fn && g->ovf_fn)
        rc = mpq_cm_new(hw, &g->cm, err, errlen);
    else
        snprintf(err, errlen, "out of memory");
    if (rc != 0) {
        mpq_gen_free(g);
        return rc;
    }
    rc = mpq_hw_layer_expected(hw, l, g->y_fn, g->ovf_fn);
    if (rc != 0) {
        snprintf(err, errlen, "functional model failed on this layer (%d)", rc);
        mpq_gen_free(g);
        return rc;
    }
    g->phase = PH_RESET;
    gen_streams_init(g);
    *out = g;
    return 0;
}

void mpq_gen_free(mpq_gen *g)
{
    if (!g)
        return;
    mpq_cm_free(g->cm);
    free(g->tiles);
    free(g->y_fn);
    free(g->ovf_fn);
    free(g);
}

const char *mpq_gen_error(const mpq_gen *g) { return g->err; }
uint64_t mpq_gen_cycle(const mpq_gen *g) { return g->cycle; }

/* The output row just handed over: compare with the functional model. */
static int check_out_row(mpq_gen *g, const mpq_port_out *exp)
{
    const mpq_hwcfg *hw = &g->hw;
    const mpq_hw_layer *l = g->l;
    for (unsigned ln = 0; ln < hw->lanes; ln++) {
        unsigned c = g->out_tile * hw->lanes + ln;
        int32_t got = mpq_sext(mpq_bits_get(exp->out_data, ln * hw->out_bits, hw->out_bits),
                               hw->out_bits);
        int32_t want;
        if (c < l->n) {
            want = g->y_fn[(size_t)g->out_row * l->n + c];
        } else { /* padding lane: requant of 0 with multiplier 0 is 0 */
            int32_t v = l->out_offset;
            want = v < l->act_min ? l->act_min : v > l->act_max ? l->act_max : v;
        }
        if (got != want) {
            snprintf(g->err, sizeof g->err,
                     "golden models disagree at cycle %llu: row %u, channel %u (tile %u lane %u): "
                     "cycle model %d, functional model %d",
                     (unsigned long long)g->cycle, g->out_row, c, g->out_tile, ln, got, want);
            return MPQ_EPARAM;
        }
    }
    return 0;
}

static int check_tile_ovf(mpq_gen *g, const mpq_port_out *exp)
{
    const mpq_hwcfg *hw = &g->hw;
    for (unsigned ln = 0; ln < hw->lanes; ln++) {
        unsigned c = g->done_tiles * hw->lanes + ln;
        int want = c < g->l->n ? g->ovf_fn[c] : 0;
        int got = (int)(exp->ovf >> ln & 1u);
        if (got != want) {
            snprintf(g->err, sizeof g->err,
                     "golden models disagree on the overflow flag of channel %u (tile %u lane %u) "
                     "at cycle %llu: cycle model %d, functional model %d",
                     c, g->done_tiles, ln, (unsigned long long)g->cycle, got, want);
            return MPQ_EPARAM;
        }
    }
    return 0;
}

/* The mid-layer reset: with rows in flight, reset for a few cycles, then the layer again from
 * its first tile (every valid bit is cleared by reset, docs/timing.md). */
static void gen_mid_reset(mpq_gen *g)
{
    g->did_reset = 1;
    g->phase = PH_RESET;
    g->phase_cycles = 0;
    gen_streams_init(g);
    g->stats.mid_resets++;
}

/* This cycle's inputs into g->in: reset while in PH_RESET; on each stream whose driver raises
 * valid, its next beat; out_ready_i from the back-pressure. */
static void gen_drive(mpq_gen *g)
{
    const mpq_hwcfg *hw = &g->hw;
    mpq_port_in *cur = &g->in;
    cur->rst_n = g->phase != PH_RESET;
    if (g->phase == PH_TILES) {
        if (want_raise(g, &g->cfg)) {
            mpq_hw_layer_cfg_beat(hw, g->l, (unsigned)g->cfg.next, cur->cfg_data);
            g->cfg.valid = 1;
        }
        if (want_raise(g, &g->wgt)) {
            uint64_t ws = stream_at(g, &g->wgt, wgt_per);
            mpq_hw_layer_wgt_beat(hw, g->l, &g->tiles[g->wgt.tile], g->wgt.tile, ws, &g->rng, cur->wgt_data);
            g->wgt.valid = 1;
        }
        if (want_raise(g, &g->act)) {
            uint64_t a = stream_at(g, &g->act, act_per);
            mpq_hw_layer_act_beat(hw, g->l, &g->tiles[g->act.tile], a, &g->rng, cur->act_data);
            g->act.valid = 1;
        }
    }
    cur->cfg_valid = (uint8_t)g->cfg.valid;
    cur->wgt_valid = (uint8_t)g->wgt.valid;
    cur->act_valid = (uint8_t)g->act.valid;
    cur->out_ready = (uint8_t)mpq_rng_bernoulli(&g->rng, g->t.p_ready);
}

/* The inputs of g->in into in: only the words of each bus (the port structs are sized for
 * the largest configuration). */
static void gen_copy_inputs(const mpq_gen *g, mpq_port_in *in)
{
    const mpq_port_in *cur = &g->in;
#define X(idx, field, port, rec) in->field = cur->field;
    MPQ_IN_BITS(X)
#undef X
#define X(idx, field, port, bus, width, store, rec, valid) \
    memcpy(in->field, cur->field, g->words[bus] * sizeof cur->field[0]);
    MPQ_IN_BUSES(X)
#undef X
}

/* The handshakes at the edge ending this cycle (out of reset): the streams move on, a late
 * offer opens the next tile's beats, each output row and each tile's overflow flags are
 * checked against the functional model. Sets *progress when anything moved. Returns 0 or
 * MPQ_EPARAM (the golden models disagree: g->err). */
static int gen_handshakes(mpq_gen *g, const mpq_port_out *exp, int *progress)
{
    const mpq_port_in *cur = &g->in;
    int rc = 0;
    if (cur->cfg_valid && exp->cfg_ready) {
        g->cfg.valid = 0;
        g->cfg.next++;
        if (!g->t.offer_early) { /* the tile's weights and activations may now be offered */
            g->wgt.limit = beats_through(g, (unsigned)g->cfg.next - 1, wgt_per);
            g->act.limit = beats_through(g, (unsigned)g->cfg.next - 1, act_per);
        }
        *progress = 1;
    }
    if (cur->wgt_valid && exp->wgt_ready) {
        g->wgt.valid = 0;
        g->wgt.next++;
        *progress = 1;
    }
    if (cur->act_valid && exp->act_ready) {
        g->act.valid = 0;
        g->act.next++;
        *progress = 1;
        /* Late: the next tile's configuration once this tile's last slice is in. */
        if (!g->t.offer_early && g->act.next == g->act.limit && g->cfg.limit < g->cfg.total)
            g->cfg.limit++;
    }
    /* Beats offered and not taken (early offers wait through whole tiles). */
    g->stats.waits += (uint64_t)(cur->cfg_valid && !exp->cfg_ready) +
                      (uint64_t)(cur->wgt_valid && !exp->wgt_ready) +
                      (uint64_t)(cur->act_valid && !exp->act_ready);
    if (exp->out_valid && cur->out_ready) {
        rc = check_out_row(g, exp);
        if (++g->out_row == g->l->m) {
            g->out_row = 0;
            g->out_tile++;
        }
        *progress = 1;
    }
    if (exp->done && rc == 0) {
        rc = check_tile_ovf(g, exp);
        g->done_tiles++;
        *progress = 1;
    }
    return rc;
}

/* The phase after this cycle: out of reset after reset_cycles, the tail once every tile is
 * done, the end after the tail. Returns 0, or MPQ_EPARAM (g->err) when the tiles' rows went
 * missing or nothing moved for far too long (a deadlock). */
static int gen_next_phase(mpq_gen *g)
{
    switch (g->phase) {
    case PH_RESET:
        if (g->phase_cycles >= g->t.reset_cycles) {
            g->phase = PH_TILES;
            g->phase_cycles = 0;
            g->last_progress = g->cycle;
        }
        break;
    case PH_TILES:
        if (g->done_tiles == g->n_tiles) {
            if (g->out_tile != g->n_tiles) {
                snprintf(g->err, sizeof g->err,
                         "cycle model finished %u tiles but output only %u tiles' rows", g->n_tiles,
                         g->out_tile);
                return MPQ_EPARAM;
            }
            g->phase = g->t.tail_cycles ? PH_TAIL : PH_END;
            g->phase_cycles = 0;
        } else if (g->cycle - g->last_progress > 100000u && /* the division only past the floor */
                   g->cycle - g->last_progress > 100000u + (uint64_t)(1000.0 / g->t.p_valid / g->t.p_ready)) {
            snprintf(g->err, sizeof g->err,
                     "cycle model made no progress for %llu cycles (tile %u, state %d): deadlock",
                     (unsigned long long)(g->cycle - g->last_progress), g->done_tiles,
                     g->where.state);
            return MPQ_EPARAM;
        }
        break;
    case PH_TAIL:
        if (g->phase_cycles >= g->t.tail_cycles)
            g->phase = PH_END;
        break;
    default:
        break;
    }
    return 0;
}

int mpq_gen_next(mpq_gen *g, mpq_port_in *in, mpq_port_out *exp)
{
    if (g->phase == PH_END)
        return 0;
    mpq_port_in *cur = &g->in;
    if (g->phase == PH_TILES && g->t.reset_at && !g->did_reset && g->phase_cycles == g->t.reset_at)
        gen_mid_reset(g);
    gen_drive(g);
    mpq_cm_eval(g->cm, cur, exp);
    mpq_cm_where_get(g->cm, &g->where);
    gen_copy_inputs(g, in);
    int rc = 0, progress = 0;
    if (cur->rst_n) {
        char why[200];
        if (cur->cfg_valid && exp->cfg_ready && mpq_cfg_check(&g->hw, cur->cfg_data, why, sizeof why) != 0) {
            snprintf(g->err, sizeof g->err, "generator built an illegal cfg beat: %s", why);
            return MPQ_EPARAM;
        }
        rc = gen_handshakes(g, exp, &progress);
    }
    mpq_cm_tick(g->cm, cur);
    g->cycle++;
    g->phase_cycles++;
    if (progress)
        g->last_progress = g->cycle;
    if (rc == 0)
        rc = gen_next_phase(g);
    return rc != 0 ? rc : 1;
}

void mpq_gen_where(const mpq_gen *g, mpq_cm_where *w) { *w = g->where; }
const mpq_cm *mpq_gen_model(const mpq_gen *g) { return g->cm; }

void mpq_timing_default(uint64_t layer_seed, double p_valid, double p_ready, mpq_timing_opts *t)
{
    memset(t, 0, sizeof *t);
    t->seed = layer_seed;
    t->p_valid = p_valid;
    t->p_ready = p_ready;
    t->reset_cycles = 2;
    t->tail_cycles = 2;
    t->offer_early = 1;
}

void mpq_gen_stats_get(const mpq_gen *g, mpq_gen_stats *s)
{
    *s = g->stats;
    mpq_cm_stats_get(g->cm, &s->cm);
}

/* Every counter of mpq_gen_stats once: its key (mpq_gen_stats_kv), its words
 * (mpq_gen_stats_str), where it is, and how two runs combine (mpq_gen_stats_add). */
enum { STAT_SUM, STAT_MAX, STAT_ALIAS, STAT_BITS };
typedef struct gen_stat_field {
    const char *key, *words;
    size_t off;
    int kind; /* STAT_SUM: a uint64_t count; STAT_MAX: an unsigned largest index; STAT_ALIAS:
                 another field's count under its own name (not added twice); STAT_BITS: a
                 uint64_t set of patterns reached (combined by union; the key gives the set,
                 the words its size) */
} gen_stat_field;
#define STAT(kind, key, words, member) { key, words, offsetof(mpq_gen_stats, member), kind }
static const gen_stat_field gen_stat_fields[] = {
    STAT(STAT_SUM, "tiles", "tiles", cm.tiles),
    STAT(STAT_SUM, "rows", "rows", cm.rows),
    STAT(STAT_SUM, "steps", "steps", cm.steps),
    STAT(STAT_SUM, "cycles", "cycles", cm.cycles),
    STAT(STAT_SUM, "acc_max", "accumulator exactly at max", cm.acc_max),
    STAT(STAT_SUM, "acc_min", "at min", cm.acc_min),
    STAT(STAT_SUM, "ovf_wrap", "overflowed wrapping", cm.ovf_wrap),
    STAT(STAT_SUM, "ovf_sat", "saturating", cm.ovf_sat),
    STAT(STAT_SUM, "srdhm_ties", "rounding ties srdhm", cm.srdhm_ties),
    STAT(STAT_SUM, "rdbpot_ties", "rdbpot", cm.rdbpot_ties),
    STAT(STAT_SUM, "clamp_lo", "clamped low", cm.clamp_lo),
    STAT(STAT_SUM, "clamp_hi", "high", cm.clamp_hi),
    STAT(STAT_SUM, "stall_last", "last slice held back", cm.stall_last),
    STAT(STAT_SUM, "out_stalls", "output waited", cm.out_stalls),
    STAT(STAT_BITS, "pipe_seen", "pipeline patterns", cm.pipe_seen),
    STAT(STAT_BITS, "pipe_drain", "drained", cm.pipe_drain),
    STAT(STAT_SUM, "waits", "beats waiting for ready", waits),
    STAT(STAT_SUM, "mid_resets", "mid-layer resets", mid_resets),
    STAT(STAT_MAX, "max_row", "largest row", cm.max_row),
    STAT(STAT_MAX, "max_slice", "slice", cm.max_slice),
    STAT(STAT_MAX, "max_tile", "tile", cm.max_tile),
    STAT(STAT_SUM, "pad_steps", "padding steps", cm.pad_steps),
    STAT(STAT_SUM, "data_waits", "waits for a slice", cm.data_waits),
    STAT(STAT_SUM, "ring_full", "activation ring full", cm.ring_full),
    STAT(STAT_SUM, "wgt_beats", "weight beats", cm.wgt_beats),
    STAT(STAT_SUM, "act_beats", "activation beats", cm.act_beats),
    /* A host-side im2col would send one activation beat per step. */
    STAT(STAT_ALIAS, "im2col_beats", "host im2col", cm.steps),
};
#undef STAT
#define N_STAT_FIELDS (sizeof gen_stat_fields / sizeof gen_stat_fields[0])

static unsigned long long stat_value(const mpq_gen_stats *s, const gen_stat_field *f)
{
    const char *p = (const char *)s + f->off;
    if (f->kind == STAT_MAX) {
        unsigned v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

void mpq_gen_stats_add(mpq_gen_stats *a, const mpq_gen_stats *b)
{
    for (size_t i = 0; i < N_STAT_FIELDS; i++) {
        const gen_stat_field *f = &gen_stat_fields[i];
        unsigned long long x = stat_value(a, f), y = stat_value(b, f);
        char *p = (char *)a + f->off;
        if (f->kind == STAT_SUM) {
            uint64_t v = x + y;
            memcpy(p, &v, sizeof v);
        } else if (f->kind == STAT_MAX && y > x) {
            unsigned v = (unsigned)y;
            memcpy(p, &v, sizeof v);
        } else if (f->kind == STAT_BITS) {
            uint64_t v = x | y;
            memcpy(p, &v, sizeof v);
        }
    }
}

/* The fields as "<before><name><between><value>" one after another; returns buf. */
static const char *stats_print(const mpq_gen_stats *s, int keys, char *buf, size_t len)
{
    size_t n = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < N_STAT_FIELDS && n < len; i++) {
        const gen_stat_field *f = &gen_stat_fields[i];
        unsigned long long v = stat_value(s, f);
        if (f->kind == STAT_BITS && !keys) { /* the words: how many patterns */
            unsigned c = 0;
            for (unsigned long long b = v; b; b &= b - 1)
                c++;
            v = c;
        }
        int w = snprintf(buf + n, len - n, keys ? "%s%s=%llu" : "%s%s %llu", i ? (keys ? " " : ", ") : "",
                         keys ? f->key : f->words, v);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    return buf;
}

const char *mpq_gen_stats_str(const mpq_gen_stats *s, char *buf, size_t len)
{
    return stats_print(s, 0, buf, len);
}

const char *mpq_gen_stats_kv(const mpq_gen_stats *s, char *buf, size_t len)
{
    return stats_print(s, 1, buf, len);
}

void mpq_gen_estimate_run(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_timing_opts *t,
                          mpq_gen_estimate *e)
{
    memset(e, 0, sizeof *e);
    double pv = t->p_valid > 0.0 ? t->p_valid : 1.0, pr = t->p_ready > 0.0 ? t->p_ready : 1.0;
    double cycles = 0.0;
    uint64_t pixels = (uint64_t)l->s.batches * l->s.out_h * l->s.out_w;
    unsigned tiles = hw->lanes && hw->klanes && l->n ? mpq_hw_layer_tiles(hw, l) : 0;
    for (unsigned tn = 0; tn < tiles; tn++) {
        mpq_hw_tile tp;
        mpq_hw_layer_tile(hw, l, tn, &tp);
        uint64_t steps = pixels * l->s.kh * l->s.kw * tp.n_slices;
        e->cfg_beats++;
        e->wgt_beats += tp.wgt_beats;
        e->act_beats += tp.act_beats;
        e->out_rows += pixels;
        /* The activation stream runs from the first LOAD cycle on, beside the weights; the
         * steps and the output pixels follow the weights. */
        double load = (double)tp.wgt_beats / pv, act = (double)tp.act_beats / pv;
        double run = (double)steps, out = (double)pixels / pr;
        run = load + (run > out ? run : out);
        cycles += 1.0 / pv + (run > act ? run : act) + 4.0;
    }
    e->cycles = (uint64_t)t->reset_cycles + t->tail_cycles + (uint64_t)(cycles + 0.5);
}

uint64_t mpq_gen_bytes(const mpq_hw_layer *l)
{
    uint64_t outs = (uint64_t)l->m * l->n;
    uint64_t x = mpq_conv_in_count(&l->s) * sizeof *l->x;
    /* Each weight: its ternary code and sparse value, and the functional model's three
     * 16-bit copies of it in the MAC engine's layout (mpq_mac.h). */
    uint64_t w = mpq_conv_w_count(&l->s) * (sizeof *l->t + sizeof *l->hp + 3 * sizeof(int16_t));
    uint64_t chan = (uint64_t)l->n * (4 * sizeof *l->alpha + 1); /* alpha bias mult shift, ovf */
    return x + w + chan + outs * (sizeof(int32_t) + 1);         /* y and its overflow flags */
}
