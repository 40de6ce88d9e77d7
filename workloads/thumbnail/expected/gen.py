#!/usr/bin/env python3
"""Reference implementation of the thumbnail workload (see ../thumbnail.c for the contract):
writes expected/<size>.json for every input size in ../workload.yaml. Usage:
    python3 workloads/thumbnail/expected/gen.py [--check] [--size SIZE]
Integer arithmetic only; the box filter is written directly from its definition (a sum over
each output pixel's source rectangle), not in the C code's row-sum order."""
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the workload tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include"))
from reclave_ref import SplitMix64, main  # noqa: E402

DISCS = 24


def generate(W, H, seed):
    rng = SplitMix64(seed)
    # one bytearray per channel, index y*W + x
    R = bytearray(256 * x // W for y in range(H) for x in range(W))
    G = bytearray(256 * y // H for y in range(H) for x in range(W))
    B = bytearray(256 * (x + y) // (W + H) for y in range(H) for x in range(W))
    maxrad = min(W, H) // 4 + 1
    for _ in range(DISCS):
        cx, cy = rng.next() % W, rng.next() % H
        rad = 1 + rng.next() % maxrad
        col = [rng.next() & 255 for _ in range(3)]
        for y in range(max(0, cy - rad), min(H - 1, cy + rad) + 1):
            for x in range(max(0, cx - rad), min(W - 1, cx + rad) + 1):
                if (x - cx) ** 2 + (y - cy) ** 2 <= rad * rad:
                    i = y * W + x
                    R[i] = (R[i] + col[0]) // 2
                    G[i] = (G[i] + col[1]) // 2
                    B[i] = (B[i] + col[2]) // 2
    for i in range(W * H):
        r = rng.next()
        R[i] = min(255, max(0, R[i] + (r & 31) - 16))
        G[i] = min(255, max(0, G[i] + ((r >> 8) & 31) - 16))
        B[i] = min(255, max(0, B[i] + ((r >> 16) & 31) - 16))
    return R, G, B


def compute(data):
    p = json.loads(data)
    W, H, w, h = p["width"], p["height"], p["out_width"], p["out_height"]
    chans = generate(W, H, p["seed"])
    xs = [(ox * W // w, -(-(ox + 1) * W // w)) for ox in range(w)]
    ys = [(oy * H // h, -(-(oy + 1) * H // h)) for oy in range(h)]
    thumb = bytearray()
    for y0, y1 in ys:
        for x0, x1 in xs:
            count = (x1 - x0) * (y1 - y0)
            for ch in chans:
                s = 0
                for y in range(y0, y1):
                    s += sum(ch[y * W + x0:y * W + x1])  # integers: exact in any order
                thumb.append((s + count // 2) // count)
    sums = [sum(thumb[c::3]) for c in range(3)]
    fnv = 0xCBF29CE484222325
    for b in thumb:
        fnv = ((fnv ^ b) * 0x100000001B3) & ((1 << 64) - 1)
    ci = ((h // 2) * w + w // 2) * 3
    return ('{"width":%d,"height":%d,"sum":[%d,%d,%d],"fnv1a":"0x%016x","corner":[%d,%d,%d],'
            '"center":[%d,%d,%d]}' % (w, h, *sums, fnv, *thumb[0:3], *thumb[ci:ci + 3]))


if __name__ == "__main__":
    main(compute)
