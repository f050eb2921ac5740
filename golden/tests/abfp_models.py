#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""abfp_models.py GOLDEN MODELS_DIR TMP: `mpq-golden model abfp` on real models, checked against
what is computed without it (docs/abfp.md, "Real models"); outputs are logits (the input of a
final SOFTMAX or LOGISTIC), as the SQNRs:

1. the float reference of a float twin (image_example1.float32: CONV_2D, AVERAGE_POOL_2D,
   FULLY_CONNECTED, SOFTMAX; autoencoder_example.float32: FULLY_CONNECTED, LOGISTIC;
   rock_paper_scissors.float32: MAX_POOL_2D; keyword_spotting_on_off_v3.float32:
   DEPTHWISE_CONV_2D, ADD, 107 operators) equals
   LiteRT's float reference kernels on the same inputs (relative 1e-4): the float graph runner
   is right, and so is the reference the SQNRs are taken against;
2. the same model's int8 twin: the float runner's reference with dequantized weights is
   compared with the float twin's, both here through LiteRT and the runner: the two float
   models agree to the int8 model's own quantization (a loose bound, > 20 dB);
3. properties of the analog array that hold whatever the code: 16-bit mantissas with a 24-bit
   ADC reproduce float (> 70 dB); below saturation (gain 1), each ADC bit adds ~6 dB to the
   first layer's local SQNR (5..7 dB per bit from 6 to 10 bits) with no saturated
   conversion; a gain that saturates most conversions ruins the SQNR;
