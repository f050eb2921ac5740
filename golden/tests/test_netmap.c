/* SPDX-License-Identifier: Apache-2.0 */
/* test_netmap: a network's int8 layers mapped onto the accelerator (stim/mpq_netmap.h), bands,
 * packed taps and all, give exactly the layer's own outputs: each part's expected outputs
 * (the functional model in the accelerator's order) gathered back equal mpq_conv / mpq_fc of
 * the original layer with TFLite's requantization; the golden cycle model runs a sample of
 * parts; what cannot be mapped is refused with the rule. */
#include <string.h>

#include "arith/mpq.h"
#include "check.h"
#include "contract/mpq_hw.h"
#include "stim/mpq_gen.h"
#include "stim/mpq_netmap.h"
#include "test_cfgs.h"
#include "test_layers.h"

/* A random int8 layer of shape s (kind FC: m, k, n): weights, biases, per-channel or
 * per-tensor requantization, zero points, a fused activation's clamp. */
static void rl_make(test_layer *r, const mpq_conv_shape *s, unsigned m, unsigned k, unsigned n)
{
    test_layer_alloc(r, s, m, k, n);
    for (size_t i = 0; i < r->nw; i++)
        r->w[i] = (int32_t)test_range(-127, 127);
    r->q.nparams = test_range(0, 1) ? r->nch : 1;
    for (unsigned c = 0; c < r->nch; c++) {
        r->bias[c] = (int32_t)test_range(-20000, 20000);
        r->mult[c] = (int32_t)test_range(1 << 30, 0x7fffffff);
        r->shift[c] = (int32_t)test_range(-12, -6);
    }
    test_layer_link(r);
}

/* The layer's outputs by the golden model directly (32-bit wrapping accumulator). */
static void reference(const test_layer *r, int32_t *y)
{
    char err[256];
    mpq_requant rq = {MPQ_RQ_DOUBLE, r->q.nparams, r->mult, r->shift, MPQ_ROUND_FLOOR, MPQ_OVF_SAT,
                      r->q.out_offset, r->q.act_min, r->q.act_max};
    mpq_fc_layer f;
    memset(&f, 0, sizeof f);
    f.x = r->x;
    f.in_offset = r->q.in_offset;
    f.w = r->w;
    f.bias = r->bias;
    f.acc_bits = 32;
    f.acc_mode = MPQ_ACC_WRAP;
    f.order = MPQ_ORDER_SEQ;
    f.group = 1;
    int rc;
    if (r->q.s.kind == MPQ_LAYER_FC) {
        f.m = r->q.m;
        f.k = r->q.k;
        f.n = r->q.n;
        rc = mpq_fc(&f, &rq, y, NULL, NULL, err, sizeof err);
    } else {
        mpq_conv_layer cl = mpq_conv_layer_of_fc(&r->q.s, &f);
        rc = mpq_conv(&cl, &rq, y, NULL, NULL, err, sizeof err);
    }
    CHECK(rc == 0, "reference: %s", err);
}

/* Maps r on hw and checks the gathered outputs; runs the cycle model on the first part when
 * cycles is set. Returns the map's packed flag, or -1 when refused. */
static unsigned refused_ring;
static int map_check(const mpq_hwcfg *hw, const test_layer *r, int pack, int cycles, unsigned *nparts)
{
    char err[512];
    mpq_map map;
    mpq_map_opts o = {.pack = pack};
    *nparts = 0;
    int rc = mpq_map_layer(hw, &r->q, r->x, &o, &map, err, sizeof err);
    if (rc == MPQ_EPARAM && hw->act_depth < 512 && strstr(err, "not even a band of one output column")) {
        refused_ring++; /* the small ring cannot hold one column's window: refused, and said so */
        return -1;
    }
    if (rc != 0) {
        char sh[160] = "fc";
        if (r->q.s.kind != MPQ_LAYER_FC)
            mpq_conv_shape_format(&r->q.s, sh, sizeof sh);
        CHECK(0, "mpq_map_layer refused %s (pack %d): %s", sh, pack, err);
        return -1;
    }
    int32_t *y = calloc(r->ny, sizeof *y), *ref = calloc(r->ny, sizeof *ref);
    for (unsigned p = 0; p < map.nparts; p++) {
        const mpq_hw_layer *L = &map.part[p].L;
        int32_t *yp = malloc((size_t)L->m * L->n * sizeof *yp);
        CHECK(mpq_hw_layer_expected(hw, L, yp, NULL) == 0, "part %u: expected outputs", p);
        mpq_map_gather(&map, p, yp, y);
        free(yp);
        if (cycles && p == 0) {
            mpq_timing_opts t;
            mpq_timing_default(7, 1.0, 1.0, &t);
            mpq_gen *g;
            static mpq_port_in in;
            static mpq_port_out exp;
            CHECK(mpq_gen_new(hw, L, &t, &g, err, sizeof err) == 0, "mpq_gen_new: %s", err);
            int st;
            while ((st = mpq_gen_next(g, &in, &exp)) == 1) {
            }
            CHECK(st == 0, "cycle model: %s", mpq_gen_error(g));
            mpq_gen_free(g);
        }
    }
    reference(r, ref);
    size_t first, bad = test_count_diff(y, ref, r->ny, &first);
    CHECK(bad == 0, "%s: %zu of %zu outputs differ, first %zu: %d, want %d", map.how, bad, r->ny, first,
          y[first], ref[first]);
    int packed = map.packed;
    *nparts = map.nparts;
    mpq_map_free(&map);
    free(y);
    free(ref);
    return packed;
}

