#!/usr/bin/env bash
# mpq-golden model from the command line: info, run (outputs, dumps, both FC roundings, the
# accumulator table), and the refusals (exit 2 with one line naming the file).
# Usage: cli-model.sh MPQ_GOLDEN TEST_TFLITE WORKDIR  (TEST_TFLITE writes the small models)
set -u
bin=$1; gen=$2; dir=$3
rm -rf "$dir" && mkdir -p "$dir"
fail=0
bad() { echo "FAIL: $*"; fail=1; }
"$gen" --write-seeds "$dir/m" >/dev/null || { echo "FAIL: $gen --write-seeds"; exit 1; }
conv=$dir/m/conv-1x1.tflite fc=$dir/m/fc-double-rounding.tflite

$bin model --help >"$dir/help" 2>&1 && grep -q 'usage: mpq-golden model run' "$dir/help" || bad "model --help"
$bin model info "$conv" >"$dir/info" 2>&1 || bad "model info exits non-zero: $(cat "$dir/info")"
grep -q 'golden model: runs it' "$dir/info" || bad "info does not say the model runs"
grep -q '^total MACs: 4$' "$dir/info" || bad "info: total MACs"
grep -Eq '^ +0  CONV_2D +0,1,2 +3 +4 ' "$dir/info" || bad "info: operator line"

# The worked example of test_tflite: pixel (3, 2) -> (18, 18); the output is written whole.
printf '\003\002' >"$dir/in.bin"
$bin model run "$conv" --input "$dir/in.bin" --output "$dir/out.bin" --dump "$dir/dump" >"$dir/run" 2>&1 \
  || bad "model run: $(cat "$dir/run")"
[ "$(od -An -tx1 "$dir/out.bin" | tr -d ' ')" = 1212 ] || bad "conv output $(od -An -tx1 "$dir/out.bin")"
[ -f "$dir/dump/0.bin" ] && [ -f "$dir/dump/3.bin" ] || bad "dump lacks the input or the output"
[ ! -e "$dir/dump/1.bin" ] || bad "dump holds a constant"
ls "$dir" "$dir/dump" | grep -q '\.tmp$' && bad "a temporary file was left"
cmp -s "$dir/out.bin" "$dir/dump/3.bin" || bad "dump and output differ"

# FULLY_CONNECTED rounding: inputs 1 and 5 at a quarter: double (1, 2), single (0, 1).
printf '\001\005' >"$dir/fc.bin"
$bin model run "$fc" --input "$dir/fc.bin" --output "$dir/fc-d.bin" || bad "fc run"
$bin model run "$fc" --input "$dir/fc.bin" --output "$dir/fc-s.bin" --fc-rounding single || bad "fc single"
[ "$(od -An -tx1 "$dir/fc-d.bin" | tr -d ' ')" = 0102 ] || bad "fc double: $(od -An -tx1 "$dir/fc-d.bin")"
[ "$(od -An -tx1 "$dir/fc-s.bin" | tr -d ' ')" = 0001 ] || bad "fc single: $(od -An -tx1 "$dir/fc-s.bin")"
$bin model run "$fc" --input "$dir/fc.bin" --golden-kernels --output "$dir/fc-g.bin" || bad "golden kernels"
cmp -s "$dir/fc-d.bin" "$dir/fc-g.bin" || bad "golden kernels differ from the fast path"

# The accumulator table.
$bin model run "$conv" --input "$dir/in.bin" --acc-bits 4 >"$dir/acc" 2>&1 || bad "acc-bits run: $(cat "$dir/acc")"
grep -q '^accumulator analysis: 4 bits' "$dir/acc" || bad "acc-bits table header"
grep -Eq '^ +0  CONV_2D +2 +2 +\(0,0,0,[01]\)' "$dir/acc" || bad "acc-bits row: $(cat "$dir/acc")"
$bin model run "$conv" --input "$dir/in.bin" --repeat 3 --profile >"$dir/prof" || bad "repeat/profile"
grep -q '3 runs' "$dir/prof" && grep -Eq '^ +0  CONV_2D' "$dir/prof" || bad "repeat/profile output"

# Refusals: exit 2, one line, naming the file (and the sizes, the operator, the option).
refuse() { # refuse NAME EXPECTED-TEXT ARGS...
  local name=$1 want=$2; shift 2
  "$bin" model "$@" >"$dir/$name.out" 2>"$dir/$name.err"; local rc=$?
  [ $rc = 2 ] || bad "$name: exit $rc, expected 2"
  [ "$(wc -l <"$dir/$name.err")" = 1 ] || bad "$name: not one line: $(cat "$dir/$name.err")"
  grep -qF -- "$want" "$dir/$name.err" || bad "$name: '$(cat "$dir/$name.err")' lacks '$want'"
}
printf '\003' >"$dir/short.bin"
refuse short "$dir/short.bin: wrong size" run "$conv" --input "$dir/short.bin"
refuse short-sizes "is 2 bytes, got 1" run "$conv" --input "$dir/short.bin"
head -c 100 "$conv" >"$dir/cut.tflite"
refuse truncated "$dir/cut.tflite: " run "$dir/cut.tflite" --input "$dir/in.bin"
refuse missing "$dir/none.tflite: cannot open" info "$dir/none.tflite"
refuse rounding "--fc-rounding 'triple'" run "$conv" --input "$dir/in.bin" --fc-rounding triple
refuse accbits "--acc-bits '40'" run "$conv" --input "$dir/in.bin" --acc-bits 40
refuse noinput "no --input" run "$conv"
refuse unreadable "$dir/nope.bin: cannot read" run "$conv" --input "$dir/nope.bin"
printf 'TFL3' | cat - "$dir/in.bin" >"$dir/junk.tflite"
refuse junk "$dir/junk.tflite: not a TensorFlow Lite model" info "$dir/junk.tflite"

[ $fail = 0 ] && echo "cli-model: all checks passed"
exit $fail
