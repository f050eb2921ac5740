/* SPDX-License-Identifier: Apache-2.0 */
/* txn_run.c: one test of the transaction-level check (txn_run.h): the layers, then the cycle
 * loop over the model's frames: drive, settle, take and compare, clock. */
#include "txn_run.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arith/mpq_rng.h"
#include "mpq_dut.h"
#include "tb_util.h"
#include "txn_feed.h"

/* ---- layers -------------------------------------------------------------------------------------- */
void txn_jobs_free(txn_jobs *js)
{
    for (unsigned i = 0; i < js->n; i++) {
        if (js->beats)
            mpq_beats_free(js->beats[i]);
        if (js->job)
            mpq_job_free(&js->job[i]);
    }
    free(js->beats);
    free(js->job);
    memset(js, 0, sizeof *js);
}

/* Layer j of random test `seed`: its own seed, so that --jobs and the test seed reproduce it. */
static uint64_t layer_seed(uint64_t seed, unsigned j) { return seed * 64u + j; }

int txn_jobs_make(const mpq_desc *d, const mpq_hwcfg *hw, const txn_opts *o, uint64_t seed, unsigned t,
                  mpq_job *given, txn_jobs *js, char *err, size_t errlen)
{
    memset(js, 0, sizeof *js);
    unsigned n = o->mode == TXN_RANDOM ? o->jobs : 1;
    js->job = calloc(n, sizeof *js->job);
    js->beats = calloc(n, sizeof *js->beats);
    if (!js->job || !js->beats) {
        snprintf(err, errlen, "out of memory");
        txn_jobs_free(js);
        return 2;
    }
    js->n = n;
    for (unsigned j = 0; j < n; j++) {
        char why[1024];
        int rc;
        if (given) {
            js->job[j] = *given;
            memset(given, 0, sizeof *given);
            rc = 0;
        } else if (o->mode == TXN_CASE)
            rc = mpq_job_from_case(d, o->files[t], &js->job[j], why, sizeof why);
        else if (d->codec == MPQ_CODEC_MPQ)
            rc = mpq_job_hw_random(hw, &o->stim, layer_seed(seed, j), &js->job[j], why, sizeof why);
        else
            rc = mpq_job_random(d, &o->stim, layer_seed(seed, j), &js->job[j], why, sizeof why);
        if (rc == 0)
            rc = mpq_beats_open(d, hw, &js->job[j], layer_seed(seed, j) ^ 0xa5a5a5a5u, &js->beats[j], why, sizeof why);
        if (rc != 0) {
            snprintf(err, errlen, "%s", why);
            txn_jobs_free(js);
            return 2;
        }
    }
    return 0;
}

/* ---- the streams on the model's frames ---------------------------------------------------------- */
typedef struct txn_stream {
    unsigned s;                 /* in the description */
    int out;                    /* the DUT sends */
    unsigned valid_off, data_off, last_off, ready_off; /* valid/data/last: the DUT's side's frame */
    int has_last, has_ready;
    unsigned nw;                /* data words */
    unsigned job;               /* the next beat: its layer and index in it */
    uint64_t beat, taken, total;
    int valid, last;            /* input: a beat is up */
    int waiting, held_last;     /* output: valid without a handshake last cycle, and its beat */
    uint32_t held[TXN_MAX_WORDS], exp[TXN_MAX_WORDS], care[TXN_MAX_WORDS];
} txn_stream;

typedef struct txn_state {
    const mpq_desc *d;
    const txn_opts *o;
    const txn_jobs *js;
    txn_result *res;
    mpq_dut *dut;
    txn_feed *feed;             /* the beats, in each stream's order */
    uint32_t *in, *out;         /* the frames */
    unsigned reset_off;
    txn_stream st[MPQ_DESC_MAX_STREAMS];
    unsigned ns, nin, nout_done;
    uint64_t *first_in, *last_out; /* per layer */
    unsigned *outs_left;        /* per layer: output streams not finished */
    mpq_rng rng;
    uint64_t cycle, last_progress, done_at;
    int stop;
} txn_state;

static int model_port(const mpq_desc *d, int p, char *err, size_t errlen)
{
    int i = p >= 0 ? mpq_dut_port_find(d->ports[p].name) : -1;
    if (p >= 0 && i < 0)
        snprintf(err, errlen, "%s: port %s is not a port of this model (%s build): rebuild it", d->path,
                 d->ports[p].name, mpq_dut_build());
    return i;
}

