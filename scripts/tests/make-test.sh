#!/usr/bin/env bash
# make-test.sh WORKDIR: `make test` runs, on a newcomer's machine, every test CI runs.
#  1. A machine without a package a test needs (clang, hidden from PATH) where nothing may be
#     installed (MPQ_NO_INSTALL=1, as for a user without root or sudo): make test fails at once,
#     naming the command that installs it, and runs nothing.
#  2. scripts/summary.sh counts a skipped test as a failure, with its reason, unless it is the
#     oracle cases (their folder ../shared/oracles is absent from a user's clone), whose skip
#     is reported as one.
set -u
work=${1:?usage: scripts/tests/make-test.sh WORKDIR}
rm -rf "$work" && mkdir -p "$work/bin" || exit 1
fail() { echo "make-test: $*"; exit 1; }

# 1. Every program on PATH but clang.
IFS=: read -r -a dirs <<<"$PATH"
# (The first folder of PATH wins, as in PATH: ln refuses to replace a name already linked.)
for d in "${dirs[@]}"; do [ -d "$d" ] && ln -s "$d"/* "$work/bin/" 2>/dev/null; done
rm -f "$work/bin"/clang "$work/bin"/clang-[0-9]* "$work/bin"/clang++*
out=$work/make-test.out
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL PATH="$work/bin" MPQ_NO_INSTALL=1 \
    make --no-print-directory BUILD="$work/build" test >"$out" 2>&1
rc=$?
cat "$out"
[ $rc -ne 0 ] || fail "make test without clang, nothing installable, exited 0"
grep -q 'install them with: sudo apt-get install -y .*clang' "$out" || fail "make test did not name the command that installs clang"
grep -q 'nothing was run' "$out" || fail "make test did not say that it ran nothing"
[ ! -e "$work/build/results" ] || fail "make test ran tests although a package was missing"
echo "make-test: without clang (and nothing installable) make test fails at once, naming: $(grep -o 'sudo apt-get install -y .*' "$out")"

# 2. Skips: only the oracle cases may skip.
res=$work/fake-results
mkdir -p "$res"
printf 'PASS golden/test_arith 0.1\n' >"$res/golden_test_arith.status"
printf 'SKIP oracles/cmsis-nn 0.1\n' >"$res/oracles_cmsis-nn.status"
echo "skipped: oracle folder ../shared/oracles does not exist" >"$res/oracles_cmsis-nn.log"
scripts/summary.sh "$res" >"$work/sum1.out" || { cat "$work/sum1.out"; fail "the oracle cases' skip failed the run"; }
grep -qx '1 passed, 0 failed, 1 skipped' "$work/sum1.out" || { cat "$work/sum1.out"; fail "the oracle cases' skip is not reported"; }
printf 'SKIP fuzz/smoke-vec 0.1\n' >"$res/fuzz_smoke-vec.status"
echo "skipped: clang with libFuzzer is not installed" >"$res/fuzz_smoke-vec.log"
if scripts/summary.sh "$res" >"$work/sum2.out"; then cat "$work/sum2.out"; fail "a skipped fuzz test passed the run"; fi
grep -q '^FAIL  fuzz/smoke-vec was skipped (skipped: clang with libFuzzer is not installed)' "$work/sum2.out" ||
    { cat "$work/sum2.out"; fail "the failure does not name the skipped test and its reason"; }
grep -qx '1 passed, 1 failed, 1 skipped' "$work/sum2.out" || { cat "$work/sum2.out"; fail "wrong closing line"; }
echo "make-test: a skip other than the oracle cases' fails the run, naming the test and why"

# 3. The tests .ci/run's second Verilator leaves out (make VERILATOR_ONLY=1) are those of
#    TESTS_NO_VERILATOR, which need no Verilated model (make's plan for them, from an empty
#    build tree, runs no Verilator and builds nothing under vl/; the plan for a test that does
#    need one, mnist/flow, shows it does), and the few of TESTS_FIRST_VERILATOR.
nv=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory print-TESTS_NO_VERILATOR) ||
    fail "make print-TESTS_NO_VERILATOR failed"
[ -n "$nv" ] || fail "no test is listed as needing no Verilated model"
vl_re='build-model\.sh|verilator|/vl/'
plan() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -n --no-print-directory BUILD="$work/plan" "$@" 2>&1; }
# shellcheck disable=SC2086
if plan $nv | grep -qE "$vl_re"; then
    for t in $nv; do plan "$t" | grep -qE "$vl_re" && echo "make-test: $t is listed in TESTS_NO_VERILATOR but builds or runs a Verilated model"; done
    fail "TESTS_NO_VERILATOR names a test that needs a Verilated model"
fi
plan mnist/flow | grep -qE "$vl_re" || fail "the plan check cannot see mnist/flow's Verilated model"
nrun=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory list-tests VERILATOR_ONLY=1 | wc -l)
nall=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory list-tests | wc -l)
n1=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory print-TESTS_FIRST_VERILATOR | wc -w)
[ $((nrun + $(wc -w <<<"$nv") + n1)) -eq "$nall" ] ||
    fail "VERILATOR_ONLY=1 runs $nrun of $nall tests, TESTS_NO_VERILATOR names $(wc -w <<<"$nv"), TESTS_FIRST_VERILATOR $n1"
echo "make-test: $(wc -w <<<"$nv") tests need no Verilated model (none builds one), $n1 run with the first Verilator only; VERILATOR_ONLY=1 runs the other $nrun"
