#!/usr/bin/env bash
# map-all.sh MPQ_GOLDEN MODELS_DIR: every int8 model in MODELS_DIR through `mpq-golden model
# map --config int8` (each CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED mapped onto the
# accelerator and run on its cycle model, each layer's outputs compared with the golden
# model's): exit 0 with a total line for every model; then the refusal of a layer a
# configuration cannot hold (micro_speech's FC with k = 4000 on dense, KMax 1024): exit 2 naming
# the op.
set -u
bin=${1:?usage: map-all.sh MPQ_GOLDEN MODELS_DIR}; dir=${2:?usage: map-all.sh MPQ_GOLDEN MODELS_DIR}
fail=0 n=0
for f in "$dir"/*.tflite; do
    case $f in *.float32.tflite) continue ;; esac
    out=$("$bin" model map "$f" --config int8 2>&1); rc=$?
    n=$((n + 1))
    if [ $rc -ne 0 ] || ! grep -q '^total: [0-9]* MACs in [0-9]* cycles' <<<"$out"; then
        echo "FAIL: $(basename "$f"): exit $rc"; tail -n 3 <<<"$out"; fail=1
    else
        echo "$(basename "$f" .tflite): $(sed -n 's/^total: \([0-9]* MACs in [0-9]* cycles\).*/\1/p' <<<"$out")"
    fi
done
[ $n -gt 0 ] || { echo "FAIL: no model in $dir"; exit 1; }
if [ -f "$dir/tflite_micro_speech.tflite" ]; then
    out=$("$bin" model map "$dir/tflite_micro_speech.tflite" --config dense 2>&1); rc=$?
    if [ $rc -ne 2 ] || ! grep -q 'op [0-9]* (FULLY_CONNECTED)' <<<"$out"; then
        echo "FAIL: micro_speech on dense: exit $rc, want 2 naming the FC op: $out"; fail=1
    fi
fi
# The weights decomposed for a ternary configuration (--decomp): keyword_spotting on default,
# every layer equal to its decomposed layer; its depthwise layers run with packed taps, in fewer
# cycles than with --pack never; a bad --decomp is named.
if [ -f "$dir/keyword_spotting.tflite" ]; then
    k=$dir/keyword_spotting.tflite
    out=$("$bin" model map "$k" --config default --decomp channels-1:16 2>&1); rc=$?
    packed=$(sed -n 's/^total: [0-9]* MACs in \([0-9]*\) cycles.*/\1/p' <<<"$out")
    if [ $rc -ne 0 ] || [ -z "$packed" ] || ! grep -q 'DEPTHWISE_CONV_2D .*taps packed' <<<"$out"; then
        echo "FAIL: keyword_spotting on default --decomp channels-1:16: exit $rc: $(tail -n 3 <<<"$out")"; fail=1
    fi
    out=$("$bin" model map "$k" --config default --decomp channels-1:16 --pack never 2>&1)
    plain=$(sed -n 's/^total: [0-9]* MACs in \([0-9]*\) cycles.*/\1/p' <<<"$out")
    if [ -z "$plain" ] || [ -z "$packed" ] || [ "$packed" -ge "$plain" ]; then
        echo "FAIL: packed taps ($packed cycles) not fewer than --pack never's ($plain)"; fail=1
    else
        echo "keyword_spotting on default, channels-1:16: $packed cycles, $plain with --pack never"
    fi
    out=$("$bin" model map "$k" --config default --decomp rows-1:4 2>&1); rc=$?
    if [ $rc -ne 2 ] || ! grep -q -- '--decomp' <<<"$out"; then
        echo "FAIL: a bad --decomp: exit $rc, want 2 naming --decomp: $out"; fail=1
    fi
fi
[ $fail = 0 ] && echo "models/map: $n models, every layer equal to the golden model"
exit $fail
