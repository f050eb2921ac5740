#!/usr/bin/env bash
# build-model.sh CONFIG KIND OUTDIR RTLDIR [VERILATOR FLAGS...]
# Verilates the accelerator for rtl/cfg/CONFIG.cfg into OUTDIR/vl and links the testbench
# OUTDIR/mpq-tb from the driver objects in $TB_OBJS and the golden library $GOLDEN_LIB.
# KIND: plain (fast, no tracing), trace (tb/mpq_tb_top.sv wrapper, FST), cov (coverage),
# gls (the mapped gate-level netlist of scripts/ppa.sh, with per-net toggle counts).
# RTLDIR is rtl/ normally, a mutated copy for mutation testing, or for gls the folder whose
# gls.f lists the netlist, the cell models and their waivers. $TB_NAME names the program
# (default mpq-tb; the Fashion-MNIST runner links its own objects as mpq-mnist-rtl).
set -euo pipefail
cfg=$1 kind=$2 out=$3 rtl=$4
shift 4
: "${VERILATOR:=verilator}" "${CXX:=c++}" "${TB_OBJS:?}" "${GOLDEN_LIB:?}"
cfgfile=rtl/cfg/$cfg.cfg
[ -f "$cfgfile" ] || { echo "build-model.sh: no configuration $cfgfile" >&2; exit 2; }
gflags=$(awk '{ sub(/#.*/, ""); if (split($0, kv, "=") == 2) { gsub(/[ \t]/, "", kv[1]);
  gsub(/[ \t]/, "", kv[2]); if (kv[1] != "") printf "-G%s=%s ", kv[1], kv[2] } }' "$cfgfile")
srcs=("$rtl/mpq_pkg.sv" "$rtl/mpq_wbuf.sv" "$rtl/mpq_lane.sv" "$rtl/mpq_requant.sv" "$rtl/mpq_top.sv")
vlt=("$rtl/mpq.vlt")
# -O2 for the model (Verilator's default OPT_FAST is -Os).
opt=(OPT_FAST=-O2 OPT_SLOW=-O1 OPT_GLOBAL=-O2)
flags=(--cc -O3 --x-assign fast --x-initial fast --assert --prefix Vdut -Mdir "$out/vl")
defs=()
case $kind in
  plain) flags+=(--top-module mpq_top) ;;
  trace) flags+=(--top-module mpq_tb_top --trace-fst --trace-structs); srcs+=(tb/mpq_tb_top.sv)
         defs+=(-DMPQ_TRACED) ;;
  cov)   flags+=(--top-module mpq_top --coverage-line --coverage-toggle); defs+=(-DMPQ_COVERAGE) ;;
  # The netlist already carries the configuration (no -G); its nets are public_flat_rd and
  # the shim counts their toggles (MPQ_TOGGLE_DIR). Tens to hundreds of MB of straight-line
  # C++: -O0 compiles it about twice as fast as -O1, and the replays are short.
  gls)   flags+=(--top-module mpq_top); defs+=(-DMPQ_TOGGLES); srcs=(-f "$rtl/gls.f"); vlt=()
         gflags=""; opt=(OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O2) ;;
  *) echo "build-model.sh: unknown kind $kind" >&2; exit 2 ;;
esac
rm -rf "$out/vl"
mkdir -p "$out"
# shellcheck disable=SC2086
"$VERILATOR" "${flags[@]}" "$@" $gflags "${vlt[@]}" "${srcs[@]}" >"$out/verilator.log" 2>&1 \
  || { cat "$out/verilator.log" >&2; exit 1; }
# The model's archive and the Verilator runtime objects it needs (VM_GLOBAL_FAST).
globals=$(sed -n '/^VM_GLOBAL_FAST/,/^$/p' "$out/vl/Vdut_classes.mk" | grep -v VM_GLOBAL | tr -d '\\' | xargs)
objs=$(for g in $globals; do printf '%s.o ' "$g"; done)
make -s -C "$out/vl" -f Vdut.mk -j2 "${opt[@]}" Vdut__ALL.a $objs \
  >"$out/make.log" 2>&1 || { cat "$out/make.log" >&2; exit 1; }
vlinc=$("$VERILATOR" --getenv VERILATOR_ROOT)/include
# -faligned-new as the model itself is compiled: Vdut is over-aligned, and its deleting
# destructor (compiled in the model) uses the aligned operator delete.
"$CXX" -std=gnu++17 -faligned-new -O2 -g -I"$out/vl" -I"$vlinc" -I"$vlinc/vltstd" -Igolden -Itb "${defs[@]}" \
  ${CXXFLAGS_SAN:-} -c tb/mpq_dut.cpp -o "$out/mpq_dut.o"
libs=(-lz -lm -lpthread)
# shellcheck disable=SC2086
name=${TB_NAME:-mpq-tb}
"$CXX" ${LDFLAGS_SAN:-} -o "$out/$name.tmp" $TB_OBJS "$out/mpq_dut.o" "$out/vl/Vdut__ALL.a" \
  $(for o in $objs; do printf '%s ' "$out/vl/$o"; done) "$GOLDEN_LIB" "${libs[@]}"
mv "$out/$name.tmp" "$out/$name"
