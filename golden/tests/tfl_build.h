/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tfl_build.h: a tiny flatbuffer builder and .tflite model builder for the tests and the
 * fuzz seed corpus (test code only: the library only reads).
 *
 * Flatbuffers are built back to front, as the reference builder does: every object is
 * prepended, its "ref" is its distance from the end of the buffer, and an offset field holds
 * the distance forward to its target. Tables get their vtable written just before them.
 * Values are written little-endian byte by byte.
 */
#ifndef MPQ_TFL_BUILD_H
#define MPQ_TFL_BUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct fbb {
    uint8_t *buf;      /* the data is buf[cap - len, cap) */
    size_t cap, len;
    size_t table_start; /* len when the current table started */
    unsigned nf;
    struct {
        unsigned id, size;
        uint8_t bytes[8];
        int is_ref;
        uint32_t target;
        size_t at;      /* ref of the written field */
    } f[32];
} fbb;

static void fb_init(fbb *b)
{
    memset(b, 0, sizeof *b);
}

static void fb_free(fbb *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}

/* Prepends n bytes (NULL: zeros). */
static void fb_put(fbb *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n > cap)
            cap *= 2;
        uint8_t *nb = malloc(cap);
        if (!nb)
            abort();
        if (b->len)
            memcpy(nb + cap - b->len, b->buf + b->cap - b->len, b->len);
        free(b->buf);
        b->buf = nb;
        b->cap = cap;
    }
    b->len += n;
    if (p)
        memcpy(b->buf + b->cap - b->len, p, n);
    else
        memset(b->buf + b->cap - b->len, 0, n);
}

/* Pads so that after `extra` more bytes the length is a multiple of `align`. */
static void fb_align(fbb *b, size_t align, size_t extra)
{
    while ((b->len + extra) % align)
        fb_put(b, NULL, 1);
}

