#!/usr/bin/env bash
# abfp-models.sh GOLDEN MODELS_DIR OUTDIR [MODEL...]: the ABFP study on real TFLite models
# (make abfp-models; docs/abfp.md, "Real models"). Every point is `mpq-golden model abfp`
# on the same ABFP_MODELS_RUNS random inputs (seed 1): the SQNR of the logits against the model
# in float, and the share of ADC conversions that saturate. Writes into OUTDIR:
#   models-n.tsv      model n bits sqnr sat          (b_out 8, the best gain of each layer)
#   models-gain.tsv   model bout gain sqnr sat       (n 128, 8 bits, one gain for every layer)
#   models-fixed.tsv  model bits scale sqnr sat      (n 128, b_out 8, best gains; scale tile =
#                                                     ABFP, channel / tensor = fixed point)
#   models-int8.tsv   model sqnr                     (the int8 model itself, TFLite Micro)
#   models-layer.tsv  model layer op code gain sat sqnr (each layer alone on the float
#                                                     network's activations, n 128, 8 bits)
#   models-noise.tsv  model noise gain sqnr sat      (n 128, 8 bits, Gaussian noise at the ADC
#                                                     input in ADC steps; gain 1 and best)
#   models.md         the tables; models-*.png the plots (gnuplot; skipped when missing).
set -euo pipefail
golden=${1:?usage: abfp-models.sh GOLDEN MODELS_DIR OUTDIR [MODEL...]}
dir=${2:?}; out=${3:?}; shift 3
models=${*:-tflite_micro_speech anomaly_detection keyword_spotting image_classification visual_wake_words}
runs=${ABFP_MODELS_RUNS:-16}
mkdir -p "$out"
start=$(date +%s)
run() { "$golden" model abfp "$dir/$1.tflite" --random "$runs" --seed 1 --tsv "${@:2}"; }
summary() { awk -F'\t' '$1 == "summary" { printf "%s\t%s\n", $11, $12 }'; }

printf '# model\tn\tbits\tsqnr_db\tsaturated_pct\n' >"$out/models-n.tsv"
printf '# model\tbout\tgain\tsqnr_db\tsaturated_pct\n' >"$out/models-gain.tsv"
printf '# model\tbits\tscale\tsqnr_db\tsaturated_pct\n' >"$out/models-fixed.tsv"
printf '# model\tsqnr_db\n' >"$out/models-int8.tsv"
printf '# model\tlayer\top\tcode\tgain\tsaturated_pct\tsqnr_db\n' >"$out/models-layer.tsv"
printf '# model\tnoise\tgain\tsqnr_db\tsaturated_pct\n' >"$out/models-noise.tsv"
for m in $models; do
    echo "abfp-models: $m" >&2
    for n in 8 16 32 64 128 256; do
        for b in 4 6 8; do
            printf '%s\t%s\t%s\t%s\n' "$m" "$n" "$b" "$(run "$m" --n "$n" --bits "$b" --gain best | summary)"
        done
    done >>"$out/models-n.tsv"
    for bo in 6 7 8 9 10; do
        for g in 1 2 4 8 16; do
            printf '%s\t%s\t%s\t%s\n' "$m" "$bo" "$g" "$(run "$m" --bout "$bo" --gain "$g" | summary)"
        done
    done >>"$out/models-gain.tsv"
    for b in 4 6 8; do
        for s in tile channel tensor; do
            printf '%s\t%s\t%s\t%s\n' "$m" "$b" "$s" "$(run "$m" --bits "$b" --scale "$s" --gain best | summary)"
        done
    done >>"$out/models-fixed.tsv"
    for z in 0 0.5 1 2 4; do
        for g in 1 best; do
            printf '%s\t%s\t%s\t%s\n' "$m" "$z" "$g" "$(run "$m" --noise "$z" --gain "$g" | summary)"
        done
    done >>"$out/models-noise.tsv"
    run "$m" --gain best --layers --int8 >"$out/tmp.tsv"
    awk -F'\t' -v m="$m" '$1 == "summary" { printf "%s\t%s\n", m, $14 }' "$out/tmp.tsv" >>"$out/models-int8.tsv"
    awk -F'\t' -v m="$m" '$1 == "probe" { printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m, $2, $3, $4, $5, $6, $7 }' \
        "$out/tmp.tsv" >>"$out/models-layer.tsv"
    rm -f "$out/tmp.tsv"
