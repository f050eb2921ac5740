#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""report.py: the PPA flow's numbers (scripts/ppa/ppa.sh, make ppa).

  report.py min-period TIMING.rpt PERIOD_NS
      the shortest clock period of the worst path in an OpenSTA report made at PERIOD_NS
      (PERIOD_NS - slack; ideal clock), printed in ns.
  report.py config NAME OUTDIR FIXED_MHZ
      OUTDIR/ppa.json: area per unit, critical path and fmax, power per unit and activity mode
      at fmax and at FIXED_MHZ, the workloads replayed, runtimes.
  report.py summary PPA_ROOT OUT.md OUT_DIR CONFIG...
      the tables of README's "Area, timing and energy" section in OUT.md, and the data files
      of the plots (OUT_DIR/tradeoff.tsv, one row per network and configuration); each network
      a configuration ran (its summary in ppa.json's "networks": the MLP, the CNN) gets its own
      energy per MAC and per inference, from its own measured activity.
  report.py check OUTDIR
      the make test check: area, fmax and power (default and measured) present and positive,
      every workload replayed.

Outputs are written to a temporary file and renamed.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ppaio import die, write_atomic  # noqa: E402


def read_tsv(path):
    rows = []
    with open(path) as f:
        head = None
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            if head is None:
                head = cols
                continue
            rows.append(dict(zip(head, cols)))
    return rows


# ---- timing -------------------------------------------------------------------------------
def parse_timing(path, period):
    text = open(path).read()
    m = re.search(r"^\s*(-?[0-9.]+)\s+slack \((MET|VIOLATED)\)", text, re.M)
    if not m:
        die("%s: no slack in the report (no register-to-register path?)" % path, 1)
    slack = float(m.group(1))
    start = re.search(r"^Startpoint: (\S+)", text, re.M)
    end = re.search(r"^Endpoint: (\S+)", text, re.M)
    arrival = re.search(r"^\s*([0-9.]+)\s+data arrival time", text, re.M)
    setup = re.search(r"^\s*(-?[0-9.]+)\s+[0-9.]+\s+library setup time", text, re.M)
    # The cells along the path, in order, and the units they belong to ("control 12, lanes 95").
    insts = []
    for pin in re.findall(r"^\s*-?[0-9.]+\s+[0-9.]+ [\^v] (\S+)/\w+ \(", text.split("data arrival time")[0], re.M):
        if not insts or insts[-1] != pin:
            insts.append(pin)
    runs = []
    for i in insts:
        u = unit_of(i)
        if runs and runs[-1][0] == u:
            runs[-1][1] += 1
        else:
            runs.append([u, 1])
    return {
        "period_report_ns": period,
        "slack_ns": slack,
        "min_period_ns": period - slack,
        "fmax_mhz": 1000.0 / (period - slack),
        "startpoint": start.group(1) if start else "",
        "endpoint": end.group(1) if end else "",
        "arrival_ns": float(arrival.group(1)) if arrival else None,
        "setup_ns": -float(setup.group(1)) if setup else None,
        "cells_on_path": len(insts),
        "path_units": ", ".join("%s %d" % (u, n) for u, n in runs),
    }


# The units that are RAM macros (scripts/ppa/ram.py's model, not mapped cells).
MACRO_UNITS = ("wbuf", "abuf")


def unit_of(name):
    """lanes_12 -> lanes; u_lane3/lanes_12 -> lanes; abuf_0 -> abuf; a port -> port."""
    leaf = name.split("/")[-1]
    m = re.match(r"^([a-z]+)_\d+$", leaf)
    return m.group(1) if m else "port"


def cmd_min_period(path, period):
    t = parse_timing(path, float(period))
    print("%.4f" % t["min_period_ns"])


# ---- one configuration ---------------------------------------------------------------------
def cmd_config(name, out, fixed_mhz):
    t = parse_timing(os.path.join(out, "timing.rpt"), 100.0)
    t["startpoint_unit"] = unit_of(t["startpoint"])
    t["endpoint_unit"] = unit_of(t["endpoint"])
    area = read_tsv(os.path.join(out, "area.tsv"))
    power = read_tsv(os.path.join(out, "power.tsv"))
    for r in power:
        for k in ("period_ns", "internal_w", "switching_w", "leakage_w", "total_w"):
            r[k] = float(r[k])
    wl = []
    if os.path.exists(os.path.join(out, "workloads.tsv")):
        for line in open(os.path.join(out, "workloads.tsv")):
            # The cycles replayed and the layer's whole cycles, its weight (ppa.sh: a sampled
            # layer's file holds a prefix of them; older files have no weight column).
            f = line.rstrip("\n").split("\t")
            wl.append({"network": f[0], "name": f[1], "vector": f[2], "cycles": int(f[3]),
                       "weight": int(f[4] if len(f) > 4 else f[3])})
    # The networks in order, each with its summary (mpq-mnist's, mpq-mnist-rtl's), or None
    # for a network of one vector file.
    nets = {}
    if os.path.exists(os.path.join(out, "networks.tsv")):
        for line in open(os.path.join(out, "networks.tsv")):
            net, summ = line.rstrip("\n").split("\t")
            nets[net] = None if summ == "-" else summ
    ann = read_tsv(os.path.join(out, "measured.tsv")) if os.path.exists(os.path.join(out, "measured.tsv")) else []

    def num(f):
        p = os.path.join(out, f)
        return float(open(p).read().strip()) if os.path.exists(p) else None

    params = {}
    if os.path.exists(os.path.join(out, "cfg.txt")):
        for line in open(os.path.join(out, "cfg.txt")):
            k, v = line.split()
            params[k] = int(v)
    doc = {
        "config": name,
        "params": params,
        "area": [{"unit": a["unit"], "instances": int(a["instances"]), "cells": int(a["cells"]),
                  "area_um2": float(a["area_um2"])} for a in area],
        "area_total_um2": sum(float(a["area_um2"]) for a in area),
        "cells_total": sum(int(a["cells"]) for a in area),
        "timing": t,
        "fixed_mhz": float(fixed_mhz),
        "power": power,
        "workloads": wl,
        "networks": nets,
        "annotation": ann,
        # Why the workloads have no measured activity, when they have none (ppa.sh).
        "activity_missing": (open(os.path.join(out, "activity-missing")).read().strip()
                             if os.path.exists(os.path.join(out, "activity-missing")) else None),
        "seconds": {"synthesis": num("seconds"), "gls_build": num("gls-build-seconds"),
                    "gls_sim": num("gls-sim-seconds"), "total": num("total-seconds")},
    }
    write_atomic(os.path.join(out, "ppa.json"), json.dumps(doc, indent=1) + "\n")
    print("ppa %s: area %.3f mm^2 (%d cells), critical path %.2f ns (%s -> %s), fmax %.1f MHz"
          % (name, doc["area_total_um2"] / 1e6, doc["cells_total"], t["min_period_ns"],
             t["startpoint"], t["endpoint"], t["fmax_mhz"]))
    for r in power:
        if r["unit"] == "total":
            print("ppa %s: power %-10s at %7.2f MHz: %.3f mW (leakage %.3f uW)"
                  % (name, r["mode"], 1000.0 / r["period_ns"], r["total_w"] * 1e3, r["leakage_w"] * 1e6))


# ---- all configurations ----------------------------------------------------------------------
def read_summary(path):
    """A network's summary (mpq-mnist --emit-vectors, mpq-mnist-rtl --save-vectors, mpq-tb
    net --vec-dir): its description (the `network` row; None in mpq-mnist's), accuracy % and
    the test images it was measured on (None for a TFLite model's: no test set), the layers
    run on the accelerator, and the layers run on the host."""
    desc, acc, acc_n, layers, host = None, None, None, [], []
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if line.startswith("# layer") and "on the host" in line:
            host.append(line[2:].split(": on the host")[0].strip().replace("\t", " "))
        elif f[0] == "network":
            desc = f[1]
        elif f[0] == "accuracy":
            acc, acc_n = float(f[1]), int(f[2])
        elif re.match(r"^layer\d+$", f[0]):
            layers.append({"name": f[0], "m": int(f[1]), "k": int(f[2]), "n": int(f[3]),
                           "cycles": int(f[4]), "macs": int(f[5]),
                           # mpq-tb net's: the cycles in its file (a prefix when fewer than
                           # the part's, reset included) and the part's.
                           "saved": int(f[7]) if len(f) > 8 else None,
                           "sampled": len(f) > 8 and int(f[7]) < int(f[8])})
    if not layers or (acc is None and desc is None):
        die("%s: no layers, or neither an accuracy nor a network row" % path, 1)
    return desc, acc, acc_n, layers, host


# What mpq-mnist's summary does not say about its network.
NET_DESC = {"mlp": "MLP 784-256-128-10"}


def energy(d, mode, cycles, period, unit="total"):
    """Joules of `cycles` clock cycles at `period` under the power of `mode`: `default`
    (OpenSTA's default activity) or a network's measured activity, the cycle-weighted mean of
    its layers' (activity.py --mean): power being linear in the activities, that power times
    all the network's cycles is the sum over its layers of each one's power times its cycles."""
    rows = [r for r in d["power"] if r["mode"] == mode and r["unit"] == unit
            and abs(r["period_ns"] - period) < 1e-6 * period]
    if not rows:
        die("%s: no power for %s at %.4f ns" % (d["config"], mode, period), 1)
    return rows[0]["total_w"] * period * 1e-9 * cycles


def weights_name(params):
    hp, kl = params.get("HpPerGroup", 0), params.get("KLanes", 0)
    if hp == 0:
        return "ternary"
    if hp == kl:
        return "dense int8"
    return "ternary + %d:%d int8" % (hp, kl)


def net_rows(docs, net, units):
    """The energy rows of network net, one per configuration that ran it."""
    rows = []
    for c, d in docs.items():
        sp = d.get("networks", {}).get(net)
        if not sp:
            continue
        desc, acc, acc_n, layers, host = read_summary(sp)
        fmax_p = d["timing"]["min_period_ns"]
        fixed_p = 1000.0 / d["fixed_mhz"]
        # A TFLite model (no accuracy): one inference, its layers' m are pixels, not images.
        model = acc is None
        m = 1 if model else layers[0]["m"]
        macs = sum(l["macs"] for l in layers)
        cycles = sum(l["cycles"] for l in layers)
        # The summary must describe the vector files the gate-level model replayed: every
        # layer's whole cycles replayed, or (a sampled layer) stood for by its file's activity.
        wl = [w for w in d["workloads"] if w["network"] == net]
        weighed = sum(w["weight"] for w in wl)
        replayed = sum(w["cycles"] for w in wl)
        sampled = sum(1 for l in layers if l["sampled"])
        in_files = sum(l["cycles"] if l["saved"] is None else l["saved"] for l in layers)
        if weighed != cycles or replayed != in_files:
            die("%s: %s's layers are %d cycles, the gate-level replay ran %d standing for %d "
                "(scripts/ppa/ppa.sh %s again)" % (sp, net, cycles, replayed, weighed, c), 1)
        has_meas = any(r["mode"] == net for r in d["power"])
        meas = net if has_meas else "default"
        e_meas = energy(d, meas, cycles, fmax_p)
        e_dflt = energy(d, "default", cycles, fmax_p)
        e_meas_fixed = energy(d, meas, cycles, fixed_p)
        leak = [r["leakage_w"] for r in d["power"] if r["mode"] == "default" and r["unit"] == "total"][0]
        none = lambda v: v if has_meas else None
        rows.append({
            "network": net, "description": desc or NET_DESC.get(net, net), "host_layers": host,
            "config": c, "weights": weights_name(d["params"]), "accuracy": acc, "accuracy_images": acc_n,
            "m": m, "activity": "measured" if has_meas else "default", "model": model,
            "layers": len(layers), "layers_sampled": sampled, "cycles_replayed": replayed,
            "cycles_per_inference": cycles / m, "macs_per_inference": macs / m,
            "fmax_mhz": d["timing"]["fmax_mhz"], "fixed_mhz": d["fixed_mhz"],
            "p_meas_mw": none(e_meas / (cycles * fmax_p * 1e-9) * 1e3),
            "p_dflt_mw": e_dflt / (cycles * fmax_p * 1e-9) * 1e3,
            "p_fixed_mw": e_meas_fixed / (cycles * fixed_p * 1e-9) * 1e3,
            "leak_uw": leak * 1e6,
            "pj_per_mac": none(e_meas / macs * 1e12), "pj_per_mac_dflt": e_dflt / macs * 1e12,
            "nj_per_inf": none(e_meas / m * 1e9), "nj_per_inf_dflt": e_dflt / m * 1e9,
            "nj_per_inf_fixed": e_meas_fixed / m * 1e9,
            "unit_nj": {u: energy(d, meas, cycles, fmax_p, u) / m * 1e9 for u in units},
            "us_per_inf": cycles / m * fmax_p * 1e-3,
            "area_mm2": d["area_total_um2"] / 1e6,
            "area_nowbuf_mm2": sum(a["area_um2"] for a in d["area"] if a["unit"] not in MACRO_UNITS) / 1e6,
        })
    return rows


def best(r, key):
    """The measured figure where the gate-level simulation gave one, else the default's."""
    return r[key] if r[key] is not None else r[key + "_dflt"]


def net_tables(md, rows, units):
    """A network's power and energy tables."""
    r0 = rows[0]
    f = lambda fmt, v: "-" if v is None else fmt.format(v)
    host = (" (on the host, no cycles: %s)" % ", ".join(r0["host_layers"])) if r0["host_layers"] else ""
    md.append("\nPower and energy on the Fashion-MNIST %s, %d test image%s, every layer with weights on "
              "the accelerator%s; accuracy: the golden model's, with the configuration's weights and "
              "accumulator, on %s test images; *measured*: the per-net activity of the gate-level "
              "simulation of the network's layers (their cycle-weighted mean); *default*: OpenSTA's "
              "vectorless default (0.1 toggles per cycle on every input, propagated; the RAM macros: "
              "0.1 per port bit, write enable high half the cycles). `-`: no measured activity:\n"
              % (r0["description"], r0["m"], "" if r0["m"] == 1 else "s", host,
                 "{:,}".format(r0["accuracy_images"])))
    md.append("| configuration | weights | accuracy | cycles / inference | fmax (MHz) | power at fmax, measured (mW) | default (mW) | at %g MHz, %s (mW) | leakage (uW) |"
              % (r0["fixed_mhz"], "measured or default"))
    md.append("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        md.append("| %s | %s | %.2f%% | %s | %.1f | %s | %.1f | %.1f (%s) | %.1f |" % (
            r["config"], r["weights"], r["accuracy"], "{:,.0f}".format(r["cycles_per_inference"]),
            r["fmax_mhz"], f("{:.1f}", r["p_meas_mw"]), r["p_dflt_mw"], r["p_fixed_mw"],
            r["activity"], r["leak_uw"]))
    md.append("\n| configuration | energy / MAC, measured (pJ) | default (pJ) | energy / inference, measured (nJ) | default (nJ) | measured / default | time / inference at fmax (us) | activity of the split | " + " | ".join("%s (nJ / inf.)" % u for u in units) + " |")
    md.append("|---|---|---|---|---|---|---|---|" + "---|" * len(units))
    for r in rows:
        md.append("| %s | %s | %.2f | %s | %s | %s | %.1f | %s | %s |" % (
            r["config"], f("{:.2f}", r["pj_per_mac"]), r["pj_per_mac_dflt"],
            f("{:,.0f}", r["nj_per_inf"]), "{:,.0f}".format(r["nj_per_inf_dflt"]),
            f("{:.2f}", r["nj_per_inf"] and r["nj_per_inf"] / r["nj_per_inf_dflt"]),
            r["us_per_inf"], r["activity"], " | ".join("{:,.0f}".format(r["unit_nj"][u]) for u in units)))


