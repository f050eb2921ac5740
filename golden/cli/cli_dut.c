/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq-golden dut: DUT descriptions (golden/dut/mpq_desc.h, docs/dut.md).
 *   check FILE [--model VDUT.H --build KIND]   read and check a description (and against the
 *                                              Verilated model of a build)
 *   shim FILE --model VDUT.H --build KIND -o OUT.cpp
 *                                              write the design's part of the C++ shim over the
 *                                              Verilated model (tb/dut_runtime.h is the rest)
 *   verilator-args FILE --build KIND           what Verilator needs to build the DUT (one
 *                                              argument per line: top, folders, waivers, sources)
 *   info FILE                                  the ports, streams and beat layouts
 * Every form takes --param NAME=VALUE (the build's parameter overrides, as -G). A bad
 * description is refused before anything else happens: exit 2, "file:line: ... port NAME ...".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dut/mpq_desc.h"

#define MAX_PARAMS 64

typedef struct dut_args {
    const char *cmd, *file, *model, *out;
    int build;
    const char *params[MAX_PARAMS];
    unsigned nparams;
} dut_args;

static void dut_usage(FILE *f)
{
    fprintf(f, "usage: mpq-golden dut check FILE [--model VDUT.H --build KIND] [--param NAME=VALUE]...\n"
               "       mpq-golden dut shim FILE --model VDUT.H --build KIND -o OUT.cpp [--param NAME=VALUE]...\n"
               "       mpq-golden dut verilator-args FILE --build KIND [--param NAME=VALUE]...\n"
               "       mpq-golden dut info FILE [--param NAME=VALUE]...\n"
               "Reads a DUT description (docs/dut.md) and checks it: its statements, ports, streams and\n"
               "beat layouts, and with --model its ports against the Verilated model's header (every port\n"
               "there with its width and direction, every input of the model described). shim writes the\n"
               "design's part of the C++ shim over the model (it includes tb/dut_runtime.h); verilator-args\n"
               "prints what Verilator needs to build it, one argument per line. KIND: plain, wb, trace, cov,\n"
               "gls. --param sets a `param` of the description as the build's -G does.\n"
               "Exit: 0, 2 a bad description, model or usage (the message names the file, line and port).\n");
}

static int parse_args(int argc, char **argv, dut_args *a)
{
    memset(a, 0, sizeof *a);
    a->build = -1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            dut_usage(stdout);
            return 1;
        }
        int takes = !strcmp(s, "--model") || !strcmp(s, "--build") || !strcmp(s, "-o") || !strcmp(s, "--param");
        if (takes && !v) {
            fprintf(stderr, "mpq-golden dut: %s needs a value\n", s);
            return 2;
        }
        if (!strcmp(s, "--model")) {
            a->model = v;
        } else if (!strcmp(s, "-o")) {
            a->out = v;
        } else if (!strcmp(s, "--build")) {
            if (mpq_build_parse(v, &a->build) != 0) {
                fprintf(stderr, "mpq-golden dut: --build %s: plain, wb, trace, cov or gls expected\n", v);
                return 2;
            }
        } else if (!strcmp(s, "--param")) {
            if (a->nparams == MAX_PARAMS) {
                fprintf(stderr, "mpq-golden dut: more than %d --param\n", MAX_PARAMS);
                return 2;
            }
            a->params[a->nparams++] = v;
        } else if (s[0] == '-') {
            fprintf(stderr, "mpq-golden dut: unknown option `%s`; see --help\n", s);
            return 2;
        } else if (!a->cmd) {
            a->cmd = s;
            continue;
        } else if (!a->file) {
            a->file = s;
            continue;
        } else {
            fprintf(stderr, "mpq-golden dut: unexpected `%s`; see --help\n", s);
            return 2;
        }
        i++;
    }
    if (!a->cmd || !a->file) {
        fprintf(stderr, "mpq-golden dut: usage: mpq-golden dut check|shim|verilator-args|info FILE ...; see --help\n");
        return 2;
    }
    return 0;
}

