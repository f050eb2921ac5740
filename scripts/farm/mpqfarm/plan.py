# SPDX-License-Identifier: Apache-2.0
"""Plans: a plan file (scripts/farm/plans/NAME.plan, format in scripts/farm/plans/README.md)
checked value by value, expanded into jobs (one mpq-tb invocation each), and the jobs cut
into shards balanced by their estimated cycles."""

import glob
import hashlib
import math
import os
import re
import shlex

from mpqfarm.common import BadInput, REPO, show
from mpqfarm.golden import configs_known, lockstep_args, options, read_cfg

PLAN_DIR = os.path.join(REPO, "scripts", "farm", "plans")
# A `cycles` job starts at seed FIRST + j * SEED_STRIDE and takes consecutive seeds: jobs never
# share a layer as long as one job runs fewer layers than this (checked at plan load time from
# the smallest layer the generator makes, MIN_LAYER_CYCLES).
SEED_STRIDE = 1_000_000
MIN_LAYER_CYCLES = 20
# The lockstep options that a plan's keys set (written from the options table), and the
# options the runner sets itself: a plan's `args` may give neither.
PLAN_OPTIONS = ("--seed", "--runs", "--cycles", "--m", "--k", "--n", "--profile", "--acc", "--p-valid",
                "--p-ready")
RUNNER_ARGS = ("--junit", "--trace-dir", "--results", "--name", "--config", "-q", "--source-thread", "--bare",
               "--trace-bin")
PLAN_KEYS = {"description", "shards", "timeout", "coverage"}
GROUP_KEYS = {"kind", "configs", "profiles", "shapes", "timing", "acc", "seeds", "runs", "cycles",
              "jobs", "timeout", "args"}


def plan_path(name):
    """A plan name (scripts/farm/plans/NAME.plan) or a path to a plan file."""
    if not name:
        raise BadInput("regress: PLAN is not set; plans: %s" % ", ".join(plan_names()))
    p = os.path.join(PLAN_DIR, name + ".plan")
    path = os.sep in name or name.endswith(".plan") or not os.path.isfile(p)
    if path and os.path.isdir(name):
        raise BadInput("regress: PLAN=%s is a directory; give a plan file or a plan name (plans: %s)"
                       % (name, ", ".join(plan_names())))
    if os.sep in name or name.endswith(".plan"):
        if not os.path.isfile(name):
            raise BadInput("regress: PLAN=%s: no such plan file" % name)
        return os.path.abspath(name)
    if not os.path.isfile(p):
        raise BadInput("regress: PLAN=%s: no plan %s (plans: %s)"
                       % (name, show(p), ", ".join(plan_names())))
    return p


def plan_names():
    return sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(PLAN_DIR, "*.plan")))


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
    known = configs_known()
    table = options()
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
            if c not in known:
                raise BadInput("regress: %s: configuration `%s` is not one of rtl/cfg/*.cfg (%s)"
                               % (at(g, "configs"), c, " ".join(known)))
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
            if p not in table["--profile"]["choices"]:
                raise BadInput("regress: %s: profile `%s` is not one of %s"
                               % (at(g, "profiles"), p, " ".join(table["--profile"]["choices"])))
        shapes = []
        for s in g.get("shapes", "random").split():
            if s == "random":
                shapes.append(None)
                continue
            m = re.fullmatch(r"(\d+)x(\d+)x(\d+)", s)
            if not m or min(int(x) for x in m.groups()) < 1:
                raise BadInput("regress: %s: shape `%s` is not `random` or MxKxN (e.g. 64x256x16)" % (at(g, "shapes"), s))
            shape = tuple(int(x) for x in m.groups())
            for d, v in zip(("--m", "--k", "--n"), shape):
                if v > table[d]["hi"]:
                    raise BadInput("regress: %s: shape %s: %s %d is outside %d..%d"
                                   % (at(g, "shapes"), s, d, v, table[d]["lo"], table[d]["hi"]))
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
        acc_choices = ["random"] + table["--acc"]["choices"]
        for a in accs:
            if a not in acc_choices:
                raise BadInput("regress: %s: acc `%s` is not one of %s" % (at(g, "acc"), a, " ".join(acc_choices)))
        args = shlex.split(g.get("args", ""))
        for a in args:
            if a in PLAN_OPTIONS or a in RUNNER_ARGS:
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
                                values = {"--seed": seed, "--p-valid": timing[0], "--p-ready": timing[1],
                                          "--cycles" if g["mode"] == "cycles" else "--runs": amount}
                                if shape:
                                    values.update({"--m": shape[0], "--k": shape[1], "--n": shape[2]})
                                if prof != "random":
                                    values["--profile"] = prof
                                if acc != "random":
                                    values["--acc"] = acc
                                argv = [tb] + ["lockstep"] + lockstep_args(values) + common
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
