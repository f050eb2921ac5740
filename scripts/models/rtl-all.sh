#!/usr/bin/env bash
# rtl-all.sh MPQ_TB MPQ_GOLDEN CONFIG MODELS_DIR OUT TIMING_SEED MODEL...: make models. Each model
# through the RTL of CONFIG (mpq-tb net: every CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED
# layer on the Verilated accelerator, every port compared every cycle with the golden cycle
# model, the final output equal to the golden model's), twice:
#   full rate (p-valid = p-ready = 1) on the first random input of scripts/models/inputs.py (seed
#   TIMING_SEED): the accelerator's own cycles, its table in OUT/<model>.txt and OUT/<model>.json;
#   its total must equal `mpq-golden model map`'s (the cycle model alone), and the model's final
#   output TensorFlow Lite Micro's on the same input (scripts/models/ref.py, python $PY);
#   back-pressure (p-valid 0.5, p-ready 0.5, TIMING_SEED): the same layers under valid gaps and
#   output stalls, on mpq-tb net's random input of seed TIMING_SEED.
# Then one line per model: MACs, cycles on the RTL and on the cycle model, MAC utilization,
# layers, passed, and the run's wall time. Exit 0 when every run passed and every cycle count
# agreed, else 1 (the failing run's report and trace folder are printed above); 2 bad usage.
set -u
tb=${1:?usage: rtl-all.sh MPQ_TB MPQ_GOLDEN CONFIG MODELS_DIR OUT TIMING_SEED MODEL...}
golden=${2:?}; cfg=${3:?}; dir=${4:?}; out=${5:?}; tseed=${6:?}
: "${PY:?rtl-all.sh: PY must name the python of the model references (scripts/models/venv.sh)}"
shift 6
[ $# -gt 0 ] || { echo "rtl-all.sh: no model given" >&2; exit 2; }
mkdir -p "$out"
fail=0
summary=()
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
t_all=$(date +%s.%N)
for name in "$@"; do
    f=$dir/$name.tflite
    [ -f "$f" ] || { echo "rtl-all.sh: $f: no such model (make models-fetch)" >&2; exit 2; }
    "$PY" scripts/models/inputs.py "$f" --seed "$tseed" --count 12 --out "$out/inputs/$name" >/dev/null || exit 2
    in=$out/inputs/$name/$(awk -F'\t' '$2 == "random" { print $1; exit }' "$out/inputs/$name/inputs.tsv")
    echo "=== $name: every MAC layer on the RTL ($cfg), full rate, input $in"
    t0=$(date +%s.%N)
    rm -f "$out/$name.out.bin"
    "$tb" net "$f" --config "rtl/cfg/$cfg.cfg" --timing-seed "$tseed" --json "$out/$name.json" \
        --input "$in" --output "$out/$name.out.bin" \
        --trace-dir "$out/traces" ${TRACE_BUILD:+--trace-build "$TRACE_BUILD"} | tee "$out/$name.txt.tmp"
    rc=${PIPESTATUS[0]}
    t1=$(date +%s.%N)
    [ $rc = 0 ] && mv -f "$out/$name.txt.tmp" "$out/$name.txt"
    rtl=$(sed -n 's/^total: [0-9]* MACs in \([0-9]*\) cycles.*/\1/p' "$out/$name.txt.tmp" "$out/$name.txt" 2>/dev/null | head -n 1)
    macs=$(sed -n 's/^total: \([0-9]*\) MACs.*/\1/p' "$out/$name.txt" 2>/dev/null)
    util=$(sed -n 's/^total: .*MAC utilization \([0-9.]*\);.*/\1/p' "$out/$name.txt" 2>/dev/null)
    layers=$(grep -c ' RTL   passed ' "$out/$name.txt" 2>/dev/null)
    tflm=differs
    if "$PY" scripts/models/ref.py run --ref tflm "$f" --input "$in" --output "$out/$name.tflm.bin" \
        --dump "$out/tflm-dump/$name" >/dev/null && cmp -s "$out/$name.out.bin" "$out/$name.tflm.bin"; then
        tflm=equal
    fi
    rm -rf "$out/tflm-dump"
    cm=$("$golden" model map "$f" --input "$in" --config "$cfg" 2>/dev/null | sed -n 's/^total: [0-9]* MACs in \([0-9]*\) cycles.*/\1/p')
    t1b=$(date +%s.%N)
    echo "=== $name: the same layers under back-pressure (p-valid 0.5, p-ready 0.5, timing seed $tseed)"
    "$tb" net "$f" --config "rtl/cfg/$cfg.cfg" --timing-seed "$tseed" --p-valid 0.5 --p-ready 0.5 \
        --trace-dir "$out/traces" ${TRACE_BUILD:+--trace-build "$TRACE_BUILD"} | tee "$out/$name-bp.txt" | tail -n 2
    rc_bp=${PIPESTATUS[0]}
    t2=$(date +%s.%N)
    verdict=passed
    if [ $rc != 0 ] || [ $rc_bp != 0 ]; then
        verdict="FAILED (exit $rc full rate, $rc_bp back-pressure)"; fail=1
    elif [ -z "$cm" ] || [ "$rtl" != "$cm" ]; then
        verdict="FAILED: RTL $rtl cycles, cycle model ${cm:-?}"; fail=1
    elif [ $tflm != equal ]; then
        verdict="FAILED: the final output differs from TensorFlow Lite Micro's"; fail=1
    fi
    summary+=("$(printf '%-22s %10s %9s %9s %8s %6s %6s %7.2f %7.2f  %s' "$name" "${macs:--}" "${rtl:--}" "${cm:--}" \
        "${util:--}" "${layers:--}" "$tflm" "$(secs "$t0" "$t1")" "$(secs "$t1b" "$t2")" "$verdict")")
done
echo
echo "make models: every MAC layer through the RTL of configuration $cfg, every port compared every cycle"
printf '%-22s %10s %9s %9s %8s %6s %6s %7s %7s  %s\n' model MACs "RTL cyc" "cm cyc" "MAC util" layers TFLM "full s" "bp s" result
printf '%s\n' "${summary[@]}"
echo "cycles at full rate from the first configuration beat to the last output of each layer, summed;"
echo "host operators not counted; RTL cyc must equal cm cyc (mpq-golden model map, the cycle model alone);"
echo "TFLM: the final output of the full-rate run against TensorFlow Lite Micro's on the same input"
echo "total wall time $(secs "$t_all" "$(date +%s.%N)") s; tables in $out/"
exit $fail
