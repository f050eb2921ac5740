"""mkmodel.py --op OP --seed S [options] --out M.tflite: a small random model of one op (or a
small network), built as a float32 .tflite with LiteRT's flatbuffer schema module (object API:
ModelT, Pack) and quantized to full int8 by TFLite's post-training quantizer
(CalibrationWrapper, as shipped in ai-edge-litert), calibrated on seeded random inputs. No
TensorFlow.

Ops: conv (CONV_2D), dwconv (DEPTHWISE_CONV_2D), fc (FULLY_CONNECTED), add (ADD), avgpool,
maxpool, mean (MEAN), pad (PAD), reshape (RESHAPE), softmax (SOFTMAX), logistic (LOGISTIC),
shape (SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE -> FULLY_CONNECTED, as anomaly_detection
flattens its input), net (CONV_2D, DEPTHWISE_CONV_2D, residual ADD, AVERAGE_POOL_2D, RESHAPE,
FULLY_CONNECTED, SOFTMAX). --io float keeps float32 inputs and outputs: QUANTIZE and DEQUANTIZE
ops at the ends. Every option left out is drawn from the seed (odd shapes, strides, dilations,
padding modes, depth multipliers, fused activations, broadcast shapes...); the resolved command
line is printed and stored as the model's description: the same seed and options give the same
bytes. `mkmodel.py check M.tflite...` verifies that models are fully int8 (exit 1 if not).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tfl  # noqa: E402

OPS = ['conv', 'dwconv', 'fc', 'add', 'avgpool', 'maxpool', 'mean', 'pad', 'reshape', 'softmax',
       'logistic', 'shape', 'net']
ACTS = {'none': 'NONE', 'relu': 'RELU', 'relu6': 'RELU6', 'relu_n1_to_1': 'RELU_N1_TO_1'}


def ints(text, n, name):
    try:
        v = [int(x) for x in text.split(',')] if text != '' else []
    except ValueError:
        raise tfl.BadInput(f'--{name} {text}: integers separated by commas expected') from None
    if n is not None and len(v) != n:
        raise tfl.BadInput(f'--{name} {text}: {n} integers expected')
    return v


class Builder:
    """A float32 TFLite model under construction, through the schema's object API."""

    def __init__(self):
        self.s = tfl.schema
        self.codes, self.code_index = [], {}
        self.buffers = [self.s.BufferT()]  # buffer 0: the empty sentinel the format requires
        self.tensors, self.operators = [], []

    def tensor(self, shape, name, data=None, ttype=None):
        t = self.s.TensorT()
        t.shape = np.array(shape, np.int32)
        t.type = self.s.TensorType.FLOAT32 if ttype is None else ttype
        t.name = name.encode()
        b = self.s.BufferT()
        if data is not None:
            b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8)
        self.buffers.append(b)
        t.buffer = len(self.buffers) - 1
        self.tensors.append(t)
        return len(self.tensors) - 1

    def const(self, array, name):
        a = np.asarray(array)
        ttype = {np.dtype(np.float32): self.s.TensorType.FLOAT32,
                 np.dtype(np.int32): self.s.TensorType.INT32}[a.dtype]
        return self.tensor(a.shape, name, a, ttype)

    def shape(self, i):
        return [int(d) for d in self.tensors[i].shape]

    def op(self, name, inputs, outputs, options=None):
        code = getattr(self.s.BuiltinOperator, name)
        if code not in self.code_index:
            oc = self.s.OperatorCodeT()
            oc.builtinCode = code
            oc.deprecatedBuiltinCode = min(code, 127)
            oc.version = 1
            self.code_index[code] = len(self.codes)
            self.codes.append(oc)
        o = self.s.OperatorT()
        o.opcodeIndex = self.code_index[code]
        o.inputs = np.array(inputs, np.int32)
        o.outputs = np.array(outputs, np.int32)
        if options is not None:
            kind, fields = options
            opt = getattr(self.s, kind + 'T')()
            for k, v in fields.items():
                setattr(opt, k, v)
            o.builtinOptionsType = getattr(self.s.BuiltinOptions, kind)
            o.builtinOptions = opt
        self.operators.append(o)
        return outputs[0]

    def finish(self, inputs, outputs, description):
        import flatbuffers
        m = self.s.ModelT()
        m.version = 3
        m.description = description.encode()
        m.operatorCodes = self.codes
        m.buffers = self.buffers
        g = self.s.SubGraphT()
        g.name = b'main'
        g.tensors = self.tensors
        g.inputs = np.array(inputs, np.int32)
        g.outputs = np.array(outputs, np.int32)
        g.operators = self.operators
        m.subgraphs = [g]
        fb = flatbuffers.Builder(1024)
        fb.Finish(m.Pack(fb), file_identifier=b'TFL3')
        return bytes(fb.Output())


