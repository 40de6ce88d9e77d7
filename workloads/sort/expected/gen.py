#!/usr/bin/env python3
"""Reference implementation of the sort workload (see ../sort.c for the contract): writes
expected/<size>.json for every input size in ../workload.yaml. Usage:
    python3 workloads/sort/expected/gen.py [--check] [--size SIZE]
Uses Python's own stable sort, not the C code's merge sort."""
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the workload tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include"))
from reclave_ref import MASK64, SplitMix64, main  # noqa: E402


def compute(data):
    p = json.loads(data)
    n, rng = p["n"], SplitMix64(p["seed"])
    keys = [rng.next() >> 40 for _ in range(n)]
    order = sorted(range(n), key=keys.__getitem__)  # stable: ties keep id order
    checksum = 0
    for pos, ident in enumerate(order):
        checksum += (pos + 1) * (ident + 1)
    checksum &= MASK64
    return ('{"n":%d,"min":%d,"max":%d,"median":%d,"distinct":%d,"checksum":"0x%016x"}'
            % (n, keys[order[0]], keys[order[-1]], keys[order[n // 2]], len(set(keys)), checksum))


if __name__ == "__main__":
    main(compute)
