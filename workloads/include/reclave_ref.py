"""reclave_ref: helpers shared by the Python reference implementations (expected/gen.py) of
reclave's workloads: the C ones (matmul, sort, thumbnail, pagerank, inference, kv-auth) and the
Go ones that generate their inputs (sha-aes, deflate, regex, json-transform).

Each workload's expected/gen.py recomputes, independently of the C code and with only the
Python 3 standard library, the exact output the workload must print for each input size its
workload.yaml defines, and writes it to expected/<size>.json (the file the manifest's
`expect: {file: ...}` names). Run it from anywhere:

    python3 workloads/matmul/expected/gen.py            # rewrite the expected files
    python3 workloads/matmul/expected/gen.py --check    # compare only; exit 1 on a difference

Helpers:
  SplitMix64(seed).next()   the generator the C workloads use (reclave_io.h: rio_splitmix64)
  SplitMix64.unit()         the top 53 bits of a draw as a float in [0, 1) (rio_unit_double)
  splitmix64(seed)          the same draws as an iterator (next(rng))
  gen_bytes, gen_text       the manifest's `generate: bytes` and `generate: text` generators
                            (workloads/README.md, "Generators"), WORDS the text's 64 words
  generated_inputs(folder, generator)
                            {size: (count, seed)} for the sizes whose input is
                            `{generate: GENERATOR, count: N, seed: S}`
  manifest_inputs(folder)   {size: input bytes} for the sizes in the folder's workload.yaml
                            whose input is a literal `json: '...'` or a `file: ...`
  main(compute, ...)        the command line above: compute(input_bytes) -> output str

Floating point: Python floats are IEEE doubles, like the C code's, and every reference
computes with the same operations in the same order, so results are bit-identical. Never use
sum() on floats (Python 3.12 made it compensated); add in an explicit loop.
"""

import argparse
import os
import re
import sys

MASK64 = (1 << 64) - 1


class SplitMix64:
    """splitmix64: state += 0x9E3779B97F4A7C15, then two xor-shift-multiply rounds."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def unit(self):
        return (self.next() >> 11) * (2.0 ** -53)


def splitmix64(seed):
    """The draws of SplitMix64(seed), as an iterator."""
    rng = SplitMix64(seed)
    while True:
        yield rng.next()


# The `generate: text` generator's words, in order (a draw % 64 picks one).
WORDS = ("the of and to in is it that was for on are with as be at by this have from or one "
         "had not but what all were when we there can an your which their said if do will each "
         "about how up out them then she many some so these would other into has more her two "
         "like him see time could").split()
assert len(WORDS) == 64


def gen_bytes(count, seed):
    """The `generate: bytes` generator's data: successive draws little-endian, truncated to
    count bytes (the input is {"data": base64 of them})."""
    rng = SplitMix64(seed)
    out = bytearray()
    while len(out) < count:
        out += rng.next().to_bytes(8, "little")
    return bytes(out[:count])


def gen_text(count, seed):
    """The `generate: text` generator's text: count words joined by single spaces (the input
    is {"text": it})."""
    rng = SplitMix64(seed)
    return " ".join(WORDS[rng.next() % 64] for _ in range(count))


def generated_inputs(folder, generator):
    """Returns {size: (count, seed)} for the inputs of folder/workload.yaml written
    `SIZE: {generate: GENERATOR, count: N, seed: S, ...}`; exits when size small has none."""
    path = os.path.join(folder, "workload.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    found = {}
    for m in re.finditer(r"^\s+(test|small|large):\s*\{generate:\s*" + re.escape(generator) +
                         r",\s*count:\s*(\d+),\s*seed:\s*(\d+)\s*[,}]", text, re.M):
        found[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    if "small" not in found:
        sys.exit(f"{path}: no `generate: {generator}` input for size small")
    return found


_INPUT_RE = re.compile(r"^\s+(test|small|large):\s*\{\s*(json|file):\s*('(?:[^']|'')*'|[^,}\s]+)")


def manifest_inputs(folder):
    """Returns {size: input bytes} for the inputs of folder/workload.yaml given as a one-line
    flow mapping `SIZE: {json: '...', ...}` or `SIZE: {file: PATH, ...}`."""
    path = os.path.join(folder, "workload.yaml")
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    out = {}
    for line in lines:
        m = _INPUT_RE.match(line)
        if not m:
            continue
        size, kind, value = m.groups()
        if value.startswith("'"):
            value = value[1:-1].replace("''", "'")
        if kind == "json":
            out[size] = value.encode("utf-8")
        else:
            with open(os.path.join(folder, value), "rb") as f:
                out[size] = f.read()
    if not out:
        sys.exit(f"{path}: no inputs of the form 'SIZE: {{json: ...}}' or 'SIZE: {{file: ...}}'")
    return out


def main(compute, folder=None, before=None):
    """Writes (or with --check compares) expected/<size>.json for every input size of the
    workload in folder (default: the parent of the calling gen.py's folder). before(folder,
    check), if given, runs first and returns False on a difference (kv-auth writes its input
    files there)."""
    ap = argparse.ArgumentParser(description="regenerate the workload's expected outputs")
    ap.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    ap.add_argument("--size", action="append", help="only this size (repeatable)")
    args = ap.parse_args()
    if folder is None:
        folder = os.path.dirname(os.path.dirname(os.path.abspath(sys.argv[0])))
    failed = False
    if before is not None:
        failed = not before(folder, args.check)
    for size, data in manifest_inputs(folder).items():
        if args.size and size not in args.size:
            continue
        got = compute(data).encode("utf-8")
        path = os.path.join(folder, "expected", size + ".json")
        if args.check:
            try:
                with open(path, "rb") as f:
                    want = f.read()
            except FileNotFoundError:
                want = None
            ok = want == got
            failed |= not ok
            print(f"{path}: {'ok' if ok else 'DIFFERS'}")
        else:
            with open(path, "wb") as f:
                f.write(got)
            print(f"{path}: {len(got)} bytes")
    sys.exit(1 if failed else 0)


def write_if_changed(path, data, check):
    """Writes bytes data to path unless it already holds them; with check, only reports (and
    returns False) when they differ."""
    try:
        with open(path, "rb") as f:
            same = f.read() == data
    except FileNotFoundError:
        same = False
    if same:
        return True
    if check:
        print(f"{path}: DIFFERS")
        return False
    with open(path, "wb") as f:
        f.write(data)
    print(f"{path}: {len(data)} bytes")
    return True
