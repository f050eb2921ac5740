/* SPDX-License-Identifier: Apache-2.0 */
/* tb_opt_rows.h: the option-table entries (stim/mpq_opts.h) that mpq-tb (tb_opts.c), mpq-tb net
 * (tb_net.c) and mpq-txn (txn_opts.c) share: each option's name, value, type and range are
 * written once here, so that the tools cannot drift apart; each table gives the offset of its
 * own struct's field (F) and, where the tools differ, its help sentence. */
#ifndef TB_OPT_ROWS_H
#define TB_OPT_ROWS_H

#include <limits.h>

#include "stim/mpq_opts.h"

#define TB_OPT_CONFIG(field)                                                                             \
    {"--config", "FILE", MPQ_OPT_TEXT, field, 0, 0, NULL, NULL, 0, 0,                                    \
     "rtl/cfg/NAME.cfg this RTL must have been built with"}
#define TB_OPT_NAME(field, help) {"--name", "NAME", MPQ_OPT_TEXT, field, 0, 0, NULL, NULL, 0, 0, help}
#define TB_OPT_TRACE_DIR(field, help) {"--trace-dir", "DIR", MPQ_OPT_TEXT, field, 0, 0, NULL, NULL, 0, 0, help}
#define TB_OPT_WHITEBOX(field, help) {"--whitebox", NULL, MPQ_OPT_FLAG, field, 0, 0, NULL, NULL, 0, 0, help}
#define TB_OPT_MAX_MISMATCHES(field, help)                                                               \
    {"--max-mismatches", "N", MPQ_OPT_UINT, field, 1, UINT_MAX, NULL, NULL, 0, 0, help}
#define TB_OPT_WINDOW_BEFORE(field, help)                                                                \
    {"--window-before", "N", MPQ_OPT_UINT, field, 0, UINT_MAX, NULL, NULL, 0, 0, help}
#define TB_OPT_WINDOW_AFTER(field)                                                                       \
    {"--window-after", "N", MPQ_OPT_UINT, field, 0, UINT_MAX, NULL, NULL, 0, 0, "and after it (default 20)"}
#define TB_OPT_TRACE_BIN(field, help) {"--trace-bin", "PATH", MPQ_OPT_TEXT, field, 0, 0, NULL, NULL, 0, 0, help}
#define TB_OPT_TRACE_BUILD(field, help)                                                                  \
    {"--trace-build", "CMD", MPQ_OPT_TEXT, field, 0, 0, NULL, NULL, 0, 0, help}
#define TB_OPT_JUNIT(field, help) {"--junit", "FILE", MPQ_OPT_TEXT, field, 0, 0, NULL, NULL, 0, 0, help}
#define TB_OPT_RESULTS(field, help) {"--results", "FILE", MPQ_OPT_TEXT, field, 0, 0, NULL, NULL, 0, 0, help}
/* -1 auto (the field's default: on when more than one CPU is online), 1 on, 0 off. */
#define TB_OPT_SOURCE_THREAD(field, help)                                                                \
    {"--source-thread", NULL, MPQ_OPT_CHOICE, field, 0, 0, mpq_opt_on_off, mpq_opt_one_zero, 0, 0, help}
/* The traced re-run's own options (not in --help). */
#define TB_OPT_TRACE_AT(field, help)                                                                     \
    {"--trace-at", "C", MPQ_OPT_U64, field, 0, UINT64_MAX, NULL, NULL, 0, MPQ_OPT_INTERNAL, help}
#define TB_OPT_TRACE_OUT(field, help)                                                                    \
    {"--trace-out", "DIR", MPQ_OPT_TEXT, field, 0, 0, NULL, NULL, 0, MPQ_OPT_INTERNAL, help}
#endif
