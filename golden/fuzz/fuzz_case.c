/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the mpq-case parser and the layer it describes. Any input must either
 * be refused with a message or computed; never a crash, a leak or undefined behaviour. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mpq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mpq_case c;
    char err[512];
    if (mpq_case_parse((const char *)data, size, "fuzz.case", &c, err, sizeof err)) {
        if (!memchr(err, ':', strlen(err)))
            __builtin_trap(); /* every refusal names the file */
        return 0;
    }
    /* Keep each run short: the parser already bounds shapes; compute small ones. */
    if ((size_t)c.m * c.n * c.k <= 1u << 16) {
        static int32_t y[1 << 16];
        if ((size_t)c.m * c.n <= sizeof y / sizeof y[0])
            mpq_case_compute(&c, y, err, sizeof err);
    }
    mpq_case_free(&c);
    return 0;
}
