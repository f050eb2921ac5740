#!/usr/bin/env bash
# plot.sh PPA_DIR OUTDIR: the trade-off plots of make ppa with gnuplot, from
# PPA_DIR/tradeoff.tsv (scripts/ppa/report.py summary): OUTDIR/ppa-energy.png (accuracy versus
# energy per inference, measured activity where the gate-level simulation gave it, and
# OpenSTA's default) and OUTDIR/ppa-area.png (accuracy versus area, whole accelerator and
# without the RAM macros). Skipped with a
# message when gnuplot is missing (scripts/install-deps.sh plot installs it).
set -euo pipefail
dir=${1:?usage: plot.sh PPA_DIR OUTDIR} out=${2:?usage: plot.sh PPA_DIR OUTDIR}
data=$dir/tradeoff.tsv
[ -s "$data" ] || { echo "plot.sh: $data is missing (report.py summary writes it)" >&2; exit 2; }
if ! command -v gnuplot >/dev/null; then
  echo "plot.sh: gnuplot is not installed; no plots (scripts/install-deps.sh plot)"; exit 0
fi
term="pngcairo size 900,560 font 'sans,11'"
gnuplot -e "set terminal $term" /dev/null 2>/dev/null || term="png size 900,560"
gnuplot <<EOT
set terminal $term
set output "$out/ppa-energy.png.tmp"
set title "Fashion-MNIST MLP on the OSU 0.18 um accelerator: accuracy versus energy"
set xlabel "energy per inference (nJ, at fmax)"
set ylabel "test accuracy (%)"
set logscale x
set key bottom right
set grid
set datafile separator "\t"
set offsets graph 0.1, graph 0.1, graph 0.08, graph 0.08
plot "$data" using 3:2 with points pt 7 ps 1.5 title "measured activity where available, else default", \
     "" using 3:2:1 with labels offset char 1,char 0.8 notitle, \
     "" using 4:2 with points pt 6 ps 1.5 title "OpenSTA default activity (0.1 per input)"
EOT
gnuplot <<EOT
set terminal $term
set output "$out/ppa-area.png.tmp"
set title "Fashion-MNIST MLP on the OSU 0.18 um accelerator: accuracy versus area"
set xlabel "area (mm^2: standard cells and the RAM macros' model)"
set ylabel "test accuracy (%)"
set key bottom right
set grid
set datafile separator "\t"
set offsets graph 0.1, graph 0.1, graph 0.08, graph 0.08
plot "$data" using 5:2 with points pt 7 ps 1.5 title "whole accelerator", \
     "" using 5:2:1 with labels offset char 1,char 0.8 notitle, \
     "" using 6:2 with points pt 5 ps 1.5 title "without the RAM macros (logic only)"
EOT
mv -f "$out/ppa-energy.png.tmp" "$out/ppa-energy.png"
mv -f "$out/ppa-area.png.tmp" "$out/ppa-area.png"
