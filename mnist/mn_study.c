/* SPDX-License-Identifier: Apache-2.0 */
/* mn_study.c: the study harness of the Fashion-MNIST networks (mpq-mnist, mpq-cnn): accuracy
 * per quantization scheme, versus the sparse density and its structure, and versus the
 * accumulator width, each a table on stdout and in results.md, the studies' data in
 * density.tsv and accbits.tsv for scripts/workloads/mnist-plot.sh. A network comes in as its quantize
 * function; everything runs on the golden model (mn_qnet_run). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mnist.h"

int mn_study_eval(mn_study *st, const mn_qspec *spec, unsigned acc_bits, mpq_acc_mode mode,
                  double *acc, size_t *ovf, double *density, double *rel_err)
{
    char err[512];
    mn_qnet q;
    int rc = st->quantize(st->net, st->amax, spec, &q, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "%s: quantize: %s\n", st->tag, err);
        return rc;
    }
    int32_t *y = malloc((size_t)st->count * q.classes * sizeof *y);
    if (!y) {
        mn_qnet_free(&q);
        fprintf(stderr, "%s: out of memory\n", st->tag);
        return MPQ_ENOMEM;
    }
    rc = mn_qnet_run(&q, st->x, st->count, acc_bits, mode, st->group, y, ovf, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "%s: golden model: %s\n", st->tag, err);
    else
        *acc = mn_accuracy(y, st->labels, st->count, q.classes);
    if (density)
        *density = q.hp_density;
    if (rel_err)
        *rel_err = q.rel_err;
    free(y);
    mn_qnet_free(&q);
    return rc;
}

int mn_study_schemes(mn_study *st, const mn_study_scheme *s, unsigned n)
{
    fprintf(st->md, "| weights | accuracy | sparse density | weight error (relative L2) |\n|---|---|---|---|\n");
    fprintf(st->md, "| float (reference) | %.2f%% | - | - |\n", 100.0 * st->float_acc);
    printf("\n%-40s %9s %9s %9s\n", "weights", "accuracy", "density", "w. error");
    printf("%-40s %8.2f%% %9s %9s\n", "float (reference)", 100.0 * st->float_acc, "-", "-");
    for (unsigned i = 0; i < n; i++) {
        double acc = 0, dens = 0, rel = 0;
        if (mn_study_eval(st, &s[i].spec, 32, MPQ_ACC_WRAP, &acc, NULL, &dens, &rel) != 0)
            return -1;
        printf("%-40s %8.2f%% %9.4f %9.4f\n", s[i].name, 100.0 * acc, dens, rel);
        fprintf(st->md, "| %s | %.2f%% | %.4f | %.4f |\n", s[i].name, 100.0 * acc, dens, rel);
        fflush(stdout);
    }
    return 0;
}

static FILE *open_tmp(const mn_study *st, const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.tmp", st->out, name);
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "%s: cannot write %s: %s\n", st->tag, path, strerror(errno));
    return f;
}

/* density.tsv: comment lines with the references, then one block per structure (two blank
 * lines apart, gnuplot's `index`): "# name", then rows "nominal measured accuracy". */
