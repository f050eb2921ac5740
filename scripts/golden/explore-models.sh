#!/usr/bin/env bash
# explore-models.sh MPQ_GOLDEN MODELS_DIR: every int8 model in MODELS_DIR through `mpq-golden
# explore model --config int8`: each MAC layer mapped as `mpq-golden model map` maps it, run on
# the golden cycle model (model map's executor), and each hardware layer's cycles, steps and
# data waits compared with the closed form of golden/explore (docs/explore.md); and each
# hardware layer also as a layer of its own: a random point of its space (precision, mapping)
# on the cycle model, every count compared (seed EXPLORE_SEED, printed; default the time).
# Then each model's total cycles against `mpq-golden model map`'s own total line. make
# explore/models fetches the models first (scripts/models/fetch.sh, quick when done already).
set -u
bin=${1:?usage: explore-models.sh MPQ_GOLDEN MODELS_DIR}; dir=${2:?usage: explore-models.sh MPQ_GOLDEN MODELS_DIR}
fail=0 n=0 hwl=0 pts=0
seed=${EXPLORE_SEED:-$(date +%s)}
echo "explore/models: seed $seed (EXPLORE_SEED=$seed reproduces)"
for f in "$dir"/*.tflite; do
    case $f in *.float32.tflite) continue ;; esac
    n=$((n + 1))
    out=$("$bin" explore model "$f" --config int8 --sample-every 1 --seed "$seed" 2>&1); rc=$?
    echo "$(basename "$f" .tflite): ${out##*: }"
    if [ $rc -ne 0 ] || ! grep -q 'closed form == cycle model' <<<"$out"; then
        echo "FAIL: $(basename "$f"): exit $rc: $out"; fail=1; continue
    fi
    got=$(sed -n 's/.*hardware layers, \([0-9]*\) cycles,.*/\1/p' <<<"$out")
    hwl=$((hwl + $(sed -n 's/.* layers, \([0-9]*\) hardware layers.*/\1/p' <<<"$out")))
    pts=$((pts + $(sed -n 's/.* cycles, \([0-9]*\) sampled points.*/\1/p' <<<"$out")))
    want=$("$bin" model map "$f" --config int8 2>&1 | sed -n 's/^total: [0-9]* MACs in \([0-9]*\) cycles.*/\1/p')
    [ "$got" = "$want" ] || { echo "FAIL: $(basename "$f"): explore model $got cycles, model map $want"; fail=1; }
done
[ $n -gt 0 ] || { echo "FAIL: no int8 model in $dir"; exit 1; }
[ $fail = 0 ] && echo "explore/models: $n models, $hwl hardware layers and $pts random points of their spaces: closed form == cycle model, totals == model map"
exit $fail