done
secs=$(( $(date +%s) - start ))

# ---- tables ----
# pivot CELL FILE: a markdown row per (model, second column) of FILE, in the order they first
# come, and in it a cell per line of FILE with that pair: CELL, printf of its 4th and 5th
# columns.
pivot() {
    awk -F'\t' -v cell="$1" '!/^#/ { k = $1 "\t" $2; if (!(k in row)) order[++n] = k; row[k] = row[k] sprintf(cell, $4, $5) }
        END { for (i = 1; i <= n; i++) { split(order[i], a, "\t"); printf "| %s | %s |%s\n", a[1], a[2], row[order[i]] } }' "$2"
}
{
    echo "Measured $(date -u +%Y-%m-%d) on $(uname -m), $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo '?'),"
    echo "load $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?'); $runs random inputs per model (seed 1); the study took $secs s."
    echo
    echo "### Output SQNR against float: tile width and mantissa bits"
    echo
    echo "SQNR of the logits (dB), b_out = 8, each layer at its best gain of 1..128, in brackets the"
    echo "share of ADC conversions that saturate:"
    echo
    echo "| model | n | 4 bits | 6 bits | 8 bits |"
    echo "|---|---|---|---|---|"
    pivot ' %.1f (%.2f%%) |' "$out/models-n.tsv"
    echo
    echo "### ADC bits and gain"
    echo
    echo "SQNR (dB) at n = 128, 8-bit mantissas, one gain G for every layer, in brackets the"
    echo "saturated share:"
    echo
    echo "| model | b_out | G = 1 | G = 2 | G = 4 | G = 8 | G = 16 |"
    echo "|---|---|---|---|---|---|---|"
    pivot ' %.1f (%.2f%%) |' "$out/models-gain.tsv"
    echo
    echo "### ABFP against fixed point on the same array"
    echo
    echo "SQNR (dB) at n = 128, b_out = 8, best gains: scales per tile (ABFP), per output channel"
    echo "(weights; inputs per tensor, calibrated to the largest input of these runs), per tensor;"
    echo "last column: the int8 model itself (TFLite Micro's arithmetic, int32 accumulators, no ADC):"
    echo
    echo "| model | b_w = b_x | ABFP (per tile) | fixed point, per channel | fixed point, per tensor | int8 model |"
    echo "|---|---|---|---|---|---|"
    awk -F'\t' 'FNR == 1 { f++ } /^#/ { next } f == 1 { i8[$1] = $2; next }
        { k = $1 "\t" $2; if (!(k in row)) order[++n] = k; row[k] = row[k] sprintf(" %.1f |", $4) }
        END { for (i = 1; i <= n; i++) { split(order[i], a, "\t"); printf "| %s | %s |%s %s |\n", a[1], a[2], row[order[i]], (a[2] == 8 ? sprintf("%.1f", i8[a[1]]) : "") } }' \
        "$out/models-int8.tsv" "$out/models-fixed.tsv"
    echo
    echo "### Output SQNR against noise"
    echo
    echo "SQNR (dB) at n = 128, 8-bit mantissas and ADC, Gaussian noise at the ADC input (standard"
    echo "deviation in ADC steps, seed 1 + layer), with gain 1 and with each layer's best gain (chosen"
    echo "with that noise):"
    echo
    echo "| model | noise (steps) | G = 1 | best gain per layer |"
    echo "|---|---|---|---|"
    pivot ' %.1f |' "$out/models-noise.tsv"
    echo
    echo "### The best gain of each layer"
    echo
    echo "n = 128, 8-bit mantissas and ADC; each layer alone on the float network's activations,"
    echo "its gain from 1 to 128: the best (highest SQNR against the float layer), its SQNR and"
    echo "saturated share, and the saturated share one doubling further:"
    echo
    echo "| model | layer | op | best G | SQNR at best | saturated at best | saturated at 2x best |"
    echo "|---|---|---|---|---|---|---|"
    awk -F'\t' '!/^#/ { k = $1 "\t" $2; if (!(k in best) || $7 > sq[k]) { best[k] = $5; sq[k] = $7; sat[k] = $6 }
        if (!(k in op)) { order[++n] = k; op[k] = $3 " " $4 } s[k "\t" $5] = $6 }
        END { for (i = 1; i <= n; i++) { k = order[i]; split(k, a, "\t"); nx = s[k "\t" (best[k] * 2)];
              printf "| %s | %s | %s | %s | %.1f dB | %.3f%% | %s |\n", a[1], a[2], op[k], best[k], sq[k], sat[k], (nx == "" ? "-" : sprintf("%.3f%%", nx)) } }' \
        "$out/models-layer.tsv"
} >"$out/models.md"

