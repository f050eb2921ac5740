/* SPDX-License-Identifier: Apache-2.0 */
/* tb_util.c: what the testbenches share (tb_util.h): files written atomically, JSON and JUnit,
 * trace folders, the last-run record, command lines, the traced re-run. */
#define _DEFAULT_SOURCE /* realpath */
#include "tb_util.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- time ---------------------------------------------------------------------------------- */
double tb_now_s(void)
{
    static int cpu = -1;
    if (cpu < 0)
        cpu = getenv("MPQ_TB_CPU_TIME") != NULL;
    struct timespec t;
    clock_gettime(cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- files --------------------------------------------------------------------------------- */
FILE *tb_open_tmp(const char *dir, const char *name, char *tmp, size_t tlen, char *fin, size_t flen)
{
    snprintf(fin, flen, "%s/%s", dir, name);
    snprintf(tmp, tlen, "%s/%s.tmp", dir, name);
    return fopen(tmp, "w");
}

int tb_close_tmp(FILE *f, const char *tmp, const char *fin)
{
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, fin) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

FILE *tb_gtkw_open(const char *dir, char *tmp, size_t tlen, char *fin, size_t flen, uint64_t c,
                   uint64_t lo, const char *fmt, ...)
{
    char absdir[PATH_MAX];
    if (!realpath(dir, absdir))
        snprintf(absdir, sizeof absdir, "%s", dir);
    FILE *f = tb_open_tmp(dir, "wave.gtkw", tmp, tlen, fin, flen);
    if (!f)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    fputs("[*] ", f);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fprintf(f, "\n[dumpfile] \"%s/wave.fst\"\n[savefile] \"%s/wave.gtkw\"\n", absdir, absdir);
    fprintf(f, "[timestart] %" PRIu64 "\n[size] 1600 900\n[pos] -1 -1\n", (c > lo + 20 ? c - 20 : lo) * 10u);
    fprintf(f, "*-5.000000 %" PRIu64 " -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1\n",
            c * 10u);
    fprintf(f, "[sst_width] 250\n[signals_width] 300\n[sst_expanded] 1\n[sst_vpaned_height] 300\n");
    return f;
}

void tb_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

size_t tb_shell_word(char *buf, size_t len, const char *s)
{
    size_t n = 0;
    if (len == 0)
        return 0;
    int plain = *s != '\0' && s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                                          "-_./=:,+@%")] == '\0';
    if (!plain && n + 1 < len)
        buf[n++] = '\'';
    for (; *s && n + 1 < len; s++) {
        if (*s == '\'' && n + 4 < len) {
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else if (*s != '\'') {
            buf[n++] = *s;
        }
    }
    if (!plain && n + 1 < len)
        buf[n++] = '\'';
    buf[n] = '\0';
    return n;
}

void tb_print_options(FILE *f, const mpq_opt_set *sets, size_t nsets, const char *exits)
{
    static char help[16384];
    mpq_opt_help(sets, nsets, help, sizeof help);
    fputs(help, f);
    fputs(exits, f);
}

void tb_join_cmd(char *buf, size_t len, int argc, char **argv)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < argc && used + 2 < len; i++) {
        if (i)
            buf[used++] = ' ';
        used += tb_shell_word(buf + used, len - used, argv[i]);
    }
}


/* ---- trace folders --------------------------------------------------------------------------- */
/* The trace folder being written, removed by a SIGINT/SIGTERM that arrives meanwhile (only
 * async-signal-safe calls in the handler: unlink, rmdir, _exit). */
static char cleanup_dir[1400];
static const char *const trace_files[] = {"report.txt", "report.json", "wave.fst", "wave.fst.tmp",
                                          "wave.fst.tmp.hier", "wave.gtkw", "report.txt.tmp",
                                          "report.json.tmp", "wave.gtkw.tmp"};

void tb_remove_trace_dir(const char *dir)
{
    char p[1600];
    for (size_t i = 0; i < sizeof trace_files / sizeof trace_files[0]; i++) {
        size_t n = strlen(dir), m = strlen(trace_files[i]);
        if (n + m + 2 > sizeof p)
            continue;
        memcpy(p, dir, n);
        p[n] = '/';
        memcpy(p + n + 1, trace_files[i], m + 1);
        unlink(p);
    }
    rmdir(dir);
}

