#!/usr/bin/env bash
# txn.sh OUTDIR MPQ_TB: section 1c of `make bench` (bench.sh runs it; it runs alone too): the
# transaction-level check (`mpq-tb txn`, codec mpq, through rtl/mpq_top.dut) against the
# cycle-exact lockstep on mpq's own accelerator, one layer shape and the same valid/ready
# probabilities for both (issue 27 item 5, goal: txn within 5% of lockstep). Prints a table,
# writes OUTDIR/txn.json. BENCH_QUICK=1: small layer, one round (a smoke test, not a figure).
#
# Per simulated cycle, on the thread that clocks the model:
#   lockstep (default, source thread): takes the cycle's inputs and expected outputs from the
#     ring the second thread fills (stimulus generator + golden cycle model, tb/tb_pipe.c),
#     drives the inputs, evaluates, compares every output port, clocks.
#   lockstep --source-thread off: the same, with the generator and cycle model on this thread.
#   txn (default, beat thread): draws valid per input stream and ready per output stream,
#     takes a new input beat from the ring the second thread fills (the beats encoded from
#     the layer's tensors, mpq_beats_get; tb/txn_feed.c) when one is raised, writes the whole
#     input frame, evaluates, reads the whole output frame, checks the stream rules, compares
#     a taken output beat with the golden output tensor's beat (from the same ring), clocks,
#     checks deadlock and progress. The golden layer is computed once before the loop
#     (outside its Mcycles/s; in its process time and whole-process instructions).
#   txn --source-thread off: the same, with the beats encoded on this thread.
# The CPU-seconds and whole-process rows compare the one-thread modes of both.
set -euo pipefail
trap 'echo "txn.sh: line $LINENO failed (exit $?): $BASH_COMMAND" >&2' ERR
out=${1:?usage: scripts/bench/txn.sh OUTDIR MPQ_TB} tb=${2:?usage: scripts/bench/txn.sh OUTDIR MPQ_TB}
quick=${BENCH_QUICK:-0}
mkdir -p "$out"
# The same layer and timing for both; lockstep offers every stream's beats as soon as it has
# them and makes no mid-layer reset, as txn drives its streams.
if [ "$quick" = 1 ]; then shape=(--m 64 --k 256 --n 16); ishape=(--m 4 --k 256 --n 8); reps=1
else shape=(--m 1024 --k 1024 --n 128); ishape=(--m 64 --k 1024 --n 16); reps=${BENCH_TXN_ROUNDS:-9}; fi
timing=(--hp-n 1 --p-valid 0.9 --p-ready 0.9 --seed 1 --profile random --acc wrap)
lock=(lockstep --offer early --mid-reset off)
txn=(txn --jobs 1)

run() { # run CMD...: its output; on failure the command and the output's end, exit 1
    local o rc=0
    o=$("$@" 2>&1) || rc=$?
    [ $rc -eq 0 ] || { echo "txn.sh: exit $rc from: $*"; printf '%s\n' "$o" | tail -n 20; } >&2
    [ $rc -eq 0 ] && printf '%s\n' "$o"
}
rate() { sed -n 's/.* \([0-9.]*\) Mcycles\/s.*/\1/p' | head -n 1; }
cycles_of() { sed -n 's/^PASS  [^ ]* *\([0-9]*\) cycles.*/\1/p' | head -n 1; }
lcyc=$(run "$tb" "${lock[@]}" "${shape[@]}" "${timing[@]}" | cycles_of)
tcyc=$(run "$tb" "${txn[@]}" "${shape[@]}" "${timing[@]}" | cycles_of)

