#!/usr/bin/env bash
# explore-rtl.sh MPQ_GOLDEN MPQ_TB CONFIG [POINTS]: random (precision, mapping) points of the
# Fashion-MNIST CNN's MAC layers, a depthwise layer and a fully-connected one (`mpq-golden
# explore sample`, every band size; seed EXPLORE_SEED, printed, default the time), each distinct
# hardware layer of each run on the Verilated RTL of CONFIG in lockstep with the golden cycle
# model (`mpq-tb lockstep`: every output port compared every cycle; no stalls, beats offered
# early, no mid-layer reset, operands of the random profile: hp-n non-zero sparse entries per
# group, as the closed form's macs_hp counts them), and the run's counts (tiles, steps, cycles, padding steps, waits
# for a slice, ring-full cycles, weight and activation beats) compared with the closed form's
# (docs/explore.md).
# With a white-box MPQ_TB (build/vl/CONFIG/wb/mpq-tb) the RTL's access counters (dbg_counts_o:
# mpq-tb compares every one with the cycle model's and prints them) are compared with the
# closed form's too, each by name; EXPLORE_COUNTERS=1 requires them (a plain build then fails).
# EXPLORE_STALLS=1 runs each hardware layer a second time with back-pressure (--p-valid 0.6
# --p-ready 0.5, beats offered late): the counters that do not depend on time (all but
# tile_cycles) must still equal the closed form's, and mpq-tb checks all of them, tile_cycles
# too, against the cycle model.
# EXPLORE_LINES=FILE runs the lines of FILE instead of a sample (make explore: front points).
set -u
gold=${1:?usage: explore-rtl.sh MPQ_GOLDEN MPQ_TB CONFIG [POINTS]}; tb=${2:?}; cfg=${3:?}; points=${4:-3}
seed=${EXPLORE_SEED:-$(date +%s)}
need_counters=${EXPLORE_COUNTERS:-0}; stalls=${EXPLORE_STALLS:-0}
if [ -n "${EXPLORE_LINES:-}" ]; then
    echo "explore/rtl: the hardware layers of $EXPLORE_LINES on $cfg (lockstep seeds from $seed, EXPLORE_SEED)"
else
    echo "explore/rtl: seed $seed (EXPLORE_SEED=$seed reproduces), $points points per layer on $cfg"
fi
shapes=("conv2d h=28 w=28 c=1 o=16 k=3 p=1" "conv2d h=14 w=14 c=16 o=32 k=3 s=2 p=1"
        "conv2d b=4 h=7 w=7 c=32 o=64 k=3 s=2" "depthwise h=12 w=40 c=24 o=24 k=3 p=1" "fc 8,100,20")
