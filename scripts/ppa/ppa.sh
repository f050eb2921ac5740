#!/usr/bin/env bash
# ppa.sh CONFIG OUTDIR [NAME=FILE.vec | NET=SUMMARY.tsv ...]: area, timing and power of the
# accelerator built with rtl/cfg/CONFIG.cfg, mapped to the OSU 0.18 um standard cells (make
# ppa runs it per configuration; docs/ppa.md explains the method).
# The workloads come in networks: NAME=FILE.vec is a network of one vector file;
# NET=SUMMARY.tsv a network of several layers (the summary of mpq-mnist --emit-vectors or of
# mpq-mnist-rtl --save-vectors: one row per layer, "layerN m k n cycles macs [file]", the
# file DIR/layerN.vec when the column is missing).
#  1. scripts/ppa/synth-map.sh: Yosys (pyosys, scripts/ppa/venv.sh), hierarchical netlist,
#     the memories as RAM macros (scripts/ppa/ram.py: their model), area per unit;
#  2. OpenSTA (scripts/ppa/sta.tcl): the worst register-to-register path, fmax;
#  3. with vector files: the gate-level simulation (tb/build-model.sh kind gls: the mapped
#     netlist and the library's cell models under Verilator, the same shim and mpq-tb)
#     replays each one, every output port compared every cycle, and counts every net's
#     toggles; scripts/ppa/activity.py turns them into per-net activities;
#  4. OpenSTA power at fmax and at $PPA_FIXED_MHZ, with OpenSTA's default activity and with
#     each network's measured activity (the cycle-weighted mean of its layers'), per unit
#     (scripts/ppa/power.py applies the measured per-net activity to OpenSTA's per-instance
#     power: this OpenSTA ignores activities set on internal pins).
# Writes OUTDIR/ppa.json (scripts/ppa/report.py summary) and the files of each step.
# Environment: PPA_LIB (liberty, default: the Debian package's), PPA_CELLS_V (its Verilog
# models), PPA_PYOSYS (a Python with pyosys; default: scripts/ppa/venv.sh installs it in
# $PPA_VENV, default build/ppa-venv), PPA_FIXED_MHZ (default 20), TB_OBJS / GOLDEN_LIB (the
# testbench objects, as for tb/build-model.sh), STA (default sta), PYTHON (default python3).
# Exit 0, 1 when a step fails (a gate-level mismatch included), 2 on bad arguments.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() { echo "usage: ppa.sh CONFIG OUTDIR [NAME=FILE.vec | NET=SUMMARY.tsv ...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
cfgname=$1 out=$2
shift 2
cfg=rtl/cfg/$cfgname.cfg
[ -f "$cfg" ] || { echo "ppa.sh: no configuration $cfg" >&2; exit 2; }
lib_dir=/usr/share/qflow/tech/osu018
export PPA_LIB=${PPA_LIB:-$lib_dir/osu018_stdcells.lib}
cells_v=${PPA_CELLS_V:-$lib_dir/osu018_stdcells.v}
fixed_mhz=${PPA_FIXED_MHZ:-20}
sta=${STA:-sta}
py=${PYTHON:-python3}
case $fixed_mhz in ''|*[!0-9.]*) echo "ppa.sh: PPA_FIXED_MHZ='$fixed_mhz' is not a frequency in MHz" >&2; exit 2 ;; esac
for f in "$PPA_LIB" "$cells_v"; do
  [ -f "$f" ] || { echo "ppa.sh: $f is missing (scripts/install-deps.sh ppa installs qflow-tech-osu018)" >&2; exit 2; }
done
command -v "$sta" >/dev/null || { echo "ppa.sh: $sta not found (scripts/install-deps.sh ppa installs opensta)" >&2; exit 2; }
if [ -z "${PPA_PYOSYS:-}" ]; then
  PPA_PYOSYS=$("$here/venv.sh" "${PPA_VENV:-build/ppa-venv}") || exit 2
