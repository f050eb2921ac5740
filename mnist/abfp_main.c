/* SPDX-License-Identifier: Apache-2.0 */
/* mpq-abfp: the Fashion-MNIST MLP and CNN on analog matrix units in ABFP (make abfp;
 * docs/abfp.md). Every matrix layer runs on the emulated array (golden/arith/mpq_abfp.h),
 * everything else in float.
 *   --eval: one configuration (the ABFP options below) on both networks: accuracy, and per
 *     layer the ADC's saturated share and the SQNR against the float layer;
 *   default: the study. Tables to stdout and OUT/abfp.md, data to OUT/abfp-*.tsv (plotted by
 *     scripts/abfp-plot.sh), and the noise fine-tuning of the CNN (DNF against noise-aware QAT).
 * Gains are chosen on validation images (the last --val-count training images), accuracies
 * measured on test images. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "abfp.h"
#include "mn_cli.h"

static const char *prog = "mpq-abfp";
static mn_set train_set, test_set, val_set;
static mn_mlp mlp;
static cnn_net cnn, cnn_ft;
static void cleanup(void)
{
    mn_mlp_free(&mlp);
    cnn_free(&cnn);
    cnn_free(&cnn_ft);
    mn_free(&train_set);
    mn_free(&test_set);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mpq-abfp --mlp FILE --cnn FILE [--data DIR] [--out DIR] [--eval] [options]\n"
            "The Fashion-MNIST MLP and CNN with every matrix layer on an emulated analog array in\n"
            "adaptive block floating point (ABFP), the rest in float: one configuration (--eval) or the\n"
            "study (default; tables in OUT/abfp.md, data in OUT/abfp-*.tsv).\n"
            "  --mlp FILE, --cnn FILE  the trained float models (make mnist / make cnn cache them)\n"
            "  --data DIR     the IDX files (default " MN_DATA_DIR ")\n"
            "  --out DIR      results (default build/abfp)\n"
            "  --test-count N   test images of the headline (default 10000)\n"
            "  --sweep-count N  test images of each sweep point and fine-tuning evaluation (default 2000)\n"
            "  --val-count N    validation images choosing the gains: the last N training images (default 1000)\n"
            "  --quick        a smoke test: few images, few points, a short fine-tuning\n"
            "  --no-finetune  skip the fine-tuning; --finetune-only: only the fine-tuning\n"
            "  --dnf-calib N  DNF: training images whose differences are sampled (default 200)\n"
            "  --dnf-refresh N  DNF: measure them again every N training images (default 5000)\n"
            "  --ft-images N  fine-tuning images of each method (default 20000), --ft-every N (default 2000)\n"
            "The matrix unit (--eval's configuration; the fine-tuning's with --ft-...):\n"
            "  --n N          tile width, 1..65536 (default 128)\n"
            "  --bits B       weight and input mantissa bits, 2..16 (default 8); --bw B, --bx B each\n"
            "  --bout B       ADC bits, 2..24 (default 8)\n"
            "  --gain G       amplification before the ADC, (0, 65536] (default 1)\n"
            "  --noise S      Gaussian noise at the ADC input, standard deviation in ADC steps (default 0)\n"
            "  --noise-seed S of the noise (default 1; each layer adds its index)\n"
            "  --round R, --adc-round R  floor|zero|half_up|half_down|half_away|half_even (default half_even)\n"
            "  --scale S      tile (ABFP) | channel | tensor (fixed point, static input scales)\n"
            "  --ft-n N, --ft-bits B, --ft-bout B, --ft-gain G, --ft-noise S, ...  the fine-tuning's array\n"
            "                 (default n 128, 8 bits, 8-bit ADC, gain 4, noise 1 step)\n"
            "Exit: 0 done, 2 bad arguments or input (the message names the option).\n");
}

typedef struct opts {
    const char *mlp, *cnn;
    unsigned test_count, sweep_count, val_count;
    int eval, no_ft, ft_only;
    unsigned dnf_calib;
    unsigned long long dnf_refresh;
    unsigned long long ft_images, ft_every;
    mpq_abfp p, ft;
} opts;

/* The matrix unit's options: --NAME sets mpq_abfp_set's parameter (--noise-seed: "seed";
 * --seed is the training seed of the shared options). */
