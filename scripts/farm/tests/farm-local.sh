#!/usr/bin/env bash
# farm-local.sh WORKDIR: make regress without a cluster.
#  1. bad input: an unknown plan, bad BACKEND / RERUN / SHARDS / SHARD, malformed plan files:
#     each refused with exit 2 and a message naming the option or file:line, nothing run;
#  2. the committed plans parse, expand the same way twice, nightly promises >= 1e8 cycles, and
#     the CI matrix has the smoke plan's shards;
#  3. scripts/farm/tests/farm-local.plan on the local backend: real mismatches (the RTL's assertion)
#     grouped by signature, each group's reproduce command reproduces it, merging again gives the
#     same bytes, a status of another run is refused, RERUN=failed reruns exactly the failed jobs;
#  4. COVERAGE=1: every job's counters and the merged coverage.dat;
#  5. merge on synthetic results: failures grouped by port, lane, profile, first-cycle class.
set -u
work=${1:?usage: farm-local.sh WORKDIR}
cd "$(dirname "$0")/../../.."
. scripts/farm/tests/farm-lib.sh
rm -rf "$work" && mkdir -p "$work/bad" || exit 1

note "1. bad input: exit 2, a message that names what is wrong, nothing run"
# refuse MESSAGE-REGEX COMMAND...: exit 2, the message on stderr, no results folder made.
refuse() {
    local want=$1; shift
    "$@" >"$work/out.txt" 2>"$work/err.txt"; local rc=$?
    [ $rc = 2 ] || { cat "$work/out.txt" "$work/err.txt"; fail "exit $rc, want 2: $*"; }
    grep -Eq "$want" "$work/err.txt" || { cat "$work/err.txt"; fail "message does not match /$want/: $*"; }
    [ ! -e "$work/results" ] || fail "a results folder was made for bad input: $*"
    echo "ok: $(head -n 1 "$work/err.txt")"
}
refuse "PLAN=nosuch: no plan scripts/farm/plans/nosuch.plan \\(plans: .*smoke" \
    regress run --plan nosuch
refuse "PLAN is not set" regress run --plan ""
refuse "PLAN=scripts/farm/plans is a directory; give a plan file or a plan name \\(plans: .*smoke" \
    regress run --plan scripts/farm/plans
refuse "BACKEND=lsf is not a backend: local or slurm" regress run --plan smoke --backend lsf
refuse "RERUN=all: the one choice is RERUN=failed" regress run --plan smoke --rerun all
refuse "SHARDS=0 is not an integer >= 1" regress run --plan smoke --shards 0
refuse "JOBS=two is not an integer >= 1" regress run --plan smoke --jobs two
refuse "SHARD=9: plan smoke has shards 0..3" regress run --plan smoke --shard 9
refuse "RERUN=failed: no earlier run" regress run --plan smoke --rerun failed
# Through make, as users type it (results under BUILD/regress: checked by its own listing).
before=$(ls "$BUILD/regress" 2>/dev/null | xargs)
for args in "PLAN=nosuch" "PLAN=smoke BACKEND=lsf" "PLAN=smoke RERUN=all"; do
    # shellcheck disable=SC2086
    make -s --no-print-directory BUILD="$BUILD" regress $args >"$work/out.txt" 2>"$work/err.txt"; rc=$?
    grep -q "${args##* }" "$work/err.txt" || { cat "$work/err.txt"; fail "make regress $args: the message does not name ${args##* }"; }
    [ $rc != 0 ] || fail "make regress $args succeeded"
    echo "ok: make regress $args: $(head -n 1 "$work/err.txt")"
done
make -s --no-print-directory BUILD="$BUILD" regress-shard PLAN=smoke >"$work/out.txt" 2>"$work/err.txt" \
    && fail "make regress-shard without SHARD succeeded"
