#!/usr/bin/env bash
# mutate-osa.sh OUTDIR [MUTANT...]: mutation testing of the transaction-level check on
# examples/osa (make mutate-osa). Each mutant of scripts/mutate/osa-mutants.tsv (all, or the
# ones named) is applied alone to a copy of examples/osa/ under OUTDIR/<mutant>/osa, built from
# its own description (tb/build-dut.sh) and run through mpq-txn, step by step, until a test
# fails:
#   light   random layers of every kind, p-valid 0.95, p-ready 0.95 (MUTATE_RUNS tests, 30)
#   heavy   the same, p-valid 0.4, p-ready 0.3
#   model   the layers of MODELS_DIR/image_classification.tflite (conv, FC)
# A mutant is caught when mpq-txn reports a failure (exit 1). The table gives the step, the
# failing test, its first failing cycle and what the report names (kind, stream, beat, tensor
# element); OUTDIR/summary.tsv has it too. MUTATE_TRACE="a b": those mutants' traced models
# are built as well, so that their trace folders hold the waveform (wave.fst, wave.gtkw) of
# the failure. Exit 0 only when every mutant was caught.
#
# Environment (set by make): TXN_OBJS, GOLDEN_LIB, GOLDEN_BIN, VERILATOR, CXX (tb/build-dut.sh);
# MODELS_DIR (default build/models); MUTATE_SEED (the first random seed, 1).
set -u
# shellcheck source=scripts/mutate/mutants.sh
. "$(dirname "$0")/mutants.sh"
out=${1:?usage: scripts/mutate/mutate-osa.sh OUTDIR [MUTANT...]}
shift
catalog=scripts/mutate/osa-mutants.tsv
runs=${MUTATE_RUNS:-30}
seed=${MUTATE_SEED:-1}
models=${MODELS_DIR:-build/models}
: "${TXN_OBJS:?set by make}" "${GOLDEN_LIB:?set by make}" "${GOLDEN_BIN:?set by make}"
mutant_names mutate-osa.sh "$catalog" "$@"
mkdir -p "$out"
summary="$out/summary.tsv"
printf 'mutant\tcaught\tstep\ttest\tcycle\tfailure\ttrace\tbug\n' >"$summary.tmp"

# apply MUTANT DIR: copies examples/osa to DIR/osa and applies the mutant's lines.
apply() {
    local name=$1 dir=$2
    rm -rf "$dir/osa" && mkdir -p "$dir" && cp -r examples/osa "$dir/osa" || return 1
    mutant_apply mutate-osa.sh "$catalog" "$name" "$dir/osa"
}

# step DIR STEP: one step on the mutant's plain model; the output in DIR/STEP.log.
run_step() {
    local dir=$1 step=$2 bin="$dir/plain/mpq-txn"
    local common=(--trace-dir "$dir/traces" --trace-bin "$dir/trace/mpq-txn" --name osa)
    case $step in
        light) "$bin" random --seed "$seed" --runs "$runs" --p-valid 0.95 --p-ready 0.95 "${common[@]}" ;;
        heavy) "$bin" random --seed $((seed + 1000)) --runs "$runs" --p-valid 0.4 --p-ready 0.3 "${common[@]}" ;;
        model) "$bin" model "$models/image_classification.tflite" "${common[@]}" ;;
    esac >"$dir/$step.log" 2>&1
}

build() {
    local dir=$1 kind=$2
    DUT_VERILATOR_FLAGS=-Wno-fatal tb/build-dut.sh "$dir/osa/osa.dut" "$kind" "$dir/$kind" >"$dir/build-$kind.log" 2>&1
}

caught=0; missed=0
printf '%-26s %-6s %-6s %-24s %8s  %s\n' mutant caught step test cycle "what the report names"
for name in "${names[@]}"; do
    dir="$out/$name"
    rm -rf "$dir"
    bug=$(awk -F'\t' -v n="$name" '!/^#/ && $1 == n { print $5; exit }' "$catalog")
    result=(no - - - - -)
    if ! apply "$name" "$dir" 2>"$dir.err"; then
        result=(ERROR - - - "$(head -n 1 "$dir.err")" -)
    elif ! build "$dir" plain; then
        result=(ERROR - - - "build failed: $dir/build-plain.log" -)
    else
        case " ${MUTATE_TRACE:-} " in *" $name "*) build "$dir" trace || true ;; esac
        for step in light heavy model; do
            run_step "$dir" "$step"
            rc=$?
            [ $rc -eq 0 ] && continue
            if [ $rc -ne 1 ]; then result=(ERROR "$step" - - "mpq-txn error, see $dir/$step.log" -); break; fi
            line=$(grep -m1 '^FAIL  ' "$dir/$step.log")
            test=${line#FAIL  }; test=${test%%: *}
            what=${line#FAIL  "$test": }
            cycle=$(sed -n 's/^cycle \([0-9]*\): .*/\1/p' <<<"$what")
            what=${what#cycle "$cycle": }
            trace=$(sed -n 's/^  trace: \([^ ]*\)\/ .*/\1/p' "$dir/$step.log" | head -n 1)
            result=(yes "$step" "$test" "${cycle:-?}" "$what" "${trace:--}")
            break
        done
    fi
    rm -f "$dir.err"
    if [ "${result[0]}" = yes ]; then caught=$((caught + 1)); else missed=$((missed + 1)); fi
    printf '%-26s %-6s %-6s %-24s %8s  %s\n' "$name" "${result[@]:0:5}"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "${result[@]}" "$bug" >>"$summary.tmp"
    rm -rf "$dir/plain/vl" "$dir/trace/vl"
done
mv -f "$summary.tmp" "$summary"
echo "osa mutants: $caught caught, $missed not caught of $((caught + missed)) (table: $summary)"
[ "$missed" -eq 0 ]