static const char *const abfp_opts[][2] = {
    {"n", "n"},         {"bits", "bits"},   {"bw", "bw"},       {"bx", "bx"},
    {"bout", "bout"},   {"gain", "gain"},   {"noise", "noise"}, {"noise-seed", "seed"},
    {"round", "round"}, {"adc-round", "adc-round"}, {"scale", "scale"},
};

static int own(void *ctx, int argc, char **argv, int *i)
{
    opts *o = ctx;
    const char *a = argv[*i];
    char err[256];
    unsigned long long v;
    if (!strcmp(a, "--eval")) {
        o->eval = 1;
        return 1;
    }
    if (!strcmp(a, "--no-finetune")) {
        o->no_ft = 1;
        return 1;
    }
    if (!strcmp(a, "--finetune-only")) {
        o->ft_only = 1;
        return 1;
    }
    if (*i + 1 >= argc)
        return 0;
    const char *val = argv[*i + 1];
    for (unsigned k = 0; k < sizeof abfp_opts / sizeof abfp_opts[0]; k++) {
        int ft = !strncmp(a, "--ft-", 5) && !strcmp(a + 5, abfp_opts[k][0]);
        if (!ft && !(a[0] == '-' && a[1] == '-' && !strcmp(a + 2, abfp_opts[k][0])))
            continue;
        if (mpq_abfp_set(ft ? &o->ft : &o->p, abfp_opts[k][1], val, err, sizeof err) != 0) {
            /* err starts with the parameter's name: say the option instead. */
            const char *why = strchr(err, ':');
            fprintf(stderr, "%s: %s%s%s\n", prog, ft ? "--ft-" : "--", abfp_opts[k][0], why ? why : err);
            return -1;
        }
        ++*i;
        return 1;
    }
    if (!strcmp(a, "--mlp"))
        o->mlp = val;
    else if (!strcmp(a, "--cnn"))
        o->cnn = val;
    else if (!strcmp(a, "--test-count") || !strcmp(a, "--sweep-count") || !strcmp(a, "--val-count")) {
        if (mn_parse_u(prog, a, val, 1, 10000, &v) != 0)
            return -1;
        *(a[2] == 't' ? &o->test_count : a[2] == 's' ? &o->sweep_count : &o->val_count) = (unsigned)v;
    } else if (!strcmp(a, "--dnf-calib")) {
        if (mn_parse_u(prog, a, val, 1, 60000, &v) != 0)
            return -1;
        o->dnf_calib = (unsigned)v;
    } else if (!strcmp(a, "--dnf-refresh")) {
        if (mn_parse_u(prog, a, val, 32, 600000, &v) != 0)
            return -1;
        o->dnf_refresh = v;
    } else if (!strcmp(a, "--ft-images") || !strcmp(a, "--ft-every")) {
        if (mn_parse_u(prog, a, val, 32, 600000, &v) != 0)
            return -1;
        *(a[5] == 'i' ? &o->ft_images : &o->ft_every) = v;
    } else
        return 0;
    ++*i;
    return 1;
}

/* ---- Output: stdout and the markdown file ---- */
static FILE *md;
static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    va_start(ap, fmt);
    vfprintf(md, fmt, ap);
    va_end(ap);
    fflush(stdout);
}

