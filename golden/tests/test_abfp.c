/* SPDX-License-Identifier: Apache-2.0 */
/* ABFP (golden/arith/mpq_abfp.h): parameter checks naming the parameter; the mantissa
 * roundings on exact ties; the noise (exact moments of the 21-bit fields, reproducibility);
 * the layer against a recomputation here from the header's steps in long double; zero tiles,
 * saturation and clipping counts; high precision close to the float product; conv2d (with
 * groups, padding, stride, dilation) and depthwise equal to the FC layer on the windows
 * gathered here; the AVX2 and SSE2 paths (mpq_simd_limit) give the same bits, on grids of
 * multiples of 1/128 whose mantissa quotients often lie on exact ties. The independent NumPy
 * reference is golden/tests/abfp_ref.py. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "arith/mpq_abfp.h"
#include "arith/mpq_layer.h"

static char err[256];

static void test_params(void)
{
    mpq_abfp p;
    static const struct {
        const char *name, *value, *word;
    } bad[] = {
        {"n", "0", "n:"},           {"n", "65537", "n:"},      {"n", "x", "n:"},
        {"bits", "1", "bits:"},     {"bw", "17", "bw:"},       {"bx", "0", "bx:"},
        {"bout", "1", "bout:"},     {"bout", "25", "bout:"},   {"gain", "0", "gain:"},
        {"gain", "-1", "gain:"},    {"gain", "nan", "gain:"},  {"gain", "1e9", "gain:"},
        {"noise", "-0.5", "noise:"}, {"noise", "inf", "noise:"}, {"round", "up", "round:"},
        {"adc-round", "x", "adc-round:"}, {"scale", "row", "scale:"}, {"x-amax", "0", "x-amax:"},
        {"width", "8", "width:"},       {"seed", "18446744073709551616", "seed:"}, {"n", "-1", "n:"},
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mpq_abfp_default(&p);
        mpq_abfp before = p;
        err[0] = 0;
        CHECK_EQ(mpq_abfp_set(&p, bad[i].name, bad[i].value, err, sizeof err), MPQ_EPARAM, "%s=%s", bad[i].name,
                 bad[i].value);
        CHECK(!strncmp(err, bad[i].word, strlen(bad[i].word)), "message `%s` names %s", err, bad[i].name);
        CHECK(!memcmp(&p, &before, sizeof p), "%s=%s left the parameters unchanged", bad[i].name, bad[i].value);
    }
    mpq_abfp_default(&p);
    CHECK_EQ(mpq_abfp_set(&p, "bits", "6", err, sizeof err), 0, "%s", err);
    CHECK(p.bw == 6 && p.bx == 6, "bits sets both");
    CHECK_EQ(mpq_abfp_set(&p, "gain", "2.5", err, sizeof err), 0, "%s", err);
    CHECK(p.gain == 2.5f, "gain");
    CHECK_EQ(mpq_abfp_set(&p, "scale", "channel", err, sizeof err), 0, "%s", err);
    CHECK_EQ(mpq_abfp_check(&p, err, sizeof err), 0, "%s", err);
    /* The check on the struct itself, field by field. */
    mpq_abfp_default(&p);
    p.n = 0;
    CHECK(mpq_abfp_check(&p, err, sizeof err) == MPQ_EPARAM && !strncmp(err, "n:", 2), "%s", err);
    mpq_abfp_default(&p);
    p.gain = -1.0f;
    CHECK(mpq_abfp_check(&p, err, sizeof err) == MPQ_EPARAM && !strncmp(err, "gain:", 5), "%s", err);
    mpq_abfp_default(&p);
    p.noise = -1e-9;
    CHECK(mpq_abfp_check(&p, err, sizeof err) == MPQ_EPARAM && !strncmp(err, "noise:", 6), "%s", err);
    mpq_abfp_default(&p);
    p.bout = 30;
    CHECK(mpq_abfp_check(&p, err, sizeof err) == MPQ_EPARAM && !strncmp(err, "bout:", 5), "%s", err);
    /* A layer refuses bad parameters and non-finite values. */
    mpq_abfp_default(&p);
    float w[4] = {1, 2, 3, 4}, x[4] = {1, 0, 0, 1}, y[1];
    p.n = 0;
    CHECK_EQ(mpq_abfp_fc(&p, 1, 4, 1, x, w, NULL, y, NULL, err, sizeof err), MPQ_EPARAM, "n = 0");
    mpq_abfp_default(&p);
    x[2] = NAN;
    CHECK_EQ(mpq_abfp_fc(&p, 1, 4, 1, x, w, NULL, y, NULL, err, sizeof err), MPQ_EPARAM, "NaN input");
    CHECK(strstr(err, "not finite") != NULL, "%s", err);
}

