# SPDX-License-Identifier: Apache-2.0
"""cocotb replay of an mpq vector file: the comparison point of `make bench`.

The same job as `mpq-tb replay`: drive every input port each cycle from the file, compare
every output port each cycle (out_data only while out_valid), on the same Verilated RTL.
The file comes from $MPQ_VEC; the result (cycles, seconds) goes to $MPQ_RESULT as JSON.
"""
import json
import os
import time

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly

import mpqvec


@cocotb.test()
async def replay(dut):
    path = os.environ["MPQ_VEC"]
    lanes = len(dut.ovf_o)
    records = mpqvec.read(path, len(dut.cfg_data_i), len(dut.wgt_data_i), len(dut.act_data_i),
                          len(dut.out_data_o), lanes)
    header = next(records)
    ports_in = (dut.rst_ni, dut.cfg_valid_i, dut.wgt_valid_i, dut.act_valid_i, dut.out_ready_i,
                dut.cfg_data_i, dut.wgt_data_i, dut.act_data_i)
    ports_out = (dut.cfg_ready_o, dut.wgt_ready_o, dut.act_ready_o, dut.out_valid_o, dut.busy_o,
                 dut.done_o, dut.out_data_o, dut.ovf_o)
    names = ("cfg_ready_o", "wgt_ready_o", "act_ready_o", "out_valid_o", "busy_o", "done_o",
             "out_data_o", "ovf_o")
    cycles = 0
    t0 = time.perf_counter()
    for ins, exp in records:
        # Cycle c: inputs with the clock low, outputs settle, compare, then the rising edge.
        if cycles:
            await FallingEdge(dut.clk_i)
        for port, v in zip(ports_in, ins):
            port.value = int(v)
        if not cycles:
            cocotb.start_soon(Clock(dut.clk_i, 10, units="ns").start(start_high=False))
        await ReadOnly()
        for i, (port, want) in enumerate(zip(ports_out, exp)):
            if i == 6 and not exp[3]:
                continue  # out_data is don't-care while out_valid is 0
            got = int(port.value)
            if got != int(want):
                raise AssertionError(f"{path}: cycle {cycles}: {names[i]} expected {int(want):#x}, "
                                     f"actual {got:#x}")
        cycles += 1
    dt = time.perf_counter() - t0
    dut._log.info("replayed %d cycles in %.3f s: %.0f cycles/s (m=%d k=%d n=%d)", cycles, dt,
                  cycles / dt, header["m"], header["k"], header["n"])
    with open(os.environ["MPQ_RESULT"], "w") as f:
        json.dump({"cycles": cycles, "seconds": dt, "cycles_per_s": cycles / dt}, f)
