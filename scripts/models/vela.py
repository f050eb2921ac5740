"""vela.py MODEL --out JSON [--accelerator ethos-u55-128] [--vela-dir DIR]: Arm's Vela compiler
(ethos-u-vela, scripts/models/venv.sh) on MODEL for an Ethos-U NPU, its per-layer CSV and
summary CSV turned into one JSON object:

  model, accelerator, vela_version, system_config, memory_mode, clock_hz,
  layers: [{original_op, op, target (NPU or CPU), name, op_index (the MODEL operator the
            layer comes from, see op_of_layer; null if none), cycles (Op Cycles), npu_cycles,
            sram_access_cycles, dram_access_cycles, on_chip_flash_access_cycles,
            off_chip_flash_access_cycles, macs, util_pct (MAC utilization, %)}],
  totals: {cycles (cycles_total: NPU and memory access overlapped, Vela's estimate of one
           inference), npu_cycles, sram_access_cycles, off_chip_flash_access_cycles, macs,
           layer_cycles_sum (the per-layer Op Cycles added up), npu_ops, cpu_ops,
           sram_used_kib, off_chip_flash_used_kib, inferences_per_second}

Vela's estimate counts memory traffic (SRAM and flash access cycles), not only compute.
Exit 1 if Vela fails, 2 on bad input.
"""
import argparse
import csv
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfl  # noqa: E402

ACCELERATORS = ['ethos-u55-32', 'ethos-u55-64', 'ethos-u55-128', 'ethos-u55-256',
                'ethos-u65-256', 'ethos-u65-512', 'ethos-u85-128', 'ethos-u85-256',
                'ethos-u85-512', 'ethos-u85-1024', 'ethos-u85-2048']
LAYER_FIELDS = [  # JSON name, CSV column, type
    ('original_op', 'Original Operator', str), ('op', 'NNG Operator', str), ('target', 'Target', str),
    ('cycles', 'Op Cycles', int), ('npu_cycles', 'NPU', int), ('sram_access_cycles', 'SRAM AC', int),
    ('dram_access_cycles', 'DRAM AC', int), ('on_chip_flash_access_cycles', 'OnFlash AC', int),
    ('off_chip_flash_access_cycles', 'OffFlash AC', int), ('macs', 'MAC Count', int),
    ('util_pct', 'Util% (MAC)', float), ('name', 'Name', str),
]


def norm_op(name):
    """An op name in a form both Vela's and TFLite's spellings reduce to (AvgPool and
    AVERAGE_POOL_2D: avgpool)."""
    n = name.lower().replace('_', '').replace('average', 'avg')
    return n[:-2] if n.endswith('2d') and 'conv' not in n else n


def op_of_layer(model, by_name, layer):
    """The MODEL operator a Vela layer comes from: the one whose output tensor has the layer's
    name; else (Vela splits SOFTMAX into a dozen NPU ops named <input tensor>_softmax_<k>) the
    op of the layer's original type one of whose tensors names the start of the layer's name."""
    if layer['name'] in by_name:
        return by_name[layer['name']]
    kind = norm_op(layer['original_op'])
    best = None
    for op in model.ops:
        if norm_op(op.name) != kind:
            continue
        for i in op.inputs + op.outputs:
            n = model.tensors[i].name if i >= 0 else ''
            if n and layer['name'].startswith(n + '_') and (best is None or len(n) > best[0]):
                best = (len(n), op.index)
    return best[1] if best else None


def vela_bin():
    exe = os.path.join(os.path.dirname(sys.executable), 'vela')
    return exe if os.path.exists(exe) else shutil.which('vela') or 'vela'


def number(text, kind, where):
    try:
        return kind(float(text)) if kind is int else kind(text)
    except ValueError:
        raise RuntimeError(f'{where}: "{text}" is not a number') from None