static void fb_le(uint8_t *out, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

static void fb_put_le(fbb *b, uint64_t v, unsigned n)
{
    uint8_t t[8];
    fb_le(t, v, n);
    fb_put(b, t, n);
}

/* A vector of n elements of `size` bytes, get(v, i) each (little-endian); returns its ref. */
static uint32_t fb_vec(fbb *b, const void *v, uint32_t n, unsigned size, uint64_t (*get)(const void *, uint32_t))
{
    fb_align(b, size > 4 ? size : 4, (size_t)n * size);
    for (uint32_t i = n; i-- > 0;)
        fb_put_le(b, get(v, i), size);
    fb_put_le(b, n, 4);
    return (uint32_t)b->len;
}

static uint64_t fb_i32_at(const void *v, uint32_t i) { return (uint32_t)((const int32_t *)v)[i]; }
static uint64_t fb_i64_at(const void *v, uint32_t i) { return (uint64_t)((const int64_t *)v)[i]; }
static uint64_t fb_f32_at(const void *v, uint32_t i)
{
    uint32_t u;
    memcpy(&u, (const float *)v + i, 4);
    return u;
}

static uint32_t fb_vec_i32(fbb *b, const int32_t *v, uint32_t n) { return fb_vec(b, v, n, 4, fb_i32_at); }
static uint32_t fb_vec_f32(fbb *b, const float *v, uint32_t n) { return fb_vec(b, v, n, 4, fb_f32_at); }
static uint32_t fb_vec_i64(fbb *b, const int64_t *v, uint32_t n) { return fb_vec(b, v, n, 8, fb_i64_at); }

static uint32_t fb_vec_bytes(fbb *b, const uint8_t *v, uint32_t n)
{
    fb_align(b, 16, n);
    fb_put(b, v, n);
    fb_align(b, 4, 4);
    fb_put_le(b, n, 4);
    return (uint32_t)b->len;
}

static uint32_t fb_string(fbb *b, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    fb_align(b, 4, n + 1 + 4);
    fb_put(b, NULL, 1);
    fb_put(b, s, n);
    fb_put_le(b, n, 4);
    return (uint32_t)b->len;
}

/* A vector of offsets to the objects refs[0..n). */
static uint32_t fb_vec_refs(fbb *b, const uint32_t *refs, uint32_t n)
{
    fb_align(b, 4, (size_t)n * 4 + 4);
    for (uint32_t i = n; i-- > 0;) {
        size_t at = b->len + 4;
        fb_put_le(b, at - refs[i], 4);
    }
    fb_put_le(b, n, 4);
    return (uint32_t)b->len;
}

static void fb_start(fbb *b)
{
    b->nf = 0;
}

static void fb_field(fbb *b, unsigned id, uint64_t v, unsigned size)
{
    b->f[b->nf].id = id;
    b->f[b->nf].size = size;
    b->f[b->nf].is_ref = 0;
    fb_le(b->f[b->nf].bytes, v, size);
    b->nf++;
}

static void fb_add_ref(fbb *b, unsigned id, uint32_t ref)
{
    b->f[b->nf].id = id;
    b->f[b->nf].size = 4;
    b->f[b->nf].is_ref = 1;
    b->f[b->nf].target = ref;
    b->nf++;
}

static void fb_add_f32(fbb *b, unsigned id, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    fb_field(b, id, u, 4);
}

/* Writes the table's fields (largest first), its vtable; returns the table's ref. */
static uint32_t fb_end(fbb *b)
{
    fb_align(b, 4, 0);
    size_t start = b->len;
    unsigned maxid = 0;
    for (unsigned pass = 8; pass >= 1; pass /= 2)
        for (unsigned i = 0; i < b->nf; i++) {
            if (b->f[i].size != pass)
                continue;
            fb_align(b, pass, pass);
            if (b->f[i].is_ref)
                fb_put_le(b, b->len + 4 - b->f[i].target, 4);
            else
                fb_put(b, b->f[i].bytes, pass);
            b->f[i].at = b->len;
            maxid = b->f[i].id > maxid ? b->f[i].id : maxid;
        }
    fb_align(b, 4, 4);
    fb_put(b, NULL, 4); /* soffset, patched below */
    size_t table = b->len;
    unsigned nslots = b->nf ? maxid + 1 : 0;
    size_t vtlen = 4 + 2 * (size_t)nslots;
    uint8_t vt[4 + 2 * 64] = {0};
    fb_le(vt, vtlen, 2);
    fb_le(vt + 2, table - start, 2);
    for (unsigned i = 0; i < b->nf; i++)
        fb_le(vt + 4 + 2 * b->f[i].id, table - b->f[i].at, 2);
    fb_put(b, vt, vtlen);
    size_t vtable = b->len;
    fb_le(b->buf + b->cap - table, (uint32_t)(int32_t)(vtable - table), 4);
    return (uint32_t)table;
}

/* The finished buffer (caller frees): root offset, the file identifier, the objects. */
static uint8_t *fb_finish(fbb *b, uint32_t root, const char *ident, size_t *len)
{
    fb_align(b, 8, 8);
    fb_put(b, ident, 4);
    fb_put(b, NULL, 4);
    fb_le(b->buf + b->cap - b->len, b->len - root, 4);
    uint8_t *out = malloc(b->len);
    memcpy(out, b->buf + b->cap - b->len, b->len);
    *len = b->len;
    return out;
}

/* ---- .tflite models ---- */

enum { TB_I8 = 1, TB_I32 = 4, TB_F32 = 5, TB_U8 = 6 }; /* option field kinds (their sizes) */

typedef struct tb_tensor {
    int type;
    unsigned rank;
    int32_t shape[8];
    const void *data;  /* constant contents (little-endian bytes), or NULL */
    size_t size;
    unsigned nq;       /* quantization entries (0: none) */
    float scale[64];
    int64_t zp[64];
    int qdim;
    const char *name;
} tb_tensor;

typedef struct tb_op {
    int code;
    unsigned nin, nout;
    int in[8], out[4];
    int opt_type;
    unsigned nopt;
    struct {
        unsigned id, kind;
        double v;
    } opt[8];
} tb_op;

typedef struct tb_model {
    unsigned nt, nops, nin, nout;
    tb_tensor t[48];
    tb_op op[24];
    int in[4], out[4];
    uint32_t version; /* 0: 3 */
} tb_model;

/* The model as a .tflite file (caller frees). Buffer 0 is the empty buffer; each constant
 * tensor gets its own. */
static uint8_t *tb_build(const tb_model *m, size_t *len)
{
    fbb b;
    fb_init(&b);
    /* operator codes: one per distinct code */
    int codes[24];
    unsigned ncodes = 0, opcode_of[24];
    for (unsigned i = 0; i < m->nops; i++) {
        unsigned j = 0;
        while (j < ncodes && codes[j] != m->op[i].code)
            j++;
        if (j == ncodes)
            codes[ncodes++] = m->op[i].code;
        opcode_of[i] = j;
    }
    uint32_t code_refs[24];
    for (unsigned j = 0; j < ncodes; j++) {
        fb_start(&b);
        fb_field(&b, 0, (uint64_t)(codes[j] < 127 ? codes[j] : 127), 1);
        fb_field(&b, 2, 1, 4);
        fb_field(&b, 3, (uint32_t)codes[j], 4);
        code_refs[j] = fb_end(&b);
    }
    /* buffers */
    uint32_t buf_refs[49];
    unsigned nbuf = 0, buffer_of[48];
    fb_start(&b);
    buf_refs[nbuf++] = fb_end(&b);
    for (unsigned i = 0; i < m->nt; i++) {
        buffer_of[i] = 0;
        if (!m->t[i].data)
            continue;
        uint32_t d = fb_vec_bytes(&b, m->t[i].data, (uint32_t)m->t[i].size);
        fb_start(&b);
        fb_add_ref(&b, 0, d);
        buffer_of[i] = nbuf;
        buf_refs[nbuf++] = fb_end(&b);
    }
    /* tensors */
    uint32_t t_refs[48];
    for (unsigned i = 0; i < m->nt; i++) {
        const tb_tensor *t = &m->t[i];
        uint32_t shape = fb_vec_i32(&b, t->shape, t->rank);
        uint32_t name = fb_string(&b, t->name ? t->name : "t");
        uint32_t q = 0;
        if (t->nq) {
            uint32_t sc = fb_vec_f32(&b, t->scale, t->nq), zp = fb_vec_i64(&b, t->zp, t->nq);
            fb_start(&b);
            fb_add_ref(&b, 2, sc);
            fb_add_ref(&b, 3, zp);
            fb_field(&b, 6, (uint32_t)t->qdim, 4);
            q = fb_end(&b);
        }
        fb_start(&b);
        fb_add_ref(&b, 0, shape);
        fb_field(&b, 1, (uint64_t)(uint8_t)t->type, 1);
        fb_field(&b, 2, buffer_of[i], 4);
        fb_add_ref(&b, 3, name);
        if (q)
            fb_add_ref(&b, 4, q);
        t_refs[i] = fb_end(&b);
    }
    /* operators */
    uint32_t op_refs[24];
    for (unsigned i = 0; i < m->nops; i++) {
        const tb_op *o = &m->op[i];
        uint32_t ins = fb_vec_i32(&b, o->in, o->nin), outs = fb_vec_i32(&b, o->out, o->nout);
        uint32_t opts = 0;
        if (o->opt_type) {
            fb_start(&b);
            for (unsigned k = 0; k < o->nopt; k++) {
                if (o->opt[k].kind == TB_F32)
                    fb_add_f32(&b, o->opt[k].id, (float)o->opt[k].v);
                else
                    fb_field(&b, o->opt[k].id, (uint64_t)(int64_t)o->opt[k].v,
                             o->opt[k].kind == TB_I32 ? 4 : 1);
            }
            opts = fb_end(&b);
        }
        fb_start(&b);
        fb_field(&b, 0, opcode_of[i], 4);
        fb_add_ref(&b, 1, ins);
        fb_add_ref(&b, 2, outs);
        if (opts) {
            fb_field(&b, 3, (uint64_t)o->opt_type, 1);
            fb_add_ref(&b, 4, opts);
        }
        op_refs[i] = fb_end(&b);
    }
    uint32_t tv = fb_vec_refs(&b, t_refs, m->nt), ov = fb_vec_refs(&b, op_refs, m->nops);
    uint32_t iv = fb_vec_i32(&b, m->in, m->nin), outv = fb_vec_i32(&b, m->out, m->nout);
    fb_start(&b);
    fb_add_ref(&b, 0, tv);
    fb_add_ref(&b, 1, iv);
    fb_add_ref(&b, 2, outv);
    fb_add_ref(&b, 3, ov);
    uint32_t sg = fb_end(&b);
    uint32_t sgv = fb_vec_refs(&b, &sg, 1);
    uint32_t cv = fb_vec_refs(&b, code_refs, ncodes), bv = fb_vec_refs(&b, buf_refs, nbuf);
    uint32_t desc = fb_string(&b, "mpq test model");
    fb_start(&b);
    fb_field(&b, 0, m->version ? m->version : 3, 4);
    fb_add_ref(&b, 1, cv);
    fb_add_ref(&b, 2, sgv);
    fb_add_ref(&b, 3, desc);
    fb_add_ref(&b, 4, bv);
    uint32_t root = fb_end(&b);
    uint8_t *out = fb_finish(&b, root, "TFL3", len);
    fb_free(&b);
    return out;
}

/* Helpers to fill a tb_model. */
static int tb_tensor_add(tb_model *m, int type, unsigned rank, const int32_t *shape, float scale,
                         int64_t zp)
{
    tb_tensor *t = &m->t[m->nt];
    memset(t, 0, sizeof *t);
    t->type = type;
    t->rank = rank;
    memcpy(t->shape, shape, rank * sizeof *shape);
    if (scale > 0) {
        t->nq = 1;
        t->scale[0] = scale;
        t->zp[0] = zp;
    }
    return (int)m->nt++;
}

static tb_op *tb_op_add(tb_model *m, int code, int opt_type)
{
    tb_op *o = &m->op[m->nops++];
    memset(o, 0, sizeof *o);
    o->code = code;
    o->opt_type = opt_type;
    return o;
}

static void tb_opt(tb_op *o, unsigned id, unsigned kind, double v)
{
    o->opt[o->nopt].id = id;
    o->opt[o->nopt].kind = kind;
    o->opt[o->nopt].v = v;
    o->nopt++;
}

#endif
