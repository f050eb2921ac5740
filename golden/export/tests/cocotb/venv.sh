#!/usr/bin/env bash
# venv.sh [DIR]: the Python virtual environment of the cocotb example (requirements.txt beside
# this file, every package pinned) in DIR (default build/tools/cocotb-venv, shared by every
# build tree), made from the system's /usr/bin/python3, whose shared libpython (Debian's
# libpython3.X) cocotb's simulator loads; prints the path of the venv's bin folder. Quiet and
# quick when it is installed already with the same requirements; reinstalled when they change.
# Exit 1 (pip's log shown) when it cannot be installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
req=$here/requirements.txt
dir=${1:-build/tools/cocotb-venv}
stamp=$dir/.mpq-ready
want=$(sha256sum "$req" | cut -d' ' -f1)
ready() { [ -x "$dir/bin/cocotb-config" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; }
bindir() { printf '%s/bin\n' "$(cd "$dir" && pwd)"; }
if ready; then bindir; exit 0; fi

top=$(cd "$here/../../../.." && pwd)
"$top/scripts/install-deps.sh" cocotb >&2 || exit 1
mkdir -p "$(dirname "$dir")"
# Two makes may ask at once: one installs, the other waits.
exec 9>"$dir.lock"
flock 9
if ready; then bindir; exit 0; fi
log=$dir.log
echo "venv.sh: installing cocotb into $dir (log: $log)" >&2
rm -rf "$dir"
start=$(date +%s)
# Wheels only: nothing is compiled, and a platform without wheels fails here, clearly.
if ! { /usr/bin/python3 -m venv "$dir" &&
       "$dir/bin/pip" install -q --disable-pip-version-check --no-cache-dir --only-binary=:all: -r "$req" &&
       "$dir/bin/python" -c 'import cocotb, find_libpython; assert find_libpython.find_libpython()'; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "venv.sh: could not install $req into $dir ($(/usr/bin/python3 --version 2>&1); log above)" >&2
    exit 1
fi
printf '%s\n' "$want" >"$stamp"
echo "venv.sh: installed in $(( $(date +%s) - start )) s" >&2
bindir