static void test_mantissa(void)
{
    /* With the scale equal to M the quotient is v itself: exact ties at k + 0.5. */
    const float s = 127.0f;
    static const struct {
        float v;
        int32_t even, away, up, down, floor_, zero;
    } t[] = {
        {2.5f, 2, 3, 3, 2, 2, 2},       {3.5f, 4, 4, 4, 3, 3, 3},      {-2.5f, -2, -3, -2, -3, -3, -2},
        {-3.5f, -4, -4, -3, -4, -4, -3}, {0.5f, 0, 1, 1, 0, 0, 0},      {-0.5f, 0, -1, 0, -1, -1, 0},
        {126.5f, 126, 127, 127, 126, 126, 126}, {-127.0f, -127, -127, -127, -127, -127, -127},
        {2.25f, 2, 2, 2, 2, 2, 2},      {-2.75f, -3, -3, -3, -3, -3, -2},
    };
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) {
        CHECK_EQ(mpq_abfp_mantissa(t[i].v, s, 8, MPQ_ROUND_HALF_EVEN), t[i].even, "half_even %g", (double)t[i].v);
        CHECK_EQ(mpq_abfp_mantissa(t[i].v, s, 8, MPQ_ROUND_HALF_AWAY), t[i].away, "half_away %g", (double)t[i].v);
        CHECK_EQ(mpq_abfp_mantissa(t[i].v, s, 8, MPQ_ROUND_HALF_UP), t[i].up, "half_up %g", (double)t[i].v);
        CHECK_EQ(mpq_abfp_mantissa(t[i].v, s, 8, MPQ_ROUND_HALF_DOWN), t[i].down, "half_down %g", (double)t[i].v);
        CHECK_EQ(mpq_abfp_mantissa(t[i].v, s, 8, MPQ_ROUND_FLOOR), t[i].floor_, "floor %g", (double)t[i].v);
        CHECK_EQ(mpq_abfp_mantissa(t[i].v, s, 8, MPQ_ROUND_ZERO), t[i].zero, "zero %g", (double)t[i].v);
    }
    CHECK_EQ(mpq_abfp_mantissa(1.0f, 0.0f, 8, MPQ_ROUND_HALF_EVEN), 0, "zero scale");
    CHECK_EQ(mpq_abfp_mantissa(5.0f, 1.0f, 8, MPQ_ROUND_HALF_EVEN), 127, "beyond the scale clamps");
    CHECK_EQ(mpq_abfp_mantissa(-1e30f, 1.0f, 4, MPQ_ROUND_HALF_EVEN), -7, "far beyond the scale clamps");
    CHECK_EQ(mpq_abfp_mantissa(0.3f, 1.0f, 16, MPQ_ROUND_HALF_EVEN), 9830, "0.3 * 32767 = 9830.1");
}

static void test_noise(void)
{
    /* The sum of the 12 fields has mean 6*(2^21-1): over many draws, mean ~0, variance ~1. */
    double s1 = 0, s2 = 0, s4 = 0, mx = 0;
    const unsigned count = 200000;
    for (unsigned i = 0; i < count; i++) {
        double z = mpq_abfp_normal(42, i);
        s1 += z;
        s2 += z * z;
        s4 += z * z * z * z;
        mx = fabs(z) > mx ? fabs(z) : mx;
    }
    double mean = s1 / count, var = s2 / count - mean * mean, kurt = s4 / count;
    CHECK(fabs(mean) < 0.01, "mean %g", mean);
    CHECK(fabs(var - 1.0) < 0.02, "variance %g", var);
    CHECK(fabs(kurt - 2.9) < 0.1, "fourth moment %g (Irwin-Hall 12: 2.9)", kurt);
    CHECK(mx <= 6.0 && mx > 3.5, "max |z| %g", mx);
    CHECK(mpq_abfp_normal(42, 7) == mpq_abfp_normal(42, 7), "same index, same value");
    CHECK(mpq_abfp_normal(42, 7) != mpq_abfp_normal(43, 7), "another seed, another value");
}

