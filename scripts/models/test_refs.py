"""test_refs.py WORK: the test `make models/refs` runs (with the venv's python, after fetch.sh):

  manifest   the fetched models are the 22 of the pinned wheel, each file's sha256 as listed
  inputs     inputs.py: same seed, same bytes; another seed, other bytes; the extremes' values
  mkmodel    the suite (every op and option) builds, twice the same bytes, fully int8, each
             model has the op, options and weight quantization its name asks for
  refs       every fetched and every suite model runs in LiteRT (BUILTIN_REF) and TensorFlow
             Lite Micro on the first inputs of inputs.py's sequence, and the two differ only in
             FULLY_CONNECTED (the known rounding difference) when an op's inputs are identical
  tools      ref.py refuses a wrong-sized input (exit 2, nothing written) and reports a crash
             (exit 3, SIGABRT, the step); compare.py finds a flipped byte (exit 1, op, tensor,
             element, values) and refuses a missing dump (exit 2)
  vela       vela.py's totals for keyword_spotting on Ethos-U55-128: 89,820 cycles, 2,664,792 MACs

Prints one line per check and exits 1 if one fails.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402
import inputs as inputs_mod  # noqa: E402
import mkmodel  # noqa: E402
import refs_agree  # noqa: E402
import tfl  # noqa: E402

MODELS = 'build/models'
MLPERF = ['visual_wake_words', 'image_classification', 'keyword_spotting', 'anomaly_detection',
          'tflite_micro_speech']
FAILED = []


def check(name, ok, detail=''):
    print(f'{"ok  " if ok else "FAIL"} {name}{": " + detail if detail else ""}', flush=True)
    if not ok:
        FAILED.append(name)


def run(*argv):
    return subprocess.run([sys.executable, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_manifest():
    with open(os.path.join(MODELS, 'MANIFEST.tsv')) as f:
        rows = [line.rstrip('\n').split('\t') for line in f][1:]
    names = [r[0] for r in rows]
    check('manifest: 22 models', len(rows) == 22, f'{len(rows)} listed')
    missing = [m for m in MLPERF if m not in names]
    check('manifest: the MLPerf Tiny models', not missing, f'missing {missing}' if missing else '')
    bad = []
    for r in rows:
        try:
            with open(os.path.join(MODELS, r[1]), 'rb') as f:
                if hashlib.sha256(f.read()).hexdigest() != r[2]:
                    bad.append(r[1])
        except OSError:
            bad.append(r[1] + ' (missing)')
    check('manifest: every sha256 matches', not bad, f'differ: {bad}' if bad else '')
    return [os.path.join(MODELS, r[1]) for r in rows]


def test_inputs():
    m = tfl.load(os.path.join(MODELS, 'image_classification.tflite'))
    a = inputs_mod.make_inputs(m, 5, 12)
    b = inputs_mod.make_inputs(m, 5, 12)
    c = inputs_mod.make_inputs(m, 6, 12)
    check('inputs: same seed, same bytes', a == b)
    check('inputs: other seed, other random inputs', a[-1][1] != c[-1][1] and a[0] == c[0])
    check('inputs: a longer sequence starts with the shorter one', inputs_mod.make_inputs(m, 5, 20)[:12] == a)
    kinds = dict(a)
    x = np.frombuffer(kinds['min'], np.int8)
    check('inputs: int8 sizes and extremes', all(len(r) == 32 * 32 * 3 for _, r in a) and
          (x == -128).all() and (np.frombuffer(kinds['max'], np.int8) == 127).all())
    v = tfl.load(os.path.join(MODELS, 'visual_wake_words.tflite'))
    q = v.tensors[v.ops[0].outputs[0]]
    f = dict(inputs_mod.make_inputs(v, 5, 10))
    lo = np.frombuffer(f['min'], np.float32)
    hi = np.frombuffer(f['max'], np.float32)
    # The float extremes quantize to the int8 ends through the QUANTIZE op's scale/zero point.
    check('inputs: float extremes quantize to -128 and 127',
          (np.rint(lo / q.scale[0]) + q.zero_point[0] == -128).all() and
          (np.rint(hi / q.scale[0]) + q.zero_point[0] == 127).all(), f'{lo[0]} {hi[0]}')


def test_mkmodel(work):
    out = os.path.join(work, 'suite')
    r = run(os.path.join(HERE, 'mkmodel.py'), 'suite', '--out', out, '--seed', '1')
    check('mkmodel: the suite builds', r.returncode == 0, r.stderr.strip()[-400:])
    if r.returncode:
        return []
    again = os.path.join(work, 'suite-again')
    run(os.path.join(HERE, 'mkmodel.py'), 'suite', '--out', again, '--seed', '1')
    same = all(open(os.path.join(out, n + '.tflite'), 'rb').read() == open(os.path.join(again, n + '.tflite'), 'rb').read()
               for n, _ in mkmodel.SUITE)
    check('mkmodel: same seed, same bytes', same)
    paths = [os.path.join(out, n + '.tflite') for n, _ in mkmodel.SUITE]
    probs = [f'{os.path.basename(p)}: {pr}' for p in paths for pr in mkmodel.int8_problems(tfl.load(p))]
    check(f'mkmodel: all {len(paths)} suite models fully int8', not probs, '; '.join(probs[:3]))
    # Each model has what its name asks for.
    want = {'conv': 'CONV_2D', 'dwconv': 'DEPTHWISE_CONV_2D', 'fc': 'FULLY_CONNECTED', 'add': 'ADD',
            'avgpool': 'AVERAGE_POOL_2D', 'maxpool': 'MAX_POOL_2D', 'mean': 'MEAN', 'pad': 'PAD',
            'reshape': 'RESHAPE', 'softmax': 'SOFTMAX', 'logistic': 'LOGISTIC', 'shape': 'STRIDED_SLICE',
            'net': 'SOFTMAX'}
    wrong = []
    for (name, argv), p in zip(mkmodel.SUITE, paths):
        a = mkmodel.parse(argv.split() + ['--seed', '1', '--out', '-'])
        m = tfl.load(p)
        ops = [o for o in m.ops if o.name == want[a.op]]
        if not ops:
            wrong.append(f'{name}: no {want[a.op]}')
            continue
        o = ops[0]
        if a.act and a.op != 'net' and o.options.get('fusedActivationFunction') != mkmodel.ACTS[a.act]:
            wrong.append(f'{name}: activation {o.options.get("fusedActivationFunction")}')
        if a.padding and a.op != 'net' and o.options.get('padding') != a.padding.upper():
            wrong.append(f'{name}: padding {o.options.get("padding")}')
        if a.stride and a.op in ('conv', 'dwconv', 'avgpool', 'maxpool') and \
                [o.options['strideH'], o.options['strideW']] != mkmodel.ints(a.stride, 2, 'stride'):
            wrong.append(f'{name}: stride')
        if a.dilation and a.op in ('conv', 'dwconv') and \
                [o.options['dilationHFactor'], o.options['dilationWFactor']] != mkmodel.ints(a.dilation, 2, 'dilation'):
            wrong.append(f'{name}: dilation')
        if a.op == 'dwconv' and o.options['depthMultiplier'] != a.depth_multiplier:
            wrong.append(f'{name}: depth multiplier {o.options["depthMultiplier"]}')
        if a.op in ('conv', 'dwconv'):
            w = m.tensors[o.inputs[1]]
            if w.per_channel() == bool(a.per_tensor):
                wrong.append(f'{name}: {len(w.scale)} weight scales')
        if a.op == 'softmax' and abs(o.options['beta'] - a.beta) > 1e-6:
            wrong.append(f'{name}: beta {o.options["beta"]}')
        if a.op == 'mean' and o.options['keepDims'] != bool(a.keep_dims):
            wrong.append(f'{name}: keep_dims')
        if (a.io == 'float') != (m.ops[0].name == 'QUANTIZE' and m.ops[-1].name == 'DEQUANTIZE'):
            wrong.append(f'{name}: io {a.io} but ops {m.ops[0].name}..{m.ops[-1].name}')
    check('mkmodel: ops, options and quantization as named', not wrong, '; '.join(wrong[:4]))
    return paths


def test_refs(fetched, suite, work, count):
    scratch = tfl.scratch_dir('mpq-models-test.')
    try:
        res = refs_agree.census(fetched + suite, count, 1, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    crashes = [f'{r["model"]}: {r["crash"]}' for r in res if r['crash']]
    check(f'refs: {len(res)} models run in both references ({count} inputs each)', not crashes,
          '; '.join(crashes[:3]))
    own = sorted({f'{r["model"]} {op}' for r in res for op, s in r['ops'].items()
                  if s['own'] and op != 'FULLY_CONNECTED'})
    check('refs: they differ only in FULLY_CONNECTED on identical inputs', not own, ', '.join(own[:6]))
    compared = sum(s['elements'] for r in res for s in r['ops'].values())
    check('refs: every op output compared', compared > 0 and all(r['ops'] for r in res if not r['crash']),
          f'{compared:,} elements')


def test_tools(work):
    model = os.path.join(MODELS, 'tflite_micro_speech.tflite')
    m = tfl.load(model)
    bad = os.path.join(work, 'short.bin')
    with open(bad, 'wb') as f:
        f.write(b'\0' * 100)
    dump = os.path.join(work, 'dump-bad')
    r = run(os.path.join(HERE, 'ref.py'), 'run', '--ref', 'tflm', model, '--input', bad,
            '--output', os.path.join(work, 'out.bin'), '--dump', dump)
    check('ref.py: a wrong-sized input is refused', r.returncode == 2 and 'short.bin' in r.stderr
          and not os.path.exists(dump), f'exit {r.returncode}: {r.stderr.strip()}')
    # A softmax whose input scale is 1e-9 makes both references abort while preparing.
    crash = os.path.join(work, 'crash.tflite')
    _, q = mkmodel.build_one('--op softmax --shape 1,1,8 --beta 1.0 --softmax-rank 2 --seed 1'.split())
    sm = tfl.schema.ModelT.InitFromPackedBuf(q, 0)
    g = sm.subgraphs[0]
    g.tensors[g.inputs[0]].quantization.scale = np.array([1e-9], np.float32)
    import flatbuffers
    fb = flatbuffers.Builder(1024)
    fb.Finish(sm.Pack(fb), file_identifier=b'TFL3')
    tfl.write_atomic(crash, bytes(fb.Output()))
    inp = os.path.join(work, 'crash.bin')
    with open(inp, 'wb') as f:
        f.write(b'\0' * 8)
    r = run(os.path.join(HERE, 'ref.py'), 'run', '--ref', 'litert', crash, '--input', inp,
            '--output', os.path.join(work, 'crash.out'), '--dump', os.path.join(work, 'crash-dump'))
    check('ref.py: a crashing reference is reported', r.returncode == 3 and 'SIGABRT' in r.stderr
          and 'allocate_tensors' in r.stderr, f'exit {r.returncode}: {r.stderr.strip()[-300:]}')
    # A real dump, then one byte flipped in the output of op 0 (CONV_2D).
    inp = os.path.join(work, 'speech.bin')
    with open(inp, 'wb') as f:
        f.write(inputs_mod.make_inputs(m, 3, 8)[-1][1])
    a = os.path.join(work, 'dump-a')
    r = run(os.path.join(HERE, 'ref.py'), 'run', '--ref', 'tflm', model, '--input', inp,
            '--output', os.path.join(work, 'speech.out'), '--dump', a)
    check('ref.py: a dump of every op output', r.returncode == 0 and
          all(os.path.exists(os.path.join(a, f'{t.index}.bin')) for _, t in m.op_outputs()), r.stderr.strip())
    b = os.path.join(work, 'dump-b')
    shutil.rmtree(b, ignore_errors=True)
    shutil.copytree(a, b)
    r = run(os.path.join(HERE, 'compare.py'), a, b, '--model', model)
    check('compare.py: identical dumps agree', r.returncode == 0, r.stdout.strip())
    t = m.tensors[m.ops[0].outputs[0]]
    path = os.path.join(b, f'{t.index}.bin')
    data = bytearray(open(path, 'rb').read())
    flat = 37 % len(data)
    data[flat] = (data[flat] + 1) & 0xff
    with open(path, 'wb') as f:
        f.write(bytes(data))
    r = run(os.path.join(HERE, 'compare.py'), a, b, '--model', model, '--names', 'x,y')
    elem = tfl.element_str(t.shape, flat)
    check('compare.py: a flipped byte is found and named', r.returncode == 1 and
          f'op 0 CONV_2D: tensor {t.index}' in r.stdout and f'first at {elem}' in r.stdout
          and '; acc=' in r.stdout,
          r.stdout.strip().splitlines()[0] if r.stdout.strip() else r.stderr.strip())
    res = compare.compare(m, {'x': a, 'y': b})
    s8 = lambda v: v - 256 if v > 127 else v  # noqa: E731
    check('compare: importable, counts per op', sum(x.differ for x in res) == 1 and res[0].differ == 1
          and res[0].values == {'x': s8((data[flat] - 1) & 0xff), 'y': s8(data[flat])}, str(res[0].values))
    os.unlink(path)
    r = run(os.path.join(HERE, 'compare.py'), a, b, '--model', model)
    check('compare.py: a missing dump is refused', r.returncode == 2 and f'{t.index}.bin' in r.stderr,
          f'exit {r.returncode}: {r.stderr.strip()}')


def test_census_cli(work):
    """make models-census's command at a small size: one model, one input, both files written."""
    md, js = os.path.join(work, 'census.md'), os.path.join(work, 'census.json')
    model = os.path.join(MODELS, 'tflite_micro_speech.tflite')
    r = run(os.path.join(HERE, 'refs_agree.py'), '--count', '1', '--seed', '1', '--md', md, '--json', js, model)
    ok = r.returncode == 0 and os.path.exists(md) and os.path.exists(js)
    rows = []
    if ok:
        with open(js) as f:
            rows = json.load(f)
        with open(md) as f:
            ok = 'tflite_micro_speech' in f.read()
    check('refs_agree.py (make models-census): one model, one input, table and JSON written',
          ok and len(rows) == 1 and rows[0]['model'].startswith('tflite_micro_speech') and rows[0]['ops'],
          f'exit {r.returncode}: {r.stderr.strip()[-300:]}' if r.returncode else f'{len(rows)} rows')


