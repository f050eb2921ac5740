# SPDX-License-Identifier: Apache-2.0
"""The peers' table: per network and layer, mpq's exact cycles beside ZigZag's latency and
Vela's cycles, energies, ratios; peers.json and peers.md written atomically."""
import json
import os

import zz_arch


def zigzag_version():
    try:
        from importlib.metadata import version
        return version("zigzag-dse")
    except Exception:  # noqa: BLE001 - a version we cannot read is reported as unknown
        return "unknown"


def _ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def _layer(r, z):
    """One layer's row of the JSON."""
    row = {k: v for k, v in r.items() if k not in ("L", "L_packed", "zz_packed")}
    if r.get("zz_packed"):
        row["zz_packed_latency"] = r["zz_packed"]["latency"]
        row["zz_packed_ideal_temporal"] = r["zz_packed"]["ideal_temporal"]
    row.update({"zz_latency": z["latency"], "zz_compute": z["compute"], "zz_ideal_temporal": z["ideal_temporal"],
                "zz_onload": z["onload"], "zz_offload": z["offload"], "zz_stall": z["stall"],
                "zz_spatial_util": round(z["spatial_util"], 4), "zz_macs": _macs(r),
                "zz_energy_pj": z["energy_pj"], "zz_mac_energy_pj": z["mac_energy_pj"],
                "zz_mem_energy_pj": z["mem_energy_pj"], "zz_temporal_mapping": z["temporal_mapping"],
                "zz_over_mpq": _ratio(z["latency"], r["mpq_cycles"]),
                "vela_over_mpq": _ratio(r.get("vela_cycles"), r["mpq_cycles"])})
    if r.get("mpq_energy_pj") is not None:
        row["zz_energy_plus_cycles_pj"] = z["energy_pj"] + r["mpq_cycle_energy_pj"] / r["mpq_cycles"] * z["latency"]
        row["zz_energy_over_mpq"] = _ratio(z["energy_pj"], r["mpq_energy_pj"])
        row["zz_plus_cycles_over_mpq"] = _ratio(row["zz_energy_plus_cycles_pj"], r["mpq_energy_pj"])
    return row


def _macs(r):
    from zz_layers import macs
    return macs(r["L"])


def network(name, cfg, energy, rows, zz, rtl_cycles):
    layers = [_layer(r, z) for r, z in zip(rows, zz)]
    tot = {k: sum(l[k] for l in layers) for k in ("mpq_cycles", "zz_latency")}
    vela = [l["vela_cycles"] for l in layers if l.get("vela_cycles") is not None]
    tot["vela_cycles"] = sum(vela) if len(vela) == len(layers) else None
    tot["zz_latency_as_mapped"] = sum(l.get("zz_packed_latency") or l["zz_latency"] for l in layers)
    tot["rtl_cycles"] = rtl_cycles
    if energy:
        for k in ("mpq_energy_pj", "zz_energy_pj", "zz_energy_plus_cycles_pj"):
            tot[k] = sum(l[k] for l in layers)
    return {"name": name, "config": cfg["name"], "architecture": zz_arch.described(zz_arch.architecture(cfg, energy)),
            "energy_table": energy, "layers": layers, "totals": tot,
            "zz_over_mpq": _ratio(tot["zz_latency"], tot["mpq_cycles"]),
            "vela_over_mpq": _ratio(tot["vela_cycles"], tot["mpq_cycles"])}


def _f(v, nd=0):
    if v is None:
        return "-"
    return f"{v:,.{nd}f}"


