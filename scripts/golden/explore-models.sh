#!/usr/bin/env bash
# explore-models.sh MPQ_GOLDEN MODELS_DIR: every int8 model in MODELS_DIR through `mpq-golden
# explore model --config int8`: each MAC layer mapped as `mpq-golden model map` maps it, run on
# the golden cycle model (model map's executor), and each hardware layer's cycles, steps and
# data waits compared with the closed form of golden/explore (docs/explore.md); and each
# hardware layer also as a layer of its own: a random point of its space (precision, mapping)
# on the cycle model, every count compared (seed EXPLORE_SEED, printed; default the time).
# Then each model's total cycles against `mpq-golden model map`'s own total line; and `explore
# model --decomp LIST --list` (make explore-energy's closed-form counts) on keyword_spotting. make
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
# --list (make explore-energy's counts): one line per hardware layer, at each layer's precision
# of a --decomp list; their cycles sum to the model's; a precision the closed form does not
# count (window-2:9) is refused.
f=$dir/keyword_spotting.tflite
if [ -f "$f" ]; then
    list=int8,ternary,channels-4:16,int8,int8,int8,int8,int8,int8,int8
    out=$("$bin" explore model "$f" --config int8 --decomp $list --list 2>&1); rc=$?
    lines=$(grep -c '^op ' <<<"$out")
    sum=$(awk '/^op / { for (i = 1; i < NF; i++) if ($i == "cycles") s += $(i + 1) } END { print s + 0 }' <<<"$out")
    total=$(sed -n 's/.*hardware layers, \([0-9]*\) cycles,.*/\1/p' <<<"$out")
    precs=$(awk '/^op / { printf "%s ", $6 }' <<<"$out")
    if [ $rc != 0 ] || [ "$lines" != 10 ] || [ "$sum" != "$total" ] ||
       [ "$precs" != "int8 tern+0hp tern+4hp int8 int8 int8 int8 int8 int8 int8 " ] ||
       ! grep -q '^op 2 part 1 prec tern+0hp .* macs_hp 0 ' <<<"$out" || ! grep -q '^op 1 part 1 prec int8 .* macs_tern 0 ' <<<"$out"; then
        echo "FAIL: explore model --decomp LIST --list: exit $rc, $lines lines, cycles $sum of ${total:-?}, precisions $precs"; fail=1
    else
        echo "explore model --list: keyword_spotting at a per-layer list: 10 hardware layers, $sum cycles, each at its precision"
    fi
    out=$("$bin" explore model "$f" --config int8 --decomp window-2:9 --list 2>&1); rc=$?
    grep -q 'window-2:9: the closed form counts' <<<"$out" && [ $rc = 2 ] ||
        { echo "FAIL: --decomp window-2:9: exit $rc: $out"; fail=1; }
fi
[ $fail = 0 ] && echo "explore/models: $n models, $hwl hardware layers and $pts random points of their spaces: closed form == cycle model, totals == model map"
exit $fail
