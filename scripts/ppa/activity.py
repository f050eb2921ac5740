#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""activity.py: per-net switching activity for OpenSTA from the gate-level simulation's
toggle counts (scripts/ppa/ppa.sh).

  activity.py TOGGLES.txt NETLIST.v OUT.txt
  activity.py --mean OUT.txt CYCLES:ACTIVITY.txt...

TOGGLES.txt: what the testbench's shim wrote for the model that replayed one vector file
(tb/dut_runtime.h, MPQ_TOGGLES): "# cycles N", then "scope signal[bit] toggles" for every bit
of every net of the netlist (a toggle is a change of the bit between two evaluations of the
model). OUT.txt: "net activity" per line, the net named as OpenSTA names it in NETLIST.v
(instance path / net), activity = toggles per clock cycle. The clock is left out (OpenSTA
gives it its clock activity), and so are the scopes outside mpq_top (the model's ports: the
same nets as mpq_top's). The RAM macros' counters (scripts/ppa/mpq_ram_gls.sv) come out as
<macro instance>/<signal>, names OpenSTA does not know (scripts/ppa/power.py reads them). Exit 1 when a count is impossible (more than two toggles per cycle:
inputs applied, then the clock edge), 2 on bad input.

--mean: the activity of several workloads run one after the other: per net, the mean of their
activities weighted by their cycles. Power is linear in every pin's activity (the library's
internal energy per transition depends on slews and loads, not on the activity), so the power
with the mean activity times the total cycles is exactly the sum of each workload's power
times its cycles: one OpenSTA run gives the energy of them all.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ppaio import die  # noqa: E402


def read_toggles(path):
    """(cycles, [(instance path, signal bit, toggles)]) of a toggle file."""
    cycles, rows = None, []
    for line in open(path):
        if line.startswith("# cycles "):
            cycles = int(line.split()[2])
            continue
        f = line.split()
        if len(f) != 3 or line.startswith("#"):
            continue
        scope = f[0].split(".")
        if "mpq_top" not in scope:
            continue
        path_ = "/".join(scope[scope.index("mpq_top") + 1:])
        rows.append((path_, f[1], int(f[2])))
    if not cycles or not rows:
        die("%s: no cycles or no nets" % path)
    return cycles, rows


def instance_paths(netlist):
    """{instance path ('' for the top, 'u_lane0', ...): module} of the top mpq_top, and for the
    RAM macros' instances (abuf_0) their cell."""
    mods, cur = {}, None
    inst = re.compile(r"^\s+(\\\S+|[A-Za-z_]\w*)\s+(\w+)\s*\($")
    for line in open(netlist):
        m = re.match(r"^module\s+(\S+?)\s*\(", line)
        if m:
            cur = m.group(1)
            mods[cur] = []
            continue
        m = inst.match(line)
        if m and cur is not None:
            mods[cur].append((m.group(1), m.group(2)))
    if "mpq_top" not in mods:
        die("%s: no module mpq_top" % netlist)
    paths = {}

    def walk(mod, path):
        paths[path] = mod
        for typ, name in mods.get(mod, []):
            sub = name if not path else path + "/" + name
            if typ in mods:
                walk(typ, sub)
            elif typ.startswith("mpq_ram_"):
                paths[sub] = typ  # a RAM macro: its access counters (scripts/ppa/ram.py)
    walk("mpq_top", "")
    return paths


def mean(argv):
    if len(argv) < 4:
        die("usage: activity.py --mean OUT.txt CYCLES:ACTIVITY.txt...")
    total, acc, order = 0, {}, []
    for arg in argv[3:]:
        c, _, path = arg.partition(":")
        try:
            c = int(c)
        except ValueError:
            die("`%s` is not CYCLES:FILE" % arg)
        total += c
        for line in open(path):
            if line.startswith("#"):
                continue
            net, act = line.split()
            if net not in acc:
                acc[net] = 0.0
                order.append(net)
            acc[net] += c * float(act)
    tmp = argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write("# net activity (toggles per clock cycle), mean of %d workloads over %d cycles\n"
                % (len(argv) - 3, total))
        f.write("\n".join("%s %.6g" % (n, acc[n] / total) for n in order) + "\n")
    os.replace(tmp, argv[2])


def main(argv):
    if len(argv) > 1 and argv[1] == "--mean":
        mean(argv)
        return
    if len(argv) != 4:
        die("usage: activity.py TOGGLES.txt NETLIST.v OUT.txt")
    cycles, rows = read_toggles(argv[1])
    paths = instance_paths(argv[2])
    out, bad = [], []
    for inst, sig, toggles in rows:
        if inst not in paths:
            die("%s: instance %s is not in %s" % (argv[1], inst, argv[2]))
        act = toggles / cycles
        if act > 2.0 + 1e-9:
            bad.append("%s %s: %.3f toggles per cycle" % (inst or "mpq_top", sig, act))
        if inst == "" and sig == "clk_i":
            continue
        out.append("%s %.6g" % (sig if inst == "" else inst + "/" + sig, act))
    if bad:
        die("impossible counts:\n  " + "\n  ".join(bad[:10]), 1)
    tmp = argv[3] + ".tmp"
    with open(tmp, "w") as f:
        f.write("# net activity (toggles per clock cycle), from %s over %d cycles\n"
                % (os.path.basename(argv[1]), cycles))
        f.write("\n".join(out) + "\n")
    os.replace(tmp, argv[3])


if __name__ == "__main__":
    main(sys.argv)