# Every mode once in each round, interleaved (a shared host's speed drifts); the rate is the
# loop's, as each mode prints it; the process seconds include the setup (txn: the golden layer).
rates=$out/txn-rates.txt
: >"$rates"
now() { date +%s.%N; }
measure() { # measure ROUND KEY CMD...
    local s e o r
    s=$(now); o=$(run "${@:3}"); e=$(now)
    r=$(printf '%s\n' "$o" | rate)
    [ -n "$r" ] || { echo "txn.sh: no Mcycles/s from: ${*:3}" >&2; return 1; }
    echo "$1 $2 $r" >>"$rates"
    echo "$1 $2_s $(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.4f", e - s }')" >>"$rates"
}
for i in $(seq "$reps"); do
    measure "$i" lock "$tb" "${lock[@]}" "${shape[@]}" "${timing[@]}" --source-thread on
    measure "$i" txn "$tb" "${txn[@]}" "${shape[@]}" "${timing[@]}"
    measure "$i" lock1 "$tb" "${lock[@]}" "${shape[@]}" "${timing[@]}" --source-thread off
    measure "$i" lock1_cpu env MPQ_TB_CPU_TIME=1 "$tb" "${lock[@]}" "${shape[@]}" "${timing[@]}" --source-thread off
    measure "$i" txn_cpu env MPQ_TB_CPU_TIME=1 "$tb" "${txn[@]}" "${shape[@]}" "${timing[@]}" --source-thread off
done
best() { awk -v k="$1" '$2 == k { print $3 }' "$rates" | sort -g | tail -n 1; }
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.4g\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
medof() { awk -v k="$1" '$2 == k { print $3 }' "$rates" | median; }
# vs A B: "median min max" over the rounds of A's value over B's.
vs() {
    awk -v a="$1" -v b="$2" '$2 == a { x[$1] = $3 } $2 == b { y[$1] = $3 }
        END { n = 0; for (i in x) if (i in y) v[++n] = x[i] / y[i]
              for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
              printf "%.3f %.3f %.3f\n", n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2, v[1], v[n] }' "$rates"
}
read -r w_lock w_lock_lo w_lock_hi < <(vs txn lock)
read -r w_lock1 w_lock1_lo w_lock1_hi < <(vs txn lock1)
read -r c_lock1 c_lock1_lo c_lock1_hi < <(vs txn_cpu lock1_cpu)
read -r s_lock s_lock_lo s_lock_hi < <(vs lock_s txn_s)

echo
echo "== 1c. transaction-level check against lockstep, default configuration, layer m=${shape[1]} k=${shape[3]} n=${shape[5]} hp-n=1,"
echo "   p-valid 0.9 p-ready 0.9 (lockstep $lcyc cycles, txn $tcyc: each draws its own gaps); $reps rounds, modes interleaved"
echo "   rate: best round; txn vs mode: median of the rounds' ratios (min-max); goal: txn / lockstep >= 0.95"
printf '%-52s %10s %12s %22s\n' "mode" "Mcycles/s" "process s" "txn / mode"
printf '%-52s %10s %12s %22s\n' "(c) lockstep, source thread (default)" "$(best lock)" "$(medof lock_s)" "$w_lock ($w_lock_lo-$w_lock_hi)"
printf '%-52s %10s %12s %22s\n' "(c1) lockstep, one thread" "$(best lock1)" "$(medof lock1_s)" "$w_lock1 ($w_lock1_lo-$w_lock1_hi)"
printf '%-52s %10s %12s %22s\n' "(t) txn, beat thread (default)" "$(best txn)" "$(medof txn_s)" "1.000"
printf '%-52s %10s %12s %22s\n' "one thread, CPU-seconds: (c1) / (t1)" "$(best lock1_cpu) / $(best txn_cpu)" "" "$c_lock1 ($c_lock1_lo-$c_lock1_hi)"
echo "   process seconds (setup included), lockstep / txn: $s_lock ($s_lock_lo-$s_lock_hi)"

