#!/usr/bin/env bash
# user-input.sh MPQ_TB MPQ_GOLDEN WORKDIR: what a user types wrongly is refused before anything
# runs, with one message naming the option (or make variable) and what is allowed, exit 2:
# mpq-tb's layer options, replay of a folder or with lockstep options, make sim's CONFIG,
# SEED with VEC, a VEC folder; mpq-golden's --config from outside the source tree. And a failed
# test target fails on its own (`make NAME` exits non-zero), and every listed test is a target.
set -u
tb=$1 golden=$2 work=$3
rm -rf "$work" && mkdir -p "$work" || exit 1
root=$PWD
fails=0
# refused WORDS CMD...: exit 2, stderr (or make's message) containing WORDS, nothing run.
refused() {
    local words=$1; shift
    "$@" >"$work/out.txt" 2>"$work/err.txt"
    local rc=$?
    if [ $rc -ne 2 ]; then echo "FAIL exit $rc, want 2: $*"; cat "$work/out.txt" "$work/err.txt" | head -5; fails=$((fails + 1)); return; fi
    if ! grep -qi -- "$words" "$work/err.txt"; then echo "FAIL message lacks '$words': $*: $(cat "$work/err.txt")"; fails=$((fails + 1)); return; fi
    if grep -q "passed" "$work/out.txt"; then echo "FAIL something ran: $*"; fails=$((fails + 1)); return; fi
    echo "ok   $*: $(grep -i -m1 -- "$words" "$work/err.txt" | cut -c1-140)"
}
refused "--m: \`0\` is not an integer in 1..65535" "$tb" lockstep --m 0 --seed 1
refused "--k: \`0\` is not an integer in 1..KMax" "$tb" lockstep --k 0 --seed 1
refused "--n: \`0\` is not an integer in" "$tb" lockstep --n 0 --seed 1
refused "--k: \`100000\` is not an integer in 1..KMax" "$tb" lockstep --k 100000 --seed 1
refused "--k 2000 is more than KMax = 1024" "$tb" lockstep --k 2000 --seed 1
# Only what the user gave is named (not the random choices of the other options).
if grep -q "hp-n\|m = " "$work/err.txt"; then echo "FAIL the message names values the user did not give"; fails=$((fails + 1)); fi
refused "--hp-n 5 is more than HpPerGroup = 1" "$tb" lockstep --hp-n 5 --seed 1
refused "is a folder" "$tb" replay vectors/regress
# Options that contradict or mean nothing are refused, not silently changed (issue 30, item 6).
refused "--runs R and --cycles N exclude each other" "$tb" lockstep --runs 3 --cycles 1000 --seed 1
refused "--max-mismatches: \`0\` is not an integer in 1.." "$tb" lockstep --max-mismatches 0 --seed 1
refused "--cycles: \`0\` is not an integer in 1.." "$tb" lockstep --cycles 0 --seed 1
refused "rtl/cfg: is a directory, not a file" "$tb" lockstep --config rtl/cfg --seed 1
# A lockstep layer too large for the memory is refused with its estimates before anything is
# allocated (MPQ_TB_MEMORY stands for a small machine; ulimit -v keeps a testbench that would
# allocate it anyway from taking the host's memory, except under ASan, which needs the space).
guard='ulimit -v 6000000;'
[ -n "${ASAN_OPTIONS:-}" ] && guard=
refused "m=65535 k=1024 n=65535 needs about 21.7 GB of memory (estimate: .*) and takes about 8.59e+10 cycles; the limit is half of MPQ_TB_MEMORY, 4.0 GB" \
    env MPQ_TB_MEMORY=4G bash -c "$guard"' exec timeout 60 "$0" lockstep --m 65535 --k 1024 --n 65535 --seed 1' "$tb"
refused "MPQ_TB_MEMORY=4x is not a size" env MPQ_TB_MEMORY=4x "$tb" lockstep --seed 1
# A convolution the RTL cannot hold: refused before the first run, the rule with its numbers.
refused "does not run on this RTL: tile 0: cfg tile: the window's input rows do not fit the activation ring: ((kh-1)\*dy+1)\*in_w\*ceil(c_len/KLanes) = ((3-1)\*1+1)\*4000\*ceil(64/16) = 48000 > ActDepth = 1024" \
    "$tb" lockstep --shape 'conv2d h=4 w=4000 c=64 o=8 k=3 p=1' --seed 1 --runs 3
