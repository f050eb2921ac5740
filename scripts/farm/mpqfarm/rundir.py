# SPDX-License-Identifier: Apache-2.0
"""The results folder: one per commit and plan (BUILD/regress/<commit>-<plan>[-cov]/, laid
out in docs/farm.md), its run record and its rounds (the first run, then each RERUN)."""

import hashlib
import os
import re
import shutil
import subprocess

from mpqfarm.common import REPO, read_json, write_json
from mpqfarm.plan import assign_shards, expand

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