static char err[1024];
static int eval(abfp_net *an, const mn_set *s, unsigned count, int sqnr, abfp_eval *ev)
{
    if (abfp_net_eval(an, s, 0, count, sqnr, 0, ev, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        exit(2);
    }
    return 0;
}

static const float gains[] = {1, 2, 4, 8, 16};
enum { NGAINS = 5 };
/* --quick: the gain of best_gain chosen among 1, 4, 16 only. */
static int quick_gains;

/* The gain of {1..16}, one for every layer, with the best validation accuracy (the first on
 * ties); then the accuracy on `count` test images. */
static float best_gain(abfp_net *an, const mpq_abfp *base, unsigned count, double *acc)
{
    float best = 1;
    double bacc = -1;
    abfp_eval ev;
    for (unsigned g = 0; g < NGAINS; g += quick_gains ? 2 : 1) {
        mpq_abfp p = *base;
        p.gain = gains[g];
        abfp_net_set(an, &p);
        eval(an, &val_set, val_set.n, 0, &ev);
        if (ev.acc > bacc) {
            bacc = ev.acc;
            best = gains[g];
        }
    }
    mpq_abfp p = *base;
    p.gain = best;
    abfp_net_set(an, &p);
    eval(an, &test_set, count, 0, &ev);
    *acc = ev.acc;
    return best;
}

static FILE *tsv_open(const char *outdir, const char *name, char *tmp, size_t tmplen)
{
    snprintf(tmp, tmplen, "%s/%s.tmp", outdir, name);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "%s: cannot write %s\n", prog, tmp);
        exit(2);
    }
    return f;
}
static void tsv_close(FILE *f, const char *tmp)
{
    char path[1100];
    snprintf(path, sizeof path, "%s", tmp);
    path[strlen(path) - 4] = 0;
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "%s: cannot write %s\n", prog, path);
        exit(2);
    }
}

static const char *net_name(const abfp_net *an) { return an->mlp ? "MLP" : "CNN"; }

/* The layer's short name: fc1, conv3 (its position in the network). */
static void layer_short(const abfp_net *an, unsigned l, char *buf, size_t len)
{
    snprintf(buf, len, "%s%u", an->mlp || l + 1 == an->nl ? "fc" : "conv", l + 1);
}

static void layer_names(const abfp_net *an, unsigned l, char *buf, size_t len)
{
    if (an->mlp)
        snprintf(buf, len, "fc%u %u->%u", l + 1, an->mlp->dim[l], an->mlp->dim[l + 1]);
    else {
        const mpq_conv_shape *s = &an->cnn->layer[l].s;
        snprintf(buf, len, "%s%u k=%u", l + 1 == an->nl ? "fc" : "conv", l + 1, mpq_conv_depth(s));
    }
}

/* The study's state, shared by its sections. */
static opts O;
static mn_opts MO;
static abfp_net nets[2];
static mpq_abfp base;          /* n 128, 8-bit mantissas and ADC, gain 1, no noise */
static double facc[2];         /* float accuracy on the sweep images */
static float lgain[2][ABFP_MAX_LAYERS]; /* each layer's best gain (study_layers) */
static const unsigned bits[] = {4, 6, 8};

/* 1. The float networks on the same code path. */
static void study_float(void)
{
    abfp_eval ev;
    out("## Float reference\n\n| network | float32, %u test images | float32, %u test images |\n|---|---|---|\n",
        O.test_count, O.sweep_count);
    for (unsigned k = 0; k < 2; k++) {
        abfp_eval fs;
        abfp_net_eval(&nets[k], &test_set, 0, O.test_count, 0, 1, &ev, err, sizeof err);
        abfp_net_eval(&nets[k], &test_set, 0, O.sweep_count, 0, 1, &fs, err, sizeof err);
        facc[k] = fs.acc;
        out("| %s | %.2f%% | %.2f%% |\n", net_name(&nets[k]), 100 * ev.acc, 100 * fs.acc);
    }

}