def act_code(name):
    return getattr(tfl.schema.ActivationFunctionType, ACTS[name])


def pad_code(name):
    return getattr(tfl.schema.Padding, name.upper())


def out_size(size, k, stride, dil, padding):
    eff = (k - 1) * dil + 1
    return (size + stride - 1) // stride if padding == 'same' else (size - eff) // stride + 1


# --- Resolving the options: every one not given is drawn from the seed ----------------------

def resolve(args, rng):
    """Fills every option of args that OP uses and that was not given, from rng."""
    def pick(name, draw):
        if getattr(args, name) is None:
            setattr(args, name, draw())

    def two(lo, hi):
        return f'{rng.integers(lo, hi + 1)},{rng.integers(lo, hi + 1)}'

    op = args.op
    shape_given = args.shape is not None
    pick('io', lambda: 'int8')
    pick('shape', lambda: f'{rng.integers(1, 13)},{rng.integers(1, 13)},{rng.integers(1, 9)}')
    if op in ('conv', 'dwconv', 'avgpool', 'maxpool', 'net'):
        pick('padding', lambda: str(rng.choice(['same', 'valid'])))
        pick('kernel', lambda: two(1, 4))
        pick('stride', lambda: two(1, 3))
    if op in ('conv', 'dwconv'):
        pick('dilation', lambda: two(1, 2))
    if op in ('conv', 'dwconv', 'fc', 'add', 'avgpool', 'maxpool', 'net'):
        pick('act', lambda: str(rng.choice(list(ACTS))))
    if op in ('conv', 'net'):
        pick('cout', lambda: int(rng.integers(1, 17)))
    if op in ('dwconv', 'net'):
        pick('depth_multiplier', lambda: int(rng.integers(1, 4)))
    if op in ('fc', 'shape', 'net'):
        pick('units', lambda: int(rng.integers(1, 17)))
    if op == 'fc':
        pick('fc_input', lambda: str(rng.choice(['2d', '4d'])))
        pick('keep_num_dims', lambda: int(rng.integers(0, 2)) if args.fc_input == '4d' else 0)
    if op == 'add':
        pick('broadcast', lambda: str(rng.choice(['same', 'c', 'w', 'hw', 'h1c', 'one'])))
        pick('operand', lambda: str(rng.choice(['input', 'const'])))
    if op == 'mean':
        pick('axes', lambda: str(rng.choice(['1,2', '1', '2', '3', '1,2,3', '2,1'])))
        pick('keep_dims', lambda: int(rng.integers(0, 2)))
    if op == 'pad':
        pick('pads', lambda: ','.join(str(rng.integers(0, 3)) for _ in range(4)))
    if op == 'softmax':
        pick('beta', lambda: float(rng.choice([1.0, 0.5, 2.0, 0.25, 1.5])))
        pick('softmax_rank', lambda: int(rng.choice([2, 4])))
    pick('per_tensor', lambda: 0)
    # A valid (padding) window must fit: a drawn input grows until it does, a given one is refused.
    if args.padding == 'valid' and op in ('conv', 'dwconv', 'avgpool', 'maxpool', 'net'):
        h, w, c = ints(args.shape, 3, 'shape')
        kh, kw = ints(args.kernel, 2, 'kernel')
        dh, dw = ints(args.dilation, 2, 'dilation') if args.dilation else (1, 1)
        need_h, need_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
        if shape_given and (h < need_h or w < need_w):
            raise tfl.BadInput(f'--shape {args.shape}: a VALID {kh}x{kw} window (dilation {dh},{dw}) '
                               f'needs at least {need_h}x{need_w}')
        args.shape = f'{max(h, need_h)},{max(w, need_w)},{c}'


def command_line(args):
    parts = [f'--op {args.op}', f'--seed {args.seed}']
    for k in ('io', 'shape', 'kernel', 'stride', 'dilation', 'padding', 'act', 'cout',
              'depth_multiplier', 'units', 'fc_input', 'keep_num_dims', 'broadcast', 'operand',
              'axes', 'keep_dims', 'pads', 'beta', 'softmax_rank', 'per_tensor'):
        v = getattr(args, k)
        if v is not None:
            parts.append(f'--{k.replace("_", "-")} {v}')
    if args.calibration != 16:
        parts.append(f'--calibration {args.calibration}')
    return 'mkmodel.py ' + ' '.join(parts)


