"""ref.py: one int8 TFLite model through a reference implementation, every tensor dumped.

  ref.py run --ref litert|tflm MODEL --input IN.bin --output OUT.bin --dump DIR
             [--ops-json FILE] [--constants]
  ref.py batch --ref litert|tflm MODEL --inputs IN_DIR --dump-root ROOT
             [--ops-json FILE] [--constants]
  ref.py ops MODEL --out FILE

References (both from PyPI, scripts/models/venv.sh):
  litert  LiteRT's interpreter with its reference kernels (OpResolverType.BUILTIN_REF), every
          tensor preserved, one thread. Not the default resolver: XNNPACK's and the optimized
          kernels' results differ from the reference ones by +-1.
  tflm    TensorFlow Lite Micro's Python interpreter, InterpreterConfig.kPreserveAllTensors.

Files: IN.bin holds the model's inputs in their own types and shapes, raw little endian, one
after the other in the model's input order (one tensor for every model here); OUT.bin the
outputs likewise. DIR/<tensor index>.bin is every tensor an operator writes and every model
input (--constants: the constant tensors too), in its own type. DIR is written whole or not at
all (a temporary sibling, renamed). batch runs every IN_DIR/*.bin in one process, into
ROOT/<name>/ (a folder per input, as DIR above). --ops-json writes, per operator: index, builtin
name, input and output tensor indices, builtin options.

The reference runs in a child process: LiteRT's reference SOFTMAX aborts the process on a tiny
input scale. A crash is reported with the signal, the step and the input; exit 3. Bad input
(files, sizes, options): exit 2. 0 otherwise.
"""
import argparse
import glob
import json
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import numpy as np  # noqa: E402
import tfl  # noqa: E402

REFS = {'litert': "LiteRT (BUILTIN_REF)", 'tflm': 'TensorFlow Lite Micro'}
EXIT_CRASH = 3


class RefCrash(Exception):
    """The reference's process died (a signal) or failed; the message says where."""


def split_input(model, raw, path):
    """The model's input arrays from the bytes of one input file."""
    need = sum(t.nbytes for t in model.input_tensors())
    if len(raw) != need:
        raise tfl.BadInput(f'{path}: {len(raw)} bytes, the inputs of {os.path.basename(model.path)} '
                           f'({" ".join(t.describe() for t in model.input_tensors())}) need {need}')
    out, off = [], 0
    for t in model.input_tensors():
        out.append(np.frombuffer(raw[off:off + t.nbytes], t.dtype).reshape(t.shape))
        off += t.nbytes
    return out


def dump_indices(model, constants):
    """The tensors a dump holds: model inputs and operator outputs (and constants if asked)."""
    idx = set(model.inputs)
    for op in model.ops:
        idx.update(i for i in op.outputs if i >= 0)
    if constants:
        idx.update(t.index for t in model.tensors if t.const)
    return sorted(idx)


# --- The child: runs the reference, writes files -------------------------------------------

def stage(text):
    """Tells the parent what the child starts next (a native crash leaves this as the last)."""
    os.write(1, ('@stage ' + text + '\n').encode())


class LiteRT:
    def __init__(self, model):
        from ai_edge_litert import interpreter as lrt
        self.it = lrt.Interpreter(
            model_path=model.path, num_threads=1,
            experimental_op_resolver_type=lrt.OpResolverType.BUILTIN_REF,
            experimental_preserve_all_tensors=True)
        stage(f'allocate_tensors {model.path}')
        self.it.allocate_tensors()
        self.inputs = [d['index'] for d in self.it.get_input_details()]
        if self.inputs != model.inputs:
            raise RefCrash(f'LiteRT reads the inputs as tensors {self.inputs}, the model names {model.inputs}')

    def run(self, arrays):
        for i, a in zip(self.inputs, arrays):
            self.it.set_tensor(i, a)
        self.it.invoke()

    def tensor(self, i):
        return self.it.get_tensor(i)


