#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""synth_generic.py: Yosys's generic synthesis of mpq_top (`synth`, no cell library), the
cell counts of `make synth` (scripts/ppa/synth.sh). Yosys is the one of the PPA flow: the pyosys
package (scripts/ppa/venv.sh), which runs this script.

  synth_generic.py SOURCES.f OUTDIR NAME KEY=VALUE...

SOURCES.f: the RTL as `netlist.py sources` wrote it (the rewrites Yosys's frontend needs);
KEY=VALUE: mpq_top's parameters (the cfg). The memories (rtl/mpq_ram.sv) become flip-flops
and read multiplexers: generic synthesis has no RAM macro. Yosys's log goes to standard
output. Writes OUTDIR/NAME.stat (Yosys's stat) and OUTDIR/NAME.cells, one line of four
tab-separated cell counts: the whole design, one mpq_lane, one mpq_requant, the weight buffer
(u_wbuf, all lanes). Exit 1 when Yosys fails (it exits itself) or a count is missing.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ppaio import die, write_atomic  # noqa: E402

from pyosys import libyosys as ys  # noqa: E402

TOP = "mpq_top"
# ABC's script (`abc -script +...`: commas stand for blanks).
ABC_SCRIPT = "strash;dc2;&get,-n;&dch,-f;&nf;&put"


def main(argv):
    if len(argv) < 4:
        die("usage: synth_generic.py SOURCES.f OUTDIR NAME KEY=VALUE...")
    sources, out, name = argv[1:4]
    params = [a.split("=", 1) for a in argv[4:]]
    d = ys.Design()
    ys.run_pass("read_verilog -sv %s" % " ".join(open(sources).read().split()), d)
    ys.run_pass("chparam %s %s" % (" ".join("-set %s %s" % (k, v) for k, v in params), TOP), d)
    # synth's own ABC pass, with the script of the PPA flow's mapping (scripts/ppa/abc.script)
    # for generic gates: Yosys's default without &fraig -x, scorr and dretime. The SAT
    # sweeping spent 155 of about 205 s of ABC on the requantizer of `small` (its 32 x 32 multiply)
    # and changed its count by 8 cells in 8,646.
    ys.run_pass("synth -top %s -noabc" % TOP, d)
    ys.run_pass("abc -script +%s" % ABC_SCRIPT, d)
    ys.run_pass("opt -fast", d)
    stat, js, wbuf = (os.path.join(out, name + ext) for ext in (".stat", ".stat.json", ".wbuf"))
    ys.run_pass("tee -q -o %s stat" % stat, d)
    ys.run_pass("tee -q -o %s stat -json" % js, d)
    # The module of the weight buffer: both memories are mpq_ram, with other parameters.
    ys.run_pass("tee -q -o %s select -list %s/u_wbuf %%M" % (wbuf, TOP), d)
    wbuf_mod = next((l.strip() for l in open(wbuf) if l.strip() and "/" not in l), None)
    s = json.load(open(js))
    os.remove(js)
    os.remove(wbuf)
    mods = s["modules"]

    def cells_of(base):
        """Cells of the one module whose name ends in \\base (mpq_lane: every lane is alike)."""
        found = [m for m in mods if m == "\\" + base or m.endswith("\\" + base)]
        if len(found) != 1:
            die("%s: %d modules %s after synthesis, want 1" % (name, len(found), base), 1)
        return mods[found[0]]["num_cells"]

    if wbuf_mod not in mods:
        die("%s: no module for %s/u_wbuf after synthesis" % (name, TOP), 1)
    counts = [s["design"]["num_cells"], cells_of("mpq_lane"), cells_of("mpq_requant"),
              mods[wbuf_mod]["num_cells"]]
    write_atomic(os.path.join(out, name + ".cells"), "\t".join(str(c) for c in counts) + "\n")


if __name__ == "__main__":
    main(sys.argv)
