/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpq_opts.h: command-line options described once. A table of options (name, value type,
 * range or choices, help) gives the parser, the writer of command lines (mpq-tb's reproduce
 * lines and traced re-runs; the farm's jobs through `mpq-golden options --json`) and --help.
 *
 * mpq_stim_opts[] is the table of the layer and timing options that the stimulus tools share
 * (mpq-golden gen, mpq-tb lockstep): one struct (mpq_stim_args) holds their values, each entry
 * says which tools take it. Each tool adds a table of its own options over its own struct
 * and parses both at once (an mpq_opt_set per table).
 *
 * The parser and the writers never print: they return 0 or an error with the message in err
 * ("--m: `0` is not an integer in 1..65535"), which the tool prints after its name.
 */
#ifndef MPQ_OPTS_H
#define MPQ_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "stim/mpq_gen.h"
#include "stim/mpq_hwlayer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mpq_opt_type {
    MPQ_OPT_FLAG = 0, /* no value: the int field becomes 1 */
    MPQ_OPT_UINT,     /* unsigned integer in lo..hi (decimal, or 0x hex); with choices set,
                         choices[0] names the configuration parameter that bounds it ("KMax"):
                         hi is the largest any configuration allows, and messages and --help
                         say lo..KMax (the tool checks the configuration's own value) */
    MPQ_OPT_U64,      /* uint64_t in lo..hi */
    MPQ_OPT_PROB,     /* double, a probability in (0, 1] */
    MPQ_OPT_CHOICE,   /* one of choices[]: the int field becomes values[i] (i when NULL) */
    MPQ_OPT_TEXT,     /* const char *: the argument itself */
    MPQ_OPT_SHAPE,    /* mpq_conv_shape: mpq_conv_shape_parse's text */
    MPQ_OPT_PROFILE   /* int: an mpq_profile by name (mpq_profile_parse) */
} mpq_opt_type;

/* The tools an entry of a shared table belongs to (mpq_opt.tools; 0: every tool). */
#define MPQ_TOOL_GEN 1u /* mpq-golden gen */
#define MPQ_TOOL_TB 2u  /* mpq-tb */
/* Entry flags. */
#define MPQ_OPT_INTERNAL 1u /* not in --help (mpq-tb's traced re-run) */
#define MPQ_OPT_LAYER 2u    /* shapes the layer or its timing: mpq-tb lockstep only */

typedef struct mpq_opt {
    const char *name;   /* "--seed", "-q" */
    const char *arg;    /* the value's name in --help ("S"); NULL for a flag */
    mpq_opt_type type;
    size_t field;       /* offset of the value in the set's struct */
    uint64_t lo, hi;    /* UINT, U64: the legal range */
    const char *const *choices; /* CHOICE: NULL-terminated; UINT: the bounding parameter */
    const int *values;  /* CHOICE: the value of each choice, or NULL (its index) */
    unsigned tools;     /* MPQ_TOOL_*: the tools that take it; 0 every one */
    unsigned flags;     /* MPQ_OPT_INTERNAL, MPQ_OPT_LAYER */
    const char *help;   /* one sentence; --help wraps it */
} mpq_opt;

/* One table over one struct, as a tool parses it. */
typedef struct mpq_opt_set {
    const mpq_opt *opt;
    size_t n;           /* entries (at most 64) */
    void *base;         /* the struct the entries' offsets point into */
    unsigned tool;      /* MPQ_TOOL_*: entries of other tools are unknown here; 0: all */
    uint64_t mask;      /* bit i: entry i is in this set (0: every entry), so that two sets
                           can split one table between two --help headings */
    const char *title;  /* the --help heading of its entries, or NULL (the previous one's) */
    uint64_t given;     /* bit i: entry i was given (the parser sets it) */
} mpq_opt_set;

/* The values of an on/off CHOICE entry: choices mpq_opt_on_off ("on", "off"), values
 * mpq_opt_one_zero (1, 0). */
extern const char *const mpq_opt_on_off[3];
extern const int mpq_opt_one_zero[2];

/* Parses argv[first..argc) into the sets (an option may be given twice: the last wins).
 * Arguments that are not options go to pos[] (at most argc of them, *npos counts them).
 * Returns 0, 1 when --help or -h was given (nothing else looked at), or 2 with the message
 * in err: "unknown option `--x`; see --help", "`--m` needs a value; see --help", or the
 * value's: "--m: `0` is not an integer in 1..65535" ("--k: `0` is not an integer in 1..KMax"), "--p-valid: `2` is not a probability in
 * (0, 1]", "--acc: `x` is not sat or wrap", "--profile: unknown profile `x`",
 * "--shape: ...". */
int mpq_opt_parse(mpq_opt_set *sets, size_t nsets, int argc, char **argv, int first,
                  const char **pos, int *npos, char *err, size_t errlen);
