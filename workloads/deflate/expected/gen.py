#!/usr/bin/python3
"""Reference for the deflate workload: writes expected/<size>.json, the exact output the module
must give for each input size of ../workload.yaml. Standard library only.

What is independent of the Go module and what is not:
- input_bytes, input_sha256 and level are computed here from the text, which is regenerated
  from the manifest's `generate: text` parameters (splitmix64, see ../../README.md);
- the compressed stream is the module's own (compress/flate's bytes differ from zlib's, both
  valid): this script runs the module through `reclave invoke` with "stream":true, then checks
  the stream with an independent inflater (zlib, raw DEFLATE) -- it must give back exactly the
  text -- and takes compressed_bytes and compressed_sha256 from the verified stream. It also
  prints zlib's size at the same level beside the module's, and fails if the module's stream is
  not within 25% of zlib's (a deflater that does not really compress).

Usage (from any directory):
  expected/gen.py [--reclave BIN]          write expected/<size>.json
  expected/gen.py [--reclave BIN] --check  compare instead of writing; exit 1 on a difference
BIN is a built reclave binary (default: `go run ./cmd/reclave` in the repository).
"""
import base64
import hashlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include"))
from reclave_ref import gen_text, generated_inputs  # noqa: E402
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
FOLDER = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(FOLDER))
LEVEL = 6  # the module's default level; the inputs name none


def run_module(reclave, doc):
    """The module's output for input doc (bytes), through reclave invoke."""
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        f.write(doc)
        f.flush()
        cmd = reclave + ["invoke", "deflate", "--workloads", os.path.dirname(FOLDER),
                         "--input", "@" + f.name, "--json"]
        res = subprocess.run(cmd, cwd=REPO, capture_output=True, check=True)
    rec = json.loads(res.stdout.decode().splitlines()[0])
    if rec.get("error"):
        sys.exit(f"gen.py: the module failed: {rec['error']}")
    return json.loads(rec["output"])


def expected(reclave, size, text):
    data = text.encode()
    got = run_module(reclave, json.dumps({"text": text, "stream": True},
                                         separators=(",", ":")).encode())
    stream = base64.b64decode(got["stream"], validate=True)
    inflater = zlib.decompressobj(wbits=-15)  # raw DEFLATE, no zlib header
    back = inflater.decompress(stream) + inflater.flush()
    if back != data or not inflater.eof or inflater.unused_data:
        sys.exit(f"gen.py: {size}: the module's stream does not inflate to the text")
    ref = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    zsize = len(ref.compress(data) + ref.flush())
    print(f"{size}: {len(data)} bytes -> module {len(stream)}, zlib {zsize} (level {LEVEL})")
    if not 0.75 * zsize <= len(stream) <= 1.25 * zsize:
        sys.exit(f"gen.py: {size}: stream of {len(stream)} bytes, zlib's of {zsize}: not within 25%")
    out = {
        "level": LEVEL,
        "input_bytes": len(data),
        "input_sha256": hashlib.sha256(data).hexdigest(),
        "compressed_bytes": len(stream),
        "compressed_sha256": hashlib.sha256(stream).hexdigest(),
        "roundtrip": True,
    }
    for k in ("level", "input_bytes", "input_sha256", "compressed_bytes", "compressed_sha256",
              "roundtrip"):
        if got[k] != out[k]:
            sys.exit(f"gen.py: {size}: module says {k} {got[k]!r}, the reference {out[k]!r}")
    return json.dumps(out, separators=(",", ":")).encode()


def main(argv):
    check = "--check" in argv
    reclave = [argv[argv.index("--reclave") + 1]] if "--reclave" in argv else ["go", "run",
                                                                                "./cmd/reclave"]
    failed = False
    for size, (count, seed) in sorted(generated_inputs(FOLDER, "text").items()):
        want = expected(reclave, size, gen_text(count, seed))
        path = os.path.join(HERE, size + ".json")
        if check:
            have = open(path, "rb").read() if os.path.exists(path) else b""
            if have != want:
                print(f"gen.py: {path} differs from the reference", file=sys.stderr)
                failed = True
            continue
        with open(path, "wb") as f:
            f.write(want)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