4. the noise is reproducible from its seed (same bytes twice, other bytes with another seed);
5. bad parameters are refused with exit 2 naming the option.
"""
import os
import subprocess
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

GOLDEN, MODELS, TMP = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(TMP, exist_ok=True)
fails = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        fails.append(what)


def golden(*args, rc=0):
    p = subprocess.run([GOLDEN, "model", "abfp"] + [str(a) for a in args], capture_output=True, text=True)
    if p.returncode != rc:
        print(" ".join([GOLDEN, "model", "abfp"] + [str(a) for a in args]))
        print(p.stdout, p.stderr)
    return p


def tsv(p):
    rows = [line.split("\t") for line in p.stdout.splitlines()]
    summary = [r for r in rows if r[0] == "summary"][0]
    layers = [r for r in rows if r[0] == "layer"]
    return float(summary[10]), float(summary[11]), layers


def litert(path, x):
    """The logits: the input of the final SOFTMAX / LOGISTIC (else the output)."""
    it = Interpreter(model_path=path, experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                     experimental_preserve_all_tensors=True, num_threads=1)
    it.allocate_tensors()
    d = it.get_input_details()[0]
    it.set_tensor(d["index"], x.reshape(d["shape"]).astype(np.float32))
    it.invoke()
    out = it.get_output_details()[0]["index"]
    for op in it._get_ops_details():
        if op["op_name"] in ("SOFTMAX", "LOGISTIC") and out in list(op["outputs"]):
            out = op["inputs"][0]
    return it.get_tensor(out).ravel().astype(np.float32)


def float_twin(name, seed, count=3):
    f32 = os.path.join(MODELS, name + ".float32.tflite")
    i8 = os.path.join(MODELS, name + ".tflite")
    it = Interpreter(model_path=f32)
    shape = it.get_input_details()[0]["shape"]
    rng = np.random.default_rng(seed)
    xs = [rng.uniform(-1.0, 1.0, size=shape).astype(np.float32) for _ in range(count)]
    d8 = Interpreter(model_path=i8).get_input_details()[0]
    files, files8 = [], []
    for i, x in enumerate(xs):
        files8 += ["--input", os.path.join(TMP, f"{name}-{i}.in8")]
        if d8["dtype"] == np.int8:  # both models see the int8 grid's real values
            s, zp = d8["quantization"]
            q = np.clip(np.round(x / s) + zp, -128, 127).astype(np.int8)
            q.tofile(files8[-1])
            xs[i] = x = (np.float32(s) * (q.astype(np.float32) - np.float32(zp))).astype(np.float32)
        else:
            x.tofile(files8[-1])
        files += ["--input", os.path.join(TMP, f"{name}-{i}.f32")]
        x.tofile(files[-1])
    ref = os.path.join(TMP, name + ".ref")
    p = golden(f32, *files, "--output-ref", ref)
    ours = np.fromfile(ref, dtype=np.float32)
    theirs = np.concatenate([litert(f32, x) for x in xs])
    err = np.max(np.abs(ours - theirs)) / max(np.max(np.abs(theirs)), 1e-30)
    check(p.returncode == 0 and ours.shape == theirs.shape and err < 1e-4,
          f"{name}.float32: float reference = LiteRT's float kernels on {count} inputs (max rel. diff {err:.2e})")
    # The int8 model's float run (dequantized weights) against the float twin, through LiteRT.
    ref8 = os.path.join(TMP, name + ".ref8")
    p8 = golden(i8, *files8, "--output-ref", ref8)
    y8 = np.fromfile(ref8, dtype=np.float32)
    sq = 10 * np.log10(np.sum(theirs.astype(np.float64) ** 2) / max(np.sum((y8 - theirs).astype(np.float64) ** 2), 1e-300))
    check(p8.returncode == 0 and y8.shape == theirs.shape and sq > 20,
          f"{name}: dequantized int8 model in float against the float twin in LiteRT: {sq:.1f} dB (> 20)")


float_twin("image_example1", 7)
float_twin("autoencoder_example", 8)
float_twin("rock_paper_scissors", 9)
float_twin("keyword_spotting_on_off_v3", 10)

small = os.path.join(MODELS, "tflite_micro_speech.tflite")
sq, sat, _ = tsv(golden(small, "--random", 2, "--bits", 16, "--bout", 24, "--gain", "best", "--tsv"))
check(sq > 70, f"tflite_micro_speech: 16-bit mantissas, 24-bit ADC, best gains: {sq:.1f} dB (> 70)")

local = []
for bout in range(6, 11):
    sq, sat, layers = tsv(golden(small, "--random", 2, "--bout", bout, "--gain", 1, "--tsv"))
    local.append(float(layers[0][10]))
    check(sat == 0.0, f"tflite_micro_speech: b_out {bout}, gain 1: no saturated conversion ({sat}%)")
steps = np.diff(local)
check(all(5.0 < s < 7.0 for s in steps),
      "tflite_micro_speech: first layer's SQNR per ADC bit, b_out 6..10 at gain 1: "
      + ", ".join(f"{s:+.2f}" for s in steps) + " dB (each 5..7)")
sq_hi, sat_hi, _ = tsv(golden(small, "--random", 2, "--gain", 4096, "--tsv"))
check(sat_hi > 50 and sq_hi < 10, f"tflite_micro_speech: gain 4096 saturates {sat_hi:.1f}% (> 50) for {sq_hi:.1f} dB (< 10)")

outs = []
for seed in (5, 5, 6):
    o = os.path.join(TMP, f"noise-{len(outs)}.f32")
    golden(small, "--random", 2, "--noise", 1, "--noise-seed", seed, "--output", o)
    outs.append(open(o, "rb").read())
check(outs[0] == outs[1] and outs[0] != outs[2] and len(outs[0]) > 0,
      "noise 1 step: noise seed 5 twice gives the same bytes, seed 6 others")

for opt, val, name in (("--n", 0, "n"), ("--bits", 17, "bits"), ("--bout", 1, "bout"),
                       ("--gain", 0, "gain"), ("--gain", -2, "gain"), ("--noise", -0.1, "noise"),
                       ("--bw", 1, "bw"), ("--random", 0, "--random")):
    p = golden(small, opt, val, rc=2)
    check(p.returncode == 2 and name in p.stderr, f"{opt} {val}: exit 2 naming {name} ({p.stderr.strip()})")

print(f"abfp_models: {len(fails)} failed")
sys.exit(1 if fails else 0)