int txn_check_model(const mpq_desc *d, char *err, size_t errlen)
{
    for (unsigned s = 0; s < d->nstreams; s++) {
        const mpq_desc_stream *st = &d->streams[s];
        int ports[] = {st->valid, st->data, st->last, st->ready};
        for (int k = 0; k < 4; k++)
            if (ports[k] >= 0 && model_port(d, ports[k], err, errlen) < 0)
                return 2;
        if (MPQ_WORDS(st->width) > TXN_MAX_WORDS) {
            snprintf(err, errlen, "%s:%u: stream %s: %u bits of data; at most %u", d->path, st->line, st->name,
                     st->width, TXN_MAX_WORDS * 32);
            return 2;
        }
    }
    return model_port(d, d->reset, err, errlen) < 0 ? 2 : 0;
}

static unsigned offset_of(const mpq_desc *d, int p)
{
    return p >= 0 ? mpq_dut_ports()[mpq_dut_port_find(d->ports[p].name)].offset : 0;
}

static void streams_init(txn_state *x)
{
    const mpq_desc *d = x->d;
    x->ns = d->nstreams;
    for (unsigned s = 0; s < d->nstreams; s++) {
        const mpq_desc_stream *ds = &d->streams[s];
        txn_stream *t = &x->st[s];
        memset(t, 0, sizeof *t);
        t->s = s;
        t->out = ds->out;
        t->valid_off = offset_of(d, ds->valid);
        t->data_off = offset_of(d, ds->data);
        t->last_off = offset_of(d, ds->last);
        t->ready_off = offset_of(d, ds->ready);
        t->has_last = ds->last >= 0;
        t->has_ready = ds->ready >= 0;
        t->nw = MPQ_WORDS(ds->width);
        for (unsigned j = 0; j < x->js->n; j++)
            t->total += mpq_beats_count(x->js->beats[j], s);
        x->nin += !t->out;
    }
    x->reset_off = offset_of(d, d->reset);
}

/* The stream's next beat moves on: to the next layer once this one's are all through. */
static void stream_advance(const txn_state *x, txn_stream *t)
{
    t->taken++;
    t->beat++;
    while (t->job < x->js->n && t->beat >= mpq_beats_count(x->js->beats[t->job], t->s)) {
        t->beat = 0;
        t->job++;
    }
}

static void stream_start(const txn_state *x, txn_stream *t)
{
    t->job = 0;
    t->beat = 0;
    while (t->job < x->js->n && mpq_beats_count(x->js->beats[t->job], t->s) == 0)
        t->job++;
}

/* ---- failures -------------------------------------------------------------------------------------- */
/* A failure of kind k on stream t (NULL: none) in layer `job`; the first is kept whole. */
static void fail(txn_state *x, txn_kind k, const txn_stream *t, unsigned job, uint64_t value)
{
    txn_result *r = x->res;
    if (r->failures++ == 0) {
        txn_failure *f = &r->f;
        f->kind = k;
        f->cycle = x->cycle;
        f->stream = t ? (int)t->s : -1;
        f->job = job;
        f->beat = t ? t->beat : 0;
        f->run_beat = t ? t->taken : 0;
        f->value = value;
        if (t && t->out && (k == TXN_F_DATA || k == TXN_F_LAST || k == TXN_F_HOLD || k == TXN_F_EXTRA)) {
            memcpy(f->exp, k == TXN_F_HOLD ? t->held : t->exp, t->nw * sizeof *f->exp);
            memcpy(f->care, t->care, t->nw * sizeof *f->care);
            memcpy(f->act, x->out + t->data_off, t->nw * sizeof *f->act);
            f->exp_last = k == TXN_F_HOLD ? t->held_last : t->last;
            f->act_last = t->has_last ? (int)(x->out[t->last_off] & 1u) : 0;
        }
        for (unsigned s = 0; s < x->ns; s++) {
            const txn_stream *u = &x->st[s];
            r->prog[s].taken = u->taken;
            r->prog[s].total = u->total;
            r->prog[s].valid = u->out ? (int)(x->out[u->valid_off] & 1u) : u->valid;
            r->prog[s].ready = !u->has_ready ? 1 : u->out ? (int)(x->in[u->ready_off] & 1u) : (int)(x->out[u->ready_off] & 1u);
        }
    }
    if (r->failures >= x->o->max_mismatches || k == TXN_F_ASSERT || k == TXN_F_DEADLOCK || k == TXN_F_UNTAKEN)
        x->stop = 1;
}

/* ---- one cycle -------------------------------------------------------------------------------------- */
/* This cycle's inputs: reset for the first cycles; then each input stream without a beat up
 * raises its next one with probability p_valid, each output stream's ready is 1 with p_ready. */
