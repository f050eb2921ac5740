#!/usr/bin/env bash
# venv.sh [DIR]: the Python virtual environment of ZigZag (PyPI zigzag-dse, the mapping and
# energy explorer make explore-peers runs; scripts/zigzag/requirements.txt, every package
# pinned) in DIR (default build/tools/zigzag-venv, shared by every build tree); prints the
# path of its python. Quiet and quick when it is installed already with the same
# requirements; reinstalled when they change. Exit 1 (pip's log shown) when it cannot be
# installed (scripts/pinned-venv.sh, as scripts/models/venv.sh, in a venv of its own: ZigZag
# pins a protobuf and an onnx that LiteRT's venv cannot share). Wheels only, but for
# multiprocessing_on_dill (pure Python, no wheel published: nothing is compiled).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../pinned-venv.sh" "${1:-build/tools/zigzag-venv}" "$here/requirements.txt" "ZigZag" \
    'import zigzag.api, yaml' --no-binary=multiprocessing_on_dill
