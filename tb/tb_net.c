/* SPDX-License-Identifier: Apache-2.0 */
/* tb_net.c: mpq-tb net (tb_net.h): a TFLite model's MAC layers on the Verilated accelerator. */
#include "tb_net.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arith/mpq.h"
#include "net/mpq_graph.h"
#include "net/mpq_netrun.h"
#include "net/mpq_tflite.h"
#include "stim/mpq_vec.h"
#include "mpq_dut.h"
#include "tb_cosim.h"
#include "tb_opt_rows.h"
#include "tb_pipe.h"
#include "tb_source.h"
#include "tb_util.h"

/* ---- the command line ---------------------------------------------------------------------- */
enum { TB_NET_MAX_LAYERS = 512 };
typedef struct net_args {
    const char *config_file, *input, *output, *ops, *json, *trace_dir, *trace_bin, *trace_build, *vec_dir;
    uint64_t seed, timing_seed;
    double p_valid, p_ready;
    int pack;          /* 1 auto, 0 never */
    int source_thread; /* -1 auto, 1 on, 0 off */
    uint64_t vec_cycles; /* --vec-cycles: each saved part's first cycles only (0: all) */
    const char *decomp; /* --decomp SPEC, or NULL: the int8 weights */
    mpq_map_decomp dd;  /* its parse (one SPEC: every layer) */
    mpq_map_decomp dl[TB_NET_MAX_LAYERS]; /* SPEC,SPEC,...: one per MAC layer */
    const mpq_map_decomp *dlp[TB_NET_MAX_LAYERS];
    unsigned ndl;
    const char *map;    /* --map LIST, or NULL: the driver's own mapping of every layer */
    mpq_xp_map ml[TB_NET_MAX_LAYERS];     /* its items */
    const mpq_xp_map *mlp[TB_NET_MAX_LAYERS]; /* NULL for `default` */
    unsigned nml;
    int inject_flip;
    int whitebox;      /* compare the RTL's registers too (the white-box build) */
    unsigned before, after;
    uint64_t given;    /* bit NO_* */
} net_args;

enum {
    NO_CONFIG = 0, NO_INPUT, NO_OUTPUT, NO_SEED, NO_OPS, NO_P_VALID, NO_P_READY, NO_TIMING_SEED, NO_PACK, NO_SOURCE_THREAD, NO_INJECT_FLIP,
    NO_WHITEBOX, NO_JSON, NO_VEC_DIR, NO_TRACE_DIR, NO_WINDOW_BEFORE, NO_WINDOW_AFTER, NO_TRACE_BIN, NO_TRACE_BUILD, NO_DECOMP,
    NO_VEC_CYCLES, NO_MAP,
    NO_COUNT
};

#define F(x) offsetof(net_args, x)
static const char *const pack_names[] = {"auto", "never", NULL};
static const int pack_values[] = {1, 0};
static const mpq_opt net_table[NO_COUNT] = {
    [NO_CONFIG] = TB_OPT_CONFIG(F(config_file)),
    [NO_INPUT] = {"--input", "FILE", MPQ_OPT_TEXT, F(input), 0, 0, NULL, NULL, 0, 0,
                  "the model's input, raw little endian (default: random from --seed)"},
    [NO_OUTPUT] = {"--output", "FILE", MPQ_OPT_TEXT, F(output), 0, 0, NULL, NULL, 0, 0,
                   "the model's final outputs as the run computed them, raw little endian, in the "
                   "model's output order (written atomically once every layer passed)"},
    [NO_SEED] = {"--seed", "S", MPQ_OPT_U64, F(seed), 0, UINT64_MAX, NULL, NULL, 0, 0,
                 "seed of the random input (default 1; mpq-golden model map's rule)"},
    [NO_OPS] = {"--ops", "LIST", MPQ_OPT_TEXT, F(ops), 0, 0, NULL, NULL, 0, 0,
                "the operators run on the RTL, e.g. 0,3,5-9 (the other MAC layers run on the golden "
                "cycle model; default: every one)"},
    [NO_P_VALID] = {"--p-valid", "P", MPQ_OPT_PROB, F(p_valid), 0, 0, NULL, NULL, 0, 0,
                    "probability that a stream with a pending beat raises valid in a cycle (default 1: "
                    "full rate, the accelerator's own cycles)"},
    [NO_P_READY] = {"--p-ready", "P", MPQ_OPT_PROB, F(p_ready), 0, 0, NULL, NULL, 0, 0,
                    "probability that out_ready_i is 1 in a cycle (default 1)"},
    [NO_TIMING_SEED] = {"--timing-seed", "T", MPQ_OPT_U64, F(timing_seed), 0, UINT64_MAX, NULL, NULL, 0, 0,
                        "seed of the valid gaps and the back-pressure (default: from the clock, "
                        "printed); part p of operator o uses T + 65536 o + p"},
    [NO_PACK] = {"--pack", NULL, MPQ_OPT_CHOICE, F(pack), 0, 0, pack_names, pack_values, 0, 0,
                 "pack the kernel taps of thin convolutions and of depthwise layers into channels "
                 "when it saves cycles (default auto)"},
    [NO_SOURCE_THREAD] = TB_OPT_SOURCE_THREAD(F(source_thread), "run the golden driver and cycle model in a "
                                                                "second thread, ahead of the DUT (default: on "
                                                                "when more than one CPU is online)"),
    [NO_INJECT_FLIP] = {"--inject-flip", NULL, MPQ_OPT_FLAG, F(inject_flip), 0, 0, NULL, NULL, 0, 0,
                        "plant a fault: the first activation beat of the first layer run on the RTL "
                        "reaches the DUT with bit 7 of its first element flipped"},
    [NO_WHITEBOX] = TB_OPT_WHITEBOX(F(whitebox), "white-box build only (make tb-wb CONFIG=int8): also compare "
                                                 "every lane's accumulator and requantizer stages after every "
                                                 "edge, so a fault is reported in the step it acts: the lane's "
                                                 "MACs, the tap and the input channels"),
    [NO_JSON] = {"--json", "OUT", MPQ_OPT_TEXT, F(json), 0, 0, NULL, NULL, 0, 0,
                 "the table as JSON (written atomically), with rtl_passed"},
    [NO_VEC_DIR] = {"--vec-dir", "DIR", MPQ_OPT_TEXT, F(vec_dir), 0, 0, NULL, NULL, 0, 0,
                    "also write each part that passed on the RTL as DIR/<model>-op<o>-part<p>.vec, its "
                    "cycles and expected outputs (make bench replays them with --bare: the bare loop), and "
                    "DIR/summary.tsv: per part m, k, n, cycles, MACs and its file (make ppa-models' workload, "
                    "written once every layer passed)"},
    [NO_VEC_CYCLES] = {"--vec-cycles", "N", MPQ_OPT_U64, F(vec_cycles), 0, UINT64_MAX, NULL, NULL, 0, 0,
                       "with --vec-dir: each part's file holds only its first N cycles (reset and weight "
                       "loading included; the summary keeps the whole part's cycles; default 0: all)"},
    [NO_TRACE_DIR] = TB_OPT_TRACE_DIR(F(trace_dir), "a mismatch's trace goes to DIR/net-<model>-op<o>-part<p>/ "
                                                    "(default build/traces)"),
    [NO_WINDOW_BEFORE] = TB_OPT_WINDOW_BEFORE(F(before), "waveform window: cycles before the first mismatch "
                                                         "(default 200)"),
    [NO_WINDOW_AFTER] = TB_OPT_WINDOW_AFTER(F(after)),
    [NO_TRACE_BIN] = TB_OPT_TRACE_BIN(F(trace_bin), "traced build of this testbench (default: ../trace/mpq-tb)"),
    [NO_TRACE_BUILD] = TB_OPT_TRACE_BUILD(F(trace_build), "shell command that builds the traced build, run on the "
                                                          "first mismatch"),
    [NO_DECOMP] = {"--decomp", "SPEC", MPQ_OPT_TEXT, F(decomp), 0, 0, NULL, NULL, 0, 0,
                   "mixed precision: decompose every layer's int8 weights into ternary + sparse int8 "
                   "(ternary, channels-N:G, window-N:G, unstructured-D; mpq-golden model mixprec), or "
                   "one SPEC (or int8) per MAC layer, comma-separated (mpq-golden explore search's "
                   "points); each decomposed layer is then compared with its functional model and the "
                   "final output only reported against the int8 model's"},
    [NO_MAP] = {"--map", "LIST", MPQ_OPT_TEXT, F(map), 0, 0, NULL, NULL, 0, 0,
                "one mapping per MAC layer in operator order, ',' or ';' between them: `default` (the "
                "driver's own: every image, whole rows, the widest column bands that fit, taps packed "
                "when it saves cycles) or fields img=N/rows=N/cols=N/pack=0|1/order=inner|outer ('/' or "
                "spaces between, any order; 0 or absent: the whole axis; mpq-golden explore search's "
                "\"map\" text as it is): each layer is cut into exactly that mapping's hardware layers "
                "(image chunks, bands of output rows and columns with the zero point in their explicit "
                "padding, packed taps), every part run and the outputs gathered; a mapping the layer "
                "cannot run on this configuration is refused with its rule before anything runs"},
};
#undef F

