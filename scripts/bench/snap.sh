#!/usr/bin/env bash
# snap.sh OUTDIR: what snapshots (tb/tb_snap.h) cost and save, for `make bench`. Writes
# OUTDIR/snap.json. One long lockstep layer of the default configuration; every command is
# timed whole (wall clock), the modes interleaved in each of $reps rounds (a shared host's speed
# drifts), and each figure is the median of the rounds' ratios (min-max beside it), in
# CPU-seconds (wall-clock ratios beside them in the JSON):
#   late_trace_ratio: a mismatch late in the run (a stream-rule violation injected after 90% of
#     its cycles), its waveform included, with snapshots (the traced build, --snapshot-every
#     $every), over the same failing run in the plain build without a waveform;
#   rerun_ratio: the same in the plain build with today's fallback, the traced re-run from 0;
#   snapshot_overhead: the passing run with snapshots over the plain build's, minus 1; split
#     into build_overhead (the traced build without snapshots over the plain build) and
#     fork_overhead (the traced build with snapshots over itself without), each minus 1.
# Env: TB_VL (build/vl), GOLDEN_BIN, BENCH_QUICK=1 (a short layer: checks the script, measures nothing).
set -euo pipefail
out=$1
quick=${BENCH_QUICK:-0}
plain=$TB_VL/default/plain/mpq-tb traced=$TB_VL/default/trace/mpq-tb
work=$out/snap
rm -rf "$work" && mkdir -p "$work"
# Snapshots by cycles (deterministic): 1M cycles are 1-2 s here.
if [ "$quick" = 1 ]; then m=64 reps=1 every=5000; else m=${BENCH_SNAP_M:-8192} reps=${BENCH_SNAP_REPS:-3} every=1000000; fi
layer=(lockstep --seed 1 --m "$m" --k 1024 --n 128 --hp-n 1 --offer early --mid-reset off --p-ready 0.5)
# secs CMD...: "CPU-seconds wall-seconds" of CMD (its exit status 0 or 1 expected); CPU:
# user + system of the process and the children it waited for (the woken snapshot, the
# re-run), which time stolen by a shared host's other tenants does not inflate.
secs() {
    local rc=0
    /usr/bin/time -f '%U %S %e' -o "$work/time.txt" "$@" >"$work/last.txt" 2>&1 || rc=$?
    [ $rc -le 1 ] || { echo "snap.sh: exit $rc from: $*" >&2; tail -n 20 "$work/last.txt" >&2; return 1; }
    tail -n 1 "$work/time.txt" | awk '{ printf "%.3f %.3f\n", $1 + $2, $3 }' # (after time's exit-status line)
}
cycles=$("$plain" "${layer[@]}" --trace-dir "$work/t" | sed -n 's/^PASS .* \([0-9]*\) cycles.*/\1/p')
[ -n "$cycles" ] || { echo "snap.sh: the passing run printed no cycle count" >&2; exit 1; }
after=$((cycles * 9 / 10))
fail=(--inject-hold --inject-hold-after "$after" -q)
: >"$work/times.txt"
for i in $(seq "$reps"); do
    echo "$i base $(secs "$plain" "${layer[@]}" "${fail[@]}" --trace-dir "$work/t" --trace-bin "$work/none")" >>"$work/times.txt"
    echo "$i snap $(secs "$traced" "${layer[@]}" "${fail[@]}" --trace-dir "$work/t" --snapshot-every "$every")" >>"$work/times.txt"
    echo "$i rerun $(secs "$plain" "${layer[@]}" "${fail[@]}" --trace-dir "$work/t" --trace-bin "$traced")" >>"$work/times.txt"
    echo "$i pass $(secs "$plain" "${layer[@]}" -q --trace-dir "$work/t")" >>"$work/times.txt"
    echo "$i pass_snap $(secs "$traced" "${layer[@]}" -q --trace-dir "$work/t" --snapshot-every "$every")" >>"$work/times.txt"
    echo "$i pass_traced $(secs "$traced" "${layer[@]}" -q --trace-dir "$work/t" --snapshot-every 0)" >>"$work/times.txt"
done
# The last failing run with snapshots must have taken its waveform from one.
"$traced" "${layer[@]}" "${fail[@]}" --trace-dir "$work/t" --snapshot-every "$every" >"$work/check.txt" 2>&1 || true
grep -q "from this run's snapshot" "$work/t/lockstep-1/report.txt" \
    || { echo "snap.sh: the late mismatch's waveform did not come from a snapshot:" >&2; cat "$work/check.txt" >&2; exit 1; }
