/* SPDX-License-Identifier: Apache-2.0 */
/* The option tables (stim/mpq_opts.c): every value type parsed, written back by the writer
 * and parsed again to the same values; each kind of bad input refused with its message; a
 * tool's set refuses the entries of another tool; --help and the JSON name every entry. */
#include <string.h>

#include "check.h"
#include "arith/mpq.h"
#include "stim/mpq_opts.h"

/* argv from a space-separated line (the shape's spaces written as '_'). */
static int split(char *line, char **argv, int max)
{
    int n = 0;
    for (char *t = strtok(line, " "); t && n < max; t = strtok(NULL, " ")) {
        for (char *c = t; *c; c++)
            if (*c == '_')
                *c = ' ';
        argv[n++] = t;
    }
    return n;
}

static int parse(unsigned tool, const char *text, mpq_stim_args *a, char *err, size_t errlen)
{
    static char line[1024];
    snprintf(line, sizeof line, "prog %s", text);
    char *argv[64];
    const char *pos[64];
    int argc = split(line, argv, 64), npos = 0;
    memset(a, 0, sizeof *a);
    mpq_opt_set s = mpq_stim_set(a, tool, 0, NULL);
    int rc = mpq_opt_parse(&s, 1, argc, argv, 1, pos, &npos, err, errlen);
    a->given = s.given;
    return rc;
}

static void test_round_trip(void)
{
    char err[512];
    mpq_stim_args a, b;
    int rc = parse(MPQ_TOOL_TB,
                   "--seed 18446744073709551615 --runs 3 --cycles 77 --layer depthwise --shape "
                   "depthwise_h=8_w=8_c=16_o=16_k=3_p=1 --hp-n 2 --acc sat --profile acc-edge --p-valid 0.3 "
                   "--p-ready 0.9 --offer late --mid-reset on --stats -q",
                   &a, err, sizeof err);
    CHECK_EQ(rc, 0, "parse: %s", err);
    CHECK(a.seed == UINT64_MAX && a.runs == 3 && a.cycles == 77 && a.layer == MPQ_LAYER_DEPTHWISE,
          "integers and choices");
    CHECK(a.shape.kind == MPQ_LAYER_DEPTHWISE && a.shape.in_h == 8 && a.hp_n == 2 && a.acc_sat == 1 &&
              a.profile == MPQ_PROF_ACC_EDGE && a.p_valid == 0.3 && a.offer_early == 0 && a.mid_reset == 1 &&
              a.stats == 1 && a.quiet == 1,
          "shape, choices, profile, probabilities, flags");
    /* Written back and parsed again: the same values. */
    const char *argv[80];
    char buf[2048], line[2048];
    int argc = 0;
    size_t used = 0;
    CHECK_EQ(mpq_opt_write(mpq_stim_opts, MPQ_SO_COUNT, &a, a.given, argv, &argc, 80, buf, sizeof buf, &used), 0,
             "write");
    size_t n = 0;
    for (int i = 0; i < argc; i++) {
        n += (size_t)snprintf(line + n, sizeof line - n, "%s", i ? " " : "");
        for (const char *c = argv[i]; *c; c++)
            line[n++] = *c == ' ' ? '_' : *c;
        line[n] = '\0';
    }
    CHECK_EQ(parse(MPQ_TOOL_TB, line, &b, err, sizeof err), 0, "parse of the written line `%s`: %s", line, err);
    CHECK(a.given == b.given && a.seed == b.seed && a.p_valid == b.p_valid && a.p_ready == b.p_ready &&
              !memcmp(&a.shape, &b.shape, sizeof a.shape) && a.profile == b.profile && a.layer == b.layer &&
              a.mid_reset == b.mid_reset && a.offer_early == b.offer_early,
          "the written line `%s` gives the same values", line);
    /* The writer writes in table order, whatever the order given. */
    CHECK(!strncmp(line, "--seed 18446744073709551615 --runs 3 --cycles 77 --layer depthwise", 66),
          "table order: `%s`", line);
}

/* Random values of every numeric entry: written, parsed again, equal (probabilities exactly:
 * the writer gives 17 significant digits). */
static void test_random_round_trips(void)
{
    for (int it = 0; it < 500; it++) {
        mpq_stim_args a, b;
        memset(&a, 0, sizeof a);
        a.seed = test_rand();
        a.m = (unsigned)test_range(1, 65535), a.k = (unsigned)test_range(1, 65535);
        a.n = (unsigned)test_range(1, 65535), a.hp_n = (unsigned)test_range(0, 64);
        a.p_valid = (double)test_range(1, 1000000) / 1e6, a.p_ready = 1.0 / (double)test_range(1, 1000);
        a.timing_seed = test_rand(), a.reset_at = (uint64_t)test_range(1, 1000000000);
        a.profile = (int)test_range(0, MPQ_PROF_COUNT - 1), a.acc_sat = (int)test_range(0, 1);
        a.given = 1ull << MPQ_SO_SEED | 1ull << MPQ_SO_M | 1ull << MPQ_SO_K | 1ull << MPQ_SO_N |
                  1ull << MPQ_SO_HP_N | 1ull << MPQ_SO_P_VALID | 1ull << MPQ_SO_P_READY |
                  1ull << MPQ_SO_TIMING_SEED | 1ull << MPQ_SO_RESET_AT | 1ull << MPQ_SO_PROFILE |
                  1ull << MPQ_SO_ACC;
        const char *argv[64];
        char buf[2048], line[2048] = "", err[512];
        int argc = 0;
        size_t used = 0, n = 0;
        mpq_opt_write(mpq_stim_opts, MPQ_SO_COUNT, &a, a.given, argv, &argc, 64, buf, sizeof buf, &used);
        for (int i = 0; i < argc; i++)
            n += (size_t)snprintf(line + n, sizeof line - n, "%s%s", i ? " " : "", argv[i]);
        int rc = parse(MPQ_TOOL_GEN, line, &b, err, sizeof err);
        CHECK(rc == 0 && b.given == a.given && b.seed == a.seed && b.m == a.m && b.k == a.k && b.n == a.n &&
                  b.hp_n == a.hp_n && b.p_valid == a.p_valid && b.p_ready == a.p_ready &&
                  b.timing_seed == a.timing_seed && b.reset_at == a.reset_at && b.profile == a.profile &&
                  b.acc_sat == a.acc_sat,
              "`%s`: %s", line, err);
    }
}

