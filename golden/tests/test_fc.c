/* SPDX-License-Identifier: Apache-2.0 */
/* The fully-connected layer against a naive reference written here from the definition:
 * every term one at a time in 128-bit integers, fit after each term (SEQ) or after each
 * group (GROUPED), on random layers of every kind, small widths exhaustively enough that
 * every overflow path is taken, and the 128-bit path with 32-bit operands. */
#include <string.h>

#include "check.h"
#include "arith/mpq.h"
#include "arith/mpq_fit.h"
#include "arith/mpq_layer.h"
#include "layer_paths.h"

typedef struct ref_out {
    int64_t acc;
    int final_ovf, any_ovf, first_k;
} ref_out;

static int64_t ref_fit(mpq_i128 v, unsigned bits, int sat, int *o)
{
    mpq_i128 span = (mpq_i128)1 << bits, hi = span / 2 - 1, lo = -span / 2;
    mpq_i128 r;
    if (sat)
        r = v > hi ? hi : v < lo ? lo : v;
    else {
        r = ((v - lo) % span + span) % span + lo;
    }
    *o = r != v;
    return (int64_t)r;
}

static ref_out ref_one(const mpq_fc_layer *l, unsigned r, unsigned c)
{
    ref_out out = {0, 0, 0, -1};
    int sat = l->acc_mode == MPQ_ACC_SAT, o;
    mpq_i128 bias = l->bias ? l->bias[c] : 0, exact = bias;
    mpq_i128 a = ref_fit(bias, l->acc_bits, sat, &o);
    out.any_ovf = o;
    unsigned g = l->order == MPQ_ORDER_SEQ ? 1 : l->group;
    mpq_i128 part = 0;
    for (unsigned i = 0; i < l->k; i++) {
        mpq_i128 xr = (mpq_i128)l->x[(size_t)r * l->k + i] + l->in_offset;
        mpq_i128 term = 0;
        if (l->w)
            term += xr * ((mpq_i128)l->w[(size_t)c * l->k + i] + l->w_offset);
        if (l->t)
            term += xr * l->t[(size_t)c * l->k + i] * l->alpha[l->alpha_per_tensor ? 0 : c];
        if (l->hp)
            term += xr * l->hp[(size_t)c * l->k + i];
        exact += term;
        part += term;
        if ((i + 1) % g == 0 || i + 1 == l->k) {
            a = ref_fit(a + part, l->acc_bits, sat, &o);
            part = 0;
            if (o && !out.any_ovf) {
                out.any_ovf = 1;
                out.first_k = (int)i;
            }
        }
    }
    ref_fit(exact, l->acc_bits, 1, &out.final_ovf);
    out.acc = (int64_t)a;
    return out;
}

typedef struct layer_buf {
    int32_t x[64 * 80], w[24 * 80], hp[24 * 80], alpha[24], bias[24];
    int8_t t[24 * 80];
} layer_buf;

/* A random layer: widths chosen so that both the 64-bit and the 128-bit kernels run, with
 * overflow likely for small accumulators. */
static void random_layer(mpq_fc_layer *l, layer_buf *b, unsigned xbits, unsigned wbits)
{
    memset(l, 0, sizeof *l);
    l->m = (unsigned)test_range(1, 6);
    l->k = (unsigned)test_range(1, 80);
    l->n = (unsigned)test_range(1, 24);
    int64_t xlo, xhi, wlo, whi;
    mpq_int_range(xbits, 1, &xlo, &xhi);
    mpq_int_range(wbits, 1, &wlo, &whi);
    for (size_t i = 0; i < (size_t)l->m * l->k; i++)
        b->x[i] = (int32_t)test_range(xlo, xhi);
    int kind = (int)test_range(0, 7); /* bit 0: w, bit 1: t, bit 2: hp */
    if (!kind)
        kind = 6;
    for (size_t i = 0; i < (size_t)l->n * l->k; i++) {
        b->w[i] = (int32_t)test_range(wlo, whi);
        b->t[i] = (int8_t)test_range(-1, 1);
        b->hp[i] = test_range(0, 3) ? 0 : (int32_t)test_range(wlo, whi);
    }
    for (unsigned c = 0; c < l->n; c++) {
        b->alpha[c] = (int32_t)test_range(wlo, whi);
        b->bias[c] = (int32_t)test_range(-(1 << 20), 1 << 20);
    }
    l->x = b->x;
    l->in_offset = xbits >= 31 ? (int32_t)test_range(-8, 8) : (int32_t)test_range(xlo, xhi);
    if (kind & 1) {
        l->w = b->w;
        l->w_offset = (int32_t)test_range(-3, 3);
    }
    if (kind & 2) {
        l->t = b->t;
        l->alpha = b->alpha;
        l->alpha_per_tensor = test_range(0, 3) == 0;
    }
    if (kind & 4)
        l->hp = b->hp;
    l->bias = test_range(0, 4) ? b->bias : NULL;
    l->acc_bits = (unsigned)test_range(8, 64);
    l->acc_mode = test_range(0, 1) ? MPQ_ACC_SAT : MPQ_ACC_WRAP;
    l->order = test_range(0, 1) ? MPQ_ORDER_GROUPED : MPQ_ORDER_SEQ;
    l->group = (unsigned)test_range(1, 20);
}

