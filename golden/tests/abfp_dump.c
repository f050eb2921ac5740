/* SPDX-License-Identifier: Apache-2.0 */
/* abfp_dump: random ABFP layers and what the golden model computes for them, as text, for
 *   - golden/tests/abfp_ref.py, the independent NumPy reference (make golden/abfp-numpy);
 *   - the bit-reproducibility test: the same output bytes from gcc and clang at -O0 and -O2
 *     and from the library's own build (make golden/abfp-repro).
 * The cases: every combination of the study's axes (n 8..256, b_w = b_x 4, 6, 8, b_out 6..10,
 * G 1..16) with per-tile scales, the fixed-point scales, the noise levels (0.25..8), the per-layer
 * gains up to 128, every rounding, and tiles made to hit the edges: exact mantissa ties, exact
 * ADC ties, zero tiles, saturation.
 * usage: abfp_dump [SEED]   (default 28)
 * Output, one block per case (floats as the hex of their IEEE bits, doubles as %a):
 *   case ID n bw bx bout gain noise seed round adc-round scale x-amax m k rows
 *   x ...  w ...  b ...  y ...
 *   stats conversions saturated zero_tiles x_clipped
 * and one conv2d and one depthwise layer as `conv` blocks (checked for reproducibility only;
 * test_abfp checks them against the FC layer). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq_abfp.h"

static uint64_t state;
static uint64_t rnd(void)
{
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static float uni(void) { return (float)((double)(rnd() >> 11) / 9007199254740992.0); }

static void put(const char *tag, const float *v, size_t count)
{
    fputs(tag, stdout);
    for (size_t i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        printf(" %08" PRIx32, u);
    }
    putchar('\n');
}

/* One slice of a tile: random, zero, exact mantissa ties (max = M, the rest j + 1/2), or
 * all positive (so that aligned tiles saturate at high gain). */
static void slice(float *v, unsigned len, unsigned bits)
{
    int m = (1 << (bits - 1)) - 1;
    unsigned kind = (unsigned)(rnd() % 8);
    for (unsigned i = 0; i < len; i++) {
        switch (kind) {
        case 0: v[i] = 0.0f; break;
        case 1: case 2:
            v[i] = i == 0 ? (float)((rnd() & 1) ? m : -m) : (float)((int)(rnd() % (unsigned)(2 * m)) - m) + 0.5f;
            break;
        case 3: v[i] = uni() * 2.0f; break;
        default: {
            /* Two draws, sequenced: the order of a binary operator's operands is unspecified,
             * and the sanitized build evaluated them the other way round. */
            float u = uni() - 0.5f;
            v[i] = u * (float)(1u << (rnd() % 4));
            break;
        }
        }
    }
}

static unsigned id;

static void one(const mpq_abfp *p)
{
    char err[256];
    unsigned n = p->n, m = 2, rows = 3, k = 2 * n + n / 2 + 1;
    float *x = malloc((size_t)m * k * sizeof *x), *w = malloc((size_t)rows * k * sizeof *w);
    float b[3], y[6];
    for (unsigned r = 0; r < m; r++)
        for (unsigned t = 0; t * n < k; t++)
            slice(x + (size_t)r * k + t * n, k - t * n < n ? k - t * n : n, p->bx);
    for (unsigned o = 0; o < rows; o++)
        for (unsigned t = 0; t * n < k; t++)
            slice(w + (size_t)o * k + t * n, k - t * n < n ? k - t * n : n, p->bw);
    for (unsigned o = 0; o < rows; o++)
        b[o] = uni() - 0.5f;
    mpq_abfp_stats st = {0};
    if (mpq_abfp_fc(p, m, k, rows, x, w, b, y, &st, err, sizeof err) != 0) {
        fprintf(stderr, "abfp_dump: case %u: %s\n", id, err);
        exit(1);
    }
    uint32_t g, xa;
    memcpy(&g, &p->gain, 4);
    memcpy(&xa, &p->x_amax, 4);
    printf("case %u %u %u %u %u %08" PRIx32 " %a %" PRIu64 " %s %s %s %08" PRIx32 " %u %u %u\n", id++, p->n, p->bw,
           p->bx, p->bout, g, p->noise, p->seed, mpq_round_name(p->round_mant), mpq_round_name(p->round_adc),
           mpq_abfp_scale_name(p->scale), xa, m, k, rows);
    put("x", x, (size_t)m * k);
    put("w", w, (size_t)rows * k);
    put("b", b, rows);
    put("y", y, (size_t)m * rows);
    printf("stats %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", st.conversions, st.saturated, st.zero_tiles,
           st.x_clipped);
    free(x);
    free(w);
}

