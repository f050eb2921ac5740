#!/usr/bin/env bash
# mpq-golden gen from the command line (issue 14, item 3): the estimate is printed before the
# run; a runaway shape is refused at once (nothing allocated, nothing written) unless
# --force; every option is checked against its range; long runs report progress; SIGTERM and
# SIGINT remove the temporary file and exit 143 / 130.
# Usage: cli-gen.sh MPQ_GOLDEN WORKDIR
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); dir=$2
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
fail=0
bad() { echo "FAIL: $*"; fail=1; }
ok() { echo "ok   $*"; }

# The issue's command: refused within seconds (timeout: a generator that accepts it runs for
# hours), naming the estimate, the limits and --force; with -q too.
for q in "" -q; do
    timeout 20 "$bin" gen $q -o o.vec --m 65535 --k 1024 --n 2000 >out 2>err
    rc=$?
    if [ $rc -ne 2 ] || ! grep -q "about 1.05 billion cycles (estimate) and up to 19.0 GB, above the limits of 200 million cycles and 4 GB; --force" err; then
        bad "gen $q --m 65535 --k 1024 --n 2000: exit $rc, want 2 and the estimate: $(cat out err)"
    elif [ -e o.vec ] || [ -e o.vec.tmp ]; then bad "the refused run left a file"
    else ok "refused: $(cat err)"; fi
done

# A normal run prints its estimate first (stderr), -q prints nothing.
"$bin" gen -o s.vec --m 64 --k 512 --n 32 --seed 3 >out 2>err || bad "gen s.vec failed: $(cat err)"
grep -qx "mpq-golden gen: s.vec: about 8344 cycles (estimate), at most 0.2 MB" err || bad "no estimate: $(cat err)"
grep -q "8344 cycles" out && ok "estimate: $(cat err)" || bad "summary: $(cat out)"
"$bin" gen -q -o s.vec --m 64 --k 512 --n 32 --seed 3 >out 2>err || bad "gen -q failed"
[ -s out ] || [ -s err ] && bad "-q printed: $(cat out err)"
# -q with --stats: the stats line alone (scripts/golden/gen-regress.sh reads it), as --help says.
"$bin" gen -q --stats -o s.vec --m 64 --k 512 --n 32 --seed 3 >out 2>err || bad "gen -q --stats failed"
[ "$(wc -l <out)" = 1 ] && grep -q '^stats: tiles=4 ' out && [ ! -s err ] || bad "-q --stats printed: $(cat out err)"
"$bin" gen --help | tr -s ' \n' ' ' | grep -q -- "-q print only failures and the summary (gen: only errors, and the --stats line when asked)" \
    && ok "gen -q --stats: the stats line alone, as --help says" || bad "gen --help does not say what -q --stats prints"

# Every refused value names the option and its range; exit 2, no file.
while IFS='|' read -r args want; do
    rm -f r.vec r.vec.tmp # (a case accepted by mistake must not fail the next ones)
    # shellcheck disable=SC2086
    "$bin" gen -o r.vec $args >out 2>err
    rc=$?
    if [ $rc -ne 2 ] || ! grep -qF -- "$want" err; then bad "gen $args: exit $rc, want 2 and '$want': $(cat err)"
    elif [ -e r.vec ] || [ -e r.vec.tmp ]; then bad "gen $args left a file"
    else ok "gen $args: $(cat err)"; fi
done <<'CASES'
--m 0|--m: `0` is not an integer in 1..65535
--m 65536|--m: `65536` is not an integer in 1..65535
--k 0|--k: `0` is not an integer in 1..KMax
--k 70000|--k: `70000` is not an integer in 1..KMax
--hp-n 100|--hp-n: `100` is not an integer in 0..HpPerGroup
--config ./|./: is a directory, not a file
--k 1025|--k: 1025 is not in 1..KMax = 1024 of
--n 0|--n: `0` is not an integer in 1..65535
--n -3|--n: `-3` is not an integer in 1..65535
--hp-n 2|--hp-n: 2 is not in 0..HpPerGroup = 1 of
--reset-cycles 0|--reset-cycles: `0` is not an integer in 1..1000000
--tail-cycles 1000001|--tail-cycles: `1000001` is not an integer in 0..1000000
--p-valid 0|--p-valid: `0` is not a probability in (0, 1]
--p-ready 1.5|--p-ready: `1.5` is not a probability in (0, 1]
CASES
# A convolution the accelerator cannot hold: the rule, said plainly, with the layer's numbers.
while IFS='|' read -r shape want; do
    "$bin" gen -o r.vec --shape "$shape" >out 2>err
    rc=$?
    if [ $rc -ne 2 ] || ! grep -qF -- "$want" err; then bad "gen --shape '$shape': exit $rc, want 2 and '$want': $(cat err)"
    else ok "gen --shape '$shape': $(sed 's/.*cfg tile: //' err)"; fi
