#!/usr/bin/env bash
# explore-energy-validate.sh MPQ_GOLDEN ENERGY_TSV OUTDIR: the energy-per-action table of
# `dense` against gate-level energy of two layers outside its fit (docs/explore.md): each a
# `mpq-golden gen --profile zero-tern` vector file (int8 weights, random operands) at the
# mapping the front uses, replayed on dense's gate-level netlist by scripts/ppa/ppa.sh (make
# ppa's flow: synthesis, a gate-level model, measured per-net activity, OpenSTA power; about
# 20 minutes on a loaded 2-core host), then explore-energy.py --validate. Environment as for
# ppa.sh (make print-TB_OBJS etc.; PPA_VENV). Exit 0, 1 a step failed, 2 usage.
set -euo pipefail
gold=${1:?usage: explore-energy-validate.sh MPQ_GOLDEN ENERGY_TSV OUTDIR}; energy=${2:?}; out=${3:?}
layers=("v1=conv2d h=28 w=28 c=9 o=16 k=1"                             # layer 1 packed (the front's)
        "v2=conv2d b=2 h=7 w=7 c=32 o=64 k=3 s=2 p=0 oh=3 ow=3")       # layer 3, two images
mkdir -p "$out"
args=() seed=5
for l in "${layers[@]}"; do
    name=${l%%=*} shape=${l#*=}
    "$gold" gen -o "$out/$name.vec" --config dense --shape "$shape" --profile zero-tern --seed $seed -q
    args+=("$name=$out/$name.vec"); seed=$((seed + 1))
done
scripts/ppa/ppa.sh dense "$out/ppa" "${args[@]}"
python3 scripts/golden/explore-energy.py --golden "$gold" --validate "$out/ppa/ppa.json" --energy "$energy" "${layers[@]}"
