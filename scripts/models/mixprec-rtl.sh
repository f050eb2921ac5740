#!/usr/bin/env bash
# mixprec-rtl.sh VL_DIR OUT SAMPLE...: a sample of mixprec-all.sh's points on the RTL. SAMPLE is
# MODEL:CONFIG:DECOMP (e.g. keyword_spotting:default:channels-1:16); each runs `mpq-tb net
# MODEL --decomp DECOMP` on VL_DIR/CONFIG/plain/mpq-tb with OUT/MODEL/input0.bin (every port
# compared with the golden cycle model every cycle, every layer with its decomposed layer's
# functional model), and its total cycles must equal those of OUT/MODEL.json (the golden cycle
# model's, counted by mpq-golden model mixprec on the same input). Writes OUT/rtl/*.json, *.log
# and OUT/rtl.tsv (model, config, decomposition, golden cycles, RTL cycles, result).
# Exit 0, 1 a failure (named), 2 usage.
set -u
[ $# -ge 3 ] || { echo "usage: mixprec-rtl.sh VL_DIR OUT MODEL:CONFIG:DECOMP..." >&2; exit 2; }
vl=$1 out=$2
shift 2
dir=$(dirname "$0")
mkdir -p "$out/rtl"
tsv=$out/rtl.tsv.tmp
printf 'model\tconfig\tdecomposition\tgolden_cycles\trtl_cycles\tresult\n' > "$tsv"
fail=0
for s in "$@"; do
    model=${s%%:*} rest=${s#*:}
    cfg=${rest%%:*} dec=${rest#*:}
    tag=$model-$cfg-${dec//[:\/]/_}
    f=$(sed -n 's/.*"model": "\([^"]*\)".*/\1/p' "$out/$model.json" | head -n 1)
    [ -n "$f" ] && [ -x "$vl/$cfg/plain/mpq-tb" ] || { echo "FAIL: $s: no $out/$model.json or $vl/$cfg/plain/mpq-tb"; fail=1; continue; }
    "$vl/$cfg/plain/mpq-tb" net "$f" --config "rtl/cfg/$cfg.cfg" --decomp "$dec" --input "$out/$model/input0.bin" \
        --timing-seed 1 --json "$out/rtl/$tag.json" > "$out/rtl/$tag.log" 2>&1; rc=$?
    rtl=$(sed -n 's/.*"mpq_cycles": \([0-9]*\).*/\1/p' "$out/rtl/$tag.json" 2>/dev/null | head -n 1)
    gold=$(python3 "$dir/mixprec_md.py" --cycles "$out/$model.json" "$dec" "$cfg")
    res=passed
    if [ $rc -ne 0 ]; then res="failed (exit $rc)"; fail=1; tail -n 3 "$out/rtl/$tag.log"
    elif [ "$rtl" != "$gold" ]; then res="cycles differ"; fail=1; fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$model" "$cfg" "$dec" "$gold" "${rtl:--}" "$res" >> "$tsv"
    echo "$s: RTL $rtl cycles, golden cycle model $gold: $res"
done
mv "$tsv" "$out/rtl.tsv"
exit $fail