static const char *tag = "mpq-tb net";

static void net_usage(FILE *f, mpq_opt_set *set)
{
    fprintf(f, "usage: mpq-tb net MODEL.tflite [--input FILE | --seed S] [--ops LIST] [options]\n"
               "\n"
               "Runs an int8 TFLite model with its CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED\n"
               "layers on this Verilated accelerator and every other operator on the host (the\n"
               "golden model), as `mpq-golden model map` maps them (or as --map says, layer by\n"
               "layer: mpq-golden explore search's mappings). Each hardware layer is driven\n"
               "by the golden driver with the golden cycle model in lockstep, every output port\n"
               "compared in every cycle; each layer's output is compared with the golden model's,\n"
               "and the model's final output with the golden model's run of the whole model.\n"
               "Prints per layer: op, shape, MACs, cycles, MAC utilization, activation waits,\n"
               "output stalls, where it ran, passed/failed. Cycles run from the first\n"
               "configuration beat to the last output; the host's operators are not counted.\n"
               "\n");
    tb_print_options(f, set, 1,
                     "Exit: 0 every layer and the final output equal, 1 a mismatch, 2 bad input or a layer\n"
                     "this configuration cannot run (named with its rule).\n");
}

/* Returns 0 to run (*model set), 1 after --help, 2 after a message. */
static int net_parse(int argc, char **argv, net_args *a, const char **model)
{
    memset(a, 0, sizeof *a);
    a->seed = 1;
    a->p_valid = a->p_ready = 1.0;
    a->pack = 1;
    a->source_thread = -1;
    a->trace_dir = "build/traces";
    a->before = 200;
    a->after = 20;
    mpq_opt_set set = {net_table, NO_COUNT, a, 0, 0, "options", 0};
    const char **pos = calloc((size_t)argc, sizeof *pos);
    if (!pos)
        return fprintf(stderr, "%s: out of memory\n", tag), 2;
    int npos = 0, rc;
    char err[800];
    rc = mpq_opt_parse(&set, 1, argc, argv, 2, pos, &npos, err, sizeof err);
    a->given = set.given;
    *model = npos > 0 ? pos[0] : NULL;
    if (rc == 1)
        net_usage(stdout, &set);
    else if (rc != 0)
        fprintf(stderr, "%s: %s\n", tag, err);
    else if (npos != 1) {
        fprintf(stderr, "%s: %s; see mpq-tb net --help\n", tag,
                npos ? "give one model" : "give the model: mpq-tb net MODEL.tflite");
        rc = 2;
    } else if ((a->given >> NO_INPUT & 1u) && (a->given >> NO_SEED & 1u)) {
        fprintf(stderr, "%s: --input and --seed do not combine: --seed draws a random input\n", tag);
        rc = 2;
    } else if ((a->given >> NO_VEC_CYCLES & 1u) && !a->vec_dir) {
        fprintf(stderr, "%s: --vec-cycles limits the files of --vec-dir: give --vec-dir DIR too\n", tag);
        rc = 2;
    } else if (a->decomp && !strchr(a->decomp, ',') && mpq_map_decomp_parse(a->decomp, &a->dd, err, sizeof err) != 0) {
        fprintf(stderr, "%s: --decomp: %s\n", tag, err);
        rc = 2;
    } else if (a->decomp && strchr(a->decomp, ',')) {
        static unsigned char is8[TB_NET_MAX_LAYERS];
        if (mpq_map_decomp_list_parse(a->decomp, a->dl, is8, TB_NET_MAX_LAYERS, &a->ndl, err, sizeof err) != 0) {
            fprintf(stderr, "%s: --decomp: %s\n", tag, err);
            rc = 2;
        }
        for (unsigned i = 0; i < a->ndl; i++)
            a->dlp[i] = is8[i] ? NULL : &a->dl[i];
    }
    if (rc == 0 && a->map) {
        static unsigned char def[TB_NET_MAX_LAYERS];
        if (mpq_map_list_parse(a->map, a->ml, def, TB_NET_MAX_LAYERS, &a->nml, err, sizeof err) != 0) {
            fprintf(stderr, "%s: --map: %s\n", tag, err);
            rc = 2;
        }
        for (unsigned i = 0; rc == 0 && i < a->nml; i++)
            a->mlp[i] = def[i] ? NULL : &a->ml[i];
    }
    free(pos);
    return rc;
}

