#!/usr/bin/env bash
# mutate-fast.sh OUTDIR MUTANT...: the fast subset of `make mutate` run by `make test`.
# Every named mutant must be caught, and the lane-2 sign error (issue 4's evidence) must leave
# a mismatch trace whose report names lane 2 and the first wrong cycle, with a waveform whose
# re-simulation reproduced the mismatch at that cycle, and the testbench must report the same
# mismatches, cycle for cycle and with the same position of the array, whether the golden
# model runs in its own thread (--source-thread on) or not.
set -u
out=$1; shift
MUTATE_KEEP_MODELS=1 scripts/mutate/mutate.sh "$out" "$@" || exit 1
# A pipeline-rule mutant must be caught by a committed vector file (the replay step), not only
# by random lockstep: the committed set reaches every pipeline pattern (issue 30).
for m in "$@"; do
    case $m in pipe-*) ;; *) continue ;; esac
    t=$(awk -F'\t' -v m="$m" '$1 == m { print $4 }' "$out/summary.tsv")
    case $t in *.vec) echo "$m: caught by the committed vector $t" ;;
        *) echo "$m: caught by '$t', not by a committed vector"; exit 1 ;; esac
done
case " $* " in *" lane2-tern-sign "*) ;; *) exit 0 ;; esac
dir=$(awk -F'\t' '$1 == "lane2-tern-sign" { print $7 }' "$out/summary.tsv")
[ -d "$dir" ] || { echo "lane2-tern-sign: no trace folder ($dir)"; exit 1; }
rep="$dir/report.txt"
fail() { echo "lane2-tern-sign: $*"; cat "$rep" 2>/dev/null; exit 1; }
grep -q '^    lane 2 = output channel n=' "$rep" || fail "the report does not name lane 2"
grep -q '^  first mismatching cycle [0-9]' "$rep" || fail "the report names no first cycle"
if grep -q '^    lane [013-9]' "$rep"; then fail "the report blames another lane"; fi
[ -s "$dir/wave.fst" ] || fail "no waveform"
[ -s "$dir/wave.gtkw" ] || fail "no GTKWave save file"
grep -q 'the mismatch reproduced at the same cycle' "$rep" || fail "the traced re-simulation did not reproduce it"
grep -q '"first_cycle"' "$dir/report.json" || fail "no JSON report"
# White-box mode (mpq-tb --whitebox, issue 14 item 5): the same failing test, with every lane's
# accumulator compared after every edge, names lane 2's accumulator, and no later than the
# black-box report's first cycle (the bug acts in the accumulator, before the output shows it).
read -r bb_cyc wb_cyc wb_what < <(awk -F'\t' '$1 == "lane2-tern-sign" { print $5, $8, $9 }' "$out/summary.tsv")
case $wb_cyc in ''|*[!0-9]*) fail "white-box mode did not report (cycle '$wb_cyc', $wb_what)" ;; esac
[ "$wb_cyc" -le "$bb_cyc" ] || fail "white-box first cycle $wb_cyc is after the black-box one $bb_cyc"
case $wb_what in *"lane 2"*) ;; *) fail "white-box mode blames '$wb_what', not lane 2" ;; esac
echo "lane2-tern-sign: white-box: $wb_what at cycle $wb_cyc (black-box: cycle $bb_cyc)"
# The waveform itself: the mismatch flag first rises at the reported cycle (time 10c), where
# the reported port and its expected value (exp_<port>) differ, and is 0 before (fst2vcd
# comes with GTKWave).
cyc=$(sed -n 's/^  first mismatching cycle \([0-9]*\).*/\1/p' "$rep")
port=$(sed -n 's/^  port \([a-z_]*\):.*/\1/p' "$rep" | head -n 1)
expname="exp_${port%_o}"
scripts/install-deps.sh wave && command -v fst2vcd >/dev/null || fail "fst2vcd (GTKWave) is needed to check the waveform (scripts/install-deps.sh wave)"
read -r t od ex < <(fst2vcd "$dir/wave.fst" 2>/dev/null | awk -v p="$port" -v e="$expname" '
    $1 == "$var" && $5 == "mismatch" && !mm { mm = $4 }
    $1 == "$var" && $5 == p && !od { od = $4 }
    $1 == "$var" && $5 == e && !ex { ex = $4 }
    /^#/ { if (cur == "1" && first == "") { first = t; fod = vod; fex = vex } t = substr($0, 2); next }
    /^b/ { if ($2 == od) vod = $1; if ($2 == ex) vex = $1; next }
    /^[01]/ { id = substr($0, 2); v = substr($0, 1, 1); if (id == mm) cur = v
              if (id == od) vod = v; if (id == ex) vex = v }
    END { if (cur == "1" && first == "") { first = t; fod = vod; fex = vex } print first, fod, fex }')
[ "$t" = "$((cyc * 10))" ] || fail "the waveform's mismatch flag first rises at time $t, not $((cyc * 10))"
[ -n "$od" ] && [ "$od" != "$ex" ] || fail "$port and $expname do not differ in the waveform at time $t"
echo "lane2-tern-sign: wave.fst: mismatch rises at time $t; $port $od, $expname $ex"
# Expected and actual sit in the same cycle on screen: out_valid_o and exp_out_valid (equal
# in every cycle of this mutant) change at the very same times, at the clock's rising edges.
read -r same n_changes edges < <(fst2vcd "$dir/wave.fst" 2>/dev/null | awk '
    $1 == "$var" && $5 == "out_valid_o" && !ov { ov = $4 }
    $1 == "$var" && $5 == "exp_out_valid" && !ev { ev = $4 }
    $1 == "$var" && $5 == "clk_i" && !ck { ck = $4 }
    /^#/ { t = substr($0, 2); next }
    /^[01]/ { id = substr($0, 2); v = substr($0, 1, 1)
              if (id == ov && t > 0) a = a " " t; if (id == ev && t > 0) b = b " " t
              if (id == ck && v == "1") rise[t] = 1 }
    END { n = split(a, x, " "); ok = 1; for (i = 1; i <= n; i++) if (!(x[i] in rise)) ok = 0
          print (a == b && n > 0) ? "yes" : "no", n, ok ? "on-edges" : "off-edges" }')
[ "$same" = yes ] || fail "out_valid_o and exp_out_valid change at different times in the waveform"
[ "$edges" = on-edges ] || fail "out_valid_o changes away from the clock's rising edges"
echo "lane2-tern-sign: wave.fst: out_valid_o and exp_out_valid change together ($n_changes times, at rising edges)"
echo "lane2-tern-sign: trace $dir names lane 2 and cycle $(sed -n 's/^  first mismatching cycle \([0-9]*\).*/\1/p' "$rep")"
# What the reports say of a convolution whose first mismatch is an overflow flag (issue 30,
# item 7): the FAIL line gives ovf_o's actual value beside the expected one, report.json
# describes the convolution's shape (not only m/k/n), both reports count tiles from 0, and
# the reproduce line quotes the shape for the shell.
report_checks() {
    local bin=$1 dir=$2 want
    rm -rf "$dir"
    "$bin" lockstep --seed 1 --shape 'conv2d h=5 w=5 c=20 o=12 k=3 p=1' --profile overflow --acc sat -q \
        --trace-dir "$dir" --trace-bin /nonexistent --name r >"$dir.out" 2>&1
    local rt="$dir/r_lockstep-1/report.txt" rj="$dir/r_lockstep-1/report.json"
    grep -q '^FAIL  r/lockstep-1: cycle [0-9]*: ovf_o lane 2 (channel n=2) expected 1, actual 0$' "$dir.out" \
        || { cat "$dir.out"; echo "reports: the FAIL line lacks ovf_o's actual value"; return 1; }
    want='"layer": {"kind": "conv2d", "m": 25, "k": 180, "n": 12, "tiles": 2, "acc": "sat",'
    grep -qF "$want" "$rj" && grep -qF '"shape": {"batches": 1, "in_h": 5, "in_w": 5, "in_c": 20, "out_c": 12, "kh": 3, "kw": 3,' "$rj" \
        || { cat "$rj"; echo "reports: report.json does not describe the convolution's shape"; return 1; }
    local tt tj
    tt=$(sed -n 's/^  the array in that cycle: tile \([0-9]*\) of 2 .*/\1/p' "$rt")
    tj=$(sed -n 's/.*"where": {"tile": \([0-9-]*\),.*/\1/p' "$rj" | head -n 1)
    [ -n "$tt" ] && [ "$tt" = "$tj" ] && [ "$tt" = 0 ] \
        || { echo "reports: report.txt says tile '$tt', report.json tile '$tj' (both count from 0: want 0)"; return 1; }
    grep -qF -- "--shape 'conv2d b=1 h=5 w=5 c=20 o=12 k=3x3 s=1x1 d=1x1 p=1x1 g=1 oh=5 ow=5'" "$rt" \
        || { grep reproduce "$rt"; echo "reports: the reproduce line does not quote the shape"; return 1; }
    echo "reports: $(grep '^FAIL' "$dir.out"); report.json: the conv2d shape, tile $tj as report.txt's"
}
# The source thread changes nothing but speed: 16 mismatches of a long layer (several of the
# thread's blocks), with the array's position in each, are the same with it and without it.
bin="$out/lane2-tern-sign/vl/default/plain/mpq-tb"
[ -x "$bin" ] || fail "no mutant model $bin"
report_checks "$bin" "$out/reports" || exit 1
for st in off on; do
    "$bin" lockstep --seed 11 --m 300 --k 1000 --n 3 --profile random --max-mismatches 16 \
        --trace-dir "$out/thread-$st" --trace-bin /nonexistent --name t -q --source-thread "$st" \
        | sed "s|thread-$st|thread-X|g" >"$out/thread-$st.txt"
    sed "s|thread-$st|thread-X|g" "$out/thread-$st/t_lockstep-11/report.json" >"$out/thread-$st.json"
done
grep -q '16 mismatching cycles' "$out/thread-on.txt" || { cat "$out/thread-on.txt"; echo "source thread: the mutant's run did not record 16 mismatches"; exit 1; }
diff "$out/thread-off.txt" "$out/thread-on.txt" && diff "$out/thread-off.json" "$out/thread-on.json" \
    || { echo "source thread: the reports differ with and without it"; exit 1; }
echo "source thread: the same 16 mismatches, cycles $(sed -n 's/.*the next ones: //p' "$out/thread-on.txt" | tr -d '()a-z_' | awk '{ print $1 ".." $NF }'), with and without it"
# The transaction-level check (mpq-tb txn, latency free) catches the same mutant, and every
# failing test names an output element of a lane-2 channel (c % Lanes = 2; default: 8 lanes).
"$bin" txn --layer fc --seed 1000 --runs 6 -q --trace-dir "$out/txn" --trace-bin /nonexistent >"$out/txn.txt" 2>&1
rc=$?
[ $rc -eq 1 ] || { cat "$out/txn.txt"; echo "mpq-tb txn: exit $rc on lane2-tern-sign, want 1"; exit 1; }
chans=$(sed -n 's/^FAIL  [^:]*: cycle [0-9]*: output data differs on stream out, beat [0-9]* of layer [0-9]*: y\[m=[0-9]*\]\[c=\([0-9]*\)\].*/\1/p' "$out/txn.txt")
nfail=$(grep -c '^FAIL  ' "$out/txn.txt")
[ -n "$chans" ] && [ "$(wc -w <<<"$chans")" -eq "$nfail" ] || { cat "$out/txn.txt"; echo "mpq-tb txn: a failure names no output element"; exit 1; }
for c in $chans; do
    [ $((c % 8)) -eq 2 ] || { cat "$out/txn.txt"; echo "mpq-tb txn: channel $c is not in lane 2"; exit 1; }
done
echo "mpq-tb txn: lane2-tern-sign caught in $nfail of 6 tests, each naming a lane-2 channel ($(echo $chans | tr ' ' ','))"
