/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq-explore-net: the Pareto front of a network's per-layer (precision, mapping) points
 * (issue 29 items 3 and 4, docs/explore.md "The search"). The Fashion-MNIST CNN: cycles and
 * every count from golden/explore's closed form, energy from the energy-per-action table,
 * weight memory from the weight stream, accuracy from the golden model on test images (cached
 * per model, configuration, image count and precision list). Writes OUT/front.{tsv,json,md}.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mn_cli.h"
#include "xp_acc.h"
#include "xp_out.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: mpq-explore-net --config CFG.cfg --energy TABLE.tsv --model CNN.bin --out DIR\n"
               "         [--arch A] [--data DIR] [--images N] [--batch B] [--precisions P,P,..]\n"
               "Searches every per-layer (precision, mapping) point of the CNN on the configuration\n"
               "(exhaustive: per layer its non-dominated mappings, summed per precision vector) and\n"
               "writes the non-dominated set of (cycles, energy, weight memory, accuracy) per\n"
               "inference to DIR/front.tsv, front.json and front.md, with the baselines.\n"
               "  --images N       test images for the accuracy (default 10000)\n"
               "  --batch B        images per inference batch (the mapping's img knob; default 1)\n"
               "  --precisions     default tern+0hp,tern+1hp,tern+2hp,int8 (names of explore space)\n"
               "The accuracy of each precision vector is cached in DIR/accuracy-cache.tsv.\n"
               "Exit: 0, 2 usage or input error.\n");
}

typedef struct xp_opts {
    const char *cfg, *energy, *model, *arch, *precs;
    unsigned images, batch;
} xp_opts;

static int own_opt(void *ctx, int argc, char **argv, int *i)
{
    xp_opts *o = ctx;
    const char *a = argv[*i];
    unsigned long long v;
    if (*i + 1 >= argc)
        return 0;
    const char **s = !strcmp(a, "--config") ? &o->cfg : !strcmp(a, "--energy") ? &o->energy
                     : !strcmp(a, "--model") ? &o->model : !strcmp(a, "--arch") ? &o->arch
                     : !strcmp(a, "--precisions") ? &o->precs : NULL;
    if (s) {
        *s = argv[++*i];
        return 1;
    }
    if (!strcmp(a, "--images") || !strcmp(a, "--batch")) {
        if (mn_parse_u("mpq-explore-net", a, argv[++*i], 1, !strcmp(a, "--images") ? 10000 : 64, &v) != 0)
            return -1;
        *(a[2] == 'i' ? &o->images : &o->batch) = (unsigned)v;
        return 1;
    }
    return 0;
}

static int fail2(const char *what, const char *msg)
{
    fprintf(stderr, "mpq-explore-net: %s: %s\n", what, msg);
    return 2;
}

/* The precision names of list, each one hw offers, into n->prec. */
static int parse_precs(xp_net *n, const char *list)
{
    mpq_xp_prec all[XP_MAX_PRECS * 4];
    unsigned na = mpq_xp_precisions(n->hw, all, XP_MAX_PRECS * 4);
    char buf[256], name[32];
    snprintf(buf, sizeof buf, "%s", list);
    n->np = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        unsigned j = 0;
        while (j < na && strcmp(mpq_xp_prec_str(&all[j], name, sizeof name), tok))
            j++;
        if (j == na)
            return fprintf(stderr, "mpq-explore-net: --precisions: `%s` is not a precision this configuration "
                                   "offers (mpq-golden explore space lists them)\n", tok), 2;
        if (n->np == XP_MAX_PRECS)
            return fail2("--precisions", "too many");
        n->prec[n->np++] = all[j];
    }
    return n->np ? 0 : fail2("--precisions", "empty");
}

/* The MAC layers' shapes (batch images) of q, and mac_of. */
static int net_layers(xp_net *n, const mn_qnet *q, unsigned batch, xp_acc_in *ai)
{
    char err[512];
    n->nl = 0;
    for (unsigned l = 0; l < q->nl; l++) {
        const mn_qlayer *ql = &q->layer[l];
        ai->mac_of[l] = -1;
        if (ql->kind == MPQ_LAYER_MAXPOOL)
            continue;
        if (n->nl == XP_MAX_LAYERS)
            return fail2("--arch", "more MAC layers than the search takes (8)");
        mpq_layer_opts o;
        memset(&o, 0, sizeof o);
        o.shape = ql->s;
        o.shape.batches = batch;
        if (ql->s.out_h == 1 && ql->s.out_w == 1 && ql->s.kh == ql->s.in_h && ql->s.kw == ql->s.in_w) {
            memset(&o.shape, 0, sizeof o.shape); /* the classifier: a fully-connected layer */
            o.shape.kind = MPQ_LAYER_FC;
            o.m = batch, o.k = ql->k, o.n = ql->n;
        }
        if (mpq_hw_layer_shape(&o, &n->layer[n->nl], err, sizeof err) != 0)
            return fail2("layer shape", err);
        ai->mac_of[l] = (int)n->nl++;
    }
    return 0;
}

/* The quantized net at each precision of n (same calibration). */
static int quantize_all(const cnn_net *net, const float *amax, const xp_net *n, mn_qnet *q)
{
    char err[512];
    for (unsigned p = 0; p < n->np; p++) {
        mn_qspec s = {.scheme = MN_MIXED, .hp_n = n->prec[p].hp_n, .group = n->hw->klanes};
        if (!n->prec[p].tern)
            s = (mn_qspec){.scheme = MN_DENSE8};
        else if (!n->prec[p].hp_n)
            s = (mn_qspec){.scheme = MN_TERN};
        if (cnn_quantize(net, amax, &s, &q[p], err, sizeof err) != 0)
            return fail2("quantize", err);
    }
    return 0;
}

