# farm-lib.sh: what the farm tests share (sourced by scripts/farm/tests/farm-*.sh, from the repo root).
# Environment from make: BUILD, PYTHON, REGRESS_BUILD_CMD, MPQ_GOLDEN (regress.py reads the
# configurations and mpq-tb's option table through it).
: "${BUILD:=build}" "${PYTHON:=python3}" "${REGRESS_BUILD_CMD:=make -s --no-print-directory BUILD=$BUILD}"
: "${MPQ_GOLDEN:=$BUILD/mpq-golden}"
export MPQ_GOLDEN

fail() { echo "FAIL: $*"; exit 1; }
note() { echo "== $*"; }

# regress CMD ARGS...: scripts/farm/regress.py with this test's results folder.
regress() {
    local cmd=$1; shift
    if [ "$cmd" = run ]; then
        "$PYTHON" scripts/farm/regress.py run --build "$BUILD" --results "$work/results" --build-cmd "$REGRESS_BUILD_CMD" "$@"
    else
        "$PYTHON" scripts/farm/regress.py "$cmd" --build "$BUILD" --results "$work/results" "$@"
    fi
}

# jget FILE EXPR: a value of a JSON file (EXPR is Python over `d`).
jget() { "$PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$1" "$2"; }

# wait_for PATH SECONDS: until PATH exists.
wait_for() {
    local t0=$SECONDS
    while [ ! -e "$1" ]; do
        [ $((SECONDS - t0)) -ge "$2" ] && return 1
        sleep 0.05
    done
}

# job_status DIR JOB: "status<TAB>detail" from the merged jobs.tsv.
job_status() { awk -F'\t' -v j="$2" '$1 == j { print $2 "\t" $7 }' "$1/jobs.tsv"; }

# expect_job DIR JOB STATUS REGEX: the job ended with STATUS and a detail matching REGEX.
expect_job() {
    local got
    got=$(job_status "$1" "$2")
    [ "${got%%$'\t'*}" = "$3" ] || fail "job $2: status '${got%%$'\t'*}', want '$3' (${got#*$'\t'})"
    echo "${got#*$'\t'}" | grep -Eq "$4" || fail "job $2: detail '${got#*$'\t'}' does not match /$4/"
    echo "ok: $2: $3: ${got#*$'\t'}"
}

# same_merge DIR: merging again writes the same bytes.
same_merge() {
    local f
    mkdir -p "$work/merge-before"
    for f in summary.json summary.txt junit.xml failures.json jobs.tsv failed.txt; do cp "$1/$f" "$work/merge-before/$f"; done
    "$PYTHON" scripts/farm/regress.py merge --dir "$1" >/dev/null || true
    for f in summary.json summary.txt junit.xml failures.json jobs.tsv failed.txt; do
        cmp -s "$1/$f" "$work/merge-before/$f" || fail "merging again changed $f"
    done
    echo "ok: merging again gives the same bytes"
}

# slurm_test PLAN: a farm test on Slurm starts here: Slurm installed (else skip), a cluster of
# its own up (stopped on every exit), d the results folder PLAN's run will fill.
slurm_test() {
    need_slurm
    cluster_start
    d=$(regress dir --plan "$1") || fail "regress dir"
}

# need_slurm: Slurm and munge installed (scripts/install-deps.sh farm), root; else skip (77).
need_slurm() {
    if [ "$(id -u)" != 0 ]; then echo "skipped: the one-node Slurm cluster runs its daemons as root"; exit 77; fi
    scripts/install-deps.sh farm >&2 || { echo "skipped: Slurm (slurm-wlm, munge) could not be installed"; exit 77; }
}

# cluster_start: a one-node cluster of our own for this test, stopped on every exit.
cluster_start() {
    local line
    line=$(scripts/farm/slurm-cluster.sh start) || fail "scripts/farm/slurm-cluster.sh start failed"
    export SLURM_CONF=${line#export SLURM_CONF=}
    cluster_dir=$(dirname "$SLURM_CONF")
    cluster_pids=$(cat "$cluster_dir"/run/*.pid 2>/dev/null | xargs)
    trap cluster_stop EXIT
    note "cluster up: $cluster_dir (daemons $cluster_pids)"
}
cluster_stop() {
    local rc=$? p
    for p in $(jobs -p); do kill "$p" 2>/dev/null; done  # a regress run left behind by a failure
    scripts/farm/slurm-cluster.sh stop "$cluster_dir" || rc=1
    for p in $cluster_pids; do
        [ -d "/proc/$p" ] && { echo "FAIL: daemon $p of the test cluster still runs after stop"; rc=1; }
    done
    [ -e "$cluster_dir" ] && { echo "FAIL: $cluster_dir still exists after stop"; rc=1; }
    exit $rc
}
