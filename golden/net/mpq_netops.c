/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_netops.c: TFLite Micro's integer arithmetic of ADD, MEAN, SOFTMAX, LOGISTIC,
 * QUANTIZE and DEQUANTIZE, and the prepare-time parameters (mpq_netops.h). Written from the
 * reference kernels' documented arithmetic; the int32 sums the reference lets wrap are
 * computed on unsigned values here, so that they wrap without undefined behaviour.
 */
#include "net/mpq_netops.h"

#include <math.h>
#include <stdio.h>

#if defined(__SSE2__) && !defined(MPQ_NO_SIMD)
#include <emmintrin.h>
#define NETOPS_SSE2 1
#endif

/* ---- wrapping int32 arithmetic and gemmlowp's fixed point ---- */

static int32_t add32(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}
static int32_t sub32(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}
static int32_t neg32(int32_t a)
{
    return (int32_t)(0u - (uint32_t)a);
}

/* SaturatingRoundingMultiplyByPOT<e>: a left shift that saturates, or a rounding right
 * shift (RoundingDivideByPOT) for negative e. */
static int32_t sat_mul_pot(int32_t x, int e)
{
    if (e < 0)
        return mpq_rdbpot(x, -e);
    if (e == 0)
        return x;
    const int32_t threshold = (int32_t)((INT64_C(1) << (31 - e)) - 1);
    if (x > threshold)
        return INT32_MAX;
    if (x < -threshold)
        return INT32_MIN;
    return (int32_t)((uint32_t)x << e);
}

/* Rescale<dst> of a value with `src` integer bits. */
static int32_t rescale(int32_t x, int src, int dst)
{
    return sat_mul_pot(x, src - dst);
}

/* RoundingHalfSum: (a + b) / 2, rounded half away from zero. */
static int32_t half_sum(int32_t a, int32_t b)
{
    int64_t s = (int64_t)a + b;
    return (int32_t)((s + (s >= 0 ? 1 : -1)) / 2);
}

/* exp(a) for a in [-1/4, 0), Q0.31: a Taylor expansion around -1/8. */
static int32_t exp_quarter(int32_t a)
{
    const int32_t c_exp_m1_8 = 1895147668; /* exp(-1/8) */
    const int32_t c_1_3 = 715827883;       /* 1/3 */
    int32_t x = add32(a, INT32_C(1) << 28);
    int32_t x2 = mpq_srdhm(x, x);
    int32_t x3 = mpq_srdhm(x2, x);
    int32_t x4 = mpq_srdhm(x2, x2);
    int32_t x4_4 = sat_mul_pot(x4, -2);
    int32_t poly = sat_mul_pot(add32(mpq_srdhm(add32(x4_4, x3), c_1_3), x2), -1);
    return add32(c_exp_m1_8, mpq_srdhm(c_exp_m1_8, add32(x, poly)));
}

int32_t mpq_gl_exp_on_negative(int32_t a, int int_bits)
{
    const int frac = 31 - int_bits;
    const int32_t quarter = INT32_C(1) << (frac - 2);
    int32_t amq = sub32(a & (quarter - 1), quarter);
    int32_t result = exp_quarter(rescale(amq, int_bits, 0));
    uint32_t remainder = (uint32_t)sub32(amq, a);
    /* exp(-2^e) for e = -2 .. 4 in Q0.31: the barrel shifter over the remainder's bits. */
    static const int32_t mults[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535,
                                     720401, 242};
    for (int e = -2; e <= 4; e++)
        if (int_bits > e && frac + e < 32 && (remainder & (UINT32_C(1) << (frac + e))))
            result = mpq_srdhm(result, mults[e + 2]);
    if (int_bits > 5 && a < -(INT32_C(1) << (36 - int_bits)))
        result = 0;
    return a == 0 ? INT32_MAX : result;
}

