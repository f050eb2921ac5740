# SPDX-License-Identifier: Apache-2.0
"""The Slurm backend: a round as one job array (a task per shard), polled until it is gone,
every task's final state recorded from scontrol or sacct."""

import math
import os
import re
import shlex
import shutil
import subprocess
import time

from mpqfarm.common import BadInput, REPO, say, write_atomic, write_json
from mpqfarm.shard import shard_cmd

def slurm_env():
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS"):
        env.pop(k, None)
    return env


def slurm(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True, env=slurm_env())
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(args[:2]), (r.stderr or r.stdout).strip()))
    return r


def need_slurm():
    """sbatch and friends, installed (scripts/install-deps.sh farm) when missing."""
    if all(shutil.which(c) for c in ("sbatch", "squeue", "scontrol", "scancel")):
        return
    subprocess.run([os.path.join(REPO, "scripts", "install-deps.sh"), "farm"], check=False)
    for c in ("sbatch", "squeue", "scontrol", "scancel"):
        if not shutil.which(c):
            raise RuntimeError("BACKEND=slurm: `%s` not found and scripts/install-deps.sh farm could not "
                               "install it" % c)
    return


def run_slurm(d, rnd, shards, start_timeout, task_minutes, run):
    """Submits the round as one job array (a task per shard), waits, and records every task's
    final state from scontrol (or sacct where accounting is on) in rounds/R/task-I.json."""
    for c in ("sbatch", "squeue", "scontrol", "scancel"):
        if not shutil.which(c):
            raise BadInput("regress: BACKEND=slurm: `%s` not found (scripts/install-deps.sh farm; "
                           "scripts/farm/slurm-cluster.sh start runs a one-node cluster)" % c)
    rd = os.path.join(d, "rounds", str(rnd))
    by_id = {j["id"]: j for j in run["jobs"]}
    if task_minutes is None:
        longest = max(sum(by_id[j]["timeout"] + 10 for j in s) for s in shards)
        task_minutes = max(1, math.ceil(longest / 60) + 1)
    script = os.path.join(rd, "task.sbatch")
    write_atomic(script, "#!/bin/bash\n"
                 "# mpq regress: one array task = one shard of round %d of %s.\n"
                 "# The slurm backend assumes a shared filesystem: every node sees the repository\n"
                 "# %s (its build/ models and this results folder) at the same path.\n"
                 "exec %s \"$SLURM_ARRAY_TASK_ID\"\n"
                 % (rnd, run["key"], REPO, " ".join(shlex.quote(a) for a in shard_cmd(d, rnd))))
    os.chmod(script, 0o755)
    cmd = ["sbatch", "--parsable", "--array=0-%d" % (len(shards) - 1), "--job-name=mpq-%s" % run["plan"],
           "--output=%s/shard-%%a.log" % rd, "--chdir=%s" % REPO, "--ntasks=1", "--cpus-per-task=1",
           "--time=%d" % task_minutes]
    if os.environ.get("SLURM_PARTITION"):
        cmd.append("--partition=%s" % os.environ["SLURM_PARTITION"])
    cmd += shlex.split(os.environ.get("SBATCH_ARGS", "")) + [script]
    t_submit = time.time()
    r = slurm(*cmd, check=False)
    if r.returncode != 0:
        msg = (r.stderr or r.stdout).strip()
        for i in range(len(shards)):
            write_json(os.path.join(rd, "task-%d.json" % i), {"task": i, "state": "NOT_SUBMITTED", "reason": msg})
        say("regress: sbatch refused the array: %s" % msg)
        return
    jobid = r.stdout.strip().split(";")[0]
    write_json(os.path.join(rd, "submit.json"), {"backend": "slurm", "submitted": t_submit, "job": jobid,
                                                 "command": shlex.join(cmd), "tasks": len(shards)})
    say("regress: slurm job %s: %d array tasks (one per shard), time limit %d min each; "
        "assumes %s is on a filesystem shared by every node" % (jobid, len(shards), task_minutes, REPO))
    seen = {}
    abandoned = {}
    try:
        while True:
            q = slurm("squeue", "-h", "-r", "-j", jobid, "-o", "%K|%T|%r", check=False)
            live = {}
            for line in q.stdout.splitlines():
                parts = line.strip().split("|")
                if len(parts) == 3 and parts[0].isdigit():
                    live[int(parts[0])] = (parts[1], parts[2])
            for i, (st, reason) in sorted(live.items()):
                if st == "RUNNING" and seen.get(i) != st:
                    say("regress: task %s_%d running" % (jobid, i))
                seen[i] = st
            if start_timeout and time.time() - t_submit > start_timeout:
                late = [i for i, (st, _) in live.items() if st == "PENDING" and i not in abandoned]
                for i in late:
                    abandoned[i] = live[i][1]
                    slurm("scancel", "%s_%d" % (jobid, i), check=False)
                    say("regress: task %s_%d still pending after %d s (reason: %s): cancelled, its jobs are "
                        "reported as not started" % (jobid, i, start_timeout, live[i][1]))
            if q.returncode == 0 and not live:
                break
            time.sleep(1.0)
    except KeyboardInterrupt:
        slurm("scancel", jobid, check=False)
        record_slurm_states(rd, jobid, len(shards), abandoned)
        raise
    record_slurm_states(rd, jobid, len(shards), abandoned)


def record_slurm_states(rd, jobid, ntasks, abandoned):
    """Each task's final JobState, ExitCode and Reason, from scontrol (finished jobs stay for
    MinJobAge), else sacct (clusters with accounting). A task the scheduler forgot is UNKNOWN."""
    states = {}
    r = slurm("scontrol", "-o", "show", "job", jobid, check=False)
    for line in r.stdout.splitlines():
        f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
        if f.get("ArrayJobId") == jobid and f.get("ArrayTaskId", "").isdigit():
            states[int(f["ArrayTaskId"])] = {"state": f.get("JobState"), "exit_code": f.get("ExitCode"),
                                             "reason": f.get("Reason"), "start": f.get("StartTime"),
                                             "end": f.get("EndTime"), "source": "scontrol"}
    if len(states) < ntasks:
        r = slurm("sacct", "-n", "-P", "-X", "-j", jobid, "-o", "JobID,State,ExitCode,Start,End", check=False)
        for line in r.stdout.splitlines():
            p = line.split("|")
            m = re.fullmatch(r"\d+_(\d+)", p[0]) if p else None
            if m and len(p) >= 5 and int(m.group(1)) not in states:
                states[int(m.group(1))] = {"state": p[1].split()[0], "exit_code": p[2], "start": p[3],
                                           "end": p[4], "source": "sacct"}
    for i in range(ntasks):
        st = states.get(i, {"state": "UNKNOWN", "source": "none"})
        st["task"] = i
        if i in abandoned:
            st.update(never_started=True, pending_reason=abandoned[i])
        write_json(os.path.join(rd, "task-%d.json" % i), st)
