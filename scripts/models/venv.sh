#!/usr/bin/env bash
# venv.sh [DIR]: the Python virtual environment of the model references (LiteRT, TensorFlow Lite
# Micro, Arm's Vela; scripts/models/requirements.txt, every package pinned) in DIR (default
# build/tools/models-venv, shared by every build tree: nothing in it depends on SAN or the
# Verilator version); prints the path of its python. Quiet and quick when it is installed
# already with the same requirements; reinstalled when they change. Exit 1 (pip's log shown)
# when it cannot be installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
req=$here/requirements.txt
dir=${1:-build/tools/models-venv}
py=$dir/bin/python
stamp=$dir/.mpq-ready
want=$(sha256sum "$req" | cut -d' ' -f1)
ready() { [ -x "$py" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; }
abs() { printf '%s/%s\n' "$(cd "$(dirname "$1")" && pwd)" "$(basename "$1")"; }
if ready; then abs "$py"; exit 0; fi

scripts_dir=$(cd "$here/.." && pwd)
"$scripts_dir/install-deps.sh" models >&2 || exit 1
mkdir -p "$(dirname "$dir")"
# Two makes may ask at once (make -j2: models-fetch and a test): one installs, the other waits.
exec 9>"$dir.lock"
flock 9
if ready; then abs "$py"; exit 0; fi
log=$dir.log
echo "venv.sh: installing the model references into $dir (log: $log)" >&2
rm -rf "$dir"
start=$(date +%s)
# Wheels only: nothing is compiled, and a platform without wheels fails here, clearly.
if ! { python3 -m venv "$dir" &&
       "$dir/bin/pip" install -q --disable-pip-version-check --no-cache-dir --only-binary=:all: -r "$req" &&
       "$py" -c 'import ai_edge_litert.interpreter, ai_edge_litert.schema_py_generated
import ai_edge_litert._pywrap_tensorflow_lite_calibration_wrapper
from tflite_micro.python.tflite_micro import runtime
import ethosu.vela'; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "venv.sh: could not install $req into $dir (python3 is $(python3 --version 2>&1); log above)" >&2
    exit 1
fi
printf '%s\n' "$want" >"$stamp"
echo "venv.sh: installed in $(( $(date +%s) - start )) s, $(du -sh "$dir" | cut -f1)" >&2
abs "$py"
