/* SPDX-License-Identifier: Apache-2.0 */
/* mpq_xp_model.c: a real model's per-layer (precision, mapping) points and their objectives
 * (mpq_xp_model.h). Never prints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"
#include "explore/mpq_xp_model.h"
#include "net/mpq_netrun.h"

/* The decomposition of precision p (tern + hp_n entries per group of KLanes channels). */
static mpq_map_decomp decomp_of(const mpq_hwcfg *hw, const mpq_xp_prec *p)
{
    mpq_map_decomp d = {.axis = MPQ_DECOMP_CHANNEL, .hp_n = p->hp_n, .group = hw->klanes, .thr = 0.7};
    return d;
}

/* Whether the driver maps q on hw (pack: mpq_map_opts.pack) and, if so, whether it packed. */
static int driver_maps(const mpq_hwcfg *hw, const mpq_qlayer *q, int pack, int *packed, char *why, size_t len)
{
    mpq_map_opts mo = {.pack = pack};
    mpq_map map;
    int rc = mpq_map_layer(hw, q, NULL, &mo, &map, why, len); /* the plan alone */
    if (rc == 0) {
        *packed = map.packed;
        mpq_map_free(&map);
    }
    return rc;
}

/* The least-energy legal mapping of layer L at precision index pi: plain_ok, pack_ok say
 * which of the unpacked and packed mappings the driver can run for its weights. */
static int best_mapping(const mpq_xpm *x, mpq_xpm_layer *L, unsigned pi, int plain_ok, int pack_ok)
{
    mpq_xpm_choice *c = &L->c[pi];
    size_t nm = mpq_xp_mappings(x->hw, &L->shape, NULL, 0);
    mpq_xp_map *maps = malloc((nm ? nm : 1) * sizeof *maps);
    if (!maps)
        return MPQ_ENOMEM;
    mpq_xp_mappings(x->hw, &L->shape, maps, nm);
    int found = 0;
    uint64_t fewest = UINT64_MAX;
    for (size_t i = 0; i < nm; i++) {
        if (maps[i].pack ? !pack_ok : !plain_ok)
            continue;
        mpq_xp_point pt = {x->prec[pi], maps[i]};
        mpq_xp_cost cost;
        if (mpq_xp_point_cost(x->hw, &L->shape, &pt, &cost) != 0)
            continue;
        double e = mpq_xp_energy_of(x->e, &cost);
        if (cost.cycles < fewest)
            fewest = cost.cycles;
        if (!found || e < c->energy_pj || (e == c->energy_pj && cost.cycles < c->cost.cycles)) {
            found = 1;
            c->map = maps[i];
            c->cost = cost;
            c->energy_pj = e;
        }
    }
    free(maps);
    c->held = found;
    if (!found)
        snprintf(c->why, sizeof c->why, "no legal mapping");
    c->trades = found && fewest < c->cost.cycles;
    return 0;
}

/* Layer L at precision index pi: its weights as the driver makes them (a tern precision: the
 * decomposition mpq_map_layer makes, grouped along the layout it plans), which of the plain
 * and packed layouts the driver runs them in, and the least-energy mapping among those. */
static int setup_choice(mpq_xpm *x, mpq_xpm_layer *L, unsigned pi)
{
    mpq_xpm_choice *c = &L->c[pi];
    const mpq_xp_prec *p = &x->prec[pi];
    const mpq_qlayer *q = &L->q;
    int packed = 0;
    if (p->tern) {
        mpq_map_decomp d = decomp_of(x->hw, p);
        mpq_map_opts mo = {.pack = 1, .decomp = &d};
        mpq_map map;
        if (mpq_map_layer(x->hw, &L->q, NULL, &mo, &map, c->why, sizeof c->why) != 0)
            return 0;
        c->dq = map.dq; /* the decomposed layer, taken over from the map */
        memset(&map.dq, 0, sizeof map.dq);
        mpq_map_free(&map);
        c->have_dq = 1;
        q = &c->dq.q;
    }
    char why[200];
    int plain_ok = driver_maps(x->hw, q, 0, &packed, c->why, sizeof c->why) == 0;
    int pack_ok = L->shape.s.kind != MPQ_LAYER_FC && driver_maps(x->hw, q, 2, &packed, why, sizeof why) == 0 &&
                  packed;
    if (!plain_ok && !pack_ok)
        return 0;
    return best_mapping(x, L, pi, plain_ok, pack_ok);
}

static void shape_text(const mpq_net_layer *NL, char *buf, size_t len)
{
    const mpq_conv_shape *s = &NL->s;
    if (NL->s.kind == MPQ_LAYER_FC)
        snprintf(buf, len, "fc %ux%u>%u", NL->m, NL->k, NL->n);
    else
        snprintf(buf, len, "%s %ux%ux%u>%ux%ux%u k%ux%u s%u", s->kind == MPQ_LAYER_DEPTHWISE ? "dw" : "conv2d",
                 s->in_h, s->in_w, s->in_c, s->out_h, s->out_w, s->out_c, s->kh, s->kw, s->sy);
}

