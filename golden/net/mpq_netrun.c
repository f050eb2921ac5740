/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_netrun.c: a model with its layers on an accelerator executor (mpq_netrun.h), and the
 * golden cycle model as one such executor.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/mpq_netrun.h"
#include "net/mpq_tflite.h"
#include "stim/mpq_gen.h"
#include "arith/mpq_rng.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- the golden cycle model as executor ---- */

static int cm_run(void *ctx, const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_accel_where *w, int32_t *y,
                  mpq_accel_stats *st, char *err, size_t errlen)
{
    (void)ctx;
    (void)w;
    memset(st, 0, sizeof *st);
    mpq_timing_opts t;
    mpq_timing_default(1, 1.0, 1.0, &t);
    mpq_gen *g;
    if (mpq_gen_new(hw, L, &t, &g, err, errlen) != 0)
        return 2;
    static mpq_port_in in;
    static mpq_port_out exp;
    unsigned tile = 0, row = 0, tiles = mpq_hw_layer_tiles(hw, L);
    int rc;
    double t0 = now_s();
    while ((rc = mpq_gen_next(g, &in, &exp)) == 1) {
        if (!(exp.out_valid && in.out_ready && in.rst_n) || tile >= tiles)
            continue;
        for (unsigned l = 0; l < hw->lanes; l++) {
            unsigned ch = tile * hw->lanes + l;
            if (ch < L->n)
                y[(size_t)row * L->n + ch] = mpq_sext(mpq_bits_get(exp.out_data, l * hw->out_bits, hw->out_bits),
                                                      hw->out_bits);
        }
        if (++row == L->m) {
            row = 0;
            tile++;
        }
    }
    st->secs = now_s() - t0;
    if (rc < 0) {
        snprintf(err, errlen, "cycle model: %s", mpq_gen_error(g));
        mpq_gen_free(g);
        return 2;
    }
    mpq_gen_stats s;
    mpq_gen_stats_get(g, &s);
    st->cycles = mpq_gen_cycle(g) - t.reset_cycles - t.tail_cycles;
    st->steps = s.cm.steps;
    st->data_waits = s.cm.data_waits;
    st->out_stalls = s.cm.out_stalls;
    mpq_gen_free(g);
    if (tile != tiles) {
        snprintf(err, errlen, "cycle model: %u of %u tiles put out", tile, tiles);
        return 2;
    }
    return 0;
}

const mpq_accel mpq_accel_cycle_model = {NULL, "cycle model", cm_run};

/* ---- the functional model as executor ---- */

static int fn_run(void *ctx, const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_accel_where *w, int32_t *y,
                  mpq_accel_stats *st, char *err, size_t errlen)
{
    (void)ctx;
    (void)w;
    memset(st, 0, sizeof *st);
    double t0 = now_s();
    int rc = mpq_hw_layer_expected(hw, L, y, NULL);
    st->secs = now_s() - t0;
    if (rc != 0)
        return snprintf(err, errlen, "functional model: %s", mpq_strerror(rc)), 2;
    return 0;
}

const mpq_accel mpq_accel_functional = {NULL, "functional model", fn_run};

/* ---- the model's inputs ---- */

