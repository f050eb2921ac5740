/* SPDX-License-Identifier: Apache-2.0 */
/* mpq_opts.c: the option tables' parser, writer, --help and JSON (mpq_opts.h), and the table
 * of the stimulus tools' layer and timing options. */
#include "stim/mpq_opts.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"

const char *const mpq_opt_on_off[3] = {"on", "off", NULL};
const int mpq_opt_one_zero[2] = {1, 0};

/* ---- the stimulus tools' table ---------------------------------------------------------------- */
#define F(x) offsetof(mpq_stim_args, x)
#define GEN MPQ_TOOL_GEN
#define TB MPQ_TOOL_TB
#define LAYER MPQ_OPT_LAYER
static const char *const acc_names[] = {"sat", "wrap", NULL};
static const int acc_values[] = {1, 0};
static const char *const offer_names[] = {"early", "late", NULL};
static const char *const layer_names[] = {"fc", "conv2d", "depthwise", "any", NULL};
/* The configuration parameters that bound --k and --hp-n (MPQ_OPT_UINT with choices). */
static const char *const kmax_bound[] = {"KMax", NULL};
static const char *const hp_bound[] = {"HpPerGroup", NULL};
static const int layer_values[] = {MPQ_LAYER_FC, MPQ_LAYER_CONV2D, MPQ_LAYER_DEPTHWISE, -1};

const mpq_opt mpq_stim_opts[MPQ_SO_COUNT] = {
    [MPQ_SO_SEED] = {"--seed", "S", MPQ_OPT_U64, F(seed), 0, UINT64_MAX, NULL, NULL, GEN | TB, LAYER,
                     "layer seed (lockstep: the first run's; run i uses S+i)"},
    [MPQ_SO_RUNS] = {"--runs", "R", MPQ_OPT_UINT, F(runs), 1, UINT32_MAX, NULL, NULL, TB, LAYER,
                     "number of layers"},
    [MPQ_SO_CYCLES] = {"--cycles", "N", MPQ_OPT_U64, F(cycles), 1, UINT64_MAX, NULL, NULL, TB, LAYER,
                       "run layers until N cycles"},
    [MPQ_SO_LAYER] = {"--layer", NULL, MPQ_OPT_CHOICE, F(layer), 0, 0, layer_names, layer_values, TB, LAYER,
                      "layer kind; any: half fully-connected, half convolutions (odd sizes, strides, "
                      "dilations, padding, groups, channel counts that are not multiples of KLanes)"},
    [MPQ_SO_SHAPE] = {"--shape", "SPEC", MPQ_OPT_SHAPE, F(shape), 0, 0, NULL, NULL, GEN | TB, LAYER,
                      "this convolution, e.g. 'conv2d h=8 w=8 c=16 o=32 k=3 s=2 p=1' or 'depthwise h=8 "
                      "w=8 c=16 o=16 k=3 p=1' (keys b h w c o k s d p g oh ow; NxM for the two axes)"},
    [MPQ_SO_M] = {"--m", "M", MPQ_OPT_UINT, F(m), 1, 65535, NULL, NULL, GEN | TB, LAYER,
                  "fully-connected shape: rows"},
    [MPQ_SO_K] = {"--k", "K", MPQ_OPT_UINT, F(k), 1, 65535, kmax_bound, NULL, GEN | TB, LAYER,
                  "fully-connected shape: reduction depth"},
    [MPQ_SO_N] = {"--n", "N", MPQ_OPT_UINT, F(n), 1, 65535, NULL, NULL, GEN | TB, LAYER,
                  "fully-connected shape: output channels"},
    [MPQ_SO_HP_N] = {"--hp-n", "N", MPQ_OPT_UINT, F(hp_n), 0, MPQ_KLANES_MAX, hp_bound, NULL, GEN | TB,
                     LAYER, "sparse weights per group of KLanes"},
    [MPQ_SO_ACC] = {"--acc", NULL, MPQ_OPT_CHOICE, F(acc_sat), 0, 0, acc_names, acc_values, GEN | TB, LAYER,
                    "accumulator: saturating or wrap-around"},
    [MPQ_SO_PROFILE] = {"--profile", "P", MPQ_OPT_PROFILE, F(profile), 0, 0, NULL, NULL, GEN | TB, LAYER,
                        "value profile of the layer's operands"},
    [MPQ_SO_P_VALID] = {"--p-valid", "P", MPQ_OPT_PROB, F(p_valid), 0, 0, NULL, NULL, GEN | TB, LAYER,
                        "probability that a source with a beat raises valid in a cycle"},
    [MPQ_SO_P_READY] = {"--p-ready", "P", MPQ_OPT_PROB, F(p_ready), 0, 0, NULL, NULL, GEN | TB, LAYER,
                        "probability that out_ready_i is 1 in a cycle"},
    [MPQ_SO_OFFER] = {"--offer", NULL, MPQ_OPT_CHOICE, F(offer_early), 0, 0, offer_names, mpq_opt_one_zero, GEN | TB,
                      LAYER, "early: every stream offers its beats as soon as it has them (AXI); late: a "
                             "tile's beats once its cfg is taken"},
    [MPQ_SO_MID_RESET] = {"--mid-reset", NULL, MPQ_OPT_CHOICE, F(mid_reset), 0, 0, mpq_opt_on_off, mpq_opt_one_zero,
                          TB, LAYER, "a reset with rows in flight, then the layer anew"},
    [MPQ_SO_TIMING_SEED] = {"--timing-seed", "S", MPQ_OPT_U64, F(timing_seed), 0, UINT64_MAX, NULL, NULL, GEN,
                            LAYER, "seed of valid gaps and back-pressure (default: the layer seed, as "
                                   "mpq-tb lockstep derives it)"},
    [MPQ_SO_RESET_AT] = {"--reset-at", "N", MPQ_OPT_U64, F(reset_at), 1, 1000000000ull, NULL, NULL, GEN, LAYER,
                         "reset again N cycles into the layer (pixels in flight), then run the layer "
                         "anew (default: never)"},
    [MPQ_SO_RESET_CYCLES] = {"--reset-cycles", "N", MPQ_OPT_UINT, F(reset_cycles), 1, 1000000, NULL, NULL, GEN,
                             LAYER, "cycles in reset at the start (default 2)"},
    [MPQ_SO_TAIL_CYCLES] = {"--tail-cycles", "N", MPQ_OPT_UINT, F(tail_cycles), 0, 1000000, NULL, NULL, GEN,
                            LAYER, "idle cycles after the last tile (default 2)"},
    [MPQ_SO_STATS] = {"--stats", NULL, MPQ_OPT_FLAG, F(stats), 0, 0, NULL, NULL, GEN | TB, 0,
                      "print what the stimulus exercised (rounding ties, accumulator bounds, overflows, "
                      "back-pressure, ...), -q or not: with -q, gen prints that one line (key=value) "
                      "and errors, nothing else"},
    [MPQ_SO_QUIET] = {"-q", NULL, MPQ_OPT_FLAG, F(quiet), 0, 0, NULL, NULL, GEN | TB, 0,
                      "print only failures and the summary (gen: only errors, and the --stats line "
                      "when asked)"},
};
#undef F
#undef GEN
#undef TB
#undef LAYER

