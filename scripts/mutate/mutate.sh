#!/usr/bin/env bash
# mutate.sh OUTDIR [MUTANT...]: mutation testing of the harness (make mutate).
# Each mutant of scripts/mutate/mutants.tsv (all of them, or the ones named) is applied alone to a
# copy of rtl/ under OUTDIR/<mutant>/rtl, Verilated with the testbench, and run through the
# co-simulation regression, configuration by configuration, until a test fails:
#   1. replay of the committed vectors of the configuration (vectors/regress/<cfg>-*.vec)
#   2. lockstep, random layers with heavy back-pressure
#   3. lockstep, random layers with light back-pressure
# A mutant is caught when the testbench reports a mismatch (exit 1); its mismatch trace
# (report + waveform, from a traced build of the mutant) is left in OUTDIR/<mutant>/traces.
# The failing test is then run again in white-box mode (mpq-tb --whitebox, the traced build:
# the RTL's accumulators, rq1 and rq2 compared with the golden cycle model after every edge):
# the table gives both first cycles, i.e. how many cycles after the first wrong internal value
# the black-box run reported the bug.
# Prints a table (also OUTDIR/summary.tsv); exit 0 only when every mutant was caught.
#
# Environment (set by make): TB_OBJS, GOLDEN_LIB (the testbench objects and golden library),
# VERILATOR, CXX. MUTATE_CONFIGS (default: default small mix2 tern) and MUTATE_RUNS (lockstep
# layers per step, default 40) tune the regression; MUTATE_SEED its first lockstep seed (1);
# MUTATE_KEEP_MODELS=1 keeps each mutant's Verilated models under OUTDIR/<mutant>/vl.
# MUTATE_STEPS (default "replay heavy light") chooses the steps: MUTATE_STEPS=replay measures
# the committed vectors alone, as a user replaying them in another simulator would run them.
# MUTATE_TRACE="a b", when set, limits the traced build, its waveform and the white-box run to
# those mutants (the others are reported from the plain model's run: white-box cycle "-").
set -u
# shellcheck source=scripts/mutate/mutants.sh
. "$(dirname "$0")/mutants.sh"
out=${1:?usage: scripts/mutate/mutate.sh OUTDIR [MUTANT...]}
shift
catalog=scripts/mutate/mutants.tsv
configs=${MUTATE_CONFIGS:-default small mix2 tern}
runs=${MUTATE_RUNS:-40}
seed=${MUTATE_SEED:-1}
steps=${MUTATE_STEPS:-replay heavy light}
for s in $steps; do
    case $s in replay|heavy|light) ;; *) echo "mutate.sh: MUTATE_STEPS: unknown step '$s' (replay heavy light)" >&2; exit 2 ;; esac
done
: "${TB_OBJS:?set by make}" "${GOLDEN_LIB:?set by make}"

mutant_names mutate.sh "$catalog" "$@"
mkdir -p "$out"
summary="$out/summary.tsv"
printf 'mutant\tcaught\tconfig\tfirst failing test\tcycle\tport\ttrace\twhite-box cycle\twhite-box first\tbug\n' >"$summary.tmp"

# apply MUTANT DIR: copies rtl/ to DIR/rtl and applies every catalog line of MUTANT.
apply() {
    local name=$1 dir=$2
    rm -rf "$dir/rtl" && mkdir -p "$dir" && cp -r rtl "$dir/rtl" || return 1
    mutant_apply mutate.sh "$catalog" "$name" "$dir"
}

# step CFG DIR KIND: runs one regression step on the mutant's model; prints the testbench output.
run_step() {
    local cfg=$1 dir=$2 step=$3 bin="$dir/vl/$cfg/plain/mpq-tb"
    local common=(--config "rtl/cfg/$cfg.cfg" --trace-dir "$dir/traces" -q)
    case $step in
        replay) "$bin" replay vectors/regress/"$cfg"-*.vec "${common[@]}" --name "$cfg" ;;
        heavy) "$bin" lockstep --seed "$seed" --runs "$runs" --p-valid 0.5 --p-ready 0.3 "${common[@]}" --name "$cfg" ;;
        light) "$bin" lockstep --seed $((seed + 1000)) --runs "$runs" --p-valid 0.95 --p-ready 0.95 "${common[@]}" --name "$cfg" ;;
    esac
}

build() {
    local cfg=$1 kind=$2 dir=$3
    tb/build-model.sh "$cfg" "$kind" "$dir/vl/$cfg/$kind" "$dir/rtl" -Wno-fatal >"$dir/build-$cfg-$kind.log" 2>&1
}