/* 2. Tile width x mantissa bits, 8-bit ADC, the best uniform gain. */
static void study_n(void)
{
    static const unsigned ns[] = {8, 16, 32, 64, 128, 256};
    unsigned nns = MO.quick ? 2 : 6;
    const unsigned *nsel = MO.quick ? (const unsigned[]){16, 128} : ns;
    char tmp[1100];
    FILE *f = tsv_open(MO.out, "abfp-n.tsv", tmp, sizeof tmp);
    fprintf(f, "# net\tn\tbits\tgain\taccuracy\n");
    out("\n## Tile width and mantissa bits\n\nAccuracy on %u test images, b_w = b_x as the column, 8-bit ADC, "
        "the gain of {1, 2, 4, 8, 16} best on the %u validation images in brackets (float: MLP %.2f%%, CNN %.2f%%):\n\n"
        "| network | n | 4 bits | 6 bits | 8 bits |\n|---|---|---|---|---|\n",
        O.sweep_count, O.val_count, 100 * facc[0], 100 * facc[1]);
    for (unsigned k = 0; k < 2; k++)
        for (unsigned a = 0; a < nns; a++) {
            out("| %s | %u |", net_name(&nets[k]), nsel[a]);
            for (unsigned b = 0; b < 3; b++) {
                mpq_abfp p = base;
                p.n = nsel[a];
                p.bw = p.bx = bits[b];
                double acc;
                float g = best_gain(&nets[k], &p, O.sweep_count, &acc);
                out(" %.2f%% (%g) |", 100 * acc, (double)g);
                fprintf(f, "%s\t%u\t%u\t%g\t%.4f\n", net_name(&nets[k]), nsel[a], bits[b], (double)g, 100 * acc);
            }
            out("\n");
        }
    tsv_close(f, tmp);

}

/* 3. ADC bits x gain at n = 128, 8-bit mantissas. */
static void study_gain(void)
{
    abfp_eval ev;
    char tmp[1100];
    FILE *f = tsv_open(MO.out, "abfp-gain.tsv", tmp, sizeof tmp);
    fprintf(f, "# net\tbout\tgain\taccuracy\tsaturated_share\n");
    out("\n## ADC bits and gain\n\nAccuracy on %u test images at n = 128, b_w = b_x = 8; in brackets the share of "
        "ADC conversions that saturate (all layers):\n\n| network | b_out | G = 1 | G = 2 | G = 4 | G = 8 | G = 16 |\n"
        "|---|---|---|---|---|---|---|\n",
        O.sweep_count);
    for (unsigned k = 0; k < 2; k++)
        for (unsigned bo = 6; bo <= 10; bo += MO.quick ? 2 : 1) {
            out("| %s | %u |", net_name(&nets[k]), bo);
            for (unsigned g = 0; g < NGAINS; g++) {
                mpq_abfp p = base;
                p.bout = bo;
                p.gain = gains[g];
                abfp_net_set(&nets[k], &p);
                eval(&nets[k], &test_set, O.sweep_count, 0, &ev);
                uint64_t conv = 0, sat = 0;
                for (unsigned l = 0; l < nets[k].nl; l++) {
                    conv += ev.st[l].conversions;
                    sat += ev.st[l].saturated;
                }
                double share = conv ? (double)sat / (double)conv : 0;
                out(" %.2f%% (%.2f%%) |", 100 * ev.acc, 100 * share);
                fprintf(f, "%s\t%u\t%g\t%.4f\t%.6f\n", net_name(&nets[k]), bo, (double)gains[g], 100 * ev.acc, 100 * share);
            }
            out("\n");
        }
    tsv_close(f, tmp);

}

