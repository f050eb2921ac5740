"""bench.py --golden BIN MODEL...: time per inference of the golden model (`mpq-golden model
run`) against LiteRT's optimized int8 kernels (BUILTIN_WITHOUT_DEFAULT_DELEGATES: its builtin
kernels, no XNNPACK) and its reference kernels (BUILTIN_REF), one thread each, side by side in
one run; and the golden model's overflow detection (`--acc-bits N`: every convolution and
fully-connected layer accumulated in N bits, with its overflow report).

The host's speed drifts (other tenants of a shared machine), so every mode of every model is
measured once per round, all interleaved, for --rounds rounds; a measurement is the mean time
of a batch of inferences lasting about --batch-s seconds (batch sizes fixed by a calibration
run before the rounds). The tables give per mode the median over the rounds, and per ratio the
median of the rounds' ratios (each round's modes ran within seconds of each other). The input
is one seeded random input of inputs.py (--seed, index --input-index). Writes --json and --md
(atomically); prints the table. Exit 2 on bad input, 1 when a run fails.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import inputs  # noqa: E402
import tfl  # noqa: E402

MODES = ['litert_opt', 'litert_ref', 'mpq', 'mpq_ovf', 'mpq_sse2', 'mpq_ovf_sse2']
TITLES = {
    'litert_opt': 'LiteRT optimized (ms)',
    'litert_ref': 'LiteRT reference (ms)',
    'mpq': 'mpq (ms)',
    'mpq_ovf': 'mpq overflow detection (ms)',
    'mpq_sse2': 'mpq SSE2 (ms)',
    'mpq_ovf_sse2': 'overflow detection SSE2 (ms)',
}
# Ratios of the tables: (numerator, denominator, title).
RATIOS = [('mpq', 'litert_opt', 'mpq / optimized'), ('mpq', 'litert_ref', 'mpq / reference'),
          ('mpq_ovf', 'litert_opt', 'overflow / optimized'), ('mpq_ovf', 'mpq', 'overflow / mpq'),
          ('mpq_sse2', 'litert_opt', 'SSE2: mpq / optimized'),
          ('mpq_ovf_sse2', 'litert_opt', 'SSE2: overflow / optimized')]


class LiteRT:
    """One model in LiteRT's interpreter, one thread, with the given resolver."""

    def __init__(self, path, resolver, raw):
        from ai_edge_litert import interpreter as lrt
        self.it = lrt.Interpreter(model_path=path, num_threads=1,
                                  experimental_op_resolver_type=getattr(lrt.OpResolverType, resolver))
        self.it.allocate_tensors()
        at = 0
        import numpy as np
        for d in self.it.get_input_details():
            n = int(np.prod(d['shape'])) * np.dtype(d['dtype']).itemsize
            a = np.frombuffer(raw[at:at + n], dtype=np.dtype(d['dtype']).newbyteorder('<'))
            self.it.set_tensor(d['index'], a.reshape(d['shape']).astype(d['dtype']))
            at += n

    def time(self, n):
        invoke = self.it.invoke
        t0 = time.perf_counter()
        for _ in range(n):
            invoke()
        return (time.perf_counter() - t0) / n


class Golden:
    """`mpq-golden model run` on one model and input, N inferences in one process; the time
    per inference is the one the command prints (the mean of its N runs)."""

    PAT = re.compile(r'(\d+) runs, ([0-9.eE+-]+) ms per inference \(mean\), [0-9.]+ ms \(best\), (\w+)')

    def __init__(self, binary, path, infile, extra):
        self.cmd = [binary, 'model', 'run', path, '--input', infile] + extra
        self.simd = None

    def time(self, n):
        p = subprocess.run(self.cmd + ['--repeat', str(n)], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f'{" ".join(self.cmd)}: exit {p.returncode}: {p.stderr.strip()}')
        m = self.PAT.search(p.stdout)
        if not m:
            raise RuntimeError(f'{" ".join(self.cmd)}: no time per inference in its output')
        self.simd = m.group(3)
        return float(m.group(2)) / 1e3


def machine():
    name = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    name = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return {'cpu': name, 'cores': os.cpu_count(), 'load_before': os.getloadavg()[0],
            'date': time.strftime('%Y-%m-%d'), 'python': platform.python_version(),
            'kernel': platform.release()}


def parse(argv):
    ap = argparse.ArgumentParser(prog='bench.py', description=__doc__.split('\n')[0])
    ap.add_argument('models', nargs='+')
    ap.add_argument('--golden', required=True)
    ap.add_argument('--rounds', type=int, default=9)
    ap.add_argument('--batch-s', type=float, default=0.15)
    ap.add_argument('--acc-bits', type=int, default=16)
    ap.add_argument('--seed', type=int, default=25)
    ap.add_argument('--input-index', type=int, default=10)
    ap.add_argument('--json')
    ap.add_argument('--md')
    ap.add_argument('--work')
    ap.add_argument('--modes', default=','.join(MODES))
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.batch_s <= 0:
        raise tfl.BadInput('--rounds must be >= 1 and --batch-s > 0')
    if not 2 <= args.acc_bits <= 32:
        raise tfl.BadInput(f'--acc-bits {args.acc_bits}: expected 2..32')
    args.modes = args.modes.split(',')
    for m in args.modes:
        if m not in MODES:
            raise tfl.BadInput(f'--modes: unknown mode {m!r} (known: {", ".join(MODES)})')
    tfl.check_tools(args.golden, args.models)
    return args