grep -q "needs SHARD=I" "$work/err.txt" || fail "make regress-shard without SHARD: $(cat "$work/err.txt")"
echo "ok: make regress-shard without SHARD: $(head -n 1 "$work/err.txt")"
[ "$(ls "$BUILD/regress" 2>/dev/null | xargs)" = "$before" ] || fail "make regress made results for bad input"

# Malformed plans: name|expected message|plan text (\n for new lines).
n=0
while IFS='|' read -r name want text; do
    [ -z "$name" ] && continue
    printf '%b\n' "$text" >"$work/bad/$name.plan"
    refuse "$want" regress run --plan "$work/bad/$name.plan"
    n=$((n + 1))
done <<'EOF'
no-equals|bad/no-equals.plan:2: expected `key = value` or `\[group\]`, got `configs default`|shards = 1\nconfigs default
unknown-key|unknown-key.plan:3: unknown key `profile` in a group|shards = 1\n[g]\nprofile = random
top-key|top-key.plan:1: unknown key `configs` before the first \[group\]|configs = default
no-shards|no-shards.plan:1: the plan \(before its first \[group\]\) needs `shards`|[g]\nconfigs = default\nseeds = 1..2\nruns = 1
no-group|no-group.plan: no \[group\]|shards = 2
bad-config|bad-config.plan:3: configuration `huge` is not one of rtl/cfg/\*.cfg|shards = 1\n[g]\nconfigs = default huge\nseeds = 1..2\nruns = 1
bad-profile|bad-profile.plan:3: profile `hard` is not one of|shards = 1\n[g]\nprofiles = hard\nconfigs = default\nseeds = 1..2\nruns = 1
bad-timing|bad-timing.plan:4: timing `0.9/1.5` is not P_VALID/P_READY|shards = 1\n[g]\nconfigs = default\ntiming = 0.9/1.5\nseeds = 1..2\nruns = 1
bad-shape|bad-shape.plan:4: shape `64x0x8` is not `random` or MxKxN|shards = 1\n[g]\nconfigs = default\nshapes = 64x0x8\nseeds = 1..2\nruns = 1
kmax|kmax.plan:4: shape 8x128x8: K = 128 exceeds KMax = 64 of configuration small|shards = 1\n[g]\nconfigs = small\nshapes = 8x128x8\nseeds = 1..2\nruns = 1
seeds-reversed|seeds-reversed.plan:4: seeds = 9..2 is not a range FIRST..LAST|shards = 1\n[g]\nconfigs = default\nseeds = 9..2\nruns = 1
runs-and-cycles|runs-and-cycles.plan:5: `runs` and `cycles` exclude each other|shards = 1\n[g]\nconfigs = default\nseeds = 1\nruns = 1\ncycles = 100
no-seeds|no-seeds.plan:.*\[g\] needs `seeds`|shards = 1\n[g]\nconfigs = default\nruns = 1
twice|twice.plan:4: `configs` is set twice|shards = 1\n[g]\nconfigs = default\nconfigs = small\nseeds = 1..2\nruns = 1
group-twice|group-twice.plan:6: group \[g\] appears twice|shards = 1\n[g]\nconfigs = default\nseeds = 1..2\nruns = 1\n[g]
zero-shards|zero-shards.plan:1: shards = 0 is out of range|shards = 0\n[g]\nconfigs = default\nseeds = 1..2\nruns = 1
reserved-arg|reserved-arg.plan:6: args: --seed is set by the plan|shards = 1\n[g]\nconfigs = default\nseeds = 1..2\nruns = 1\nargs = --seed 3
replay-profile|replay-profile.plan:5: `profiles` means nothing for kind = replay|shards = 1\n[g]\nkind = replay\nconfigs = default\nprofiles = random
same-config|same-config.plan:3: configs lists `default` twice|shards = 1\n[a]\nconfigs = default small default\nseeds = 1..2\nruns = 2
bad-header|bad-header.plan:2: `\[my group\]` is not a group header|shards = 1\n[my group]
EOF
echo "ok: $n malformed plans refused"

