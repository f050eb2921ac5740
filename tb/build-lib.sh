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
verilate() { "$VERILATOR" "$@" >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }; }
make_model() {
    # shellcheck disable=SC2086
    make -C "$out/vl" -f Vdut.mk -j2 $makeflags "$@" >>"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
}
