/* SPDX-License-Identifier: Apache-2.0 */
/* fgraph_dump MODEL [RUNS]: the float runner's logits (mpq_fgraph.h) on RUNS random inputs
 * (seed 1), in float and on ABFP arrays (n 32, 6-bit mantissas, 8-bit ADC, gain 8, noise 0.5
 * steps, seed 3 + layer; then without noise, 12-bit ADC), as hex float bits: golden/tests/fgraph-repro.sh compares the bytes
 * across compilers and optimization levels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/mpq_fgraph.h"

static int dump(mpq_fgraph *g, const mpq_abfp *arr, unsigned runs)
{
    char err[512];
    for (unsigned r = 0; r < runs; r++) {
        for (unsigned i = 0; i < mpq_fgraph_ninputs(g); i++) {
            size_t n = mpq_fgraph_input_count(g, i);
            float lo, hi, *x = malloc((n ? n : 1) * sizeof *x);
            if (!x)
                return 1;
            mpq_fgraph_input_range(g, i, &lo, &hi);
            mpq_fgraph_random_input(1, r, i, lo, hi, x, n);
            int rc = mpq_fgraph_set_input(g, i, x, n, err, sizeof err);
            free(x);
            if (rc)
                return fprintf(stderr, "%s\n", err), 1;
        }
        if (mpq_fgraph_run(g, arr, r, err, sizeof err))
            return fprintf(stderr, "%s\n", err), 1;
        for (unsigned o = 0; o < mpq_fgraph_noutputs(g); o++) {
            size_t n = 0;
            const float *y = mpq_fgraph_tensor(g, mpq_fgraph_logits_tensor(g, o), &n);
            for (size_t j = 0; j < n; j++) {
                uint32_t b;
                memcpy(&b, &y[j], 4);
                printf("%08x%c", (unsigned)b, j + 1 == n ? '\n' : ' ');
            }
        }
    }
    for (unsigned l = 0; arr && l < mpq_fgraph_nlayers(g); l++) {
        const mpq_fgraph_layer *L = mpq_fgraph_layer_at(g, l);
        printf("layer %u: conversions %llu saturated %llu sig2 %a err2 %a\n", l,
               (unsigned long long)L->st.conversions, (unsigned long long)L->st.saturated, L->sig2, L->err2);
    }
    return 0;
}

int main(int argc, char **argv)
{
    char err[512];
    mpq_tfl_model m;
    mpq_fgraph *g;
    if (argc < 2 || mpq_tfl_load(argv[1], &m, err, sizeof err))
        return fprintf(stderr, "usage: fgraph_dump MODEL [RUNS] (%s)\n", argc < 2 ? "" : err), 2;
    if (mpq_fgraph_init(&g, &m, err, sizeof err))
        return fprintf(stderr, "%s\n", err), 2;
    unsigned runs = argc > 2 ? (unsigned)atoi(argv[2]) : 2, nl = mpq_fgraph_nlayers(g);
    mpq_abfp *arr = calloc(nl ? nl : 1, sizeof *arr);
    for (unsigned l = 0; arr && l < nl; l++) {
        mpq_abfp_default(&arr[l]);
        arr[l].n = 32;
        arr[l].bw = arr[l].bx = 6;
        arr[l].gain = 8.0f;
        arr[l].noise = 0.5;
        arr[l].seed = 3 + l;
    }
    int rc = !arr || dump(g, NULL, runs) || dump(g, arr, runs);
    for (unsigned l = 0; arr && l < nl; l++) { /* no noise: depthwise's four-channel path */
        arr[l].noise = 0.0;
        arr[l].bout = 12;
    }
    rc = rc || dump(g, arr, runs);
    free(arr);
    mpq_fgraph_free(g);
    mpq_tfl_free(&m);
    return rc;
}
