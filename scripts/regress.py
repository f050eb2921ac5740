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

A plan (scripts/plans/NAME.plan, format in scripts/plans/README.md) expands into jobs; a job
is one mpq-tb invocation (one configuration, a seed range, fixed profile/shape/timing), and
shards group jobs (a Slurm array task or a local worker runs one shard). Everything goes to
one folder, BUILD/regress/<commit>-<plan>[-cov]/ (the layout is in the README, "Regressions
on a farm"). Each job writes its own folder and, last and atomically, status.json; `merge`
reads only files, so merging again gives the same bytes, and a job without a status is
explained from the scheduler's record of its task (crashed, timeout, cancelled, not started).

Exit status: 0 every job passed, 1 a job failed (a mismatch, or a failure of the farm
itself), 2 bad input (unknown plan, bad option, malformed plan file): nothing is run then.
Only the Python 3 standard library; the simulation loop is mpq-tb alone.
"""

import argparse
import glob
import hashlib
import json
import math
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAN_DIR = os.path.join(REPO, "scripts", "plans")
PROFILES = ("random", "overflow", "requant-edge", "zero-tern", "max-sparse", "acc-edge")
ACCS = ("random", "sat", "wrap")
BACKENDS = ("local", "slurm")
# A `cycles` job starts at seed FIRST + j * SEED_STRIDE and takes consecutive seeds: jobs never
# share a layer as long as one job runs fewer layers than this (checked at plan load time from
# the smallest layer the generator makes, MIN_LAYER_CYCLES).
SEED_STRIDE = 1_000_000
MIN_LAYER_CYCLES = 20
# Options the runner sets itself; a plan's `args` may not.
RESERVED_ARGS = ("--seed", "--runs", "--cycles", "--m", "--k", "--n", "--profile", "--acc",
                 "--p-valid", "--p-ready", "--junit", "--trace-dir", "--name", "--config", "-q",
                 "--source-thread", "--bare", "--trace-bin")
# Job outcomes. The first four come from the job itself (mpq-tb's exit status or signal);
# the others are failures of the farm, decided from the scheduler's record of the task.
TEST_FAIL = ("failed", "error")
FARM_FAIL = ("crashed", "timeout", "cancelled", "not-started", "lost")
# A sanitizer build (SAN=1) turns a fatal signal or a memory error into a report and exit
# status 1 by default, which is mpq-tb's "mismatch": every job runs with the sanitizers' exit
# status set to SANITIZER_EXIT instead (0 pass, 1 mismatch, 2 bad input stay mpq-tb's own), and a
# sanitizer's report in the job's log makes it a crash whatever its exit status.
SANITIZER_EXIT = 86
SANITIZER_ENV = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")
SAN_ERROR_RE = re.compile(r"==\d+==ERROR: (\w+Sanitizer): ([\w-]+)(?: on unknown address)?")
SAN_SUMMARY_RE = re.compile(r"SUMMARY: (\w+Sanitizer): (.*)")
SAN_UB_RE = re.compile(r"^(\S+): runtime error: (.*)$", re.M)  # UBSan, which prints no summary when it aborts
# AddressSanitizer's name for the fatal signals it reports (its handle_segv, handle_sigbus, ...).
SAN_SIGNALS = {"SEGV": signal.SIGSEGV, "stack-overflow": signal.SIGSEGV, "BUS": signal.SIGBUS,
               "FPE": signal.SIGFPE, "ILL": signal.SIGILL, "ABRT": signal.SIGABRT}
PASS_RE = re.compile(r"^PASS\s+(\S+)\s+(\d+) cycles\s+([0-9.]+) Mcycles/s\s+\((.*)\)\s*$")
SOURCE_RE = re.compile(r"^(\w+):([\w-]+)")


class BadInput(Exception):
    """A plan, an option or a results folder that cannot be used: exit 2, nothing run."""


def show(path):
    """A path as a user types it: relative to the repository when inside it."""
    path = os.path.abspath(path)
    return os.path.relpath(path, REPO) if path.startswith(REPO + os.sep) else path


def say(msg, f=sys.stdout):
    print(msg, file=f, flush=True)


# --- Files ------------------------------------------------------------------------------------
def write_atomic(path, text):
    """Writes text to path through a temporary file and a rename: readers see all or nothing."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json(path, obj):
    write_atomic(path, json.dumps(obj, indent=1, sort_keys=True) + "\n")


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


# --- Plans ------------------------------------------------------------------------------------
PLAN_KEYS = {"description", "shards", "timeout", "coverage"}
GROUP_KEYS = {"kind", "configs", "profiles", "shapes", "timing", "acc", "seeds", "runs", "cycles",
              "jobs", "timeout", "args"}


def plan_path(name):
    """A plan name (scripts/plans/NAME.plan) or a path to a plan file."""
    if not name:
        raise BadInput("regress: PLAN is not set; plans: %s" % ", ".join(plan_names()))
    if os.sep in name or name.endswith(".plan"):
        if not os.path.isfile(name):
            raise BadInput("regress: PLAN=%s: no such plan file" % name)
        return os.path.abspath(name)
    p = os.path.join(PLAN_DIR, name + ".plan")
    if not os.path.isfile(p):
        raise BadInput("regress: PLAN=%s: no plan %s (plans: %s)"
                       % (name, show(p), ", ".join(plan_names())))
    return p


def plan_names():
    return sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(PLAN_DIR, "*.plan")))


def read_cfg(name):
    """rtl/cfg/NAME.cfg as a dict of integers (the one source of the array's parameters)."""
    vals = {}
    with open(os.path.join(REPO, "rtl", "cfg", name + ".cfg")) as f:
        for line in f:
            line = line.split("#", 1)[0]
            if "=" in line:
                k, v = (s.strip() for s in line.split("=", 1))
                vals[k] = int(v)
    return vals


