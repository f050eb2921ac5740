#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""power.py: power with the measured per-net activity (scripts/ppa/ppa.sh).

  power.py OUTDIR NETLIST.v LIB.lib MACROS.lib UNITS FMAX_NS FIXED_NS [MODE ACTIVITY.txt ...]

The Debian OpenSTA (2019) ignores activities set on internal pins (set_power_pin_activity
changes nothing but the ports': checked on one requantizer annotated and its twin not), so
the measured activity is applied here, per instance, from OpenSTA's own per-instance power
(sta.tcl PPA_INSTANCE_DUMP, at FMAX_NS): OUTDIR/instances-g0.tsv (every pin at 0 transitions
per cycle: the clock pins and leakage) and instances-g1.tsv (every pin at 1). A cell's power
is linear in its pins' activity, so with the measured activity a of its output net
(the mean of both for the adders' two outputs):
    P = P(g0) + a x (P(g1) - P(g0))
(its inputs are taken to toggle as its output does: exact for the output's internal and
switching power, which dominate, an approximation for the input pins' own internal power).
A cell whose output net the simulation does not see (inside the behavioural memories) keeps
its power under OpenSTA's default activity (instances-default.tsv).
A RAM macro (MACROS.lib, scripts/ppa/ram.py) gets, beside OpenSTA's power of its cell (the
switching of its read-data nets, its leakage), the dynamic energy of ram.py's model: its
accesses counted by the gate-level simulation (`measured`), or OpenSTA's default activity
(`default`); it is counted as internal power. Writes OUTDIR/power.tsv:
per unit and in total, at FMAX_NS and FIXED_NS (dynamic power scales with the frequency,
leakage does not), the rows of mode `default` (OpenSTA's default activity) and of each MODE
(a measured activity: scripts/ppa/ppa.sh gives one per network, the mean of its layers'); and
OUTDIR/measured.tsv: per MODE and unit, the cells with a measured output and the cells left
to the default.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ppaio import die  # noqa: E402
import ram  # noqa: E402
from netlist import liberty_cells, parse as parse_netlist  # noqa: E402


def liberty_outputs(path):
    """{cell: set of output pins} of a liberty file (netlist.py reads it)."""
    return {c: outs for c, (_, outs) in liberty_cells(path).items()}


def modules(netlist, outs):
    """{module: ([(instance, output nets, cell)], [(submodule, instance)])} of a Yosys netlist
    (netlist.py parses it): the library cells (those outs knows) with the nets their outputs
    drive, and the instances of the netlist's own modules."""
    mods = {}
    for mod, insts in parse_netlist(netlist).items():
        cells, subs = [], []
        for name, typ, conns in insts:
            if typ in outs:
                nets = [n for p, e in conns.items() if p in outs[typ] for n in e.strip("{}").split(",") if n]
                cells.append((name, nets, typ))
            else:
                subs.append((typ, name))
        mods[mod] = (cells, subs)
    return mods


def leaf_outputs(mods):
    """{OpenSTA instance name: ([OpenSTA net names of its outputs], cell)} of the flattened
    design."""
    res = {}

    def walk(mod, path):
        cells, subs = mods[mod]
        pre = path + "/" if path else ""
        for name, nets, typ in cells:
            res[pre + name] = ([pre + re.sub(r"\s+", "", n) for n in nets], typ)
        for typ, name in subs:
            if typ in mods:
                walk(typ, pre + name)
    walk("mpq_top", "")
    return res


def read_inst(path):
    d = {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        d[f[0]] = (float(f[1]), float(f[2]), float(f[3]))
    return d


def rows_of(mode, tot, units, fmax_ns, fixed_ns):
    rows = []
    for period in (fmax_ns, fixed_ns):
        scale = fmax_ns / period  # dynamic power at this clock
        per = [(u, tot[u][0] * scale, tot[u][1] * scale, tot[u][2]) for u in units]
        allu = [sum(p[k] for p in per) for k in (1, 2, 3)]
        for u, i, s, l in [("total", *allu)] + per:
            rows.append("%s\t%.4f\t%s\t%.9g\t%.9g\t%.9g\t%.9g" % (mode, period, u, i, s, l, i + s + l))
    return rows


def main(argv):
    if len(argv) < 8 or len(argv) % 2 != 0:
        die("usage: power.py OUTDIR NETLIST.v LIB.lib MACROS.lib UNITS FMAX_NS FIXED_NS [MODE ACTIVITY.txt ...]")
    out, netlist, lib, mlib, units = argv[1:6]
    fmax_ns, fixed_ns = float(argv[6]), float(argv[7])
    modes = list(zip(argv[8::2], argv[9::2]))
    if len({m for m, _ in modes} | {"default"}) != len(modes) + 1:
        die("the modes %s repeat or name `default`" % " ".join(m for m, _ in modes))
    g0, g1, dflt = (read_inst(os.path.join(out, "instances-%s.tsv" % m)) for m in ("g0", "g1", "default"))
    units = units.split()
    outs = liberty_outputs(lib)
    outs.update(liberty_outputs(mlib))
    outputs = leaf_outputs(modules(netlist, outs))
    macros = Macros(lib, outputs)
    dtot = {u: [0.0, 0.0, 0.0] for u in units}
    for inst, p in dflt.items():
        unit = unit_of(inst, dtot, out)
        p = macros.add(inst, p, fmax_ns, None)
        for k in range(3):
            dtot[unit][k] += p[k]
    lines = ["mode\tperiod_ns\tunit\tinternal_w\tswitching_w\tleakage_w\ttotal_w"]
    lines += rows_of("default", dtot, units, fmax_ns, fixed_ns)
    counted = ["mode\tunit\tcells_measured\tcells_default"]
    for mode, actf in modes:
        tot, count = measured(outputs, macros, actf, g0, g1, dflt, units, out, fmax_ns)
        lines += rows_of(mode, tot, units, fmax_ns, fixed_ns)
        counted += ["%s\t%s\t%d\t%d" % (mode, u, count[u][0], count[u][1]) for u in units]
    if modes:
        tmp = os.path.join(out, "measured.tsv.tmp")
        with open(tmp, "w") as f:
            f.write("\n".join(counted) + "\n")
        os.replace(tmp, os.path.join(out, "measured.tsv"))
    tmp = os.path.join(out, "power.tsv.tmp")
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, os.path.join(out, "power.tsv"))


def unit_of(inst, units, out):
    unit = re.sub(r"_\d+$", "", inst.split("/")[-1])
    if unit not in units:
        die("%s: instance %s of no unit" % (out, inst))
    return unit


class Macros:
    """The RAM macros' model energy (scripts/ppa/ram.py) added to their OpenSTA power."""

    def __init__(self, lib, outputs):
        self.models = {}
        std = None
        for inst, (_, cell) in outputs.items():
            m = re.match(r"^mpq_ram_(\d+)x(\d+)$", cell)
            if m:
                std = std or ram.Lib(lib)
                self.models[inst] = ram.Macro(std, int(m.group(1)), int(m.group(2)))

    def add(self, inst, p, period_ns, act):
        """p (internal, switching, leakage in W at period_ns) plus the model's dynamic power:
        with the measured counts of `act` (a {net: activity}), or the default activity."""
        m = self.models.get(inst)
        if m is None:
            return p
        if act is None:
            writes, reads, wdata = m.default_activity()
        else:
            def a(sig):
                key = "%s/%s" % (inst, sig)
                if key not in act:
                    die("the gate-level simulation counted no %s (scripts/ppa/mpq_ram_gls.sv)" % key)
                return act[key]
            writes, reads = a("wr_tog_q"), a("rd_tog_q")
            wdata = [a("wdata_i[%d]" % b) for b in range(m.width)]
        e_fj = m.dynamic_fj_per_cycle(writes, reads, wdata)
        return (p[0] + e_fj * 1e-15 / (period_ns * 1e-9), p[1], p[2])


def measured(outputs, macros, actf, g0, g1, dflt, units, out, fmax_ns):
    act = {}
    for line in open(actf):
        if not line.startswith("#"):
            n, a = line.split()
            act[n] = float(a)
    tot = {u: [0.0, 0.0, 0.0] for u in units}
    count = {u: [0, 0] for u in units}
    for inst, p0 in g0.items():
        unit = unit_of(inst, tot, out)
        if inst not in outputs:
            die("%s: instance %s is not in the netlist" % (out, inst))
        nets = outputs[inst][0]
        acts = [act[n] for n in nets if n in act]
        if nets and len(acts) == len(nets):
            a = sum(acts) / len(acts)
            p1 = g1[inst]
            p = (p0[0] + a * (p1[0] - p0[0]), p0[1] + a * (p1[1] - p0[1]), p0[2])
            count[unit][0] += 1
        else:
            p = dflt[inst]
            count[unit][1] += 1
        p = macros.add(inst, p, fmax_ns, act)
        for k in range(3):
            tot[unit][k] += p[k]
    return tot, count


if __name__ == "__main__":
    main(sys.argv)
