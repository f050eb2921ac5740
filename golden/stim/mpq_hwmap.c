/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_hwmap.c: a layer's mapping onto hardware layers (mpq_hwmap.h): the bands of output
 * rows and columns, image chunks and packed taps a mapping cuts a layer into, the input
 * window each reads, the legality of a mapping and the mapspace. explore/ costs these parts,
 * stim/mpq_netmap.c builds and runs them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stim/mpq_hwmap.h"

/* ---- mappings: bands and parts ---- */

/* One band of one axis: output o0.., n of them; its input i0.., in_n of them (the last padr
 * explicit padding), p rows/columns of padding before it. */
typedef struct band {
    unsigned o0, n, i0, in_n, p, padr;
} band;

/* Band [o0, o0 + n) of an axis (in, k, stride st, dilation d, padding p, out): the input its
 * windows touch (stim/mpq_netmap.c's band of columns, for either axis). */
static void axis_band(unsigned in, unsigned k, unsigned st, unsigned d, unsigned p, unsigned out, unsigned o0,
                      unsigned n, band *bd)
{
    bd->o0 = o0;
    bd->n = n;
    if (o0 == 0 && n == out) {
        bd->i0 = 0;
        bd->in_n = in;
        bd->p = p;
        bd->padr = 0;
        return;
    }
    int64_t first = (int64_t)o0 * st - p, last = (int64_t)(o0 + n - 1) * st - p + (int64_t)(k - 1) * d;
    int64_t lo = first < 0 ? 0 : first, hi = last > (int64_t)in - 1 ? (int64_t)in - 1 : last;
    bd->i0 = (unsigned)lo;
    bd->in_n = (unsigned)(last - lo + 1);
    bd->p = (unsigned)(lo - first);
    bd->padr = (unsigned)(last - hi);
}

/* The base shape the bands cut: the layer, or its taps packed into channels (a thin conv2d:
 * mpq_hw_packed_shape; a depthwise layer, per tile: mpq_hw_dw_packed_shape). */
static void base_shape(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_xp_map *m, mpq_conv_shape *b)
{
    if (m->pack && l->s.kind == MPQ_LAYER_DEPTHWISE) {
        unsigned opg, nci, fp;
        mpq_hw_dw_packed_shape(hw, &l->s, &opg, &nci, &fp, b);
        return;
    }
    if (m->pack) {
        mpq_hw_packed_shape(&l->s, b);
        return;
    }
    *b = l->s;
    if (b->groups == 0)
        b->groups = 1;
}

static unsigned cdiv(unsigned a, unsigned b) { return (a + b - 1) / b; }

/* The part of base shape bs for image chunk (b0, nb), row band ry and column band rx. */
static void part_layer(const mpq_hw_layer *l, const mpq_conv_shape *bs, unsigned nb, const band *ry,
                       const band *rx, mpq_hw_layer *L)
{
    memset(L, 0, sizeof *L);
    L->s = *bs;
    L->s.batches = nb;
    L->s.out_h = ry->n;
    L->s.in_h = ry->in_n;
    L->s.py = ry->p;
    L->s.out_w = rx->n;
    L->s.in_w = rx->in_n;
    L->s.px = rx->p;
    L->n = l->n;
    L->acc_sat = l->acc_sat;
    L->m = nb * ry->n * rx->n;
    L->k = bs->kind == MPQ_LAYER_FC ? l->k : mpq_conv_depth(&L->s);
}

/* Whether the host may pack l's taps (stim/mpq_netmap.c's rule): a thin conv2d, or a depthwise
 * layer of more than one tap (the packed parts must still fit: mpq_xp_map_check). */
static int packable(const mpq_hwcfg *hw, const mpq_hw_layer *l)
{
    const mpq_conv_shape *s = &l->s;
    if (s->kind == MPQ_LAYER_DEPTHWISE)
        return s->kh * s->kw > 1 && s->in_c > 0 && s->out_c % s->in_c == 0;
    return s->kind == MPQ_LAYER_CONV2D && (s->groups <= 1) && s->in_c < hw->klanes && s->kh * s->kw > 1 &&
           (uint64_t)s->kh * s->kw * s->in_c <= hw->kmax;
}

static int same_band(const band *a, const band *b) { return a->n == b->n && a->in_n == b->in_n && a->p == b->p; }

/* The distinct band shapes of one axis cut into bands of `size` outputs and how often each
 * occurs (bands equal in shape cost the same: only those near the edges differ from the
 * interior ones) into u[] / mult[]. Returns their number, 0 when size is 0 or there are more
 * than max. */
