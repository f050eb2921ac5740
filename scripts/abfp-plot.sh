#!/usr/bin/env bash
# abfp-plot.sh OUTDIR: PNG plots of the ABFP study (make abfp) with gnuplot, from the files
# mpq-abfp wrote into OUTDIR: abfp-n.png (accuracy versus tile width, per mantissa width),
# abfp-gain.png (accuracy versus gain, per ADC width), abfp-layer.png (each layer's SQNR and
# saturated share versus its gain), abfp-noise.png (accuracy versus noise), abfp-finetune.png
# (accuracy versus fine-tuning CPU time, DNF and noise-aware QAT; when the study ran it).
# Skipped with a message when gnuplot is missing (scripts/install-deps.sh plot installs it).
set -euo pipefail
out=${1:?usage: scripts/abfp-plot.sh OUTDIR}
for f in abfp-n.tsv abfp-gain.tsv abfp-layer.tsv abfp-noise.tsv; do
    [ -s "$out/$f" ] || { echo "abfp-plot: $out/$f is missing (run make abfp)" >&2; exit 2; }
done
if ! command -v gnuplot >/dev/null; then
    echo "abfp-plot: gnuplot is not installed; no plots (scripts/install-deps.sh plot)"; exit 0
fi
term="pngcairo size 1000,460 font 'sans,10'"
gnuplot -e "set terminal $term" /dev/null 2>/dev/null || term="png size 1000,460"
. "$(dirname "$0")/plot-lib.sh"
plot_panels "$out/abfp-n.png" "$term" 1,2 "ABFP: accuracy versus tile width n (8-bit ADC, best gain of 1..16)" \
    'set logscale x 2; set xlabel "tile width n"; set ylabel "test accuracy (%)"' net "MLP CNN" <<EOT
plot for [b in "4 6 8"] rows("$out/abfp-n.tsv", sprintf('\$1 == "%s" && \$3 == %s', net, b)) using 2:5 with linespoints title "b_w = b_x = ".b
EOT
plot_panels "$out/abfp-gain.png" "$term" 1,2 "ABFP: accuracy versus gain G (n = 128, 8-bit mantissas)" \
    'set logscale x 2; set xlabel "gain G"; set ylabel "test accuracy (%)"' net "MLP CNN" <<EOT
plot for [b in "6 7 8 9 10"] rows("$out/abfp-gain.tsv", sprintf('\$1 == "%s" && \$2 == %s', net, b)) using 3:4 with linespoints title "b_{out} = ".b
EOT
layers_mlp=$(awk -F'\t' '$1 == "MLP" { print $2 }' "$out/abfp-layer.tsv" | awk '!s[$0]++' | tr '\n' ' ')
layers_cnn=$(awk -F'\t' '$1 == "CNN" { print $2 }' "$out/abfp-layer.tsv" | awk '!s[$0]++' | tr '\n' ' ')
gnuplot <<EOT
set terminal pngcairo size 1000,760 font 'sans,10'
set output "$out/abfp-layer.png.tmp"
$plot_common
set key top left
lrows(n, l) = rows("$out/abfp-layer.tsv", sprintf('\$1 == "%s" && \$2 == "%s"', n, l))
set multiplot layout 2,2 title "The gain of each layer (n = 128, 8-bit mantissas and ADC; the other layers at G = 1)"
set logscale x 2; set xlabel "gain G of the layer"
set ylabel "SQNR against the float layer (dB)"
set title "MLP"; plot for [l in "$layers_mlp"] lrows("MLP", l) using 3:5 with linespoints title l
set title "CNN"; plot for [l in "$layers_cnn"] lrows("CNN", l) using 3:5 with linespoints title l
set ylabel "saturated ADC conversions (%)"
set title "MLP"; plot for [l in "$layers_mlp"] lrows("MLP", l) using 3:4 with linespoints title l
set title "CNN"; plot for [l in "$layers_cnn"] lrows("CNN", l) using 3:4 with linespoints title l
unset multiplot
EOT
plot_panels "$out/abfp-noise.png" "$term" 1,2 "ABFP: accuracy versus noise at the ADC input (n = 128, 8 bits)" \
    'set key bottom left; set xlabel "noise, standard deviation (ADC steps)"; set ylabel "test accuracy (%)"' \
    net "MLP CNN" <<EOT
plot rows("$out/abfp-noise.tsv", sprintf('\$1 == "%s"', net)) using 2:3 with linespoints title "G = 1", \
     rows("$out/abfp-noise.tsv", sprintf('\$1 == "%s"', net)) using 2:4 with linespoints title "best gain per layer"
EOT
plots="abfp-n abfp-gain abfp-layer abfp-noise"
if [ -s "$out/abfp-finetune.tsv" ]; then
gnuplot <<EOT
set terminal pngcairo size 700,460 font 'sans,10'
set output "$out/abfp-finetune.png.tmp"
$plot_common
set title "CNN noise fine-tuning: accuracy under the array versus CPU time"
set xlabel "fine-tuning CPU seconds (evaluations excluded)"; set ylabel "test accuracy (%)"
plot rows("$out/abfp-finetune.tsv", '\$1 == "DNF"') using 3:4 with linespoints title "DNF (differential noise)", \
     rows("$out/abfp-finetune.tsv", '\$1 == "QAT"') using 3:4 with linespoints title "noise-aware QAT"
EOT
plots+=" abfp-finetune"
fi
for p in $plots; do mv -f "$out/$p.png.tmp" "$out/$p.png"; done
echo "abfp-plot: $(for p in $plots; do printf '%s ' "$out/$p.png"; done)"
