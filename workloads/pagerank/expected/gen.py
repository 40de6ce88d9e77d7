#!/usr/bin/env python3
"""Reference implementation of the pagerank workload (see ../pagerank.c for the contract):
writes expected/<size>.json for every input size in ../workload.yaml. Usage:
    python3 workloads/pagerank/expected/gen.py [--check] [--size SIZE]
Same floating-point operations in the same order as the C code, so the doubles are
bit-identical; the BFS uses a deque and the top nodes a full sort."""
import collections
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the workload tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include"))
from reclave_ref import SplitMix64, main  # noqa: E402

DAMPING = 0.85


def compute(data):
    p = json.loads(data)
    N, D, iters = p["nodes"], p["degree"], p["iterations"]
    rng = SplitMix64(p["seed"])
    adj = []
    for _ in range(N):
        deg = rng.next() % (2 * D + 1)
        adj.append([rng.next() % N for _ in range(deg)])
    edges = 0
    for a in adj:
        edges += len(a)

    dist = [-1] * N
    dist[0] = 0
    q = collections.deque([0])
    while q:
        u = q.popleft()
        for v in adj[u]:
            if dist[v] < 0:
                dist[v] = dist[u] + 1
                q.append(v)
    reached = [d for d in dist if d >= 0]

    dn = float(N)
    pr = [1.0 / dn] * N
    delta = 0.0
    for _ in range(iters):
        dangling = 0.0
        acc = [0.0] * N
        for u in range(N):
            a = adj[u]
            if not a:
                dangling += pr[u]
                continue
            share = pr[u] / float(len(a))
            for v in a:
                acc[v] += share
        base, dshare = (1.0 - DAMPING) / dn, dangling / dn
        delta = 0.0
        new = [0.0] * N
        for v in range(N):
            nv = base + DAMPING * (acc[v] + dshare)
            delta += abs(nv - pr[v])
            new[v] = nv
        pr = new
    rank_sum = 0.0
    for x in pr:
        rank_sum += x
    top = sorted(range(N), key=lambda v: (-pr[v], v))[:5]
    tops = ",".join("[%d,%.6f]" % (v, pr[v] * dn) for v in top)
    return ('{"nodes":%d,"edges":%d,"reached":%d,"depth":%d,"depth_sum":%d,"rank_sum":%.9f,'
            '"delta":%.6e,"top":[%s]}'
            % (N, edges, len(reached), max(reached), sum(reached), rank_sum, delta, tops))


if __name__ == "__main__":
    main(compute)
