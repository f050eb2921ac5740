#!/usr/bin/env bash
# synth-map.sh CONFIG OUTDIR: Yosys synthesis of mpq_top with the parameters of
# rtl/cfg/CONFIG.cfg, mapped to the standard cells of $PPA_LIB (liberty), hierarchy kept
# (scripts/ppa/synth.py: the steps, the names). The RTL is the one list, rtl/sources.list,
# as scripts/ppa/netlist.py sources prepares it for Yosys (two rewrites). The memories
# (rtl/mpq_ram.sv) are RAM macros: a black box in Yosys, then an instance of the macro cell
# mpq_ram_<Depth>x<Width> whose liberty scripts/ppa/ram.py writes (its model: ram.py).
# Yosys is the pyosys package run by $PPA_PYOSYS (a Python that imports it: make ppa
# installs it in a virtual environment, scripts/ppa/venv.sh).
# Writes OUTDIR/: netlist.v (hierarchical, every module mapped: OpenSTA reads it),
# macros.lib and macros.lst (the macros' liberty, their DxW list), gls/netlist.v (the same
# netlist, every net public for the gate-level simulation's toggle counts, and the macros'
# simulation modules),
# area.tsv (unit, instances, cells, area in um^2), stat.txt (Yosys stat), yosys.log, seconds,
# rtl/ (the RTL as Yosys read it). Exit 1 when Yosys fails, 2 on bad arguments or a module
# or instance that scripts/ppa/units.tsv does not name.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/ppa/cfg.sh
. "$here/cfg.sh"
[ $# -eq 2 ] || { echo "usage: synth-map.sh CONFIG OUTDIR" >&2; exit 2; }
cfgname=$1 out=$2
: "${PPA_LIB:?synth-map.sh: PPA_LIB (the liberty file) is not set}"
: "${PPA_PYOSYS:?synth-map.sh: PPA_PYOSYS (a Python with pyosys) is not set}"
py=${PYTHON:-python3}
delay=${PPA_ABC_DELAY:-5000}
case $delay in ''|*[!0-9]*) echo "synth-map.sh: PPA_ABC_DELAY='$delay' is not a delay in ps" >&2; exit 2 ;; esac
pairs=$(mpq_cfg_pairs "$cfgname") || exit 2
mkdir -p "$out/gls"

"$py" "$here/netlist.py" sources rtl "$out/rtl" || exit $?
# ABC's view of the world outside each module: driven by a BUFX2, loading one.
printf 'set_driving_cell BUFX2\nset_load 0.01\n' >"$out/abc.constr"

start=$(date +%s.%N)
# shellcheck disable=SC2046
if ! "$PPA_PYOSYS" "$here/synth.py" "$out/rtl/sources.f" "$PPA_LIB" "$out/abc.constr" "$delay" "$out" \
    $(awk '{ printf "%s=%s ", $1, $2 }' <<<"$pairs") >"$out/yosys.log" 2>"$out/synth.err"; then
  cat "$out/synth.err" >&2
  grep -m 3 'ERROR' "$out/yosys.log" >&2 || true
  echo "synth-map.sh: yosys failed on $cfgname (log: $out/yosys.log)" >&2
  [ -s "$out/synth.err" ] && exit 2
  exit 1
fi
awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f\n", e - s }' >"$out/seconds"
# OpenSTA (2019) takes no concatenation in an assign: one assign per bit instead.
"$py" "$here/netlist.py" split "$out/netlist.v.tmp" || exit $?
"$py" "$here/netlist.py" macros "$out/netlist.v.tmp" "$out/macros.lst" || exit $?
# shellcheck disable=SC2046
"$py" "$here/ram.py" lib "$PPA_LIB" "$out/macros.lib" $(cat "$out/macros.lst") || exit $?
"$py" "$here/netlist.py" area "$out/netlist.v.tmp" "$out/area.tsv" "$PPA_LIB" "$out/macros.lib" || exit $?
"$py" "$here/netlist.py" gls "$out/netlist.v.tmp" "$out/macros.lst" "$out/gls/netlist.v" || exit $?
mv -f "$out/netlist.v.tmp" "$out/netlist.v"