mpq_opt_set mpq_stim_set(mpq_stim_args *a, unsigned tool, uint64_t mask, const char *title)
{
    return (mpq_opt_set){mpq_stim_opts, MPQ_SO_COUNT, a, tool, mask, title, 0};
}

uint64_t mpq_stim_layer_mask(void)
{
    uint64_t m = 0;
    for (unsigned i = 0; i < MPQ_SO_COUNT; i++)
        if (mpq_stim_opts[i].flags & MPQ_OPT_LAYER)
            m |= 1ull << i;
    return m;
}

/* ---- parser ----------------------------------------------------------------------------------- */
static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return 2;
}

/* "a, b or c" of a NULL-terminated list. */
static void or_list(const char *const *names, char *buf, size_t len)
{
    size_t used = 0, n = 0;
    buf[0] = '\0';
    while (names[n])
        n++;
    for (size_t i = 0; i < n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* The value s of entry o into its field at base. Returns 0 or 2 with err. */
static int parse_value(const mpq_opt *o, const char *s, char *base, char *err, size_t errlen)
{
    void *field = base + o->field;
    switch (o->type) {
    case MPQ_OPT_FLAG:
        *(int *)field = 1;
        return 0;
    case MPQ_OPT_UINT:
    case MPQ_OPT_U64: {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 0);
        if (*s == '-' || *s == '\0' || *end != '\0' || errno != 0 || x < o->lo || x > o->hi) {
            if (o->choices) /* bounded by the configuration: its parameter's name */
                return fail(err, errlen, "%s: `%s` is not an integer in %" PRIu64 "..%s", o->name, s,
                            o->lo, o->choices[0]);
            return fail(err, errlen, "%s: `%s` is not an integer in %" PRIu64 "..%" PRIu64, o->name, s,
                        o->lo, o->hi);
        }
        if (o->type == MPQ_OPT_UINT)
            *(unsigned *)field = (unsigned)x;
        else
            *(uint64_t *)field = x;
        return 0;
    }
    case MPQ_OPT_PROB: {
        char *end;
        errno = 0;
        double x = strtod(s, &end);
        if (*s == '\0' || *end != '\0' || errno != 0 || !(x > 0.0 && x <= 1.0))
            return fail(err, errlen, "%s: `%s` is not a probability in (0, 1]", o->name, s);
        *(double *)field = x;
        return 0;
    }
    case MPQ_OPT_CHOICE:
        for (int i = 0; o->choices[i]; i++) {
            if (!strcmp(s, o->choices[i])) {
                *(int *)field = o->values ? o->values[i] : i;
                return 0;
            }
        }
        char list[256];
        or_list(o->choices, list, sizeof list);
        return fail(err, errlen, "%s: `%s` is not %s", o->name, s, list);
    case MPQ_OPT_TEXT:
        *(const char **)field = s;
        return 0;
    case MPQ_OPT_SHAPE: {
        char why[600];
        if (mpq_conv_shape_parse(s, (mpq_conv_shape *)field, why, sizeof why) != 0)
            return fail(err, errlen, "%s: %s", o->name, why);
        return 0;
    }
    case MPQ_OPT_PROFILE: {
        mpq_profile p;
        if (mpq_profile_parse(s, &p) != 0)
            return fail(err, errlen, "%s: unknown profile `%s`", o->name, s);
        *(int *)field = (int)p;
        return 0;
    }
    }
    return fail(err, errlen, "%s: unknown option type", o->name);
}

/* 1 when entry i belongs to set s: its tool's, and in its mask. */
static int in_set(const mpq_opt_set *s, size_t i)
{
    const mpq_opt *o = &s->opt[i];
    return (!s->tool || !o->tools || (o->tools & s->tool)) && (!s->mask || (s->mask >> i & 1u));
}

const mpq_opt *mpq_opt_find(const mpq_opt_set *sets, size_t nsets, const char *name, size_t *set)
{
    for (size_t k = 0; k < nsets; k++) {
        for (size_t i = 0; i < sets[k].n; i++) {
            const mpq_opt *o = &sets[k].opt[i];
            if (in_set(&sets[k], i) && !strcmp(name, o->name)) {
                if (set)
                    *set = k;
                return o;
            }
        }
    }
    return NULL;
}

int mpq_opt_parse(mpq_opt_set *sets, size_t nsets, int argc, char **argv, int first,
                  const char **pos, int *npos, char *err, size_t errlen)
{
    *npos = 0;
    for (int i = first; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            pos[(*npos)++] = a;
            continue;
        }
        size_t k;
        const mpq_opt *o = mpq_opt_find(sets, nsets, a, &k);
        if (!o)
            return fail(err, errlen, "unknown option `%s`; see --help", a);
        const char *val = NULL;
        if (o->type != MPQ_OPT_FLAG) {
            if (i + 1 >= argc)
                return fail(err, errlen, "`%s` needs a value; see --help", a);
            val = argv[++i];
        }
        if (parse_value(o, val, (char *)sets[k].base, err, errlen) != 0)
            return 2;
        sets[k].given |= 1ull << (o - sets[k].opt);
    }
    return 0;
}

