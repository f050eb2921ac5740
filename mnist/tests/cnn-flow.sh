#!/usr/bin/env bash
# cnn-flow.sh MPQ_CNN CNN_CHECK MPQ_MNIST_RTL WORKDIR: the CNN flow end to end, small. The dataset
# package is installed first (scripts/install-deps.sh data).
set -u
cnn=$1 check=$2 rtl=$3 work=$4
data=/usr/share/datasets/fashion-mnist
scripts/install-deps.sh data || { echo "the Fashion-MNIST data is needed (scripts/install-deps.sh data)"; exit 1; }
rm -rf "$work" && mkdir -p "$work/a" "$work/b" || exit 1
opts=(--seed 7 --epochs 1 --train-count 1500)
model=cnn-c16_p2_c32s2_c64s2v_f10-s7-e1-n1500.bin
# Training is deterministic: the same seed gives the same bytes.
"$cnn" "${opts[@]}" --out "$work/a" --train-only || exit 1
"$cnn" "${opts[@]}" --out "$work/b" --train-only || exit 1
cmp "$work/a/$model" "$work/b/$model" || { echo "training is not deterministic"; exit 1; }
# A second run reuses the cached model.
"$cnn" "${opts[@]}" --out "$work/a" --train-only | grep -q "from $work/a/$model" || { echo "the cached model was not reused"; exit 1; }
# Quantized inference in the golden model equals a plain recomputation, layer by layer, in
# every scheme, and each sparse residual has the structure its axis claims.
"$check" "$work/a/$model" 12 || exit 1
# Accuracies and the study on 300 test images; the file of results is complete.
"$cnn" "${opts[@]}" --out "$work/a" --quick --test-count 300 >"$work/golden.txt" || { cat "$work/golden.txt"; exit 1; }
cat "$work/golden.txt"
for f in results.md density.tsv accbits.tsv; do [ -s "$work/a/$f" ] || { echo "no $f"; exit 1; }; done
float=$(awk '/^float \(reference\)/ { sub(/%/, "", $3); print $3 }' "$work/golden.txt")
dense=$(awk '/^dense int8/ { sub(/%/, "", $4); print $4 }' "$work/golden.txt")
# A model trained this little still beats chance by far, and int8 stays within 3 points of float.
awk -v f="$float" -v d="$dense" 'BEGIN { exit !(f > 60 && d > f - 3) }' || { echo "float $float%, dense int8 $dense%"; exit 1; }
# 2 images through the RTL: every conv layer in the conv mode, every port every cycle; the
# pooling on the host; its outputs equal the golden model's.
"$rtl" --model "$work/a/$model" --images 2 | tee "$work/rtl.txt" || exit 1
grep -q "final outputs identical" "$work/rtl.txt" || exit 1
