/* SPDX-License-Identifier: Apache-2.0 */
/* txn_report.c: what a failed transaction-level test reports (txn_run.h): the text report, its
 * JSON twin, the GTKWave save file of the traced re-run. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq_bits.h"
#include "mpq_dut.h"
#include "tb_util.h"
#include "txn_run.h"

static const char *const kind_names[TXN_F_COUNT] = {
    "output data differs", "output last differs", "an output beat after the last one expected",
    "output valid dropped before the handshake", "output data changed before the handshake",
    "an SV assertion of the DUT failed", "deadlock", "latency bound exceeded", "input beats never taken"};

const char *txn_kind_name(txn_kind k) { return k < TXN_F_COUNT ? kind_names[k] : "?"; }

static void hex_words(char *buf, size_t len, const uint32_t *w, unsigned bits)
{
    size_t n = (size_t)snprintf(buf, len, "0x");
    for (int i = (int)MPQ_WORDS(bits) - 1; i >= 0 && n < len; i--) {
        unsigned wb = (unsigned)i == MPQ_WORDS(bits) - 1 && bits % 32 ? bits % 32 : 32;
        n += (size_t)snprintf(buf + n, len - n, "%0*" PRIx32 "%s", (int)((wb + 3) / 4), w[i], i ? "_" : "");
    }
}

/* A field of up to 32 bits of a beat, as a signed value of its width. */
static int32_t field_value(const uint32_t *w, unsigned lsb, unsigned bits, uint32_t *raw)
{
    *raw = mpq_bits_get(w, lsb, bits);
    return mpq_sext(*raw, bits);
}

/* The elements of a mismatching beat that differ (at most `max`), one line each; JSON objects
 * with json set. Returns how many differ. */
static unsigned element_lines(FILE *f, const mpq_desc *d, const txn_jobs *js, const txn_result *r, int json,
                              unsigned max)
{
    const txn_failure *x = &r->f;
    unsigned width = d->streams[x->stream].width, count = 0;
    for (unsigned bit = 0; bit < width;) {
        char name[160];
        unsigned lsb = bit, bits = 1;
        int is_elem = mpq_beats_element(js->beats[x->job], (unsigned)x->stream, x->beat, bit, name, sizeof name,
                                        &lsb, &bits) == 0;
        if (!is_elem) { /* padding: a run of 32 bits at most */
            bits = width - bit < 32 ? width - bit : 32;
            snprintf(name, sizeof name, "padding");
        }
        uint32_t re, ra, care = mpq_bits_get(x->care, lsb, bits);
        int32_t ve = field_value(x->exp, lsb, bits, &re), va = field_value(x->act, lsb, bits, &ra);
        bit = lsb + bits;
        if (((re ^ ra) & care) == 0)
            continue;
        if (count++ >= max)
            continue;
        if (json)
            fprintf(f, "%s{\"element\": \"%s\", \"lsb\": %u, \"bits\": %u, \"expected\": %d, \"actual\": %d}",
                    count > 1 ? ", " : "", name, lsb, bits, ve, va);
        else if (is_elem)
            fprintf(f, "    %s (bits [%u:%u]): expected %d (0x%x), actual %d (0x%x)\n", name, lsb + bits - 1, lsb,
                    ve, re, va, ra);
        else
            fprintf(f, "    bits [%u:%u], in no element (must be zero): actual 0x%x\n", lsb + bits - 1, lsb, ra & care);
    }
    return count;
}

static const char *port_name(const mpq_desc *d, int p) { return p >= 0 ? d->ports[p].name : "-"; }

static void stream_lines(FILE *f, const mpq_desc *d, const txn_jobs *js, const txn_result *r)
{
    const txn_failure *x = &r->f;
    const mpq_desc_stream *st = &d->streams[x->stream];
    char e[2400], a[2400];
    fprintf(f, "  stream %s (%s, %u bits): beat %" PRIu64 " of layer %u (beat %" PRIu64 " of the test)\n", st->name,
            port_name(d, st->data), st->width, x->beat, x->job + 1, x->run_beat);
    switch (x->kind) {
    case TXN_F_DATA:
        element_lines(f, d, js, r, 0, 8);
        break;
    case TXN_F_LAST:
        fprintf(f, "    %s: expected %d, actual %d\n", port_name(d, st->last), x->exp_last, x->act_last);
        break;
    case TXN_F_EXTRA:
        hex_words(a, sizeof a, x->act, st->width);
        fprintf(f, "    every expected beat had come; this one carries %s\n", a);
        break;
    case TXN_F_DROP:
        fprintf(f, "    %s fell while the beat was waiting for %s\n", port_name(d, st->valid), port_name(d, st->ready));
        break;
    case TXN_F_HOLD: case TXN_F_ASSERT: case TXN_F_DEADLOCK: case TXN_F_LATENCY: case TXN_F_UNTAKEN:
    case TXN_F_COUNT:
        hex_words(e, sizeof e, x->exp, st->width);
        hex_words(a, sizeof a, x->act, st->width);
        fprintf(f, "    the waiting beat was %s (last %d), now %s (last %d)\n", e, x->exp_last, a, x->act_last);
    }
}

