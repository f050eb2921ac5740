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

/* Control word of a cycle: the 1-bit inputs and expected outputs, and which of the buses
 * changed (only those follow, so the ring carries a few words per cycle: the cache lines
 * that cross between the cores are the real cost of the hand-over). */
enum {
    C_RST_N = 1u << 0, C_CFG_VALID = 1u << 1, C_WGT_VALID = 1u << 2, C_ACT_VALID = 1u << 3,
    C_OUT_READY = 1u << 4, C_CFG_READY = 1u << 8, C_WGT_READY = 1u << 9,
    C_ACT_READY = 1u << 10, C_OUT_VALID = 1u << 11, C_BUSY = 1u << 12, C_DONE = 1u << 13,
    C_NEW_CFG = 1u << 16, C_NEW_WGT = 1u << 17, C_NEW_ACT = 1u << 18, C_NEW_OUT = 1u << 19,
    C_NEW_OVF = 1u << 20
};

struct tb_pipe {
    tb_pipe_fn fn;
    void *ctx;
    /* A cycle in the ring: the control word, then the words of each bus that changed, in
     * the order cfg_data, wgt_data, act_data, out_data, ovf (2 words). */
    unsigned cw, ww, aw, ow, max_entry, blk, blk_words;
    uint32_t *ring;         /* [PIPE_BLOCKS][blk_words] */
    mpq_cm_where *where;    /* [PIPE_BLOCKS][blk] */
    unsigned n[PIPE_BLOCKS];
    int end_rc[PIPE_BLOCKS]; /* after the block's cycles: 1 more follow, else the source's 0 or error */
    pthread_mutex_t mu;
    pthread_cond_t filled, freed;
    unsigned head, tail;    /* blocks published / released, counted modulo 2^32 */
    int stop;
    pthread_t thread;
    /* consumer only */
    int have_block, ended, final_rc;
    unsigned pos;           /* cycle within the block */
    const uint32_t *rd;     /* next entry */
    /* producer only: the cycle from the source and the one before it */
    mpq_port_in pin, prev_in;
    mpq_port_out pexp, prev_exp;
    int first;
};

/* Appends one cycle at e; returns its length in words. */
static unsigned pack(tb_pipe *p, uint32_t *e)
{
    const mpq_port_in *in = &p->pin;
    const mpq_port_out *x = &p->pexp;
    uint32_t c = (in->rst_n ? C_RST_N : 0u) | (in->cfg_valid ? C_CFG_VALID : 0u) |
                 (in->wgt_valid ? C_WGT_VALID : 0u) | (in->act_valid ? C_ACT_VALID : 0u) |
                 (in->out_ready ? C_OUT_READY : 0u) | (x->cfg_ready ? C_CFG_READY : 0u) |
                 (x->wgt_ready ? C_WGT_READY : 0u) | (x->act_ready ? C_ACT_READY : 0u) |
                 (x->out_valid ? C_OUT_VALID : 0u) | (x->busy ? C_BUSY : 0u) |
                 (x->done ? C_DONE : 0u);
    unsigned len = 1;
#define BUS(flag, cur, prev, nw)                                                      \
    if (p->first || memcmp(cur, prev, (nw) * sizeof *(cur)) != 0) {                   \
        c |= flag;                                                                    \
        memcpy(e + len, cur, (nw) * sizeof *(cur));                                   \
        memcpy(prev, cur, (nw) * sizeof *(cur));                                      \
        len += (nw);                                                                  \
    }
    BUS(C_NEW_CFG, in->cfg_data, p->prev_in.cfg_data, p->cw)
    BUS(C_NEW_WGT, in->wgt_data, p->prev_in.wgt_data, p->ww)
    BUS(C_NEW_ACT, in->act_data, p->prev_in.act_data, p->aw)
    BUS(C_NEW_OUT, x->out_data, p->prev_exp.out_data, p->ow)
#undef BUS
    if (p->first || x->ovf != p->prev_exp.ovf) {
        c |= C_NEW_OVF;
        e[len++] = (uint32_t)x->ovf;
        e[len++] = (uint32_t)(x->ovf >> 32);
        p->prev_exp.ovf = x->ovf;
    }
    p->first = 0;
    e[0] = c;
    return len;
}

/* Applies the cycle at e to in / exp (which hold the previous cycle); returns its length. */
static unsigned unpack(const tb_pipe *p, const uint32_t *e, mpq_port_in *in, mpq_port_out *x)
{
    uint32_t c = e[0];
    unsigned len = 1;
    in->rst_n = (c & C_RST_N) != 0;
    in->cfg_valid = (c & C_CFG_VALID) != 0;
    in->wgt_valid = (c & C_WGT_VALID) != 0;
    in->act_valid = (c & C_ACT_VALID) != 0;
    in->out_ready = (c & C_OUT_READY) != 0;
    x->cfg_ready = (c & C_CFG_READY) != 0;
    x->wgt_ready = (c & C_WGT_READY) != 0;
    x->act_ready = (c & C_ACT_READY) != 0;
    x->out_valid = (c & C_OUT_VALID) != 0;
    x->busy = (c & C_BUSY) != 0;
    x->done = (c & C_DONE) != 0;
#define BUS(flag, dst, nw)                                 \
    if (c & flag) {                                        \
        memcpy(dst, e + len, (nw) * sizeof *(dst));        \
        len += (nw);                                       \
    }
    BUS(C_NEW_CFG, in->cfg_data, p->cw)
    BUS(C_NEW_WGT, in->wgt_data, p->ww)
    BUS(C_NEW_ACT, in->act_data, p->aw)
    BUS(C_NEW_OUT, x->out_data, p->ow)
#undef BUS
    if (c & C_NEW_OVF) {
        x->ovf = (uint64_t)e[len] | (uint64_t)e[len + 1] << 32;
        len += 2;
    }
    return len;
}

static void *producer(void *arg)
{
    tb_pipe *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->head - p->tail == PIPE_BLOCKS && !p->stop)
            pthread_cond_wait(&p->freed, &p->mu);
        int stop = p->stop;
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
    p->cw = MPQ_WORDS(mpq_hw_cfg_w(hw));
    p->ww = MPQ_WORDS(mpq_hw_wgt_w(hw));
    p->aw = MPQ_WORDS(mpq_hw_act_w(hw));
    p->ow = MPQ_WORDS(mpq_hw_out_w(hw));
    p->max_entry = 3u + p->cw + p->ww + p->aw + p->ow;
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
    *out = p;
    return 0;
}

int tb_pipe_next(tb_pipe *p, mpq_port_in *in, mpq_port_out *exp)
{
    if (p->ended)
        return p->final_rc;
    for (;;) {
        if (p->have_block) {
            unsigned b = p->tail % PIPE_BLOCKS;
            if (p->pos < p->n[b]) {
                p->rd += unpack(p, p->rd, in, exp);
                p->pos++;
                return 1;
            }
            int rc = p->end_rc[b];
            pthread_mutex_lock(&p->mu);
            p->tail++;
            pthread_cond_signal(&p->freed);
            pthread_mutex_unlock(&p->mu);
            p->have_block = 0;
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
        p->rd = p->ring + (size_t)(p->tail % PIPE_BLOCKS) * p->blk_words;
    }
}

void tb_pipe_where(const tb_pipe *p, mpq_cm_where *where)
{
    /* Read only on a mismatch: the where records stay in the producer's cache otherwise. */
    *where = p->where[(size_t)(p->tail % PIPE_BLOCKS) * p->blk + (p->pos ? p->pos - 1u : 0u)];
}

void tb_pipe_stop(tb_pipe *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pipe_free(p, 1);
}