static void drive(txn_state *x)
{
    const mpq_desc *d = x->d;
    int in_reset = x->cycle < d->reset_cycles;
    x->in[x->reset_off] = (uint32_t)(in_reset ? !d->reset_low : d->reset_low);
    for (unsigned s = 0; s < x->ns; s++) {
        txn_stream *t = &x->st[s];
        if (t->out) {
            if (t->has_ready)
                x->in[t->ready_off] = !in_reset && mpq_rng_bernoulli(&x->rng, x->res->p_ready);
            continue;
        }
        if (!in_reset && !t->valid && t->job < x->js->n && mpq_rng_bernoulli(&x->rng, x->res->p_valid)) {
            txn_feed_next(x->feed, s, x->in + t->data_off, NULL, &t->last);
            t->valid = 1;
        }
        x->in[t->valid_off] = (uint32_t)t->valid;
        if (t->has_last)
            x->in[t->last_off] = (uint32_t)(t->valid && t->last);
    }
}

static void input_handshakes(txn_state *x)
{
    for (unsigned s = 0; s < x->ns; s++) {
        txn_stream *t = &x->st[s];
        if (t->out || !t->valid || (t->has_ready && !(x->out[t->ready_off] & 1u)))
            continue;
        if (x->first_in[t->job] == UINT64_MAX)
            x->first_in[t->job] = x->cycle;
        x->last_progress = x->cycle;
        t->valid = 0;
        stream_advance(x, t);
    }
}

/* The beat taken on output stream t against the next one expected. */
static void take_output(txn_state *x, txn_stream *t)
{
    if (t->job >= x->js->n) {
        memset(t->exp, 0, sizeof t->exp);
        fail(x, TXN_F_EXTRA, t, t->job, 0);
        return;
    }
    txn_feed_next(x->feed, t->s, t->exp, t->care, &t->last);
    const uint32_t *a = x->out + t->data_off;
    uint32_t diff = 0;
    for (unsigned w = 0; w < t->nw; w++)
        diff |= (a[w] ^ t->exp[w]) & t->care[w];
    if (diff)
        fail(x, TXN_F_DATA, t, t->job, 0);
    else if (t->has_last && (int)(x->out[t->last_off] & 1u) != t->last)
        fail(x, TXN_F_LAST, t, t->job, 0);
    unsigned j = t->job;
    x->last_out[j] = x->cycle;
    x->last_progress = x->cycle;
    stream_advance(x, t);
    if (t->job != j && --x->outs_left[j] == 0 && x->o->max_latency && x->first_in[j] != UINT64_MAX &&
        x->cycle - x->first_in[j] > x->o->max_latency)
        fail(x, TXN_F_LATENCY, t, j, x->cycle - x->first_in[j]);
    if (t->job >= x->js->n)
        x->nout_done++;
}

/* Output streams: the stream rules (valid held, data and last stable until the handshake),
 * then the beats taken. */
static void outputs(txn_state *x)
{
    for (unsigned s = 0; s < x->ns && !x->stop; s++) {
        txn_stream *t = &x->st[s];
        if (!t->out)
            continue;
        int valid = (int)(x->out[t->valid_off] & 1u), ready = !t->has_ready || (x->in[t->ready_off] & 1u);
        const uint32_t *a = x->out + t->data_off;
        int last = t->has_last ? (int)(x->out[t->last_off] & 1u) : 0;
        if (t->waiting && !valid) {
            fail(x, TXN_F_DROP, t, t->job, 0);
        } else if (t->waiting && (memcmp(a, t->held, t->nw * sizeof *a) || last != t->held_last)) {
            memset(t->care, 0xff, sizeof t->care);
            fail(x, TXN_F_HOLD, t, t->job, 0);
        }
        t->waiting = valid && !ready;
        if (t->waiting) {
            memcpy(t->held, a, t->nw * sizeof *a);
            t->held_last = last;
        }
        if (valid && ready && x->cycle >= x->d->reset_cycles)
            take_output(x, t);
    }
}

/* After the cycle: the end (every beat through, then the tail), a deadlock, input beats left. */
static void progress(txn_state *x)
{
    const mpq_desc *d = x->d;
    unsigned nout = x->ns - x->nin;
    if (x->nout_done == nout && !x->done_at)
        x->done_at = x->cycle;
    if (x->done_at && x->cycle >= x->done_at + x->o->tail) {
        /* Input beats the layers did not need (rows a stride skips) may still be taken after
         * the last output, as the DUT's room allows: wait while they move, up to --deadlock
         * cycles without a beat. */
        int left = 0;
        for (unsigned s = 0; s < x->ns; s++)
            left |= !x->st[s].out && x->st[s].taken < x->st[s].total;
        if (left && x->cycle - x->last_progress < x->o->deadlock)
            return;
        for (unsigned s = 0; s < x->ns && !x->stop; s++)
            if (!x->st[s].out && x->st[s].taken < x->st[s].total)
                fail(x, TXN_F_UNTAKEN, &x->st[s], x->st[s].job, x->st[s].total - x->st[s].taken);
        x->stop = 1;
        return;
    }
    uint64_t since = x->cycle < d->reset_cycles ? 0 : x->cycle - (x->last_progress > d->reset_cycles ? x->last_progress : d->reset_cycles);
    if (!x->done_at && since >= x->o->deadlock)
        fail(x, TXN_F_DEADLOCK, NULL, 0, since);
}

