#!/usr/bin/env bash
# test-explore-search.sh MPQ_GOLDEN MODELS_DIR ENERGY TMP: make test's check of `mpq-golden
# explore search` (seconds): keyword_spotting on dense, 4 inputs, a small NSGA-II. The uniform
# points' fidelity equals `mpq-golden model mixprec`'s for the same decompositions and inputs (two
# independent paths: the driver's mapped run against each layer's functional model); uniform
# int8 is exact; two runs write the same JSON; the front holds no dominated point and every
# front point has a precision per layer; the baseline's cycles are the driver's (mixprec's int8
# cycles without packing, 93122). Then bad input: exit 2 with a message naming it.
set -u
bin=${1:?usage: test-explore-search.sh MPQ_GOLDEN MODELS_DIR ENERGY TMP} dir=${2:?} energy=${3:?} tmp=${4:?}
f=$dir/keyword_spotting.tflite
rm -rf "$tmp" && mkdir -p "$tmp"
fail=0
bad() { echo "FAIL: $*"; fail=1; }
run() { "$bin" explore search "$f" --config dense --energy "$energy" --count 4 --seed 2 --pop 8 --gens 2 --ga-seed 5 "$@"; }
out=$(run --json "$tmp/a.json" --md "$tmp/a.md" 2>&1); rc=$?
echo "$out" | head -3
[ $rc -eq 0 ] || bad "exit $rc: $out"
run --json "$tmp/b.json" >/dev/null 2>&1 || bad "second run failed"
cmp -s "$tmp/a.json" "$tmp/b.json" || bad "two runs with the same seeds wrote different JSON"
[ -s "$tmp/a.md" ] && grep -q '^| front point' "$tmp/a.md" || bad "--md: no front table"
"$bin" model mixprec "$f" --points ternary,channels-1:16,channels-2:16 --ref-config dense --configs dense \
    --count 4 --seed 2 --json "$tmp/mixprec.json" >/dev/null 2>&1 || bad "mixprec failed"
python3 - "$tmp/a.json" "$tmp/mixprec.json" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1])); m = json.load(open(sys.argv[2]))
u = {x['precision']: x for x in d['uniform']}
p = {x['spec']: x for x in m['points']}
for prec, spec in (('tern+0hp', 'ternary'), ('tern+1hp', 'channels-1:16'), ('tern+2hp', 'channels-2:16')):
    a, b = u[prec], p[spec]
    assert a['sqnr_db'] == b['sqnr_db'] and a['top1_agree'] == b['top1_agree'], (prec, a, b)
    assert a['cycles'] == b['configs'][0]['mpq_cycles'], (prec, a['cycles'], b['configs'][0])
assert u['int8']['sqnr_db'] == 'inf' and u['int8']['top1_agree'] == 4, u['int8']
assert d['int8_default_mapping']['cycles'] == 93122, d['int8_default_mapping']
assert d['int8_default_mapping']['energy_pj'] > u['int8']['energy_pj']
n = len(d['layers'])
inf = float('inf')
def key(x):
    q = x['sqnr_db']
    return (x['cycles'], x['energy_pj'], x['weight_bits'], -(inf if q == 'inf' else q))
f = d['front']
assert f and all(len(x['precisions']) == n for x in f), 'a front point without a precision per layer'
for a in f:
    for b in f:
        ka, kb = key(a), key(b)
        assert not (all(y <= z for y, z in zip(kb, ka)) and kb != ka), ('dominated front point', a, b)
assert d['evaluated'] >= len(f) and d['evaluated'] <= 8 * 3
print('explore search: uniform points equal mixprec\'s fidelity and cycles, front of', len(f), 'non-dominated')
PY
expect2() {
    local what=$1 want=$2; shift 2
    local o; o=$("$bin" explore search "$@" 2>&1); local r=$?
    [ $r -eq 2 ] && grep -q -- "$want" <<<"$o" || bad "$what: exit $r, want 2 and '$want': $o"
}
expect2 "no energy" "--energy TABLE are required" "$f" --config dense
expect2 "bad precision" "tern+x" "$f" --config dense --energy "$energy" --precisions tern+x
expect2 "not offered" "not offered" "$f" --config default --energy "$energy" --precisions int8
expect2 "pop 1" "--pop 1" "$f" --config dense --energy "$energy" --pop 1
expect2 "count 0" "--count 0" "$f" --config dense --energy "$energy" --count 0
printf '# config tern\ncycle 1\n' > "$tmp/e.tsv"
expect2 "energy without the config" "e.tsv" "$f" --config dense --energy "$tmp/e.tsv"
expect2 "no such model" "no-such.tflite" "$tmp/no-such.tflite" --config dense --energy "$energy"
expect2 "unknown option" "--bogus" "$f" --config dense --energy "$energy" --bogus 1
[ $fail = 0 ] && echo "explore/model-search: the search on keyword_spotting, its cross-check with mixprec, refusals: passed"
exit $fail