/* 1 when entry i of set s was given. */
static inline int mpq_opt_given(const mpq_opt_set *s, unsigned i) { return (int)(s->given >> i & 1u); }
/* The entry of the sets named `name`, or NULL (with *set its set). */
const mpq_opt *mpq_opt_find(const mpq_opt_set *sets, size_t nsets, const char *name, size_t *set);

/* Appends the entries of table opt[0..n) whose bit is set in `bits` (in table order), with
 * their values in the struct at base, as command-line arguments: "--name", then its value
 * as the parser reads it. argv[*n..] point into buf[*used..] (at most max entries in argv,
 * NULL-terminated). Returns 0, or -1 when argv or buf is full (what fit stays). */
int mpq_opt_write(const mpq_opt *opt, size_t n, const void *base, uint64_t bits, const char **argv,
                  int *argc, int max, char *buf, size_t buflen, size_t *used);
/* The --help lines of the sets (not the internal entries), a heading per titled set: "  --m M
 * ... help" wrapped to 100 columns. Returns the length (the text is cut at len - 1). */
size_t mpq_opt_help(const mpq_opt_set *sets, size_t nsets, char *buf, size_t len);
/* The sets' entries as a JSON array for scripts: name, arg, type, lo, hi, choices, tools,
 * layer, help, and hi_param (the configuration parameter that bounds the value, when one does).
 * Returns the length (cut at len - 1). */
size_t mpq_opt_json(const mpq_opt_set *sets, size_t nsets, char *buf, size_t len);

/* ---- The layer and timing options of the stimulus tools ------------------------------------ */
typedef struct mpq_stim_args {
    uint64_t seed;          /* --seed: gen the layer seed; lockstep the first run's */
    unsigned runs;          /* --runs (lockstep): layers */
    uint64_t cycles;        /* --cycles (lockstep): run layers until this many cycles */
    int layer;              /* --layer (lockstep): -1 any, else an mpq_layer_kind */
    mpq_conv_shape shape;   /* --shape: a convolution */
    unsigned m, k, n;       /* --m --k --n: a fully-connected layer */
    unsigned hp_n;          /* --hp-n */
    int acc_sat;            /* --acc: 1 sat, 0 wrap */
    int profile;            /* --profile: an mpq_profile */
    double p_valid, p_ready;
    int offer_early;        /* --offer: 1 early, 0 late */
    int mid_reset;          /* --mid-reset (lockstep): 1 on, 0 off */
    uint64_t timing_seed;   /* --timing-seed (gen) */
    uint64_t reset_at;      /* --reset-at (gen) */
    unsigned reset_cycles, tail_cycles; /* --reset-cycles, --tail-cycles (gen) */
    int stats, quiet;       /* --stats, -q */
    uint64_t given;         /* bit MPQ_SO_*: the option was given (the tool's parse sets it) */
} mpq_stim_args;

/* mpq_stim_opts[] entries, in table order (the order the writer writes them in). */
typedef enum mpq_stim_opt {
    MPQ_SO_SEED = 0, MPQ_SO_RUNS, MPQ_SO_CYCLES, MPQ_SO_LAYER, MPQ_SO_SHAPE, MPQ_SO_M, MPQ_SO_K,
    MPQ_SO_N, MPQ_SO_HP_N, MPQ_SO_ACC, MPQ_SO_PROFILE, MPQ_SO_P_VALID, MPQ_SO_P_READY,
    MPQ_SO_OFFER, MPQ_SO_MID_RESET, MPQ_SO_TIMING_SEED, MPQ_SO_RESET_AT, MPQ_SO_RESET_CYCLES,
    MPQ_SO_TAIL_CYCLES, MPQ_SO_STATS, MPQ_SO_QUIET, MPQ_SO_COUNT
} mpq_stim_opt;
extern const mpq_opt mpq_stim_opts[MPQ_SO_COUNT];
/* The set of mpq_stim_opts over a, for tool (MPQ_TOOL_*), titled; mask: as mpq_opt_set's. */
mpq_opt_set mpq_stim_set(mpq_stim_args *a, unsigned tool, uint64_t mask, const char *title);
/* The bits of the entries that shape a layer or its timing (MPQ_OPT_LAYER). */
uint64_t mpq_stim_layer_mask(void);

/* The layer and timing of lockstep run `seed` on configuration hw: the options of a that were
 * given, the rest drawn from the seed (shapes mostly small, now and then a counter's full
 * range (M = 65535, K = KMax, many tiles) or K <= KLanes; convolutions of a few thousand steps;
 * valid and ready probabilities from 1 down to 0.25; beats mostly offered early; now and then
 * a reset in the middle of the layer). The one rule of mpq-tb lockstep and mpq-tb txn. */
void mpq_stim_layer_opts(const mpq_stim_args *a, const mpq_hwcfg *hw, uint64_t seed, mpq_layer_opts *lo,
                         mpq_timing_opts *to);

#ifdef __cplusplus
}
#endif
#endif