static void what_lines(FILE *f, const mpq_desc *d, const txn_jobs *js, const txn_result *r)
{
    const txn_failure *x = &r->f;
    switch (x->kind) {
    case TXN_F_ASSERT:
        fprintf(f, "  an SV assertion of the DUT failed at the edge that ended this cycle (Verilator's message is "
                   "printed above it)\n");
        break;
    case TXN_F_DEADLOCK:
        fprintf(f, "  no beat on any stream for %" PRIu64 " cycles while output beats are still expected "
                   "(--deadlock)\n", x->value);
        break;
    case TXN_F_LATENCY:
        fprintf(f, "  layer %u: its last output beat came %" PRIu64 " cycles after its first input beat "
                   "(--max-latency)\n", x->job + 1, x->value);
        break;
    case TXN_F_UNTAKEN:
        fprintf(f, "  every output beat came, but stream %s never took its last %" PRIu64 " beats (no beat moved "
                   "for --deadlock cycles)\n",
                d->streams[x->stream].name, x->value);
        break;
    case TXN_F_DATA: case TXN_F_LAST: case TXN_F_EXTRA: case TXN_F_DROP: case TXN_F_HOLD: case TXN_F_COUNT:
        stream_lines(f, d, js, r);
    }
}

void txn_print_report(FILE *f, const mpq_desc *d, const txn_jobs *js, const txn_result *r)
{
    const txn_failure *x = &r->f;
    fprintf(f, "FAILURE in %s (transaction-level check): %s\n", r->name, txn_kind_name(x->kind));
    fprintf(f, "  at cycle %" PRIu64 " (time %" PRIu64 " in wave.fst; cycles count from 0, the first reset cycle)\n",
            x->cycle, x->cycle * 10u);
    what_lines(f, d, js, r);
    for (unsigned j = 0; j < js->n; j++)
        fprintf(f, "  layer %u of %u: %s%s\n", j + 1, js->n, js->job[j].source,
                x->stream >= 0 && j == x->job && x->kind != TXN_F_ASSERT ? "   <- this one" : "");
    fprintf(f, "  streams when it stopped:");
    for (unsigned s = 0; s < d->nstreams; s++)
        fprintf(f, "%s %s %" PRIu64 "/%" PRIu64 " beats%s", s ? ";" : "", d->streams[s].name, r->prog[s].taken,
                r->prog[s].total, r->prog[s].valid ? (r->prog[s].ready ? " (valid, ready)" : " (valid, not ready)") : "");
    fprintf(f, "\n  DUT: %s (%s), build %s\n", d->top, d->path, mpq_dut_build());
    fprintf(f, "  timing: p-valid %g, p-ready %g; seed %" PRIu64 " (layers and timing)\n", r->p_valid, r->p_ready,
            r->seed);
    if (r->failures > 1)
        fprintf(f, "  %u failures before the test stopped\n", r->failures);
    else
        fprintf(f, "  stopped at the first failure (--max-mismatches N to go on)\n");
    fprintf(f, "  reproduce: %s\n", r->repro);
    tb_print_trace(f, r->trace_dir, r->have_wave, r->trace_note);
}

void txn_short(const mpq_desc *d, const txn_jobs *js, const txn_result *r, char *buf, size_t len)
{
    const txn_failure *x = &r->f;
    size_t n = (size_t)snprintf(buf, len, "cycle %" PRIu64 ": %s", x->cycle, txn_kind_name(x->kind));
    if (x->stream >= 0 && n < len)
        n += (size_t)snprintf(buf + n, len - n, " on stream %s, beat %" PRIu64 " of layer %u",
                              d->streams[x->stream].name, x->beat, x->job + 1);
    if (x->kind == TXN_F_DATA && n < len) {
        FILE *m = fmemopen(buf + n, len - n, "w");
        if (m) {
            element_lines(m, d, js, r, 0, 1);
            fclose(m);
        }
        /* the element line, as one clause: ": y[...] (bits ...): expected ..., actual ..." */
        char *p = buf + n, *q = p;
        while (*q == ' ')
            q++;
        if (*q && p + 2 <= buf + len - 1) {
            memmove(p + 2, q, strlen(q) + 1 < (size_t)(buf + len - p - 2) ? strlen(q) + 1 : (size_t)(buf + len - p - 2));
            p[0] = ':', p[1] = ' ';
        }
        buf[len - 1] = '\0';
        for (p = buf + n; *p; p++)
            if (*p == '\n')
                *p = '\0';
    }
}