def parse_plan(path):
    """The plan file as {settings, groups}, every value checked; BadInput names file:line."""
    rel = show(path)
    top = {}
    groups = []
    cur = top
    lines = {}
    try:
        text = open(path).read()
    except OSError as e:
        raise BadInput("regress: %s: %s" % (rel, e.strerror))
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = "%s:%d" % (rel, no)
        if line.startswith("["):
            name = line[1:-1].strip() if line.endswith("]") else ""
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name):
                raise BadInput("regress: %s: `%s` is not a group header `[name]` (letters, digits, - and _)"
                               % (where, line))
            if any(g["name"] == name for g in groups):
                raise BadInput("regress: %s: group [%s] appears twice" % (where, name))
            cur = {"name": name, "line": no}
            groups.append(cur)
            continue
        if "=" not in line:
            raise BadInput("regress: %s: expected `key = value` or `[group]`, got `%s`" % (where, line))
        key, val = (s.strip() for s in line.split("=", 1))
        allowed = PLAN_KEYS if cur is top else GROUP_KEYS
        if key not in allowed:
            raise BadInput("regress: %s: unknown key `%s` %s (known: %s)"
                           % (where, key, "before the first [group]" if cur is top else "in a group",
                              ", ".join(sorted(allowed))))
        if key in cur:
            raise BadInput("regress: %s: `%s` is set twice" % (where, key))
        if not val:
            raise BadInput("regress: %s: `%s` has no value" % (where, key))
        cur[key] = val
        lines[(id(cur), key)] = where
    if not groups:
        raise BadInput("regress: %s: no [group]: a plan needs at least one group of jobs" % rel)

    def at(d, key):
        return lines.get((id(d), key), "%s:%d" % (rel, d.get("line", 1)))

    for g in groups:
        for key in ("configs", "profiles", "shapes", "timing", "acc"):
            vals = g.get(key, "").split()
            dup = sorted({v for v in vals if vals.count(v) > 1})
            if dup:
                raise BadInput("regress: %s: %s lists `%s` twice" % (at(g, key), key, dup[0]))

    def integer(d, key, lo=1, hi=None, default=None):
        if key not in d:
            if default is None:
                owner = "[%s]" % d["name"] if "name" in d else "the plan (before its first [group])"
                raise BadInput("regress: %s: %s needs `%s`" % (at(d, key), owner, key))
            return default
        v = d[key].replace("_", "")
        try:
            n = int(float(v)) if re.fullmatch(r"[0-9.]+e[0-9]+", v) else int(v)
        except ValueError:
            raise BadInput("regress: %s: %s = %s is not an integer" % (at(d, key), key, d[key]))
        if n < lo or (hi is not None and n > hi):
            raise BadInput("regress: %s: %s = %s is out of range (%s..%s)"
                           % (at(d, key), key, d[key], lo, hi if hi is not None else "inf"))
        return n

    settings = {
        "description": top.get("description", ""),
        "shards": integer(top, "shards", 1, 10000),
        "timeout": integer(top, "timeout", 1, 7 * 86400, default=600),
        "coverage": top.get("coverage", "no"),
    }
    if settings["coverage"] not in ("yes", "no"):
        raise BadInput("regress: %s: coverage = %s (yes or no)" % (at(top, "coverage"), settings["coverage"]))
    configs_known = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(REPO, "rtl/cfg/*.cfg")))
    out = []
    for g in groups:
        name = g["name"]
        kind = g.get("kind", "lockstep")
        if kind not in ("lockstep", "replay"):
            raise BadInput("regress: %s: kind = %s (lockstep or replay)" % (at(g, "kind"), kind))
        if "configs" not in g:
            raise BadInput("regress: %s: [%s] needs `configs`" % (at(g, "configs"), name))
        configs = g["configs"].split()
        for c in configs:
            if c not in configs_known:
                raise BadInput("regress: %s: configuration `%s` is not one of rtl/cfg/*.cfg (%s)"
                               % (at(g, "configs"), c, " ".join(configs_known)))
        grp = {"name": name, "kind": kind, "configs": configs,
               "timeout": integer(g, "timeout", 1, 7 * 86400, default=settings["timeout"])}
        if kind == "replay":
            for k in GROUP_KEYS - {"kind", "configs", "timeout"}:
                if k in g:
                    raise BadInput("regress: %s: `%s` means nothing for kind = replay" % (at(g, k), k))
            for c in configs:
                if not glob.glob(os.path.join(REPO, "vectors/regress/%s-*.vec" % c)):
                    raise BadInput("regress: %s: no committed vectors vectors/regress/%s-*.vec to replay"
                                   % (at(g, "configs"), c))
            out.append(grp)
            continue
        profiles = g.get("profiles", "random").split()
        for p in profiles:
            if p not in PROFILES:
                raise BadInput("regress: %s: profile `%s` is not one of %s" % (at(g, "profiles"), p, " ".join(PROFILES)))
        shapes = []
        for s in g.get("shapes", "random").split():
            if s == "random":
                shapes.append(None)
                continue
            m = re.fullmatch(r"(\d+)x(\d+)x(\d+)", s)
            if not m or min(int(x) for x in m.groups()) < 1:
                raise BadInput("regress: %s: shape `%s` is not `random` or MxKxN (e.g. 64x256x16)" % (at(g, "shapes"), s))
            shape = tuple(int(x) for x in m.groups())
            for c in configs:
                kmax = read_cfg(c).get("KMax", 0)
                if shape[1] > kmax:
                    raise BadInput("regress: %s: shape %s: K = %d exceeds KMax = %d of configuration %s"
                                   % (at(g, "shapes"), s, shape[1], kmax, c))
            shapes.append(shape)
        timings = []
        for t in g.get("timing", "0.9/0.9").split():
            m = re.fullmatch(r"([0-9.]+)/([0-9.]+)", t)
            ok = m and all(re.fullmatch(r"[0-9]*\.?[0-9]+", x) and 0 < float(x) <= 1 for x in m.groups())
            if not ok:
                raise BadInput("regress: %s: timing `%s` is not P_VALID/P_READY with probabilities in (0, 1]"
                               % (at(g, "timing"), t))
            timings.append(m.groups())
        accs = g.get("acc", "random").split()
        for a in accs:
            if a not in ACCS:
                raise BadInput("regress: %s: acc `%s` is not one of %s" % (at(g, "acc"), a, " ".join(ACCS)))
        args = shlex.split(g.get("args", ""))
        for a in args:
            if a in RESERVED_ARGS:
                raise BadInput("regress: %s: args: %s is set by the plan's other keys or by the runner"
                               % (at(g, "args"), a))
        if "seeds" not in g:
            raise BadInput("regress: %s: [%s] needs `seeds`" % (at(g, "seeds"), name))
        seeds = g["seeds"]
        if "cycles" in g:
            if "runs" in g:
                raise BadInput("regress: %s: `runs` and `cycles` exclude each other (a job runs R layers, "
                               "or layers until N cycles)" % at(g, "runs"))
            if not re.fullmatch(r"\d+", seeds):
                raise BadInput("regress: %s: with `cycles`, seeds = FIRST (one number; job j starts at FIRST + j * %d)"
                               % (at(g, "seeds"), SEED_STRIDE))
            cycles = integer(g, "cycles", 1, SEED_STRIDE * MIN_LAYER_CYCLES - 1)
            grp.update(mode="cycles", first=int(seeds), cycles=cycles, jobs=integer(g, "jobs", 1, 100000, default=1))
        else:
            if "jobs" in g:
                raise BadInput("regress: %s: `jobs` goes with `cycles`; with `runs` the seed range makes the jobs"
                               % at(g, "jobs"))
            m = re.fullmatch(r"(\d+)\.\.(\d+)", seeds)
            if not m or int(m.group(1)) > int(m.group(2)):
                raise BadInput("regress: %s: seeds = %s is not a range FIRST..LAST" % (at(g, "seeds"), seeds))
            grp.update(mode="runs", first=int(m.group(1)), last=int(m.group(2)), runs=integer(g, "runs", 1))
        grp.update(profiles=profiles, shapes=shapes, timings=timings, accs=accs, args=args)
        out.append(grp)
    return {"path": path, "rel": rel, "settings": settings, "groups": out,
            "sha256": hashlib.sha256(text.encode()).hexdigest()}


