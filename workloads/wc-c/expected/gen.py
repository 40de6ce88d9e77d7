#!/usr/bin/env python3
"""Writes wc-c's expected outputs, expected/<size>.json, from its inputs.

A reference implementation of wc.c's output, independent of the module: the text is the
input's decoded JSON string (as UTF-8 bytes) or else the raw input; bytes is its length,
lines the number of newlines, words the number of runs of non-whitespace bytes (whitespace:
space, \\t, \\n, \\v, \\f, \\r, as bytes.split() splits), unique the number of distinct
tokens (maximal runs of ASCII letters, digits and bytes >= 0x80, ASCII letters lower-cased)
and top the 5 most frequent tokens, by count descending, ties by byte order ascending. The
output is written with the module's exact bytes (the manifest checks them with
`expect: {file: ...}`): no spaces, tokens unescaped (they hold nothing to escape).

Run from anywhere: python3 workloads/wc-c/expected/gen.py
The inputs come from `reclave workloads input wc-c --size SIZE`, run as
$RECLAVE (default: go run ./cmd/reclave, in the repository root).
"""
import collections
import json
import os
import re
import shlex
import subprocess

NAME = "wc-c"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))


def reclave_input(size):
    cmd = shlex.split(os.environ.get("RECLAVE", "go run ./cmd/reclave"))
    cmd += ["workloads", "input", NAME, "--size", size]
    return subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.PIPE).stdout


def expected(data):
    text = data
    if data.lstrip(b" \t\n\r").startswith(b'"'):
        text = json.loads(data).encode("utf-8")
    tokens = collections.Counter(t.lower() for t in re.findall(rb"[A-Za-z0-9\x80-\xff]+", text))
    top = sorted(tokens.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    out = b'{"bytes":%d,"lines":%d,"words":%d,"unique":%d,"top":[' % (
        len(text), text.count(b"\n"), len(text.split()), len(tokens))
    out += b",".join(b'{"word":"%s","count":%d}' % (w, c) for w, c in top)
    return out + b"]}"


for size in ("test", "small", "large"):
    out = expected(reclave_input(size))
    with open(os.path.join(HERE, size + ".json"), "wb") as f:
        f.write(out)
    print("%s/expected/%s.json: %d bytes" % (NAME, size, len(out)))