def models_table(md, rows, units):
    """The TFLite models' energy per inference, one row per model and configuration (mpq-tb
    net --vec-dir's summaries: one inference; a sampled layer's activity stands for all its
    cycles, scripts/ppa/ppa.sh)."""
    f = lambda fmt, v: "-" if v is None else fmt.format(v)
    md.append("\nEnergy per inference of the TFLite models (mpq-tb net: every CONV_2D, DEPTHWISE_CONV_2D "
              "and FULLY_CONNECTED layer on the accelerator, the other operators on the host, no cycles "
              "and no energy); *measured*: each net's activity in the gate-level replay of the "
              "layers' vector files, weighted by each layer's whole cycles; *replayed*: the cycles "
              "the gate-level netlist ran, every port compared every cycle (a layer part whose file "
              "holds fewer cycles than it ran, `sampled`, is a prefix of it: reset, weight loading "
              "and the first pixels); *default*: OpenSTA's vectorless estimate:\n")
    md.append("| model | configuration | weights | MACs | cycles / inference | replayed (parts sampled) | "
              "fmax (MHz) | time / inference at fmax (us) | power at fmax, measured (mW) | "
              "energy / inference, measured (uJ) | default (uJ) | energy / MAC, measured (pJ) | "
              + " | ".join("%s (uJ)" % u for u in units) + " |")
    md.append("|---|---|---|---|---|---|---|---|---|---|---|---|" + "---|" * len(units))
    for r in rows:
        md.append("| %s | %s | %s | %s | %s | %s (%d of %d) | %.1f | %.0f | %s | %s | %.2f | %s | %s |" % (
            r["description"].replace(".tflite", ""), r["config"], r["weights"], "{:,.0f}".format(r["macs_per_inference"]),
            "{:,.0f}".format(r["cycles_per_inference"]), "{:,}".format(r["cycles_replayed"]),
            r["layers_sampled"], r["layers"], r["fmax_mhz"], r["us_per_inf"], f("{:.1f}", r["p_meas_mw"]),
            f("{:.2f}", r["nj_per_inf"] and r["nj_per_inf"] / 1e3), r["nj_per_inf_dflt"] / 1e3,
            f("{:.2f}", r["pj_per_mac"]), " | ".join("{:.2f}".format(r["unit_nj"][u] / 1e3) for u in units)))


