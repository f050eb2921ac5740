# SPDX-License-Identifier: Apache-2.0
"""units.py: the units of the PPA report, from scripts/ppa/units.tsv (one table for the area,
the power and the timing path's description). Imported by the flow's other scripts."""
import os
import re
import sys

TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "units.tsv")
TOP = "mpq_top"
CONTROL = "control"
# The RTL's memory module: a RAM macro (black box) in the flow, not mapped to cells.
MACRO = "mpq_ram"


class Units:
    def __init__(self, path=TABLE):
        self.rows = []  # (compiled instance regex, module, unit)
        for n, line in enumerate(open(path), 1):
            if not line.strip() or line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            if len(f) != 3:
                sys.stderr.write("units.py: %s:%d: not instance<TAB>module<TAB>unit\n" % (path, n))
                sys.exit(2)
            self.rows.append((re.compile(f[0] + r"\Z"), f[1], f[2]))

    def order(self):
        """control, then the units in the table's order (no `-`)."""
        out = [CONTROL]
        for _, _, u in self.rows:
            if u != "-" and u not in out:
                out.append(u)
        return out

    def modules(self):
        return {m for _, m, _ in self.rows} | {TOP}

    def kept_modules(self):
        """{module: unit} of the modules that keep their hierarchy (mapped to cells: not `-`,
        not the macro)."""
        return {m: u for _, m, u in self.rows if u != "-" and m != MACRO}

    def row(self, inst):
        """(module, unit) of an instance of mpq_top, or None."""
        for rx, m, u in self.rows:
            if rx.match(inst):
                return m, u
        return None


def unit_of(name):
    """The unit of a leaf cell from its name: lanes_12, u_lane3/lanes_12 -> lanes; abuf_0 ->
    abuf; anything else (a port) -> None."""
    m = re.match(r"^([a-z]+)_\d+$", name.split("/")[-1])
    return m.group(1) if m else None


def base_name(module):
    """`$paramod$<hash>\\mpq_lane`, `\\mpq_lane` or `mpq_lane` -> mpq_lane."""
    return module.split("\\")[-1]
