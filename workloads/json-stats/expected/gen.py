#!/usr/bin/env python3
"""Writes json-stats' expected outputs, expected/<size>.json, from its inputs.

A reference implementation of json_stats.c's output, independent of the module: the values
sorted ascending, summed in that order, mean = sum / n, the population standard deviation in
two passes (the squared deviations summed in sorted order), the median (the mean of the two
middle values for an even count), each printed like C's "%.17g" and count as an integer, in
the module's key order and without spaces (exact bytes: the manifest checks them with
`expect: {file: ...}`).

Run from anywhere: python3 workloads/json-stats/expected/gen.py
The inputs come from `reclave workloads input json-stats --size SIZE`, run as
$RECLAVE (default: go run ./cmd/reclave, in the repository root).
"""
import json
import math
import os
import shlex
import subprocess

NAME = "json-stats"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))


def reclave_input(size):
    cmd = shlex.split(os.environ.get("RECLAVE", "go run ./cmd/reclave"))
    cmd += ["workloads", "input", NAME, "--size", size]
    return subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.PIPE).stdout


def g17(x):
    return "%.17g" % x


def expected(data):
    values = sorted(float(v) for v in json.loads(data)["values"])
    n = len(values)
    if n == 0:
        return '{"count":0,"sum":0,"mean":null,"min":null,"max":null,"median":null,"stddev":null}'
    total = 0.0
    for v in values:
        total += v
    mean = total / n
    sq = 0.0
    for v in values:
        sq += (v - mean) * (v - mean)
    stddev = math.sqrt(sq / n)
    median = values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
    return ('{"count":%d,"sum":%s,"mean":%s,"min":%s,"max":%s,"median":%s,"stddev":%s}'
            % (n, g17(total), g17(mean), g17(values[0]), g17(values[-1]), g17(median), g17(stddev)))


for size in ("test", "small", "large"):
    out = expected(reclave_input(size))
    with open(os.path.join(HERE, size + ".json"), "w", encoding="utf-8") as f:
        f.write(out)
    print("%s/expected/%s.json: %d bytes" % (NAME, size, len(out)))