def shape_name(shape):
    return "random" if shape is None else "%dx%dx%d" % shape


def estimate_cycles(cfg, shape, timing, layers):
    """A rough cost of `layers` lockstep layers, for balancing shards (not a promise)."""
    slow = min(float(timing[0]), float(timing[1]))
    if shape is None:
        per = 500
    else:
        c = read_cfg(cfg)
        m, k, n = shape
        per = m * math.ceil(k / c["KLanes"]) * math.ceil(n / c["Lanes"])
    return int(layers * (per / slow + 300))


def expand(plan, build, coverage):
    """Every job of the plan, in a fixed order: same plan, same jobs, same seeds."""
    jobs = []
    kind_dir = "cov" if coverage else "plain"
    for g in plan["groups"]:
        for cfg in g["configs"]:
            tb = "%s/vl/%s/%s/mpq-tb" % (build, cfg, kind_dir)
            common = ["--config", "rtl/cfg/%s.cfg" % cfg, "--source-thread", "off"]
            if g["kind"] == "replay":
                jid = "%s.%s.replay" % (g["name"], cfg)
                vecs = sorted(os.path.relpath(v, REPO) for v in glob.glob(os.path.join(REPO, "vectors/regress/%s-*.vec" % cfg)))
                jobs.append({"id": jid, "group": g["name"], "config": cfg, "profile": "vectors",
                             "shape": "vectors", "timing": "file", "seed": None, "timeout": g["timeout"],
                             "argv": [tb, "replay"] + vecs + common + ["--name", jid],
                             "cost": 200 * len(vecs), "min_cycles": 0})
                continue
            for prof in g["profiles"]:
                for shape in g["shapes"]:
                    for timing in g["timings"]:
                        for acc in g["accs"]:
                            for seed, amount in seed_chunks(g):
                                jid = "%s.%s.%s.%s.v%sr%s%s.s%d" % (
                                    g["name"], cfg, prof, shape_name(shape), timing[0], timing[1],
                                    "" if acc == "random" else "." + acc, seed)
                                argv = [tb, "lockstep", "--seed", str(seed)]
                                argv += ["--cycles", str(amount)] if g["mode"] == "cycles" else ["--runs", str(amount)]
                                if shape:
                                    argv += ["--m", str(shape[0]), "--k", str(shape[1]), "--n", str(shape[2])]
                                if prof != "random":
                                    argv += ["--profile", prof]
                                if acc != "random":
                                    argv += ["--acc", acc]
                                argv += ["--p-valid", timing[0], "--p-ready", timing[1]] + common
                                argv += ["--name", jid] + g["args"]
                                cyc = amount if g["mode"] == "cycles" else estimate_cycles(cfg, shape, timing, amount)
                                jobs.append({"id": jid, "group": g["name"], "config": cfg, "profile": prof,
                                             "shape": shape_name(shape), "timing": "%s/%s" % timing,
                                             "seed": seed, "timeout": g["timeout"], "argv": argv, "cost": cyc,
                                             "min_cycles": amount if g["mode"] == "cycles" else 0})
    seen = {}
    for j in jobs:
        if j["id"] in seen:
            raise BadInput("regress: %s: job %s is made twice (groups [%s] and [%s]): give one of them other seeds"
                           % (plan["rel"], j["id"], seen[j["id"]], j["group"]))
        seen[j["id"]] = j["group"]
    return jobs


def seed_chunks(g):
    if g["mode"] == "cycles":
        return [(g["first"] + j * SEED_STRIDE, g["cycles"]) for j in range(g["jobs"])]
    return [(s, min(g["runs"], g["last"] + 1 - s)) for s in range(g["first"], g["last"] + 1, g["runs"])]


def assign_shards(jobs, nshards):
    """Longest job first onto the least loaded shard: balanced shards, deterministic."""
    load = [0] * nshards
    shards = [[] for _ in range(nshards)]
    for j in sorted(jobs, key=lambda j: (-j["cost"], j["id"])):
        i = min(range(nshards), key=lambda s: (load[s], s))
        shards[i].append(j["id"])
        load[i] += j["cost"]
    return shards


# --- The results folder -----------------------------------------------------------------------
def git(*args):
    return subprocess.run(["git", "-C", REPO] + list(args), capture_output=True, check=False).stdout


def commit_key():
    """The commit, and a hash of the uncommitted changes when the work tree has any: results of
    one source state never mix with another's."""
    head = git("rev-parse", "HEAD").decode().strip()
    if not re.fullmatch(r"[0-9a-f]{40}", head):
        return "nogit", False
    status = git("status", "--porcelain", "--untracked-files=normal")
    if not status.strip():
        return head[:12], False
    h = hashlib.sha256(git("diff", "HEAD", "--binary"))
    for name in sorted(git("ls-files", "--others", "--exclude-standard", "-z").decode().split("\0")):
        p = os.path.join(REPO, name)
        if name and os.path.isfile(p) and os.path.getsize(p) < (1 << 20):
            h.update(name.encode() + b"\0" + open(p, "rb").read())
    return "%s-dirty%s" % (head[:12], h.hexdigest()[:8]), True


def run_dir(results, plan_name, coverage):
    commit, _ = commit_key()
    key = "%s-%s%s" % (commit, plan_name, "-cov" if coverage else "")
    return os.path.join(results, key), key


def plan_name_of(path):
    return os.path.basename(path)[:-5] if path.endswith(".plan") else os.path.basename(path)


def make_run_record(plan, key, build, coverage):
    jobs = expand(plan, build, coverage)
    return {"key": key, "plan": plan_name_of(plan["path"]), "plan_file": plan["rel"], "plan_sha256": plan["sha256"],
            "commit": commit_key()[0], "coverage": coverage, "build": build, "shards": plan["settings"]["shards"],
            "jobs": jobs}


def rounds_of(d):
    return sorted(int(r) for r in os.listdir(os.path.join(d, "rounds")) if r.isdigit()) \
        if os.path.isdir(os.path.join(d, "rounds")) else []


def new_round(d, run, job_ids, nshards, backend):
    """The next round: these jobs in nshards shards. A job that ran before keeps its old files
    under attempts/<round it ran in>/<job>/ so that the new attempt starts from an empty folder."""
    rs = rounds_of(d)
    r = rs[-1] + 1 if rs else 0
    by_id = {j["id"]: j for j in run["jobs"]}
    for jid in job_ids:
        jd = os.path.join(d, "jobs", jid)
        if os.path.isdir(jd) and os.listdir(jd):
            st = read_json(os.path.join(jd, "status.json")) or read_json(os.path.join(jd, "running.json")) or {}
            dest = os.path.join(d, "attempts", str(st.get("round", "unknown")), jid)
            shutil.rmtree(dest, ignore_errors=True)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            os.replace(jd, dest)
    nshards = max(1, min(nshards, len(job_ids)))
    shards = assign_shards([by_id[j] for j in job_ids], nshards)
    rd = os.path.join(d, "rounds", str(r))
    os.makedirs(rd, exist_ok=True)
    write_json(os.path.join(rd, "round.json"), {"round": r, "backend": backend, "shards": shards})
    return r, shards


