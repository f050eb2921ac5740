"""check_golden.py --golden MPQ_GOLDEN --work DIR [--count N] [--seed S] [--suite-seeds K] MODEL...:
the golden model (`mpq-golden model run`) against both references on every tensor of every op.

For every model: N inputs (inputs.py: the extremes first, then seeded random ones), run by
TensorFlow Lite Micro and by LiteRT's reference kernels (ref.py, one child process each for all
models) and by the golden model twice, with `--fc-rounding double` (TensorFlow Lite Micro's
requantization of FULLY_CONNECTED) and `--fc-rounding single` (LiteRT's). Every op output must
equal, bit for bit: double against TensorFlow Lite Micro, single against LiteRT. A mismatch is
reported with the op index and type, the tensor, the element (n,y,x,c), the values of mpq and
of both references and the accumulators before requantization (compare.py), and fails the test.
Where the two references disagree with each other is counted per op type and printed: the
README's table. With --suite-seeds K, mkmodel.py's suite is also built for seeds 1..K (every
supported op and option, random weights) and checked the same way.

Exit 0 when everything agrees, 1 on a mismatch or a reference crash, 2 on bad input.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402
import inputs  # noqa: E402
import mkmodel  # noqa: E402
import ref  # noqa: E402
import tfl  # noqa: E402


def golden_run(golden, model, inp, dump, rounding):
    r = subprocess.run([golden, 'model', 'run', model, '--input', inp, '--dump', dump,
                        '--fc-rounding', rounding], capture_output=True, text=True)
    if r.returncode != 0:
        raise tfl.BadInput(f'mpq-golden model run {model} --input {inp}: exit {r.returncode}: '
                           f'{r.stderr.strip()[-300:]}')


def check_models(golden, paths, count, seed, work, out):
    """Runs everything for `paths`; returns (failures, {op type: [elements, differing]}) where
    failures is a list of report lines."""
    jobs = {}
    for p in paths:
        m = tfl.load(p)
        name = os.path.splitext(os.path.basename(p))[0]
        d = os.path.join(work, name)
        os.makedirs(os.path.join(d, 'in'), exist_ok=True)
        js = []
        for k, (kind, data) in enumerate(inputs.make_inputs(m, seed, count)):
            f = os.path.join(d, 'in', f'{k:03d}-{kind}.bin')
            with open(f, 'wb') as fh:
                fh.write(data)
            js.append({'input': f, 'k': k, 'kind': kind})
        jobs[p] = (m, name, d, js)
    for r in ('tflm', 'litert'):
        ref.run_reference_models(r, [(p, [{'input': j['input'], 'dump': os.path.join(d, r, f'{j["k"]:03d}')}
                                           for j in js]) for p, (m, name, d, js) in jobs.items()])
    failures, census = [], {}
    for p, (m, name, d, js) in jobs.items():
        bad = 0
        for j in js:
            k = f'{j["k"]:03d}'
            dirs = {r: os.path.join(d, r, k) for r in ('tflm', 'litert')}
            for mode in ('double', 'single'):
                dirs['mpq-' + mode] = os.path.join(d, 'mpq-' + mode, k)
                golden_run(golden, p, j['input'], dirs['mpq-' + mode], mode)
            for mode, refname in (('double', 'tflm'), ('single', 'litert')):
                res = compare.compare(m, {'mpq': dirs['mpq-' + mode], refname: dirs[refname],
                                          ('litert' if refname == 'tflm' else 'tflm'):
                                          dirs['litert' if refname == 'tflm' else 'tflm']})
                diff = [r for r in res if r.pairs.get(('mpq', refname), 0)]
                if diff:
                    bad += 1
                    failures.append(f'{name} input {k} ({j["kind"]}), --fc-rounding {mode} against '
                                    f'{ref.REFS[refname]}:')
                    failures += ['  ' + line for line in compare.report(diff, ['mpq', refname,
                                 'litert' if refname == 'tflm' else 'tflm'])[:12]]
            for r in compare.compare(m, {'tflm': dirs['tflm'], 'litert': dirs['litert']}):
                c = census.setdefault(r.op.name, [0, 0, set()])
                c[0] += max(r.tensor.nbytes // r.tensor.dtype.itemsize, 1)
                c[1] += r.differ
                if r.differ:
                    c[2].add(name)
            for sub in ('mpq-double', 'mpq-single', 'tflm', 'litert'):
                shutil.rmtree(os.path.join(d, sub, k), ignore_errors=True)
        print(f'{"ok  " if not bad else "FAIL"} {name}: {len(js)} inputs, every op output '
              f'{"equal" if not bad else f"differs on {bad} runs"} (double = TensorFlow Lite Micro, '
              f'single = LiteRT reference)', file=out, flush=True)
    return failures, census


def main(argv):
    ap = argparse.ArgumentParser(prog='check_golden.py')
    ap.add_argument('--golden', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--count', type=int, default=50)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--suite-seeds', type=int, default=0)
    ap.add_argument('models', nargs='*')
    a = ap.parse_args(argv)
    if a.count < 1:
        raise tfl.BadInput(f'--count {a.count}: must be at least 1')
    if not os.access(a.golden, os.X_OK):
        raise tfl.BadInput(f'--golden {a.golden}: not an executable')
    paths = [p for p in a.models if not p.endswith('.float32.tflite')]
    if not paths and not a.suite_seeds:
        raise tfl.BadInput('no model given')
    start = time.time()
    print(f'check_golden: {len(paths)} models, {a.count} inputs each, seed {a.seed}', flush=True)
    scratch = tfl.scratch_dir('mpq-check-golden.')
    failures, census = [], {}
    try:
        if paths:
            f, c = check_models(a.golden, paths, a.count, a.seed, os.path.join(scratch, 'm'), sys.stdout)
            failures += f
            for k, v in c.items():
                t = census.setdefault(k, [0, 0, set()])
                t[0] += v[0]; t[1] += v[1]; t[2] |= v[2]
        for s in range(1, a.suite_seeds + 1):
            sdir = os.path.join(scratch, f'suite-{s}')
            os.makedirs(sdir, exist_ok=True)
            models = []
            for name, args in mkmodel.SUITE:
                _, q = mkmodel.build_one(args.split() + ['--seed', str(s)])
                p = os.path.join(sdir, f'{name}-s{s}.tflite')
                with open(p, 'wb') as fh:
                    fh.write(q)
                models.append(p)
            print(f'check_golden: mkmodel suite, seed {s}: {len(models)} models, 4 inputs each', flush=True)
            f, c = check_models(a.golden, models, 4, a.seed, os.path.join(scratch, f's{s}'), sys.stdout)
            failures += f
            for k, v in c.items():
                t = census.setdefault(k, [0, 0, set()])
                t[0] += v[0]; t[1] += v[1]; t[2] |= v[2]
    except ref.RefCrash as e:
        print(f'check_golden: {e}')
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print('where the two references disagree (TensorFlow Lite Micro against LiteRT reference), per op type:')
    for op in sorted(census):
        el, d, ms = census[op]
        print(f'  {op:20s} {el:>12,} elements compared, {d:>6,} differ' + (f' (in {", ".join(sorted(ms))})' if d else ''))
    for line in failures:
        print(line)
    print(f'check_golden: {"FAILED" if failures else "passed"} in {time.time() - start:.0f} s')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(tfl.main_guard('check_golden.py', lambda: main(sys.argv[1:])))
