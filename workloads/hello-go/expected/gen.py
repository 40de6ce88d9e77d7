#!/usr/bin/env python3
"""Writes hello-go's (or, with --cmd, hello-go-cmd's) expected outputs, expected/<size>.json.

A reference implementation of the Go module's output, independent of it: greeting
"Hello, <name>!", count the number of items, items upper-cased (Unicode simple case mapping,
per character, as Go's strings.ToUpper: a character whose upper case is more than one
character, like "ß", is kept) and sorted by code point (= Go's byte order of UTF-8), sha256
the hex SHA-256 of the raw input bytes, and for the reactor init true (reclave calls
reclave_init before the first invocation). Written as Go's encoding/json writes it (exact
bytes, checked with `expect: {file: ...}`): struct field order, no spaces, UTF-8 unescaped
except <, >, &, U+2028 and U+2029 as \\u escapes.

Run from anywhere: python3 workloads/hello-go/expected/gen.py [--cmd]
The inputs come from `reclave workloads input NAME --size SIZE`, run as
$RECLAVE (default: go run ./cmd/reclave, in the repository root).
"""
import hashlib
import json
import os
import shlex
import subprocess
import sys

COMMAND = "--cmd" in sys.argv[1:]
NAME = "hello-go-cmd" if COMMAND else "hello-go"
WORKLOADS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ROOT = os.path.dirname(WORKLOADS)
OUT = os.path.join(WORKLOADS, NAME, "expected")


def reclave_input(size):
    cmd = shlex.split(os.environ.get("RECLAVE", "go run ./cmd/reclave"))
    cmd += ["workloads", "input", NAME, "--size", size]
    return subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.PIPE).stdout


def upper(s):
    return "".join(u if len(u := c.upper()) == 1 else c for c in s)


def go_json(v):
    s = json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    for c, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                   ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        s = s.replace(c, esc)
    return s.encode("utf-8")


def expected(data):
    req = json.loads(data)
    items = sorted(upper(s) for s in req.get("items") or [])
    out = {
        "greeting": "Hello, " + req.get("name", "") + "!",
        "count": len(items),
        "items": items,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    if not COMMAND:
        out["init"] = True
    return go_json(out)


os.makedirs(OUT, exist_ok=True)
for size in ("test", "small", "large"):
    out = expected(reclave_input(size))
    with open(os.path.join(OUT, size + ".json"), "wb") as f:
        f.write(out)
    print("%s/expected/%s.json: %d bytes" % (NAME, size, len(out)))
