/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_vec: vector-file cost. For a layer with random stalls it measures
 *   - the file size against the gzip size of the raw payload (the layer's activations,
 *     weights and expected outputs, packed at their bit widths, each value once), and against
 *     the gzip size of the streamed beats (what the accelerator consumes and produces, with
 *     activations repeated per tile of Lanes channels);
 *   - write and read speed (cycles/s and MB/s of file, the fastest of 5 passes each) and
 *     bytes per cycle.
 * usage: bench_vec [--json FILE] [--config NAME] [--m M --k K --n N] [--p-valid P --p-ready P]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#include "arith/mpq.h"
#include "stim/mpq_gen.h"
#include "stim/mpq_vec.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A growable byte buffer with a bit cursor for packing values at their widths. */
typedef struct bitbuf {
    uint8_t *p;
    size_t cap, bits;
} bitbuf;

static void bb_put(bitbuf *b, uint32_t v, unsigned width)
{
    for (unsigned i = 0; i < width; i++, b->bits++) {
        size_t byte = b->bits / 8;
        if (byte >= b->cap) {
            b->cap = b->cap ? 2 * b->cap : 4096;
            b->p = realloc(b->p, b->cap);
            if (!b->p) {
                fprintf(stderr, "bench_vec: out of memory\n");
                exit(2);
            }
            memset(b->p + byte, 0, b->cap - byte);
        }
        if (v >> i & 1u)
            b->p[byte] |= (uint8_t)(1u << (b->bits % 8));
    }
}

static size_t gz_size(const bitbuf *b)
{
    size_t n = (b->bits + 7) / 8;
    uLongf out = compressBound((uLong)n) + 32;
    uint8_t *dst = malloc(out);
    if (!dst || compress2(dst, &out, b->p, (uLong)n, 6) != Z_OK) {
        fprintf(stderr, "bench_vec: compress2 failed\n");
        exit(2);
    }
    free(dst);
    return (size_t)out + 18 - 6; /* gzip wrapper (18 bytes) instead of zlib's (6) */
}

typedef struct bench_args {
    const char *json, *config;
    unsigned m, k, n;
    double pv, pr;
} bench_args;

