/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tb_pipe.c: the source thread (tb_pipe.h). A ring of PIPE_BLOCKS blocks; the producer fills
 * a whole block of cycles before publishing it and the consumer releases a whole block
 * before taking the next, so the two threads meet once per block, not once per cycle.
 * Cycles are stored as in a vector file: the 1-bit ports, then only the buses that changed.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arith/mpq.h"
#include "tb_pipe.h"

enum { PIPE_BLOCKS = 4 };

/* A cycle in the ring: its control word, then the words of each bus that changed (so the ring
 * carries a few words per cycle: the cache lines that cross between the cores are the real
 * cost of the hand-over). The control word is a vector-file record's flags: the 1-bit ports
 * at their bits (mpq_port_bits) and a bit for each bus that follows. */
struct tb_pipe {
    tb_pipe_fn fn;
    void *ctx;
    /* The buses in port order (inputs, then outputs); a flag vector takes 2 words. */
    unsigned nw[MPQ_BUS_COUNT], max_entry, blk, blk_words;
    uint32_t *ring;         /* [PIPE_BLOCKS][blk_words] */
    mpq_cm_where *where;    /* [PIPE_BLOCKS][blk] */
    unsigned n[PIPE_BLOCKS];
    int end_rc[PIPE_BLOCKS]; /* after the block's cycles: 1 more follow, else the source's 0 or error */
    pthread_mutex_t mu;
    pthread_cond_t filled, freed;
    unsigned head, tail;    /* blocks published / released, counted modulo 2^32 */
    int stop;
    int pause;              /* tb_pipe_pause: the producer stops after its block */
    int running;            /* a producer thread to join */
    pthread_t thread;
    /* consumer only */
    int have_block, ended, final_rc;
    unsigned pos;           /* cycle within the block */
    unsigned avail;         /* the cycles of the block held (0: none held) */
    uint32_t flags;         /* the 1-bit ports in in / exp (flags_known: since the last unpack) */
    int flags_known;
    const uint32_t *rd;     /* next entry */
    /* producer only: the cycle from the source and the one before it */
    mpq_port_in pin, prev_in;
    mpq_port_out pexp, prev_exp;
    int first;
};

/* A bus that changed since the previous cycle goes into the ring at e (_put, returns its
 * words); _get takes it back. */
static unsigned put_WORDS(uint32_t *e, const uint32_t (*cur)[MPQ_PORT_WORDS_MAX],
                          uint32_t (*prev)[MPQ_PORT_WORDS_MAX], unsigned nw, int first)
{
    if (!first && memcmp(*cur, *prev, nw * sizeof (*cur)[0]) == 0)
        return 0;
    memcpy(e, *cur, nw * sizeof (*cur)[0]);
    memcpy(*prev, *cur, nw * sizeof (*cur)[0]);
    return nw;
}
static unsigned put_U64(uint32_t *e, const uint64_t *cur, uint64_t *prev, unsigned nw, int first)
{
    (void)nw;
    if (!first && *cur == *prev)
        return 0;
    e[0] = (uint32_t)*cur;
    e[1] = (uint32_t)(*cur >> 32);
    *prev = *cur;
    return 2;
}
static void get_WORDS(const uint32_t *e, uint32_t (*dst)[MPQ_PORT_WORDS_MAX], unsigned nw)
{
    /* A few words (the default activation beat: 4): 16-byte moves the compiler inlines are
     * cheaper than a call of memcpy. */
    unsigned i = 0;
    for (; i + 4u <= nw; i += 4u)
        memcpy(&(*dst)[i], &e[i], 4u * sizeof e[0]);
    for (; i < nw; i++)
        (*dst)[i] = e[i];
}
static void get_U64(const uint32_t *e, uint64_t *dst, unsigned nw)
{
    (void)nw;
    *dst = (uint64_t)e[0] | (uint64_t)e[1] << 32;
}