/* --ops LIST into on[op] (mpq_net_ops entries): indices and ranges (a-b) of operators; a single
 * index must be a MAC layer, a range takes the MAC layers in it. Without LIST: every MAC layer.
 * Returns 0, or 2 with err naming the option. */
static int parse_ops(const char *list, mpq_net *net, uint8_t *on, char *err, size_t errlen)
{
    unsigned nops = mpq_net_ops(net), picked = 0;
    mpq_net_layer L;
    for (unsigned op = 0; op < nops; op++)
        on[op] = !list && mpq_net_layer_get(net, op, &L) == 0;
    if (!list)
        return 0;
    for (const char *p = list; *p;) {
        char *end;
        unsigned long lo = isdigit((unsigned char)*p) ? strtoul(p, &end, 10) : 0, hi = lo;
        if (!isdigit((unsigned char)*p) || (*end == '-' && !isdigit((unsigned char)end[1])))
            return snprintf(err, errlen, "--ops `%s`: expected operator indices and ranges, e.g. 0,3,5-9", list), 2;
        if (*end == '-')
            hi = strtoul(end + 1, &end, 10);
        if (*end && *end != ',')
            return snprintf(err, errlen, "--ops `%s`: expected operator indices and ranges, e.g. 0,3,5-9", list), 2;
        if (hi < lo || hi >= nops)
            return snprintf(err, errlen, "--ops `%s`: the model's operators are 0..%u", list, nops - 1), 2;
        for (unsigned long op = lo; op <= hi; op++) {
            int mac = mpq_net_layer_get(net, (unsigned)op, &L) == 0;
            if (!mac && lo == hi)
                return snprintf(err, errlen, "--ops: operator %lu is %s, which runs on the host (the RTL runs "
                                "CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED)", op,
                                mpq_tfl_op_name(mpq_net_op_code(net, (unsigned)op))), 2;
            picked += mac && !on[op];
            on[op] |= (uint8_t)mac;
        }
        p = *end ? end + 1 : end;
    }
    if (!picked)
        return snprintf(err, errlen, "--ops `%s`: no CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED in it", list), 2;
    return 0;
}

/* ---- the RTL executor ---------------------------------------------------------------------- */
typedef struct net_ctx {
    const net_args *a;
    const char *self;      /* argv[0] */
    const char *model;
    const uint8_t *on_rtl; /* per operator: 1 on the RTL */
    int flip_pending;      /* --inject-flip: not yet planted */
    int threaded;          /* the source runs in its own thread */
    unsigned rtl_parts;    /* parts run on the RTL */
    char traces[1500];     /* "trace: DIR\n" of a mismatch, for the last-run record */
    FILE *summary;         /* --vec-dir: DIR/summary.tsv, until the run ends in its temporary */
    char sum_tmp[1100], sum_fin[1100];
    unsigned sum_rows;     /* parts listed in it */
} net_ctx;

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The timing of part w->part of operator w->op: mpq_timing_default's, seeded per part. */
static void part_timing(const net_args *a, const mpq_accel_where *w, mpq_timing_opts *t)
{
    mpq_timing_default(a->timing_seed + ((uint64_t)w->op << 16) + w->part, a->p_valid, a->p_ready, t);
}

/* The part's cycles: the layer source (flip: with the planted fault; threaded: in its own
 * thread). Returns 0 or an MPQ_E code with err. */
static int open_part(const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_timing_opts *t, const char *what,
                     int flip, int threaded, tb_source **s, char *err, size_t errlen)
{
    int rc = tb_source_layer(hw, L, t, what, s, err, errlen);
    if (rc != 0)
        return rc;
    if (threaded)
        *s = tb_source_threaded(*s);
    if (flip)
        *s = tb_source_inject_flip(*s);
    return 0;
}

/* The per-cycle loops are kept out of line so that `make bench` can count their instructions
 * alone (callgrind --toggle-collect=net_cycles, as mpq_tb.c's run_test and bare_pass). */
#if defined(__GNUC__)
#define TB_NOINLINE __attribute__((noinline))
#else
#define TB_NOINLINE
#endif

/* Where drive's loop is: the tile and row of the next output, the cycles run. */
typedef struct drive_pos {
    unsigned tile, row, tiles;
    uint64_t c;
} drive_pos;

/* s's cycles through the open cosim cs, every port compared every cycle, the outputs into y.
 * Returns tb_source_next's last status (0 the end, < 0 an error), or 2 at the first mismatch
 * (recorded in res->mis[0]). */
static TB_NOINLINE int net_cycles(const mpq_hwcfg *hw, const mpq_hw_layer *L, tb_source *s, tb_cosim *cs,
                                  int whitebox, int32_t *y, drive_pos *p, tb_result *res)
{
    static mpq_port_in in;
    static mpq_port_out exp, act;
    int rc;
    while ((rc = tb_source_next(s, &in, &exp)) == 1) {
        uint32_t mis = tb_cosim_step(cs, &in, &exp, &act);
        if (mis) {
            tb_mismatch *m = &res->mis[0];
            *m = (tb_mismatch){.cycle = p->c, .ports = mis, .in = in, .exp = exp, .act = act};
            m->have_where = tb_source_where(s, &m->where);
            m->have_regs = whitebox;
            m->exp_regs = cs->exp_regs;
            m->act_regs = cs->act_regs;
            res->mismatches = 1;
            p->c++;
            return 2;
        }
        if (act.out_valid && in.out_ready && in.rst_n && p->tile < p->tiles) {
            for (unsigned l = 0; l < hw->lanes; l++)
                if (p->tile * hw->lanes + l < L->n)
                    y[(size_t)p->row * L->n + p->tile * hw->lanes + l] =
                        mpq_sext(mpq_bits_get(act.out_data, l * hw->out_bits, hw->out_bits), hw->out_bits);
            if (++p->row == L->m) {
                p->row = 0;
                p->tile++;
            }
        }
        p->c++;
    }
    return rc;
}

/* s's cycles through the DUT, every port compared every cycle, the outputs into y
 * ([L->m][L->n], tile by tile as out_data_o puts them out). Stops at the first mismatch
 * (recorded in res->mis[0]). Returns 0, 1 a mismatch, 2 an error (res->error). */