/* The golden cycle model's cycles of every part of r mapped on hw (full rate). */
static uint64_t map_cycles(const mpq_hwcfg *hw, const test_layer *r, int pack, int *packed)
{
    char err[512];
    mpq_map map;
    mpq_map_opts o = {.pack = pack};
    CHECK(mpq_map_layer(hw, &r->q, r->x, &o, &map, err, sizeof err) == 0, "map: %s", err);
    uint64_t cycles = 0;
    for (unsigned p = 0; p < map.nparts; p++) {
        mpq_timing_opts t;
        mpq_timing_default(7, 1.0, 1.0, &t);
        mpq_gen *g;
        static mpq_port_in in;
        static mpq_port_out exp;
        CHECK(mpq_gen_new(hw, &map.part[p].L, &t, &g, err, sizeof err) == 0, "mpq_gen_new: %s", err);
        int st;
        while ((st = mpq_gen_next(g, &in, &exp)) == 1) {
        }
        CHECK(st == 0, "cycle model: %s", mpq_gen_error(g));
        cycles += mpq_gen_cycle(g);
        mpq_gen_free(g);
    }
    *packed = map.packed;
    mpq_map_free(&map);
    return cycles;
}

/* Depthwise layers with their taps packed by the host (pack 2: whenever it fits): channel
 * multipliers, strides, dilation, padding, several images, on dense and the small ring
 * (bands); exact. keyword_spotting's depthwise layer packs and takes fewer cycles. */
static void depthwise_packed(const mpq_hwcfg *dense, const mpq_hwcfg *narrow)
{
    char err[512];
    unsigned parts, packed = 0, banded = 0, runs = 0;
    for (int i = 0; i < 60; i++) {
        test_layer r;
        unsigned c = (unsigned)test_range(1, 40), cm = (unsigned)test_range(1, 4), k = (unsigned)test_range(2, 5);
        unsigned d = test_range(0, 3) == 0 ? 2 : 1, e = (k - 1) * d + 1;
        mpq_conv_shape s = test_conv_shape(MPQ_LAYER_DEPTHWISE, (unsigned)test_range(e, 12), (unsigned)test_range(e, 24),
                                           c, c * cm, k, (unsigned)test_range(0, 3) ? k : k - 1,
                                           (unsigned)test_range(1, 2), d, (int)test_range(0, 1));
        s.batches = (unsigned)test_range(1, 3);
        if (mpq_conv_check(&s, err, sizeof err) != 0)
            continue;
        rl_make(&r, &s, 0, 0, 0);
        int pk = map_check(i % 2 ? narrow : dense, &r, 2, i < 12, &parts);
        runs += pk >= 0;
        packed += pk == 1;
        banded += pk == 1 && parts > 1;
        test_layer_free(&r);
    }
    printf("test_netmap: %u random depthwise layers forced packed: %u packed, %u of them in bands\n", runs,
           packed, banded);
    CHECK(packed > runs / 2, "too few depthwise layers packed (%u of %u)", packed, runs);
    CHECK(banded > 2, "packed depthwise bands not exercised (%u)", banded);
    test_layer r;
    mpq_conv_shape s = test_conv_shape(MPQ_LAYER_DEPTHWISE, 25, 5, 64, 64, 3, 3, 1, 1, 1);
    rl_make(&r, &s, 0, 0, 0);
    int pk0, pk1;
    uint64_t plain = map_cycles(dense, &r, 0, &pk0), pck = map_cycles(dense, &r, 1, &pk1);
    CHECK(pk0 == 0 && pk1 == 1, "keyword_spotting's depthwise layer packs (%d, %d)", pk0, pk1);
    CHECK(pck * 3 < plain * 2, "packed taps take fewer cycles: %llu, plain %llu", (unsigned long long)pck,
          (unsigned long long)plain);
    printf("test_netmap: keyword_spotting's 3x3 depthwise layer (25x5x64): %llu cycles packed, %llu plain\n",
           (unsigned long long)pck, (unsigned long long)plain);
    CHECK(map_check(dense, &r, 1, 0, &parts) == 1, "and is exact");
    test_layer_free(&r);
}

