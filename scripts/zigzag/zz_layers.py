# SPDX-License-Identifier: Apache-2.0
"""Layers for ZigZag from mpq's own layer lists: the explorer's shapes (`conv2d h=.. w=..`,
`--fc M,K,N`: the Fashion-MNIST CNN of make explore) and `mpq-golden model map`'s shapes
(`conv 96x96x3>48x48x8 k3x3 s2`, `dw ...`, `fc m=1 k=256 n=2`), turned into ZigZag's workload
entries (its Conv equation, as its own ONNX parser writes it) and the spatial mapping the
RTL uses for them."""
import re

from zz_arch import BadInput

EQUATION = "O[b][g][k][oy][ox]+=W[g][k][c][fy][fx]*I[b][g][c][iy][ix]"


def _layer(kind, b, h, w, c, o, kh, kw, s, d, oh, ow, pt, pl):
    """One layer; the bottom and right padding are what the output size implies."""
    pb = max(0, (oh - 1) * s + (kh - 1) * d + 1 - h - pt)
    pr = max(0, (ow - 1) * s + (kw - 1) * d + 1 - w - pl)
    if min(b, h, w, c, o, kh, kw, s, d, oh, ow) <= 0 or min(pt, pl) < 0:
        raise BadInput(f"layer {kind} {h}x{w}x{c}>{oh}x{ow}x{o}: a size is not positive")
    if kind == "dw" and o % c:
        raise BadInput(f"depthwise {h}x{w}x{c}>{o}: output channels not a multiple of the input's")
    return {"kind": kind, "b": b, "h": h, "w": w, "c": c, "o": o, "kh": kh, "kw": kw, "s": s, "d": d,
            "oh": oh, "ow": ow, "pad": [[pt, pb], [pl, pr]]}


def from_explore_shape(text):
    """A layer of the explorer's --shape grammar (keys b h w c o k s d p g oh ow)."""
    words = text.split()
    if not words or words[0] not in ("conv2d", "depthwise"):
        raise BadInput(f"shape `{text}`: the first word must be conv2d or depthwise")
    v = {"b": 1, "s": 1, "d": 1, "p": 0, "g": 1}
    for tok in words[1:]:
        k, _, val = tok.partition("=")
        if k not in ("b", "h", "w", "c", "o", "k", "s", "d", "p", "g", "oh", "ow") or not val.isdigit():
            raise BadInput(f"shape `{text}`: `{tok}` is not one of b h w c o k s d p g oh ow = a number")
        v[k] = int(val)
    if any(k not in v for k in ("h", "w", "c", "k")) or (words[0] == "conv2d" and "o" not in v):
        raise BadInput(f"shape `{text}`: h, w, c, k (and o for conv2d) are required")
    if v["g"] != 1:
        raise BadInput(f"shape `{text}`: grouped convolutions are not described for ZigZag")
    span = (v["k"] - 1) * v["d"] + 1
    oh = v.get("oh", (v["h"] + 2 * v["p"] - span) // v["s"] + 1)
    ow = v.get("ow", (v["w"] + 2 * v["p"] - span) // v["s"] + 1)
    kind = "conv" if words[0] == "conv2d" else "dw"
    return _layer(kind, v["b"], v["h"], v["w"], v["c"], v.get("o", v["c"]), v["k"], v["k"], v["s"], v["d"],
                  oh, ow, v["p"], v["p"])


def from_fc(m, k, n):
    return _layer("fc", 1, m, 1, k, n, 1, 1, 1, 1, m, 1, 0, 0)


MAP_SHAPE = re.compile(r"^(conv|dw) (\d+)x(\d+)x(\d+)>(\d+)x(\d+)x(\d+) k(\d+)x(\d+) s(\d+)$")
MAP_FC = re.compile(r"^fc m=(\d+) k=(\d+) n=(\d+)$")


def from_model_map(text):
    """A layer of `mpq-golden model map`'s shape column; padding as TFLite's SAME puts it
    (the total split with the smaller half first), none where the output size needs none."""
    m = MAP_FC.match(text)
    if m:
        return from_fc(*map(int, m.groups()))
    m = MAP_SHAPE.match(text)
    if not m:
        raise BadInput(f"model map shape `{text}` not understood")
    kind = m.group(1)
    h, w, c, oh, ow, o, kh, kw, s = map(int, m.groups()[1:])
    pt = max(0, (oh - 1) * s + kh - h) // 2
    pl = max(0, (ow - 1) * s + kw - w) // 2
    return _layer(kind, 1, h, w, c, o, kh, kw, s, 1, oh, ow, pt, pl)


PACKED = re.compile(r"taps packed into (\d+) channels")


def packed(L, mapping):
    """The layer as mpq's host maps it when model map packs its taps into channels (the host's
    im2col: a 1x1 convolution over kh*kw*c channels of the output's pixels), or None."""
    m = PACKED.search(mapping)
    if not m:
        return None
    return _layer("conv", L["b"], L["oh"], L["ow"], int(m.group(1)), L["o"], 1, 1, 1, 1, L["oh"], L["ow"], 0, 0)


def workload(lid, L):
    """ZigZag's workload entry of layer L (id lid; a depthwise layer: G = input channels,
    K = the channel multiplier, C = 1; a fully connected one: B = rows, C = K, K = N)."""
    dw = L["kind"] == "dw"
    g, k, c = (L["c"], L["o"] // L["c"], 1) if dw else (1, L["o"], L["c"])
    b, oh = (L["h"], 1) if L["kind"] == "fc" else (L["b"], L["oh"])
    ih = 1 if L["kind"] == "fc" else L["h"]
    return {"id": lid, "name": f"layer{lid}", "operator_type": "Conv", "equation": EQUATION,
            "dimension_relations": [f"ix={L['s']}*ox+{L['d']}*fx", f"iy={L['s']}*oy+{L['d']}*fy"],
            "loop_dims": ["B", "K", "G", "OX", "OY", "C", "FX", "FY"],
            "loop_sizes": [b, k, g, L["ow"], oh, c, L["kw"], L["kh"]],
            "operand_precision": {"W": 8, "I": 8, "O": 32, "O_final": 8},
            "pr_loop_dims": ["IX", "IY"], "pr_loop_sizes": [L["w"], ih],
            "padding": [L["pad"][1], L["pad"][0]]}


def spatial_mapping(lid, L, cfg):
    """The RTL's spatial unrolling of layer L: Lanes output channels (D1) by one slice of
    KLanes input channels (D2); a depthwise layer puts one channel per lane (D1 over G) and
    uses one element of the slice (D2 over C = 1: 1/KLanes of the array, as on the RTL)."""
    d1 = f"G, {cfg['Lanes']}" if L["kind"] == "dw" else f"K, {cfg['Lanes']}"
    return {"name": f"layer{lid}", "spatial_mapping": {"D1": [d1], "D2": [f"C, {cfg['KLanes']}"]},
            "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}


def macs(L):
    """The layer's products in ZigZag's loop nest (padding taps included)."""
    per_out = L["kh"] * L["kw"] * (1 if L["kind"] == "dw" else L["c"])
    return L["b"] * L["oh"] * L["ow"] * L["o"] * per_out
