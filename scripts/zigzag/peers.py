#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""peers.py: mpq's exact cycles and energy beside ZigZag's estimates (zigzag-dse, with an
architecture description of the configuration, zz_arch.py) and Vela's Ethos-U55-128 cycles,
per layer (issue 29 item 5; docs/explore.md "Peers").

  peers.py --golden BIN --out DIR [--cnn-config dense] [--energy energy.tsv]
           [--model-config int8] [--model M.tflite ...] [--vela-dir DIR] [--bench-models JSON]
           [--cnn-layers 1,2,3,4] [--lpf-limit 6]

The CNN: the Fashion-MNIST CNN's MAC layers (make explore's network, explore-energy.py's list),
mpq's closed form at the default mapping and at the fewest-cycle one, energy by the table.
Each --model: `mpq-golden model map --config MODEL_CONFIG --json` (the cycle model, equal to
the RTL: make models), Vela's per-layer cycles from --vela-dir/NAME.json (vela.py), the RTL's
total from --bench-models (make bench-models) where it has the model.
Writes DIR/peers.json and DIR/peers.md (atomically). Exit 2 on bad input, 1 if ZigZag fails.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import zz_arch  # noqa: E402
import zz_layers  # noqa: E402
import zz_report  # noqa: E402


def die(msg):
    print("peers.py: " + msg, file=sys.stderr)
    sys.exit(2)


def energy_script():
    """scripts/golden/explore-energy.py as a module: its counts() and predict() are the one
    definition of a layer's counts and of the table's energy."""
    path = os.path.join(HERE, "..", "golden", "explore-energy.py")
    spec = importlib.util.spec_from_file_location("explore_energy", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def fewest_cycles(golden, cfg, opt, arg):
    r = subprocess.run([golden, "explore", "space", "--config", cfg, opt, arg], capture_output=True, text=True)
    line = next((l for l in r.stdout.splitlines() if l.startswith("fewest cycles:")), None)
    if r.returncode != 0 or line is None:
        die(f"mpq-golden explore space --config {cfg} {opt} '{arg}': {r.stderr.strip()}")
    w = line.split()
    return int(w[w.index("cycles") + 1]), " ".join(w[2:w.index("cycles")])


def cnn_rows(golden, cfg, energy, which):
    """The CNN's layers (1-based indices which): shape, mpq's counts and energy at the default
    mapping (int8)."""
    ee = energy_script()
    rows = []
    for opt, arg in [ee.LAYERS["cnn"][i - 1] for i in which]:
        c = ee.counts(golden, cfg["name"], "cnn", layers=[(opt, arg)], prec="int8")
        best, best_map = fewest_cycles(golden, cfg["name"], opt, arg)
        L = zz_layers.from_fc(*map(int, arg.split(","))) if opt == "--fc" else zz_layers.from_explore_shape(arg)
        rows.append({"layer": arg if opt == "--shape" else "fc " + arg, "L": L, "map": "default mapping",
                     "mpq_cycles": c["cycles"], "mpq_steps": c["steps"], "mpq_waits": c["waits"],
                     "mpq_macs": c["macs"], "mpq_best_cycles": best, "mpq_best_map": best_map,
                     "mpq_energy_pj": ee.predict(energy, c) if energy else None,
                     "mpq_cycle_energy_pj": energy["cycle"] * c["cycles"] if energy else None})
    return rows


def vela_cycles(vela_dir, name):
    """Vela's Op Cycles per MAC-layer operator index (vela.py's JSON), or {}."""
    path = os.path.join(vela_dir, name + ".json") if vela_dir else None
    if not path or not os.path.exists(path):
        return {}
    per = {}
    with open(path) as f:
        for l in json.load(f)["layers"]:
            if l.get("op_index") is not None:
                per[l["op_index"]] = per.get(l["op_index"], 0) + l["cycles"]
    return per


def model_rows(golden, model, cfg_name, vela_dir, work):
    """One model's MAC layers as model map maps them, with Vela's cycles."""
    name = os.path.splitext(os.path.basename(model))[0]
    out = os.path.join(work, name + ".map.json")
    r = subprocess.run([golden, "model", "map", model, "--config", cfg_name, "--json", out],
                       capture_output=True, text=True)
    if r.returncode != 0:
        die(f"mpq-golden model map {model}: {r.stderr.strip()[-400:]}")
    with open(out) as f:
        mm = json.load(f)
    vela = vela_cycles(vela_dir, name)
    return name, [{"layer": f"op {l['op']} {l['shape']}", "L": zz_layers.from_model_map(l["shape"]),
                   "map": l["map"], "mpq_cycles": l["cycles"], "mpq_steps": l["steps"],
                   "mpq_waits": l["data_waits"], "mpq_macs": l["macs"], "vela_cycles": vela.get(l["op"]),
                   "L_packed": zz_layers.packed(zz_layers.from_model_map(l["shape"]), l["map"])}
                  for l in mm["layers"]]


def rtl_totals(path):
    """The RTL's total cycles per model from make bench-models' JSON (only those it ran and
    passed), or {}."""
    if not path or not os.path.exists(path):
        return {}
    with open(path) as f:
        d = json.load(f)
    runs = d if isinstance(d, list) else d.get("models", [])
    return {os.path.splitext(os.path.basename(r["model"]))[0]: r["rtl_cycles"]
            for r in runs if r.get("rtl_passed") and r.get("config") == "int8"}


def args_parse():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--golden", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cnn-config", default="dense")
    ap.add_argument("--cnn-layers", default="1,2,3,4", help="which of the CNN's 4 MAC layers ('' for none)")
    ap.add_argument("--energy", help="explore-energy.py's energy.tsv (the CNN's energy columns)")
    ap.add_argument("--model-config", default="int8")
    ap.add_argument("--model", action="append", default=[])
    ap.add_argument("--vela-dir")
    ap.add_argument("--bench-models")
    ap.add_argument("--lpf-limit", type=int, default=6, help="ZigZag's LOMA loop prime factor limit")
    a = ap.parse_args()
    try:
        a.cnn_layers = [int(x) for x in a.cnn_layers.split(",") if x]
    except ValueError:
        a.cnn_layers = [0]
    if any(not 1 <= x <= 4 for x in a.cnn_layers):
        die(f"--cnn-layers: a comma list of 1 to 4")
    if a.lpf_limit < 1:
        die(f"--lpf-limit {a.lpf_limit}: at least 1")
    for m in a.model:
        if not os.path.isfile(m):
            die(f"--model {m}: no such file")
    return a