ir_json=null
ir_skip=""
command -v valgrind >/dev/null || ir_skip="valgrind is not installed"
case "${CXXFLAGS_SAN:-}" in *sanitize=address*) ir_skip="valgrind cannot run the ASan + UBSan binaries of a SAN=1 build" ;; esac
if [ -z "$ir_skip" ]; then
    # ir FUNCTION CMD...: instructions executed inside FUNCTION ('' : the whole process).
    ir() {
        local n t=()
        [ -z "$1" ] || t=(--toggle-collect="$1")
        n=$(run valgrind --tool=callgrind --callgrind-out-file=/dev/null "${t[@]}" "${@:2}" |
            sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | head -n 1)
        [ -n "$n" ] || { echo "txn.sh: callgrind counted nothing for: ${*:2}" >&2; return 1; }
        echo "$n"
    }
    ilc=$(run "$tb" "${lock[@]}" "${ishape[@]}" "${timing[@]}" | cycles_of)
    itc=$(run "$tb" "${txn[@]}" "${ishape[@]}" "${timing[@]}" | cycles_of)
    per() { awk -v i="$1" -v c="$2" 'BEGIN { printf "%.0f", i / c }'; }
    # run_test (lockstep) and txn_run_test (txn): one test's model construction and cycle loop.
    i_lock=$(per "$(ir 'run_test*' "$tb" "${lock[@]}" "${ishape[@]}" "${timing[@]}" --source-thread on)" "$ilc")
    i_lock1=$(per "$(ir 'run_test*' "$tb" "${lock[@]}" "${ishape[@]}" "${timing[@]}" --source-thread off)" "$ilc")
    i_txn=$(per "$(ir txn_run_test "$tb" "${txn[@]}" "${ishape[@]}" "${timing[@]}")" "$itc")
    p_lock1=$(per "$(ir '' "$tb" "${lock[@]}" "${ishape[@]}" "${timing[@]}" --source-thread off)" "$ilc")
    p_txn=$(per "$(ir '' "$tb" "${txn[@]}" "${ishape[@]}" "${timing[@]}" --source-thread off)" "$itc")
    q() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
    echo "   instructions per simulated cycle (callgrind; m=${ishape[1]} k=${ishape[3]} n=${ishape[5]}: lockstep $ilc cycles, txn $itc)"
    printf '%-52s %12s %12s\n' "" "instr/cycle" "mode / txn"
    printf '%-52s %12s %12s\n' "(c) lockstep, the model's thread" "$i_lock" "$(q "$i_lock" "$i_txn")"
    printf '%-52s %12s %12s\n' "(c1) lockstep, one thread" "$i_lock1" "$(q "$i_lock1" "$i_txn")"
    printf '%-52s %12s %12s\n' "(t) txn, the model's thread" "$i_txn" "1.000"
    printf '%-52s %12s %12s\n' "whole process, setup included: (c1) lockstep" "$p_lock1" "$(q "$p_lock1" "$p_txn")"
    printf '%-52s %12s %12s\n' "whole process, setup included: (t1) txn, one thread" "$p_txn" "1.000"
    ir_json="{\"lockstep_cycles\": $ilc, \"txn_cycles\": $itc, \"lockstep\": $i_lock, \"lockstep_one_thread\": $i_lock1, \"txn\": $i_txn, \"lockstep_over_txn\": $(q "$i_lock" "$i_txn"), \"lockstep_one_thread_over_txn\": $(q "$i_lock1" "$i_txn"), \"process_lockstep_one_thread\": $p_lock1, \"process_txn_one_thread\": $p_txn}"
else
    echo "   instructions per simulated cycle: skipped ($ir_skip)"
fi
met=false
awk -v r="$w_lock" 'BEGIN { exit !(r >= 0.95) }' && met=true
cat >"$out/txn.json.tmp" <<EOF
{"config": "default", "m": ${shape[1]}, "k": ${shape[3]}, "n": ${shape[5]}, "p_valid": 0.9, "p_ready": 0.9,
 "lockstep_cycles": $lcyc, "txn_cycles": $tcyc, "rounds": $reps,
 "ratio": "median over the rounds of txn's rate over the mode's, with min and max",
 "lockstep_mcycles_s": $(best lock), "lockstep_one_thread_mcycles_s": $(best lock1), "txn_mcycles_s": $(best txn),
 "txn_over_lockstep": $w_lock, "txn_over_lockstep_range": [$w_lock_lo, $w_lock_hi],
 "txn_over_lockstep_one_thread": $w_lock1, "txn_over_lockstep_one_thread_range": [$w_lock1_lo, $w_lock1_hi],
 "cpu_seconds": {"lockstep_one_thread_mcycles_s": $(best lock1_cpu), "txn_one_thread_mcycles_s": $(best txn_cpu),
                 "txn_over_lockstep_one_thread": $c_lock1},
 "process_seconds_median": {"lockstep": $(medof lock_s), "lockstep_one_thread": $(medof lock1_s), "txn": $(medof txn_s)},
 "goal": 0.95, "goal_met_wall": $met,
 "instructions_per_cycle": $ir_json}
EOF
mv -f "$out/txn.json.tmp" "$out/txn.json"
