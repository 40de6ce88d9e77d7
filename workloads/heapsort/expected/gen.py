#!/usr/bin/env python3
"""Reference implementation of the heapsort workload (see ../heapsort.c for the contract):
writes expected/<size>.json for every input size in ../workload.yaml. Usage:
    python3 workloads/heapsort/expected/gen.py [--check] [--size SIZE]
Uses Python's built-in sort, not the C code's heap sort."""
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the workload tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include"))
from reclave_ref import MASK64, SplitMix64, main  # noqa: E402


def compute(data):
    p = json.loads(data)
    n, rng = p["n"], SplitMix64(p["seed"])
    keys = sorted(rng.next() >> 32 for _ in range(n))
    checksum = 0
    for pos, key in enumerate(keys):
        checksum += (pos + 1) * (key + 1)
    checksum &= MASK64
    return ('{"n":%d,"min":%d,"max":%d,"median":%d,"distinct":%d,"checksum":"0x%016x"}'
            % (n, keys[0], keys[-1], keys[n // 2], len(set(keys)), checksum))


if __name__ == "__main__":
    main(compute)