/* 4. ABFP against fixed point on the same array. */
static void study_formats(void)
{
    char tmp[1100];
    FILE *f = tsv_open(MO.out, "abfp-formats.tsv", tmp, sizeof tmp);
    fprintf(f, "# net\tbits\tscale\tgain\taccuracy\n");
    out("\n## ABFP against fixed point\n\nThe same array (n = 128, 8-bit ADC) with the scales per tile (ABFP), per "
        "output channel (weights; inputs per tensor, calibrated) or per tensor (both), the gain best on validation in "
        "brackets; accuracy on %u test images:\n\n| network | b_w = b_x | ABFP (per tile) | fixed point, per channel | "
        "fixed point, per tensor |\n|---|---|---|---|---|\n",
        O.sweep_count);
    for (unsigned k = 0; k < 2; k++)
        for (unsigned b = 0; b < 3; b++) {
            out("| %s | %u |", net_name(&nets[k]), bits[b]);
            for (unsigned sc = 0; sc < MPQ_ABFP_SCALE_COUNT; sc++) {
                mpq_abfp p = base;
                p.bw = p.bx = bits[b];
                p.scale = (mpq_abfp_scale)sc;
                double acc;
                float g = best_gain(&nets[k], &p, O.sweep_count, &acc);
                out(" %.2f%% (%g) |", 100 * acc, (double)g);
                fprintf(f, "%s\t%u\t%s\t%g\t%.4f\n", net_name(&nets[k]), bits[b], mpq_abfp_scale_name(p.scale),
                        (double)g, 100 * acc);
            }
            out("\n");
        }
    tsv_close(f, tmp);

}

/* 5. The gain of each layer: saturation against resolution. */
static void study_layers(void)
{
    abfp_eval ev;
    char tmp[1100];
    FILE *f = tsv_open(MO.out, "abfp-layer.tsv", tmp, sizeof tmp);
    fprintf(f, "# net\tlayer\tgain\tsaturated_share\tsqnr_db\n");
    static const float lgains[] = {1, 2, 4, 8, 16, 32, 64, 128};
    const unsigned nlg = MO.quick ? 4 : 8;
    out("\n## The best gain of each layer\n\nn = 128, 8-bit mantissas and ADC. Each layer's gain alone varied (the "
        "others at 1), on the %u validation images: the share of that layer's ADC conversions that saturate, and the "
        "SQNR of its outputs against the float layer on the same inputs. The best gain maximizes the SQNR:\n\n"
        "| network | layer |",
        O.val_count);
    for (unsigned g = 0; g < nlg; g++)
        out(" G = %g |", (double)lgains[g]);
    out(" best |\n|---|---|");
    for (unsigned g = 0; g <= nlg; g++)
        out("---|");
    out("\n");
    for (unsigned k = 0; k < 2; k++) {
        abfp_net *an = &nets[k];
        for (unsigned l = 0; l < an->nl; l++) {
            lgain[k][l] = 1;
            if (!abfp_net_is_matrix(an, l))
                continue;
            char name[64], sname[16];
            layer_names(an, l, name, sizeof name);
            layer_short(an, l, sname, sizeof sname);
            out("| %s | %s |", net_name(an), name);
            double bs = -INFINITY;
            for (unsigned g = 0; g < nlg; g++) {
                abfp_net_set(an, &base);
                an->p[l].gain = lgains[g];
                eval(an, &val_set, val_set.n, 1, &ev);
                double share = (double)ev.st[l].saturated / (double)(ev.st[l].conversions ? ev.st[l].conversions : 1);
                out(" %.2f%%, %.1f dB |", 100 * share, ev.sqnr_db[l]);
                fprintf(f, "%s\t%s\t%g\t%.6f\t%.3f\n", net_name(an), sname, (double)lgains[g], 100 * share, ev.sqnr_db[l]);
                if (ev.sqnr_db[l] > bs) {
                    bs = ev.sqnr_db[l];
                    lgain[k][l] = lgains[g];
                }
            }
            out(" %g |\n", (double)lgain[k][l]);
        }
    }
    tsv_close(f, tmp);

}