def tradeoff_table(md, nets, by_net):
    """Issue 17's table: per configuration, the area and each network's accuracy and energy."""
    configs = []
    for n in nets:
        for r in by_net[n]:
            if r["config"] not in configs:
                configs.append(r["config"])
    cell = {(r["network"], r["config"]): r for n in nets for r in by_net[n]}
    any_row = {r["config"]: r for n in nets for r in by_net[n]}
    md.append("\nThe trade-off: accuracy against energy per inference at fmax (measured activity; "
              "`(default)` where the gate-level simulation gave none) and against area:\n")
    md.append("| configuration | weights | area (mm^2) | logic only (mm^2) | "
              + " | ".join("%s accuracy | %s energy / inference (nJ) | %s energy / MAC (pJ)"
                           % (n.upper(), n.upper(), n.upper()) for n in nets) + " |")
    md.append("|---|---|---|---|" + "---|---|---|" * len(nets))
    for c in configs:
        a = any_row[c]
        cols = []
        for n in nets:
            r = cell.get((n, c))
            if r is None:
                cols += ["-", "-", "-"]
                continue
            tag = "" if r["activity"] == "measured" else " (default)"
            cols += ["%.2f%%" % r["accuracy"], "{:,.0f}".format(best(r, "nj_per_inf")) + tag,
                     "%.2f%s" % (best(r, "pj_per_mac"), tag)]
        md.append("| %s | %s | %.3f | %.3f | %s |" % (c, a["weights"], a["area_mm2"], a["area_nowbuf_mm2"],
                                                    " | ".join(cols)))


