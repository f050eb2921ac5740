#!/usr/bin/env bash
# farm-slurm-smoke.sh WORKDIR: the smoke plan through the slurm backend, for real: a one-node
# cluster of its own (scripts/farm/slurm-cluster.sh: munged, slurmctld, slurmd on 127.0.0.1), one
# job array submitted with sbatch, every job passed, merged results checked, merging again gives
# the same bytes; the cluster is stopped on every exit and its daemons must be gone.
set -u
work=${1:?usage: farm-slurm-smoke.sh WORKDIR}
cd "$(dirname "$0")/../../.."
. scripts/farm/tests/farm-lib.sh
rm -rf "$work" && mkdir -p "$work" || exit 1
slurm_test smoke
t0=$SECONDS
regress run --plan smoke --backend slurm; rc=$?
echo "smoke through slurm: $((SECONDS - t0)) s, exit $rc"
[ "$rc" = 0 ] || fail "make regress PLAN=smoke BACKEND=slurm exited $rc"

# The results folder is keyed by commit and plan.
head=$(git rev-parse --short=12 HEAD)
case $(basename "$d") in "$head"*-smoke) ;; *) fail "results folder $(basename "$d") is not <commit $head>-smoke" ;; esac
# It went through Slurm: one array, a task per shard, each COMPLETED by scontrol's account, and
# each shard runner saw its array task id.
jobs=$(regress list --plan smoke | awk '/^[0-9]+ jobs, [0-9]+ shards/ { print $1 }')
shards=$(regress list --plan smoke --shards-only)
[ "$(jget "$d/rounds/0/submit.json" 'd["backend"]')" = slurm ] || fail "round 0 was not submitted to Slurm"
for ((i = 0; i < shards; i++)); do
    [ "$(jget "$d/rounds/0/task-$i.json" 'd["state"] + " " + d["source"]')" = "COMPLETED scontrol" ] \
        || fail "array task $i: $(cat "$d/rounds/0/task-$i.json")"
    [ "$(jget "$d/rounds/0/shard-$i.json" 'd["slurm_task"]')" = "$i" ] || fail "shard $i did not run as array task $i"
done
echo "ok: one array of $shards tasks, each COMPLETED"
"$PYTHON" - "$d" "$jobs" <<'EOF' || fail "merged results"
import json, sys, xml.etree.ElementTree as ET
d, jobs = sys.argv[1], int(sys.argv[2])
s = json.load(open(d + "/summary.json"))
assert s["jobs"] == jobs and s["passed"] == jobs and s["failed"] == 0, (s["jobs"], s["passed"], s["status"])
assert s["cycles"] >= s["min_cycles_planned"] > 0, (s["cycles"], s["min_cycles_planned"])
assert s["layers_passed"] > 1000 and s["layers_failed"] == 0, s["layers_passed"]
cfgs = {r["config"] for r in s["by_config_profile"]}
assert cfgs == {"default", "small", "mix2", "tern"}, cfgs
assert all(r["cycles_per_s"] for r in s["by_config_profile"]), "a row without cycles per second"
assert s["cycles_per_s_aggregate"] > 0 and s["wall_seconds"] > 0
r = ET.parse(d + "/junit.xml").getroot()
cases = list(r.iter("testcase"))
assert len(cases) == s["layers_passed"], (len(cases), s["layers_passed"])  # replayed vector files included
assert r.get("failures") == "0" and r.get("errors") == "0"
assert json.load(open(d + "/failures.json")) == []
print("ok: %d jobs passed, %d layers, %d cycles (at least %d planned), %.3f Mcycles/s aggregate; junit.xml %d testcases"
      % (s["jobs"], s["layers_passed"], s["cycles"], s["min_cycles_planned"], s["cycles_per_s_aggregate"] / 1e6, len(cases)))
EOF
same_merge "$d"
echo "smoke plan passed through the slurm backend"
