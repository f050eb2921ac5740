# SPDX-License-Identifier: Apache-2.0
"""The local backend: a round's shards as processes on this machine, a few at once, each
task's end recorded as the scheduler's would be."""

import os
import signal
import socket
import subprocess
import time

from mpqfarm.common import REPO, read_json, say, write_json
from mpqfarm.shard import shard_cmd

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
