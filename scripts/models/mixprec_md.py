"""mixprec_md.py --out MD --seed S OUT/<model>.json...: the tables of make models-mixprec
(mpq-golden model mixprec's JSON, one file per model; OUT/rtl.tsv from mixprec-rtl.sh when it
exists beside them) as markdown, written atomically.
mixprec_md.py --cycles MODEL.json SPEC CONFIG: prints the golden cycles of point SPEC on CONFIG
('-' when the configuration cannot hold it). Exit 2 on bad input."""
import argparse
import json
import os
import platform
import subprocess
import sys
import time


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f'mixprec_md.py: {path}: {e}')


def cycles(doc, spec, cfg):
    for p in doc['points']:
        if p['spec'] == spec:
            for c in p['configs']:
                if c['config'] == cfg:
                    return str(c['mpq_cycles']) if c['held'] else '-'
    return '-'


def model_table(doc):
    name = os.path.basename(doc['model']).replace('.tflite', '')
    cfgs = [c['config'] for c in doc['points'][0]['configs']]
    top = 'top-1 agreement' if doc['classifier'] else 'top-1 (no classifier)'
    out = [f'### {name}', '',
           f'| decomposition | density | hp share | weight error | {top} | SQNR dB | '
           + ' | '.join(f'cycles {c}' for c in cfgs) + ' |',
           '|---|---|---|---|---|---|' + '---|' * len(cfgs)]
    for p in doc['points']:
        q = p['sqnr_db']
        q = 'inf' if q == 'inf' else f'{q:.1f}'
        t = f"{p['top1_agree']}/{p['inputs']}" if doc['classifier'] else 'n/a'
        cells = []
        for c in p['configs']:
            cells.append((str(c['mpq_cycles']) + ('' if c['output_equals_ref'] else '*')) if c['held'] else '-')
        out.append(f"| {p['decomposition']} | {p['density']} | {p['hp_share']:.4f} | "
                   f"{p['weight_rel_l2']:.3f} | {t} | {q} | " + ' | '.join(cells) + ' |')
    return out + ['']


def summary_table(docs):
    """Per model and ternary configuration, the held decomposed point with the best SQNR."""
    out = ['| model | int8 model: cycles on int8 | config | best point it holds (by SQNR) | hp share | '
           'top-1 | SQNR dB | cycles |', '|---|---|---|---|---|---|---|---|']
    for d in docs:
        name = os.path.basename(d['model']).replace('.tflite', '')
        base = cycles(d, 'int8', 'int8')
        for cfg in [c['config'] for c in d['points'][0]['configs'] if c['config'] != 'int8']:
            held = [(p, c) for p in d['points'] if p['spec'] != 'int8'
                    for c in p['configs'] if c['config'] == cfg and c['held']]
            if not held:
                out.append(f'| {name} | {base} | {cfg} | none | | | | |')
                continue
            p, c = max(held, key=lambda pc: float('inf') if pc[0]['sqnr_db'] == 'inf' else pc[0]['sqnr_db'])
            t = f"{p['top1_agree']}/{p['inputs']}" if d['classifier'] else 'n/a'
            star = '' if c['output_equals_ref'] else '*'
            out.append(f"| {name} | {base} | {cfg} | {p['decomposition']} ({p['density']}) | {p['hp_share']:.4f} | "
                       f"{t} | {p['sqnr_db']:.1f} | {c['mpq_cycles']}{star} |")
    return out + ['']


def rtl_table(path):
    with open(path) as f:
        rows = [line.rstrip('\n').split('\t') for line in f][1:]
    out = ['### On the RTL (mpq-tb net --decomp, every port compared every cycle)', '',
           '| model | config | decomposition | golden cycle model | RTL | result |', '|---|---|---|---|---|---|']
    out += [f'| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} |' for r in rows if len(r) == 6]
    return out + ['']


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out')
    ap.add_argument('--seed')
    ap.add_argument('--cycles', nargs=3, metavar=('JSON', 'SPEC', 'CONFIG'))
    ap.add_argument('json', nargs='*')
    a = ap.parse_args()
    if a.cycles:
        print(cycles(load(a.cycles[0]), a.cycles[1], a.cycles[2]))
        return
    if not a.out or not a.json:
        ap.print_usage(sys.stderr)
        sys.exit(2)
    docs = [load(p) for p in a.json]
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    try:
        rev = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()
    except OSError:
        rev = '?'
    when = min(os.path.getmtime(p) for p in a.json)
    lines = [f'Measured {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(when))} on {cpu}, '
             f'{os.cpu_count()} CPUs, commit {rev}; inputs: scripts/models/inputs.py seed {a.seed}, '
             f'{docs[0]["inputs"]} random/normal inputs per model.', '']
    lines += ['#### Summary', ''] + summary_table(docs)
    for d in docs:
        lines += model_table(d)
    rtl = os.path.join(os.path.dirname(a.json[0]), 'rtl.tsv')
    if os.path.exists(rtl):
        lines += rtl_table(rtl)
    tmp = a.out + '.tmp'
    with open(tmp, 'w') as f:
        f.write('\n'.join(lines))
    os.replace(tmp, a.out)
    print(f'mixprec_md.py: wrote {a.out}')


if __name__ == '__main__':
    main()
