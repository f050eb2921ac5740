/* SPDX-License-Identifier: Apache-2.0 */
/* The spatial layers against a naive reference written here from FORMAT.md and mpq.h: every
 * term one at a time in 128-bit integers, the runs of the GROUPED order found by comparing
 * absolute input channels, a fit at each run's end. Random shapes cover kernels larger than
 * the padded input, 1x1, strides larger than the kernel, dilation, several batches, channel
 * counts that are not multiples of 16, groups, depthwise multipliers, both accumulator modes
 * and orders, the 128-bit path; then pooling, shape checks, the float reference and the
 * decomposition of conv weights. */
#include <string.h>

#include "check.h"
#include "arith/mpq.h"
#include "arith/mpq_fit.h"
#include "arith/mpq_layer.h"
#include "layer_paths.h"

#define MAXX 4096
#define MAXW 4096
#define MAXO 4096

typedef struct conv_buf {
    int32_t x[MAXX], w[MAXW], hp[MAXW], alpha[64], bias[64];
    int8_t t[MAXW];
} conv_buf;

static int64_t ref_fit(mpq_i128 v, unsigned bits, int sat, int *o)
{
    mpq_i128 span = (mpq_i128)1 << bits, hi = span / 2 - 1, lo = -span / 2, r;
    if (sat)
        r = v > hi ? hi : v < lo ? lo : v;
    else
        r = ((v - lo) % span + span) % span + lo;
    *o = r != v;
    return (int64_t)r;
}

typedef struct ref_out {
    int64_t acc;
    int final_ovf, any_ovf, first_r;
} ref_out;

/* Weight index of (o, ky, kx, c) in the kind's layout. */
static size_t widx(const mpq_conv_shape *s, unsigned o, unsigned ky, unsigned kx, unsigned c,
                   unsigned f)
{
    if (s->kind == MPQ_LAYER_DEPTHWISE)
        return ((size_t)ky * s->kw + kx) * s->out_c + o;
    return (((size_t)o * s->kh + ky) * s->kw + kx) * f + c;
}

static ref_out ref_one(const mpq_conv_layer *l, unsigned b, unsigned oy, unsigned ox, unsigned o)
{
    const mpq_conv_shape *s = &l->shape;
    int dw = s->kind == MPQ_LAYER_DEPTHWISE;
    unsigned G = dw ? s->in_c : s->groups ? s->groups : 1;
    unsigned f = dw ? 1 : s->in_c / G, per = s->out_c / G;
    unsigned g = l->order == MPQ_ORDER_SEQ ? 1 : l->group;
    int sat = l->acc_mode == MPQ_ACC_SAT, ov;
    ref_out out = {0, 0, 0, -1};
    mpq_i128 bias = l->bias ? l->bias[o] : 0, exact = bias;
    mpq_i128 a = ref_fit(bias, l->acc_bits, sat, &ov);
    out.any_ovf = ov;
    for (unsigned r = 0; r < s->kh * s->kw; r++) { /* window positions in [ky][kx] order */
        unsigned ky = r / s->kw, kx = r % s->kw;
        long iy = (long)(oy * s->sy + ky * s->dy) - (long)s->py;
        long ix = (long)(ox * s->sx + kx * s->dx) - (long)s->px;
        if (iy < 0 || iy >= (long)s->in_h || ix < 0 || ix >= (long)s->in_w)
            continue;
        {
            mpq_i128 run = 0;
            for (unsigned c = 0; c < f; c++) {
                unsigned ci = dw ? o / per : o / per * f + c;
                mpq_i128 xr = (mpq_i128)l->x[(((size_t)b * s->in_h + (size_t)iy) * s->in_w +
                                              (size_t)ix) * s->in_c + ci] + l->in_offset;
                size_t wi = widx(s, o, ky, kx, c, f);
                mpq_i128 term = 0;
                if (l->w)
                    term += xr * ((mpq_i128)l->w[wi] + l->w_offset);
                if (l->t)
                    term += xr * l->t[wi] * l->alpha[l->alpha_per_tensor ? 0 : o];
                if (l->hp)
                    term += xr * l->hp[wi];
                exact += term;
                run += term;
                /* The run ends with the group's channels or where the next channel's
                 * absolute index falls into another aligned block of g. */
                int last = c + 1 == f || (ci + 1) / g != ci / g;
                if (last) {
                    a = ref_fit(a + run, l->acc_bits, sat, &ov);
                    run = 0;
                    if (ov && !out.any_ovf) {
                        out.any_ovf = 1;
                        out.first_r = (int)((ky * s->kw + kx) * f + c);
                    }
                }
            }
        }
    }
    ref_fit(exact, l->acc_bits, 1, &out.final_ovf);
    out.acc = (int64_t)a;
    return out;
}