/* ---- the shim ----------------------------------------------------------------------------------- */
static void c_string(text *t, const char *s)
{
    tprintf(t, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\n')
            tprintf(t, "\\n\"\n    \"");
        else if (c == '"' || c == '\\')
            tprintf(t, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            tprintf(t, "\\%03o", c);
        else
            tprintf(t, "%c", c);
    }
    tprintf(t, "\"");
}

/* The mask of the word that holds a port's top bits. */
static unsigned top_mask(unsigned width)
{
    return width % 32 ? (1u << (width % 32)) - 1u : 0xffffffffu;
}

/* A description port's C field: its name without the direction suffix (_i, _o; _ni -> _n). */
static void field_of(const char *port, char *buf, size_t len)
{
    size_t n = strlen(port);
    if (n > 3 && port[n - 3] == '_' && port[n - 2] == 'n' && (port[n - 1] == 'i' || port[n - 1] == 'o'))
        n -= 1;
    else if (n > 2 && port[n - 2] == '_' && (port[n - 1] == 'i' || port[n - 1] == 'o'))
        n -= 2;
    snprintf(buf, len, "%.*s", (int)n, port);
}

static int is_tied(const mpq_desc *d, const char *name)
{
    int i = mpq_desc_port_find(d, name);
    return i >= 0 && d->ports[i].role == MPQ_DR_TIE;
}

static void shim_tables(text *t, const mpq_desc *d, const mpq_model_port *mp, size_t n)
{
    const char *clock = d->ports[d->clock].name;
    unsigned off[2] = {0, 0};
    tprintf(t, "static const mpq_dut_port gen_ports[] = {\n");
    for (size_t i = 0; i < n; i++) {
        int clk = !strcmp(mp[i].name, clock);
        tprintf(t, "    {\"%s\", %d, %u, %u, %d},\n", mp[i].name, mp[i].out, mp[i].width, clk ? 0 : off[mp[i].out], clk);
        if (!clk)
            off[mp[i].out] += (mp[i].width + 31) / 32;
    }
    tprintf(t, "};\nstatic const unsigned gen_frame_words[2] = {%u, %u};\n\n", off[0], off[1]);
    tprintf(t, "static void gen_clock(Vdut &t, int level) { t.%s = static_cast<CData>(level); }\n\n", clock);
    tprintf(t, "static void gen_power_on(Vdut &t)\n{\n    t.%s = %d;\n", d->ports[d->reset].name, d->reset_low);
    for (unsigned i = 0; i < d->nports; i++)
        if (d->ports[i].role == MPQ_DR_TIE) {
            uint64_t v = (uint64_t)d->ports[i].value;
            tprintf(t, "    {\n        const uint32_t w[2] = {%uu, %uu};\n        mpq_rt::put(t.%s, w, 0x%xu);\n    }\n",
                    (unsigned)v, (unsigned)(v >> 32), d->ports[i].name, top_mask(d->ports[i].width));
        }
    tprintf(t, "}\n\n");
}

static void shim_copies(text *t, const mpq_desc *d, const mpq_model_port *mp, size_t n)
{
    const char *clock = d->ports[d->clock].name;
    unsigned off[2] = {0, 0};
    text put = {0}, get = {0};
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(mp[i].name, clock))
            continue;
        if (mp[i].out)
            tprintf(&get, "    mpq_rt::get(t.%s, w + %u);\n", mp[i].name, off[1]);
        else if (!is_tied(d, mp[i].name))
            tprintf(&put, "    mpq_rt::put(t.%s, w + %u, 0x%xu);\n", mp[i].name, off[0], top_mask(mp[i].width));
        off[mp[i].out] += (mp[i].width + 31) / 32;
    }
    tprintf(t, "static void gen_put_frame(Vdut &t, const uint32_t *w)\n{\n%s}\n\n", put.s ? put.s : "    (void)t, (void)w;\n");
    tprintf(t, "static void gen_get_frame(const Vdut &t, uint32_t *w)\n{\n%s}\n\n", get.s ? get.s : "    (void)t, (void)w;\n");
    free(put.s);
    free(get.s);
    tprintf(t, "static void gen_put(Vdut &t, size_t i, const uint32_t *w)\n{\n    switch (i) {\n");
    for (size_t i = 0; i < n; i++)
        if (!mp[i].out && strcmp(mp[i].name, clock))
            tprintf(t, "    case %zu: mpq_rt::put(t.%s, w, 0x%xu); break;\n", i, mp[i].name, top_mask(mp[i].width));
    tprintf(t, "    default: break;\n    }\n}\n\n");
    tprintf(t, "static void gen_get(const Vdut &t, size_t i, uint32_t *w)\n{\n    switch (i) {\n");
    for (size_t i = 0; i < n; i++)
        tprintf(t, "    case %zu: mpq_rt::get(t.%s, w); break;\n", i, mp[i].name);
    tprintf(t, "    default: break;\n    }\n}\n\n");
}

