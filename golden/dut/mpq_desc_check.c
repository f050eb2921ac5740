/* SPDX-License-Identifier: Apache-2.0 */
/* mpq_desc_check.c: a description's beat layouts against the tensors they carry, and a
 * description against the Verilated model's ports (mpq_desc.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dut/mpq_desc.h"

__attribute__((format(printf, 5, 6))) static int refuse(char *err, size_t errlen, const char *path, unsigned line,
                                                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mpq_verror(err, errlen, path, line, fmt, ap);
    va_end(ap);
    return MPQ_EFORMAT;
}

/* The bits a tensor's values need: the arith widths; 32 for bias and mult (int32, Q31); 6 for
 * shift (-31..30). */
static unsigned tensor_bits(const mpq_desc *d, mpq_tensor t)
{
    switch (t) {
    case MPQ_T_X: return d->in_bits;
    case MPQ_T_W: return d->w_bits;
    case MPQ_T_Y: return d->out_bits;
    case MPQ_T_SHIFT: return 6;
    case MPQ_T_BIAS: case MPQ_T_MULT: case MPQ_T_COUNT: break;
    }
    return 32;
}

/* An item's element width and count per beat, defaults filled in and checked. */
static int item_fit(mpq_desc *d, mpq_desc_item *it, char *err, size_t errlen)
{
    const mpq_desc_stream *st = &d->streams[it->stream];
    unsigned need = 1;
    for (unsigned i = 0; i < it->ntensors; i++) {
        unsigned b = tensor_bits(d, it->tensor[i]);
        need = b > need ? b : need;
    }
    if (!it->bits)
        it->bits = it->order == MPQ_ORD_FIELDS ? (st->width < 32 ? st->width : 32) : need;
    if (it->bits < need)
        return refuse(err, errlen, d->path, it->line,
                      "beats on stream %s: %u-bit elements do not hold %s's %u-bit values", st->name, it->bits,
                      mpq_tensor_name(it->tensor[0]), need);
    if (it->bits > st->width)
        return refuse(err, errlen, d->path, it->line, "beats on stream %s: a %u-bit element does not fit its %u-bit "
                      "data port %s", st->name, it->bits, st->width, d->ports[st->data].name);
    if (!it->per_beat)
        it->per_beat = st->width / it->bits;
    if ((uint64_t)it->per_beat * it->bits > st->width)
        return refuse(err, errlen, d->path, it->line, "beats on stream %s: %u elements of %u bits do not fit the "
                      "%u-bit data port %s", st->name, it->per_beat, it->bits, st->width, d->ports[st->data].name);
    if (it->last != MPQ_LAST_ITEM && st->last < 0)
        return refuse(err, errlen, d->path, it->line, "beats on stream %s: last= needs a last port (the stream has "
                      "none)", st->name);
    return 0;
}

/* Input tensors on input streams, y on an output stream, each tensor once (bias at most). */
static int layout_covers(mpq_desc *d, char *err, size_t errlen)
{
    unsigned seen[MPQ_T_COUNT] = {0}, line[MPQ_T_COUNT] = {0};
    for (unsigned i = 0; i < d->nitems; i++) {
        mpq_desc_item *it = &d->items[i];
        const mpq_desc_stream *st = &d->streams[it->stream];
        for (unsigned k = 0; k < it->ntensors; k++) {
            mpq_tensor t = it->tensor[k];
            if ((t == MPQ_T_Y) != st->out)
                return refuse(err, errlen, d->path, it->line, "beats: tensor %s goes %s the DUT, but stream %s is an "
                              "%s stream", mpq_tensor_name(t), t == MPQ_T_Y ? "out of" : "into", st->name,
                              st->out ? "output" : "input");
            if (seen[t]++)
                return refuse(err, errlen, d->path, it->line, "beats: tensor %s is carried twice (also on line %u)",
                              mpq_tensor_name(t), line[t]);
            line[t] = it->line;
        }
        if (it->order == MPQ_ORD_FIELDS && st->out)
            return refuse(err, errlen, d->path, it->line, "beats: fields go into the DUT; stream %s is an output "
                          "stream", st->name);
        if (item_fit(d, it, err, errlen))
            return MPQ_EFORMAT;
    }
    static const mpq_tensor needed[] = {MPQ_T_X, MPQ_T_W, MPQ_T_MULT, MPQ_T_SHIFT, MPQ_T_Y};
    for (unsigned i = 0; i < sizeof needed / sizeof needed[0]; i++)
        if (!seen[needed[i]])
            return refuse(err, errlen, d->path, d->dut_line, "the beat layout does not cover the layer: no `beats` "
                          "line carries tensor %s (%s)", mpq_tensor_name(needed[i]),
                          needed[i] == MPQ_T_Y ? "the output, on an output stream" : "an input");
    return 0;
}

int mpq_desc_check_layout(mpq_desc *d, char *err, size_t errlen)
{
    for (unsigned s = 0; s < d->nstreams; s++) {
        const mpq_desc_stream *st = &d->streams[s];
        if (st->valid < 0)
            return refuse(err, errlen, d->path, st->line, "stream %s has no valid port", st->name);
        if (d->codec == MPQ_CODEC_LAYOUT && st->nitems == 0)
            return refuse(err, errlen, d->path, st->line, "stream %s: no `beats %s ...` line says what it carries",
                          st->name, st->name);
    }
    if (d->codec == MPQ_CODEC_LAYOUT)
        return layout_covers(d, err, errlen);
    /* codec mpq: the golden library makes the beats of mpq's contract (docs/timing.md). */
    static const char *const names[] = {"cfg", "wgt", "act", "out"};
    for (unsigned i = 0; i < 4; i++) {
        int s = mpq_desc_stream_find(d, names[i]);
        if (s < 0 || d->streams[s].out != (i == 3))
            return refuse(err, errlen, d->path, d->dut_line, "codec mpq needs the %s stream %s", i == 3 ? "output"
                          : "input", names[i]);
    }
    if (d->nitems)
        return refuse(err, errlen, d->path, d->items[0].line, "codec mpq makes the beats itself: no `beats` lines");
    return 0;
}

