/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpi_cases: writes random layers and the golden model's answers for them, computed by
 * calling mpq_fc, mpq_conv and mpq_pool directly, for tb_golden_dpi.sv, which computes the
 * same layers through mpq_golden_pkg (DPI-C, the class's chunked transfers, the scoreboard
 * handle) and must find every output, accumulator and overflow flag the same.
 *
 *   dpi_cases --seed N [--cases N] -o FILE
 *
 * The file is text, one item per line, whitespace-separated integers:
 *   mpq-dpi-cases 1 <seed> <cases>
 *   case <kind>                      (mpq_layer_kind), then for FC: fc <m> <k> <n>
 *   shape <b> <in_h> <in_w> <in_c> <out_c> <kh> <kw> <sy> <sx> <py> <px> <dy> <dx> <groups>
 *         <out_h> <out_w>            (spatial kinds)
 *   scalars <in_offset> <w_offset> <acc_bits> <acc_mode> <order> <group> <rq_kind> <nparams>
 *           <round> <ovf> <out_offset> <act_min> <act_max> <alpha_per_tensor>
 *   put <tensor> <count> <values...> (mpq_sb_tensor; only the tensors the layer has)
 *   want <tensor> <count> <values...> (MPQ_SB_Y, MPQ_SB_OVF, MPQ_SB_FIRST)
 *   want_acc <count> <values...>
 *   want_novf <n_final> <n_any>
 *   describe <index> <got>           then one line: the report after comparing only that
 *                                    element with `got` (mpq_sb_report's text)
 *   end
 * Exit 0, 1 (the library refused a layer it generated: a bug), 2 (bad option).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq_rng.h"
#include "export/mpq_sb.h"

#define MAXT 2048

typedef struct gen_case {
    mpq_conv_shape s;                 /* kind MPQ_LAYER_FC: m, k, n below */
    unsigned m, k, n;
    size_t nx, nw, ny;
    int32_t x[MAXT], w[MAXT], t[MAXT], hp[MAXT], alpha[64], bias[64], mult[64], shift[64];
    int8_t t8[MAXT];
    int with_w, with_t, with_bias;
    int32_t in_off, w_off;
    unsigned bits, group;
    int sat, grouped, alpha_pt;
    mpq_rq_kind rq;
    unsigned nparams;
    mpq_round round;
    mpq_ovf_mode ovf;
    int32_t out_off, lo, hi;
} gen_case;

static int64_t rnd(mpq_rng *r, int64_t lo, int64_t hi)
{
    return mpq_rng_range(r, lo, hi);
}

static void put_list(FILE *f, const char *head, const int32_t *v, size_t n)
{
    fprintf(f, "%s %zu", head, n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, " %" PRId32, v[i]);
    fputc('\n', f);
}

/* A legal spatial shape of the kind, small enough for MAXT; 0 when this draw is not. */
static int gen_shape(mpq_rng *r, gen_case *c)
{
    mpq_conv_shape *s = &c->s;
    int pool = s->kind == MPQ_LAYER_AVGPOOL || s->kind == MPQ_LAYER_MAXPOOL;
    s->batches = (unsigned)rnd(r, 1, 2);
    s->in_h = (unsigned)rnd(r, 1, 8);
    s->in_w = (unsigned)rnd(r, 1, 8);
    s->kh = (unsigned)rnd(r, 1, 3);
    s->kw = (unsigned)rnd(r, 1, 3);
    s->sy = (unsigned)rnd(r, 1, 2);
    s->sx = (unsigned)rnd(r, 1, 3);
    s->dy = pool ? 1 : (unsigned)rnd(r, 1, 2);
    s->dx = pool ? 1 : (unsigned)rnd(r, 1, 2);
    s->groups = s->kind == MPQ_LAYER_CONV2D ? (unsigned)rnd(r, 1, 3) : 1;
    s->in_c = s->groups * (unsigned)rnd(r, 1, 4);
    s->out_c = s->kind == MPQ_LAYER_CONV2D ? s->groups * (unsigned)rnd(r, 1, 3)
             : s->kind == MPQ_LAYER_DEPTHWISE ? s->in_c * (unsigned)rnd(r, 1, 2) : s->in_c;
    int same = (int)rnd(r, 0, 1);
    if (mpq_sb_padding(s->in_h, s->kh, s->sy, s->dy, same, &s->py, &s->out_h) ||
        mpq_sb_padding(s->in_w, s->kw, s->sx, s->dx, same, &s->px, &s->out_w))
        return 0;
    char err[256];
    if (mpq_conv_check(s, err, sizeof err))
        return 0;
    c->nx = mpq_conv_in_count(s);
    c->nw = mpq_conv_w_count(s);
    c->ny = mpq_conv_out_count(s);
    c->n = s->out_c;
    return c->nx <= MAXT && c->nw <= MAXT && c->ny <= MAXT;
}

/* Weights, biases and the requantization of an FC or convolution. */
static void gen_mac(mpq_rng *r, gen_case *c)
{
    c->with_w = (int)rnd(r, 0, 1);
    c->with_t = !c->with_w || rnd(r, 0, 1);
    c->with_bias = (int)rnd(r, 0, 3) != 0;
    for (size_t i = 0; i < c->nw; i++) {
        c->w[i] = (int32_t)rnd(r, -128, 127);
        c->t[i] = (int32_t)rnd(r, -1, 1);
        c->t8[i] = (int8_t)c->t[i];
        c->hp[i] = rnd(r, 0, 3) ? 0 : (int32_t)rnd(r, -127, 127);
    }
    c->in_off = (int32_t)rnd(r, -4, 4);
    c->w_off = c->with_w ? (int32_t)rnd(r, -2, 2) : 0;
    /* Narrow accumulators now and then, so that overflows are reported. */
    c->bits = rnd(r, 0, 2) ? 32 : (unsigned)rnd(r, 10, 18);
    c->sat = (int)rnd(r, 0, 1);
    c->grouped = (int)rnd(r, 0, 1);
    c->group = (unsigned)rnd(r, 1, 4);
    c->alpha_pt = (int)rnd(r, 0, 3) == 0;
    c->rq = (mpq_rq_kind)rnd(r, MPQ_RQ_DOUBLE, MPQ_RQ_GENERIC);
    c->nparams = rnd(r, 0, 3) ? c->n : 1;
    c->round = (mpq_round)rnd(r, 0, MPQ_ROUND_COUNT - 1);
    c->ovf = (mpq_ovf_mode)rnd(r, 0, MPQ_OVF_COUNT - 1);
    for (unsigned i = 0; i < c->n; i++) {
        c->alpha[i] = (int32_t)rnd(r, 1, 90);
        c->bias[i] = (int32_t)rnd(r, -3000, 3000);
        if (c->rq == MPQ_RQ_GENERIC) {
            c->mult[i] = (int32_t)rnd(r, 1, 1 << 16);
            c->shift[i] = (int32_t)rnd(r, 10, 24);
        } else {
            /* TFLite's per-channel multipliers from float scales */
            float in = 0.02f, w = 0.0004f * (float)rnd(r, 1, 60), out = 0.05f;
            mpq_sb_quantize_scale(in, w, out, &c->mult[i], &c->shift[i]);
        }
    }
    c->out_off = (int32_t)rnd(r, -10, 10);
}

static int write_report(FILE *f, const gen_case *c, const int32_t *y, mpq_rng *r);

/* Computes the layer with the library's functions and writes its item. */
static int compute_and_write(FILE *f, gen_case *c, mpq_rng *r)
{
    static int32_t y[MAXT], first[MAXT];
    static int64_t acc[MAXT];
    static uint8_t flags[MAXT];
    char err[512];
    int pool = c->s.kind == MPQ_LAYER_AVGPOOL || c->s.kind == MPQ_LAYER_MAXPOOL;
    size_t n_final = 0, n_any = 0;
    int st;
    if (pool) {
        st = mpq_pool(&c->s, c->x, c->lo, c->hi, y, err, sizeof err);
    } else {
        mpq_requant rq = {
            .kind = c->rq, .nparams = c->nparams, .mult = c->mult, .shift = c->shift,
            .round = c->round, .ovf = c->ovf, .out_offset = c->out_off, .act_min = c->lo,
            .act_max = c->hi,
        };
        mpq_fc_layer fc = {
            .m = c->m, .k = c->k, .n = c->n, .x = c->x, .in_offset = c->in_off,
            .w = c->with_w ? c->w : NULL, .w_offset = c->w_off, .t = c->with_t ? c->t8 : NULL,
            .alpha = c->with_t ? c->alpha : NULL, .alpha_per_tensor = c->alpha_pt,
            .hp = c->with_t ? c->hp : NULL, .bias = c->with_bias ? c->bias : NULL,
            .acc_bits = c->bits, .acc_mode = c->sat ? MPQ_ACC_SAT : MPQ_ACC_WRAP,
            .order = c->grouped ? MPQ_ORDER_GROUPED : MPQ_ORDER_SEQ, .group = c->group,
        };
        if (c->s.kind == MPQ_LAYER_FC) {
            mpq_fc_ovf o = {.flags = flags, .first_k = first};
            st = mpq_fc(&fc, &rq, y, acc, &o, err, sizeof err);
            n_final = o.n_final;
            n_any = o.n_any;
        } else {
            mpq_conv_layer l = mpq_conv_layer_of_fc(&c->s, &fc);
            mpq_conv_ovf o = {.flags = flags, .first_r = first};
            st = mpq_conv(&l, &rq, y, acc, &o, err, sizeof err);
            n_final = o.n_final;
            n_any = o.n_any;
        }
    }
    if (st) {
        fprintf(stderr, "dpi_cases: the golden model refused a generated %s layer: %s\n",
                mpq_layer_name(c->s.kind), err);
        return 1;
    }
    fprintf(f, "case %d\n", (int)c->s.kind);
    const mpq_conv_shape *s = &c->s;
    if (s->kind == MPQ_LAYER_FC)
        fprintf(f, "fc %u %u %u\n", c->m, c->k, c->n);
    else
        fprintf(f, "shape %u %u %u %u %u %u %u %u %u %u %u %u %u %u %u %u\n", s->batches, s->in_h,
                s->in_w, s->in_c, s->out_c, s->kh, s->kw, s->sy, s->sx, s->py, s->px, s->dy,
                s->dx, s->groups, s->out_h, s->out_w);
    fprintf(f, "scalars %d %d %u %d %d %u %d %u %d %d %d %d %d %d\n", c->in_off, c->w_off,
            c->bits, c->sat, c->grouped, c->group, (int)c->rq, c->nparams, (int)c->round,
            (int)c->ovf, c->out_off, c->lo, c->hi, c->alpha_pt);
    char head[32];
    snprintf(head, sizeof head, "put %d", MPQ_SB_X);
    put_list(f, head, c->x, c->nx);
    if (!pool) {
        const struct { int tensor, on; const int32_t *v; size_t n; } puts[] = {
            {MPQ_SB_W, c->with_w, c->w, c->nw},
            {MPQ_SB_T, c->with_t, c->t, c->nw},
            {MPQ_SB_ALPHA, c->with_t, c->alpha, c->n},
            {MPQ_SB_HP, c->with_t, c->hp, c->nw},
            {MPQ_SB_BIAS, c->with_bias, c->bias, c->n},
            {MPQ_SB_MULT, 1, c->mult, c->nparams},
            {MPQ_SB_SHIFT, 1, c->shift, c->nparams},
        };
        for (size_t i = 0; i < sizeof puts / sizeof puts[0]; i++) {
            if (!puts[i].on)
                continue;
            snprintf(head, sizeof head, "put %d", puts[i].tensor);
            put_list(f, head, puts[i].v, puts[i].n);
        }
    }
    snprintf(head, sizeof head, "want %d", MPQ_SB_Y);
    put_list(f, head, y, c->ny);
    if (!pool) {
        int32_t flags32[MAXT];
        for (size_t i = 0; i < c->ny; i++)
            flags32[i] = flags[i];
        snprintf(head, sizeof head, "want %d", MPQ_SB_OVF);
        put_list(f, head, flags32, c->ny);
        snprintf(head, sizeof head, "want %d", MPQ_SB_FIRST);
        put_list(f, head, first, c->ny);
        fprintf(f, "want_acc %zu", c->ny);
        for (size_t i = 0; i < c->ny; i++)
            fprintf(f, " %" PRId64, acc[i]);
        fprintf(f, "\nwant_novf %zu %zu\n", n_final, n_any);
    }
    return write_report(f, c, y, r);
}

/* The scoreboard's report of one wrong output of the layer (y: its outputs), from a handle on
 * the same layer: a "describe" item. */
static int write_report(FILE *f, const gen_case *c, const int32_t *y, mpq_rng *r)
{
    const mpq_conv_shape *s = &c->s;
    int pool = s->kind == MPQ_LAYER_AVGPOOL || s->kind == MPQ_LAYER_MAXPOOL;
    mpq_sb *sb = mpq_sb_new();
    size_t bad = (size_t)rnd(r, 0, (int64_t)c->ny - 1);
    int32_t got = y[bad] == c->hi ? y[bad] - 1 : y[bad] + 1;
    int ok = sb != NULL;
    if (ok && s->kind == MPQ_LAYER_FC)
        ok = !mpq_sb_fc(sb, c->m, c->k, c->n);
    else if (ok)
        ok = !mpq_sb_conv(sb, s->kind, s->batches, s->in_h, s->in_w, s->in_c, s->out_c, s->kh,
                          s->kw, s->sy, s->sx, s->py, s->px, s->dy, s->dx, s->groups, s->out_h,
                          s->out_w);
    ok = ok && !mpq_sb_put(sb, MPQ_SB_X, 0, c->nx, c->x) &&
         !mpq_sb_output(sb, pool ? 0 : c->out_off, c->lo, c->hi);
    if (ok && !pool)
        ok = !mpq_sb_offsets(sb, c->in_off, c->w_off) &&
             !mpq_sb_acc(sb, c->bits, c->sat, c->grouped, c->group) &&
             !mpq_sb_requant(sb, (int)c->rq, c->nparams) &&
             !mpq_sb_requant_generic(sb, (int)c->round, (int)c->ovf) &&
             !mpq_sb_alpha_per_tensor(sb, c->alpha_pt) &&
             (!c->with_w || !mpq_sb_put(sb, MPQ_SB_W, 0, c->nw, c->w)) &&
             (!c->with_t || (!mpq_sb_put(sb, MPQ_SB_T, 0, c->nw, c->t) &&
                             !mpq_sb_put(sb, MPQ_SB_ALPHA, 0, c->n, c->alpha) &&
                             !mpq_sb_put(sb, MPQ_SB_HP, 0, c->nw, c->hp))) &&
             (!c->with_bias || !mpq_sb_put(sb, MPQ_SB_BIAS, 0, c->n, c->bias)) &&
             !mpq_sb_put(sb, MPQ_SB_MULT, 0, c->nparams, c->mult) &&
             !mpq_sb_put(sb, MPQ_SB_SHIFT, 0, c->nparams, c->shift);
    ok = ok && !mpq_sb_run(sb) && mpq_sb_compare(sb, bad, 1, &got) == 1;
    if (!ok) {
        fprintf(stderr, "dpi_cases: the scoreboard handle failed on a %s layer: %s\n",
                mpq_layer_name(s->kind), mpq_sb_error(sb));
        mpq_sb_free(sb);
        return 1;
    }
    fprintf(f, "describe %zu %d\n%s\nend\n", bad, got, mpq_sb_report(sb));
    mpq_sb_free(sb);
    return 0;
}

static int gen_one(FILE *f, mpq_rng *r, gen_case *c, int kind)
{
    memset(&c->s, 0, sizeof c->s);
    c->s.kind = (mpq_layer_kind)kind;
    if (kind == MPQ_LAYER_FC) {
        c->m = (unsigned)rnd(r, 1, 6);
        c->k = (unsigned)rnd(r, 1, 80);
        c->n = (unsigned)rnd(r, 1, 12);
        c->nx = (size_t)c->m * c->k;
        c->nw = (size_t)c->n * c->k;
        c->ny = (size_t)c->m * c->n;
    } else {
        while (!gen_shape(r, c)) {
            memset(&c->s, 0, sizeof c->s);
            c->s.kind = (mpq_layer_kind)kind;
        }
        c->m = c->s.batches * c->s.out_h * c->s.out_w;
        c->k = mpq_conv_depth(&c->s);
    }
    for (size_t i = 0; i < c->nx; i++)
        c->x[i] = (int32_t)rnd(r, -128, 127);
    c->lo = (int32_t)rnd(r, -128, -20);
    c->hi = (int32_t)rnd(r, 20, 127);
    c->out_off = 0; /* pools keep the input's quantization */
    if (kind != MPQ_LAYER_AVGPOOL && kind != MPQ_LAYER_MAXPOOL)
        gen_mac(r, c);
    return compute_and_write(f, c, r);
}

int main(int argc, char **argv)
{
    const char *out = NULL;
    unsigned long long seed = 0;
    long cases = 40;
    int have_seed = 0;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            errno = 0;
            seed = strtoull(argv[++i], &end, 0);
            if (errno || *end || argv[i][0] == '-') {
                fprintf(stderr, "dpi_cases: --seed '%s' is not a non-negative integer\n", argv[i]);
                return 2;
            }
            have_seed = 1;
        } else if (!strcmp(argv[i], "--cases") && i + 1 < argc) {
            cases = strtol(argv[++i], &end, 10);
            if (*end || cases < 5 || cases > 10000) {
                fprintf(stderr, "dpi_cases: --cases '%s' is not a number in 5..10000\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "dpi_cases: unknown or incomplete option '%s'\n"
                    "usage: dpi_cases --seed N [--cases N] -o FILE\n", argv[i]);
            return 2;
        }
    }
    if (!out || !have_seed) {
        fprintf(stderr, "usage: dpi_cases --seed N [--cases N] -o FILE\n");
        return 2;
    }
    /* Written to a temporary name, renamed when complete. */
    size_t tl = strlen(out) + 8;
    char *tmp = malloc(tl);
    gen_case *c = malloc(sizeof *c);
    if (!tmp || !c) {
        fprintf(stderr, "dpi_cases: out of memory\n");
        return 1;
    }
    snprintf(tmp, tl, "%s.tmp", out);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "dpi_cases: cannot write %s: %s\n", tmp, strerror(errno));
        return 2;
    }
    mpq_rng r;
    mpq_rng_seed(&r, seed);
    fprintf(f, "mpq-dpi-cases 1 %llu %ld\n", seed, cases);
    int rc = 0;
    /* Every kind in turn, so that a handful of cases covers all five. */
    for (long i = 0; i < cases && !rc; i++)
        rc = gen_one(f, &r, c, (int)(i % MPQ_LAYER_COUNT));
    if (fclose(f) || rc || rename(tmp, out)) {
        if (!rc)
            fprintf(stderr, "dpi_cases: cannot write %s: %s\n", out, strerror(errno));
        remove(tmp);
        rc = rc ? rc : 1;
    }
    free(tmp);
    free(c);
    if (!rc)
        printf("dpi_cases: %ld layers (seed %llu) in %s\n", cases, seed, out);
    return rc;
}