int main(void)
{
    test_seed("test_netmap", 20261206);
    mpq_hwcfg dense = test_load_cfg("dense"), def = test_load_cfg("default");
    /* A dense configuration with a small ring, so that wide rows need bands. */
    mpq_hwcfg narrow = dense;
    narrow.act_depth = 64;
    char err[512];
    CHECK(mpq_hwcfg_check(&narrow, err, sizeof err) == 0, "narrow: %s", err);

    unsigned parts, banded = 0, packed = 0;
    for (int i = 0; i < 120; i++) {
        test_layer r;
        int kind = (int)test_range(0, 3);
        mpq_conv_shape s = test_fc_shape();
        if (kind == 0) {
            rl_make(&r, &s, (unsigned)test_range(1, 5), (unsigned)test_range(1, 200), (unsigned)test_range(1, 40));
        } else {
            unsigned k = (unsigned)test_range(1, 4), st = (unsigned)test_range(1, 2);
            unsigned d = k > 1 && test_range(0, 4) == 0 ? 2 : 1;
            unsigned h = (unsigned)test_range((k - 1) * d + 1, 14), w = (unsigned)test_range((k - 1) * d + 1, 40);
            unsigned c = kind == 3 ? (unsigned)test_range(1, 4) : (unsigned)test_range(1, 40);
            unsigned o = kind == 2 ? c * (unsigned)test_range(1, 3) : (unsigned)test_range(1, 20);
            s = test_conv_shape(kind == 2 ? MPQ_LAYER_DEPTHWISE : MPQ_LAYER_CONV2D, h, w, c, o, k,
                                (unsigned)test_range(1, 4) > 2 ? k + 1 : k, st, d, (int)test_range(0, 1));
            if (mpq_conv_check(&s, err, sizeof err) != 0)
                continue;
            rl_make(&r, &s, 0, 0, 0);
        }
        const mpq_hwcfg *hw = i % 2 ? &narrow : &dense;
        int pk = map_check(hw, &r, (int)test_range(0, 2), i < 30, &parts);
        banded += parts > 1;
        packed += pk == 1;
        test_layer_free(&r);
    }
    printf("test_netmap: 120 random layers (FC, conv2d, thin conv2d, depthwise) on dense and a "
           "64-entry ring: %u in bands, %u with packed taps, %u refused (one column's window "
           "beyond the small ring)\n", banded, packed, refused_ring);
    CHECK(refused_ring < 20, "too many refusals (%u)", refused_ring);
    CHECK(banded > 5, "the bands were not exercised (%u)", banded);
    CHECK(packed > 5, "the packing was not exercised (%u)", packed);

    /* The first layers of the MLPerf Tiny networks: packing pays, and is exact. */
    {
        test_layer r;
        mpq_conv_shape s = test_conv_shape(MPQ_LAYER_CONV2D, 96, 96, 3, 8, 3, 3, 2, 1, 1); /* visual_wake_words */
        rl_make(&r, &s, 0, 0, 0);
        CHECK(map_check(&dense, &r, 1, 1, &parts) == 1, "a 3-channel 3x3 layer is packed");
        test_layer_free(&r);
        s = test_conv_shape(MPQ_LAYER_CONV2D, 49, 10, 1, 64, 10, 4, 2, 1, 1); /* keyword_spotting */
        rl_make(&r, &s, 0, 0, 0);
        CHECK(map_check(&dense, &r, 1, 0, &parts) == 1, "a 1-channel 10x4 layer is packed");
        test_layer_free(&r);
        s = test_conv_shape(MPQ_LAYER_CONV2D, 8, 8, 64, 8, 3, 3, 1, 1, 1); /* a wide one is not */
        rl_make(&r, &s, 0, 0, 0);
        CHECK(map_check(&dense, &r, 1, 0, &parts) == 0, "a 64-channel layer is not packed");
        test_layer_free(&r);
    }
    depthwise_packed(&dense, &narrow);
    /* Refusals: int8 weights on a configuration without an entry per position; a reduction
     * beyond the weight buffer. */
    {
        test_layer r;
        mpq_conv_shape s = test_conv_shape(MPQ_LAYER_CONV2D, 6, 6, 16, 8, 3, 3, 1, 1, 1);
        rl_make(&r, &s, 0, 0, 0);
        mpq_map map;
        mpq_map_opts o = {.pack = 1};
        CHECK(mpq_map_layer(&def, &r.q, r.x, &o, &map, err, sizeof err) == MPQ_EPARAM, "default refused");
        CHECK(strstr(err, "HpPerGroup") != NULL, "the message names HpPerGroup: %s", err);
        test_layer_free(&r);
        s = test_conv_shape(MPQ_LAYER_CONV2D, 6, 6, 256, 8, 3, 3, 1, 1, 1);
        rl_make(&r, &s, 0, 0, 0);
        CHECK(mpq_map_layer(&dense, &r.q, r.x, &o, &map, err, sizeof err) == MPQ_EPARAM, "KMax refused");
        CHECK(strstr(err, "weight") != NULL, "the message names the weight buffer: %s", err);
        test_layer_free(&r);
    }
    return check_done("test_netmap");
}
