# SPDX-License-Identifier: Apache-2.0
"""Reader of mpq vector files (vectors/FORMAT.md, version 3), for the cocotb comparison bench.

Independent of the C reader: it shows that a file alone is enough to replay a run in
another testbench. Yields one (inputs, expected) pair per cycle, each a dict from port name
to value; which ports a record carries, and where, comes from mpq_ports.py (generated from
the port table, like the C side's), bus widths in bits from the DUT's ports, so the reader
needs no knowledge of the configuration's formulas. Like the C reader it verifies each
block's CRC-32 before it yields any cycle of the block.
"""
import gzip
import struct
import zlib

from mpq_ports import PORTS, REC_EXT

GZIP_HEADER = bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3])
BLOCK_MAX = 65536


class VecError(Exception):
    pass


def _crc(data):
    return zlib.crc32(data) & 0xFFFFFFFF


def _header(path, data):
    """The header dict and the offset of the first block."""
    if data[:6] != b"MPQVEC":
        raise VecError(f"{path}: not a vector file (bad magic)")
    (version,) = struct.unpack_from("<H", data, 6)
    if version != 3:
        raise VecError(f"{path}: format version {version}, this reader reads version 3")
    (blen,) = struct.unpack_from("<I", data, 8)
    (crc,) = struct.unpack_from("<I", data, 12 + blen)
    if crc != _crc(data[:12 + blen]):
        raise VecError(f"{path}: header checksum mismatch: the file is damaged")
    pos = 12
    (np_,) = struct.unpack_from("<H", data, pos)
    hw = struct.unpack_from(f"<{np_}I", data, pos + 2)
    pos += 2 + 4 * np_
    seed, tseed, kind, nshape = struct.unpack_from("<QQIH", data, pos)
    pos += 22
    shape = struct.unpack_from(f"<{nshape}I", data, pos)
    pos += 4 * nshape
    (acc_sat,) = struct.unpack_from("<I", data, pos)
    if kind == 0 and nshape == 3:
        m, k, n = shape
    elif kind in (1, 2) and nshape == 16:
        # batches, in_h, in_w, in_c, out_c, out_h, out_w, kh, kw, ...: pixels, depth, channels
        b, _, _, in_c, out_c, oh, ow, kh, kw = shape[:9]
        g = shape[15] if kind == 1 else in_c
        m, k, n = b * oh * ow, kh * kw * (in_c // g), out_c
    else:
        raise VecError(f"{path}: layer kind {kind} with {nshape} shape values: not a layer this reader knows")
    return ({"hw": hw, "seed": seed, "timing_seed": tseed, "kind": kind, "m": m, "k": k, "n": n,
             "acc_sat": acc_sat}, 12 + blen + 4)


def read(path, widths):
    """Generator of (inputs, expected) dicts, one per cycle; the header dict first. widths:
    the width in bits of every port wider than a bit, by name."""
    with open(path, "rb") as f:
        if f.read(len(GZIP_HEADER)) != GZIP_HEADER:
            raise VecError(f"{path}: the gzip header is not the format's: the file is damaged")
    with gzip.open(path, "rb") as f:
        data = f.read()
    header, pos = _header(path, data)
    yield header
    stream_crc = _crc(data[:pos])
    bits = [(name, d, rec) for name, d, _, _, width, rec in PORTS if width == "1"]
    # The wider ports in record order (inputs first, each side in declaration order) and
    # their byte counts; they hold their value between records, 0 before the first.
    buses = [(name, d, rec, (widths[name] + 7) // 8) for name, d, _, _, width, rec in PORTS if width != "1"]
    buses.sort(key=lambda b: b[1] != "in")
    held = {name: 0 for name, _, _, _ in buses}
    cycles = 0
    block = 0
    while True:
        (length,) = struct.unpack_from("<I", data, pos)
        if length == 0:  # the end record
            count, crc = struct.unpack_from("<QI", data, pos + 4)
            if crc != zlib.crc32(data[pos:pos + 12], stream_crc) & 0xFFFFFFFF or count != cycles:
                raise VecError(f"{path}: end record: checksum or cycle count mismatch: the file is damaged")
            if pos + 16 != len(data):
                raise VecError(f"{path}: data after the end record: the file is damaged")
            return
        (crc,) = struct.unpack_from("<I", data, pos + 4)
        payload = data[pos + 8:pos + 8 + length]
        if length > BLOCK_MAX or len(payload) != length or _crc(payload) != crc:
            raise VecError(f"{path}: block {block} (from cycle {cycles}): checksum mismatch: "
                           "the file is damaged")
        stream_crc = zlib.crc32(data[pos:pos + 8 + length], stream_crc) & 0xFFFFFFFF
        pos += 8 + length
        block += 1
        p = 0
        while p < length:
            flags = payload[p] | payload[p + 1] << 8
            p += 2
            if flags >> REC_EXT & 1:
                flags |= payload[p] << 16
                p += 1
            for name, _, rec, nb in buses:
                if flags >> rec & 1:
                    held[name] = int.from_bytes(payload[p:p + nb], "little")
                    p += nb
            cycles += 1
            ins, exp = {}, {}
            for name, d, rec in bits:
                (ins if d == "in" else exp)[name] = flags >> rec & 1
            for name, d, _, _ in buses:
                (ins if d == "in" else exp)[name] = held[name]
            yield ins, exp