/* The valid output sizes of one axis (mpq_conv_check's rule, restated): a random one. */
static unsigned pick_out(unsigned in, unsigned k, unsigned s, unsigned p, unsigned d)
{
    long e = (long)(k - 1) * d + 1;
    unsigned ok[256], n = 0;
    for (unsigned out = 1; out < 256; out++) {
        long q = (long)(out - 1) * s + e - in - p;
        if (q > -(long)s && q <= (long)p + 1 && q < e)
            ok[n++] = out;
    }
    return n ? ok[test_rand() % n] : 0;
}

static int random_shape(mpq_conv_shape *s, mpq_layer_kind kind)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    /* batches up to 3, inputs up to 7x7, kernels up to 5x5, strides up to 4 */
    unsigned *dims[] = {&s->batches, &s->in_h, &s->in_w, &s->kh, &s->kw, &s->sy, &s->sx};
    static const int64_t top[] = {3, 7, 7, 5, 5, 4, 4};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        *dims[i] = (unsigned)test_range(1, top[i]);
    int pool = kind == MPQ_LAYER_AVGPOOL || kind == MPQ_LAYER_MAXPOOL;
    s->dy = pool ? 1 : (unsigned)test_range(1, 3);
    s->dx = pool ? 1 : (unsigned)test_range(1, 3);
    s->py = (unsigned)test_range(0, (s->kh - 1) * s->dy);
    s->px = (unsigned)test_range(0, (s->kw - 1) * s->dx);
    s->out_h = pick_out(s->in_h, s->kh, s->sy, s->py, s->dy);
    s->out_w = pick_out(s->in_w, s->kw, s->sx, s->px, s->dx);
    s->groups = 1;
    if (kind == MPQ_LAYER_CONV2D) {
        s->groups = (unsigned)test_range(1, 3);
        s->in_c = s->groups * (unsigned)test_range(1, 7);
        s->out_c = s->groups * (unsigned)test_range(1, 5);
    } else if (kind == MPQ_LAYER_DEPTHWISE) {
        s->in_c = (unsigned)test_range(1, 9);
        s->out_c = s->in_c * (unsigned)test_range(1, 3);
    } else {
        s->in_c = s->out_c = (unsigned)test_range(1, 19);
    }
    return s->out_h && s->out_w && mpq_conv_in_count(s) <= MAXX && mpq_conv_out_count(s) <= MAXO &&
           mpq_conv_w_count(s) <= MAXW;
}

