/* SPDX-License-Identifier: Apache-2.0 */
/* Weight encodings round trip and reject invalid codes; decomposition properties; float
 * reference and error statistics. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "arith/mpq.h"

static void test_ternary(void)
{
    int8_t t[101], back[101];
    uint8_t p2[26], p5[21];
    for (int iter = 0; iter < 2000; iter++) {
        size_t n = (size_t)test_range(0, 101);
        for (size_t i = 0; i < n; i++)
            t[i] = (int8_t)test_range(-1, 1);
        CHECK(mpq_tern_pack2(t, n, p2) == 0, "pack2");
        memset(back, 9, sizeof back);
        CHECK(mpq_tern_unpack2(p2, n, back) == 0 && !memcmp(back, t, n), "2-bit round trip n=%zu", n);
        CHECK(mpq_tern_pack5(t, n, p5) == 0, "pack5");
        memset(back, 9, sizeof back);
        CHECK(mpq_tern_unpack5(p5, n, back) == 0 && !memcmp(back, t, n), "5-trit round trip n=%zu", n);
        for (size_t b = 0; b < (n + 4) / 5; b++)
            CHECK(p5[b] <= 242, "5-trit byte %u", p5[b]);
    }
    /* Codes as the accelerator defines them: 00 0, 01 +1, 11 -1, 10 invalid. */
    int8_t four[4] = {0, 1, -1, 1};
    CHECK(mpq_tern_pack2(four, 4, p2) == 0 && p2[0] == (0 | 1 << 2 | 3 << 4 | 1 << 6), "codes %02x", p2[0]);
    uint8_t bad2 = 2;
    CHECK(mpq_tern_unpack2(&bad2, 1, back) == MPQ_EFORMAT, "code 10 accepted");
    uint8_t bad5 = 243;
    CHECK(mpq_tern_unpack5(&bad5, 5, back) == MPQ_EFORMAT, "byte 243 accepted");
    int8_t two = 2;
    CHECK(mpq_tern_pack2(&two, 1, p2) == MPQ_EPARAM && mpq_tern_pack5(&two, 1, p5) == MPQ_EPARAM,
          "non-ternary packed");
    /* 5 trits: first weight least significant: {1,0,0,0,0} -> digits 2,1,1,1,1 */
    int8_t five[5] = {1, 0, 0, 0, 0};
    CHECK(mpq_tern_pack5(five, 5, p5) == 0 && p5[0] == 2 + 1 * 3 + 1 * 9 + 1 * 27 + 1 * 81,
          "trit order %u", p5[0]);
}

static double gauss(void)
{
    double u = ((double)(test_rand() >> 11) + 0.5) / 9007199254740992.0;
    double v = ((double)(test_rand() >> 11) + 0.5) / 9007199254740992.0;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static void test_decompose(void)
{
    enum { N = 32, K = 256 };
    static double w[N * K];
    for (size_t i = 0; i < N * K; i++)
        w[i] = 0.05 * gauss();
    char err[256];
    double last = 2.0;
    /* More high-precision entries per group: density grows, error falls. */
    for (unsigned hpn = 0; hpn <= 4; hpn++) {
        mpq_decomp d;
        mpq_decomp_opts o = {.thr = 0.7, .hp_n = hpn, .group = 16, .hp_bits = 8, .alpha_bits = 8};
        CHECK(mpq_decompose(w, N, K, &o, &d, err, sizeof err) == 0, "%s", err);
        CHECK(d.density <= hpn / 16.0 + 1e-12, "density %g for %u:16", d.density, hpn);
        CHECK(d.rel_err <= d.rel_err_tern + 1e-12, "hp does not reduce error");
        CHECK(d.rel_err < last, "error not decreasing with N: %g then %g", last, d.rel_err);
        last = d.rel_err;
        /* Structure: at most hpn entries per group of 16; alpha within 8 bits, t ternary. */
        int32_t hpcopy[N * K];
        memcpy(hpcopy, d.hp, sizeof hpcopy);
        mpq_nm nm;
        CHECK(mpq_nm_from_dense(hpcopy, N, K, hpn, 16, &nm, err, sizeof err) == 0, "N:G: %s", err);
        mpq_nm_free(&nm);
        for (unsigned c = 0; c < N; c++)
            CHECK(d.alpha[c] >= 1 && d.alpha[c] <= 127, "alpha %d", d.alpha[c]);
        for (size_t i = 0; i < N * K; i++)
            CHECK(d.hp[i] >= -127 && d.hp[i] <= 127 && d.t[i] >= -1 && d.t[i] <= 1, "ranges");
        /* The reconstruction error reported equals the one recomputed here. */
        double num = 0, den = 0;
        for (size_t i = 0; i < N * K; i++) {
            double a = d.step[i / K] * (d.alpha[i / K] * d.t[i] + d.hp[i]);
            num += (w[i] - a) * (w[i] - a);
            den += w[i] * w[i];
        }
        CHECK(fabs(sqrt(num / den) - d.rel_err) < 1e-9, "rel_err %g vs %g", d.rel_err, sqrt(num / den));
        mpq_decomp_free(&d);
    }
    CHECK(last < 0.45, "ternary + 4:16 relative error %g is implausibly large", last);
    mpq_decomp d;
    mpq_decomp_opts bad = {.thr = 0.7, .hp_n = 17, .group = 16, .hp_bits = 8, .alpha_bits = 8};
    CHECK(mpq_decompose(w, N, K, &bad, &d, err, sizeof err) == MPQ_EPARAM, "17:16 accepted");
    mpq_decomp_opts uns = {.thr = 0.7, .hp_n = 16, .group = 0, .hp_bits = 8, .alpha_bits = 8};
    CHECK(mpq_decompose(w, N, K, &uns, &d, err, sizeof err) == 0, "unstructured: %s", err);
    CHECK(d.hp_nnz <= 16u * N, "unstructured count %zu", d.hp_nnz);
    mpq_decomp_free(&d);
}

static void test_float_ref(void)
{
    double x[2 * 3] = {1, 2, 3, -1, 0, 0.5}, w[2 * 3] = {1, 0, -1, 0.5, 0.5, 0.5}, b[2] = {0.25, -1};
    double y[4];
    mpq_fc_f64(2, 3, 2, x, w, b, y);
    CHECK(y[0] == 1 - 3 + 0.25 && y[1] == 3 - 1 && y[2] == -1 - 0.5 + 0.25 && y[3] == -0.25 - 1,
          "float fc %g %g %g %g", y[0], y[1], y[2], y[3]);
    mpq_err_stats e;
    double q[4] = {y[0], y[1] + 0.5, y[2], y[3]};
    mpq_err_compute(y, q, 4, &e);
    double sig = y[0] * y[0] + y[1] * y[1] + y[2] * y[2] + y[3] * y[3];
    CHECK(fabs(e.sqnr_db - 10 * log10(sig / 0.25)) < 1e-9 && e.max_abs == 0.5 && e.mse == 0.0625,
          "stats %g %g %g", e.sqnr_db, e.max_abs, e.mse);
    mpq_err_compute(y, y, 4, &e);
    CHECK(isinf(e.sqnr_db) && e.sqnr_db > 0, "exact -> +inf");
}

int main(void)
{
    test_seed("test_format", 11);
    test_ternary();
    test_decompose();
    test_float_ref();
    return check_done("test_format");
}
