#!/usr/bin/env bash
# synth-map.sh CONFIG OUTDIR: Yosys synthesis of mpq_top with the parameters of
# rtl/cfg/CONFIG.cfg, mapped to the standard cells of $PPA_LIB (liberty), hierarchy kept:
#   synth -top mpq_top ; dfflibmap ; abc -liberty -constr -D $PPA_ABC_DELAY
# (with -constr and -D, ABC also buffers high-fanout nets and sizes gates: without that the
# unbuffered fanout of a configuration register bit dominates every path).
# Names, so that OpenSTA, Verilator's coverage and the reports agree: in the module of each
# scripts/ppa/units.tsv row, the cells are <unit>_<n> and the instances of that module
# u_<module><n>; every net is a scalar n<n>; ports keep their names and widths (the
# testbench's shim binds them).
# Writes OUTDIR/: netlist.v (hierarchical, every module mapped: OpenSTA reads it),
# gls/netlist.v (the same, with each `gls rtl` module's body replaced by its behavioural RTL
# with the parameters Yosys elaborated), area.tsv (unit, instances, cells, area in um^2),
# stat.txt (Yosys stat), yosys.log, seconds. Exit 2 on bad arguments or an RTL module
# missing from units.tsv.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/cfg.sh
. "$here/../cfg.sh"
[ $# -eq 2 ] || { echo "usage: synth-map.sh CONFIG OUTDIR" >&2; exit 2; }
cfgname=$1 out=$2
cfg=rtl/cfg/$cfgname.cfg
[ -f "$cfg" ] || { echo "synth-map.sh: no configuration $cfg" >&2; exit 2; }
: "${PPA_LIB:?synth-map.sh: PPA_LIB (the liberty file) is not set}" "${YOSYS:=yosys}"
delay=${PPA_ABC_DELAY:-5000}
case $delay in ''|*[!0-9]*) echo "synth-map.sh: PPA_ABC_DELAY='$delay' is not a delay in ps" >&2; exit 2 ;; esac
units=$here/units.tsv
srcs="rtl/mpq_pkg.sv rtl/mpq_wbuf.sv rtl/mpq_lane.sv rtl/mpq_requant.sv rtl/mpq_top.sv"
mkdir -p "$out/gls"

chparam=$(mpq_cfg_pairs "$cfg" | awk '{ printf "-set %s %s ", $1, $2 }')
# ABC's view of the world outside each module: driven by a BUFX2, loading one.
printf 'set_driving_cell BUFX2\nset_load 0.01\n' >"$out/abc.constr"

# A parameterized module is named $paramod$<hash>\<module> after elaboration: `*<module>`.
names=()
while IFS=$'\t' read -r mod unit _; do
  case $mod in ''|'#'*) continue ;; esac
  [ "$mod" = mpq_top ] && continue
  names+=("rename -hide t:*$mod" "rename -enumerate -pattern u_$mod% t:*$mod")
done <"$units"
while IFS=$'\t' read -r mod unit _; do
  case $mod in ''|'#'*) continue ;; esac
  names+=("rename -enumerate -pattern ${unit}_% *$mod/c:*")
done <"$units"

script=$out/synth.ys
{
  echo "read_verilog -sv $srcs"
  echo "chparam $chparam mpq_top"
  echo "synth -top mpq_top"
  echo "dfflibmap -liberty $PPA_LIB"
  echo "abc -liberty $PPA_LIB -constr $out/abc.constr -D $delay"
  echo "splitnets"
  echo "opt_clean -purge"
  printf '%s\n' "${names[@]}"
  echo "rename -hide w:*"
  echo "rename -enumerate -pattern n% w:*"
  echo "tee -q -o $out/stat.txt stat -liberty $PPA_LIB"
  echo "write_verilog -noattr -noexpr $out/netlist.v.tmp"
} >"$script"

start=$(date +%s.%N)
if ! "$YOSYS" -q -l "$out/yosys.log" "$script" >/dev/null; then
  echo "synth-map.sh: yosys failed on $cfgname (log: $out/yosys.log)" >&2
  exit 1
fi
awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f\n", e - s }' >"$out/seconds"
# OpenSTA (2019) takes no concatenation in an assign: one assign per bit instead.
"${PYTHON:-python3}" "$here/netlist.py" split "$out/netlist.v.tmp" || exit $?
"${PYTHON:-python3}" "$here/netlist.py" units "$units" "$out/stat.txt" "$out/area.tsv" || exit $?
"${PYTHON:-python3}" "$here/netlist.py" gls "$units" "$out/netlist.v.tmp" "$out/yosys.log" \
  "$out/gls/netlist.v" || exit $?
mv -f "$out/netlist.v.tmp" "$out/netlist.v"