int32_t mpq_gl_one_over_one_plus_x(int32_t a)
{
    const int32_t c_48_17 = 1515870810, c_m32_17 = -1010580540; /* Q2.29 */
    const int32_t one_q2 = INT32_C(1) << 29;
    int32_t half_den = half_sum(a, INT32_MAX);
    int32_t x = add32(c_48_17, mpq_srdhm(half_den, c_m32_17));
    for (int i = 0; i < 3; i++) {
        int32_t hdx = mpq_srdhm(half_den, x);
        int32_t one_minus = sub32(one_q2, hdx);
        x = add32(x, rescale(mpq_srdhm(x, one_minus), 4, 2));
    }
    return rescale(x, 1, 0); /* x/2 reinterpreted with one integer bit, then to Q0.31 */
}

int32_t mpq_gl_logistic(int32_t a, int int_bits)
{
    if (a == 0)
        return INT32_C(1) << 30;
    int32_t abs_a = a > 0 ? a : neg32(a);
    int32_t pos = mpq_gl_one_over_one_plus_x(mpq_gl_exp_on_negative(neg32(abs_a), int_bits));
    return a > 0 ? pos : sub32(INT32_MAX, pos);
}

/* ---- prepare ---- */

int mpq_tfl_quantize_value(float scale, int32_t zero_point, float f, int32_t *q)
{
    float t = roundf(f / scale);
    if (!(t >= -2147483648.0f && t < 2147483648.0f))
        return MPQ_EPARAM;
    int64_t v = (int64_t)zero_point + (int32_t)t;
    if (v < INT32_MIN || v > INT32_MAX)
        return MPQ_EPARAM;
    *q = (int32_t)v;
    return MPQ_OK;
}

int mpq_tfl_act_range(int act, float scale, int32_t zero_point, int32_t *lo, int32_t *hi)
{
    int32_t a = 0, b = 0;
    *lo = INT8_MIN;
    *hi = INT8_MAX;
    switch (act) {
    case 0: /* NONE */
        return MPQ_OK;
    case 1: /* RELU */
        if (mpq_tfl_quantize_value(scale, zero_point, 0.0f, &a))
            return MPQ_EPARAM;
        break;
    case 3: /* RELU6 */
        if (mpq_tfl_quantize_value(scale, zero_point, 0.0f, &a) ||
            mpq_tfl_quantize_value(scale, zero_point, 6.0f, &b))
            return MPQ_EPARAM;
        *hi = b < *hi ? b : *hi;
        break;
    case 2: /* RELU_N1_TO_1 */
        if (mpq_tfl_quantize_value(scale, zero_point, -1.0f, &a) ||
            mpq_tfl_quantize_value(scale, zero_point, 1.0f, &b))
            return MPQ_EPARAM;
        *hi = b < *hi ? b : *hi;
        break;
    default:
        return MPQ_EPARAM;
    }
    *lo = a > *lo ? a : *lo;
    return MPQ_OK;
}

int mpq_tfl_multiplier(double real, int32_t *mult, int *shift)
{
    int64_t q;
    int e;
    if (mpq_multiplier_split(real, &q, &e) || e > 30)
        return MPQ_EPARAM;
    *mult = (int32_t)q;
    *shift = e;
    return MPQ_OK;
}

int mpq_tfl_window_axis(int padding, int in, int k, int stride, int dil, int64_t *out,
                        unsigned *pad)
{
    if (in < 1 || k < 1 || stride < 1 || dil < 1)
        return MPQ_EPARAM;
    int64_t e = (int64_t)(k - 1) * dil + 1;
    if (padding == MPQ_TFL_PAD_SAME)
        *out = ((int64_t)in + stride - 1) / stride;
    else if (padding == MPQ_TFL_PAD_VALID)
        *out = ((int64_t)in + stride - e) / stride;
    else
        return MPQ_EPARAM;
    if (*out < 1)
        return MPQ_EPARAM;
    int64_t total = (*out - 1) * stride + e - in;
    *pad = total > 0 ? (unsigned)(total / 2) : 0;
    return MPQ_OK;
}