static void random_layer(mpq_conv_layer *l, conv_buf *b, mpq_layer_kind kind)
{
    memset(l, 0, sizeof *l);
    while (!random_shape(&l->shape, kind))
        ;
    unsigned xbits = (unsigned)(test_range(0, 9) ? test_range(0, 1) ? 8 : 16 : 32);
    unsigned wbits = (unsigned)(test_range(0, 9) ? test_range(0, 1) ? 4 : 8 : 32);
    int64_t xlo, xhi, wlo, whi;
    mpq_int_range(xbits, 1, &xlo, &xhi);
    mpq_int_range(wbits, 1, &wlo, &whi);
    for (size_t i = 0; i < mpq_conv_in_count(&l->shape); i++)
        b->x[i] = (int32_t)test_range(xlo, xhi);
    for (size_t i = 0; i < mpq_conv_w_count(&l->shape); i++) {
        b->w[i] = (int32_t)test_range(wlo, whi);
        b->t[i] = (int8_t)test_range(-1, 1);
        b->hp[i] = test_range(0, 3) ? 0 : (int32_t)test_range(wlo, whi);
    }
    for (unsigned c = 0; c < l->shape.out_c; c++) {
        b->alpha[c] = (int32_t)test_range(wlo, whi);
        b->bias[c] = (int32_t)test_range(-(1 << 16), 1 << 16);
    }
    int kinds = (int)test_range(1, 7); /* bit 0: w, bit 1: t, bit 2: hp */
    l->x = b->x;
    l->in_offset = xbits >= 31 ? (int32_t)test_range(-8, 8) : (int32_t)test_range(xlo, xhi);
    l->w = kinds & 1 ? b->w : NULL;
    l->w_offset = (int32_t)test_range(-3, 3);
    l->t = kinds & 2 ? b->t : NULL;
    l->alpha = b->alpha; /* read only with t */
    l->alpha_per_tensor = test_range(0, 3) == 0;
    l->hp = kinds & 4 ? b->hp : NULL;
    l->bias = test_range(0, 4) ? b->bias : NULL;
    /* Accumulator: 1..64 bits, wrap or saturate, sequential or grouped by 1..20. */
    int64_t draw[4] = {test_range(1, 64), test_range(0, 1), test_range(0, 1), test_range(1, 20)};
    l->acc_bits = (unsigned)draw[0];
    l->acc_mode = draw[1] ? MPQ_ACC_SAT : MPQ_ACC_WRAP;
    l->order = draw[2] ? MPQ_ORDER_GROUPED : MPQ_ORDER_SEQ;
    l->group = (unsigned)draw[3];
}

static void compare_conv(const mpq_conv_layer *l, int iter)
{
    static int64_t acc[MAXO], acc_fast[MAXO];
    static uint8_t flags[MAXO];
    static int32_t first_r[MAXO], y[MAXO];
    char err[256];
    const mpq_conv_shape *s = &l->shape;
    mpq_conv_ovf ovf = {.flags = flags, .first_r = first_r};
    CHECK(mpq_conv_acc(l, acc, &ovf, err, sizeof err) == 0, "iter %d: %s", iter, err);
    CHECK(mpq_conv_acc(l, acc_fast, NULL, err, sizeof err) == 0, "iter %d: %s", iter, err);
    size_t n_final = 0, n_any = 0, i = 0;
    long first[5] = {-1, -1, -1, -1, -1};
    for (unsigned b = 0; b < s->batches; b++)
        for (unsigned oy = 0; oy < s->out_h; oy++)
            for (unsigned ox = 0; ox < s->out_w; ox++)
                for (unsigned o = 0; o < s->out_c; o++, i++) {
                    ref_out want = ref_one(l, b, oy, ox, o);
                    CHECK_EQ(acc[i], want.acc, "iter %d %s acc[%u][%u][%u][%u] (acc_bits %u %s %s g%u)",
                             iter, mpq_layer_name(s->kind), b, oy, ox, o, l->acc_bits,
                             l->acc_mode ? "sat" : "wrap", l->order ? "grouped" : "seq", l->group);
                    CHECK_EQ(acc_fast[i], want.acc, "iter %d untracked acc", iter);
                    CHECK_EQ(!!(flags[i] & MPQ_OVF_FINAL), want.final_ovf, "iter %d final flag", iter);
                    CHECK_EQ(!!(flags[i] & MPQ_OVF_ANY), want.any_ovf, "iter %d any flag", iter);
                    CHECK_EQ(first_r[i], want.first_r, "iter %d first reduction index", iter);
                    n_final += (size_t)want.final_ovf;
                    n_any += (size_t)want.any_ovf;
                    if (want.any_ovf && first[0] < 0) {
                        first[0] = b;
                        first[1] = oy;
                        first[2] = ox;
                        first[3] = o;
                        first[4] = want.first_r;
                    }
                }
    CHECK_EQ(ovf.n_final, n_final, "iter %d n_final", iter);
    CHECK_EQ(ovf.n_any, n_any, "iter %d n_any", iter);
    CHECK(ovf.first_b == first[0] && ovf.first_oy == first[1] && ovf.first_ox == first[2] &&
              ovf.first_ch == first[3] && ovf.first_red == first[4],
          "iter %d first overflow (%ld %ld %ld %ld r%ld), want (%ld %ld %ld %ld r%ld)", iter,
          ovf.first_b, ovf.first_oy, ovf.first_ox, ovf.first_ch, ovf.first_red, first[0], first[1],
          first[2], first[3], first[4]);
    CHECK_EQ(ovf.first_bias, first[0] >= 0 && first[4] < 0, "iter %d first_bias", iter);
    const mpq_fc_layer m = {.in_offset = l->in_offset, .w = l->w, .w_offset = l->w_offset,
                            .t = l->t, .alpha = l->alpha, .alpha_per_tensor = l->alpha_per_tensor,
                            .hp = l->hp, .bias = l->bias, .acc_bits = l->acc_bits,
                            .acc_mode = l->acc_mode, .order = l->order, .group = l->group};
    mpq_layer_def d = {.shape = *s, .mac = &m};
    compare_paths(&d, l->x, mpq_conv_in_count(s), acc, mpq_conv_out_count(s), iter);
    /* Requantized outputs are mpq_requant_one of the accumulators, channel by channel. */
    int32_t mult[64], shift[64];
    for (unsigned o = 0; o < s->out_c; o++) {
        mult[o] = (int32_t)test_range(1 << 29, INT32_MAX);
        shift[o] = (int32_t)test_range(-12, 2);
    }
    mpq_requant rq = {.kind = MPQ_RQ_DOUBLE, .nparams = s->out_c, .mult = mult, .shift = shift,
                      .out_offset = 3, .act_min = -128, .act_max = 127};
    CHECK(mpq_conv(l, &rq, y, NULL, NULL, err, sizeof err) == 0, "iter %d: %s", iter, err);
    for (size_t j = 0; j < mpq_conv_out_count(s); j++)
        CHECK_EQ(y[j], mpq_requant_one(&rq, acc[j], (unsigned)(j % s->out_c)), "iter %d y[%zu]",
                 iter, j);
}

