# SPDX-License-Identifier: Apache-2.0
"""ZigZag's descriptions of mpq: the accelerator of a configuration (rtl/cfg/NAME.cfg, read
through `mpq-golden cfg NAME --json`, the one reader of those files), a layer as ZigZag's
workload, and the spatial mapping the RTL uses. No number here is copied from a
configuration: every size and width is computed from the configuration's values.

The accelerator, as ZigZag sees it (docs/explore.md, "Peers"):
  operational array  D1 = Lanes (output channels), D2 = KLanes (one activation slice):
                     Lanes x KLanes MACs, one energy per MAC (the table's int8 product)
  acc    O    AccBits per lane (one instance per lane, serving the KLanes MACs of D2):
              the lane's accumulator; cost 0 (in mpq's table its energy is the lanes')
  wbuf   W    KMax elements per lane (KMax*Lanes int8 weights); read and written one slice of
              every lane per cycle (Lanes*KLanes*8 bits); read = wbuf_read, write = wgt_beat
  ring   I    ActDepth slices of KLanes activations; one slice read and one written per cycle
              (KLanes*ActBits bits); read = ring_read, write = act_beat
  host   all  the streams: a weight beat, an activation beat and an output beat per cycle;
              an output beat written (Lanes outputs) costs Lanes requantizations
The weights are described as dense int8 (the precision ZigZag's workload gives them), so only
a configuration that offers int8 (HpPerGroup = KLanes, HpBits >= 8) is accepted.
"""
import json
import subprocess

CFG_KEYS = ("Lanes", "KLanes", "HpPerGroup", "ActBits", "HpBits", "AccBits", "OutBits", "KMax", "ActDepth")
ENERGY_KEYS = ("cycle", "wgt_beat", "wbuf_read", "act_beat", "ring_read", "mac_tern", "mac_hp", "requant")
HOST_BITS = 1 << 40  # the host memory behind the streams: large enough for any layer


class BadInput(Exception):
    """A configuration, energy table or shape that cannot be described (exit 2)."""


def load_config(golden, name, opt="--config"):
    """The configuration NAME's values, checked, as a dict (errors name the option opt)."""
    r = subprocess.run([golden, "cfg", name, "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        raise BadInput(f"{opt} {name}: {r.stderr.strip() or 'mpq-golden cfg failed'}")
    cfg = json.loads(r.stdout)
    missing = [k for k in CFG_KEYS if not isinstance(cfg.get(k), int) or cfg[k] <= 0]
    if missing:
        raise BadInput(f"{opt} {name}: missing or non-positive {', '.join(missing)}")
    if cfg["HpPerGroup"] != cfg["KLanes"] or cfg["HpBits"] < 8:
        raise BadInput(f"{opt} {name}: offers no int8 precision (HpPerGroup {cfg['HpPerGroup']} != "
                       f"KLanes {cfg['KLanes']} or HpBits {cfg['HpBits']} < 8); the ZigZag description "
                       "models dense int8 layers (use dense or int8)")
    cfg["name"] = name
    return cfg


def load_energy(path, name):
    """The energy-per-action table (pJ) of configuration NAME from explore-energy.py's
    energy.tsv."""
    table, cur = {}, None
    try:
        with open(path) as f:
            for line in f:
                w = line.split()
                if line.startswith("# config") and len(w) == 3:
                    cur = table.setdefault(w[2], {})
                elif w and not line.startswith("#") and cur is not None and len(w) == 2:
                    cur[w[0]] = float(w[1])
    except (OSError, ValueError) as e:
        raise BadInput(f"--energy {path}: {e}")
    if not table:
        raise BadInput(f"--energy {path}: no `# config NAME` block")
    e = table.get(name)
    if e is None:
        raise BadInput(f"--energy {path}: no table for config {name} (it has {', '.join(sorted(table))})")
    if any(k not in e for k in ENERGY_KEYS):
        raise BadInput(f"--energy {path}: config {name} lacks {', '.join(k for k in ENERGY_KEYS if k not in e)}")
    return e


def _port(name, kind, bits, alloc):
    return {"name": name, "type": kind, "bandwidth_min": bits, "bandwidth_max": bits, "allocation": alloc}


def architecture(cfg, energy):
    """ZigZag's accelerator description (the dict its YAML holds) of configuration cfg, with
    the per-access energies of energy (pJ; all 0 when None)."""
    e = energy or {k: 0.0 for k in ENERGY_KEYS}
    lanes, kl = cfg["Lanes"], cfg["KLanes"]
    slice_w, act_w = lanes * kl * 8, kl * cfg["ActBits"]
    out_w, acc = lanes * cfg["OutBits"], cfg["AccBits"]
    mems = {
        "acc": {"size": acc, "r_cost": 0.0, "w_cost": 0.0, "area": 0.0, "latency": 1, "operands": ["O"],
                "ports": [_port("r_port_1", "read", acc, ["O, tl"]), _port("r_port_2", "read", acc, ["O, th"]),
                          _port("w_port_1", "write", acc, ["O, fh"]), _port("w_port_2", "write", acc, ["O, fl"])],
                "served_dimensions": ["D2"]},
        "wbuf": {"size": cfg["KMax"] * lanes * 8, "r_cost": e["wbuf_read"], "w_cost": e["wgt_beat"], "area": 0.0,
                 "latency": 1, "operands": ["I2"],
                 "ports": [_port("r_port_1", "read", slice_w, ["I2, tl"]),
                           _port("w_port_1", "write", slice_w, ["I2, fh"])],
                 "served_dimensions": ["D1", "D2"]},
        "ring": {"size": cfg["ActDepth"] * act_w, "r_cost": e["ring_read"], "w_cost": e["act_beat"], "area": 0.0,
                 "latency": 1, "operands": ["I1"],
                 "ports": [_port("r_port_1", "read", act_w, ["I1, tl"]), _port("w_port_1", "write", act_w, ["I1, fh"])],
                 "served_dimensions": ["D1", "D2"]},
        "host": {"size": HOST_BITS, "r_cost": 0.0, "w_cost": e["requant"] * lanes, "area": 0.0, "latency": 1,
                 "operands": ["I1", "I2", "O"],
                 "ports": [_port("r_port_1", "read", slice_w, ["I2, tl"]), _port("r_port_2", "read", act_w, ["I1, tl"]),
                           _port("rw_port_3", "read_write", out_w, ["O, fl", "O, th", "O, fh", "O, tl"])],
                 "served_dimensions": ["D1", "D2"]},
    }
    return {"name": f"mpq_{cfg['name']}", "memories": mems,
            "operational_array": {"unit_energy": e["mac_hp"], "unit_area": 1.0, "dimensions": ["D1", "D2"],
                                  "sizes": [lanes, kl]}}


def described(arch):
    """What an architecture description holds, in the configuration's terms: MACs, weights per
    lane the weight buffer holds, slices the ring holds (checked against the configuration by
    the test)."""
    m, oa = arch["memories"], arch["operational_array"]
    kl = oa["sizes"][1]
    return {"macs": oa["sizes"][0] * kl, "lanes": oa["sizes"][0], "klanes": kl,
            "wbuf_weights_per_lane": m["wbuf"]["size"] // (8 * oa["sizes"][0]),
            "ring_slices": m["ring"]["size"] // m["ring"]["ports"][0]["bandwidth_min"],
            "acc_bits": m["acc"]["size"]}
