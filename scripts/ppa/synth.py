#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""synth.py: Yosys (the pyosys package: libyosys and its ABC) maps mpq_top to the standard
cells of a liberty file, hierarchy kept (scripts/ppa/synth-map.sh runs it; Yosys's log goes
to standard output).

  synth.py SOURCES.f LIB.lib ABC.constr DELAY_PS OUTDIR KEY=VALUE...

SOURCES.f: the RTL as netlist.py sources wrote it; KEY=VALUE: mpq_top's parameters (the
cfg). The steps:
  read_verilog -sv (the memory, rtl/mpq_ram.sv, with -lib: a black box, the RAM macro),
  chparam, hierarchy; every module of the design must be in scripts/ppa/units.tsv; the
  modules of units `-` are flattened away, the others keep their hierarchy; synth; dfflibmap;
  abc -liberty -constr -D DELAY_PS -script scripts/ppa/abc.script (with a delay target ABC
  also buffers high-fanout nets and sizes gates); splitnets; opt_clean -purge.
Names, so that OpenSTA, the gate-level simulation and the reports agree: submodule instances
g_x[i].u_y become u_y<i> (g_lane[3].u_lane -> u_lane3); every instance of mpq_top must then
match its row of units.tsv; a macro instance becomes <unit>_0 (u_abuf -> abuf_0); leaf cells
are <unit>_<n> (the unit of their module; mpq_top's own: control), nets n<n> (scalar); ports
keep their names and widths.
Writes OUTDIR/netlist.v.tmp (write_verilog -noattr -noexpr), OUTDIR/stat.txt (stat
-liberty) and OUTDIR/steps.tsv (seconds per Yosys command). Exit 1 when Yosys fails, 2 on a module or instance the table does not name.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ppaio import die  # noqa: E402
from units import Units, base_name, TOP, CONTROL, MACRO  # noqa: E402

from pyosys import libyosys as ys  # noqa: E402


class Yosys:
    def __init__(self, out):
        self.d = ys.Design()
        self.out = out
        self.n = 0

    def run(self, cmd):
        t = time.time()
        ys.run_pass(cmd, self.d)
        with open(os.path.join(self.out, "steps.tsv"), "a") as f:  # where the time goes
            f.write("%.1f\t%s\n" % (time.time() - t, cmd[:100]))

    def query(self, cmd):
        """The text a command prints (tee -o)."""
        self.n += 1
        path = os.path.join(self.out, "query-%d.txt" % self.n)
        self.run("tee -q -o %s %s" % (path, cmd))
        text = open(path).read()
        os.remove(path)
        return text

    def modules(self):
        return re.findall(r"^\s+(\S+)$", self.query("ls").split("modules:", 1)[-1], re.M)

    def instances(self, module_base):
        """[(parent module, cell name)] of the cells whose type is a derivation of module_base."""
        out = []
        for line in self.query("select -list */t:*%s" % module_base).split("\n"):
            if "/" in line:
                parent, cell = line.strip().rsplit("/", 1)
                out.append((parent, cell))
        return out


def new_name(cell):
    """g_lane[3].u_lane -> u_lane3; g_a[1].g_b[2].u_c -> u_c1_2; u_win stays."""
    m = re.match(r"^\\?((?:g_\w+(?:\[\d+\])?\.)+)(u_\w+)$", cell)
    if not m:
        return cell.lstrip("\\")
    idx = re.findall(r"\[(\d+)\]", m.group(1))
    return m.group(2) + "_".join(idx)


def main(argv):
    if len(argv) < 6:
        die("usage: synth.py SOURCES.f LIB.lib ABC.constr DELAY_PS OUTDIR KEY=VALUE...")
    sources, lib, constr, delay, out = argv[1:6]
    params = [a.split("=", 1) for a in argv[6:]]
    units = Units()
    kept = units.kept_modules()
    y = Yosys(out)
    if os.path.exists(os.path.join(out, "steps.tsv")):
        os.remove(os.path.join(out, "steps.tsv"))
    files = open(sources).read().split()
    macro_src = [f for f in files if os.path.basename(f) == MACRO + ".sv"]
    if len(macro_src) != 1:
        die("%s lists no %s.sv (the memory the flow keeps as a macro)" % (sources, MACRO))
    y.run("read_verilog -sv -lib %s" % macro_src[0])
    y.run("read_verilog -sv %s" % " ".join(f for f in files if f not in macro_src))
    y.run("chparam %s %s" % (" ".join("-set %s %s" % (k, v) for k, v in params), TOP))
    y.run("hierarchy -check -top %s" % TOP)

    # Every module must be one the table knows.
    known = units.modules()
    for mod in y.modules():
        if base_name(mod) not in known:
            die("module %s is not in scripts/ppa/units.tsv (add a row: instance, module, unit)"
                % base_name(mod))
    for mod in kept:
        y.run("setattr -mod -set keep_hierarchy 1 *%s" % mod)
    y.run("flatten")
    # synth without its own ABC pass (abc -fast to generic gates): the one ABC run is the
    # mapping to the library below.
    y.run("synth -top %s -noabc" % TOP)
    y.run("dfflibmap -liberty %s" % lib)
    # ABC reads no {D} in a sourced script: the flow's copy has the delay written in.
    script = os.path.join(out, "abc.script")
    with open(script, "w") as f:
        f.write(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "abc.script")).read()
                .replace("{D}", str(delay)))
    y.run("abc -liberty %s -constr %s -D %s -script %s" % (lib, constr, delay, script))
    y.run("splitnets")
    y.run("opt_clean -purge")

    # Instance names; the instances of mpq_top against the table.
    for mod in sorted(kept) + [MACRO]:
        for parent, cell in y.instances(mod):
            name = new_name(cell)
            if parent == TOP:
                row = units.row(name)
                if row is None or row[0] != mod:
                    die("instance %s (module %s) of %s has no row in scripts/ppa/units.tsv"
                        % (name, mod, TOP))
                if mod == MACRO:
                    name = "%s_0" % row[1]
            if name != cell.lstrip("\\"):
                y.run("cd %s" % parent)
                y.run("rename %s %s" % (cell, name))
                y.run("cd ..")
    # Leaf cells: <unit>_<n> (rename -enumerate renames private names only, hence -hide).
    for mod, unit in sorted(kept.items()):
        y.run("rename -hide *%s/c:*" % mod)
        y.run("rename -enumerate -pattern %s_%% *%s/c:*" % (unit, mod))
    top_leaves = "%s/c:* " % TOP + " ".join("%s/t:*%s %%d" % (TOP, m) for m in sorted(kept) + [MACRO])
    y.run("rename -hide %s" % top_leaves)
    y.run("rename -enumerate -pattern %s_%% %s" % (CONTROL, top_leaves))
    y.run("rename -hide w:*")
    y.run("rename -enumerate -pattern n% w:*")
    y.run("tee -q -o %s stat -liberty %s" % (os.path.join(out, "stat.txt"), lib))
    y.run("write_verilog -noattr -noexpr %s" % os.path.join(out, "netlist.v.tmp"))


if __name__ == "__main__":
    main(sys.argv)
