#!/usr/bin/env bash
# Regenerates the committed regression vectors: scripts/golden/gen-regress.sh MPQ_GOLDEN OUTDIR
# One file per (configuration, edge case): fully-connected layers, then convolutions (padding
# on every edge, stride 2, dilation 2, 1x1, kernel equal to the input, channel counts that are
# not multiples of KLanes, depthwise, grouped, several images, rows as wide as the activation
# ring, back-pressure, a reset mid-layer). Every seed is fixed here, so the same generator
# gives the same bytes (the test vectors/fresh checks that the committed set is current).
# Each configuration's set must exercise every edge the list below names (the generator's
# --stats: the accumulator exactly at both bounds, both rounding ties in unclamped outputs,
# a row's last slice held back by output back-pressure, beats offered early and waiting, a
# reset with rows in flight, padding taps, the window waiting for its slice, the activation
# ring full), and every pattern of the result pipeline (which of rq1, rq2 and out hold a row,
# whether out_ready_i takes one, whether a finished row waits to enter rq1: 32 patterns), each
# also followed by two cycles that take the output (where a stall that should not have been
# shows as a late row); the cases pipe-* reach them. The script fails, naming the
# configuration and the edge or pattern, if not.
set -euo pipefail
gen=$1
out=$2
mkdir -p "$out"

# name | arguments. Shapes scale with the configuration: L = Lanes, G = KLanes, KMAX = KMax.
# Convolutions: C3 channels (not a multiple of KLanes) where a 3x3 kernel of them fits the
# weight buffer (KMax/KLanes >= 18 slices), else KLanes-1; RW the widest rows of KLanes
# channels a 3-row window keeps in the ring (ActDepth/3 slices), less one.
cases() {
    local L=$1 G=$2 KMAX=$3 HP=$4 AD=$5
    local KS=$((KMAX / G)) C3 RW
    C3=$((KS >= 18 ? G + 3 : G - 1)); RW=$((AD / 3 - 1))
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
conv-pad|--shape 'conv2d h=5 w=6 c=$C3 o=$((L + 1)) k=3 p=1'
conv-pad-far|--shape 'conv2d h=6 w=7 c=$G o=$L k=2x3 p=0x1 oh=6 ow=7'
conv-stride2|--shape 'conv2d h=9 w=8 c=$C3 o=$L k=3 s=2 p=1'
conv-stride-x|--shape 'conv2d h=5 w=9 c=$((G - 1)) o=$L k=3 s=1x3 p=1'
conv-dil2|--shape 'conv2d h=8 w=9 c=$((G - 1)) o=$L k=3 d=2 p=2'
conv-dil-y|--shape 'conv2d h=9 w=6 c=$((G + 1 < 2 * G ? G + 1 : G)) o=$L k=2 d=3x1 p=0'
conv-1x1|--shape 'conv2d h=4 w=5 c=$((2 * G + 1)) o=$((2 * L + 1)) k=1'
conv-kernel-eq-input|--shape 'conv2d h=3 w=4 c=$((G - 1)) o=$L k=3x4'
conv-depthwise|--shape 'depthwise h=6 w=5 c=$((G >= L + 2 ? L + 2 : L)) o=$((G >= L + 2 ? 2 * L + 4 : 2 * L)) k=3 p=1'
conv-grouped|--shape 'conv2d h=5 w=5 c=$G o=$((2 * L)) g=2 k=3 p=1'
conv-batches|--shape 'conv2d b=3 h=4 w=4 c=$C3 o=$L k=3 p=1'
conv-ring|--shape 'conv2d h=4 w=$RW c=$G o=$L k=3 p=1'
conv-stall|--shape 'conv2d h=6 w=6 c=$C3 o=$((L + 2)) k=3 p=1' --p-valid 0.5 --p-ready 0.3
conv-offer-late|--shape 'conv2d h=5 w=5 c=$C3 o=$((L + 1)) k=3 s=2 p=1' --offer late --p-valid 0.7
conv-mid-reset|--shape 'conv2d h=5 w=5 c=$C3 o=$((L + 1)) k=3 p=1' --reset-at 40 --p-ready 0.5
conv-acc-edge|--shape 'conv2d h=4 w=4 c=$C3 o=$((L + 1)) k=3 p=1' --profile acc-edge --acc sat
conv-extreme|--shape 'conv2d h=4 w=5 c=$C3 o=$L k=3 p=1' --profile extreme --acc wrap
conv-rq-edge|--shape 'depthwise h=5 w=5 c=$L o=$L k=3 p=1' --profile requant-edge
pipe-burst|--m 60 --k $G --n $L --p-ready 0.8 --p-valid 0.5
pipe-gap|--m 40 --k $((2 * G)) --n $L --p-ready 0.5 --p-valid 0.5
EOT
}

# The one reader of the configuration files.
cfgval() { "$gen" cfg "$1" --get "$2"; }
# The edges every configuration's set must reach (keys of gen --stats).
edges="acc_max acc_min srdhm_ties rdbpot_ties stall_last waits mid_resets pad_steps data_waits ring_full"

n=0
for cfg in default tern mix2 small; do
    L=$(cfgval "$cfg" Lanes); G=$(cfgval "$cfg" KLanes); KMAX=$(cfgval "$cfg" KMax)
    HP=$(cfgval "$cfg" HpPerGroup); AD=$(cfgval "$cfg" ActDepth)
    seed=100
    declare -A reached=()
    pipe=0 drain=0
    while IFS='|' read -r name args; do
        seed=$((seed + 1))
        # The arguments as the shell reads them (a --shape is one quoted argument).
        eval "set -- $args"
        line=$("$gen" gen -q --stats --config "$cfg" "$@" --seed "$seed" -o "$out/$cfg-$name.vec")
        for kv in ${line#stats: }; do
            k=${kv%%=*} v=${kv#*=}
            if [ "$k" = pipe_seen ]; then pipe=$((pipe | v)); continue; fi
            if [ "$k" = pipe_drain ]; then drain=$((drain | v)); continue; fi
            [ "$v" -gt 0 ] && reached[$k]=1
        done
        n=$((n + 1))
    done < <(cases "$L" "$G" "$KMAX" "$HP" "$AD")
    for e in $edges; do
        [ -n "${reached[$e]:-}" ] || { echo "gen-regress: the $cfg vectors never reach the edge '$e'" >&2; exit 1; }
    done
    for p in $(seq 0 31); do
        what="pipeline pattern $p (rq1 $((p & 1)), rq2 $((p >> 1 & 1)), out $((p >> 2 & 1)), out_ready_i $((p >> 3 & 1)), a row waiting $((p >> 4 & 1)))"
        [ $((pipe >> p & 1)) = 1 ] || { echo "gen-regress: the $cfg vectors never reach the $what" >&2; exit 1; }
        [ $((drain >> p & 1)) = 1 ] || { echo "gen-regress: the $cfg vectors never reach the $what followed by two cycles that take the output" >&2; exit 1; }
    done
    unset reached
done
echo "gen-regress: $n vector files in $out ($(du -sk "$out" | cut -f1) KiB); every configuration reaches: $edges, and all 32 pipeline patterns, each also drained"