int mpq_tfl_window(const mpq_tfl_opts *o, const mpq_tfl_tensor *in, int kh, int kw, int dy, int dx,
                   mpq_conv_shape *s)
{
    int64_t oh, ow;
    if (mpq_tfl_window_axis(o->padding, in->shape[1], kh, o->stride_h, dy, &oh, &s->py) ||
        mpq_tfl_window_axis(o->padding, in->shape[2], kw, o->stride_w, dx, &ow, &s->px))
        return MPQ_EPARAM;
    s->batches = (unsigned)in->shape[0];
    s->in_h = (unsigned)in->shape[1];
    s->in_w = (unsigned)in->shape[2];
    s->in_c = (unsigned)in->shape[3];
    s->kh = (unsigned)kh;
    s->kw = (unsigned)kw;
    s->sy = (unsigned)o->stride_h;
    s->sx = (unsigned)o->stride_w;
    s->dy = (unsigned)dy;
    s->dx = (unsigned)dx;
    s->out_h = (unsigned)oh;
    s->out_w = (unsigned)ow;
    return MPQ_OK;
}

/* ---- ADD ---- */

int mpq_tfl_add_prepare(float s1, int32_t z1, float s2, int32_t z2, float so, int32_t zo, int act,
                        mpq_tfl_add *p)
{
    p->in1_offset = -z1;
    p->in2_offset = -z2;
    p->out_offset = zo;
    p->left_shift = 20;
    const double twice_max = 2 * (double)(s1 > s2 ? s1 : s2);
    const double r1 = (double)s1 / twice_max, r2 = (double)s2 / twice_max;
    const double ro = twice_max / ((1 << p->left_shift) * (double)so);
    /* QuantizeMultiplierSmallerThanOneExp: each real multiplier in (0, 1). */
    if (!(r1 > 0 && r1 < 1 && r2 > 0 && r2 < 1 && ro > 0 && ro < 1) ||
        mpq_tfl_multiplier(r1, &p->in1_mult, &p->in1_shift) ||
        mpq_tfl_multiplier(r2, &p->in2_mult, &p->in2_shift) ||
        mpq_tfl_multiplier(ro, &p->out_mult, &p->out_shift) || p->in1_shift > 0 ||
        p->in2_shift > 0 || p->out_shift > 0)
        return MPQ_EPARAM;
    return mpq_tfl_act_range(act, so, zo, &p->act_min, &p->act_max);
}

/* MultiplyByQuantizedMultiplierSmallerThanOneExp (shift <= 0). */
static int32_t mul_smaller(int32_t x, int32_t mult, int shift)
{
    return mpq_rdbpot(mpq_srdhm(x, mult), -shift);
}

int8_t mpq_tfl_add_one(const mpq_tfl_add *p, int8_t x, int8_t y)
{
    int32_t a = (int32_t)((uint32_t)(p->in1_offset + x) << p->left_shift);
    int32_t b = (int32_t)((uint32_t)(p->in2_offset + y) << p->left_shift);
    int32_t sum = add32(mul_smaller(a, p->in1_mult, p->in1_shift),
                        mul_smaller(b, p->in2_mult, p->in2_shift));
    int64_t out = (int64_t)mul_smaller(sum, p->out_mult, p->out_shift) + p->out_offset;
    out = out < p->act_min ? p->act_min : out > p->act_max ? p->act_max : out;
    return (int8_t)out;
}

/* ---- MEAN ---- */

void mpq_tfl_mean_params(int32_t mult, int shift, int64_t n, int32_t *mult_n, int *shift_n)
{
    int s = 0;
    while (s < 63 && (UINT64_C(1) << (s + 1)) <= (uint64_t)n)
        s++; /* floor(log2 n) */
    s = s < 32 ? s : 32;
    s = s < 31 + shift ? s : 31 + shift;
    *mult_n = (int32_t)(((int64_t)mult << s) / n);
    *shift_n = shift - s;
}

int8_t mpq_tfl_mean_one(int32_t sum, int64_t n, int32_t in_zp, int32_t out_zp, int32_t mult_n,
                        int shift_n)
{
    /* (int32)(sum - in_zp * n): int64 arithmetic, then the reference's cast to int32. */
    uint64_t d = (uint64_t)(int64_t)sum - (uint64_t)((int64_t)in_zp * n);
    int32_t shifted = (int32_t)(uint32_t)d;
    int64_t out = (int64_t)mpq_requant_double(shifted, mult_n, shift_n) + out_zp;
    out = out < INT8_MIN ? INT8_MIN : out > INT8_MAX ? INT8_MAX : out;
    return (int8_t)out;
}

/* ---- SOFTMAX ---- */

