/* SPDX-License-Identifier: Apache-2.0 */
/* mn_cosim.c: one layer of a quantized network on the Verilated accelerator (mpq-mnist-rtl).
 * The layer becomes a hardware layer (mpq_hwlayer.h: an FC layer is the 1x1 convolution of
 * an image of m rows, a conv2d layer runs in the accelerator's conv mode), the stimulus
 * generator drives it tile by tile with the golden cycle model in lockstep, and the
 * testbench's step compares every output port in every cycle. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mn_cli.h"
#include "mnist.h"
#include "stim/mpq_gen.h"
#include "stim/mpq_vec.h"
#include "tb_cosim.h"

int mn_qlayer_to_hw(const mpq_hwcfg *hw, const mn_qlayer *ql, const int32_t *x, unsigned m,
                    mpq_hw_layer *L, char *err, size_t errlen)
{
    int rc;
    if (ql->kind == MPQ_LAYER_FC) {
        rc = mpq_hw_layer_alloc(L, m, ql->k, ql->n);
        if (rc != 0)
            snprintf(err, errlen, "out of memory");
    } else if (ql->kind == MPQ_LAYER_CONV2D) {
        mpq_conv_shape s = ql->s;
        s.batches = m;
        rc = mpq_hw_layer_alloc_conv(L, &s, err, errlen);
    } else {
        snprintf(err, errlen, "a %s layer does not run on the accelerator", mpq_layer_name(ql->kind));
        return MPQ_EPARAM;
    }
    if (rc != 0)
        return rc;
    size_t nx = ql->kind == MPQ_LAYER_FC ? (size_t)m * ql->k : mpq_conv_in_count(&L->s);
    size_t nw = (size_t)ql->n * ql->k; /* OHWI: [n][k] like the quantized layer */
    L->acc_sat = 0;
    L->in_offset = ql->in_offset;
    L->out_offset = ql->out_offset;
    L->act_min = ql->act_min;
    L->act_max = ql->act_max;
    memcpy(L->x, x, nx * sizeof *x);
    if (ql->w) {
        memcpy(L->hp, ql->w, nw * sizeof *L->hp); /* t and alpha stay 0 */
    } else {
        memcpy(L->t, ql->t, nw);
        memcpy(L->alpha, ql->alpha, ql->n * sizeof *L->alpha);
        if (ql->hp)
            memcpy(L->hp, ql->hp, nw * sizeof *L->hp);
    }
    memcpy(L->bias, ql->bias, ql->n * sizeof *L->bias);
    memcpy(L->mult, ql->mult, ql->n * sizeof *L->mult);
    memcpy(L->shift, ql->shift, ql->n * sizeof *L->shift);
    rc = mpq_hw_layer_check(hw, L, err, errlen);
    if (rc != 0)
        mpq_hw_layer_free(L);
    return rc;
}

/* L's cycles as the vector file path (written as path.tmp and renamed): the very cycles
 * mn_rtl_layer drives, made again by the stimulus generator from the same timing, the layer's
 * kind and shape in the header (mpq_vec_header_set_layer), cmd the command that made them.
 * The one writer of both a failing layer's trace and --save-vectors' files. Returns 0 or a
 * negative MPQ_E code with err. */
static int save_layer(const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_timing_opts *t,
                      const char *tag, const char *name, const char *cmd, const char *path, char *err,
                      size_t errlen)
{
    mpq_vec_header h;
    memset(&h, 0, sizeof h);
    h.version = MPQ_VEC_VERSION;
    h.hw = *hw;
    h.seed = 0;
    h.timing_seed = t->seed;
    mpq_vec_header_set_layer(&h, L);
    h.acc_sat = (uint32_t)L->acc_sat;
    snprintf(h.generator, sizeof h.generator, "%s", tag);
    snprintf(h.source, sizeof h.source, "%s", name);
    snprintf(h.command, sizeof h.command, "%s (%s)", cmd, name);
    mpq_gen *g = NULL;
    mpq_vec_writer *w = NULL;
    static mpq_port_in in;
    static mpq_port_out exp;
    int rc = mpq_gen_new(hw, L, t, &g, err, errlen);
    if (rc == 0)
        rc = mpq_vec_writer_open(path, &h, &w, err, errlen);
    while (rc == 0 && (rc = mpq_gen_next(g, &in, &exp)) == 1)
        rc = mpq_vec_writer_put(w, &in, &exp) == 0 ? 0 : MPQ_EIO;
    if (rc < 0 && g && !*err)
        snprintf(err, errlen, "%s: %s", path, rc == MPQ_EIO ? "write failed" : mpq_gen_error(g));
    if (rc != 0)
        mpq_vec_writer_abort(w); /* NULL is fine */
    else
        rc = mpq_vec_writer_close(w, err, errlen);
    mpq_gen_free(g);
    return rc;
}