/* Layer L of operator NL: its shape, the default mapping, every precision. */
static int setup_layer(mpq_xpm *x, mpq_xpm_layer *L, const mpq_net_layer *NL, char *err, size_t errlen)
{
    L->op = NL->op;
    L->code = NL->code;
    shape_text(NL, L->shape_text, sizeof L->shape_text);
    mpq_netrun_qlayer(NL, &L->q);
    mpq_layer_opts lo;
    mpq_layer_opts_shape(&lo, &NL->s, NL->m, NL->k, NL->n);
    char why[512];
    if (mpq_hw_layer_shape(&lo, &L->shape, why, sizeof why) != 0)
        return snprintf(err, errlen, "%s: op %u (%s): %s", x->m->file, NL->op, L->shape_text, why), MPQ_EPARAM;
    mpq_xp_map_default(x->hw, &L->shape, &L->map0);
    int rc = 0, any = 0;
    for (unsigned pi = 0; pi < x->np && !rc; pi++) {
        rc = setup_choice(x, L, pi);
        any |= L->c[pi].held;
    }
    if (rc)
        return snprintf(err, errlen, "out of memory"), rc;
    if (!any)
        return snprintf(err, errlen, "%s: op %u (%s): no searched precision runs on this configuration: %s",
                        x->m->file, NL->op, L->shape_text, L->c[0].why), MPQ_EPARAM;
    return 0;
}

/* The scratch buffers: the largest input and output of a layer. */
static int alloc_scratch(mpq_xpm *x)
{
    size_t in = 1, out = 1;
    for (unsigned i = 0; i < x->nl; i++) {
        mpq_net_layer NL;
        mpq_net_layer_get(x->net, x->l[i].op, &NL);
        size_t a = mpq_net_tensor_bytes(x->net, (unsigned)NL.in_tensor),
               b = mpq_net_tensor_bytes(x->net, (unsigned)NL.out_tensor);
        in = a > in ? a : in;
        out = b > out ? b : out;
    }
    x->x = malloc(in * sizeof *x->x);
    x->y = malloc(out * sizeof *x->y);
    x->t8 = malloc(in > out ? in : out);
    x->logits = malloc(x->fid->nlog ? x->fid->nlog : 1);
    return x->x && x->y && x->t8 && x->logits ? 0 : MPQ_ENOMEM;
}

int mpq_xpm_init(mpq_xpm *x, const mpq_tfl_model *m, mpq_net *net, const mpq_hwcfg *hw, const mpq_xp_energy *e,
                 const mpq_xp_prec *prec, unsigned np, const mpq_fid *fid, char *err, size_t errlen)
{
    memset(x, 0, sizeof *x);
    x->m = m;
    x->net = net;
    x->hw = hw;
    x->e = e;
    x->fid = fid;
    x->int8 = -1;
    if (np < 1 || np > MPQ_XPM_MAX_PRECS)
        return snprintf(err, errlen, "%u precisions (1..%d)", np, MPQ_XPM_MAX_PRECS), MPQ_EPARAM;
    mpq_xp_prec offered[80];
    unsigned no = mpq_xp_precisions(hw, offered, 80);
    for (unsigned i = 0; i < np; i++) {
        unsigned ok = 0;
        for (unsigned j = 0; j < no; j++)
            ok |= offered[j].tern == prec[i].tern && offered[j].hp_n == prec[i].hp_n;
        char ps[32];
        if (!ok)
            return snprintf(err, errlen, "precision %s is not offered by this configuration",
                            mpq_xp_prec_str(&prec[i], ps, sizeof ps)), MPQ_EPARAM;
        x->prec[i] = prec[i];
        if (!prec[i].tern)
            x->int8 = (int)i;
    }
    x->np = np;
    unsigned nops = mpq_net_ops(net);
    x->l = calloc(nops ? nops : 1, sizeof *x->l);
    if (!x->l)
        return snprintf(err, errlen, "out of memory"), MPQ_ENOMEM;
    for (unsigned op = 0; op < nops; op++) {
        mpq_net_layer NL;
        if (mpq_net_layer_get(net, op, &NL) != 0)
            continue;
        int rc = setup_layer(x, &x->l[x->nl++], &NL, err, errlen);
        if (rc)
            return rc;
    }
    if (!x->nl)
        return snprintf(err, errlen, "%s: no CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED layer", m->file),
               MPQ_EPARAM;
    if (alloc_scratch(x) != 0)
        return snprintf(err, errlen, "out of memory"), MPQ_ENOMEM;
    return 0;
}

