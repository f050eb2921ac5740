#!/usr/bin/env bash
# mnist-plot.sh OUTDIR [NAME]: PNG plots of a Fashion-MNIST study with gnuplot (make mnist,
# make cnn): OUTDIR/density.png (accuracy versus the measured sparse density, one curve per
# structure: the blocks of density.tsv) and OUTDIR/accbits.png (accuracy and overflowing
# outputs versus accumulator width). NAME titles the plots (default "Fashion-MNIST MLP").
# Skipped with a message when gnuplot is missing (scripts/install-deps.sh plot installs it).
set -euo pipefail
out=${1:?usage: scripts/workloads/mnist-plot.sh OUTDIR [NAME]}
name=${2:-Fashion-MNIST MLP}
for f in density.tsv accbits.tsv; do
    [ -s "$out/$f" ] || { echo "mnist-plot: $out/$f is missing (run make mnist-golden or make cnn-golden)" >&2; exit 2; }
done
if ! command -v gnuplot >/dev/null; then
    echo "mnist-plot: gnuplot is not installed; no plots (scripts/install-deps.sh plot)"; exit 0
fi
tern=$(awk -F'\t' '/^# ternary only/ { printf "%.2f", $2 }' "$out/density.tsv")
float=$(awk -F'\t' '/^# float reference/ { print $2 }' "$out/density.tsv")
# One curve per block of density.tsv (gnuplot index i), titled by the block's "# name" line;
# unstructured dashed.
plot="" i=0
while IFS= read -r title; do
    style="with linespoints"
    [ "$title" = unstructured ] && style="with linespoints dt 2 lc rgb 'black'"
    case $title in *window*) style="with linespoints dt 4";; esac
    plot+="\"$out/density.tsv\" index $i using 2:3 $style title \"$title\", "
    i=$((i + 1))
done < <(awk '/^# / && prev == "" && NR > 1 { sub(/^# /, ""); print } { prev = $0 }' "$out/density.tsv")
acc_title=$(awk -F'\t' '/^# spec/ { print $2 }' "$out/accbits.tsv")
acc_title=${acc_title:-ternary + 1:16}
term="pngcairo size 900,560 font 'sans,11'"
gnuplot -e "set terminal $term" /dev/null 2>/dev/null || term="png size 900,560"
gnuplot <<EOT
set terminal $term
set output "$out/density.png.tmp"
set title "$name: ternary + sparse int8 versus density (ternary only: $tern %)"
set xlabel "sparse int8 density (measured: non-zeros / weights)"
set ylabel "test accuracy (%)"
set logscale x 2
set xrange [1.0/90:0.45]
set key bottom right
set grid
set yrange [*:*]
set xtics ("1/64" 1.0/64, "1/32" 1.0/32, "1/16" 1.0/16, "1/8" 1.0/8, "1/4" 0.25)
plot $plot $float with lines lc rgb "black" dt 3 title "float"
EOT
gnuplot <<EOT
set terminal $term
set output "$out/accbits.png.tmp"
set title "$name, $acc_title: accumulator width"
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