done <<'CASES'
conv2d h=4 w=4000 c=64 o=8 k=3 p=1|tile 0: cfg tile: the window's input rows do not fit the activation ring: ((kh-1)*dy+1)*in_w*ceil(c_len/KLanes) = ((3-1)*1+1)*4000*ceil(64/16) = 48000 > ActDepth = 1024
conv2d h=4 w=40 c=640 o=8 k=5 p=1|tile 0: cfg tile: the weights do not fit the weight buffer: kh*kw*ceil(c_len/KLanes) = 5*5*ceil(640/16) = 1000 > KMax/KLanes = 1024/16 = 64
CASES

# A long run above the limits (rare valids: cheap per cycle, quick to start): refused, then
# forced; it reports progress; SIGTERM once it has written data removes the temporary file,
# exit 143.
long=(--m 4096 --k 1024 --n 64 --p-valid 0.005)
timeout 20 "$bin" gen -o f.vec "${long[@]}" >out 2>err
[ $? -eq 2 ] && grep -q "refused" err || bad "the long run is not refused without --force: $(cat err)"
"$bin" gen --force -o f.vec "${long[@]}" >out 2>err &
pid=$!
for _ in $(seq 300); do grep -q "cycles (.*%), .* written" err && [ -s f.vec.tmp ] && break; sleep 0.1; done
grep -q "above the limits: --force" err || bad "forced run: no estimate: $(cat err)"
grep -q "cycles (.*%), .* written, .* Mcycles/s" err && ok "progress: $(tail -n 1 err)" || bad "no progress line after 30 s: $(cat err)"
[ -s f.vec.tmp ] || bad "f.vec.tmp is empty or absent while writing"
stop_check() { # SIGNAL WANT_RC FILE: the writer of FILE stopped by SIGNAL exits WANT_RC, leaves nothing
    kill -"$1" $pid
    wait $pid 2>/dev/null # (no job-control notice)
    local rc=$?
    [ $rc -eq "$2" ] || bad "SIG$1: exit $rc, want $2"
    [ ! -e "$3.tmp" ] && [ ! -e "$3" ] && ok "SIG$1: exit $rc, $3.tmp removed, no $3" || bad "SIG$1 left $(ls "$3"*)"
}
stop_check TERM 143 f.vec

# A background job of a non-interactive shell starts with SIGINT ignored (POSIX), and a CI runner
# may itself have started this script with SIGINT ignored: env restores the default disposition,
# as a terminal's Ctrl-C would find it, so the writer's own handler is what gets tested.
env --default-signal=INT "$bin" gen --force -q -o i.vec "${long[@]}" >out 2>err &
pid=$!
for _ in $(seq 300); do [ -s i.vec.tmp ] && break; sleep 0.1; done
[ -s i.vec.tmp ] || bad "i.vec.tmp is empty or absent while writing"
stop_check INT 130 i.vec

# vecinfo --activity: the switching activity of s.vec's run (the energy model's data-dependent
# actions): every count named, the same bytes twice, and the subsets within their wholes.
"$bin" vecinfo -q --activity s.vec >a1 2>err && "$bin" vecinfo -q --activity s.vec >a2 2>>err ||
    bad "vecinfo --activity failed: $(cat err)"
want="cycles wgt_in act_in wbuf_wr ring_wr wbuf_rd ring_rd wbuf_ra ring_ra xr xr_hold tern_x mul_x acc row rq"
got=$(awk '$1 == "activity" { for (i = 2; i < NF; i += 2) printf "%s%s", (i > 2 ? " " : ""), $i }' a1)
if [ "$got" != "$want" ]; then bad "vecinfo --activity names $got, want $want"
elif ! cmp -s a1 a2; then bad "vecinfo --activity differs between two runs"
elif ! awk '$1 == "activity" { for (i = 2; i < NF; i += 2) v[$i] = $(i + 1) }
            END { exit !(v["cycles"] > 0 && v["xr_hold"] <= v["xr"] && v["mul_x"] > 0 && v["acc"] > 0) }' a1; then
    bad "vecinfo --activity: counts out of order: $(cat a1)"
else ok "vecinfo --activity:$(sed 's/^ *activity//' a1)"; fi

[ $fail -eq 0 ] && echo "cli-gen: all checks passed"
exit $fail
