/* SPDX-License-Identifier: Apache-2.0 */
/* mpq_hw.c: the RTL configuration (rtl/cfg/<name>.cfg, hwcfg_o) from the parameter table
 * of mpq_layout.c. */
#define _DEFAULT_SOURCE /* readlink, PATH_MAX */
#include "contract/mpq_hw.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arith/mpq.h"

static int is_pow2(unsigned v) { return v != 0 && (v & (v - 1)) == 0; }

int mpq_hwcfg_check(const mpq_hwcfg *hw, char *err, size_t errlen)
{
    for (int p = 0; p < MPQ_P_COUNT; p++) {
        const mpq_param_desc *d = &mpq_params[p];
        unsigned v = mpq_hwcfg_value(hw, (mpq_param)p);
        if (v < d->lo || v > d->hi) {
            snprintf(err, errlen, "%s = %u is outside %u..%u", d->key, v, d->lo, d->hi);
            return MPQ_EPARAM;
        }
        unsigned o = d->rule == MPQ_RULE_NONE || d->rule == MPQ_RULE_POW2
                         ? 0
                         : mpq_hwcfg_value(hw, d->other);
        const char *ok = mpq_params[d->other].key;
        switch (d->rule) {
        case MPQ_RULE_NONE:
            break;
        case MPQ_RULE_POW2:
            if (!is_pow2(v)) {
                snprintf(err, errlen, "%s = %u is not a power of two", d->key, v);
                return MPQ_EPARAM;
            }
            break;
        case MPQ_RULE_LE_OTHER:
            if (v > o) {
                snprintf(err, errlen, "%s = %u is more than %s = %u", d->key, v, ok, o);
                return MPQ_EPARAM;
            }
            break;
        case MPQ_RULE_MULTIPLE_OF:
            if (v < o || v % o != 0) {
                snprintf(err, errlen, "%s = %u is not a multiple of %s = %u (at least %u)", d->key,
                         v, ok, o, o);
                return MPQ_EPARAM;
            }
            break;
        }
    }
    /* Every data port must fit the fixed-size port buffers. */
    unsigned widest = mpq_hw_cfg_w(hw);
    if (mpq_hw_wgt_w(hw) > widest)
        widest = mpq_hw_wgt_w(hw);
    if (MPQ_WORDS(widest) > MPQ_PORT_WORDS_MAX) {
        snprintf(err, errlen, "a data port would be %u bits wide, more than %u", widest,
                 MPQ_PORT_WORDS_MAX * 32u);
        return MPQ_EPARAM;
    }
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

int mpq_hwcfg_load(const char *path, mpq_hwcfg *hw, char *err, size_t errlen)
{
    FILE *f = mpq_fopen_read(path, "r", err, errlen);
    if (!f)
        return MPQ_EIO;
    memset(hw, 0, sizeof *hw);
    unsigned seen[MPQ_P_COUNT] = {0};
    char line[512];
    unsigned lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s:%u: line too long", path, lineno);
            rc = MPQ_EFORMAT;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (*s == '\0')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%u: expected `Key = value`", path, lineno);
            rc = MPQ_EFORMAT;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        int i;
        for (i = 0; i < MPQ_P_COUNT; i++)
            if (strcmp(key, mpq_params[i].key) == 0)
                break;
        if (i == MPQ_P_COUNT) {
            snprintf(err, errlen, "%s:%u: unknown key `%s`", path, lineno, key);
            rc = MPQ_EFORMAT;
            break;
        }
        if (seen[i]) {
            snprintf(err, errlen, "%s:%u: `%s` given twice (first on line %u)", path, lineno, key,
                     seen[i]);
            rc = MPQ_EFORMAT;
            break;
        }
        char *end;
        errno = 0;
        unsigned long v = strtoul(val, &end, 10);
        if (*val < '0' || *val > '9' || *end != '\0' || errno != 0 || v > 1000000ul) {
            snprintf(err, errlen, "%s:%u: `%s` is not a valid value for %s", path, lineno, val, key);
            rc = MPQ_EFORMAT;
            break;
        }
        seen[i] = lineno;
        mpq_hwcfg_set(hw, (mpq_param)i, (unsigned)v);
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = MPQ_EIO;
    }
    fclose(f);
    if (rc != 0)
        return rc;
    for (int i = 0; i < MPQ_P_COUNT; i++) {
        if (!seen[i]) {
            snprintf(err, errlen, "%s: missing key `%s`", path, mpq_params[i].key);
            return MPQ_EFORMAT;
        }
    }
    char why[200];
    if (mpq_hwcfg_check(hw, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        return MPQ_EPARAM;
    }
    return 0;
}

/* The folder that holds the named configurations (see mpq_hwcfg_find), or NULL. */
static const char *cfg_dir(char *buf, size_t len)
{
    const char *env = getenv("MPQ_CFG_DIR");
    if (env && *env)
        return env;
    struct stat st;
    if (stat("rtl/cfg", &st) == 0 && S_ISDIR(st.st_mode))
        return "rtl/cfg";
    /* The source tree the program was built in: walk up from the executable's folder
     * (build/mpq-golden, build/san/..., build/vl/<cfg>/plain/mpq-tb) to one with rtl/cfg. */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    for (char *slash = strrchr(exe, '/'); slash && slash != exe; slash = strrchr(exe, '/')) {
        *slash = '\0';
        snprintf(buf, len, "%s/rtl/cfg", exe);
        if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
            return buf;
    }
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *mpq_hwcfg_list(char *buf, size_t len)
{
    char dirbuf[PATH_MAX + 16];
    const char *dir = cfg_dir(dirbuf, sizeof dirbuf);
    if (len)
        buf[0] = '\0';
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d)
        return buf;
    char names[64][64];
    const char *sorted[64];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        size_t l = strlen(e->d_name);
        if (l > 4 && l < 64 && strcmp(e->d_name + l - 4, ".cfg") == 0) {
            snprintf(names[n], sizeof names[n], "%.*s", (int)(l - 4), e->d_name);
            sorted[n] = names[n];
            n++;
        }
    }
    closedir(d);
    qsort(sorted, n, sizeof sorted[0], cmp_str);
    size_t used = 0;
    for (size_t i = 0; i < n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? " " : "", sorted[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

int mpq_hwcfg_find(const char *name, char *path, size_t pathlen, char *err, size_t errlen)
{
    size_t l = strlen(name);
    if (strchr(name, '/') || (l > 4 && strcmp(name + l - 4, ".cfg") == 0)) {
        snprintf(path, pathlen, "%s", name);
        return 0;
    }
    char dirbuf[PATH_MAX + 16], have[1024];
    const char *dir = cfg_dir(dirbuf, sizeof dirbuf);
    if (dir) {
        snprintf(path, pathlen, "%s/%s.cfg", dir, name);
        if (access(path, R_OK) == 0)
            return 0;
    }
    mpq_hwcfg_list(have, sizeof have);
    snprintf(err, errlen, "no configuration `%s` (have: %s)%s", name, have[0] ? have : "none",
             dir ? "" : "; set MPQ_CFG_DIR to the folder of the *.cfg files");
    return MPQ_EPARAM;
}

int mpq_hwcfg_load_named(const char *name, mpq_hwcfg *hw, char *path, size_t pathlen, char *err, size_t errlen)
{
    char own[1024];
    if (!path) {
        path = own;
        pathlen = sizeof own;
    }
    int rc = mpq_hwcfg_find(name, path, pathlen, err, errlen);
    return rc != 0 ? rc : mpq_hwcfg_load(path, hw, err, errlen);
}

void mpq_hwcfg_pack(const mpq_hwcfg *hw, uint32_t w[MPQ_HWCFG_WORDS])
{
    memset(w, 0, MPQ_HWCFG_WORDS * sizeof w[0]);
    mpq_bits_put(w, 0, 8, MPQ_CONTRACT_VERSION);
    for (int p = 0; p < MPQ_P_COUNT; p++)
        mpq_bits_put(w, mpq_params[p].hwcfg_lsb, mpq_params[p].hwcfg_width,
                     mpq_hwcfg_value(hw, (mpq_param)p));
}

int mpq_hwcfg_unpack(const uint32_t w[MPQ_HWCFG_WORDS], mpq_hwcfg *hw)
{
    if (mpq_bits_get(w, 0, 8) != MPQ_CONTRACT_VERSION)
        return MPQ_EVERSION;
    uint32_t rest[MPQ_HWCFG_WORDS];
    memcpy(rest, w, sizeof rest);
    mpq_bits_put(rest, 0, 8, 0);
    for (int p = 0; p < MPQ_P_COUNT; p++) {
        unsigned lsb = mpq_params[p].hwcfg_lsb, width = mpq_params[p].hwcfg_width;
        mpq_hwcfg_set(hw, (mpq_param)p, mpq_bits_get(w, lsb, width));
        mpq_bits_put(rest, lsb, width, 0);
    }
    for (unsigned i = 0; i < MPQ_HWCFG_WORDS; i++)
        if (rest[i] != 0)
            return MPQ_EFORMAT;
    return 0;
}

const char *mpq_hwcfg_str(const mpq_hwcfg *hw, char *buf, size_t len)
{
    size_t used = 0;
    if (len)
        buf[0] = '\0';
    for (int p = 0; p < MPQ_P_COUNT && used < len; p++) {
        int n = snprintf(buf + used, len - used, "%s%s=%u", p ? " " : "", mpq_params[p].key,
                         mpq_hwcfg_value(hw, (mpq_param)p));
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

int mpq_hwcfg_equal(const mpq_hwcfg *a, const mpq_hwcfg *b)
{
    for (int p = 0; p < MPQ_P_COUNT; p++)
        if (mpq_hwcfg_value(a, (mpq_param)p) != mpq_hwcfg_value(b, (mpq_param)p))
            return 0;
    return 1;
}
