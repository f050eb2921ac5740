#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""energy_fit.py: the energy-per-action table of a configuration fitted on real models'
layers at gate level, validated on whole layers outside the fit (scripts/models/
explore-energy.sh, make explore-energy; issue 29 item 2, Accelergy's idea).

  energy_fit.py --golden MPQ_GOLDEN --models DIR --config CFG --ppa PPA_OUT --out OUT
                NET=fit|hold ...

PPA_OUT is scripts/ppa/ppa.sh's folder for networks that are `mpq-tb net --vec-dir` summaries
(one per model and precision). Per layer part (one vector file) and per unit:
  measured: the gate-level energy of the whole part, nJ = P(W, the part's measured per-net
            activity applied per instance as scripts/ppa/power.py does, at fmax) x every
            replayed cycle (the testbench's reset cycles too: a count of its own, `resets`)
            x the minimum period (ns); at the mean power over the layer's cycles, a network's
            parts sum to ppa.sh's energy of that network (checked);
  counts:   the closed form's counts of the same hardware layer at the same precision
            (mpq-golden explore model --list; its cycles must equal the part's).
  activity: the datapath's switching activity on the part's own inputs (mpq-golden vecinfo
            --activity: the golden cycle model counts the bits toggled per bus, and the read
            address changes of the memories), checked against the toggles the gate level
            measured on the nets that keep their names (the input buses, the lanes' weight and
            xr inputs, the accumulators): equal within 1% plus two bus widths, or exit 2.
Fit, per unit, on the `fit` networks' parts: energy = sum of pJ x count over the unit's
actions, least squares relative to each part's energy (every layer weighs alike),
non-negative (an action whose pJ comes out negative is dropped and the unit refitted); the
table is the sum over units per action. Two tables: `counts` (UNIT_ACTIONS; MPQ_XP_ACTIONS:
what mpq-golden explore search costs) and `activity` (UNIT_ACT_ACTIONS: the counts plus pJ per
toggled bit and per read-address change; the search cannot use it yet: it would need the
activity of every point it costs). Validation: every part of the `hold` networks (whole
layers: their files hold every cycle) predicted by each table against its gate-level energy.
Writes OUT/energy.tsv (`# config CFG`, `action pJ`: the counts' table), OUT/energy-activity.tsv
(the second), OUT/energy.md (each table, the fit's residuals, the validation per layer and per
network) and OUT/fit.json. With --table (no fit) only the counts' table. Exit 0; 1 a held-out
layer misses by more than --goal (default 0.10) with the last table; 2 bad input.
"""
import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ppa"))
import power  # noqa: E402
from ppaio import die, write_atomic  # noqa: E402

# The table's actions (golden/explore/mpq_explore.h MPQ_XP_ACTIONS): name, closed-form count.
ACTIONS = [("cycle", "cycles"), ("wgt_beat", "wgt_beats"), ("wbuf_read", "wbuf_reads"),
           ("act_beat", "act_beats"), ("ring_read", "ring_reads"), ("mac_tern", "macs_tern"),
           ("mac_hp", "macs_hp"), ("requant", "requants")]
# What each unit's energy may depend on (a unit not named: cycles only). A weight-buffer read
# and a ring read happen every step (wbuf_reads = ring_reads = steps): the lanes' per-step
# energy (every slot toggles, useful or not) is their wbuf_read term.
UNIT_ACTIONS = {
    "control": ["cycles", "wgt_beats", "act_beats", "requants"],
    "window": ["cycles", "act_beats", "ring_reads"],
    "wbuf": ["cycles", "wgt_beats", "wbuf_reads"],
    "abuf": ["cycles", "act_beats", "ring_reads"],
    "lanes": ["cycles", "wbuf_reads", "macs_tern", "macs_hp"],
    "requant": ["cycles", "requants"],
}
COUNT_TO_ACTION = {c: a for a, c in ACTIONS}
# The switching activity of a part (mpq-golden vecinfo --activity: the golden cycle model on
# the part's inputs, bits toggled per bus) and the gate-level nets that carry the same bus
# (the netlist keeps these names): the activity checked against the nets' measured toggles.
ACTIVITY = ["wgt_in", "act_in", "wbuf_wr", "ring_wr", "wbuf_rd", "ring_rd", "wbuf_ra", "ring_ra", "xr", "xr_hold",
            "tern_x", "mul_x", "acc", "row", "rq"]
# The second table: the counts' actions plus the datapath's switching activity (data-dependent
# actions, Accelergy's idea): pJ per bit toggled on a bus, per change of a memory's read
# address (ram.py's macro model charges a read per address change, not per cycle).
ACT_ACTIONS = ACTIONS + [("wgt_in_bit", "t_wgt_in"), ("act_in_bit", "t_act_in"), ("wbuf_addr", "t_wbuf_ra"),
                         ("ring_addr", "t_ring_ra"), ("wbuf_rd_bit", "t_wbuf_rd"), ("ring_rd_bit", "t_ring_rd"),
                         ("xr_bit", "t_xr_move"), ("xr_held_bit", "t_xr_hold"), ("tern_in_bit", "t_tern_x"),
                         ("mul_in_bit", "t_mul_x"), ("acc_bit", "t_acc"), ("row_bit", "t_row"), ("rq_bit", "t_rq")]
# What each unit's energy may depend on in the second table: the memories' write data port is
# the input bus (wdata_i = wgt_data_i / act_data_i, toggling whether or not a write happens),
# their reads are address changes and read-data toggles; the lanes' multipliers see xr and
# their weight slice (an xr toggle is priced apart when the weight operand moves with it and
# under a held weight: xr_bit, xr_held_bit) and the operands reaching an adder or multiplier
# whose weight is not 0 (tern_in_bit, mul_in_bit: a zero weight holds its product still, so a
# layer of sparse high-precision entries switches fewer multipliers than a dense int8 one),
# their registers the accumulators and finished rows; the requantizers their own registers.
UNIT_ACT_ACTIONS = {
    "control": ["cycles", "wgt_beats", "act_beats", "requants", "t_wgt_in", "t_act_in"],
    "window": ["cycles", "act_beats", "ring_reads"],
    "wbuf": ["cycles", "wgt_beats", "t_wgt_in", "t_wbuf_ra", "t_wbuf_rd"],
    "abuf": ["cycles", "act_beats", "t_act_in", "t_ring_ra", "t_ring_rd"],
    "lanes": ["cycles", "wbuf_reads", "t_xr_move", "t_xr_hold", "t_tern_x", "t_mul_x", "t_wbuf_rd", "t_acc", "t_row"],
    "requant": ["cycles", "requants", "t_rq"],
}
# A part replayed whole at gate level begins with the testbench's reset cycles, and its
# measured energy is that of every replayed cycle: the gate level starts every register at a
# random value, so the first reset edge toggles about half of them. Each unit's fit prices
# those cycles as one more action, so that no layer action absorbs them; a layer has none
# (the tables the search reads leave it out), a held-out part its own, as measured.
RESET = ("reset_cycle", "resets")
MODELS = {"counts": (ACTIONS + [RESET], UNIT_ACTIONS), "activity": (ACT_ACTIONS + [RESET], UNIT_ACT_ACTIONS)}
ACTIVITY_NETS = {"wgt_in": r"wgt_data_i\[", "act_in": r"act_data_i\[", "wbuf_rd": r"u_lane\d+/wgt_i\[",
                 "xr": r"u_lane0/xr_i\[", "acc": r"u_lane\d+/acc_o\["}


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--golden", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--ppa", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--lib", default=os.environ.get("PPA_LIB", "/usr/share/qflow/tech/osu018/osu018_stdcells.lib"))
    ap.add_argument("--goal", type=float, default=0.10)
    ap.add_argument("--table", help="no fit: predict the held-out layers with this table's block of --config "
                    "(mpq-golden explore search's --energy file)")
    ap.add_argument("nets", nargs="+", metavar="NET=fit|hold")
    a = ap.parse_args(argv)
    roles = {}
    for n in a.nets:
        name, _, role = n.partition("=")
        if role not in ("fit", "hold") or not name:
            die("energy_fit: `%s` is not NET=fit or NET=hold" % n)
        roles[name] = role
    if "hold" not in roles.values() or ("fit" not in roles.values()) != bool(a.table):
        die("energy_fit: needs networks to hold out, and networks to fit or a --table (not both)")
    return a, roles


def load_table(path, cfg):
    """The `action pJ` lines of block `# config CFG` of path (mpq_xp_energy_load's format), and
    its `# reset_cycle pJ` comment where the table was fitted by this script (a table without
    one prices a reset cycle as a clock cycle)."""
    table, cur = {}, None
    try:
        for line in open(path):
            w = line.split()
            if line.startswith("# config"):
                cur = w[2] if len(w) > 2 else None
            elif cur == cfg and w[:2] == ["#", RESET[0]]:
                table[RESET[0]] = float(w[2])
            elif cur == cfg and w and not line.startswith("#"):
                table[w[0]] = float(w[1])
    except (OSError, ValueError, IndexError) as e:
        die("energy_fit: --table %s: %s" % (path, e))
    missing = [a for a, _ in ACTIONS if a not in table]
    if missing:
        die("energy_fit: --table %s: config %s lacks %s" % (path, cfg, ", ".join(missing)))
    table.setdefault(RESET[0], table["cycle"])
    return table


def summary_model(path):
    """(model file name, --decomp SPEC or None) of an mpq-tb net summary."""
    for line in open(path):
        if line.startswith("network\t"):
            w = line.split("\t", 1)[1].split()
            spec = w[w.index("--decomp") + 1] if "--decomp" in w else None
            return w[0], spec
    die("energy_fit: %s: no `network` line (not an mpq-tb net --vec-dir summary)" % path)


def closed_form(golden, models, cfg, model, spec):
    """{(op, part): {count: value}} of mpq-golden explore model --list."""
    cmd = [golden, "explore", "model", os.path.join(models, model), "--config", cfg, "--list"]
    if spec:
        cmd += ["--decomp", spec]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        die("energy_fit: %s: %s" % (" ".join(cmd), r.stderr.strip()))
    res = {}
    for line in r.stdout.splitlines():
        w = line.split()
        if w[:1] == ["op"]:
            res[(int(w[1]), int(w[3]))] = ({w[i]: int(w[i + 1]) for i in range(6, len(w) - 1, 2)}, w[5])
    if not res:
        die("energy_fit: %s listed no hardware layer" % " ".join(cmd))
    return res


def activity(golden, vec):
    """{bus: bits toggled} of a vector file (mpq-golden vecinfo --activity)."""
    r = subprocess.run([golden, "vecinfo", "-q", "--activity", vec], capture_output=True, text=True)
    w = r.stdout.split()
    if r.returncode != 0 or "activity" not in w:
        die("energy_fit: mpq-golden vecinfo --activity %s: %s" % (vec, r.stderr.strip()))
    i = w.index("activity")
    return {w[j]: int(w[j + 1]) for j in range(i + 1, len(w) - 1, 2)}


def net_toggles(path):
    """{bus: (toggles, nets)} of the ACTIVITY_NETS in a ppa.sh activity file (toggles per
    cycle x its cycles); a bus whose nets the netlist lacks is left out."""
    lines = open(path).read().splitlines()
    m = re.search(r"over (\d+) cycles", lines[0]) if lines else None
    if not m:
        die("energy_fit: %s: no `over N cycles` header" % path)
    cyc, res = int(m.group(1)), {}
    for bus, pat in ACTIVITY_NETS.items():
        rx = re.compile(pat)
        vals = [float(l.split()[1]) for l in lines[1:] if rx.match(l)]
        if vals:
            res[bus] = (sum(vals) * cyc, len(vals))
    return res


def check_activity(name, act, nets):
    """The cycle model's activity against the gate-level nets' toggles: equal but for the
    first cycles (the testbench's reset cycles and the nets' power-on values), within 1% plus
    two widths of the bus."""
    for bus, (g, width) in nets.items():
        if abs(act[bus] - g) > 0.01 * g + 2 * width:
            die("energy_fit: %s: the cycle model counts %d toggles on %s, the gate-level nets %.0f"
                % (name, act[bus], bus, g))


def prec_label(spec):
    """A network's precision as a table cell: int8, the one SPEC, or a per-layer list's tally."""
    if not spec:
        return "int8"
    if "," not in spec:
        return spec
    items = spec.split(",")
    return "per layer: " + ", ".join("%s x%d" % (x, items.count(x)) for x in dict.fromkeys(items))


class Gate:
    """ppa.sh's folder: the per-instance power tables and the netlist, power of an activity."""

    def __init__(self, ppa, lib):
        self.ppa = ppa
        self.doc = json.load(open(os.path.join(ppa, "ppa.json")))
        self.min_ns = self.doc["timing"]["min_period_ns"]
        self.units = []
        for r in self.doc["power"]:
            if r["mode"] == "default" and r["unit"] != "total" and r["unit"] not in self.units:
                self.units.append(r["unit"])
        outs = power.liberty_outputs(lib)
        outs.update(power.liberty_outputs(os.path.join(ppa, "macros.lib")))
        self.outputs = power.leaf_outputs(power.modules(os.path.join(ppa, "netlist.v"), outs))
        self.macros = power.Macros(lib, self.outputs)
        self.g0, self.g1, self.dflt = (power.read_inst(os.path.join(ppa, "instances-%s.tsv" % m))
                                       for m in ("g0", "g1", "default"))

    def energy_pj(self, name, cycles):
        """{unit: pJ} of `cycles` cycles at workload name's measured activity, at fmax."""
        tot, _ = power.measured(self.outputs, self.macros, os.path.join(self.ppa, "activity", name + ".txt"),
                                self.g0, self.g1, self.dflt, self.units, self.ppa, self.min_ns)
        return {u: sum(tot[u]) * cycles * self.min_ns * 1e3 for u in self.units}

    def network_pj(self, net):
        """ppa.sh's own energy of network net (its mean activity) per its parts' cycles."""
        rows = [r for r in self.doc["power"] if r["mode"] == net and r["unit"] == "total"
                and abs(r["period_ns"] - self.min_ns) < 1e-3]
        return rows[0]["total_w"] if rows else None


def read_parts(a, roles, gate):
    nets = {}
    for line in open(os.path.join(a.ppa, "networks.tsv")):
        n, path = line.rstrip("\n").split("\t")
        nets[n] = path
    missing = [n for n in roles if n not in nets]
    if missing:
        die("energy_fit: %s: no network %s" % (a.ppa, ", ".join(missing)))
    cf_cache, parts = {}, []
    wl = [l.rstrip("\n").split("\t") for l in open(os.path.join(a.ppa, "workloads.tsv"))]
    for n, role in roles.items():
        model, spec = summary_model(nets[n])
        key = (model, spec)
        if key not in cf_cache:
            cf_cache[key] = closed_form(a.golden, a.models, a.config, model, spec)
        cf = cf_cache[key]
        mine = [w for w in wl if w[0] == n]
        for net, name, vec, replayed, weight in mine:
            m = re.search(r"-op(\d+)-part(\d+)\.vec$", vec)
            if not m or (int(m.group(1)), int(m.group(2))) not in cf:
                die("energy_fit: %s: no closed-form counts for %s" % (n, vec))
            c, lprec = cf[(int(m.group(1)), int(m.group(2)))]
            if c["cycles"] != int(weight):
                die("energy_fit: %s: %s runs %s cycles, the closed form says %d" % (n, vec, weight, c["cycles"]))
            if role == "hold" and int(replayed) < int(weight):
                die("energy_fit: %s: %s is held out but its file holds %s of %s cycles (not whole)"
                    % (n, vec, replayed, weight))
            # A whole part: the energy of every replayed cycle, its reset cycles among its
            # counts; a part replayed from a sample: its sample's mean power x its cycles.
            whole = int(replayed) >= int(weight)
            ecyc = int(replayed) if whole else int(weight)
            e = gate.energy_pj(name, ecyc)
            act = activity(a.golden, vec)
            if whole:
                check_activity(name, act, net_toggles(os.path.join(a.ppa, "activity", name + ".txt")))
            c = dict(c, resets=ecyc - int(weight), t_xr_move=act["xr"] - act["xr_hold"],
                     **{"t_" + k: act[k] for k in ACTIVITY})
            parts.append({"net": n, "role": role, "model": model, "prec": prec_label(spec), "layer_prec": lprec,
                          "op": int(m.group(1)), "part": int(m.group(2)), "name": name,
                          "cycles": int(weight), "replayed": int(replayed), "counts": c, "pj": e,
                          "pj_total": sum(e.values()), "e_cycles": ecyc})
        # ppa.sh's network energy is its parts' mean power over their layer cycles
        total = sum(p["pj_total"] * p["cycles"] / p["e_cycles"] for p in parts if p["net"] == n)
        w_ppa = gate.network_pj(n)
        if w_ppa is not None:
            ref = w_ppa * sum(p["cycles"] for p in parts if p["net"] == n) * gate.min_ns * 1e3
            if abs(total - ref) > 5e-3 * ref:
                die("energy_fit: %s: the parts' energies sum to %.0f pJ, ppa.sh's network %.0f" % (n, total, ref))
    return parts


def nnls_rel(X, y, names):
    """Non-negative least squares of X c = y relative to y (rows weighted 1 / y): solved,
    the most negative coefficient dropped, solved again. {name: c}."""
    keep = [j for j in range(X.shape[1]) if np.any(X[:, j] > 0)]
    w = 1.0 / np.maximum(y, 1e-30)
    while keep:
        A = X[:, keep] * w[:, None]
        scale = np.linalg.norm(A, axis=0)
        c, *_ = np.linalg.lstsq(A / scale, y * w, rcond=None)
        c = c / scale
        if np.all(c >= 0):
            return {names[j]: float(c[i]) for i, j in enumerate(keep)}
        keep.pop(int(np.argmin(c)))
    return {}


def fit(parts, units, model):
    """The table of model (MODELS: its actions, and each unit's) fitted on the `fit` parts."""
    actions, unit_actions = MODELS[model]
    to_action = {c: a for a, c in actions}
    train = [p for p in parts if p["role"] == "fit"]
    per_unit, table = {}, {a: 0.0 for a, _ in actions}
    for u in units:
        names = unit_actions.get(u, ["cycles"]) + [RESET[1]]
        X = np.array([[p["counts"][k] for k in names] for p in train], dtype=float)
        y = np.array([p["pj"][u] for p in train])
        per_unit[u] = nnls_rel(X, y, names)
        for k, v in per_unit[u].items():
            table[to_action[k]] += v
    identified = {a: any(p["counts"][c] > 0 for p in train) for a, c in actions}
    return table, per_unit, identified


def predict(table, counts, model):
    return sum(table[a] * counts[c] for a, c in MODELS[model][0])


def report(a, parts, table, per_unit, identified, units, model):
    """energy.md's section of one table (model: MODELS' key) and the worst errors."""
    ACTIONS = MODELS[model][0]
    how = ("given (%s)" % a.table if a.table else
           "fitted at gate level on real models' layers (scripts/models/energy_fit.py)")
    what = ("the closed form's counts (the table `mpq-golden explore search` costs points with)"
            if model == "counts" else
            "the counts and the datapath's switching activity (mpq-golden vecinfo --activity on each part's "
            "inputs)")
    md = ["## Actions: %s\n" % what,
          "The energy-per-action table of `%s`, %s; pJ per action, at fmax %.2f MHz:\n"
          % (a.config, how, 1e3 / parts[0]["_ns"]),
          "| action | pJ | identified by the fit's layers |", "|---|---:|---|"]
    for act, c in ACTIONS:
        md.append("| %s | %.2f | %s |" % (act, table[act], "yes" if identified[act] else
                                            "no (no fitted layer has this count; 0)"))
    md.append("\nPer unit (pJ per count; an action missing was dropped as negative or absent):\n")
    md.append("| unit | " + " | ".join(c for _, c in ACTIONS) + " |")
    md.append("|---|" + "---:|" * len(ACTIONS))
    for u in units:
        md.append("| %s | " % u + " | ".join("%.2f" % per_unit[u][c] if c in per_unit[u] else "-"
                                            for _, c in ACTIONS) + " |")
    worst = {"fit": 0.0}
    for role in ("fit", "hold"):
        rows = [p for p in parts if p["role"] == role]
        if not rows:
            continue
        whole = all(p["replayed"] >= p["cycles"] for p in rows)
        title = ("**Fit** (the layers the table was fitted on, %s)" % (
                     "each replayed whole at gate level" if whole else
                     "some parts' energy from their first cycles' activity x their whole cycles")
                 if role == "fit" else "**Validation** (layers %s, each replayed whole at gate level)" % (
                     "predicted by the given table" if a.table else "outside the fit"))
        md.append("\n%s: per network, and the worst layer:\n" % title)
        md.append("| network | precision | parts | cycles | gate level (nJ) | table (nJ) | error | worst layer | its error |")
        md.append("|---|---|---:|---:|---:|---:|---:|---|---:|")
        for n in dict.fromkeys(p["net"] for p in rows):
            rr = [p for p in rows if p["net"] == n]
            g = sum(p["pj_total"] for p in rr)
            t = sum(p["pred"][model] for p in rr)
            w = max(rr, key=lambda p: abs(p["err"][model]))
            md.append("| %s | %s | %d | %s | %.1f | %.1f | %+.1f%% | op %d part %d (%s cycles) | %+.1f%% |" % (
                rr[0]["model"].replace(".tflite", ""), rr[0]["prec"], len(rr), "{:,}".format(sum(p["cycles"] for p in rr)),
                g / 1e3, t / 1e3, 100 * (t / g - 1), w["op"], w["part"], "{:,}".format(w["cycles"]),
                100 * w["err"][model]))
        errs = [abs(p["err"][model]) for p in rows]
        if not errs:
            continue
        worst[role] = max(errs)
        md.append("\n%s: %d layer parts, mean |error| %.1f%%, worst %.1f%%, %d within %.0f%%." % (
            "Fit" if role == "fit" else "Validation", len(rows), 100 * sum(errs) / len(errs), 100 * max(errs),
            sum(e <= a.goal for e in errs), 100 * a.goal))
    hold = [p for p in parts if p["role"] == "hold"]
    md.append("\nValidation, every held-out layer:\n")
    md.append("| network | precision | op | part | cycles | gate level (nJ) | table (nJ) | error |")
    md.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for p in hold:
        md.append("| %s | %s | %d | %d | %s | %.2f | %.2f | %+.1f%% |" % (
            p["model"].replace(".tflite", ""), p["layer_prec"], p["op"], p["part"], "{:,}".format(p["cycles"]),
            p["pj_total"] / 1e3, p["pred"][model] / 1e3, 100 * p["err"][model]))
    return md, worst


def main(argv):
    a, roles = parse_args(argv)
    gate = Gate(a.ppa, a.lib)
    parts = read_parts(a, roles, gate)
    # The counts' table (given, or fitted) and, when fitted, the table with activity.
    models = ["counts"] if a.table else ["counts", "activity"]
    tables = {}
    for model in models:
        if a.table:
            tables[model] = (load_table(a.table, a.config), {u: {} for u in gate.units},
                             {act: True for act, _ in MODELS[model][0]})
        else:
            tables[model] = fit(parts, gate.units, model)
    for p in parts:
        p["pred"] = {m: predict(tables[m][0], p["counts"], m) for m in models}
        p["err"] = {m: p["pred"][m] / p["pj_total"] - 1 for m in models}
        p["_ns"] = gate.min_ns
    md, worst = [], {}
    for model in models:
        table, per_unit, identified = tables[model]
        sec, worst[model] = report(a, parts, table, per_unit, identified, gate.units, model)
        md += sec + [""]
    os.makedirs(a.out, exist_ok=True)
    for model, name in (("counts", "energy.tsv"), ("activity", "energy-activity.tsv")):
        if model not in tables:
            continue
        tsv = ["# energy per action (pJ) of %s: scripts/models/energy_fit.py on %s, gate level, fmax %.2f MHz%s"
               % (a.config, a.ppa, 1e3 / gate.min_ns, "" if model == "counts" else
                  "; with the switching activity's actions (not read by mpq-golden explore search)"),
               "# config %s" % a.config]
        tsv += ["%s\t%.4f" % (act, tables[model][0][act]) for act, _ in MODELS[model][0] if act != RESET[0]]
        tsv.append("# %s %.4f (the gate-level replay's reset cycles; no layer has one)"
                   % (RESET[0], tables[model][0][RESET[0]]))
        write_atomic(os.path.join(a.out, name), "\n".join(tsv) + "\n")
    write_atomic(os.path.join(a.out, "energy.md"), "\n".join(md) + "\n")
    for p in parts:
        del p["_ns"]
    write_atomic(os.path.join(a.out, "fit.json"), json.dumps(
        {"config": a.config, "tables_pj": {m: tables[m][0] for m in models},
         "per_unit": {m: tables[m][1] for m in models}, "parts": parts,
         "worst_fit": {m: worst[m]["fit"] for m in models}, "worst_hold": {m: worst[m]["hold"] for m in models},
         "goal": a.goal}, indent=1) + "\n")
    print("\n".join(md))
    best = models[-1]
    for model in models:
        verdict = "within" if worst[model]["hold"] <= a.goal else "NOT within"
        print("energy_fit: %s table: the held-out layers' worst error %.1f%%: %s the %.0f%% goal" % (
            model, 100 * worst[model]["hold"], verdict, 100 * a.goal))
    return 0 if worst[best]["hold"] <= a.goal else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