note "2. the committed plans"
for p in scripts/farm/plans/*.plan; do
    regress list --plan "$p" >"$work/list1.txt" || fail "$p does not expand"
    regress list --plan "$p" >"$work/list2.txt"
    cmp -s "$work/list1.txt" "$work/list2.txt" || fail "$p: two expansions differ (jobs or seeds not deterministic)"
    echo "ok: $p: $(tail -n 1 "$work/list1.txt")"
done
min=$(regress list --plan nightly | tail -n 1 | sed -n 's/.*at least \([0-9]*\) cycles.*/\1/p')
[ "${min:-0}" -ge 100000000 ] || fail "the nightly plan promises $min cycles, want at least 1e8"
smoke_shards=$(regress list --plan smoke --shards-only)
ci_shards=$(sed -n 's/^ *shard: *\[\(.*\)\] *# *the smoke plan.s shards.*/\1/p' .github/workflows/ci.yml | tr -d ' ')
[ "$ci_shards" = "$(seq -s, 0 $((smoke_shards - 1)))" ] \
    || fail ".github/workflows/ci.yml's matrix has shards [$ci_shards], the smoke plan $smoke_shards shards"
echo "ok: the CI matrix runs the smoke plan's $smoke_shards shards"

note "3. the local backend, with real mismatches"
plan=scripts/farm/tests/farm-local.plan
d=$(regress dir --plan "$plan")
regress run --plan "$plan" --backend local --jobs 2 >"$work/run1.txt" 2>&1; rc=$?
cat "$work/run1.txt"
[ $rc = 1 ] || fail "a plan with mismatches exited $rc, want 1"
"$PYTHON" - "$d" "$BUILD" <<'EOF' || fail "summary and failure groups"
import json, sys
d, build = sys.argv[1], sys.argv[2]
s = json.load(open(d + "/summary.json"))
assert s["jobs"] == 8 and s["status"] == {"passed": 4, "failed": 4}, s["status"]
assert s["layers_failed"] > 0 and s["layers_passed"] >= 120, (s["layers_passed"], s["layers_failed"])
g = json.load(open(d + "/failures.json"))
assert g and all(x["kind"] == "mismatch" and x["ports"] == "assertion" and x["lane"] == "-" for x in g), g
assert {x["profile"] for x in g} == {"overflow", "acc-edge"}, [x["profile"] for x in g]
assert sum(x["layers"] for x in g) == s["layers_failed"], "a failing layer is in no group"
for x in g:
    assert x["example"]["reproduce"].startswith(build + "/vl/default/plain/mpq-tb lockstep --seed "), x["example"]
    assert "--inject-hold" in x["example"]["reproduce"], x["example"]
print("ok: %d failing layers in %d signature groups: %s" % (s["layers_failed"], len(g),
      "; ".join("%s/%s/%s/%s" % (x["ports"], x["lane"], x["profile"], x["class"]) for x in g)))
EOF
grep -q "^mismatches by signature" "$d/summary.txt" || fail "summary.txt does not list the signatures"
# Each group's reproduce command reproduces its first mismatch, at the same cycle.
"$PYTHON" -c 'import json, sys
for g in json.load(open(sys.argv[1])): print(g["example"]["first_cycle"], g["example"]["reproduce"])' "$d/failures.json" |
while read -r cycle cmd; do
    # shellcheck disable=SC2086
    $cmd --trace-dir "$work/repro-traces" >"$work/repro.txt" 2>&1; rc=$?
    [ $rc = 1 ] || fail "reproduce command exited $rc, want 1: $cmd"
    grep -q "first mismatching cycle $cycle " "$work/repro.txt" || fail "reproduce: no mismatch at cycle $cycle: $cmd"
    echo "ok: reproduces at cycle $cycle: $cmd"
