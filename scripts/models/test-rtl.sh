#!/usr/bin/env bash
# test-rtl.sh MPQ_TB MPQ_GOLDEN MODELS_DIR WORK: make test's sample of make models on the int8 RTL
# (mpq-tb net, tb/tb_net.h).
#  1. tflite_micro_speech and anomaly_detection whole on the RTL at full rate: exit 0, every
#     layer passed, the final output equal, the total cycles equal to mpq-golden model map's
#     (the cycle model alone), and the JSON says rtl_passed.
#  2. keyword_spotting under back-pressure (p-valid 0.5, p-ready 0.6, timing seed 7): passes,
#     with output stalls counted.
#  3. A planted fault (--inject-flip: one activation beat of op 2 changed for the DUT): exit 1,
#     the report names the model, the operator, the element (n, y, x, c), the cycle and the
#     lane, the trace folder holds report.txt, report.json, network.json and layer.vec, and replaying
#     layer.vec on the testbench fails at the same cycle.
#  4. Refusals, exit 2 naming the option or file: --vec-cycles without --vec-dir, a host
#     operator in --ops, a missing model, another configuration's cfg.
#  5. (run before 4) make ppa-models' workload: --vec-dir DIR --vec-cycles 300 on
#     tflite_micro_speech writes DIR/summary.tsv, one row per part, the cycles summing to the
#     run's total, each file the part's first 300 cycles, replaying on the RTL; the
#     summary's MACs of keyword_spotting sum to the model's (model map's total).
set -u
tb=${1:?usage: test-rtl.sh MPQ_TB MPQ_GOLDEN MODELS_DIR WORK}; golden=${2:?}; dir=${3:?}; work=${4:?}
rm -rf "$work" && mkdir -p "$work"
fail=0
. "$(dirname "$0")/net-checks.sh"

# 1. Two models whole, cycles equal to the cycle model's.
for m in tflite_micro_speech anomaly_detection; do
    "$tb" net "$dir/$m.tflite" --config rtl/cfg/int8.cfg --timing-seed 1 --json "$work/$m.json" \
        --trace-dir "$work/traces" >"$work/$m.txt" 2>&1
    rc=$?
    "$golden" model map "$dir/$m.tflite" --config int8 >"$work/$m.map" 2>&1
    net_whole "$m" "$work/$m" $rc '^mpq-tb net: passed: .* final output equal' "$(total_cycles "$work/$m.map")" \
        "model map"
done

# 2. Back-pressure: valid gaps and output stalls, the same outputs.
m=keyword_spotting
net_backpressure "$m" "$work/$m-bp" "$dir/$m.tflite"

# 3. The planted fault: caught, reported in the network's terms, its trace replays it.
"$tb" net "$dir/$m.tflite" --timing-seed 7 --p-valid 0.5 --p-ready 0.6 --ops 2 --inject-flip \
    --trace-dir "$work/traces" >"$work/fault.txt" 2>&1
rc=$?
tr=$work/traces/net-keyword_spotting-op2-part1
line=$(grep -m1 '^  network: ' "$tr/report.txt" 2>/dev/null)
cyc=$(sed -n 's/^  first mismatching cycle \([0-9]*\) .*/\1/p' "$tr/report.txt" 2>/dev/null)
if [ $rc != 1 ]; then
    bad "planted fault: exit $rc, want 1"; cat "$work/fault.txt"
elif ! [[ $line =~ keyword_spotting.tflite,\ op\ 2\ \(DEPTHWISE_CONV_2D\).*cycle\ [0-9]+,\ lane\ [0-9]+.*element\ \(n\ [0-9]+,\ y\ [0-9]+,\ x\ [0-9]+,\ c\ [0-9]+\)\ of\ tensor ]]; then
    bad "planted fault: the report does not name model, op, cycle, lane and element: '$line'"
elif [ ! -s "$tr/report.json" ] || [ ! -s "$tr/layer.vec" ] || ! grep -q '^  reproduce: .* net .* --ops 2' "$tr/report.txt"; then
    bad "planted fault: the trace folder lacks report.json, layer.vec or the reproduce line"; ls -l "$tr"