def fmt_ms(s):
    ms = s * 1e3
    return f'{ms:.3f}' if ms >= 0.01 else f'{ms:.4f}'


def table(res, modes):
    """Two Markdown tables: the times (medians), then the ratios (medians of the rounds')."""
    ratios = [r for r in RATIOS if r[0] in modes and r[1] in modes]
    head = ['model', 'MACs'] + [TITLES[m] for m in modes]
    times = ['| ' + ' | '.join(head) + ' |', '|---|' + '---:|' * (len(head) - 1)]
    head = ['model'] + [r[2] for r in ratios]
    rat = ['| ' + ' | '.join(head) + ' |', '|---|' + '---:|' * (len(head) - 1)]
    for r in res:
        row = [r['model'], f'{r["macs"] / 1e6:.2f} M'] + [fmt_ms(r['median_s'][m]) for m in modes]
        times.append('| ' + ' | '.join(row) + ' |')
        row = [r['model']] + [f'{r["ratio"][a + "/" + b]:.2f}' for a, b, _ in ratios]
        rat.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(times) + '\n\n' + '\n'.join(rat) + '\n'


def model_macs(golden, path):
    p = subprocess.run([golden, 'model', 'info', path], capture_output=True, text=True)
    m = re.search(r'total MACs: ([0-9]+)', p.stdout)
    return int(m.group(1)) if m else 0


def main(argv):
    args = parse(argv)
    info = machine()
    print(f'bench.py: {info["cpu"]}, {info["cores"]} cores, load {info["load_before"]:.1f}, '
          f'{info["date"]}; seed {args.seed}, input {args.input_index}, {args.rounds} rounds',
          flush=True)
    work = args.work or tfl.scratch_dir('mpq-bench-')
    os.makedirs(work, exist_ok=True)
    subjects = []
    for path in args.models:
        name = os.path.basename(path)[:-len('.tflite')] if path.endswith('.tflite') else os.path.basename(path)
        model = tfl.load(path)
        kind, raw = inputs.make_inputs(model, args.seed, args.input_index + 1)[args.input_index]
        infile = os.path.join(work, f'{name}.in.bin')
        with open(infile, 'wb') as f:
            f.write(raw)
        runners = {}
        for m in args.modes:
            if m == 'litert_opt':
                runners[m] = LiteRT(path, 'BUILTIN_WITHOUT_DEFAULT_DELEGATES', raw)
            elif m == 'litert_ref':
                runners[m] = LiteRT(path, 'BUILTIN_REF', raw)
            else:
                extra = ['--acc-bits', str(args.acc_bits)] if 'ovf' in m else []
                if m.endswith('sse2'):
                    extra += ['--simd', 'sse2']
                runners[m] = Golden(args.golden, path, infile, extra)
        subjects.append({'model': name, 'path': path, 'input': kind, 'runners': runners,
                         'macs': model_macs(args.golden, path), 'batch': {}, 'times': {m: [] for m in args.modes}})
    # Calibration: a batch of each mode lasts about batch_s.
    for s in subjects:
        for m, r in s['runners'].items():
            n = 2
            while True:
                t = r.time(n)
                if t * n >= args.batch_s / 4 or n >= 100000:
                    break
                n *= 4
            s['batch'][m] = max(2, min(100000, int(args.batch_s / max(t, 1e-7))))
    for rnd in range(args.rounds):
        for s in subjects:
            for m, r in s['runners'].items():
                s['times'][m].append(r.time(s['batch'][m]))
        print(f'bench.py: round {rnd + 1}/{args.rounds} done', flush=True)
    res = []
    for s in subjects:
        t = s['times']
        med = {m: statistics.median(v) for m, v in t.items()}
        ratio = {}
        for a, b, _ in RATIOS:
            if a in t and b in t:
                ratio[f'{a}/{b}'] = statistics.median(x / y for x, y in zip(t[a], t[b]))
        simd = {m: r.simd for m, r in s['runners'].items() if isinstance(r, Golden)}
        res.append({'model': s['model'], 'macs': s['macs'], 'input': s['input'], 'batch': s['batch'],
                    'simd': simd,
                    'median_s': med, 'min_s': {m: min(v) for m, v in t.items()},
                    'max_s': {m: max(v) for m, v in t.items()}, 'ratio': ratio})
    info['load_after'] = os.getloadavg()[0]
    md = (f'{info["cpu"]}, {info["cores"]} cores, load average {info["load_before"]:.1f} before '
          f'and {info["load_after"]:.1f} after, {info["date"]}; {args.rounds} rounds, medians; '
          f'overflow detection: --acc-bits {args.acc_bits}\n\n' + table(res, args.modes))
    print(md, end='')
    doc = {'machine': info, 'rounds': args.rounds, 'batch_s': args.batch_s, 'acc_bits': args.acc_bits,
           'seed': args.seed, 'input_index': args.input_index, 'modes': args.modes,
           'resolvers': {'litert_opt': 'BUILTIN_WITHOUT_DEFAULT_DELEGATES', 'litert_ref': 'BUILTIN_REF'},
           'models': res}
    if args.json:
        tfl.write_atomic(args.json, (json.dumps(doc, indent=1) + '\n').encode())
    if args.md:
        tfl.write_atomic(args.md, md.encode())
    return 0


if __name__ == '__main__':
    sys.exit(tfl.main_guard('bench.py', lambda: main(sys.argv[1:])))