# --- One shard: the jobs of one array task or local worker -----------------------------------
class Terminated(Exception):
    pass


def run_shard(d, rnd, shard):
    run = read_json(os.path.join(d, "run.json"))
    rinfo = read_json(os.path.join(d, "rounds", str(rnd), "round.json"))
    if not run or not rinfo:
        raise BadInput("regress shard: %s has no run.json or round %d" % (d, rnd))
    if not 0 <= shard < len(rinfo["shards"]):
        raise BadInput("regress shard: round %d has shards 0..%d, not %d" % (rnd, len(rinfo["shards"]) - 1, shard))
    by_id = {j["id"]: j for j in run["jobs"]}
    rec_path = os.path.join(d, "rounds", str(rnd), "shard-%d.json" % shard)
    rec = {"round": rnd, "shard": shard, "host": socket.gethostname(), "pid": os.getpid(),
           "started": time.time(), "slurm_job": os.environ.get("SLURM_ARRAY_JOB_ID"),
           "slurm_task": os.environ.get("SLURM_ARRAY_TASK_ID"), "jobs": rinfo["shards"][shard]}
    write_json(rec_path, rec)
    state = {"child": None, "term": None}

    def on_signal(signum, _frame):
        # Cancelled (scancel, Ctrl-C) or out of time: stop the running job and leave. The job
        # gets status `interrupted`; merge tells cancelled from timeout by the scheduler's record.
        state["term"] = signum
        if state["child"] is not None:
            kill_group(state["child"], signal.SIGTERM)
        raise Terminated()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    done = 0
    try:
        for jid in rinfo["shards"][shard]:
            run_job(d, run, by_id[jid], rnd, shard, state)
            done += 1
    except Terminated:
        rec.update(ended=time.time(), interrupted=signal.Signals(state["term"]).name, jobs_done=done)
        write_json(rec_path, rec)
        return 128 + state["term"]
    rec.update(ended=time.time(), jobs_done=done)
    write_json(rec_path, rec)
    return 0


def die_with_parent():
    """In the job's process: SIGKILL when the runner dies (a task killed outright), so that no
    simulation outlives its task (proctrack/linuxproc loses processes whose parent died)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def kill_group(p, sig):
    try:
        os.killpg(p.pid, sig)
        if sig != signal.SIGKILL:
            os.killpg(p.pid, signal.SIGCONT)  # a stopped job must wake to die of SIGTERM
    except (ProcessLookupError, PermissionError):
        pass


def run_job(d, run, job, rnd, shard, state):
    """Runs one job in its own folder; status.json is written last, atomically."""
    jd = os.path.join(d, "jobs", job["id"])
    shutil.rmtree(jd, ignore_errors=True)
    os.makedirs(jd)
    key = run["key"]
    running = {"job": job["id"], "key": key, "round": rnd, "shard": shard, "host": socket.gethostname(),
               "started": time.time()}
    argv = job["argv"] + ["--junit", os.path.join(jd, "junit.xml"), "--trace-dir", os.path.join(jd, "traces")]
    env = dict(os.environ)
    for var in SANITIZER_ENV:
        env[var] = ":".join(o for o in (env.get(var, ""), "exitcode=%d" % SANITIZER_EXIT) if o)
    if run["coverage"]:
        os.makedirs(os.path.join(jd, "cov-raw"))
        env["MPQ_COV_DIR"] = os.path.join(jd, "cov-raw")
    status = {"job": job["id"], "key": key, "round": rnd, "shard": shard, "host": running["host"],
              "command": shlex.join(job["argv"]), "started": running["started"]}
    t0 = time.monotonic()
    with open(os.path.join(jd, "log.txt"), "w") as log:
        try:
            p = subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env,
                                 start_new_session=True, preexec_fn=die_with_parent)
        except OSError as e:
            status.update(status="error", detail="cannot run %s: %s" % (argv[0], e.strerror), exit=None,
                          seconds=0.0, ended=time.time())
            write_json(os.path.join(jd, "status.json"), status)
            return
        running["pid"] = p.pid
        write_json(os.path.join(jd, "running.json"), running)
        state["child"] = p
        timed_out = False
        try:
            rc = p.wait(timeout=job["timeout"])
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(p, signal.SIGTERM)
            try:
                rc = p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                kill_group(p, signal.SIGKILL)
                rc = p.wait()
        except Terminated:
            p.wait()
            status.update(status="interrupted", detail="the shard was stopped by %s while this job ran"
                          % signal.Signals(state["term"]).name, exit=None,
                          seconds=round(time.monotonic() - t0, 3), ended=time.time())
            finish_job(jd, run, status)
            raise
        finally:
            state["child"] = None
    secs = time.monotonic() - t0
    status.update(seconds=round(secs, 3), ended=time.time(), exit=rc)
    san = sanitizer_report(jd) if rc != 0 else None
    if timed_out:
        status.update(status="timeout", detail="still running after the job's time limit of %d s: killed" % job["timeout"])
    elif san or rc == SANITIZER_EXIT:
        tool, what, sig = san or ("a sanitizer", "exit status %d, no report in log.txt" % rc, None)
        if sig:
            status.update(signal=int(sig))
            what = "got signal %d (%s) after %.1f s, which %s reported: %s" % (sig, sig.name, secs, tool, what)
        else:
            what = "%s stopped it after %.1f s: %s" % (tool, secs, what)
        status.update(status="crashed", detail="mpq-tb %s (exit %d; log.txt)" % (what, rc))
    elif rc < 0:
        name = signal.Signals(-rc).name if -rc in signal.valid_signals() else str(-rc)
        status.update(status="crashed", signal=-rc, detail="mpq-tb was killed by signal %d (%s) after %.1f s"
                      % (-rc, name, secs))
    elif rc == 0:
        status.update(status="passed", detail="")
    elif rc == 1:
        status.update(status="failed", detail="a mismatch (see the traces)")
    elif rc == 2:
        status.update(status="error", detail="mpq-tb refused its input (exit 2): " + last_line(jd))
    else:
        status.update(status="crashed", detail="mpq-tb exited with status %d: %s" % (rc, last_line(jd)))
    finish_job(jd, run, status)


def sanitizer_report(jd):
    """The sanitizer report at the end of the job's log, if any: (tool, what it says, the fatal
    signal it reported or None)."""
    try:
        with open(os.path.join(jd, "log.txt"), "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - (1 << 16)))
            tail = f.read().decode(errors="replace")
    except OSError:
        return None
    err, summary = SAN_ERROR_RE.search(tail), SAN_SUMMARY_RE.search(tail)
    if not err and not summary:
        ub = SAN_UB_RE.search(tail)
        return ("UndefinedBehaviorSanitizer", "%s at %s" % (ub.group(2)[:160], ub.group(1)), None) if ub else None
    tool = (err or summary).group(1)
    what = summary.group(2).strip()[:200] if summary else err.group(2)
    return tool, what, SAN_SIGNALS.get(err.group(2)) if err else None


def last_line(jd):
    try:
        lines = [l for l in open(os.path.join(jd, "log.txt"), errors="replace").read().splitlines() if l.strip()]
        return lines[-1][:300] if lines else "(no output)"
    except OSError:
        return "(no log)"


def finish_job(jd, run, status):
    layers = parse_job_output(jd)
    status.update(cycles=sum(l["cycles"] for l in layers),
                  layers_passed=sum(1 for l in layers if l["ok"]),
                  layers_failed=sum(1 for l in layers if not l["ok"]))
    if run["coverage"]:
        status["coverage"] = merge_job_coverage(jd)
    write_json(os.path.join(jd, "status.json"), status)


def merge_job_coverage(jd):
    raw = sorted(glob.glob(os.path.join(jd, "cov-raw", "*.dat")))
    if not raw:
        shutil.rmtree(os.path.join(jd, "cov-raw"), ignore_errors=True)
        return None
    out = os.path.join(jd, "coverage.dat")
    r = subprocess.run([vcov_bin(), "--write", out + ".tmp"] + raw, capture_output=True, text=True)
    if r.returncode != 0:
        return "verilator_coverage failed: " + r.stderr.strip()[-300:]
    os.replace(out + ".tmp", out)
    shutil.rmtree(os.path.join(jd, "cov-raw"), ignore_errors=True)
    return "coverage.dat"


def vcov_bin():
    return os.environ.get("VERILATOR_COVERAGE", "verilator_coverage")


def parse_job_output(jd):
    """Every layer the job ran: from its PASS lines (mpq-tb prints cycles and Mcycles/s there)
    and from the report.json of each failing layer."""
    layers = []
    try:
        with open(os.path.join(jd, "log.txt"), errors="replace") as f:
            for line in f:
                m = PASS_RE.match(line)
                if m:
                    cyc, rate = int(m.group(2)), float(m.group(3))
                    layers.append({"name": m.group(1), "ok": True, "cycles": cyc,
                                   "seconds": cyc / (rate * 1e6) if rate > 0 else 0.0,
                                   "profile": source_profile(m.group(4))})
    except OSError:
        pass
    for rep in sorted(glob.glob(os.path.join(jd, "traces", "*", "report.json"))):
        r = read_json(rep)
        if not r:
            continue
        layers.append({"name": r.get("test", ""), "ok": False, "cycles": int(r.get("cycles_run", 0)),
                       "seconds": None, "profile": source_profile(r.get("layer", {}).get("source", "")),
                       "report": os.path.relpath(rep, jd)})
    return layers


def source_profile(src):
    """`lockstep:overflow hp-n=1 ...` or `random:acc-edge ...` -> the layer's profile."""
    m = SOURCE_RE.match(src or "")
    return m.group(2) if m else "unknown"


