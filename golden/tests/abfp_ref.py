#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""abfp_ref.py DUMP: an independent NumPy reference of ABFP (arXiv 2205.06287, in the form
docs/abfp.md fixes), checked against the golden model's outputs in DUMP (abfp_dump's text).

Written from the format's description, not from the C: the layer is done the NumPy way, a
whole case at once (every row, output and tile as array axes); roundings from np.floor; the
noise generator from its definition with Python integers. Every output must be equal to the
bit, and the ADC counts equal. Prints one line per kind of case and `N cases equal` at the end;
exits 1 on the first difference with the case and what differs."""
import sys

import numpy as np

F32, F64 = np.float32, np.float64
MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15


def rnd(t, mode):
    """Round float64 t to integers (float64) with one of mpq's rounding names."""
    fl = np.floor(t)
    f = t - fl
    if mode == "floor":
        return fl
    if mode == "zero":
        return np.where((f > 0) & (t < 0), fl + 1, fl)
    if mode == "half_up":
        return np.where(f >= 0.5, fl + 1, fl)
    if mode == "half_down":
        return np.where(f > 0.5, fl + 1, fl)
    if mode == "half_away":
        return np.where((f > 0.5) | ((f == 0.5) & (t > 0)), fl + 1, fl)
    if mode == "half_even":
        return np.where((f > 0.5) | ((f == 0.5) & (np.mod(fl, 2) == 1)), fl + 1, fl)
    raise ValueError(mode)


def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def normal(seed, i):
    """Irwin-Hall of 12 21-bit fields of draws 4i..4i+3 of splitmix64(seed)."""
    s = 0
    for j in range(4 * i, 4 * i + 4):
        u = mix((seed + (j + 1) * GAMMA) & MASK)
        s += (u & 0x1FFFFF) + ((u >> 21) & 0x1FFFFF) + ((u >> 42) & 0x1FFFFF)
    return (s - 6.0 * 0x1FFFFF) / 2097152.0


def floats(hexes):
    return np.array([int(h, 16) for h in hexes], dtype=np.uint32).view(F32)


