#!/usr/bin/env bash
# test-mixprec.sh MPQ_GOLDEN MODELS_DIR TMP: make test's cheap check of `mpq-golden model
# mixprec` (seconds): keyword_spotting at one density (channels 1:16) and its references, 2
# random inputs, through the golden model: the int8 point agrees with itself (SQNR inf), the
# decomposed point is held by default and mix2 but not by tern, with the cycles the RTL gave
# (39698, mpq-tb net --decomp channels-1:16, docs/models.md), and the JSON is complete; then
# bad input: exit 2 with a message naming it.
set -u
bin=${1:?usage: test-mixprec.sh MPQ_GOLDEN MODELS_DIR TMP} dir=${2:?} tmp=${3:?}
f=$dir/keyword_spotting.tflite
rm -rf "$tmp" && mkdir -p "$tmp"
fail=0
bad() { echo "FAIL: $*"; fail=1; }
out=$("$bin" model mixprec "$f" --points int8,ternary,channels-1:16 --count 2 --seed 3 \
      --configs tern,default,mix2 --json "$tmp/kws.json" 2>&1); rc=$?
echo "$out"
[ $rc -eq 0 ] || bad "exit $rc"
grep -q '^int8 (the model) .* 2/2 *inf  *- *- *-$' <<<"$out" || bad "the int8 row: $(grep '^int8' <<<"$out")"
grep -q '^channels 1:16 .* - *39698 *39698' <<<"$out" || bad "channels 1:16: want - 39698 39698 on tern default mix2"
grep -q '^ternary only .* 39698 *39698 *39698' <<<"$out" || bad "ternary only: want 39698 on every configuration"
python3 - "$tmp/kws.json" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
p = {x['spec']: x for x in d['points']}
assert d['inputs'] == 2 and d['seed'] == 3 and d['classifier'], d
assert p['int8']['sqnr_db'] == 'inf' and p['int8']['hp_share'] == 1.0, p['int8']
assert p['ternary']['hp_weights'] == 0 and 0 < p['channels-1:16']['hp_share'] < 1
assert not p['channels-1:16']['configs'][0]['held'] and 'HpPerGroup' in p['channels-1:16']['configs'][0]['why']
PY
head -c 4000 /dev/zero > "$tmp/two.bin" # two float32 [1,50,10,1] inputs, all 0.0
o=$("$bin" model mixprec "$f" --points channels-1:16 --configs default --inputs "$tmp/two.bin" 2>&1) &&
    grep -q '2 inputs from' <<<"$o" && grep -q '^channels 1:16 .* 39698$' <<<"$o" || bad "--inputs FILE: $o"
expect2() {
    local what=$1 want=$2; shift 2
    local o; o=$("$bin" model mixprec "$@" 2>&1); local r=$?
    [ $r -eq 2 ] && grep -q -- "$want" <<<"$o" || bad "$what: exit $r, want 2 and '$want': $o"
}
expect2 "N > G" "N <= G" "$f" --points channels-3:2
expect2 "unknown structure" "expected ternary" "$f" --points rows-1:4
expect2 "density 0" "fraction in (0, 1]" "$f" --points unstructured-0
expect2 "count 0" "at least 1" "$f" --count 0
expect2 "count x" "expected a whole number" "$f" --count x
[ -f "$dir/keyword_spotting_alexa.float32.tflite" ] &&
    expect2 "a float model" "keyword_spotting_alexa.float32.tflite: op" "$dir/keyword_spotting_alexa.float32.tflite"
head -c 7 /dev/zero > "$tmp/short.bin"
expect2 "inputs size" "not a whole number of inputs" "$f" --inputs "$tmp/short.bin"
expect2 "no such model" "no-such.tflite" "$tmp/no-such.tflite"
expect2 "unknown config" "nope" "$f" --configs nope
[ $fail = 0 ] && echo "models/mixprec: keyword_spotting at channels 1:16 and its references, refusals: passed"
exit $fail