static void compare_layer(const mpq_fc_layer *l, int iter)
{
    int64_t acc[6 * 24], acc_fast[6 * 24];
    uint8_t flags[6 * 24];
    int32_t first_k[6 * 24];
    char err[256];
    mpq_fc_ovf ovf = {.flags = flags, .first_k = first_k};
    CHECK(mpq_fc_acc(l, acc, &ovf, err, sizeof err) == 0, "iter %d: %s", iter, err);
    CHECK(mpq_fc_acc(l, acc_fast, NULL, err, sizeof err) == 0, "iter %d: %s", iter, err);
    size_t n_final = 0, n_any = 0;
    long fr = -1, fc = -1, fk = -1;
    for (unsigned r = 0; r < l->m; r++)
        for (unsigned c = 0; c < l->n; c++) {
            ref_out want = ref_one(l, r, c);
            size_t i = (size_t)r * l->n + c;
            CHECK_EQ(acc[i], want.acc, "iter %d acc[%u][%u] (acc_bits %u %s %s)", iter, r, c,
                     l->acc_bits, l->acc_mode ? "sat" : "wrap", l->order ? "grouped" : "seq");
            CHECK_EQ(acc_fast[i], want.acc, "iter %d fast path acc[%u][%u]", iter, r, c);
            CHECK_EQ(!!(flags[i] & MPQ_OVF_FINAL), want.final_ovf, "iter %d final flag", iter);
            CHECK_EQ(!!(flags[i] & MPQ_OVF_ANY), want.any_ovf, "iter %d any flag", iter);
            CHECK_EQ(first_k[i], want.first_k, "iter %d first k", iter);
            n_final += (size_t)want.final_ovf;
            n_any += (size_t)want.any_ovf;
            if (want.any_ovf && fr < 0) {
                fr = r;
                fc = c;
                fk = want.first_k;
            }
        }
    CHECK_EQ(ovf.n_final, n_final, "iter %d final count", iter);
    CHECK_EQ(ovf.n_any, n_any, "iter %d any count", iter);
    CHECK(ovf.first_row == fr && ovf.first_ch == fc && ovf.first_k_pos == fk,
          "iter %d first overflow (%ld %ld %ld) want (%ld %ld %ld)", iter, ovf.first_row,
          ovf.first_ch, ovf.first_k_pos, fr, fc, fk);
    mpq_layer_def d = {.shape = mpq_layer_fc_shape(l->m, l->k, l->n), .mac = l};
    compare_paths(&d, l->x, (size_t)l->m * l->k, acc, (size_t)l->m * l->n, iter);
}

static void test_random(void)
{
    static layer_buf b;
    for (int iter = 0; iter < 3000; iter++) {
        mpq_fc_layer l;
        unsigned xbits = (unsigned)test_range(2, 9), wbits = (unsigned)test_range(2, 9);
        static const unsigned wide[] = {15, 16, 17, 24, 31};
        if (iter % 5 == 0) { /* wide operands: every kernel boundary (16-bit, 64, 128) */
            xbits = wide[test_range(0, 4)];
            wbits = wide[test_range(0, 4)];
        }
        random_layer(&l, &b, xbits, wbits);
        if (iter % 10 == 0) { /* same signs: sums grow as fast as they can */
            for (size_t i = 0; i < (size_t)l.m * l.k; i++)
                b.x[i] = b.x[i] < 0 ? -(b.x[i] + 1) : b.x[i];
            for (size_t i = 0; i < (size_t)l.n * l.k; i++)
                b.w[i] = b.w[i] < 0 ? -(b.w[i] + 1) : b.w[i];
            l.in_offset = 0;
            l.w_offset = 0;
        }
        compare_layer(&l, iter);
    }
}