/* 6. The headline: 8-bit mantissas and ADC, per-layer gains, every test image. */
static void study_headline(void)
{
    out("\n## Headline: 8-bit inputs, weights and outputs\n\nn = 128, b_w = b_x = b_out = 8, on %u test images:\n\n"
        "| network | float32 | ABFP, G = 1 | ABFP, best gain per layer | difference to float |\n|---|---|---|---|---|\n",
        O.test_count);
    for (unsigned k = 0; k < 2; k++) {
        abfp_net *an = &nets[k];
        abfp_eval fl, g1, gl;
        abfp_net_eval(an, &test_set, 0, O.test_count, 0, 1, &fl, err, sizeof err);
        abfp_net_set(an, &base);
        eval(an, &test_set, O.test_count, 0, &g1);
        for (unsigned l = 0; l < an->nl; l++)
            an->p[l].gain = lgain[k][l];
        eval(an, &test_set, O.test_count, 0, &gl);
        out("| %s | %.2f%% | %.2f%% | %.2f%% | %+.2f points |\n", net_name(an), 100 * fl.acc, 100 * g1.acc, 100 * gl.acc,
            100 * (gl.acc - fl.acc));
    }

}

/* 7. Noise. */
static void study_noise(void)
{
    abfp_eval ev;
    char tmp[1100];
    static const double noises[] = {0, 0.5, 1, 2, 4, 8};
    FILE *f = tsv_open(MO.out, "abfp-noise.tsv", tmp, sizeof tmp);
    fprintf(f, "# net\tnoise\tacc_g1\tacc_layer_gains\n");
    out("\n## Noise\n\nGaussian noise at the ADC input (standard deviation in ADC steps), n = 128, 8-bit mantissas and "
        "ADC, accuracy on %u test images with gain 1 and with each layer's best gain (above):\n\n"
        "| network | noise (steps) | G = 1 | best gain per layer |\n|---|---|---|---|\n",
        O.sweep_count);
    for (unsigned k = 0; k < 2; k++)
        for (unsigned s = 0; s < (MO.quick ? 3u : 6u); s++) {
            abfp_net *an = &nets[k];
            mpq_abfp p = base;
            p.noise = noises[s];
            abfp_net_set(an, &p);
            abfp_eval e1;
            eval(an, &test_set, O.sweep_count, 0, &e1);
            for (unsigned l = 0; l < an->nl; l++)
                an->p[l].gain = lgain[k][l];
            eval(an, &test_set, O.sweep_count, 0, &ev);
            out("| %s | %g | %.2f%% | %.2f%% |\n", net_name(an), noises[s], 100 * e1.acc, 100 * ev.acc);
            fprintf(f, "%s\t%g\t%.4f\t%.4f\n", net_name(an), noises[s], 100 * e1.acc, 100 * ev.acc);
        }
    tsv_close(f, tmp);
}