static unsigned axis_distinct(unsigned in, unsigned k, unsigned st, unsigned d, unsigned p, unsigned out,
                              unsigned size, band *u, uint64_t *mult, unsigned max)
{
    unsigned nu = 0;
    if (!size)
        return 0;
    for (unsigned o = 0; o < out; o += size) {
        band bd;
        axis_band(in, k, st, d, p, out, o, out - o < size ? out - o : size, &bd);
        unsigned j = 0;
        while (j < nu && !same_band(&u[j], &bd))
            j++;
        if (j == nu) {
            if (nu == max)
                return 0;
            u[nu] = bd;
            mult[nu++] = 0;
        }
        mult[j]++;
    }
    return nu;
}

#define XP_DISTINCT_MAX 512u

/* Calls fn on every distinct part shape of m with its multiplicity; stops at fn's first
 * non-zero return, which it returns; -1 for a mapping out of range. */
int mpq_xp_part_shapes(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_xp_map *m, mpq_xp_part_fn fn, void *ctx)
{
    band uy[XP_DISTINCT_MAX], ux[XP_DISTINCT_MAX];
    uint64_t my[XP_DISTINCT_MAX], mx[XP_DISTINCT_MAX];
    mpq_conv_shape bs;
    base_shape(hw, l, m, &bs);
    unsigned B = bs.batches;
    if (!m->img || m->img > B)
        return -1;
    unsigned ky = axis_distinct(bs.in_h, bs.kh, bs.sy, bs.dy, bs.py, bs.out_h, m->bh, uy, my, XP_DISTINCT_MAX);
    unsigned kx = axis_distinct(bs.in_w, bs.kw, bs.sx, bs.dx, bs.px, bs.out_w, m->bw, ux, mx, XP_DISTINCT_MAX);
    if (!ky || !kx)
        return -1;
    unsigned sizes[2] = {m->img, B % m->img};
    uint64_t counts[2] = {B / m->img, 1};
    for (unsigned si = 0; si < 2; si++) {
        if (!sizes[si] || !counts[si])
            continue;
        for (unsigned a = 0; a < ky; a++)
            for (unsigned c = 0; c < kx; c++) {
                mpq_hw_layer L;
                part_layer(l, &bs, sizes[si], &uy[a], &ux[c], &L);
                int rc = fn(ctx, &L, counts[si] * my[a] * mx[c]);
                if (rc)
                    return rc;
            }
    }
    return 0;
}

/* The 16-bit and 8-bit fields of the configuration beat and the FC case, which
 * mpq_hw_conv_fits reads through a conv shape. */
static int part_check(const mpq_hwcfg *hw, const mpq_hw_layer *L, char *err, size_t errlen)
{
    if (L->s.kind == MPQ_LAYER_FC) {
        unsigned ns = cdiv(L->k, hw->klanes);
        if (L->k > hw->kmax || ns > hw->act_depth || L->m > 65535u || L->k > 65535u)
            return snprintf(err, errlen, "fc m=%u k=%u: the reduction exceeds KMax = %u, its slices the "
                            "ring, or m a 16-bit field", L->m, L->k, hw->kmax), MPQ_EPARAM;
        return 0;
    }
    if (mpq_conv_check(&L->s, err, errlen) != 0)
        return MPQ_EPARAM;
    return mpq_hw_conv_fits(hw, &L->s, err, errlen);
}

typedef struct check_ctx {
    const mpq_hwcfg *hw;
    char *err;
    size_t errlen;
} check_ctx;

static int check_fn(void *ctx, const mpq_hw_layer *L, uint64_t mult)
{
    check_ctx *c = ctx;
    (void)mult;
    return part_check(c->hw, L, c->err, c->errlen) ? MPQ_EPARAM : 0;
}

int mpq_xp_map_check(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_xp_map *m, char *err, size_t errlen)
{
    char spare[256], ms[96];
    if (!err) {
        err = spare;
        errlen = sizeof spare;
    }
    int fc = l->s.kind == MPQ_LAYER_FC;
    const char *why = NULL;
    if (m->order > MPQ_XP_CHANNELS_OUTER || m->pack > 1)
        why = "order is inner or outer, pack 0 or 1";
    else if (m->pack && !packable(hw, l))
        why = "pack=1: the host packs the taps of a conv2d without groups with fewer input channels than KLanes "
              "and more than one tap (their kh*kw*in_c within KMax), or of a depthwise layer of more than one tap";
    else if (fc && (m->img != 1 || m->bw != 1))
        why = "a fully-connected layer has img=1 and cols=1 (rows: rows of the matrix per part)";
    if (why)
        return snprintf(err, errlen, "mapping %s: %s", mpq_xp_map_str(m, ms, sizeof ms), why), MPQ_EPARAM;
    check_ctx c = {hw, err, errlen};
    int rc = mpq_xp_part_shapes(hw, l, m, check_fn, &c);
    if (rc == -1)
        return snprintf(err, errlen, "mapping %s: images, rows or columns per part out of range (1..the axis; at "
                        "most 512 distinct band shapes per axis)", mpq_xp_map_str(m, ms, sizeof ms)), MPQ_EPARAM;
    return rc;
}