fi
export PPA_PYOSYS
# workloads: NET:NAME=FILE.vec, one per vector file; nets: the networks, in order; weight:
# a summary's layer's cycles, by NAME (its activity's weight in the network's mean: the whole
# layer's cycles, also when its vector file holds only a sample of them, mpq-tb net
# --vec-cycles).
workloads=() nets=()
declare -A weight=()
for a in "$@"; do
  net=${a%%=*} file=${a#*=}
  case $a in *=*) ;; *) usage ;; esac
  case $net in
    ''|*[!A-Za-z0-9_]*) echo "ppa.sh: workload '$a': the name '$net' is not letters, digits and _" >&2; exit 2 ;;
  esac
  case " ${nets[*]} " in *" $net "*) echo "ppa.sh: workload '$a': a second network named $net" >&2; exit 2 ;; esac
  [ -f "$file" ] || { echo "ppa.sh: workload '$a': no file $file" >&2; exit 2; }
  nets+=("$net")
  case $file in
    *.vec) workloads+=("$net:$net=$file") ;;
    *.tsv)
      # The summary's layer rows: name, m, k, n, cycles, MACs[, vector file in its folder].
      layers=$(awk -F'\t' -v d="$(dirname "$file")" '!/^#/ && $1 ~ /^layer[0-9]+$/ {
                 print $1 "=" d "/" (NF >= 7 ? $7 : $1 ".vec") "=" $5 }' "$file")
      [ -n "$layers" ] || { echo "ppa.sh: workload '$a': $file lists no layers" >&2; exit 2; }
      for l in $layers; do
        w=${l##*=} l=${l%=*}
        case $w in ''|*[!0-9]*) echo "ppa.sh: workload '$a': $file: ${l%%=*} has no cycles" >&2; exit 2 ;; esac
        [ -f "${l#*=}" ] || { echo "ppa.sh: workload '$a': no vector file ${l#*=}" >&2; exit 2; }
        workloads+=("$net:$net-$l")
        weight[$net-${l%%=*}]=$w
      done ;;
    *) echo "ppa.sh: workload '$a': $file is neither a vector file (.vec) nor a summary (.tsv)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
rm -f "$out/workloads.tsv" "$out/workloads.tsv.tmp" "$out/networks.tsv" "$out/networks.tsv.tmp" \
  "$out/measured.tsv" "$out/power.tsv" "$out/ppa.json" "$out/activity-missing" "$out"/replay-*.log
rm -rf "$out/activity" "$out/toggles"
# shellcheck source=scripts/ppa/cfg.sh
. "$here/cfg.sh"
mpq_cfg_pairs "$cfg" >"$out/cfg.txt"
units=$(awk -F'\t' '!/^#/ && NF == 3 && $3 != "-" { print $3 }' "$here/units.tsv" | awk 'BEGIN { print "control" } !s[$0]++' | xargs)
secs() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }'; }

