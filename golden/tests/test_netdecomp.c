/* SPDX-License-Identifier: Apache-2.0 */
/* test_netdecomp: int8 layers decomposed into ternary + sparse int8 and mapped onto the
 * ternary configurations (stim/mpq_netmap.h: mpq_qlayer_decompose, mpq_map_opts.decomp).
 * - the decomposition obeys its structure (N per group along the axis, round(D*K) per channel
 *   unstructured), its widths, and requantizes as a converter would: the decomposed layer's
 *   integer outputs are within 1 of the float layer of the decomposed real weights, the int8
 *   model's real bias and the same scales; an empty channel keeps its int8 parameters;
 * - mapped on tern, default, mix2 (20-bit accumulator) and int8, the parts' outputs gathered
 *   (the functional model of each part, and the golden cycle model on some) equal the
 *   functional model of the decomposed layer, bands and packed taps included;
 * - what a configuration cannot hold is refused with its N:G rule; a thin layer is packed only
 *   when the packed layout keeps the rule. */
#include <math.h>
#include <string.h>

#include "arith/mpq.h"
#include "check.h"
#include "contract/mpq_hw.h"
#include "net/mpq_netrun.h"
#include "stim/mpq_netmap.h"
#include "test_cfgs.h"
#include "test_layers.h"

static double unit(void)
{
    return (double)(test_rand() >> 11) / 9007199254740992.0;
}

static unsigned chan_of(const test_layer *r, size_t i)
{
    if (r->q.s.kind == MPQ_LAYER_DEPTHWISE)
        return (unsigned)(i % r->q.s.out_c);
    return (unsigned)(i / r->depth);
}

/* A random int8 layer with float scales the way a converter writes them: weights of a
 * bell-shaped distribution scaled per channel to 127, a real bias, the multiplier from the
 * scales. */
static void rl_make(test_layer *r, const mpq_conv_shape *s, unsigned m, unsigned k, unsigned n, int per_tensor)
{
    int fc = s->kind == MPQ_LAYER_FC;
    test_layer_alloc(r, s, m, k, n);
    r->sw = malloc(r->nch * sizeof *r->sw);
    double s_in = 0.01 + 0.05 * unit(), s_out = 0.05 + 0.2 * unit();
    unsigned nsw = per_tensor ? 1 : r->nch;
    for (unsigned c = 0; c < nsw; c++)
        r->sw[c] = (float)(0.002 + 0.02 * unit());
    /* sum of three uniforms: a bell, most weights small, a few at the channel's maximum */
    double *wr = malloc(r->nw * sizeof *wr);
    double *mx = calloc(r->nch, sizeof *mx);
    for (size_t i = 0; i < r->nw; i++) {
        wr[i] = unit() + unit() + unit() - 1.5;
        mx[chan_of(r, i)] = fmax(mx[chan_of(r, i)], fabs(wr[i]));
    }
    for (size_t i = 0; i < r->nw; i++) {
        unsigned c = chan_of(r, i);
        r->w[i] = (int32_t)lrint(wr[i] / (mx[c] > 0 ? mx[c] : 1.0) * 127.0);
    }
    r->q.w_offset = per_tensor && fc ? (int32_t)test_range(-3, 3) : 0;
    for (unsigned c = 0; c < r->nch; c++) {
        r->bias[c] = (int32_t)test_range(-3000, 3000);
        int sh;
        mpq_quantize_multiplier(s_in * r->sw[per_tensor ? 0 : c] / s_out, &r->mult[c], &sh);
        r->shift[c] = sh;
    }
    free(wr);
    free(mx);
    r->q.nparams = r->nch;
    test_layer_link(r);
    r->q.in_scale = s_in;
    r->q.out_scale = s_out;
    r->q.w_scale = r->sw;
    r->q.nw_scale = nsw;
}

/* The structure the decomposition promised: non-zero sparse entries per group along the axis
 * (a window of one position: along the channels), or per output channel. */
