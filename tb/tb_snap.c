/* SPDX-License-Identifier: Apache-2.0 */
/* tb_snap.c: the snapshots of tb_snap.h (fork, paused children, wake one on a mismatch). */
#include "tb_snap.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { SNAP_KEEP = 2 };          /* LightSSS keeps two: the newest may be too close to the mismatch */
enum { SNAP_CLOCK_EVERY = 4096 }; /* by seconds: the clock is read every this many cycles */

typedef struct snap_child {
    pid_t pid;
    int fd;          /* the parent's end of the socket the child waits on */
    uint64_t cycle;  /* the test's cycles run when it was taken */
    double t;        /* seconds into the test */
} snap_child;

struct tb_snap {
    double seconds;
    uint64_t cycles;
    snap_child kids[SNAP_KEEP];
    int nkids;
    int pausing;          /* a snapshot is due: the source is handing over its cycles */
    uint64_t last_cycle;  /* the test's cycle at the last snapshot (or its start) */
    double t0, last_t;    /* the test's start, the last snapshot (seconds, monotonic) */
};

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

tb_snap *tb_snap_new(double seconds, uint64_t cycles)
{
    if (!(seconds > 0.0) && cycles == 0)
        return NULL;
    tb_snap *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->seconds = seconds;
    s->cycles = cycles;
    return s;
}

/* Kills snapshot i and reaps it. */
static void drop(tb_snap *s, int i)
{
    close(s->kids[i].fd);
    kill(s->kids[i].pid, SIGKILL);
    while (waitpid(s->kids[i].pid, NULL, 0) < 0 && errno == EINTR) {
    }
    memmove(&s->kids[i], &s->kids[i + 1], (size_t)(s->nkids - i - 1) * sizeof s->kids[0]);
    s->nkids--;
}

static void drop_all(tb_snap *s)
{
    while (s->nkids > 0)
        drop(s, s->nkids - 1);
}

void tb_snap_free(tb_snap *s)
{
    if (!s)
        return;
    drop_all(s);
    free(s);
}

/* The first cycle to look at the clock or the count again. */
static uint64_t next_poll(const tb_snap *s, uint64_t c)
{
    return s->cycles ? s->last_cycle + s->cycles : c + SNAP_CLOCK_EVERY;
}

uint64_t tb_snap_begin(tb_snap *s)
{
    if (!s)
        return UINT64_MAX;
    drop_all(s);
    s->pausing = 0;
    s->last_cycle = 0;
    s->t0 = s->last_t = mono_s();
    return next_poll(s, 0);
}

/* The child's side of a snapshot: waits for an order; 1 with it, or leaves (parent gone, or
 * the snapshot dropped: the socket closed). */
static int child_wait(pid_t parent, int fd, tb_snap_order *order)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* the parent died before the line above */
        _exit(0);
    size_t got = 0;
    while (got < sizeof *order) {
        ssize_t n = read(fd, (char *)order + got, sizeof *order - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(0);
        got += (size_t)n;
    }
    close(fd);
    order->dir[sizeof order->dir - 1] = '\0';
    /* What the woken test prints (the RTL's assertion messages) was printed by the parent
     * already: its standard output goes nowhere. */
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, STDOUT_FILENO);
        close(null);
    }
    return 1;
}

/* Forks a snapshot at cycle c (the source paused). Returns 1 in the woken child, 0 in the
 * parent (also when the fork failed: the test goes on without this snapshot). */
static int take(tb_snap *s, uint64_t c, tb_snap_order *order)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return 0;
    /* Text buffered now would be written again by the child: nothing is left in them. */
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        for (int i = 0; i < s->nkids; i++) /* the other snapshots' sockets are the parent's */
            close(s->kids[i].fd);
        s->nkids = 0;
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        return child_wait(parent, sv[1], order);
    }
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        return 0;
    }
    if (s->nkids == SNAP_KEEP)
        drop(s, 0);
    double now = mono_s();
    s->kids[s->nkids++] = (snap_child){pid, sv[0], c, now - s->t0};
    return 0;
}

int tb_snap_poll(tb_snap *s, uint64_t c, tb_source *src, uint64_t *next, tb_snap_order *order)
{
    if (!s->pausing) {
        int due = s->cycles ? c >= s->last_cycle + s->cycles : mono_s() - s->last_t >= s->seconds;
        if (!due) {
            *next = next_poll(s, c);
            return 0;
        }
        s->pausing = 1;
    }
    if (!tb_source_pause(src)) {
        *next = c + 1; /* the source thread's cycles first: a few blocks at most */
        return 0;
    }
    s->pausing = 0;
    if (take(s, c, order))
        return 1;
    tb_source_resume(src);
    s->last_cycle = c;
    s->last_t = mono_s();
    *next = next_poll(s, c);
    return 0;
}

int tb_snap_wake(tb_snap *s, const tb_snap_order *order, uint64_t *from, double *seconds, char *note,
                 size_t notelen)
{
    note[0] = '\0';
    int i = s ? s->nkids - 1 : -1;
    while (i >= 0 && s->kids[i].cycle > order->lo)
        i--;
    if (i < 0)
        return -1;
    snap_child k = s->kids[i];
    *from = k.cycle;
    double t0 = mono_s();
    ssize_t n = send(k.fd, order, sizeof *order, MSG_NOSIGNAL);
    int st = 0;
    pid_t w;
    while ((w = waitpid(k.pid, &st, 0)) < 0 && errno == EINTR) {
    }
    *seconds = mono_s() - t0;
    close(k.fd);
    memmove(&s->kids[i], &s->kids[i + 1], (size_t)(s->nkids - i - 1) * sizeof s->kids[0]);
    s->nkids--;
    if (n != (ssize_t)sizeof *order || w != k.pid || !WIFEXITED(st)) {
        snprintf(note, notelen, "the snapshot of cycle %" PRIu64 " did not run (%s)", k.cycle,
                 w == k.pid && WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "gone");
        return -1;
    }
    int code = WEXITSTATUS(st);
    if (code == 1)
        return 0;
    snprintf(note, notelen, "the snapshot of cycle %" PRIu64 " %s", k.cycle,
             code == 3 ? "did NOT reproduce the mismatch at the same cycle (non-determinism?)"
                       : "could not write the waveform");
    return -1;
}

_Noreturn void tb_snap_exit(const tb_snap_order *order, const tb_result *res, int status, int wave_ok)
{
    int gtkw_ok = wave_ok && tb_write_gtkw(order->dir, res, order->at) == 0;
    if (status == 2 || !gtkw_ok)
        _exit(2);
    _exit(status == 1 && res->mismatches > 0 && res->mis[0].cycle == order->at ? 1 : 3);
}
