#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The energy-per-action table of each configuration (issue 29 item 2, Accelergy's idea),
fitted from make ppa's measured energy by unit (scripts/golden/explore-energy.tsv) and the
closed-form counts of the same workloads (mpq-golden explore space, default mapping).

Per unit, energy = sum of (pJ per action) x (count of the action):
  control, window: cycle              (one term, least squares over the two networks)
  wbuf:            wgt_beat, wbuf_read  (weight-buffer writes, reads)
  abuf:            act_beat, ring_read  (ring writes, reads)
  lanes:           mac_tern, mac_hp, cycle (idle lanes)
  requant:         requant, cycle
Two-term units are solved exactly from the two networks (two equations): the fit has no
residual there and no layer is left over to validate it on; the held-out check is the
one-term fit of every unit on one network predicting the other (printed, in energy.md).
mac_tern comes from `tern` (only ternary products) and is taken as the same on the other
configurations (the same ternary array); mac_hp is then fitted per configuration.
Writes OUT/energy.tsv (one block per configuration, `# config NAME`) and OUT/energy.md.
Exit 2 on bad input.
"""
import argparse
import json
import os
import subprocess
import sys

PREC = {"tern": "tern+0hp", "default": "tern+1hp", "mix2": "tern+2hp", "dense": "int8"}
# The workloads' MAC layers, default mapping (docs/ppa.md "The workloads").
LAYERS = {
    "mlp": [("--fc", "4,784,256"), ("--fc", "4,256,128"), ("--fc", "4,128,10")],
    "cnn": [("--shape", "conv2d h=28 w=28 c=1 o=16 k=3 p=1"),
            ("--shape", "conv2d h=14 w=14 c=16 o=32 k=3 s=2 p=0 oh=7 ow=7"),
            ("--shape", "conv2d h=7 w=7 c=32 o=64 k=3 s=2 p=0 oh=3 ow=3"),
            ("--fc", "1,576,10")],
}
UNITS = ["control", "window", "wbuf", "abuf", "lanes", "requant"]
ACTIONS = ["cycle", "wgt_beat", "wbuf_read", "act_beat", "ring_read", "mac_tern", "mac_hp", "requant"]


def die(msg):
    print("explore-energy: " + msg, file=sys.stderr)
    sys.exit(2)


def counts(golden, cfg, net, layers=None, prec=None):
    """Summed closed-form counts of a network's layers (default mapping) at the configuration's
    precision (or prec)."""
    tot = {}
    prec = prec or PREC[cfg]
    for opt, arg in layers or LAYERS[net]:
        out = subprocess.run([golden, "explore", "space", "--config", cfg, opt, arg, "--list"],
                             capture_output=True, text=True)
        if out.returncode != 0:
            die(f"mpq-golden explore space {cfg} {arg}: {out.stderr.strip()}")
        lines = out.stdout.splitlines()
        default = next((l for l in lines if l.startswith("default:")), None)
        if default is None:
            die(f"mpq-golden explore space {cfg} {arg}: no default mapping")
        # the default mapping's text: the words between the precision and "cycles"
        words = default.split()[2:]
        mapping = " ".join(words[:words.index("cycles")])
        row = next((l for l in lines if l.split()[:1] == [prec] and mapping and
                    " ".join(l.split()[1:1 + len(mapping.split())]) == mapping), None)
        if row is None:
            die(f"no default-mapping row at {prec} for {cfg} {arg}")
        w = row.split()
        for i in range(len(w) - 1):
            if w[i].isidentifier() and w[i + 1].isdigit():
                tot[w[i]] = tot.get(w[i], 0) + int(w[i + 1])
    # one weight-buffer read and one ring read per step (mpq_explore.h)
    tot["wbuf_reads"] = tot["ring_reads"] = tot["steps"]
    return tot


def solve2(a1, b1, y1, a2, b2, y2):
    """x, z with a*x + b*z = y for both rows; None when singular or negative."""
    det = a1 * b2 - a2 * b1
    if abs(det) < 1e-9 * max(abs(a1 * b2), abs(a2 * b1), 1):
        return None
    x, z = (y1 * b2 - y2 * b1) / det, (a1 * y2 - a2 * y1) / det
    return (x, z) if x >= 0 and z >= 0 else None


def fit(meas, cnt, cfg, e_tern):
    """pJ per action of cfg from its two networks (nJ per inference -> pJ per count)."""
    m, c = meas[cfg], cnt[cfg]
    per = {n: {k: v / m[n]["images"] for k, v in c[n].items()} for n in ("mlp", "cnn")}
    E = {a: 0.0 for a in ACTIONS}
    cyc = [per[n]["cycles"] for n in ("mlp", "cnn")]
    ctl = [1e3 * (m[n]["control"] + m[n]["window"]) for n in ("mlp", "cnn")]
    E["cycle"] = sum(x * y for x, y in zip(cyc, ctl)) / sum(x * x for x in cyc)
    pairs = [("wbuf", "wgt_beats", "wbuf_reads", "wgt_beat", "wbuf_read"),
             ("abuf", "act_beats", "ring_reads", "act_beat", "ring_read")]
    for unit, ca, cb, ea, eb in pairs:
        y = [1e3 * m[n][unit] for n in ("mlp", "cnn")]
        s = solve2(per["mlp"][ca], per["mlp"][cb], y[0], per["cnn"][ca], per["cnn"][cb], y[1])
        if s is None:  # one term, least squares on the reads
            xs = [per[n][cb] for n in ("mlp", "cnn")]
            s = (0.0, sum(a * b for a, b in zip(xs, y)) / sum(a * a for a in xs))
        E[ea], E[eb] = s
    # lanes: ternary products at e_tern (tern's), the rest hp products and idle cycles
    y = [1e3 * m[n]["lanes"] - (e_tern or 0) * per[n]["macs_tern"] for n in ("mlp", "cnn")]
    mac = "macs_tern" if cfg == "tern" else "macs_hp"
    s = solve2(per["mlp"][mac], cyc[0], y[0] if cfg != "tern" else 1e3 * m["mlp"]["lanes"],
               per["cnn"][mac], cyc[1], y[1] if cfg != "tern" else 1e3 * m["cnn"]["lanes"])
    if cfg == "tern" and s is not None:
        E["mac_tern"], lane_cyc = s
    elif s is not None:
        E["mac_hp"], lane_cyc = s
        E["mac_tern"] = e_tern
    else:
        # hp products as counted (every entry filled: an upper bound) do not separate from the
        # ternary ones on this pair; one energy per product of the configuration's precision
        y = [1e3 * m[n]["lanes"] for n in ("mlp", "cnn")]
        s = solve2(per["mlp"]["macs"], cyc[0], y[0], per["cnn"]["macs"], cyc[1], y[1])
        if s is None:
            die(f"{cfg}: the lanes' fit is singular or negative")
        (E["mac_tern"], lane_cyc), E["mac_hp"] = s, 0.0
        print(f"explore-energy: {cfg}: lanes fitted per product whatever its precision (mac_hp 0)")
    y = [1e3 * m[n]["requant"] for n in ("mlp", "cnn")]
    r = solve2(per["mlp"]["requants"], cyc[0], y[0], per["cnn"]["requants"], cyc[1], y[1])
    if r is None:
        r = (sum(y) / (per["mlp"]["requants"] + per["cnn"]["requants"]), 0.0)
    E["requant"], rq_cyc = r
    E["cycle"] += lane_cyc + rq_cyc
    return E, per


def predict(E, per):
    return sum(E[a] * per.get(k, 0) for a, k in zip(
        ACTIONS, ["cycles", "wgt_beats", "wbuf_reads", "act_beats", "ring_reads", "macs_tern", "macs_hp", "requants"]))


def holdout(meas, per, cfg, train, test):
    """Every unit as one term (its dominant action) fitted on `train`, predicting `test`."""
    single = {"control": "cycles", "window": "cycles", "wbuf": "wbuf_reads", "abuf": "act_beats",
              "lanes": "macs", "requant": "requants"}
    tot = 0.0
    for u, k in single.items():
        tot += 1e3 * meas[cfg][train][u] / per[train][k] * per[test][k]
    real = 1e3 * sum(meas[cfg][test][u] for u in UNITS)
    return tot, real


def validate(a):
    """--validate: the table's prediction beside make ppa's gate-level energy of layers not in
    the fit (ppa.sh CONFIG DIR NAME=FILE.vec ..., each file one layer of `gen --shape SPEC
    --profile zero-tern`: int8 weights)."""
    try:
        d = json.load(open(a.validate))
    except (OSError, ValueError) as e:
        die(f"{a.validate}: {e}")
    cfg = d["config"]
    E = {}
    block = None
    for line in open(a.energy):
        if line.startswith("# config "):
            block = line.split()[2]
        elif block == cfg and not line.startswith("#") and line.strip():
            k, v = line.split()
            E[k] = float(v)
    period = d["timing"]["min_period_ns"]
    rows = ["| layer (dense int8) | cycles replayed / closed form | predicted (nJ) | gate-level (nJ) | error |",
            "|---|---|---|---|---|"]
    for spec in a.layer:
        name, shape = spec.split("=", 1)
        c = counts(a.golden, cfg, None, [("--shape", shape)], a.prec)
        pred = predict(E, c) / 1e3
        wl = [w for w in d["workloads"] if w["network"] == name]
        pw = [r for r in d["power"] if r["mode"] == name and r["unit"] == "total"
              and abs(r["period_ns"] - period) < 1e-6 * period]
        if not wl or not pw:
            die(f"{a.validate}: no measured power for {name}")
        meas = pw[0]["total_w"] * period * 1e-9 * wl[0]["cycles"] * 1e9
        rows.append(f"| {name}: `{shape}` | {wl[0]['cycles']} / {c['cycles']} | {pred:.1f} | {meas:.1f} | "
                    f"{100 * (pred / meas - 1):+.1f}% |")
    print("\n".join(rows))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--golden", required=True)
    ap.add_argument("--measured")
    ap.add_argument("--out")
    ap.add_argument("--validate", help="ppa.json of ppa.sh run on held-out layers")
    ap.add_argument("--energy", help="with --validate: the table (energy.tsv)")
    ap.add_argument("--prec", default="int8", help="with --validate: the layers' precision")
    ap.add_argument("layer", nargs="*", help="with --validate: NAME=SHAPE, one per workload")
    a = ap.parse_args()
    if a.validate:
        return validate(a)
    if not a.measured or not a.out:
        die("--measured and --out are required")
    meas = {}
    try:
        with open(a.measured) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                w = line.split()
                if len(w) != 10:
                    die(f"{a.measured}: `{line.strip()}`: 10 columns expected")
                row = {"images": int(w[2]), "cycles": int(w[3])}
                row.update({u: float(v) for u, v in zip(UNITS, w[4:])})
                meas.setdefault(w[0], {})[w[1]] = row
    except (OSError, ValueError) as e:
        die(f"{a.measured}: {e}")
    if "tern" not in meas:
        die("the table needs `tern` (the ternary products' energy)")
    cnt = {cfg: {n: counts(a.golden, cfg, n) for n in ("mlp", "cnn")} for cfg in meas}
    tables, md = {}, []
    md.append("| configuration | " + " | ".join(f"{x} (pJ)" for x in ACTIONS) +
              " | cycles: closed form / measured (MLP, CNN) | held-out one-term fit: MLP -> CNN, CNN -> MLP |")
    md.append("|---" * (len(ACTIONS) + 3) + "|")
    e_tern = None
    for cfg in ["tern"] + sorted(c for c in meas if c != "tern"):
        E, per = fit(meas, cnt, cfg, e_tern)
        if cfg == "tern":
            e_tern = E["mac_tern"]
        tables[cfg] = E
        for n in ("mlp", "cnn"):
            back = predict(E, per[n]) / 1e3
            real = sum(meas[cfg][n][u] for u in UNITS)
            if abs(back - real) > 1e-6 * real + 1:
                print(f"explore-energy: {cfg} {n}: the fit gives {back:.0f} nJ against {real:.0f} measured "
                      "(a least-squares term)")
        h1, r1 = holdout(meas, per, cfg, "mlp", "cnn")
        h2, r2 = holdout(meas, per, cfg, "cnn", "mlp")
        cyc = f"{cnt[cfg]['mlp']['cycles']} / {meas[cfg]['mlp']['cycles']}, " \
              f"{cnt[cfg]['cnn']['cycles']} / {meas[cfg]['cnn']['cycles']}"
        md.append(f"| {cfg} | " + " | ".join(f"{E[x]:.2f}" for x in ACTIONS) +
                  f" | {cyc} | {100 * (h1 / r1 - 1):+.0f}%, {100 * (h2 / r2 - 1):+.0f}% |")
    os.makedirs(a.out, exist_ok=True)
    tmp = os.path.join(a.out, "energy.tsv.tmp")
    with open(tmp, "w") as f:
        f.write("# Energy per action (pJ), fitted by scripts/golden/explore-energy.py from " + a.measured + "\n")
        for cfg, E in tables.items():
            f.write(f"# config {cfg}\n")
            for x in ACTIONS:
                f.write(f"{x}\t{E[x]:.4f}\n")
    # one file holds every configuration; mpq-explore-net reads the block of its own
    os.replace(tmp, os.path.join(a.out, "energy.tsv"))
    tmp = os.path.join(a.out, "energy.md.tmp")
    with open(tmp, "w") as f:
        f.write("\n".join(md) + "\n")
    os.replace(tmp, os.path.join(a.out, "energy.md"))
    print("\n".join(md))


if __name__ == "__main__":
    main()