/* Appends one cycle at e; returns its length in words. */
static unsigned pack(tb_pipe *p, uint32_t *e)
{
    const mpq_port_in *in = &p->pin;
    const mpq_port_out *x = &p->pexp;
    uint32_t c = mpq_port_bits(in, x);
    unsigned len = 1, n;
#define X(idx, field, port, bus, width, store, rec, valid)                                \
    if ((n = put_##store(e + len, &SIDE->field, &PREV.field, p->nw[bus], p->first)) != 0) { \
        c |= 1u << (rec);                                                                 \
        len += n;                                                                         \
    }
#define SIDE in
#define PREV p->prev_in
    MPQ_IN_BUSES(X)
#undef SIDE
#undef PREV
#define SIDE x
#define PREV p->prev_exp
    MPQ_OUT_BUSES(X)
#undef SIDE
#undef PREV
#undef X
    p->first = 0;
    e[0] = c;
    return len;
}

/* The control word's bits that are 1-bit ports. */
#define X(idx, field, port, rec) | 1u << (rec)
enum { PIPE_PORT_BITS = 0u MPQ_IN_BITS(X) MPQ_OUT_BITS(X) };
#undef X

/* Applies the cycle at e to in / exp (which hold the previous cycle); returns its length. */
static unsigned unpack(tb_pipe *p, const uint32_t *e, mpq_port_in *in, mpq_port_out *x)
{
    uint32_t c = e[0];
    unsigned len = 1;
    /* Most cycles leave every valid and ready as it was. */
    if (!p->flags_known || ((c ^ p->flags) & PIPE_PORT_BITS) != 0) {
        mpq_port_bits_set(c, in, x);
        p->flags = c;
        p->flags_known = 1;
    }
#define X(idx, field, port, bus, width, store, rec, valid) \
    if (c >> (rec) & 1u) {                                 \
        get_##store(e + len, &SIDE->field, p->nw[bus]);    \
        len += p->nw[bus];                                 \
    }
#define SIDE in
    MPQ_IN_BUSES(X)
#undef SIDE
#define SIDE x
    MPQ_OUT_BUSES(X)
#undef SIDE
#undef X
    return len;
}

static void *producer(void *arg)
{
    tb_pipe *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->head - p->tail == PIPE_BLOCKS && !p->stop && !p->pause)
            pthread_cond_wait(&p->freed, &p->mu);
        int stop = p->stop || p->pause;
        unsigned b = p->head % PIPE_BLOCKS;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            return NULL;
        uint32_t *e = p->ring + (size_t)b * p->blk_words;
        mpq_cm_where *w = p->where + (size_t)b * p->blk;
        unsigned i = 0, used = 0;
        int rc = 1;
        /* Full when the block has blk cycles or no room for a cycle where everything changed. */
        for (; i < p->blk && used + p->max_entry <= p->blk_words; i++) {
            rc = p->fn(p->ctx, &p->pin, &p->pexp, &w[i]);
            if (rc != 1)
                break;
            used += pack(p, e + used);
        }
        p->n[b] = i;
        p->end_rc[b] = rc;
        pthread_mutex_lock(&p->mu);
        p->head++;
        pthread_cond_signal(&p->filled);
        pthread_mutex_unlock(&p->mu);
        if (rc != 1)
            return NULL; /* the source is no longer touched: its error may be read */
    }
}

int tb_pipe_useful(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 1;
}

/* Frees p; `sync`: its mutex and conditions were initialized. */
static void pipe_free(tb_pipe *p, int sync)
{
    if (sync) {
        pthread_cond_destroy(&p->freed);
        pthread_cond_destroy(&p->filled);
        pthread_mutex_destroy(&p->mu);
    }
    free(p->ring);
    free(p->where);
    free(p);
}