/* A failing layer as build/traces/<vec_name>.vec, and the one command that replays it on the
 * testbench. */
static void save_trace(const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_timing_opts *t,
                       const char *tag, const char *name, const char *cmd, const char *vec_name)
{
    char path[256], err[1024] = "";
    snprintf(path, sizeof path, "build/traces/%s.vec", vec_name);
    int rc = mkdir("build", 0777) == 0 || errno == EEXIST ? 0 : -1;
    if (rc == 0 && mkdir("build/traces", 0777) != 0 && errno != EEXIST)
        rc = -1;
    if (rc == 0)
        rc = save_layer(hw, L, t, tag, name, cmd, path, err, sizeof err);
    char hb[256];
    if (rc == 0)
        fprintf(stderr, "%s: reproduce: build/vl/<config>/plain/mpq-tb replay %s  (configuration %s)\n",
                tag, path, mpq_hwcfg_str(hw, hb, sizeof hb));
    else
        fprintf(stderr, "%s: could not save the layer as %s: %s\n", tag, path, *err ? err : strerror(errno));
}

int mn_rtl_layer(const mpq_hwcfg *hw, const mpq_hw_layer *L, const char *tag, const char *name,
                 const char *vec_name, const char *save_dir, const char *cmd, int32_t *y, mn_rtl_stats *st)
{
    char err[1024];
    memset(st, 0, sizeof *st);
    st->steps = mpq_hw_layer_steps(hw, L);
    mpq_timing_opts t;
    mpq_timing_default(1, 1.0, 1.0, &t);
    mpq_gen *g;
    if (mpq_gen_new(hw, L, &t, &g, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s: %s\n", tag, name, err);
        return 2;
    }
    tb_cosim cs;
    if (tb_cosim_open(&cs, hw, 0, t.seed, name, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", tag, err);
        mpq_gen_free(g);
        return 2;
    }
    static mpq_port_in in;
    static mpq_port_out exp, act;
    /* The outputs come tile by tile (Lanes channels), each tile's pixels in order. */
    unsigned tile = 0, row = 0, tiles = mpq_hw_layer_tiles(hw, L);
    uint64_t c = 0;
    int rc, status = 0;
    double t0 = mn_now_s();
    while ((rc = mpq_gen_next(g, &in, &exp)) == 1) {
        uint32_t mis = tb_cosim_step(&cs, &in, &exp, &act); /* the testbench's step */
        if (!mis && act.out_valid && in.out_ready && in.rst_n) {
            for (unsigned l = 0; l < hw->lanes && tile < tiles; l++) {
                unsigned ch = tile * hw->lanes + l;
                if (ch < L->n)
                    y[(size_t)row * L->n + ch] =
                        mpq_sext(mpq_bits_get(act.out_data, l * hw->out_bits, hw->out_bits), hw->out_bits);
            }
            if (++row == L->m) {
                row = 0;
                tile++;
            }
        }
        if (mis) {
            const char *port = "?";
            for (unsigned p = 0; p < TB_P_COUNT; p++)
                if (mis >> p & 1u) {
                    port = tb_port_names[p];
                    break;
                }
            mpq_cm_where w;
            mpq_gen_where(g, &w);
            fprintf(stderr, "%s: MISMATCH in %s at cycle %" PRIu64 ": %s (tile %ld, output pixel %ld, "
                    "tap ky=%u kx=%u, channel slice %u)\n", tag, name, c, port, w.tile, w.pixel, w.ky, w.kx, w.s);
            save_trace(hw, L, &t, tag, name, cmd, vec_name);
            status = 1;
            break;
        }
        c++;
    }
    if (status == 0 && rc < 0) {
        fprintf(stderr, "%s: %s: %s\n", tag, name, mpq_gen_error(g));
        status = 2;
    }
    if (status == 0 && tile != tiles) {
        fprintf(stderr, "%s: %s: the accelerator put out %u of %u tiles\n", tag, name, tile, tiles);
        status = 1;
    }
    st->secs = mn_now_s() - t0;
    st->cycles = c;
    /* The layer passed: its cycles as save_dir/<vec_name>.vec (--save-vectors). */
    if (status == 0 && save_dir) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s.vec", save_dir, vec_name);
        err[0] = '\0';
        if (save_layer(hw, L, &t, tag, name, cmd, path, err, sizeof err) != 0) {
            fprintf(stderr, "%s: --save-vectors: %s\n", tag, err);
            status = 2;
        }
    }
    tb_cosim_close(&cs);
    mpq_gen_free(g);
    return status;
}