static void check_structure(const test_layer *r, const mpq_map_decomp *d, const mpq_qdecomp *dq,
                            const char *what)
{
    const mpq_conv_shape *s = &r->q.s;
    int fc = s->kind == MPQ_LAYER_FC, dw = s->kind == MPQ_LAYER_DEPTHWISE;
    unsigned taps = fc ? 1 : s->kh * s->kw, f = r->depth / taps;
    mpq_decomp_axis axis = d->axis == MPQ_DECOMP_WINDOW && taps == 1 ? MPQ_DECOMP_CHANNEL : d->axis;
    size_t nnz = 0;
    for (unsigned o = 0; o < r->nch; o++) {
        unsigned per_chan = 0, worst = 0;
        for (unsigned tap = 0; tap < taps; tap++)
            for (unsigned c = 0; c < f; c++) {
                size_t i = dw ? (size_t)tap * s->out_c + o : (size_t)o * r->depth + (size_t)tap * f + c;
                CHECK(dq->t[i] >= -1 && dq->t[i] <= 1, "%s: t not ternary", what);
                CHECK(abs(dq->hp[i]) <= 127, "%s: hp %d beyond 8 bits", what, dq->hp[i]);
                per_chan += dq->hp[i] != 0;
                nnz += dq->hp[i] != 0;
                if (axis == MPQ_DECOMP_UNSTRUCTURED || !dq->hp[i])
                    continue;
                /* the group of (o, tap, c) and its count */
                unsigned cnt = 0;
                if (axis == MPQ_DECOMP_CHANNEL && dw) {
                    unsigned g0 = o / d->group * d->group;
                    for (unsigned oo = g0; oo < g0 + d->group && oo < r->nch; oo++)
                        cnt += dq->hp[(size_t)tap * s->out_c + oo] != 0;
                } else if (axis == MPQ_DECOMP_CHANNEL) {
                    unsigned c0 = c / d->group * d->group;
                    for (unsigned cc = c0; cc < c0 + d->group && cc < f; cc++)
                        cnt += dq->hp[(size_t)o * r->depth + (size_t)tap * f + cc] != 0;
                } else {
                    unsigned t0 = tap / d->group * d->group;
                    for (unsigned tt = t0; tt < t0 + d->group && tt < taps; tt++)
                        cnt += dq->hp[dw ? (size_t)tt * s->out_c + o : (size_t)o * r->depth + (size_t)tt * f + c] != 0;
                }
                worst = cnt > worst ? cnt : worst;
            }
        CHECK(worst <= d->hp_n, "%s: channel %u: a group holds %u sparse weights, N = %u", what, o, worst, d->hp_n);
        if (axis == MPQ_DECOMP_UNSTRUCTURED)
            CHECK(per_chan <= (unsigned)lround(d->density * r->depth), "%s: channel %u keeps %u of %u", what, o,
                  per_chan, r->depth);
        CHECK(dq->alpha[o] >= 0 && dq->alpha[o] <= 127, "%s: alpha %d", what, dq->alpha[o]);
    }
    CHECK_EQ(nnz, dq->hp_nnz, "%s: hp_nnz", what);
    CHECK_EQ(dq->weights, r->nw, "%s: weights", what);
}

/* The requantization: outputs within 1 of the float layer with the decomposed real weights
 * step*(alpha*t + hp), the model's real bias and scales; mult/shift/bias as specified. */
static void check_requant(const mpq_hwcfg *hw, const test_layer *r, const mpq_qdecomp *dq, const char *what)
{
    char err[256];
    for (unsigned c = 0; c < r->nch; c++) {
        double sw = r->sw[r->q.nw_scale == 1 ? 0 : c];
        int32_t m;
        int sh;
        mpq_quantize_multiplier(r->q.in_scale * dq->step[c] / r->q.out_scale, &m, &sh);
        CHECK(dq->mult[c] == m && dq->shift[c] == sh, "%s: channel %u multiplier", what, c);
        CHECK(fabs(dq->bias[c] - r->bias[c] * sw / dq->step[c]) <= 0.5 + 1e-6, "%s: channel %u bias %d for %g",
              what, c, dq->bias[c], r->bias[c] * sw / dq->step[c]);
    }
    int32_t *y = malloc(r->ny * sizeof *y);
    CHECK(mpq_qlayer_expected(hw, &dq->q, r->x, y, err, sizeof err) == 0, "%s: %s", what, err);
    /* the float layer: real weights, real input x + in_offset scaled, real bias */
    double *xf = malloc(r->nx * sizeof *xf), *wf = malloc(r->nw * sizeof *wf), *bf = malloc(r->nch * sizeof *bf);
    double *yf = malloc(r->ny * sizeof *yf);
    for (size_t i = 0; i < r->nx; i++)
        xf[i] = r->q.in_scale * ((double)r->x[i] + r->q.in_offset);
    for (size_t i = 0; i < r->nw; i++) {
        unsigned c = chan_of(r, i);
        wf[i] = dq->step[c] * ((double)dq->alpha[c] * dq->t[i] + dq->hp[i]);
    }
    for (unsigned c = 0; c < r->nch; c++)
        bf[c] = (double)r->bias[c] * r->q.in_scale * r->sw[r->q.nw_scale == 1 ? 0 : c];
    if (r->q.s.kind == MPQ_LAYER_FC)
        mpq_fc_f64(r->q.m, r->q.k, r->q.n, xf, wf, bf, yf);
    else
        CHECK(mpq_conv_f64(&r->q.s, xf, wf, bf, yf, err, sizeof err) == 0, "%s: %s", what, err);
    size_t bad = 0;
    for (size_t i = 0; i < r->ny; i++) {
        double v = r->q.out_offset + yf[i] / r->q.out_scale;
        v = fmin(fmax(v, r->q.act_min), r->q.act_max);
        if (fabs(y[i] - v) > 1.0 && bad++ < 3)
            CHECK(0, "%s: output %zu: %d, the float layer %.3f", what, i, y[i], v);
    }
    free(xf);
    free(wf);
    free(bf);
    free(yf);
    free(y);
}