def reference(c):
    n, bw, bx, bout = c["n"], c["bw"], c["bx"], c["bout"]
    m, k, rows = c["m"], c["k"], c["rows"]
    gain, noise = c["gain"], c["noise"]
    nt = -(-k // n)
    pad = nt * n - k
    # Tiles: x[m][nt][n], w[rows][nt][n], zero-padded.
    x = np.pad(c["x"].reshape(m, k), ((0, 0), (0, pad))).reshape(m, nt, n)
    w = np.pad(c["w"].reshape(rows, k), ((0, 0), (0, pad))).reshape(rows, nt, n)
    Mw, Mx, Mo = 2 ** (bw - 1) - 1, 2 ** (bx - 1) - 1, 2 ** (bout - 1) - 1
    if c["scale"] == "tile":
        sw = np.abs(w).max(axis=2)                       # [rows][nt]
        sx = np.abs(x).max(axis=2)                       # [m][nt]
    elif c["scale"] == "channel":
        sw = np.repeat(np.abs(w).max(axis=(1, 2))[:, None], nt, axis=1)
        sx = np.full((m, nt), c["x_amax"], dtype=F32)
    else:
        sw = np.full((rows, nt), np.abs(w).max(), dtype=F32)
        sx = np.full((m, nt), c["x_amax"], dtype=F32)

    def mant(v, s, M):
        safe = np.where(s == 0, F32(1), s).astype(F64)[..., None]
        t = (v.astype(F64) * M) / safe
        ties[0] += int(((t - np.floor(t)) == 0.5).sum())
        q = rnd(t, c["round"])
        clipped = np.abs(q) > M
        q = np.clip(q, -M, M)
        return np.where((s == 0)[..., None], 0, q).astype(np.int64), clipped

    ties = [0, 0]
    qw, _ = mant(w, sw, Mw)
    qx, xclip = mant(x, sx, Mx)
    d = np.einsum("otj,rtj->rot", qw, qx)                # exact int64 dots [m][rows][nt]
    a = (d.astype(F64) * (F64(gain) * Mo)) / (F64(n) * Mw * Mx)
    if noise != 0.0:
        idx = (np.arange(m)[:, None, None] * rows + np.arange(rows)[None, :, None]) * nt + np.arange(nt)[None, None, :]
        z = np.vectorize(lambda i: normal(c["seed"], int(i)))(idx)
        a = a + noise * z
    ties[1] = int(((a - np.floor(a)) == 0.5).sum())
    code = rnd(a, c["adc_round"])
    live = (sw[None, :, :] != 0) & (sx[:, None, :] != 0)
    sat = live & (np.abs(code) > Mo)
    code = np.clip(code, -Mo, Mo)
    step = F32(n) / (F32(gain) * F32(Mo))
    ct = (sw[None, :, :] * sx[:, None, :]).astype(F32) * step   # float32 [m][rows][nt]
    acc = np.zeros((m, rows), dtype=F32)
    for t in range(nt):                                  # tiles in order, float32
        term = code[:, :, t].astype(F32) * ct[:, :, t]
        acc = np.where(live[:, :, t], acc + term, acc).astype(F32)
    y = (acc + c["b"][None, :]).astype(F32)
    stats = (m * rows * nt, int(sat.sum()), int((~live).sum()), int(xclip[..., :].sum()))
    # Padding is never clipped: it is zero. Only the inputs count.
    return y.reshape(-1), stats, ties


def parse(path):
    cases, cur = [], None
    with open(path) as f:
        for line in f:
            tok = line.split()
            if not tok:
                continue
            if tok[0] == "case":
                keys = ["id", "n", "bw", "bx", "bout"]
                cur = {kk: int(v) for kk, v in zip(keys, tok[1:6])}
                cur["gain"] = floats([tok[6]])[0]
                cur["noise"] = float.fromhex(tok[7])
                cur["seed"] = int(tok[8])
                cur["round"], cur["adc_round"], cur["scale"] = tok[9], tok[10], tok[11]
                cur["x_amax"] = floats([tok[12]])[0]
                cur["m"], cur["k"], cur["rows"] = int(tok[13]), int(tok[14]), int(tok[15])
                cases.append(cur)
            elif tok[0] == "conv":
                cur = None
            elif cur is not None and tok[0] in ("x", "w", "b", "y"):
                cur[tok[0]] = floats(tok[1:])
            elif cur is not None and tok[0] == "stats":
                cur["stats"] = tuple(int(v) for v in tok[1:5])
    return cases


def main():
    cases = parse(sys.argv[1])
    if not cases:
        print("abfp_ref: no cases in", sys.argv[1])
        return 1
    seen = {"sat": 0, "zero": 0, "clip": 0, "noise": 0, "mantissa ties": 0, "adc ties": 0}
    for c in cases:
        y, st, ties = reference(c)
        got = c["y"]
        if not np.array_equal(y.view(np.uint32), got.view(np.uint32)):
            i = int(np.nonzero(y.view(np.uint32) != got.view(np.uint32))[0][0])
            print(f"abfp_ref: case {c['id']} (n {c['n']} bw {c['bw']} bx {c['bx']} bout {c['bout']} gain {c['gain']} "
                  f"noise {c['noise']} {c['scale']} {c['round']}/{c['adc_round']}): output {i} is "
                  f"{float(got[i]).hex()}, the reference {float(y[i]).hex()}")
            return 1
        if st != c["stats"]:
            print(f"abfp_ref: case {c['id']}: counts (conversions, saturated, zero tiles, clipped) {c['stats']}, "
                  f"the reference {st}")
            return 1
        seen["sat"] += st[1] > 0
        seen["zero"] += st[2] > 0
        seen["clip"] += st[3] > 0
        seen["noise"] += c["noise"] != 0
        seen["mantissa ties"] += ties[0] > 0
        seen["adc ties"] += ties[1] > 0
    print("abfp_ref: cases with " + ", ".join(f"{k} {v}" for k, v in seen.items()))
    # Edges that must have been exercised, or the test proves little.
    if min(seen.values()) == 0:
        print("abfp_ref: some edge was never reached:", seen)
        return 1
    print(f"abfp_ref: {len(cases)} cases equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
