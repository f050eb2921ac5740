"""refs_agree.py [MODEL...] --count N --seed S [--work DIR] [--md FILE] [--json FILE]
[--expect-only OPS]: the disagreement census of the two references. Every model (default:
every .tflite of build/models) runs through LiteRT's reference kernels and TensorFlow Lite
Micro on N inputs (inputs.py's sequence: extremes, then seeded random), every tensor dumped,
and every op output compared. Per op type it counts the elements where the two differ, split
into those of ops whose inputs were still identical (the op itself disagrees: `own`) and those
downstream of an earlier difference (`inherited`), and the inferences whose model output
differs.

--expect-only FULLY_CONNECTED,...: exit 1 if an op type outside the list disagrees on
identical inputs, or if a reference crashes (the check of `make models/refs`). Exit 2 on bad
input.
"""
import argparse
import glob
import json
import os
import shutil
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402
import inputs as inputs_mod  # noqa: E402
import ref  # noqa: E402
import tfl  # noqa: E402

REFS = ('litert', 'tflm')


class Prepared:
    """One model of the census: its inputs written, its jobs for the references."""

    def __init__(self, path, count, seed, work):
        self.path = path
        self.model = tfl.load(path)
        self.name = os.path.basename(path)[:-len('.tflite')]
        self.base = os.path.join(work, self.name)
        self.in_dir = os.path.join(self.base, 'inputs')
        self.stems = []
        with tfl.AtomicDir(self.in_dir) as d:
            for k, (kind, raw) in enumerate(inputs_mod.make_inputs(self.model, seed, count)):
                self.stems.append(f'{k:03d}-{kind}')
                d.write(self.stems[-1] + '.bin', raw)
        per_inference = sum(self.model.tensors[i].nbytes for i in ref.dump_indices(self.model, False))
        self.dump_bytes = 2 * count * per_inference

    def jobs(self, r):
        return [{'input': os.path.join(self.in_dir, s + '.bin'), 'dump': os.path.join(self.base, r, s)}
                for s in self.stems]


