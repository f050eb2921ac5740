#!/usr/bin/env bash
# venv.sh [DIR]: the Python virtual environment of ZigZag (PyPI zigzag-dse, the mapping and
# energy explorer make explore-peers runs; scripts/zigzag/requirements.txt, every package
# pinned) in DIR (default build/tools/zigzag-venv, shared by every build tree); prints the
# path of its python. Quiet and quick when it is installed already with the same
# requirements; reinstalled when they change. Exit 1 (pip's log shown) when it cannot be
# installed. The same habits as scripts/models/venv.sh, in a venv of its own: ZigZag pins a
# protobuf and an onnx that LiteRT's venv cannot share.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
req=$here/requirements.txt
dir=${1:-build/tools/zigzag-venv}
py=$dir/bin/python
stamp=$dir/.mpq-ready
want=$(sha256sum "$req" | cut -d' ' -f1)
ready() { [ -x "$py" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; }
abs() { printf '%s/%s\n' "$(cd "$(dirname "$1")" && pwd)" "$(basename "$1")"; }
if ready; then abs "$py"; exit 0; fi

scripts_dir=$(cd "$here/.." && pwd)
"$scripts_dir/install-deps.sh" models >&2 || exit 1
mkdir -p "$(dirname "$dir")"
# Two makes may ask at once: one installs, the other waits.
exec 9>"$dir.lock"
flock 9
if ready; then abs "$py"; exit 0; fi
log=$dir.log
echo "venv.sh: installing ZigZag into $dir (log: $log)" >&2
rm -rf "$dir"
start=$(date +%s)
# Wheels only, but for multiprocessing_on_dill (pure Python, no wheel published): nothing is
# compiled, and a platform without wheels fails here, clearly.
if ! { python3 -m venv "$dir" &&
       "$dir/bin/pip" install -q --disable-pip-version-check --no-cache-dir --only-binary=:all: \
         --no-binary=multiprocessing_on_dill -r "$req" &&
       "$py" -c 'import zigzag.api, yaml'; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "venv.sh: could not install $req into $dir (python3 is $(python3 --version 2>&1); log above)" >&2
    exit 1
fi
printf '%s\n' "$want" >"$stamp"
echo "venv.sh: installed in $(( $(date +%s) - start )) s, $(du -sh "$dir" | cut -f1)" >&2
abs "$py"