static int drive(const mpq_hwcfg *hw, const mpq_hw_layer *L, tb_source *s, const mpq_timing_opts *t, int whitebox,
                 int32_t *y, mpq_accel_stats *st, tb_result *res)
{
    memset(res, 0, sizeof *res);
    res->h = s->h;
    tb_cosim cs;
    /* The power-on state is random, from the timing seed (as a replay of layer.vec has it). */
    if (tb_cosim_open(&cs, hw, whitebox, t->seed, s->h.source, res->error, sizeof res->error) != 0)
        return 2;
    drive_pos p = {0, 0, mpq_hw_layer_tiles(hw, L), 0};
    double t0 = tb_now_s();
    int rc = net_cycles(hw, L, s, &cs, whitebox, y, &p, res);
    int status = rc == 2 ? 1 : 0;
    uint64_t c = p.c;
    st->secs = res->seconds = tb_now_s() - t0;
    res->cycles = c;
    if (status == 0 && rc < 0) {
        snprintf(res->error, sizeof res->error, "%s", tb_source_error(s));
        status = 2;
    } else if (status == 0 && p.tile != p.tiles) {
        snprintf(res->error, sizeof res->error, "the accelerator put out %u of %u tiles", p.tile, p.tiles);
        status = 2;
    }
    mpq_gen_stats gs;
    if (status == 0 && tb_source_stats(s, &gs)) {
        st->cycles = c - t->reset_cycles - t->tail_cycles;
        st->steps = gs.cm.steps;
        st->data_waits = gs.cm.data_waits;
        st->out_stalls = gs.cm.out_stalls;
    }
    tb_cosim_close(&cs);
    return status;
}

/* The part's cycles as the DUT saw them (the planted fault included) with the expected outputs,
 * as the vector file path: the traced build replays it for the waveform. limit > 0 keeps the
 * first limit cycles only (a prefix is a whole vector file: the format has no cycle count up
 * front); *saved and *all (may be NULL) get the cycles written and the part's. Returns 0 or an
 * MPQ_E code with err. */
static int save_cycles(const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_timing_opts *t, const char *what,
                       int flip, const char *cmd, const char *path, uint64_t limit, uint64_t *saved, uint64_t *all,
                       char *err, size_t errlen)
{
    tb_source *s;
    int rc = open_part(hw, L, t, what, flip, 0, &s, err, errlen);
    if (rc != 0)
        return rc;
    mpq_vec_header h = s->h;
    h.version = MPQ_VEC_VERSION;
    snprintf(h.generator, sizeof h.generator, "mpq-tb net");
    snprintf(h.command, sizeof h.command, "%s", cmd);
    mpq_vec_writer *w = NULL;
    static mpq_port_in in;
    static mpq_port_out exp;
    uint64_t n = 0;
    rc = mpq_vec_writer_open(path, &h, &w, err, errlen);
    while (rc == 0 && (rc = tb_source_next(s, &in, &exp)) == 1) {
        rc = (limit && n >= limit) || mpq_vec_writer_put(w, &in, &exp) == 0 ? 0 : MPQ_EIO;
        n++;
    }
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, rc == MPQ_EIO ? "write failed" : tb_source_error(s));
    if (rc != 0)
        mpq_vec_writer_abort(w);
    else
        rc = mpq_vec_writer_close(w, err, errlen);
    tb_source_close(s);
    if (saved)
        *saved = limit && n > limit ? limit : n;
    if (all)
        *all = n;
    return rc;
}

/* The command that runs this part alone again: the options given, with --ops the operator and
 * --timing-seed the run's (the other MAC layers run on the cycle model, whose outputs are the
 * same, so the part sees the same input). */
static void repro_text(const net_ctx *x, unsigned op, char *buf, size_t len)
{
    net_args one = *x->a;
    char ops[16];
    snprintf(ops, sizeof ops, "%u", op);
    one.ops = ops;
    uint64_t bits = (one.given | 1ull << NO_OPS | 1ull << NO_TIMING_SEED) &
                    ~(1ull << NO_JSON | 1ull << NO_OUTPUT | 1ull << NO_TRACE_BUILD | 1ull << NO_TRACE_BIN | 1ull << NO_VEC_DIR);
    const char *argv[40];
    char abuf[2048];
    int n = 0;
    size_t used = 0;
    mpq_opt_write(net_table, NO_COUNT, &one, bits, argv, &n, 40, abuf, sizeof abuf, &used);
    size_t k = (size_t)snprintf(buf, len, "%s net %s", x->self, x->model);
    for (int i = 0; i < n && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, " %s", argv[i]);
}

/* Where the first mismatch lies in the network's terms. */
typedef struct net_where {
    const char *port;       /* the first mismatching port */
    int lane;               /* the first lane that differs, or -1 */
    int acc;                /* 1: a lane's accumulator (white-box), at the step below */
    int have_elem;          /* the element is known */
    unsigned b, oy, ox, c;  /* the output tensor's element (n, y, x, c) */
    unsigned ky, kx, c0, c1; /* acc: the tap and input channels the lane's MACs took */
} net_where;

/* The lane whose out_data_o or ovf_o bit differs (or, white-box, its accumulator), the
 * element it computes and, for an accumulator, the step. */
static void locate(const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_accel_where *w, const tb_mismatch *m,
                   net_where *nw)
{
    memset(nw, 0, sizeof *nw);
    unsigned p = 0;
    while (p + 1 < TB_P_COUNT && !(m->ports >> p & 1u))
        p++;
    nw->port = tb_port_names[p];
    nw->lane = -1;
    for (unsigned l = 0; l < hw->lanes && nw->lane < 0; l++) {
        int d = (m->ports >> MPQ_OUT_OUT_DATA & 1u) &&
                mpq_bits_get(m->exp.out_data, l * hw->out_bits, hw->out_bits) !=
                    mpq_bits_get(m->act.out_data, l * hw->out_bits, hw->out_bits);
        if (d || ((m->ports >> MPQ_OUT_OVF & 1u) && ((m->exp.ovf ^ m->act.ovf) >> l & 1u)))
            nw->lane = (int)l;
    }
    const mpq_cm_where *cw = &m->where;
    if (!m->have_where || cw->tile < 0)
        return;
    long row = cw->out_row;
    if (nw->lane < 0 && m->have_regs && (m->ports >> TB_P_ACC & 1u)) {
        for (unsigned l = 0; l < hw->lanes && nw->lane < 0; l++)
            if (m->exp_regs.acc[l] != m->act_regs.acc[l])
                nw->lane = (int)l;
        nw->acc = nw->lane >= 0;
        row = cw->pixel;
        nw->ky = cw->ky;
        nw->kx = cw->kx;
        nw->c0 = cw->s * hw->klanes;
        nw->c1 = nw->c0 + hw->klanes - 1;
    }
    if (nw->lane < 0 || row < 0 || (unsigned long)row >= L->m)
        return;
    nw->have_elem = 1;
    nw->c = (unsigned)cw->tile * hw->lanes + (unsigned)nw->lane;
    mpq_map_where(w->map, w->part, (unsigned)row, &nw->b, &nw->oy, &nw->ox);
}

