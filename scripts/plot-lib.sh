# shellcheck shell=bash
# plot-lib.sh: what the gnuplot scripts of the ABFP studies (abfp-plot.sh, abfp-models.sh)
# share; sourced by both.

# The definitions every plot starts from: a grid, the key at the bottom right, and
# rows(file, awk condition), the rows of a TSV that satisfy the condition (gnuplot breaks a
# line at a skipped point, so the series are selected before gnuplot sees them).
plot_common="set grid; set key bottom right; rows(f, c) = sprintf(\"< awk -F'\\t' '!/^#/ && %s' %s\", c, f)"

# plot_panels PNG TERMINAL LAYOUT TITLE SETUP VAR LIST < PANEL: gnuplot draws PNG.tmp (the
# caller renames it) on TERMINAL: plot_common, SETUP (axes, labels, key), then a multiplot of
# LAYOUT titled TITLE with one panel per word VAR of LIST, titled by it, drawn by the gnuplot
# commands PANEL read from standard input (they name the word as VAR).
plot_panels() {
    local png=$1 term=$2 layout=$3 title=$4 setup=$5 var=$6 list=$7 panel
    panel=$(cat)
    gnuplot <<EOT
set terminal $term
set output "$png.tmp"
$plot_common
$setup
set multiplot layout $layout title "$title"
do for [$var in "$list"] {
  set title $var noenhanced
  $panel
}
unset multiplot
EOT
}