/* ---- writer ------------------------------------------------------------------------------------ */
/* The value of entry o at base as text. */
static void format_value(const mpq_opt *o, const char *base, char *buf, size_t len)
{
    const void *field = base + o->field;
    buf[0] = '\0';
    switch (o->type) {
    case MPQ_OPT_FLAG:
        break;
    case MPQ_OPT_UINT:
        snprintf(buf, len, "%u", *(const unsigned *)field);
        break;
    case MPQ_OPT_U64:
        snprintf(buf, len, "%" PRIu64, *(const uint64_t *)field);
        break;
    case MPQ_OPT_PROB:
        snprintf(buf, len, "%.17g", *(const double *)field);
        break;
    case MPQ_OPT_CHOICE:
        for (int i = 0; o->choices[i]; i++)
            if ((o->values ? o->values[i] : i) == *(const int *)field)
                snprintf(buf, len, "%s", o->choices[i]);
        break;
    case MPQ_OPT_TEXT:
        snprintf(buf, len, "%s", *(const char *const *)field);
        break;
    case MPQ_OPT_SHAPE:
        mpq_conv_shape_format((const mpq_conv_shape *)field, buf, len);
        break;
    case MPQ_OPT_PROFILE:
        snprintf(buf, len, "%s", mpq_profile_name((mpq_profile)*(const int *)field));
        break;
    }
}

