"""inputs.py MODEL --seed S --count N --out DIR: N input files for MODEL, in its input types and
shapes (raw little endian; several inputs one after the other, in the model's order), as
DIR/<k>-<kind>.bin, and DIR/inputs.tsv (file, kind, seed). The extremes come first, then seeded
random inputs up to N:

  zeros       every element 0 (0.0 for a float input)
  min, max    every element the type's minimum or maximum; for a float input that a QUANTIZE
              op quantizes, the floats that quantize to the int8 minimum and maximum exactly
  below, above  (float inputs) far outside that range: the QUANTIZE op saturates
  checker-yx, checker-yx-inv   min and max alternating over (y, x) (over the axes between the
              first and the last), the same for every channel
  checker, checker-inv         min and max alternating element by element
  half        (float inputs) exact halfway points (k + 1/2) * scale: QUANTIZE's rounding of ties
  random      (even k) uniform over the whole range; for a float input one quantization step
              wider than the int8 range on each side
  normal      (odd k) normal around the middle of the range, sigma 1/8 of its width

Input k depends on the seed and k only: the same seed gives the same bytes, whatever N. The seed
is printed; without --seed one is drawn and printed. Exit 2 on bad input.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfl  # noqa: E402

INT_KINDS = ['zeros', 'min', 'max', 'checker-yx', 'checker-yx-inv', 'checker', 'checker-inv']
FLOAT_KINDS = ['zeros', 'min', 'max', 'below', 'above', 'checker-yx', 'checker-yx-inv',
               'checker', 'checker-inv', 'half']


class Source:
    """How to fill one model input: its tensor, and for a float input the int8 grid (scale,
    zero point, type range) of the QUANTIZE op that reads it (scale 1/128, zero point 0 when
    no QUANTIZE reads it)."""

    def __init__(self, model, t):
        self.t = t
        self.float = t.dtype.kind == 'f'
        if self.float:
            q = next((model.tensors[op.outputs[0]] for op in model.ops
                      if op.name == 'QUANTIZE' and op.inputs[:1] == [t.index]), None)
            if q is not None and q.scale and q.dtype is not None and q.dtype.kind in 'iu':
                self.scale, self.zp = q.scale[0], q.zero_point[0]
                info = np.iinfo(q.dtype)
            else:
                self.scale, self.zp = 1 / 128, 0
                info = np.iinfo(np.int8)
            self.qmin, self.qmax = int(info.min), int(info.max)
            self.lo = np.float32((self.qmin - self.zp) * self.scale)
            self.hi = np.float32((self.qmax - self.zp) * self.scale)
        elif t.dtype.kind in 'iu':
            info = np.iinfo(t.dtype)
            self.lo, self.hi = info.min, info.max
        elif t.dtype.kind == 'b':
            self.lo, self.hi = False, True
        else:
            raise tfl.BadInput(f'{model.path}: input tensor {t.index} ({t.name}) has type {t.type}: no inputs for it')

    def kinds(self):
        return FLOAT_KINDS if self.float else INT_KINDS

    def pattern(self, kind):
        """The extreme `kind` as an array, or None when it does not apply to this input."""
        shape, dt = self.t.shape, self.t.dtype
        full = lambda v: np.full(shape, v, dt)  # noqa: E731
        if kind == 'zeros':
            return np.zeros(shape, dt)
        if kind in ('min', 'max'):
            return full(self.lo if kind == 'min' else self.hi)
        if kind in ('below', 'above'):
            width = self.hi - self.lo
            return full(self.lo - width if kind == 'below' else self.hi + width)
        if kind.startswith('checker'):
            idx = np.indices(shape) if shape else np.zeros((0,), int)
            if kind.startswith('checker-yx'):
                if len(shape) < 3:
                    return None  # no (y, x) plane: the element checkerboard covers it
                parity = idx[1:-1].sum(axis=0) % 2
            else:
                parity = np.arange(int(np.prod(shape))).reshape(shape) % 2
            if kind.endswith('-inv'):
                parity = 1 - parity
            return np.where(parity == 0, self.lo, self.hi).astype(dt)
        if kind == 'half':
            return None
        raise AssertionError(kind)

    def half(self, rng):
        k = rng.integers(self.qmin, self.qmax, size=self.t.shape, endpoint=False)
        return ((k - self.zp + 0.5) * self.scale).astype(self.t.dtype)

    def random(self, rng, normal):
        shape, dt = self.t.shape, self.t.dtype
        if self.float:
            if normal:
                x = rng.normal((self.lo + self.hi) / 2, (self.hi - self.lo) / 8, size=shape)
            else:
                x = rng.uniform(self.lo - self.scale, self.hi + self.scale, size=shape)
            return x.astype(dt)
        if dt.kind == 'b':
            return rng.integers(0, 2, size=shape).astype(dt)
        if normal:
            x = np.rint(rng.normal((int(self.lo) + int(self.hi)) / 2, (int(self.hi) - int(self.lo)) / 8, size=shape))
            return np.clip(x, self.lo, self.hi).astype(dt)
        return rng.integers(int(self.lo), int(self.hi), size=shape, endpoint=True).astype(dt)


def make_inputs(model, seed, count):
    """[(kind, bytes)] for the first `count` inputs of the sequence described above."""
    sources = [Source(model, t) for t in model.input_tensors()]
    kinds = []
    for kind in (FLOAT_KINDS if any(s.float for s in sources) else INT_KINDS):
        if kind == 'half' or any(s.pattern(kind) is not None for s in sources):
            kinds.append(kind)
    out = []
    for k in range(count):
        rng = np.random.default_rng([seed, k])
        kind = kinds[k] if k < len(kinds) else ('random' if k % 2 == 0 else 'normal')
        arrays = []
        for s in sources:
            a = None
            if kind == 'half' and s.float:
                a = s.half(rng)
            elif kind in ('random', 'normal'):
                a = s.random(rng, kind == 'normal')
            elif kind in s.kinds():
                a = s.pattern(kind)
            if a is None:  # this input has no such extreme: a random one stands in
                a = s.random(rng, False)
            arrays.append(a)
        out.append((kind, b''.join(np.ascontiguousarray(a).astype(a.dtype.newbyteorder('<')).tobytes()
                                   for a in arrays)))
    return out


def main():
    ap = argparse.ArgumentParser(prog='inputs.py', description=__doc__.split('\n')[0])
    ap.add_argument('model')
    ap.add_argument('--seed', type=int)
    ap.add_argument('--count', type=int, required=True)
    ap.add_argument('--out', required=True)
    try:
        args = ap.parse_args()
    except SystemExit as e:
        return e.code
    if args.count < 1:
        raise tfl.BadInput(f'--count {args.count}: must be at least 1')
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), 'little')
    if seed < 0:
        raise tfl.BadInput(f'--seed {seed}: must be >= 0')
    print(f'inputs.py: seed {seed}')
    model = tfl.load(args.model)
    if not model.inputs:
        raise tfl.BadInput(f'{args.model}: the model has no input')
    items = make_inputs(model, seed, args.count)
    with tfl.AtomicDir(args.out) as d:
        width = max(3, len(str(args.count - 1)))
        tsv = ['file\tkind\tseed']
        for k, (kind, raw) in enumerate(items):
            name = f'{k:0{width}d}-{kind}.bin'
            d.write(name, raw)
            tsv.append(f'{name}\t{kind}\t{seed}')
        d.write('inputs.tsv', ('\n'.join(tsv) + '\n').encode())
    return 0


if __name__ == '__main__':
    sys.exit(tfl.main_guard('inputs.py', main))