def parse(model, out_dir, accelerator, stdout):
    stem = os.path.basename(model.path)[:-len('.tflite')]
    per_layer = os.path.join(out_dir, f'{stem}_per-layer.csv')
    summaries = glob.glob(os.path.join(out_dir, f'{stem}_summary_*.csv'))
    if not os.path.exists(per_layer) or len(summaries) != 1:
        raise RuntimeError(f'Vela wrote no {stem}_per-layer.csv or summary CSV in {out_dir}')
    by_name = {}
    for op in model.ops:
        for i in op.outputs:
            by_name.setdefault(model.tensors[i].name, op.index)
    layers = []
    with open(per_layer, newline='') as f:
        for row in csv.DictReader(f):
            layer = {}
            for key, col, kind in LAYER_FIELDS:
                if col not in row:
                    raise RuntimeError(f'{per_layer}: no column "{col}"')
                layer[key] = number(row[col], kind, f'{per_layer} {col}') if kind is not str else row[col]
            layer['op_index'] = op_of_layer(model, by_name, layer)
            layers.append(layer)
    with open(summaries[0], newline='') as f:
        rows = list(csv.DictReader(f))
    if len(rows) != 1:
        raise RuntimeError(f'{summaries[0]}: {len(rows)} rows, one expected')
    s = rows[0]

    def get(col, kind=float):
        if col not in s:
            raise RuntimeError(f'{summaries[0]}: no column "{col}"')
        return number(s[col], kind, f'{summaries[0]} {col}')
    ops = re.search(r'CPU operators = (\d+).*?NPU operators = (\d+)', stdout, re.S)
    return {
        'model': stem, 'accelerator': accelerator, 'vela_version': vela_version(),
        'system_config': s.get('system_config'), 'memory_mode': s.get('memory_mode'),
        'clock_hz': get('core_clock'),
        'layers': layers,
        'totals': {
            'cycles': get('cycles_total', int), 'npu_cycles': get('cycles_npu', int),
            'sram_access_cycles': get('cycles_sram_access', int),
            'off_chip_flash_access_cycles': get('cycles_off_chip_flash_access', int),
            'macs': get('nn_macs', int),
            'layer_cycles_sum': sum(l['cycles'] for l in layers),
            'cpu_ops': int(ops.group(1)) if ops else None,
            'npu_ops': int(ops.group(2)) if ops else None,
            'sram_used_kib': get('sram_memory_used'),
            'off_chip_flash_used_kib': get('off_chip_flash_memory_used'),
            'inferences_per_second': get('inferences_per_second'),
        },
    }


def vela_version():
    from importlib import metadata
    try:
        return metadata.version('ethos-u-vela')
    except metadata.PackageNotFoundError:
        return None


def run(model_path, accelerator='ethos-u55-128', keep_dir=None):
    """Vela's figures for one model as the dict described above (RuntimeError if Vela fails)."""
    model = tfl.load(model_path)
    out_dir = keep_dir or tempfile.mkdtemp(prefix='vela.')
    try:
        p = subprocess.run([vela_bin(), '--accelerator-config', accelerator, '--verbose-performance',
                            '--output-dir', out_dir, model_path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            raise RuntimeError(f'vela exited {p.returncode} on {model_path}:\n{p.stdout[-3000:]}')
        return parse(model, out_dir, accelerator, p.stdout)
    finally:
        if not keep_dir:
            shutil.rmtree(out_dir, ignore_errors=True)


def main():
    import json
    ap = argparse.ArgumentParser(prog='vela.py', description=__doc__.split('\n')[0])
    ap.add_argument('model')
    ap.add_argument('--out', required=True)
    ap.add_argument('--accelerator', default='ethos-u55-128', choices=ACCELERATORS)
    ap.add_argument('--vela-dir', help="keep Vela's own output (CSV files, compiled model) here")
    try:
        args = ap.parse_args()
    except SystemExit as e:
        return e.code
    try:
        res = run(args.model, args.accelerator, args.vela_dir)
    except RuntimeError as e:
        print(f'vela.py: {e}', file=sys.stderr)
        return 1
    tfl.write_atomic(args.out, (json.dumps(res, indent=1) + '\n').encode())
    t = res['totals']
    print(f'vela.py: {res["model"]} on {args.accelerator}: {t["cycles"]:,} cycles, {t["macs"]:,} MACs, '
          f'{t["npu_ops"]} NPU ops, {t["cpu_ops"]} CPU ops')
    return 0


if __name__ == '__main__':
    sys.exit(tfl.main_guard('vela.py', main))