/* Appends one argument (copied into buf). Returns 0 or -1 when full. */
static int push(const char *s, const char **argv, int *n, int max, char *buf, size_t buflen, size_t *used)
{
    size_t l = strlen(s);
    if (*n + 1 >= max || *used + l + 1 > buflen)
        return -1;
    memcpy(buf + *used, s, l + 1);
    argv[(*n)++] = buf + *used;
    *used += l + 1;
    return 0;
}

int mpq_opt_write(const mpq_opt *opt, size_t n, const void *base, uint64_t bits, const char **argv,
                  int *argc, int max, char *buf, size_t buflen, size_t *used)
{
    for (size_t i = 0; i < n; i++) {
        if (!(bits >> i & 1u))
            continue;
        const mpq_opt *o = &opt[i];
        char val[256];
        format_value(o, (const char *)base, val, sizeof val);
        if (push(o->name, argv, argc, max, buf, buflen, used) != 0 ||
            (o->type != MPQ_OPT_FLAG && push(val, argv, argc, max, buf, buflen, used) != 0)) {
            argv[*argc] = NULL;
            return -1;
        }
    }
    argv[*argc] = NULL;
    return 0;
}

/* ---- --help and JSON ---------------------------------------------------------------------------- */
typedef struct out {
    char *buf;
    size_t len, used;
} out;

static void put(out *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(t->used < t->len ? t->buf + t->used : NULL, t->used < t->len ? t->len - t->used : 0,
                      fmt, ap);
    va_end(ap);
    if (w > 0)
        t->used += (size_t)w;
}

