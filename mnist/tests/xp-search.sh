#!/usr/bin/env bash
# xp-search.sh MPQ_EXPLORE_NET MPQ_CNN MPQ_GOLDEN WORKDIR: make explore's search, small: a CNN trained for
# one epoch on 1,000 images, 300 test images, three precisions on `dense`. Checks that two runs
# give the same bytes (the search is exhaustive: no random choice), that no front point
# dominates another and every baseline is dominated by or equal to a front point, that the
# second run takes every accuracy from the cache, and the refusals (exit 2).
set -u
xp=$1 cnn=$2 gold=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
fail() { echo "xp-search: $*"; exit 1; }
"$cnn" --seed 3 --epochs 1 --train-count 1000 --out "$work" --train-only >/dev/null || fail "training failed"
model=$work/cnn-c16_p2_c32s2_c64s2v_f10-s3-e1-n1000.bin
python3 scripts/golden/explore-energy.py --golden "$gold" --measured scripts/golden/explore-energy.tsv \
    --out "$work" >/dev/null || fail "the energy fit failed"
run() { "$xp" --config rtl/cfg/dense.cfg --energy "$work/energy.tsv" --model "$model" --images 300 \
        --precisions tern+0hp,tern+1hp,int8 --out "$work/$1"; }
run a > "$work/a.txt" || fail "first run: $(cat "$work/a.txt")"
grep -q "on 300 test images" "$work/a.txt" || fail "the first run did not compute the accuracies"
run a > "$work/a2.txt" || fail "second run failed"
grep -q "81 precision vectors from the cache" "$work/a2.txt" || fail "the second run missed the cache: $(cat "$work/a2.txt")"
run b > /dev/null || fail "third run failed"
for f in front.tsv front.md; do cmp -s "$work/a/$f" "$work/b/$f" || fail "$f differs between two runs"; done
# front.json carries the search's seconds; the rest must be equal
diff <(sed 's/"seconds": [0-9.]*//' "$work/a/front.json") <(sed 's/"seconds": [0-9.]*//' "$work/b/front.json") \
    >/dev/null || fail "front.json differs between two runs"
python3 - "$work/a/front.json" <<'PY' || fail "the Pareto property does not hold"
import json, sys
d = json.load(open(sys.argv[1]))
key = lambda p: (p["energy_nj"], p["cycles"], p["weight_bits"], -p["accuracy"])
def dom(a, b):
    ka, kb = key(a), key(b)
    return all(x <= y for x, y in zip(ka, kb)) and ka != kb
f = d["front"]
assert len(f) > 1, "a front of one point"
for a in f:
    for b in f:
        assert not dom(a, b), ("dominated front point", a, b)
for name, b in d["baselines"].items():
    assert b is None or any(dom(a, b) or key(a) == key(b) for a in f), ("baseline not covered", name)
print("front of", len(f), "points: none dominated, every baseline covered")
PY
# Refusals: exit 2 with a message naming the option.
"$xp" --config rtl/cfg/dense.cfg --energy "$work/energy.tsv" --model "$model" --out "$work/c" \
    --precisions tern+9hp,int9 2> "$work/e1" >/dev/null; [ $? -eq 2 ] && grep -q -- "--precisions" "$work/e1" \
    || fail "an unknown precision was not refused"
"$xp" --config rtl/cfg/tern.cfg --energy "$work/energy.tsv" --model "$model" --out "$work/c" --precisions tern+0hp \
    --energy /nonexistent 2> "$work/e2" >/dev/null; [ $? -eq 2 ] && grep -q -- "--energy" "$work/e2" \
    || fail "a missing energy table was not refused"
"$xp" --config rtl/cfg/dense.cfg --energy "$work/energy.tsv" --model "$work/energy.tsv" --out "$work/c" \
    2> "$work/e3" >/dev/null; [ $? -eq 2 ] && grep -q -- "--model" "$work/e3" || fail "a bad model was not refused"
echo "xp-search: determinism, Pareto property, cache hit and refusals ok"