static int parse_args(int argc, char **argv, bench_args *a)
{
    *a = (bench_args){.config = "default", .m = 256, .k = 512, .n = 8, .pv = 0.7, .pr = 0.7};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--json")) a->json = argv[i + 1];
        else if (!strcmp(argv[i], "--config")) a->config = argv[i + 1];
        else if (!strcmp(argv[i], "--m")) a->m = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--k")) a->k = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--n")) a->n = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--p-valid")) a->pv = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--p-ready")) a->pr = atof(argv[i + 1]);
        else {
            fprintf(stderr, "bench_vec: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    return 0;
}

/* The raw payload: every value of the layer once, at its width: activations, ternary and
 * sparse weights, per-channel parameters, expected outputs. Returns 0 or 2. */
static int raw_payload(const mpq_hwcfg *hw, const mpq_hw_layer *l, bitbuf *raw)
{
    unsigned m = l->m, k = l->k, n = l->n;
    for (size_t i = 0; i < (size_t)m * k; i++)
        bb_put(raw, (uint32_t)l->x[i], hw->act_bits);
    for (unsigned c = 0; c < n; c++) {
        for (unsigned i = 0; i < k; i++) {
            int8_t t = l->t[(size_t)c * k + i];
            bb_put(raw, t == 1 ? 1u : t == -1 ? 3u : 0u, 2);
            int32_t hp = l->hp[(size_t)c * k + i];
            if (hp) { /* index within the group + value */
                bb_put(raw, i % hw->klanes, mpq_hw_idx_w(hw));
                bb_put(raw, (uint32_t)hp, hw->hp_bits);
            }
        }
        bb_put(raw, (uint32_t)l->alpha[c], 16);
        bb_put(raw, (uint32_t)l->bias[c], 32);
        bb_put(raw, (uint32_t)l->mult[c], 32);
        bb_put(raw, (uint32_t)l->shift[c], 16);
    }
    int32_t *y = malloc((size_t)m * n * sizeof *y);
    if (!y || mpq_hw_layer_expected(hw, l, y, NULL) != 0) {
        free(y);
        return 2;
    }
    for (size_t i = 0; i < (size_t)m * n; i++)
        bb_put(raw, (uint32_t)y[i], hw->out_bits);
    free(y);
    return 0;
}

/* Every cycle of g into *ins / *exps (so the writer can be timed alone), and the beats the
 * streams hand over into beats. Returns the cycle count, or 0 on an error (printed). */
static size_t collect_cycles(const mpq_hwcfg *hw, mpq_gen *g, mpq_port_in **ins, mpq_port_out **exps,
                             bitbuf *beats)
{
    static mpq_port_in in;
    static mpq_port_out exp;
    size_t cap = 1u << 16, nc = 0;
    *ins = malloc(cap * sizeof **ins);
    *exps = malloc(cap * sizeof **exps);
    unsigned cw = MPQ_WORDS(mpq_hw_cfg_w(hw)), ww = MPQ_WORDS(mpq_hw_wgt_w(hw));
    unsigned aw = MPQ_WORDS(mpq_hw_act_w(hw)), ow = MPQ_WORDS(mpq_hw_out_w(hw));
    int rc;
    while ((rc = mpq_gen_next(g, &in, &exp)) == 1) {
        if (nc == cap) {
            cap *= 2;
            *ins = realloc(*ins, cap * sizeof **ins);
            *exps = realloc(*exps, cap * sizeof **exps);
        }
        if (!*ins || !*exps) {
            fprintf(stderr, "bench_vec: out of memory\n");
            return 0;
        }
        (*ins)[nc] = in;
        (*exps)[nc] = exp;
        nc++;
        if (in.cfg_valid && exp.cfg_ready)
            for (unsigned i = 0; i < cw; i++) bb_put(beats, in.cfg_data[i], 32);
        if (in.wgt_valid && exp.wgt_ready)
            for (unsigned i = 0; i < ww; i++) bb_put(beats, in.wgt_data[i], 32);
        if (in.act_valid && exp.act_ready)
            for (unsigned i = 0; i < aw; i++) bb_put(beats, in.act_data[i], 32);
        if (exp.out_valid && in.out_ready)
            for (unsigned i = 0; i < ow; i++) bb_put(beats, exp.out_data[i], 32);
    }
    if (rc < 0) {
        fprintf(stderr, "bench_vec: %s\n", mpq_gen_error(g));
        return 0;
    }
    return nc;
}

enum { REPS = 5 };

/* The fastest of REPS writes of the nc cycles to vpath (the first writer, w, is open
 * already: one pass is tens of milliseconds, at the mercy of the host's other tenants).
 * Returns the seconds, or a negative value on an error (printed). */
static double time_writes(const char *vpath, const mpq_vec_header *h, mpq_vec_writer *w,
                          const mpq_port_in *ins, const mpq_port_out *exps, size_t nc)
{
    char err[1024];
    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
        if (r > 0 && mpq_vec_writer_open(vpath, h, &w, err, sizeof err) != 0) {
            fprintf(stderr, "bench_vec: %s\n", err);
            return -1;
        }
        double t0 = now();
        for (size_t i = 0; i < nc; i++)
            mpq_vec_writer_put(w, &ins[i], &exps[i]);
        if (mpq_vec_writer_close(w, err, sizeof err) != 0) {
            fprintf(stderr, "bench_vec: %s\n", err);
            return -1;
        }
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    return best;
}

/* The fastest of REPS reads of vpath (which must hold nc cycles). Returns the seconds, or on
 * an error (printed) -2 (cannot open) or -1 (the cycles read back are not the ones written). */
static double time_reads(const char *vpath, size_t nc)
{
    static mpq_port_in in;
    static mpq_port_out exp;
    char err[1024];
    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
        mpq_vec_reader *rd;
        double t0 = now();
        if (mpq_vec_reader_open(vpath, &rd, err, sizeof err) != 0) {
            fprintf(stderr, "bench_vec: %s\n", err);
            return -2;
        }
        size_t cnt = 0;
        int rc;
        while ((rc = mpq_vec_reader_next(rd, &in, &exp)) == 1)
            cnt++;
        if (rc < 0 || cnt != nc) {
            fprintf(stderr, "bench_vec: read back failed: %s\n", mpq_vec_reader_error(rd));
            return -1;
        }
        mpq_vec_reader_close(rd);
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    return best;
}

/* The table, and the JSON for make bench. Returns 0 or 2. */
static int report(const bench_args *a, size_t nc, double fsize, size_t graw, size_t gbeats,
                  double t_write, double t_read)
{
    printf("vector file: %s m=%u k=%u n=%u p_valid=%.2f p_ready=%.2f: %zu cycles\n", a->config, a->m,
           a->k, a->n, a->pv, a->pr, nc);
    printf("  file %.0f bytes = %.3f bytes/cycle\n", fsize, fsize / (double)nc);
    printf("  gzip of the raw payload (each value once)   %zu bytes: file is %.2fx\n", graw,
           fsize / (double)graw);
    printf("  gzip of the streamed beats (handshakes only) %zu bytes: file is %.2fx\n", gbeats,
           fsize / (double)gbeats);
    printf("  write %.1f Mcycles/s (%.1f MB/s of file), read %.1f Mcycles/s (%.1f MB/s of file)\n",
           (double)nc / t_write / 1e6, fsize / t_write / 1e6, (double)nc / t_read / 1e6,
           fsize / t_read / 1e6);
    if (!a->json)
        return 0;
    FILE *f = fopen(a->json, "w");
    if (!f) {
        fprintf(stderr, "bench_vec: cannot write %s\n", a->json);
        return 2;
    }
    fprintf(f,
            "{\"config\": \"%s\", \"m\": %u, \"k\": %u, \"n\": %u, \"p_valid\": %.2f, "
            "\"p_ready\": %.2f, \"cycles\": %zu, \"file_bytes\": %.0f, \"bytes_per_cycle\": %.4f, "
            "\"gzip_raw_payload_bytes\": %zu, \"ratio_raw\": %.3f, \"gzip_beats_bytes\": %zu, "
            "\"ratio_beats\": %.3f, \"write_mcycles_s\": %.2f, \"write_mb_s\": %.2f, "
            "\"read_mcycles_s\": %.2f, \"read_mb_s\": %.2f}\n",
            a->config, a->m, a->k, a->n, a->pv, a->pr, nc, fsize, fsize / (double)nc, graw,
            fsize / (double)graw, gbeats, fsize / (double)gbeats, (double)nc / t_write / 1e6,
            fsize / t_write / 1e6, (double)nc / t_read / 1e6, fsize / t_read / 1e6);
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    bench_args a;
    if (parse_args(argc, argv, &a) != 0)
        return 2;
    char path[256], err[1024];
    snprintf(path, sizeof path, "rtl/cfg/%s.cfg", a.config);
    mpq_hwcfg hw;
    if (mpq_hwcfg_load(path, &hw, err, sizeof err) != 0) {
        fprintf(stderr, "bench_vec: %s\n", err);
        return 2;
    }
    mpq_layer_opts lo = {.seed = 1, .m = a.m, .k = a.k, .n = a.n, .hp_n = hw.hp_per_group};
    mpq_hw_layer l;
    if (mpq_hw_layer_random(&hw, &lo, &l, err, sizeof err) != 0) {
        fprintf(stderr, "bench_vec: %s\n", err);
        return 2;
    }
    bitbuf raw = {0}, beats = {0};
    if (raw_payload(&hw, &l, &raw) != 0)
        return 2;
    mpq_timing_opts to = {.seed = 1, .p_valid = a.pv, .p_ready = a.pr, .reset_cycles = 2, .tail_cycles = 2};
    mpq_vec_header h;
    memset(&h, 0, sizeof h);
    h.version = MPQ_VEC_VERSION;
    h.hw = hw;
    h.seed = h.timing_seed = 1;
    h.m = a.m;
    h.k = a.k;
    h.n = a.n;
    snprintf(h.generator, sizeof h.generator, "bench_vec");
    snprintf(h.source, sizeof h.source, "bench");
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char vpath[512];
    snprintf(vpath, sizeof vpath, "%s/mpq-bench-vec-%ld.vec", dir, (long)getpid());
    mpq_gen *g;
    mpq_vec_writer *w;
    if (mpq_gen_new(&hw, &l, &to, &g, err, sizeof err) != 0 ||
        mpq_vec_writer_open(vpath, &h, &w, err, sizeof err) != 0) {
        fprintf(stderr, "bench_vec: %s\n", err);
        return 2;
    }
    mpq_port_in *ins = NULL;
    mpq_port_out *exps = NULL;
    size_t nc = collect_cycles(&hw, g, &ins, &exps, &beats);
    if (nc == 0)
        return 1;
    double t_write = time_writes(vpath, &h, w, ins, exps, nc);
    struct stat st;
    stat(vpath, &st);
    double t_read = t_write < 0 ? -2 : time_reads(vpath, nc);
    remove(vpath);
    if (t_write < 0 || t_read < 0)
        return t_read == -1 ? 1 : 2;
    int rc = report(&a, nc, (double)st.st_size, gz_size(&raw), gz_size(&beats), t_write, t_read);
    mpq_gen_free(g);
    mpq_hw_layer_free(&l);
    free(ins);
    free(exps);
    free(raw.p);
    free(beats.p);
    return rc;
}