caught=0; missed=0
printf '%-26s %-7s %-8s %-40s %7s  %-12s %9s  %s\n' mutant caught config "first failing test" cycle port "wb cycle" "wb first"
for name in "${names[@]}"; do
    dir="$out/$name"
    rm -rf "$dir"
    bug=$(awk -F'\t' -v n="$name" '!/^#/ && $1 == n { print $5; exit }' "$catalog")
    result=(no - - - - - - -)
    if ! apply "$name" "$dir" 2>"$dir.err"; then
        result=(ERROR - "$(head -n 1 "$dir.err")" - - - - -)
    else
        for cfg in $configs; do
            if ! build "$cfg" plain "$dir"; then
                result=(ERROR "$cfg" "build failed: $dir/build-$cfg-plain.log" - - - - -)
                break
            fi
            hit=""
            for step in $steps; do
                log="$dir/$cfg-$step.log"
                run_step "$cfg" "$dir" "$step" >"$log" 2>&1
                rc=$?
                if [ $rc -eq 1 ]; then hit=$step; break; fi
                if [ $rc -ne 0 ]; then result=(ERROR "$cfg" "testbench error, see $log" - - - - -); break 2; fi
            done
            [ -z "$hit" ] && continue
            # Caught: build the traced model and rerun the failing step for the waveform (unless
            # MUTATE_TRACE names the mutants to trace and this is not one of them).
            traced=1
            if [ -n "${MUTATE_TRACE+set}" ]; then
                case " $MUTATE_TRACE " in *" $name "*) ;; *) traced=0 ;; esac
            fi
            if [ $traced = 1 ]; then
                rm -rf "$dir/traces"
                if build "$cfg" trace "$dir"; then run_step "$cfg" "$dir" "$hit" >"$log" 2>&1; fi
            fi
            test_name=$(sed -n 's/^MISMATCH in //p' "$log" | head -n 1)
            cycle=$(sed -n 's/^  first mismatching cycle \([0-9]*\).*/\1/p' "$log" | head -n 1)
            port=$(sed -n 's/^  port \([a-z_]*\):.*/\1/p' "$log" | head -n 1)
            trace=$(sed -n 's/^  trace: \([^ ]*\).*/\1/p' "$log" | head -n 1)
            # The same test in white-box mode (its reproduce command, on the traced build).
            repro=$(sed -n 's/^  reproduce: //p' "$log" | head -n 1)
            wb_cycle=- wb_what=-
            if [ -n "$repro" ] && [ -x "$dir/vl/$cfg/trace/mpq-tb" ]; then
                read -r -a rargs <<<"$repro"
                "$dir/vl/$cfg/trace/mpq-tb" "${rargs[@]:1}" --whitebox --trace-dir "$dir/wb-traces" \
                    --trace-bin /nonexistent >"$dir/$cfg-whitebox.log" 2>&1
                wb_cycle=$(sed -n 's/^  first mismatching cycle \([0-9]*\).*/\1/p' "$dir/$cfg-whitebox.log" | head -n 1)
                wb_what=$(sed -n -e 's/^  port \([a-z_]*\):.*/\1/p' -e 's/^  register \([a-z0-9_]*\).*/\1/p' \
                    -e 's/^    lane \([0-9]*\) = output channel n=[0-9]*: \([a-z0-9]*\) .*after this cycle.s edge.*/\2 lane \1/p' \
                    "$dir/$cfg-whitebox.log" | head -n 1)
                [ -n "$wb_cycle" ] || { wb_cycle=missed; wb_what="see $dir/$cfg-whitebox.log"; }
            fi
            result=(yes "$cfg" "${test_name:-?}" "${cycle:-?}" "${port:-?}" "${trace:--}" "$wb_cycle" "${wb_what:-?}")
            break
        done
    fi
    rm -f "$dir.err"
    if [ "${result[0]}" = yes ]; then caught=$((caught + 1)); else missed=$((missed + 1)); fi
    printf '%-26s %-7s %-8s %-40s %7s  %-12s %9s  %s\n' "$name" "${result[0]}" "${result[1]}" "${result[2]}" \
        "${result[3]}" "${result[4]}" "${result[6]}" "${result[7]}"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "${result[@]:0:8}" "$bug" >>"$summary.tmp"
    # Keep the traces and logs, drop the bulky model builds (unless MUTATE_KEEP_MODELS=1).
    [ "${MUTATE_KEEP_MODELS:-0}" = 1 ] || rm -rf "$dir/vl"
done
mv -f "$summary.tmp" "$summary"
echo "mutants: $caught caught, $missed not caught of $((caught + missed)) (table: $summary)"
[ "$missed" -eq 0 ]
