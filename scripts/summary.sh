#!/usr/bin/env bash
# summary.sh [--expect "TEST..."] RESULTS_DIR...: counts the *.status files written by check.sh, writes
# RESULTS_DIR/junit.xml for each folder, prints the closing line `N passed, M failed` over all of
# them (`.ci/run` passes the results of each Verilator); exit 1 on any failure.
# A test may skip (exit 77) only when it is named in MPQ_SKIP_OK (patterns; default: the oracle
# cases, whose folder ../shared/oracles a user's clone lacks): `make test` installs what every
# other test needs, so any other skip counts as a failure, with its reason.
# With --expect (make test: its whole list, one results folder), a test of the list with no
# result did not run because something it needs failed to build (make -k went on without it):
# it is recorded as failed, so a broken build never shrinks the count of tests unnoticed.
set -u
if [ "${1:-}" = --expect ]; then
  why="did not run: a target it depends on failed to build (see make's output above)"
  for name in $2; do
    f="$3/${name//\//_}"
    [ -e "$f.status" ] && continue
    echo "$why" >"$f.log"
    printf 'FAIL %s 0.0\n' "$name" >"$f.status"
    printf 'FAIL  %-48s %6ss  %s\n' "$name" 0.0 "$why"
  done
  shift 2
fi
read -r -a skip_ok <<<"${MPQ_SKIP_OK:-oracles/*}"
pass=0; fail=0; skip=0
shopt -s nullglob
for dir in "$@"; do
  cases=""; dpass=0; dfail=0; dskip=0
  for f in "$dir"/*.status; do
    read -r st name secs <"$f"
    if [ "$st" = SKIP ]; then
      allowed=0
      for p in "${skip_ok[@]}"; do
        # shellcheck disable=SC2053
        [[ $name == $p ]] && allowed=1
      done
      if [ $allowed = 0 ]; then
        st=FAIL
        echo "FAIL  $name was skipped ($(tail -n 1 "${f%.status}.log")); make test must run it: nothing but the oracle cases may skip"
      fi
    fi
    case $st in
      PASS) dpass=$((dpass+1)); cases+="  <testcase classname=\"mpq\" name=\"$name\" time=\"$secs\"/>"$'\n' ;;
      SKIP) dskip=$((dskip+1)); cases+="  <testcase classname=\"mpq\" name=\"$name\" time=\"$secs\"><skipped/></testcase>"$'\n' ;;
      *) dfail=$((dfail+1)); cases+="  <testcase classname=\"mpq\" name=\"$name\" time=\"$secs\"><failure message=\"see ${f%.status}.log\"/></testcase>"$'\n' ;;
    esac
  done
  tmp="$dir/junit.xml.tmp"
  mkdir -p "$dir"
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo "<testsuite name=\"mpq make test\" tests=\"$((dpass+dfail+dskip))\" failures=\"$dfail\" skipped=\"$dskip\">"
    printf '%s' "$cases"
    echo '</testsuite>'
  } >"$tmp" && mv -f "$tmp" "$dir/junit.xml"
  # A folder without a single result: that run did not happen (make failed before its tests).
  if [ $((dpass+dfail+dskip)) -eq 0 ]; then echo "no tests ran ($dir)"; dfail=1; fi
  pass=$((pass+dpass)); fail=$((fail+dfail)); skip=$((skip+dskip))
done
if [ $# -eq 0 ]; then echo "no tests ran"; fail=1; fi
if [ "$skip" -gt 0 ]; then echo "$pass passed, $fail failed, $skip skipped"; else echo "$pass passed, $fail failed"; fi
[ "$fail" -eq 0 ]