/* Maps r decomposed by d on hw; the gathered parts (functional model; the cycle model on the
 * first part when cycles) equal mpq_qlayer_expected of the decomposed layer. Returns 0, the
 * map's packed flag + 1, or -1 refused (err holds why). */
static int map_check(const mpq_hwcfg *hw, const test_layer *r, const mpq_map_decomp *d, int cycles, char *err,
                     size_t errlen)
{
    mpq_map map;
    mpq_map_opts o = {.pack = 1, .decomp = d};
    if (mpq_map_layer(hw, &r->q, r->x, &o, &map, err, errlen) != 0)
        return -1;
    CHECK(map.decomposed, "the map says it decomposed");
    int32_t *y = calloc(r->ny, sizeof *y), *yc = calloc(r->ny, sizeof *yc), *ref = calloc(r->ny, sizeof *ref);
    for (unsigned p = 0; p < map.nparts; p++) {
        const mpq_hw_layer *L = &map.part[p].L;
        int32_t *yp = malloc((size_t)L->m * L->n * sizeof *yp);
        CHECK(mpq_hw_layer_expected(hw, L, yp, NULL) == 0, "part %u: expected outputs", p);
        mpq_map_gather(&map, p, yp, y);
        if (cycles && p == 0) {
            mpq_accel_where w = {"test", 0, 0, 0, &map, p, 0};
            mpq_accel_stats st;
            CHECK(mpq_accel_cycle_model.run(NULL, hw, L, &w, yp, &st, err, errlen) == 0, "cycle model: %s", err);
            int32_t *ye = malloc((size_t)L->m * L->n * sizeof *ye);
            CHECK(mpq_hw_layer_expected(hw, L, ye, NULL) == 0, "part 0: expected");
            CHECK(memcmp(ye, yp, (size_t)L->m * L->n * sizeof *ye) == 0, "%s: the cycle model's outputs differ",
                  map.how);
            CHECK(st.cycles > 0, "cycles counted");
            free(ye);
        }
        free(yp);
    }
    CHECK(mpq_qlayer_expected(hw, &map.dq.q, r->x, ref, err, errlen) == 0, "expected: %s", err);
    size_t first, bad = test_count_diff(y, ref, r->ny, &first);
    CHECK(bad == 0, "%s on AccBits %u: %zu of %zu outputs differ, first %zu: %d, want %d", map.how, hw->acc_bits, bad,
          r->ny, first, y[first], ref[first]);
    int packed = map.packed;
    mpq_map_free(&map);
    free(y);
    free(yc);
    free(ref);
    return packed + 1;
}

static mpq_map_decomp spec(mpq_decomp_axis axis, unsigned n, unsigned g, double density)
{
    mpq_map_decomp d = {.axis = axis, .hp_n = n, .group = g, .density = density, .thr = 0.7};
    return d;
}