/* 8. Noise fine-tuning of the CNN: QAT and DNF from the float CNN, the same images. */
static void study_finetune(void)
{
    char tmp[1100];
    if (!O.no_ft) {
        FILE *f = tsv_open(MO.out, "abfp-finetune.tsv", tmp, sizeof tmp);
        fprintf(f, "# method\timages\tcpu_s\taccuracy\n");
        out("\n## Noise fine-tuning of the CNN\n\nThe array: n = %u, b_w = %u, b_x = %u, b_out = %u, G = %g, noise %g "
            "ADC steps. Both methods start from the float CNN and fine-tune on %llu training images (Adam, learning rate "
            "2e-4, batch 32, the same order); accuracy under the array on %u test images (the same noise draws at every "
            "evaluation), CPU seconds of fine-tuning (evaluations excluded):\n\n",
            O.ft.n, O.ft.bw, O.ft.bx, O.ft.bout, (double)O.ft.gain, O.ft.noise, O.ft_images, O.sweep_count);
        abfp_ft_point pts[2][400];
        unsigned np[2] = {0, 0};
        for (unsigned m = 0; m < 2; m++) {
            if (cnn_load(&cnn_ft, O.cnn, NULL, err, sizeof err) != 0) {
                fprintf(stderr, "%s: %s\n", prog, err);
                exit(2);
            }
            abfp_net an = nets[1];
            abfp_net_set(&an, &O.ft);
            abfp_ft_opts fo = {
                .mode = m == 0 ? ABFP_FT_QAT : ABFP_FT_DNF, .images = O.ft_images, .every = O.ft_every,
                .lr = 2e-4f, .seed = 7, .dnf_calib = MO.quick ? 16 : O.dnf_calib,
                .dnf_refresh = MO.quick ? 128 : O.dnf_refresh,
                .eval_set = &test_set, .eval_first = 0, .eval_count = O.sweep_count,
            };
            if (abfp_finetune(&an, &cnn_ft, &train_set, &fo, pts[m], 400, &np[m], err, sizeof err) != 0) {
                fprintf(stderr, "%s: fine-tuning: %s\n", prog, err);
                exit(2);
            }
            cnn_free(&cnn_ft);
            for (unsigned i = 0; i < np[m]; i++) {
                fprintf(f, "%s\t%llu\t%.3f\t%.4f\n", m == 0 ? "QAT" : "DNF", pts[m][i].images, pts[m][i].train_secs,
                        100 * pts[m][i].acc);
                printf("%s: %llu images, %.1f s, %.2f%%\n", m == 0 ? "QAT" : "DNF", pts[m][i].images,
                       pts[m][i].train_secs, 100 * pts[m][i].acc);
            }
        }
        tsv_close(f, tmp);
        /* Time to reach a target: the lower of the two best accuracies. */
        double best[2] = {0, 0};
        for (unsigned m = 0; m < 2; m++)
            for (unsigned i = 0; i < np[m]; i++)
                best[m] = pts[m][i].acc > best[m] ? pts[m][i].acc : best[m];
        double target = best[0] < best[1] ? best[0] : best[1];
        out("| method | before | after %llu images | recovered | best | CPU s per 1,000 images (of which measuring "
            "differences) | CPU s to reach %.2f%% |\n|---|---|---|---|---|---|---|\n",
            O.ft_images, 100 * target);
        for (unsigned m = 0; m < 2; m++) {
            double t_reach = -1;
            for (unsigned i = 0; i < np[m] && t_reach < 0; i++)
                if (pts[m][i].acc >= target)
                    t_reach = pts[m][i].train_secs;
            const abfp_ft_point *a = &pts[m][0], *z = &pts[m][np[m] - 1];
            out("| %s | %.2f%% | %.2f%% | %+.2f points | %.2f%% | %.2f (%.2f) | %.1f |\n",
                m == 0 ? "noise-aware QAT" : "DNF", 100 * a->acc, 100 * z->acc, 100 * (z->acc - a->acc), 100 * best[m],
                z->images ? 1000.0 * z->train_secs / (double)z->images : 0.0,
                z->images ? 1000.0 * z->measure_secs / (double)z->images : 0.0, t_reach);
        }
    }
}

/* --eval: one configuration on both networks, with per-layer statistics. */
static void eval_one(void)
{
    abfp_eval ev, fl;
    for (unsigned k = 0; k < 2; k++) {
        abfp_net *an = &nets[k];
        abfp_net_set(an, &O.p);
        eval(an, &test_set, O.test_count, 1, &ev);
        abfp_net_eval(an, &test_set, 0, O.test_count, 0, 1, &fl, err, sizeof err);
        printf("%s: n %u, bw %u, bx %u, bout %u, gain %g, noise %g, seed %llu, scale %s: accuracy %.2f%% (float "
               "%.2f%%) on %u test images, outputs hash %016llx, %.2f s\n",
               net_name(an), O.p.n, O.p.bw, O.p.bx, O.p.bout, (double)O.p.gain, O.p.noise,
               (unsigned long long)O.p.seed, mpq_abfp_scale_name(O.p.scale), 100 * ev.acc, 100 * fl.acc,
               O.test_count, (unsigned long long)ev.out_hash, ev.secs);
        for (unsigned l = 0; l < an->nl; l++) {
            if (!abfp_net_is_matrix(an, l))
                continue;
            char name[64];
            layer_names(an, l, name, sizeof name);
            printf("  layer %-14s conversions %llu, saturated %.3f%%, SQNR %.1f dB\n", name,
                   (unsigned long long)ev.st[l].conversions,
                   100.0 * (double)ev.st[l].saturated / (double)(ev.st[l].conversions ? ev.st[l].conversions : 1),
                   ev.sqnr_db[l]);
        }
    }
}

