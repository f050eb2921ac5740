#!/usr/bin/env bash
# osa.sh TEST MPQ_TXN MPQ_GOLDEN WORKDIR [MODELS_DIR]: the tests of make test on examples/osa,
# the accelerator mpq did not design, verified from its description alone (docs/own-dut.md).
#   random     random layers of every kind osa.dut says it runs (fc, conv2d, depthwise), light
#              and heavy back-pressure, each test's layers of the kind asked for;
#   models     the convolution, depthwise and fully-connected layers of real int8 TFLite models,
#              their activations from the golden model's run of the model;
#   detectors  --max-latency fires on a layer that takes longer, naming the layer and its
#              cycles, and passes at exactly those cycles; --deadlock fires when no beat moves
#              on any stream for that many cycles;
#   bad-dut    broken descriptions are refused before anything is built or simulated, exit 2,
#              the message naming the file, the line and the port or tensor at fault.
# The seeds are fixed (TB_SEED moves them); each failing command is printed.
set -u
test=${1:?usage: osa.sh random|models|detectors|bad-dut MPQ_TXN MPQ_GOLDEN WORKDIR [MODELS_DIR]}
bin=$2 golden=$3 work=$4 models=${5:-build/models}
seed=${TB_SEED:-1000}
rm -rf "$work" && mkdir -p "$work" || exit 1
fails=0
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
common=(--trace-dir "$work/traces" --trace-bin /nonexistent)

# run NAME WANT_EXIT ARGS...: runs mpq-txn, its output in $work/NAME.txt; checks the exit status.
run() {
    local name=$1 want=$2; shift 2
    "$bin" "$@" "${common[@]}" >"$work/$name.txt" 2>&1
    local rc=$?
    if [ $rc -ne "$want" ]; then
        bad "$name: exit $rc, want $want: $bin $* ${common[*]}"
        tail -n 20 "$work/$name.txt"
        return 1
    fi
}

case $test in
random)
    for kind in fc conv2d depthwise; do
        run "$kind" 0 random --layer "$kind" --seed "$seed" --runs 12 --jobs 2 || continue
        n=$(grep -c "^PASS .*(2 layers: random:[a-z-]* $kind " "$work/$kind.txt")
        [ "$n" -eq 12 ] || bad "$kind: $n of 12 tests ran $kind layers"
        echo "ok   $kind: $(tail -n 1 "$work/$kind.txt") (seed $seed, 24 layers)"
    done
    run heavy 0 random --layer any --seed $((seed + 100)) --runs 12 --jobs 3 --p-valid 0.3 --p-ready 0.2 &&
        echo "ok   any kind, p-valid 0.3, p-ready 0.2: $(tail -n 1 "$work/heavy.txt") (seed $((seed + 100)))"
    ;;