def tally(p, crash):
    """The counts of one model whose dumps are written: {'model', 'ops': {type: {...}}, ...}."""
    model = p.model
    res = {'model': p.name, 'inputs': len(p.stems), 'ops': {}, 'outputs_differ': 0, 'crash': crash,
           'op_instances': {}}
    for op in model.ops:
        res['op_instances'][op.name] = res['op_instances'].get(op.name, 0) + 1
    if crash:
        return res
    outs = set(model.outputs)
    for stem in p.stems:
        results = compare.compare(model, {r: os.path.join(p.base, r, stem) for r in REFS})
        out_bad = False
        for r in results:
            s = res['ops'].setdefault(r.op.name, {'elements': 0, 'own': 0, 'inherited': 0,
                                                  'own_ops': set(), 'max_abs': 0})
            s['elements'] += max(r.tensor.nbytes // r.tensor.dtype.itemsize, 1)
            if r.differ:
                if r.inputs_differ:
                    s['inherited'] += r.differ
                else:
                    s['own'] += r.differ
                    s['own_ops'].add(r.op.index)
                a = tfl.read_raw(os.path.join(p.base, 'litert', stem, f'{r.tensor.index}.bin'), r.tensor)
                b = tfl.read_raw(os.path.join(p.base, 'tflm', stem, f'{r.tensor.index}.bin'), r.tensor)
                s['max_abs'] = max(s['max_abs'], float(abs(a.astype(float) - b.astype(float)).max()))
                out_bad |= r.tensor.index in outs
        res['outputs_differ'] += out_bad
    for s in res['ops'].values():
        s['own_ops'] = sorted(s['own_ops'])
    return res


def census(paths, count, seed, work, keep=False, budget=256 << 20):
    """Counts for every model, in chunks of models whose dumps fit `budget` bytes together."""
    results, chunk, size = [], [], 0

    def flush():
        if not chunk:
            return
        t0 = time.time()
        errs, threads = {}, []

        def one(r):
            try:
                ref.run_reference_models(r, [(p.path, p.jobs(r)) for p in chunk])
            except ref.RefCrash:
                for p in chunk:  # find the model(s) that crash
                    try:
                        ref.run_reference(r, p.path, p.jobs(r))
                    except ref.RefCrash as e:
                        errs[p.path] = (errs.get(p.path, '') + f'{r}: {e} ').strip()
        for r in REFS:  # in parallel: one child process per reference, every model of the chunk
            threads.append(threading.Thread(target=one, args=(r,)))
            threads[-1].start()
        for t in threads:
            t.join()
        t1 = time.time()
        for p in chunk:
            res = tally(p, errs.get(p.path))
            results.append(res)
            own = {op: s['own'] for op, s in res['ops'].items() if s['own']}
            print(f'{res["model"]}: ' + (f'CRASH {res["crash"]}' if res['crash'] else
                  f'own differences {own or "none"}, outputs differ in {res["outputs_differ"]} of {count}'),
                  flush=True)
            if not keep:
                shutil.rmtree(p.base, ignore_errors=True)
        print(f'refs_agree.py: {len(chunk)} models: references {t1 - t0:.1f} s, comparison '
              f'{time.time() - t1:.1f} s', flush=True)
        chunk.clear()

    for path in paths:
        p = Prepared(path, count, seed, work)
        if chunk and size + p.dump_bytes > budget:
            flush()
            size = 0
        chunk.append(p)
        size += p.dump_bytes
    flush()
    return results


def markdown(results, seed, count, seconds):
    lines = [f'Census: {count} inputs per model (seed {seed}), {len(results)} models, '
             f'{seconds:.0f} s.', '',
             '| model | op type | ops | elements compared | differ, own | differ, inherited | max abs diff | ops that differ on identical inputs |',
             '|---|---|---|---|---|---|---|---|']
    for r in results:
        if r['crash']:
            lines.append(f'| {r["model"]} | (crash) | | | | | | {r["crash"]} |')
            continue
        for op, s in sorted(r['ops'].items()):
            if s['own'] or s['inherited']:
                lines.append(f'| {r["model"]} | {op} | {r["op_instances"][op]} | {s["elements"]:,} | '
                             f'{s["own"]:,} | {s["inherited"]:,} | {s["max_abs"]:g} | '
                             f'{" ".join(map(str, s["own_ops"]))} |')
        if not any(s['own'] or s['inherited'] for s in r['ops'].values()):
            lines.append(f'| {r["model"]} | (all agree) | {sum(r["op_instances"].values())} | '
                         f'{sum(s["elements"] for s in r["ops"].values()):,} | 0 | 0 | 0 | |')
    tot = {}
    for r in results:
        for op, s in r['ops'].items():
            t = tot.setdefault(op, [0, 0, 0])
            t[0] += s['elements']
            t[1] += s['own']
            t[2] += s['inherited']
    lines += ['', '| op type (all models) | elements compared | differ, own | differ, inherited |',
              '|---|---|---|---|']
    for op, (e, o, i) in sorted(tot.items()):
        lines.append(f'| {op} | {e:,} | {o:,} | {i:,} |')
    outs = sum(r['outputs_differ'] for r in results if not r['crash'])
    lines += ['', f'Inferences whose model output differs: {outs} of '
              f'{sum(r["inputs"] for r in results if not r["crash"])}.']
    return '\n'.join(lines) + '\n'


def main():
    ap = argparse.ArgumentParser(prog='refs_agree.py', description=__doc__.split('\n')[0])
    ap.add_argument('models', nargs='*')
    ap.add_argument('--count', type=int, default=50)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--work', help='scratch folder, kept (default: a temporary one in /dev/shm, removed)')
    ap.add_argument('--md')
    ap.add_argument('--json')
    ap.add_argument('--expect-only', help='op types allowed to disagree on identical inputs')
    try:
        args = ap.parse_args()
    except SystemExit as e:
        return e.code
    models = args.models or sorted(glob.glob('build/models/*.tflite'))
    if not models:
        raise tfl.BadInput('no model given and none in build/models (make models-fetch)')
    if args.count < 1:
        raise tfl.BadInput(f'--count {args.count}: must be at least 1')
    for m in models:
        tfl.load(m)  # bad models are refused before anything runs
    print(f'refs_agree.py: seed {args.seed}, {args.count} inputs per model, {len(models)} models')
    work = args.work or tfl.scratch_dir('mpq-refs-agree.')
    start = time.time()
    try:
        results = census(models, args.count, args.seed, work, keep=bool(args.work))
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    md = markdown(results, args.seed, args.count, time.time() - start)
    if args.md:
        tfl.write_atomic(args.md, md.encode())
    if args.json:
        tfl.write_atomic(args.json, (json.dumps(results, indent=1) + '\n').encode())
    print(md, end='')
    if args.expect_only is not None:
        allowed = set(x for x in args.expect_only.split(',') if x)
        bad = [f'{r["model"]}: {r["crash"]}' for r in results if r['crash']]
        bad += [f'{r["model"]}: {op} differs on identical inputs in ops {s["own_ops"]} ({s["own"]} elements)'
                for r in results for op, s in r['ops'].items() if s['own'] and op not in allowed]
        for b in bad:
            print(f'refs_agree.py: unexpected: {b}')
        if bad:
            return 1
        print(f'refs_agree.py: the references disagree only in {", ".join(sorted(allowed)) or "nothing"}, as expected')
    return 0


if __name__ == '__main__':
    sys.exit(tfl.main_guard('refs_agree.py', main))