static void on_signal(int sig)
{
    if (cleanup_dir[0])
        tb_remove_trace_dir(cleanup_dir);
    _exit(128 + sig);
}

void tb_cleanup_on_signal(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void tb_cleanup_dir(const char *dir) { snprintf(cleanup_dir, sizeof cleanup_dir, "%s", dir ? dir : ""); }

void tb_sanitize(char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            *s = '_';
}

int tb_mkdir_p(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* A trace folder of trace_dir: its path and the time of its report. */
typedef struct old_trace {
    char path[1400];
    struct timespec when;
} old_trace;

static int newer_first(const void *a, const void *b)
{
    const old_trace *x = a, *y = b;
    if (x->when.tv_sec != y->when.tv_sec)
        return x->when.tv_sec < y->when.tv_sec ? 1 : -1;
    if (x->when.tv_nsec != y->when.tv_nsec)
        return x->when.tv_nsec < y->when.tv_nsec ? 1 : -1;
    return strcmp(x->path, y->path);
}

/* 1 when `current` has the line "trace: <path>". */
static int listed(const char *current, const char *path)
{
    size_t n = strlen(path);
    for (const char *l = current; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (!strncmp(l, "trace: ", 7) && !strncmp(l + 7, path, n) && (l[7 + n] == '\n' || !l[7 + n]))
            return 1;
    return 0;
}

/* 1 when the folder holds nothing but the files of a trace (trace_files). */
static int only_trace_files(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int only = 1;
    for (struct dirent *e; only && (e = readdir(d)) != NULL;) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        only = 0;
        for (size_t i = 0; i < sizeof trace_files / sizeof trace_files[0]; i++)
            only |= !strcmp(e->d_name, trace_files[i]);
    }
    closedir(d);
    return only;
}

/* The trace folders of trace_dir that `current` does not list and that hold nothing else,
 * into *out (malloc'd); *in_run counts the ones it lists. */
static size_t old_traces(const char *trace_dir, const char *current, old_trace **out, unsigned *in_run)
{
    size_t n = 0, cap = 0;
    *out = NULL;
    *in_run = 0;
    DIR *d = opendir(trace_dir);
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char path[1400], rep[1500];
        struct stat st;
        if (e->d_name[0] == '.' || snprintf(path, sizeof path, "%s/%s", trace_dir, e->d_name) >= (int)sizeof path)
            continue;
        snprintf(rep, sizeof rep, "%s/report.txt", path);
        if (stat(rep, &st) != 0) {
            snprintf(rep, sizeof rep, "%s/report.json", path);
            if (stat(rep, &st) != 0)
                continue;
        }
        if (listed(current, path)) {
            (*in_run)++;
            continue;
        }
        if (!only_trace_files(path))
            continue;
        if (n == cap) {
            old_trace *g = realloc(*out, (cap = cap ? 2 * cap : 16) * sizeof *g);
            if (!g)
                break;
            *out = g;
        }
        snprintf((*out)[n].path, sizeof (*out)[n].path, "%s", path);
        (*out)[n++].when = st.st_mtim;
    }
    closedir(d);
    return n;
}

unsigned tb_prune_traces(const char *trace_dir, unsigned keep, const char *current)
{
    if (keep == 0)
        return 0;
    old_trace *t;
    unsigned in_run, removed = 0;
    size_t n = old_traces(trace_dir, current, &t, &in_run);
    if (n > 1)
        qsort(t, n, sizeof *t, newer_first);
    size_t room = keep > in_run ? keep - in_run : 0;
    for (size_t i = room; i < n; i++) {
        tb_remove_trace_dir(t[i].path);
        removed += access(t[i].path, F_OK) != 0;
    }
    free(t);
    return removed;
}

/* trace_dir/last-run (atomically): this run's command and the trace folders it wrote, one
 * `trace: DIR` line each (none when every test passed); `make wave` opens the first. */
void tb_write_last_run(const char *trace_dir, const char *cmd, const char *traces)
{
    if (tb_mkdir_p(trace_dir) != 0)
        return;
    char path[1200], tmp[1300];
    snprintf(path, sizeof path, "%s/last-run", trace_dir);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&now));
    fprintf(f, "run: %s\nat: %s\n%s", cmd, when, traces);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        remove(tmp);
}


