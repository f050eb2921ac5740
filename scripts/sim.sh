#!/usr/bin/env bash
# sim.sh [--vec "FILE..."] CONFIG...: the runs of `make sim` (tb/tb.mk sets the environment).
# For each configuration: its committed vectors (vectors/regress/CONFIG-*.vec), then lockstep
# layers for SIM_CYCLES cycles from seed SEED (1 when empty); with SEED set, the lockstep part
# only; with --vec, those files only (one configuration). Exit status: 0 every run passed, 1
# a mismatch (the other configurations still run), 2 bad input (stops at once): mpq-tb's own
# codes, so that a script or CI can tell a failing RTL from a bad command; the last line says
# which. Environment: BUILD, TRACES, SIM_KIND (plain or wb), SIM_CYCLES, SEED, WHITEBOX,
# TRACE_BUILD (mpq-tb's --trace-build command, %CFG% standing for the configuration),
# KEEP_TRACES (trace folders kept in TRACES besides this make sim's: mpq-tb --keep-traces;
# default 20, 0 keeps all).
set -u
vec=
if [ "${1:-}" = --vec ]; then vec=$2; shift 2; fi
[ $# -gt 0 ] || { echo "sim.sh: no configuration given" >&2; exit 2; }
: "${BUILD:?} ${TRACES:?} ${SIM_KIND:?} ${SIM_CYCLES:?}"
worst=0 failed=() kept=
keep=${KEEP_TRACES:-20} written=0
# Bad values stop here, before anything runs (make checks them too, before it builds).
case $SIM_CYCLES in '' | *[!0-9]* | 0) echo "sim: SIM_CYCLES=$SIM_CYCLES is not a positive integer" >&2; exit 2 ;; esac
case ${SEED:-1} in *[!0-9]*) echo "sim: SEED=$SEED is not a non-negative integer" >&2; exit 2 ;; esac
case $keep in *[!0-9]*) echo "sim: KEEP_TRACES=$keep is not a non-negative integer" >&2; exit 2 ;; esac
# mpq-tb rewrites TRACES/last-run on every run: keep the first failing run's record, so that
# `make wave` opens its trace even when later configurations pass.
note() {
    local rc=$1 what=$2
    # mpq-tb keeps its own run's traces: the earlier runs of this make sim are counted in.
    [ -f "$TRACES/last-run" ] && written=$((written + $(grep -c '^trace: ' "$TRACES/last-run")))
    if [ "$rc" -eq 1 ]; then
        failed+=("$what")
        [ -z "$kept" ] && [ -f "$TRACES/last-run" ] && kept=$(cat "$TRACES/last-run")
        [ "$worst" -lt 1 ] && worst=1
    elif [ "$rc" -ne 0 ]; then
        echo "sim: $what: bad input or testbench error (mpq-tb exit $rc); nothing more is run"
        exit 2
    fi
}
for cfg in "$@"; do
    bin="$BUILD/vl/$cfg/$SIM_KIND/mpq-tb"
    args=(--config "rtl/cfg/$cfg.cfg" --trace-dir "$TRACES" --trace-build "${TRACE_BUILD//%CFG%/$cfg}"
          --keep-traces $((keep ? keep + written : 0)))
    [ -n "${WHITEBOX:-}" ] && args+=(--whitebox)
    if [ -n "$vec" ]; then
        # shellcheck disable=SC2086  # VEC is a list of files
        "$bin" replay $vec "${args[@]}" --junit "$BUILD/sim-junit-$cfg.xml" --name "$cfg"
        note $? "$cfg replay"
        continue
    fi
    if [ -z "${SEED:-}" ]; then
        vecs=(vectors/regress/"$cfg"-*.vec)
        if [ -f "${vecs[0]}" ]; then
            echo "sim: $cfg: the ${#vecs[@]} committed vectors"
            "$bin" replay "${vecs[@]}" "${args[@]}" --junit "$BUILD/sim-junit-$cfg.xml" --name "$cfg"
            note $? "$cfg vectors"
        else
            echo "sim: $cfg: no vectors/regress/$cfg-*.vec are committed: lockstep only"
        fi
    fi
    echo "sim: $cfg: random layers for $SIM_CYCLES cycles from seed ${SEED:-1} (SEED=n for others)"
    "$bin" lockstep --seed "${SEED:-1}" --cycles "$SIM_CYCLES" -q --stats "${args[@]}" --name "$cfg" \
        --junit "$BUILD/sim-junit-$cfg-lockstep.xml"
    note $? "$cfg lockstep"
done
if [ -n "$kept" ]; then
    printf '%s\n' "$kept" >"$TRACES/last-run.tmp" && mv -f "$TRACES/last-run.tmp" "$TRACES/last-run"
fi
if [ "$worst" -eq 0 ]; then
    echo "sim: passed: $*"
else
    echo "sim: FAILED (a mismatch; make wave opens its trace): ${failed[*]}"
fi
exit "$worst"
