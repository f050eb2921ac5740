/* SPDX-License-Identifier: Apache-2.0 */
/* bench_explore: how many (precision, mapping) points per second one core costs with the
 * closed form of golden/explore (issue 29 item 6: goal >= 10,000), over every point of a set
 * of layers (the Fashion-MNIST CNN's and MobileNet-like ones) on the default and dense
 * configurations; and, on a sample of those points, the golden cycle model's time for the
 * same point (what the closed form replaces). Writes a JSON object (--json OUT, atomically).
 * Options: --seconds S (closed form timed for at least S, default 1), --sim-stride N (every
 * N-th point simulated, default 210). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "explore/mpq_explore.h"
#include "stim/mpq_gen.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static const char *const shapes[] = {
    "conv2d h=28 w=28 c=1 o=16 k=3 p=1",
    "conv2d h=14 w=14 c=16 o=32 k=3 s=2 p=1",
    "conv2d h=7 w=7 c=32 o=64 k=3 s=2",
    "fc 1 576 10",
    "conv2d h=96 w=96 c=3 o=8 k=3 s=2 p=1 oh=48 ow=48",
    "depthwise h=48 w=48 c=32 o=32 k=3 p=1",
    "conv2d h=48 w=48 c=32 o=64 k=1",
    "conv2d h=12 w=12 c=128 o=128 k=3 p=1",
    "fc 1 256 10",
};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

typedef struct pts {
    const mpq_hwcfg *hw;
    mpq_hw_layer l;
    mpq_xp_point *p;
    size_t n;
} pts;

static int layer_points(const mpq_hwcfg *hw, const char *shape, pts *o)
{
    mpq_layer_opts lo;
    memset(&lo, 0, sizeof lo);
    char err[256];
    if (!strncmp(shape, "fc ", 3)) {
        lo.shape.kind = MPQ_LAYER_FC;
        if (sscanf(shape + 3, "%u %u %u", &lo.m, &lo.k, &lo.n) != 3)
            return -1;
    } else if (mpq_conv_shape_parse(shape, &lo.shape, err, sizeof err) != 0) {
        fprintf(stderr, "bench_explore: %s: %s\n", shape, err);
        return -1;
    }
    if (mpq_hw_layer_shape(&lo, &o->l, err, sizeof err) != 0)
        return -1;
    mpq_xp_prec pr[80];
    unsigned np = mpq_xp_precisions(hw, pr, 80);
    size_t nm = mpq_xp_mappings(hw, &o->l, NULL, 0);
    mpq_xp_map *m = calloc(nm ? nm : 1, sizeof *m);
    o->p = calloc(nm * np + 1, sizeof *o->p);
    if (!m || !o->p) {
        free(m);
        free(o->p);
        o->p = NULL;
        return -1;
    }
    mpq_xp_mappings(hw, &o->l, m, nm);
    o->n = 0;
    for (size_t i = 0; i < nm; i++)
        for (unsigned k = 0; k < np; k++)
            o->p[o->n++] = (mpq_xp_point){pr[k], m[i]};
    o->hw = hw;
    free(m);
    return 0;
}

/* One simulated point: every hardware layer of it on the cycle model, no stalls. */
static double simulate_point(const pts *s, const mpq_xp_point *pt)
{
    unsigned np = mpq_xp_parts(s->hw, &s->l, &pt->map, NULL, 0);
    mpq_xp_part *parts = calloc(np, sizeof *parts);
    if (!parts)
        return -1.0;
    mpq_xp_parts(s->hw, &s->l, &pt->map, parts, np);
    double t0 = now_s();
    for (unsigned p = 0; p < np; p++) {
        mpq_layer_opts o;
        memset(&o, 0, sizeof o);
        o.seed = p + 1;
        if (parts[p].L.s.kind == MPQ_LAYER_FC) {
            o.shape.kind = MPQ_LAYER_FC;
            o.m = parts[p].L.m, o.k = parts[p].L.k, o.n = parts[p].L.n;
        } else {
            o.shape = parts[p].L.s;
        }
        mpq_hw_layer l;
        char err[256];
        mpq_timing_opts t;
        mpq_timing_default(1, 1.0, 1.0, &t);
        mpq_gen *g;
        if (mpq_hw_layer_random(s->hw, &o, &l, err, sizeof err) != 0)
            continue;
        if (mpq_gen_new(s->hw, &l, &t, &g, err, sizeof err) == 0) {
            static mpq_port_in in;
            static mpq_port_out exp;
            while (mpq_gen_next(g, &in, &exp) == 1)
                ;
            mpq_gen_free(g);
        }
        mpq_hw_layer_free(&l);
    }
    free(parts);
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    const char *json = NULL;
    double min_s = 1.0;
    size_t stride = 211;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--json"))
            json = argv[i + 1];
        else if (!strcmp(argv[i], "--seconds"))
            min_s = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--sim-stride"))
            stride = (size_t)strtoul(argv[i + 1], NULL, 10) + 1;
    }
    static const char *const cfgn[] = {"default", "dense"};
    mpq_hwcfg hw[2];
    char err[256];
    for (unsigned c = 0; c < 2; c++) {
        char path[64];
        snprintf(path, sizeof path, "rtl/cfg/%s.cfg", cfgn[c]);
        if (mpq_hwcfg_load(path, &hw[c], err, sizeof err) != 0)
            return fprintf(stderr, "bench_explore: %s\n", err), 1;
    }
    pts set[2 * N_SHAPES];
    size_t total = 0;
    double t_enum = now_s();
    for (unsigned c = 0; c < 2; c++)
        for (unsigned i = 0; i < N_SHAPES; i++) {
            if (layer_points(&hw[c], shapes[i], &set[c * N_SHAPES + i]) != 0)
                return fprintf(stderr, "bench_explore: %s\n", shapes[i]), 1;
            total += set[c * N_SHAPES + i].n;
        }
    t_enum = now_s() - t_enum;
    /* The closed form over every point, repeated for at least min_s seconds. */
    uint64_t evals = 0, sink = 0;
    double t0 = now_s(), el;
    do {
        for (unsigned s = 0; s < 2 * N_SHAPES; s++)
            for (size_t k = 0; k < set[s].n; k++) {
                mpq_xp_cost c;
                mpq_xp_point_cost(set[s].hw, &set[s].l, &set[s].p[k], &c);
                sink += c.cycles;
                evals++;
            }
        el = now_s() - t0;
    } while (el < min_s);
    double per_s = (double)evals / el;
    /* The cycle model on every stride-th point (a spread of layers and mappings). */
    double sim_s = 0.0;
    unsigned sims = 0;
    for (unsigned s = 0; s < 2 * N_SHAPES; s++)
        for (size_t k = 0; k < set[s].n; k += stride, sims++)
            sim_s += simulate_point(&set[s], &set[s].p[k]);
    double sim_per_point = sims ? sim_s / sims : 0.0;
    printf("explore: %zu points (%u layers on default and dense, every precision and mapping), enumerated "
           "in %.3f s; closed form: %.0f points/s on one core (%" PRIu64 " evaluations in %.2f s); cycle "
           "model: %.4f s per point (%u points): %.0fx\n", total, (unsigned)N_SHAPES, t_enum, per_s, evals, el,
           sim_per_point, sims, sim_per_point * per_s);
    for (unsigned s = 0; s < 2 * N_SHAPES; s++)
        free(set[s].p);
    if (json) {
        /* through a temporary file, so that an interrupted run leaves the last JSON whole */
        text t = {0};
        tprintf(&t, "{\"points\": %zu, \"layers\": %u, \"configs\": [\"default\", \"dense\"], "
                    "\"enumerate_s\": %.4f, \"closed_form_points_per_s\": %.0f, \"closed_form_evals\": %" PRIu64
                    ", \"cycle_model_s_per_point\": %.6f, \"cycle_model_points\": %u, \"speedup\": %.0f, "
                    "\"goal_points_per_s\": 10000, \"sink\": %" PRIu64 "}\n",
                total, (unsigned)N_SHAPES, t_enum, per_s, evals, sim_per_point, sims, sim_per_point * per_s,
                sink % 1000);
        int bad = t.oom || cli_write_atomic(json, t.s, t.len) != 0;
        free(t.s);
        if (bad) {
            fprintf(stderr, "bench_explore: cannot write %s\n", json);
            return 1;
        }
    }
    return 0;
}