def main():
    a = args_parse()
    import zz_run
    os.makedirs(a.out, exist_ok=True)
    nets = []
    try:
        if a.cnn_layers:
            cfg = zz_arch.load_config(a.golden, a.cnn_config, "--cnn-config")
            energy = zz_arch.load_energy(a.energy, a.cnn_config) if a.energy else None
            rows = cnn_rows(a.golden, cfg, energy, a.cnn_layers)
            nets.append(("fashion_mnist_cnn", cfg, energy, rows))
        if a.model:
            mcfg = zz_arch.load_config(a.golden, a.model_config, "--model-config")
            for m in a.model:
                name, rows = model_rows(a.golden, m, a.model_config, a.vela_dir, a.out)
                nets.append((name, mcfg, None, rows))
    except zz_arch.BadInput as e:
        die(str(e))
    result = {"zigzag": zz_report.zigzag_version(), "networks": []}
    rtl = rtl_totals(a.bench_models)
    for name, cfg, energy, rows in nets:
        todo = [r["L"] for r in rows] + [r["L_packed"] for r in rows if r.get("L_packed")]
        zz = zz_run.run(todo, cfg, energy, os.path.join(a.out, "zigzag", name), a.lpf_limit)
        zz_packed = iter(zz[len(rows):])
        for r in rows:
            r["zz_packed"] = next(zz_packed) if r.get("L_packed") else None
        result["networks"].append(zz_report.network(name, cfg, energy, rows, zz, rtl.get(name)))
    zz_report.write(a.out, result)
    print(zz_report.summary(result))


if __name__ == "__main__":
    main()
