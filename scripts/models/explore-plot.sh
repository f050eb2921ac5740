#!/usr/bin/env bash
# explore-plot.sh OUT MODEL...: OUT/explore.png from OUT/<model>.json (mpq-golden explore
# search): per model, the front's fidelity (SQNR of the logits against the int8 model, dB) against
# energy per inference, the uniform precisions and uniform int8 at the default mapping marked;
# exact points (the int8 model's logits) drawn at the top of the axis. Written atomically;
# skipped with a message when gnuplot is missing (scripts/install-deps.sh plot).
set -eu
out=${1:?usage: explore-plot.sh OUT MODEL...}; shift
[ $# -gt 0 ] || { echo "explore-plot: no model named" >&2; exit 2; }
for m in "$@"; do [ -f "$out/$m.json" ] || { echo "explore-plot: no $out/$m.json" >&2; exit 2; }; done
if ! command -v gnuplot >/dev/null; then
    echo "explore-plot: gnuplot is not installed; no plot (scripts/install-deps.sh plot)"; exit 0
fi
# One TSV per model: block 0 the front, block 1 the uniform points, block 2 the baseline;
# columns energy (uJ), SQNR (dB; exact drawn at TOP), label.
python3 - "$out" "$@" <<'PY'
import json, sys
out, models = sys.argv[1], sys.argv[2:]
TOP = 45.0
def db(x):
    return TOP if x == 'inf' else min(float(x), TOP)
for m in models:
    d = json.load(open(f'{out}/{m}.json'))
    with open(f'{out}/{m}.plot.tsv', 'w') as f:
        for p in d['front']:
            f.write(f"{p['energy_pj'] / 1e6:.3f}\t{db(p['sqnr_db']):.3f}\tfront\n")
        f.write('\n\n')
        for u in d['uniform']:
            f.write(f"{u['energy_pj'] / 1e6:.3f}\t{db(u['sqnr_db']):.3f}\t{u['precision']}\n")
        f.write('\n\n')
        b = d.get('int8_default_mapping')
        if b:
            f.write(f"{b['energy_pj'] / 1e6:.3f}\t{TOP:.3f}\tint8, default mapping\n")
PY
n=$#
cols=2; rows=$(( (n + 1) / 2 ))
{
    echo "set terminal pngcairo size 1200,$(( 420 * rows )) font 'sans,10'"
    echo "set output '$out/explore.png.tmp'; set termoption noenhanced"
    echo "set grid; set key bottom right font 'sans,8'; set datafile separator '\t'"
    echo "set multiplot layout $rows,$cols title 'Per-layer precision x mapping fronts on $(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['config'])" "$out/$1.json") (SQNR 45 dB: exact)'"
    for m in "$@"; do
        echo "set title '$m'; set xlabel 'energy per inference (uJ)'; set ylabel 'SQNR of the logits (dB)'; set yrange [*:47]"
        echo "plot '$out/$m.plot.tsv' index 0 using 1:2 with points pt 7 ps 0.6 title 'front', \\"
        echo "     '$out/$m.plot.tsv' index 1 using 1:2:3 with labels point pt 4 offset 0,-0.8 font 'sans,7' notitle, \\"
        echo "     '$out/$m.plot.tsv' index 2 using 1:2 with points pt 6 ps 1.5 title 'int8, default mapping'"
    done
    echo "unset multiplot"
} | gnuplot
mv -f "$out/explore.png.tmp" "$out/explore.png"
echo "explore-plot: $out/explore.png"