void mpq_xpm_free(mpq_xpm *x)
{
    for (unsigned i = 0; i < x->nl; i++)
        for (unsigned pi = 0; pi < x->np; pi++)
            if (x->l[i].c[pi].have_dq)
                mpq_qdecomp_free(&x->l[i].c[pi].dq);
    free(x->l);
    free(x->x);
    free(x->y);
    free(x->t8);
    free(x->logits);
    memset(x, 0, sizeof *x);
}

void mpq_xpm_cost(const mpq_xpm *x, const uint8_t *p, int default_map, mpq_xpm_obj *o)
{
    memset(o, 0, sizeof *o);
    for (unsigned i = 0; i < x->nl; i++) {
        const mpq_xpm_layer *L = &x->l[i];
        mpq_xp_cost c = L->c[p[i]].cost;
        if (default_map) {
            mpq_xp_point pt = {x->prec[p[i]], L->map0};
            if (mpq_xp_point_cost(x->hw, &L->shape, &pt, &c) != 0)
                c = L->c[p[i]].cost;
        }
        o->cycles += (double)c.cycles;
        o->energy_pj += mpq_xp_energy_of(x->e, &c);
        o->weight_bits += c.hw_layers ? (double)c.weight_bits / (double)c.hw_layers : 0.0; /* one part's */
    }
}

/* Operator op's layer (index li) at the decomposed precision: its functional model on the
 * net's input tensor, the output written back. */
static int run_decomposed(mpq_xpm *x, unsigned li, const mpq_xpm_choice *c, char *err, size_t errlen)
{
    mpq_net_layer NL;
    mpq_net_layer_get(x->net, x->l[li].op, &NL);
    size_t nin = mpq_net_tensor_bytes(x->net, (unsigned)NL.in_tensor),
           nout = mpq_net_tensor_bytes(x->net, (unsigned)NL.out_tensor);
    mpq_net_tensor_get(x->net, (unsigned)NL.in_tensor, x->t8);
    for (size_t j = 0; j < nin; j++)
        x->x[j] = x->t8[j];
    char why[512];
    if (mpq_qlayer_expected(x->hw, &c->dq.q, x->x, x->y, why, sizeof why) != 0)
        return snprintf(err, errlen, "op %u: the decomposed layer: %s", NL.op, why), MPQ_EPARAM;
    for (size_t j = 0; j < nout; j++)
        x->t8[j] = (int8_t)x->y[j]; /* requantized and clamped to int8 by the layer */
    if (mpq_net_tensor_set(x->net, (unsigned)NL.out_tensor, x->t8, nout) != 0)
        return snprintf(err, errlen, "op %u: tensor %d cannot take the layer's output", NL.op, NL.out_tensor),
               MPQ_EPARAM;
    return 0;
}

/* Input k through the model with precision vector p; the logits into x->logits. */
static int run_input(mpq_xpm *x, const uint8_t *p, unsigned k, char *err, size_t errlen)
{
    if (mpq_fid_set_input(x->fid, k, err, errlen) != 0)
        return MPQ_EPARAM;
    unsigned li = 0;
    for (unsigned op = 0; op < mpq_net_ops(x->net); op++) {
        int rc;
        if (li < x->nl && x->l[li].op == op) {
            const mpq_xpm_choice *c = &x->l[li].c[p[li]];
            rc = c->have_dq ? run_decomposed(x, li, c, err, errlen) : mpq_net_run_op(x->net, op, err, errlen);
            li++;
        } else {
            rc = mpq_net_run_op(x->net, op, err, errlen);
        }
        if (rc)
            return MPQ_EPARAM;
    }
    if (mpq_net_tensor_get(x->net, (unsigned)x->fid->logits, x->logits) != 0)
        return snprintf(err, errlen, "the logits tensor %d was not computed", x->fid->logits), MPQ_EPARAM;
    return 0;
}

int mpq_xpm_eval(mpq_xpm *x, const uint8_t *p, mpq_xpm_obj *o, char *err, size_t errlen)
{
    for (unsigned i = 0; i < x->nl; i++)
        if (p[i] >= x->np || !x->l[i].c[p[i]].held)
            return snprintf(err, errlen, "op %u: precision index %u not held", x->l[i].op, p[i]), MPQ_EPARAM;
    mpq_xpm_cost(x, p, 0, o);
    for (unsigned k = 0; k < x->fid->count; k++) {
        int rc = run_input(x, p, k, err, errlen);
        if (rc)
            return rc;
        mpq_fid_add(x->fid, k, x->logits, &o->fid);
    }
    o->nsr = o->fid.sig > 0 ? o->fid.noise / o->fid.sig : o->fid.noise > 0 ? INFINITY : 0.0;
    x->evals++;
    return 0;
}