# --- The graphs -------------------------------------------------------------------------------

def weights(rng, shape, fan_in):
    return (rng.standard_normal(shape) / np.sqrt(max(fan_in, 1))).astype(np.float32)


def conv(b, rng, x, args, cout=None):
    _, h, w, c = b.shape(x)
    kh, kw = ints(args.kernel, 2, 'kernel')
    sh, sw = ints(args.stride, 2, 'stride')
    dh, dw = ints(args.dilation, 2, 'dilation') if args.dilation else (1, 1)
    cout = cout or args.cout
    wt = b.const(weights(rng, (cout, kh, kw, c), kh * kw * c), 'conv/filter')
    bias = b.const((rng.standard_normal(cout) * 0.5).astype(np.float32), 'conv/bias')
    oh, ow = out_size(h, kh, sh, dh, args.padding), out_size(w, kw, sw, dw, args.padding)
    y = b.tensor([1, oh, ow, cout], 'conv/out')
    return b.op('CONV_2D', [x, wt, bias], [y], ('Conv2DOptions', dict(
        padding=pad_code(args.padding), strideH=sh, strideW=sw, dilationHFactor=dh,
        dilationWFactor=dw, fusedActivationFunction=act_code(args.act))))


def dwconv(b, rng, x, args):
    _, h, w, c = b.shape(x)
    kh, kw = ints(args.kernel, 2, 'kernel')
    sh, sw = ints(args.stride, 2, 'stride')
    dh, dw = ints(args.dilation, 2, 'dilation') if args.dilation else (1, 1)
    m = args.depth_multiplier
    wt = b.const(weights(rng, (1, kh, kw, c * m), kh * kw), 'dw/filter')
    bias = b.const((rng.standard_normal(c * m) * 0.5).astype(np.float32), 'dw/bias')
    oh, ow = out_size(h, kh, sh, dh, args.padding), out_size(w, kw, sw, dw, args.padding)
    y = b.tensor([1, oh, ow, c * m], 'dw/out')
    return b.op('DEPTHWISE_CONV_2D', [x, wt, bias], [y], ('DepthwiseConv2DOptions', dict(
        padding=pad_code(args.padding), strideH=sh, strideW=sw, depthMultiplier=m,
        dilationHFactor=dh, dilationWFactor=dw, fusedActivationFunction=act_code(args.act))))


def fc(b, rng, x, args, act=None, keep=False):
    shape = b.shape(x)
    k = shape[-1] if keep else int(np.prod(shape[1:]))
    units = args.units
    wt = b.const(weights(rng, (units, k), k), 'fc/weights')
    bias = b.const((rng.standard_normal(units) * 0.5).astype(np.float32), 'fc/bias')
    y = b.tensor(shape[:-1] + [units] if keep else [shape[0], units], 'fc/out')
    return b.op('FULLY_CONNECTED', [x, wt, bias], [y], ('FullyConnectedOptions', dict(
        fusedActivationFunction=act_code(act or args.act), keepNumDims=bool(keep))))


def pool(b, x, args, name):
    _, h, w, c = b.shape(x)
    kh, kw = ints(args.kernel, 2, 'kernel')
    sh, sw = ints(args.stride, 2, 'stride')
    y = b.tensor([1, out_size(h, kh, sh, 1, args.padding), out_size(w, kw, sw, 1, args.padding), c], 'pool/out')
    return b.op(name, [x], [y], ('Pool2DOptions', dict(
        padding=pad_code(args.padding), strideH=sh, strideW=sw, filterHeight=kh, filterWidth=kw,
        fusedActivationFunction=act_code(args.act))))


BROADCAST = {  # the second operand's shape, from the first's [1, h, w, c]
    'same': lambda h, w, c: [1, h, w, c], 'c': lambda h, w, c: [1, 1, 1, c],
    'w': lambda h, w, c: [1, 1, w, 1], 'hw': lambda h, w, c: [1, h, w, 1],
    'h1c': lambda h, w, c: [1, h, 1, c], 'one': lambda h, w, c: [1],
}