/* The struct binding: every port of the description in every build (not the clock, constants or
 * tied inputs) to its field. */
static void shim_bind(text *t, const mpq_desc *d)
{
    tprintf(t, "extern \"C\" void mpq_dut_apply(mpq_dut *d, const %s *in)\n{\n    Vdut &t = *d->top;\n", d->bind_in);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            tprintf(t, "    rt_settle(d);\n}\n\nextern \"C\" void mpq_dut_eval(mpq_dut *d, const %s *in, %s *out)\n{\n"
                       "    mpq_dut_apply(d, in);\n    const Vdut &t = *d->top;\n", d->bind_in, d->bind_out);
        for (unsigned i = 0; i < d->nports; i++) {
            const mpq_desc_port *q = &d->ports[i];
            if (q->out != pass || q->builds != MPQ_BUILDS_ALL || q->role == MPQ_DR_CLOCK || q->role == MPQ_DR_CONST ||
                q->role == MPQ_DR_TIE)
                continue;
            char f[MPQ_DESC_NAME];
            field_of(q->name, f, sizeof f);
            tprintf(t, "    mpq_rt::%s(t.%s, %s->%s);\n", pass ? "get" : "put", q->name, pass ? "out" : "in", f);
        }
    }
    tprintf(t, "}\n\n");
}

/* The description's own text: read again (the parser's copy is tokenized). */
static int write_shim(const dut_args *a, const mpq_desc *d, const mpq_model_port *mp, size_t n)
{
    size_t len = 0;
    char *src = cli_read_file(a->file, &len);
    if (!src) {
        fprintf(stderr, "mpq-golden dut: cannot read %s\n", a->file);
        return 2;
    }
    text t = {0};
    tprintf(&t, "// GENERATED by `mpq-golden dut shim` from %s (build %s) and the Verilated model's\n"
                "// header %s. Do not edit: the description is the source (docs/dut.md); the build writes\n"
                "// this file again whenever it builds the model.\n", d->path, mpq_build_name(a->build), a->model);
    tprintf(&t, "#include <cstddef>\n#include <cstdint>\n\n#include \"Vdut.h\"\n");
    if (d->bind_header)
        tprintf(&t, "#include \"%s\"\n", d->bind_header);
    tprintf(&t, "#include \"mpq_dut.h\"\n#include \"dut_runtime.h\"\n\n");
    shim_tables(&t, d, mp, n);
    shim_copies(&t, d, mp, n);
    tprintf(&t, "static const char gen_desc_text[] =\n    ");
    c_string(&t, src);
    tprintf(&t, ";\nstatic const char *const gen_params[] = {");
    for (unsigned i = 0; i < a->nparams; i++) {
        c_string(&t, a->params[i]);
        tprintf(&t, ", ");
    }
    tprintf(&t, "nullptr};\n\nstatic const gen_model &gen_info()\n{\n    static const gen_model m = {gen_ports, %zu, "
                "{gen_frame_words[0], gen_frame_words[1]}, gen_desc_text, ", n);
    c_string(&t, d->path);
    tprintf(&t, ", \"%s\", \"TOP.%s\", gen_params, %u};\n    return m;\n}\n\n", mpq_build_name(a->build),
            d->wrapper_top[a->build] ? d->wrapper_top[a->build] : d->top, a->nparams);
    if (d->bind_in)
        shim_bind(&t, d);
    free(src);
    if (t.oom || cli_write_atomic(a->out, t.s, t.len) != 0) {
        fprintf(stderr, "mpq-golden dut: cannot write %s\n", a->out);
        free(t.s);
        return 2;
    }
    free(t.s);
    return 0;
}

