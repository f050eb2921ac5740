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
# A folder is named as one (not "read error").
$bin case "$dir" >"$dir/dir.out" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "$dir: is a directory, not a file" "$dir/dir.out" || bad "case DIR: rc $rc $(cat "$dir/dir.out")"

# Spatial layers: a conv2d case computes and names y[b][oy][ox][c]; a case whose shapes
# disagree is refused with file:line and exit 2, before anything is computed.
cat >"$dir/conv.case" <<'CASE'
mpq-case 1
name cli_conv
layer conv2d
batches 2
in_h 3
in_w 3
in_c 2
out_c 2
kh 2
kw 2
stride 1 1
pad 0 0
out_h 2
out_w 2
x 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 -1 -2 -3 -4 -5 -6 -7 -8 -9 -10 -11 -12 -13 -14 -15 -16 -17 -18
w 1 0 -1 2 0 1 1 -1 2 2 -2 1 0 0 1 1
bias 3 -3
mult 1073741824
shift 1
act_min -1000
act_max 1000
CASE
out=$($bin case --emit "$dir/conv.case") || bad "--emit of a conv2d case failed"
[[ $out =~ ^expect(\ -?[0-9]+){16}$ ]] || bad "conv2d --emit output malformed: $out"
{ cat "$dir/conv.case"; echo "$out"; } >"$dir/convpass.case"
$bin case "$dir/convpass.case" >/dev/null 2>&1 || bad "conv2d case with its own outputs fails"
read -r -a v <<<"$out"
v[12]=$((v[12] + 1)) # output 11: b 1, oy 0, ox 1, c 1
{ cat "$dir/conv.case"; echo "${v[*]}"; } >"$dir/convfail.case"
$bin case "$dir/convfail.case" >"$dir/convfail.out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'y\[1\]\[0\]\[1\]\[1\]' "$dir/convfail.out" || bad "conv2d failure: rc $rc $(cat "$dir/convfail.out")"
refused() { # refused FILE LINE-PATTERN: exit 2, the file:line message, nothing computed
  $bin case "$dir/$1" >"$dir/$1.out" 2>&1; local rc=$?
  [ $rc = 2 ] || bad "$1 exits $rc, want 2"
  grep -q "$1:$2" "$dir/$1.out" || bad "$1: no '$1:$2' message: $(cat "$dir/$1.out")"
  grep -q '^0 passed, 1 failed$' "$dir/$1.out" || bad "$1: closing line missing"
  $bin case --emit "$dir/$1" >"$dir/$1.emit" 2>&1 && bad "$1: --emit computed it"
  grep -q '^expect' "$dir/$1.emit" && bad "$1: --emit printed outputs"
}
sed 's/^out_h 2$/out_h 4/' "$dir/convpass.case" >"$dir/badouth.case"
refused badouth.case "13: height axis: output size 4 disagrees"
sed 's/^groups.*//; s/^pad 0 0$/pad 0 0\ngroups 3/' "$dir/convpass.case" >"$dir/badgroups.case"
refused badgroups.case "[0-9]*: conv2d: groups 3 do not divide"
sed 's/^x 1 2 3 /x 2 3 /' "$dir/convpass.case" >"$dir/badcount.case"
refused badcount.case "15: x has 35 values, expected 36"
grep -v '^kw ' "$dir/convpass.case" >"$dir/nokw.case"
refused nokw.case " missing required key 'kw'"
sed 's/^layer conv2d$/layer maxpool/' "$dir/convpass.case" >"$dir/poolw.case"
refused poolw.case "[0-9]*: key 'w' does not apply to layer maxpool"
sed 's/^batches 2$/m 2/' "$dir/convpass.case" >"$dir/convm.case"
refused convm.case "[0-9]*: key 'm' does not apply to layer conv2d"
[ $fail = 0 ] && echo "cli-case: all checks passed"
exit $fail
