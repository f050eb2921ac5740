/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the .tflite reader and the graph planner and runner (golden/net/). Any
 * input must either be refused with a message naming the file, or read; a model that reads
 * is planned twice (TFLite's arithmetic on the fast path; a 12-bit accumulator with the
 * analysis on the golden kernels) and, when small, run on inputs taken from the fuzz data.
 * Never a crash, a leak, a read outside the buffer or undefined behaviour. The seed corpus
 * (golden/fuzz/corpus/tflite/) is written by `test_tflite --write-seeds`. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/mpq_graph.h"
#include "net/mpq_tflite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void named(const char *err)
{
    if (strncmp(err, "fuzz.tflite: ", 13) != 0)
        __builtin_trap(); /* every refusal names the file */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mpq_tfl_model m;
    char err[700];
    if (mpq_tfl_parse(data, size, "fuzz.tflite", &m, err, sizeof err)) {
        named(err);
        return 0;
    }
    int64_t macs = 0;
    for (unsigned i = 0; i < m.nops; i++) {
        int64_t k = mpq_net_op_macs(&m, i);
        macs = k > INT64_MAX - macs ? INT64_MAX : macs + k;
    }
    for (int variant = 0; variant < 2; variant++) {
        mpq_net_opts o;
        mpq_net_opts_default(&o);
        o.max_bytes = 4u << 20;
        if (variant) {
            o.acc_bits = 12;
            o.golden_kernels = 1;
        }
        mpq_net *net;
        if (mpq_net_init(&net, &m, &o, err, sizeof err)) {
            named(err);
            continue;
        }
        int ok = macs <= (1 << 18) && size > 0;
        for (unsigned i = 0; ok && i < mpq_net_ninputs(net); i++) {
            size_t n = mpq_net_tensor_bytes(net, (unsigned)mpq_net_input_tensor(net, i));
            uint8_t *in = malloc(n + 1);
            for (size_t j = 0; in && j < n; j++)
                in[j] = data[(j * 7 + i) % size];
            ok = in && !mpq_net_set_input(net, i, in, n, err, sizeof err);
            free(in);
        }
        if (ok && mpq_net_run(net, err, sizeof err))
            named(err);
        mpq_net_free(net);
    }
    mpq_tfl_free(&m);
    return 0;
}