/* The report's network line: the model, the operator, its output tensor and element (n, y, x,
 * c), the cycle, the lane and its MACs. */
static void element_text(const mpq_hwcfg *hw, const mpq_accel_where *w, const tb_mismatch *m, const net_where *nw,
                         char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "model %s, op %u (%s), part %u of %u, output tensor %d: cycle %" PRIu64,
                                w->model, w->op, mpq_tfl_op_name(w->code), w->part + 1, w->map->nparts,
                                w->out_tensor, m->cycle);
    if (n >= len)
        return;
    if (!nw->have_elem)
        snprintf(buf + n, len - n, ", port %s (no output lane differs)", nw->port);
    else if (nw->acc)
        snprintf(buf + n, len - n, ", lane %d, accumulator of element (n %u, y %u, x %u, c %u) of tensor %d: the "
                 "step of its %u MACs at tap (ky %u, kx %u) over the part's input channels %u..%u", nw->lane,
                 nw->b, nw->oy, nw->ox, nw->c, w->out_tensor, hw->klanes, nw->ky, nw->kx, nw->c0, nw->c1);
    else
        snprintf(buf + n, len - n, ", lane %d (its %u MACs, output channel c=%u): element (n %u, y %u, x %u, c %u) "
                 "of tensor %d", nw->lane, hw->klanes, nw->c, nw->b, nw->oy, nw->ox, nw->c, w->out_tensor);
}

/* dir/network.json: the network line's facts for scripts. 0 or -1. */
static int write_network_json(const char *dir, const mpq_accel_where *w, const tb_mismatch *m, const net_where *nw,
                              const char *text)
{
    char tmp[1500], fin[1500];
    FILE *f = tb_open_tmp(dir, "network.json", tmp, sizeof tmp, fin, sizeof fin);
    if (!f)
        return -1;
    fprintf(f, "{\"model\": ");
    tb_json_str(f, w->model);
    fprintf(f, ", \"op\": %u, \"type\": \"%s\", \"part\": %u, \"parts\": %u, \"out_tensor\": %d, \"cycle\": %" PRIu64
               ", \"port\": \"%s\", \"lane\": %d", w->op, mpq_tfl_op_name(w->code), w->part + 1, w->map->nparts,
            w->out_tensor, m->cycle, nw->port, nw->lane);
    if (nw->have_elem)
        fprintf(f, ", \"element\": {\"n\": %u, \"y\": %u, \"x\": %u, \"c\": %u}", nw->b, nw->oy, nw->ox, nw->c);
    if (nw->acc)
        fprintf(f, ", \"accumulator_step\": {\"ky\": %u, \"kx\": %u, \"c_first\": %u, \"c_last\": %u}", nw->ky,
                nw->kx, nw->c0, nw->c1);
    fprintf(f, ", \"text\": ");
    tb_json_str(f, text);
    fprintf(f, "}\n");
    return tb_close_tmp(f, tmp, fin);
}

/* A mismatch of part w: the trace folder (layer.vec, the traced replay's waveform, report.txt
 * and report.json, the network's lines added to report.txt), the printed report; err: one line. */
static void report_mismatch(net_ctx *x, const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_accel_where *w,
                            const mpq_timing_opts *t, int flip, tb_result *res, char *err, size_t errlen)
{
    char model[200], dir[1400], vec[1500], elem[700], note[1200] = "", why[1024] = "";
    snprintf(model, sizeof model, "%s", base_name(x->model));
    char *dot = strstr(model, ".tflite");
    if (dot)
        *dot = '\0';
    snprintf(res->name, sizeof res->name, "net-%s-op%u-part%u", model, w->op, w->part + 1);
    repro_text(x, w->op, res->repro, sizeof res->repro);
    net_where nw;
    locate(hw, L, w, &res->mis[0], &nw);
    element_text(hw, w, &res->mis[0], &nw, elem, sizeof elem);
    snprintf(dir, sizeof dir, "%s/%s", x->a->trace_dir, res->name);
    tb_sanitize(dir + strlen(x->a->trace_dir) + 1);
    snprintf(vec, sizeof vec, "%s/network.json", dir);
    unlink(vec); /* an older run's files must not mix with this one's */
    snprintf(vec, sizeof vec, "%s/layer.vec", dir);
    unlink(vec);
    tb_remove_trace_dir(dir);
    tb_cleanup_dir(dir);
    if (tb_mkdir_p(dir) != 0) {
        snprintf(note, sizeof note, "cannot create %s", dir);
    } else if (save_cycles(hw, L, t, res->h.source, flip, res->repro, vec, 0, NULL, NULL, why, sizeof why) != 0) {
        snprintf(note, sizeof note, "no waveform: the layer's cycles could not be saved: %s", why);
    } else {
        tb_opts o;
        memset(&o, 0, sizeof o);
        o.replay = 1;
        o.trace_bin = x->a->trace_bin;
        o.trace_build = x->a->trace_build;
        o.before = x->a->before;
        o.after = x->a->after;
        o.whitebox = x->a->whitebox; /* the re-run compares what this run compared */
        o.given = x->a->whitebox ? 1ull << TB_O_WHITEBOX : 0;
        snprintf(res->file, sizeof res->file, "%s", vec);
        res->have_wave = tb_make_waveform(&o, x->self, res, dir, NULL, note, sizeof note) == 0;
    }
    snprintf(res->trace_dir, sizeof res->trace_dir, "%s", dir);
    snprintf(x->traces, sizeof x->traces, "trace: %s\n", dir);
    snprintf(res->trace_note, sizeof res->trace_note, "%s", note);
    tb_write_reports(dir, res, x->a->before, x->a->after);
    write_network_json(dir, w, &res->mis[0], &nw, elem);
    char rpath[1500];
    snprintf(rpath, sizeof rpath, "%s/report.txt", dir);
    FILE *f = fopen(rpath, "a");
    if (f) {
        fprintf(f, "  network: %s\n  layer.vec: the part's cycles as the DUT saw them (mpq-tb replay %s)\n", elem, vec);
        fclose(f);
    }
    tb_cleanup_dir(NULL);
    tb_print_report(stdout, res);
    printf("  network: %s\n", elem);
    snprintf(err, errlen, "the RTL differs from the golden cycle model: %s; trace %s", elem, dir);
}

