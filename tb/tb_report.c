/* SPDX-License-Identifier: Apache-2.0 */
/* tb_report.c: mismatch reports (text, JSON), the GTKWave save file, JUnit XML. */
#include "tb_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"
#include "stim/mpq_hwlayer.h"
#include "tb_util.h"


static const char *const state_names[4] = {"IDLE", "LOAD", "RUN", "DRAIN"};

int tb_where_from_file(const char *path, tb_result *r, char *err, size_t errlen)
{
    mpq_vec_reader *rd;
    if (mpq_vec_reader_open(path, &rd, err, errlen) != 0)
        return -1;
    mpq_cm *cm;
    if (mpq_cm_new(&mpq_vec_reader_header(rd)->hw, &cm, err, errlen) != 0) {
        mpq_vec_reader_close(rd);
        return -1;
    }
    static mpq_port_in in;
    static mpq_port_out exp, got;
    uint64_t c = 0;
    unsigned next = 0;
    unsigned nrec = r->mismatches < TB_MAX_RECORDED ? (unsigned)r->mismatches : TB_MAX_RECORDED;
    while (next < nrec && mpq_vec_reader_next(rd, &in, &exp) == 1) {
        mpq_cm_eval(cm, &in, &got);
        while (next < nrec && r->mis[next].cycle == c) {
            mpq_cm_where_get(cm, &r->mis[next].where);
            r->mis[next].have_where = 1;
            next++;
        }
        mpq_cm_tick(cm, &in);
        c++;
    }
    mpq_cm_free(cm);
    mpq_vec_reader_close(rd);
    return 0;
}

static void hex_bus(char *buf, size_t len, const uint32_t *w, unsigned bits)
{
    size_t n = 0;
    n += (size_t)snprintf(buf + n, len - n, "0x");
    for (int i = (int)MPQ_WORDS(bits) - 1; i >= 0 && n < len; i--) {
        unsigned wb = (unsigned)i == MPQ_WORDS(bits) - 1 && bits % 32 ? bits % 32 : 32;
        int digits = (int)((wb + 3) / 4);
        n += (size_t)snprintf(buf + n, len - n, "%0*" PRIx32 "%s", digits, w[i], i ? "_" : "");
    }
}

static unsigned channel_of(const tb_result *r, const tb_mismatch *m, unsigned lane)
{
    long tile = m->have_where && m->where.tile >= 0 ? m->where.tile : 0;
    return (unsigned)tile * r->h.hw.lanes + lane;
}

/* A fully-connected layer is the accelerator's 1x1 convolution over an M x 1 input. */
static int is_fc(const mpq_cm_where *w)
{
    return w->kh == 1 && w->kw == 1 && w->in_w == 1 && w->out_w == 1 && w->batches == 1;
}

/* The output on out_data_o: "row m=5" (fully connected) or "pixel 7 (b=0, oy=1, ox=3)". */
static const char *out_text(const mpq_cm_where *w, char *buf, size_t len)
{
    long p = w->out_row;
    if (is_fc(w) || !w->out_w || !w->out_h)
        snprintf(buf, len, "row m=%ld", p);
    else
        snprintf(buf, len, "pixel %ld (b=%ld, oy=%ld, ox=%ld)", p, p / ((long)w->out_h * w->out_w),
                 p / (long)w->out_w % (long)w->out_h, p % (long)w->out_w);
    return buf;
}

/* The lane-array step the window generator takes in this cycle: which output row or pixel,
 * which kernel tap and which channel slice, and whether the tap lies in the padding. */