/* The header's steps, recomputed here one output at a time; noise included. */
static float ref_out(const mpq_abfp *p, const float *w, const float *x, unsigned k, const float *bias, unsigned o,
                     uint64_t r, unsigned rows, int *sat)
{
    unsigned n = p->n, nt = (k + n - 1) / n;
    long long mw = (1ll << (p->bw - 1)) - 1, mx = (1ll << (p->bx - 1)) - 1, mo = (1ll << (p->bout - 1)) - 1;
    float tens = 0, chan = 0;
    for (unsigned i = 0; i < k; i++)
        chan = fabsf(w[(size_t)o * k + i]) > chan ? fabsf(w[(size_t)o * k + i]) : chan;
    float acc = 0;
    (void)tens;
    for (unsigned t = 0; t < nt; t++) {
        unsigned len = k - t * n < n ? k - t * n : n;
        float sw = 0, sx = 0;
        for (unsigned i = 0; i < len; i++) {
            sw = fmaxf(sw, fabsf(w[(size_t)o * k + t * n + i]));
            sx = fmaxf(sx, fabsf(x[t * n + i]));
        }
        if (p->scale == MPQ_ABFP_SCALE_CHANNEL) {
            sw = chan;
            sx = p->x_amax;
        }
        if (sw == 0 || sx == 0)
            continue;
        long long d = 0;
        for (unsigned i = 0; i < len; i++)
            d += (long long)mpq_abfp_mantissa(w[(size_t)o * k + t * n + i], sw, p->bw, p->round_mant) *
                 mpq_abfp_mantissa(x[t * n + i], sx, p->bx, p->round_mant);
        double a = ((double)d * ((double)p->gain * (double)mo)) / ((double)n * (double)mw * (double)mx);
        if (p->noise != 0)
            a += p->noise * mpq_abfp_normal(p->seed, (r * rows + o) * nt + t);
        double c = nearbyint(a);
        if (fabs(a - trunc(a)) == 0.5 && p->round_adc == MPQ_ROUND_HALF_AWAY)
            c = a > 0 ? ceil(a) : floor(a);
        if (c > (double)mo || c < -(double)mo) {
            c = c > 0 ? (double)mo : -(double)mo;
            ++*sat;
        }
        float step = (float)n / (p->gain * (float)mo);
        float ct = sw * sx;
        ct = ct * step;
        acc += (float)c * ct;
    }
    return bias ? acc + bias[o] : acc;
}

static float rnd_float(void)
{
    /* Mixed magnitudes, exact zeros and exact half-steps of the mantissa grids. */
    uint64_t u = test_rand();
    switch (u % 8) {
    case 0: return 0.0f;
    case 1: return (float)((int)(u >> 8) % 255 - 127) * 0.5f;
    default: return (float)((double)(int64_t)(u >> 11) / 9007199254740992.0 - 0.5) * (float)(1 + (u >> 60));
    }
}

