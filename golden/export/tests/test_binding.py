# SPDX-License-Identifier: Apache-2.0
"""The ctypes binding (golden/export/python/mpq_golden.py) on its own, without a simulator.

    python3 test_binding.py CASES LIBMPQ

1. Hand-checked layers and helpers: FC, a SAME convolution of ones, depthwise, pools, an
   8-bit accumulator's overflow, the requantization kinds, QuantizeMultiplier, padding, and
   refusals raising GoldenError with the library's message.
2. Every layer of CASES (written by dpi_cases, which computed them with direct calls of the
   C library) through mg.Layer: outputs, accumulators, overflow flags and counts, and the
   report of one wrong output.
Prints "test_binding: N checks, M failed"; exit 1 when M > 0.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import mpq_golden as mg  # noqa: E402

checks = failures = 0


def check(ok, what):
    global checks, failures
    checks += 1
    if not ok:
        failures += 1
        if failures <= 30:
            print(f"FAIL: {what}")


def refused(fn, text):
    try:
        fn()
    except mg.GoldenError as e:
        check(text in str(e) and e.status == mg.EPARAM, f"refusal {str(e)!r} lacks {text!r}")
        return
    check(False, f"not refused (wanted {text!r})")


def by_hand():
    layer = mg.Layer()
    # W x + b = {16, 5}, times 0.5 with gemmlowp's rounding (half up): {8, 3}
    layer.fc(1, 3, 2)
    layer.put(mg.X, [1, 2, 3])
    layer.put(mg.W, [1, 1, 1, 1, -1, 2])
    layer.put(mg.BIAS, [10, 0])
    layer.requant(mg.RQ_DOUBLE, 1)
    layer.put(mg.MULT, [1 << 30])
    layer.put(mg.SHIFT, [0])
    layer.run()
    check(layer.get(mg.Y) == [8, 3] and layer.get_acc() == [16, 5], "fc")
    check(layer.compare([8, 4]) == 1 and "fc y[row=0,c=1] (element 1): expected 3, got 4"
          in layer.report(), f"fc report {layer.report()}")

    pad, out = mg.padding(3, 3, 1, 1, same=True)
    check((pad, out) == (1, 3), f"SAME 3/3/1: {(pad, out)}")
    layer.conv(mg.LAYER_CONV2D, 1, 3, 3, 1, 1, 3, 3, 1, 1, pad, pad, 1, 1, 1, out, out)
    layer.put(mg.X, [1] * 9)
    layer.put(mg.W, [1] * 9)
    layer.put(mg.MULT, [1 << 30])
    layer.put(mg.SHIFT, [1])
    layer.run()
    check(layer.get(mg.Y) == [4, 6, 4, 6, 9, 6, 4, 6, 4], f"conv SAME {layer.get(mg.Y)}")

    # depthwise 2x2 window over two channels: 1+2+3+4 = 10, 10 - 20 + 0 + 80 = 70
    layer.conv(mg.LAYER_DEPTHWISE, 1, 2, 2, 2, 2, 2, 2, 1, 1, 0, 0, 1, 1, 1, 1, 1)
    layer.put(mg.X, [1, 10, 2, 20, 3, 30, 4, 40])
    layer.put(mg.W, [1, 1, 1, -1, 1, 0, 1, 2])
    layer.put(mg.MULT, [1 << 30])
    layer.put(mg.SHIFT, [1])
    layer.run()
    check(layer.get(mg.Y) == [10, 70], f"depthwise {layer.get(mg.Y)}")

    layer.conv(mg.LAYER_MAXPOOL, 1, 3, 3, 1, 1, 2, 2, 1, 1, 0, 0, 1, 1, 1, 2, 2)
    layer.put(mg.X, range(1, 10))
    layer.output(0, -128, 8)
    layer.run()
    check(layer.get(mg.Y) == [5, 6, 8, 8], f"maxpool {layer.get(mg.Y)}")
    layer.conv(mg.LAYER_AVGPOOL, 1, 3, 3, 1, 1, 2, 2, 1, 1, 0, 0, 1, 1, 1, 2, 2)
    layer.put(mg.X, range(1, 10))
    layer.run()
    check(layer.get(mg.Y) == [3, 4, 6, 7], f"avgpool {layer.get(mg.Y)}")

    # 100 + 100 in an 8-bit wrapping accumulator: -56, overflowing at k = 1
    layer.fc(1, 2, 1)
    layer.acc(8, mg.ACC_WRAP)
    layer.put(mg.X, [100, 100])
    layer.put(mg.W, [1, 1])
    layer.put(mg.MULT, [1 << 30])
    layer.put(mg.SHIFT, [1])
    layer.run()
    check(layer.get_acc() == [-56] and layer.get(mg.OVF) == [mg.OVF_FINAL | mg.OVF_ANY]
          and layer.get(mg.FIRST) == [1] and layer.ovf_count(mg.OVF_FINAL) == 1, "overflow")
    check("first: y[row=0,c=0] at k=1" in layer.ovf_describe(), layer.ovf_describe())

    refused(lambda: layer.put(mg.X, [1, 2, 3]), "outside its 2 elements")
    refused(lambda: layer.put(mg.T, [0, 2]), "element 1 is 2, not -1, 0 or 1")
    refused(lambda: layer.conv(mg.LAYER_CONV2D, 1, 3, 3, 4, 6, 1, 1, 1, 1, 0, 0, 1, 1, 3, 3, 3),
            "groups 3 do not divide in_c 4 and out_c 6")
    try:
        layer.put(mg.X, [1 << 40])
        check(False, "a 41-bit value was accepted")
    except ValueError as e:
        check("does not fit 32 bits" in str(e), str(e))
    layer.close()

    # 0.25 of 1: double rounding 1, single rounding 0; 2.5 by a right shift: even 2, away 3
    check(mg.requant_value(mg.RQ_DOUBLE, 1, 1 << 30, -1) == 1, "double")
    check(mg.requant_value(mg.RQ_SINGLE, 1, 1 << 30, -1) == 0, "single")
    check(mg.requant_value(mg.RQ_GENERIC, 10, 1, 2, round_mode=mg.ROUND_HALF_EVEN) == 2, "even")
    check(mg.requant_value(mg.RQ_GENERIC, 10, 1, 2, round_mode=mg.ROUND_HALF_AWAY) == 3, "away")
    check(mg.requant_value(mg.RQ_S64_REDUCED, 1 << 40, 1 << 30, 0) == (1 << 31) - 1, "s64 sat")
    check(mg.quantize_multiplier(0.5) == (1 << 30, 0), "QuantizeMultiplier 0.5")
    check(mg.quantize_scale(3.0, 0.5, 2.0) == (1610612736, 0), "scale 0.75")
    check(mg.acc_fit(1 << 19, 20) == (-(1 << 19), 1), "acc_fit")
    try:
        mg.requant_value(mg.RQ_DOUBLE, 1, 1 << 30, 31)
        check(False, "shift 31 accepted")
    except mg.GoldenError:
        check(True, "")


def ints(words):
    return [int(w) for w in words]


def file_cases(path):
    layer = mg.Layer()
    kind, ran, cases = 0, False, 0
    with open(path) as f:
        lines = f.read().split("\n")
    head = lines[0].split()
    check(head[:2] == ["mpq-dpi-cases", "1"], f"{path}: not an mpq-dpi-cases 1 file")
    i = 1
    while i < len(lines):
        w = lines[i].split()
        i += 1
        if not w:
            continue
        what = f"{path} case {cases} ({mg._LAYER_NAMES[kind]})"
        if w[0] == "case":
            kind, ran = int(w[1]), False
        elif w[0] == "fc":
            layer.fc(*ints(w[1:]))
        elif w[0] == "shape":
            layer.conv(kind, *ints(w[1:]))
        elif w[0] == "scalars":
            (in_off, w_off, bits, mode, order, group, rq, nparams, rnd, ovf, out_off, lo, hi,
             apt) = ints(w[1:])
            if kind not in (mg.LAYER_AVGPOOL, mg.LAYER_MAXPOOL):
                layer.offsets(in_off, w_off)
                layer.acc(bits, mode, order, group)
                layer.requant(rq, nparams)
                layer.requant_generic(rnd, ovf)
                layer.alpha_per_tensor(apt)
            layer.output(out_off, lo, hi)
        elif w[0] == "put":
            layer.put(int(w[1]), ints(w[3:]))
        elif w[0] == "want":
            if not ran:
                layer.run()
                ran = True
            tensor, want = int(w[1]), ints(w[3:])
            check(layer.get(tensor) == want, f"{what}: {mg._TENSOR_NAMES[tensor]} differs")
            if tensor == mg.Y:
                check(layer.compare(want) == 0, f"{what}: compare of the expected outputs")
        elif w[0] == "want_acc":
            check(layer.get_acc() == ints(w[2:]), f"{what}: accumulators differ")
        elif w[0] == "want_novf":
            check([layer.ovf_count(mg.OVF_FINAL), layer.ovf_count(mg.OVF_ANY)] == ints(w[1:]),
                  f"{what}: overflow counts")
        elif w[0] == "describe":
            index, got = ints(w[1:])
            layer.run()
            check(layer.compare([got], index) == 1, f"{what}: one wrong output")
            check(layer.report() == lines[i], f"{what}: report\n  {layer.report()}\nwant\n  {lines[i]}")
            i += 1
        elif w[0] == "end":
            cases += 1
        else:
            check(False, f"{path}: unknown item {w[0]}")
            break
    check(cases == int(head[3]), f"{path}: {cases} cases read, {head[3]} written")
    print(f"test_binding: {cases} layers of {path} (seed {head[2]}) checked")
    layer.close()


def main():
    if len(sys.argv) != 3:
        print("usage: test_binding.py CASES LIBMPQ", file=sys.stderr)
        return 2
    mg.load(sys.argv[2])
    by_hand()
    file_cases(sys.argv[1])
    print(f"test_binding: {checks} checks, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
