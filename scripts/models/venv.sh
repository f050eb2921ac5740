#!/usr/bin/env bash
# venv.sh [DIR]: the Python virtual environment of the model references (LiteRT, TensorFlow Lite
# Micro, Arm's Vela; scripts/models/requirements.txt, every package pinned) in DIR (default
# build/tools/models-venv, shared by every build tree: nothing in it depends on SAN or the
# Verilator version); prints the path of its python. Quiet and quick when it is installed
# already with the same requirements; reinstalled when they change. Exit 1 (pip's log shown)
# when it cannot be installed (scripts/pinned-venv.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../pinned-venv.sh" "${1:-build/tools/models-venv}" "$here/requirements.txt" "the model references" \
    'import ai_edge_litert.interpreter, ai_edge_litert.schema_py_generated
import ai_edge_litert._pywrap_tensorflow_lite_calibration_wrapper
from tflite_micro.python.tflite_micro import runtime
import ethosu.vela'