/* The options, the data and the models; returns 0 to go on, else the exit status. */
static int setup(int argc, char **argv)
{
    MO = (mn_opts){.data = MN_DATA_DIR, .out = "build/abfp", .seed = 1, .epochs = 1};
    O = (opts){.test_count = 10000, .sweep_count = 2000, .val_count = 1000, .ft_images = 20000, .ft_every = 2000,
               .dnf_calib = 200, .dnf_refresh = 5000};
    mpq_abfp_default(&O.p);
    mpq_abfp_default(&O.ft);
    O.ft.gain = 4.0f;
    O.ft.noise = 1.0;
    int r = mn_parse_opts(prog, argc, argv, &MO, usage, own, &O);
    if (r != 0)
        return r == 1 ? -1 : 2;
    if (!O.mlp || !O.cnn) {
        fprintf(stderr, "%s: --mlp FILE and --cnn FILE are required (the trained models); see --help\n", prog);
        return 2;
    }
    if (MO.quick) {
        O.test_count = O.test_count < 200 ? O.test_count : 200;
        O.sweep_count = O.sweep_count < 100 ? O.sweep_count : 100;
        O.val_count = O.val_count < 100 ? O.val_count : 100;
        O.ft_images = 128;
        O.ft_every = 64;
        quick_gains = 1;
    }
    if (mn_load_sets(prog, &MO, &train_set, &test_set) != 0)
        return 2;
    if (mn_mlp_load(&mlp, O.mlp, err, sizeof err) != 0 || cnn_load(&cnn, O.cnn, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    }
    /* Validation: the last val_count training images. */
    val_set = train_set;
    val_set.n = O.val_count;
    val_set.images += (size_t)(train_set.n - O.val_count) * 784;
    val_set.labels += train_set.n - O.val_count;
    abfp_net_mlp(&nets[0], &mlp, &train_set, 2000);
    abfp_net_cnn(&nets[1], &cnn, &train_set, 2000);
    mpq_abfp_default(&base);
    return 0;
}

int main(int argc, char **argv)
{
    atexit(cleanup);
    int r = setup(argc, argv);
    if (r != 0)
        return r < 0 ? 0 : r;
    if (O.eval) {
        eval_one();
        return 0;
    }
    if (mkdir(MO.out, 0777) != 0) {
        struct stat sb;
        if (stat(MO.out, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            fprintf(stderr, "%s: --out %s: cannot create the folder\n", prog, MO.out);
            return 2;
        }
    }
    char mdtmp[1100];
    md = tsv_open(MO.out, "abfp.md", mdtmp, sizeof mdtmp);
    double t_start = mn_now_s();
    if (!O.ft_only) {
        study_float();
        study_n();
        study_gain();
        study_formats();
        study_layers();
        study_headline();
        study_noise();
    }
    double t_study = mn_now_s() - t_start;
    if (!O.no_ft)
        study_finetune();
    out("\nThe study took %.0f s of wall-clock time and %.0f s of CPU time, the fine-tuning included (%.0f s of "
        "wall-clock time).\n", mn_now_s() - t_start, (double)clock() / CLOCKS_PER_SEC, mn_now_s() - t_start - t_study);
    tsv_close(md, mdtmp);
    md = NULL;
    printf("%s: results in %s/abfp.md\n", prog, MO.out);
    return 0;
}