static void test_random(void)
{
    static conv_buf b;
    for (int iter = 0; iter < 1500; iter++) {
        mpq_conv_layer l;
        random_layer(&l, &b, iter % 3 == 2 ? MPQ_LAYER_DEPTHWISE : MPQ_LAYER_CONV2D);
        compare_conv(&l, iter);
    }
}

/* The shapes the issue names, each at least once, with narrow accumulators. */
static void test_named_shapes(void)
{
    static conv_buf b;
    static const struct {
        unsigned in_h, in_w, in_c, out_c, kh, kw, sy, sx, py, px, dy, dx, groups, out_h, out_w;
        const char *what;
    } shapes[] = {
        {2, 3, 5, 4, 5, 5, 1, 1, 2, 2, 1, 1, 1, 2, 3, "kernel larger than the padded input"},
        {4, 4, 20, 6, 1, 1, 1, 1, 0, 0, 1, 1, 1, 4, 4, "1x1, in_c not a multiple of 16"},
        {7, 7, 3, 2, 2, 2, 3, 3, 0, 0, 1, 1, 1, 2, 2, "stride larger than the kernel"},
        {7, 6, 4, 4, 3, 2, 1, 2, 2, 1, 2, 3, 2, 7, 3, "dilation and groups"},
        {5, 5, 33, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 3, 3, "33 channels: blocks straddle groups"},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int rep = 0; rep < 40; rep++) {
            mpq_conv_layer l;
            random_layer(&l, &b, MPQ_LAYER_CONV2D);
            mpq_conv_shape *s = &l.shape;
            s->batches = 2;
            s->in_h = shapes[i].in_h;
            s->in_w = shapes[i].in_w;
            s->in_c = shapes[i].in_c;
            s->out_c = shapes[i].out_c;
            s->kh = shapes[i].kh;
            s->kw = shapes[i].kw;
            s->sy = shapes[i].sy;
            s->sx = shapes[i].sx;
            s->py = shapes[i].py;
            s->px = shapes[i].px;
            s->dy = shapes[i].dy;
            s->dx = shapes[i].dx;
            s->groups = shapes[i].groups;
            s->out_h = shapes[i].out_h;
            s->out_w = shapes[i].out_w;
            char err[256];
            CHECK(mpq_conv_check(s, err, sizeof err) == 0, "%s: %s", shapes[i].what, err);
            for (size_t j = 0; j < mpq_conv_in_count(s); j++)
                b.x[j] = (int32_t)test_range(-128, 127);
            for (size_t j = 0; j < mpq_conv_w_count(s); j++) {
                b.w[j] = (int32_t)test_range(-8, 7);
                b.t[j] = (int8_t)test_range(-1, 1);
                b.hp[j] = test_range(0, 3) ? 0 : (int32_t)test_range(-127, 127);
            }
            for (unsigned c = 0; c < s->out_c; c++)
                b.alpha[c] = (int32_t)test_range(1, 127);
            l.in_offset = 3;
            l.acc_bits = (unsigned)test_range(10, 20);
            compare_conv(&l, 10000 + (int)i);
        }
}