done || exit 1
same_merge "$d"
# A status written by another run (another commit or plan) is refused, not merged.
one=$(awk -F'\t' '$2 == "passed" { print $1; exit }' "$d/jobs.tsv")
cp "$d/jobs/$one/status.json" "$work/status.json"
sed -i 's/"key": "[^"]*"/"key": "0123456789ab-other"/' "$d/jobs/$one/status.json"
regress merge --dir "$d" >/dev/null
expect_job "$d" "$one" lost "belongs to run 0123456789ab-other"
cp "$work/status.json" "$d/jobs/$one/status.json"
regress merge --dir "$d" >/dev/null
cp "$d/failed.txt" "$work/failed-round0.txt"
regress run --plan "$plan" --backend local --rerun failed >"$work/run2.txt" 2>&1; rc=$?
[ $rc = 1 ] || fail "the rerun of deterministic mismatches exited $rc, want 1"
cmp -s <(jget "$d/rounds/1/round.json" '"\n".join(sorted(sum(d["shards"], [])))') <(sort "$work/failed-round0.txt") \
    || fail "RERUN=failed did not rerun exactly the failed jobs"
cmp -s "$d/failed.txt" "$work/failed-round0.txt" || fail "the rerun did not fail the same jobs again"
[ "$(jget "$d/summary.json" 'd["status"]["passed"]')" = 4 ] || fail "the rerun lost the passed jobs"
echo "ok: RERUN=failed reran the $(wc -l <"$work/failed-round0.txt") failed jobs alone; same failures (deterministic)"

note "3b. as CI does it: each shard alone (make regress-shard) in its own folder, then merged"
summary_of() { jget "$1/summary.json" '(d["jobs"], d["status"], d["layers_passed"], d["layers_failed"], d["cycles"])'; }
shards=$(regress list --plan "$plan" --shards-only)
rm -rf "$work/ci" && mkdir -p "$work/ci/merged"
for ((i = 0; i < shards; i++)); do
    "$PYTHON" scripts/farm/regress.py run --plan "$plan" --shard "$i" --build "$BUILD" --results "$work/ci/shard-$i" \
        --build-cmd "$REGRESS_BUILD_CMD" >"$work/ci/shard-$i.txt" 2>&1
    cp -r "$work/ci/shard-$i"/. "$work/ci/merged/"   # what download-artifact's merge-multiple does
done
dci=$work/ci/merged/$(basename "$d")
"$PYTHON" scripts/farm/regress.py merge --dir "$dci" >"$work/ci/merge.txt"; rc=$?
[ $rc = 1 ] || fail "the merge of the shards exited $rc, want 1 (mismatches)"
[ "$(summary_of "$dci")" = "$(summary_of "$d")" ] || fail "the shards merged give $(summary_of "$dci"), the run gave $(summary_of "$d")"
cmp -s "$dci/failures.json" "$d/failures.json" || fail "the shards merged group the failures differently"
echo "ok: $shards shards run apart and merged give the same answer: $(summary_of "$dci")"
rm -rf "$work/ci/merged/$(basename "$d")/jobs/$(jget "$dci/rounds/0/round.json" 'd["shards"][0][0]')"
rm -f "$dci/rounds/0/shard-0.json" "$dci/rounds/0/task-0.json"
"$PYTHON" scripts/farm/regress.py merge --dir "$dci" >/dev/null
expect_job "$dci" "$(jget "$dci/rounds/0/round.json" 'd["shards"][0][0]')" not-started "never ran"

note "3b2. make regress interrupted (Ctrl-C, SIGTERM): the running jobs cancelled, the others not started"
printf 'shards = 2\n[long]\nconfigs = default\nshapes = 64x256x16\nseeds = 1\njobs = 4\ncycles = 2000000\n' >"$work/int.plan"
di=$(regress dir --plan "$work/int.plan")
"$PYTHON" scripts/farm/regress.py run --plan "$work/int.plan" --backend local --jobs 2 --build "$BUILD" \
    --results "$work/results" --build-cmd "$REGRESS_BUILD_CMD" >"$work/int.txt" 2>&1 &
