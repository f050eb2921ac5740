#!/usr/bin/env bash
# build-dut.sh DESC KIND OUTDIR [NAME=VALUE...]
# Builds the transaction-level testbench OUTDIR/mpq-txn of the DUT that the description DESC
# (docs/dut.md) describes, for build KIND (plain, or trace: FST, for the waveform of a
# failure), with the description's parameters NAME=VALUE set (Verilator -G). Three steps, as
# tb/build-model.sh for mpq's own accelerator: Verilator writes the model's C++ (its top,
# sources, include folders and waivers from `mpq-golden dut verilator-args`); `mpq-golden dut
# shim` checks the description against the model's header and writes the shim (exit 2 naming
# the file, line and port when they differ: nothing is compiled, nothing simulated); make
# compiles and links it with the objects in $TXN_OBJS and the golden library $GOLDEN_LIB.
set -euo pipefail
desc=${1:?usage: tb/build-dut.sh DESC KIND OUTDIR [NAME=VALUE...]} kind=${2:?} out=${3:?}
shift 3
: "${VERILATOR:=verilator}" "${CXX:=c++}" "${TXN_OBJS:?}" "${GOLDEN_LIB:?}" "${GOLDEN_BIN:?}"
top=$PWD
# shellcheck source=tb/build-lib.sh
. "$top/tb/build-lib.sh"
params=()
for p in "$@"; do params+=(--param "$p"); done
# What Verilator builds, from the description (refused here, exit 2, when it is bad).
vargs=$("$GOLDEN_BIN" dut verilator-args "$desc" --build "$kind" "${params[@]}") || exit 2
mapfile -t vargs <<<"$vargs"
flags=(--cc --exe --prefix Vdut -Mdir "$out/vl" -o "$(abs "$out")/mpq-txn")
# As mpq's model: optimized, undefined bits to zero, assertions in (a failure is reported),
# the initial value of every register random at run time (the seed of mpq_dut_new).
flags+=(-O3 --x-assign fast --x-initial unique --assert)
# DUT_VERILATOR_FLAGS: more Verilator flags (scripts/mutate/mutate-osa.sh: -Wno-fatal, as a
# mutant may trip a lint warning).
# shellcheck disable=SC2206
flags+=(${DUT_VERILATOR_FLAGS:-})
cflags="-I$top/golden -I$top/tb -g"
makeflags="OPT_FAST=-O2 OPT_SLOW=-O1 OPT_GLOBAL=-O2"
case $kind in
  plain) ;;
  trace) flags+=(--trace-fst --trace-structs); cflags+=" -DMPQ_TRACED" ;;
  *) echo "build-dut.sh: build kind $kind: plain or trace" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086
prepare_build build-dut.sh $TXN_OBJS $GOLDEN_LIB
verilate "${flags[@]}" -CFLAGS "$cflags" "${vargs[@]}" "$shim" "${objs[@]}"
"$GOLDEN_BIN" dut shim "$desc" --model "$out/vl/Vdut.h" --build "$kind" -o "$shim" "${params[@]}" || exit 2
make_model
