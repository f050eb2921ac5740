#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""netlist.py: the PPA flow's views of a mapped netlist (scripts/ppa.sh).

  netlist.py units UNITS.tsv STAT.txt AREA.tsv
      area per unit from Yosys `stat -liberty` of the hierarchical design: each module's own
      cells x its instance count, summed per unit of UNITS.tsv (module -> unit); exit 2 when a
      module has no row.
  netlist.py gls UNITS.tsv NETLIST.v YOSYS.log OUT.v
      the netlist for the gate-level simulation: every module whose UNITS.tsv row says `rtl`
      keeps its ports but its body becomes one instance of the behavioural module, with the
      parameter values Yosys elaborated (read from YOSYS.log); every other wire is marked
      /*verilator public_flat_rd*/, so that the testbench's shim counts its toggles.
  netlist.py split NETLIST.v
      rewrites, in place, every `assign` whose sides are concatenations as one assign per
      bit (OpenSTA 2019 rejects `{...}` in an assign; Yosys writes them where a port of a
      hierarchical module is driven by several nets).

Output files are written to a temporary name and renamed.
"""
import os
import re
import sys


def die(msg, code=2):
    sys.stderr.write("netlist.py: %s\n" % msg)
    sys.exit(code)


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def read_units(path):
    """module -> (unit, gls) from UNITS.tsv."""
    units = {}
    for line in open(path):
        if not line.strip() or line.startswith("#"):
            continue
        f = line.rstrip("\n").split("\t")
        if len(f) != 3 or f[2] not in ("netlist", "rtl"):
            die("%s: bad row %r (module<TAB>unit<TAB>netlist|rtl)" % (path, line.rstrip()))
        units[f[0]] = (f[1], f[2])
    return units


def base_name(module):
    """`$paramod$<hash>\\mpq_lane` or `\\mpq_lane` or `mpq_lane` -> mpq_lane."""
    return module.split("\\")[-1]


# ---- units -------------------------------------------------------------------------------
def parse_stat(path):
    """Yosys stat: {module: (own cells, own area)} and {module: instances in the design}."""
    own, count = {}, {}
    mod, hier = None, False
    for line in open(path):
        m = re.match(r"^=== (.*) ===$", line)
        if m:
            mod = m.group(1)
            hier = mod == "design hierarchy"
            if not hier:
                own[mod] = [0, 0.0]
            continue
        if hier:
            m = re.match(r"^\s+(\S+)\s+(\d+)$", line)
            if m:
                count[m.group(1)] = count.get(m.group(1), 0) + int(m.group(2))
            continue
        if mod is None:
            continue
        m = re.match(r"^\s+Chip area for module '(.*)': ([0-9.]+)$", line)
        if m:
            own[mod][1] = float(m.group(2))
            continue
        m = re.match(r"^\s{5}(\S+)\s+(\d+)$", line)
        if m and "\\" not in m.group(1) and not m.group(1).startswith("$"):
            own[mod][0] += int(m.group(2))
    for mod in own:
        if mod.lstrip("\\") not in count and mod not in count:
            count[mod] = 1  # a design without submodules has no hierarchy section
    return own, count


def cmd_units(units_path, stat_path, out_path):
    units = read_units(units_path)
    own, count = parse_stat(stat_path)
    per_unit = {}
    for mod, (cells, area) in own.items():
        name = base_name(mod)
        if name not in units:
            die("module %s is not in %s (add a row: module<TAB>unit<TAB>netlist|rtl)"
                % (name, units_path))
        n = count.get(mod, count.get(mod.lstrip("\\"), 0))
        u = per_unit.setdefault(units[name][0], [0, 0, 0.0])
        u[0] += n
        u[1] += n * cells
        u[2] += n * area
    lines = ["unit\tinstances\tcells\tarea_um2"]
    for unit in dict.fromkeys(u for u, _ in units.values()):
        if unit in per_unit:
            i, c, a = per_unit[unit]
            lines.append("%s\t%d\t%d\t%.0f" % (unit, i, c, a))
    write_atomic(out_path, "\n".join(lines) + "\n")


# ---- gls ---------------------------------------------------------------------------------
def elaborated_params(log_path):
    """{derived module name: [(param, value)]} from Yosys's `derive mode` log lines."""
    params, pending = {}, []
    for line in open(log_path):
        if "Executing AST frontend in derive mode" in line:
            pending = []
            continue
        m = re.match(r"^Parameter \\(\w+) = (.*)$", line)
        if m:
            pending.append((m.group(1), m.group(2).strip()))
            continue
        m = re.match(r"^Generating RTLIL representation for module `(.*)'\.$", line)
        if m:
            params[m.group(1)] = pending
            pending = []
    return params


