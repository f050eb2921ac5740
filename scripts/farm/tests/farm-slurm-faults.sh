#!/usr/bin/env bash
# farm-slurm-faults.sh WORKDIR: failures of the farm itself, on a real one-node Slurm cluster of
# its own (scripts/farm/slurm-cluster.sh; always stopped). The plan scripts/farm/tests/farm-faults.plan
# goes through the slurm backend while this script breaks its jobs from outside:
#   cancel  its task is cancelled (scancel) while it runs; the next job of that task never runs
#   crash   the simulation is killed by SIGSEGV
#   die     the whole task is killed (SIGKILL to the shard runner): Slurm says FAILED
#   hang    the simulation is stopped (SIGSTOP) past the job's own time limit (50 s)
#   stall   the simulation is stopped past the task's Slurm time limit (TASK_TIME=1 minute)
# Each must be reported as what happened (never as a pass, never dropped). Then, with the node
# drained, RERUN=failed submits exactly those jobs and they never start: reported as not started
# after START_TIMEOUT. With the node back, RERUN=failed runs them and everything passes.
set -u
work=${1:?usage: farm-slurm-faults.sh WORKDIR}
cd "$(dirname "$0")/../../.."
. scripts/farm/tests/farm-lib.sh
rm -rf "$work" && mkdir -p "$work" || exit 1
plan=scripts/farm/tests/farm-faults.plan
slurm_test "$plan"
node=$(hostname -s)

# Everything the injections need is known before the run (the same plan gives the same jobs
# and shards): the reactions below are a file test and a kill, fast even on a loaded machine.
regress list --plan "$plan" >"$work/list.txt" || fail "regress list"
# id_of GROUP: the job of that group; shard_of ID: its shard (array task) in round 0.
id_of() { awk -v g="$1" '$1 ~ "^"g"\\." { sub(/:$/, "", $1); print $1; exit }' "$work/list.txt"; }
shard_of() { awk -v j="$1:" '/^shard / { s = $2; sub(/:$/, "", s) } $1 == j { print s; exit }' "$work/list.txt"; }
cancel=$(id_of cancel) crash=$(id_of crash) die=$(id_of die) hang=$(id_of hang) stall=$(id_of stall)
after_cancel=$(awk -v j="$cancel:" 'f && /^  / { sub(/:$/, "", $1); print $1; exit } $1 == j { f = 1 }' "$work/list.txt")
[ -n "$after_cancel" ] || fail "the plan no longer puts a second job after $cancel in its shard"
# json_int FILE KEY: an integer field of a JSON file regress.py wrote (one field per line).
json_int() { sed -n "s/^ *\"$2\": \"\{0,1\}\([0-9]*\)\"\{0,1\},*\$/\1/p" "$1"; }
# running_pid ID: waits until the job runs; its simulation's pid.
running_pid() {
    wait_for "$d/jobs/$1/running.json" 120 || { cat "$work/round0.txt"; fail "job $1 never started"; }
    json_int "$d/jobs/$1/running.json" pid
}
late() { fail "job $1 ended before the fault reached it: its layers run too fast for this test"; }

