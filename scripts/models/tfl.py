"""What the model scripts share: a .tflite read through LiteRT's own flatbuffer schema module
(its object API, the same code LiteRT's tools use), op and type names, numpy dtypes of the raw
tensor files, atomic writes, and the exit-2 convention for bad input.

Raw tensor files (inputs, outputs, dumps) hold the tensor's elements in its own type, little
endian, row-major, nothing else: DIR/<tensor index>.bin for a dump.
"""
import hashlib
import os
import shutil
import sys
import tempfile

import numpy as np
from ai_edge_litert import schema_py_generated as schema

TYPE_NAMES = {v: k for k, v in vars(schema.TensorType).items() if k.isupper()}
OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if k.isupper()}
ACTIVATIONS = {v: k for k, v in vars(schema.ActivationFunctionType).items() if k.isupper()}
PADDINGS = {v: k for k, v in vars(schema.Padding).items() if k.isupper()}
DTYPES = {
    'FLOAT32': '<f4', 'FLOAT16': '<f2', 'FLOAT64': '<f8', 'INT8': 'i1', 'UINT8': 'u1',
    'INT16': '<i2', 'UINT16': '<u2', 'INT32': '<i4', 'UINT32': '<u4', 'INT64': '<i8',
    'UINT64': '<u8', 'BOOL': '?',
}


class BadInput(Exception):
    """Bad input (a file or an option): the scripts print the message and exit 2."""


def main_guard(prog, fn):
    """Runs fn(); BadInput becomes one line on stderr and exit 2."""
    try:
        return fn()
    except BadInput as e:
        print(f'{prog}: {e}', file=sys.stderr)
        return 2


class Tensor:
    """One tensor of subgraph 0: index, name, type name, numpy dtype, shape (a tuple; () for a
    scalar), quantization (scale and zero point lists, quantized dimension; empty lists when
    absent) and, for a constant, its data as a numpy array of its shape."""

    def __init__(self, index, t, data):
        self.index = index
        self.name = t.name.decode('utf-8', 'replace') if t.name else ''
        self.type = TYPE_NAMES.get(t.type, f'TYPE{t.type}')
        self.dtype = np.dtype(DTYPES[self.type]) if self.type in DTYPES else None
        self.shape = tuple(int(x) for x in t.shape) if t.shape is not None else ()
        q = t.quantization
        self.scale = [float(s) for s in q.scale] if q is not None and q.scale is not None else []
        self.zero_point = [int(z) for z in q.zeroPoint] if q is not None and q.zeroPoint is not None else []
        self.qdim = int(q.quantizedDimension) if q is not None else 0
        self.data = None
        if data is not None and self.dtype is not None:
            count = int(np.prod(self.shape)) if self.shape else 1
            if len(data) != count * self.dtype.itemsize:
                raise BadInput(f'tensor {index} ({self.name}): its buffer holds {len(data)} bytes, '
                               f'its shape {list(self.shape)} of {self.type} needs {count * self.dtype.itemsize}')
            self.data = np.frombuffer(bytes(data), self.dtype).reshape(self.shape)

    @property
    def const(self):
        return self.data is not None

    @property
    def nbytes(self):
        return (int(np.prod(self.shape)) if self.shape else 1) * self.dtype.itemsize

    def describe(self):
        return f'{self.type}{list(self.shape)}'.replace(' ', '')

    def per_channel(self):
        return len(self.scale) > 1


class Op:
    """One operator of subgraph 0: index, builtin name (CUSTOM:<code> for a custom op), input and
    output tensor indices (-1: an absent optional input) and its builtin options as a dict
    (padding and fused activation by name)."""

    def __init__(self, index, op, codes):
        self.index = index
        if op.opcodeIndex >= len(codes):
            raise BadInput(f'operator {index}: opcode_index {op.opcodeIndex} outside the {len(codes)} operator codes')
        oc = codes[op.opcodeIndex]
        # Codes above 127 live in builtin_code only; below, older writers fill deprecated_builtin_code.
        code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
        self.name = OP_NAMES.get(code, f'BUILTIN{code}')
        if self.name == 'CUSTOM':
            self.name = 'CUSTOM:' + (oc.customCode.decode('utf-8', 'replace') if oc.customCode else '?')
        self.version = int(oc.version)
        self.inputs = [int(i) for i in op.inputs] if op.inputs is not None else []
        self.outputs = [int(i) for i in op.outputs] if op.outputs is not None else []
        self.options = {}
        if op.builtinOptions is not None:
            for k, v in vars(op.builtinOptions).items():
                if k == 'padding':
                    v = PADDINGS.get(v, v)
                elif k == 'fusedActivationFunction':
                    v = ACTIVATIONS.get(v, v)
                elif isinstance(v, np.ndarray):
                    v = v.tolist()
                elif isinstance(v, (np.integer, np.floating, np.bool_)):
                    v = v.item()
                self.options[k] = v

    def json(self):
        return {'index': self.index, 'op': self.name, 'inputs': self.inputs,
                'outputs': self.outputs, 'options': self.options}


