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
#  4. Refusals, exit 2: channels 2:16 breaks default's N:G rule (named), an unknown structure.
set -u
tb=${1:?usage: test-mixprec-rtl.sh MPQ_TB MPQ_GOLDEN MODELS_DIR WORK}; golden=${2:?}; dir=${3:?}; work=${4:?}
m=keyword_spotting dec=channels-1:16
f=$dir/$m.tflite
rm -rf "$work" && mkdir -p "$work"
fail=0
bad() { echo "FAIL: $*"; fail=1; }
total_cycles() { sed -n 's/^total: [0-9]* MACs in \([0-9]*\) cycles.*/\1/p' "$1"; }

# 1. Full rate: every layer against its decomposed layer, cycles equal to the cycle model's.
"$tb" net "$f" --config rtl/cfg/default.cfg --decomp $dec --timing-seed 1 --json "$work/full.json" \
    --trace-dir "$work/traces" >"$work/full.txt" 2>&1
rc=$?
"$golden" model mixprec "$f" --points $dec --configs default --count 1 --json "$work/golden.json" \
    >"$work/golden.txt" 2>&1
cm=$(python3 "$(dirname "$0")/mixprec_md.py" --cycles "$work/golden.json" $dec default 2>&1)
rtl=$(total_cycles "$work/full.txt")
if [ $rc != 0 ] || ! grep -q "^mpq-tb net: passed: .* decomposed layer's functional model (--decomp $dec)" "$work/full.txt"; then
    bad "$m --decomp $dec: exit $rc"; tail -n 5 "$work/full.txt"
elif [ "$(grep -cE '^[0-9]+ ' "$work/full.txt")" != "$(grep -cE '^[0-9]+ .* RTL +passed ' "$work/full.txt")" ]; then
    bad "$m --decomp $dec: a layer not passed on the RTL"; cat "$work/full.txt"
elif [ -z "$rtl" ] || [ "$rtl" != "$cm" ]; then
    bad "$m --decomp $dec: RTL ${rtl:-?} cycles, the golden cycle model (model mixprec) ${cm:-?}"
elif ! grep -q '"rtl_passed": true' "$work/full.json"; then
    bad "$m --decomp $dec: the JSON does not say rtl_passed"
else
    echo "$m --decomp $dec: every MAC layer on the RTL equal to its decomposed layer, $rtl cycles = model mixprec's"
fi

# 2. Back-pressure: valid gaps and output stalls, the same outputs.
"$tb" net "$f" --decomp $dec --timing-seed 7 --p-valid 0.5 --p-ready 0.6 --trace-dir "$work/traces" \
    --json "$work/bp.json" >"$work/bp.txt" 2>&1
rc=$?
stalls=$(grep -o '"out_stalls": [0-9]*' "$work/bp.json" 2>/dev/null | awk '{ s += $2 } END { print s + 0 }')
if [ $rc != 0 ] || ! grep -q '^mpq-tb net: passed' "$work/bp.txt"; then
    bad "$m --decomp $dec under back-pressure: exit $rc"; tail -n 5 "$work/bp.txt"
elif [ "$stalls" -le 0 ]; then
    bad "$m --decomp $dec under back-pressure: no output stall counted"; cat "$work/bp.txt"
else
    echo "$m --decomp $dec under back-pressure (p-valid 0.5, p-ready 0.6): passed, $stalls output stall cycles"
fi

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
    "$tb" replay "$tr/layer.vec" --trace-dir "$work/replay" -q >"$work/replay.txt" 2>&1
    rrc=$?
    if [ $rrc != 1 ] || ! grep -q "^  first mismatching cycle $cyc " "$work/replay.txt"; then
        bad "planted fault: replaying layer.vec: exit $rrc, want 1 at cycle $cyc"; cat "$work/replay.txt"
    else
        echo "planted fault in op 1: caught at cycle $cyc; layer.vec replays it"
    fi
fi

# 4. Refusals.
refuse() { # refuse WHAT PATTERN ARGS...: exit 2 with PATTERN in the message
    local what=$1 pat=$2; shift 2
    out=$("$tb" net "$@" 2>&1); rc=$?
    if [ $rc != 2 ] || ! grep -q -- "$pat" <<<"$out"; then bad "$what: exit $rc, want 2 with '$pat': $(tail -n 3 <<<"$out")"; fi
}
refuse "channels 2:16 on default" "N:G rule.*HpPerGroup = 1" "$f" --decomp channels-2:16
refuse "an unknown structure" "expected ternary" "$f" --decomp rows-1:4
[ $fail = 0 ] && echo "models/mixprec-rtl: passed"
exit $fail
