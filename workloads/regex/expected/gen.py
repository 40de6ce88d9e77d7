#!/usr/bin/python3
"""Reference for the regex workload: writes expected/<size>.json, the exact output the module
must give for each input size of ../workload.yaml. Standard library only.

Independent of the Go module: the text is regenerated from the manifest's `generate: text`
parameters (splitmix64, see ../../README.md), word-wrapped into lines of at most 80 bytes as
the module does, and processed line by line with Python's re (a backtracking
engine; Go's regexp is an automaton) in ASCII mode, so that \\b and classes mean what they mean
in RE2. Both engines report leftmost-first, non-overlapping matches; no pattern here can match
the empty string, where the engines' rules for "all matches" differ.

Usage (from any directory):
  expected/gen.py              write expected/<size>.json
  expected/gen.py --check      compare instead of writing; exit 1 on a difference
  expected/gen.py --inputs DIR also write each size's input bytes to DIR/<size>.json
"""
import collections
import hashlib
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include"))
from reclave_ref import gen_text, generated_inputs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FOLDER = os.path.dirname(HERE)

# The module's patterns (main_wasip1.go), written in the syntax both engines share.
WORD = r"[A-Za-z]+"
REWRITE = r"\b([a-z]+) at ([a-z]+)\b"
REWRITE_TEMPLATE = r"\1@\2.example"
EMAIL = r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}"
PATTERNS = [
    ("th-words", r"\bth[a-z]*"),
    ("vowel-initial", r"\b[aeiou][a-z]*"),
    ("long-words", r"\b[a-z]{5,}\b"),
    ("the-phrase", r"\bthe [a-z]+"),
    ("pronoun-verb",
     r"\b(?:i|you|he|she|it|we|they) (?:is|are|was|were|has|have|had|can|will|would|could)\b"),
    ("question", r"\b(?:what|when|which|how) [a-z]+ [a-z]+\b"),
]
TOP_WORDS, TOP_MATCHES = 10, 5
LINE_WIDTH = 80


def wrap(text, width):
    """Greedy word wrap: words are runs of bytes other than space, tab, CR and LF."""
    lines, line = [], ""
    for w in (w for w in re.split(r"[ \t\r\n]+", text) if w):
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = ""
        line = line + " " + w if line else w
    if line:
        lines.append(line)
    return lines


def tally(pattern, lines, n):
    counts = collections.Counter(m.group(0) for line in lines
                                 for m in re.finditer(pattern, line, re.ASCII))
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].encode()))[:n]
    return sum(counts.values()), len(counts), [{"match": m, "count": c} for m, c in top]


def pattern_result(name, pattern, lines):
    total, distinct, top = tally(pattern, lines, TOP_MATCHES)
    return {"name": name, "pattern": pattern, "matches": total, "distinct": distinct, "top": top}


def expected(text):
    lines = wrap(text, LINE_WIDTH)
    words, distinct, top = tally(WORD, lines, TOP_WORDS)
    results = [pattern_result(name, p, lines) for name, p in PATTERNS]
    rewritten = [re.sub(REWRITE, REWRITE_TEMPLATE, line, flags=re.ASCII) + "\n" for line in lines]
    results.append(pattern_result("e-mail", EMAIL, rewritten))
    rewritten = "".join(rewritten).encode()
    out = {
        "bytes": len(text.encode()),
        "lines": len(lines),
        "words": words,
        "distinct_words": distinct,
        "top_words": top,
        "patterns": results,
        "rewritten_bytes": len(rewritten),
        "rewritten_sha256": hashlib.sha256(rewritten).hexdigest(),
    }
    return json.dumps(out, separators=(",", ":")).encode()


def main(argv):
    check = "--check" in argv
    inputs_dir = argv[argv.index("--inputs") + 1] if "--inputs" in argv else None
    failed = False
    for size, (count, seed) in sorted(generated_inputs(FOLDER, "text").items()):
        text = gen_text(count, seed)
        if inputs_dir:
            with open(os.path.join(inputs_dir, size + ".json"), "wb") as f:
                f.write(json.dumps({"text": text}, separators=(",", ":")).encode())
        want = expected(text)
        path = os.path.join(HERE, size + ".json")
        if check:
            have = open(path, "rb").read() if os.path.exists(path) else b""
            if have != want:
                print(f"gen.py: {path} differs from the reference", file=sys.stderr)
                failed = True
            continue
        with open(path, "wb") as f:
            f.write(want)
        print(f"{size}: {count} words, {len(want)} bytes of output")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