note "round 0: seven jobs through sbatch, five of them broken from outside"
regress run --plan "$plan" --backend slurm --task-time 1 >"$work/round0.txt" 2>&1 &
run_pid=$!
running_pid "$cancel" >/dev/null
slurm_job=$(json_int "$d/rounds/0/submit.json" job)
[ -e "$d/jobs/$cancel/status.json" ] && late "$cancel"
scancel "${slurm_job}_$(shard_of "$cancel")" && echo "cancelled task ${slurm_job}_$(shard_of "$cancel") running $cancel"
pid=$(running_pid "$crash") || exit 1
kill -SEGV "$pid" || late "$crash"
echo "SIGSEGV to $pid ($crash)"
running_pid "$die" >/dev/null
runner=$(json_int "$d/rounds/0/shard-$(shard_of "$die").json" pid)
[ -e "$d/jobs/$die/status.json" ] && late "$die"
kill -KILL "$runner" || late "$die"
echo "SIGKILL to the shard runner $runner (task of $die)"
pid=$(running_pid "$hang") || exit 1
kill -STOP "$pid" || late "$hang"
echo "SIGSTOP to $pid ($hang, time limit 50 s)"
pid=$(running_pid "$stall") || exit 1
kill -STOP "$pid" || late "$stall"
echo "SIGSTOP to $pid ($stall, Slurm time limit 1 min)"
t0=$SECONDS
wait "$run_pid"; rc=$?
echo "round 0 ended $((SECONDS - t0)) s after the last fault (the Slurm time limit); regress exit $rc"
cat "$work/round0.txt"
[ "$rc" = 1 ] || fail "regress exited $rc after failures of the farm, want 1"
expect_job "$d" "$cancel" cancelled "cancelled while this job ran"
expect_job "$d" "$after_cancel" not-started "ended \\(CANCELLED\\) before reaching this job"
expect_job "$d" "$crash" crashed "signal 11 \\(SIGSEGV\\)"
expect_job "$d" "$die" crashed "task .* died while this job ran: FAILED"
expect_job "$d" "$hang" timeout "time limit of 50 s"
expect_job "$d" "$stall" timeout "reached its time limit"
passed=$(jget "$d/summary.json" 'd["passed"]')
[ "$passed" = 1 ] || fail "$passed jobs passed, want 1 (the short job after the crash)"
[ "$(jget "$d/summary.json" 'd["jobs"]')" = 7 ] || fail "the summary does not count 7 jobs"
grep -q "^regress: 1 passed, 6 failed" "$d/summary.txt" || fail "summary.txt does not close with 1 passed, 6 failed"
"$PYTHON" - "$d/junit.xml" <<'EOF' || fail "junit.xml"
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
errs = sorted(e.get("type") for e in r.iter("error"))
want = ["cancelled", "crashed", "crashed", "not-started", "timeout", "timeout"]
assert errs == want, "error testcases %s, want %s" % (errs, want)
print("ok: junit.xml has one error testcase per broken job:", " ".join(errs))
EOF
same_merge "$d"
cp "$d/failed.txt" "$work/failed-round0.txt"

note "round 1: the node drained; RERUN=failed submits the six, which never start"
scontrol update NodeName="$node" State=DRAIN Reason="mpq farm test" || fail "cannot drain $node"
regress run --plan "$plan" --backend slurm --rerun failed --start-timeout 3 >"$work/round1.txt" 2>&1; rc=$?
cat "$work/round1.txt"
scontrol update NodeName="$node" State=RESUME || fail "cannot resume $node"
[ "$rc" = 1 ] || fail "regress exited $rc with tasks that never started, want 1"
cmp -s <(jget "$d/rounds/1/round.json" '"\n".join(sorted(sum(d["shards"], [])))') <(sort "$work/failed-round0.txt") \
    || fail "round 1 did not rerun exactly the jobs that failed in round 0"
echo "ok: round 1 reran exactly the $(wc -l <"$work/failed-round0.txt") jobs that did not pass"
while read -r j; do expect_job "$d" "$j" not-started "never started: pending"; done <"$work/failed-round0.txt"
[ -f "$d/attempts/0/$crash/status.json" ] || fail "the crashed attempt's files are not kept under attempts/0/"

note "round 2: the node back; RERUN=failed runs the six and everything passes"
regress run --plan "$plan" --backend slurm --rerun failed >"$work/round2.txt" 2>&1; rc=$?
cat "$work/round2.txt"
[ "$rc" = 0 ] || fail "regress exited $rc after the rerun, want 0"
[ "$(jget "$d/summary.json" 'd["passed"]')" = 7 ] || fail "not all 7 jobs passed after the rerun"
same_merge "$d"
echo "farm failures reported as such, RERUN=failed picks them up"
