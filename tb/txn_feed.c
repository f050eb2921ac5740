/* SPDX-License-Identifier: Apache-2.0 */
/*
 * txn_feed.c: the beat thread (txn_feed.h). Each stream has a ring of FEED_BLOCKS blocks of
 * FEED_BEATS beats; the producer fills a whole block before publishing it and the consumer
 * releases a whole block before taking the next, so the threads meet once per block of a
 * stream, not once per beat.
 */
#include "txn_feed.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arith/mpq.h"

/* A block of 1,024 beats: the threads meet about every thousand cycles, as tb_pipe.c's do (with
 * 64, the wake-ups cost txn 18% of its rate on an idle 2-CPU host: docs/bench.md). */
enum { FEED_BLOCKS = 4, FEED_BEATS = 1024 };

/* A beat in the ring: its data words, its care words (output streams), its last bit. */
typedef struct feed_stream {
    unsigned s, nw, ew;        /* the stream, its data words, an entry's words */
    int out;
    unsigned job;              /* the encoder's next beat: its layer and index in it */
    uint64_t beat;
    uint64_t left;             /* beats the encoder has still to make */
    uint32_t *ring;            /* [FEED_BLOCKS][FEED_BEATS][ew] */
    unsigned n[FEED_BLOCKS];   /* beats in each block */
    unsigned head, tail;       /* blocks published / released, modulo 2^32 (under mu) */
    /* consumer only */
    int have;                  /* a block is being read: cur */
    unsigned cur, pos;
    uint64_t wanted;           /* beats the consumer may still ask for */
} feed_stream;

struct txn_feed {
    const txn_jobs *js;
    unsigned ns;
    feed_stream st[MPQ_DESC_MAX_STREAMS];
    int threaded, stop;
    pthread_mutex_t mu;
    pthread_cond_t filled, freed;
    pthread_t thread;
};

/* The stream's next beat from the layers' encoders. */
static void encode(const txn_feed *f, feed_stream *t, uint32_t *data, uint32_t *care, int *last)
{
    while (t->job < f->js->n && t->beat >= mpq_beats_count(f->js->beats[t->job], t->s)) {
        t->beat = 0;
        t->job++;
    }
    mpq_beats_get(f->js->beats[t->job], t->s, t->beat++, data, care, last);
    t->left--;
}

/* Block b of stream t, filled by the producer outside the lock. */
static void fill(const txn_feed *f, feed_stream *t, unsigned b)
{
    unsigned n = t->left < FEED_BEATS ? (unsigned)t->left : FEED_BEATS;
    uint32_t *e = t->ring + (size_t)b * FEED_BEATS * t->ew;
    for (unsigned i = 0; i < n; i++, e += t->ew) {
        int last = 0;
        encode(f, t, e, t->out ? e + t->nw : NULL, &last);
        e[t->ew - 1] = (uint32_t)last;
    }
    t->n[b] = n;
}

/* The producer: a block for every stream that has room, until every beat is made. */
static void *producer(void *arg)
{
    txn_feed *f = arg;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        int worked = 0, left = 0;
        for (unsigned s = 0; s < f->ns && !f->stop; s++) {
            feed_stream *t = &f->st[s];
            left |= t->left > 0;
            if (!t->left || t->head - t->tail >= FEED_BLOCKS)
                continue;
            unsigned b = t->head % FEED_BLOCKS;
            pthread_mutex_unlock(&f->mu);
            fill(f, t, b);
            pthread_mutex_lock(&f->mu);
            t->head++;
            worked = 1;
            pthread_cond_broadcast(&f->filled);
        }
        if (f->stop || !left)
            break;
        if (!worked)
            pthread_cond_wait(&f->freed, &f->mu);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* The consumer's next entry of stream t: the block it reads released when done, the next one
 * waited for. */
static const uint32_t *take(txn_feed *f, feed_stream *t)
{
    if (t->have && t->pos == t->n[t->cur % FEED_BLOCKS]) {
        pthread_mutex_lock(&f->mu);
        t->tail++;
        pthread_cond_signal(&f->freed);
        pthread_mutex_unlock(&f->mu);
        t->have = 0;
    }
    if (!t->have) {
        pthread_mutex_lock(&f->mu);
        while (t->head == t->tail)
            pthread_cond_wait(&f->filled, &f->mu);
        t->cur = t->tail;
        pthread_mutex_unlock(&f->mu);
        t->have = 1;
        t->pos = 0;
    }
    return t->ring + ((size_t)(t->cur % FEED_BLOCKS) * FEED_BEATS + t->pos++) * t->ew;
}

void txn_feed_next(txn_feed *f, unsigned s, uint32_t *data, uint32_t *care, int *last)
{
    feed_stream *t = &f->st[s];
    if (t->wanted == 0) { /* past the stream's beats: the caller's bug; no beat, no wait */
        memset(data, 0, t->nw * sizeof *data);
        if (care)
            memset(care, 0, t->nw * sizeof *care);
        *last = 0;
        return;
    }
    t->wanted--;
    if (!f->threaded) {
        encode(f, t, data, care, last);
        return;
    }
    const uint32_t *e = take(f, t);
    memcpy(data, e, t->nw * sizeof *data);
    if (care && t->out)
        memcpy(care, e + t->nw, t->nw * sizeof *care);
    *last = (int)e[t->ew - 1];
}

static int streams_open(txn_feed *f, const mpq_desc *d, int thread)
{
    for (unsigned s = 0; s < f->ns; s++) {
        feed_stream *t = &f->st[s];
        t->s = s;
        t->out = d->streams[s].out;
        t->nw = MPQ_WORDS(d->streams[s].width);
        t->ew = 2 * t->nw + 1;
        for (unsigned j = 0; j < f->js->n; j++)
            t->left += mpq_beats_count(f->js->beats[j], s);
        t->wanted = t->left;
        if (thread && t->left && !(t->ring = malloc((size_t)FEED_BLOCKS * FEED_BEATS * t->ew * sizeof *t->ring)))
            return MPQ_ENOMEM;
    }
    return 0;
}

int txn_feed_open(const mpq_desc *d, const txn_jobs *js, int thread, txn_feed **out)
{
    *out = NULL;
    txn_feed *f = calloc(1, sizeof *f);
    if (!f)
        return MPQ_ENOMEM;
    f->js = js;
    f->ns = d->nstreams;
    if (streams_open(f, d, thread) != 0) {
        txn_feed_close(f);
        return MPQ_ENOMEM;
    }
    if (thread && pthread_mutex_init(&f->mu, NULL) == 0) {
        if (pthread_cond_init(&f->filled, NULL) == 0) {
            if (pthread_cond_init(&f->freed, NULL) == 0) {
                f->threaded = pthread_create(&f->thread, NULL, producer, f) == 0;
                if (!f->threaded)
                    pthread_cond_destroy(&f->freed);
            }
            if (!f->threaded)
                pthread_cond_destroy(&f->filled);
        }
        if (!f->threaded)
            pthread_mutex_destroy(&f->mu);
    }
    *out = f;
    return 0;
}

void txn_feed_close(txn_feed *f)
{
    if (!f)
        return;
    if (f->threaded) {
        pthread_mutex_lock(&f->mu);
        f->stop = 1;
        pthread_cond_broadcast(&f->freed);
        pthread_mutex_unlock(&f->mu);
        pthread_join(f->thread, NULL);
        pthread_cond_destroy(&f->freed);
        pthread_cond_destroy(&f->filled);
        pthread_mutex_destroy(&f->mu);
    }
    for (unsigned s = 0; s < f->ns; s++)
        free(f->st[s].ring);
    free(f);
}
