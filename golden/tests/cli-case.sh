#!/usr/bin/env bash
# mpq-golden case from the command line: --help, --emit, a failing case, malformed input.
# Usage: cli-case.sh MPQ_GOLDEN WORKDIR
set -u
bin=$1; dir=$2
rm -rf "$dir" && mkdir -p "$dir"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

for sub in "" "case"; do
  $bin $sub --help >"$dir/help" 2>&1 || bad "mpq-golden $sub --help exits non-zero"
  grep -q usage "$dir/help" || bad "mpq-golden $sub --help prints no usage"
done

cat >"$dir/ok.case" <<'CASE'
mpq-case 1
name cli_ok
m 2
k 3
n 2
x 1 2 3 -4 5 -6
t 1 0 -1 1 1 1
alpha 2 3
hp 5 0 0 0 0 -1
bias 100 -50
mult 1518500250
shift -2
act_min -128
act_max 127
CASE
# --emit works without an expect line and prints exactly one line.
out=$($bin case --emit "$dir/ok.case") || bad "--emit failed"
[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || bad "--emit printed more than one line: $out"
[[ $out =~ ^expect(\ -?[0-9]+){4}$ ]] || bad "--emit output malformed: $out"
# The emitted line makes the case pass; a changed value makes it fail naming the output.
{ cat "$dir/ok.case"; echo "$out"; } >"$dir/pass.case"
$bin case "$dir/pass.case" >"$dir/pass.out" 2>&1 || bad "case with its own emitted outputs fails: $(cat "$dir/pass.out")"
grep -q '^1 passed, 0 failed$' "$dir/pass.out" || bad "closing line missing"
read -r -a v <<<"$out"
v[3]=$((v[3] + 1))
{ cat "$dir/ok.case"; echo "${v[*]}"; } >"$dir/fail.case"
$bin case "$dir/fail.case" >"$dir/fail.out" 2>&1; rc=$?
[ $rc = 1 ] || bad "a wrong expect exits $rc, want 1"
grep -q 'y\[1\]\[0\]' "$dir/fail.out" || bad "failure does not name y[1][0]: $(cat "$dir/fail.out")"
grep -q '^0 passed, 1 failed$' "$dir/fail.out" || bad "closing line missing on failure"
# Malformed: file:line and exit 2; the other files are still checked.
sed 's/^k 3$/k three/' "$dir/pass.case" >"$dir/bad.case"
$bin case "$dir/pass.case" "$dir/bad.case" >"$dir/bad.out" 2>&1; rc=$?
[ $rc = 2 ] || bad "malformed input exits $rc, want 2"
grep -q "bad.case:4: 'three' is not a decimal integer" "$dir/bad.out" || bad "no file:line message: $(cat "$dir/bad.out")"
grep -q '^1 passed, 1 failed$' "$dir/bad.out" || bad "other files not checked"
$bin case --emit "$dir/missing.case" >"$dir/miss.out" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "missing.case: cannot open" "$dir/miss.out" || bad "missing file: rc $rc $(cat "$dir/miss.out")"
head -c 0 /dev/null >"$dir/empty.case"
$bin case "$dir/empty.case" >"$dir/empty.out" 2>&1; [ $? = 2 ] || bad "empty file accepted"
$bin case --bogus >/dev/null 2>&1; [ $? = 2 ] || bad "unknown option accepted"
[ $fail = 0 ] && echo "cli-case: all checks passed"
exit $fail