/* The file's bytes into in (total of them). Returns 0 or MPQ_EPARAM with err. */
static int read_inputs(const char *path, uint8_t *in, size_t total, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return snprintf(err, errlen, "--input %s: %s", path, strerror(errno)), MPQ_EPARAM;
    size_t got = fread(in, 1, total, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    if (got != total || extra)
        return snprintf(err, errlen, "--input %s: %s than the model's inputs (%zu bytes)", path,
                        got != total ? "shorter" : "longer", total), MPQ_EPARAM;
    return 0;
}

int mpq_net_inputs_init(mpq_net *net, const mpq_tfl_model *m, const char *path, uint64_t seed, char *err,
                        size_t errlen)
{
    size_t total = 0;
    for (unsigned i = 0; i < mpq_net_ninputs(net); i++)
        total += mpq_net_tensor_bytes(net, (unsigned)mpq_net_input_tensor(net, i));
    uint8_t *in = malloc(total ? total : 1);
    if (!in)
        return snprintf(err, errlen, "out of memory"), MPQ_ENOMEM;
    int rc = 0;
    if (path) {
        rc = read_inputs(path, in, total, err, errlen);
    } else {
        mpq_rng r;
        mpq_rng_seed(&r, seed);
        size_t off = 0;
        for (unsigned i = 0; i < mpq_net_ninputs(net); i++) {
            int t = mpq_net_input_tensor(net, i);
            size_t b = mpq_net_tensor_bytes(net, (unsigned)t);
            mpq_net_random_input(m, t, &r, in + off, b);
            off += b;
        }
    }
    size_t off = 0;
    for (unsigned i = 0; rc == 0 && i < mpq_net_ninputs(net); i++) {
        size_t b = mpq_net_tensor_bytes(net, (unsigned)mpq_net_input_tensor(net, i));
        if (mpq_net_set_input(net, i, in + off, b, err, errlen) != 0)
            rc = MPQ_EPARAM;
        off += b;
    }
    free(in);
    return rc;
}

/* ---- the run ---- */

static void shape_text(const mpq_net_layer *L, char *buf, size_t len)
{
    const mpq_conv_shape *s = &L->s;
    if (s->kind == MPQ_LAYER_FC)
        snprintf(buf, len, "fc m=%u k=%u n=%u", L->m, L->k, L->n);
    else
        snprintf(buf, len, "%s %ux%ux%u>%ux%ux%u k%ux%u s%u", s->kind == MPQ_LAYER_DEPTHWISE ? "dw" : "conv",
                 s->in_h, s->in_w, s->in_c, s->out_h, s->out_w, s->out_c, s->kh, s->kw, s->sy);
}

int mpq_netrun_layer_json(const mpq_netrun_layer *r, char *buf, size_t len)
{
    return snprintf(buf, len, "\"op\": %u, \"type\": \"%s\", \"shape\": \"%s\", \"map\": \"%s\", \"mapping\": \"%s\", \"parts\": %u, "
                    "\"macs\": %" PRIu64 ", \"cycles\": %" PRIu64 ", \"steps\": %" PRIu64 ", \"data_waits\": %" PRIu64
                    ", \"out_stalls\": %" PRIu64, r->op, mpq_tfl_op_name(r->code), r->shape, r->how, r->mapping, r->parts, r->macs,
                    r->st.cycles, r->st.steps, r->st.data_waits, r->st.out_stalls);
}

void mpq_netrun_qlayer(const mpq_net_layer *NL, mpq_qlayer *q)
{
    memset(q, 0, sizeof *q);
    q->s = NL->s;
    q->m = NL->m;
    q->k = NL->k;
    q->n = NL->n;
    q->w = NL->w;
    q->w_offset = NL->w_offset;
    q->bias = NL->bias;
    q->mult = NL->rq.mult;
    q->shift = NL->rq.shift;
    q->nparams = NL->rq.nparams;
    q->in_offset = NL->in_offset;
    q->out_offset = NL->rq.out_offset;
    q->act_min = NL->rq.act_min;
    q->act_max = NL->rq.act_max;
    q->in_scale = NL->in_scale;
    q->out_scale = NL->out_scale;
    q->w_scale = NL->w_scale;
    q->nw_scale = NL->nw_scale;
}

/* The first element where the layer's output y differs from ref (count of them), as "op 3
 * (CONV_2D), tensor 7: element (n 0, y 1, x 2, c 3): the <executor> put out 5, <what> 4";
 * returns 1 then, 0 when they are equal. */
static int compare_out(const mpq_tfl_model *m, const mpq_net_layer *NL, const int32_t *y, const int32_t *ref,
                       size_t count, const char *exname, const char *what, char *err, size_t errlen)
{
    size_t i = 0;
    while (i < count && ref[i] == y[i])
        i++;
    if (i == count)
        return 0;
    int fc = NL->s.kind == MPQ_LAYER_FC;
    unsigned c = fc ? NL->n : NL->s.out_c, ow = fc ? 1 : NL->s.out_w, oh = fc ? 1 : NL->s.out_h;
    size_t px = i / c;
    snprintf(err, errlen, "%s: op %u (%s), tensor %d: element (n %zu, y %zu, x %zu, c %zu): the %s put out %d, "
             "%s %d", m->file, NL->op, mpq_tfl_op_name(NL->code), NL->out_tensor, px / ow / oh, px / ow % oh, px % ow,
             i % c, exname, y[i], what, ref[i]);
    return 1;
}

/* Runs layer op on ex: map, parts, gather into y (int32, the layer's output). A decomposed
 * layer's gathered output is checked against the functional model of the decomposed layer. */
/* Layer NL mapped onto hw for input x (*map, to free), or 2 with err naming the operator and
 * the rule it breaks. */
static int map_op(const mpq_tfl_model *m, const mpq_hwcfg *hw, const mpq_map_opts *mo, const mpq_net_layer *NL,
                  const int32_t *x, mpq_map *map, char *err, size_t errlen)
{
    char why[512];
    if (NL->rq.kind != MPQ_RQ_DOUBLE)
        return snprintf(err, errlen, "%s: op %u (%s): its requantization rounds once (--fc-rounding "
                        "single); the accelerator's rounds twice", m->file, NL->op,
                        mpq_tfl_op_name(NL->code)), 2;
    mpq_qlayer q;
    mpq_netrun_qlayer(NL, &q);
    if (mpq_map_layer(hw, &q, x, mo, map, why, sizeof why) != 0)
        return snprintf(err, errlen, "%s: op %u (%s): %s", m->file, NL->op, mpq_tfl_op_name(NL->code), why), 2;
    return 0;
}

/* The options of MAC layer li (in operator order): its own decomposition and mapping from
 * the per-layer lists, where given. */
static void layer_opts(const mpq_map_opts *mo, unsigned li, mpq_map_opts *lmo)
{
    *lmo = *mo;
    if (mo->nlayers)
        lmo->decomp = mo->layers[li];
    if (mo->nmaps)
        lmo->map = mo->maps[li];
}

/* Every MAC layer mapped before any runs (without its input: what the mapping can hold
 * depends on shapes, weights and zero points, not on the activations), so that a model the
 * configuration cannot hold is refused with nothing run. */
static int map_all(mpq_net *net, const mpq_tfl_model *m, const mpq_hwcfg *hw, const mpq_map_opts *mo, char *err,
                   size_t errlen)
{
    mpq_net_layer NL;
    unsigned li = 0;
    for (unsigned op = 0; op < mpq_net_ops(net); op++) {
        if (mpq_net_layer_get(net, op, &NL) != 0)
            continue;
        mpq_map_opts lmo;
        layer_opts(mo, li++, &lmo);
        mpq_map map;
        if (map_op(m, hw, &lmo, &NL, NULL, &map, err, errlen) != 0)
            return 2;
        mpq_map_free(&map);
    }
    return 0;
}

static int run_layer(mpq_net *net, const mpq_tfl_model *m, const mpq_hwcfg *hw, const mpq_map_opts *mo,
                     const mpq_accel *ex, const mpq_net_layer *NL, int32_t *y, mpq_netrun_layer *row,
                     char *err, size_t errlen)
{
    char why[512];
    size_t nin = mpq_net_tensor_bytes(net, (unsigned)NL->in_tensor);
    int8_t *x8 = malloc(nin ? nin : 1);
    int32_t *x = malloc((nin ? nin : 1) * sizeof *x);
    if (!x8 || !x) {
        free(x8);
        free(x);
        return snprintf(err, errlen, "out of memory"), 2;
    }
    mpq_net_tensor_get(net, (unsigned)NL->in_tensor, x8);
    for (size_t i = 0; i < nin; i++)
        x[i] = x8[i];
    free(x8);
    mpq_map map;
    if (map_op(m, hw, mo, NL, x, &map, err, errlen) != 0) {
        free(x);
        return 2;
    }
    snprintf(row->how, sizeof row->how, "%s", map.how);
    mpq_xp_map_str(&map.xm, row->mapping, sizeof row->mapping);
    row->parts = map.nparts;
    row->weights = NL->s.kind == MPQ_LAYER_FC ? (uint64_t)NL->n * NL->k : mpq_conv_w_count(&NL->s);
    row->hp_weights = row->weights;
    if (map.decomposed) {
        row->hp_weights = map.dq.hp_nnz;
        row->w_norm2 = map.dq.w_norm2;
        row->err_norm2 = map.dq.err_norm2;
    }
    int status = 0;
    for (unsigned p = 0; p < map.nparts && !status; p++) {
        const mpq_hw_layer *L = &map.part[p].L;
        int32_t *yp = malloc((size_t)L->m * L->n * sizeof *yp);
        if (!yp) {
            status = 2;
            snprintf(err, errlen, "out of memory");
            break;
        }
        uint64_t outs = (uint64_t)map.b * map.oh * map.ow;
        mpq_accel_where w = {m->file, NL->op, NL->code, NL->out_tensor, &map, p,
                             outs ? row->macs * L->m / outs : 0};
        mpq_accel_stats st;
        status = ex->run(ex->ctx, hw, L, &w, yp, &st, why, sizeof why);
        if (status)
            snprintf(err, errlen, "%s: op %u (%s), part %u of %u: %s", m->file, NL->op, mpq_tfl_op_name(NL->code),
                     p + 1, map.nparts, why);
        else
            mpq_map_gather(&map, p, yp, y);
        row->st.cycles += st.cycles;
        row->st.steps += st.steps;
        row->st.data_waits += st.data_waits;
        row->st.out_stalls += st.out_stalls;
        row->st.secs += st.secs;
        free(yp);
    }
    if (!status && map.decomposed) {
        size_t nout = mpq_net_tensor_bytes(net, (unsigned)NL->out_tensor);
        int32_t *ref = malloc((nout ? nout : 1) * sizeof *ref);
        if (!ref) {
            status = 2;
            snprintf(err, errlen, "out of memory");
        } else if (mpq_qlayer_expected(hw, &map.dq.q, x, ref, why, sizeof why) != 0) {
            status = 2;
            snprintf(err, errlen, "%s: op %u (%s): the decomposed layer: %s", m->file, NL->op,
                     mpq_tfl_op_name(NL->code), why);
        } else {
            status = compare_out(m, NL, y, ref, nout, ex->name, "the functional model of the decomposed layer",
                                 err, errlen);
        }
        free(ref);
    }
    free(x);
    mpq_map_free(&map);
    return status;
}

int mpq_netrun(mpq_net *net, const mpq_tfl_model *m, const mpq_hwcfg *hw, const mpq_map_opts *mo,
               const mpq_accel *ex, mpq_netrun_layer *rows, unsigned *nrows, char *err, size_t errlen)
{
    *nrows = 0;
    unsigned nmac = 0;
    mpq_net_layer NL;
    for (unsigned op = 0; op < mpq_net_ops(net); op++)
        nmac += mpq_net_layer_get(net, op, &NL) == 0;
    if (mo->nlayers && mo->nlayers != nmac)
        return snprintf(err, errlen, "%s: a decomposition per layer names %u layers; the model has %u CONV_2D, "
                        "DEPTHWISE_CONV_2D and FULLY_CONNECTED layers", m->file, mo->nlayers, nmac), 2;
    if (mo->nmaps && mo->nmaps != nmac)
        return snprintf(err, errlen, "%s: --map names %u layers; the model has %u CONV_2D, DEPTHWISE_CONV_2D and "
                        "FULLY_CONNECTED layers", m->file, mo->nmaps, nmac), 2;
    if (map_all(net, m, hw, mo, err, errlen) != 0)
        return 2;
    for (unsigned op = 0; op < mpq_net_ops(net); op++) {
        if (mpq_net_layer_get(net, op, &NL) != 0) {
            if (mpq_net_run_op(net, op, err, errlen) != 0)
                return 2;
            continue;
        }
        mpq_map_opts lmo;
        layer_opts(mo, *nrows, &lmo);
        int approx = lmo.decomp != NULL;
        mpq_netrun_layer *row = &rows[(*nrows)++];
        memset(row, 0, sizeof *row);
        row->op = op;
        row->code = NL.code;
        row->macs = (uint64_t)mpq_net_op_macs(m, op);
        shape_text(&NL, row->shape, sizeof row->shape);
        size_t nout = mpq_net_tensor_bytes(net, (unsigned)NL.out_tensor);
        int32_t *y = calloc(nout ? nout : 1, sizeof *y);
        int8_t *out8 = malloc(nout ? nout : 1);
        if (!y || !out8) {
            free(y);
            free(out8);
            return snprintf(err, errlen, "out of memory"), 2;
        }
        int st = run_layer(net, m, hw, &lmo, ex, &NL, y, row, err, errlen);
        /* Exact: the golden model's output of the same operator on the same input, then the
         * accelerator's replaces it for the operators that follow. Approximate: the
         * accelerator's output flows on (run_layer checked it against the decomposed layer). */
        if (!st && !approx && mpq_net_run_op(net, op, err, errlen) != 0)
            st = 2;
        if (!st && !approx) {
            int32_t *gold = malloc((nout ? nout : 1) * sizeof *gold);
            if (!gold) {
                st = 2;
                snprintf(err, errlen, "out of memory");
            } else {
                mpq_net_tensor_get(net, (unsigned)NL.out_tensor, out8);
                for (size_t j = 0; j < nout; j++)
                    gold[j] = out8[j];
                st = compare_out(m, &NL, y, gold, nout, ex->name, "the golden model", err, errlen);
                free(gold);
            }
        }
        if (!st) {
            for (size_t j = 0; j < nout; j++)
                out8[j] = (int8_t)y[j];
            if (mpq_net_tensor_set(net, (unsigned)NL.out_tensor, out8, nout) != 0) {
                st = 2;
                snprintf(err, errlen, "%s: op %u: tensor %d cannot take the layer's output", m->file, op,
                         NL.out_tensor);
            }
        }
        free(y);
        free(out8);
        if (st)
            return st;
    }
    return 0;
}

/* ---- random inputs ---- */
void mpq_net_random_input(const mpq_tfl_model *m, int t, mpq_rng *r, uint8_t *buf, size_t bytes)
{
    const mpq_tfl_tensor *x = &m->tensors[t];
    if (x->type != MPQ_TFL_FLOAT32) {
        for (size_t i = 0; i < bytes; i++)
            buf[i] = (uint8_t)mpq_rng_u64(r);
        return;
    }
    double lo = -1.0, hi = 1.0;
    for (unsigned o = 0; o < m->nops; o++)
        if (m->ops[o].code == MPQ_TFL_QUANTIZE && m->ops[o].nin > 0 && m->ops[o].in[0] == t) {
            const mpq_tfl_quant *q = &m->tensors[m->ops[o].out[0]].q;
            if (q->nscale && q->nzero) {
                lo = (double)q->scale[0] * (-128.0 - (double)q->zero_point[0]);
                hi = (double)q->scale[0] * (127.0 - (double)q->zero_point[0]);
            }
        }
    for (size_t i = 0; i + 4 <= bytes; i += 4) {
        float v = (float)(lo + (hi - lo) * (double)(mpq_rng_u64(r) >> 11) / 9007199254740992.0);
        memcpy(buf + i, &v, 4);
    }
}