static void test_layer_random(void)
{
    static const unsigned ns[] = {1, 3, 8, 16, 64, 128}, bits[] = {2, 4, 8, 12, 16}, bouts[] = {2, 6, 8, 10, 16};
    static const float gains[] = {1.0f, 2.0f, 3.5f, 16.0f};
    static const double noises[] = {0.0, 0.5, 3.0};
    unsigned cases = 0;
    for (unsigned c = 0; c < 300; c++) {
        mpq_abfp p;
        mpq_abfp_default(&p);
        p.n = ns[test_rand() % 6];
        p.bw = bits[test_rand() % 5];
        p.bx = bits[test_rand() % 5];
        p.bout = bouts[test_rand() % 5];
        p.gain = gains[test_rand() % 4];
        p.noise = noises[test_rand() % 3];
        p.seed = test_rand();
        p.round_mant = (test_rand() & 1) ? MPQ_ROUND_HALF_EVEN : MPQ_ROUND_HALF_AWAY;
        p.round_adc = (test_rand() & 1) ? MPQ_ROUND_HALF_EVEN : MPQ_ROUND_HALF_AWAY;
        if (test_rand() % 4 == 0) {
            p.scale = MPQ_ABFP_SCALE_CHANNEL;
            p.x_amax = 0.25f;
        }
        unsigned m = (unsigned)test_range(1, 3), rows = (unsigned)test_range(1, 4);
        unsigned k = 1 + (unsigned)(test_rand() % (3 * p.n + 2));
        float *x = malloc((size_t)m * k * sizeof *x), *w = malloc((size_t)rows * k * sizeof *w);
        float bias[4], y[12];
        for (size_t i = 0; i < (size_t)m * k; i++)
            x[i] = rnd_float();
        for (size_t i = 0; i < (size_t)rows * k; i++)
            w[i] = rnd_float();
        if (test_rand() % 5 == 0) /* a zero input row */
            memset(x, 0, k * sizeof *x);
        for (unsigned o = 0; o < rows; o++)
            bias[o] = rnd_float();
        mpq_abfp_stats st = {0};
        int rc = mpq_abfp_fc(&p, m, k, rows, x, w, bias, y, &st, err, sizeof err);
        CHECK_EQ(rc, 0, "%s", err);
        int sat = 0;
        for (unsigned r = 0; r < m; r++)
            for (unsigned o = 0; o < rows; o++) {
                float want = ref_out(&p, w, x + (size_t)r * k, k, bias, o, r, rows, &sat);
                CHECK(memcmp(&want, &y[r * rows + o], sizeof want) == 0,
                      "case %u (n %u bw %u bx %u bout %u gain %g noise %g scale %s) row %u out %u: %a, want %a", c,
                      p.n, p.bw, p.bx, p.bout, (double)p.gain, p.noise, mpq_abfp_scale_name(p.scale), r, o,
                      (double)y[r * rows + o], (double)want);
            }
        CHECK_EQ(st.saturated, sat, "case %u: saturated conversions", c);
        CHECK_EQ(st.conversions, (uint64_t)m * rows * ((k + p.n - 1) / p.n), "case %u: conversions", c);
        cases++;
        free(x);
        free(w);
    }
    CHECK(cases == 300, "cases");
}

static void test_counts(void)
{
    mpq_abfp p;
    mpq_abfp_default(&p);
    p.n = 4;
    /* Tile 0 of the input is zero, tile 1 of row 1's weights is zero. */
    float x[8] = {0, 0, 0, 0, 1, -1, 0.5f, 0.25f};
    float w[16] = {1, 2, 3, 4, 1, 1, 1, 1, 4, 3, 2, 1, 0, 0, 0, 0};
    float y[2];
    mpq_abfp_stats st = {0};
    CHECK_EQ(mpq_abfp_fc(&p, 1, 8, 2, x, w, NULL, y, &st, err, sizeof err), 0, "%s", err);
    CHECK_EQ(st.conversions, 4, "conversions");
    CHECK_EQ(st.zero_tiles, 3, "zero tiles");
    CHECK(y[1] == 0.0f && !signbit(y[1]), "a row of zero tiles is +0: %g", (double)y[1]);
    /* All-zero input: the output is the bias, exactly, even with noise. */
    float z[8] = {0}, b[2] = {0.125f, -3.0f};
    p.noise = 5.0;
    CHECK_EQ(mpq_abfp_fc(&p, 1, 8, 2, z, w, b, y, NULL, err, sizeof err), 0, "%s", err);
    CHECK(y[0] == 0.125f && y[1] == -3.0f, "zero input gives the bias: %g %g", (double)y[0], (double)y[1]);
    /* Gain 16 on an all-ones tile: |a| = 16*Mo saturates; gain 1 never does. */
    float ones[4] = {1, 1, 1, 1};
    mpq_abfp_default(&p);
    p.n = 4;
    p.gain = 16.0f;
    memset(&st, 0, sizeof st);
    CHECK_EQ(mpq_abfp_fc(&p, 1, 4, 1, ones, ones, NULL, y, &st, err, sizeof err), 0, "%s", err);
    CHECK_EQ(st.saturated, 1, "gain 16 saturates");
    CHECK(y[0] == 0.25f, "saturated at Mo: 127 * 4 / (16*127) = 0.25, got %g", (double)y[0]);
    p.gain = 1.0f;
    memset(&st, 0, sizeof st);
    CHECK_EQ(mpq_abfp_fc(&p, 1, 4, 1, ones, ones, NULL, y, &st, err, sizeof err), 0, "%s", err);
    CHECK(st.saturated == 0 && y[0] == 4.0f, "full scale at gain 1 is exact: %g", (double)y[0]);
    /* Fixed point: inputs beyond x_amax clip and are counted. */
    p.scale = MPQ_ABFP_SCALE_TENSOR;
    p.x_amax = 0.5f;
    memset(&st, 0, sizeof st);
    CHECK_EQ(mpq_abfp_fc(&p, 1, 4, 1, ones, ones, NULL, y, &st, err, sizeof err), 0, "%s", err);
    CHECK_EQ(st.x_clipped, 4, "clipped inputs");
    CHECK(y[0] == 2.0f, "clipped to 0.5 each: %g", (double)y[0]);
}