class Model:
    """A .tflite model: subgraph 0's tensors, operators, inputs and outputs."""

    def __init__(self, path):
        self.path = path
        try:
            with open(path, 'rb') as f:
                raw = f.read()
        except OSError as e:
            raise BadInput(f'{path}: cannot read: {e.strerror}') from None
        self.sha256 = hashlib.sha256(raw).hexdigest()
        if len(raw) < 8 or raw[4:8] != b'TFL3':
            raise BadInput(f'{path}: not a TFLite flatbuffer (no TFL3 identifier)')
        try:
            m = schema.ModelT.InitFromPackedBuf(raw, 0)
        except Exception as e:  # the generated reader raises whatever a bad offset causes
            raise BadInput(f'{path}: corrupted flatbuffer ({type(e).__name__}: {e})') from None
        if not m.subgraphs:
            raise BadInput(f'{path}: no subgraph')
        self.subgraph_count = len(m.subgraphs)
        g = m.subgraphs[0]
        buffers = m.buffers or []
        codes = m.operatorCodes or []
        self.tensors = []
        for i, t in enumerate(g.tensors or []):
            data = None
            if 0 < t.buffer < len(buffers):
                b = buffers[t.buffer]
                if b.data is not None and len(b.data):
                    data = b.data
                elif b.offset > 1:  # models over 2 GB keep buffers after the flatbuffer
                    data = raw[b.offset:b.offset + b.size]
            self.tensors.append(Tensor(i, t, data))
        self.ops = [Op(i, op, codes) for i, op in enumerate(g.operators or [])]
        self.inputs = [int(i) for i in g.inputs] if g.inputs is not None else []
        self.outputs = [int(i) for i in g.outputs] if g.outputs is not None else []
        n = len(self.tensors)
        for op in self.ops:
            for i in op.inputs + op.outputs:
                if i >= n or i < -1:
                    raise BadInput(f'{path}: operator {op.index} ({op.name}) names tensor {i} of {n}')
        for i in self.inputs + self.outputs:
            if not 0 <= i < n:
                raise BadInput(f'{path}: subgraph input/output names tensor {i} of {n}')

    def op_outputs(self):
        """(op, tensor) for every output of every operator, in execution order."""
        return [(op, self.tensors[i]) for op in self.ops for i in op.outputs]

    def histogram(self):
        h = {}
        for op in self.ops:
            h[op.name] = h.get(op.name, 0) + 1
        return h

    def input_tensors(self):
        return [self.tensors[i] for i in self.inputs]

    def output_tensors(self):
        return [self.tensors[i] for i in self.outputs]


def load(path):
    return Model(path)


def write_atomic(path, data):
    """Writes bytes to path through a temporary file in the same folder and a rename."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', dir=d)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class AtomicDir:
    """A folder filled in a temporary sibling and put in place whole on commit(): readers see
    the old folder or the new one, never a half-written one (a folder already there is
    replaced). As a context manager (`with AtomicDir(path) as d:`) it commits when the block
    ends and aborts (the temporary removed, the exception going on) when the block raises."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        parent = os.path.dirname(self.path)
        os.makedirs(parent, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix='.' + os.path.basename(self.path) + '.', dir=parent)

    def file(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, data):
        with open(os.path.join(self.tmp, name), 'wb') as f:
            f.write(data)

    def commit(self):
        old = None
        if os.path.lexists(self.path):
            old = self.tmp + '.old'
            os.rename(self.path, old)
        os.rename(self.tmp, self.path)
        if old:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        try:
            if kind is None:
                self.commit()
                return False
        except BaseException:
            self.abort()
            raise
        self.abort()
        return False


def check_tools(golden, models):
    """The command-line checks the model scripts share: golden is an executable and every model
    path is a file; BadInput names the first that is not."""
    if not os.access(golden, os.X_OK):
        raise BadInput(f'--golden {golden}: not an executable')
    for m in models:
        if not os.path.isfile(m):
            raise BadInput(f'{m}: no such model file')


def scratch_dir(prefix):
    """A new temporary folder for dumps, in memory (/dev/shm) where there is one: creating a
    file costs 3 ms on this project's build disk under load and 0.05 ms in tmpfs, and a census
    writes one file per tensor per input per reference. MPQ_SCRATCH names another parent."""
    for parent in (os.environ.get('MPQ_SCRATCH'), '/dev/shm', None):
        if parent is None or (os.path.isdir(parent) and os.access(parent, os.W_OK)):
            return tempfile.mkdtemp(prefix=prefix, dir=parent)
    raise AssertionError('unreachable')


def read_raw(path, tensor):
    """The raw file of one tensor as a numpy array of its shape; BadInput if its size is wrong."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        raise BadInput(f'{path}: cannot read: {e.strerror}') from None
    if len(data) != tensor.nbytes:
        raise BadInput(f'{path}: {len(data)} bytes, tensor {tensor.index} ({tensor.name}) '
                       f'{tensor.describe()} needs {tensor.nbytes}')
    return np.frombuffer(data, tensor.dtype).reshape(tensor.shape)


def element_str(shape, flat):
    """Element `flat` of a tensor of `shape`: (n,y,x,c) for 4-D, (i,j,...) otherwise."""
    if not shape:
        return '()'
    idx = np.unravel_index(flat, shape)
    return '(' + ','.join(str(int(i)) for i in idx) + ')'
