#!/usr/bin/env bash
# bench.sh OUTDIR: the measurements of `make bench`. Prints a table and writes OUTDIR/../bench.json
# (build/bench.json). Inputs from make: GOLDEN_BIN, TB_OBJS, GOLDEN_LIB, VERILATOR, CXX, and the
# JSON files of bench-golden and bench-vec in OUTDIR. BENCH_QUICK=1 shrinks every run (a smoke
# test of this script, not a measurement).
set -euo pipefail
out=${1:?usage: scripts/bench.sh OUTDIR}
: "${GOLDEN_BIN:?set by make}" "${TB_OBJS:?}" "${GOLDEN_LIB:?}"
quick=${BENCH_QUICK:-0}
mkdir -p "$out"
json="$out/cosim.json"
tb_default=build/vl/default/plain/mpq-tb
[ -n "${TB_DEFAULT:-}" ] && tb_default=$TB_DEFAULT
cfgval() { awk -F= -v k="$2" '{ sub(/#.*/, ""); gsub(/[ \t]/, "") } $1 == k { print $2 }' "rtl/cfg/$1.cfg"; }

# rate LINE: the Mcycles/s field of a PASS or BARE line.
rate() { sed -n 's/.* \([0-9.]*\) Mcycles\/s.*/\1/p' | head -n 1; }
cycles_of() { sed -n 's/^PASS  [^ ]* *\([0-9]*\) cycles.*/\1/p' | head -n 1; }
best() { sort -g | tail -n 1; }

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores, $(uname -sr)"
echo "== $(${VERILATOR:-verilator} --version), $(${CXX:-c++} --version | head -n 1)"

# --- 1. Co-simulation throughput: bare loop, replay, lockstep --------------------------------
if [ "$quick" = 1 ]; then shape=(--m 64 --k 256 --n 16); reps=1; else shape=(--m 1024 --k 1024 --n 128); reps=5; fi
L=$(cfgval default Lanes); G=$(cfgval default KLanes)
vec="$out/cosim-default.vec"
"$GOLDEN_BIN" gen -q --config default "${shape[@]}" --hp-n 1 --p-valid 0.9 --p-ready 0.9 --seed 1 -o "$vec"
m=${shape[1]} k=${shape[3]} n=${shape[5]}
macs=$((m * k * n))
ncyc=$("$tb_default" replay "$vec" --bare 1 | sed -n 's/.* \([0-9]*\) cycles.*/\1/p')
lock_cycles=$("$tb_default" lockstep --seed 1 "${shape[@]}" --hp-n 1 --p-valid 0.9 --p-ready 0.9 | cycles_of)
# The three modes interleaved, best of $reps each: a shared machine's load drifts between runs.
# Rates in simulated cycles per CPU-second of the testbench process (MPQ_TB_CPU_TIME): time
# stolen by other tenants of a shared host is not counted.
export MPQ_TB_CPU_TIME=1
: >"$out/rates.txt"
for i in $(seq "$reps"); do
    echo "bare $("$tb_default" replay "$vec" --bare 1 | rate)" >>"$out/rates.txt"
    echo "replay $("$tb_default" replay "$vec" --config rtl/cfg/default.cfg | rate)" >>"$out/rates.txt"
    echo "lock $("$tb_default" lockstep --seed 1 "${shape[@]}" --hp-n 1 --p-valid 0.9 --p-ready 0.9 | rate)" >>"$out/rates.txt"
done
bare=$(awk '$1 == "bare" { print $2 }' "$out/rates.txt" | best)
replay=$(awk '$1 == "replay" { print $2 }' "$out/rates.txt" | best)
lock=$(awk '$1 == "lock" { print $2 }' "$out/rates.txt" | best)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
gmac() { awk -v r="$1" -v mc="$2" -v c="$3" 'BEGIN { printf "%.3f", r * 1e6 * mc / c / 1e9 }'; }
echo
echo "== 1. co-simulation, default configuration, layer m=$m k=$k n=$n hp-n=1, p-valid 0.9 p-ready 0.9"
printf '%-44s %12s %14s %8s\n' "mode" "Mcycles/CPU-s" "sim. GMAC/s" "vs bare"
printf '%-44s %12s %14s %8s\n' "(a) bare Verilator loop, nothing checked" "$bare" "$(gmac "$bare" $macs "$ncyc")" "1.000"
printf '%-44s %12s %14s %8s\n' "(b) replay, every port every cycle" "$replay" "$(gmac "$replay" $macs "$ncyc")" "$(ratio "$replay" "$bare")"
printf '%-44s %12s %14s %8s\n' "(c) lockstep, golden cycle model in process" "$lock" "$(gmac "$lock" $macs "$lock_cycles")" "$(ratio "$lock" "$bare")"
echo "   ($ncyc cycles in the file, $lock_cycles in the lockstep run; best of $reps)"

unset MPQ_TB_CPU_TIME

# --- 2. cocotb on the same RTL and the same kind of file (wall time for both) ----------------
cocotb_rate=""; cocotb_note=""
small_vec="$out/cosim-cocotb.vec"
if [ "$quick" = 1 ]; then cshape=(--m 8 --k 64 --n 8); else cshape=(--m 64 --k 512 --n 32); fi
"$GOLDEN_BIN" gen -q --config default "${cshape[@]}" --hp-n 1 --p-valid 0.9 --p-ready 0.9 --seed 2 -o "$small_vec"
ours_small=$(for i in 1 2 3 4 5; do "$tb_default" replay "$small_vec" | rate; done | best)
venv="$PWD/$out/venv"
if [ "${BENCH_NO_COCOTB:-0}" = 1 ]; then
    cocotb_note="skipped: BENCH_NO_COCOTB=1"
