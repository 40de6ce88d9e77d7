#!/usr/bin/python3
"""Reference for the json-transform workload: writes inputs/test.json (records given inline)
and expected/<size>.json, the exact output the module must give for each input of
../workload.yaml. Standard library only.

Independent of the Go module: the inputs are read from the manifest (json: literals and
file: paths), a `generate` request's document is regenerated here (splitmix64, the record
layout of main_wasip1.go's package comment) and serialised with Python's json, so
document_sha256 also checks that the module generated the same text; the filter, grouping and
aggregation are reimplemented here.

Usage (from any directory):
  expected/gen.py              write inputs/test.json and expected/<size>.json
  expected/gen.py --check      compare instead of writing; exit 1 on a difference
"""
import collections
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include"))
from reclave_ref import manifest_inputs, splitmix64  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FOLDER = os.path.dirname(HERE)

REGIONS = ["eu-west", "eu-north", "us-east", "us-west", "ap-south", "ap-east", "sa-east"]
CATEGORIES = ["books", "games", "music", "garden", "tools", "food", "toys", "sports"]
STATUSES = ["ok", "pending", "refunded", "failed"]
TAGS = ["gift", "sale", "new", "bulk", "priority", "return"]
GROUPABLE = ["user", "region", "category", "status"]

# inputs/test.json: a few records inline and non-default parameters.
TEST_RECORDS = (16, 7)  # count, seed of the records written inline
TEST_PARAMS = {"status": "", "min_amount": 20000, "group_by": ["status", "region"]}


def gen_records(count, seed):
    rng = splitmix64(seed)
    records = []
    for i in range(count):
        r = {"id": i}
        r["user"] = "u%03d" % (next(rng) % 500)
        r["region"] = REGIONS[next(rng) % len(REGIONS)]
        r["category"] = CATEGORIES[next(rng) % len(CATEGORIES)]
        r["status"] = STATUSES[next(rng) % len(STATUSES)]
        r["amount"] = next(rng) % 100000
        r["qty"] = 1 + next(rng) % 9
        r["tags"] = [TAGS[next(rng) % len(TAGS)] for _ in range(next(rng) % 4)]
        records.append(r)
    return records


def dumps(v):
    return json.dumps(v, separators=(",", ":")).encode()


def transform(raw):
    req = json.loads(raw)
    group_by = req.get("group_by") or (["region", "category"] if req.get("group_by") is None else [])
    assert all(f in GROUPABLE for f in group_by) and len(set(group_by)) == len(group_by)
    status = req.get("status")
    status = "ok" if status is None else status
    min_amount = req.get("min_amount", 0)
    if req.get("generate") is not None:
        g = req["generate"]
        doc = dumps({"records": gen_records(g.get("count", 0), g.get("seed", 0))})
    else:
        doc = raw
    records = json.loads(doc).get("records") or []

    groups = {}
    totals = {"count": 0, "amount_sum": 0, "qty_sum": 0}
    for r in records:
        amount, qty = r.get("amount", 0), r.get("qty", 0)
        if (status and r.get("status", "") != status) or amount < min_amount:
            continue
        key = tuple(r.get(f, "") for f in group_by)
        g = groups.setdefault(key, {"amounts": [], "qty": 0, "users": set(),
                                    "tags": collections.Counter()})
        g["amounts"].append(amount)
        g["qty"] += qty
        g["users"].add(r.get("user", ""))
        g["tags"].update(r.get("tags") or [])
        totals["count"] += 1
        totals["amount_sum"] += amount
        totals["qty_sum"] += qty
    out_groups = []
    for key, g in groups.items():
        a = g["amounts"]
        tags = sorted(g["tags"].items(), key=lambda kv: (-kv[1], kv[0].encode()))
        out_groups.append({
            "key": list(key),
            "count": len(a),
            "amount_sum": sum(a),
            "amount_min": min(a),
            "amount_max": max(a),
            "amount_avg": sum(a) // len(a),
            "qty_sum": g["qty"],
            "users": len(g["users"]),
            "top_tag": tags[0][0] if tags else "",
        })
    out_groups.sort(key=lambda g: (-g["amount_sum"], [k.encode() for k in g["key"]]))
    out = {
        "records": len(records),
        "matched": totals["count"],
        "document_bytes": len(doc),
        "document_sha256": hashlib.sha256(doc).hexdigest(),
        "group_by": group_by,
        "groups": out_groups,
        "totals": totals,
    }
    return dumps(out)


def main(argv):
    check = "--check" in argv
    test_input = dumps(dict({"records": gen_records(*TEST_RECORDS)}, **TEST_PARAMS))
    test_path = os.path.join(FOLDER, "inputs", "test.json")
    failed = False
    if check:
        if open(test_path, "rb").read() != test_input:
            print(f"gen.py: {test_path} differs from the reference", file=sys.stderr)
            failed = True
    else:
        with open(test_path, "wb") as f:
            f.write(test_input)
    for size, raw in sorted(manifest_inputs(FOLDER).items()):
        want = transform(raw)
        path = os.path.join(HERE, size + ".json")
        if check:
            have = open(path, "rb").read() if os.path.exists(path) else b""
            if have != want:
                print(f"gen.py: {path} differs from the reference", file=sys.stderr)
                failed = True
            continue
        with open(path, "wb") as f:
            f.write(want)
        print(f"{size}: {len(raw)} bytes of input, {len(want)} bytes of output")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
