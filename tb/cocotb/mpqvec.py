# SPDX-License-Identifier: Apache-2.0
"""Reader of mpq vector files (vectors/FORMAT.md), for the cocotb comparison bench.

Independent of the C reader: it shows that a file alone is enough to replay a run in
another testbench. Yields one (inputs, expected) pair per cycle; bus widths in bits come
from the DUT's ports, so the reader needs no knowledge of the configuration's formulas.
"""
import gzip
import struct
import zlib

A_RST_N, A_CFG_VALID, A_WGT_VALID, A_ACT_VALID, A_OUT_READY = 1, 2, 4, 8, 16
A_CFG_DATA, A_WGT_DATA, A_ACT_DATA = 32, 64, 128
B_CFG_READY, B_WGT_READY, B_ACT_READY, B_OUT_VALID, B_BUSY, B_DONE = 1, 2, 4, 8, 16, 32
B_OUT_DATA, B_EXT = 64, 128
C_OVF, C_END = 1, 2


class VecError(Exception):
    pass


def read(path, cfg_w, wgt_w, act_w, out_w, lanes):
    """Generator of (inputs, expected) dicts, one per cycle; the header dict first."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"MPQVEC":
        raise VecError(f"{path}: not a vector file (bad magic)")
    (version,) = struct.unpack_from("<H", data, 6)
    if version != 1:
        raise VecError(f"{path}: format version {version}, this reader reads version 1")
    (blen,) = struct.unpack_from("<I", data, 8)
    body = data[12:12 + blen]
    hw = struct.unpack_from("<9I", body, 0)
    seed, tseed = struct.unpack_from("<2Q", body, 36)
    m, k, n, acc_sat = struct.unpack_from("<4I", body, 52)
    yield {"hw": hw, "seed": seed, "timing_seed": tseed, "m": m, "k": k, "n": n, "acc_sat": acc_sat}
    nb = [(w + 7) // 8 for w in (cfg_w, wgt_w, act_w, out_w, lanes)]
    pos = 12 + blen
    ins = {"cfg_data": 0, "wgt_data": 0, "act_data": 0}
    exp = {"out_data": 0, "ovf": 0}
    cycles = 0
    while True:
        a, b = data[pos], data[pos + 1]
        pos += 2
        c = 0
        if b & B_EXT:
            c = data[pos]
            pos += 1
            if c & C_END:
                count, crc = struct.unpack_from("<QI", data, pos)
                if crc != zlib.crc32(data[:pos]) & 0xFFFFFFFF or count != cycles:
                    raise VecError(f"{path}: corrupted: record checksum mismatch")
                if pos + 12 != len(data):
                    raise VecError(f"{path}: corrupted: data after the end record")
                return
        for flag, key, i in ((A_CFG_DATA, "cfg_data", 0), (A_WGT_DATA, "wgt_data", 1),
                             (A_ACT_DATA, "act_data", 2)):
            if a & flag:
                ins[key] = int.from_bytes(data[pos:pos + nb[i]], "little")
                pos += nb[i]
        if b & B_OUT_DATA:
            exp["out_data"] = int.from_bytes(data[pos:pos + nb[3]], "little")
            pos += nb[3]
        if c & C_OVF:
            exp["ovf"] = int.from_bytes(data[pos:pos + nb[4]], "little")
            pos += nb[4]
        cycles += 1
        yield (
            (bool(a & A_RST_N), bool(a & A_CFG_VALID), bool(a & A_WGT_VALID),
             bool(a & A_ACT_VALID), bool(a & A_OUT_READY),
             ins["cfg_data"], ins["wgt_data"], ins["act_data"]),
            (bool(b & B_CFG_READY), bool(b & B_WGT_READY), bool(b & B_ACT_READY),
             bool(b & B_OUT_VALID), bool(b & B_BUSY), bool(b & B_DONE),
             exp["out_data"], exp["ovf"]),
        )