/* Depthwise layers of the tile kernels' kind (16-bit operands, taps in pairs, eight channels
 * per vector over a padded copy of the input): 3x3 mostly, other windows too, on inputs up to
 * 12x12 with 1..40 output channels (whole vectors and a tail), strides, padding, dilation,
 * channel multipliers, batches; int8 data and accumulators from narrow enough that channels
 * overflow (the exact kernels' fits) to 64 bits. */
static void test_depthwise_fast(void)
{
    static conv_buf b;
    for (int iter = 0; iter < 400; iter++) {
        mpq_conv_layer l;
        random_layer(&l, &b, MPQ_LAYER_DEPTHWISE);
        mpq_conv_shape *s = &l.shape;
        do {
            s->batches = (unsigned)test_range(1, 2);
            s->in_h = (unsigned)test_range(1, 12);
            s->in_w = (unsigned)test_range(1, 12);
            s->kh = s->kw = iter % 4 ? 3 : (unsigned)test_range(1, 5);
            s->sy = s->sx = (unsigned)test_range(1, 2);
            s->dy = s->dx = iter % 5 ? 1 : 2;
            s->py = s->px = (unsigned)test_range(0, (s->kh - 1) * s->dy);
            s->in_c = (unsigned)test_range(1, 20);
            s->out_c = s->in_c * (unsigned)(iter % 3 ? 1 : test_range(1, 2));
            s->out_h = pick_out(s->in_h, s->kh, s->sy, s->py, s->dy);
            s->out_w = pick_out(s->in_w, s->kw, s->sx, s->px, s->dx);
        } while (!s->out_h || !s->out_w || mpq_conv_in_count(s) > MAXX ||
                 mpq_conv_out_count(s) > MAXO);
        for (size_t j = 0; j < mpq_conv_in_count(s); j++)
            b.x[j] = (int32_t)test_range(-128, 127);
        for (size_t j = 0; j < mpq_conv_w_count(s); j++) {
            b.w[j] = (int32_t)test_range(-128, 127);
            b.t[j] = (int8_t)test_range(-1, 1);
            b.hp[j] = test_range(0, 3) ? 0 : (int32_t)test_range(-127, 127);
        }
        for (unsigned c = 0; c < s->out_c; c++)
            b.alpha[c] = (int32_t)test_range(1, 127);
        l.in_offset = (int32_t)test_range(-128, 127);
        static const unsigned widths[] = {12, 14, 16, 18, 20, 24, 32, 33, 40, 64};
        l.acc_bits = widths[test_rand() % (sizeof widths / sizeof widths[0])];
        compare_conv(&l, 20000 + iter);
    }
}

