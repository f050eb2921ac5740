/* SPDX-License-Identifier: Apache-2.0 */
/* cnn_check MODEL [IMAGES]: the quantized CNN's inference in the golden model (mn_qnet_run:
 * mpq_conv's engine in the accelerator's grouped order, mpq_pool) equals a plain
 * recomputation, layer by layer, for the first IMAGES test images (default 20), in every
 * quantization scheme the study uses; and the sparse residual of each scheme has the
 * structure it claims (at most N non-zeros per group along its axis). The recomputation is
 * the textbook loop: for each output, bias + the sum over the window positions inside the
 * input of (x + in_offset) * weight, exact in 64 bits, then mpq_requant_one; max pooling is
 * the largest value of the window. Exit 0 all equal, 1 a difference, 2 bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnist.h"

static int fails;

/* The integer weight of output o, reduction index r (= (ky*kw + kx)*in_c + c). */
static int64_t weight(const mn_qlayer *ql, unsigned o, unsigned r)
{
    size_t i = (size_t)o * ql->k + r;
    if (ql->w)
        return ql->w[i];
    return (int64_t)ql->alpha[o] * ql->t[i] + (ql->hp ? ql->hp[i] : 0);
}

/* One image through one layer, the plain way. */
static void layer_ref(const mn_qlayer *ql, const int32_t *x, int32_t *y)
{
    const mpq_conv_shape *s = &ql->s;
    mpq_requant rq = {.kind = MPQ_RQ_DOUBLE, .nparams = ql->n, .mult = ql->mult, .shift = ql->shift,
                      .out_offset = ql->out_offset, .act_min = ql->act_min, .act_max = ql->act_max};
    for (unsigned oy = 0; oy < s->out_h; oy++)
        for (unsigned ox = 0; ox < s->out_w; ox++)
            for (unsigned o = 0; o < s->out_c; o++) {
                int64_t acc = ql->kind == MPQ_LAYER_MAXPOOL ? INT64_MIN : ql->bias[o];
                for (unsigned ky = 0; ky < s->kh; ky++)
                    for (unsigned kx = 0; kx < s->kw; kx++) {
                        long iy = (long)oy * s->sy - (long)s->py + ky, ix = (long)ox * s->sx - (long)s->px + kx;
                        if (iy < 0 || iy >= (long)s->in_h || ix < 0 || ix >= (long)s->in_w)
                            continue;
                        const int32_t *xp = x + ((size_t)iy * s->in_w + (size_t)ix) * s->in_c;
                        if (ql->kind == MPQ_LAYER_MAXPOOL) {
                            acc = xp[o] > acc ? xp[o] : acc;
                            continue;
                        }
                        for (unsigned c = 0; c < s->in_c; c++)
                            acc += ((int64_t)xp[c] + ql->in_offset) * weight(ql, o, (ky * s->kw + kx) * s->in_c + c);
                    }
                size_t i = ((size_t)oy * s->out_w + ox) * s->out_c + o;
                y[i] = ql->kind == MPQ_LAYER_MAXPOOL ? (int32_t)acc : mpq_requant_one(&rq, acc, o);
            }
}

