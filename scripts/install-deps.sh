#!/usr/bin/env bash
# install-deps.sh [GROUP...]: make sure the system packages a target needs are present.
# Missing ones are installed with apt-get (non-interactive) when we are root or sudo works
# without a password; otherwise one message names the command that installs them.
# Groups: core (build + simulate), synth, fuzz, coverage, plot, data, bench, wave (GTKWave),
# farm (Slurm + munge for the slurm backend of make regress), ppa (make ppa: Yosys, the OSU
# 0.18 um cell library, OpenSTA, python3), all.
# Quiet when nothing is missing, so every make invocation can call it.
set -u
groups=("$@"); [ ${#groups[@]} -eq 0 ] && groups=(core)

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
      ;;
    synth) have_cmd yosys || want yosys ;;
    fuzz)
      have_cmd clang || want clang
      [ -n "$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] \
        || want libclang-rt-dev  # the default clang's runtime (Debian and Ubuntu llvm-defaults)
      ;;
    coverage) have_cmd genhtml || want lcov ;;
    plot) have_cmd gnuplot || want gnuplot-nox ;;
    data) [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || want dataset-fashion-mnist ;;
    wave) have_cmd gtkwave || want gtkwave ;;
    ppa)
      have_cmd yosys || want yosys
      [ -f /usr/share/qflow/tech/osu018/osu018_stdcells.lib ] || want qflow-tech-osu018
      have_cmd sta || want opensta
      have_cmd python3 || want python3
      # scripts/ppa/venv.sh: pyosys (a current Yosys) in a virtual environment
      python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || want python3-venv
      ;;
    bench)
      have_cmd ccache || want ccache
      have_cmd valgrind || want valgrind  # callgrind: instructions per simulated cycle
      have_cmd python3 || want python3
      python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || want python3-venv
      ;;
    farm)
      # make regress BACKEND=slurm and the one-node cluster of scripts/slurm-cluster.sh:
      # slurm-wlm brings slurmctld, slurmd and the client commands (sbatch, squeue, scontrol).
      have_cmd python3 || want python3
      { have_cmd slurmctld && have_cmd slurmd; } || want slurm-wlm
      { have_cmd sbatch && have_cmd squeue && have_cmd scontrol && have_cmd sinfo; } || want slurm-client
      have_cmd munged || want munge
      ;;
    all) for g in core synth fuzz coverage plot data bench wave farm ppa; do check_group "$g"; done ;;
    *) echo "install-deps.sh: unknown group '$1' (core synth fuzz coverage plot data bench wave farm ppa all)" >&2; exit 2 ;;
  esac
}
for g in "${groups[@]}"; do check_group "$g"; done
[ ${#need[@]} -eq 0 ] && exit 0

# Deduplicate while keeping order.
mapfile -t need < <(printf '%s\n' "${need[@]}" | awk '!seen[$0]++')
if [ "$(id -u)" = 0 ]; then sudo=()
elif have_cmd sudo && sudo -n true 2>/dev/null; then sudo=(sudo -n)
else
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