static void test_pool(void)
{
    static int32_t x[MAXX], y[MAXO];
    char err[256];
    for (int iter = 0; iter < 400; iter++) {
        mpq_conv_shape s;
        mpq_layer_kind kind = iter % 2 ? MPQ_LAYER_MAXPOOL : MPQ_LAYER_AVGPOOL;
        while (!random_shape(&s, kind))
            ;
        int wide = iter % 5 == 0;
        for (size_t i = 0; i < mpq_conv_in_count(&s); i++)
            x[i] = (int32_t)(wide ? test_range(INT32_MIN, INT32_MAX) : test_range(-128, 127));
        int32_t amin = (int32_t)test_range(-128, 0), amax = (int32_t)test_range(0, 127);
        CHECK(mpq_pool(&s, x, amin, amax, y, err, sizeof err) == 0, "pool %d: %s", iter, err);
        size_t i = 0;
        for (unsigned b = 0; b < s.batches; b++)
            for (unsigned oy = 0; oy < s.out_h; oy++)
                for (unsigned ox = 0; ox < s.out_w; ox++)
                    for (unsigned c = 0; c < s.in_c; c++, i++) {
                        mpq_i128 sum = 0, mx = INT64_MIN, n = 0;
                        for (unsigned ky = 0; ky < s.kh; ky++)
                            for (unsigned kx = 0; kx < s.kw; kx++) {
                                long iy = (long)oy * s.sy - (long)s.py + ky;
                                long ix = (long)ox * s.sx - (long)s.px + kx;
                                if (iy < 0 || iy >= (long)s.in_h || ix < 0 || ix >= (long)s.in_w)
                                    continue;
                                int32_t v = x[(((size_t)b * s.in_h + (size_t)iy) * s.in_w +
                                               (size_t)ix) * s.in_c + c];
                                sum += v;
                                mx = v > mx ? v : mx;
                                n++;
                            }
                        CHECK(n > 0, "pool %d: empty window", iter);
                        if (!n)
                            continue;
                        /* Rounded half away from zero: the division truncates toward zero. */
                        mpq_i128 want = kind == MPQ_LAYER_MAXPOOL ? mx
                                        : sum > 0               ? (sum + n / 2) / n
                                                                : (sum - n / 2) / n;
                        want = want < amin ? amin : want > amax ? amax : want;
                        CHECK_EQ(y[i], (int64_t)want, "pool %d %s y[%zu]", iter,
                                 mpq_layer_name(kind), i);
                    }
    }
}