elif ! { [ -x "$venv/bin/cocotb-config" ] || { python3 -m venv "$venv" >"$out/venv.log" 2>&1 &&
        "$venv/bin/pip" install -q "cocotb>=1.8,<2" >>"$out/venv.log" 2>&1; }; }; then
    cocotb_note="skipped: cocotb could not be installed into $venv (see $out/venv.log)"
else
    rm -rf "$out/cocotb" && mkdir -p "$out/cocotb"
    gflags=$(awk '{ sub(/#.*/, ""); if (split($0, kv, "=") == 2) { gsub(/[ \t]/, "", kv[1]);
      gsub(/[ \t]/, "", kv[2]); if (kv[1] != "") printf "-G%s=%s ", kv[1], kv[2] } }' rtl/cfg/default.cfg)
    if PATH="$venv/bin:$PATH" make -C tb/cocotb SIM_BUILD="$PWD/$out/cocotb/sim_build" \
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
echo "== 5. accelerator efficiency (no stalls) and simulation cost versus work"
printf '%-8s %-22s %10s %10s %8s %10s %12s\n' config shape cycles ideal util seconds "ns/MAC"
scal_json=""
scale_run() {
    local cfg=$1 mm=$2 kk=$3 nn=$4
    local bin=build/vl/$cfg/plain/mpq-tb
    local l g line cyc secs ideal
    l=$(cfgval "$cfg" Lanes); g=$(cfgval "$cfg" KLanes)
    line=$(MPQ_TB_CPU_TIME=1 "$bin" lockstep --seed 3 --m "$mm" --k "$kk" --n "$nn" --p-valid 1 --p-ready 1 --profile random)
    cyc=$(echo "$line" | cycles_of)
    r=$(echo "$line" | rate)
    secs=$(awk -v c="$cyc" -v r="$r" 'BEGIN { printf "%.4f", c / r / 1e6 }')
    ideal=$(( mm * ((kk + g - 1) / g) * ((nn + l - 1) / l) ))
    util=$(awk -v i="$ideal" -v c="$cyc" 'BEGIN { printf "%.3f", i / c }')
    nsmac=$(awk -v s="$secs" -v mc=$((mm * kk * nn)) 'BEGIN { printf "%.3f", s * 1e9 / mc }')
    printf '%-8s %-22s %10s %10s %8s %10s %12s\n' "$cfg" "m=$mm k=$kk n=$nn" "$cyc" "$ideal" "$util" "$secs" "$nsmac"
    scal_json+="${scal_json:+, }{\"config\": \"$cfg\", \"lanes\": $l, \"klanes\": $g, \"m\": $mm, \"k\": $kk, \"n\": $nn, \"cycles\": $cyc, \"ideal\": $ideal, \"utilization\": $util, \"seconds\": $secs, \"ns_per_mac\": $nsmac}"
}
if [ "$quick" = 1 ]; then
    scale_run default 8 256 8
else
    for kk in 64 256 1024; do scale_run default 256 "$kk" 8; done
    for mm in 16 256 2048; do scale_run default "$mm" 256 8; done
    for cfg in small default wide; do
        [ -x "build/vl/$cfg/plain/mpq-tb" ] || continue
        kmax=$(cfgval "$cfg" KMax); kk=$(( kmax < 256 ? kmax : 256 ))
        scale_run "$cfg" 256 "$kk" 48
    done
fi

# --- 6. Build time ----------------------------------------------------------------------------
echo
echo "== 6. build time of the default model (Verilator + C++ + link, 2 jobs)"
bt() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f", e - s }'; }
export TB_OBJS GOLDEN_LIB
clean_s=$(bt tb/build-model.sh default plain "$out/build-clean" rtl)
ccache_cold=null; ccache_warm=null
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
rm -rf "$out/build-clean" "$out/build-ccache"

cat >"$json.tmp" <<EOF
{
  "machine": "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores",
  "verilator": "$(${VERILATOR:-verilator} --version)",
  "quick": $quick,
  "cosim": {"config": "default", "m": $m, "k": $k, "n": $n, "cycles": $ncyc, "lockstep_cycles": $lock_cycles,
            "bare_mcycles_s": $bare, "replay_mcycles_s": $replay, "lockstep_mcycles_s": $lock,
            "replay_over_bare": $(ratio "$replay" "$bare"), "lockstep_over_bare": $(ratio "$lock" "$bare"),
            "bare_gmac_s": $(gmac "$bare" $macs "$ncyc"), "replay_gmac_s": $(gmac "$replay" $macs "$ncyc"),
            "lockstep_gmac_s": $(gmac "$lock" $macs "$lock_cycles")},
  "cocotb": {"mcycles_s": ${cocotb_rate:-null}, "ours_mcycles_s": $ours_small, "speedup": $speedup,
             "note": "${cocotb_note}"},
  "scaling": [$scal_json],
  "build_seconds": {"clean": $clean_s, "ccache_cold": $ccache_cold, "ccache_warm": $ccache_warm}
}
EOF
mv -f "$json.tmp" "$json"