[ "$(grep -c "does not run" "$work/err.txt")" -le 1 ] || { echo "FAIL the refusal is printed once per run"; fails=$((fails + 1)); }
refused "--seed is a lockstep option" "$tb" replay vectors/regress/default-basic.vec --seed 3
refused "no configuration \`doesnotexist\` (have: " "$golden" gen -o "$work/x.vec" --config doesnotexist
# make sim's variables: checked by make before anything builds.
refused "CONFIG=doesnotexist: there is no rtl/cfg/doesnotexist.cfg; the configurations are: default" \
    make -s --no-print-directory sim CONFIG=doesnotexist
refused "do not combine" make -s --no-print-directory sim SEED=3 VEC=vectors/regress/default-basic.vec
refused "VEC=vectors/regress is a folder" make -s --no-print-directory sim VEC=vectors/regress
refused "VEC=nosuch.vec: no such file" make -s --no-print-directory sim VEC=nosuch.vec
refused "SEED=x3 is not a non-negative integer" make -s --no-print-directory sim SEED=x3
refused "SIM_CYCLES=-5 is not a positive integer" make -s --no-print-directory sim SIM_CYCLES=-5
refused "SIM_CYCLES=1e6 is not a positive integer" make -s --no-print-directory sim SIM_CYCLES=1e6
refused "SIM_CONFIGS: there is no rtl/cfg/nope.cfg" make -s --no-print-directory sim SIM_CONFIGS="default nope"
refused "KEEP_TRACES=x is not a non-negative integer" make -s --no-print-directory sim KEEP_TRACES=x
# scripts/sim.sh, which make sim runs, returns mpq-tb's own status and names it on its last line
# (make's exit status is 2 for a mismatch and for bad input alike): a stub mpq-tb exits 1, then 2.
mkdir -p "$work/simbuild/vl/stub/plain"
printf '#!/bin/sh\nexit $STUB_RC\n' >"$work/simbuild/vl/stub/plain/mpq-tb" && chmod +x "$work/simbuild/vl/stub/plain/mpq-tb"
for want in "1|sim: FAILED (a mismatch" "2|sim: stub lockstep: bad input or testbench error (mpq-tb exit 2)"; do
    STUB_RC=${want%%|*} BUILD=$work/simbuild TRACES=$work/simtraces SIM_KIND=plain SIM_CYCLES=10 TRACE_BUILD=true \
        scripts/sim.sh stub >"$work/out.txt" 2>&1
    rc=$?
    if [ $rc -ne "${want%%|*}" ] || ! tail -n 1 "$work/out.txt" | grep -qF "${want#*|}"; then
        echo "FAIL sim.sh with mpq-tb exit ${want%%|*}: exit $rc, last line: $(tail -n 1 "$work/out.txt")"; fails=$((fails + 1))
    else echo "ok   sim.sh: mpq-tb exit ${want%%|*} -> exit $rc, \"$(tail -n 1 "$work/out.txt")\""; fi
done
# ... and refuses its bad variables before anything runs (scripts and CI call it directly).
printf '#!/bin/sh\ntouch "%s/stub-ran"\n' "$work" >"$work/simbuild/vl/stub/plain/mpq-tb"
for bad in SIM_CYCLES=-5 SIM_CYCLES=0 SEED=x3 KEEP_TRACES=-1; do
    rm -f "$work/stub-ran"
    env BUILD="$work/simbuild" TRACES="$work/simtraces" SIM_KIND=plain SIM_CYCLES=10 TRACE_BUILD=true "$bad" \
        scripts/sim.sh stub >"$work/out.txt" 2>&1
    rc=$?
    if [ $rc -ne 2 ] || [ -e "$work/stub-ran" ] || ! grep -q "sim: ${bad%%=*}=${bad#*=} is not a" "$work/out.txt"; then
        echo "FAIL sim.sh $bad: exit $rc, ran: $([ -e "$work/stub-ran" ] && echo yes || echo no): $(cat "$work/out.txt")"; fails=$((fails + 1))
    else echo "ok   sim.sh $bad: $(cat "$work/out.txt")"; fi
