#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""regress.py: regression plans as independent mpq-tb jobs, on this machine or on Slurm.

    regress.py run   --plan P [--backend local|slurm] [--rerun failed] [--shards N] [--jobs N]
                     [--coverage] [--shard I] [--start-timeout S] [--task-time MIN]
    regress.py shard DIR --round R --shard I      one shard: what a Slurm array task runs
    regress.py merge (--plan P [--coverage] | --dir DIR)
    regress.py list  --plan P [--shards N]        the jobs and their shards, nothing run
    regress.py dir   --plan P [--coverage]        the results folder of this commit and plan
    regress.py bench-merge N DIR                  time the merge of N synthetic job results

A plan (scripts/farm/plans/NAME.plan, format in scripts/farm/plans/README.md) expands into jobs; a job
is one mpq-tb invocation (one configuration, a seed range, fixed profile/shape/timing), and
shards group jobs (a Slurm array task or a local worker runs one shard). Everything goes to
one folder, BUILD/regress/<commit>-<plan>[-cov]/ (the layout is in docs/farm.md, "Regressions
on a farm"). Each job writes its own folder and, last and atomically, status.json; `merge`
reads only files, so merging again gives the same bytes, and a job without a status is
explained from the scheduler's record of its task (crashed, timeout, cancelled, not started).

Exit status: 0 every job passed, 1 a job failed (a mismatch, or a failure of the farm
itself), 2 bad input (unknown plan, bad option, malformed plan file): nothing is run then.
Only the Python 3 standard library; the simulation loop is mpq-tb alone.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mpqfarm.common import BadInput, REPO, read_json, say, show, write_atomic, write_json  # noqa: E402
from mpqfarm.golden import GOLDEN  # noqa: E402
from mpqfarm.local import run_local, shard_tally  # noqa: E402
from mpqfarm.merge import merge  # noqa: E402
from mpqfarm.plan import assign_shards, parse_plan, plan_path  # noqa: E402
from mpqfarm.rundir import make_run_record, new_round, plan_name_of, run_dir  # noqa: E402
from mpqfarm.shard import run_shard  # noqa: E402
from mpqfarm.slurm import need_slurm, run_slurm, slurm_env  # noqa: E402

BACKENDS = ("local", "slurm")


def build_models(run, job_ids, build_cmd):
    """The Verilated models the jobs need, built once before anything is submitted."""
    by_id = {j["id"]: j for j in run["jobs"]}
    cfgs = sorted({by_id[j]["config"] for j in job_ids})
    kind = "cov" if run["coverage"] else "plain"
    targets = []
    for c in cfgs:
        targets += ["%s/vl/%s/%s/mpq-tb" % (run["build"], c, kind), "%s/vl/%s/trace/mpq-tb" % (run["build"], c)]
    env = slurm_env()
    r = subprocess.run(shlex.split(build_cmd) + targets, cwd=REPO, env=env)
    if r.returncode != 0:
        raise RuntimeError("building the models failed: %s %s" % (build_cmd, " ".join(targets)))


class DirLock:
    """An exclusive lock on a results folder: two runs of one plan at one commit do not mix."""

    def __init__(self, path):
        import fcntl
        self.f = open(path, "a+")
        try:
            fcntl.flock(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise BadInput("regress: %s is in use by another regress run" % os.path.dirname(path))


def positive(name, v, lo=1):
    """A make variable that must be an integer >= lo, or empty (None)."""
    if v is None or v == "":
        return None
    if not re.fullmatch(r"\d+", str(v)) or int(v) < lo:
        raise BadInput("regress: %s=%s is not an integer >= %d" % (name, v, lo))
    return int(v)


def cmd_run(a):
    if a.backend not in BACKENDS:
        raise BadInput("regress: BACKEND=%s is not a backend: local or slurm" % a.backend)
    if a.rerun not in ("", "failed"):
        raise BadInput("regress: RERUN=%s: the one choice is RERUN=failed (or nothing)" % a.rerun)
    a.shards = positive("SHARDS", a.shards)
    a.jobs = positive("JOBS", a.jobs)
    a.task_time = positive("TASK_TIME", a.task_time)
    if a.shard == "unset":
        raise BadInput("regress: make regress-shard needs SHARD=I (a shard of the plan, from 0)")
    a.shard = positive("SHARD", a.shard, lo=0)
    try:
        a.start_timeout = float(a.start_timeout)
        if a.start_timeout < 0:
            raise ValueError
    except ValueError:
        raise BadInput("regress: START_TIMEOUT=%s is not a number of seconds" % a.start_timeout)
    if a.backend == "slurm" and not os.environ.get("SLURM_CONF") and not os.path.exists("/etc/slurm/slurm.conf"):
        raise BadInput("regress: BACKEND=slurm: no cluster configured (SLURM_CONF unset, no /etc/slurm/slurm.conf); "
                       "try: eval \"$(scripts/farm/slurm-cluster.sh start)\"")
    if a.shard is not None and (a.backend != "local" or a.rerun):
        raise BadInput("regress: SHARD=%d runs one shard of the first round on this machine (BACKEND=local, no RERUN)"
                       % a.shard)
    path = plan_path(a.plan)
    plan = parse_plan(path)
    coverage = a.coverage or plan["settings"]["coverage"] == "yes"
    d, key = run_dir(a.results, plan_name_of(path), coverage)
    fresh = make_run_record(plan, key, a.build, coverage)
    nshards = a.shards or plan["settings"]["shards"]
    if a.shard is not None and not 0 <= a.shard < plan["settings"]["shards"]:
        raise BadInput("regress: SHARD=%d: plan %s has shards 0..%d" % (a.shard, fresh["plan"], plan["settings"]["shards"] - 1))
    if a.rerun:
        old = read_json(os.path.join(d, "run.json"))
        if old is None:
            raise BadInput("regress: RERUN=failed: no earlier run in %s to rerun" % show(d))
        if old != fresh:
            raise BadInput("regress: RERUN=failed: %s was made by another plan file or options (plan sha256 %s, "
                           "now %s): run without RERUN" % (show(d), old["plan_sha256"][:12],
                                                            fresh["plan_sha256"][:12]))
        merge(d, quiet=True)
        todo = [l.strip() for l in open(os.path.join(d, "failed.txt")) if l.strip()]
        if not todo:
            say("regress: RERUN=failed: every job of %s passed; nothing to rerun" % key)
            return finish(d)
    else:
        todo = [j["id"] for j in fresh["jobs"]]
    os.makedirs(d, exist_ok=True)
    lock = DirLock(os.path.join(d, ".lock-%s" % ("shard-%d" % a.shard if a.shard is not None else "run")))
    if a.shard is None and not a.rerun:
        # A plain run starts over: the folder holds this run alone.
        for sub in ("jobs", "rounds", "attempts"):
            shutil.rmtree(os.path.join(d, sub), ignore_errors=True)
        for f in os.listdir(d):
            if not f.startswith(".lock") and os.path.isfile(os.path.join(d, f)):
                os.remove(os.path.join(d, f))
    write_json(os.path.join(d, "run.json"), fresh)
    if a.shard is not None:
        # One matrix job of CI: the first round as the plan shards it, this shard only.
        shards = assign_shards(fresh["jobs"], min(plan["settings"]["shards"], len(fresh["jobs"])))
        rd = os.path.join(d, "rounds", "0")
        os.makedirs(rd, exist_ok=True)
        write_json(os.path.join(rd, "round.json"), {"round": 0, "backend": "local", "shards": shards})
        for jid in shards[a.shard]:
            shutil.rmtree(os.path.join(d, "jobs", jid), ignore_errors=True)
        say("regress %s: shard %d of %d: %d jobs; results %s" % (key, a.shard, len(shards), len(shards[a.shard]),
                                                                   show(d)))
        build_models(fresh, shards[a.shard], a.build_cmd)
        run_local(d, 0, shards, 1, only=a.shard)
        say("regress: shard %d done (%s); merge the shards with: make regress-merge PLAN=%s"
            % (a.shard, shard_tally(d, shards[a.shard]), fresh["plan"]))
        del lock
        ok = all((read_json(os.path.join(d, "jobs", j, "status.json")) or {}).get("status") == "passed"
                 for j in shards[a.shard])
        return 0 if ok else 1
    rnd, shards = new_round(d, fresh, todo, nshards, a.backend)
    say("regress %s: %s%d jobs in %d shards (round %d), backend %s; results %s"
        % (key, "rerun of " if a.rerun else "", len(todo), len(shards), rnd, a.backend, show(d)))
    if fresh["jobs"] and sum(j["min_cycles"] for j in fresh["jobs"]):
        say("regress: the plan simulates at least %d cycles" % sum(j["min_cycles"] for j in fresh["jobs"]))
    if a.backend == "slurm":
        need_slurm()
    build_models(fresh, todo, a.build_cmd)
    # Ctrl-C or a SIGTERM (make or CI stopped) cancels the round: its tasks are stopped and
    # what ran is merged (the stopped jobs as cancelled).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        if a.backend == "local":
            run_local(d, rnd, shards, a.jobs or os.cpu_count() or 1)
        else:
            run_slurm(d, rnd, shards, a.start_timeout, a.task_time, fresh)
    except KeyboardInterrupt:
        say("regress: interrupted; merging what ran")
    del lock
    return finish(d)


def finish(d):
    s = merge(d)
    return 0 if s["failed"] == 0 else 1


def cmd_merge(a):
    if a.dir:
        d = os.path.abspath(a.dir)
    else:
        path = plan_path(a.plan)
        plan = parse_plan(path)
        coverage = a.coverage or plan["settings"]["coverage"] == "yes"
        d, key = run_dir(a.results, plan_name_of(path), coverage)
        run = read_json(os.path.join(d, "run.json"))
        if run is None:
            raise BadInput("regress merge: no results for plan %s at this commit (%s)" % (a.plan, show(d)))
        if run.get("plan_sha256") != plan["sha256"]:
            raise BadInput("regress merge: %s was made by another version of %s; not merging"
                           % (show(d), plan["rel"]))
    return finish(d)


def cmd_dir(a):
    path = plan_path(a.plan)
    plan = parse_plan(path)
    print(run_dir(a.results, plan_name_of(path), a.coverage or plan["settings"]["coverage"] == "yes")[0])
    return 0


def cmd_list(a):
    a.shards = positive("SHARDS", a.shards)
    plan = parse_plan(plan_path(a.plan))
    run = make_run_record(plan, "list", a.build, a.coverage or plan["settings"]["coverage"] == "yes")
    n = a.shards or plan["settings"]["shards"]
    shards = assign_shards(run["jobs"], max(1, min(n, len(run["jobs"]))))
    by_id = {j["id"]: j for j in run["jobs"]}
    if a.shards_only:
        print(len(shards))
        return 0
    for i, ids in enumerate(shards):
        print("shard %d: %d jobs, about %d cycles" % (i, len(ids), sum(by_id[j]["cost"] for j in ids)))
        for jid in ids:
            print("  %s: %s" % (jid, shlex.join(by_id[jid]["argv"])))
    print("%d jobs, %d shards; at least %d cycles (jobs with `cycles`)"
          % (len(run["jobs"]), len(shards), sum(j["min_cycles"] for j in run["jobs"])))
    return 0


BENCH_PROFILES = ("random", "overflow", "requant-edge")


def cmd_bench_merge(a):
    """Makes N synthetic job results (20 layers each; job i fails one layer when i % 10 == 3,
    at cycle 13 + i % 7, in lane 2 + i % 3, profile BENCH_PROFILES[i % 3], row i // 10 % 2 of the tile)
    and times merge on them: the median of 3 merges."""
    d = os.path.abspath(a.dir)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "rounds", "0"))
    jobs = []
    for i in range(a.n):
        jid = "bench.default.random.random.v0.9r0.9.s%d" % (i * 20)
        jobs.append({"id": jid, "group": "bench", "config": "default", "profile": "random", "shape": "random",
                     "timing": "0.9/0.9", "seed": i * 20, "timeout": 600, "argv": ["mpq-tb", "lockstep"],
                     "cost": 1, "min_cycles": 0})
    run = {"key": "bench-merge", "plan": "bench", "plan_file": "-", "plan_sha256": "-", "commit": "-",
           "coverage": False, "build": "build", "shards": 1, "jobs": jobs}
    write_json(os.path.join(d, "run.json"), run)
    write_json(os.path.join(d, "rounds", "0", "round.json"), {"round": 0, "backend": "local", "shards": [[j["id"] for j in jobs]]})
    write_json(os.path.join(d, "rounds", "0", "shard-0.json"), {"started": 0.0, "ended": 100.0})
    write_json(os.path.join(d, "rounds", "0", "task-0.json"), {"state": "COMPLETED"})
    for i, j in enumerate(jobs):
        jd = os.path.join(d, "jobs", j["id"])
        os.makedirs(jd)
        fail = i % 10 == 3
        lines, cases = [], []
        for t in range(20):
            name = "%s/lockstep-%d" % (j["id"], j["seed"] + t)
            if fail and t == 7:
                cases.append('    <testcase classname="mpq.cosim" name="%s" time="0.001">\n      <failure message="cycle 13: out_data_o lane 2"/>\n    </testcase>' % name)
                td = os.path.join(jd, "traces", name.replace("/", "_"))
                os.makedirs(td)
                write_json(os.path.join(td, "report.json"), {
                    "test": name, "status": "mismatch", "first_cycle": 13 + i % 7, "cycles_run": 14,
                    "mismatches": [{"cycle": 13, "ports": ["out_data_o"], "lanes": [{"lane": 2 + i % 3, "channel": 2}],
                                    "where": {"tile": 0, "state": "RUN", "row": i // 10 % 2, "slice": 2}}],
                    "layer": {"source": "lockstep:%s hp-n=1" % BENCH_PROFILES[i % 3]}, "reproduce": "mpq-tb lockstep --seed %d" % (j["seed"] + t)})
                lines.append(json.dumps({"test": name, "status": "failed", "cycles": 14, "seconds": 0.001,
                                         "first_cycle": 13 + i % 7}))
            else:
                lines.append(json.dumps({"test": name, "status": "passed", "cycles": 400 + t,
                                         "seconds": (400 + t) / 0.5e6, "seed": j["seed"] + t, "timing_seed": j["seed"] + t,
                                         "source": "lockstep:random hp-n=1 p-valid=0.9 p-ready=0.9"}))
                cases.append('    <testcase classname="mpq.cosim" name="%s" time="0.001"/>' % name)
        write_atomic(os.path.join(jd, "results.jsonl"), "\n".join(lines) + "\n")
        write_atomic(os.path.join(jd, "junit.xml"), '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="mpq-tb" tests="20">\n%s\n  </testsuite>\n</testsuites>\n' % "\n".join(cases))
        write_json(os.path.join(jd, "status.json"), {"job": j["id"], "key": "bench-merge", "round": 0, "shard": 0,
                                                     "status": "failed" if fail else "passed", "seconds": 0.1, "exit": 1 if fail else 0})
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        merge(d, quiet=True)
        times.append(time.perf_counter() - t0)
    first = open(os.path.join(d, "summary.json")).read()
    merge(d, quiet=True)
    same = first == open(os.path.join(d, "summary.json")).read()
    print(json.dumps({"results": a.n, "seconds": round(sorted(times)[1], 3), "idempotent": same}))
    return 0 if same else 1


def main(argv):
    p = argparse.ArgumentParser(prog="regress.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp):
        sp.add_argument("--plan", default="")
        sp.add_argument("--coverage", action="store_true")
        sp.add_argument("--build", default="build", help="the build folder of make (BUILD)")
        sp.add_argument("--results", default=None, help="results root (default BUILD/regress)")
        sp.add_argument("--golden", default=None,
                        help="mpq-golden, the reader of the configurations and of the options table "
                             "(default: $MPQ_GOLDEN, else BUILD/mpq-golden)")

    r = sub.add_parser("run")
    common(r)
    r.add_argument("--backend", default="local")
    r.add_argument("--rerun", default="")
    r.add_argument("--shards", default="")
    r.add_argument("--jobs", default="", help="local: shards run at once (default: every core)")
    r.add_argument("--shard", default="", help="run this shard of the first round only, no merge (CI matrix)")
    r.add_argument("--start-timeout", default="1800",
                   help="slurm: a task still pending after this many seconds is cancelled: not started")
    r.add_argument("--task-time", default="", help="slurm: time limit of a task in minutes (default: its jobs' timeouts)")
    r.add_argument("--build-cmd", default="make -s --no-print-directory -j%d" % (os.cpu_count() or 1))
    s = sub.add_parser("shard")
    s.add_argument("dir")
    s.add_argument("--round", type=int, required=True)
    s.add_argument("--shard", type=int, required=True)
    m = sub.add_parser("merge")
    common(m)
    m.add_argument("--dir")
    li = sub.add_parser("list")
    common(li)
    li.add_argument("--shards", default="")
    li.add_argument("--shards-only", action="store_true", help="print the number of shards only")
    common(sub.add_parser("dir"))
    b = sub.add_parser("bench-merge")
    b.add_argument("n", type=int)
    b.add_argument("dir")
    try:
        a = p.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    if getattr(a, "results", None) is None and hasattr(a, "build"):
        a.results = os.path.join(a.build, "regress")
    if hasattr(a, "build"):
        GOLDEN["bin"] = os.path.abspath(a.golden or os.environ.get("MPQ_GOLDEN") or os.path.join(a.build, "mpq-golden"))
    if hasattr(a, "results") and a.results:
        a.results = os.path.abspath(a.results)
    try:
        if a.cmd == "run":
            return cmd_run(a)
        if a.cmd == "shard":
            return run_shard(os.path.abspath(a.dir), a.round, a.shard)
        if a.cmd == "merge":
            return cmd_merge(a)
        if a.cmd == "list":
            return cmd_list(a)
        if a.cmd == "dir":
            return cmd_dir(a)
        return cmd_bench_merge(a)
    except BadInput as e:
        say(str(e), sys.stderr)
        return 2
    except RuntimeError as e:
        say("regress: %s" % e, sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