elif ! grep -q '"op": 2, "type": "DEPTHWISE_CONV_2D", .*"cycle": '"$cyc"', .*"lane": [0-9]*, "element": {"n": [0-9]*, "y": [0-9]*, "x": [0-9]*, "c": [0-9]*}' "$tr/network.json" 2>/dev/null; then
    bad "planted fault: network.json does not name op, cycle, lane and element"; cat "$tr/network.json"
elif ! grep -q '^FAILED\|FAILED' "$work/fault.txt" || ! grep -q "MISMATCH in net-keyword_spotting-op2-part1" "$work/fault.txt"; then
    bad "planted fault: no MISMATCH report printed"; cat "$work/fault.txt"
else
    net_replay "$tr" "$cyc" "planted fault: caught at cycle $cyc, ${line#  network: }; layer.vec replays it"
fi

# 5. make ppa-models' workload: --vec-dir's summary with --vec-cycles 300: one row per part,
#    the parts' cycles summing to the model's, each file its part's first 300 cycles, which
#    replay on the RTL (every port compared).
v=$work/vec
"$tb" net "$dir/tflite_micro_speech.tflite" --config rtl/cfg/int8.cfg --timing-seed 1 --vec-dir "$v" --vec-cycles 300 \
    >"$work/vec.txt" 2>&1
rc=$?
sum=$(awk -F'\t' '/^layer/ { c += $5 } END { print c + 0 }' "$v/summary.tsv" 2>/dev/null)
want=$(total_cycles "$work/vec.txt")
rows=$(awk -F'\t' '/^layer/ && $8 == ($9 < 300 ? $9 : 300) && $9 > $5 { n++ } END { print n + 0 }' "$v/summary.tsv" 2>/dev/null)
if [ $rc != 0 ] || [ ! -s "$v/summary.tsv" ]; then
    bad "--vec-dir --vec-cycles: exit $rc or no summary.tsv"; tail -n 5 "$work/vec.txt"
elif [ -z "$want" ] || [ "$sum" != "$want" ] || [ "$rows" != 2 ]; then
    bad "--vec-dir: the summary's cycles $sum (model: ${want:-?}), $rows of 2 rows with 300 cycles saved"; cat "$v/summary.tsv"
elif ! "$tb" replay "$v"/*.vec --config rtl/cfg/int8.cfg >"$work/vec-replay.txt" 2>&1 ||
     [ "$(grep -c '^PASS .* 300 cycles' "$work/vec-replay.txt")" != 2 ]; then
    bad "--vec-cycles: the sampled files do not replay 300 cycles each"; cat "$work/vec-replay.txt"
else
    echo "--vec-dir --vec-cycles 300: summary of 2 parts, $sum cycles = the run's, each file 300 cycles replayed"
fi

# The summary's MACs are the model's, each part its share (keyword_spotting's depthwise layers
# run packed: the hardware layers' products, zero taps included, are 1.9 times as many).
kv=$work/vec-kws
"$tb" net "$dir/keyword_spotting.tflite" --config rtl/cfg/int8.cfg --timing-seed 1 --vec-dir "$kv" --vec-cycles 10 \
    >"$work/vec-kws.txt" 2>&1
"$golden" model map "$dir/keyword_spotting.tflite" --config int8 >"$work/kws.map" 2>&1
macs=$(awk -F'\t' '/^layer/ { s += $6 } END { print s + 0 }' "$kv/summary.tsv" 2>/dev/null)
want=$(sed -n 's/^total: \([0-9]*\) MACs.*/\1/p' "$work/kws.map")
if [ -z "$want" ] || [ "$macs" != "$want" ]; then
    bad "--vec-dir: keyword_spotting's summary counts $macs MACs, the model ${want:-?}"
else
    echo "--vec-dir: keyword_spotting's summary counts the model's $macs MACs"
fi

# 4. Refusals.
refuse "--vec-cycles without --vec-dir" "--vec-cycles limits the files of --vec-dir" "$dir/$m.tflite" --vec-cycles 5
refuse "a host operator in --ops" "operator 0 is QUANTIZE" "$dir/$m.tflite" --ops 0
refuse "--ops out of range" "--ops \`99\`" "$dir/$m.tflite" --ops 99
refuse "a missing model" "$work/none.tflite" "$work/none.tflite"
refuse "another configuration" "--config rtl/cfg/dense.cfg" "$dir/$m.tflite" --config rtl/cfg/dense.cfg
[ $fail = 0 ] && echo "models/rtl: passed"
exit $fail
