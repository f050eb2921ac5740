#!/usr/bin/env bash
# explore-rtl.sh MPQ_GOLDEN MPQ_TB CONFIG [POINTS]: random (precision, mapping) points of the
# Fashion-MNIST CNN's MAC layers (`mpq-golden explore sample`, every band size; seed
# EXPLORE_SEED, printed, default the time), each distinct hardware layer of each run on the
# Verilated RTL of CONFIG in lockstep with the golden cycle model (`mpq-tb lockstep`: every
# output port compared every cycle; no stalls, beats offered early, no mid-layer reset), and
# the run's counts (tiles, steps, cycles, padding steps, waits for a slice, ring-full cycles,
# weight and activation beats) compared with the closed form's (docs/explore.md).
# EXPLORE_LINES=FILE runs the lines of FILE instead of a sample (make explore: front points).
set -u
gold=${1:?usage: explore-rtl.sh MPQ_GOLDEN MPQ_TB CONFIG [POINTS]}; tb=${2:?}; cfg=${3:?}; points=${4:-3}
seed=${EXPLORE_SEED:-$(date +%s)}
if [ -n "${EXPLORE_LINES:-}" ]; then
    echo "explore/rtl: the hardware layers of $EXPLORE_LINES on $cfg (lockstep seeds from $seed, EXPLORE_SEED)"
else
    echo "explore/rtl: seed $seed (EXPLORE_SEED=$seed reproduces), $points points per layer on $cfg"
fi
shapes=("conv2d h=28 w=28 c=1 o=16 k=3 p=1" "conv2d h=14 w=14 c=16 o=32 k=3 s=2 p=1"
        "conv2d b=4 h=7 w=7 c=32 o=64 k=3 s=2" "depthwise h=12 w=40 c=24 o=24 k=3 p=1")
fail=0 n=0 s=$seed
field() { sed -n "s/.*[ ,:]$1 \([0-9]*\).*/\1/p" <<<"$2"; }
run_line() { # one line of explore sample
    local line=$1 spec want hp args out st
    spec=$(cut -d'|' -f3 <<<"$line" | sed 's/^ *//; s/ *$//'); want=$(cut -d'|' -f4 <<<"$line")
    hp=$(sed -n 's/^point [0-9]* tern+\([0-9]*\)hp.*/\1/p' <<<"$line"); [ -n "$hp" ] || hp=16
    if [[ $spec == --m* ]]; then read -r -a args <<<"$spec"; else args=(--shape "$spec"); fi
    s=$((s + 1))
    out=$("$tb" lockstep "${args[@]}" --seed "$s" --p-valid 1 --p-ready 1 --offer early --mid-reset off \
          --hp-n "$hp" --stats 2>&1)
    st=$(grep '^stimulus of 1 passing runs' <<<"$out")
    [ -n "$st" ] || { echo "FAIL: lockstep $spec --seed $s: $(tail -n 3 <<<"$out")"; return 1; }
    local pairs=("tiles tiles" "steps steps" "padding steps:pad_steps" "waits for a slice:waits"
                 "activation ring full:ring_full" "weight beats:wgt_beats" "activation beats:act_beats")
    for p in "${pairs[@]}"; do
        local rtl_name=${p%%:*} cf_name=${p##*:} got exp
        [[ $p == *:* ]] || { rtl_name=${p% *}; cf_name=${p#* }; }
        got=$(sed -n "s/.*[,:] $rtl_name \([0-9]*\).*/\1/p" <<<"$st"); exp=$(field "$cf_name" "$want")
        [ "$got" = "$exp" ] || { echo "FAIL: $spec (seed $s): $rtl_name: RTL/lockstep $got, closed form $exp"; return 1; }
    done
    local cyc; cyc=$(sed -n 's/.*, cycles \([0-9]*\).*/\1/p' <<<"$st")
    [ "$cyc" = "$(( $(field cycles "$want") + 2 ))" ] || { echo "FAIL: $spec (seed $s): cycles $cyc, closed form $(field cycles "$want") + 2 tail"; return 1; }
    return 0
}
if [ -n "${EXPLORE_LINES:-}" ]; then
    # the lines of a file instead of a sample (mpq-explore-net's front-rtl.txt: the hardware
    # layers of chosen front points)
    [ -f "$EXPLORE_LINES" ] || { echo "explore/rtl: no file $EXPLORE_LINES" >&2; exit 2; }
    while IFS= read -r line; do
        [[ $line == point* ]] || continue
        n=$((n + 1)); run_line "$line" || fail=1
    done < "$EXPLORE_LINES"
else
    for sh in "${shapes[@]}"; do
        while IFS= read -r line; do
            [[ $line == point* ]] || continue
            n=$((n + 1)); run_line "$line" || fail=1
        done < <("$gold" explore sample --config "$cfg" --shape "$sh" --seed "$seed" --sample-every "$points")
    done
fi
[ $n -gt 0 ] || { echo "FAIL: no hardware layer sampled"; exit 1; }
[ $fail = 0 ] && echo "explore/rtl: $n hardware layers on the $cfg RTL (lockstep): counts == closed form"
exit $fail