# --- Backends ---------------------------------------------------------------------------------
def shard_cmd(d, rnd):
    return [sys.executable, os.path.join(REPO, "scripts", "regress.py"), "shard", d, "--round", str(rnd), "--shard"]


def run_local(d, rnd, shards, jobs_at_once, only=None):
    """Runs the round's shards as local processes, at most jobs_at_once at a time; records each
    task's end (its exit status or signal) in rounds/R/task-I.json."""
    rd = os.path.join(d, "rounds", str(rnd))
    todo = [i for i in range(len(shards)) if only is None or i == only]
    running = {}
    t0 = time.time()
    write_json(os.path.join(rd, "submit.json"), {"backend": "local", "submitted": t0, "host": socket.gethostname()})
    try:
        while todo or running:
            while todo and len(running) < jobs_at_once:
                i = todo.pop(0)
                log = open(os.path.join(rd, "shard-%d.log" % i), "w")
                running[i] = (subprocess.Popen(shard_cmd(d, rnd) + [str(i)], cwd=REPO, stdout=log,
                                               stderr=subprocess.STDOUT), log, time.time())
            time.sleep(0.2)
            for i in list(running):
                p, log, start = running[i]
                rc = p.poll()
                if rc is None:
                    continue
                log.close()
                del running[i]
                state = "COMPLETED" if rc == 0 else ("CANCELLED" if rc in (-2, -15, 130, 143) else "FAILED")
                write_json(os.path.join(rd, "task-%d.json" % i),
                           {"task": i, "state": state, "exit": rc, "start": start, "end": time.time()})
                say("regress: shard %d of round %d %s (%s)" % (i, rnd, state.lower(), shard_tally(d, shards[i])))
    except KeyboardInterrupt:
        for i, (p, log, start) in running.items():
            p.send_signal(signal.SIGTERM)
        for i, (p, log, start) in running.items():
            rc = p.wait()
            log.close()
            write_json(os.path.join(rd, "task-%d.json" % i),
                       {"task": i, "state": "CANCELLED", "exit": rc, "start": start, "end": time.time(),
                        "reason": "make regress was interrupted"})
        for i in todo:
            write_json(os.path.join(rd, "task-%d.json" % i),
                       {"task": i, "state": "CANCELLED", "exit": None,
                        "reason": "make regress was interrupted before the task started"})
        raise


def shard_tally(d, ids):
    c = {}
    for jid in ids:
        st = read_json(os.path.join(d, "jobs", jid, "status.json")) or {}
        c[st.get("status", "no status")] = c.get(st.get("status", "no status"), 0) + 1
    return ", ".join("%d %s" % (n, s) for s, n in sorted(c.items()))


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


def run_slurm(d, rnd, shards, start_timeout, task_minutes, run):
    """Submits the round as one job array (a task per shard), waits, and records every task's
    final state from scontrol (or sacct where accounting is on) in rounds/R/task-I.json."""
    for c in ("sbatch", "squeue", "scontrol", "scancel"):
        if not shutil.which(c):
            raise BadInput("regress: BACKEND=slurm: `%s` not found (scripts/install-deps.sh farm; "
                           "scripts/slurm-cluster.sh start runs a one-node cluster)" % c)
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


# --- Merge --------------------------------------------------------------------------------------
def task_record(d, rnd, shard):
    return read_json(os.path.join(d, "rounds", str(rnd), "task-%d.json" % shard)) or {}


def latest_assignment(d):
    """job id -> (round, shard) of the last round that scheduled it."""
    where = {}
    for r in rounds_of(d):
        info = read_json(os.path.join(d, "rounds", str(r), "round.json")) or {"shards": []}
        for i, ids in enumerate(info["shards"]):
            for jid in ids:
                where[jid] = (r, i)
    return where


