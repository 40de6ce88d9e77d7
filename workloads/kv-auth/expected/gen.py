#!/usr/bin/env python3
"""Reference implementation of the kv-auth workload (see ../kv_auth.c for the contract):
writes the request files inputs/<size>.json and the expected outputs expected/<size>.json.
Usage:
    python3 workloads/kv-auth/expected/gen.py [--check] [--size SIZE]
Tags are made and checked with Python's hmac and hashlib, independently of the C code. The
requests are drawn from splitmix64 with fixed seeds: valid ones, and ones with a tampered tag
or record, an unknown or disabled user, or a malformed field."""
import hashlib
import hmac
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the workload tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include"))
from reclave_ref import SplitMix64, main, write_if_changed  # noqa: E402

MASTER_SEED = 0x6B762D6175746831
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
         "mallory", "niaj", "olivia", "peggy", "trudy", "walter"]
DISABLED = {"mallory", "trudy"}
WORDS = ["balance", "order", "cart", "session", "profile", "email", "address", "limit",
         "token", "café", "naïve", "日本", "☕", "\U0001F510", "quote\"d", "back\\slash",
         "tab\tbed", "new\nline"]


def master_key():
    rng = SplitMix64(MASTER_SEED)
    return b"".join(rng.next().to_bytes(8, "little") for _ in range(4))


KEYS = {u: hmac.new(master_key(), u.encode(), hashlib.sha256).digest() for u in USERS}


def generated(n, seed):
    rng = SplitMix64(seed)
    return b"".join(rng.next().to_bytes(8, "little") for _ in range((n + 7) // 8))[:n]


def record_bytes(req):
    if "record" in req:
        return req["record"].encode("utf-8")
    return generated(req["record_bytes"], req["record_seed"])


def tag(user, record):
    key = KEYS.get(user, b"\xa5" * 32)
    return hmac.new(key, record, hashlib.sha256).hexdigest()


def make_requests(seed, count, big):
    """count requests; big > 0 makes generated records of `big` bytes, else text records."""
    rng = SplitMix64(seed)
    reqs = []
    for i in range(count):
        kind = rng.next() % 10  # 0-5 valid, 6 bad tag, 7 tampered record, 8 unknown, 9 other
        user = USERS[rng.next() % len(USERS)]
        if big:
            req = {"user": user, "record_bytes": big, "record_seed": rng.next() % 1000000}
        else:
            words = [WORDS[rng.next() % len(WORDS)] for _ in range(1 + rng.next() % 12)]
            req = {"user": user, "record": "%s/%d=%s" % (user, i, " ".join(words))}
        req["tag"] = tag(user, record_bytes(req))
        if kind == 6:
            t = req["tag"]
            j = rng.next() % 64
            req["tag"] = t[:j] + "%x" % (int(t[j], 16) ^ 1) + t[j + 1:]
        elif kind == 7:
            if big:
                req["record_seed"] += 1
            else:
                req["record"] += "!"
        elif kind == 8:
            req["user"] = user.upper()  # names are case-sensitive: unknown
        elif kind == 9:
            bad = rng.next() % 4
            if bad == 0:
                req["tag"] = req["tag"][:63]
            elif bad == 1:
                req["tag"] = req["tag"].upper()  # upper-case hex is fine: still valid
            elif bad == 2:
                del req["user"]
            else:
                req["tag"] = "z" + req["tag"][1:]
        reqs.append(req)
    return reqs


def inputs():
    test = [
        {"user": "alice", "record": "alice/balance=100", "tag": tag("alice", b"alice/balance=100")},
        {"user": "bob", "record": "bob/balance=1000000", "tag": tag("bob", b"bob/balance=100")},
        {"user": "zed", "record": "zed/x=1", "tag": tag("zed", b"zed/x=1")},
        {"user": "mallory", "record": "m", "tag": tag("mallory", b"m")},
        {"user": "carol", "record_bytes": 100, "record_seed": 5, "tag": tag("carol", generated(100, 5))},
        {"user": "dave", "record": "d", "record_bytes": 1, "record_seed": 1, "tag": "00" * 32},
        7,
    ]
    small = make_requests(11, 40, 0) + make_requests(12, 6, 16384)
    large = make_requests(13, 24, 512 * 1024)
    return {"test": test, "small": small, "large": large}


def encode(reqs):
    # one request per line; ensure_ascii escapes non-ASCII as \uXXXX (surrogate pairs too)
    return ("{\"requests\":[\n" + ",\n".join(json.dumps(r, separators=(",", ":")) for r in reqs)
            + "\n]}\n").encode("ascii")


def write_inputs(folder, check):
    os.makedirs(os.path.join(folder, "inputs"), exist_ok=True)
    ok = True
    for size, reqs in inputs().items():
        ok &= write_if_changed(os.path.join(folder, "inputs", size + ".json"), encode(reqs), check)
    return ok


def result(req):
    if not isinstance(req, dict) or not isinstance(req.get("user"), str):
        return "malformed"
    t = req.get("tag")
    if not isinstance(t, str) or len(t) != 64 or any(c not in "0123456789abcdefABCDEF" for c in t):
        return "malformed"
    has_text = "record" in req
    has_gen = "record_bytes" in req or "record_seed" in req
    if has_text == has_gen:
        return "malformed"
    if has_text and not isinstance(req["record"], str):
        return "malformed"
    if has_gen and not (isinstance(req.get("record_bytes"), int) and 0 <= req["record_bytes"] <= 1 << 24
                        and isinstance(req.get("record_seed"), int) and 0 <= req["record_seed"] < 1 << 64):
        return "malformed"
    rec = record_bytes(req)
    user = req["user"]
    if user not in KEYS:
        return "unknown-user"
    if user in DISABLED:
        return "disabled"
    return "ok" if hmac.compare_digest(tag(user, rec), t.lower()) else "bad-tag"


def compute(data):
    reqs = json.loads(data)["requests"]
    results = [result(r) for r in reqs]
    nbytes = 0
    for r, res in zip(reqs, results):
        if res != "malformed":
            nbytes += len(record_bytes(r))
    return '{"checked":%d,"ok":%d,"bytes":%d,"results":[%s]}' % (
        len(reqs), results.count("ok"), nbytes, ",".join('"%s"' % r for r in results))


if __name__ == "__main__":
    main(compute, before=write_inputs)
