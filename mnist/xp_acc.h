/* SPDX-License-Identifier: Apache-2.0 */
/* xp_acc.h: accuracy of every per-layer precision vector of a network (xp_acc.c). */
#ifndef XP_ACC_H
#define XP_ACC_H

#include <stdint.h>

#include "mnist.h"
#include "xp.h"

/* q[p]: the network quantized uniformly at precision p (same activations, so layers of
 * different q[] chain); mac_of[l]: the MAC-layer index of q[0].layer[l], -1 for layers that
 * have no precision choice (max pooling: q[0]'s is used). */
typedef struct xp_acc_in {
    const mn_qnet *q;
    unsigned np;
    int mac_of[MN_MAX_QLAYERS];
    unsigned acc_bits, group, in_size;
} xp_acc_in;

/* acc[v] for every vector v = sum prec[i] * np^i over the MAC layers i: the share of the first
 * count images x (int8, in_size values each) whose argmax output equals labels[]. Returns 0
 * or a negative MPQ_E* code with err. */
int xp_acc_eval(const xp_acc_in *in, const int32_t *x, const uint8_t *labels, unsigned count, double *acc,
                char *err, size_t errlen);

/* FNV-1a of a file's bytes (*ok 0 when it cannot be read): the model's identity in the key. */
uint64_t xp_fnv1a_file(const char *path, int *ok);
/* Reads the cache lines "key vector accuracy" of path with this key into acc/have; returns 1
 * when every vector of nv was there (a missing file is an empty cache). */
int xp_cache_read(const char *path, const char *key, size_t nv, double *acc, unsigned char *have);
/* Writes the nv accuracies under key to path atomically (path.tmp, rename). 0 or -1 with err. */
int xp_cache_write(const char *path, const char *key, size_t nv, const double *acc, char *err, size_t errlen);

#endif