PUBLIC = re.compile(r"^(  wire (?:\[\d+:\d+\] )?[A-Za-z_][A-Za-z0-9_]*);$")


def cmd_gls(units_path, netlist_path, log_path, out_path):
    units = read_units(units_path)
    params = elaborated_params(log_path)
    out, cur = [], None  # cur: (behavioural module, parameters) while inside a replaced module
    for line in open(netlist_path):
        m = re.match(r"^module (\S+)\s*\(", line)
        if m and units.get(base_name(m.group(1)), (None, "netlist"))[1] == "rtl":
            name = m.group(1)
            derived = name[1:] if name.startswith("\\") else name
            if derived not in params:
                die("%s: no elaborated parameters for %s in %s" % (netlist_path, name, log_path))
            cur = (base_name(name), params[derived])
            out.append(line)
        elif cur is None:
            out.append(PUBLIC.sub(r"\1 /*verilator public_flat_rd*/;", line))
        elif re.match(r"^\s+(input|output)\b", line):
            out.append(line)  # the replaced module keeps its ports, drops its cells
        elif line.startswith("endmodule"):
            body, plist = cur
            ps = " #(%s)" % ", ".join(".%s(%s)" % pv for pv in plist) if plist else ""
            out.append("  // The behavioural RTL (rtl/%s.sv) in the gate-level simulation;\n"
                       "  // its mapped cells are analysed by OpenSTA (../netlist.v).\n" % body)
            out.append("  %s%s u_rtl (.*);\n" % (body, ps))
            out.append(line)
            cur = None
    write_atomic(out_path, "".join(out))


# ---- split -------------------------------------------------------------------------------
def const_bits(tok):
    """Bits of a Verilog constant such as 3'h5 or 1'b0, most significant first."""
    m = re.match(r"^(\d+)'([bhd])([0-9a-fA-FxXzZ_]+)$", tok)
    if not m:
        return None
    w, base, digits = int(m.group(1)), m.group(2), m.group(3).replace("_", "")
    if re.search(r"[xXzZ]", digits):
        die("constant %s has x or z bits" % tok)
    v = int(digits, {"b": 2, "h": 16, "d": 10}[base])
    return ["1'b%d" % (v >> i & 1) for i in range(w - 1, -1, -1)]


def expr_bits(expr, widths):
    """Bits (most significant first) of a net expression: a concatenation, a constant, a
    vector or a bit or part select of one."""
    e = expr.strip()
    if e.startswith("{") and e.endswith("}"):
        bits = []
        for part in e[1:-1].split(","):
            bits += expr_bits(part, widths)
        return bits
    c = const_bits(e)
    if c is not None:
        return c
    m = re.match(r"^(\S+)\s*\[(\d+)(?::(\d+))?\]$", e)
    if m:
        hi = int(m.group(2))
        lo = int(m.group(3)) if m.group(3) is not None else hi
        step = -1 if hi >= lo else 1
        return ["%s[%d]" % (m.group(1), i) for i in range(hi, lo + step, step)]
    w = widths.get(e)
    if w is None:
        die("unknown net %s in an assign" % e)
    if w == 1:
        return [e]
    return ["%s[%d]" % (e, i) for i in range(w - 1, -1, -1)]


def cmd_split(path):
    lines = open(path).read().split("\n")
    out, widths = [], {}
    for line in lines:
        s = line.strip()
        if s.startswith("module "):
            widths = {}
        m = re.match(r"^(?:input|output|wire)\s+(?:\[(\d+):(\d+)\]\s*)?(\S+);$", s)
        if m:
            widths[m.group(3)] = int(m.group(1)) - int(m.group(2)) + 1 if m.group(1) else 1
        m = re.match(r"^assign\s+(.*?)\s*=\s*(.*);$", s)
        if m and ("{" in m.group(1) or "{" in m.group(2)):
            lhs, rhs = expr_bits(m.group(1), widths), expr_bits(m.group(2), widths)
            if len(lhs) != len(rhs):
                die("%s: assign with %d bits on the left, %d on the right: %s"
                    % (path, len(lhs), len(rhs), s))
            out += ["  assign %s = %s;" % lr for lr in zip(lhs, rhs)]
            continue
        out.append(line)
    write_atomic(path, "\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        die(__doc__.strip())
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "units" and len(args) == 3:
        cmd_units(*args)
    elif cmd == "split" and len(args) == 1:
        cmd_split(*args)
    elif cmd == "gls" and len(args) == 4:
        cmd_gls(*args)
    else:
        die("usage: see the header of %s" % sys.argv[0])
