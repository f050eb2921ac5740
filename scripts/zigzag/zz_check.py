#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""zz_check.py --golden BIN --energy energy.tsv --work DIR CONFIG...: the architecture
description of each CONFIG, written as make explore-peers writes it and parsed back by
ZigZag's own parser, against the configuration (rtl/cfg/CONFIG.cfg through mpq-golden cfg):
the MAC count, the accumulators, the weight buffer's and the ring's capacity and widths, and
the per-access energies against the table (where it has the configuration).
--against OTHER: check against OTHER's values instead (a planted mismatch, for the test).
Exit 0 all equal, 1 a mismatch (each printed), 2 bad input."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zz_arch  # noqa: E402
import zz_run  # noqa: E402


def mismatches(cfg, energy, acc):
    """What ZigZag's parsed accelerator acc holds that the configuration does not say."""
    lanes, kl = cfg["Lanes"], cfg["KLanes"]
    lv = {ml.name: ml for ml in acc.memory_hierarchy.mem_level_list}
    want = [("MACs", acc.operational_array.total_unit_count, lanes * kl),
            ("accumulators", lv["acc"].unroll_count, lanes),
            ("accumulator bits", lv["acc"].memory_instance.size, cfg["AccBits"]),
            ("weight buffer int8 weights per lane", lv["wbuf"].memory_instance.size // (8 * lanes), cfg["KMax"]),
            ("ring slices", lv["ring"].memory_instance.size // (kl * cfg["ActBits"]), cfg["ActDepth"]),
            ("weight buffers", lv["wbuf"].unroll_count, 1), ("rings", lv["ring"].unroll_count, 1)]
    if energy:
        want += [("wbuf read pJ", lv["wbuf"].read_energy, energy["wbuf_read"]),
                 ("wbuf write pJ", lv["wbuf"].write_energy, energy["wgt_beat"]),
                 ("ring read pJ", lv["ring"].read_energy, energy["ring_read"]),
                 ("ring write pJ", lv["ring"].write_energy, energy["act_beat"]),
                 ("output beat pJ", lv["host"].write_energy, energy["requant"] * lanes),
                 ("MAC pJ", acc.operational_array.unit.energy_cost, energy["mac_hp"])]
    return [f"{what}: ZigZag has {got}, the configuration {exp}" for what, got, exp in want
            if abs(got - exp) > 1e-9 * max(1, abs(exp))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--golden", required=True)
    ap.add_argument("--energy")
    ap.add_argument("--work", required=True)
    ap.add_argument("--against")
    ap.add_argument("config", nargs="+")
    a = ap.parse_args()
    from zigzag.stages.parser.accelerator_parser import AcceleratorParserStage
    bad = 0
    for name in a.config:
        try:
            cfg = zz_arch.load_config(a.golden, name)
            if a.against:
                zz_arch.load_config(a.golden, a.against, "--against")
            energy = zz_arch.load_energy(a.energy, name) if a.energy else None
        except zz_arch.BadInput as e:
            if a.energy and "no table for config" in str(e):
                energy = None
            else:
                print(f"zz_check.py: {e}", file=sys.stderr)
                sys.exit(2)
        path = os.path.join(a.work, f"arch-{name}.yaml")
        os.makedirs(a.work, exist_ok=True)
        zz_run._write_yaml(path, zz_arch.architecture(cfg, energy))
        ref = zz_arch.load_config(a.golden, a.against) if a.against else cfg
        errs = mismatches(ref, energy, AcceleratorParserStage.parse_accelerator(path))
        for e in errs:
            print(f"{name}: {e}")
        d = zz_arch.described(zz_arch.architecture(cfg, energy))
        print(f"{name}: ZigZag parses {d['macs']} MACs ({d['lanes']} x {d['klanes']}), {d['lanes']} accumulators of "
              f"{d['acc_bits']} bits, a weight buffer of {d['wbuf_weights_per_lane']} weights per lane, a ring of "
              f"{d['ring_slices']} slices{', energies of the table' if energy else ''}: "
              f"{'MISMATCH' if errs else 'equal to the configuration'}")
        bad += len(errs)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
