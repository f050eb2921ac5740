#!/usr/bin/env bash
# assertions.sh MPQ_TB WORKDIR: the RTL's SV assertions run (--assert) and the testbench
# reports them. A waiting activation beat is changed once before its handshake (a stream-rule
# violation by the driver); the run must fail with the assertion as the first mismatch, in
# the cycle of the violation, with a trace. Two tiles, beats offered early: the second tile's
# first activation beat waits while the first tile finishes (act_ready_o is low once the
# first tile's beats are all written).
set -u
tb=$1 work=$2
rm -rf "$work" && mkdir -p "$work" || exit 1
"$tb" lockstep --seed 11 --runs 1 --m 4 --k 64 --n 16 --p-valid 0.9 --p-ready 0.3 --offer early --inject-hold \
    --trace-dir "$work/traces" >"$work/out.txt" 2>&1
rc=$?
cat "$work/out.txt"
[ $rc -eq 1 ] || { echo "exit $rc, want 1 (a mismatch)"; exit 1; }
grep -q "act_data_i changed before the handshake" "$work/out.txt" || { echo "no assertion message from the RTL"; exit 1; }
grep -q "an SV assertion of the DUT failed in this cycle" "$work/out.txt" || { echo "the report does not name the assertion"; exit 1; }
# Without the injection the same run passes: the failure is the violation, not the layer.
"$tb" lockstep --seed 11 --runs 1 --m 4 --k 64 --n 16 --p-valid 0.9 --p-ready 0.3 --offer early -q >/dev/null \
    || { echo "the same run without the injection fails"; exit 1; }
echo "assertion reported"