static size_t step_text(const mpq_hwcfg *hw, const mpq_cm_where *w, char *buf, size_t len)
{
    unsigned c0 = w->s * hw->klanes, c1 = c0 + hw->klanes - 1;
    if (c1 >= w->c_len)
        c1 = w->c_len ? w->c_len - 1 : 0;
    int n;
    if (is_fc(w))
        n = snprintf(buf, len, ", accumulating row m=%u of %u, k slice %u of %u (k=%u..%u)", w->oy,
                     w->out_h, w->s, w->n_slices, c0, c1);
    else
        n = snprintf(buf, len, ", accumulating pixel (b=%u, oy=%u, ox=%u) of %ux%ux%u, tap (ky=%u, "
                     "kx=%u) at input (iy=%ld, ix=%ld)%s, channel slice %u of %u (c=%u..%u)", w->b, w->oy,
                     w->ox, w->batches, w->out_h, w->out_w, w->ky, w->kx, w->iy, w->ix,
                     w->pad ? " in the padding (input zero point)" : "", w->s, w->n_slices, c0, c1);
    return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

static void where_text(const tb_result *r, const tb_mismatch *m, char *buf, size_t len)
{
    const mpq_hwcfg *hw = &r->h.hw;
    if (!m->have_where) {
        snprintf(buf, len, "unknown (the golden cycle model could not be re-run)");
        return;
    }
    const mpq_cm_where *w = &m->where;
    unsigned tiles = (r->h.n + hw->lanes - 1) / hw->lanes;
    size_t n = 0;
    if (w->tile < 0) {
        snprintf(buf, len, "%sbefore the first tile (state IDLE)", w->resets ? "after the mid-layer reset, " : "");
        return;
    }
    unsigned c0 = (unsigned)w->tile * hw->lanes;
    n += (size_t)snprintf(buf + n, len - n, "tile %ld of %u (channels n=%u..%u)%s, state %s", w->tile,
                          tiles, c0, c0 + hw->lanes - 1, w->resets ? " after the mid-layer reset" : "",
                          state_names[w->state & 3]);
    if (w->state == 1 && n < len)
        n += (size_t)snprintf(buf + n, len - n, ", loading weight beat %u of %u", w->wslice,
                              w->kh * w->kw * w->n_slices);
    if (w->state == 2 && n < len)
        n += step_text(hw, w, buf + n, len - n);
    if (w->out_row >= 0 && n < len) {
        char px[80];
        snprintf(buf + n, len - n, "; on out_data_o: %s", out_text(w, px, sizeof px));
    }
}

/* White-box register p (TB_P_ACC, TB_P_RQ1, TB_P_RQ2) after the edge that ended the cycle:
 * the lanes that differ, with the step that edge took. */
static void reg_lines(FILE *f, const tb_result *r, const tb_mismatch *m, unsigned p)
{
    const mpq_hwcfg *hw = &r->h.hw;
    const mpq_cm_regs *e = &m->exp_regs, *a = &m->act_regs;
    const mpq_cm_where *w = &m->where;
    const char *what = p == TB_P_ACC ? "accumulator (acc_q)" : p == TB_P_RQ1 ? "rq1 (row_q)"
                                                                             : "rq2 (high product)";
    int ev = p == TB_P_RQ1 ? e->rq1_valid : e->rq2_valid, av = p == TB_P_RQ1 ? a->rq1_valid : a->rq2_valid;
    if (p != TB_P_ACC && ev != av)
        fprintf(f, "  register %s valid: expected %d, actual %d\n", what, ev, av);
    for (unsigned l = 0; l < hw->lanes; l++) {
        int64_t x = p == TB_P_ACC ? e->acc[l] : p == TB_P_RQ1 ? e->rq1[l] : e->rq2[l];
        int64_t y = p == TB_P_ACC ? a->acc[l] : p == TB_P_RQ1 ? a->rq1[l] : a->rq2[l];
        if (x == y || (p != TB_P_ACC && !ev))
            continue;
        fprintf(f, "    lane %u = output channel n=%u: %s after this cycle's edge", l,
                channel_of(r, m, l), what);
        if (p == TB_P_ACC && m->have_where && w->state == MPQ_ST_RUN && m->in.act_valid) {
            char st[300];
            step_text(hw, w, st, sizeof st);
            fprintf(f, " (the step of%s)", st + strlen(", accumulating"));
        }
        fprintf(f, ": expected %" PRId64 ", actual %" PRId64 "\n", x, y);
    }
}

/* A bus's expected and actual value: two aligned lines of hex words, or one line for a flag
 * vector. */
static void bus_lines_WORDS(FILE *f, const char *port, const uint32_t (*e)[MPQ_PORT_WORDS_MAX],
                            const uint32_t (*a)[MPQ_PORT_WORDS_MAX], unsigned bits)
{
    char es[700], as[700];
    hex_bus(es, sizeof es, *e, bits);
    hex_bus(as, sizeof as, *a, bits);
    fprintf(f, "  port %s: expected %s\n%*sactual   %s\n", port, es, (int)strlen(port) + 8, "", as);
}
static void bus_lines_U64(FILE *f, const char *port, const uint64_t *e, const uint64_t *a, unsigned bits)
{
    (void)bits;
    fprintf(f, "  port %s: expected 0x%" PRIx64 ", actual 0x%" PRIx64 "\n", port, *e, *a);
}

/* The lanes where out_data_o differs: each lane's OutBits-bit output. */
static void out_lanes(FILE *f, const tb_result *r, const tb_mismatch *m)
{
    const mpq_hwcfg *hw = &r->h.hw;
    for (unsigned l = 0; l < hw->lanes; l++) {
        uint32_t ev = mpq_bits_get(m->exp.out_data, l * hw->out_bits, hw->out_bits);
        uint32_t av = mpq_bits_get(m->act.out_data, l * hw->out_bits, hw->out_bits);
        if (ev == av)
            continue;
        fprintf(f, "    lane %u = output channel n=%u", l, channel_of(r, m, l));
        if (m->have_where && m->where.out_row >= 0) {
            char px[80];
            fprintf(f, ", %s", out_text(&m->where, px, sizeof px));
        }
        fprintf(f, ": expected %d (0x%x), actual %d (0x%x)\n", mpq_sext(ev, hw->out_bits), ev,
                mpq_sext(av, hw->out_bits), av);
    }
}

/* The lanes where ovf_o differs: a flag per lane. */
static void ovf_lanes(FILE *f, const tb_result *r, const tb_mismatch *m)
{
    for (unsigned l = 0; l < r->h.hw.lanes; l++) {
        unsigned e = (unsigned)(m->exp.ovf >> l & 1u), a = (unsigned)(m->act.ovf >> l & 1u);
        if (e != a)
            fprintf(f, "    lane %u = output channel n=%u: overflow flag expected %u, actual %u\n", l,
                    channel_of(r, m, l), e, a);
    }
}

/* Per-port lines of one mismatching cycle: every output that differs (from the port lists),
 * its lanes where the port has lanes, the assertion, the white-box registers. */
static void port_lines(FILE *f, const tb_result *r, const tb_mismatch *m)
{
    const mpq_hwcfg *hw = &r->h.hw;
    for (unsigned p = 0; p < TB_P_COUNT; p++) {
        if (!(m->ports >> p & 1u))
            continue;
#define X(idx, field, port, rec)                                                              \
    if (p == (idx))                                                                           \
        fprintf(f, "  port %s: expected %u, actual %u\n", #port, m->exp.field, m->act.field);
        MPQ_OUT_BITS(X)
#undef X
#define X(idx, field, port, bus, width, store, rec, valid) \
    if (p == (idx))                                        \
        bus_lines_##store(f, #port, &m->exp.field, &m->act.field, mpq_port_width(hw, width));
        MPQ_OUT_BUSES(X)
#undef X
        if (p == MPQ_OUT_OUT_DATA)
            out_lanes(f, r, m);
        else if (p == MPQ_OUT_OVF)
            ovf_lanes(f, r, m);
        else if (p == TB_P_ASSERT)
            fprintf(f, "  an SV assertion of the DUT failed in this cycle (Verilator's message is "
                       "printed above it)\n");
        else if ((p == TB_P_ACC || p == TB_P_RQ1 || p == TB_P_RQ2) && m->have_regs)
            reg_lines(f, r, m, p);
    }
}

/* Every 1-bit input's value: " rst_ni=1 cfg_valid_i=0 ..." (text) or "\"rst_ni\": 1, ..." (JSON). */
static void input_bits(FILE *f, const mpq_port_in *in, int json)
{
    int first = 1;
#define X(idx, field, port, rec)                                                                     \
    fprintf(f, json ? "%s\"%s\": %u" : "%s%s=%u", json ? (first ? "" : ", ") : " ", #port, in->field); \
    first = 0;
    MPQ_IN_BITS(X)
#undef X
    (void)first;
}

/* The reproduce command in the white-box build (build/vl/<cfg>/wb/mpq-tb ... --whitebox), which
 * compares every lane's accumulator and both requantizer stages every cycle and so names the
 * stage where a wrong value first appeared; 0, or -1 when repro is not a plain build's or is
 * white-box already. */
static int whitebox_command(const char *repro, char *buf, size_t len)
{
    const char *at = strstr(repro, "/plain/mpq-tb");
    if (!at || strstr(repro, "--whitebox"))
        return -1;
    int n = snprintf(buf, len, "%.*s/wb/mpq-tb%s --whitebox", (int)(at - repro), repro, at + strlen("/plain/mpq-tb"));
    return n > 0 && (size_t)n < len ? 0 : -1;
}

void tb_print_report(FILE *f, const tb_result *r)
{
    const tb_mismatch *m = &r->mis[0];
    char buf[1024];
    fprintf(f, "MISMATCH in %s\n", r->name);
    fprintf(f, "  first mismatching cycle %" PRIu64 " (time %" PRIu64 " in wave.fst; cycles count "
               "from 0, the first reset cycle)\n", m->cycle, m->cycle * 10u);
    port_lines(f, r, m);
    where_text(r, m, buf, sizeof buf);
    fprintf(f, "  the array in that cycle: %s\n", buf);
    fprintf(f, "  inputs in that cycle:");
    input_bits(f, &m->in, 0);
    fprintf(f, "\n");
    mpq_conv_shape cs;
    if (mpq_vec_header_conv_shape(&r->h, &cs)) {
        char sh[200];
        mpq_conv_shape_format(&cs, sh, sizeof sh);
        fprintf(f, "  layer: %s, %s accumulator; %s\n", sh, r->h.acc_sat ? "saturating" : "wrapping",
                r->h.source);
    } else {
        fprintf(f, "  layer: fully connected m=%u k=%u n=%u, %s accumulator; %s\n", r->h.m, r->h.k,
                r->h.n, r->h.acc_sat ? "saturating" : "wrapping", r->h.source);
    }
    fprintf(f, "  configuration: %s\n", mpq_hwcfg_str(&r->h.hw, buf, sizeof buf));
    fprintf(f, "  seeds: layer %" PRIu64 ", timing %" PRIu64 "\n", r->h.seed, r->h.timing_seed);
    if (r->mismatches > 1) {
        fprintf(f, "  %" PRIu64 " mismatching cycles before the run stopped; the next ones:", r->mismatches);
        for (unsigned i = 1; i < r->mismatches && i < TB_MAX_RECORDED; i++) {
            fprintf(f, " %" PRIu64 "(", r->mis[i].cycle);
            for (unsigned p = 0, first = 1; p < TB_P_COUNT; p++)
                if (r->mis[i].ports >> p & 1u) {
                    fprintf(f, "%s%s", first ? "" : ",", tb_port_names[p]);
                    first = 0;
                }
            fprintf(f, ")");
        }
        fprintf(f, "\n");
    } else {
        fprintf(f, "  stopped at the first mismatching cycle (--max-mismatches N to go on)\n");
    }
    fprintf(f, "  reproduce: %s\n", r->repro);
    char wb[2200];
    if (whitebox_command(r->repro, wb, sizeof wb) == 0)
        fprintf(f, "  white-box: %s\n             (make tb-wb CONFIG=... builds it; it names the lane's accumulator or requantizer stage that went wrong first)\n", wb);
    tb_print_trace(f, r->trace_dir, r->have_wave, r->trace_note);
}

void tb_short(const tb_result *r, char *buf, size_t len)
{
    const tb_mismatch *m = &r->mis[0];
    const mpq_hwcfg *hw = &r->h.hw;
    size_t n = (size_t)snprintf(buf, len, "cycle %" PRIu64 ":", m->cycle);
    for (unsigned p = 0; p < TB_P_COUNT && n < len; p++) {
        if (!(m->ports >> p & 1u))
            continue;
        if (p == MPQ_OUT_OUT_DATA) {
            for (unsigned l = 0; l < hw->lanes && n < len; l++) {
                uint32_t ev = mpq_bits_get(m->exp.out_data, l * hw->out_bits, hw->out_bits);
                uint32_t av = mpq_bits_get(m->act.out_data, l * hw->out_bits, hw->out_bits);
                if (ev != av) {
                    n += (size_t)snprintf(buf + n, len - n,
                                          " out_data_o lane %u (channel n=%u) expected %d, actual %d;", l,
                                          channel_of(r, m, l), mpq_sext(ev, hw->out_bits),
                                          mpq_sext(av, hw->out_bits));
                    break;
                }
            }
        } else if (p == MPQ_OUT_OVF) {
            for (unsigned l = 0; l < hw->lanes && n < len; l++)
                if ((m->exp.ovf ^ m->act.ovf) >> l & 1u) {
                    n += (size_t)snprintf(buf + n, len - n, " ovf_o lane %u (channel n=%u) expected %u, actual %u;",
                                          l, channel_of(r, m, l), (unsigned)(m->exp.ovf >> l & 1u),
                                          (unsigned)(m->act.ovf >> l & 1u));
                    break;
                }
        } else {
            n += (size_t)snprintf(buf + n, len - n, " %s;", tb_port_names[p]);
        }
    }
    if (n > 0 && n < len && buf[n - 1] == ';')
        buf[n - 1] = '\0';
}

/* ---- files ----------------------------------------------------------------------------------- */
static void json_mismatch(FILE *f, const tb_result *r, const tb_mismatch *m)
{
    const mpq_hwcfg *hw = &r->h.hw;
    fprintf(f, "{\"cycle\": %" PRIu64 ", \"time\": %" PRIu64 ", \"ports\": [", m->cycle, m->cycle * 10u);
    for (unsigned p = 0, first = 1; p < TB_P_COUNT; p++)
        if (m->ports >> p & 1u) {
            fprintf(f, "%s\"%s\"", first ? "" : ", ", tb_port_names[p]);
            first = 0;
        }
    fprintf(f, "], \"lanes\": [");
    int first = 1;
    for (unsigned l = 0; l < hw->lanes; l++) {
        int d_out = (m->ports >> MPQ_OUT_OUT_DATA & 1u) &&
                    mpq_bits_get(m->exp.out_data, l * hw->out_bits, hw->out_bits) !=
                        mpq_bits_get(m->act.out_data, l * hw->out_bits, hw->out_bits);
        int d_ovf = (m->ports >> MPQ_OUT_OVF & 1u) && ((m->exp.ovf ^ m->act.ovf) >> l & 1u);
        int d_acc = m->have_regs && m->exp_regs.acc[l] != m->act_regs.acc[l];
        if (!d_out && !d_ovf && !d_acc)
            continue;
        fprintf(f, "%s{\"lane\": %u, \"channel\": %u", first ? "" : ", ", l, channel_of(r, m, l));
        if (d_out)
            fprintf(f, ", \"out_expected\": %d, \"out_actual\": %d",
                    mpq_sext(mpq_bits_get(m->exp.out_data, l * hw->out_bits, hw->out_bits), hw->out_bits),
                    mpq_sext(mpq_bits_get(m->act.out_data, l * hw->out_bits, hw->out_bits), hw->out_bits));
        if (d_ovf)
            fprintf(f, ", \"ovf_expected\": %u, \"ovf_actual\": %u", (unsigned)(m->exp.ovf >> l & 1u),
                    (unsigned)(m->act.ovf >> l & 1u));
        if (d_acc)
            fprintf(f, ", \"acc_expected\": %" PRId64 ", \"acc_actual\": %" PRId64, m->exp_regs.acc[l],
                    m->act_regs.acc[l]);
        fprintf(f, "}");
        first = 0;
    }
    fprintf(f, "]");
    fprintf(f, ", \"inputs\": {");
    input_bits(f, &m->in, 1);
    fprintf(f, "}");
    if (m->have_where) {
        const mpq_cm_where *w = &m->where;
        fprintf(f, ", \"where\": {\"tile\": %ld, \"resets\": %u, \"state\": \"%s\", \"b\": %u, \"oy\": %u, "
                   "\"ox\": %u, \"ky\": %u, \"kx\": %u, \"iy\": %ld, \"ix\": %ld, \"pad\": %d, "
                   "\"slice\": %u, \"c_first\": %u, \"pixel\": %ld, \"out_row\": %ld}",
                w->tile, w->resets, state_names[w->state & 3], w->b, w->oy, w->ox, w->ky, w->kx, w->iy, w->ix,
                w->pad, w->s, w->s * hw->klanes, w->pixel, w->out_row);
    }
    fprintf(f, "}");
}

/* "layer": the kind, the accelerator's view (m output pixels or rows, k reduction depth, n
 * channels, tiles of Lanes channels) and, for a convolution, its shape (mpq_conv_shape's
 * fields, and the text mpq-tb --shape takes). */
static void json_layer(FILE *f, const tb_result *r)
{
    mpq_conv_shape cs;
    int conv = mpq_vec_header_conv_shape(&r->h, &cs);
    unsigned tiles = r->h.hw.lanes ? (r->h.n + r->h.hw.lanes - 1) / r->h.hw.lanes : 0;
    fprintf(f, ",\n  \"layer\": {\"kind\": \"%s\", \"m\": %u, \"k\": %u, \"n\": %u, \"tiles\": %u, "
               "\"acc\": \"%s\"", conv ? mpq_layer_name(cs.kind) : "fc", r->h.m, r->h.k, r->h.n, tiles,
            r->h.acc_sat ? "sat" : "wrap");
    if (conv) {
        char text[200];
        mpq_conv_shape_format(&cs, text, sizeof text);
        fprintf(f, ",\n    \"shape\": {\"batches\": %u, \"in_h\": %u, \"in_w\": %u, \"in_c\": %u, "
                   "\"out_c\": %u, \"kh\": %u, \"kw\": %u, \"sy\": %u, \"sx\": %u, \"dy\": %u, \"dx\": %u, "
                   "\"py\": %u, \"px\": %u, \"groups\": %u, \"out_h\": %u, \"out_w\": %u, \"text\": ",
                cs.batches, cs.in_h, cs.in_w, cs.in_c, cs.out_c, cs.kh, cs.kw, cs.sy, cs.sx, cs.dy, cs.dx,
                cs.py, cs.px, cs.groups ? cs.groups : 1, cs.out_h, cs.out_w);
        tb_json_str(f, text);
        fprintf(f, "},\n   ");
    }
    fprintf(f, " \"source\": ");
    tb_json_str(f, r->h.source);
    fprintf(f, "}");
}

int tb_write_reports(const char *dir, const tb_result *r, unsigned before, unsigned after)
{
    char tmp[1500], fin[1500];
    FILE *f = tb_open_tmp(dir, "report.txt", tmp, sizeof tmp, fin, sizeof fin);
    if (!f)
        return -1;
    tb_print_report(f, r);
    if (tb_close_tmp(f, tmp, fin) != 0)
        return -1;
    f = tb_open_tmp(dir, "report.json", tmp, sizeof tmp, fin, sizeof fin);
    if (!f)
        return -1;
    char cfg[256];
    fprintf(f, "{\n  \"test\": ");
    tb_json_str(f, r->name);
    fprintf(f, ",\n  \"status\": \"mismatch\",\n  \"first_cycle\": %" PRIu64 ",\n  \"mismatching_cycles\": %" PRIu64
               ",\n  \"cycles_run\": %" PRIu64 ",\n  \"mismatches\": [", r->mis[0].cycle, r->mismatches, r->cycles);
    for (unsigned i = 0; i < r->mismatches && i < TB_MAX_RECORDED; i++) {
        fprintf(f, "%s\n    ", i ? "," : "");
        json_mismatch(f, r, &r->mis[i]);
    }
    fprintf(f, "\n  ],\n  \"configuration\": ");
    tb_json_str(f, mpq_hwcfg_str(&r->h.hw, cfg, sizeof cfg));
    json_layer(f, r);
    fprintf(f, ",\n  \"seed\": %" PRIu64 ",\n  \"timing_seed\": %" PRIu64 ",\n  \"vector_file\": ",
            r->h.seed, r->h.timing_seed);
    tb_json_str(f, r->file);
    fprintf(f, ",\n  \"reproduce\": ");
    tb_json_str(f, r->repro);
    uint64_t lo = r->mis[0].cycle > before ? r->mis[0].cycle - before : 0;
    /* file and gtkw are null when the waveform was not written (the note says why). */
    fprintf(f, ",\n  \"waveform\": {\"file\": %s, \"gtkw\": %s, \"first_cycle\": %" PRIu64
               ", \"last_cycle\": %" PRIu64 ", \"note\": ", r->have_wave ? "\"wave.fst\"" : "null",
            r->have_wave ? "\"wave.gtkw\"" : "null", lo, r->mis[0].cycle + after);
    tb_json_str(f, r->trace_note);
    fprintf(f, "}\n}\n");
    return tb_close_tmp(f, tmp, fin);
}

int tb_write_gtkw(const char *dir, const tb_result *r, uint64_t c)
{
    char tmp[1500], fin[1500];
    FILE *f = tb_gtkw_open(dir, tmp, sizeof tmp, fin, sizeof fin, c, r->trace_lo,
                           "mpq mismatch trace: %s, first mismatch at cycle %" PRIu64
                           " (time %" PRIu64 ")", r->name, c, c * 10u);
    if (!f)
        return -1;
    const mpq_hwcfg *hw = &r->h.hw;
    unsigned ow = mpq_hw_out_w(hw), cw = mpq_hw_cfg_w(hw), ww = mpq_hw_wgt_w(hw), aw = mpq_hw_act_w(hw);
    const char *t = "TOP.mpq_tb_top";
    fprintf(f, "@200\n-testbench\n@28\n%s.clk_i\n%s.rst_ni\n@24\n%s.tb_cycle[63:0]\n", t, t, t);
    fprintf(f, "@28\n%s.mismatch\n@22\n%s.mismatch_ports[15:0]\n", t, t);
    fprintf(f, "@200\n-output: actual | expected\n@28\n%s.out_valid_o\n%s.exp_out_valid\n%s.out_ready_i\n", t, t, t);
    fprintf(f, "@22\n%s.out_data_o[%u:0]\n%s.exp_out_data[%u:0]\n", t, ow - 1, t, ow - 1);
    fprintf(f, "@28\n%s.act_ready_o\n%s.exp_act_ready\n%s.wgt_ready_o\n%s.exp_wgt_ready\n", t, t, t, t);
    fprintf(f, "%s.cfg_ready_o\n%s.exp_cfg_ready\n%s.busy_o\n%s.exp_busy\n%s.done_o\n%s.exp_done\n", t, t, t, t, t, t);
    if (hw->lanes > 1)
        fprintf(f, "@22\n%s.ovf_o[%u:0]\n%s.exp_ovf[%u:0]\n", t, hw->lanes - 1, t, hw->lanes - 1);
    else
        fprintf(f, "@28\n%s.ovf_o\n%s.exp_ovf\n", t, t);
    fprintf(f, "@200\n-inputs\n@28\n%s.cfg_valid_i\n%s.wgt_valid_i\n%s.act_valid_i\n", t, t, t);
    fprintf(f, "@22\n%s.cfg_data_i[%u:0]\n%s.wgt_data_i[%u:0]\n%s.act_data_i[%u:0]\n", t, cw - 1, t, ww - 1, t, aw - 1);
    /* The lanes' registers, golden beside DUT (the lanes named by the first mismatch first):
     * an accumulate bug shows in acc, a requantization bug in rq2 or only on out_data_o. */
    fprintf(f, "@200\n-registers: golden | DUT (signed)\n");
    const tb_mismatch *m = &r->mis[0];
    unsigned shown = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned l = 0; l < hw->lanes && shown < 8; l++) {
            int named = (m->ports >> MPQ_OUT_OUT_DATA & 1u) &&
                        mpq_bits_get(m->exp.out_data, l * hw->out_bits, hw->out_bits) !=
                            mpq_bits_get(m->act.out_data, l * hw->out_bits, hw->out_bits);
            named |= (int)((m->exp.ovf ^ m->act.ovf) >> l & 1u);
            named |= m->have_regs && (m->exp_regs.acc[l] != m->act_regs.acc[l] ||
                                      m->exp_regs.rq2[l] != m->act_regs.rq2[l]);
            if (named != (pass == 0))
                continue;
            fprintf(f, "@424\n%s.lane_acc_exp[%u][%u:0]\n%s.lane_acc_dut[%u][%u:0]\n", t, l,
                    hw->acc_bits - 1, t, l, hw->acc_bits - 1);
            fprintf(f, "%s.lane_rq2_exp[%u][31:0]\n%s.lane_rq2_dut[%u][31:0]\n", t, l, t, l);
            shown++;
        }
    }
    fprintf(f, "@28\n%s.exp_rq1_valid\n%s.dbg_rq1_valid_o\n%s.exp_rq2_valid\n%s.dbg_rq2_valid_o\n", t, t, t, t);
    fprintf(f, "@200\n-window: golden | DUT (pixel b oy ox, tap ky kx, slice s, padding)\n@24\n");
    static const char *const win[][3] = {{"b", "b_q", "15"}, {"oy", "oy_q", "15"}, {"ox", "ox_q", "15"},
                                         {"ky", "ky_q", "7"},  {"kx", "kx_q", "7"},  {"s", "s_q", "15"}};
    for (size_t i = 0; i < sizeof win / sizeof win[0]; i++)
        fprintf(f, "%s.exp_win_%s[%s:0]\n%s.dut.u_win.%s[%s:0]\n", t, win[i][0], win[i][2], t, win[i][1],
                win[i][2]);
    fprintf(f, "@28\n%s.exp_win_pad\n%s.dut.u_win.pad\n@24\n%s.dut.u_win.wcount_q[31:0]\n", t, t, t);
    fprintf(f, "@200\n-DUT state\n@24\n%s.dut.state_q[1:0]\n", t);
    fprintf(f, "@28\n%s.dut.rq1_valid_q\n%s.dut.rq2_valid_q\n%s.dut.out_valid_q\n", t, t, t);
    return tb_close_tmp(f, tmp, fin);
}

/* ---- results, one JSON line per test ------------------------------------------------------- */
void tb_results_line(FILE *f, const tb_result *r, const char *status)
{
    if (!f)
        return;
    fprintf(f, "{\"test\": ");
    tb_json_str(f, r->name);
    fprintf(f, ", \"status\": \"%s\", \"cycles\": %" PRIu64 ", \"seconds\": %.6f, \"seed\": %" PRIu64
               ", \"timing_seed\": %" PRIu64 ", \"source\": ",
            status, r->cycles, r->seconds, r->h.seed, r->h.timing_seed);
    tb_json_str(f, r->h.source);
    if (r->mismatches)
        fprintf(f, ", \"first_cycle\": %" PRIu64, r->mis[0].cycle);
    if (r->error[0]) {
        fprintf(f, ", \"error\": ");
        tb_json_str(f, r->error);
    }
    fprintf(f, "}\n");
    fflush(f); /* each line is on disk when the next test starts: a killed run keeps them */
}