at=$(sed -n 's/.*first mismatching cycle \([0-9]*\).*/\1/p' "$work/check.txt")
# vs MODE BASE [SUB] [COL]: "median min max" of MODE's time over BASE's, round by round,
# minus SUB; COL 3 CPU-seconds (default), 4 wall-clock.
vs() {
    awk -v k="$1" -v b="$2" -v sub_="${3:-0}" -v col="${4:-3}" '$2 == k { r[$1] = $col } $2 == b { d[$1] = $col }
        END { n = 0; for (i in r) if ((i in d) && d[i] > 0) v[++n] = r[i] / d[i] - sub_
              if (n == 0) { print "0 0 0"; exit }
              for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
              med = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
              printf "%.3f %.3f %.3f\n", med, v[1], v[n] }' "$work/times.txt"
}
read -r late late_lo late_hi < <(vs snap base)
read -r rerun rerun_lo rerun_hi < <(vs rerun base)
read -r ovh ovh_lo ovh_hi < <(vs pass_snap pass 1)
read -r bovh bovh_lo bovh_hi < <(vs pass_traced pass 1)
read -r fovh fovh_lo fovh_hi < <(vs pass_snap pass_traced 1)
read -r w_late _ _ < <(vs snap base 0 4)
read -r w_rerun _ _ < <(vs rerun base 0 4)
read -r w_ovh _ _ < <(vs pass_snap pass 1 4)
sgn() { awk -v v="$1" 'BEGIN { printf "%+.3f", v }'; }
best() { awk -v k="$1" '$2 == k { print $3 }' "$work/times.txt" | sort -g | head -n 1; }
echo
echo "== snapshots: lockstep m=$m k=1024 n=128 ($cycles cycles), mismatch injected at cycle $at; $reps rounds"
printf '%-64s %10s %22s\n' "run (CPU-seconds, whole command)" "best s" "ratio: median (range)"
printf '%-64s %10s %22s\n' "plain build, failing run, no waveform" "$(best base)" "1.000"
printf '%-64s %10s %22s\n' "traced build, snapshots every $every, waveform from a snapshot" "$(best snap)" "$late ($late_lo-$late_hi)"
printf '%-64s %10s %22s\n' "plain build, waveform by the traced re-run from cycle 0" "$(best rerun)" "$rerun ($rerun_lo-$rerun_hi)"
printf '%-64s %10s %22s\n' "passing run: plain build" "$(best pass)" "1.000"
printf '%-64s %10s %22s\n' "passing run: traced build, snapshots every $every (overhead)" "$(best pass_snap)" "$(sgn "$ovh") ($ovh_lo - $ovh_hi)"
printf '%-64s %10s %22s\n' "  of which the build: traced, no snapshots, over plain" "$(best pass_traced)" "$(sgn "$bovh") ($bovh_lo - $bovh_hi)"
printf '%-64s %10s %22s\n' "  and the snapshots: traced with them over traced without" "" "$(sgn "$fovh") ($fovh_lo - $fovh_hi)"
echo "(wall clock, medians: late trace $w_late, re-run $w_rerun, overhead +$w_ovh)"
# The traced build's model with its waveform closed, against the plain build's, in
# instructions on the model's thread (callgrind: exact whatever the host's load): the bare
# loop and a lockstep run (source thread; snapshots on their default) of 9k cycles.
ir_json=null
if command -v valgrind >/dev/null && [[ "${CXXFLAGS_SAN:-}" != *sanitize=address* ]]; then
    small=(lockstep --seed 1 --m 64 --k 1024 --n 16 --hp-n 1 --p-valid 0.9 --p-ready 0.9 --profile random --acc wrap)
    "$GOLDEN_BIN" gen -q --config default "${small[@]:1}" -o "$work/ir.vec"
    ir() {
        valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect="$1" "${@:2}" 2>&1 |
            sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | head -n 1
    }
    b_plain=$(ir bare_pass "$plain" replay "$work/ir.vec" --bare 1)
    b_traced=$(ir bare_pass "$traced" replay "$work/ir.vec" --bare 1)
    l_plain=$(ir 'run_test*' "$plain" "${small[@]}" --source-thread on --trace-dir "$work/t")
    l_traced=$(ir 'run_test*' "$traced" "${small[@]}" --source-thread on --trace-dir "$work/t")
    r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b - 1 }'; }
    printf '%-64s %10s\n' "instructions, traced build over plain: bare loop" "+$(r "$b_traced" "$b_plain")"
    printf '%-64s %10s\n' "instructions, traced build over plain: lockstep (source thread)" "+$(r "$l_traced" "$l_plain")"
    ir_json="{\"bare_plain\": $b_plain, \"bare_traced\": $b_traced, \"lockstep_plain\": $l_plain, \"lockstep_traced\": $l_traced, \"bare_overhead\": $(r "$b_traced" "$b_plain"), \"lockstep_overhead\": $(r "$l_traced" "$l_plain")}"
fi
cat >"$out/snap.json.tmp" <<EOF
{
  "layer": "lockstep m=$m k=1024 n=128 hp-n=1 offer=early p-ready=0.5 seed=1",
  "cycles": $cycles, "mismatch_cycle": ${at:-null}, "snapshot_every": "$every", "rounds": $reps,
  "late_trace_ratio": $late, "late_trace_ratio_range": [$late_lo, $late_hi],
  "rerun_ratio": $rerun, "rerun_ratio_range": [$rerun_lo, $rerun_hi],
  "snapshot_overhead": $ovh, "snapshot_overhead_range": [$ovh_lo, $ovh_hi],
  "build_overhead": $bovh, "build_overhead_range": [$bovh_lo, $bovh_hi],
  "fork_overhead": $fovh, "fork_overhead_range": [$fovh_lo, $fovh_hi],
  "wall_clock": {"late_trace_ratio": $w_late, "rerun_ratio": $w_rerun, "snapshot_overhead": $w_ovh},
  "instructions": $ir_json
}
EOF
mv -f "$out/snap.json.tmp" "$out/snap.json"
