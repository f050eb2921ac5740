#!/usr/bin/env bash
# abfp-flow.sh MPQ_ABFP MPQ_MNIST MPQ_CNN WORKDIR: the ABFP study end to end, small: bad
# parameters refused (exit 2, the option named, nothing run), an evaluation with noise the same
# bytes twice, and the study --quick on an MLP and a CNN trained for one epoch on a few
# thousand images (the tables and data files complete; 8-bit ABFP with the best gains close to
# float).
set -u
abfp=$1 mnist=$2 cnn=$3 work=$4
. mnist/tests/flow-lib.sh
flow_start "$work"
# Refusals come before anything is loaded: no models needed.
refuse() {
    local want=$1
    shift
    local msg rc
    msg=$("$abfp" --mlp x --cnn y "$@" 2>&1 >/dev/null); rc=$?
    [ $rc -eq 2 ] || { echo "mpq-abfp $*: exit $rc, want 2"; exit 1; }
    grep -q -- "$want" <<<"$msg" || { echo "mpq-abfp $*: message '$msg' does not name $want"; exit 1; }
    echo "refused: $* -> $msg"
}
refuse "--n" --n 0
refuse "--n" --n 70000
refuse "--bits" --bits 1
refuse "--bits" --bits 17
refuse "--bw" --bw 99
refuse "--bout" --bout 1
refuse "--bout" --bout 25
refuse "--gain" --gain 0
refuse "--gain" --gain -2
refuse "--noise" --noise -0.1
refuse "--round" --round up
refuse "--scale" --scale row
refuse "--ft-gain" --ft-gain 0
refuse "--ft-noise" --ft-noise -1
refuse "--test-count" --test-count 0
refuse "--noise-seed" --noise-seed x
# Models, trained small.
"$mnist" --seed 3 --epochs 1 --train-count 3000 --out "$work/a" --train-only >/dev/null || exit 1
"$cnn" --seed 3 --epochs 1 --train-count 3000 --out "$work/a" --train-only >/dev/null || exit 1
mlp=$work/a/mlp-s3-e1-n3000.bin cnnm=$work/a/cnn-c16_p2_c32s2_c64s2v_f10-s3-e1-n3000.bin
[ -s "$mlp" ] && [ -s "$cnnm" ] || { echo "no models in $work/a: $(ls "$work/a")"; exit 1; }
# A missing model file is bad input too.
"$abfp" --mlp "$work/none.bin" --cnn "$cnnm" --eval --test-count 10 >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || { echo "a missing model: exit $rc, want 2"; exit 1; }
# The same evaluation with noise twice: the same bytes (the time of the run aside).
ev=(--mlp "$mlp" --cnn "$cnnm" --eval --test-count 100 --n 16 --bits 6 --bout 7 --gain 3 --noise 0.7 --noise-seed 11)
"$abfp" "${ev[@]}" | sed 's/, [0-9.]* s$//' >"$work/eval1.txt" || exit 1
"$abfp" "${ev[@]}" | sed 's/, [0-9.]* s$//' >"$work/eval2.txt" || exit 1
cat "$work/eval1.txt"
cmp "$work/eval1.txt" "$work/eval2.txt" || { echo "an evaluation with noise is not reproducible"; exit 1; }
"$abfp" "${ev[@]}" --noise-seed 12 | sed 's/, [0-9.]* s$//' >"$work/eval3.txt" || exit 1
h1=$(grep -o 'hash [0-9a-f]*' "$work/eval1.txt") h3=$(grep -o 'hash [0-9a-f]*' "$work/eval3.txt")
[ -n "$h1" ] && [ "$h1" != "$h3" ] || { echo "another noise seed gave the same outputs: $h1"; exit 1; }
# The study, quick.
"$abfp" --mlp "$mlp" --cnn "$cnnm" --quick --out "$work/study" >"$work/study.txt" || { cat "$work/study.txt"; exit 1; }
for f in abfp.md abfp-n.tsv abfp-gain.tsv abfp-formats.tsv abfp-layer.tsv abfp-noise.tsv abfp-finetune.tsv; do
    [ -s "$work/study/$f" ] || { echo "no $f"; exit 1; }
done
grep -A4 "^## Headline" "$work/study/abfp.md"
# The headline row: ABFP with the best gains within 3 points of float on these 200 images.
awk -F'|' '/^\| (MLP|CNN) \| [0-9.]+% \| [0-9.]+% \| [0-9.]+% \|/ {
    gsub(/[% ]/, "", $3); gsub(/[% ]/, "", $5);
    if ($5 + 3 < $3) { print "8-bit ABFP more than 3 points below float:", $0; bad = 1 } n++ }
    END { exit bad || n != 2 }' "$work/study/abfp.md" || { echo "headline rows missing or off"; exit 1; }
echo "abfp-flow: refusals, reproducible noise, study complete"