def _md_net(n):
    en = n["energy_table"] is not None
    head = ("| layer | mpq mapping | MACs | mpq cycles | ZigZag latency | ZigZag / mpq | ZigZag ideal | "
            "ZigZag loads | Vela U55-128 | Vela / mpq |")
    if en:
        head += " mpq energy (nJ) | ZigZag (nJ) | ZigZag + per-cycle (nJ) |"
    lines = [f"### {n['name']} (`{n['config']}`)", "", head, "|" + "---|" * (head.count("|") - 1)]
    for l in n["layers"]:
        s = (f"| {l['layer']} | {l['map']} | {l['mpq_macs']:,} | {l['mpq_cycles']:,} | {_f(l['zz_latency'])} | "
             f"{_f(l['zz_over_mpq'], 2)} | {_f(l['zz_ideal_temporal'])} | {_f(l['zz_onload'] + l['zz_offload'])} | "
             f"{_f(l.get('vela_cycles'))} | {_f(l['vela_over_mpq'], 2)} |")
        if en:
            s += (f" {_f(l['mpq_energy_pj'] / 1e3)} | {_f(l['zz_energy_pj'] / 1e3)} | "
                  f"{_f(l['zz_energy_plus_cycles_pj'] / 1e3)} |")
        lines.append(s)
    t = n["totals"]
    s = (f"| **total** | | | {t['mpq_cycles']:,} | {_f(t['zz_latency'])} | {_f(n['zz_over_mpq'], 2)} | | | "
         f"{_f(t['vela_cycles'])} | {_f(n['vela_over_mpq'], 2)} |")
    if en:
        s += (f" {_f(t['mpq_energy_pj'] / 1e3)} | {_f(t['zz_energy_pj'] / 1e3)} | "
              f"{_f(t['zz_energy_plus_cycles_pj'] / 1e3)} |")
    lines.append(s)
    for l in n["layers"]:
        if l.get("zz_packed_latency") is not None:
            lines += ["", f"{l['layer']} as mpq's host maps it ({l['map']}: a 1x1 convolution): ZigZag "
                          f"{_f(l['zz_packed_latency'])} cycles (ideal {_f(l['zz_packed_ideal_temporal'])}) against "
                          f"mpq's {l['mpq_cycles']:,}."]
    if t["zz_latency_as_mapped"] != t["zz_latency"]:
        lines += ["", f"With those layers as mpq maps them, ZigZag's total is {_f(t['zz_latency_as_mapped'])} "
                      f"({_f(_ratio(t['zz_latency_as_mapped'], t['mpq_cycles']), 2)} x mpq's)."]
    if t.get("rtl_cycles") is not None:
        lines += ["", f"RTL (make bench-models, every port compared): {t['rtl_cycles']:,} cycles."]
    return "\n".join(lines) + "\n"


def summary(result):
    out = []
    for n in result["networks"]:
        t = n["totals"]
        out.append(f"{n['name']} ({n['config']}): {len(n['layers'])} layers, mpq {t['mpq_cycles']:,} cycles, "
                   f"ZigZag {_f(t['zz_latency'])} ({_f(n['zz_over_mpq'], 2)}x), Vela U55-128 "
                   f"{_f(t['vela_cycles'])} ({_f(n['vela_over_mpq'], 2)}x); ZigZag with mpq's packing "
                   f"{_f(t['zz_latency_as_mapped'])} ({_f(_ratio(t['zz_latency_as_mapped'], t['mpq_cycles']), 2)}x)")
    return "\n".join(out)


def _tsv(result):
    """One line per layer for the plot: network, mpq cycles, ZigZag, ZigZag as mpq maps it,
    Vela ('-' where there is none)."""
    lines = ["# network\tlayer\tmpq_cycles\tzz_latency\tzz_as_mapped\tvela_cycles"]
    for n in result["networks"]:
        for l in n["layers"]:
            vals = [l["mpq_cycles"], l["zz_latency"], l.get("zz_packed_latency") or l["zz_latency"],
                    l.get("vela_cycles")]
            lines.append("\t".join([n["name"], l["layer"]] + ["-" if v is None else f"{v:g}" for v in vals]))
    return "\n".join(lines) + "\n"


def write(out, result):
    md = [f"# mpq beside ZigZag {result['zigzag']} and Vela (per layer)", ""]
    md += [_md_net(n) for n in result["networks"]]
    for name, text in (("peers.json", json.dumps(result, indent=1) + "\n"), ("peers.md", "\n".join(md)),
                       ("peers.tsv", _tsv(result))):
        path = os.path.join(out, name)
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