/* Every vector's accuracy: from the cache, else computed (and cached). */
static int accuracies(const xp_acc_in *ai, const mn_set *test, unsigned images, const char *key, const char *out,
                      size_t nv, double *acc)
{
    char path[1200], err[512];
    snprintf(path, sizeof path, "%s/accuracy-cache.tsv", out);
    unsigned char *have = calloc(nv, 1);
    int32_t *x = NULL;
    int rc = 0;
    if (!have)
        return fail2("accuracy", "out of memory");
    if (xp_cache_read(path, key, nv, acc, have)) {
        printf("accuracy: %zu precision vectors from the cache %s\n", nv, path);
    } else if (!(x = malloc((size_t)images * ai->in_size * sizeof *x))) {
        rc = fail2("accuracy", "out of memory");
    } else {
        double t0 = mn_now_s();
        for (unsigned i = 0; i < images; i++)
            mn_input(&test->images[(size_t)i * ai->in_size], ai->in_size, &x[(size_t)i * ai->in_size]);
        if (xp_acc_eval(ai, x, test->labels, images, acc, err, sizeof err) != 0 ||
            xp_cache_write(path, key, nv, acc, err, sizeof err) != 0)
            rc = fail2("accuracy", err);
        else
            printf("accuracy: %zu precision vectors on %u test images, golden model, %.1f s (cached in %s)\n", nv,
                   images, mn_now_s() - t0, path);
    }
    free(x);
    free(have);
    return rc;
}

static cnn_net net;
static mn_set train_set, test_set;
static mn_qnet qn[XP_MAX_PRECS];
static void cleanup(void)
{
    cnn_free(&net);
    mn_free(&train_set);
    mn_free(&test_set);
    for (unsigned p = 0; p < XP_MAX_PRECS; p++)
        if (qn[p].nl)
            mn_qnet_free(&qn[p]);
}

/* The configuration and the energy table (hw and e live in the caller). */
static int load_inputs(const xp_opts *xo, mpq_hwcfg *hw, mpq_xp_energy *e, char *cfgname, size_t len)
{
    char err[512];
    const char *base = strrchr(xo->cfg, '/');
    snprintf(cfgname, len, "%s", base ? base + 1 : xo->cfg);
    char *dot = strstr(cfgname, ".cfg");
    if (dot)
        *dot = 0;
    if (mpq_hwcfg_load(xo->cfg, hw, err, sizeof err) != 0)
        return fail2("--config", err);
    if (mpq_xp_energy_load(xo->energy, cfgname, e, err, sizeof err) != 0)
        return fail2("--energy", err);
    if (cnn_init(&net, xo->arch, 1, err, sizeof err) != 0) /* a bad architecture before the file */
        return fail2("--arch", err);
    cnn_net loaded;
    if (cnn_load(&loaded, xo->model, xo->arch, err, sizeof err) != 0)
        return fail2("--model", err);
    cnn_free(&net);
    net = loaded;
    return 0;
}

int main(int argc, char **argv)
{
    mn_opts o = {.data = MN_DATA_DIR, .out = NULL, .seed = 1, .epochs = 6};
    xp_opts xo = {.arch = CNN_DEFAULT_ARCH, .precs = "tern+0hp,tern+1hp,tern+2hp,int8", .images = 10000, .batch = 1};
    int r = mn_parse_opts("mpq-explore-net", argc, argv, &o, usage, own_opt, &xo);
    if (r != 0)
        return r == 1 ? 0 : 2;
    if (!xo.cfg || !xo.energy || !xo.model || !o.out)
        return usage(stderr), fail2("options", "--config, --energy, --model and --out are required");
    atexit(cleanup);
    mpq_hwcfg hw;
    mpq_xp_energy e;
    char cfgname[256];
    if ((r = load_inputs(&xo, &hw, &e, cfgname, sizeof cfgname)) != 0)
        return r;
    xp_net n = {.hw = &hw, .e = &e, .images = xo.batch};
    xp_acc_in ai = {.q = qn, .acc_bits = hw.acc_bits, .group = hw.klanes, .in_size = 28 * 28};
    if ((r = parse_precs(&n, xo.precs)) != 0)
        return r;
    ai.np = n.np;
    if (mn_load_sets("mpq-explore-net", &o, &train_set, &test_set) != 0)
        return 2;
    if (mkdir(o.out, 0777) != 0 && errno != EEXIST)
        return fail2(o.out, strerror(errno));
    float amax[CNN_MAX_LAYERS];
    cnn_calibrate(&net, &train_set, 2000, amax);
    if ((r = quantize_all(&net, amax, &n, qn)) != 0 || (r = net_layers(&n, &qn[0], xo.batch, &ai)) != 0)
        return r;
    size_t nv = 1;
    for (unsigned l = 0; l < n.nl; l++)
        if ((nv *= n.np) > 4096)
            return fail2("--precisions", "more than 4096 precision vectors; give fewer precisions");
    int ok;
    uint64_t h = xp_fnv1a_file(xo.model, &ok);
    char key[400];
    snprintf(key, sizeof key, "%016llx/%s/%s/%u/%s", (unsigned long long)h, cfgname, xo.arch, xo.images, xo.precs);
    double *acc = calloc(nv, sizeof *acc);
    if (!acc)
        return fail2("search", "out of memory");
    r = accuracies(&ai, &test_set, xo.images < test_set.n ? xo.images : test_set.n, key, o.out, nv, acc);
    xp_report rep = {.n = &n, .acc = acc, .nv = nv, .out = o.out, .cfg = cfgname, .images = xo.images};
    if (r == 0)
        r = xp_report_write(&rep);
    free(acc);
    return r;
}
