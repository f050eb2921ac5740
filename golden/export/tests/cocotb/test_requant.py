# SPDX-License-Identifier: Apache-2.0
"""cocotb example: mpq's golden model as the scoreboard of a Python testbench.

Drives rtl/mpq_requant.sv (TFLite's double-rounding requantizer of the accelerator, two
combinational halves) with a small fully-connected layer's accumulators and with random
transactions, and checks every output with the golden model through its ctypes binding
(golden/export/python/mpq_golden.py over build/libmpq.so). Random choices come from $MPQ_SEED
(printed). Run by `make golden/export-cocotb`.
"""
import os
import random

import cocotb
from cocotb.triggers import Timer

import mpq_golden as mg


async def requantize(dut, acc, mult, shift, out_offset, act_min, act_max):
    """One output of the unit: the mul half, then the out half fed with the mul half's result
    (mpq_top puts a pipeline register between them)."""
    dut.acc_i.value = acc & 0xFFFFFFFF
    dut.mult_i.value = mult & 0xFFFFFFFF
    dut.shift_i.value = shift & 0xFFFF
    dut.out_offset_i.value = out_offset & 0xFFFF
    dut.act_min_i.value = act_min & 0xFFFF
    dut.act_max_i.value = act_max & 0xFFFF
    await Timer(1, units="ns")
    dut.hi_i.value = dut.hi_o.value.integer
    await Timer(1, units="ns")
    return dut.y_o.value.signed_integer


@cocotb.test()
async def fc_layer_through_the_requantizer(dut):
    """A TFLite-style FC layer: the golden model computes the accumulators and the expected
    int8 outputs; the RTL requantizes the accumulators; the golden model compares."""
    seed = int(os.environ.get("MPQ_SEED", "27"))
    rng = random.Random(seed)
    dut._log.info("seed %d (MPQ_SEED=%d reproduces)", seed, seed)
    m, k, n = 3, 40, 8
    in_scale, out_scale, in_zero, out_zero = 0.0235, 0.0713, -4, 3
    w_scales = [0.0005 + 0.0001 * rng.randint(0, 40) for _ in range(n)]
    layer = mg.Layer()
    layer.fc(m, k, n)
    # TFLite adds -zero_point to the activations (input_offset).
    layer.offsets(-in_zero, 0)
    layer.put(mg.X, [rng.randint(-128, 127) for _ in range(m * k)])
    layer.put(mg.W, [rng.randint(-127, 127) for _ in range(n * k)])
    layer.put(mg.BIAS, [rng.randint(-20000, 20000) for _ in range(n)])
    layer.requant_scales(mg.RQ_DOUBLE, in_scale, w_scales, out_scale)
    layer.output(out_zero, -128, 127)
    layer.run()
    acc, mult, shift = layer.get_acc(), layer.get(mg.MULT), layer.get(mg.SHIFT)

    got = []
    for i, a in enumerate(acc):
        c = i % n
        got.append(await requantize(dut, a, mult[c], shift[c], out_zero, -128, 127))
    bad = layer.compare(got)
    assert bad == 0, layer.report()
    dut._log.info("%dx%dx%d layer: %s", m, k, n, layer.report())

    # The scoreboard finds and describes an error.
    layer.run()
    got[5] += 1
    assert layer.compare(got) == 1, "an injected error went unnoticed"
    report = layer.report()
    assert "first: fc y[row=0,c=5] (element 5)" in report, report
    dut._log.info("injected error: %s", report)
    layer.close()


@cocotb.test()
async def random_transactions(dut):
    """Random accumulators, multipliers, shifts, zero points and clamps over their legal
    ranges, each checked with mg.requant_value."""
    seed = int(os.environ.get("MPQ_SEED", "27")) + 1
    rng = random.Random(seed)
    count, bad, first = 1500, 0, None
    for _ in range(count):
        acc = rng.randint(-(1 << 31), (1 << 31) - 1)
        mult = rng.randint(1 << 30, (1 << 31) - 1)
        shift = rng.randint(-31, 30)
        out_offset = rng.randint(-128, 127)
        act_min = rng.randint(-128, 0)
        act_max = rng.randint(act_min, 127)
        y = await requantize(dut, acc, mult, shift, out_offset, act_min, act_max)
        want = mg.requant_value(mg.RQ_DOUBLE, acc, mult, shift, out_offset, act_min, act_max)
        if y != want:
            bad += 1
            first = first or (f"acc {acc} mult {mult} shift {shift} out_offset {out_offset} "
                              f"clamp [{act_min}, {act_max}]: RTL {y}, golden {want}")
    assert bad == 0, f"{bad} of {count} transactions differ; first: {first}"
    dut._log.info("%d random transactions match the golden model (seed %d)", count, seed)
