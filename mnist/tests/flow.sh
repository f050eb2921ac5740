#!/usr/bin/env bash
# flow.sh MPQ_MNIST MPQ_MNIST_RTL WORKDIR: the Fashion-MNIST flow end to end, small. The
# dataset package is installed first (or named, and the test fails).
set -u
mn=$1 rtl=$2 work=$3
data=/usr/share/datasets/fashion-mnist
scripts/install-deps.sh data || { echo "the Fashion-MNIST data is needed (scripts/install-deps.sh data)"; exit 1; }
rm -rf "$work" && mkdir -p "$work/a" "$work/b" || exit 1
# Training is deterministic: the same seed gives the same bytes.
"$mn" --seed 7 --epochs 1 --train-count 3000 --out "$work/a" --train-only || exit 1
"$mn" --seed 7 --epochs 1 --train-count 3000 --out "$work/b" --train-only || exit 1
cmp "$work/a/mlp-s7-e1-n3000.bin" "$work/b/mlp-s7-e1-n3000.bin" || { echo "training is not deterministic"; exit 1; }
# Quantized accuracies with the golden model; the file of results is complete.
"$mn" --seed 7 --epochs 1 --train-count 3000 --out "$work/a" --quick >"$work/golden.txt" || { cat "$work/golden.txt"; exit 1; }
cat "$work/golden.txt"
for f in results.md density.tsv accbits.tsv; do [ -s "$work/a/$f" ] || { echo "no $f"; exit 1; }; done
float=$(awk '/^float \(reference\)/ { sub(/%/, "", $3); print $3 }' "$work/golden.txt")
dense=$(awk '/^dense int8/ { sub(/%/, "", $4); print $4 }' "$work/golden.txt")
# A model trained this little still beats chance by far, and int8 stays within 2 points of float.
awk -v f="$float" -v d="$dense" 'BEGIN { exit !(f > 60 && d > f - 2) }' || { echo "float $float%, dense int8 $dense%"; exit 1; }
# 30 images through the RTL, every port every cycle; its outputs equal the golden model's.
"$rtl" --model "$work/a/mlp-s7-e1-n3000.bin" --images 30 | tee "$work/rtl.txt" || exit 1
grep -q "final outputs identical" "$work/rtl.txt" || exit 1
