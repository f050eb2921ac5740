#!/usr/bin/env bash
# venv.sh DIR: a Python virtual environment in DIR with Yosys as the pyosys package (PyPI:
# libyosys and its ABC, version PPA_PYOSYS_VERSION); prints DIR/bin/python. Kept when it
# already imports that version. Debian's Yosys 0.23 cannot read the RTL (packed-struct
# functions with `longint'` casts in rtl/mpq_layout_pkg.sv); pyosys is a current Yosys for
# the same x86-64 and aarch64 Linux machines, from the one registry besides Debian's the
# project installs from. Exit 1 (with pip's log) when it cannot be installed.
set -euo pipefail
dir=${1:?usage: venv.sh DIR}
version=${PPA_PYOSYS_VERSION:-0.70}
py=$dir/bin/python
# make test runs ppa/small and synth/small at once: one installs, the other waits for it.
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
if [ -x "$py" ] && [ "$("$py" -c 'import importlib.metadata as m; print(m.version("pyosys"))' 2>/dev/null)" = "$version" ]; then
  echo "$py"
  exit 0
fi
rm -rf "$dir"
if ! { python3 -m venv "$dir" && "$dir/bin/pip" install -q --disable-pip-version-check "pyosys==$version"; } \
    >"$dir.log" 2>&1; then
  cat "$dir.log" >&2
  echo "venv.sh: pyosys $version could not be installed in $dir (log: $dir.log)" >&2
  exit 1
fi
echo "$py"