unsigned mpq_xp_parts(const mpq_hwcfg *hw, const mpq_hw_layer *l, const mpq_xp_map *m, mpq_xp_part *parts,
                      unsigned max)
{
    mpq_conv_shape bs;
    base_shape(hw, l, m, &bs);
    unsigned n = 0;
    if (!m->img || !m->bh || !m->bw)
        return 0;
    for (unsigned b0 = 0; b0 < bs.batches; b0 += m->img)
        for (unsigned oy = 0; oy < bs.out_h; oy += m->bh)
            for (unsigned ox = 0; ox < bs.out_w; ox += m->bw, n++) {
                if (!parts || n >= max)
                    continue;
                mpq_xp_part *p = &parts[n];
                band ry, rx;
                axis_band(bs.in_h, bs.kh, bs.sy, bs.dy, bs.py, bs.out_h, oy,
                          bs.out_h - oy < m->bh ? bs.out_h - oy : m->bh, &ry);
                axis_band(bs.in_w, bs.kw, bs.sx, bs.dx, bs.px, bs.out_w, ox,
                          bs.out_w - ox < m->bw ? bs.out_w - ox : m->bw, &rx);
                unsigned nb = bs.batches - b0 < m->img ? bs.batches - b0 : m->img;
                part_layer(l, &bs, nb, &ry, &rx, &p->L);
                p->b0 = b0;
                p->oy0 = oy;
                p->ox0 = ox;
                p->iy0 = ry.i0;
                p->ix0 = rx.i0;
                p->padr_y = ry.padr;
                p->padr_x = rx.padr;
            }
    return n;
}

/* ---- the mapspace ---- */

/* The sizes of one axis of n: those that give distinct part counts, ceil(n/k) for k = 1..n
 * (the balanced cut for each count), or every size n..1 (all). */
static unsigned axis_sizes(unsigned n, int all, unsigned *out, unsigned max)
{
    unsigned k = 0, prev = 0;
    for (unsigned parts = 1; parts <= n && k < max; parts++) {
        unsigned sz = all ? n + 1 - parts : cdiv(n, parts);
        if (sz != prev)
            out[k++] = prev = sz;
    }
    return k;
}

void mpq_xp_map_default(const mpq_hwcfg *hw, const mpq_hw_layer *l, mpq_xp_map *m)
{
    *m = (mpq_xp_map){1, l->s.out_h, l->s.out_w, 0, MPQ_XP_CHANNELS_INNER};
    if (l->s.kind == MPQ_LAYER_FC) {
        m->bh = l->m;
        m->bw = 1;
        return;
    }
    m->img = l->s.batches;
    /* the fewest column bands that fit, balanced */
    for (unsigned parts = 1; parts <= l->s.out_w; parts++) {
        m->bw = cdiv(l->s.out_w, parts);
        if (mpq_xp_map_check(hw, l, m, NULL, 0) == 0)
            return;
    }
    *m = (mpq_xp_map){0, 0, 0, 0, MPQ_XP_CHANNELS_INNER};
}

/* The legal mappings with packing `pack` (appended to out from index n); returns the new n. */
static size_t mappings_packed(const mpq_hwcfg *hw, const mpq_hw_layer *l, int all, unsigned pack, unsigned *sz,
                              mpq_xp_map *out, size_t max, size_t n)
{
    int fc = l->s.kind == MPQ_LAYER_FC;
    mpq_xp_map m0 = {1, 1, 1, pack, 0};
    mpq_conv_shape bs;
    base_shape(hw, l, &m0, &bs);
    unsigned *si = sz, *sy = si + bs.batches, *sx = sy + bs.out_h;
    unsigned ni = fc ? 1 : axis_sizes(bs.batches, all, si, bs.batches);
    unsigned ny = axis_sizes(bs.out_h, all, sy, bs.out_h);
    unsigned nx = fc ? 1 : axis_sizes(bs.out_w, all, sx, bs.out_w);
    if (fc)
        si[0] = sx[0] = 1;
    for (unsigned a = 0; a < ni; a++)
        for (unsigned b = 0; b < ny; b++)
            for (unsigned c = 0; c < nx; c++) {
                mpq_xp_map m = {si[a], sy[b], sx[c], pack, 0};
                if (mpq_xp_map_check(hw, l, &m, NULL, 0) != 0)
                    continue;
                for (unsigned ord = 0; ord < 2; ord++, n++)
                    if (out && n < max) {
                        m.order = ord;
                        out[n] = m;
                    }
            }
    return n;
}

