#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""netlist.py: the PPA flow's views of a mapped netlist (scripts/ppa/ppa.sh).

  netlist.py macros NETLIST.v OUT.lst
      rewrites, in place, every instance of the memory black box (`mpq_ram #(.Depth(D),
      .Width(W)) <unit>_0 (`) as an instance of the macro cell mpq_ram_<D>x<W> of
      scripts/ppa/ram.py; OUT.lst: the macros, DxW, one per line.
  netlist.py area NETLIST.v AREA.tsv LIB.lib...
      area per unit (scripts/ppa/units.tsv): every cell of the hierarchical netlist (the
      standard cells and the macros) at its liberty area, summed by the unit its name gives
      (<unit>_<n>); the instances of mpq_top per unit.
  netlist.py gls NETLIST.v MACROS.lst OUT.v
      the netlist for the gate-level simulation: every wire marked
      /*verilator public_flat_rd*/, so that the testbench's shim counts its toggles; followed
      by a module per macro, mpq_ram_<D>x<W>, the RTL's memory with the access counters of
      scripts/ppa/mpq_ram_gls.sv.
  netlist.py sources RTLDIR OUTDIR
      the RTL as Yosys reads it: every file of RTLDIR/sources.list (the one list), in its
      order, copied to OUTDIR with the two rewrites Yosys's SystemVerilog frontend needs (a
      function's final `return E;` becomes `<function> = E;`, `parameter string P` becomes
      `parameter P`; a `return` anywhere else stops the flow); OUTDIR/sources.f lists them.
      The files they include (RTLDIR/*.svh) are copied beside them, where Yosys looks.
  netlist.py split NETLIST.v
      rewrites, in place, every `assign` whose sides are concatenations as one assign per
      bit (OpenSTA 2019 rejects `{...}` in an assign; Yosys writes them where a port of a
      hierarchical module is driven by several nets), and drops `signed` from declarations
      (OpenSTA 2019 rejects it too).

Output files are written to a temporary name and renamed.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ppaio import die, write_atomic  # noqa: E402
from units import Units, TOP, CONTROL, MACRO, unit_of  # noqa: E402


# ---- the netlist and the library ----------------------------------------------------------
def liberty_cells(path):
    """{cell: (area in um^2, set of output pins and buses)} of a liberty file."""
    cells, cell, pin = {}, None, None
    for line in open(path):
        m = re.match(r"^\s*cell\s*\(\s*\"?(\w+)\"?\s*\)", line)
        if m:
            cell, pin = m.group(1), None
            cells[cell] = [0.0, set()]
            continue
        m = re.match(r"^\s*area\s*:\s*([0-9.]+)", line)
        if m and cell and pin is None:
            cells[cell][0] = float(m.group(1))
            continue
        m = re.match(r"^\s*(?:pin|bus)\s*\(\s*\"?(\w+)\"?\s*\)", line)
        if m:
            pin = m.group(1)
            continue
        if cell and pin and re.match(r"^\s*direction\s*:\s*output\s*;", line):
            cells[cell][1].add(pin)
    return {c: (a, o) for c, (a, o) in cells.items()}


def parse(netlist):
    """{module: ([(cell name, cell type, {pin: net})], )} of a Yosys netlist (write_verilog
    -noattr -noexpr: one instance per statement, named connections)."""
    mods, cur, stmt = {}, None, []
    for line in open(netlist):
        s = line.strip()
        m = re.match(r"^module\s+(\S+?)\s*\(", s)
        if m:
            cur = m.group(1)
            mods[cur] = []
            continue
        if cur is None or not s:
            continue
        if s == "endmodule":
            cur = None
            continue
        stmt.append(s)
        if not s.endswith(";"):
            continue
        text = " ".join(stmt)
        stmt = []
        m = re.match(r"^(\S+)\s+(\S+)\s*\((.*)\);$", text)
        if not m or m.group(1) in ("input", "output", "wire", "assign", "inout"):
            continue
        conns = {p: re.sub(r"\s+", "", e) for p, e in re.findall(r"\.(\w+)\(([^()]*)\)", m.group(3))}
        mods[cur].append((m.group(2), m.group(1), conns))
    if TOP not in mods:
        die("%s: no module %s" % (netlist, TOP))
    return mods


def leaves(mods, cells):
    """[(hierarchical cell name as OpenSTA writes it, cell type, {pin: hierarchical net})] of
    every library cell of the flattened design."""
    out = []

    def walk(mod, pre):
        for name, typ, conns in mods[mod]:
            if typ in mods:
                walk(typ, pre + name + "/")
            elif typ in cells:
                out.append((pre + name, typ, {p: pre + n for p, n in conns.items()}))
            else:
                die("cell type %s (%s%s) is neither a module nor a library cell" % (typ, pre, name))
    walk(TOP, "")
    return out


# ---- macros -------------------------------------------------------------------------------
MACRO_INST = re.compile(r"^(\s*)%s\s*#\(\s*\.Depth\(\d+'s?d(\d+)\),\s*\.Width\(\d+'s?d(\d+)\)\s*\)\s*(\w+)\s*\("
                        % MACRO)


def cmd_macros(netlist, out_lst):
    text = open(netlist).read()
    # One statement per instance: join the parameter lines Yosys writes.
    text = re.sub(r"(\n\s*%s\s*#\()([^;]*?)(\)\s*\w+\s*\()" % MACRO,
                  lambda m: m.group(1) + re.sub(r"\s+", " ", m.group(2)) + m.group(3), text)
    found, lines = [], []
    for line in text.split("\n"):
        m = MACRO_INST.match(line)
        if m:
            found.append("%sx%s" % (m.group(2), m.group(3)))
            line = "%smpq_ram_%sx%s %s (" % (m.group(1), m.group(2), m.group(3), m.group(4))
        elif re.match(r"^\s*%s\b" % MACRO, line):
            die("%s: an instance of %s the flow cannot read: %s" % (netlist, MACRO, line.strip()))
        lines.append(line)
    write_atomic(netlist, "\n".join(lines))
    write_atomic(out_lst, "".join(f + "\n" for f in dict.fromkeys(found)))


# ---- area ---------------------------------------------------------------------------------
def cmd_area(netlist, out_path, *libs):
    """Area per unit: every cell's liberty area, summed by the unit its name gives."""
    units = Units()
    cells = {}
    for lib in libs:
        cells.update(liberty_cells(lib))
    mods = parse(netlist)
    per = {u: [0, 0, 0.0] for u in units.order()}  # instances, cells, area
    for name, typ, conns in mods[TOP]:
        if typ in mods or typ.startswith(MACRO + "_"):
            # A macro is named after its unit (abuf_0), a module instance as in the RTL.
            u = unit_of(name) if typ.startswith(MACRO + "_") else (units.row(name) or (0, None))[1]
            if u not in per:
                die("instance %s of %s is in no unit of scripts/ppa/units.tsv" % (name, TOP))
            per[u][0] += 1
    for path, typ, _ in leaves(mods, cells):
        u = unit_of(path)
        if u not in per:
            die("cell %s is in no unit" % path)
        per[u][1] += 1
        per[u][2] += cells[typ][0]
    per[CONTROL][0] = 1
    lines = ["unit\tinstances\tcells\tarea_um2"]
    for u, (i, c, a) in per.items():
        if c:
            lines.append("%s\t%d\t%d\t%.0f" % (u, i, c, a))
    write_atomic(out_path, "\n".join(lines) + "\n")


# ---- gls ----------------------------------------------------------------------------------
PUBLIC = re.compile(r"^(  wire (?:\[\d+:\d+\] )?[A-Za-z_][A-Za-z0-9_]*);$")


def cmd_gls(netlist_path, macros_lst, out_path):
    """The netlist with every wire /*verilator public_flat_rd*/ (the testbench's shim counts
    the toggles of every net, tb/dut_runtime.h MPQ_TOGGLES), and one module per macro."""
    out = [PUBLIC.sub(r"\1 /*verilator public_flat_rd*/;", line) for line in open(netlist_path)]
    body = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "mpq_ram_gls.sv")).read()
    for spec in open(macros_lst).read().split():
        d, w = spec.split("x")
        out.append("\n" + body.replace("mpq_ram_gls", "mpq_ram_%s" % spec)
                   .replace("DEPTH", d).replace("WIDTH", w))
    write_atomic(out_path, "".join(out))


# ---- sources -----------------------------------------------------------------------------
def yosys_sv(path, text):
    """The rewrites of `netlist.py sources` on one file's text."""
    lines, fn = text.split("\n"), None
    for i, line in enumerate(lines):
        m = re.match(r"^\s*function\b.*?(\w+)\s*\(", line)
        if m:
            fn = m.group(1)
        m = re.match(r"^(\s*)return\s+(.*;)\s*$", line)
        if m:
            rest = [l for l in lines[i + 1:] if l.strip()]
            if fn is None or not rest or rest[0].strip() != "endfunction":
                die("%s:%d: a return that is not a function's last statement (Yosys reads no "
                    "return: the flow rewrites only that case)" % (path, i + 1))
            lines[i] = "%s%s = %s" % (m.group(1), fn, m.group(2))
        lines[i] = re.sub(r"\bparameter\s+string\b", "parameter", lines[i])
    return "\n".join(lines)


def cmd_sources(rtl, out):
    os.makedirs(out, exist_ok=True)
    files = []
    for name in open(os.path.join(rtl, "sources.list")).read().split():
        text = yosys_sv(os.path.join(rtl, name), open(os.path.join(rtl, name)).read())
        write_atomic(os.path.join(out, name), text)
        files.append(os.path.join(out, name))
    for name in sorted(os.listdir(rtl)):
        if name.endswith(".svh"):
            write_atomic(os.path.join(out, name), open(os.path.join(rtl, name)).read())
    write_atomic(os.path.join(out, "sources.f"), "\n".join(files) + "\n")


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
        # OpenSTA 2019 reads no `signed` in a declaration (nor needs it: the netlist is bits).
        line = re.sub(r"^(\s*(?:input|output|inout|wire)\s+)signed\s+", r"\1", line)
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
    if cmd == "area" and len(args) >= 3:
        cmd_area(*args)
    elif cmd == "macros" and len(args) == 2:
        cmd_macros(*args)
    elif cmd == "sources" and len(args) == 2:
        cmd_sources(*args)
    elif cmd == "split" and len(args) == 1:
        cmd_split(*args)
    elif cmd == "gls" and len(args) == 3:
        cmd_gls(*args)
    else:
        die("usage: see the header of %s" % sys.argv[0])
