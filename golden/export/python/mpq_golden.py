# SPDX-License-Identifier: Apache-2.0
"""mpq's bit-exact golden model from Python: a thin ctypes binding of build/libmpq.so.

For cocotb and other Python testbenches (docs/scoreboard.md). The binding converts arguments
and raises on errors; every number comes from the C library's scoreboard API
(golden/export/mpq_sb.h, whose comments are the manual of each call)::

    import mpq_golden as mg
    layer = mg.Layer()                        # build/libmpq.so, or $MPQ_LIBMPQ, or load(path)
    layer.fc(m=2, k=16, n=4)
    layer.put(mg.X, x)                        # ints: lists, arrays, numpy int arrays
    layer.put(mg.W, w)
    layer.requant_scales(mg.RQ_DOUBLE, in_scale, w_scales, out_scale)
    layer.output(out_offset=-3, act_min=-128, act_max=127)
    layer.run()
    if layer.compare(dut_outputs):
        raise AssertionError(layer.report())  # the first mismatch in the layer's coordinates

Needs Python 3.8+ and nothing else. A call the library refuses raises GoldenError with its
message; the library itself never prints and never exits.
"""
import ctypes
import os

__all__ = [
    "GoldenError", "Layer", "load", "padding", "quantize_multiplier", "quantize_scale",
    "requant_value", "acc_fit",
]

# Constants of golden/arith/mpq.h and golden/export/mpq_sb.h; load() checks the names the
# library gives them, so that a change on the C side cannot go unnoticed here.
OK, EPARAM, ENOMEM = 0, -1, -2
LAYER_FC, LAYER_CONV2D, LAYER_DEPTHWISE, LAYER_AVGPOOL, LAYER_MAXPOOL = range(5)
X, W, T, ALPHA, HP, BIAS, MULT, SHIFT, Y, OVF, FIRST = range(11)
RQ_DOUBLE, RQ_SINGLE, RQ_S64_REDUCED, RQ_GENERIC = range(4)
ACC_WRAP, ACC_SAT = range(2)
ORDER_SEQ, ORDER_GROUPED = range(2)
(ROUND_FLOOR, ROUND_ZERO, ROUND_HALF_UP, ROUND_HALF_DOWN, ROUND_HALF_AWAY,
 ROUND_HALF_EVEN) = range(6)
OVF_SAT, OVF_SAT_SYM, OVF_WRAP = range(3)        # overflow modes of the generic requantizer
OVF_FINAL, OVF_ANY = 1, 2                         # overflow flags of the Y tensor's outputs

_LAYER_NAMES = ("fc", "conv2d", "depthwise", "avgpool", "maxpool")
_TENSOR_NAMES = ("x", "w", "t", "alpha", "hp", "bias", "mult", "shift", "y", "ovf", "first")
_INT32 = (-(1 << 31), (1 << 31) - 1)