# 1. Synthesis and mapping (reused when the netlist is newer than everything it comes from).
# With PPA_MAP_CACHE set (make test's ppa/small: the mapping depends on neither the Verilator
# nor the sanitizers, and .ci/run builds two trees), synth-map.sh's files are kept there under
# a digest of those inputs, the parameters, PPA_ABC_DELAY and the Yosys version, and taken
# from there when the digest matches.
t0=$(date +%s.%N)
fresh=1
map_deps=(rtl/*.sv rtl/*.svh rtl/sources.list "$cfg" "$PPA_LIB" "$here/synth-map.sh" "$here/synth.py"
          "$here/netlist.py" "$here/units.tsv" "$here/units.py" "$here/ram.py" "$here/mpq_ram_gls.sv"
          "$here/abc.script" "$here/cfg.sh")
for dep in "${map_deps[@]}"; do
  [ -f "$out/netlist.v" ] && [ "$out/netlist.v" -nt "$dep" ] || fresh=0
done
map_key= map_yosys=
if [ -n "${PPA_MAP_CACHE:-}" ]; then
  map_yosys=$("$PPA_PYOSYS" -c 'from pyosys import libyosys as ys; print(ys.yosys_maybe_version())') || exit 1
  map_key=$({ echo "$map_yosys"; echo "PPA_ABC_DELAY=${PPA_ABC_DELAY:-}"; cat "$out/cfg.txt"
              sha256sum "${map_deps[@]}" | awk '{ print $1 }'; } | sha256sum | cut -c1-16)
fi
if [ $fresh = 1 ] && [ -f "$out/area.tsv" ] && [ -f "$out/gls/netlist.v" ]; then
  echo "ppa $cfgname: mapped netlist up to date ($out/netlist.v)"
elif [ -n "$map_key" ] && [ -f "$PPA_MAP_CACHE/$map_key/netlist.v" ]; then
  echo "ppa $cfgname: mapped netlist from $PPA_MAP_CACHE/$map_key (the digest of the RTL, the parameters, the flow's scripts and $map_yosys)"
  rm -rf "$out/rtl" "$out/gls"
  cp -R "$PPA_MAP_CACHE/$map_key/." "$out/"
else
  echo "ppa $cfgname: yosys (mapping to $(basename "$PPA_LIB"))"
  "$here/synth-map.sh" "$cfgname" "$out"
  if [ -n "$map_key" ]; then
    # synth-map.sh's files, renamed into place whole (another tree may be storing the same).
    mkdir -p "$PPA_MAP_CACHE"
    tmpd=$(mktemp -d "$PPA_MAP_CACHE/.new.XXXXXX")
    mkdir "$tmpd/gls"
    cp -R "$out/rtl" "$tmpd/"
    cp "$out/gls/netlist.v" "$tmpd/gls/"
    for f in netlist.v macros.lib macros.lst area.tsv stat.txt steps.tsv yosys.log synth.err seconds abc.constr abc.script; do
      [ ! -f "$out/$f" ] || cp "$out/$f" "$tmpd/"
    done
    mv -T "$tmpd" "$PPA_MAP_CACHE/$map_key" 2>/dev/null || rm -rf "$tmpd"
  fi
fi

# 2. Timing at a nominal period (slack + period = the shortest period).
echo "ppa $cfgname: opensta timing"
if ! PPA_OUT=$out PPA_NETLIST=$out/netlist.v PPA_MACRO_LIB=$out/macros.lib PPA_PERIOD_NS=100 PPA_POWER_PERIODS_NS="" PPA_UNITS="$units" \
    "$sta" -no_splash -exit "$here/sta.tcl" >"$out/sta-timing.log" 2>&1 || grep -q '^Error' "$out/sta-timing.log"; then
  cat "$out/sta-timing.log" >&2
  echo "ppa.sh: OpenSTA failed ($out/sta-timing.log)" >&2
  exit 1
fi
min_ns=$("$py" "$here/report.py" min-period "$out/timing.rpt" 100) || exit 1
fixed_ns=$(awk -v f="$fixed_mhz" 'BEGIN { printf "%.6g", 1000 / f }')

# 3. Gate-level simulation of each workload: replay, every port compared; toggle counts.
acts=()
sim_s=0
if [ ${#workloads[@]} -gt 0 ]; then
  gls=$out/gls
  # The model's inputs are rewritten only when they change, so that an up-to-date model is
  # reused (the build is the flow's longest step).
  update() { if cmp -s "$1.tmp" "$1"; then rm -f "$1.tmp"; else mv -f "$1.tmp" "$1"; fi; }
  "$here/gls-cells.sh" "$cells_v" "$gls/cells.v.tmp" && update "$gls/cells.v"
  {
    echo '`verilator_config'
    echo '// The cell library is not ours: implicit nets, unused timing-check registers.'
    echo 'lint_off -file "*/cells.v"'
    echo '// Each mapped module is compiled once, not once per instance (the lanes and the'
    echo '// requantizers are Lanes instances each): several times less C++ to compile. The shim'
    echo '// reads every instance'"'"'s own nets all the same.'
    awk -F'\t' '!/^#/ && NF == 3 && $3 != "-" && $2 != "mpq_ram" { print "no_inline -module \"*" $2 "\"" }' \
      "$here/units.tsv" | awk '!s[$0]++'
    echo '// Generated: the mapped netlist and the macros'"'"' simulation modules (ram.py counters).'
    echo 'lint_off -file "*/netlist.v"'
  } >"$gls/gls.vlt.tmp" && update "$gls/gls.vlt"
  {
    echo "$gls/gls.vlt"
    echo "$gls/cells.v"
    # The RAM macros are simulated as the RTL's memory (netlist.v's mpq_ram_<D>x<W> modules).
    echo "rtl/mpq_ram.sv"
    echo "$gls/netlist.v"
  } >"$gls/gls.f.tmp" && update "$gls/gls.f"
  model=$out/glsbuild/mpq-tb fresh=1
  for dep in $(cat "$gls/gls.f") tb/build-model.sh tb/build-lib.sh rtl/mpq_top.dut tb/dut_runtime.h tb/mpq_dut.h ${TB_OBJS:-} ${GOLDEN_LIB:-}; do
    [ -f "$model" ] && [ "$model" -nt "$dep" ] || fresh=0
  done
  t1=$(date +%s.%N)
  if [ $fresh = 1 ]; then
    echo "ppa $cfgname: gate-level model up to date ($model)"
  else
    echo "ppa $cfgname: verilator (gate-level model)"
    tb/build-model.sh "$cfgname" gls "$out/glsbuild" "$gls"
    echo "$(secs "$t1")" >"$out/gls-build-seconds"
  fi
  t1=$(date +%s.%N)
  mkdir -p "$out/activity"
  for wl in "${workloads[@]}"; do
    net=${wl%%:*} wl=${wl#*:}
    name=${wl%%=*} vec=${wl#*=}
    tog=$out/toggles/$name
    rm -rf "$tog" && mkdir -p "$tog"
    echo "ppa $cfgname: gate-level replay of $vec"
    if ! MPQ_TOGGLE_DIR=$tog "$out/glsbuild/mpq-tb" replay "$vec" --config "$cfg" --name "gls-$cfgname-$name" \
        --trace-dir "$out/traces" >"$out/replay-$name.log" 2>&1; then
      cat "$out/replay-$name.log" >&2
      echo "ppa.sh: the gate-level netlist of $cfgname fails $vec" >&2
      exit 1
    fi
    cat "$out/replay-$name.log"
    # One model ran cycles (the testbench's probe only reads hwcfg_o and writes nothing).
    shopt -s nullglob
    counts=("$tog"/toggles-*.txt)
    shopt -u nullglob
    if [ ${#counts[@]} -eq 0 ]; then
      # The replay passed but the shim wrote no counts: it counts the cycles only in its
      # traced build (tb/dut_runtime.h mpq_dut_tick; tb/mpq_dut.cpp before issue 27, since merge 9ee2ccd). No measured activity:
      # said in the reports (ppa.json "activity_missing"), default-activity power only.
      echo "ppa $cfgname: WARNING: the gate-level model wrote no toggle counts (tb/dut_runtime.h counts no cycles outside its traced build): no measured activity" >&2
      echo "tb/dut_runtime.h: mpq_dut_tick counts cycles (tog.cycles) only in the traced build; toggle file not written" >"$out/activity-missing"
      cycles=$(sed -n 's/^PASS .* \([0-9][0-9]*\) cycles .*/\1/p' "$out/replay-$name.log" | head -n 1)
      printf '%s\t%s\t%s\t%s\t%s\n' "$net" "$name" "$vec" "${cycles:-0}" "${weight[$name]:-${cycles:-0}}" >>"$out/workloads.tsv.tmp"
      continue
    fi
    [ ${#counts[@]} -eq 1 ] || { echo "ppa.sh: expected one toggle file in $tog" >&2; exit 1; }
    "$py" "$here/activity.py" "${counts[0]}" "$out/netlist.v" "$out/activity/$name.txt"
    cycles=$(awk '/^# cycles/ { print $3 }' "${counts[0]}")
    printf '%s\t%s\t%s\t%s\t%s\n' "$net" "$name" "$vec" "$cycles" "${weight[$name]:-$cycles}" >>"$out/workloads.tsv.tmp"
  done
  mv -f "$out/workloads.tsv.tmp" "$out/workloads.tsv"
  sim_s=$(secs "$t1")
  # Each network's activity: the cycle-weighted mean of its layers' (a network of one vector
  # file: that file's), each weighted by its layer's whole cycles (a sampled layer's activity
  # stands for all of them). Power is linear in the activities, so one power per network
  # times its cycles is the energy of all its layers, and the networks keep apart.
  if [ ! -f "$out/activity-missing" ]; then
    for net in "${nets[@]}"; do
      means=()
      while IFS=$'\t' read -r n name _ _ cycles; do
        [ "$n" = "$net" ] && means+=("$cycles:$out/activity/$name.txt")
      done <"$out/workloads.tsv"
      if [ ${#means[@]} -gt 1 ] || [ "${means[0]#*:}" != "$out/activity/$net.txt" ]; then
        "$py" "$here/activity.py" --mean "$out/activity/$net.txt" "${means[@]}"
      fi
      acts+=("$net" "$out/activity/$net.txt")
    done
  fi
fi
# The networks and the summaries their layers come from (report.py summary reads them).
for a in "$@"; do
  case ${a#*=} in *.tsv) printf '%s\t%s\n' "${a%%=*}" "${a#*=}" ;; *) printf '%s\t-\n' "${a%%=*}" ;; esac
done >"$out/networks.tsv.tmp" && mv -f "$out/networks.tsv.tmp" "$out/networks.tsv"

# 4. Power at fmax and at the fixed clock, default and measured activity, per unit: OpenSTA's
#    power of every instance (default activity, every pin at 0 and at 1 transition per cycle),
#    each network's measured per-net activity applied by scripts/ppa/power.py (mode = the
#    network's name).
run_sta() {  # LOG [ENV=VALUE...]: OpenSTA on sta.tcl; its Tcl errors do not set its exit status
  local log=$1
  shift
  if ! env PPA_OUT="$out" PPA_NETLIST="$out/netlist.v" PPA_MACRO_LIB="$out/macros.lib" PPA_PERIOD_NS=100 PPA_UNITS="$units" "$@" \
      "$sta" -no_splash -exit "$here/sta.tcl" >"$log" 2>&1 || grep -q '^Error' "$log"; then
    cat "$log" >&2
    echo "ppa.sh: OpenSTA failed ($log)" >&2
    exit 1
  fi
}
echo "ppa $cfgname: opensta power"
rm -f "$out"/instances-*.tsv "$out/measured.tsv"
run_sta "$out/sta-power.log" PPA_POWER_PERIODS_NS="$min_ns $fixed_ns" PPA_INSTANCE_DUMP=1
# The measured activity applied per instance (this OpenSTA ignores internal pins' activities).
"$py" "$here/power.py" "$out" "$out/netlist.v" "$PPA_LIB" "$out/macros.lib" "$units" "$min_ns" "$fixed_ns" ${acts[@]+"${acts[@]}"}
echo "$sim_s" >"$out/gls-sim-seconds"
echo "$(secs "$t0")" >"$out/total-seconds"
"$py" "$here/report.py" config "$cfgname" "$out" "$fixed_mhz"