/* ---- the traced re-run ------------------------------------------------------------------------ */
int tb_run_child(const char *bin, const char *const *argv)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char *argv2[TB_MAX_ARGS + 1];
        int n = 0;
        for (; argv[n] && n < TB_MAX_ARGS; n++)
            argv2[n] = (char *)(uintptr_t)argv[n]; /* execv's prototype predates const */
        argv2[n] = NULL;
        execv(bin, argv2);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- JUnit ---------------------------------------------------------------------------------- */
struct tb_junit {
    FILE *f;
    char *path, *tmp;
    unsigned tests, failures, errors;
    double seconds;
    FILE *body; /* test cases, copied after the header once the counts are known */
};

static void xml_str(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                fputc(*s, f);
        }
    }
}

tb_junit *tb_junit_open(const char *path)
{
    tb_junit *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    size_t n = strlen(path);
    j->path = malloc(n + 1);
    j->tmp = malloc(n + 5);
    j->body = tmpfile();
    if (!j->path || !j->tmp || !j->body) {
        tb_junit_close(j);
        return NULL;
    }
    memcpy(j->path, path, n + 1);
    snprintf(j->tmp, n + 5, "%s.tmp", path);
    j->f = fopen(j->tmp, "w");
    if (!j->f) {
        fclose(j->body);
        free(j->path);
        free(j->tmp);
        free(j);
        return NULL;
    }
    return j;
}

void tb_junit_case(tb_junit *j, const char *name, double seconds, const char *kind, const char *msg)
{
    if (!j)
        return;
    j->tests++;
    j->seconds += seconds;
    fprintf(j->body, "    <testcase classname=\"mpq.cosim\" name=\"");
    xml_str(j->body, name);
    fprintf(j->body, "\" time=\"%.3f\"", seconds);
    if (!kind) {
        fprintf(j->body, "/>\n");
        return;
    }
    if (!strcmp(kind, "failure"))
        j->failures++;
    else
        j->errors++;
    fprintf(j->body, ">\n      <%s message=\"", kind);
    xml_str(j->body, msg);
    fprintf(j->body, "\"/>\n    </testcase>\n");
}

void tb_junit_close(tb_junit *j)
{
    if (!j)
        return;
    if (j->f) {
        fprintf(j->f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
        fprintf(j->f, "  <testsuite name=\"mpq-tb\" tests=\"%u\" failures=\"%u\" errors=\"%u\" time=\"%.3f\">\n",
                j->tests, j->failures, j->errors, j->seconds);
        rewind(j->body);
        int c;
        while ((c = fgetc(j->body)) != EOF)
            fputc(c, j->f);
        fprintf(j->f, "  </testsuite>\n</testsuites>\n");
        int bad = ferror(j->f);
        bad |= fclose(j->f) != 0;
        if (bad || rename(j->tmp, j->path) != 0)
            remove(j->tmp);
    }
    if (j->body)
        fclose(j->body);
    free(j->path);
    free(j->tmp);
    free(j);
}


int tb_wave_written(const char *dir, char *why, size_t len)
{
    static const char *const partial[] = {"wave.fst.tmp", "wave.fst.tmp.hier", "wave.gtkw.tmp"};
    static const char *const wave[] = {"wave.fst", "wave.gtkw"};
    char p[1600];
    for (size_t i = 0; i < sizeof partial / sizeof partial[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, partial[i]);
        unlink(p);
    }
    for (size_t i = 0; i < sizeof wave / sizeof wave[0]; i++) {
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", dir, wave[i]);
        if (stat(p, &sb) != 0 || sb.st_size == 0) {
            snprintf(why, len, "no %s", wave[i]);
            return 0;
        }
    }
    return 1;
}

void tb_print_trace(FILE *f, const char *dir, int have_wave, const char *note)
{
    if (dir[0]) {
        fprintf(f, "  trace: %s/ (report.txt, report.json%s)\n", dir, have_wave ? ", wave.fst, wave.gtkw" : "");
        if (have_wave)
            fprintf(f, "  open:  gtkwave %s/wave.gtkw   (or: surfer %s/wave.fst)\n", dir, dir);
    }
    if (note[0])
        fprintf(f, "  %s\n", note);
}
