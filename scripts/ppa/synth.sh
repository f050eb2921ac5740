#!/usr/bin/env bash
# synth.sh [OUTDIR]: Yosys synthesis of mpq_top for the variants default (1:16), tern (0:16),
# mix2 (2:16) and dense (16:16), with the parameters of rtl/cfg/<variant>.cfg (each run takes
# a minute to a few; SYNTH_KMAX / SYNTH_LANES shrink the weight buffer / the array if not).
# The weight buffer is a plain array of flip-flops (generic synthesis has no RAM macros).
# Prints a table and writes OUTDIR/table.md atomically.
# Yosys is the PPA flow's (make ppa): the pyosys package in a virtual environment
# (scripts/ppa/venv.sh; Debian's Yosys 0.23 cannot read the RTL's packages), reading the RTL as
# that flow prepares it (scripts/ppa/netlist.py sources), run by scripts/ppa/synth_generic.py.
# Environment: PPA_VENV (the environment, default build/ppa-venv), SYNTH_KMAX, SYNTH_LANES
# (override Lanes), VARIANTS, GOLDEN_BIN (mpq-golden: the one reader of the configuration
# files; make passes it), PYTHON (default python3).
# Generic gate-level cells (Yosys `synth`, no technology library): a relative measure.
set -euo pipefail
out=${1:-build/synth}
kmax=${SYNTH_KMAX:-}
lanes_override=${SYNTH_LANES:-}
variants=${VARIANTS:-default tern mix2 dense}
golden=${GOLDEN_BIN:-build/mpq-golden}
py=${PYTHON:-python3}

case $kmax in *[!0-9]*) echo "synth.sh: SYNTH_KMAX='$kmax' is not a number" >&2; exit 2 ;; esac
case $lanes_override in *[!0-9]*) echo "synth.sh: SYNTH_LANES='$lanes_override' is not a number" >&2; exit 2 ;; esac
for v in $variants; do "$golden" cfg "$v" --path >/dev/null || exit 2; done  # names the configurations there are
pyosys=$(scripts/ppa/venv.sh "${PPA_VENV:-build/ppa-venv}") || { echo "synth.sh: no Yosys (pyosys could not be installed, see above)" >&2; exit 1; }
mkdir -p "$out"
"$py" scripts/ppa/netlist.py sources rtl "$out/rtl" || exit 1

# mpq_cfg_pairs CFG: the cfg's parameters, from the one reader of the cfg files ($GOLDEN_BIN).
# shellcheck source=scripts/ppa/cfg.sh
. scripts/ppa/cfg.sh
export GOLDEN_BIN=$golden

# "Yosys 0.70 (git sha1 28ba3cb92, Release, GNU ...)" -> "Yosys 0.70 (git sha1 28ba3cb92)"
ver=$("$pyosys" -c 'from pyosys import libyosys as ys; print(ys.yosys_maybe_version())' | sed 's/,.*/)/')
tmp=$(mktemp "$out/table.md.XXXXXX")
trap 'rm -f "$tmp"' EXIT
{
  echo "Yosys \`synth -top mpq_top\` (generic cells), $ver, $(uname -m), $(nproc) cores,"
  echo "$(date -u +%Y-%m-%d). Parameters from rtl/cfg/<variant>.cfg${kmax:+, KMax=$kmax}${lanes_override:+, Lanes=$lanes_override}."
  echo "*per lane* = total / Lanes (includes the shared control and the lane's share of the weight"
  echo "buffer); *lane*, *requant*: the cells of one mpq_lane and one mpq_requant instance; *wbuf*: the"
  echo "weight buffer (flip-flops + read mux, all lanes)."
  echo
  echo "| variant | HpPerGroup:KLanes | AccBits | Lanes | KMax | total cells | per lane | lane | requant | wbuf | seconds |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
} >"$tmp"

printf '%-8s %6s %8s %6s %6s %10s %9s %7s %8s %8s %8s\n' variant hp:kl accbits lanes kmax total per-lane lane requant wbuf seconds
for v in $variants; do
  # Every parameter of the cfg (the Verilated models get the same), with the overrides.
  params=()
  pairs=$(mpq_cfg_pairs "$v") || exit 2
  while read -r key val; do
    case $key in
      KMax) [ -n "$kmax" ] && val=$kmax ;;
      Lanes) [ -n "$lanes_override" ] && val=$lanes_override ;;
    esac
    printf -v "p_$key" '%s' "$val"
    params+=("$key=$val")
  done <<<"$pairs"
  start=$(date +%s.%N)
  rm -f "$out/$v.cells"
  if ! "$pyosys" scripts/ppa/synth_generic.py "$out/rtl/sources.f" "$out" "$v" "${params[@]}" >"$out/$v.log" 2>&1 \
      || [ ! -s "$out/$v.cells" ]; then
    grep -m 3 'ERROR' "$out/$v.log" >&2 || tail -n 3 "$out/$v.log" >&2
    echo "synth.sh: yosys failed on variant $v (log: $out/$v.log)" >&2
    exit 1
  fi
  secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }')
  read -r total lane rq wbuf <"$out/$v.cells"
  per_lane=$(( total / p_Lanes ))
  printf '%-8s %6s %8s %6s %6s %10s %9s %7s %8s %8s %8s\n' "$v" "$p_HpPerGroup:$p_KLanes" \
    "$p_AccBits" "$p_Lanes" "$p_KMax" "$total" "$per_lane" "$lane" "$rq" "$wbuf" "$secs"
  echo "| $v | $p_HpPerGroup:$p_KLanes | $p_AccBits | $p_Lanes | $p_KMax | $total | $per_lane | $lane | $rq | $wbuf | $secs |" >>"$tmp"
done
mv "$tmp" "$out/table.md"
trap - EXIT
echo "synth.sh: table in $out/table.md"
