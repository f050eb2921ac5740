#!/usr/bin/env bash
# explore-energy.sh MPQ_TB MPQ_GOLDEN CONFIG MODELS_DIR OUT: the energy-per-action table of
# CONFIG fitted on real models' layers at gate level, and validated on whole layers of other
# models (make explore-energy; docs/explore.md "The energy-per-action table").
#  1. Workloads (mpq-tb net --vec-dir, every MAC layer part as the RTL ran it, every port
#     compared every cycle, each file the whole part): each model of EXPLORE_ENERGY_FIT at each
#     precision of EXPLORE_ENERGY_FIT_PRECISIONS; each model of EXPLORE_ENERGY_HOLD at each
#     precision of EXPLORE_ENERGY_HOLD_PRECISIONS. A model is NAME or NAME@OPS (mpq-tb net
#     --ops: only those operators on the RTL and in the workload, to bound the gate-level time),
#     and a held-out one NAME[@OPS]=PRECISION runs at that precision only (a search's front
#     point: one SPEC per MAC layer, comma-separated). A model may be fitted on some operators
#     and held out on others (both NAME@OPS; a fitted workload's name begins `fit_`), never
#     the same operator in both. With EXPLORE_ENERGY_FIT empty, nothing is
#     fitted: the held-out layers are predicted with EXPLORE_ENERGY_TABLE's block of CONFIG (the
#     table mpq-golden explore search costs points with).
#  2. scripts/ppa/ppa.sh CONFIG OUT/ppa on all of them: synthesis, the gate-level model, each
#     part replayed whole, its measured per-net activity.
#  3. scripts/models/energy_fit.py: per part and unit the gate-level energy, the closed-form
#     counts of the same part (mpq-golden explore model --list) and its switching activity
#     (mpq-golden vecinfo --activity, checked against the gate-level nets), the fit on the first
#     set (a table of the counts, and one of the counts and the activity), the prediction of
#     every layer of the second: OUT/energy.tsv, OUT/energy-activity.tsv, OUT/energy.md,
#     OUT/fit.json.
# Precisions: int8 (the model's weights) or an mpq-tb net --decomp SPEC (ternary,
# channels-N:KLanes). Environment as for ppa.sh (make's PPA_ENV). Exit 0, 1 a step failed,
# 2 usage or a model the configuration cannot hold.
set -euo pipefail
tb=${1:?usage: explore-energy.sh MPQ_TB MPQ_GOLDEN CONFIG MODELS_DIR OUT}; gold=${2:?}; cfg=${3:?}
models=${4:?}; out=${5:?}
fit=${EXPLORE_ENERGY_FIT:-}; hold=${EXPLORE_ENERGY_HOLD:?}
fitp=${EXPLORE_ENERGY_FIT_PRECISIONS:-}; holdp=${EXPLORE_ENERGY_HOLD_PRECISIONS:-}
table=()
if [ -z "$fit" ]; then
    [ -f "${EXPLORE_ENERGY_TABLE:-}" ] ||
        { echo "explore-energy: nothing to fit: EXPLORE_ENERGY_TABLE must name a table ('${EXPLORE_ENERGY_TABLE:-}')" >&2; exit 2; }
    table=(--table "$EXPLORE_ENERGY_TABLE")
fi
[ -f "rtl/cfg/$cfg.cfg" ] || { echo "explore-energy: no configuration rtl/cfg/$cfg.cfg" >&2; exit 2; }
for m in $fit $hold; do
    m=${m%%=*}
    [ -f "$models/${m%%@*}.tflite" ] || { echo "explore-energy: no model $models/${m%%@*}.tflite" >&2; exit 2; }
done
# An operator is fitted or held out, never both (a model may be both, on other operators).
for h in $hold; do
    h=${h%%=*}
    for f in $fit; do
        [ "${f%%@*}" = "${h%%@*}" ] || continue
        if [ "$f" = "${f%%@*}" ] || [ "$h" = "${h%%@*}" ]; then
            echo "explore-energy: ${h%%@*} is both fitted and held out (name its operators: NAME@OPS)" >&2; exit 2
        fi
        for o in $(tr , ' ' <<<"${h#*@}"); do
            case ",${f#*@}," in *",$o,"*) echo "explore-energy: ${h%%@*} op $o is both fitted and held out" >&2; exit 2 ;; esac
        done
    done
done
mkdir -p "$out/vectors"
nets=() roles=()
# workload ROLE MODEL[@OPS] PRECISION: one model's parts at one precision, whole.
workload() {
    local role=$1 m=${2%%@*} p=$3 name dir opt=()
    [ "$2" = "$m" ] || opt=(--ops "${2#*@}")
    [ "$p" = int8 ] || opt+=(--decomp "$p")
    name=${m}_$(tr -c 'A-Za-z0-9\n' '_' <<<"$p")
    [ ${#name} -le 60 ] || name=${m}_$(cksum <<<"$p" | cut -d' ' -f1)
    [ "$role" = hold ] || name=fit_$name # the same model's held-out operators have their own
    dir=$out/vectors/$name
    rm -rf "$dir" && mkdir -p "$dir"
    if ! "$tb" net "$models/$m.tflite" --config "rtl/cfg/$cfg.cfg" --timing-seed 1 "${opt[@]}" --vec-dir "$dir" \
        --trace-dir "$out/traces" >"$dir/net.log" 2>&1; then
        cat "$dir/net.log" >&2
        echo "explore-energy: $2 at $p on $cfg did not run (log above)" >&2
        exit 1
    fi
    nets+=("$name=$dir/summary.tsv")
    roles+=("$name=$role")
}
for m in $fit; do for p in $fitp; do workload fit "$m" "$p"; done; done
for m in $hold; do
    case $m in
        *=*) workload hold "${m%%=*}" "${m#*=}" ;;
        *) for p in $holdp; do workload hold "$m" "$p"; done ;;
    esac
done
echo "explore-energy: ${#nets[@]} workloads ($(ls "$out"/vectors/*/*.vec | wc -l) layer parts); gate level next"
scripts/ppa/ppa.sh "$cfg" "$out/ppa" "${nets[@]}"
/usr/bin/python3 scripts/models/energy_fit.py --golden "$gold" --models "$models" --config "$cfg" \
    --ppa "$out/ppa" --out "$out" "${table[@]}" "${roles[@]}"