def classify(d, run, job, assigned):
    """The job's outcome: its own status.json when it wrote one, else what the scheduler says
    about the task that should have run it."""
    jd = os.path.join(d, "jobs", job["id"])
    st = read_json(os.path.join(jd, "status.json"))
    if job["id"] not in assigned:
        return {"status": "not-started", "detail": "never scheduled (no round lists it)"}
    rnd, shard = assigned[job["id"]]
    task = task_record(d, rnd, shard)
    tstate = (task.get("state") or "UNKNOWN").split()[0]
    tdesc = "round %d shard %d" % (rnd, shard)
    if st is not None and st.get("key") != run["key"]:
        return {"status": "lost", "detail": "jobs/%s/status.json belongs to run %s, not %s: ignored"
                % (job["id"], st.get("key"), run["key"])}
    if st is not None and st.get("round") == rnd:
        out = dict(st)
        s = st["status"]
        if s == "interrupted" or (s == "crashed" and st.get("signal") in (signal.SIGTERM, signal.SIGKILL)):
            # Killed from outside: the scheduler knows whether it was a cancel or the time limit.
            if tstate == "TIMEOUT":
                out.update(status="timeout", detail="the task (%s) reached its time limit while this job ran" % tdesc)
            elif tstate in ("CANCELLED", "UNKNOWN") or s == "interrupted":
                why = task.get("reason") if task.get("reason") not in (None, "None") else ""
                out.update(status="cancelled", detail="the task (%s) was cancelled while this job ran%s"
                           % (tdesc, " (%s)" % why if why else ""))
        return out
    running = read_json(os.path.join(jd, "running.json"))
    if running is not None and running.get("round") == rnd and running.get("key") == run["key"]:
        # Started, never finished: the whole task died under it.
        base = {"host": running.get("host"), "started": running.get("started"), "round": rnd, "shard": shard}
        if tstate == "TIMEOUT":
            return dict(base, status="timeout", detail="the task (%s) reached its time limit while this job ran" % tdesc)
        if tstate == "CANCELLED":
            return dict(base, status="cancelled", detail="the task (%s) was cancelled while this job ran" % tdesc)
        if tstate in ("FAILED", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "PREEMPTED", "DEADLINE"):
            return dict(base, status="crashed", detail="the task (%s) died while this job ran: %s, exit code %s"
                        % (tdesc, tstate, task.get("exit_code", task.get("exit"))))
        return dict(base, status="lost", detail="started on %s but wrote no status; the task (%s) is %s"
                    % (running.get("host"), tdesc, tstate))
    base = {"round": rnd, "shard": shard}
    if task.get("never_started"):
        return dict(base, status="not-started", detail="its task (%s) never started: pending (%s) until the "
                    "start timeout, then cancelled" % (tdesc, task.get("pending_reason")))
    if tstate == "NOT_SUBMITTED":
        return dict(base, status="not-started", detail="sbatch refused its task (%s): %s" % (tdesc, task.get("reason")))
    if tstate in ("UNKNOWN",) and not os.path.exists(os.path.join(d, "rounds", str(rnd), "shard-%d.json" % shard)):
        return dict(base, status="not-started", detail="its task (%s) never ran (no record of it)" % tdesc)
    return dict(base, status="not-started", detail="its task (%s) ended (%s) before reaching this job"
                % (tdesc, tstate))


def signature(rep, report_txt):
    """The failure's bucket: ports and lane of the first mismatching cycle, the layer's profile,
    and the class of that cycle (where the array was)."""
    first = (rep.get("mismatches") or [{}])[0]
    ports = ",".join(sorted(first.get("ports", []))) or "unknown"
    lanes = sorted({l["lane"] for l in first.get("lanes", [])})
    lane = "-" if not lanes else str(lanes[0]) if len(lanes) == 1 else "several"
    return {"ports": ports, "lane": lane, "profile": source_profile(rep.get("layer", {}).get("source", "")),
            "class": cycle_class(first.get("where"), report_txt)}


def cycle_class(where, report_txt):
    """reset (rst_ni low), config (before the first configuration beat), LOAD, RUN-first-row
    (the tile's first activation row), RUN, DRAIN, IDLE (between tiles or after done)."""
    if report_txt and re.search(r"inputs in that cycle: rst_ni=0\b", report_txt):
        return "reset"
    if not where:
        return "unknown"
    if where.get("tile", -1) < 0:
        return "config"
    s = where.get("state", "?")
    if s == "RUN":
        return "RUN-first-row" if where.get("row", 0) == 0 else "RUN"
    return s


def merge(d, quiet=False):
    """Reads every job's files and writes the merged results: junit.xml, summary.json and
    summary.txt, failures.json, jobs.tsv, failed.txt, coverage.dat. Pure function of the
    files: merging again writes the same bytes."""
    run = read_json(os.path.join(d, "run.json"))
    if not run:
        raise BadInput("regress merge: %s has no run.json: not a results folder" % d)
    assigned = latest_assignment(d)
    results = []
    for job in run["jobs"]:
        c = classify(d, run, job, assigned)
        c["job"] = job
        c["layers"] = parse_job_output(os.path.join(d, "jobs", job["id"]))
        results.append(c)
    write_json(os.path.join(d, "failures.json"), failure_groups(d, results))
    write_junit(d, run, results)
    cov = merge_coverage(d, run, results)
    summary = summarize(d, run, results, cov)
    write_json(os.path.join(d, "summary.json"), summary)
    text = summary_text(d, run, summary, read_json(os.path.join(d, "failures.json")))
    write_atomic(os.path.join(d, "summary.txt"), text)
    write_atomic(os.path.join(d, "jobs.tsv"), "job\tstatus\tcycles\tseconds\tlayers_passed\tlayers_failed\tdetail\n" + "".join(
        "%s\t%s\t%d\t%.3f\t%d\t%d\t%s\n" % (r["job"]["id"], r["status"], sum(l["cycles"] for l in r["layers"]),
                                            r.get("seconds") or 0.0, sum(1 for l in r["layers"] if l["ok"]),
                                            sum(1 for l in r["layers"] if not l["ok"]), r.get("detail", ""))
        for r in results))
    write_atomic(os.path.join(d, "failed.txt"), "".join(r["job"]["id"] + "\n" for r in results if r["status"] != "passed"))
    if not quiet:
        sys.stdout.write(text)
    return summary


def local_reproduce(line):
    """The report's reproduce line without its --trace-dir: that folder is the farm job's own
    (it differs between a run and its shards run apart); run by hand, the trace goes to
    build/traces."""
    if not line:
        return line
    try:
        a = shlex.split(line)
    except ValueError:
        return line
    out, i = [], 0
    while i < len(a):
        if a[i] == "--trace-dir" and i + 1 < len(a):
            i += 2
            continue
        out.append(a[i])
        i += 1
    return shlex.join(out)