def build(args, rng):
    """The float model: (bytes, [input shapes], calibration scale)."""
    b = Builder()
    h, w, c = ints(args.shape, 3, 'shape')
    op = args.op
    x = b.tensor([1, h, w, c], 'input')
    inputs, scale = [x], 1.0
    if op == 'conv':
        y = conv(b, rng, x, args)
    elif op == 'dwconv':
        y = dwconv(b, rng, x, args)
    elif op == 'fc':
        if args.fc_input == '2d':
            b.tensors[x].shape = np.array([1, h * w * c], np.int32)
        y = fc(b, rng, x, args, keep=bool(args.keep_num_dims))
    elif op == 'add':
        if args.broadcast not in BROADCAST:
            raise tfl.BadInput(f'--broadcast {args.broadcast}: one of {", ".join(BROADCAST)}')
        shape2 = BROADCAST[args.broadcast](h, w, c)
        if args.operand == 'input':
            x2 = b.tensor(shape2, 'input2')
            inputs.append(x2)
        else:
            x2 = b.const((rng.standard_normal(shape2) * 2).astype(np.float32), 'add/operand')
        y = b.tensor([1, h, w, c], 'add/out')
        b.op('ADD', [x, x2], [y], ('AddOptions', dict(fusedActivationFunction=act_code(args.act))))
    elif op in ('avgpool', 'maxpool'):
        y = pool(b, x, args, 'AVERAGE_POOL_2D' if op == 'avgpool' else 'MAX_POOL_2D')
    elif op == 'mean':
        axes = ints(args.axes, None, 'axes')
        if not axes or any(not 1 <= a <= 3 for a in axes):
            raise tfl.BadInput(f'--axes {args.axes}: axes among 1, 2, 3')
        dims = [1, h, w, c]
        out = [1 if i in axes else d for i, d in enumerate(dims)] if args.keep_dims else \
            [d for i, d in enumerate(dims) if i not in axes]
        y = b.tensor(out, 'mean/out')
        b.op('MEAN', [x, b.const(np.array(axes, np.int32), 'mean/axes')], [y],
             ('ReducerOptions', dict(keepDims=bool(args.keep_dims))))
    elif op == 'pad':
        t, bo, l, r = ints(args.pads, 4, 'pads')
        pads = np.array([[0, 0], [t, bo], [l, r], [0, 0]], np.int32)
        y = b.tensor([1, h + t + bo, w + l + r, c], 'pad/out')
        b.op('PAD', [x, b.const(pads, 'pad/paddings')], [y], ('PadOptions', {}))
    elif op == 'reshape':
        new = [1, w, h * c]
        y = b.tensor(new, 'reshape/out')
        b.op('RESHAPE', [x, b.const(np.array(new, np.int32), 'reshape/shape')], [y],
             ('ReshapeOptions', dict(newShape=np.array(new, np.int32))))
    elif op == 'softmax':
        if args.softmax_rank == 2:
            b.tensors[x].shape = np.array([1, h * w * c], np.int32)
        scale = 4.0
        y = b.tensor(b.shape(x), 'softmax/out')
        b.op('SOFTMAX', [x], [y], ('SoftmaxOptions', dict(beta=float(args.beta))))
    elif op == 'logistic':
        scale = 4.0
        y = b.tensor([1, h, w, c], 'logistic/out')
        b.op('LOGISTIC', [x], [y])
    elif op == 'shape':
        shp = b.tensor([4], 'shape/out', ttype=tfl.schema.TensorType.INT32)
        b.op('SHAPE', [x], [shp], ('ShapeOptions', dict(outType=tfl.schema.TensorType.INT32)))
        batch = b.tensor([], 'slice/out', ttype=tfl.schema.TensorType.INT32)
        b.op('STRIDED_SLICE', [shp, b.const(np.array([0], np.int32), 'slice/begin'),
                               b.const(np.array([1], np.int32), 'slice/end'),
                               b.const(np.array([1], np.int32), 'slice/strides')], [batch],
             ('StridedSliceOptions', dict(shrinkAxisMask=1)))
        packed = b.tensor([2], 'pack/out', ttype=tfl.schema.TensorType.INT32)
        b.op('PACK', [batch, b.const(np.array(h * w * c, np.int32), 'pack/features')], [packed],
             ('PackOptions', dict(valuesCount=2, axis=0)))
        flat = b.tensor([1, h * w * c], 'reshape/out')
        b.op('RESHAPE', [x, packed], [flat], ('ReshapeOptions', {}))
        y = fc(b, rng, flat, args, act='relu')
    elif op == 'net':
        y1 = conv(b, rng, x, args)
        args2 = argparse.Namespace(**vars(args))
        args2.stride, args2.padding, args2.dilation = '1,1', 'same', '1,1'
        y2 = dwconv(b, rng, y1, args2)
        cm = b.shape(y2)[-1]
        y3 = conv(b, rng, y2, argparse.Namespace(**{**vars(args2), 'kernel': '1,1'}), cout=b.shape(y1)[-1]) \
            if cm != b.shape(y1)[-1] else y2
        s = b.tensor(b.shape(y1), 'residual/out')
        b.op('ADD', [y1, y3], [s], ('AddOptions', dict(fusedActivationFunction=act_code(args.act))))
        _, ph, pw, pc = b.shape(s)
        p = b.tensor([1, 1, 1, pc], 'gap/out')
        b.op('AVERAGE_POOL_2D', [s], [p], ('Pool2DOptions', dict(
            padding=pad_code('valid'), strideH=1, strideW=1, filterHeight=ph, filterWidth=pw)))
        r = b.tensor([1, pc], 'flatten/out')
        b.op('RESHAPE', [p, b.const(np.array([1, pc], np.int32), 'flatten/shape')], [r],
             ('ReshapeOptions', dict(newShape=np.array([1, pc], np.int32))))
        logits = fc(b, rng, r, args, act='none')
        y = b.tensor(b.shape(logits), 'softmax/out')
        b.op('SOFTMAX', [logits], [y], ('SoftmaxOptions', dict(beta=1.0)))
    else:
        raise AssertionError(op)
    for t in b.tensors:
        if any(d <= 0 for d in t.shape):
            raise tfl.BadInput(f'{command_line(args)}: tensor {t.name.decode()} would have shape {list(t.shape)}')
    return b.finish(inputs, [y], command_line(args)), [b.shape(i) for i in inputs], scale


