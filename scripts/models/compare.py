"""compare.py A_DIR B_DIR [C_DIR ...] --model MODEL [--names A,B,...]: compares tensor dumps
(DIR/<tensor index>.bin, raw little endian in the tensor's own type: what ref.py and
`mpq-golden model run --dump` write) for every output of every operator of MODEL.

For each operator whose output differs anywhere, one line: the op index and type, the tensor
index and name, how many elements differ, the first one as (n,y,x,c) for a 4-D tensor, the value
in every folder and, for CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, the int32 accumulator
before requantization (bias included), recomputed from each folder's own input tensor and the
model's weights. Then a summary: ops compared, ops and elements that differ, per pair of folders.

Exit 0 when every folder agrees on every op output, 1 when one differs, 2 on bad input (a
missing or wrongly sized dump, an unreadable model).

Importable: compare(model, {'mpq': dir, 'tflm': dir, 'litert': dir}) returns one OpResult per
op output, and report() formats them; a test driver compares three folders at once.
"""
import argparse
import itertools
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfl  # noqa: E402


class OpResult:
    """One op output across the folders: `differ` counts the elements on which not every folder
    agrees, `pairs` the differing elements per pair of folder names, `first` the flat index of
    the first differing element (None when all agree), `values` and `acc` the value and the
    recomputed accumulator there, per folder; `inputs_differ` tells that a non-constant input of
    the op differed already (the difference came from upstream)."""

    def __init__(self, op, tensor):
        self.op, self.tensor = op, tensor
        self.differ = 0
        self.pairs = {}
        self.first = None
        self.values = {}
        self.acc = {}
        self.inputs_differ = False

    @property
    def element(self):
        return tfl.element_str(self.tensor.shape, self.first)


def load_dump(d, t):
    path = os.path.join(d, f'{t.index}.bin')
    if not os.path.exists(path):
        raise tfl.BadInput(f'{path}: missing (tensor {t.index}, {t.name})')
    return tfl.read_raw(path, t)


def compare(model, dirs, tensors=None):
    """OpResults of every op output (or the (op, tensor) pairs given) across the folders
    {name: dir}, in op order. BadInput when a dump is missing or of the wrong size."""
    names = list(dirs)
    if len(names) < 2:
        raise tfl.BadInput('compare: at least two folders')
    results = []
    differs = {}  # tensor index -> some folders differ on it

    def input_differs(i):
        if i not in differs:  # a model input (or a tensor outside the list): compare it now
            t = model.tensors[i]
            if t.const or t.dtype is None or not all(os.path.exists(os.path.join(dirs[n], f'{i}.bin')) for n in names):
                differs[i] = False
            else:
                a = [load_dump(dirs[n], t).tobytes() for n in names]
                differs[i] = any(x != a[0] for x in a[1:])
        return differs[i]

    for op, t in tensors if tensors is not None else model.op_outputs():
        arrays = {n: load_dump(dirs[n], t).reshape(-1) for n in names}
        r = OpResult(op, t)
        r.inputs_differ = any(input_differs(i) for i in op.inputs if i >= 0)
        base = arrays[names[0]]
        # Floats compare as bit patterns: NaN equals the same NaN, -0.0 differs from 0.0.
        view = (lambda a: a.view(np.dtype(f'<u{a.itemsize}'))) if base.dtype.kind == 'f' else (lambda a: a)
        bad = np.zeros(base.shape, bool)
        for a, b in itertools.combinations(names, 2):
            ne = view(arrays[a]) != view(arrays[b])
            r.pairs[(a, b)] = int(ne.sum())
            bad |= ne
        r.differ = int(bad.sum())
        differs[t.index] = r.differ > 0
        if r.differ:
            r.first = int(np.flatnonzero(bad)[0])
            r.values = {n: arrays[n][r.first].item() for n in names}
            for n in names:
                acc = accumulator(model, op, dirs[n], r.first)
                if acc is not None:
                    r.acc[n] = acc
        results.append(r)
    return results


# --- The accumulator of one output element, recomputed in exact integers ---------------------

