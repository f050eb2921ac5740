#!/usr/bin/env bash
# synth.sh [OUTDIR]: Yosys synthesis of mpq_top for the variants default (1:16), tern (0:16),
# mix2 (2:16) and dense (16:16), with the parameters of rtl/cfg/<variant>.cfg (each run takes
# seconds to a minute; SYNTH_KMAX / SYNTH_LANES shrink the weight buffer / the array if not).
# The weight buffer is a plain array of flip-flops (generic synthesis has no RAM macros).
# Prints a table and writes OUTDIR/table.md atomically.
# Environment: YOSYS (default yosys), SYNTH_KMAX, SYNTH_LANES (override Lanes), VARIANTS,
# GOLDEN_BIN (mpq-golden: the one reader of the configuration files; make passes it).
# Generic gate-level cells (Yosys `synth`, no technology library): a relative measure.
set -euo pipefail
out=${1:-build/synth}
yosys=${YOSYS:-yosys}
kmax=${SYNTH_KMAX:-}
lanes_override=${SYNTH_LANES:-}
variants=${VARIANTS:-default tern mix2 dense}
golden=${GOLDEN_BIN:-build/mpq-golden}
srcs=$(sed 's|^|rtl/|' rtl/sources.list | tr '\n' ' ')

if ! command -v "$yosys" >/dev/null 2>&1; then
  echo "synth.sh: $yosys not found (scripts/install-deps.sh synth installs it)" >&2
  exit 2
fi
case $kmax in *[!0-9]*) echo "synth.sh: SYNTH_KMAX='$kmax' is not a number" >&2; exit 2 ;; esac
mkdir -p "$out"

# value KEY CONFIG: one value of rtl/cfg/CONFIG.cfg, from the one reader of the cfg files.
value() { "$golden" cfg "$2" --get "$1"; }

# cells MODULE_PATTERN STATFILE: "Number of cells" of the first module section matching.
cells() {
  awk -v pat="$1" '/^=== / { insec = ($0 ~ pat) } insec && /Number of cells:/ { print $4; exit }' "$2"
}

ver=$("$yosys" -V | head -n 1)
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
  "$golden" cfg "$v" --path >/dev/null || exit 2  # names the configurations there are
  set_args=""
  for key in Lanes KLanes HpPerGroup ActBits HpBits AlphaBits AccBits OutBits KMax; do
    val=$(value "$key" "$v") || exit 2
    case $key in
      KMax) [ -n "$kmax" ] && val=$kmax ;;
      Lanes) [ -n "$lanes_override" ] && val=$lanes_override ;;
    esac
    eval "p_$key=$val"
    set_args="$set_args -set $key $val"
  done
  start=$(date +%s.%N)
  if ! "$yosys" -q -l "$out/$v.log" -p "read_verilog -sv $srcs; chparam $set_args mpq_top; \
      synth -top mpq_top; tee -q -o $out/$v.stat stat" >/dev/null; then
    echo "synth.sh: yosys failed on variant $v (log: $out/$v.log)" >&2
    exit 1
  fi
  secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }')
  total=$(awk '/^=== design hierarchy ===/ { h = 1 } h && /Number of cells:/ { n = $4 } END { print n }' "$out/$v.stat")
  lane=$(cells 'mpq_lane' "$out/$v.stat")
  rq=$(cells 'mpq_requant' "$out/$v.stat")
  wbuf=$(cells 'mpq_wbuf' "$out/$v.stat")
  per_lane=$(( total / p_Lanes ))
  printf '%-8s %6s %8s %6s %6s %10s %9s %7s %8s %8s %8s\n' "$v" "$p_HpPerGroup:$p_KLanes" \
    "$p_AccBits" "$p_Lanes" "$p_KMax" "$total" "$per_lane" "$lane" "$rq" "$wbuf" "$secs"
  echo "| $v | $p_HpPerGroup:$p_KLanes | $p_AccBits | $p_Lanes | $p_KMax | $total | $per_lane | $lane | $rq | $wbuf | $secs |" >>"$tmp"
done
mv "$tmp" "$out/table.md"
trap - EXIT
echo "synth.sh: table in $out/table.md"