def test_vela(work):
    import vela
    try:
        v = vela.run(os.path.join(MODELS, 'keyword_spotting.tflite'))
    except RuntimeError as e:
        check('vela: keyword_spotting on Ethos-U55-128', False, str(e)[-300:])
        return
    t = v['totals']
    check('vela: keyword_spotting on Ethos-U55-128: 89,820 cycles, 2,664,792 MACs',
          t['cycles'] == 89820 and t['macs'] == 2664792 and t['layer_cycles_sum'] == t['cycles'],
          f'{t["cycles"]:,} cycles, {t["macs"]:,} MACs, layers add up to {t["layer_cycles_sum"]:,}')
    mapped = [l for l in v['layers'] if l['macs'] and l['op_index'] is None]
    check('vela: every MAC layer mapped to a model op', not mapped, f'{len(mapped)} not')


def main():
    if len(sys.argv) != 2:
        print('usage: test_refs.py WORK', file=sys.stderr)
        return 2
    work = sys.argv[1]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    count = int(os.environ.get('MODELS_TEST_INPUTS', '4'))
    fetched = test_manifest()
    test_inputs()
    suite = test_mkmodel(work)
    test_refs(fetched, suite, work, count)
    test_tools(work)
    test_census_cli(work)
    test_vela(work)
    print(f'test_refs.py: {len(FAILED)} checks failed' if FAILED else 'test_refs.py: all checks passed')
    return 1 if FAILED else 0


if __name__ == '__main__':
    sys.exit(main())