class TFLM:
    def __init__(self, model):
        from tflite_micro.python.tflite_micro import runtime
        # Every tensor is kept, so the arena holds them all, plus room for scratch buffers.
        stage(f'from_file (allocates the tensors) {model.path}')
        arena = 2 * sum(t.nbytes for t in model.tensors if not t.const and t.dtype is not None) + (4 << 20)
        self.it = runtime.Interpreter.from_file(
            model.path, arena_size=arena,
            intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
        self.count = len(model.inputs)

    def run(self, arrays):
        for k, a in enumerate(arrays):
            self.it.set_input(a, k)
        self.it.invoke()

    def tensor(self, i):
        return self.it.GetTensor(i, 0)['tensor_data']


def write_dump(model, ref, indices, dump_dir, output_path):
    with tfl.AtomicDir(dump_dir) as d:
        for i in indices:
            t = model.tensors[i]
            a = np.asarray(ref.tensor(i))
            if a.dtype != t.dtype or a.size * a.itemsize != t.nbytes:
                raise RefCrash(f'tensor {i} ({t.name}) came back as {a.dtype}{list(a.shape)}, '
                               f'the model says {t.describe()}')
            d.write(f'{i}.bin', np.ascontiguousarray(a).astype(t.dtype.newbyteorder('<')).tobytes())
    if output_path:
        raw = b''.join(np.ascontiguousarray(ref.tensor(i)).astype(model.tensors[i].dtype.newbyteorder('<')).tobytes()
                       for i in model.outputs)
        tfl.write_atomic(output_path, raw)


def child(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    for item in spec['models']:
        model = tfl.load(item['model'])
        stage(f'load {item["model"]}')
        ref = LiteRT(model) if spec['ref'] == 'litert' else TFLM(model)
        indices = dump_indices(model, spec['constants'])
        for job in item['jobs']:
            with open(job['input'], 'rb') as f:
                arrays = split_input(model, f.read(), job['input'])
            stage(f'run {item["model"]} on {job["input"]}')
            ref.run(arrays)
            write_dump(model, ref, indices, job['dump'], job.get('output'))
        del ref
    stage('done')
    return 0


# --- The parent: checks the arguments, runs the child, reports a crash ----------------------

def run_reference(ref, model_path, jobs, constants=False):
    """Runs `ref` on MODEL for every job ({'input', 'dump'[, 'output']}) in one child process.
    Raises RefCrash (with signal, step and input) if the child dies or fails."""
    run_reference_models(ref, [(model_path, jobs)], constants)


def run_reference_models(ref, items, constants=False):
    """As run_reference, for [(model path, jobs)]: every model in the same child process, one
    after the other (a reference's start-up costs more than a small model's inferences)."""
    import tempfile
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
        json.dump({'ref': ref, 'constants': constants,
                   'models': [{'model': m, 'jobs': j} for m, j in items]}, f)
        spec = f.name
    try:
        p = subprocess.Popen([sys.executable, os.path.abspath(__file__), '_child', spec],
                             stdout=subprocess.PIPE, text=True)
        last = 'start'
        for line in p.stdout:
            if line.startswith('@stage '):
                last = line[7:].rstrip('\n')
            else:  # whatever the reference itself prints
                sys.stderr.write(line)
        rc = p.wait()
    finally:
        os.unlink(spec)
    if rc == 0:
        return
    where = f'{REFS[ref]}, at step "{last}"'
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = f'signal {-rc}'
        raise RefCrash(f'{where}: the reference crashed ({name})')
    raise RefCrash(f'{where}: the reference failed (exit {rc}; its message is above)')


def write_ops_json(model, path):
    text = '[\n' + ',\n'.join(json.dumps(op.json()) for op in model.ops) + '\n]\n'
    tfl.write_atomic(path, text.encode())


def check_model(path):
    model = tfl.load(path)
    for t in model.input_tensors() + model.output_tensors():
        if t.dtype is None:
            raise tfl.BadInput(f'{path}: tensor {t.index} ({t.name}) has type {t.type}, which ref.py cannot write')
    return model


def parse(argv):
    ap = argparse.ArgumentParser(prog='ref.py', description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    for name in ('run', 'batch'):
        s = sub.add_parser(name)
        s.add_argument('--ref', required=True, choices=sorted(REFS))
        s.add_argument('model')
        s.add_argument('--ops-json')
        s.add_argument('--constants', action='store_true', help='dump the constant tensors too')
        if name == 'run':
            s.add_argument('--input', required=True)
            s.add_argument('--output', required=True)
            s.add_argument('--dump', required=True)
        else:
            s.add_argument('--inputs', required=True, help='a folder of *.bin input files')
            s.add_argument('--dump-root', required=True)
    s = sub.add_parser('ops')
    s.add_argument('model')
    s.add_argument('--out', required=True)
    return ap.parse_args(argv)


def main(argv):
    if argv[:1] == ['_child']:
        try:
            return child(argv[1])
        except (RefCrash, tfl.BadInput) as e:
            print(f'ref.py: {e}', file=sys.stderr)
            return 1
    try:
        args = parse(argv)
    except SystemExit as e:  # argparse: exit 2 on a bad option already
        return e.code
    model = check_model(args.model)
    if args.cmd == 'ops':
        write_ops_json(model, args.out)
        return 0
    if args.cmd == 'run':
        inputs = [args.input]
        jobs = [{'input': args.input, 'dump': args.dump, 'output': args.output}]
    else:
        inputs = sorted(glob.glob(os.path.join(args.inputs, '*.bin')))
        if not os.path.isdir(args.inputs):
            raise tfl.BadInput(f'--inputs {args.inputs}: not a folder')
        if not inputs:
            raise tfl.BadInput(f'--inputs {args.inputs}: no *.bin file in it')
        jobs = [{'input': p, 'dump': os.path.join(args.dump_root, os.path.basename(p)[:-4])} for p in inputs]
    for p in inputs:  # sizes checked here, so that bad input runs nothing
        try:
            size = os.path.getsize(p)
        except OSError as e:
            raise tfl.BadInput(f'{p}: cannot read: {e.strerror}') from None
        split_input(model, b'\0' * size, p)
    if args.ops_json:
        write_ops_json(model, args.ops_json)
    try:
        run_reference(args.ref, args.model, jobs, args.constants)
    except RefCrash as e:
        print(f'ref.py: {e}', file=sys.stderr)
        return EXIT_CRASH
    return 0


if __name__ == '__main__':
    sys.exit(tfl.main_guard('ref.py', lambda: main(sys.argv[1:])))