def _same_pad(size, k, stride, dil, padding):
    eff = (k - 1) * dil + 1
    if padding == 'VALID':
        return 0
    out = (size + stride - 1) // stride
    return max(((out - 1) * stride + eff - size) // 2, 0)


def accumulator(model, op, d, flat):
    """bias + sum((x - x_zp) * (w - w_zp)) for output element `flat` of a CONV_2D,
    DEPTHWISE_CONV_2D or FULLY_CONNECTED, from d's dump of its input; None for other ops or
    when the input dump or the weights are not there."""
    if op.name not in ('CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED') or len(op.inputs) < 2:
        return None
    xt, wt = model.tensors[op.inputs[0]], model.tensors[op.inputs[1]]
    bt = model.tensors[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
    if wt.data is None or xt.dtype is None or xt.dtype.kind not in 'iu':
        return None
    path = os.path.join(d, f'{xt.index}.bin')
    if not os.path.exists(path):
        return None
    x = tfl.read_raw(path, xt).astype(np.int64) - (xt.zero_point[0] if xt.zero_point else 0)
    w = wt.data.astype(np.int64)
    out_shape = model.tensors[op.outputs[0]].shape
    idx = np.unravel_index(flat, out_shape)
    co = int(idx[-1])

    def wzp(ch):
        z = wt.zero_point
        return z[ch] if len(z) > 1 else (z[0] if z else 0)

    bias = int(bt.data.reshape(-1)[co]) if bt is not None and bt.data is not None else 0
    if op.name == 'FULLY_CONNECTED':
        k = w.shape[-1]
        row = x.reshape(-1, k)[int(np.prod(idx[:-1])) if len(idx) > 1 else 0]
        return bias + int(((w[co] - wzp(co)) * row).sum())
    n, oy, ox = (int(i) for i in idx[:3])
    o = op.options
    sh, sw = o.get('strideH', 1), o.get('strideW', 1)
    dh, dw = o.get('dilationHFactor', 1), o.get('dilationWFactor', 1)
    _, ih, iw, cin = x.shape
    kh, kw = w.shape[1], w.shape[2]
    pt = _same_pad(ih, kh, sh, dh, o.get('padding'))
    pl = _same_pad(iw, kw, sw, dw, o.get('padding'))
    acc = bias
    if op.name == 'CONV_2D':
        ci_n = w.shape[3]
        groups = cin // ci_n  # grouped convolution: each group of output channels reads its slice
        g = co // (w.shape[0] // groups)
        chans = slice(g * ci_n, (g + 1) * ci_n)
        wk = w[co] - wzp(co)
    else:
        mult = w.shape[3] // cin
        chans = slice(co // mult, co // mult + 1)
        wk = w[0, :, :, co:co + 1] - wzp(co)
    for ky in range(kh):
        y = oy * sh - pt + ky * dh
        if not 0 <= y < ih:
            continue
        for kx in range(kw):
            xx = ox * sw - pl + kx * dw
            if 0 <= xx < iw:
                acc += int((x[n, y, xx, chans] * wk[ky, kx]).sum())
    return acc


# --- Report ---------------------------------------------------------------------------------

def fmt(v):
    return repr(v) if isinstance(v, float) else str(v)


def report(results, names):
    """Lines: one per differing op output, then the summary."""
    lines = []
    for r in results:
        if not r.differ:
            continue
        vals = ' '.join(f'{n}={fmt(r.values[n])}' for n in names)
        line = (f'op {r.op.index} {r.op.name}: tensor {r.tensor.index} "{r.tensor.name}" '
                f'{r.tensor.describe()}: {r.differ} of {max(r.tensor.nbytes // r.tensor.dtype.itemsize, 1)} '
                f'elements differ; first at {r.element}: {vals}')
        if r.acc:
            accs = set(r.acc.values())
            line += ('; acc=' + str(accs.pop())) if len(accs) == 1 else \
                ('; acc ' + ' '.join(f'{n}={r.acc[n]}' for n in names if n in r.acc))
        if r.inputs_differ:
            line += ' (its inputs differ already)'
        lines.append(line)
    bad_ops = [r for r in results if r.differ]
    lines.append(f'compare: {len(results)} op outputs, {len(bad_ops)} differ, '
                 f'{sum(r.differ for r in results)} elements')
    if len(names) > 2:
        for a, b in itertools.combinations(names, 2):
            ops = sum(1 for r in results if r.pairs[(a, b)])
            els = sum(r.pairs[(a, b)] for r in results)
            lines.append(f'compare: {a} vs {b}: {ops} op outputs differ, {els} elements')
    return lines


def main():
    ap = argparse.ArgumentParser(prog='compare.py', description=__doc__.split('\n')[0])
    ap.add_argument('dirs', nargs='+')
    ap.add_argument('--model', required=True)
    ap.add_argument('--names', help='comma-separated names of the folders (default A,B,C...)')
    try:
        args = ap.parse_args()
    except SystemExit as e:
        return e.code
    if len(args.dirs) < 2:
        raise tfl.BadInput('give at least two dump folders')
    names = args.names.split(',') if args.names else [chr(ord('A') + i) for i in range(len(args.dirs))]
    if len(names) != len(args.dirs) or len(set(names)) != len(names):
        raise tfl.BadInput(f'--names {args.names}: {len(args.dirs)} distinct names needed')
    for d in args.dirs:
        if not os.path.isdir(d):
            raise tfl.BadInput(f'{d}: not a folder')
    model = tfl.load(args.model)
    results = compare(model, dict(zip(names, args.dirs)))
    for line in report(results, names):
        print(line)
    return 1 if any(r.differ for r in results) else 0


if __name__ == '__main__':
    sys.exit(tfl.main_guard('compare.py', main))
