/* SPDX-License-Identifier: Apache-2.0 */
/* mpq_xp_energy.c: the energy-per-action table (mpq_explore.h, mpq_xp_energy_load). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "explore/mpq_explore.h"

int mpq_xp_energy_load(const char *path, const char *cfg, mpq_xp_energy *e, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char line[256], name[64];
    double v;
    unsigned seen = 0, cfg_ok = 0, in_block = 0, lineno = 0;
    memset(e, 0, sizeof *e);
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (sscanf(line, "# config %63s", name) == 1) {
            in_block = !strcmp(name, cfg);
            cfg_ok |= in_block;
            continue;
        }
        if (line[0] == '#' || line[0] == '\n' || !in_block)
            continue;
        if (sscanf(line, "%63s %lf", name, &v) != 2 || !(v >= 0)) {
            snprintf(err, errlen, "%s:%u: not `action pJ` with pJ >= 0", path, lineno);
            fclose(f);
            return -1;
        }
        unsigned bit = 0, found = 0;
#define MPQ_XP_E_READ_(a, count)                                                                         \
    if (!strcmp(name, #a)) {                                                                         \
        e->a = v;                                                                                    \
        found = 1u << bit;                                                                           \
    }                                                                                                \
    bit++;
        MPQ_XP_ACTIONS(MPQ_XP_E_READ_)
#undef MPQ_XP_E_READ_
        if (!found || (seen & found)) {
            snprintf(err, errlen, "%s:%u: `%s` is %s", path, lineno, name, found ? "repeated" : "no action");
            fclose(f);
            return -1;
        }
        seen |= found;
    }
    fclose(f);
    unsigned all = 0, bit = 0;
#define MPQ_XP_E_ALL_(a, count) all |= 1u << bit++;
    MPQ_XP_ACTIONS(MPQ_XP_E_ALL_)
#undef MPQ_XP_E_ALL_
    if (!cfg_ok || seen != all) {
        snprintf(err, errlen, "%s: %s", path, !cfg_ok ? "no `# config` line naming this configuration" : "an action is missing");
        return -1;
    }
    return 0;
}

double mpq_xp_energy_of(const mpq_xp_energy *e, const mpq_xp_cost *c)
{
    double pj = 0;
#define MPQ_XP_E_SUM_(a, count) pj += e->a * (double)c->count;
    MPQ_XP_ACTIONS(MPQ_XP_E_SUM_)
#undef MPQ_XP_E_SUM_
    return pj;
}