int tb_pipe_start(const mpq_hwcfg *hw, tb_pipe_fn fn, void *ctx, tb_pipe **out)
{
    *out = NULL;
    tb_pipe *p = calloc(1, sizeof *p);
    if (!p)
        return MPQ_ENOMEM;
    p->fn = fn;
    p->ctx = ctx;
    p->max_entry = 1u;
#define X(idx, field, port, bus, width, store, rec, valid)      \
    p->nw[bus] = mpq_port_words_##store(mpq_port_width(hw, width)); \
    p->max_entry += p->nw[bus];
    MPQ_IN_BUSES(X)
    MPQ_OUT_BUSES(X)
#undef X
    /* Up to 1024 cycles per block in 32 KiB: the threads meet rarely and a block stays in
     * cache. The default configuration's typical cycle (control word and a new activation
     * beat) is 5 words, so a block holds its 1024 cycles; there is always room for 16
     * cycles where everything changed. */
    p->blk = 1024u;
    p->blk_words = 8192u > 16u * p->max_entry ? 8192u : 16u * p->max_entry;
    p->first = 1;
    p->ring = malloc((size_t)PIPE_BLOCKS * p->blk_words * sizeof *p->ring);
    p->where = calloc((size_t)PIPE_BLOCKS * p->blk, sizeof *p->where);
    if (!p->ring || !p->where) {
        pipe_free(p, 0);
        return MPQ_ENOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->filled, NULL);
    pthread_cond_init(&p->freed, NULL);
    if (pthread_create(&p->thread, NULL, producer, p) != 0) {
        pipe_free(p, 1);
        return MPQ_ENOMEM;
    }
    p->running = 1;
    *out = p;
    return 0;
}

/* tb_pipe_next once the block held is used up (or none is held): releases it and waits for the
 * next. Returns 1 with a cycle to take at p->rd, or the source's end code. Out of line: the
 * per-cycle path then saves few registers. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int next_block(tb_pipe *p)
{
    if (p->ended)
        return p->final_rc;
    for (;;) {
        if (p->have_block) {
            unsigned b = p->tail % PIPE_BLOCKS;
            if (p->pos < p->n[b])
                return 1;
            int rc = p->end_rc[b];
            pthread_mutex_lock(&p->mu);
            p->tail++;
            pthread_cond_signal(&p->freed);
            pthread_mutex_unlock(&p->mu);
            p->have_block = 0;
            p->avail = 0;
            if (rc != 1) {
                p->ended = 1;
                p->final_rc = rc;
                return rc;
            }
        }
        pthread_mutex_lock(&p->mu);
        while (p->head == p->tail)
            pthread_cond_wait(&p->filled, &p->mu);
        pthread_mutex_unlock(&p->mu);
        p->have_block = 1;
        p->pos = 0;
        p->avail = p->n[p->tail % PIPE_BLOCKS];
        p->rd = p->ring + (size_t)(p->tail % PIPE_BLOCKS) * p->blk_words;
    }
}

int tb_pipe_next(tb_pipe *p, mpq_port_in *in, mpq_port_out *exp)
{
    /* Within a block: one test per cycle on the model's thread, and unpack inlined here. */
    if (p->pos >= p->avail) {
        int rc = next_block(p);
        if (rc != 1)
            return rc;
    }
    p->rd += unpack(p, p->rd, in, exp);
    p->pos++;
    return 1;
}

void tb_pipe_where(const tb_pipe *p, mpq_cm_where *where)
{
    /* Read only on a mismatch: the where records stay in the producer's cache otherwise. */
    *where = p->where[(size_t)(p->tail % PIPE_BLOCKS) * p->blk + (p->pos ? p->pos - 1u : 0u)];
}

void tb_pipe_pause(tb_pipe *p)
{
    if (!p->running)
        return;
    pthread_mutex_lock(&p->mu);
    p->pause = 1;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    p->running = 0;
}

int tb_pipe_drained(const tb_pipe *p)
{
    if (p->ended)
        return 1;
    if (p->have_block && p->pos < p->n[p->tail % PIPE_BLOCKS])
        return 0;
    /* A finished block not yet released holds no cycle: only its end code, which the
     * producer's source has already returned (a source that ended is drained as well). */
    return p->head - p->tail <= (p->have_block ? 1u : 0u);
}

int tb_pipe_resume(tb_pipe *p)
{
    if (p->running)
        return 0;
    p->pause = 0;
    p->first = 1; /* the whole first cycle again: the consumer's copy is then surely in step */
    p->flags_known = 0; /* and its 1-bit ports: the source wrote them directly meanwhile */
    if (pthread_create(&p->thread, NULL, producer, p) != 0)
        return MPQ_ENOMEM;
    p->running = 1;
    return 0;
}

void tb_pipe_stop(tb_pipe *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
    if (p->running)
        pthread_join(p->thread, NULL);
    pipe_free(p, 1);
}
