# SPDX-License-Identifier: Apache-2.0
"""Merge: every job's files read back into junit.xml, summary.txt and summary.json,
failures.json (mismatches grouped by signature; the farm's own failures), jobs.tsv and
failed.txt. Files only, so merging again writes the same bytes; a job without a status is
explained from the scheduler's record of its task."""

import glob
import os
import re
import shlex
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET

from mpqfarm.common import BadInput, REPO, read_json, show, write_atomic, write_json
from mpqfarm.rundir import rounds_of
from mpqfarm.shard import parse_job_output, source_profile, vcov_bin

# Job outcomes. The first four come from the job itself (mpq-tb's exit status or signal);
# the others are failures of the farm, decided from the scheduler's record of the task.
TEST_FAIL = ("failed", "error")
FARM_FAIL = ("crashed", "timeout", "cancelled", "not-started", "lost")


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
        # Layers that passed before the job died (no JUnit then): from its results lines.
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
        plan = run["plan"] if run["plan_file"] == "scripts/farm/plans/%s.plan" % run["plan"] else run["plan_file"]
        L.append("rerun the %s that did not pass: make regress PLAN=%s RERUN=failed%s (list: failed.txt)"
                 % (plural(s["failed"], "job"), plan, " COVERAGE=1" if run["coverage"] else ""))
    L.append("regress: %d passed, %d failed" % (s["passed"], s["failed"]))
    return "\n".join(L) + "\n"
