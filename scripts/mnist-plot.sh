#!/usr/bin/env bash
# mnist-plot.sh OUTDIR: PNG plots of the Fashion-MNIST study with gnuplot (make mnist):
# OUTDIR/density.png (accuracy versus sparse density per structure) and OUTDIR/accbits.png
# (accuracy and overflowing outputs versus accumulator width). Skipped with a message when
# gnuplot is missing (scripts/install-deps.sh plot installs it).
set -euo pipefail
out=${1:?usage: scripts/mnist-plot.sh OUTDIR}
for f in density.tsv accbits.tsv; do
    [ -s "$out/$f" ] || { echo "mnist-plot: $out/$f is missing (run make mnist-golden)" >&2; exit 2; }
done
if ! command -v gnuplot >/dev/null; then
    echo "mnist-plot: gnuplot is not installed; no plots (scripts/install-deps.sh plot)"; exit 0
fi
tern=$(awk -F'\t' '!/^#/ && $1 == 0 { print $2; exit }' "$out/density.tsv")
float=$(awk -F'\t' '/^# float reference/ { print $2 }' "$out/density.tsv")
term="pngcairo size 900,560 font 'sans,11'"
gnuplot -e "set terminal $term" /dev/null 2>/dev/null || term="png size 900,560"
gnuplot <<EOT
set terminal $term
set output "$out/density.png.tmp"
set title "Fashion-MNIST MLP: ternary + sparse int8 versus density (ternary only: $tern %)"
set xlabel "sparse int8 density (non-zeros / weights)"
set ylabel "test accuracy (%)"
set logscale x 2
set xrange [1.0/90:0.3]
set key bottom right
set grid
set datafile missing "NaN"
set yrange [*:90]
set xtics ("1/64" 1.0/64, "1/32" 1.0/32, "1/16" 1.0/16, "1/8" 1.0/8, "1/4" 0.25)
plot "$out/density.tsv" using 1:2 with linespoints title "N:4", \
     "" using 1:3 with linespoints title "N:8", \
     "" using 1:4 with linespoints title "N:16", \
     "" using 1:5 with linespoints title "N:32", \
     "" using 1:6 with linespoints dt 2 title "unstructured", \
     $float with lines lc rgb "black" dt 3 title "float"
EOT
gnuplot <<EOT
set terminal $term
set output "$out/accbits.png.tmp"
set title "Fashion-MNIST MLP, ternary + 1:16: accumulator width"
set xlabel "accumulator bits"
set ylabel "test accuracy (%)"
set y2label "outputs with an overflow"
set logscale y2
set y2tics
set ytics nomirror
set key center right
set grid
plot "$out/accbits.tsv" using 1:2 with linespoints title "accuracy, wrap", \
     "" using 1:3 with linespoints title "accuracy, saturate", \
     "" using 1:(\$4 > 0 ? \$4 : 1/0) axes x1y2 with linespoints dt 2 title "overflowing outputs, wrap"
EOT
mv -f "$out/density.png.tmp" "$out/density.png"
mv -f "$out/accbits.png.tmp" "$out/accbits.png"
echo "mnist-plot: $out/density.png $out/accbits.png"