/* Small widths, every accumulator width 8..12 in both modes and orders: overflow everywhere. */
static void test_small_widths(void)
{
    static layer_buf b;
    for (int iter = 0; iter < 4000; iter++) {
        mpq_fc_layer l;
        random_layer(&l, &b, 4, 4);
        l.acc_bits = 8 + (unsigned)(iter % 5);
        l.acc_mode = (iter / 5) % 2 ? MPQ_ACC_SAT : MPQ_ACC_WRAP;
        l.order = (iter / 10) % 2 ? MPQ_ORDER_GROUPED : MPQ_ORDER_SEQ;
        compare_layer(&l, 100000 + iter);
    }
}

/* The sparse layer in dense, N:G and CSR form gives the same result, and the requantized
 * outputs match mpq_requant_one on the accumulators. */
static void test_sparse_forms(void)
{
    static layer_buf b;
    char err[256];
    for (int iter = 0; iter < 300; iter++) {
        mpq_fc_layer l;
        random_layer(&l, &b, 8, 8);
        l.w = NULL;
        l.t = b.t;
        l.alpha = b.alpha;
        unsigned g = (unsigned)test_range(1, 16), nper = (unsigned)test_range(0, g);
        /* Make hp N:G-legal: keep at most nper non-zeros per group. */
        for (unsigned c = 0; c < l.n; c++)
            for (unsigned k0 = 0; k0 < l.k; k0 += g) {
                unsigned used = 0;
                for (unsigned j = k0; j < k0 + g && j < l.k; j++)
                    if (b.hp[(size_t)c * l.k + j] && used++ >= nper)
                        b.hp[(size_t)c * l.k + j] = 0;
            }
        l.hp = b.hp;
        int64_t a_dense[6 * 24], a_nm[6 * 24], a_csr[6 * 24];
        CHECK(mpq_fc_acc(&l, a_dense, NULL, err, sizeof err) == 0, "%s", err);
        mpq_nm nm;
        mpq_csr csr;
        CHECK(mpq_nm_from_dense(b.hp, l.n, l.k, nper, g, &nm, err, sizeof err) == 0, "%s", err);
        CHECK(mpq_csr_from_dense(b.hp, l.n, l.k, &csr) == 0, "csr");
        int32_t back[24 * 80];
        mpq_nm_to_dense(&nm, back);
        CHECK(!memcmp(back, b.hp, (size_t)l.n * l.k * sizeof back[0]), "N:G round trip");
        mpq_csr_to_dense(&csr, back);
        CHECK(!memcmp(back, b.hp, (size_t)l.n * l.k * sizeof back[0]), "CSR round trip");
        l.hp = NULL;
        l.hp_nm = &nm;
        CHECK(mpq_fc_acc(&l, a_nm, NULL, err, sizeof err) == 0, "%s", err);
        l.hp_nm = NULL;
        l.hp_csr = &csr;
        CHECK(mpq_fc_acc(&l, a_csr, NULL, err, sizeof err) == 0, "%s", err);
        for (size_t i = 0; i < (size_t)l.m * l.n; i++) {
            CHECK_EQ(a_nm[i], a_dense[i], "N:G form, iter %d", iter);
            CHECK_EQ(a_csr[i], a_dense[i], "CSR form, iter %d", iter);
        }
        /* An N:G violation is refused with the row and group named. */
        if (nper < g && l.k >= g) {
            int32_t dense[24 * 80];
            memcpy(dense, b.hp, (size_t)l.n * l.k * sizeof dense[0]);
            for (unsigned j = 0; j < g; j++)
                dense[j] = 1;
            mpq_nm bad;
            CHECK(mpq_nm_from_dense(dense, l.n, l.k, nper, g, &bad, err, sizeof err) == MPQ_EPARAM,
                  "N:G violation accepted");
            CHECK(strstr(err, "row 0, group 0") != NULL, "message: %s", err);
        }
        /* Requantization of the layer equals requant of each accumulator. */
        int32_t mult = (int32_t)test_range(1 << 30, INT32_MAX), shift = (int32_t)test_range(-20, 0);
        mpq_requant rq = {.kind = MPQ_RQ_DOUBLE, .nparams = 1, .mult = &mult, .shift = &shift,
                          .out_offset = -3, .act_min = -128, .act_max = 127};
        int32_t y[6 * 24];
        int64_t acc[6 * 24];
        CHECK(mpq_fc(&l, &rq, y, acc, NULL, err, sizeof err) == 0, "%s", err);
        for (size_t i = 0; i < (size_t)l.m * l.n; i++) {
            int64_t v = (int64_t)mpq_requant_double((int32_t)mpq_fit(acc[i], 32, MPQ_OVF_WRAP, NULL),
                                                    mult, shift) - 3;
            v = v < -128 ? -128 : v > 127 ? 127 : v;
            CHECK_EQ(y[i], v, "requantized output %zu", i);
        }
        mpq_nm_free(&nm);
        mpq_csr_free(&csr);
    }
}