def failure_groups(d, results):
    groups = {}
    for r in results:
        jd = os.path.join(d, "jobs", r["job"]["id"])
        for lay in r["layers"]:
            if lay["ok"]:
                continue
            rep = read_json(os.path.join(jd, lay["report"])) or {}
            txt_path = os.path.join(jd, os.path.dirname(lay["report"]), "report.txt")
            txt = open(txt_path, errors="replace").read() if os.path.exists(txt_path) else ""
            sig = signature(rep, txt)
            k = (sig["ports"], sig["lane"], sig["profile"], sig["class"])
            g = groups.setdefault(k, dict(sig, kind="mismatch", layers=0, jobs=set(), configs=set(), example=None))
            g["layers"] += 1
            g["jobs"].add(r["job"]["id"])
            g["configs"].add(r["job"]["config"])
            ex = (rep.get("first_cycle", 1 << 62), rep.get("test", ""))
            if g["example"] is None or ex < g["example"][0]:
                g["example"] = (ex, {"test": rep.get("test"), "first_cycle": rep.get("first_cycle"),
                                     "reproduce": local_reproduce(rep.get("reproduce")),
                                     "trace": os.path.relpath(os.path.join(jd, os.path.dirname(lay["report"])), d)})
        if r["status"] in FARM_FAIL or r["status"] == "error":
            k = ("farm", r["status"])
            g = groups.setdefault(k, {"kind": "farm", "status": r["status"], "jobs": set(), "configs": set(),
                                      "example": None, "details": []})
            g["jobs"].add(r["job"]["id"])
            g["configs"].add(r["job"]["config"])
            g["details"].append("%s: %s" % (r["job"]["id"], r.get("detail", "")))
            if g["example"] is None or r["job"]["id"] < g["example"][0]:
                g["example"] = (r["job"]["id"], {"job": r["job"]["id"], "reproduce": shlex.join(r["job"]["argv"])})
    out = []
    for k in sorted(groups, key=lambda k: (groups[k]["kind"] != "mismatch", k)):
        g = groups[k]
        g["jobs"] = sorted(g["jobs"])
        g["configs"] = sorted(g["configs"])
        g["example"] = g["example"][1]
        if "details" in g:
            g["details"] = sorted(g["details"])
        out.append(g)
    return out


def write_junit(d, run, results):
    """One JUnit file: the testcases of every job (classname mpq.regress.<config>.<profile>),
    and one error testcase per job the farm failed to run to its end."""
    suites = {}
    for r in results:
        job = r["job"]
        cases = suites.setdefault(job["config"], [])
        jx = os.path.join(d, "jobs", job["id"], "junit.xml")
        from_junit = set()
        if os.path.exists(jx):
            try:
                for tc in ET.parse(jx).iter("testcase"):
                    tc.set("classname", "mpq.regress.%s.%s" % (job["config"], job["profile"]))
                    cases.append(tc)
                    from_junit.add(tc.get("name"))
            except ET.ParseError:
                pass
        # Layers that passed before the job died (no JUnit then): from its PASS lines.
        for lay in r["layers"]:
            if lay["ok"] and lay["name"] not in from_junit:
                tc = ET.Element("testcase", classname="mpq.regress.%s.%s" % (job["config"], job["profile"]),
                                name=lay["name"], time="%.3f" % lay["seconds"])
                cases.append(tc)
        if r["status"] in FARM_FAIL or (r["status"] == "error" and not from_junit):
            tc = ET.Element("testcase", classname="mpq.regress.farm", name=job["id"], time="%.3f" % (r.get("seconds") or 0))
            ET.SubElement(tc, "error", type=r["status"], message=r.get("detail", ""))
            cases.append(tc)
    root = ET.Element("testsuites", name="mpq regress %s" % run["key"])
    tot = {"tests": 0, "failures": 0, "errors": 0}
    for cfg in sorted(suites):
        cases = suites[cfg]
        n = {"tests": len(cases), "failures": sum(1 for c in cases if c.find("failure") is not None),
             "errors": sum(1 for c in cases if c.find("error") is not None)}
        s = ET.SubElement(root, "testsuite", name="regress.%s" % cfg, tests=str(n["tests"]),
                          failures=str(n["failures"]), errors=str(n["errors"]),
                          time="%.3f" % sum(float(c.get("time", 0)) for c in cases))
        for c in cases:
            s.append(c)
        for k in tot:
            tot[k] += n[k]
    for k, v in tot.items():
        root.set(k, str(v))
    ET.indent(root, space="  ") if hasattr(ET, "indent") else None
    write_atomic(os.path.join(d, "junit.xml"), '<?xml version="1.0" encoding="UTF-8"?>\n'
                 + ET.tostring(root, encoding="unicode") + "\n")


def merge_coverage(d, run, results):
    """verilator_coverage over every job's coverage.dat; points hit, by kind."""
    if not run["coverage"]:
        return None
    dats = sorted(os.path.join(d, "jobs", r["job"]["id"], "coverage.dat") for r in results)
    dats = [p for p in dats if os.path.exists(p)]
    out = os.path.join(d, "coverage.dat")
    if not dats:
        return {"jobs": 0, "file": None}
    tmp = out + ".tmp"
    rc = subprocess.run([vcov_bin(), "--write", tmp] + dats, capture_output=True, text=True)
    if rc.returncode != 0:
        return {"jobs": len(dats), "error": rc.stderr.strip()[-300:]}
    os.replace(tmp, out)
    return dict(coverage_points(out), jobs=len(dats), file="coverage.dat")


def coverage_points(path):
    """Points of rtl/ hit in a Verilator coverage file: line and branch points, toggle points."""
    n = {"line": [0, 0], "toggle": [0, 0]}
    for line in open(path, errors="replace"):
        if not line.startswith("C '"):
            continue
        body, _, count = line.rstrip().rpartition("' ")
        fields = dict(kv.split("\x02", 1) for kv in body[3:].split("\x01") if "\x02" in kv)
        if "rtl/" not in fields.get("f", ""):
            continue
        kind = "toggle" if fields.get("page", "").startswith("v_toggle") else "line"
        n[kind][1] += 1
        n[kind][0] += int(count) > 0
    return {k: {"hit": v[0], "points": v[1], "percent": round(100.0 * v[0] / v[1], 2) if v[1] else None}
            for k, v in n.items()}


