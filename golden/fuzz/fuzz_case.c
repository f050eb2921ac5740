/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the mpq-case parser and the layer it describes, fully connected or
 * spatial (layer, batches, in_h ... out_w: the seed corpus has one file per layer kind, and
 * libFuzzer learns the key words from the parser's string compares). Any input must either
 * be refused with a message or computed; never a crash, a leak or undefined behaviour. A
 * computed layer is computed again with saturation, the grouped order and overflow tracking,
 * so the fuzzer reaches the fit paths too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same layer, saturating, grouped by 16, with overflow tracking. */
static void tracked(const mpq_case *c)
{
    char err[512];
    size_t nout = (size_t)c->m * c->n;
    int64_t *acc = malloc((nout + 1) * sizeof *acc);
    uint8_t *flags = malloc(nout + 1);
    int32_t *first = malloc((nout + 1) * sizeof *first);
    if (acc && flags && first && c->layer == MPQ_LAYER_FC) {
        mpq_fc_layer l = {.m = c->m, .k = c->k, .n = c->n, .x = c->x, .in_offset = c->in_offset,
                          .w = c->w, .w_offset = c->w_offset, .t = c->t, .alpha = c->alpha,
                          .alpha_per_tensor = c->nalpha == 1, .hp = c->hp, .bias = c->bias,
                          .acc_bits = c->acc_bits, .acc_mode = MPQ_ACC_SAT,
                          .order = MPQ_ORDER_GROUPED, .group = 16};
        mpq_fc_ovf ovf = {.flags = flags, .first_k = first};
        mpq_fc_acc(&l, acc, &ovf, err, sizeof err);
    } else if (acc && flags && first &&
               (c->layer == MPQ_LAYER_CONV2D || c->layer == MPQ_LAYER_DEPTHWISE)) {
        mpq_conv_layer l = {.shape = c->shape, .x = c->x, .in_offset = c->in_offset, .w = c->w,
                            .w_offset = c->w_offset, .t = c->t, .alpha = c->alpha,
                            .alpha_per_tensor = c->nalpha == 1, .hp = c->hp, .bias = c->bias,
                            .acc_bits = c->acc_bits, .acc_mode = MPQ_ACC_SAT,
                            .order = MPQ_ORDER_GROUPED, .group = 16};
        mpq_conv_ovf ovf = {.flags = flags, .first_r = first};
        mpq_conv_acc(&l, acc, &ovf, err, sizeof err);
    }
    free(acc);
    free(flags);
    free(first);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mpq_case c;
    char err[512];
    if (mpq_case_parse((const char *)data, size, "fuzz.case", &c, err, sizeof err)) {
        if (!memchr(err, ':', strlen(err)))
            __builtin_trap(); /* every refusal names the file */
        return 0;
    }
    /* Keep each run short: the parser already bounds shapes; compute small ones (m*n
     * outputs of k terms each, for every layer kind). */
    if ((size_t)c.m * c.n * c.k <= 1u << 16) {
        static int32_t y[1 << 16];
        if ((size_t)c.m * c.n <= sizeof y / sizeof y[0]) {
            mpq_case_compute(&c, y, err, sizeof err);
            tracked(&c);
        }
    }
    mpq_case_free(&c);
    return 0;
}