static void test_bad_params(void)
{
    int32_t x[4] = {1, 2, 3, 4}, alpha = 1;
    int8_t t[4] = {1, 0, 2, 0};
    int64_t acc[4];
    char err[256];
    mpq_fc_layer l = {.m = 1, .k = 4, .n = 1, .x = x, .t = t, .alpha = &alpha,
                      .acc_bits = 32, .order = MPQ_ORDER_SEQ};
    CHECK(mpq_fc_acc(&l, acc, NULL, err, sizeof err) == MPQ_EPARAM, "t = 2 accepted");
    CHECK(strstr(err, "t[0][2]") != NULL, "message: %s", err);
    t[2] = 1;
    l.acc_bits = 65;
    CHECK(mpq_fc_acc(&l, acc, NULL, err, sizeof err) == MPQ_EPARAM, "acc_bits 65 accepted");
    l.acc_bits = 32;
    l.order = MPQ_ORDER_GROUPED;
    l.group = 0;
    CHECK(mpq_fc_acc(&l, acc, NULL, err, sizeof err) == MPQ_EPARAM, "group 0 accepted");
    l.group = 2;
    l.alpha = NULL;
    CHECK(mpq_fc_acc(&l, acc, NULL, err, sizeof err) == MPQ_EPARAM, "t without alpha accepted");
}

/* The largest operands: 16 products of (2^30-1)^2 sum beyond 2^63, so a 64-bit kernel would
 * wrap; the exact sum saturates a 64-bit accumulator and is flagged. */
static void test_extreme(void)
{
    int32_t x[16], w[16];
    for (int i = 0; i < 16; i++)
        x[i] = w[i] = (1 << 30) - 1;
    int64_t acc;
    uint8_t flags;
    char err[128];
    mpq_fc_ovf ovf = {.flags = &flags};
    mpq_fc_layer l = {.m = 1, .k = 16, .n = 1, .x = x, .w = w, .acc_bits = 64,
                      .acc_mode = MPQ_ACC_SAT, .order = MPQ_ORDER_GROUPED, .group = 16};
    CHECK(mpq_fc_acc(&l, &acc, &ovf, err, sizeof err) == 0, "%s", err);
    CHECK_EQ(acc, INT64_MAX, "saturated");
    CHECK_EQ(flags, MPQ_OVF_FINAL | MPQ_OVF_ANY, "flags");
    l.acc_mode = MPQ_ACC_WRAP;
    l.acc_bits = 8;
    CHECK(mpq_fc_acc(&l, &acc, &ovf, err, sizeof err) == 0, "%s", err);
    /* (2^30-1)^2 = 2^60 - 2^31 + 1 == 1 (mod 256); times 16 = 16 */
    CHECK_EQ(acc, 16, "wrapped to 8 bits");
}

int main(void)
{
    test_seed("test_fc", 7);
    test_extreme();
    test_random();
    test_small_widths();
    test_sparse_forms();
    test_bad_params();
    report_kernels("test_fc");
    return check_done("test_fc");
}
