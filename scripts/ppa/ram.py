#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""ram.py: the RAM macro model of the PPA flow (scripts/ppa/ppa.sh).

The memories (rtl/mpq_ram.sv: the weight buffer u_wbuf and the activation ring u_abuf) are not
mapped to standard cells: as in a real flow they are macros, a black box in synthesis, a
liberty cell in OpenSTA, and their own unit in the reports. ABC cannot map the flop array of a
large memory in reasonable time (a 1024 x 8 column of the ring alone took 95 s, the 1024 x 128
ring would take about half an hour), and a real chip would not build it of flip-flops anyway.

The model: a register file built of this library's cells, Depth rows of Width DFFPOSX1 whose
clock is gated per row (a LATCH + AND2X2 row gate; the macro's clock reaches the row gates only
in a write cycle), read through a decoded row select (one AND2X2 per bit) and an OR2X2 tree
per bit (Depth - 1 per bit), the row lines and the write data driven through BUFX4 trees
(8 loads per buffer), a Depth-output row decoder of AND2X2. Every figure comes from the
liberty of the standard cells (each table's middle entry: a typical slew and load), nothing
is fitted; the library gives LATCH an area of 0, DFFNEGX1's is used for it.
  area    = Depth x Width x (A(DFFPOSX1) + A(AND2X2) + A(OR2X2) x (Depth - 1) / Depth
            + 2/8 A(BUFX4)) + Depth x (A(DFFNEGX1) + 2 A(AND2X2))   (row gates, decoder)
  leakage = the same cells x their cell_leakage_power
  read    raddr -> rdata: 2 AND2X2 (decode) + ceil(log8 Width) BUFX4 (row line) + AND2X2 +
          ceil(log2 Depth) OR2X2; clk -> rdata (the entry being read is written): DFFPOSX1
          clk->Q + AND2X2 + the OR2X2 levels
  write   setup of we, waddr, wdata: DFFPOSX1 setup + the row gate (LATCH D->Q, AND2X2) +
          ceil(log8 max(Depth, Width)) BUFX4 delays (the write data or row-enable tree)
  energy  per write: Width x DFFPOSX1 clocked (CLK internal energy and capacitance, rise and
          fall) + Width / 2 x a DFFPOSX1 Q transition (half the bits change) + the clock to
          the Depth row gates (their CLK capacitance, twice) + the row gate;
          per read (a cycle whose read address differs from the previous one): two row lines
          switch (each: its decode AND2X2, Width AND2X2 inputs and Width / 8 BUFX4) and on each
          bit the AND2X2 and the OR2X2 path switch half the time;
          per toggle of a write-data bit: Depth DFFPOSX1 D inputs (capacitance and internal
          energy) and Depth / 8 BUFX4;
          per cycle: the macro's clock gate (LATCH CLK, twice).
          The read data's nets (outside the macro) are OpenSTA's, as for any cell.
For comparison, the flop array Yosys and ABC build from rtl/mpq_ram.sv (no clock gating:
a hold multiplexer per bit, a MUX tree read) measured 220 um^2 per bit at 64 x 8 and 210 at
1024 x 8 (README "Area, timing and energy").
The gate-level simulation counts the accesses (scripts/ppa/mpq_ram_gls.sv): writes per cycle
(wr_tog_q toggles once per write), each address and data bit's toggles per cycle (the macro's
ports). OpenSTA's default activity for the `default` rows: 0.1 toggles per cycle on every
port bit and the write enable high half the time (OpenSTA's default duty).

  ram.py lib STD.lib OUT.lib DEPTHxWIDTH...
      the liberty of the macros mpq_ram_<Depth>x<Width> (area, leakage, pin capacitances,
      read arcs from raddr_i and clk_i, setup of the write pins).
  ram.py describe STD.lib DEPTHxWIDTH
      the model's figures for one macro, one per line (the README quotes them).
Exit 2 on bad arguments.
"""
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ppaio import die  # noqa: E402

V = 1.8  # the library's nominal supply (volts)


# ---- the standard cells' figures ----------------------------------------------------------
def groups(text, kind):
    """[(name, body)] of the `kind (name) { ... }` groups at any depth of a liberty text."""
    out = []
    for m in re.finditer(r"\b%s\s*\(\s*\"?([\w,]*)\"?\s*\)\s*\{" % kind, text):
        depth, i = 1, m.end()
        while depth:
            c = text[i]
            depth += (c == "{") - (c == "}")
            i += 1
        out.append((m.group(1), text[m.end():i - 1]))
    return out


def mid(body, table):
    """The middle entry of the first `table` of a liberty group body."""
    g = groups(body, table)
    if not g:
        die("no table %s" % table)
    m = re.search(r"values\s*\((.*?)\)\s*;", g[0][1], re.S)
    vals = [float(v) for v in re.findall(r"-?[0-9.]+(?:e-?\d+)?", m.group(1).replace("\\", " "))]
    return vals[len(vals) // 2]


class Lib:
    def __init__(self, path):
        text = open(path).read()
        self.cells = dict(groups(text, "cell"))

    def cell(self, name):
        if name not in self.cells:
            die("the library has no cell %s" % name)
        return self.cells[name]

    def area(self, c):
        return float(re.search(r"\barea\s*:\s*([0-9.]+)", self.cell(c)).group(1))

    def leak(self, c):
        """cell_leakage_power, in the library's unit (nW)."""
        return float(re.search(r"cell_leakage_power\s*:\s*([0-9.]+)", self.cell(c)).group(1))

    def pin(self, c, p):
        for name, body in groups(self.cell(c), "pin"):
            if name == p:
                return body
        die("cell %s has no pin %s" % (c, p))

    def cap(self, c, p):
        """Input capacitance (pF)."""
        return float(re.search(r"\bcapacitance\s*:\s*([0-9.]+)", self.pin(c, p)).group(1))

    def timing(self, c, p, related):
        for _, body in groups(self.pin(c, p), "timing"):
            if re.search(r'related_pin\s*:\s*"%s"' % related, body):
                return body
        die("cell %s pin %s has no timing arc from %s" % (c, p, related))

    def delay(self, c, p, related):
        t = self.timing(c, p, related)
        return max(mid(t, "cell_rise"), mid(t, "cell_fall"))

    def transition(self, c, p, related):
        t = self.timing(c, p, related)
        return max(mid(t, "rise_transition"), mid(t, "fall_transition"))

    def setup(self, c, p, related):
        for _, body in groups(self.pin(c, p), "timing"):
            if "setup_rising" in body:
                return max(mid(body, "rise_constraint"), mid(body, "fall_constraint"))
        die("cell %s pin %s has no setup" % (c, p))

    def energy(self, c, p, related=None):
        """Internal energy of one transition of pin p (mean of rise and fall; fJ: the library's
        V x uA x ns), of its arc from `related` when given."""
        for _, body in groups(self.pin(c, p), "internal_power"):
            if related is None or re.search(r'related_pin\s*:\s*"%s"' % related, body):
                return (mid(body, "rise_power") + mid(body, "fall_power")) / 2
        die("cell %s pin %s has no internal power%s" % (c, p, " from " + related if related else ""))


def switch_fj(cap_pf):
    """Energy of one transition of a net of cap_pf (fJ): C V^2 / 2."""
    return 0.5 * cap_pf * V * V * 1000.0


def parse_dxw(s):
    m = re.match(r"^(\d+)x(\d+)$", s)
    if not m:
        die("`%s` is not DEPTHxWIDTH" % s)
    return int(m.group(1)), int(m.group(2))


def name_of(depth, width):
    return "mpq_ram_%dx%d" % (depth, width)


def addr_w(depth):
    return 1 if depth <= 2 else math.ceil(math.log2(depth))


def log8(n):
    return max(1, math.ceil(math.log(max(n, 2), 8)))


class Macro:
    """The model's figures for one Depth x Width macro (area um^2, leakage nW, times ns,
    capacitances pF, energies fJ)."""

    def __init__(self, lib, depth, width):
        self.depth, self.width, self.aw = depth, width, addr_w(depth)
        d, w = depth, width
        bits = d * w
        self.cells = {"DFFPOSX1": bits, "AND2X2": bits + 2 * d, "OR2X2": bits * (d - 1) / d,
                      "BUFX4": bits * 2 / 8, "LATCH": d}
        area = dict((c, lib.area(c)) for c in self.cells)
        area["LATCH"] = lib.area("DFFNEGX1")  # the library's LATCH has area 0
        self.area = sum(area[c] * n for c, n in self.cells.items())
        self.leakage_nw = sum(lib.leak(c) * n for c, n in self.cells.items())
        levels = max(1, math.ceil(math.log2(d)))
        t_and = lib.delay("AND2X2", "Y", "A")
        t_or = lib.delay("OR2X2", "Y", "A")
        t_buf = lib.delay("BUFX4", "Y", "A")
        self.t_access = 3 * t_and + log8(w) * t_buf + levels * t_or
        self.t_clk_read = lib.delay("DFFPOSX1", "Q", "CLK") + t_and + levels * t_or
        gate = lib.delay("LATCH", "Q", "D") + t_and
        self.t_setup = lib.setup("DFFPOSX1", "D", "CLK") + gate + log8(max(d, w)) * t_buf
        self.slew = lib.transition("OR2X2", "Y", "A")
        self.cap_in = lib.cap("BUFX4", "A")
        self.cap_clk = lib.cap("LATCH", "CLK")
        e_buf = lib.energy("BUFX4", "Y") + switch_fj(8 * lib.cap("BUFX4", "A"))
        e_and = lib.energy("AND2X2", "Y") + switch_fj(lib.cap("AND2X2", "A"))
        e_or = lib.energy("OR2X2", "Y") + switch_fj(lib.cap("OR2X2", "A"))
        e_latch_clk = 2 * switch_fj(lib.cap("LATCH", "CLK"))
        e_dff_clk = 2 * lib.energy("DFFPOSX1", "CLK") + 2 * switch_fj(lib.cap("DFFPOSX1", "CLK"))
        self.e_write = (w * e_dff_clk + w / 2 * lib.energy("DFFPOSX1", "Q", "CLK")
                        + d * e_latch_clk + lib.energy("LATCH", "Q") + e_and)
        self.e_read = 2 * (e_and + w * switch_fj(lib.cap("AND2X2", "A")) + w / 8 * e_buf) \
            + w / 2 * (e_and + levels * e_or)
        self.e_wdata = d * (switch_fj(lib.cap("DFFPOSX1", "D")) + lib.energy("DFFPOSX1", "D")) \
            + d / 8 * e_buf
        self.e_cycle = e_latch_clk

    def dynamic_fj_per_cycle(self, writes, reads, wdata_act):
        """Energy per cycle: writes and reads (changes of the read address) per cycle, toggles
        per cycle of each write-data bit (a list)."""
        return self.e_cycle + writes * self.e_write + reads * self.e_read + sum(wdata_act) * self.e_wdata

    def default_activity(self, act=0.1, duty=0.5):
        """(writes, reads, wdata activities) per cycle under OpenSTA's default activity: the
        write enable high `duty` of the cycles, each port bit toggling `act` per cycle (the
        read address changes when any of its bits does)."""
        return duty, 1 - (1 - act) ** self.aw, [act] * self.width


# ---- liberty ------------------------------------------------------------------------------
def scalar(v):
    return '(scalar) { values ("%.4f"); }' % v


def cell_lib(m):
    name = name_of(m.depth, m.width)
    setup = ("      timing () {\n        related_pin : \"clk_i\";\n        timing_type : setup_rising;\n"
             "        rise_constraint %s\n        fall_constraint %s\n      }\n"
             % (scalar(m.t_setup), scalar(m.t_setup)))

    def arc(related, t, edge):
        return ("      timing () {\n        related_pin : \"%s\";\n        timing_sense : non_unate;\n%s"
                "        cell_rise %s\n        cell_fall %s\n        rise_transition %s\n"
                "        fall_transition %s\n      }\n"
                % (related, "        timing_type : rising_edge;\n" if edge else "",
                   scalar(t), scalar(t), scalar(m.slew), scalar(m.slew)))

    def bus(pin, width, direction, body):
        return ("    bus (%s) {\n      bus_type : mpq_ram_bus%d;\n      direction : %s;\n%s%s    }\n"
                % (pin, width, direction,
                   "      capacitance : %.5f;\n" % m.cap_in if direction == "input" else "", body))

    return ("  cell (%s) {\n    area : %.1f;\n    cell_leakage_power : %.3f;\n    dont_use : true;\n"
            "    dont_touch : true;\n"
            "    pin (clk_i) {\n      direction : input;\n      clock : true;\n      capacitance : %.5f;\n    }\n"
            "    pin (we_i) {\n      direction : input;\n      capacitance : %.5f;\n%s    }\n"
            "%s%s%s%s  }\n"
            % (name, m.area, m.leakage_nw, m.cap_clk, m.cap_in, setup,
               bus("waddr_i", m.aw, "input", setup), bus("wdata_i", m.width, "input", setup),
               bus("raddr_i", m.aw, "input", ""),
               bus("rdata_o", m.width, "output",
                   arc("raddr_i", m.t_access, False) + arc("clk_i", m.t_clk_read, True))))


def cmd_lib(std, out, specs):
    lib = Lib(std)
    macros = [Macro(lib, *parse_dxw(s)) for s in dict.fromkeys(specs)]
    widths = sorted({m.width for m in macros} | {m.aw for m in macros})
    text = ["/* Generated by scripts/ppa/ram.py from %s: the RAM macros of the PPA flow"
            " (the model: ram.py's header). */" % os.path.basename(std),
            "library (mpq_ram_macros) {",
            "  delay_model : table_lookup;",
            '  time_unit : "1ns";', '  voltage_unit : "1V";', '  current_unit : "1uA";',
            '  pulling_resistance_unit : "1kohm";', '  leakage_power_unit : "1nW";',
            "  capacitive_load_unit (1,pf);",
            "  slew_upper_threshold_pct_rise : 80;", "  slew_lower_threshold_pct_rise : 20;",
            "  slew_upper_threshold_pct_fall : 80;", "  slew_lower_threshold_pct_fall : 20;",
            "  input_threshold_pct_rise : 50;", "  input_threshold_pct_fall : 50;",
            "  output_threshold_pct_rise : 50;", "  output_threshold_pct_fall : 50;",
            "  nom_process : 1;", "  nom_voltage : %g;" % V, "  nom_temperature : 25;",
            "  operating_conditions (typical) {", "    process : 1;", "    voltage : %g;" % V,
            "    temperature : 25;", "  }", "  default_operating_conditions : typical;"]
    for w in widths:
        text.append("  type (mpq_ram_bus%d) {\n    base_type : array;\n    data_type : bit;\n"
                    "    bit_width : %d;\n    bit_from : %d;\n    bit_to : 0;\n    downto : true;\n  }"
                    % (w, w, w - 1))
    for m in macros:
        text.append(cell_lib(m).rstrip("\n"))
    text.append("}")
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(text) + "\n")
    os.replace(tmp, out)


def cmd_describe(std, spec):
    m = Macro(Lib(std), *parse_dxw(spec))
    print("macro\t%s" % name_of(m.depth, m.width))
    print("area_um2\t%.0f\narea_um2_per_bit\t%.1f" % (m.area, m.area / (m.depth * m.width)))
    print("leakage_nw\t%.1f" % m.leakage_nw)
    print("t_access_ns\t%.3f\nt_clk_read_ns\t%.3f\nt_setup_ns\t%.3f" % (m.t_access, m.t_clk_read, m.t_setup))
    print("e_write_pj\t%.4f\ne_read_pj\t%.4f\ne_wdata_toggle_pj\t%.4f\ne_cycle_pj\t%.4f"
          % (m.e_write / 1e3, m.e_read / 1e3, m.e_wdata / 1e3, m.e_cycle / 1e3))


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) >= 3 and a[0] == "lib":
        cmd_lib(a[1], a[2], a[3:])
    elif len(a) == 3 and a[0] == "describe":
        cmd_describe(a[1], a[2])
    else:
        die("usage: see the header of %s" % sys.argv[0])
