#!/usr/bin/env python3
"""Independent MRENCLAVE test vectors for reclave's sgx package.

Computes SGX enclave measurements (MRENCLAVE) from the Intel SDM's definitions of ECREATE,
EADD and EEXTEND (Vol. 3D, the instruction pages' "Operation" sections), using only the
Python standard library, and prints them as JSON. The Go tests (vectors_test.go) recompute
every vector with the Go implementation and compare.

    python3 mrenclave.py > mrenclave_vectors.json

Records (64 bytes each, integers little-endian), hashed in order with SHA-256:

    ECREATE  "ECREATE\\0" | SSAFRAMESIZE (u32) | SIZE (u64) | 44 zero bytes
    EADD     "EADD\\0\\0\\0\\0" | offset (u64) | SECINFO[0:48] = FLAGS (u64) | 40 zero bytes
    EEXTEND  "EEXTEND\\0" | offset (u64) | 48 zero bytes, then the 256 bytes of the chunk

A measured page is EADD then 16 EEXTENDs (chunk offsets page+0, +256, ..., +3840). An
unmeasured page is EADD alone. EINIT finalises the hash.

Page contents are described, not listed, so the JSON stays small; the Go test rebuilds them
with the same rules and checks each page's SHA-256 (content_sha256) before measuring:

    {"kind": "zero"}                  4096 zero bytes
    {"kind": "fill", "byte": b}       4096 bytes of b
    {"kind": "pattern", "seed": s}    byte i = (s + 7*i + (i >> 8)) mod 256
    {"kind": "ascii", "text": t}      t encoded as UTF-8, zero padded to 4096 bytes
"""

import hashlib
import json
import struct

PAGE = 4096
CHUNK = 256

R, W, X = 1, 2, 4
PT_TCS = 1 << 8
PT_REG = 2 << 8


def content(spec):
    kind = spec["kind"]
    if kind == "zero":
        return bytes(PAGE)
    if kind == "fill":
        return bytes([spec["byte"]]) * PAGE
    if kind == "pattern":
        s = spec["seed"]
        return bytes((s + 7 * i + (i >> 8)) % 256 for i in range(PAGE))
    if kind == "ascii":
        b = spec["text"].encode("utf-8")
        assert len(b) <= PAGE
        return b + bytes(PAGE - len(b))
    raise ValueError(kind)


def ecreate(ssaframesize, size):
    rec = b"ECREATE\0" + struct.pack("<IQ", ssaframesize, size)
    return rec + bytes(64 - len(rec))


def eadd(offset, flags):
    rec = b"EADD\0\0\0\0" + struct.pack("<QQ", offset, flags)
    return rec + bytes(64 - len(rec))


def eextend(offset, chunk):
    assert len(chunk) == CHUNK and offset % CHUNK == 0
    rec = b"EEXTEND\0" + struct.pack("<Q", offset)
    return rec + bytes(64 - len(rec)) + chunk


def mrenclave(v):
    h = hashlib.sha256()
    h.update(ecreate(v["ssaframesize"], v["size"]))
    for p in v["pages"]:
        h.update(eadd(p["offset"], p["flags"]))
        if p.get("measured", True):
            data = content(p["content"])
            for c in range(0, PAGE, CHUNK):
                h.update(eextend(p["offset"] + c, data[c:c + CHUNK]))
    return h.hexdigest()


def page(offset, flags, kind="zero", measured=True, **kw):
    p = {"offset": offset, "flags": flags, "content": dict(kind=kind, **kw)}
    if not measured:
        p["measured"] = False
    return p


RW = PT_REG | R | W
RX = PT_REG | R | X

VECTORS = [
    {"name": "ecreate_only", "ssaframesize": 1, "size": 4096, "pages": []},
    {"name": "one_zero_page", "ssaframesize": 1, "size": 4096, "pages": [page(0, RW)]},
    {"name": "one_zero_page_rx", "ssaframesize": 1, "size": 4096, "pages": [page(0, RX)]},
    {"name": "ssaframesize_2", "ssaframesize": 2, "size": 4096, "pages": [page(0, RW)]},
    {"name": "size_8k", "ssaframesize": 1, "size": 8192, "pages": [page(0, RW)]},
    {"name": "fill_ff", "ssaframesize": 1, "size": 4096, "pages": [page(0, RW, "fill", byte=0xFF)]},
    {"name": "pattern", "ssaframesize": 1, "size": 4096, "pages": [page(0, RX, "pattern", seed=3)]},
    {
        # reclave's own layout: TCS, SSA, code, heap
        "name": "tcs_ssa_code_heap",
        "ssaframesize": 1,
        "size": 1 << 16,
        "pages": [
            page(0x0000, PT_TCS),
            page(0x1000, RW),
            page(0x2000, RX, "ascii", text="\u0000asm\u0001\u0000\u0000\u0000 reclave test module"),
            page(0x3000, RX, "pattern", seed=200),
            page(0x4000, RW),
            page(0x5000, RW),
        ],
    },
    {
        "name": "out_of_order",
        "ssaframesize": 1,
        "size": 1 << 15,
        "pages": [
            page(0x3000, RW, "fill", byte=0x11),
            page(0x0000, PT_TCS),
            page(0x7000, RX, "pattern", seed=9),
            page(0x1000, RW, "fill", byte=0x22),
        ],
    },
    {
        "name": "in_order_same_pages",
        "ssaframesize": 1,
        "size": 1 << 15,
        "pages": [
            page(0x0000, PT_TCS),
            page(0x1000, RW, "fill", byte=0x22),
            page(0x3000, RW, "fill", byte=0x11),
            page(0x7000, RX, "pattern", seed=9),
        ],
    },
    {
        "name": "unmeasured_heap",
        "ssaframesize": 1,
        "size": 1 << 14,
        "pages": [
            page(0x0000, PT_TCS),
            page(0x1000, RX, "pattern", seed=1),
            page(0x2000, RW, measured=False),
            page(0x3000, RW, measured=False),
        ],
    },
    {
        "name": "sparse_high_offsets",
        "ssaframesize": 4,
        "size": 1 << 32,
        "pages": [
            page(0x0000, PT_TCS),
            page(0x10000000, RW, "pattern", seed=77),
            page(0xFFFFF000, RW | X, "fill", byte=0x5A),
        ],
    },
]


def main():
    out = []
    for v in VECTORS:
        v = dict(v)
        for p in v["pages"]:
            if p.get("measured", True):
                p["content_sha256"] = hashlib.sha256(content(p["content"])).hexdigest()
        v["mrenclave"] = mrenclave(v)
        out.append(v)
    doc = {
        "generator": "enclave/internal/sgx/testdata/mrenclave.py (Python standard library only)",
        "vectors": out,
    }
    print(json.dumps(doc, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
