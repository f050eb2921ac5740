#!/usr/bin/env bash
# explore-plot.sh DIR: DIR/front.png from DIR/front.tsv (mpq-explore-net): the Pareto front's
# accuracy against energy per inference and against cycles, the baselines marked. Written
# atomically; skipped with a message when gnuplot is missing (scripts/install-deps.sh plot).
set -eu
dir=${1:?usage: explore-plot.sh DIR}
[ -f "$dir/front.tsv" ] || { echo "explore-plot: no $dir/front.tsv" >&2; exit 2; }
if ! command -v gnuplot >/dev/null; then
    echo "explore-plot: gnuplot is not installed; no plot (scripts/install-deps.sh plot)"; exit 0
fi
cfg=$(sed -n '1s/.* on \([^ ]*\) .*/\1/p' "$dir/front.tsv")
gnuplot <<EOT
set terminal pngcairo size 1200,500 font 'sans,10'
set output "$dir/front.png.tmp"
set grid; set key bottom right; set datafile separator "\t"
set multiplot layout 1,2 title "Fashion-MNIST CNN on $cfg: Pareto front of per-layer (precision, mapping)"
set xlabel "energy per inference (nJ)"; set ylabel "accuracy (%)"
plot "$dir/front.tsv" index 0 using 1:4 with points pt 7 title "front", \
     "$dir/front.tsv" index 1 using 1:4:5 with labels point pt 4 offset 0,-1 font 'sans,7' notitle
set xlabel "cycles per inference"
plot "$dir/front.tsv" index 0 using 2:4 with points pt 7 title "front", \
     "$dir/front.tsv" index 1 using 2:4 with points pt 4 title "baselines"
unset multiplot
EOT
mv -f "$dir/front.png.tmp" "$dir/front.png"
echo "explore-plot: $dir/front.png"
