# tb/build-lib.sh: what tb/build-model.sh and tb/build-dut.sh share; sourced by them, not run.
# Both set `top` (the repository) and `out` (the build folder) and arrays `flags` (Verilator's)
# and the string `makeflags` (the generated makefile's) before calling these.

abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$top/$1" ;; esac; }

# link_objs WHO PATHS...: objs=(the paths made absolute, then zlib). zlib (the golden library's
# vector files) comes as a file after the library: Verilator passes object and library files
# to the linker in order, after the model (every release does).
link_objs() {
    local who=$1 o zlib
    shift
    objs=()
    for o in "$@"; do objs+=("$(abs "$o")"); done
    zlib=$("${CC:-cc}" -print-file-name=libz.so)
    [ -f "$zlib" ] || { echo "$who: libz.so not found (scripts/install-deps.sh installs zlib1g-dev)" >&2; exit 2; }
    objs+=("$zlib")
}

# sanitize_shim_only WHO: SAN=1 (CXXFLAGS_SAN, LDFLAGS_SAN set). The sanitizers instrument the
# project's own code (the testbench objects and the golden library, which make builds, and the
# shim generated from the DUT description), not the C++ Verilator generated from the RTL nor
# Verilator's runtime: that code is not ours to fix (the runtime's FST writer stores to
# misaligned addresses: UBSan ended every traced re-simulation before its waveform was
# written), and instrumented it compiled 3x (plain model: 48 s of CPU against 16) to 7x
# (traced: 214 s against 30) slower, the gate-level netlist over 30 minutes. The shim gets the
# flags from a makefile that make reads after the generated one (as Verilator's own tests
# pass make options); the link gets them from -LDFLAGS.
sanitize_shim_only() {
    if [ -n "${CXXFLAGS_SAN:-}" ]; then
        printf '# %s: only the shim is compiled with the sanitizers\nmpq_dut_shim.o: CPPFLAGS += %s\n' \
            "$1" "$CXXFLAGS_SAN" >"$out/shim-flags.mk"
        makeflags+=" -f $(abs "$out")/shim-flags.mk"
    else
        rm -f "$out/shim-flags.mk"
    fi
    [ -z "${LDFLAGS_SAN:-}" ] || flags+=(-LDFLAGS "$LDFLAGS_SAN")
}

# prepare_build WHO OBJS...: objs (link_objs), a fresh $out/vl, the sanitizers' flags
# (sanitize_shim_only), and shim: the path of the shim, generated into the model's folder
# after Verilator ran (Verilator only records its name).
prepare_build() {
    link_objs "$@"
    rm -rf "$out/vl"
    mkdir -p "$out"
    sanitize_shim_only "$1"
    shim="$(abs "$out")/vl/mpq_dut_shim.cpp"
}

# verilate ARGS...: $VERILATOR ARGS, its output in a new $out/build.log; make_model ARGS...:
# the generated makefile's model (make -j2 $makeflags ARGS in $out/vl), its output added to
# the log. Either shows the log and exits 1 when it fails.
# Verilator's runtime (verilated.cpp, its threads, DPI, FST writer, coverage: the makefile's
# VK_GLOBAL_OBJS) is the same C++ for every model a Verilator builds with the same flags, and
# compiling it cost each model 8-9 s of CPU (the FST writer 13 s more): a make test pass
# builds about 25 models. With $MPQ_CCACHE_DIR set (the Makefile sets $(BUILD)/ccache) and
# ccache installed, those objects go through ccache (OBJCACHE, the generated makefile's
# documented hook), keyed by the whole compile command and the headers it reads; the model's
# own C++ does not (a miss would cost ccache's preprocessing, and models are rarely built
# twice). CCACHE_NOHASHDIR: the model folders differ; only the debug info's build folder
# depends on it.
verilate() { "$VERILATOR" "$@" >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }; }
make_model() {
    local cache=()
    if [ -n "${MPQ_CCACHE_DIR:-}" ] && command -v ccache >/dev/null 2>&1; then
        # shellcheck disable=SC2016
        printf '# build-lib.sh: Verilator'"'"'s runtime objects through ccache\n$(VK_GLOBAL_OBJS): OBJCACHE := ccache\n' \
            >"$out/runtime-cache.mk"
        cache=(-f "$(abs "$out")/runtime-cache.mk")
        export CCACHE_DIR=$MPQ_CCACHE_DIR CCACHE_NOHASHDIR=1
    fi
    # shellcheck disable=SC2086
    make -C "$out/vl" -f Vdut.mk "${cache[@]}" -j2 $makeflags "$@" >>"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
}
