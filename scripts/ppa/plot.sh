#!/usr/bin/env bash
# plot.sh PPA_DIR OUTDIR: the trade-off plots of make ppa with gnuplot, from
# PPA_DIR/tradeoff.tsv (scripts/ppa/report.py summary: one row per network and configuration):
# OUTDIR/ppa-energy.png (accuracy versus energy per inference, measured activity where the
# gate-level simulation gave it, and OpenSTA's default) and OUTDIR/ppa-area.png (accuracy
# versus area, whole accelerator and without the RAM macros), every network (the MLP, the
# CNN) in its own marks. Skipped with a message when gnuplot is missing
# (scripts/install-deps.sh plot installs it).
set -euo pipefail
dir=${1:?usage: plot.sh PPA_DIR OUTDIR} out=${2:?usage: plot.sh PPA_DIR OUTDIR}
data=$dir/tradeoff.tsv
[ -s "$data" ] || { echo "plot.sh: $data is missing (report.py summary writes it)" >&2; exit 2; }
if ! command -v gnuplot >/dev/null; then
  echo "plot.sh: gnuplot is not installed; no plots (scripts/install-deps.sh plot)"; exit 0
fi
term="pngcairo size 900,560 font 'sans,11'"
gnuplot -e "set terminal $term" /dev/null 2>/dev/null || term="png size 900,560"
nets=$(awk -F'\t' '!/^#/ && !s[$1]++ { print $1 }' "$data")
# The plot commands, one pair of series per network: filled and open marks of one shape (circles
# for the first network, triangles for the second, ...), the configurations labelled.
# Columns: 1 network, 2 config, 3 accuracy, 4 nJ/inference (measured where available),
# 5 nJ/inference (default), 6 area, 7 area without the macros.
series() {  # X_FILLED X_OPEN TITLE_FILLED TITLE_OPEN
  local i=0 cmds=() net pt
  for net in $nets; do
    pt=$((7 + 2 * i))
    cmds+=("\"$data\" using (strcol(1) eq \"$net\" ? \$$1 : NaN):3 with points pt $pt ps 1.5 lc $((i + 1)) title \"${net^^}: $3\"")
    cmds+=("\"\" using (strcol(1) eq \"$net\" ? \$$1 : NaN):3:2 with labels offset char 1,char 0.8 notitle")
    cmds+=("\"\" using (strcol(1) eq \"$net\" ? \$$2 : NaN):3 with points pt $((pt - 1)) ps 1.5 lc $((i + 1)) title \"${net^^}: $4\"")
    i=$((i + 1))
  done
  local IFS=,
  echo "${cmds[*]}"
}
# plot NAME VERSUS XLABEL SETTING X_FILLED X_OPEN TITLE_FILLED TITLE_OPEN: OUTDIR/NAME.png,
# accuracy against column X_FILLED (and X_OPEN) of every network, written atomically.
plot() {
  gnuplot <<EOT
set terminal $term
set output "$out/$1.png.tmp"
set title "Fashion-MNIST $(echo $nets | tr 'a-z ' 'A-Z/') on the OSU 0.18 um accelerator: accuracy versus $2"
set xlabel "$3"
set ylabel "test accuracy (%)"
$4
set key below
set grid
set datafile separator "\t"
set offsets graph 0.1, graph 0.1, graph 0.08, graph 0.08
plot $(series "$5" "$6" "$7" "$8")
EOT
  mv -f "$out/$1.png.tmp" "$out/$1.png"
}
plot ppa-energy energy "energy per inference (nJ, at fmax)" "set logscale x" 4 5 \
  "measured activity where available, else default" "OpenSTA default activity (0.1 per input)"
plot ppa-area area "area (mm^2: standard cells and the RAM macros' model)" "" 6 7 \
  "whole accelerator" "without the RAM macros (logic only)"
