/* SPDX-License-Identifier: Apache-2.0 */
/* The tests that run on RTL configurations (test_cycle, test_explore, test_netmap,
 * test_netdecomp) load each rtl/cfg/NAME.cfg of their list here. Test code only; run from
 * the repository's root. */
#ifndef MPQ_TEST_CFGS_H
#define MPQ_TEST_CFGS_H
#include <stdio.h>
#include <stdlib.h>

#include "contract/mpq_hw.h"

/* hws[i] = rtl/cfg/names[i].cfg for i < n. 0, or -1 with the loader's message on stderr. */
static inline int test_load_cfgs(const char *const *names, unsigned n, mpq_hwcfg *hws)
{
    for (unsigned i = 0; i < n; i++) {
        char path[128], err[256];
        snprintf(path, sizeof path, "rtl/cfg/%s.cfg", names[i]);
        if (mpq_hwcfg_load(path, &hws[i], err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return -1;
        }
    }
    return 0;
}

/* rtl/cfg/name.cfg; exits 1 with the loader's message on stderr when it does not load. */
static inline mpq_hwcfg test_load_cfg(const char *name)
{
    mpq_hwcfg hw;
    if (test_load_cfgs(&name, 1, &hw) != 0)
        exit(1);
    return hw;
}
#endif
