#!/usr/bin/env bash
# targets-small.sh KIND BUILD: a README target run at a small size in make test, so that it
# cannot rot unseen (issue 30, item 1); each checks what the target promises to print or write.
#   sim      make sim on `small` for 20,000 lockstep cycles: its committed vectors and lockstep
#            layers pass, and the last line says which configurations passed
#   dut-sim  make dut-sim on examples/osa's description, 5 random layers: they pass
#   coverage make coverage on `small` with 4 layers per step: a total line coverage of rtl/
#            above zero, the per-file summary and the lcov HTML report
set -u
kind=${1:?usage: targets-small.sh sim|dut-sim|coverage BUILD} build=${2:?}
work=$build/tmp/target-$kind
rm -rf "$work" && mkdir -p "$work"
m() { make -s --no-print-directory "$@"; }
case $kind in
  sim)
    m sim SIM_CONFIGS=small SIM_CYCLES=20000 TRACES="$work/traces" >"$work/out.txt" 2>&1; rc=$?
    tail -n 4 "$work/out.txt"
    [ $rc -eq 0 ] || { echo "targets-small: make sim exited $rc"; exit 1; }
    tail -n 1 "$work/out.txt" | grep -qx "sim: passed: small" || { echo "targets-small: make sim's last line is not 'sim: passed: small'"; exit 1; }
    grep -q "^40 passed, 0 failed" "$work/out.txt" || { echo "targets-small: the 40 committed vectors of small did not all pass"; exit 1; }
    ;;
  dut-sim)
    m dut-sim DUT=examples/osa/osa.dut DUT_RUNS=5 TRACES="$work/traces" >"$work/out.txt" 2>&1; rc=$?
    tail -n 3 "$work/out.txt"
    [ $rc -eq 0 ] || { echo "targets-small: make dut-sim exited $rc"; exit 1; }
    grep -q "^5 passed, 0 failed" "$work/out.txt" || { echo "targets-small: make dut-sim did not pass its 5 layers"; exit 1; }
    ;;
  coverage)
    m coverage COVERAGE_CONFIGS=small COVERAGE_RUNS=4 COVERAGE_OUT="$work/coverage" >"$work/out.txt" 2>&1; rc=$?
    grep "^line coverage\|^coverage: small" "$work/out.txt"
    [ $rc -eq 0 ] || { tail -n 5 "$work/out.txt"; echo "targets-small: make coverage exited $rc"; exit 1; }
    pct=$(sed -n 's/^line coverage of rtl\/: \([0-9.]*\)%.*/\1/p' "$work/out.txt")
    awk -v p="${pct:-0}" 'BEGIN { exit !(p > 0) }' || { echo "targets-small: no line coverage figure above 0"; exit 1; }
    [ -s "$work/coverage/html/index.html" ] && [ -s "$work/coverage/summary.txt" ] \
      || { echo "targets-small: no HTML report or summary in $work/coverage"; exit 1; }
    ;;
  *) echo "targets-small.sh: KIND is sim, dut-sim or coverage" >&2; exit 2 ;;
esac
echo "targets-small: make $kind works"
