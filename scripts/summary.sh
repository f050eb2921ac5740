#!/usr/bin/env bash
# summary.sh RESULTS_DIR: counts the *.status files written by check.sh, writes
# RESULTS_DIR/junit.xml, prints the closing line `N passed, M failed`; exit 1 on any failure.
set -u
dir=$1
pass=0; fail=0; skip=0
shopt -s nullglob
cases=""
for f in "$dir"/*.status; do
  read -r st name secs <"$f"
  case $st in
    PASS) pass=$((pass+1)); cases+="  <testcase classname=\"mpq\" name=\"$name\" time=\"$secs\"/>"$'\n' ;;
    SKIP) skip=$((skip+1)); cases+="  <testcase classname=\"mpq\" name=\"$name\" time=\"$secs\"><skipped/></testcase>"$'\n' ;;
    *) fail=$((fail+1)); cases+="  <testcase classname=\"mpq\" name=\"$name\" time=\"$secs\"><failure message=\"see ${f%.status}.log\"/></testcase>"$'\n' ;;
  esac
done
tmp="$dir/junit.xml.tmp"
{
  echo '<?xml version="1.0" encoding="UTF-8"?>'
  echo "<testsuite name=\"mpq make test\" tests=\"$((pass+fail+skip))\" failures=\"$fail\" skipped=\"$skip\">"
  printf '%s' "$cases"
  echo '</testsuite>'
} >"$tmp" && mv -f "$tmp" "$dir/junit.xml"
if [ $((pass+fail)) -eq 0 ]; then
  echo "no tests ran"; echo "0 passed, 1 failed"; exit 1
fi
if [ "$skip" -gt 0 ]; then echo "$pass passed, $fail failed, $skip skipped"; else echo "$pass passed, $fail failed"; fi
[ "$fail" -eq 0 ]
