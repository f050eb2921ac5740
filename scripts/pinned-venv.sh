#!/usr/bin/env bash
# pinned-venv.sh DIR REQUIREMENTS WHAT IMPORTS [PIP-ARG...]: a Python virtual environment in DIR
# holding REQUIREMENTS (every package pinned), for the project's venv scripts
# (scripts/models/venv.sh, scripts/zigzag/venv.sh); prints the path of its python. Quiet and
# quick when it is installed already with the same requirements (a stamp of their sha256);
# reinstalled when they change. Two makes may ask at once (make -j2): one installs, the other
# waits on DIR.lock. Wheels only (PIP-ARGs may name exceptions): nothing is compiled, and a
# platform without wheels fails here, clearly. IMPORTS (Python) must run in the new venv.
# Exit 1 (pip's log shown) when it cannot be installed. WHAT names it in the messages.
set -euo pipefail
dir=${1:?usage: pinned-venv.sh DIR REQUIREMENTS WHAT IMPORTS [PIP-ARG...]} req=${2:?} what=${3:?} imports=${4:?}
shift 4
py=$dir/bin/python
stamp=$dir/.mpq-ready
want=$(sha256sum "$req" | cut -d' ' -f1)
ready() { [ -x "$py" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; }
abs() { printf '%s/%s\n' "$(cd "$(dirname "$1")" && pwd)" "$(basename "$1")"; }
if ready; then abs "$py"; exit 0; fi

"$(cd "$(dirname "$0")" && pwd)/install-deps.sh" models >&2 || exit 1
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
if ready; then abs "$py"; exit 0; fi
log=$dir.log
echo "venv.sh: installing $what into $dir (log: $log)" >&2
rm -rf "$dir"
start=$(date +%s)
if ! { python3 -m venv "$dir" &&
       "$dir/bin/pip" install -q --disable-pip-version-check --no-cache-dir --only-binary=:all: "$@" -r "$req" &&
       "$py" -c "$imports"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "venv.sh: could not install $req into $dir (python3 is $(python3 --version 2>&1); log above)" >&2
    exit 1
fi
printf '%s\n' "$want" >"$stamp"
echo "venv.sh: installed in $(( $(date +%s) - start )) s, $(du -sh "$dir" | cut -f1)" >&2
abs "$py"
