/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq-golden gen: a cycle-exact vector file for the accelerator (vectors/FORMAT.md), from a
 * random layer (shape, density, accumulator mode, profile, seed) or from an mpq-case file,
 * with random valid gaps and output back-pressure from the timing seed. The same arguments
 * give the same bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mpq.h"
#include "mpq_gen.h"
#include "mpq_vec.h"

#define GEN_VERSION "mpq-golden 0.1"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mpq-golden gen -o FILE.vec [options]\n"
            "\n"
            "Runs the golden cycle model on one layer and writes every cycle's inputs and\n"
            "expected outputs (vectors/FORMAT.md). Every output row is also checked against the\n"
            "functional model; a disagreement is an error (exit 1).\n"
            "\n"
            "  --config NAME|PATH  RTL configuration: rtl/cfg/NAME.cfg or a .cfg path (default: default)\n"
            "  --m M --k K --n N   layer shape (default 8 64 8)\n"
            "  --hp-n N            sparse weights per group of KLanes (default: HpPerGroup)\n"
            "  --acc sat|wrap      accumulator mode (default wrap)\n"
            "  --profile P         random, overflow, requant-edge, zero-tern, max-sparse, acc-edge\n"
            "                      (default random)\n"
            "  --seed S            layer seed (default 1)\n"
            "  --timing-seed S     seed of valid gaps and back-pressure (default: the layer seed,\n"
            "                      as mpq-tb lockstep derives it)\n"
            "  --p-valid P         probability a source with a beat raises valid (default 1)\n"
            "  --p-ready P         probability out_ready_i is 1 in a cycle (default 1)\n"
            "  --reset-cycles N    cycles in reset at the start (default 2)\n"
            "  --tail-cycles N     idle cycles after the last tile (default 2)\n"
            "  --offer early|late  early (default): every stream offers its beats as soon as it\n"
            "                      has them (AXI); late: a tile's beats once its cfg is taken\n"
            "  --reset-at N        reset again N cycles into the layer (rows in flight), then\n"
            "                      run the layer anew (default: never)\n"
            "  --case FILE         the layer of an mpq-case file instead of a random one\n"
            "  --stats             print what the stimulus exercised (key=value: ties, bounds, ...)\n"
            "  -q                  print nothing on success\n"
            "Exit: 0 written, 1 the golden models disagree, 2 usage or input error.\n");
}

static int parse_u(const char *opt, const char *s, unsigned long long max, unsigned long long *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (*s == '-' || *s == '\0' || *end != '\0' || errno != 0 || x > max) {
        fprintf(stderr, "mpq-golden gen: %s: `%s` is not an integer in 0..%llu\n", opt, s, max);
        return -1;
    }
    *v = x;
    return 0;
}

static int parse_p(const char *opt, const char *s, double *p)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno != 0 || !(x > 0.0 && x <= 1.0)) {
        fprintf(stderr, "mpq-golden gen: %s: `%s` is not a probability in (0, 1]\n", opt, s);
        return -1;
    }
    *p = x;
    return 0;
}