def cmd_summary(root, out_md, out_dir, configs):
    docs = {}
    for c in configs:
        p = os.path.join(root, c, "ppa.json")
        if not os.path.exists(p):
            die("%s is missing (scripts/ppa/ppa.sh %s)" % (p, c))
        docs[c] = json.load(open(p))
    units = [a["unit"] for a in docs[configs[0]]["area"]]
    md = []
    md.append("Area (um^2, OSU 0.18 um cells: the liberty area of every cell of the mapped "
              "hierarchy; wbuf and abuf are RAM macros, their area scripts/ppa/ram.py's model):\n")
    md.append("| configuration | weights | Lanes x KLanes | AccBits | KMax | " + " | ".join(units)
              + " | total (mm^2) | cells | synthesis (s) |")
    md.append("|---|---|---|---|---|" + "---|" * len(units) + "---|---|---|")
    for c, d in docs.items():
        p = d["params"]
        area = {a["unit"]: a["area_um2"] for a in d["area"]}
        md.append("| %s | %s | %d x %d | %d | %d | %s | %.3f | %s | %d |" % (
            c, weights_name(p), p["Lanes"], p["KLanes"], p["AccBits"], p["KMax"],
            " | ".join("{:,.0f}".format(area.get(u, 0)) for u in units),
            d["area_total_um2"] / 1e6, "{:,}".format(d["cells_total"]), d["seconds"]["synthesis"] or 0))
    md.append("\nTiming (OpenSTA, ideal clock, inputs and outputs registered outside, no wire load):\n")
    md.append("| configuration | critical path (ns) | fmax (MHz) | from | to | cells on the path, by unit |")
    md.append("|---|---|---|---|---|---|")
    for c, d in docs.items():
        t = d["timing"]
        md.append("| %s | %.2f | %.1f | `%s` | `%s` | %s (%s) |" % (
            c, t["min_period_ns"], t["fmax_mhz"], t["startpoint"], t["endpoint"],
            t["cells_on_path"], t["path_units"]))
    # Energy per network (the MLP's layers, the CNN's layers: each its own activity and power).
    nets = []
    for d in docs.values():
        for n in d.get("networks", {}):
            if d["networks"][n] and n not in nets:
                nets.append(n)
    by_net = {n: net_rows(docs, n, units) for n in nets}
    # The TFLite models (no accuracy: no test set) in one table; the Fashion-MNIST networks
    # each in their own, the trade-off and the plots.
    models = [r for n in nets for r in by_net[n] if r["model"]]
    nets = [n for n in nets if by_net[n] and not by_net[n][0]["model"]]
    for n in nets:
        net_tables(md, by_net[n], units)
    if models:
        models_table(md, models, units)
    # The models a configuration cannot hold (make ppa-models left them out; mpq-tb net's reason).
    for c in configs:
        p = os.path.join(root, c, "refused.txt")
        for line in open(p) if os.path.exists(p) else []:
            if line.startswith("# refused: "):
                md.append("\nNot run on %s (the configuration cannot hold it): %s" % (c, line[11:].strip()))
    if models:
        write_atomic(os.path.join(out_dir, "models-energy.json"), json.dumps(models, indent=1) + "\n")
    rows = [r for n in nets for r in by_net[n]]
    if rows:
        tradeoff_table(md, nets, by_net)
        # Literature, scaled to this node.
        lit = read_lit(os.path.join(os.path.dirname(os.path.abspath(__file__)), "literature.tsv"))
        md.append("\nPublished figures scaled to 0.18 um, 1.8 V (E x (180 nm / node) x (1.8 V / V)^2), "
                  "beside this design's energy per MAC (whole accelerator; measured activity where the gate-level simulation gave it, else the default):\n")
        md.append("| source | node, supply | published (fJ / MAC) | scaled to 0.18 um, 1.8 V (pJ / MAC) | what it counts |")
        md.append("|---|---|---|---|---|")
        for l in lit:
            md.append("| %s | %g nm, %g V | %g | %.2f | %s |" % (l["reference"], l["node"], l["vdd"], l["fj"],
                                                         l["scaled_pj"], l["what"]))
        for r in rows:
            md.append("| this design, %s, %s (%s), %s activity | 180 nm, 1.8 V | - | %.2f | the whole accelerator: the RAM macros (model), control, window generator, lanes, requantization (logic only: %.2f) |" % (
                r["network"].upper(), r["config"], r["weights"], r["activity"], best(r, "pj_per_mac"),
                (best(r, "nj_per_inf") - sum(r["unit_nj"].get(u, 0) for u in MACRO_UNITS)) * 1e3
                / r["macs_per_inference"]))
        tsv = ["# network\tconfig\taccuracy\tnj_per_inf\tnj_per_inf_default\tarea_mm2\tarea_nowbuf_mm2\tpj_per_mac\tweights"]
        for r in rows:
            tsv.append("%s\t%s\t%.4f\t%.2f\t%.2f\t%.4f\t%.4f\t%.4f\t%s" % (
                r["network"], r["config"], r["accuracy"], best(r, "nj_per_inf"), r["nj_per_inf_dflt"],
                r["area_mm2"], r["area_nowbuf_mm2"], best(r, "pj_per_mac"), r["weights"]))
        write_atomic(os.path.join(out_dir, "tradeoff.tsv"), "\n".join(tsv) + "\n")
        write_atomic(os.path.join(out_dir, "energy.json"), json.dumps(rows, indent=1) + "\n")
    write_atomic(out_md, "\n".join(md) + "\n")
    print("\n".join(md))


