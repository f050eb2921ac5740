/* SPDX-License-Identifier: Apache-2.0 */
/* The tests that run on several RTL configurations (test_cycle, test_explore) load each
 * rtl/cfg/NAME.cfg of their list here. Test code only; run from the repository's root. */
#ifndef MPQ_TEST_CFGS_H
#define MPQ_TEST_CFGS_H
#include <stdio.h>

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
#endif
