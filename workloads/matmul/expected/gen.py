#!/usr/bin/env python3
"""Reference implementation of the matmul workload (see ../matmul.c for the contract):
writes expected/<size>.json for every input size in ../workload.yaml. Usage:
    python3 workloads/matmul/expected/gen.py [--check] [--size SIZE]
Same operations in the same order as the C code, so the doubles are bit-identical."""
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the workload tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include"))
from reclave_ref import SplitMix64, main  # noqa: E402


def compute(data):
    p = json.loads(data)
    n, rng = p["n"], SplitMix64(p["seed"])
    a = [[2.0 * rng.unit() - 1.0 for _ in range(n)] for _ in range(n)]
    b = [[2.0 * rng.unit() - 1.0 for _ in range(n)] for _ in range(n)]
    c = []
    for i in range(n):
        ci = [0.0] * n
        for k in range(n):
            aik = a[i][k]
            ci = [x + aik * y for x, y in zip(ci, b[k])]  # C: ci[j] += aik * b[k][j]
        c.append(ci)
    trace = 0.0
    for i in range(n):
        trace += c[i][i]
    total, abs_total, mx = 0.0, 0.0, c[0][0]
    for row in c:
        for x in row:
            total += x
            abs_total += abs(x)
            if x > mx:
                mx = x
    return ('{"n":%d,"trace":%.6f,"sum":%.6f,"abs_sum":%.6f,"max":%.6f,"c00":%.6f,"clast":%.6f}'
            % (n, trace, total, abs_total, mx, c[0][0], c[n - 1][n - 1]))


if __name__ == "__main__":
    main(compute)
