# SPDX-License-Identifier: Apache-2.0
"""cocotb replay of an mpq vector file: the comparison point of `make bench`.

The same job as `mpq-tb replay`: drive every input port each cycle from the file, compare
every output port each cycle (a stream's data only while its valid is expected: out_data
while out_valid), on the same Verilated RTL. The ports come from mpq_ports.py (generated
from the port table). The file comes from $MPQ_VEC; the result (cycles, seconds) goes to
$MPQ_RESULT as JSON.
"""
import json
import os
import time

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly

import mpqvec
from mpq_ports import CLOCK, PORTS, VALID_OF


@cocotb.test()
async def replay(dut):
    path = os.environ["MPQ_VEC"]
    widths = {name: len(getattr(dut, name)) for name, _, _, _, width, _ in PORTS if width != "1"}
    records = mpqvec.read(path, widths)
    header = next(records)
    clock = getattr(dut, CLOCK)
    ports = {name: getattr(dut, name) for name, _, _, _, _, _ in PORTS}
    cycles = 0
    t0 = time.perf_counter()
    for ins, exp in records:
        # Cycle c: inputs with the clock low, outputs settle, compare, then the rising edge.
        if cycles:
            await FallingEdge(clock)
        for name, v in ins.items():
            ports[name].value = v
        if not cycles:
            cocotb.start_soon(Clock(clock, 10, units="ns").start(start_high=False))
        await ReadOnly()
        for name, want in exp.items():
            if name in VALID_OF and not exp[VALID_OF[name]]:
                continue  # a stream's data is don't-care while its valid is 0
            got = int(ports[name].value)
            if got != want:
                raise AssertionError(f"{path}: cycle {cycles}: {name} expected {want:#x}, actual {got:#x}")
        cycles += 1
    dt = time.perf_counter() - t0
    dut._log.info("replayed %d cycles in %.3f s: %.0f cycles/s (m=%d k=%d n=%d)", cycles, dt,
                  cycles / dt, header["m"], header["k"], header["n"])
    with open(os.environ["MPQ_RESULT"], "w") as f:
        json.dump({"cycles": cycles, "seconds": dt, "cycles_per_s": cycles / dt}, f)