def read_lit(path):
    out = []
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        node, vdd, fj = float(f[1]), float(f[2]), float(f[3])
        out.append({"source": f[0], "node": node, "vdd": vdd, "fj": fj, "what": f[4], "reference": f[5],
                    "scaled_pj": fj * (180.0 / node) * (1.8 / vdd) ** 2 / 1000.0})
    return out


# ---- make test ------------------------------------------------------------------------------
def cmd_check(out):
    d = json.load(open(os.path.join(out, "ppa.json")))
    errs = []
    if not d["area_total_um2"] > 0 or not all(a["area_um2"] > 0 for a in d["area"]):
        errs.append("area not positive: %s" % d["area"])
    if not d["timing"]["fmax_mhz"] > 0 or not d["timing"]["min_period_ns"] > 0:
        errs.append("fmax not positive: %s" % d["timing"])
    modes = {r["mode"] for r in d["power"]}
    if "default" not in modes or not d["workloads"]:
        errs.append("no default power or no workload replayed (modes %s, workloads %s)"
                    % (modes, d["workloads"]))
    missing = d.get("activity_missing")
    if missing:
        # The gate-level replay passed (ppa.sh stops otherwise) but wrote no toggle counts: the
        # measured power, the point of the flow, is missing (as it was, unnoticed, while the
        # shim counted cycles only in its traced build).
        errs.append("no measured activity: %s" % missing)
    for r in d["power"]:
        if r["unit"] == "total" and not (r["total_w"] > 0 and r["leakage_w"] > 0 and r["internal_w"] > 0):
            errs.append("power not positive: %s" % r)
    for w in d["workloads"]:
        if w["network"] not in modes:
            errs.append("workload %s (network %s) has no measured power" % (w["name"], w["network"]))
    if d["workloads"] and not sum(int(a["cells_measured"]) for a in d["annotation"]) > 0:
        errs.append("no cell got a measured activity: %s" % d["annotation"])
    if errs:
        die("\n  ".join(["check failed:"] + errs), 1)
    print("ppa check: area %.0f um^2, fmax %.1f MHz, power present and positive for %s"
          % (d["area_total_um2"], d["timing"]["fmax_mhz"], ", ".join(sorted(modes))))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        die(__doc__.strip())
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "min-period" and len(args) == 2:
        cmd_min_period(*args)
    elif cmd == "config" and len(args) == 3:
        cmd_config(*args)
    elif cmd == "summary" and len(args) >= 4:
        cmd_summary(args[0], args[1], args[2], args[3:])
    elif cmd == "check" and len(args) == 1:
        cmd_check(*args)
    else:
        die("usage: see the header of %s" % sys.argv[0])