models)
    # image_classification: convolutions (strides 1 and 2, 1x1 and 3x3) and its classifier;
    # keyword_spotting: a 10x4 convolution, depthwise layers, 1x1 convolutions, the classifier.
    for m in image_classification keyword_spotting; do
        f="$models/$m.tflite"
        [ -f "$f" ] || { bad "$f: no such model (scripts/models/fetch.sh $models)"; continue; }
        run "$m" 0 model "$f" || continue
        grep -q "^[0-9]* passed, 0 failed" "$work/$m.txt" || bad "$m: $(tail -n 1 "$work/$m.txt")"
        kinds=$(sed -n 's/^PASS .* op [0-9]* \([A-Z_0-9]*\):.*/\1/p' "$work/$m.txt" | sort | uniq -c | awk '{ printf "%s %s, ", $1, $2 }')
        echo "ok   $m: $(tail -n 1 "$work/$m.txt"): ${kinds%, }"
    done
    # --ops: one operator alone (its test named FILE-opN), a bad list and a layer beyond the
    # DUT's limits refused, exit 2, naming them.
    f="$models/keyword_spotting.tflite"
    run ops 0 model "$f" --ops 2 && grep -q "^PASS  keyword_spotting.tflite-op2 .*DEPTHWISE_CONV_2D" "$work/ops.txt" &&
        echo "ok   --ops 2: $(grep '^PASS' "$work/ops.txt" | cut -c1-60)..." || bad "--ops 2 did not run op 2 alone"
    run ops-bad 2 model "$f" --ops 1,x && grep -q -- "--ops 1,x: expected operator indices and ranges" "$work/ops-bad.txt" &&
        echo "ok   --ops 1,x refused: $(tail -n 1 "$work/ops-bad.txt")" || bad "--ops 1,x: $(tail -n 1 "$work/ops-bad.txt")"
    run ops-limit 2 model "$models/anomaly_detection.tflite" --ops 2 &&
        grep -q "op 2: examples/osa/osa.dut:[0-9]*: limit out_c <= 64: this layer has 128" "$work/ops-limit.txt" &&
        echo "ok   --ops 2 beyond NMax refused: $(tail -n 1 "$work/ops-limit.txt")" || bad "--ops 2 beyond the limit: $(tail -n 1 "$work/ops-limit.txt")"
    grep -q "DEPTHWISE_CONV_2D" "$work/keyword_spotting.txt" || bad "no depthwise layer ran"
    grep -q "FULLY_CONNECTED" "$work/image_classification.txt" || bad "no fully-connected layer ran"
    grep -q "CONV_2D: conv2d" "$work/image_classification.txt" || bad "no convolution ran"
    ;;
detectors)
    shape=(random --shape 'conv2d h=6 w=6 c=16 o=12 k=3 p=1' --seed "$seed" --runs 1 --jobs 1)
    run latency 1 "${shape[@]}" --max-latency 100 || true
    grep -q "^FAILURE in .*: latency bound exceeded" "$work/latency.txt" || bad "--max-latency 100: no 'latency bound exceeded'"
    lat=$(sed -n 's/^  layer 1: its last output beat came \([0-9]*\) cycles after its first input beat (--max-latency)$/\1/p' "$work/latency.txt")
    if [ -z "$lat" ] || [ "$lat" -le 100 ]; then
        bad "--max-latency 100: the report gives no latency above 100 ('$lat')"
    else
        echo "ok   --max-latency 100 fires: the layer took $lat cycles"
        run latency-ok 0 "${shape[@]}" --max-latency "$lat" && echo "ok   --max-latency $lat passes (the bound is inclusive)"
        run latency-1 1 "${shape[@]}" --max-latency $((lat - 1)) && echo "ok   --max-latency $((lat - 1)) fires"
    fi
    [ -f "$work/traces/txn-$seed/report.txt" ] || bad "no trace folder report for the latency failure"
    # A layer whose first output needs K = 1000 steps after its last input beat: no beat on
    # any stream for 200 cycles.
    run deadlock 1 random --m 4 --k 1000 --n 4 --seed "$seed" --runs 1 --jobs 1 --deadlock 200 || true
    if grep -q "^FAILURE in .*: deadlock" "$work/deadlock.txt" &&
        grep -q "^  no beat on any stream for 200 cycles while output beats are still expected (--deadlock)" "$work/deadlock.txt"; then
        echo "ok   --deadlock 200 fires: $(grep -m1 '^  at cycle' "$work/deadlock.txt")"
    else
        bad "--deadlock 200: no deadlock report"; cat "$work/deadlock.txt"
    fi
    run deadlock-ok 0 random --m 4 --k 1000 --n 4 --seed "$seed" --runs 1 --jobs 1 && echo "ok   the same layer passes with the default --deadlock"
    ;;
