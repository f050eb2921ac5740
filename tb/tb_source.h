/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tb_source.h: where the testbench's cycles come from. A stimulus source gives, cycle after
 * cycle, every input port of the DUT and every expected output port (the Ibex cosim habit:
 * the testbench talks to an interface whose methods state their contract, never to
 * `if (file) ... else ...` in the hot loop).
 *
 * Sources: replay (a vector file), lockstep (a random layer, the golden generator and cycle
 * model in this process). Wrappers, which take a source and are one: threaded (the source
 * runs ahead in its own thread, tb_pipe.h) and inject-hold (breaks a stream rule once, to
 * test the RTL's assertions). A wrapper owns the source it wraps.
 */
#ifndef TB_SOURCE_H
#define TB_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "stim/mpq_gen.h"
#include "stim/mpq_opts.h"
#include "stim/mpq_vec.h"

typedef struct tb_source tb_source;

typedef struct tb_source_ops {
    /* The next cycle into in (every input port) and exp (every expected output port).
     * Returns 1 for a cycle, 0 after the last one, a negative MPQ_E* code on an error
     * (message: error()). The caller keeps in and exp between calls: a source may write only
     * what changed since the previous cycle. */
    int (*next)(tb_source *s, mpq_port_in *in, mpq_port_out *exp);
    /* Where the golden cycle model was in the cycle next() returned last: 1 with *w filled,
     * 0 when this source has no cycle model (replay). */
    int (*where)(const tb_source *s, mpq_cm_where *w);
    /* Why next() failed. */
    const char *(*error)(const tb_source *s);
    /* What the stimulus exercised (lockstep: the generator's counts), once next() returned 0:
     * 1 with *st filled, 0 when this source has none (replay). */
    int (*stats)(const tb_source *s, mpq_gen_stats *st);
    /* Frees the source (and the one it wraps). */
    void (*close)(tb_source *s);
    /* Snapshots (tb/tb_snap.h), which fork the process: pause() stops any thread the source
     * runs (the cycles it made ahead are still returned, then next() runs in the caller's
     * thread) and returns 1 once none is left: the whole source is then in this thread, at
     * the cycle next() returns next; 0 while cycles made ahead remain. resume() lets it run
     * ahead again. */
    int (*pause)(tb_source *s);
    void (*resume)(tb_source *s);
    /* The golden cycle model in the cycle next() returns next (lockstep, when pause() has
     * returned 1, or after next() returned 0: the model at the end), or NULL (replay). */
    const mpq_cm *(*model)(const tb_source *s);
} tb_source_ops;

struct tb_source {
    const tb_source_ops *ops;
    mpq_vec_header h; /* configuration, seeds, shape, what the stimulus is (h.source) */
    const char *path; /* replay: the vector file; NULL otherwise */
    int has_model;    /* 1 when where() knows where the golden cycle model is */
};

static inline int tb_source_next(tb_source *s, mpq_port_in *in, mpq_port_out *exp)
{
    return s->ops->next(s, in, exp);
}
static inline int tb_source_where(const tb_source *s, mpq_cm_where *w) { return s->ops->where(s, w); }
static inline const char *tb_source_error(const tb_source *s) { return s->ops->error(s); }
static inline int tb_source_stats(const tb_source *s, mpq_gen_stats *st) { return s->ops->stats(s, st); }
static inline int tb_source_pause(tb_source *s) { return s->ops->pause(s); }
static inline void tb_source_resume(tb_source *s) { s->ops->resume(s); }
static inline const mpq_cm *tb_source_model(const tb_source *s) { return s->ops->model(s); }
/* NULL is fine. */
void tb_source_close(tb_source *s);

/* A vector file. Returns 0, or the reader's MPQ_E* code with err naming the file. */
int tb_source_replay(const char *path, tb_source **out, char *err, size_t errlen);

/* A random layer of configuration hw from `seed` and the layer and timing options of a (those
 * given, a->given; the others are drawn from the seed: shapes mostly small, now and then a
 * counter's full range (M = 65535, K = KMax, many tiles) or K <= KLanes (a row every cycle);
 * valid and ready probabilities from 1 down to 0.25; beats mostly offered early; now and then
 * a reset in the middle of the layer), run by the golden generator: the same cycles as
 * `mpq-golden gen` writes for the same layer and seed (mpq_timing_default). Returns 0, or
 * MPQ_EPARAM / MPQ_ENOMEM with err saying what the user asked that this RTL cannot run. */
int tb_source_lockstep(const mpq_hwcfg *hw, const mpq_stim_args *a, uint64_t seed,
                       tb_source **out, char *err, size_t errlen);
/* Whether lockstep run `seed` fits this RTL and this machine: a convolution's tiles fit the
 * RTL's buffers (mpq_hw_conv_fits), the layer's memory (mpq_gen_bytes) is at most half the
 * machine's memory (or of the address-space limit, ulimit -v, when lower; or of
 * $MPQ_TB_MEMORY, bytes or e.g. 16G, when set: a farm slot's share). Returns 0, or MPQ_EPARAM with the rule and its numbers, or the layer, its
 * memory and cycle estimates and the limit in err ("m=65535 k=1024 n=65535 needs about 21.7 GB ..."):
 * refused before anything is allocated (tb_source_lockstep checks every run, mpq-tb the
 * first before it starts). */
int tb_lockstep_fits(const mpq_hwcfg *hw, const mpq_stim_args *a, uint64_t seed, char *err, size_t errlen);
/* The mpq-tb arguments that reproduce lockstep run `seed` alone ("lockstep --seed S --runs 1
 * --m ..."): appended to argv[*argc..] (at most max, NULL-terminated), their text in
 * buf[*used..]. The one builder of the reproduce line and of the traced re-run, through the
 * option table's writer. Returns 0 or -1 when full. */
int tb_lockstep_argv(const mpq_stim_args *a, uint64_t seed, const char **argv, int *argc, int max,
                     char *buf, size_t buflen, size_t *used);

/* Layer L (not owned: it must outlive the source) with timing t, the golden generator and
 * cycle model in lockstep as in tb_source_lockstep; h.source is `what` (mpq-tb net: the model,
 * the operator and the part). Returns 0, or MPQ_EPARAM / MPQ_ENOMEM with err. */
int tb_source_layer(const mpq_hwcfg *hw, const mpq_hw_layer *L, const mpq_timing_opts *t, const char *what,
                    tb_source **out, char *err, size_t errlen);

/* inner running in its own thread, up to a few blocks of cycles ahead; the cycles are the
 * same. Returns inner itself when the thread could not be started (then nothing changes). */
tb_source *tb_source_threaded(tb_source *inner);
/* inner, except that once, in the cycle after an activation beat was seen waiting (valid,
 * not ready) in cycle `after` or later, that beat's data changes for the DUT in that cycle only: a driver bug that the
 * RTL's stream assertion must report. Returns inner when out of memory. */
tb_source *tb_source_inject_hold(tb_source *inner, uint64_t after);

/* inner, except that the first activation beat reaches the DUT with bit 7 of its first element
 * flipped, in every cycle it is offered up to its handshake (a stable beat, no stream-rule
 * violation; the expected outputs stay the model's): a
 * planted fault whose effect the per-cycle comparison must catch and report (mpq-tb net
 * --inject-flip). Returns inner when out of memory. */
tb_source *tb_source_inject_flip(tb_source *inner);

#endif