def quantize(float_model, shapes, rng, args, scale):
    from ai_edge_litert import _pywrap_tensorflow_lite_calibration_wrapper as cal
    w = cal.CalibrationWrapper(float_model, [], [])
    w.Prepare()
    for _ in range(args.calibration):
        w.FeedTensor([(rng.standard_normal(s) * scale).astype(np.float32) for s in shapes])
    io = np.dtype(np.float32 if args.io == 'float' else np.int8).num
    # The quantizer refuses per-tensor DEPTHWISE_CONV_2D weights ("Quantized dimension for
    # tensor property and quantization parameters do not match"): those are quantized per
    # channel, then requantized to one scale below.
    per_tensor = bool(args.per_tensor) and args.op != 'dwconv'
    # input type, output type, allow float, activation type, bias type, disable per-channel,
    # disable per-channel for dense layers (FULLY_CONNECTED is per-tensor either way here)
    q = bytes(w.QuantizeModel(io, io, False, np.dtype(np.int8).num, np.dtype(np.int32).num,
                              per_tensor, True))
    return depthwise_per_tensor(q) if args.per_tensor and args.op == 'dwconv' else q


def depthwise_per_tensor(model_bytes):
    """The int8 model with every DEPTHWISE_CONV_2D's weights on one scale (the largest channel
    scale: no weight saturates) and its bias on input scale x that scale, both re-rounded from
    the values the per-channel ones stand for."""
    import flatbuffers
    s = tfl.schema
    m = s.ModelT.InitFromPackedBuf(model_bytes, 0)
    g = m.subgraphs[0]
    dw = s.BuiltinOperator.DEPTHWISE_CONV_2D
    for op in g.operators:
        oc = m.operatorCodes[op.opcodeIndex]
        if max(oc.builtinCode, oc.deprecatedBuiltinCode) != dw:
            continue
        x, w, b = (g.tensors[i] for i in op.inputs[:3])
        ws = np.asarray(w.quantization.scale, np.float64)
        wq = np.frombuffer(bytes(m.buffers[w.buffer].data), np.int8).reshape([int(d) for d in w.shape])
        scale = float(ws.max())
        new_w = np.clip(np.rint(wq * ws / scale), -127, 127).astype(np.int8)
        bq = np.frombuffer(bytes(m.buffers[b.buffer].data), np.int32)
        xs = float(x.quantization.scale[0])
        new_b = np.rint(bq * (xs * ws) / (xs * scale)).astype(np.int32)
        m.buffers[w.buffer].data = np.frombuffer(new_w.tobytes(), np.uint8)
        m.buffers[b.buffer].data = np.frombuffer(new_b.tobytes(), np.uint8)
        for t, sc in ((w, scale), (b, xs * scale)):
            t.quantization.scale = np.array([sc], np.float32)
            t.quantization.zeroPoint = np.array([0], np.int64)
            t.quantization.quantizedDimension = 0
    fb = flatbuffers.Builder(1024)
    fb.Finish(m.Pack(fb), file_identifier=b'TFL3')
    return bytes(fb.Output())


# --- The suite: every op and option, named, for the tests ---------------------------------