/* The layer of an mpq-case file, when the accelerator can compute it. */
static int layer_from_case(const mpq_hwcfg *hw, const char *path, mpq_hw_layer *l)
{
    char err[512];
    mpq_case c;
    if (mpq_case_load_ex(path, MPQ_CASE_NO_EXPECT, &c, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    const char *why = NULL;
    if (c.w)
        why = "it has dense `w` weights; the accelerator takes ternary `t` + sparse `hp` only";
    else if (c.rounding != MPQ_RQ_DOUBLE)
        why = "its rounding is not TFLite double rounding";
    else if (c.acc_bits != hw->acc_bits)
        why = "its accumulator width differs from this configuration's AccBits";
    if (why) {
        fprintf(stderr, "%s: the accelerator cannot run this case: %s\n", path, why);
        mpq_case_free(&c);
        return 2;
    }
    if (mpq_hw_layer_alloc(l, c.m, c.k, c.n) != 0) {
        fprintf(stderr, "%s: the accelerator cannot run this case: shape m=%u k=%u n=%u\n", path,
                c.m, c.k, c.n);
        mpq_case_free(&c);
        return 2;
    }
    memcpy(l->x, c.x, (size_t)c.m * c.k * sizeof *l->x);
    if (c.t)
        memcpy(l->t, c.t, (size_t)c.n * c.k * sizeof *l->t);
    if (c.hp)
        memcpy(l->hp, c.hp, (size_t)c.n * c.k * sizeof *l->hp);
    for (unsigned ch = 0; ch < c.n; ch++) {
        l->alpha[ch] = c.alpha ? c.alpha[c.nalpha == 1 ? 0 : ch] : 0;
        l->bias[ch] = c.bias ? c.bias[ch] : 0;
        l->mult[ch] = c.mult[c.nmult == 1 ? 0 : ch];
        l->shift[ch] = c.shift[c.nshift == 1 ? 0 : ch];
    }
    l->in_offset = c.in_offset;
    l->out_offset = c.out_offset;
    l->act_min = c.act_min;
    l->act_max = c.act_max;
    l->acc_sat = 0; /* mpq-case accumulators wrap */
    int rc = 0;
    if (mpq_hw_layer_check(hw, l, err, sizeof err) != 0) {
        fprintf(stderr, "%s: the accelerator cannot run this case: %s\n", path, err);
        rc = 2;
    } else if (c.expect) {
        /* The case's own expected outputs must be what the accelerator will be held to. */
        int32_t *y = malloc((size_t)c.m * c.n * sizeof *y);
        if (!y || mpq_hw_layer_expected(hw, l, y, NULL) != 0) {
            fprintf(stderr, "%s: out of memory\n", path);
            rc = 2;
        } else {
            for (size_t i = 0; i < (size_t)c.m * c.n; i++) {
                if (y[i] != c.expect[i]) {
                    fprintf(stderr,
                            "%s: output [%zu][%zu]: the case expects %d, this configuration "
                            "computes %d\n",
                            path, i / c.n, i % c.n, c.expect[i], y[i]);
                    rc = 1;
                    break;
                }
            }
        }
        free(y);
    }
    if (rc != 0)
        mpq_hw_layer_free(l);
    mpq_case_free(&c);
    return rc;
}

int mpq_cli_gen(int argc, char **argv)
{
    const char *out = NULL, *config = "default", *case_path = NULL;
    mpq_layer_opts lo = {.seed = 1, .m = 8, .k = 64, .n = 8, .acc_sat = 0, .profile = MPQ_PROF_RANDOM};
    mpq_timing_opts to;
    mpq_timing_default(lo.seed, 1.0, 1.0, &to);
    int have_hp_n = 0, have_tseed = 0, quiet = 0, stats = 0;
    unsigned long long v;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "-q")) {
            quiet = 1;
            continue;
        }
        if (!strcmp(a, "--stats")) {
            stats = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "mpq-golden gen: `%s` needs a value (or is unknown); see --help\n", a);
            return 2;
        }
        const char *val = argv[++i];
        if (!strcmp(a, "-o")) {
            out = val;
        } else if (!strcmp(a, "--config")) {
            config = val;
        } else if (!strcmp(a, "--case")) {
            case_path = val;
        } else if (!strcmp(a, "--m") || !strcmp(a, "--k") || !strcmp(a, "--n")) {
            if (parse_u(a, val, 65535, &v))
                return 2;
            *(a[2] == 'm' ? &lo.m : a[2] == 'k' ? &lo.k : &lo.n) = (unsigned)v;
        } else if (!strcmp(a, "--hp-n")) {
            if (parse_u(a, val, 64, &v))
                return 2;
            lo.hp_n = (unsigned)v;
            have_hp_n = 1;
        } else if (!strcmp(a, "--acc")) {
            if (strcmp(val, "sat") && strcmp(val, "wrap")) {
                fprintf(stderr, "mpq-golden gen: --acc: `%s` is not sat or wrap\n", val);
                return 2;
            }
            lo.acc_sat = !strcmp(val, "sat");
        } else if (!strcmp(a, "--profile")) {
            if (mpq_profile_parse(val, &lo.profile) != 0) {
                fprintf(stderr, "mpq-golden gen: --profile: unknown profile `%s`; see --help\n", val);
                return 2;
            }
        } else if (!strcmp(a, "--seed") || !strcmp(a, "--timing-seed")) {
            if (parse_u(a, val, UINT64_MAX, &v))
                return 2;
            if (a[2] == 's')
                lo.seed = v;
            else {
                to.seed = v;
                have_tseed = 1;
            }
        } else if (!strcmp(a, "--p-valid")) {
            if (parse_p(a, val, &to.p_valid))
                return 2;
        } else if (!strcmp(a, "--p-ready")) {
            if (parse_p(a, val, &to.p_ready))
                return 2;
        } else if (!strcmp(a, "--offer")) {
            if (strcmp(val, "early") && strcmp(val, "late")) {
                fprintf(stderr, "mpq-golden gen: --offer: `%s` is not early or late\n", val);
                return 2;
            }
            to.offer_early = !strcmp(val, "early");
        } else if (!strcmp(a, "--reset-at")) {
            if (parse_u(a, val, 1000000000ull, &v))
                return 2;
            to.reset_at = v;
        } else if (!strcmp(a, "--reset-cycles") || !strcmp(a, "--tail-cycles")) {
            if (parse_u(a, val, 1000000, &v))
                return 2;
            if (a[2] == 'r')
                to.reset_cycles = (unsigned)v;
            else
                to.tail_cycles = (unsigned)v;
        } else {
            fprintf(stderr, "mpq-golden gen: unknown option `%s`; see --help\n", a);
            return 2;
        }
    }
    if (!out) {
        fprintf(stderr, "mpq-golden gen: no output file (-o FILE.vec); see --help\n");
        return 2;
    }
    if (to.reset_cycles < 1) {
        fprintf(stderr, "mpq-golden gen: --reset-cycles must be at least 1\n");
        return 2;
    }
    char path[1024], err[1024], buf[256];
    if (mpq_hwcfg_find(config, path, sizeof path, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-golden gen: --config: %s\n", err);
        return 2;
    }
    mpq_hwcfg hw;
    if (mpq_hwcfg_load(path, &hw, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-golden gen: %s\n", err);
        return 2;
    }
    if (!have_hp_n)
        lo.hp_n = hw.hp_per_group;
    if (!have_tseed) /* the rule of every tool: mpq_timing_default */
        to.seed = lo.seed;

    mpq_hw_layer l;
    mpq_vec_header h;
    memset(&h, 0, sizeof h);
    if (case_path) {
        int rc = layer_from_case(&hw, case_path, &l);
        if (rc != 0)
            return rc;
        snprintf(h.source, sizeof h.source, "case:%s", case_path);
    } else {
        if (lo.m < 1 || lo.k < 1 || lo.n < 1) {
            fprintf(stderr, "mpq-golden gen: --m, --k and --n must be at least 1\n");
            return 2;
        }
        if (lo.k > hw.kmax) {
            fprintf(stderr, "mpq-golden gen: --k %u is more than KMax = %u of %s\n", lo.k, hw.kmax,
                    path);
            return 2;
        }
        if (mpq_hw_layer_random(&hw, &lo, &l, err, sizeof err) != 0) {
            fprintf(stderr, "mpq-golden gen: %s\n", err);
            return 2;
        }
        snprintf(h.source, sizeof h.source, "random:%s hp-n=%u", mpq_profile_name(lo.profile),
                 lo.hp_n);
    }
    h.version = MPQ_VEC_VERSION;
    h.hw = hw;
    h.seed = lo.seed;
    h.timing_seed = to.seed;
    h.m = l.m;
    h.k = l.k;
    h.n = l.n;
    h.acc_sat = (uint32_t)l.acc_sat;
    snprintf(h.generator, sizeof h.generator, "%s", GEN_VERSION);
    /* The command that remakes this file; the output is named by its base name, so a copy
     * regenerated elsewhere has the same bytes. */
    size_t used = 0;
    for (int i = 0; i < argc && used + 2 < sizeof h.command; i++) {
        const char *arg = argv[i];
        if (i > 0 && !strcmp(argv[i - 1], "-o") && strrchr(arg, '/'))
            arg = strrchr(arg, '/') + 1;
        int n = snprintf(h.command + used, sizeof h.command - used, "%s%s", i ? " " : "mpq-golden ",
                         arg);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (used >= sizeof h.command)
        h.command[sizeof h.command - 1] = '\0';

    mpq_gen *g;
    if (mpq_gen_new(&hw, &l, &to, &g, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-golden gen: %s\n", err);
        mpq_hw_layer_free(&l);
        return 2;
    }
    mpq_vec_writer *w;
    if (mpq_vec_writer_open(out, &h, &w, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-golden gen: %s\n", err);
        mpq_gen_free(g);
        mpq_hw_layer_free(&l);
        return 2;
    }
    mpq_port_in in;
    mpq_port_out exp;
    int rc, status = 0;
    while ((rc = mpq_gen_next(g, &in, &exp)) == 1) {
        if (mpq_vec_writer_put(w, &in, &exp) != 0) {
            rc = MPQ_EIO;
            break;
        }
    }
    uint64_t cycles = mpq_gen_cycle(g);
    if (rc < 0) {
        if (rc == MPQ_EIO)
            fprintf(stderr, "mpq-golden gen: %s: write error\n", out);
        else
            fprintf(stderr, "mpq-golden gen: %s\n", mpq_gen_error(g));
        mpq_vec_writer_abort(w);
        status = rc == MPQ_EIO ? 2 : 1;
    } else if (mpq_vec_writer_close(w, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-golden gen: %s\n", err);
        status = 2;
    } else if (!quiet) {
        printf("%s: %s, m=%u k=%u n=%u acc=%s, %llu cycles, seed %llu, timing seed %llu\n", out,
               mpq_hwcfg_str(&hw, buf, sizeof buf), l.m, l.k, l.n, l.acc_sat ? "sat" : "wrap",
               (unsigned long long)cycles, (unsigned long long)lo.seed,
               (unsigned long long)to.seed);
    }
    if (status == 0 && stats) {
        mpq_gen_stats st;
        mpq_gen_stats_get(g, &st);
        const mpq_cm_stats *c = &st.cm;
        printf("stats: tiles=%llu rows=%llu steps=%llu acc_max=%llu acc_min=%llu ovf_wrap=%llu "
               "ovf_sat=%llu srdhm_ties=%llu rdbpot_ties=%llu clamp_lo=%llu clamp_hi=%llu "
               "stall_last=%llu out_stalls=%llu waits=%llu mid_resets=%llu\n",
               (unsigned long long)c->tiles, (unsigned long long)c->rows, (unsigned long long)c->steps,
               (unsigned long long)c->acc_max, (unsigned long long)c->acc_min,
               (unsigned long long)c->ovf_wrap, (unsigned long long)c->ovf_sat,
               (unsigned long long)c->srdhm_ties, (unsigned long long)c->rdbpot_ties,
               (unsigned long long)c->clamp_lo, (unsigned long long)c->clamp_hi,
               (unsigned long long)c->stall_last, (unsigned long long)c->out_stalls,
               (unsigned long long)st.waits, (unsigned long long)st.mid_resets);
    }
    mpq_gen_free(g);
    mpq_hw_layer_free(&l);
    return status;
}