int mpq_tfl_softmax_prepare(float beta, float in_scale, mpq_tfl_softmax *p)
{
    const double max_real = 2147483647.0; /* (1 << 31) - 1: the double-rounding build */
    double real = (double)beta * (double)in_scale * (double)(1 << 26);
    real = real < max_real ? real : max_real;
    /* QuantizeMultiplierGreaterThanOne checks real > 1 and a shift >= 0. */
    if (!(real > 1.0) || mpq_tfl_multiplier(real, &p->mult, &p->left_shift) || p->left_shift < 0)
        return MPQ_EPARAM;
    double radius = 1.0 * ((1 << 5) - 1) * (double)(INT64_C(1) << 26) /
                    (double)(INT64_C(1) << p->left_shift);
    p->diff_min = (int32_t)(-1.0 * floor(radius));
    return MPQ_OK;
}

int mpq_tfl_softmax_row(const mpq_tfl_softmax *p, const int8_t *x, unsigned depth, int8_t *y)
{
    int8_t mx = INT8_MIN;
    for (unsigned c = 0; c < depth; c++)
        mx = x[c] > mx ? x[c] : mx;
    int32_t sum = 0; /* Q12.19 */
    for (unsigned c = 0; c < depth; c++) {
        int32_t diff = (int32_t)x[c] - mx;
        if (diff >= p->diff_min) {
            int32_t scaled = mpq_requant_double(diff, p->mult, p->left_shift); /* Q5.26 */
            sum = add32(sum, rescale(mpq_gl_exp_on_negative(scaled, 5), 0, 12));
        }
    }
    /* GetReciprocal(sum, 12 integer bits). */
    uint32_t us = (uint32_t)sum;
    int headroom_plus_one = 0;
    while (headroom_plus_one < 32 && !(us & (UINT32_C(1) << (31 - headroom_plus_one))))
        headroom_plus_one++;
    int bits_over_unit = 12 - headroom_plus_one;
    int32_t shifted_minus_one =
        (int32_t)((headroom_plus_one < 32 ? us << headroom_plus_one : 0) - (UINT32_C(1) << 31));
    int32_t scale = mpq_gl_one_over_one_plus_x(shifted_minus_one);
    int exponent = bits_over_unit + 31 - 8;
    if (exponent < 0 || exponent > 31)
        return MPQ_EPARAM;
    for (unsigned c = 0; c < depth; c++) {
        int32_t diff = (int32_t)x[c] - mx;
        if (diff < p->diff_min) {
            y[c] = INT8_MIN;
            continue;
        }
        int32_t scaled = mpq_requant_double(diff, p->mult, p->left_shift);
        int32_t e = mpq_gl_exp_on_negative(scaled, 5);
        int64_t out = (int64_t)mpq_rdbpot(mpq_srdhm(scale, e), exponent) + INT8_MIN;
        y[c] = (int8_t)(out > INT8_MAX ? INT8_MAX : out < INT8_MIN ? INT8_MIN : out);
    }
    return MPQ_OK;
}

/* ---- LOGISTIC ---- */

int mpq_tfl_logistic_prepare(float in_scale, int32_t in_zp, mpq_tfl_logistic *p)
{
    double real = (double)in_scale * (double)(1 << 27);
    if (!(real > 0) || isinf(real))
        return MPQ_EPARAM;
    double q = frexp(real, &p->left_shift);
    double qf = round(q * 2147483648.0);
    /* The reference casts without the halving step: 2^31 would not fit its int32. */
    if (qf >= 2147483648.0 || p->left_shift < 0 || p->left_shift > 62)
        return MPQ_EPARAM;
    p->mult = (int32_t)qf;
    p->in_zp = in_zp;
    double radius = 1.0 * ((1 << 4) - 1) * (double)(INT64_C(1) << 27) /
                    (double)(INT64_C(1) << p->left_shift);
    p->range_radius = (int32_t)floor(radius);
    return MPQ_OK;
}