/* --vec-dir: the part's cycles (as the DUT saw them) into DIR/<model>-op<o>-part<p>.vec, for the
 * benchmark's bare loop (mpq-tb replay --bare) on the very cycles this run drove (only the first
 * --vec-cycles of them when given), and its row in DIR/summary.tsv. Returns 0, or 2 with err. */
static int save_part(net_ctx *x, const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_accel_where *w,
                     const mpq_timing_opts *t, const char *what, int flip, const mpq_accel_stats *st, char *err,
                     size_t errlen)
{
    char model[200], name[300], path[1400], cmd[1024], why[1024];
    snprintf(model, sizeof model, "%s", base_name(x->model));
    char *dot = strstr(model, ".tflite");
    if (dot)
        *dot = '\0';
    snprintf(name, sizeof name, "%s-op%u-part%u.vec", model, w->op, w->part + 1);
    snprintf(path, sizeof path, "%s/%s", x->a->vec_dir, name);
    repro_text(x, w->op, cmd, sizeof cmd);
    uint64_t saved, all;
    if (save_cycles(hw, L, t, what, flip, cmd, path, x->a->vec_cycles, &saved, &all, why, sizeof why) != 0)
        return snprintf(err, errlen, "--vec-dir: %s", why), 2;
    if (x->summary)
        fprintf(x->summary, "layer%u\t%u\t%u\t%u\t%" PRIu64 "\t%" PRIu64 "\t%s\t%" PRIu64 "\t%" PRIu64 "\n",
                ++x->sum_rows, L->m, L->k, L->n, st->cycles, w->macs, name, saved, all);
    return 0;
}

/* --vec-dir's summary (scripts/ppa/ppa.sh's NET=SUMMARY.tsv): the model, then one row per part
 * saved, "layer<i> m k n cycles MACs file saved all" (cycles: the accelerator's, from the first
 * configuration beat to the last output; saved and all: the file's records and the part's, reset
 * included), in a temporary file that summary_close publishes when the run passed. 0, or 2
 * printed. */
static int summary_open(net_ctx *x, const mpq_hwcfg *hw, const char *cfgname)
{
    char hb[256];
    if (tb_mkdir_p(x->a->vec_dir) != 0)
        return fprintf(stderr, "%s: --vec-dir %s: cannot create it: %s\n", tag, x->a->vec_dir, strerror(errno)), 2;
    x->summary = tb_open_tmp(x->a->vec_dir, "summary.tsv", x->sum_tmp, sizeof x->sum_tmp, x->sum_fin,
                             sizeof x->sum_fin);
    if (!x->summary)
        return fprintf(stderr, "%s: --vec-dir %s: cannot write summary.tsv: %s\n", tag, x->a->vec_dir,
                       strerror(errno)), 2;
    remove(x->sum_fin); /* no stale summary beside a failed run's files */
    fprintf(x->summary, "# mpq-tb net %s on %s (%s), %s weights; cycles per file: %" PRIu64 " (0: all)\n",
            x->model, *cfgname ? cfgname : "this RTL", mpq_hwcfg_str(hw, hb, sizeof hb),
            x->a->decomp ? x->a->decomp : "int8", x->a->vec_cycles);
    fprintf(x->summary, "network\t%s%s%s%s%s\n", base_name(x->model), x->a->decomp ? " --decomp " : "",
            x->a->decomp ? x->a->decomp : "", x->a->map ? " --map " : "", x->a->map ? x->a->map : "");
    fprintf(x->summary, "# layer\tm\tk\tn\tcycles\tmacs\tvectors\tsaved\tall\n");
    return 0;
}

/* Publishes the summary when status is 0, else drops it. Returns status, or 2 printed. */
static int summary_close(net_ctx *x, int status)
{
    if (!x->summary)
        return status;
    if (status != 0) {
        fclose(x->summary);
        remove(x->sum_tmp);
    } else if (tb_close_tmp(x->summary, x->sum_tmp, x->sum_fin) != 0) {
        fprintf(stderr, "%s: --vec-dir: cannot write %s\n", tag, x->sum_fin);
        status = 2;
    }
    x->summary = NULL;
    return status;
}

/* mpq_accel.run: part w of a layer on the RTL (or, for operators not in --ops, on the golden
 * cycle model). */
static int rtl_run(void *ctx, const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_accel_where *w, int32_t *y,
                   mpq_accel_stats *st, char *err, size_t errlen)
{
    net_ctx *x = ctx;
    if (!x->on_rtl[w->op])
        return mpq_accel_cycle_model.run(mpq_accel_cycle_model.ctx, hw, L, w, y, st, err, errlen);
    memset(st, 0, sizeof *st);
    mpq_timing_opts t;
    part_timing(x->a, w, &t);
    char what[256];
    snprintf(what, sizeof what, "net %s op %u (%s) part %u of %u, p-valid=%g p-ready=%g", base_name(w->model),
             w->op, mpq_tfl_op_name(w->code), w->part + 1, w->map->nparts, t.p_valid, t.p_ready);
    int flip = x->flip_pending;
    x->flip_pending = 0;
    tb_source *s;
    if (open_part(hw, L, &t, what, flip, x->threaded, &s, err, errlen) != 0)
        return 2;
    static tb_result res;
    int status = drive(hw, L, s, &t, x->a->whitebox, y, st, &res);
    tb_source_close(s);
    x->rtl_parts++;
    if (status == 2)
        snprintf(err, errlen, "%s", res.error);
    else if (status == 1)
        report_mismatch(x, hw, L, w, &t, flip, &res, err, errlen);
    else if (x->a->vec_dir && save_part(x, hw, L, w, &t, what, flip, st, err, errlen) != 0)
        status = 2;
    return status;
}

/* ---- the run ------------------------------------------------------------------------------- */
/* The model's outputs of net equal those of ref (the golden model's run of the whole model)?
 * Returns 1, or 0 with err naming the first output and byte that differ. */