int mn_study_density(mn_study *st, const char *intro, const mn_study_column *cols, unsigned ncols,
                     const double *dens, const char *const *dname, unsigned nd, int measured,
                     int first_dense)
{
    enum { MAXC = 16, MAXD = 16 };
    if (ncols > MAXC || nd > MAXD)
        return -1;
    double acc[MAXD][MAXC], meas[MAXD][MAXC];
    int have[MAXD][MAXC];
    printf("\naccuracy versus sparse int8 density and structure (ternary + sparse, %u test images)\n", st->count);
    printf("%-8s", "density");
    for (unsigned c = 0; c < ncols; c++)
        printf(" %*s", measured ? 17 : 9, cols[c].name);
    printf("\n");
    fprintf(st->md, "\n%s\n\n| density |", intro);
    for (unsigned c = 0; c < ncols; c++)
        fprintf(st->md, " %s |", cols[c].name);
    fprintf(st->md, "\n|---|");
    for (unsigned c = 0; c < ncols; c++)
        fprintf(st->md, "---|");
    fprintf(st->md, "\n");
    for (unsigned di = 0; di < nd; di++) {
        printf("%-8s", dname[di]);
        fprintf(st->md, "| %s |", dname[di]);
        for (unsigned c = 0; c < ncols; c++) {
            unsigned g = cols[c].group;
            double nreal = dens[di] * g;
            unsigned hp_n = (unsigned)lround(nreal);
            have[di][c] = 0;
            if (g && (fabs(nreal - hp_n) > 1e-9 || (dens[di] > 0 && hp_n == 0))) {
                printf(" %*s", measured ? 17 : 9, "-");
                fprintf(st->md, " - |");
                continue;
            }
            mn_qspec spec = {.scheme = dens[di] == 0.0 ? MN_TERN : MN_MIXED, .axis = cols[c].axis,
                             .hp_n = hp_n, .group = g, .density = dens[di], .first_dense = first_dense};
            if (dens[di] == 0.0 && c > 0 && have[di][0]) { /* ternary only: the same in every column */
                acc[di][c] = acc[di][0];
                meas[di][c] = meas[di][0];
            } else if (mn_study_eval(st, &spec, 32, MPQ_ACC_WRAP, &acc[di][c], NULL, &meas[di][c], NULL) != 0)
                return -1;
            have[di][c] = 1;
            if (dens[di] == 0.0)
                st->tern_acc = acc[di][c];
            if (measured) {
                printf(" %8.2f%% (%.4f)", 100.0 * acc[di][c], meas[di][c]);
                fprintf(st->md, " %.2f%% (%.3f) |", 100.0 * acc[di][c], meas[di][c]);
            } else {
                printf(" %8.2f%%", 100.0 * acc[di][c]);
                fprintf(st->md, " %.2f%% |", 100.0 * acc[di][c]);
            }
            fflush(stdout);
        }
        printf("\n");
        fprintf(st->md, "\n");
    }
    FILE *tsv = open_tmp(st, "density.tsv");
    if (!tsv)
        return -1;
    fprintf(tsv, "# accuracy (%%) of ternary + sparse int8 versus the sparse density, one block per "
            "structure: nominal density, measured density (non-zeros / weights), accuracy\n");
    fprintf(tsv, "# float reference\t%.4f\n# ternary only\t%.4f\n", 100.0 * st->float_acc,
            100.0 * st->tern_acc);
    for (unsigned c = 0; c < ncols; c++) {
        fprintf(tsv, "\n\n# %s\n", cols[c].name);
        for (unsigned di = 0; di < nd; di++)
            if (have[di][c] && dens[di] > 0.0)
                fprintf(tsv, "%.6f\t%.6f\t%.4f\n", dens[di], meas[di][c], 100.0 * acc[di][c]);
    }
    return fclose(tsv) == 0 ? 0 : -1;
}

int mn_study_accbits(mn_study *st, const char *intro, const char *label, const mn_qspec *spec,
                     size_t outputs, unsigned lo, unsigned step)
{
    FILE *tsv = open_tmp(st, "accbits.tsv");
    if (!tsv)
        return -1;
    fprintf(tsv, "# acc_bits\twrap_acc\tsat_acc\twrap_ovf\tsat_ovf\t(accuracy %%, outputs whose "
            "accumulation overflowed of %zu)\n# spec\t%s\n", outputs, label);
    printf("\naccuracy and overflowing outputs versus accumulator width (%s, grouped by %u, %zu outputs)\n",
           label, st->group, outputs);
    printf("%-8s %10s %10s %12s %12s\n", "acc bits", "wrap", "saturate", "ovf (wrap)", "ovf (sat)");
    fprintf(st->md, "\n%s\n\n", intro);
    fprintf(st->md, "| acc bits | wrap | saturate | overflowing outputs |\n|---|---|---|---|\n");
    for (unsigned bits = lo; bits <= 32; bits += step) {
        double aw = 0, as = 0;
        size_t ow = 0, os = 0;
        if (mn_study_eval(st, spec, bits, MPQ_ACC_WRAP, &aw, &ow, NULL, NULL) != 0 ||
            mn_study_eval(st, spec, bits, MPQ_ACC_SAT, &as, &os, NULL, NULL) != 0) {
            fclose(tsv);
            return -1;
        }
        printf("%-8u %9.2f%% %9.2f%% %12zu %12zu\n", bits, 100.0 * aw, 100.0 * as, ow, os);
        fprintf(st->md, "| %u | %.2f%% | %.2f%% | %zu |\n", bits, 100.0 * aw, 100.0 * as, ow);
        fprintf(tsv, "%u\t%.4f\t%.4f\t%zu\t%zu\n", bits, 100.0 * aw, 100.0 * as, ow, os);
        fflush(stdout);
    }
    return fclose(tsv) == 0 ? 0 : -1;
}

int mn_study_publish(mn_study *st)
{
    int bad = fclose(st->md) != 0;
    st->md = NULL;
    const char *names[] = {"results.md", "density.tsv", "accbits.tsv"};
    for (int i = 0; !bad && i < 3; i++) {
        char a[1200], b[1200];
        snprintf(a, sizeof a, "%s/%s.tmp", st->out, names[i]);
        snprintf(b, sizeof b, "%s/%s", st->out, names[i]);
        if (rename(a, b) != 0) {
            fprintf(stderr, "%s: cannot write %s: %s\n", st->tag, b, strerror(errno));
            return -1;
        }
    }
    if (bad)
        fprintf(stderr, "%s: cannot write %s/results.md\n", st->tag, st->out);
    return bad ? -1 : 0;
}
