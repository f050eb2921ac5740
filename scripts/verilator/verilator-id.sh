#!/usr/bin/env bash
# verilator-id.sh key|name VERILATOR: what names a Verilator program.
#   key   its release, e.g. 5.006 or 5.048: the build tree of its models (build/verilator-KEY)
#   name  one line for reports (make bench): release, origin and revision
# A Verilator installed by scripts/verilator/verilator-venv.sh says its release in the venv's stamp (the
# PyPI wheel's binary was built without it); any other says it in `verilator --version`.
set -euo pipefail
what=${1:?usage: scripts/verilator/verilator-id.sh key|name VERILATOR}
vl=${2:?usage: scripts/verilator/verilator-id.sh key|name VERILATOR}
path=$(command -v "$vl") || { echo "verilator-id.sh: no program $vl" >&2; exit 2; }
stamp=$(dirname "$path")/../.mpq-ready
if [ -f "$stamp" ]; then
    line=$(cat "$stamp")
else
    line=$("$vl" --version) || { echo "verilator-id.sh: $vl --version failed" >&2; exit 2; }
fi
case $what in
    name) printf '%s\n' "$line" ;;
    key)
        rel=$(sed -n 's/^Verilator \([0-9][0-9.]*\).*/\1/p' <<<"$line")
        # No release number: the revision, made safe for a folder name.
        [ -n "$rel" ] || rel=$(sed 's/.*rev *//; s/[^A-Za-z0-9._-]/_/g' <<<"$line")
        printf '%s\n' "$rel" ;;
    *) echo "verilator-id.sh: key or name, not '$what'" >&2; exit 2 ;;
esac