done
# make wave shows the last run's report once: the report says how to open the waveform, or
# why there is none, and nothing names a file that is not there.
wt=$work/wave-traces
mkdir -p "$wt/t1" && printf 'run: x\ntrace: %s/t1\n' "$wt" >"$wt/last-run"
printf 'MISMATCH in t1\n  open:  gtkwave %s/t1/wave.gtkw   (or: surfer %s/t1/wave.fst)\n' "$wt" "$wt" >"$wt/t1/report.txt"
: >"$wt/t1/wave.gtkw"
DISPLAY= make -s --no-print-directory wave TRACES="$wt" >"$work/out.txt" 2>&1
n=$(grep -c "gtkwave $wt/t1/wave.gtkw" "$work/out.txt")
[ "$n" -eq 1 ] && echo "ok   make wave names the waveform once" || { echo "FAIL make wave names the waveform $n times:"; cat "$work/out.txt"; fails=$((fails + 1)); }
rm "$wt/t1/wave.gtkw" && printf 'MISMATCH in t1\n  no waveform: the traced build does not exist\n' >"$wt/t1/report.txt"
DISPLAY= make -s --no-print-directory wave TRACES="$wt" >"$work/out.txt" 2>&1
if grep -q "wave.gtkw\|wave.fst" "$work/out.txt"; then echo "FAIL make wave names a waveform that was not written:"; cat "$work/out.txt"; fails=$((fails + 1))
else echo "ok   make wave without a waveform: $(tail -n 1 "$work/out.txt")"; fi
# Trace folders do not pile up: a run keeps the N most recent (--keep-traces, default 20) and
# removes the older ones, never a folder holding anything but a trace's files.
kt=$work/keep-traces
for d in a:01 b:02 c:03 d:04 e:01; do
    mkdir -p "$kt/${d%:*}" && : >"$kt/${d%:*}/report.txt" && touch -d "2020-01-${d#*:}" "$kt/${d%:*}/report.txt"
done
: >"$kt/e/notes.txt"; mkdir -p "$kt/f"
"$tb" lockstep --seed 1 --runs 1 --trace-dir "$kt" --keep-traces 2 >"$work/out.txt" 2>&1
left=$(cd "$kt" && ls -d -- */ | tr -d / | xargs)
if [ "$left" = "c d e f" ] && grep -q "removed the 2 oldest trace folders of $kt (--keep-traces 2)" "$work/out.txt"; then
    echo "ok   --keep-traces 2: left $left"
else echo "FAIL --keep-traces 2 left '$left' (want c d e f): $(cat "$work/out.txt")"; fails=$((fails + 1)); fi
"$tb" --help | grep -q -- "--keep-traces N .*(default 20; 0 keeps all)" || "$tb" --help | tr '\n' ' ' | grep -q -- "--keep-traces N .*(default 20; 0 keeps all)" \
    || { echo "FAIL --help does not describe --keep-traces"; fails=$((fails + 1)); }
# Options may come before the mode (issue 30, item 5: `mpq-tb --whitebox replay` said "unknown
# mode"): the same run as with the mode first.
"$tb" --max-mismatches 2 lockstep --seed 4 --runs 2 >"$work/out.txt" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "^2 passed, 0 failed" "$work/out.txt"; then echo "ok   options before the mode: --max-mismatches 2 lockstep"
else echo "FAIL options before the mode: exit $rc: $(tail -n 2 "$work/out.txt")"; fails=$((fails + 1)); fi
refused "mpq-tb: unknown mode \`frobnicate\`" "$tb" frobnicate
# mpq-golden finds the configurations from any folder (the source tree it was built in).
(cd "$work" && "$root/$golden" gen -q -o from-elsewhere.vec --config default --m 2 --k 20 --n 3) \
    && [ -s "$work/from-elsewhere.vec" ] && echo "ok   mpq-golden gen --config default outside the source tree" \
    || { echo "FAIL mpq-golden gen --config default outside the source tree"; fails=$((fails + 1)); }
# A failing test line fails on its own; skipped counts as passing.
scripts/check.sh "$work/results" demo/fail -- false >/dev/null; rc=$?
[ $rc -ne 0 ] && echo "ok   a failing test exits $rc" || { echo "FAIL a failing test exits 0"; fails=$((fails + 1)); }
scripts/check.sh "$work/results" demo/skip -- sh -c 'echo why; exit 77' >/dev/null; rc=$?
[ $rc -eq 0 ] && echo "ok   a skipped test exits 0" || { echo "FAIL a skipped test exits $rc"; fails=$((fails + 1)); }
# Every test make lists is a target of its own.
tests=$(make -s --no-print-directory list-tests)
[ -n "$tests" ] || { echo "FAIL make list-tests printed nothing"; fails=$((fails + 1)); }
# From make's database (make -p of a goal that does not exist runs no recipe; make -n of a
# test would still run its recursive $(MAKE) lines, i.e. the test itself).
make -pn --no-print-directory __mpq_no_such_goal__ 2>/dev/null | sed -n 's/^\([^#.%[:space:]][^:= ]*\):.*/\1/p' \
    | sort -u >"$work/targets.txt"
for t in $tests; do
    grep -qxF -- "$t" "$work/targets.txt" || { echo "FAIL $t is listed but is not a target"; fails=$((fails + 1)); }
done
echo "ok   the $(echo "$tests" | wc -w) listed tests are targets"
[ $fails -eq 0 ] && echo "user input: every mistake refused with exit 2 and one message"
[ $fails -eq 0 ]