static void json_failure(FILE *f, const mpq_desc *d, const txn_jobs *js, const txn_result *r)
{
    const txn_failure *x = &r->f;
    fprintf(f, "  \"kind\": ");
    tb_json_str(f, txn_kind_name(x->kind));
    fprintf(f, ",\n  \"first_cycle\": %" PRIu64 ",\n  \"time\": %" PRIu64 ",\n  \"failures\": %u,\n  \"stream\": ",
            x->cycle, x->cycle * 10u, r->failures);
    tb_json_str(f, x->stream >= 0 ? d->streams[x->stream].name : "");
    fprintf(f, ",\n  \"layer\": %u,\n  \"beat\": %" PRIu64 ",\n  \"test_beat\": %" PRIu64 ",\n  \"value\": %" PRIu64
               ",\n  \"elements\": [", x->job + 1, x->beat, x->run_beat, x->value);
    if (x->kind == TXN_F_DATA)
        element_lines(f, d, js, r, 1, 64);
    fprintf(f, "],\n  \"layers\": [");
    for (unsigned j = 0; j < js->n; j++) {
        fprintf(f, "%s", j ? ", " : "");
        tb_json_str(f, js->job[j].source);
    }
    fprintf(f, "],\n  \"streams\": {");
    for (unsigned s = 0; s < d->nstreams; s++)
        fprintf(f, "%s\"%s\": {\"taken\": %" PRIu64 ", \"total\": %" PRIu64 "}", s ? ", " : "", d->streams[s].name,
                r->prog[s].taken, r->prog[s].total);
    fprintf(f, "},\n");
}

int txn_write_reports(const char *dir, const mpq_desc *d, const txn_jobs *js, const txn_result *r,
                      unsigned before, unsigned after)
{
    char tmp[1500], fin[1500];
    FILE *f = tb_open_tmp(dir, "report.txt", tmp, sizeof tmp, fin, sizeof fin);
    if (!f)
        return -1;
    txn_print_report(f, d, js, r);
    if (tb_close_tmp(f, tmp, fin) != 0 || !(f = tb_open_tmp(dir, "report.json", tmp, sizeof tmp, fin, sizeof fin)))
        return -1;
    fprintf(f, "{\n  \"test\": ");
    tb_json_str(f, r->name);
    fprintf(f, ",\n  \"status\": \"failed\",\n  \"dut\": ");
    tb_json_str(f, d->top);
    fprintf(f, ",\n  \"description\": ");
    tb_json_str(f, d->path);
    fprintf(f, ",\n");
    json_failure(f, d, js, r);
    fprintf(f, "  \"seed\": %" PRIu64 ",\n  \"p_valid\": %g,\n  \"p_ready\": %g,\n  \"cycles_run\": %" PRIu64
               ",\n  \"reproduce\": ", r->seed, r->p_valid, r->p_ready, r->cycles);
    tb_json_str(f, r->repro);
    uint64_t lo = r->f.cycle > before ? r->f.cycle - before : 0;
    /* file and gtkw are null when the waveform was not written (the note says why). */
    fprintf(f, ",\n  \"waveform\": {\"file\": %s, \"gtkw\": %s, \"first_cycle\": %" PRIu64
               ", \"last_cycle\": %" PRIu64 ", \"note\": ", r->have_wave ? "\"wave.fst\"" : "null",
            r->have_wave ? "\"wave.gtkw\"" : "null", lo, r->f.cycle + after);
    tb_json_str(f, r->trace_note);
    fprintf(f, "}\n}\n");
    return tb_close_tmp(f, tmp, fin);
}

/* One signal of the top in the save file: a bit, or a bus with its range. */
static void gtkw_port(FILE *f, const char *top, const char *name)
{
    int i = mpq_dut_port_find(name);
    if (i < 0)
        return;
    unsigned w = mpq_dut_ports()[i].width;
    if (w == 1)
        fprintf(f, "@28\n%s.%s\n", top, name);
    else
        fprintf(f, "@22\n%s.%s[%u:0]\n", top, name, w - 1);
}

int txn_write_gtkw(const char *dir, const mpq_desc *d, const txn_result *r, uint64_t c)
{
    char tmp[1500], fin[1500];
    FILE *f = tb_gtkw_open(dir, tmp, sizeof tmp, fin, sizeof fin, c, r->trace_lo,
                           "mpq transaction-level failure: %s at cycle %" PRIu64 " (time %" PRIu64
                           ")", r->name, c, c * 10u);
    if (!f)
        return -1;
    const char *t = mpq_dut_top_scope();
    fprintf(f, "@200\n-clock and reset\n");
    gtkw_port(f, t, d->ports[d->clock].name);
    gtkw_port(f, t, d->ports[d->reset].name);
    for (int out = 1; out >= 0; out--)
        for (unsigned s = 0; s < d->nstreams; s++) {
            const mpq_desc_stream *st = &d->streams[s];
            if (st->out != out)
                continue;
            fprintf(f, "@200\n-stream %s (%s)\n", st->name, out ? "out" : "in");
            int ports[] = {st->valid, st->ready, st->last, st->data};
            for (int k = 0; k < 4; k++)
                if (ports[k] >= 0)
                    gtkw_port(f, t, d->ports[ports[k]].name);
        }
    fprintf(f, "@200\n-status\n");
    for (unsigned i = 0; i < d->nports; i++)
        if (d->ports[i].role == MPQ_DR_FLAG && d->ports[i].out)
            gtkw_port(f, t, d->ports[i].name);
    return tb_close_tmp(f, tmp, fin);
}