static void conv(const mpq_abfp *p, mpq_conv_shape s)
{
    char err[256];
    size_t nx = mpq_conv_in_count(&s), nw = mpq_conv_w_count(&s), ny = mpq_conv_out_count(&s);
    float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w), *y = malloc(ny * sizeof *y);
    for (size_t i = 0; i < nx; i++)
        x[i] = uni() - 0.25f;
    for (size_t i = 0; i < nw; i++)
        w[i] = uni() - 0.5f;
    if (mpq_abfp_conv(p, &s, x, w, NULL, 0, y, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "abfp_dump: conv: %s\n", err);
        exit(1);
    }
    printf("conv %s\n", mpq_layer_name(s.kind));
    put("y", y, ny);
    free(x);
    free(w);
    free(y);
}

int main(int argc, char **argv)
{
    state = argc > 1 ? strtoull(argv[1], NULL, 0) : 28;
    static const unsigned ns[] = {8, 16, 32, 64, 128, 256}, bits[] = {4, 6, 8};
    static const float gains[] = {1, 2, 4, 8, 16};
    static const double noises[] = {0.25, 0.5, 1, 2, 4};
    mpq_abfp p;
    /* The study's grid, per-tile scales. */
    for (unsigned a = 0; a < 6; a++)
        for (unsigned b = 0; b < 3; b++)
            for (unsigned bo = 6; bo <= 10; bo++)
                for (unsigned g = 0; g < 5; g++) {
                    mpq_abfp_default(&p);
                    p.n = ns[a];
                    p.bw = p.bx = bits[b];
                    p.bout = bo;
                    p.gain = gains[g];
                    one(&p);
                }
    /* Fixed point, per channel and per tensor, with a static input scale that clips some. */
    for (unsigned sc = MPQ_ABFP_SCALE_CHANNEL; sc <= MPQ_ABFP_SCALE_TENSOR; sc++)
        for (unsigned b = 0; b < 3; b++)
            for (unsigned g = 0; g < 5; g++)
                for (unsigned a = 0; a < 6; a += 2) {
                    mpq_abfp_default(&p);
                    p.scale = (mpq_abfp_scale)sc;
                    p.x_amax = 0.75f;
                    p.n = ns[a];
                    p.bw = p.bx = bits[b];
                    p.gain = gains[g];
                    one(&p);
                }
    /* Noise levels of the study, each gain, two tile widths. */
    for (unsigned s = 0; s < 5; s++)
        for (unsigned g = 0; g < 5; g++)
            for (unsigned a = 1; a < 6; a += 3) {
                mpq_abfp_default(&p);
                p.noise = noises[s];
                p.seed = rnd();
                p.n = ns[a];
                p.gain = gains[g];
                one(&p);
            }
    /* The per-layer gain table's larger gains (n 128, 8 bits), with and without the largest
     * noise of the noise table. */
    static const float big_gains[] = {32, 64, 128};
    for (unsigned g = 0; g < 3; g++)
        for (unsigned s = 0; s < 2; s++) {
            mpq_abfp_default(&p);
            p.gain = big_gains[g];
            p.noise = s ? 8.0 : 0.0;
            p.seed = rnd();
            one(&p);
        }
    /* Every rounding of mantissas and ADC. */
    for (unsigned rm = 0; rm < MPQ_ROUND_COUNT; rm++)
        for (unsigned ra = 0; ra < MPQ_ROUND_COUNT; ra++) {
            mpq_abfp_default(&p);
            p.n = 8;
            p.bw = p.bx = 4;
            p.bout = 6;
            p.gain = 2;
            p.round_mant = (mpq_round)rm;
            p.round_adc = (mpq_round)ra;
            one(&p);
        }
    /* Exact ADC ties: bw = bout and G = Mx/2 make a = d/16 (n 8). */
    for (unsigned ra = 0; ra < MPQ_ROUND_COUNT; ra++)
        for (unsigned rep = 0; rep < 4; rep++) {
            mpq_abfp_default(&p);
            p.n = 8;
            p.bw = p.bout = 8;
            p.bx = 4;
            p.gain = 3.5f;
            p.round_adc = (mpq_round)ra;
            one(&p);
        }
    /* Convolutions (reproducibility). */
    mpq_abfp_default(&p);
    p.n = 16;
    p.noise = 0.5;
    mpq_conv_shape c = {MPQ_LAYER_CONV2D, 1, 9, 9, 8, 12, 3, 3, 1, 1, 1, 1, 1, 1, 2, 9, 9};
    conv(&p, c);
    mpq_conv_shape d = {MPQ_LAYER_DEPTHWISE, 1, 9, 9, 8, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 5, 5};
    conv(&p, d);
    return 0;
}
