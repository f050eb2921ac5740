#!/usr/bin/env bash
# Regenerates the committed regression vectors: scripts/gen-regress.sh MPQ_GOLDEN OUTDIR
# One file per (configuration, edge case); every seed is fixed here, so the same generator
# gives the same bytes (the test vectors/fresh checks that the committed set is current).
# Each configuration's set must exercise every edge the list below names (the generator's
# --stats: the accumulator exactly at both bounds, both rounding ties in unclamped outputs,
# a row's last slice held back by output back-pressure, beats offered early and waiting, a
# reset with rows in flight); the script fails, naming the configuration and the edge, if not.
set -euo pipefail
gen=$1
out=$2
mkdir -p "$out"

# name | arguments. Shapes scale with the configuration: L = Lanes, G = KLanes, KMAX = KMax.
cases() {
    local L=$1 G=$2 KMAX=$3 HP=$4
    cat <<EOT
basic|--m 4 --k $((4 * G)) --n $L
k1|--m 3 --k 1 --n $L
kodd|--m 3 --k $((2 * G + 3)) --n $L
kmax|--m 2 --k $KMAX --n $L
m1|--m 1 --k $((3 * G)) --n $L
n-lt-lanes|--m 3 --k $((2 * G)) --n $((L > 1 ? L - 1 : 1))
n-odd|--m 2 --k $((2 * G + 1)) --n $((2 * L + 1))
zero-tern|--m 3 --k $((3 * G)) --n $L --profile zero-tern
max-sparse|--m 3 --k $((3 * G - 1)) --n $L --profile max-sparse
ovf-wrap|--m 4 --k $((4 * G)) --n $L --profile overflow --acc wrap
ovf-sat|--m 4 --k $((4 * G)) --n $L --profile overflow --acc sat
rq-edge|--m 6 --k $((2 * G + 5)) --n $((L + 1)) --profile requant-edge
acc-edge|--m 6 --k $((4 * G + 1)) --n $((L + 1)) --profile acc-edge --acc sat
acc-edge-wrap|--m 6 --k $((3 * G)) --n $L --profile acc-edge --acc wrap
extreme-wrap|--m 4 --k $((3 * G + 1)) --n $((L + 1)) --profile extreme --acc wrap
extreme-sat|--m 4 --k $((2 * G)) --n $L --profile extreme --acc sat
stall|--m 8 --k $((3 * G + 2)) --n $((L + 2)) --p-valid 0.5 --p-ready 0.3
row-per-step|--m 24 --k $G --n $((L + 1)) --p-ready 0.2
offer-late|--m 4 --k $((2 * G + 1)) --n $((2 * L)) --offer late --p-valid 0.7 --p-ready 0.7
mid-reset|--m 6 --k $((2 * G)) --n $((L + 1)) --reset-at 9 --p-ready 0.5
EOT
}

# The one reader of the configuration files.
cfgval() { "$gen" cfg "$1" --get "$2"; }
# The edges every configuration's set must reach (keys of gen --stats).
edges="acc_max acc_min srdhm_ties rdbpot_ties stall_last waits mid_resets"

n=0
for cfg in default tern mix2 small; do
    L=$(cfgval "$cfg" Lanes); G=$(cfgval "$cfg" KLanes); KMAX=$(cfgval "$cfg" KMax)
    HP=$(cfgval "$cfg" HpPerGroup)
    seed=100
    declare -A reached=()
    while IFS='|' read -r name args; do
        seed=$((seed + 1))
        # shellcheck disable=SC2086
        line=$("$gen" gen -q --stats --config "$cfg" $args --seed "$seed" -o "$out/$cfg-$name.vec")
        for kv in ${line#stats: }; do
            k=${kv%%=*} v=${kv#*=}
            [ "$v" -gt 0 ] && reached[$k]=1
        done
        n=$((n + 1))
    done < <(cases "$L" "$G" "$KMAX" "$HP")
    for e in $edges; do
        [ -n "${reached[$e]:-}" ] || { echo "gen-regress: the $cfg vectors never reach the edge '$e'" >&2; exit 1; }
    done
    unset reached
done
echo "gen-regress: $n vector files in $out ($(du -sk "$out" | cut -f1) KiB); every configuration reaches: $edges"
