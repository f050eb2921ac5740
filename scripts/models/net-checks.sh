# net-checks.sh: the checks of an `mpq-tb net` run that test-rtl.sh and test-mixprec-rtl.sh
# share; sourced, not run. The caller sets tb (the testbench), work (its folder) and fail=0;
# each check prints one line when it passes, or FAIL: and the log (fail=1).
bad() { echo "FAIL: $*"; fail=1; }
total_cycles() { sed -n 's/^total: [0-9]* MACs in \([0-9]*\) cycles.*/\1/p' "$1"; }

# net_whole WHAT OUT RC PATTERN CYCLES WHO: a whole-model run that exited RC, its log OUT.txt
# and JSON OUT.json: exit 0 and the verdict line PATTERN, no layer failed on the RTL, the total
# cycles equal CYCLES (the golden cycle model's, counted by WHO), the JSON says rtl_passed.
net_whole() {
    local what=$1 out=$2 rc=$3 pat=$4 cm=$5 who=$6
    local rtl
    rtl=$(total_cycles "$out.txt")
    if [ $rc != 0 ] || ! grep -q "$pat" "$out.txt"; then
        bad "$what: exit $rc"; tail -n 5 "$out.txt"
    elif grep -q ' FAILED ' "$out.txt" || ! grep -q ' RTL   passed ' "$out.txt"; then
        bad "$what: a layer not passed on the RTL"; cat "$out.txt"
    elif [ -z "$rtl" ] || [ "$rtl" != "$cm" ]; then
        bad "$what: RTL ${rtl:-?} cycles, the cycle model ($who) ${cm:-?}"
    elif ! grep -q '"rtl_passed": true' "$out.json"; then
        bad "$what: the JSON does not say rtl_passed"
    else
        echo "$what: every MAC layer on the RTL passed, $rtl cycles = $who's"
    fi
}

# net_backpressure WHAT OUT ARGS...: mpq-tb net ARGS with valid gaps and output stalls (p-valid
# 0.5, p-ready 0.6, timing seed 7) into OUT.txt and OUT.json: it passes, stalls counted.
net_backpressure() {
    local what=$1 out=$2; shift 2
    "$tb" net "$@" --timing-seed 7 --p-valid 0.5 --p-ready 0.6 --trace-dir "$work/traces" \
        --json "$out.json" >"$out.txt" 2>&1
    local rc=$?
    local stalls
    stalls=$(grep -o '"out_stalls": [0-9]*' "$out.json" 2>/dev/null | awk '{ s += $2 } END { print s + 0 }')
    if [ $rc != 0 ] || ! grep -q '^mpq-tb net: passed' "$out.txt"; then
        bad "$what under back-pressure: exit $rc"; tail -n 5 "$out.txt"
    elif [ "$stalls" -le 0 ]; then
        bad "$what under back-pressure: no output stall counted"; cat "$out.txt"
    else
        echo "$what under back-pressure (p-valid 0.5, p-ready 0.6): passed, $stalls output stall cycles"
    fi
}

# net_replay TRACE CYCLE LINE: replaying a planted fault's TRACE/layer.vec on the testbench
# fails (exit 1) at CYCLE, as the run did; prints LINE when it does.
net_replay() {
    local tr=$1 cyc=$2 line=$3
    "$tb" replay "$tr/layer.vec" --trace-dir "$work/replay" -q >"$work/replay.txt" 2>&1
    local rrc=$?
    if [ $rrc != 1 ] || ! grep -q "^  first mismatching cycle $cyc " "$work/replay.txt"; then
        bad "planted fault: replaying layer.vec: exit $rrc, want 1 at cycle $cyc"; cat "$work/replay.txt"
    else
        echo "$line"
    fi
}

# refuse WHAT PATTERN ARGS...: mpq-tb net ARGS exits 2 with PATTERN in its message.
refuse() {
    local what=$1 pat=$2; shift 2
    local out rc
    out=$("$tb" net "$@" 2>&1); rc=$?
    if [ $rc != 2 ] || ! grep -q -- "$pat" <<<"$out"; then bad "$what: exit $rc, want 2 with '$pat': $out"; fi
}