static void test_precision(void)
{
    /* 16-bit mantissas and a 24-bit ADC: within 1e-3 relative of the float product. */
    mpq_abfp p;
    mpq_abfp_default(&p);
    p.bw = p.bx = 16;
    p.bout = 24;
    p.n = 64;
    enum { M = 4, K = 300, R = 5 };
    static float x[M * K], w[R * K], y[M * R];
    static double xd[M * K], wd[R * K], yd[M * R];
    for (unsigned i = 0; i < M * K; i++)
        xd[i] = x[i] = (float)((double)(test_rand() >> 11) / 9007199254740992.0);
    for (unsigned i = 0; i < R * K; i++)
        wd[i] = w[i] = (float)((double)(test_rand() >> 11) / 9007199254740992.0 - 0.5);
    CHECK_EQ(mpq_abfp_fc(&p, M, K, R, x, w, NULL, y, NULL, err, sizeof err), 0, "%s", err);
    mpq_fc_f64(M, K, R, xd, wd, NULL, yd);
    for (unsigned i = 0; i < M * R; i++)
        CHECK(fabs(y[i] - yd[i]) < 1e-3 * 10.0, "output %u: %g, float %g", i, (double)y[i], yd[i]);
}

/* conv2d and depthwise equal the FC layer on the windows gathered here (zeros outside); without
 * noise their ADC counts (conversions, saturated, zero tiles) too, each output through its own
 * row. zero_ch: an input channel of zeros and an output channel of zero weights (zero tiles). */