bad-dut)
    # Each case: the line to change in a copy of examples/osa/osa.dut, its replacement, the words
    # of the refusal (after "osa.dut:LINE: "), and whether the Verilated model's header is read.
    cp -r examples/osa "$work/osa" || exit 1
    desc="$work/osa/osa.dut"
    header=$(dirname "$bin")/vl/Vdut.h
    [ -f "$header" ] || { bad "no Verilated header $header"; exit 1; }
    while IFS='|' read -r from to words model; do
        [ -n "$from" ] || continue
        cp examples/osa/osa.dut "$desc"
        FROM=$from TO=$to perl -pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/' "$desc"
        line=$(grep -n -F -- "${to:-@@}" "$desc" | head -n 1 | cut -d: -f1)
        cmp -s examples/osa/osa.dut "$desc" && { bad "'$from' is not in osa.dut"; continue; }
        args=(dut check "$desc")
        [ "$model" = model ] && args+=(--model "$header" --build plain)
        "$golden" "${args[@]}" >"$work/out.txt" 2>"$work/err.txt"
        rc=$?
        msg=$(cat "$work/err.txt")
        [ $rc -eq 2 ] || { bad "'$to': exit $rc, want 2 ($msg)"; continue; }
        case $words in @*) line=${words%%@*}; line=${words#@}; line=${line%%@*}; words=${words#@*@} ;; esac
        case $msg in *"$desc:$line: "*"$words"*) echo "ok   $msg" ;;
            *) bad "'$to': the message does not name $desc:$line and '$words': $msg" ;; esac
    done <<'CASES'
port busy_o out 1 flag|port bsy_o out 1 flag|port bsy_o: the Verilated model of osa_top (plain build|model
stream cfg in axis=s_axis_cfg width=32 last|stream cfg in axis=s_axis_cfg width=64 last|port s_axis_cfg_tdata: 64 bits here, 32 bits in the Verilated model|model
clock aclk|clock clk|port clk: the Verilated model of osa_top|model
stream act in axis=s_axis_act width=64 last|stream act in data=s_axis_act_tdata ready=s_axis_act_tready width=64|stream act has no valid port|
beats wgt w order=ohwi-dense bits=8 per-beat=8 align=row|beats wgt w order=ohwi-dense bits=8 per-beat=9 align=row|9 elements of 8 bits do not fit the 64-bit data port s_axis_wgt_tdata|
beats cfg bias,mult,shift bits=32|beats cfg bias,mult bits=32|@6@the beat layout does not cover the layer: no `beats` line carries tensor shift|
beats act x order=im2col|beats act x order=nchw|order|
kinds fc conv2d depthwise|kinds fc conv2d pool|pool|
CASES
    # The build refuses it before Verilator runs: exit 2, nothing built.
    cp examples/osa/osa.dut "$desc"
    perl -pi -e 's/stream act in axis=s_axis_act width=64 last/stream act in data=s_axis_act_tdata width=64/' "$desc"
    TXN_OBJS=unused GOLDEN_LIB=unused GOLDEN_BIN="$golden" tb/build-dut.sh "$desc" plain "$work/build" \
        >"$work/build.txt" 2>&1
    rc=$?
    if [ $rc -eq 2 ] && grep -q "$desc:22: stream act has no valid port" "$work/build.txt" && [ ! -e "$work/build/vl" ]; then
        echo "ok   tb/build-dut.sh refuses it before Verilator runs: $(head -n 1 "$work/build.txt")"
    else
        bad "tb/build-dut.sh: exit $rc, want 2 with $desc:22 and nothing built"; cat "$work/build.txt"
    fi
    # A parameter the description does not have.
    "$golden" dut check examples/osa/osa.dut --param Colz=8 >/dev/null 2>"$work/err.txt"
    rc=$?
    if [ $rc -eq 2 ] && grep -q "Colz" "$work/err.txt"; then echo "ok   --param Colz=8: $(cat "$work/err.txt")"
    else bad "--param Colz=8: exit $rc: $(cat "$work/err.txt")"; fi
    ;;
*) echo "osa.sh: unknown test $test (random, models, detectors, bad-dut)" >&2; exit 2 ;;
esac
[ $fails -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"
