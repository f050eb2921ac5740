#!/usr/bin/env bash
# build-sv.sh OUTDIR DPI_SO: Verilates the SystemVerilog testbench of the golden model's DPI-C
# export (golden/export/tests/tb_golden_dpi.sv with golden/export/sv/mpq_golden_pkg.sv and the
# RTL unit it drives, rtl/mpq_requant.sv) into OUTDIR/tb_golden_dpi, a --binary --timing
# program linked with DPI_SO (build/libmpq_dpi.so: the DPI adapter and the golden library), the
# way a user's testbench on another simulator loads it. $VERILATOR names the Verilator;
# $SAN_FLAGS (make SAN=1) builds the model with the sanitizers too.
set -euo pipefail
out=${1:?usage: build-sv.sh OUTDIR DPI_SO} so=${2:?usage: build-sv.sh OUTDIR DPI_SO}
: "${VERILATOR:=verilator}"
top=$PWD
abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$top/$1" ;; esac; }
so=$(abs "$so")
flags=(--binary --timing --top-module tb_golden_dpi -Mdir "$out/vl" -o "$(abs "$out")/tb_golden_dpi")
flags+=(--build-jobs 2)
# The testbench runs for a fraction of a second: compile the model and its runtime unoptimized,
# which halves the build.
flags+=(-MAKEFLAGS "OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0")
# Lint as the RTL is linted; assertions on.
flags+=(-Wall --assert)
# The library is found at run time where make built it.
flags+=(-LDFLAGS "-Wl,-rpath,$(dirname "$so")")
if [ -n "${SAN_FLAGS:-}" ]; then flags+=(-CFLAGS "$SAN_FLAGS" -LDFLAGS "$SAN_FLAGS"); fi
srcs=(rtl/mpq.vlt golden/export/tests/tb_golden_dpi.vlt rtl/mpq_layout_pkg.sv golden/export/sv/mpq_golden_pkg.sv rtl/mpq_requant.sv
      golden/export/tests/tb_golden_dpi.sv)
rm -rf "$out/vl"
mkdir -p "$out"
# The shared library goes on the command line: Verilator links such files after the model.
"$VERILATOR" "${flags[@]}" "${srcs[@]}" "$so" >"$out/build.log" 2>&1 ||
    { cat "$out/build.log" >&2; exit 1; }