static void test_shape_checks(void)
{
    char err[256];
    /* TFLite SAME and VALID paddings of every small size are accepted. */
    for (unsigned in = 1; in <= 12; in++)
        for (unsigned k = 1; k <= 5; k++)
            for (unsigned st = 1; st <= 3; st++) {
                mpq_conv_shape s = {.kind = MPQ_LAYER_CONV2D, .batches = 1, .in_h = in, .in_w = 1,
                                    .in_c = 1, .out_c = 1, .kh = k, .kw = 1, .sy = st, .sx = 1,
                                    .dy = 1, .dx = 1, .out_w = 1};
                s.out_h = (in + st - 1) / st; /* SAME */
                unsigned total = (s.out_h - 1) * st + k > in ? (s.out_h - 1) * st + k - in : 0;
                s.py = total / 2;
                CHECK(mpq_conv_check(&s, err, sizeof err) == 0, "SAME in %u k %u s %u: %s", in, k, st, err);
                s.out_h += 2;
                CHECK(mpq_conv_check(&s, err, sizeof err) == MPQ_EPARAM, "SAME out_h + 2 accepted");
                if (in >= k) {
                    s.py = 0;
                    s.out_h = (in - k) / st + 1; /* VALID */
                    CHECK(mpq_conv_check(&s, err, sizeof err) == 0, "VALID: %s", err);
                    s.out_h--;
                    if (s.out_h)
                        CHECK(mpq_conv_check(&s, err, sizeof err) == MPQ_EPARAM, "VALID out_h - 1 accepted");
                }
            }
    mpq_conv_shape ok = {.kind = MPQ_LAYER_CONV2D, .batches = 1, .in_h = 5, .in_w = 5, .in_c = 4,
                         .out_c = 6, .kh = 3, .kw = 3, .sy = 1, .sx = 1, .py = 1, .px = 1, .dy = 1,
                         .dx = 1, .groups = 2, .out_h = 5, .out_w = 5};
    CHECK(mpq_conv_check(&ok, err, sizeof err) == 0, "%s", err);
    mpq_conv_shape bad = ok;
    bad.groups = 3;
    CHECK(mpq_conv_check(&bad, err, sizeof err) == MPQ_EPARAM && strstr(err, "groups"), "%s", err);
    bad = ok;
    bad.out_w = 6; /* far padding 2 = p + 1: SAME's odd column at the far side */
    CHECK(mpq_conv_check(&bad, err, sizeof err) == 0, "%s", err);
    bad.out_w = 7;
    err[0] = 0;
    CHECK(mpq_conv_check(&bad, err, sizeof err) == MPQ_EPARAM && strstr(err, "width") &&
              strstr(err, "expected 4..6"), "%s", err);
    bad = ok;
    bad.py = 3;
    CHECK(mpq_conv_check(&bad, err, sizeof err) == MPQ_EPARAM, "padding beyond the window");
    bad = ok;
    bad.kind = MPQ_LAYER_DEPTHWISE;
    bad.groups = 1;
    bad.out_c = 6;
    CHECK(mpq_conv_check(&bad, err, sizeof err) == MPQ_EPARAM && strstr(err, "out_c"), "%s", err);
    bad.kind = MPQ_LAYER_MAXPOOL;
    bad.out_c = 4;
    bad.dy = 2;
    CHECK(mpq_conv_check(&bad, err, sizeof err) == MPQ_EPARAM && strstr(err, "dilation"), "%s", err);
    bad = ok;
    bad.sy = 0;
    CHECK(mpq_conv_check(&bad, err, sizeof err) == MPQ_EPARAM, "stride 0 accepted");
    /* A layer refused for its shape computes nothing. */
    int64_t acc[4] = {7, 7, 7, 7};
    int32_t x[100] = {0}, w[216] = {0};
    mpq_conv_layer l = {.shape = ok, .x = x, .w = w, .acc_bits = 32};
    l.shape.out_h = 9;
    CHECK(mpq_conv_acc(&l, acc, NULL, err, sizeof err) == MPQ_EPARAM && acc[0] == 7, "bad shape computed");
    l.shape = ok;
    l.w = NULL;
    CHECK(mpq_conv_acc(&l, acc, NULL, err, sizeof err) == MPQ_EPARAM && acc[0] == 7, "no weights computed");
}

/* The float reference equals the integer convolution on integer-valued data. */
static void test_f64(void)
{
    static conv_buf b;
    static double xd[MAXX], wd[MAXW], bd[64], yd[MAXO];
    static int64_t acc[MAXO];
    char err[256];
    for (int iter = 0; iter < 200; iter++) {
        mpq_conv_layer l;
        random_layer(&l, &b, iter % 2 ? MPQ_LAYER_DEPTHWISE : MPQ_LAYER_CONV2D);
        for (size_t i = 0; i < mpq_conv_in_count(&l.shape); i++)
            xd[i] = b.x[i] = (int32_t)test_range(-128, 127);
        for (size_t i = 0; i < mpq_conv_w_count(&l.shape); i++)
            wd[i] = b.w[i] = (int32_t)test_range(-128, 127);
        for (unsigned c = 0; c < l.shape.out_c; c++)
            bd[c] = b.bias[c];
        l.w = b.w;
        l.t = NULL;
        l.hp = NULL;
        l.bias = b.bias;
        l.in_offset = l.w_offset = 0;
        l.acc_bits = 64;
        CHECK(mpq_conv_acc(&l, acc, NULL, err, sizeof err) == 0, "%s", err);
        CHECK(mpq_conv_f64(&l.shape, xd, wd, bd, yd, err, sizeof err) == 0, "%s", err);
        for (size_t i = 0; i < mpq_conv_out_count(&l.shape); i++)
            CHECK(yd[i] == (double)acc[i], "f64 %d y[%zu] %g vs %lld", iter, i, yd[i], (long long)acc[i]);
        mpq_err_stats e;
        mpq_err_compute(yd, yd, mpq_conv_out_count(&l.shape), &e);
        CHECK(e.max_abs == 0.0, "SQNR of identical outputs");
    }
}