static int outputs_equal(const mpq_net *net, const mpq_net *ref, char *err, size_t errlen)
{
    for (unsigned i = 0; i < mpq_net_noutputs(net); i++) {
        unsigned t = (unsigned)mpq_net_output_tensor(net, i);
        size_t nb = mpq_net_tensor_bytes(net, t);
        uint8_t *a = malloc(nb ? nb : 1), *b = malloc(nb ? nb : 1);
        int same = a && b && mpq_net_tensor_get(net, t, a) == 0 && mpq_net_tensor_get(ref, t, b) == 0;
        size_t k = 0;
        while (same && k < nb && a[k] == b[k])
            k++;
        free(a);
        free(b);
        if (!same || k < nb)
            return snprintf(err, errlen, "output %u (tensor %u) differs from the golden model's at byte %zu", i, t,
                            k), 0;
    }
    return 1;
}

/* The model's outputs of net, one after the other, into path (atomically). 0 or -1. */
static int write_outputs(const mpq_net *net, const char *path)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    int ok = f != NULL;
    for (unsigned i = 0; ok && i < mpq_net_noutputs(net); i++) {
        unsigned t = (unsigned)mpq_net_output_tensor(net, i);
        size_t nb = mpq_net_tensor_bytes(net, t);
        uint8_t *b = malloc(nb ? nb : 1);
        ok = b && mpq_net_tensor_get(net, t, b) == 0 && fwrite(b, 1, nb, f) == nb;
        free(b);
    }
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

static void print_table(const mpq_hwcfg *hw, const net_ctx *x, const mpq_netrun_layer *rows, unsigned n, int failed,
                        const char *cfgname)
{
    double peak = (double)hw->lanes * hw->klanes;
    printf("%-4s %-18s %-34s %10s %9s %8s %9s %10s %-5s %-6s %7s  %s\n", "op", "type", "shape", "MACs", "cycles",
           "MAC util", "act waits", "out stalls", "on", "result", "sim s", "mapping");
    uint64_t cyc = 0, macs = 0, rtl_cyc = 0;
    double secs = 0;
    for (unsigned i = 0; i < n; i++) {
        const mpq_netrun_layer *r = &rows[i];
        int last_failed = failed && i + 1 == n, rtl = x->on_rtl[r->op];
        cyc += r->st.cycles;
        macs += r->macs;
        rtl_cyc += rtl ? r->st.cycles : 0;
        secs += r->st.secs;
        printf("%-4u %-18s %-34s %10" PRIu64 " %9" PRIu64 " %8.3f %9" PRIu64 " %10" PRIu64 " %-5s %-6s %7.2f  %s\n",
               r->op, mpq_tfl_op_name(r->code), r->shape, r->macs, r->st.cycles,
               r->st.cycles ? (double)r->macs / ((double)r->st.cycles * peak) : 0.0, r->st.data_waits,
               r->st.out_stalls, rtl ? "RTL" : "cm", last_failed ? "FAILED" : "passed", r->st.secs, r->how);
    }
    printf("total: %" PRIu64 " MACs in %" PRIu64 " cycles of %s%s configuration (%u x %u MACs per cycle): MAC "
           "utilization %.3f; %" PRIu64 " cycles on the RTL, every port compared every cycle, %.2f s; the host's "
           "operators are not counted\n", macs, cyc, *cfgname ? "the " : "this RTL's", cfgname, hw->lanes, hw->klanes,
           cyc ? (double)macs / ((double)cyc * peak) : 0.0, rtl_cyc, secs);
}

static int write_json(const char *path, const char *model, const char *cfgname, const mpq_hwcfg *hw,
                      const net_ctx *x, const mpq_netrun_layer *rows, unsigned n, int passed)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    uint64_t cyc = 0, macs = 0, rtl_cyc = 0;
    double secs = 0;
    for (unsigned i = 0; i < n; i++) {
        cyc += rows[i].st.cycles;
        macs += rows[i].macs;
        rtl_cyc += x->on_rtl[rows[i].op] ? rows[i].st.cycles : 0;
        secs += x->on_rtl[rows[i].op] ? rows[i].st.secs : 0;
    }
    /* passed, seconds, cycles_per_second: what scripts/models/bench_models.py --rtl-dir reads */
    fprintf(f, "{\"model\": \"%s\", \"config\": \"%s\", \"macs_per_cycle\": %u, \"mpq_cycles\": %" PRIu64
               ", \"macs\": %" PRIu64 ", \"rtl_passed\": %s, \"passed\": %s, \"rtl_cycles\": %" PRIu64
               ", \"seconds\": %.4f, \"cycles_per_second\": %.0f, \"p_valid\": %g, \"p_ready\": %g, \"timing_seed\": %"
               PRIu64 ", \"layers\": [\n", model, *cfgname ? cfgname : "unnamed", hw->lanes * hw->klanes, cyc, macs,
            passed ? "true" : "false", passed ? "true" : "false", rtl_cyc, secs, secs > 0 ? (double)rtl_cyc / secs : 0.0,
            x->a->p_valid, x->a->p_ready, x->a->timing_seed);
    for (unsigned i = 0; i < n; i++) {
        const mpq_netrun_layer *r = &rows[i];
        char row[1024];
        mpq_netrun_layer_json(r, row, sizeof row);
        fprintf(f, "  {%s, \"on\": \"%s\", \"passed\": %s, \"sim_s\": %.3f}%s\n", row,
                x->on_rtl[r->op] ? "RTL" : "cycle model", passed || i + 1 < n ? "true" : "false", r->st.secs,
                i + 1 < n ? "," : "");
    }
    fprintf(f, "]}\n");
    return tb_close_tmp(f, tmp, path);
}

/* The RTL's configuration, checked against --config; its name for the table. Returns 0 or 2
 * (printed). */
static int rtl_config(const net_args *a, mpq_hwcfg *hw, char *name, size_t len)
{
    char err[1024], b1[256], b2[256];
    if (tb_rtl_config(hw, err, sizeof err) != 0)
        return fprintf(stderr, "%s: %s\n", tag, err), 2;
    if (a->whitebox && !mpq_dut_whitebox())
        return fprintf(stderr, "%s: --whitebox needs the white-box build of the testbench "
                       "(build/vl/<config>/wb/mpq-tb: make tb-wb CONFIG=...)\n", tag), 2;
    snprintf(name, len, "%s", "");
    if (!a->config_file)
        return 0;
    mpq_hwcfg want;
    if (mpq_hwcfg_load(a->config_file, &want, err, sizeof err) != 0)
        return fprintf(stderr, "%s: --config: %s\n", tag, err), 2;
    if (!mpq_hwcfg_equal(&want, hw))
        return fprintf(stderr, "%s: --config %s says %s, but this RTL reports %s on hwcfg_o\n", tag, a->config_file,
                       mpq_hwcfg_str(&want, b1, sizeof b1), mpq_hwcfg_str(hw, b2, sizeof b2)), 2;
    const char *b = base_name(a->config_file);
    snprintf(name, len, "%.*s", (int)(strstr(b, ".cfg") ? strstr(b, ".cfg") - b : (long)strlen(b)), b);
    return 0;
}