# ---- plots ----
if ! command -v gnuplot >/dev/null; then
    echo "abfp-models: gnuplot is not installed; no plots (scripts/install-deps.sh plot)"; exit 0
fi
. "$(dirname "$0")/plot-lib.sh"
term="pngcairo size 1200,700 font 'sans,10'"
plot_panels "$out/abfp-models-n.png" "$term" 2,3 \
    "ABFP on real models: output SQNR versus tile width n (8-bit ADC, best gain per layer)" \
    'set logscale x 2; set xlabel "tile width n"; set ylabel "SQNR of the logits against float (dB)"' m "$models" <<EOT
plot for [b in "4 6 8"] rows("$out/models-n.tsv", sprintf('\$1 == "%s" && \$3 == %s', m, b)) using 2:4 with linespoints title "b_w = b_x = ".b
EOT
plot_panels "$out/abfp-models-gain.png" "$term" 2,3 \
    "ABFP on real models: output SQNR versus gain G (n = 128, 8-bit mantissas, one gain for all layers)" \
    'set key top left; set logscale x 2; set xlabel "gain G"; set ylabel "SQNR of the logits against float (dB)"' \
    m "$models" <<EOT
plot for [b in "6 7 8 9 10"] rows("$out/models-gain.tsv", sprintf('\$1 == "%s" && \$2 == %s', m, b)) using 3:4 with linespoints title "b_{out} = ".b
EOT
plot_panels "$out/abfp-models-fixed.png" "$term" 2,3 \
    "ABFP (per-tile scales) against fixed point on the same array (n = 128, 8-bit ADC, best gains)" \
    'set key top left; set xlabel "b_w = b_x"; set ylabel "SQNR of the logits against float (dB)"; set xtics (4, 6, 8)' \
    m "$models" <<EOT
plot for [s in "tile channel tensor"] rows("$out/models-fixed.tsv", sprintf('\$1 == "%s" && \$3 == "%s"', m, s)) using 2:4 with linespoints title s
EOT
plot_panels "$out/abfp-models-noise.png" "$term" 2,3 \
    "ABFP on real models: output SQNR versus ADC noise (n = 128, 8-bit mantissas and ADC)" \
    'set key top right; set xlabel "noise at the ADC input (ADC steps)"; set ylabel "SQNR of the logits against float (dB)"' \
    m "$models" <<EOT
plot for [g in "1 best"] rows("$out/models-noise.tsv", sprintf('\$1 == "%s" && \$3 == "%s"', m, g)) using 2:4 with linespoints title "gain ".g
EOT
lm=$(echo "$models" | awk '{ print $3 }'); lm=${lm:-$(echo "$models" | awk '{ print $1 }')}
gnuplot <<EOT
set terminal pngcairo size 1200,460 font 'sans,10'
set output "$out/abfp-models-layer.png.tmp"
$plot_common
set key outside right
lrows(l) = rows("$out/models-layer.tsv", sprintf('\$1 == "$lm" && \$2 == %d', l))
set multiplot layout 1,2 title "$lm: each layer's gain alone (n = 128, 8-bit mantissas and ADC)" noenhanced
set logscale x 2; set xlabel "gain G of the layer"
set ylabel "SQNR against the float layer (dB)"; plot for [l=0:40] lrows(l) using 5:7 with linespoints notitle
set ylabel "saturated ADC conversions (%)"; plot for [l=0:40] lrows(l) using 5:6 with linespoints notitle
unset multiplot
EOT
for f in n gain fixed layer noise; do mv "$out/abfp-models-$f.png.tmp" "$out/abfp-models-$f.png"; done
echo "abfp-models: $out/models.md, $out/abfp-models-*.png ($secs s)"