/* ---- the test ------------------------------------------------------------------------------------------- */
static int state_open(txn_state *x, const mpq_desc *d, const txn_opts *o, const txn_jobs *js, uint64_t seed,
                      txn_result *res)
{
    memset(x, 0, sizeof *x);
    x->d = d;
    x->o = o;
    x->js = js;
    x->res = res;
    x->in = calloc(mpq_dut_frame_words(0) + 1, sizeof *x->in);
    x->out = calloc(mpq_dut_frame_words(1) + 1, sizeof *x->out);
    x->first_in = malloc(js->n * sizeof *x->first_in);
    x->last_out = calloc(js->n, sizeof *x->last_out);
    x->outs_left = malloc(js->n * sizeof *x->outs_left);
    x->dut = mpq_dut_new(seed);
    /* The beats on a second thread (txn_feed.h): by default when there is a second processor. */
    int thread = o->source_thread >= 0 ? o->source_thread : sysconf(_SC_NPROCESSORS_ONLN) > 1;
    if (!x->in || !x->out || !x->first_in || !x->last_out || !x->outs_left || !x->dut ||
        txn_feed_open(d, js, thread, &x->feed) != 0) {
        snprintf(res->error, sizeof res->error, "out of memory");
        return 2;
    }
    streams_init(x);
    for (unsigned j = 0; j < js->n; j++) {
        x->first_in[j] = UINT64_MAX;
        x->outs_left[j] = 0;
        for (unsigned s = 0; s < x->ns; s++)
            x->outs_left[j] += x->st[s].out && mpq_beats_count(js->beats[j], s) > 0;
    }
    for (unsigned s = 0; s < x->ns; s++) {
        stream_start(x, &x->st[s]);
        x->nout_done += x->st[s].out && x->st[s].job >= js->n;
    }
    mpq_rng_seed(&x->rng, seed ^ 0x7f4a7c159e3779b9ull);
    return 0;
}

static void state_close(txn_state *x)
{
    txn_feed_close(x->feed);
    mpq_dut_free(x->dut);
    free(x->in);
    free(x->out);
    free(x->first_in);
    free(x->last_out);
    free(x->outs_left);
}

/* The cycles, each: drive, settle, outputs taken, inputs taken, edge. */
static void cycles(txn_state *x, uint64_t win_lo, uint64_t win_hi)
{
    const txn_opts *o = x->o;
    for (x->cycle = 0; !x->stop; x->cycle++) {
        if (o->trace_mode) {
            mpq_dut_trace_enable(x->dut, x->cycle >= win_lo && x->cycle <= win_hi);
            if (x->cycle > win_hi)
                break;
        }
        drive(x);
        mpq_dut_put_frame(x->dut, x->in);
        mpq_dut_settle(x->dut);
        mpq_dut_get_frame(x->dut, x->out);
        outputs(x);
        input_handshakes(x);
        mpq_dut_tick(x->dut);
        if (mpq_dut_assert_failed(x->dut))
            fail(x, TXN_F_ASSERT, NULL, 0, 0);
        if (!x->stop)
            progress(x);
        if (o->trace_mode)
            x->stop = 0; /* the re-run goes on to the end of its window */
    }
}

int txn_run_test(const mpq_desc *d, const txn_opts *o, const txn_jobs *js, uint64_t seed, txn_result *res)
{
    txn_state x;
    res->cycles = 0;
    res->failures = 0;
    if (state_open(&x, d, o, js, seed, res) != 0) {
        state_close(&x);
        return 2;
    }
    uint64_t lo = o->trace_at > o->before ? o->trace_at - o->before : 0, hi = o->trace_at + o->after;
    char tmp[1500];
    if (o->trace_mode) {
        snprintf(tmp, sizeof tmp, "%s/wave.fst.tmp", o->trace_out);
        if (mpq_dut_trace_open(x.dut, tmp) != 0) {
            snprintf(res->error, sizeof res->error, "cannot write %s (is this the traced build?)", tmp);
            state_close(&x);
            return 2;
        }
    }
    double t0 = tb_now_s();
    cycles(&x, lo, hi);
    res->seconds = tb_now_s() - t0;
    res->cycles = x.cycle;
    int status = res->failures ? 1 : 0;
    if (o->trace_mode) {
        mpq_dut_trace_close(x.dut);
        char fin[1500];
        snprintf(fin, sizeof fin, "%s/wave.fst", o->trace_out);
        if (rename(tmp, fin) != 0)
            status = 2;
        res->trace_lo = lo;
        res->trace_hi = x.cycle ? x.cycle - 1 : 0;
    }
    state_close(&x);
    return status;
}