pid=$!   # regress.py itself, not a shell around it: the signal goes to it
until compgen -G "$di/jobs/*/running.json" >/dev/null; do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -TERM "$pid"
wait "$pid"; rc=$?
[ $rc = 1 ] || { cat "$work/int.txt"; fail "an interrupted run exited $rc, want 1"; }
"$PYTHON" - "$di" <<'EOF' || { cat "$work/int.txt"; fail "the interrupted run's summary"; }
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
st = s["status"]
assert s["jobs"] == 4 and st.get("cancelled", 0) >= 1 and set(st) <= {"cancelled", "not-started"}, st
print("ok: interrupted: %s of 4 jobs" % ", ".join("%d %s" % (n, k) for k, n in sorted(st.items())))
EOF

note "3c. a real RTL bug: the lane-2 sign error of the mutation catalog, grouped as lane 2"
# scripts/mutate/mutate.sh builds the mutant (and catches it); its models are a build folder like ours.
if [ -n "${TB_OBJS:-}" ]; then
    MUTATE_CONFIGS=default MUTATE_KEEP_MODELS=1 scripts/mutate/mutate.sh "$work/mut" lane2-tern-sign >"$work/mut.txt" 2>&1 \
        || { cat "$work/mut.txt"; fail "scripts/mutate/mutate.sh lane2-tern-sign"; }
    printf 'shards = 2\n[lane2]\nconfigs = default\nprofiles = overflow acc-edge\nseeds = 1..20\nruns = 10\n' >"$work/mut.plan"
    "$PYTHON" scripts/farm/regress.py run --plan "$work/mut.plan" --build "$work/mut/lane2-tern-sign" --build-cmd true \
        --results "$work/mut-results" >"$work/mut-run.txt" 2>&1; rc=$?
    sed -n '/^mismatches by signature/,/^$/p' "$work/mut-run.txt"
    [ $rc = 1 ] || fail "the lane-2 mutant's regression exited $rc, want 1"
    dm=$("$PYTHON" scripts/farm/regress.py dir --plan "$work/mut.plan" --results "$work/mut-results")
    "$PYTHON" - "$dm" <<'EOF' || fail "the lane-2 mutant's signatures"
import json, sys
g = json.load(open(sys.argv[1] + "/failures.json"))
assert g and {x["lane"] for x in g} == {"2"}, [(x["ports"], x["lane"]) for x in g]
assert {x["ports"] for x in g} <= {"out_data_o", "ovf_o"}, [x["ports"] for x in g]
print("ok: %d groups, every one lane 2: %s" % (len(g), "; ".join("%s/%s/%s" % (x["ports"], x["profile"], x["class"]) for x in g)))
EOF
    "$PYTHON" -c 'import json, sys
for g in json.load(open(sys.argv[1])): print(g["example"]["first_cycle"], g["example"]["reproduce"])' "$dm/failures.json" |
    while read -r cycle cmd; do
        # shellcheck disable=SC2086
        $cmd --trace-dir "$work/repro-traces" >"$work/repro.txt" 2>&1
        grep -q "first mismatching cycle $cycle " "$work/repro.txt" || fail "reproduce: no mismatch at cycle $cycle: $cmd"
        grep -q "lane 2 = output channel" "$work/repro.txt" || fail "reproduce does not name lane 2: $cmd"
    done || exit 1
    echo "ok: each group's reproduce command shows its mismatch at the same cycle, in lane 2"
else
    echo "skipped: TB_OBJS not set (run through make farm/local)"
fi

