#!/usr/bin/env bash
# shim-old.sh OUTDIR [COMMIT...]: the generated DUT shim against the hand-written one it
# replaced (issue 27 item 5). Each COMMIT (default: 5e485f0^, the last with tb/mpq_dut.cpp, and
# 5e485f0, the commit that generated the shim from rtl/mpq_top.dut and changed nothing else
# on the plain build's per-cycle path) is unpacked with `git archive` into OUTDIR/<commit>/src
# and its own make builds its default model there (.../src/build/vl/default/plain/mpq-tb);
# the tree's own binary ($TB_VL/default/plain/mpq-tb) runs beside them. Then, on one stimulus
# (this tree's mpq-golden gen, the lockstep arguments that drive the same cycles), every binary:
# instructions per simulated cycle (callgrind, per-cycle loop only: bare_pass / run_test) of
# the bare loop, replay and lockstep, with and without the source thread; and wall clock in
# interleaved rounds. Table on stdout, OUTDIR/shim.json. Not part of `make bench` (two full
# builds of old trees); `make bench-shim` runs it, docs/bench.md records its result.
set -euo pipefail
trap 'echo "shim-old.sh: line $LINENO failed (exit $?): $BASH_COMMAND" >&2' ERR
out=${1:?usage: scripts/bench/shim-old.sh OUTDIR [COMMIT...]}
shift
commits=("$@")
[ ${#commits[@]} -gt 0 ] || commits=(5e485f0^ 5e485f0)
: "${GOLDEN_BIN:?set by make}" "${TB_VL:?set by make}"
reps=${BENCH_SHIM_ROUNDS:-5}
mkdir -p "$out"
top=$PWD

# The binaries: label -> program.
labels=() bins=() ids=()
for c in "${commits[@]}"; do
    id=$(git rev-parse --short=7 "$c^{commit}")
    dir=$out/$id
    bin=$dir/src/build/vl/default/plain/mpq-tb
    if [ ! -x "$bin" ]; then
        rm -rf "$dir" && mkdir -p "$dir/src"
        git archive "$id" | tar -x -C "$dir/src"
        echo "shim-old.sh: building $c ($id) in $dir/src (log: $dir/build.log)" >&2
        nice make -C "$dir/src" -j"${BENCH_SHIM_JOBS:-1}" build/vl/default/plain/mpq-tb >"$dir/build.log" 2>&1 ||
            { tail -n 20 "$dir/build.log" >&2; exit 1; }
    fi
    shim=generated
    git cat-file -e "$id:tb/mpq_dut.cpp" 2>/dev/null && shim=hand-written
    labels+=("$c"); bins+=("$bin"); ids+=("$id $shim")
done
labels+=("this tree"); bins+=("$TB_VL/default/plain/mpq-tb"); ids+=("$(git rev-parse --short=7 HEAD) generated")

# The stimulus of bench.sh's section 1b (instructions) and a longer one (wall clock).
layer=(--hp-n 1 --p-valid 0.9 --p-ready 0.9 --seed 1 --profile random --acc wrap)
# The lockstep arguments that drive the file's cycles (gen offers early, makes no mid-layer reset).
lockx=(--offer early --mid-reset off)
ishape=(--m 64 --k 1024 --n 16)
wshape=(--m 256 --k 1024 --n 64)
[ "${BENCH_QUICK:-0}" = 1 ] && { ishape=(--m 4 --k 256 --n 8); wshape=(--m 16 --k 256 --n 8); reps=1; }
"$GOLDEN_BIN" gen -q --config default "${ishape[@]}" "${layer[@]}" -o "$out/ir.vec" >/dev/null
"$GOLDEN_BIN" gen -q --config default "${wshape[@]}" "${layer[@]}" -o "$out/wall.vec" >/dev/null
cyc_of() { "$1" replay "$2" --bare 1 | sed -n 's/.* \([0-9]*\) cycles.*/\1/p' | head -n 1; }
icyc=$(cyc_of "${bins[-1]}" "$out/ir.vec")

# ir FUNCTION CMD...: instructions executed inside FUNCTION while CMD runs.
ir() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect="$1" "${@:2}" 2>&1 >/dev/null |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | head -n 1
}
per() { awk -v i="$1" -v c="$icyc" 'BEGIN { printf "%.1f", i / c }'; }
modes=(bare replay lockstep replay1 lockstep1)
declare -A irpc
for b in "${!bins[@]}"; do
    tb=${bins[$b]}
    lc=$("$tb" lockstep "${lockx[@]}" "${ishape[@]}" "${layer[@]}" | sed -n 's/^PASS  [^ ]* *\([0-9]*\) cycles.*/\1/p')
    [ "$lc" = "$icyc" ] || { echo "shim-old.sh: ${labels[$b]}: lockstep ran $lc cycles, the file has $icyc" >&2; exit 1; }
    irpc[$b,bare]=$(per "$(ir bare_pass "$tb" replay "$out/ir.vec" --bare 1)")
    irpc[$b,replay]=$(per "$(ir 'run_test*' "$tb" replay "$out/ir.vec" --source-thread on)")
    irpc[$b,lockstep]=$(per "$(ir 'run_test*' "$tb" lockstep "${lockx[@]}" "${ishape[@]}" "${layer[@]}" --source-thread on)")
    irpc[$b,replay1]=$(per "$(ir 'run_test*' "$tb" replay "$out/ir.vec" --source-thread off)")
    irpc[$b,lockstep1]=$(per "$(ir 'run_test*' "$tb" lockstep "${lockx[@]}" "${ishape[@]}" "${layer[@]}" --source-thread off)")
done

# Wall clock (CPU-seconds of the process, one thread): every binary and mode once per round.
rates=$out/rates.txt
: >"$rates"
rate() { sed -n 's/.* \([0-9.]*\) Mcycles\/s.*/\1/p' | head -n 1; }
for i in $(seq "$reps"); do
    for b in "${!bins[@]}"; do
        tb=${bins[$b]}
        echo "$i $b bare $(MPQ_TB_CPU_TIME=1 "$tb" replay "$out/wall.vec" --bare 1 | rate)" >>"$rates"
        echo "$i $b replay1 $(MPQ_TB_CPU_TIME=1 "$tb" replay "$out/wall.vec" --source-thread off | rate)" >>"$rates"
        echo "$i $b lockstep1 $(MPQ_TB_CPU_TIME=1 "$tb" lockstep "${lockx[@]}" "${wshape[@]}" "${layer[@]}" --source-thread off | rate)" >>"$rates"
    done
done
# med B MODE: the median rate over the rounds.
med() { awk -v b="$1" -v m="$2" '$2 == b && $3 == m { print $4 }' "$rates" | sort -g |
        awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# ratio_med B MODE: median over the rounds of B's rate over the first binary's.
ratio_med() { awk -v b="$1" -v m="$2" '$3 == m && $2 == 0 { a[$1] = $4 } $3 == m && $2 == b { r[$1] = $4 }
        END { n = 0; for (i in r) v[++n] = r[i] / a[i]
              for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
              printf "%.3f", n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }' "$rates"; }

echo "== DUT shim: hand-written against generated (default configuration, m=${ishape[1]} k=${ishape[3]} n=${ishape[5]}, $icyc cycles)"
echo "   instructions per simulated cycle on the model's thread (callgrind, per-cycle loop only)"
printf '%-26s %-24s' "mode" ""; for b in "${!bins[@]}"; do printf ' %16s' "${labels[$b]}"; done; echo
printf '%-26s %-24s' "" ""; for b in "${!bins[@]}"; do printf ' %16s' "${ids[$b]% *}"; done; echo
printf '%-26s %-24s' "" ""; for b in "${!bins[@]}"; do printf ' %16s' "${ids[$b]#* }"; done; echo
for m in "${modes[@]}"; do
    printf '%-26s %-24s' "$m" "instr/cycle"; for b in "${!bins[@]}"; do printf ' %16s' "${irpc[$b,$m]}"; done; echo
done
echo "   wall clock, one thread, CPU-seconds (m=${wshape[1]} k=${wshape[3]} n=${wshape[5]}), median of $reps interleaved rounds; vs the first"
for m in bare replay1 lockstep1; do
    printf '%-26s %-24s' "$m" "Mcycles/s (vs first)"
    for b in "${!bins[@]}"; do printf ' %16s' "$(med "$b" "$m") ($(ratio_med "$b" "$m"))"; done; echo
done

{
    echo "{"
    echo "  \"date\": \"$(date -u +%Y-%m-%dT%H:%MZ)\", \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\","
    echo "  \"machine\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores\","
    echo "  \"cycles\": $icyc, \"rounds\": $reps, \"clock\": \"process CPU time\","
    echo "  \"builds\": ["
    for b in "${!bins[@]}"; do
        sep=,; [ "$b" = $((${#bins[@]} - 1)) ] && sep=
        echo "    {\"label\": \"${labels[$b]}\", \"commit\": \"${ids[$b]% *}\", \"shim\": \"${ids[$b]#* }\","
        echo "     \"instructions_per_cycle\": {$(for m in "${modes[@]}"; do printf '"%s": %s, ' "$m" "${irpc[$b,$m]}"; done | sed 's/, $//')},"
        echo "     \"cpu_mcycles_s\": {$(for m in bare replay1 lockstep1; do printf '"%s": %s, ' "$m" "$(med "$b" "$m")"; done | sed 's/, $//')},"
        echo "     \"cpu_ratio_vs_first\": {$(for m in bare replay1 lockstep1; do printf '"%s": %s, ' "$m" "$(ratio_med "$b" "$m")"; done | sed 's/, $//')}}$sep"
    done
    echo "  ]"
    echo "}"
} >"$out/shim.json.tmp"
mv -f "$out/shim.json.tmp" "$out/shim.json"
echo "shim: $out/shim.json"