size_t mpq_xp_mappings_ex(const mpq_hwcfg *hw, const mpq_hw_layer *l, unsigned flags, mpq_xp_map *out, size_t max)
{
    /* room for the sizes of the three axes, packed or not (a packed layer's axes are the
     * output's, no longer than the input's plus padding) */
    size_t room = (size_t)l->s.batches + l->s.out_h + l->s.out_w + l->s.in_h + l->s.in_w + 3;
    unsigned *sz = malloc(room * sizeof *sz);
    size_t n = 0;
    if (!sz)
        return 0;
    for (unsigned pack = 0; pack <= (unsigned)packable(hw, l); pack++)
        n = mappings_packed(hw, l, (flags & MPQ_XP_ALL_SIZES) != 0, pack, sz, out, max, n);
    free(sz);
    return n;
}

size_t mpq_xp_mappings(const mpq_hwcfg *hw, const mpq_hw_layer *l, mpq_xp_map *out, size_t max)
{
    return mpq_xp_mappings_ex(hw, l, 0, out, max);
}
const char *mpq_xp_map_str(const mpq_xp_map *m, char *buf, size_t len)
{
    snprintf(buf, len, "img=%u rows=%u cols=%u pack=%u order=%s", m->img, m->bh, m->bw, m->pack,
             m->order ? "outer" : "inner");
    return buf;
}


void mpq_xp_map_whole(const mpq_hw_layer *l, mpq_xp_map *m)
{
    int fc = l->s.kind == MPQ_LAYER_FC;
    if (!m->img)
        m->img = fc ? 1 : l->s.batches;
    if (!m->bh)
        m->bh = fc ? l->m : l->s.out_h;
    if (!m->bw)
        m->bw = fc ? 1 : l->s.out_w;
}

/* One field "key=value" of mpq_xp_map_parse, n characters at f, into m (seen: the keys given). */
static int parse_field(const char *f, size_t n, mpq_xp_map *m, unsigned *seen, char *err, size_t errlen)
{
    static const char *const keys[] = {"img", "rows", "cols", "pack", "order"};
    const char *eq = memchr(f, '=', n);
    size_t kl = eq ? (size_t)(eq - f) : n, vl = eq ? n - kl - 1 : 0;
    unsigned k = 0;
    while (k < 5 && !(strlen(keys[k]) == kl && !strncmp(f, keys[k], kl)))
        k++;
    if (k == 5 || !eq || !vl)
        return snprintf(err, errlen, "`%.*s`: expected key=value with key img, rows, cols, pack or order",
                        (int)n, f), MPQ_EPARAM;
    if (*seen >> k & 1u)
        return snprintf(err, errlen, "`%.*s`: %s given twice", (int)n, f, keys[k]), MPQ_EPARAM;
    *seen |= 1u << k;
    const char *v = eq + 1;
    if (k == 4) {
        if (vl == 5 && !strncmp(v, "inner", 5))
            m->order = MPQ_XP_CHANNELS_INNER;
        else if (vl == 5 && !strncmp(v, "outer", 5))
            m->order = MPQ_XP_CHANNELS_OUTER;
        else
            return snprintf(err, errlen, "`%.*s`: order is inner or outer", (int)n, f), MPQ_EPARAM;
        return 0;
    }
    uint64_t x = 0;
    for (size_t i = 0; i < vl; i++) {
        if (v[i] < '0' || v[i] > '9' || x > 429496729u)
            return snprintf(err, errlen, "`%.*s`: %s is a number 0..4294967295", (int)n, f, keys[k]), MPQ_EPARAM;
        x = x * 10u + (uint64_t)(v[i] - '0');
    }
    if (x > UINT32_MAX || (k == 3 && x > 1))
        return snprintf(err, errlen, "`%.*s`: %s", (int)n, f, k == 3 ? "pack is 0 or 1" : "out of range"),
               MPQ_EPARAM;
    unsigned *dst[] = {&m->img, &m->bh, &m->bw, &m->pack};
    *dst[k] = (unsigned)x;
    return 0;
}

int mpq_xp_map_parse(const char *text, mpq_xp_map *m, char *err, size_t errlen)
{
    *m = (mpq_xp_map){0, 0, 0, 0, MPQ_XP_CHANNELS_INNER};
    unsigned seen = 0;
    const char *p = text;
    while (*p && *p != ',' && *p != ';') {
        if (*p == ' ' || *p == '/') {
            p++;
            continue;
        }
        size_t n = strcspn(p, " /,;");
        if (parse_field(p, n, m, &seen, err, errlen) != 0)
            return MPQ_EPARAM;
        p += n;
    }
    if (!seen)
        return snprintf(err, errlen, "an empty mapping: give key=value fields (img, rows, cols, pack, order) or "
                        "default"), MPQ_EPARAM;
    return 0;
}