static void test_refused(void)
{
    static const struct {
        unsigned tool;
        const char *args, *want;
    } cases[] = {
        {MPQ_TOOL_TB, "--m 0", "--m: `0` is not an integer in 1..65535"},
        {MPQ_TOOL_GEN, "--n 70000", "--n: `70000` is not an integer in 1..65535"},
        {MPQ_TOOL_TB, "--seed -1", "--seed: `-1` is not an integer in"},
        {MPQ_TOOL_TB, "--hp-n x", "--hp-n: `x` is not an integer in 0..HpPerGroup"},
        /* a value the configuration bounds names the bound, not the table's widest range */
        {MPQ_TOOL_TB, "--k 0", "--k: `0` is not an integer in 1..KMax"},
        {MPQ_TOOL_GEN, "--k 70000", "--k: `70000` is not an integer in 1..KMax"},
        {MPQ_TOOL_TB, "--cycles 0", "--cycles: `0` is not an integer in 1.."},
        {MPQ_TOOL_GEN, "--p-valid 0", "--p-valid: `0` is not a probability in (0, 1]"},
        {MPQ_TOOL_GEN, "--p-ready 1.5", "--p-ready: `1.5` is not a probability in (0, 1]"},
        {MPQ_TOOL_TB, "--acc both", "--acc: `both` is not sat or wrap"},
        {MPQ_TOOL_TB, "--layer pool", "--layer: `pool` is not fc, conv2d, depthwise or any"},
        {MPQ_TOOL_GEN, "--profile odd", "--profile: unknown profile `odd`"},
        {MPQ_TOOL_GEN, "--shape blob", "--shape: "},
        {MPQ_TOOL_GEN, "--m", "`--m` needs a value"},
        {MPQ_TOOL_GEN, "--bogus 1", "unknown option `--bogus`"},
        /* an entry of the other tool is unknown here */
        {MPQ_TOOL_GEN, "--runs 3", "unknown option `--runs`"},
        {MPQ_TOOL_TB, "--timing-seed 3", "unknown option `--timing-seed`"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512] = "";
        mpq_stim_args a;
        int rc = parse(cases[i].tool, cases[i].args, &a, err, sizeof err);
        CHECK(rc == 2 && strstr(err, cases[i].want), "`%s`: exit %d, `%s`; want `%s`", cases[i].args, rc, err,
              cases[i].want);
    }
    char err[64];
    mpq_stim_args a;
    CHECK_EQ(parse(MPQ_TOOL_GEN, "--m 0 --help", &a, err, sizeof err), 1, "--help wins");
}

static void test_help_json(void)
{
    mpq_stim_args a;
    memset(&a, 0, sizeof a);
    mpq_opt_set s = mpq_stim_set(&a, 0, 0, "layer");
    static char help[16384], json[65536];
    size_t hn = mpq_opt_help(&s, 1, help, sizeof help), jn = mpq_opt_json(&s, 1, json, sizeof json);
    CHECK(hn < sizeof help && jn < sizeof json, "the texts fit");
    for (unsigned i = 0; i < MPQ_SO_COUNT; i++) {
        char name[64];
        snprintf(name, sizeof name, "  %s ", mpq_stim_opts[i].name);
        CHECK(strstr(help, name) != NULL, "--help names %s", mpq_stim_opts[i].name);
        snprintf(name, sizeof name, "\"name\": \"%s\"", mpq_stim_opts[i].name);
        CHECK(strstr(json, name) != NULL, "the JSON names %s", mpq_stim_opts[i].name);
    }
    CHECK(strstr(help, "reduction depth (1..KMax)") != NULL, "--help gives --k's bound by name");
    CHECK(strstr(json, "\"hi_param\": \"KMax\"") != NULL, "the JSON names --k's bound");
    for (const char *l = help; *l; l = strchr(l, '\n') + 1)
        CHECK(strcspn(l, "\n") <= 100, "--help lines fit 100 columns: %.*s", (int)strcspn(l, "\n"), l);
}

int main(void)
{
    test_seed("test_opts", 24);
    test_round_trip();
    test_random_round_trips();
    test_refused();
    test_help_json();
    return check_done("test_opts");
}