/* The model, its two runs (net: the accelerator's, ref: the golden model's) with the same
 * inputs, and the operators on the RTL. Returns 0 or 2 (printed). */
static int load(const net_args *a, const char *model, mpq_tfl_model *m, mpq_net **net, mpq_net **ref,
                uint8_t **on)
{
    char err[1024];
    if (mpq_tfl_load(model, m, err, sizeof err) != 0)
        return fprintf(stderr, "%s: %s\n", tag, err), 2;
    mpq_net_opts o;
    mpq_net_opts_default(&o);
    o.golden_kernels = 1;
    if (mpq_net_init(net, m, &o, err, sizeof err) != 0 || mpq_net_init(ref, m, &o, err, sizeof err) != 0)
        return fprintf(stderr, "%s: %s: %s\n", tag, model, err), 2;
    *on = calloc(mpq_net_ops(*net) + 1, 1);
    if (!*on)
        return fprintf(stderr, "%s: out of memory\n", tag), 2;
    if (parse_ops(a->ops, *net, *on, err, sizeof err) != 0 ||
        mpq_net_inputs_init(*net, m, a->input, a->seed, err, sizeof err) != 0 ||
        mpq_net_inputs_init(*ref, m, a->input, a->seed, err, sizeof err) != 0)
        return fprintf(stderr, "%s: %s\n", tag, err), 2;
    return 0;
}

/* Runs the model (loaded) and prints the table and the verdict. Returns the exit status. */
static int run_model(net_ctx *x, mpq_tfl_model *m, mpq_net *net, mpq_net *ref, const mpq_hwcfg *hw,
                     const char *cfgname)
{
    char err[2048], hb[256];
    mpq_netrun_layer *rows = calloc(mpq_net_ops(net) + 1, sizeof *rows);
    if (!rows)
        return fprintf(stderr, "%s: out of memory\n", tag), 2;
    char in[1100];
    if (x->a->input)
        snprintf(in, sizeof in, "%s", x->a->input);
    else
        snprintf(in, sizeof in, "random, seed %" PRIu64, x->a->seed);
    printf("%s: %s on the RTL (%s), input %s, timing p-valid %g p-ready %g seed %" PRIu64
           " (--timing-seed %" PRIu64 " reproduces)\n", tag, x->model, mpq_hwcfg_str(hw, hb, sizeof hb), in,
           x->a->p_valid, x->a->p_ready, x->a->timing_seed, x->a->timing_seed);
    fflush(stdout);
    mpq_map_opts mo = {.pack = x->a->pack, .decomp = x->a->decomp && !x->a->ndl ? &x->a->dd : NULL,
                       .layers = x->a->dlp, .nlayers = x->a->ndl, .maps = x->a->mlp, .nmaps = x->a->nml};
    int approx = x->a->decomp != NULL;
    mpq_accel ex = {x, "RTL", rtl_run};
    unsigned n = 0;
    if (x->a->vec_dir && summary_open(x, hw, cfgname) != 0)
        return free(rows), 2;
    int status = mpq_netrun(net, m, hw, &mo, &ex, rows, &n, err, sizeof err);
    if (n) /* none: refused before any layer ran */
        print_table(hw, x, rows, n, status != 0, cfgname);
    if (status == 0 && mpq_net_run(ref, err, sizeof err) != 0)
        status = 2;
    else if (status == 0 && approx) {
        char diff[512];
        int eq = outputs_equal(net, ref, diff, sizeof diff);
        printf("%s: passed: %u layer parts on the RTL, every port equal every cycle; every layer's output equal to "
               "its decomposed layer's functional model (--decomp %s); the final output %s\n", tag, x->rtl_parts,
               x->a->decomp, eq ? "equals the int8 model's" : "against the int8 model's (not a check):");
        if (!eq)
            printf("%s:   %s\n", tag, diff);
    } else if (status == 0 && !outputs_equal(net, ref, err, sizeof err))
        status = 1;
    if (status == 0 && !approx)
        printf("%s: passed: %u layer parts on the RTL, every port equal every cycle; every layer's output and the "
               "model's final output equal to the golden model's\n", tag, x->rtl_parts);
    else if (status != 0) {
        fflush(stdout); /* the report above, then the verdict, in one log */
        fprintf(stderr, "%s: %s%s\n", tag, status == 1 ? "FAILED: " : "", err);
    }
    if (x->a->output && status == 0 && write_outputs(net, x->a->output) != 0) {
        fprintf(stderr, "%s: --output %s: cannot write: %s\n", tag, x->a->output, strerror(errno));
        status = 2;
    }
    if (x->a->json && status != 2 && write_json(x->a->json, x->model, cfgname, hw, x, rows, n, status == 0) != 0) {
        fprintf(stderr, "%s: --json %s: cannot write: %s\n", tag, x->a->json, strerror(errno));
        status = 2;
    }
    free(rows);
    return summary_close(x, status);
}

int tb_net_main(int argc, char **argv)
{
    net_args a;
    const char *model;
    int rc = net_parse(argc, argv, &a, &model);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    mpq_hwcfg hw;
    char cfgname[128];
    if (rtl_config(&a, &hw, cfgname, sizeof cfgname) != 0)
        return 2;
    if (!(a.given >> NO_TIMING_SEED & 1u))
        a.timing_seed = (uint64_t)time(NULL);
    mpq_tfl_model m;
    memset(&m, 0, sizeof m);
    mpq_net *net = NULL, *ref = NULL;
    uint8_t *on = NULL;
    int status = load(&a, model, &m, &net, &ref, &on);
    if (status == 0) {
        static net_ctx x;
        x = (net_ctx){&a, argv[0], model, on, a.inject_flip,
                       a.source_thread < 0 ? tb_pipe_useful() : a.source_thread, 0, "", NULL, "", "", 0};
        tb_cleanup_on_signal();
        status = run_model(&x, &m, net, ref, &hw, cfgname);
        /* make wave opens the trace of the last run */
        char cmd[4096];
        tb_join_cmd(cmd, sizeof cmd, argc, argv);
        tb_write_last_run(a.trace_dir, cmd, x.traces);
    }
    free(on);
    mpq_net_free(net);
    mpq_net_free(ref);
    mpq_tfl_free(&m);
    return status;
}