/* The value's name in --help: arg, or the choices ("sat|wrap"), or the profiles. */
static void arg_text(const mpq_opt *o, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    if (o->arg) {
        snprintf(buf, len, "%s", o->arg);
        return;
    }
    for (int i = 0; o->choices && o->choices[i] && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? "|" : "", o->choices[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* The help text of o, with the choices of a profile entry. */
static void help_text(const mpq_opt *o, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "%s", o->help);
    if (o->type == MPQ_OPT_PROFILE)
        for (int p = 0; p < MPQ_PROF_COUNT && used < len; p++)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", p ? ", " : ": ",
                                     mpq_profile_name((mpq_profile)p));
    /* The range of a bounded integer, inside the help's closing parenthesis if it has one. */
    if ((o->type == MPQ_OPT_UINT || o->type == MPQ_OPT_U64) && o->hi < UINT32_MAX && used < len) {
        int paren = used > 0 && buf[used - 1] == ')';
        char hi[64];
        if (o->type == MPQ_OPT_UINT && o->choices)
            snprintf(hi, sizeof hi, "%s", o->choices[0]);
        else
            snprintf(hi, sizeof hi, "%" PRIu64, o->hi);
        snprintf(buf + used - (size_t)paren, len - used + (size_t)paren, "%s%" PRIu64 "..%s)",
                 paren ? "; " : " (", o->lo, hi);
    }
}

enum { HELP_COL = 24, HELP_WIDTH = 100 };

/* Words of text after the option column, wrapped at HELP_WIDTH. */
static void wrap(out *t, const char *text, size_t col)
{
    while (*text) {
        const char *end = text + strcspn(text, " ");
        if (col + (size_t)(end - text) + 1 > HELP_WIDTH && col > HELP_COL) {
            put(t, "\n%*s", HELP_COL - 1, "");
            col = HELP_COL - 1;
        }
        put(t, " %.*s", (int)(end - text), text);
        col += (size_t)(end - text) + 1;
        text = *end ? end + 1 : end;
    }
    put(t, "\n");
}

size_t mpq_opt_help(const mpq_opt_set *sets, size_t nsets, char *buf, size_t len)
{
    out t = {buf, len, 0};
    if (len)
        buf[0] = '\0';
    for (size_t k = 0; k < nsets; k++) {
        if (sets[k].title)
            put(&t, "%s%s:\n", t.used ? "\n" : "", sets[k].title);
        for (size_t i = 0; i < sets[k].n; i++) {
            const mpq_opt *o = &sets[k].opt[i];
            if ((o->flags & MPQ_OPT_INTERNAL) || !in_set(&sets[k], i))
                continue;
            char arg[200], left[260], help[1200];
            arg_text(o, arg, sizeof arg);
            snprintf(left, sizeof left, "  %s%s%s", o->name, arg[0] ? " " : "", arg);
            help_text(o, help, sizeof help);
            size_t col = strlen(left);
            put(&t, "%s", left);
            if (col + 1 > HELP_COL) {
                put(&t, "\n%*s", HELP_COL - 1, "");
                col = HELP_COL - 1;
            } else {
                put(&t, "%*s", (int)(HELP_COL - 1 - col), "");
                col = HELP_COL - 1;
            }
            wrap(&t, help, col);
        }
    }
    return t.used;
}

static void json_str(out *t, const char *s)
{
    put(t, "\"");
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            put(t, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            put(t, "\\u%04x", (unsigned char)*s);
        else
            put(t, "%c", *s);
    }
    put(t, "\"");
}

size_t mpq_opt_json(const mpq_opt_set *sets, size_t nsets, char *buf, size_t len)
{
    static const char *const types[] = {"flag", "uint", "u64", "prob", "choice", "text", "shape", "profile"};
    out t = {buf, len, 0};
    if (len)
        buf[0] = '\0';
    put(&t, "[");
    int first = 1;
    for (size_t k = 0; k < nsets; k++) {
        for (size_t i = 0; i < sets[k].n; i++) {
            const mpq_opt *o = &sets[k].opt[i];
            if (!in_set(&sets[k], i))
                continue;
            put(&t, "%s\n  {\"name\": ", first ? "" : ",");
            json_str(&t, o->name);
            char arg[200], help[1200];
            arg_text(o, arg, sizeof arg);
            help_text(o, help, sizeof help);
            put(&t, ", \"arg\": ");
            json_str(&t, arg);
            put(&t, ", \"type\": \"%s\"", types[o->type]);
            if (o->type == MPQ_OPT_UINT || o->type == MPQ_OPT_U64)
                put(&t, ", \"lo\": %" PRIu64 ", \"hi\": %" PRIu64, o->lo, o->hi);
            if (o->type == MPQ_OPT_UINT && o->choices) {
                put(&t, ", \"hi_param\": ");
                json_str(&t, o->choices[0]);
            }
            if (o->type == MPQ_OPT_CHOICE || o->type == MPQ_OPT_PROFILE) {
                put(&t, ", \"choices\": [");
                if (o->type == MPQ_OPT_CHOICE)
                    for (int c = 0; o->choices[c]; c++) {
                        put(&t, "%s", c ? ", " : "");
                        json_str(&t, o->choices[c]);
                    }
                else
                    for (int p = 0; p < MPQ_PROF_COUNT; p++) {
                        put(&t, "%s", p ? ", " : "");
                        json_str(&t, mpq_profile_name((mpq_profile)p));
                    }
                put(&t, "]");
            }
            put(&t, ", \"tools\": [%s%s%s]", !o->tools || (o->tools & MPQ_TOOL_GEN) ? "\"gen\"" : "",
                !o->tools || (o->tools & MPQ_TOOL_GEN) ? (!o->tools || (o->tools & MPQ_TOOL_TB) ? ", " : "") : "",
                !o->tools || (o->tools & MPQ_TOOL_TB) ? "\"tb\"" : "");
            put(&t, ", \"layer\": %s, \"help\": ", (o->flags & MPQ_OPT_LAYER) ? "true" : "false");
            json_str(&t, help);
            put(&t, "}");
            first = 0;
        }
    }
    put(&t, "\n]\n");
    return t.used;
}

/* ---- the layer and timing of a lockstep run ----------------------------------------------- */
/* 1 when option o (MPQ_SO_*) was given. */
static int so_given(const mpq_stim_args *a, mpq_stim_opt o) { return (int)(a->given >> o & 1u); }

void mpq_stim_layer_opts(const mpq_stim_args *a, const mpq_hwcfg *hw, uint64_t seed, mpq_layer_opts *lo,
                         mpq_timing_opts *to)
{
    uint64_t z = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
#define PICK(n) ((unsigned)((z = z * 6364136223846793005ull + 1442695040888963407ull) >> 33) % (n))
    memset(lo, 0, sizeof *lo);
    lo->seed = seed;
    /* The shape: mostly small; now and then one counter's whole range. */
    unsigned size = PICK(40), kcap = hw->kmax < 400 ? hw->kmax : 400;
    unsigned m = 1 + PICK(16), k = 1 + PICK(kcap), n = 1 + PICK(2 * hw->lanes + 2);
    if (size == 0) {          /* every row index: M = 65535, a row per cycle */
        m = 65535;
        k = 1 + PICK(hw->klanes);
        n = 1 + PICK(hw->lanes);
    } else if (size == 1) {   /* many tiles */
        unsigned tiles = 20 + PICK(21), short_by = PICK(hw->lanes);
        n = hw->lanes * tiles - short_by;
        k = 1 + PICK(4 * hw->klanes < hw->kmax ? 4 * hw->klanes : hw->kmax);
    } else if (size < 7) {    /* K = KMax: every weight-buffer entry and slice index */
        k = hw->kmax;
    } else if (size < 13) {   /* K <= KLanes: a row finishes in every step */
        k = 1 + PICK(hw->klanes);
        m = 1 + PICK(64);
    }
    lo->m = so_given(a, MPQ_SO_M) ? a->m : m;
    lo->k = so_given(a, MPQ_SO_K) ? a->k : k;
    lo->n = so_given(a, MPQ_SO_N) ? a->n : n;
    /* The kind: a fully-connected layer or a convolution of a few thousand steps at most. */
    int fc_given = so_given(a, MPQ_SO_M) || so_given(a, MPQ_SO_K) || so_given(a, MPQ_SO_N);
    int kind = so_given(a, MPQ_SO_SHAPE) ? (int)a->shape.kind : a->layer;
    if (kind < 0)
        kind = fc_given ? MPQ_LAYER_FC : PICK(2) ? MPQ_LAYER_FC : MPQ_LAYER_CONV2D;
    if (so_given(a, MPQ_SO_SHAPE)) {
        lo->shape = a->shape;
    } else if (kind != MPQ_LAYER_FC) {
        uint64_t shape_seed = PICK(1u << 30);
        shape_seed = shape_seed << 30 ^ PICK(1u << 30);
        unsigned max_steps = PICK(4) ? 3000 : 30000;
        do /* that kind only when asked for one */
            mpq_hw_conv_shape_random(hw, shape_seed++, max_steps, &lo->shape);
        while (a->layer > 0 && (int)lo->shape.kind != a->layer);
    }
    lo->hp_n = so_given(a, MPQ_SO_HP_N) ? a->hp_n : PICK(hw->hp_per_group + 1);
    lo->acc_sat = so_given(a, MPQ_SO_ACC) ? a->acc_sat : (int)PICK(2);
    lo->profile = so_given(a, MPQ_SO_PROFILE) ? (mpq_profile)a->profile : (mpq_profile)PICK(MPQ_PROF_COUNT);
    /* The timing: the rule every tool shares, then this run's probabilities and events. */
    static const double pv[] = {1.0, 0.9, 0.7, 0.4}, pr[] = {1.0, 0.9, 0.5, 0.25};
    double p_valid = pv[PICK(4)], p_ready = pr[PICK(4)];
    mpq_timing_default(seed, so_given(a, MPQ_SO_P_VALID) ? a->p_valid : p_valid,
                       so_given(a, MPQ_SO_P_READY) ? a->p_ready : p_ready, to);
    unsigned early = PICK(4) != 0, reset = PICK(8) == 0;
    to->offer_early = so_given(a, MPQ_SO_OFFER) ? a->offer_early : (int)early;
    if (so_given(a, MPQ_SO_MID_RESET) ? a->mid_reset : (int)reset) {
        /* Somewhere in the layer's first tile or so: rows in flight. */
        uint64_t depth = lo->shape.kind != MPQ_LAYER_FC
                             ? (uint64_t)lo->shape.kh * lo->shape.kw * ((lo->shape.in_c + hw->klanes - 1) / hw->klanes)
                             : (lo->k + hw->klanes - 1) / hw->klanes;
        unsigned rows = lo->shape.kind != MPQ_LAYER_FC ? lo->shape.batches * lo->shape.out_h * lo->shape.out_w : lo->m;
        uint64_t span = 8 + depth * (rows < 64 ? rows : 64);
        to->reset_at = 3 + (uint64_t)PICK((unsigned)(span < 100000 ? span : 100000));
    }
#undef PICK
}