/* At most hp_n non-zeros of hp in every group of the spec's axis (one layer). */
static void check_structure(const char *name, unsigned l, const mn_qlayer *ql, const mn_qspec *sp)
{
    if (!ql->hp || ql->w)
        return;
    const mpq_conv_shape *s = &ql->s;
    unsigned taps = s->kh * s->kw, C = s->in_c, worst = 0, limit;
    for (unsigned o = 0; o < ql->n; o++) {
        if (sp->axis == MPQ_DECOMP_UNSTRUCTURED) {
            unsigned nz = 0;
            for (unsigned r = 0; r < ql->k; r++)
                nz += ql->hp[(size_t)o * ql->k + r] != 0;
            worst = nz > worst ? nz : worst;
            continue;
        }
        unsigned outer = sp->axis == MPQ_DECOMP_CHANNEL ? taps : C;
        unsigned inner = sp->axis == MPQ_DECOMP_CHANNEL ? C : taps;
        for (unsigned a = 0; a < outer; a++)
            for (unsigned g0 = 0; g0 < inner; g0 += sp->group) {
                unsigned nz = 0;
                for (unsigned j = g0; j < inner && j < g0 + sp->group; j++) {
                    unsigned r = sp->axis == MPQ_DECOMP_CHANNEL ? a * C + j : j * C + a;
                    nz += ql->hp[(size_t)o * ql->k + r] != 0;
                }
                worst = nz > worst ? nz : worst;
            }
    }
    limit = sp->axis == MPQ_DECOMP_UNSTRUCTURED ? (unsigned)(sp->density * ql->k + 0.5) : sp->hp_n;
    if (worst > limit) {
        printf("FAIL %s: layer %u holds %u non-zeros in a group, at most %u allowed\n", name, l + 1, worst, limit);
        fails++;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: cnn_check MODEL [IMAGES]\n");
        return 2;
    }
    unsigned m = argc == 3 ? (unsigned)atoi(argv[2]) : 20;
    char err[1024];
    mn_set train, test;
    cnn_net net;
    if (m < 1 || m > 10000) {
        fprintf(stderr, "cnn_check: IMAGES must be 1..10000\n");
        return 2;
    }
    if (mn_load(MN_DATA_DIR, "train", &train, err, sizeof err) != 0 ||
        mn_load(MN_DATA_DIR, "t10k", &test, err, sizeof err) != 0 || cnn_load(&net, argv[1], NULL, err, sizeof err) != 0) {
        fprintf(stderr, "cnn_check: %s\n", err);
        return 2;
    }
    float amax[CNN_MAX_LAYERS];
    cnn_calibrate(&net, &train, 500, amax);
    static const struct {
        const char *name;
        mn_qspec spec;
    } specs[] = {
        {"dense int8", {.scheme = MN_DENSE8}},
        {"ternary", {.scheme = MN_TERN}},
        {"ternary, first layer int8", {.scheme = MN_TERN, .first_dense = 1}},
        {"ternary + 1:16 channels", {.scheme = MN_MIXED, .axis = MPQ_DECOMP_CHANNEL, .hp_n = 1, .group = 16}},
        {"ternary + 2:8 channels, first layer int8", {.scheme = MN_MIXED, .axis = MPQ_DECOMP_CHANNEL, .hp_n = 2, .group = 8, .first_dense = 1}},
        {"ternary + 2:9 window", {.scheme = MN_MIXED, .axis = MPQ_DECOMP_WINDOW, .hp_n = 2, .group = 9}},
        {"ternary + 1:3 window", {.scheme = MN_MIXED, .axis = MPQ_DECOMP_WINDOW, .hp_n = 1, .group = 3}},
        {"ternary + 1/8 unstructured", {.scheme = MN_MIXED, .axis = MPQ_DECOMP_UNSTRUCTURED, .density = 0.125}},
    };
    unsigned npix = 28 * 28;
    int32_t *x = malloc((size_t)m * npix * sizeof *x);
    int32_t *y = malloc((size_t)m * 10 * sizeof *y);
    int32_t *a = malloc(64 * 1024 * sizeof *a), *b = malloc(64 * 1024 * sizeof *b);
    if (!x || !y || !a || !b) {
        fprintf(stderr, "cnn_check: out of memory\n");
        return 2;
    }
    for (unsigned i = 0; i < m; i++)
        mn_input(&test.images[(size_t)i * npix], npix, &x[(size_t)i * npix]);
    for (size_t si = 0; si < sizeof specs / sizeof specs[0]; si++) {
        mn_qnet q;
        if (cnn_quantize(&net, amax, &specs[si].spec, &q, err, sizeof err) != 0 ||
            mn_qnet_run(&q, x, m, 32, MPQ_ACC_WRAP, 16, y, NULL, err, sizeof err) != 0) {
            fprintf(stderr, "cnn_check: %s: %s\n", specs[si].name, err);
            return 2;
        }
        for (unsigned l = 0; l < q.nl; l++)
            check_structure(specs[si].name, l, &q.layer[l], &specs[si].spec);
        unsigned diff = 0, right = 0;
        for (unsigned i = 0; i < m; i++) {
            memcpy(a, &x[(size_t)i * npix], npix * sizeof *a);
            for (unsigned l = 0; l < q.nl; l++) {
                layer_ref(&q.layer[l], a, b);
                int32_t *t = a;
                a = b;
                b = t;
            }
            diff += memcmp(a, &y[(size_t)i * 10], 10 * sizeof *a) != 0;
            unsigned best = 0;
            for (unsigned c = 1; c < 10; c++)
                best = a[c] > a[best] ? c : best;
            right += best == test.labels[i];
        }
        printf("%s %-42s %u images: %u differ from the plain recomputation; %u right; density %.4f\n",
               diff ? "FAIL" : "ok  ", specs[si].name, m, diff, right, q.hp_density);
        fails += diff != 0;
        mn_qnet_free(&q);
    }
    free(x);
    free(y);
    free(a);
    free(b);
    cnn_free(&net);
    mn_free(&train);
    mn_free(&test);
    return fails ? 1 : 0;
}