SUITE = [  # name, arguments (the seed is the suite's)
    ('conv-same-s1-relu', '--op conv --shape 7,9,3 --kernel 3,3 --stride 1,1 --dilation 1,1 --padding same --act relu --cout 5'),
    ('conv-valid-s2-relu6', '--op conv --shape 9,8,4 --kernel 3,2 --stride 2,2 --dilation 1,1 --padding valid --act relu6 --cout 6'),
    ('conv-dil2-n1to1', '--op conv --shape 10,9,2 --kernel 3,3 --stride 1,1 --dilation 2,2 --padding same --act relu_n1_to_1 --cout 3'),
    ('conv-1x1-pertensor', '--op conv --shape 5,6,8 --kernel 1,1 --stride 1,1 --dilation 1,1 --padding valid --act none --cout 4 --per-tensor 1'),
    ('conv-odd-s3', '--op conv --shape 11,5,1 --kernel 4,2 --stride 3,2 --dilation 1,1 --padding same --act none --cout 8'),
    ('conv-dil-stride', '--op conv --shape 12,12,3 --kernel 2,3 --stride 2,3 --dilation 2,1 --padding valid --act relu --cout 7'),
    ('conv-float-io', '--op conv --io float --shape 8,8,3 --kernel 3,3 --stride 2,2 --dilation 1,1 --padding same --act relu --cout 4'),
    ('dw-m1-same', '--op dwconv --shape 8,7,5 --kernel 3,3 --stride 1,1 --dilation 1,1 --padding same --act relu --depth-multiplier 1'),
    ('dw-m3-valid-s2', '--op dwconv --shape 9,9,2 --kernel 3,3 --stride 2,2 --dilation 1,1 --padding valid --act relu6 --depth-multiplier 3'),
    ('dw-m8', '--op dwconv --shape 6,7,1 --kernel 2,2 --stride 2,2 --dilation 1,1 --padding same --act relu --depth-multiplier 8'),
    ('dw-dil2', '--op dwconv --shape 10,6,4 --kernel 3,2 --stride 1,1 --dilation 2,1 --padding same --act none --depth-multiplier 1'),
    ('dw-pertensor-n1to1', '--op dwconv --shape 7,5,3 --kernel 1,3 --stride 1,2 --dilation 1,1 --padding valid --act relu_n1_to_1 --depth-multiplier 2 --per-tensor 1'),
    ('fc-2d', '--op fc --shape 1,1,40 --units 10 --fc-input 2d --keep-num-dims 0 --act none'),
    ('fc-4d-relu', '--op fc --shape 3,4,5 --units 7 --fc-input 4d --keep-num-dims 0 --act relu'),
    ('fc-keepdims-relu6', '--op fc --shape 2,3,6 --units 5 --fc-input 4d --keep-num-dims 1 --act relu6'),
    ('fc-n1to1', '--op fc --shape 1,1,17 --units 3 --fc-input 2d --keep-num-dims 0 --act relu_n1_to_1'),
    ('add-same-inputs', '--op add --shape 5,6,3 --broadcast same --operand input --act none'),
    ('add-same-relu', '--op add --shape 4,4,8 --broadcast same --operand input --act relu'),
    ('add-bcast-c-const', '--op add --shape 5,3,4 --broadcast c --operand const --act relu6'),
    ('add-bcast-hw-input', '--op add --shape 6,5,3 --broadcast hw --operand input --act none'),
    ('add-bcast-w-n1to1', '--op add --shape 3,7,2 --broadcast w --operand input --act relu_n1_to_1'),
    ('add-bcast-h1c', '--op add --shape 4,5,6 --broadcast h1c --operand const --act none'),
    ('add-bcast-one', '--op add --shape 3,3,3 --broadcast one --operand const --act none'),
    ('avgpool-valid', '--op avgpool --shape 8,8,3 --kernel 2,2 --stride 2,2 --padding valid --act none'),
    ('avgpool-same-odd', '--op avgpool --shape 7,5,4 --kernel 3,2 --stride 2,3 --padding same --act relu'),
    ('avgpool-global', '--op avgpool --shape 6,9,5 --kernel 6,9 --stride 6,9 --padding valid --act none'),
    ('maxpool-valid', '--op maxpool --shape 9,8,2 --kernel 3,3 --stride 2,2 --padding valid --act none'),
    ('maxpool-same-relu6', '--op maxpool --shape 7,7,3 --kernel 2,3 --stride 1,2 --padding same --act relu6'),
    ('mean-hw', '--op mean --shape 5,6,4 --axes 1,2 --keep-dims 0'),
    ('mean-hw-keep', '--op mean --shape 4,3,7 --axes 1,2 --keep-dims 1'),
    ('mean-c', '--op mean --shape 3,4,6 --axes 3 --keep-dims 1'),
    ('mean-h', '--op mean --shape 6,2,3 --axes 1 --keep-dims 0'),
    ('pad-hw', '--op pad --shape 5,4,3 --pads 1,1,1,1'),
    ('pad-asym', '--op pad --shape 3,6,2 --pads 0,2,1,0'),
    ('reshape', '--op reshape --shape 4,3,5'),
    ('softmax-2d', '--op softmax --shape 1,1,10 --beta 1.0 --softmax-rank 2'),
    ('softmax-4d-beta05', '--op softmax --shape 2,3,6 --beta 0.5 --softmax-rank 4'),
    ('softmax-beta2', '--op softmax --shape 1,1,33 --beta 2.0 --softmax-rank 2'),
    ('logistic', '--op logistic --shape 4,5,3'),
    ('logistic-float-io', '--op logistic --io float --shape 1,1,20'),
    ('shape-slice-pack', '--op shape --shape 5,8,1 --units 6'),
    ('net', '--op net --shape 10,9,3 --kernel 3,3 --stride 2,2 --padding same --act relu --cout 8 --depth-multiplier 2 --units 6'),
    ('net-float-io', '--op net --io float --shape 9,9,1 --kernel 3,3 --stride 1,1 --padding valid --act relu6 --cout 4 --depth-multiplier 1 --units 5'),
]