/* Conv weight decomposition: at most hp_n non-zeros per group of the chosen axis, the same
 * layout back, and the CHANNEL groups are the GROUPED order's blocks. */
static void test_decompose(void)
{
    char err[256];
    static double w[MAXW];
    for (int iter = 0; iter < 60; iter++) {
        mpq_conv_shape s;
        mpq_layer_kind kind = iter % 2 ? MPQ_LAYER_DEPTHWISE : MPQ_LAYER_CONV2D;
        while (!random_shape(&s, kind))
            ;
        size_t nw = mpq_conv_w_count(&s);
        for (size_t i = 0; i < nw; i++)
            w[i] = (double)test_range(-1000, 1000) / 1000.0;
        unsigned f = mpq_conv_depth(&s) / (s.kh * s.kw), per = s.out_c / (kind == MPQ_LAYER_DEPTHWISE ? s.in_c : s.groups);
        for (int axis = 0; axis < 3; axis++) {
            mpq_decomp_opts o = {.thr = 0.7, .hp_n = 1, .group = (unsigned)test_range(1, 4),
                                 .hp_bits = 8, .alpha_bits = 8};
            mpq_decomp d;
            CHECK(mpq_decompose_conv(w, &s, (mpq_decomp_axis)axis, &o, &d, err, sizeof err) == 0,
                  "%s", err);
            CHECK(d.n == s.out_c && d.k == mpq_conv_depth(&s), "decomp shape");
            /* Count non-zeros per group of the axis. */
            static unsigned cnt[1 << 17];
            memset(cnt, 0, sizeof cnt);
            size_t total = 0;
            for (unsigned oc = 0; oc < s.out_c; oc++)
                for (unsigned ky = 0; ky < s.kh; ky++)
                    for (unsigned kx = 0; kx < s.kw; kx++)
                        for (unsigned c = 0; c < f; c++) {
                            size_t i = widx(&s, oc, ky, kx, c, f);
                            unsigned p = ky * s.kw + kx;
                            size_t key;
                            if (axis == MPQ_DECOMP_UNSTRUCTURED)
                                key = oc;
                            else if (axis == MPQ_DECOMP_WINDOW)
                                key = ((size_t)oc * f + c) * 64 + p / o.group;
                            else if (kind == MPQ_LAYER_DEPTHWISE)
                                key = (size_t)p * 64 + oc / o.group;
                            else
                                key = ((size_t)oc * 32 + p) * 64 + (oc / per * f + c) / o.group;
                            if (d.hp[i]) {
                                cnt[key]++;
                                total++;
                                CHECK(cnt[key] <= o.hp_n || axis == MPQ_DECOMP_UNSTRUCTURED,
                                      "axis %d: group over N", axis);
                            }
                        }
            CHECK(total == d.hp_nnz, "nnz count");
            CHECK(d.rel_err <= d.rel_err_tern + 1e-12, "the residual does not make it worse");
            mpq_decomp_free(&d);
        }
    }
    /* mpq_decompose (FC) keeps its N:G rule. */
    double wf[4 * 32];
    for (int i = 0; i < 4 * 32; i++)
        wf[i] = (double)test_range(-1000, 1000) / 1000.0;
    mpq_decomp_opts o = {.thr = 0.7, .hp_n = 2, .group = 8, .hp_bits = 8, .alpha_bits = 8};
    mpq_decomp d;
    CHECK(mpq_decompose(wf, 4, 32, &o, &d, err, sizeof err) == 0, "%s", err);
    for (int c = 0; c < 4; c++)
        for (int g = 0; g < 4; g++) {
            int nz = 0;
            for (int j = 0; j < 8; j++)
                nz += d.hp[c * 32 + g * 8 + j] != 0;
            CHECK(nz <= 2, "FC N:G");
        }
    mpq_decomp_free(&d);
}

int main(void)
{
    test_seed("test_conv", 20261201);
    test_random();
    test_named_shapes();
    test_depthwise_fast();
    test_pool();
    test_shape_checks();
    test_f64();
    test_decompose();
    report_kernels("test_conv");
    return check_done("test_conv");
}