static void conv_case_z(mpq_conv_shape s, const mpq_abfp *p, int zero_ch)
{
    char e2[256];
    CHECK_EQ(mpq_conv_check(&s, e2, sizeof e2), 0, "%s", e2);
    size_t nx = mpq_conv_in_count(&s), ny = mpq_conv_out_count(&s), nw = mpq_conv_w_count(&s);
    unsigned K = mpq_conv_depth(&s), O = s.out_c;
    float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w), *b = malloc(O * sizeof *b);
    float *y = malloc(ny * sizeof *y), *col = malloc(K * sizeof *col), *wr = malloc((size_t)O * K * sizeof *wr);
    for (size_t i = 0; i < nx; i++)
        x[i] = rnd_float();
    for (size_t i = 0; i < nw; i++)
        w[i] = rnd_float();
    for (unsigned o = 0; o < O; o++)
        b[o] = rnd_float();
    for (size_t i = 0; zero_ch == 1 && i < nx; i += s.in_c)
        x[i + s.in_c - 1] = 0.0f;
    /* zero_ch 2, mantissa ties: every window of width 2 of channel c holds 127 m (its scale)
     * and m (k + 0.5), whose 8-bit mantissa m (k + 0.5) 127 / (127 m) is an exact tie; for these
     * m, (m (k + 0.5) 127) * (1 / (127 m)) in double misses the tie for about half the k, to
     * the side that rounds otherwise (a reciprocal alone would be wrong). */
    static const float tie_m[] = {7, 27, 31, 53, 61, 63};
    for (size_t i = 0; zero_ch == 2 && i < nx; i++) {
        float mm = tie_m[(i % s.in_c) % 6], k = (float)(test_rand() % 127) + 0.5f;
        x[i] = (i / s.in_c) % 2 == 0 ? 127.0f * mm : ((test_rand() & 1) ? k : -k) * mm;
    }
    for (size_t i = 0; zero_ch == 1 && i < nw; i++)
        if ((s.kind == MPQ_LAYER_DEPTHWISE && i % O == 1) || (s.kind != MPQ_LAYER_DEPTHWISE && i / (nw / O) == 1))
            w[i] = 0.0f;
    int dw = s.kind == MPQ_LAYER_DEPTHWISE;
    unsigned G = dw ? 1 : (s.groups ? s.groups : 1), F = dw ? 1 : s.in_c / G;
    for (unsigned o = 0; o < O; o++)
        for (unsigned r = 0; r < K; r++)
            wr[(size_t)o * K + r] = dw ? w[(size_t)r * O + o] : w[(size_t)o * K + r];
    mpq_abfp_stats cst = {0}, rst = {0};
    CHECK_EQ(mpq_abfp_conv(p, &s, x, w, b, 5, y, &cst, err, sizeof err), 0, "%s", err);
    mpq_abfp_wq wq, *rowq = calloc(O, sizeof *rowq);
    CHECK_EQ(mpq_abfp_wq_make(p, wr, O, K, &wq, err, sizeof err), 0, "%s", err);
    for (unsigned o = 0; o < O; o++)
        CHECK_EQ(mpq_abfp_wq_make(p, wr + (size_t)o * K, 1, K, &rowq[o], err, sizeof err), 0, "%s", err);
    float *yo = malloc(O * sizeof *yo);
    unsigned bad = 0;
    for (unsigned bb = 0; bb < s.batches; bb++)
        for (unsigned oy = 0; oy < s.out_h; oy++)
            for (unsigned ox = 0; ox < s.out_w; ox++) {
                uint64_t pix = ((uint64_t)bb * s.out_h + oy) * s.out_w + ox;
                for (unsigned o = 0; o < O; o++) {
                    unsigned ci0 = dw ? o / (O / s.in_c) : (o / (O / G)) * F;
                    for (unsigned ky = 0; ky < s.kh; ky++)
                        for (unsigned kx = 0; kx < s.kw; kx++)
                            for (unsigned c = 0; c < F; c++) {
                                long iy = (long)oy * s.sy - (long)s.py + (long)ky * s.dy;
                                long ix = (long)ox * s.sx - (long)s.px + (long)kx * s.dx;
                                int in = iy >= 0 && iy < (long)s.in_h && ix >= 0 && ix < (long)s.in_w;
                                col[(ky * s.kw + kx) * F + c] =
                                    in ? x[(((size_t)bb * s.in_h + (size_t)iy) * s.in_w + (size_t)ix) * s.in_c + ci0 + c]
                                       : 0.0f;
                            }
                    /* The whole layer's rows through the array for this window; keep output o. */
                    CHECK_EQ(mpq_abfp_mvm(p, &wq, 1, col, b, 5 + pix, yo, NULL, err, sizeof err), 0, "%s", err);
                    float y1;
                    CHECK_EQ(mpq_abfp_mvm(p, &rowq[o], 1, col, NULL, 0, &y1, &rst, err, sizeof err), 0, "%s", err);
                    if (memcmp(&yo[o], &y[pix * O + o], sizeof(float)) != 0 && bad++ < 5)
                        CHECK(0, "%s pixel %llu out %u: %a, want %a", mpq_layer_name(s.kind), (unsigned long long)pix,
                              o, (double)y[pix * O + o], (double)yo[o]);
                }
            }
    if (p->noise == 0.0) {
        CHECK(cst.conversions == rst.conversions && cst.saturated == rst.saturated &&
              cst.zero_tiles == rst.zero_tiles, "%s: conversions %llu, saturated %llu, zero tiles %llu; "
              "one row at a time %llu, %llu, %llu", mpq_layer_name(s.kind), (unsigned long long)cst.conversions,
              (unsigned long long)cst.saturated, (unsigned long long)cst.zero_tiles,
              (unsigned long long)rst.conversions, (unsigned long long)rst.saturated,
              (unsigned long long)rst.zero_tiles);
        CHECK(zero_ch != 1 || (cst.zero_tiles > 0 && cst.saturated > 0), "%s: zero tiles %llu, saturated %llu: "
              "the case must reach both", mpq_layer_name(s.kind), (unsigned long long)cst.zero_tiles,
              (unsigned long long)cst.saturated);
    }
    for (unsigned o = 0; o < O; o++)
        mpq_abfp_wq_free(&rowq[o]);
    free(rowq);
    mpq_abfp_wq_free(&wq);
    free(x);
    free(w);
    free(b);
    free(y);
    free(col);
    free(wr);
    free(yo);
}