def build_one(argv):
    """(resolved command line, int8 model bytes) for mkmodel.py's arguments (without --out)."""
    args = parse(argv + ['--out', '-'])
    check_args(args)
    float_model, shapes, scale = build(args, np.random.default_rng([args.seed, OPS.index(args.op), 1]))
    rng = np.random.default_rng([args.seed, OPS.index(args.op), 2])
    return command_line(args), quantize(float_model, shapes, rng, args, scale)


def suite(argv):
    ap = argparse.ArgumentParser(prog='mkmodel.py suite')
    ap.add_argument('--out', required=True, help='folder of the models, <name>.tflite')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--list', action='store_true', help='print the suite, build nothing')
    args = ap.parse_args(argv)
    if args.list:
        for name, a in SUITE:
            print(f'{name}\t{a}')
        return 0
    if args.seed < 0:
        raise tfl.BadInput(f'--seed {args.seed}: must be >= 0')
    with tfl.AtomicDir(args.out) as d:
        lines = []
        for name, a in SUITE:
            cmd, q = build_one(a.split() + ['--seed', str(args.seed)])
            d.write(name + '.tflite', q)
            lines.append(f'{name}\t{cmd}')
        d.write('SUITE.tsv', ('\n'.join(lines) + '\n').encode())
    print(f'mkmodel.py suite: {len(SUITE)} models (seed {args.seed}) in {args.out}')
    return 0


# --- The int8 check ---------------------------------------------------------------------------

SHAPE_OPS = {'SHAPE', 'STRIDED_SLICE', 'PACK'}
MAC_OPS = {'CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED'}


def int8_problems(model):
    """Why `model` is not a fully int8 model (empty when it is): every activation int8 with one
    scale and zero point, float only at the model's ends through QUANTIZE/DEQUANTIZE, weights
    int8 with zero point 0, biases int32, int32 only in shape arithmetic and operand tensors."""
    p = []
    ends = set(model.inputs) | set(model.outputs)
    for op in model.ops:
        for pos, i in enumerate(op.inputs):
            if i < 0:
                continue
            t = model.tensors[i]
            where = f'op {op.index} {op.name} input {pos} (tensor {i} {t.name})'
            if op.name in MAC_OPS and pos == 1:
                if t.type != 'INT8' or any(z != 0 for z in t.zero_point):
                    p.append(f'{where}: weights {t.type} zero points {t.zero_point[:4]}')
            elif op.name in MAC_OPS and pos == 2:
                if t.type != 'INT32':
                    p.append(f'{where}: bias {t.type}')
            elif t.type == 'FLOAT32':
                if not (i in ends and op.name == 'QUANTIZE'):
                    p.append(f'{where}: FLOAT32')
            elif t.type not in ('INT8', 'INT32'):
                p.append(f'{where}: {t.type}')
        for i in op.outputs:
            t = model.tensors[i]
            where = f'op {op.index} {op.name} output (tensor {i} {t.name})'
            if op.name in SHAPE_OPS:
                if t.type != 'INT32':
                    p.append(f'{where}: {t.type}, int32 expected')
            elif t.type == 'FLOAT32':
                if not (i in ends and op.name == 'DEQUANTIZE'):
                    p.append(f'{where}: FLOAT32')
            elif t.type != 'INT8':
                p.append(f'{where}: {t.type}')
            elif (len(t.scale) != 1 or len(t.zero_point) != 1):
                p.append(f'{where}: {len(t.scale)} scales, one expected for an activation')
    return p


