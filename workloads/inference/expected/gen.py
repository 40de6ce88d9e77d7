#!/usr/bin/env python3
"""Reference implementation of the inference workload (see ../inference.c for the contract):
writes expected/<size>.json for every input size in ../workload.yaml. Usage:
    python3 workloads/inference/expected/gen.py [--check] [--size SIZE]
Same floating-point operations in the same order as the C code (math.sqrt is correctly
rounded, like WebAssembly's f64.sqrt), so the doubles are bit-identical."""
import json
import math
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the workload tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include"))
from reclave_ref import SplitMix64, main  # noqa: E402

MODEL_SEED = 0x1F2E3D4C5B6A7988
LAYERS = [(64, 128), (128, 64), (64, 10)]  # (in, out)


def build_model():
    rng = SplitMix64(MODEL_SEED)
    model = []
    for n_in, n_out in LAYERS:
        scale = math.sqrt(6.0 / n_in)
        w = [[(2.0 * rng.unit() - 1.0) * scale for _ in range(n_in)] for _ in range(n_out)]
        b = [(2.0 * rng.unit() - 1.0) * 0.05 for _ in range(n_out)]
        model.append((w, b))
    return model


def dense(w, b, x, relu):
    y = []
    for wj, bj in zip(w, b):
        acc = 0.0
        for xi, wi in zip(x, wj):
            acc += xi * wi
        acc += bj
        y.append(0.0 if relu and acc < 0 else acc)
    return y


def compute(data, model=build_model()):
    p = json.loads(data)
    n, rng = p["samples"], SplitMix64(p["seed"])
    classes, checksum, max_sum, first = [0] * 10, 0, 0.0, None
    for k in range(n):
        x = [2.0 * rng.unit() - 1.0 for _ in range(64)]
        for i, (w, b) in enumerate(model):
            x = dense(w, b, x, i < len(model) - 1)
        best = 0
        for c in range(1, 10):
            if x[c] > x[best]:
                best = c
        classes[best] += 1
        checksum += (k + 1) * (best + 1)
        max_sum += x[best]
        if k == 0:
            first = x
    return ('{"samples":%d,"classes":[%s],"mean_max_logit":%.6f,"checksum":%d,"first":[%s]}'
            % (n, ",".join(map(str, classes)), max_sum / float(n), checksum,
               ",".join("%.6f" % v for v in first)))


if __name__ == "__main__":
    main(compute)
