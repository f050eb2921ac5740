# SPDX-License-Identifier: Apache-2.0
"""The shard runner: the jobs of one shard, one after the other, each in its own folder, its
status.json written last and atomically; what a Slurm array task or a local worker runs
(`regress.py shard`). A job's layers are read back from mpq-tb's --results lines and its
mismatch traces."""

import glob
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

from mpqfarm.common import BadInput, REPO, read_json, write_json

SOURCE_RE = re.compile(r"^(\w+):([\w-]+)")


class Terminated(Exception):
    pass


def shard_cmd(d, rnd):
    return [sys.executable, os.path.join(REPO, "scripts", "farm", "regress.py"), "shard", d, "--round", str(rnd), "--shard"]


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


def run_job(d, run, job, rnd, shard, state):
    """Runs one job in its own folder; status.json is written last, atomically."""
    jd = os.path.join(d, "jobs", job["id"])
    shutil.rmtree(jd, ignore_errors=True)
    os.makedirs(jd)
    key = run["key"]
    running = {"job": job["id"], "key": key, "round": rnd, "shard": shard, "host": socket.gethostname(),
               "started": time.time()}
    argv = job["argv"] + ["--junit", os.path.join(jd, "junit.xml"), "--trace-dir", os.path.join(jd, "traces"),
                          "--results", os.path.join(jd, "results.jsonl")]
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


def job_results(jd):
    """The lines of the job's results.jsonl (mpq-tb --results: one JSON object per test, written
    as each test ends, so a job killed halfway keeps the tests it finished); a line cut short by
    the kill is left out."""
    out = []
    try:
        with open(os.path.join(jd, "results.jsonl"), errors="replace") as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if isinstance(r, dict) and "test" in r and "status" in r:
                    out.append(r)
    except OSError:
        pass
    return out


def parse_job_output(jd):
    """Every layer the job ran: the passing ones from its results lines, the failing ones with
    the report.json of their mismatch trace (a test that could not run is the job's error)."""
    layers = []
    for r in job_results(jd):
        if r["status"] == "passed":
            layers.append({"name": r["test"], "ok": True, "cycles": int(r.get("cycles", 0)),
                           "seconds": float(r.get("seconds", 0.0)), "profile": source_profile(r.get("source", ""))})
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