def check(paths):
    bad = 0
    for path in paths:
        probs = int8_problems(tfl.load(path))
        for pr in probs:
            print(f'{path}: {pr}')
        bad += bool(probs)
    print(f'mkmodel.py check: {len(paths) - bad} of {len(paths)} models fully int8')
    return 1 if bad else 0


def parse(argv):
    ap = argparse.ArgumentParser(prog='mkmodel.py', description=__doc__.split('\n')[0])
    ap.add_argument('--op', required=True, choices=OPS)
    ap.add_argument('--seed', type=int, required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--float-out', help='also write the float model here')
    ap.add_argument('--io', choices=['int8', 'float'])
    ap.add_argument('--shape', help='H,W,C of the input (batch 1)')
    ap.add_argument('--kernel', help='KH,KW')
    ap.add_argument('--stride', help='SH,SW')
    ap.add_argument('--dilation', help='DH,DW')
    ap.add_argument('--padding', choices=['same', 'valid'])
    ap.add_argument('--act', choices=list(ACTS), help='fused activation')
    ap.add_argument('--cout', type=int, help='CONV_2D output channels')
    ap.add_argument('--depth-multiplier', type=int)
    ap.add_argument('--units', type=int, help='FULLY_CONNECTED outputs')
    ap.add_argument('--fc-input', choices=['2d', '4d'], help='FULLY_CONNECTED input rank')
    ap.add_argument('--keep-num-dims', type=int, choices=[0, 1])
    ap.add_argument('--broadcast', help='ADD second operand shape: ' + ', '.join(BROADCAST))
    ap.add_argument('--operand', choices=['input', 'const'], help='ADD second operand')
    ap.add_argument('--axes', help='MEAN axes, e.g. 1,2')
    ap.add_argument('--keep-dims', type=int, choices=[0, 1])
    ap.add_argument('--pads', help='PAD top,bottom,left,right')
    ap.add_argument('--beta', type=float, help='SOFTMAX beta')
    ap.add_argument('--softmax-rank', type=int, choices=[2, 4])
    ap.add_argument('--per-tensor', type=int, choices=[0, 1], help='1: per-tensor weight scales')
    ap.add_argument('--calibration', type=int, default=16, help='calibration inputs (default 16)')
    return ap.parse_args(argv)


def main(argv):
    if argv[:1] == ['suite']:
        return suite(argv[1:])
    if argv[:1] == ['check']:
        if len(argv) < 2:
            raise tfl.BadInput('usage: mkmodel.py check M.tflite...')
        return check(argv[1:])
    try:
        args = parse(argv)
    except SystemExit as e:
        return e.code
    check_args(args)
    print(command_line(args))
    float_model, shapes, scale = build(args, np.random.default_rng([args.seed, OPS.index(args.op), 1]))
    if args.float_out:
        tfl.write_atomic(args.float_out, float_model)
    q = quantize(float_model, shapes, np.random.default_rng([args.seed, OPS.index(args.op), 2]), args, scale)
    tfl.write_atomic(args.out, q)
    return 0


def check_args(args):
    """Resolves the options left out and checks them all (BadInput)."""
    if args.seed < 0:
        raise tfl.BadInput(f'--seed {args.seed}: must be >= 0')
    # Options, weights and calibration inputs from three streams: giving an option explicitly
    # (as the printed command line does) leaves the weights and calibration inputs as they were.
    resolve(args, np.random.default_rng([args.seed, OPS.index(args.op), 0]))
    for name, n in (('shape', 3), ('kernel', 2), ('stride', 2), ('dilation', 2)):
        v = getattr(args, name)
        if v is not None and any(x < 1 for x in ints(v, n, name)):
            raise tfl.BadInput(f'--{name} {v}: every value must be >= 1')
    if args.pads is not None and any(x < 0 for x in ints(args.pads, 4, 'pads')):
        raise tfl.BadInput(f'--pads {args.pads}: values must be >= 0')
    for name in ('cout', 'depth_multiplier', 'units', 'calibration'):
        v = getattr(args, name)
        if v is not None and v < 1:
            raise tfl.BadInput(f'--{name.replace("_", "-")} {v}: must be >= 1')


if __name__ == '__main__':
    sys.exit(tfl.main_guard('mkmodel.py', lambda: main(sys.argv[1:])))
