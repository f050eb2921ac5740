/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_format.c: weight encodings. Ternary as 2-bit codes (the accelerator's weight-beat
 * code, rtl/mpq_lane.sv) and 5 trits per byte (storage); sparse high-precision weights in
 * N:G structure (the accelerator's sparse entries, G = KLanes) and as CSR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"

int mpq_tern_pack2(const int8_t *t, size_t count, uint8_t *out)
{
    memset(out, 0, (count + 3) / 4);
    for (size_t i = 0; i < count; i++) {
        unsigned code;
        switch (t[i]) {
        case 0: code = 0; break;
        case 1: code = 1; break;
        case -1: code = 3; break;
        default: return MPQ_EPARAM;
        }
        out[i / 4] |= (uint8_t)(code << (2 * (i % 4)));
    }
    return MPQ_OK;
}

int mpq_tern_unpack2(const uint8_t *in, size_t count, int8_t *t)
{
    static const int8_t value[4] = {0, 1, 0, -1};
    for (size_t i = 0; i < count; i++) {
        unsigned code = (in[i / 4] >> (2 * (i % 4))) & 3u;
        if (code == 2)
            return MPQ_EFORMAT;
        t[i] = value[code];
    }
    return MPQ_OK;
}

int mpq_tern_pack5(const int8_t *t, size_t count, uint8_t *out)
{
    for (size_t b = 0; b < (count + 4) / 5; b++) {
        unsigned v = 0;
        for (size_t j = 5; j-- > 0;) {
            size_t i = b * 5 + j;
            int d = i < count ? t[i] + 1 : 1;
            if (d < 0 || d > 2)
                return MPQ_EPARAM;
            v = v * 3 + (unsigned)d;
        }
        out[b] = (uint8_t)v;
    }
    return MPQ_OK;
}

int mpq_tern_unpack5(const uint8_t *in, size_t count, int8_t *t)
{
    for (size_t b = 0; b < (count + 4) / 5; b++) {
        unsigned v = in[b];
        if (v > 242)
            return MPQ_EFORMAT;
        for (size_t j = 0; j < 5; j++) {
            size_t i = b * 5 + j;
            if (i < count)
                t[i] = (int8_t)((int)(v % 3) - 1);
            v /= 3;
        }
    }
    return MPQ_OK;
}

int mpq_nm_from_dense(const int32_t *dense, unsigned rows, unsigned k, unsigned n, unsigned g,
                      mpq_nm *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (g < 1 || g > 256 || n > g) {
        snprintf(err, errlen, "N:G structure %u:%u is impossible (need N <= G <= 256)", n, g);
        return MPQ_EPARAM;
    }
    unsigned ngroups = (k + g - 1) / g;
    size_t slots = (size_t)rows * ngroups * n;
    out->rows = rows;
    out->k = k;
    out->n = n;
    out->g = g;
    out->ngroups = ngroups;
    out->pos = calloc(slots ? slots : 1, 1);
    out->val = calloc(slots ? slots : 1, sizeof *out->val);
    if (!out->pos || !out->val) {
        mpq_nm_free(out);
        snprintf(err, errlen, "out of memory");
        return MPQ_ENOMEM;
    }
    for (unsigned r = 0; r < rows; r++)
        for (unsigned grp = 0; grp < ngroups; grp++) {
            unsigned used = 0;
            size_t base = ((size_t)r * ngroups + grp) * n;
            for (unsigned j = 0; j < g && grp * g + j < k; j++) {
                int32_t v = dense[(size_t)r * k + grp * g + j];
                if (!v)
                    continue;
                if (used == n) {
                    snprintf(err, errlen,
                             "row %u, group %u (k %u..%u) has more than %u non-zeros", r, grp,
                             grp * g, grp * g + g - 1, n);
                    mpq_nm_free(out);
                    return MPQ_EPARAM;
                }
                out->pos[base + used] = (uint8_t)j;
                out->val[base + used] = v;
                used++;
            }
        }
    return MPQ_OK;
}

void mpq_nm_to_dense(const mpq_nm *s, int32_t *dense)
{
    memset(dense, 0, (size_t)s->rows * s->k * sizeof *dense);
    for (unsigned r = 0; r < s->rows; r++)
        for (unsigned grp = 0; grp < s->ngroups; grp++)
            for (unsigned e = 0; e < s->n; e++) {
                size_t i = ((size_t)r * s->ngroups + grp) * s->n + e;
                unsigned kk = grp * s->g + s->pos[i];
                if (s->val[i] && kk < s->k)
                    dense[(size_t)r * s->k + kk] += s->val[i];
            }
}

void mpq_nm_free(mpq_nm *s)
{
    free(s->pos);
    free(s->val);
    s->pos = NULL;
    s->val = NULL;
}

int mpq_csr_from_dense(const int32_t *dense, unsigned rows, unsigned k, mpq_csr *out)
{
    memset(out, 0, sizeof *out);
    size_t nnz = 0;
    for (size_t i = 0; i < (size_t)rows * k; i++)
        nnz += dense[i] != 0;
    out->rows = rows;
    out->k = k;
    out->rowptr = calloc((size_t)rows + 1, sizeof *out->rowptr);
    out->col = calloc(nnz ? nnz : 1, sizeof *out->col);
    out->val = calloc(nnz ? nnz : 1, sizeof *out->val);
    if (!out->rowptr || !out->col || !out->val) {
        mpq_csr_free(out);
        return MPQ_ENOMEM;
    }
    size_t at = 0;
    for (unsigned r = 0; r < rows; r++) {
        out->rowptr[r] = (uint32_t)at;
        for (unsigned c = 0; c < k; c++) {
            int32_t v = dense[(size_t)r * k + c];
            if (v) {
                out->col[at] = c;
                out->val[at] = v;
                at++;
            }
        }
    }
    out->rowptr[rows] = (uint32_t)at;
    return MPQ_OK;
}

void mpq_csr_to_dense(const mpq_csr *s, int32_t *dense)
{
    memset(dense, 0, (size_t)s->rows * s->k * sizeof *dense);
    for (unsigned r = 0; r < s->rows; r++)
        for (uint32_t i = s->rowptr[r]; i < s->rowptr[r + 1]; i++)
            dense[(size_t)r * s->k + s->col[i]] = s->val[i];
}

void mpq_csr_free(mpq_csr *s)
{
    free(s->rowptr);
    free(s->col);
    free(s->val);
    s->rowptr = NULL;
    s->col = NULL;
    s->val = NULL;
}
