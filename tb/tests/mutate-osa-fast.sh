#!/usr/bin/env bash
# mutate-osa-fast.sh rounding|deadlock OUTDIR: one mutant of examples/osa in make test (make
# mutate-osa runs them all), built and run through mpq-txn by scripts/mutate/mutate-osa.sh, and
# what the report says about it:
#   rounding  requant-nudge-tie (SRDHM's nudge off by one for negative products): caught as
#             "output data differs", the report naming the stream, the beat, the layer, the
#             cycle and the output element y[b][oy][ox][c], expected and actual one apart;
#   deadlock  act-tready-first-tile (s_axis_act_tready only in a layer's first tile: the DUT
#             stops): caught as a deadlock, the report saying no beat moved for --deadlock
#             cycles and the act stream waiting (valid, not ready).
set -u
which=$1 out=$2
case $which in
    rounding) m=requant-nudge-tie ;;
    deadlock) m=act-tready-first-tile ;;
    *) echo "mutate-osa-fast.sh: rounding or deadlock" >&2; exit 2 ;;
esac
scripts/mutate/mutate-osa.sh "$out" "$m" || exit 1
step=$(awk -F'\t' -v m="$m" '$1 == m { print $3 }' "$out/summary.tsv")
log="$out/$m/$step.log"
fail() { echo "$m: $*"; sed -n '/^FAILURE/,/^FAIL /p' "$log" | head -n 30; exit 1; }
case $which in
rounding)
    grep -q '^FAILURE in .*: output data differs$' "$log" || fail "not reported as output data differs"
    grep -q '^  at cycle [0-9]* (time [0-9]* in wave.fst' "$log" || fail "the report names no cycle"
    grep -q '^  stream out (m_axis_out_tdata, 64 bits): beat [0-9]* of layer [0-9]* (beat [0-9]* of the test)$' "$log" ||
        fail "the report names no stream, beat and layer"
    el=$(grep -m1 '^    y\[[^ ]*\] (bits \[[0-9]*:[0-9]*\]): expected -\?[0-9]* (0x[0-9a-f]*), actual -\?[0-9]* (0x[0-9a-f]*)$' "$log") ||
        fail "the report names no output element"
    read -r e a < <(sed 's/.*expected \(-\?[0-9]*\) .*actual \(-\?[0-9]*\) .*/\1 \2/' <<<"$el")
    [ $((e - a)) -eq 1 ] || [ $((a - e)) -eq 1 ] || fail "a rounding tie moves an output by one, not $e -> $a"
    grep -q '^  reproduce: .*mpq-txn random --seed [0-9]* --runs 1' "$log" || fail "no reproduce line"
    grep -q '^  trace: .*/ (report.txt, report.json' "$log" || fail "no trace folder"
    echo "$m: $(grep -m1 '^FAIL  ' "$log")"
    ;;
deadlock)
    grep -q '^FAILURE in .*: deadlock$' "$log" || fail "not reported as a deadlock"
    grep -q '^  no beat on any stream for 20000 cycles while output beats are still expected (--deadlock)$' "$log" ||
        fail "the report does not say no beat moved for 20000 cycles"
    grep -q '^  streams when it stopped: .*act [0-9]*/[0-9]* beats (valid, not ready)' "$log" ||
        fail "the report does not show act waiting (valid, not ready)"
    echo "$m: $(grep -m1 '^FAIL  ' "$log"); $(grep -m1 '^  streams when it stopped' "$log" | sed 's/^  //')"
    ;;
esac