int main(void)
{
    test_seed("test_netdecomp", 20261210);
    mpq_hwcfg tern = test_load_cfg("tern"), def = test_load_cfg("default");
    mpq_hwcfg mix2 = test_load_cfg("mix2"), int8 = test_load_cfg("int8");
    const mpq_hwcfg *cfgs[] = {&tern, &def, &mix2, &int8};
    char err[512];
    unsigned ran[4] = {0}, refused[4] = {0}, packed = 0;

    for (int i = 0; i < 160; i++) {
        test_layer r;
        int kind = (int)test_range(0, 3);
        mpq_conv_shape s = test_fc_shape();
        if (kind == 0) {
            rl_make(&r, &s, (unsigned)test_range(1, 4), (unsigned)test_range(8, 300), (unsigned)test_range(1, 24),
                    (int)test_range(0, 1));
        } else {
            unsigned k = (unsigned)test_range(1, 3) * 2 - 1;
            unsigned c = kind == 3 ? (unsigned)test_range(1, 3) : (unsigned)test_range(4, 48);
            unsigned o = kind == 2 ? c : (unsigned)test_range(1, 20);
            s = test_conv_shape(kind == 2 ? MPQ_LAYER_DEPTHWISE : MPQ_LAYER_CONV2D, (unsigned)test_range(k, 10),
                                (unsigned)test_range(k, 24), c, o, k, k, (unsigned)test_range(1, 2), 1, 1);
            rl_make(&r, &s, 0, 0, 0, 0);
        }
        /* the grid's structures, and the ternary configurations' own */
        mpq_map_decomp d;
        switch (i % 6) {
        case 0: d = spec(MPQ_DECOMP_CHANNEL, 0, 1, 0); break;
        case 1: d = spec(MPQ_DECOMP_CHANNEL, 1, 16, 0); break;
        case 2: d = spec(MPQ_DECOMP_CHANNEL, 2, 16, 0); break;
        case 3: d = spec(MPQ_DECOMP_CHANNEL, (unsigned)test_range(1, 4), 8, 0); break;
        case 4: d = spec(MPQ_DECOMP_WINDOW, (unsigned)test_range(1, 3), 9, 0); break;
        default: d = spec(MPQ_DECOMP_UNSTRUCTURED, 0, 0, unit() * 0.5); break;
        }
        char what[96];
        snprintf(what, sizeof what, "layer %d (kind %d, axis %d, %u:%u, %.3f)", i, kind, (int)d.axis, d.hp_n,
                 d.group, d.density);
        mpq_qdecomp dq;
        CHECK(mpq_qlayer_decompose(&int8, &r.q, &d, &dq, err, sizeof err) == 0, "%s: %s", what, err);
        check_structure(&r, &d, &dq, what);
        check_requant(&int8, &r, &dq, what);
        mpq_qdecomp_free(&dq);
        for (int k = 0; k < 4; k++) {
            int rc = map_check(cfgs[k], &r, &d, i < 40, err, sizeof err);
            if (rc < 0) {
                refused[k]++;
                CHECK(k < 3, "int8 holds any pattern: %s", err);
                CHECK(strstr(err, "HpPerGroup") || strstr(err, "KMax") || strstr(err, "band"),
                      "%s: the refusal names the rule: %s", what, err);
            } else {
                ran[k]++;
                packed += rc == 2;
            }
        }
        test_layer_free(&r);
    }
    printf("test_netdecomp: 160 random layers decomposed; ran / refused on tern %u/%u, default %u/%u, "
           "mix2 %u/%u, int8 %u/%u; %u packed\n", ran[0], refused[0], ran[1], refused[1], ran[2], refused[2],
           ran[3], refused[3], packed);
    CHECK(ran[0] > 20 && ran[1] > 40 && ran[2] > 50, "the ternary configurations ran too few layers");
    CHECK(refused[0] > 20 && refused[1] > 20, "too few refusals: the N:G rule was not exercised");
    CHECK(packed > 3, "packing was not exercised (%u)", packed);

    /* Density 1: every residual kept, the weights nearly exact; the channels whose int8
     * weights are all zero keep their bias, multiplier and shift. */
    {
        test_layer r;
        mpq_conv_shape s = test_conv_shape(MPQ_LAYER_CONV2D, 6, 6, 32, 8, 3, 3, 1, 1, 1);
        rl_make(&r, &s, 0, 0, 0, 0);
        for (unsigned i = 0; i < r.depth; i++)
            r.w[3 * r.depth + i] = 0;
        mpq_map_decomp d = spec(MPQ_DECOMP_UNSTRUCTURED, 0, 0, 1.0);
        mpq_qdecomp dq;
        CHECK(mpq_qlayer_decompose(&def, &r.q, &d, &dq, err, sizeof err) == 0, "%s", err);
        CHECK(dq.err_norm2 < 1e-4 * dq.w_norm2, "density 1: relative error %g", sqrt(dq.err_norm2 / dq.w_norm2));
        CHECK(dq.bias[3] == r.bias[3] && dq.mult[3] == r.mult[3] && dq.shift[3] == r.shift[3],
              "an empty channel keeps its parameters: bias %d/%d mult %d/%d shift %d/%d", dq.bias[3], r.bias[3],
              dq.mult[3], r.mult[3], dq.shift[3], r.shift[3]);
        mpq_qdecomp_free(&dq);
        test_layer_free(&r);
    }
    /* A thin first layer: ternary alone packs its taps; 1:16 along the channels groups along
     * the packed channels (the layout the layer runs in), so it packs on default too; with
     * --pack never it groups per window position (every weight of a one-channel layer). */
    {
        test_layer r;
        mpq_conv_shape s = test_conv_shape(MPQ_LAYER_CONV2D, 20, 10, 1, 16, 5, 4, 2, 1, 1);
        rl_make(&r, &s, 0, 0, 0, 0);
        mpq_map_decomp t = spec(MPQ_DECOMP_CHANNEL, 0, 1, 0), c1 = spec(MPQ_DECOMP_CHANNEL, 1, 16, 0);
        CHECK(map_check(&tern, &r, &t, 1, err, sizeof err) == 2, "ternary packs: %s", err);
        CHECK(map_check(&def, &r, &c1, 1, err, sizeof err) == 2, "1:16 packs: %s", err);
        CHECK(map_check(&tern, &r, &c1, 0, err, sizeof err) == -1 && strstr(err, "HpPerGroup = 0"),
              "tern refuses sparse weights: %s", err);
        test_layer_free(&r);
    }
    /* Depthwise layers decomposed at channels 1:16 on default: the N:G groups are the packed
     * layout's, so every one packs its taps (channel multipliers, strides, dilation, several
     * images), exactly, and in fewer cycles than the plain depthwise mapping. */
    {
        unsigned dw_packed = 0;
        for (int i = 0; i < 24; i++) {
            test_layer r;
            unsigned c = (unsigned)test_range(1, 40), cm = (unsigned)test_range(1, 3), k = (unsigned)test_range(2, 5);
            unsigned d = test_range(0, 3) == 0 ? 2 : 1, e = (k - 1) * d + 1;
            mpq_conv_shape s = test_conv_shape(MPQ_LAYER_DEPTHWISE, (unsigned)test_range(e, 12),
                                               (unsigned)test_range(e, 20), c, c * cm, k, k,
                                               (unsigned)test_range(1, 2), d, (int)test_range(0, 1));
            s.batches = (unsigned)test_range(1, 3);
            if (mpq_conv_check(&s, err, sizeof err) != 0)
                continue;
            rl_make(&r, &s, 0, 0, 0, 0);
            mpq_map_decomp c1 = spec(MPQ_DECOMP_CHANNEL, 1, 16, 0);
            int rc = map_check(&def, &r, &c1, i < 8, err, sizeof err);
            CHECK(rc > 0, "depthwise %u channels x %u, k %u, dilation %u: %s", c, cm, k, d, err);
            dw_packed += rc == 2;
            test_layer_free(&r);
        }
        CHECK(dw_packed >= 12, "too few depthwise layers packed (%u of 24)", dw_packed);
        printf("test_netdecomp: %u of 24 random depthwise layers decomposed at 1:16 ran packed on default\n",
               dw_packed);
    }
    /* Refusals and bad parameters. */
    {
        test_layer r;
        mpq_conv_shape s = test_conv_shape(MPQ_LAYER_CONV2D, 6, 6, 32, 8, 1, 1, 1, 1, 1);
        rl_make(&r, &s, 0, 0, 0, 0);
        mpq_map_decomp c2 = spec(MPQ_DECOMP_CHANNEL, 2, 16, 0), bad = spec(MPQ_DECOMP_CHANNEL, 5, 4, 0);
        CHECK(map_check(&def, &r, &c2, 0, err, sizeof err) == -1 && strstr(err, "N:G rule") &&
                  strstr(err, "HpPerGroup = 1"), "2:16 on default: %s", err);
        CHECK(map_check(&mix2, &r, &c2, 1, err, sizeof err) == 1, "2:16 on mix2: %s", err);
        mpq_qdecomp dq;
        CHECK(mpq_qlayer_decompose(&def, &r.q, &bad, &dq, err, sizeof err) == MPQ_EPARAM && strstr(err, "5:4"),
              "N > G refused: %s", err);
        r.q.w_scale = NULL;
        CHECK(mpq_qlayer_decompose(&def, &r.q, &c2, &dq, err, sizeof err) == MPQ_EPARAM && strstr(err, "scales"),
              "no scales refused: %s", err);
        test_layer_free(&r);
    }
    return check_done("test_netdecomp");
}