def summarize(d, run, results, cov):
    rows = {}
    counts = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
        for lay in r["layers"]:
            k = (r["job"]["config"], lay["profile"])
            row = rows.setdefault(k, {"config": k[0], "profile": k[1], "passed": 0, "failed": 0, "cycles": 0,
                                      "seconds": 0.0, "timed_cycles": 0})
            row["passed" if lay["ok"] else "failed"] += 1
            row["cycles"] += lay["cycles"]
            if lay["seconds"]:
                # The rate counts the layers whose time is known (a passing layer's PASS line).
                row["seconds"] += lay["seconds"]
                row["timed_cycles"] += lay["cycles"]
    table = []
    for k in sorted(rows):
        row = rows[k]
        row["cycles_per_s"] = round(row.pop("timed_cycles") / row["seconds"]) if row["seconds"] else None
        row["seconds"] = round(row["seconds"], 3)
        table.append(row)
    cycles = sum(r["cycles"] for r in table)
    job_secs = sum(r.get("seconds") or 0.0 for r in results)
    spans = round_spans(d)
    wall = sum(s["wall"] for s in spans)
    return {"key": run["key"], "plan": run["plan"], "plan_file": run["plan_file"], "commit": run["commit"],
            "jobs": len(results), "status": counts,
            "passed": counts.get("passed", 0), "failed": len(results) - counts.get("passed", 0),
            "layers_passed": sum(r["passed"] for r in table), "layers_failed": sum(r["failed"] for r in table),
            "cycles": cycles, "min_cycles_planned": sum(j["min_cycles"] for j in run["jobs"]),
            "job_seconds": round(job_secs, 3),
            "cycles_per_s_per_job": round(cycles / job_secs) if job_secs else None,
            "wall_seconds": round(wall, 3), "cycles_per_s_aggregate": round(cycles / wall) if wall else None,
            "rounds": spans, "by_config_profile": table, "coverage": cov}


def round_spans(d):
    """Per round: the wall-clock span from the first shard's start to the last one's end."""
    out = []
    for r in rounds_of(d):
        recs = [read_json(p) for p in sorted(glob.glob(os.path.join(d, "rounds", str(r), "shard-*.json")))]
        recs = [x for x in recs if x and x.get("started")]
        if not recs:
            out.append({"round": r, "shards_run": 0, "wall": 0.0})
            continue
        start = min(x["started"] for x in recs)
        end = max(x.get("ended") or x["started"] for x in recs)
        out.append({"round": r, "shards_run": len(recs), "wall": round(end - start, 3)})
    return out


def plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


def fmt_rate(v):
    return "%.3f" % (v / 1e6) if v else "-"


def summary_text(d, run, s, groups):
    L = []
    L.append("regress %s: plan %s (%s), commit %s" % (run["key"], run["plan"], run["plan_file"], run["commit"]))
    L.append("results: %s" % show(d) if d.startswith(REPO) else "results: %s" % d)
    st = s["status"]
    L.append("jobs: %d; passed %d, failed %d, error %d; farm: crashed %d, timeout %d, cancelled %d, not started %d, lost %d"
             % (s["jobs"], st.get("passed", 0), st.get("failed", 0), st.get("error", 0), st.get("crashed", 0),
                st.get("timeout", 0), st.get("cancelled", 0), st.get("not-started", 0), st.get("lost", 0)))
    L.append("")
    L.append("%-8s %-13s %8s %7s %14s %10s" % ("config", "profile", "passed", "failed", "cycles", "Mcycles/s"))
    for r in s["by_config_profile"]:
        L.append("%-8s %-13s %8d %7d %14d %10s" % (r["config"], r["profile"], r["passed"], r["failed"], r["cycles"],
                                                 fmt_rate(r["cycles_per_s"])))
    L.append("%-22s %8d %7d %14d" % ("all layers", s["layers_passed"], s["layers_failed"], s["cycles"]))
    L.append("")
    L.append("cycles simulated: %d%s; %s Mcycles/s per job (job wall time), "
             "%s Mcycles/s aggregate over %.1f s of wall clock"
             % (s["cycles"], " (the plan promises at least %d)" % s["min_cycles_planned"] if s["min_cycles_planned"] else "",
                fmt_rate(s["cycles_per_s_per_job"]), fmt_rate(s["cycles_per_s_aggregate"]), s["wall_seconds"]))
    cov = s.get("coverage")
    if cov:
        if cov.get("file"):
            L.append("coverage of rtl/ merged from %d jobs (%s): line/branch points %d/%d (%.2f%%), toggle points %d/%d (%.2f%%)"
                     % (cov["jobs"], cov["file"], cov["line"]["hit"], cov["line"]["points"], cov["line"]["percent"] or 0,
                        cov["toggle"]["hit"], cov["toggle"]["points"], cov["toggle"]["percent"] or 0))
        else:
            L.append("coverage: %s" % (cov.get("error") or "no job wrote coverage counters"))
    mism = [g for g in groups if g["kind"] == "mismatch"]
    farm = [g for g in groups if g["kind"] == "farm"]
    if mism:
        L.append("")
        L.append("mismatches by signature (%d groups; port, lane, profile, class of the first mismatching cycle):" % len(mism))
        for i, g in enumerate(mism, 1):
            L.append("  [%d] %s, lane %s, profile %s, first cycle in %s: %s in %s (%s)"
                     % (i, g["ports"], g["lane"], g["profile"], g["class"], plural(g["layers"], "layer"),
                        plural(len(g["jobs"]), "job"), " ".join(g["configs"])))
            ex = g["example"]
            L.append("      reproduce: %s   (cycle %s; trace %s)" % (ex["reproduce"], ex["first_cycle"], ex["trace"]))
    if farm:
        L.append("")
        L.append("jobs that did not run to their end (%d):" % sum(len(g["jobs"]) for g in farm))
        for g in farm:
            L.append("  %s: %s" % (g["status"], plural(len(g["jobs"]), "job")))
            for det in g["details"][:10]:
                L.append("      %s" % det)
            if len(g["details"]) > 10:
                L.append("      ... %d more in jobs.tsv" % (len(g["details"]) - 10))
            L.append("      reproduce one: %s" % g["example"]["reproduce"])
    if s["failed"]:
        L.append("")
        plan = run["plan"] if run["plan_file"] == "scripts/plans/%s.plan" % run["plan"] else run["plan_file"]
        L.append("rerun the %s that did not pass: make regress PLAN=%s RERUN=failed%s (list: failed.txt)"
                 % (plural(s["failed"], "job"), plan, " COVERAGE=1" if run["coverage"] else ""))
    L.append("regress: %d passed, %d failed" % (s["passed"], s["failed"]))
    return "\n".join(L) + "\n"


# --- Commands ---------------------------------------------------------------------------------
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
                       "try: eval \"$(scripts/slurm-cluster.sh start)\"")
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


def cmd_bench_merge(a):
    """Makes N synthetic job results (20 layers each; job i fails one layer when i % 10 == 3,
    at cycle 13 + i % 7, in lane 2 + i % 3, profile PROFILES[i % 3], row i // 10 % 2 of the tile)
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
                    "layer": {"source": "lockstep:%s hp-n=1" % PROFILES[i % 3]}, "reproduce": "mpq-tb lockstep --seed %d" % (j["seed"] + t)})
            else:
                lines.append("PASS  %-40s %9d cycles %8.3f Mcycles/s  (lockstep:random hp-n=1 p-valid=0.9 p-ready=0.9)" % (name, 400 + t, 0.5))
                cases.append('    <testcase classname="mpq.cosim" name="%s" time="0.001"/>' % name)
        write_atomic(os.path.join(jd, "log.txt"), "\n".join(lines) + "\n")
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
