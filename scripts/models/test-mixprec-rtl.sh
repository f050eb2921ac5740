#!/usr/bin/env bash
# test-mixprec-rtl.sh MPQ_TB MPQ_GOLDEN MODELS_DIR WORK: make test's check of `mpq-tb net
# --decomp` (a second): keyword_spotting's int8 weights decomposed into ternary + sparse int8
# (channels 1:16) on the default RTL (MPQ_TB, HpPerGroup 1).
#  1. At full rate: exit 0, every layer passed on the RTL against its decomposed layer, the
#     total cycles equal to the golden cycle model's for the same point (mpq-golden model
#     mixprec), and the JSON says rtl_passed.
#  2. Under back-pressure (p-valid 0.5, p-ready 0.6, timing seed 7): passes, output stalls
#     counted.
#  3. A planted fault in the decomposed first layer (--ops 1 --inject-flip): exit 1, the
#     report names op 1 and the element, and replaying its layer.vec (which carries the
#     decomposed weights) fails at the same cycle.
#  4. A decomposition per layer (`--decomp SPEC,SPEC,...`, what mpq-golden explore search
#     writes): ternary and channels-1:16 alternating over the 10 layers passes, and its cycles
#     equal the cycle model's for the same list (mpq-golden model map --decomp LIST).
#  5. Refusals, exit 2: channels 2:16 breaks default's N:G rule (named), an unknown structure,
#     a per-layer list of the wrong length (both counts named), a bad item (named); a model
#     the configuration cannot hold (tflite_micro_speech: its op 2 reduces 4,000 terms,
#     default's weight buffer 1,024) is refused naming op 2 and the limit before any layer
#     runs (no table: op 0, which default holds, is not run first).
set -u
tb=${1:?usage: test-mixprec-rtl.sh MPQ_TB MPQ_GOLDEN MODELS_DIR WORK}; golden=${2:?}; dir=${3:?}; work=${4:?}
m=keyword_spotting dec=channels-1:16
f=$dir/$m.tflite
rm -rf "$work" && mkdir -p "$work"
fail=0
. "$(dirname "$0")/net-checks.sh"

# 1. Full rate: every layer against its decomposed layer, cycles equal to the cycle model's.
"$tb" net "$f" --config rtl/cfg/default.cfg --decomp $dec --timing-seed 1 --json "$work/full.json" \
    --trace-dir "$work/traces" >"$work/full.txt" 2>&1
rc=$?
"$golden" model mixprec "$f" --points $dec --configs default --count 1 --json "$work/golden.json" \
    >"$work/golden.txt" 2>&1
cm=$(python3 "$(dirname "$0")/mixprec_md.py" --cycles "$work/golden.json" $dec default 2>&1)
net_whole "$m --decomp $dec" "$work/full" $rc \
    "^mpq-tb net: passed: .* decomposed layer's functional model (--decomp $dec)" "$cm" "model mixprec"

# 2. Back-pressure: valid gaps and output stalls, the same outputs.
net_backpressure "$m --decomp $dec" "$work/bp" "$f" --decomp $dec

# 3. A planted fault in the layer that holds sparse int8 weights: caught, and replayed.
"$tb" net "$f" --decomp $dec --timing-seed 7 --ops 1 --inject-flip --trace-dir "$work/traces" \
    >"$work/fault.txt" 2>&1
rc=$?
tr=$work/traces/net-$m-op1-part1
cyc=$(sed -n 's/^  first mismatching cycle \([0-9]*\) .*/\1/p' "$tr/report.txt" 2>/dev/null)
if [ $rc != 1 ]; then
    bad "planted fault: exit $rc, want 1"; cat "$work/fault.txt"
elif ! grep -q "^  network: .*$m.tflite, op 1 (CONV_2D).*cycle $cyc, lane [0-9]*.*element (n [0-9]*, y [0-9]*, x [0-9]*, c [0-9]*)" "$tr/report.txt"; then
    bad "planted fault: the report does not name op 1, the cycle and the element"; cat "$tr/report.txt"
else
    net_replay "$tr" "$cyc" "planted fault in op 1: caught at cycle $cyc; layer.vec replays it"
fi

# 4. A decomposition per layer.
list=ternary,channels-1:16,ternary,channels-1:16,ternary,channels-1:16,ternary,channels-1:16,ternary,channels-1:16
"$tb" net "$f" --decomp $list --timing-seed 3 --json "$work/list.json" >"$work/list.txt" 2>&1
rc=$?
python3 - "$work/list.json" "$work/full.json" <<'PY' && [ $rc = 0 ] || { bad "--decomp per layer: exit $rc"; cat "$work/list.txt"; }
import json, sys
d, full = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert d['rtl_passed'] and len(d['layers']) == 10, d
# the channels-1:16 layers are the same layers as in the uniform run; the ternary ones hold no int8
same = [a['cycles'] == b['cycles'] for a, b in zip(d['layers'], full['layers'])]
assert all(same[1::2]), ('channels-1:16 layers differ from the uniform run', same)
PY
grep -q "^mpq-tb net: passed: .*--decomp $list" "$work/list.txt" || bad "--decomp per layer: no verdict line"

# 5. Refusals.
refuse "channels 2:16 on default" "N:G rule.*HpPerGroup = 1" "$f" --decomp channels-2:16
refuse "an unknown structure" "expected ternary" "$f" --decomp rows-1:4
refuse "a list of the wrong length" "names 2 layers; the model has 10" "$f" --decomp ternary,ternary
refuse "a bad item in the list" "item 2" "$f" --decomp ternary,rows-1:4
refuse "a model default cannot hold" "op 2 (FULLY_CONNECTED): the reduction of 4000 elements exceeds the weight buffer (KMax = 1024)" \
    "$dir/tflite_micro_speech.tflite" --decomp $dec
out=$("$tb" net "$dir/tflite_micro_speech.tflite" --config rtl/cfg/default.cfg --decomp $dec 2>&1)
if grep -q "^0  *CONV_2D\|^total:" <<<"$out"; then bad "a model default cannot hold: a layer ran before the refusal: $out"; fi
[ $fail = 0 ] && echo "models/mixprec-rtl: passed"
exit $fail
