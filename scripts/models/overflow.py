"""overflow.py --golden BIN MODEL...: the accumulator analysis of `mpq-golden model run
--acc-bits N` over the inputs of inputs.py, per model and per convolution or fully-connected
layer: the narrowest accumulator that never overflows on any of the inputs, how many outputs
overflow an N-bit accumulator (wrapping; the order is the golden model's: the bias, then ky,
kx, c), the first overflowing output (input, n, y, x, c and the term where it left the range,
or the bias alone), and the range of the exact final sums.

Each input is one run of the golden model (the inputs are the --count first of inputs.py with
--seed: the extremes, then seeded random ones). Writes a Markdown table per model to --md and
the numbers to --json (atomically); prints the tables. Exit 2 on bad input, 1 when a run fails.
"""
import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import inputs  # noqa: E402
import tfl  # noqa: E402

ROW = re.compile(r'^\s*(\d+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\d+)\s+\[(-?\d+), (-?\d+)\]\s*$')


def run_one(golden, model, infile, bits):
    """The per-layer rows of one run: {op: dict}."""
    p = subprocess.run([golden, 'model', 'run', model, '--input', infile, '--acc-bits', str(bits)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f'{golden} model run {model} --input {infile}: exit {p.returncode}: '
                           f'{p.stderr.strip()}')
    rows = {}
    for line in p.stdout.splitlines():
        m = ROW.match(line)
        if not m:
            continue
        op, typ, outs, over, first, term, bits_, lo, hi = m.groups()
        rows[int(op)] = {'type': typ, 'outputs': int(outs), 'overflowed': int(over),
                         'first': None if first == '-' else [int(v) for v in first.strip('()').split(',')],
                         'term': None if term == '-' else term, 'min_bits': int(bits_),
                         'final_lo': int(lo), 'final_hi': int(hi)}
    if not rows:
        raise RuntimeError(f'{golden} model run {model}: no accumulator table in its output')
    return rows


def model_macs(golden, model):
    p = subprocess.run([golden, 'model', 'info', model], capture_output=True, text=True)
    macs = {}
    for line in p.stdout.splitlines():
        m = re.match(r'^\s*(\d+)\s+(CONV_2D|DEPTHWISE_CONV_2D|FULLY_CONNECTED)\s+\S+\s+\S+\s+(\d+)', line)
        if m:
            macs[int(m.group(1))] = int(m.group(3))
    return macs


def analyse(golden, path, work, seed, count, bits):
    model = tfl.load(path)
    items = inputs.make_inputs(model, seed, count)
    layers = {}
    for k, (kind, raw) in enumerate(items):
        infile = os.path.join(work, f'{k:03d}-{kind}.bin')
        with open(infile, 'wb') as f:
            f.write(raw)
        for op, r in run_one(golden, path, infile, bits).items():
            a = layers.setdefault(op, {'op': op, 'type': r['type'], 'outputs': 0, 'overflowed': 0,
                                       'inputs_overflowing': 0, 'first': None, 'min_bits': 0,
                                       'final_lo': r['final_lo'], 'final_hi': r['final_hi']})
            a['outputs'] += r['outputs']
            a['overflowed'] += r['overflowed']
            a['inputs_overflowing'] += r['overflowed'] > 0
            a['min_bits'] = max(a['min_bits'], r['min_bits'])
            a['final_lo'] = min(a['final_lo'], r['final_lo'])
            a['final_hi'] = max(a['final_hi'], r['final_hi'])
            if a['first'] is None and r['first'] is not None:
                a['first'] = {'input': k, 'kind': kind, 'nyxc': r['first'], 'term': r['term']}
        os.unlink(infile)
    macs = model_macs(golden, path)
    out = []
    for op in sorted(layers):
        a = layers[op]
        a['macs'] = macs.get(op, 0)
        out.append(a)
    return out


def table(name, layers, bits, count, seed):
    lines = [f'**{name}** ({count} inputs, seed {seed}; {bits}-bit wrapping accumulator):', '',
             f'| op | type | MACs | min bits | outputs overflowing at {bits} bits | inputs | first overflow: input, (n,y,x,c), term | final sums |',
             '|---:|---|---:|---:|---:|---:|---|---|']
    short = {'CONV_2D': 'CONV_2D', 'DEPTHWISE_CONV_2D': 'DEPTHWISE', 'FULLY_CONNECTED': 'FC'}
    for a in layers:
        pct = 100.0 * a['overflowed'] / a['outputs'] if a['outputs'] else 0.0
        pct_s = f'{pct:.0f}' if pct >= 10 else f'{pct:.1f}' if pct >= 1 else f'{pct:.2g}'
        over = f'{a["overflowed"]:,} of {a["outputs"]:,} ({pct_s}%)'
        if a['first']:
            f = a['first']
            first = f'{f["input"]} ({f["kind"]}), ({",".join(map(str, f["nyxc"]))}), {f["term"]}'
        else:
            first = '-'
        lines.append(f'| {a["op"]} | {short.get(a["type"], a["type"])} | {a["macs"]:,} | {a["min_bits"]} | '
                     f'{over if a["overflowed"] else "0"} | {a["inputs_overflowing"]} | {first} | '
                     f'[{a["final_lo"]}, {a["final_hi"]}] |')
    return '\n'.join(lines) + '\n'


def parse(argv):
    ap = argparse.ArgumentParser(prog='overflow.py', description=__doc__.split('\n')[0])
    ap.add_argument('models', nargs='+')
    ap.add_argument('--golden', required=True)
    ap.add_argument('--acc-bits', type=int, default=16)
    ap.add_argument('--seed', type=int, default=25)
    ap.add_argument('--count', type=int, default=50)
    ap.add_argument('--json')
    ap.add_argument('--md')
    args = ap.parse_args(argv)
    if not 2 <= args.acc_bits <= 31:
        raise tfl.BadInput(f'--acc-bits {args.acc_bits}: expected 2..31 (narrower than 32)')
    if args.count < 1 or args.seed < 0:
        raise tfl.BadInput('--count must be >= 1 and --seed >= 0')
    tfl.check_tools(args.golden, args.models)
    return args


def main(argv):
    args = parse(argv)
    print(f'overflow.py: {len(args.models)} models, {args.count} inputs each (inputs.py seed '
          f'{args.seed}), {args.acc_bits}-bit accumulators', flush=True)
    work = tfl.scratch_dir('mpq-overflow-')
    doc = {'acc_bits': args.acc_bits, 'seed': args.seed, 'count': args.count, 'models': {}}
    md = []
    try:
        for path in args.models:
            name = os.path.basename(path)
            name = name[:-len('.tflite')] if name.endswith('.tflite') else name
            layers = analyse(args.golden, path, work, args.seed, args.count, args.acc_bits)
            doc['models'][name] = layers
            md.append(table(name, layers, args.acc_bits, args.count, args.seed))
            print(md[-1], flush=True)
    finally:
        for f in os.listdir(work):
            os.unlink(os.path.join(work, f))
        os.rmdir(work)
    if args.json:
        tfl.write_atomic(args.json, (json.dumps(doc, indent=1) + '\n').encode())
    if args.md:
        tfl.write_atomic(args.md, '\n'.join(md).encode())
    return 0


if __name__ == '__main__':
    sys.exit(tfl.main_guard('overflow.py', lambda: main(sys.argv[1:])))