note "4. COVERAGE=1: counters per job, merged with verilator_coverage"
# farm-local.plan on the small configuration, whose coverage model builds in a minute (the
# default one, with toggle points on every bit of its 1024-slice activation ring, takes a
# quarter of an hour on 2 cores).
cplan=$work/farm-cov.plan
sed 's/^configs  = default$/configs  = small/' scripts/farm/tests/farm-local.plan >"$cplan"
[ "$(grep -c '^configs  = small$' "$cplan")" = 2 ] || fail "farm-cov.plan: not every section of farm-local.plan moved to small"
dcb=$(regress dir --plan "$cplan")
dc=$(regress dir --plan "$cplan" --coverage)
[ "$dc" = "$dcb-cov" ] || fail "the coverage run's folder is $dc, want $dcb-cov (results of other options never mix)"
regress run --plan "$cplan" --backend local --coverage --jobs 2 >"$work/run-cov.txt" 2>&1
grep "coverage of rtl/" "$dc/summary.txt" || fail "no coverage line in summary.txt"
n_dat=$(ls "$dc"/jobs/*/coverage.dat | wc -l)
[ "$n_dat" = 8 ] || fail "$n_dat jobs wrote coverage.dat, want 8"
"$PYTHON" - "$dc" <<'EOF' || fail "merged coverage"
import json, sys
c = json.load(open(sys.argv[1] + "/summary.json"))["coverage"]
assert c["jobs"] == 8 and c["file"] == "coverage.dat", c
assert 50 < c["line"]["percent"] <= 100 and 50 < c["toggle"]["percent"] <= 100, c
print("ok: coverage merged from %d jobs: line/branch %.2f%%, toggle %.2f%%" % (c["jobs"], c["line"]["percent"], c["toggle"]["percent"]))
EOF
[ -s "$dc/coverage.dat" ] || fail "no merged coverage.dat"
# The counters count what ran: the plan's random weights take the lanes' ternary +1 and -1
# arms. (Verilator 5.006 counted them 0 on small until the coverage build got -fno-split.)
"$PYTHON" - "$dc/coverage.dat" rtl/mpq_lane.sv <<'EOF' || fail "coverage counters of mpq_lane's ternary arms"
import re, sys
src = open(sys.argv[2]).read().split("\n")
arms = {i + 1: l.strip() for i, l in enumerate(src) if re.match(r"\s*2'b(01|11):\s+tsum = ", l)}
assert len(arms) == 2, arms
hits = dict.fromkeys(arms, 0)
for rec in open(sys.argv[1]):
    m = re.match(r"C '(.*)' (\d+)$", rec.strip())
    if not m:
        continue
    key = dict(kv.split("\x02", 1) for kv in m.group(1).split("\x01") if "\x02" in kv)
    if key.get("f", "").endswith("rtl/mpq_lane.sv") and key.get("page", "").startswith("v_line") \
            and int(key.get("l", 0)) in hits:
        hits[int(key["l"])] += int(m.group(2))
assert all(hits.values()), "never counted: %s" % {arms[l]: n for l, n in hits.items()}
print("ok: mpq_lane.sv's ternary arms counted: %s" % ", ".join("line %d %d" % kv for kv in sorted(hits.items())))
EOF

note "5. failure signatures on synthetic results (port, lane, profile, first-cycle class)"
"$PYTHON" scripts/farm/regress.py bench-merge 60 "$work/synth" >/dev/null || fail "bench-merge"
"$PYTHON" - "$work/synth" <<'EOF' || fail "synthetic signatures"
import json, sys
g = json.load(open(sys.argv[1] + "/failures.json"))
got = {(x["ports"], x["lane"], x["profile"], x["class"]): (x["layers"], x["example"]["first_cycle"]) for x in g}
# The fixture (regress.py bench-merge): job i fails one layer when i % 10 == 3, at cycle
# 13 + i % 7, lane 2 + i % 3, profile PROFILES[i % 3], in row i // 10 % 2 of the tile.
want = {}
for i in range(3, 60, 10):
    k = ("out_data_o", str(2 + i % 3), ["random", "overflow", "requant-edge"][i % 3],
         "RUN" if i // 10 % 2 else "RUN-first-row")
    n, c = want.get(k, (0, 1 << 30))
    want[k] = (n + 1, min(c, 13 + i % 7))
assert got == want, (got, want)
print("ok: %d groups: %s" % (len(g), "; ".join("/".join(k) for k in sorted(got))))
EOF
echo "local backend, bad input, plans, signatures, RERUN and coverage as expected"