static void conv_case(mpq_conv_shape s, const mpq_abfp *p) { conv_case_z(s, p, 0); }

static void test_conv(void)
{
    mpq_abfp p;
    mpq_abfp_default(&p);
    p.n = 8;
    p.noise = 1.0;
    p.seed = 99;
    mpq_conv_shape c = {MPQ_LAYER_CONV2D, 2, 7, 6, 6, 4, 3, 3, 2, 1, 1, 1, 1, 1, 2, 4, 6};
    conv_case(c, &p);
    mpq_conv_shape c2 = {MPQ_LAYER_CONV2D, 1, 9, 9, 3, 5, 3, 3, 1, 1, 2, 2, 2, 2, 1, 9, 9};
    p.n = 16;
    p.gain = 4.0f;
    conv_case(c2, &p);
    mpq_conv_shape d = {MPQ_LAYER_DEPTHWISE, 2, 6, 5, 3, 6, 3, 3, 1, 2, 1, 1, 1, 1, 1, 6, 3};
    p.n = 4;
    conv_case(d, &p);
    /* Channel multiplier 1 without noise: the four-channel path (11 = 8 + 3 one at a time),
     * three tiles and one, the ADC saturating (gains 64 and 512), zero tiles, then the other roundings. */
    mpq_conv_shape d1 = {MPQ_LAYER_DEPTHWISE, 2, 6, 5, 11, 11, 3, 3, 1, 2, 1, 1, 1, 1, 1, 6, 3};
    p.noise = 0.0;
    p.gain = 64.0f;
    conv_case_z(d1, &p, 1);
    p.n = 128;
    p.gain = 512.0f; /* a 9-long window on a 128-wide array: saturates only with a large gain */
    conv_case_z(d1, &p, 1);
    p.round_adc = MPQ_ROUND_FLOOR;
    conv_case_z(d1, &p, 1);
    mpq_conv_shape c3 = {MPQ_LAYER_CONV2D, 1, 5, 5, 4, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 5, 5};
    p.round_adc = MPQ_ROUND_HALF_EVEN;
    conv_case_z(c3, &p, 1);
    /* Mantissa ties on the four-channel path's reciprocals: they must fall back to division. */
    mpq_conv_shape dt = {MPQ_LAYER_DEPTHWISE, 1, 1, 9, 9, 9, 1, 2, 1, 1, 0, 0, 1, 1, 1, 1, 8};
    p.gain = 1.0f;
    p.bout = 24; /* an ADC fine enough to show one mantissa step */
    conv_case_z(dt, &p, 2);
    /* Channels in eights with per-tile scales and no noise: the AVX2 depthwise path (dw8) on
     * the same ties, then saturating, with zero channels. */
    mpq_conv_shape dt16 = {MPQ_LAYER_DEPTHWISE, 1, 1, 9, 16, 16, 1, 2, 1, 1, 0, 0, 1, 1, 1, 1, 8};
    conv_case_z(dt16, &p, 2);
    mpq_conv_shape d16 = {MPQ_LAYER_DEPTHWISE, 2, 6, 5, 16, 16, 3, 3, 1, 2, 1, 1, 1, 1, 1, 6, 3};
    p.bout = 8;
    p.gain = 512.0f;
    conv_case_z(d16, &p, 1);
    p.noise = 2.0; /* its noise, vector by vector */
    conv_case_z(d16, &p, 1);
}

/* One FC and one grouped conv2d (tails of 8-output steps and of tiles, zero tiles, ties of
 * the mantissas, saturation) at the AVX2 and the SSE2 level: the same bytes and counts. */
