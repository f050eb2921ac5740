#!/usr/bin/env bash
# peers-plot.sh DIR: DIR/peers.png from DIR/peers.tsv (peers.py): per layer, ZigZag's and
# Vela's cycles over mpq's exact ones against mpq's cycles (log-log), ZigZag also with the
# packed layers as mpq maps them. Written atomically; skipped with a message when gnuplot is
# missing (scripts/install-deps.sh plot).
set -eu
dir=${1:?usage: peers-plot.sh DIR}
[ -f "$dir/peers.tsv" ] || { echo "peers-plot: no $dir/peers.tsv" >&2; exit 2; }
if ! command -v gnuplot >/dev/null; then
    echo "peers-plot: gnuplot is not installed; no plot (scripts/install-deps.sh plot)"; exit 0
fi
gnuplot <<EOT
set terminal pngcairo size 900,560 font 'sans,10'
set output "$dir/peers.png.tmp"
set datafile separator "\t"; set datafile missing "-"
set logscale xy; set grid
set xlabel "mpq's exact cycles of the layer"; set ylabel "estimate / mpq's cycles"
set title "The CNN's and five MLPerf Tiny models' MAC layers: ZigZag and Vela U55-128 over mpq"
set key top left
plot "$dir/peers.tsv" using 3:(\$4/\$3) with points pt 7 ps 0.9 title "ZigZag, the layer as it is", \
     "$dir/peers.tsv" using 3:(\$5/\$3) with points pt 6 ps 1.6 title "ZigZag, packed first layers as mpq maps them", \
     "$dir/peers.tsv" using 3:(\$6/\$3) with points pt 5 ps 0.7 title "Vela, Ethos-U55-128", \
     1 with lines lc rgb "black" dt 2 notitle
EOT
mv -f "$dir/peers.png.tmp" "$dir/peers.png"
echo "peers-plot: $dir/peers.png"
