#!/usr/bin/env bash
# check.sh RESULTS_DIR NAME -- COMMAND...
# Runs one test, keeps its output in RESULTS_DIR/NAME.log, records PASS or FAIL in
# RESULTS_DIR/NAME.status and prints one line. Exit status 77 records SKIP. Exits 1 on FAIL, so
# that `make NAME` alone fails; `make test` runs every test anyway (make -k) and
# scripts/summary.sh counts the results.
set -u
dir=$1; name=$2; shift 2
[ "${1:-}" = "--" ] && shift
mkdir -p "$dir"
log="$dir/${name//\//_}.log"
start=$(date +%s.%N)
"$@" >"$log" 2>&1; rc=$?
# Exit status 77 means "skipped" (the automake convention): the log says why.
case $rc in 0) st=PASS ;; 77) st=SKIP ;; *) st=FAIL ;; esac
secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
printf '%s %s %s\n' "$st" "$name" "$secs" >"$dir/${name//\//_}.status"
if [ "$st" = PASS ]; then
  printf 'PASS  %-48s %6ss\n' "$name" "$secs"
elif [ "$st" = SKIP ]; then
  printf 'SKIP  %-48s %6ss  %s\n' "$name" "$secs" "$(tail -n 1 "$log")"
else
  printf 'FAIL  %-48s %6ss  (log: %s)\n' "$name" "$secs" "$log"
  tail -n 15 "$log" | sed 's/^/      | /'
  exit 1
fi
exit 0