static void test_simd_levels(void)
{
    enum { M = 37, K = 300, R = 21 };
    static float x[M * K], w[R * K], y[2][M * R], cx[2 * 9 * 9 * 16], cw[24 * 3 * 3 * 8], cy[2][2 * 9 * 9 * 24];
    for (unsigned i = 0; i < M * K; i++)
        x[i] = i % 97 < 3 ? 0.0f : (float)(test_range(-128, 127)) / 128.0f;
    for (unsigned i = 0; i < R * K; i++)
        w[i] = (i / K == 5 && i % K < 140) ? 0.0f : (float)(test_range(-127, 127)) / 127.0f;
    for (unsigned i = 0; i < sizeof cx / sizeof cx[0]; i++)
        cx[i] = (float)(test_range(-128, 127)) / 128.0f;
    for (unsigned i = 0; i < sizeof cw / sizeof cw[0]; i++)
        cw[i] = (float)(test_range(-127, 127)) / 127.0f;
    mpq_conv_shape s = {MPQ_LAYER_CONV2D, 2, 9, 9, 16, 24, 3, 3, 1, 1, 1, 1, 1, 1, 2, 9, 9};
    for (unsigned noisy = 0; noisy < 2; noisy++) {
        mpq_abfp p;
        mpq_abfp_default(&p);
        p.n = 50; /* tiles across the windows' taps, a last tile of 22 */
        p.gain = 16.0f;
        p.noise = noisy ? 1.5 : 0.0;
        mpq_abfp_stats st[2] = {{0}, {0}}, cst[2] = {{0}, {0}};
        mpq_simd top = mpq_simd_level();
        for (unsigned l = 0; l < 2; l++) {
            mpq_simd_limit(l ? MPQ_SIMD_SSE2 : MPQ_SIMD_AVX2);
            CHECK_EQ(mpq_abfp_fc(&p, M, K, R, x, w, NULL, y[l], &st[l], err, sizeof err), 0, "%s", err);
            CHECK_EQ(mpq_abfp_conv(&p, &s, cx, cw, NULL, 3, cy[l], &cst[l], err, sizeof err), 0, "%s", err);
        }
        mpq_simd_limit(top);
        CHECK(!memcmp(y[0], y[1], sizeof y[0]) && !memcmp(&st[0], &st[1], sizeof st[0]),
              "FC: the same bits at every SIMD level (noise %g)", p.noise);
        CHECK(!memcmp(cy[0], cy[1], sizeof cy[0]) && !memcmp(&cst[0], &cst[1], sizeof cst[0]),
              "conv2d: the same bits at every SIMD level (noise %g)", p.noise);
        CHECK(st[0].saturated > 0 && st[0].zero_tiles > 0 && cst[0].saturated > 0,
              "the case saturates and has zero tiles (%llu, %llu, %llu)", (unsigned long long)st[0].saturated,
              (unsigned long long)st[0].zero_tiles, (unsigned long long)cst[0].saturated);
    }
}

/* An input not finite: conv2d and depthwise (both fast paths' shapes) name the first output
 * pixel whose window holds it, (oy 1, ox 2) = 7 for input (2, 3) under a padded 3x3. */
static void test_conv_not_finite(void)
{
    static float x[5 * 5 * 16], w[16 * 3 * 3 * 16], y[5 * 5 * 16];
    for (unsigned i = 0; i < sizeof w / sizeof w[0]; i++)
        w[i] = (float)(i % 7) - 3.0f;
    for (unsigned i = 0; i < sizeof x / sizeof x[0]; i++)
        x[i] = (float)(i % 5) * 0.25f;
    x[(2 * 5 + 3) * 16 + 9] = NAN;
    mpq_conv_shape c = {MPQ_LAYER_CONV2D, 1, 5, 5, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 5, 5};
    mpq_conv_shape d = {MPQ_LAYER_DEPTHWISE, 1, 5, 5, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 5, 5};
    mpq_abfp p;
    mpq_abfp_default(&p);
    for (unsigned k = 0; k < 2; k++) {
        err[0] = 0;
        CHECK_EQ(mpq_abfp_conv(&p, k ? &d : &c, x, w, NULL, 0, y, NULL, err, sizeof err), MPQ_EPARAM, "NaN input");
        CHECK(strstr(err, "output pixel 7 ") != NULL, "%s: `%s` names pixel 7", k ? "depthwise" : "conv2d", err);
    }
}

int main(void)
{
    test_seed("test_abfp", 28);
    test_params();
    test_mantissa();
    test_noise();
    test_layer_random();
    test_counts();
    test_precision();
    test_conv();
    test_simd_levels();
    test_conv_not_finite();
    /* The layer tests again on the SSE2 paths (the AVX2 ones ran above when the CPU has it). */
    mpq_simd top = mpq_simd_level();
    mpq_simd_limit(MPQ_SIMD_SSE2);
    test_layer_random();
    test_counts();
    test_conv();
    mpq_simd_limit(top);
    return check_done("test_abfp");
}
