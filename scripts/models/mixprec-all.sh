#!/usr/bin/env bash
# mixprec-all.sh MPQ_GOLDEN PY MODELS_DIR OUT SEED COUNT GRID MODEL...: each model's int8 weights
# decomposed into ternary + sparse int8 at every point of the CNN study's grid (GRID full or
# quick) by `mpq-golden model mixprec`, its fidelity over COUNT inputs drawn by
# scripts/models/inputs.py with SEED (its seeded random and normal inputs only: the extremes
# it draws first are not inputs a classifier is judged on), its cycles on the ternary
# configurations. Writes OUT/<model>.txt, OUT/<model>.json, OUT/<model>/inputs.bin and
# OUT/<model>/input0.bin (the input the cycles are counted on). Exit 0, 1 a failure (named), 2 usage.
set -u
usage="usage: mixprec-all.sh MPQ_GOLDEN PY MODELS_DIR OUT SEED COUNT GRID MODEL..."
[ $# -ge 8 ] || { echo "$usage" >&2; exit 2; }
bin=$1 py=$2 dir=$3 out=$4 seed=$5 count=$6 grid=$7
shift 7
case $seed$count in *[!0-9]*|'') echo "mixprec-all.sh: SEED and COUNT must be whole numbers" >&2; exit 2 ;; esac
[ "$count" -ge 1 ] || { echo "mixprec-all.sh: COUNT must be at least 1" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
echo "mixprec-all.sh: seed $seed, $count inputs per model, grid $grid"
fail=0
for name in "$@"; do
    f=$dir/$name.tflite
    [ -f "$f" ] || { echo "FAIL: $name: no $f"; fail=1; continue; }
    rm -rf "$out/$name" && mkdir -p "$out/$name"
    # Up to 10 extremes come first, then random and normal inputs alternate.
    "$py" "$here/inputs.py" "$f" --seed "$seed" --count $((count + 10)) --out "$out/$name/in" >/dev/null ||
        { echo "FAIL: $name: inputs.py"; fail=1; continue; }
    awk -F'\t' 'NR > 1 && ($2 == "random" || $2 == "normal") { print $1 }' "$out/$name/in/inputs.tsv" |
        head -n "$count" | sed "s|^|$out/$name/in/|" | xargs cat > "$out/$name/inputs.bin.tmp" &&
        mv "$out/$name/inputs.bin.tmp" "$out/$name/inputs.bin"
    first=$(awk -F'\t' 'NR > 1 && ($2 == "random" || $2 == "normal") { print $1; exit }' "$out/$name/in/inputs.tsv")
    cp "$out/$name/in/$first" "$out/$name/input0.bin"
    start=$(date +%s)
    "$bin" model mixprec "$f" --inputs "$out/$name/inputs.bin" --grid "$grid" --json "$out/$name.json" \
        > "$out/$name.txt.tmp" 2>&1; rc=$?
    mv "$out/$name.txt.tmp" "$out/$name.txt"
    cat "$out/$name.txt"
    echo "($name: $(( $(date +%s) - start )) s)"
    [ $rc -eq 0 ] || { echo "FAIL: $name: mpq-golden model mixprec exit $rc"; fail=1; }
done
exit $fail