/* ---- the Verilated model ---------------------------------------------------------------------- */
/* One declaration "VL_IN8(&name,msb,lsb);" or "VL_OUTW(&name,msb,lsb,words);" (the & is absent
 * in older releases): 1 with *p filled, 0 when the line declares no port, -1 malformed. */
static int model_line(const char *s, mpq_model_port *p)
{
    while (*s == ' ' || *s == '\t')
        s++;
    int out;
    if (!strncmp(s, "VL_IN", 5))
        out = 0, s += 5;
    else if (!strncmp(s, "VL_OUT", 6))
        out = 1, s += 6;
    else
        return 0;
    if (!strncmp(s, "OUT", 3)) /* VL_INOUT */
        return -1;
    while (*s && *s != '(')
        s++;
    if (*s++ != '(')
        return -1;
    if (*s == '&')
        s++;
    size_t n = 0;
    while (s[n] && s[n] != ',' && n + 1 < sizeof p->name)
        n++;
    if (s[n] != ',' || n == 0)
        return -1;
    memcpy(p->name, s, n);
    p->name[n] = '\0';
    long msb, lsb;
    if (sscanf(s + n, ",%ld,%ld", &msb, &lsb) != 2 || msb < lsb || lsb < 0)
        return -1;
    p->out = out;
    p->width = (unsigned)(msb - lsb + 1);
    return 1;
}

int mpq_model_ports_parse(const char *text, const char *path, mpq_model_port **ports, size_t *n,
                          char *err, size_t errlen)
{
    *ports = NULL;
    *n = 0;
    size_t cap = 0;
    unsigned line = 0;
    for (const char *s = text; s && *s;) {
        const char *nl = strchr(s, '\n');
        char buf[512];
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), s);
        line++;
        s = nl ? nl + 1 : NULL;
        mpq_model_port p;
        int rc = model_line(buf, &p);
        if (rc == 0)
            continue;
        if (rc < 0) {
            free(*ports);
            *ports = NULL;
            *n = 0;
            return refuse(err, errlen, path, line, "a port declaration mpq does not understand (inout ports are not "
                          "supported): %.80s", buf);
        }
        if (*n == cap) {
            mpq_model_port *g = mpq_grow(*ports, &cap, sizeof *g);
            if (!g) {
                *ports = NULL;
                *n = 0;
                snprintf(err, errlen, "%s: out of memory", path);
                return MPQ_ENOMEM;
            }
            *ports = g;
        }
        (*ports)[(*n)++] = p;
    }
    if (*n == 0)
        return refuse(err, errlen, path, 0, "no port declarations (VL_IN..., VL_OUT...): not a Verilated model's "
                      "header");
    return 0;
}

int mpq_model_ports_load(const char *path, mpq_model_port **ports, size_t *n, char *err, size_t errlen)
{
    *ports = NULL;
    *n = 0;
    char *buf;
    size_t len;
    /* A read that fails part way parses what it read: nothing read is "empty". */
    int rc = mpq_read_whole(path, 1, &buf, &len, err, errlen);
    if (rc)
        return rc;
    if (!buf) {
        snprintf(err, errlen, "%s: empty", path);
        return MPQ_EFORMAT;
    }
    rc = mpq_model_ports_parse(buf, path, ports, n, err, errlen);
    free(buf);
    return rc;
}

int mpq_desc_check_model(const mpq_desc *d, int b, const mpq_model_port *mp, size_t n,
                         const char *model_path, char *err, size_t errlen)
{
    for (unsigned i = 0; i < d->nports; i++) {
        const mpq_desc_port *q = &d->ports[i];
        if (!(q->builds >> b & 1u))
            continue;
        size_t k = 0;
        while (k < n && strcmp(mp[k].name, q->name))
            k++;
        if (k == n)
            return refuse(err, errlen, d->path, q->line, "port %s: the Verilated model of %s (%s build, %s) has no "
                          "such port", q->name, d->wrapper_top[b] ? d->wrapper_top[b] : d->top, mpq_build_name(b),
                          model_path);
        if (mp[k].out != q->out)
            return refuse(err, errlen, d->path, q->line, "port %s: an %s here, an %s of the Verilated model (%s)",
                          q->name, q->out ? "output" : "input", mp[k].out ? "output" : "input", model_path);
        if (mp[k].width != q->width)
            return refuse(err, errlen, d->path, q->line, "port %s: %u bits here, %u bits in the Verilated model (%s)",
                          q->name, q->width, mp[k].width, model_path);
    }
    if (d->wrapper_top[b])
        return 0; /* the wrapper's own inputs are the testbench's: driven by name */
    for (size_t k = 0; k < n; k++) {
        int i = mpq_desc_port_find(d, mp[k].name);
        if (!mp[k].out && (i < 0 || !(d->ports[i].builds >> b & 1u)))
            return refuse(err, errlen, d->path, d->dut_line, "port %s: an input of the Verilated model (%s) that "
                          "the description does not drive (describe it: `port %s in %u value=V`)", mp[k].name,
                          model_path, mp[k].name, mp[k].width);
    }
    return 0;
}
