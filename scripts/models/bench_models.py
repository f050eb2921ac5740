"""bench_models.py --golden MPQ_GOLDEN --config CFG --out JSON [--md MD] [--rtl-dir DIR] MODEL...:
mpq's cycles per inference beside Arm Ethos-U55-128's (Vela), per model and per layer.

For each model: `mpq-golden model map MODEL --config CFG --json` (the accelerator's exact cycles
from the golden cycle model: every CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED on the
accelerator, one source offering a beat every cycle, the output always taken; the operators the
accelerator has no unit for run on the host and are not counted), and Vela's per-layer estimate
for ethos-u55-128 (vela.py: its total includes memory traffic and the NPU ops it makes of
SOFTMAX, ADD, pools, ...). With --rtl-dir, DIR/<model>.json from `mpq-tb net --json` (the same
layers on the Verilated RTL, checked every cycle) gives rtl_passed, the RTL's cycles (which must
equal the cycle model's) and the simulation speed.

Writes JSON (atomically): a list of objects, one per model and configuration, with model,
config, mpq_cycles, vela_u55_128_cycles, vela_mac_layer_cycles, macs, rtl_passed (null without
an RTL run), and layers (per MAC layer: op, type, shape, map, macs, mpq_cycles, mac_util,
vela_cycles, vela_util_pct). --md writes the README's tables.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tfl  # noqa: E402
import vela  # noqa: E402


def mpq_map(golden, model, config):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, 'map.json')
        r = subprocess.run([golden, 'model', 'map', model, '--config', config, '--json', out],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise tfl.BadInput(f'mpq-golden model map {model} --config {config}: exit {r.returncode}: '
                               f'{(r.stderr or r.stdout).strip()[-400:]}')
        with open(out) as f:
            return json.load(f)


def vela_of(model, work):
    out = os.path.join(work, os.path.splitext(os.path.basename(model))[0] + '.vela.json')
    if not os.path.exists(out):
        r = subprocess.run([sys.executable, os.path.join(HERE, 'vela.py'), model, '--out', out],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise tfl.BadInput(f'vela.py {model}: exit {r.returncode}: {r.stderr.strip()[-400:]}')
    with open(out) as f:
        return json.load(f)


def main(argv):
    ap = argparse.ArgumentParser(prog='bench_models.py')
    ap.add_argument('--golden', required=True)
    ap.add_argument('--config', default='int8')
    ap.add_argument('--out', required=True)
    ap.add_argument('--md')
    ap.add_argument('--rtl-dir')
    ap.add_argument('--work', default=None)
    ap.add_argument('models', nargs='+')
    a = ap.parse_args(argv)
    work = a.work or os.path.join(os.path.dirname(os.path.abspath(a.out)), 'bench-models')
    os.makedirs(work, exist_ok=True)
    results = []
    for model in a.models:
        name = os.path.splitext(os.path.basename(model))[0]
        mp = mpq_map(a.golden, model, a.config)
        vl = vela_of(model, work)
        vela_by_op = {}
        for l in vl['layers']:
            vela_by_op.setdefault(l['op_index'], []).append(l)
        layers = []
        for l in mp['layers']:
            vs = vela_by_op.get(l['op'], [])
            vc = sum(v['cycles'] for v in vs)
            vm = sum(v['macs'] for v in vs)
            layers.append({'op': l['op'], 'type': l['type'], 'shape': l['shape'], 'map': l['map'],
                           'macs': l['macs'], 'mpq_cycles': l['cycles'], 'mac_util': l['mac_util'],
                           'data_waits': l['data_waits'], 'out_stalls': l['out_stalls'],
                           'vela_cycles': vc, 'vela_util_pct': (100.0 * vm / (vc * 128) if vc else None)})
        rtl = None
        if a.rtl_dir:
            p = os.path.join(a.rtl_dir, name + '.json')
            if os.path.exists(p):
                with open(p) as f:
                    rtl = json.load(f)
        results.append({
            'model': name, 'config': a.config, 'mpq_cycles': mp['mpq_cycles'],
            'vela_u55_128_cycles': vl['totals']['cycles'],
            'vela_mac_layer_cycles': sum(l['vela_cycles'] for l in layers),
            'macs': mp['macs'], 'rtl_passed': (rtl['passed'] if rtl else None),
            'rtl_cycles': (rtl['mpq_cycles'] if rtl else None),
            'rtl_seconds': (rtl.get('seconds') if rtl else None),
            'rtl_cycles_per_second': (rtl.get('cycles_per_second') if rtl else None),
            'layers': layers})
        print(f'{name}: mpq {mp["mpq_cycles"]:,} cycles on {a.config}, Ethos-U55-128 (Vela) '
              f'{vl["totals"]["cycles"]:,} ({results[-1]["vela_mac_layer_cycles"]:,} in the same layers)'
              + (f', RTL {"passed" if rtl["passed"] else "FAILED"}' if rtl else ''), flush=True)
        if rtl and rtl['passed'] and rtl['mpq_cycles'] != mp['mpq_cycles']:
            raise tfl.BadInput(f'{name}: the RTL took {rtl["mpq_cycles"]} cycles, the cycle model {mp["mpq_cycles"]}')
    tfl.write_atomic(a.out, (json.dumps(results, indent=1) + '\n').encode())
    if a.md:
        lines = ['| model | MACs | mpq cycles (' + a.config + ') | MAC utilization | Ethos-U55-128 cycles (Vela) | '
                 'Vela, the same layers | mpq / Vela |', '|---|---:|---:|---:|---:|---:|---:|']
        for r in results:
            lines.append(f'| {r["model"]} | {r["macs"]:,} | {r["mpq_cycles"]:,} | '
                         f'{r["macs"] / (r["mpq_cycles"] * 128):.3f} | {r["vela_u55_128_cycles"]:,} | '
                         f'{r["vela_mac_layer_cycles"]:,} | {r["mpq_cycles"] / r["vela_u55_128_cycles"]:.2f} |')
        for r in results:
            lines += ['', f'**{r["model"]}**', '',
                      '| op | type | shape | mapping | MACs | mpq cycles | MAC util | Vela cycles | Vela util |',
                      '|---:|---|---|---|---:|---:|---:|---:|---:|']
            for l in r['layers']:
                vu = f'{l["vela_util_pct"] / 100:.3f}' if l['vela_util_pct'] is not None else '-'
                lines.append(f'| {l["op"]} | {l["type"]} | {l["shape"]} | {l["map"]} | {l["macs"]:,} | '
                             f'{l["mpq_cycles"]:,} | {l["mac_util"]:.3f} | {l["vela_cycles"]:,} | {vu} |')
        tfl.write_atomic(a.md, ('\n'.join(lines) + '\n').encode())
    return 0


if __name__ == '__main__':
    sys.exit(tfl.main_guard('bench_models.py', lambda: main(sys.argv[1:])))
