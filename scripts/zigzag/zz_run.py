# SPDX-License-Identifier: Apache-2.0
"""ZigZag (zigzag-dse) on a list of layers with mpq's architecture description: one call of
its API per list, layers of the same shape evaluated once. Its temporal mapping is searched
(LOMA, latency first); the spatial mapping is fixed to the RTL's (zz_layers.spatial_mapping)."""
import logging
import os

import yaml

import zz_arch
import zz_layers


def _quiet():
    # ZigZag's API configures INFO logging; its warnings (an unrolling clipped to a layer
    # smaller than the array) are expected here and said in docs/explore.md.
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger().setLevel(logging.ERROR)


def _write_yaml(path, data):
    with open(path + ".tmp", "w") as f:
        yaml.safe_dump(data, f, sort_keys=False)
    os.replace(path + ".tmp", path)


def _result(cme):
    """What we keep of one layer's evaluation (ZigZag's CostModelEvaluation)."""
    breakdown = {str(op): [round(x, 3) for x in v] for op, v in cme.mem_energy_breakdown.items()}
    return {"latency": float(cme.latency_total2), "compute": float(cme.latency_total0),
            "ideal_temporal": float(cme.ideal_temporal_cycle), "ideal": float(cme.ideal_cycle),
            "stall": float(cme.stall_slack_comb), "onload": float(cme.data_onloading_cycle),
            "offload": float(cme.data_offloading_cycle), "energy_pj": float(cme.energy_total),
            "mac_energy_pj": float(cme.mac_energy), "mem_energy_pj": breakdown,
            "spatial_util": float(cme.ideal_cycle) / float(cme.ideal_temporal_cycle),
            "temporal_mapping": str(cme.temporal_mapping)}


def run(layers, cfg, energy, work, lpf_limit=6):
    """ZigZag's result (see _result) for each layer of layers (zz_layers' dicts), in order."""
    from zigzag.api import get_hardware_performance_zigzag
    _quiet()
    os.makedirs(work, exist_ok=True)
    arch_path, map_path = os.path.join(work, "arch.yaml"), os.path.join(work, "mapping.yaml")
    _write_yaml(arch_path, zz_arch.architecture(cfg, energy))
    key_of, unique = [], []
    for L in layers:
        key = repr(sorted((k, repr(v)) for k, v in L.items()))
        if key not in [k for k, _ in unique]:
            unique.append((key, L))
        key_of.append(key)
    wl = [zz_layers.workload(i, L) for i, (_, L) in enumerate(unique)]
    mapping = [zz_layers.spatial_mapping(i, L, cfg) for i, (_, L) in enumerate(unique)]
    mapping.append(dict(mapping[0], name="default"))
    _write_yaml(map_path, mapping)
    _write_yaml(os.path.join(work, "workload.yaml"), wl)
    out = get_hardware_performance_zigzag(wl, arch_path, map_path, opt="latency",
                                          dump_folder=os.path.join(work, "zigzag-out"), lpf_limit=lpf_limit,
                                          loma_show_progress_bar=False)
    per_id = {}
    for _, extra in out[2]:
        for cme, _ in extra:
            per_id[cme.layer.id] = _result(cme)
    if len(per_id) != len(unique):
        raise RuntimeError(f"ZigZag returned {len(per_id)} layers for {len(unique)}")
    by_key = {k: per_id[i] for i, (k, _) in enumerate(unique)}
    return [by_key[k] for k in key_of]
