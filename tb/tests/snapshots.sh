#!/usr/bin/env bash
# snapshots.sh TRACED_MPQ_TB WORKDIR [SEED]: a late mismatch's waveform from a snapshot
# (tb/tb_snap.h). One lockstep layer of the default configuration (16 tiles, ~66k cycles),
# snapshots every 5,000 cycles, a stream-rule violation injected from cycle 40,000 on (the RTL's
# assertion fires at the first waiting activation beat after it). Checked:
#   - the run fails there and its report says the waveform came from a snapshot;
#   - the window's contents (fst2vcd, less the date line) equal those of the traced re-run
#     from cycle 0 of the same test (--snapshot-every 0);
#   - no snapshot outlives the run;
#   - a passing run (no injection) prints and records the same with snapshots as without.
# SEED (default 1, printed) picks the layer's values and timing.
set -u
tb=$1 work=$2 seed=${3:-1}
rm -rf "$work" && mkdir -p "$work" || exit 1
echo "snapshots: lockstep seed $seed"
layer=(lockstep --seed "$seed" --m 64 --k 1024 --n 128 --hp-n 1 --offer early --mid-reset off --p-ready 0.5)
fail() { echo "snapshots: $*"; exit 1; }
command -v fst2vcd >/dev/null || fail "fst2vcd (GTKWave's) is needed to compare the waveforms: apt-get install gtkwave"

"$tb" "${layer[@]}" --inject-hold --inject-hold-after 40000 --snapshot-every 5000 --name snap \
    --trace-dir "$work/snap" >"$work/snap.txt" 2>&1
rc=$?
cat "$work/snap.txt"
[ $rc -eq 1 ] || fail "exit $rc, want 1 (the injected violation)"
at=$(sed -n 's/.*first mismatching cycle \([0-9]*\).*/\1/p' "$work/snap.txt")
[ -n "$at" ] && [ "$at" -ge 40000 ] || fail "the first mismatch ($at) is not after cycle 40000"
grep -q "re-simulated from this run's snapshot of cycle" "$work/snap/snap_lockstep-$seed/report.txt" \
    || fail "report.txt does not say the waveform came from a snapshot"
[ -f "$work/snap/snap_lockstep-$seed/wave.fst" ] && [ -f "$work/snap/snap_lockstep-$seed/wave.gtkw" ] \
    || fail "no wave.fst / wave.gtkw"
# Children never outlive the run (the trace folder names this run's processes uniquely).
sleep 0.2
if pgrep -f -- "--trace-dir $work/snap" >/dev/null; then fail "a snapshot outlived the run"; fi

"$tb" "${layer[@]}" --inject-hold --inject-hold-after 40000 --snapshot-every 0 --name snap \
    --trace-dir "$work/zero" >"$work/zero.txt" 2>&1
grep -q "re-simulated in the traced build" "$work/zero/snap_lockstep-$seed/report.txt" \
    || fail "the run without snapshots did not re-run from cycle 0"
for d in snap zero; do
    fst2vcd "$work/$d/snap_lockstep-$seed/wave.fst" 2>/dev/null | sed '/^\$date/,/^\$end/d' >"$work/$d.vcd"
done
[ "$(wc -l <"$work/snap.vcd")" -gt 100 ] || fail "the snapshot's waveform is nearly empty"
cmp -s "$work/snap.vcd" "$work/zero.vcd" \
    || { diff "$work/snap.vcd" "$work/zero.vcd" | head -n 20; fail "the windows differ"; }
echo "snapshots: the window of cycle $at from a snapshot equals the re-run from cycle 0 ($(wc -l <"$work/snap.vcd") VCD lines)"

# A passing run: the same lines and results with snapshots as without.
for every in 3000 0; do
    "$tb" "${layer[@]}" --snapshot-every $every --name pass --trace-dir "$work/pass" \
        --results "$work/results-$every.json" >"$work/pass-$every.txt" 2>&1 || fail "the passing run failed (--snapshot-every $every)"
    sed -i 's/"seconds": [0-9.e+-]*//' "$work/results-$every.json"
done
diff <(sed 's/ *[0-9.]* Mcycles\/s//' "$work/pass-3000.txt") <(sed 's/ *[0-9.]* Mcycles\/s//' "$work/pass-0.txt") \
    || fail "a passing run prints differently with snapshots"
cmp -s "$work/results-3000.json" "$work/results-0.json" || fail "a passing run records differently with snapshots"
echo "snapshots: a passing run gives the same results with snapshots every 3000 cycles"