/* ---- the other forms ------------------------------------------------------------------------------ */
static void print_args(const dut_args *a, const mpq_desc *d)
{
    printf("--top-module\n%s\n", d->wrapper_top[a->build] ? d->wrapper_top[a->build] : d->top);
    for (unsigned i = 0; i < d->nincludes; i++)
        printf("-I%s\n", d->includes[i]);
    for (unsigned i = 0; i < d->nparams; i++)
        if (d->params[i].overridden)
            printf("-G%s=%lld\n", d->params[i].name, (long long)d->params[i].value);
    for (unsigned i = 0; i < d->nwaivers; i++)
        printf("%s\n", d->waivers[i]);
    for (unsigned i = 0; i < d->nsources; i++)
        printf("%s\n", d->sources[i]);
    if (d->wrapper_file[a->build])
        printf("%s\n", d->wrapper_file[a->build]);
}

static void print_info(const mpq_desc *d)
{
    printf("%s: dut %s, %u ports, %u streams, codec %s\n", d->path, d->top, d->nports, d->nstreams,
           d->codec == MPQ_CODEC_MPQ ? "mpq" : "layout");
    printf("  clock %s, reset %s (active %s, %u cycles)\n", d->ports[d->clock].name, d->ports[d->reset].name,
           d->reset_low ? "low" : "high", d->reset_cycles);
    for (unsigned s = 0; s < d->nstreams; s++) {
        const mpq_desc_stream *st = &d->streams[s];
        printf("  stream %s (%s): valid %s, ready %s, data %s (%u bits)%s%s\n", st->name, st->out ? "out" : "in",
               d->ports[st->valid].name, st->ready >= 0 ? d->ports[st->ready].name : "none", d->ports[st->data].name,
               st->width, st->last >= 0 ? ", last " : "", st->last >= 0 ? d->ports[st->last].name : "");
        for (unsigned k = 0; k < st->nitems; k++) {
            const mpq_desc_item *it = &d->items[st->first_item + k];
            printf("    line %u: %s", it->line, it->order == MPQ_ORD_FIELDS ? "fields" : "");
            for (unsigned i = 0; i < it->ntensors; i++)
                printf("%s%s", i ? "," : "", mpq_tensor_name(it->tensor[i]));
            printf(" order %s, %u x %u bits per beat, align %s\n", mpq_order_name(it->order), it->per_beat, it->bits,
                   it->align_row ? "row" : "none");
        }
    }
    for (unsigned i = 0; i < d->nports; i++)
        if (d->ports[i].stream < 0 && d->ports[i].role != MPQ_DR_CLOCK && d->ports[i].role != MPQ_DR_RESET)
            printf("  port %s %s %u bits\n", d->ports[i].name, d->ports[i].out ? "out" : "in", d->ports[i].width);
}

int mpq_cli_dut(int argc, char **argv)
{
    dut_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc == 1 ? 0 : rc;
    int shim = !strcmp(a.cmd, "shim"), vargs = !strcmp(a.cmd, "verilator-args");
    if (!shim && !vargs && strcmp(a.cmd, "check") && strcmp(a.cmd, "info")) {
        fprintf(stderr, "mpq-golden dut: unknown form `%s` (check, shim, verilator-args, info); see --help\n", a.cmd);
        return 2;
    }
    if ((shim && (!a.model || !a.out || a.build < 0)) || (vargs && a.build < 0) || (a.model && a.build < 0)) {
        fprintf(stderr, "mpq-golden dut %s: %s\n", a.cmd, shim ? "--model, --build and -o are needed"
                                                            : "--build KIND is needed");
        return 2;
    }
    char err[1024];
    mpq_desc *d;
    if (mpq_desc_load(a.file, a.params, a.nparams, &d, err, sizeof err) != 0) {
        fprintf(stderr, "mpq-golden dut: %s\n", err);
        return 2;
    }
    mpq_model_port *mp = NULL;
    size_t n = 0;
    rc = 0;
    if (a.model && (mpq_model_ports_load(a.model, &mp, &n, err, sizeof err) != 0 ||
                    mpq_desc_check_model(d, a.build, mp, n, a.model, err, sizeof err) != 0)) {
        fprintf(stderr, "mpq-golden dut: %s\n", err);
        rc = 2;
    } else if (shim) {
        rc = write_shim(&a, d, mp, n);
    } else if (vargs) {
        print_args(&a, d);
    } else if (!strcmp(a.cmd, "info")) {
        print_info(d);
    } else {
        printf("%s: %s, %u ports, %u streams%s\n", a.file, d->top, d->nports, d->nstreams,
               a.model ? ", every port matches the Verilated model" : "");
    }
    free(mp);
    mpq_desc_free(d);
    return rc;
}
