"""survey.py [MODEL...]: what the C side must support to run the given models (default: every
model of build/models), as Markdown: per op type, every option value and operand shape seen,
over all the models; then per model, its input and output, tensor types, and how its weights
are quantized. Printed on stdout.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import glob  # noqa: E402

import numpy as np  # noqa: E402
import tfl  # noqa: E402

MAC_OPS = ('CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED')
SKIP_OPTIONS = {'quantizedBiasType', 'weightsFormat', 'asymmetricQuantizeInputs', 'quantSpec',
                'potScaleInt16', 'offset', 'newShape'}


def short(v):
    return str(v).replace(' ', '')


def features(model, op):
    """The facts of one op that matter to an implementation, as 'key=value' strings."""
    f = []
    o = op.options
    t = lambda i: model.tensors[i]  # noqa: E731
    for k in ('padding', 'strideH', 'strideW', 'dilationHFactor', 'dilationWFactor',
              'filterHeight', 'filterWidth', 'depthMultiplier', 'fusedActivationFunction',
              'keepNumDims', 'keepDims', 'beta', 'beginMask', 'endMask', 'ellipsisMask',
              'newAxisMask', 'shrinkAxisMask', 'valuesCount', 'axis', 'outType'):
        if k in o and k not in SKIP_OPTIONS:
            f.append(f'{k}={short(o[k])}')
    if op.name in ('CONV_2D', 'DEPTHWISE_CONV_2D'):
        w = t(op.inputs[1])
        f.append(f'kernel={w.shape[1]}x{w.shape[2]}')
    if op.name in MAC_OPS:
        w = t(op.inputs[1])
        f.append('weights=' + ('per-channel' if w.per_channel() else 'per-tensor'))
        if any(z != 0 for z in w.zero_point):
            f.append('weight-zp!=0')
        f.append('bias=' + (t(op.inputs[2]).type if len(op.inputs) > 2 and op.inputs[2] >= 0 else 'none'))
    if op.name == 'FULLY_CONNECTED':
        f.append(f'input-rank={len(t(op.inputs[0]).shape)}')
    if op.name == 'ADD':
        a, b = t(op.inputs[0]).shape, t(op.inputs[1]).shape
        f.append('operands=' + ('same-shape' if a == b else f'broadcast{short(list(a))}+{short(list(b))}'))
        if any(t(i).const for i in op.inputs):
            f.append('const-operand')
    if op.name in ('MEAN', 'PAD', 'RESHAPE', 'STRIDED_SLICE'):
        for i in op.inputs[1:]:
            if i >= 0 and t(i).const:
                f.append(f'{t(i).name.split("/")[-1] or "operand"}={short(t(i).data.tolist())}')
    if op.name == 'MEAN':
        x, y = t(op.inputs[0]), t(op.outputs[0])
        f.append('requant=' + ('no' if x.scale == y.scale and x.zero_point == y.zero_point else 'yes'))
    if op.name in ('QUANTIZE', 'DEQUANTIZE'):
        f.append(f'{t(op.inputs[0]).type}->{t(op.outputs[0]).type}')
    if op.name == 'SOFTMAX' or op.name == 'LOGISTIC':
        y = t(op.outputs[0])
        f.append(f'out-scale={y.scale[0]:g},zp={y.zero_point[0]}' if y.scale else 'out=unquantized')
    return f


def tensor_types(model):
    kinds = {}
    for tt in model.tensors:
        role = 'const' if tt.const else 'activation'
        kinds.setdefault(role, set()).add(tt.type)
    return '; '.join(f'{r}: {"/".join(sorted(v))}' for r, v in sorted(kinds.items()))


def weight_quant(model):
    q = {}
    for op in model.ops:
        if op.name in MAC_OPS:
            w = model.tensors[op.inputs[1]]
            q.setdefault(op.name, set()).add('per-channel' if w.per_channel() else 'per-tensor')
    return ', '.join(f'{k.replace("_CONV_2D", "").replace("FULLY_CONNECTED", "FC")} {"/".join(sorted(v))}'
                     for k, v in sorted(q.items())) or '-'


def activation_quant(model):
    asym = sym = 0
    for tt in model.tensors:
        if not tt.const and tt.type == 'INT8' and tt.zero_point:
            if tt.zero_point[0] == 0:
                sym += 1
            else:
                asym += 1
    return f'{asym} asymmetric, {sym} zp=0'


def main():
    paths = sys.argv[1:] or sorted(glob.glob('build/models/*.tflite'))
    if not paths:
        raise tfl.BadInput('no model given and none in build/models (make models-fetch)')
    models = [tfl.load(p) for p in paths]
    int8 = [m for m in models if any(t.type == 'INT8' for t in m.tensors)]
    union = {}
    for m in int8:
        name = os.path.basename(m.path)[:-len('.tflite')]
        for op in m.ops:
            u = union.setdefault(op.name, {'count': 0, 'models': set(), 'features': {}})
            u['count'] += 1
            u['models'].add(name)
            for f in features(m, op):
                k, _, v = f.partition('=')
                u['features'].setdefault(k, set()).add(v)
    print(f'Int8 models: {len(int8)} of {len(models)} (the others are float32 twins).\n')
    print('| op | count | models | options and operands seen |')
    print('|---|---|---|---|')
    for op, u in sorted(union.items()):
        feats = '; '.join(f'{k}: {", ".join(sorted(v, key=lambda s: (len(s), s)))}' if v != {''} else k
                          for k, v in sorted(u['features'].items()))
        print(f'| {op} | {u["count"]} | {len(u["models"])} | {feats} |')
    print('\n| model | input -> output | ops | tensor types | weights | int8 activations |')
    print('|---|---|---|---|---|---|')
    for m in models:
        name = os.path.basename(m.path)[:-len('.tflite')]
        io = ' '.join(t.describe() for t in m.input_tensors()) + ' -> ' + \
            ' '.join(t.describe() for t in m.output_tensors())
        hist = ' '.join(f'{k} {v}' for k, v in sorted(m.histogram().items(), key=lambda kv: (-kv[1], kv[0])))
        print(f'| {name} | {io} | {hist} | {tensor_types(m)} | {weight_quant(m)} | {activation_quant(m)} |')
    return 0


if __name__ == '__main__':
    np.set_printoptions(linewidth=1000)
    sys.exit(tfl.main_guard('survey.py', main))