int8_t mpq_tfl_logistic_one(const mpq_tfl_logistic *p, int8_t x)
{
    int32_t in = (int32_t)x - p->in_zp;
    if (in <= -p->range_radius)
        return INT8_MIN;
    if (in >= p->range_radius)
        return INT8_MAX;
    /* radius > 0 here, so left_shift <= 30: the requantizer's range. */
    int32_t q4 = mpq_requant_double(in, p->mult, p->left_shift);
    int32_t q0 = mpq_gl_logistic(q4, 4);
    int64_t out = (int64_t)mpq_rdbpot(q0, 31 - 8) + INT8_MIN;
    return (int8_t)(out > INT8_MAX ? INT8_MAX : out < INT8_MIN ? INT8_MIN : out);
}

/* ---- QUANTIZE, DEQUANTIZE ---- */

/* roundf (half away from zero) of a finite |v| < 2^31, as an int32, without a libm call:
 * below 2^23 the fraction v - trunc(v) is exact in float; from 2^23 on v is an integer. */
static int32_t round_away(float v)
{
    int32_t t = (int32_t)v; /* truncates */
    float frac = v - (float)t;
    return t + (frac >= 0.5f) - (frac <= -0.5f);
}

int8_t mpq_tfl_quantize_f32(float x, float scale, int32_t zp)
{
    float q = x / scale;
    /* Floats from 2^23 on are integers: roundf(q) lies in int32 exactly when q does. */
    int32_t v = q >= -2147483648.0f && q < 2147483648.0f ? round_away(q) : INT32_MIN;
    int32_t u = add32(v, zp);
    return (int8_t)(u < INT8_MIN ? INT8_MIN : u > INT8_MAX ? INT8_MAX : u);
}

void mpq_tfl_quantize_f32_n(const float *x, int8_t *y, size_t n, float scale, int32_t zp)
{
    size_t i = 0;
#ifdef NETOPS_SSE2
    /* The same steps per lane: divps rounds as divss does; cvttps2dq truncates, giving
     * INT32_MIN where the scalar path takes it (NaN, |q| >= 2^31: masked in explicitly); the
     * fraction is exact below 2^23 and 0 above; the offset wraps; two saturating packs clamp
     * to int8. */
    const __m128 s = _mm_set1_ps(scale), lo = _mm_set1_ps(-2147483648.0f), hi = _mm_set1_ps(2147483648.0f);
    const __m128 half = _mm_set1_ps(0.5f), mhalf = _mm_set1_ps(-0.5f);
    const __m128i z = _mm_set1_epi32(zp), imin = _mm_set1_epi32(INT32_MIN);
    for (; i + 8 <= n; i += 8) {
        __m128i v[2];
        for (int h = 0; h < 2; h++) {
            const __m128 q = _mm_div_ps(_mm_loadu_ps(x + i + 4 * h), s);
            const __m128i in = _mm_castps_si128(_mm_and_ps(_mm_cmpge_ps(q, lo), _mm_cmplt_ps(q, hi)));
            const __m128i t = _mm_cvttps_epi32(q);
            const __m128 frac = _mm_sub_ps(q, _mm_cvtepi32_ps(t));
            /* compares give -1 where true: t + (frac >= 0.5) - (frac <= -0.5) */
            __m128i r = _mm_sub_epi32(t, _mm_castps_si128(_mm_cmpge_ps(frac, half)));
            r = _mm_add_epi32(r, _mm_castps_si128(_mm_cmple_ps(frac, mhalf)));
            r = _mm_or_si128(_mm_and_si128(in, r), _mm_andnot_si128(in, imin));
            v[h] = _mm_add_epi32(r, z);
        }
        const __m128i w = _mm_packs_epi32(v[0], v[1]);
        _mm_storel_epi64((__m128i *)(void *)(y + i), _mm_packs_epi16(w, w));
    }
#endif
    for (; i < n; i++)
        y[i] = mpq_tfl_quantize_f32(x[i], scale, zp);
}

int8_t mpq_tfl_requantize(int8_t x, int32_t in_zp, int32_t out_zp, int32_t mult, int shift)
{
    int64_t out = (int64_t)mpq_requant_double((int32_t)x - in_zp, mult, shift) + out_zp;
    return (int8_t)(out < INT8_MIN ? INT8_MIN : out > INT8_MAX ? INT8_MAX : out);
}

float mpq_tfl_dequantize(int8_t x, float scale, int32_t zp)
{
    return (float)((double)scale * (double)((int32_t)x - zp));
}