class GoldenError(Exception):
    """A call the golden library refused: .status (negative MPQ_* code) and the message."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


_lib = None

_c_int, _c_uint, _c_ll, _c_size = ctypes.c_int, ctypes.c_uint, ctypes.c_longlong, ctypes.c_size_t
_p32, _p64 = ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.c_int64)
_SIGNATURES = {
    # name: (restype, argtypes)
    "mpq_strerror": (ctypes.c_char_p, [_c_int]),
    "mpq_layer_name": (ctypes.c_char_p, [_c_int]),
    "mpq_sb_tensor_name": (ctypes.c_char_p, [_c_int]),
    "mpq_sb_new": (ctypes.c_void_p, []),
    "mpq_sb_free": (None, [ctypes.c_void_p]),
    "mpq_sb_error": (ctypes.c_char_p, [ctypes.c_void_p]),
    "mpq_sb_fc": (_c_int, [ctypes.c_void_p, _c_uint, _c_uint, _c_uint]),
    "mpq_sb_conv": (_c_int, [ctypes.c_void_p, _c_int] + [_c_uint] * 16),
    "mpq_sb_padding": (_c_int, [_c_uint, _c_uint, _c_uint, _c_uint, _c_int,
                                ctypes.POINTER(_c_uint), ctypes.POINTER(_c_uint)]),
    "mpq_sb_offsets": (_c_int, [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32]),
    "mpq_sb_acc": (_c_int, [ctypes.c_void_p, _c_uint, _c_int, _c_int, _c_uint]),
    "mpq_sb_requant": (_c_int, [ctypes.c_void_p, _c_int, _c_uint]),
    "mpq_sb_requant_generic": (_c_int, [ctypes.c_void_p, _c_int, _c_int]),
    "mpq_sb_output": (_c_int, [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32, ctypes.c_int32]),
    "mpq_sb_alpha_per_tensor": (_c_int, [ctypes.c_void_p, _c_int]),
    "mpq_sb_count": (_c_ll, [ctypes.c_void_p, _c_int]),
    "mpq_sb_put": (_c_int, [ctypes.c_void_p, _c_int, _c_size, _c_size, _p32]),
    "mpq_sb_clear": (_c_int, [ctypes.c_void_p, _c_int]),
    "mpq_sb_run": (_c_int, [ctypes.c_void_p]),
    "mpq_sb_get": (_c_int, [ctypes.c_void_p, _c_int, _c_size, _c_size, _p32]),
    "mpq_sb_get_acc": (_c_int, [ctypes.c_void_p, _c_size, _c_size, _p64]),
    "mpq_sb_ovf_count": (_c_ll, [ctypes.c_void_p, _c_uint]),
    "mpq_sb_ovf_describe": (ctypes.c_char_p, [ctypes.c_void_p]),
    "mpq_sb_compare": (_c_ll, [ctypes.c_void_p, _c_size, _c_size, _p32]),
    "mpq_sb_mismatches": (_c_ll, [ctypes.c_void_p]),
    "mpq_sb_describe": (ctypes.c_char_p, [ctypes.c_void_p, _c_size, ctypes.c_int32]),
    "mpq_sb_report": (ctypes.c_char_p, [ctypes.c_void_p]),
    "mpq_quantize_multiplier": (_c_int, [ctypes.c_double, _p32, ctypes.POINTER(_c_int)]),
    "mpq_sb_quantize_scale": (_c_int, [ctypes.c_double] * 3 + [_p32, _p32]),
    "mpq_sb_requant_value": (_c_int, [_c_int, ctypes.c_int64, ctypes.c_int32, ctypes.c_int32,
                                      _c_int, _c_int, ctypes.c_int32, ctypes.c_int32,
                                      ctypes.c_int32, _p32]),
    "mpq_sb_acc_fit": (_c_int, [ctypes.c_int64, _c_uint, _c_int, _p64,
                                ctypes.POINTER(_c_int)]),
}


def _default_path():
    env = os.environ.get("MPQ_LIBMPQ")
    if env:
        return env
    # golden/export/python/ -> the repository's build/
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "..", "build", "libmpq.so")


def load(path=None):
    """Loads the golden library (path, else $MPQ_LIBMPQ, else build/libmpq.so of this
    repository: `make export` builds it) once, checks its constants, and returns it."""
    global _lib
    if _lib is not None and path is None:
        return _lib
    path = path or _default_path()
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no golden library here (build it with `make export`, "
                                "or set MPQ_LIBMPQ)")
    lib = ctypes.CDLL(path)
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    for i, want in enumerate(_LAYER_NAMES):
        if lib.mpq_layer_name(i).decode() != want:
            raise GoldenError(EPARAM, f"{path}: layer kind {i} is "
                              f"{lib.mpq_layer_name(i).decode()!r} in C, {want!r} here")
    for i, want in enumerate(_TENSOR_NAMES):
        if lib.mpq_sb_tensor_name(i).decode() != want:
            raise GoldenError(EPARAM, f"{path}: tensor {i} is "
                              f"{lib.mpq_sb_tensor_name(i).decode()!r} in C, {want!r} here")
    _lib = lib
    return lib


def _ints(values, what):
    """values as a ctypes int32 array, each checked to be an integer of 32 bits."""
    vals = [int(v) for v in values]
    for i, v in enumerate(vals):
        if not _INT32[0] <= v <= _INT32[1]:
            raise ValueError(f"{what}[{i}] = {v} does not fit 32 bits")
    return (ctypes.c_int32 * max(len(vals), 1))(*vals), len(vals)


class Layer:
    """One layer under check (a handle of mpq_sb.h). Declare it (fc or conv), set its scalars,
    put its tensors, run(), then get() its outputs or compare() the DUT's."""

    def __init__(self, lib=None):
        self._h = None
        self._lib = lib or load()
        self._h = self._lib.mpq_sb_new()
        if not self._h:
            raise MemoryError("mpq_sb_new: out of memory")

    def close(self):
        if self._h:
            self._lib.mpq_sb_free(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def _check(self, status):
        if status < 0:
            raise GoldenError(status, self._lib.mpq_sb_error(self._h).decode())
        return status

    # ---- declaring the layer and its scalars
    def fc(self, m, k, n):
        self._check(self._lib.mpq_sb_fc(self._h, m, k, n))

    def conv(self, kind, batches, in_h, in_w, in_c, out_c, kh, kw, sy, sx, py, px, dy, dx,
             groups, out_h, out_w):
        """Any spatial kind (LAYER_CONV2D, LAYER_DEPTHWISE, LAYER_AVGPOOL, LAYER_MAXPOOL);
        padding above/left, and the output size that implies the far side's (padding())."""
        self._check(self._lib.mpq_sb_conv(self._h, kind, batches, in_h, in_w, in_c, out_c, kh,
                                          kw, sy, sx, py, px, dy, dx, groups, out_h, out_w))

    def offsets(self, in_offset, w_offset=0):
        self._check(self._lib.mpq_sb_offsets(self._h, in_offset, w_offset))

    def acc(self, bits, mode=ACC_WRAP, order=ORDER_SEQ, group=1):
        self._check(self._lib.mpq_sb_acc(self._h, bits, mode, order, group))

    def requant(self, kind, nparams):
        self._check(self._lib.mpq_sb_requant(self._h, kind, nparams))

    def requant_generic(self, round_mode, ovf_mode):
        self._check(self._lib.mpq_sb_requant_generic(self._h, round_mode, ovf_mode))

    def output(self, out_offset, act_min, act_max):
        self._check(self._lib.mpq_sb_output(self._h, out_offset, act_min, act_max))

    def alpha_per_tensor(self, on=True):
        self._check(self._lib.mpq_sb_alpha_per_tensor(self._h, int(bool(on))))

    def requant_scales(self, kind, in_scale, w_scales, out_scale):
        """TFLite's requantization from float scales: one (mult, shift) per entry of w_scales
        (one entry: per tensor), from in_scale * w_scale / out_scale."""
        pairs = [quantize_scale(in_scale, s, out_scale, self._lib) for s in w_scales]
        self.requant(kind, len(pairs))
        self.put(MULT, [p[0] for p in pairs])
        self.put(SHIFT, [p[1] for p in pairs])

    # ---- tensors
    def count(self, tensor):
        return self._check(self._lib.mpq_sb_count(self._h, tensor))

    def put(self, tensor, values, offset=0):
        arr, n = _ints(values, _TENSOR_NAMES[tensor] if 0 <= tensor < 11 else "values")
        self._check(self._lib.mpq_sb_put(self._h, tensor, offset, n, arr))

    def clear(self, tensor):
        self._check(self._lib.mpq_sb_clear(self._h, tensor))

    def run(self):
        self._check(self._lib.mpq_sb_run(self._h))

    def get(self, tensor):
        n = self.count(tensor)
        arr = (ctypes.c_int32 * max(n, 1))()
        self._check(self._lib.mpq_sb_get(self._h, tensor, 0, n, arr))
        return list(arr[:n])

    def get_acc(self):
        n = self.count(Y)
        arr = (ctypes.c_int64 * max(n, 1))()
        self._check(self._lib.mpq_sb_get_acc(self._h, 0, n, arr))
        return list(arr[:n])

    # ---- overflow report and comparison
    def ovf_count(self, which=OVF_ANY):
        return self._check(self._lib.mpq_sb_ovf_count(self._h, which))

    def ovf_describe(self):
        return self._lib.mpq_sb_ovf_describe(self._h).decode()

    def compare(self, got, offset=0):
        """Compares the DUT's outputs got (output elements offset, offset+1, ...) with the last
        run's; returns how many differ. Mismatches add up until the next run()."""
        arr, n = _ints(got, "got")
        return self._check(self._lib.mpq_sb_compare(self._h, offset, n, arr))

    def mismatches(self):
        return self._check(self._lib.mpq_sb_mismatches(self._h))

    def describe(self, index, got):
        return self._lib.mpq_sb_describe(self._h, index, got).decode()

    def report(self):
        return self._lib.mpq_sb_report(self._h).decode()


# ---- stateless helpers
def padding(in_size, k, stride=1, dilation=1, same=True, lib=None):
    """TFLite's padding of one axis: (pad above or left, output size) for SAME or VALID."""
    lib = lib or load()
    pad, out = ctypes.c_uint(), ctypes.c_uint()
    st = lib.mpq_sb_padding(in_size, k, stride, dilation, int(bool(same)), pad, out)
    if st:
        raise GoldenError(st, f"padding: input {in_size}, kernel {k}, stride {stride}, "
                          f"dilation {dilation}: {lib.mpq_strerror(st).decode()}")
    return pad.value, out.value


def quantize_multiplier(real, lib=None):
    """TFLite's QuantizeMultiplier: (mult, shift) with real = mult * 2^(shift - 31)."""
    lib = lib or load()
    mult, shift = ctypes.c_int32(), ctypes.c_int()
    st = lib.mpq_quantize_multiplier(real, mult, shift)
    if st:
        raise GoldenError(st, f"quantize_multiplier({real!r}): {lib.mpq_strerror(st).decode()}")
    return mult.value, shift.value


def quantize_scale(in_scale, w_scale, out_scale, lib=None):
    """(mult, shift) of in_scale * w_scale / out_scale, computed in double as TFLite does."""
    lib = lib or load()
    mult, shift = ctypes.c_int32(), ctypes.c_int32()
    st = lib.mpq_sb_quantize_scale(in_scale, w_scale, out_scale, mult, shift)
    if st:
        raise GoldenError(st, f"quantize_scale({in_scale!r}, {w_scale!r}, {out_scale!r}): "
                          f"{lib.mpq_strerror(st).decode()}")
    return mult.value, shift.value


def requant_value(kind, acc, mult, shift, out_offset=0, act_min=_INT32[0], act_max=_INT32[1],
                  round_mode=ROUND_HALF_AWAY, ovf_mode=OVF_SAT, lib=None):
    """One requantized output: clamp(out_offset + requant(acc), act_min, act_max)."""
    lib = lib or load()
    y = ctypes.c_int32()
    st = lib.mpq_sb_requant_value(kind, acc, mult, shift, round_mode, ovf_mode, out_offset,
                                  act_min, act_max, y)
    if st:
        raise GoldenError(st, f"requant_value: kind {kind}, mult {mult}, shift {shift}, clamp "
                          f"[{act_min}, {act_max}]: {lib.mpq_strerror(st).decode()}")
    return y.value


def acc_fit(v, bits, mode=ACC_WRAP, lib=None):
    """v in a signed bits-bit accumulator: (fitted value, 1 if that changed it)."""
    lib = lib or load()
    fitted, ovf = ctypes.c_int64(), ctypes.c_int()
    st = lib.mpq_sb_acc_fit(v, bits, mode, fitted, ovf)
    if st:
        raise GoldenError(st, f"acc_fit: {bits} bits, mode {mode}: {lib.mpq_strerror(st).decode()}")
    return fitted.value, ovf.value