fail=0 n=0 ncnt=0 nstall=0 s=$seed
field() { sed -n "s/.*[ ,:]$1 \([0-9]*\).*/\1/p" <<<"$2"; }
# counters NAME=VALUE of the closed form's line (want) against the RTL's (got); skip: a name
# not compared (tile_cycles under stalls). Prints the first difference.
compare_counters() {
    local want=$1 got=$2 skip=${3:-} kv name v g
    for kv in ${want#*counters }; do
        name=${kv%%=*} v=${kv#*=}
        [ "$name" = "$skip" ] && continue
        g=$(sed -n "s/.* $name=\([0-9]*\).*/\1/p" <<<" $got")
        [ "$g" = "$v" ] || { echo "$name: RTL $g, closed form $v"; return 1; }
    done
    return 0
}
# One lockstep run of the hardware layer; sets out and st (the stimulus summary line).
lockstep() {
    out=$("$tb" lockstep "$@" --mid-reset off --profile random --stats 2>&1)
    st=$(grep '^stimulus of 1 passing runs' <<<"$out")
}
run_line() { # one line of explore sample
    local line=$1 spec want hp args got why
    spec=$(cut -d'|' -f3 <<<"$line" | sed 's/^ *//; s/ *$//'); want=$(cut -d'|' -f4 <<<"$line")
    hp=$(sed -n 's/^point [0-9]* tern+\([0-9]*\)hp.*/\1/p' <<<"$line"); [ -n "$hp" ] || hp=16
    if [[ $spec == --m* ]]; then read -r -a args <<<"$spec"; else args=(--shape "$spec"); fi
    s=$((s + 1))
    lockstep "${args[@]}" --seed "$s" --p-valid 1 --p-ready 1 --offer early --hp-n "$hp"
    [ -n "$st" ] || { echo "FAIL: lockstep $spec --seed $s: $(tail -n 3 <<<"$out")"; return 1; }
    local pairs=("tiles tiles" "steps steps" "padding steps:pad_steps" "waits for a slice:waits"
                 "activation ring full:ring_full" "weight beats:wgt_beats" "activation beats:act_beats")
    for p in "${pairs[@]}"; do
        local rtl_name=${p%%:*} cf_name=${p##*:} exp
        [[ $p == *:* ]] || { rtl_name=${p% *}; cf_name=${p#* }; }
        got=$(sed -n "s/.*[,:] $rtl_name \([0-9]*\).*/\1/p" <<<"$st"); exp=$(field "$cf_name" "$want")
        [ "$got" = "$exp" ] || { echo "FAIL: $spec (seed $s): $rtl_name: RTL/lockstep $got, closed form $exp"; return 1; }
    done
    local cyc; cyc=$(sed -n 's/.*, cycles \([0-9]*\).*/\1/p' <<<"$st")
    [ "$cyc" = "$(( $(field cycles "$want") + 2 ))" ] || { echo "FAIL: $spec (seed $s): cycles $cyc, closed form $(field cycles "$want") + 2 tail"; return 1; }
    got=$(grep '^access counters of' <<<"$out")
    if [ -z "$got" ]; then
        [ "$need_counters" = 1 ] && { echo "FAIL: $spec (seed $s): no access counters (not a white-box build: $tb)"; return 1; }
        return 0
    fi
    [[ $want == *counters* ]] || { echo "FAIL: $spec: the closed form's line has no counters"; return 1; }
    why=$(compare_counters "$want" "$got") || { echo "FAIL: $spec (seed $s): access counter $why"; return 1; }
    ncnt=$((ncnt + 1))
    [ "$stalls" = 1 ] || return 0
    # the same layer with back-pressure on every stream: the access counts do not change
    lockstep "${args[@]}" --seed "$s" --p-valid 0.6 --p-ready 0.5 --offer late --hp-n "$hp"
    got=$(grep '^access counters of' <<<"$out")
    [ -n "$st" ] && [ -n "$got" ] || { echo "FAIL: lockstep (stalls) $spec --seed $s: $(tail -n 3 <<<"$out")"; return 1; }
    why=$(compare_counters "$want" "$got" tile_cycles) || { echo "FAIL: $spec (seed $s, stalls): access counter $why"; return 1; }
    nstall=$((nstall + 1))
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
        if [[ $sh == fc* ]]; then sarg=(--fc "${sh#fc }"); else sarg=(--shape "$sh"); fi
        while IFS= read -r line; do
            [[ $line == point* ]] || continue
            n=$((n + 1)); run_line "$line" || fail=1
        done < <("$gold" explore sample --config "$cfg" "${sarg[@]}" --seed "$seed" --sample-every "$points")
    done
fi
[ $n -gt 0 ] || { echo "FAIL: no hardware layer sampled"; exit 1; }
if [ $fail = 0 ]; then
    echo "explore/rtl: $n hardware layers on the $cfg RTL (lockstep): counts == closed form"
    [ $ncnt -gt 0 ] && echo "explore/rtl: $ncnt of them with the RTL's access counters == cycle model ==" \
        "closed form (every counter)"
    [ $nstall -gt 0 ] && echo "explore/rtl: $nstall again with stalls: counters == cycle model, every one" \
        "but tile_cycles == closed form"
fi
exit $fail
