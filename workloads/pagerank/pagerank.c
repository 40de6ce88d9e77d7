/*
 * pagerank: a reclave workload (reactor kind, function ABI version 1, see ../README.md):
 * breadth-first search and PageRank over a generated random directed graph.
 *
 * Input:  {"nodes":N,"degree":D,"iterations":I,"seed":S}
 *         1 <= N <= 1000000, 0 <= D <= 64, N*(2D+1) <= 32000000, 1 <= I <= 200.
 * Graph:  from splitmix64 seeded with S, for each node u = 0..N-1 in order: its out-degree
 *         deg(u) = next() % (2D+1) (mean D; nodes with none are dangling), then deg(u) edge
 *         targets next() % N (self-loops and repeated edges kept). Stored as CSR arrays.
 * BFS:    from node 0 along out-edges (neighbours in edge order): reached = nodes reached
 *         (including 0), depth = the largest distance, depth_sum = the sum of distances.
 * Rank:   pr = 1/N for every node; each of I iterations computes, in double precision,
 *           dangling = sum of pr[u] over dangling u (increasing u);
 *           acc[v] = sum of pr[u]/deg(u) over edges u->v, added in order of u, then edge;
 *           new[v] = (1-0.85)/N + 0.85*(acc[v] + dangling/N);
 *         and delta = sum over v (increasing) of |new[v] - pr[v]| of the last iteration.
 * Output: {"nodes":N,"edges":E,"reached":R,"depth":M,"depth_sum":T,"rank_sum":X,
 *          "delta":Y,"top":[[node,scaled rank],...5]}
 *         rank_sum = sum of the final ranks in increasing v ("%.9f", about 1); delta "%.6e";
 *         top = the 5 highest-ranked nodes (ties: lower index first; fewer if N < 5) with
 *         rank*N printed "%.6f".
 * Errors: {"error":"<reason>"} and result 1 for malformed input or a parameter out of range.
 *
 * Reuse: no static state; the arrays are malloc'd and freed within each invocation.
 * expected/gen.py recomputes the outputs in Python with the same operation order.
 */
#include <math.h>

#include "../include/reclave_io.h"

#define DAMPING 0.85
#define TOP 5

static int run(const char *doc, struct rio_buf *out, char *err, size_t errlen) {
    uint64_t N, D, iters, seed;
    if (rio_param_u64(doc, "nodes", 1, 1000000, &N, err, errlen) ||
        rio_param_u64(doc, "degree", 0, 64, &D, err, errlen) ||
        rio_param_u64(doc, "iterations", 1, 200, &iters, err, errlen) ||
        rio_param_u64(doc, "seed", 0, UINT64_MAX, &seed, err, errlen))
        return -1;
    if (N * (2 * D + 1) > 32000000) {
        snprintf(err, errlen, "nodes*(2*degree+1) must be at most 32000000");
        return -1;
    }
    size_t n = (size_t)N;
    uint32_t *off = malloc((n + 1) * sizeof *off);
    uint32_t *edge = malloc(n * (2 * (size_t)D + 1) * sizeof *edge);
    int32_t *dist = malloc(n * sizeof *dist);
    uint32_t *queue = malloc(n * sizeof *queue);
    double *pr = malloc(n * sizeof *pr), *acc = malloc(n * sizeof *acc);
    int rc = -1;
    if (!off || !edge || !dist || !queue || !pr || !acc) {
        snprintf(err, errlen, "out of memory for %zu nodes", n);
        goto done;
    }

    /* the graph, in CSR form */
    uint64_t st = seed;
    size_t m = 0;
    off[0] = 0;
    for (size_t u = 0; u < n; u++) {
        uint64_t deg = rio_splitmix64(&st) % (2 * D + 1);
        for (uint64_t e = 0; e < deg; e++) edge[m++] = (uint32_t)(rio_splitmix64(&st) % N);
        off[u + 1] = (uint32_t)m;
    }

    /* breadth-first search from node 0 */
    for (size_t v = 0; v < n; v++) dist[v] = -1;
    size_t head = 0, tail = 0;
    uint64_t depth_sum = 0;
    int32_t depth = 0;
    dist[0] = 0;
    queue[tail++] = 0;
    while (head < tail) {
        uint32_t u = queue[head++];
        for (uint32_t e = off[u]; e < off[u + 1]; e++) {
            uint32_t v = edge[e];
            if (dist[v] >= 0) continue;
            dist[v] = dist[u] + 1;
            depth_sum += (uint64_t)dist[v];
            if (dist[v] > depth) depth = dist[v];
            queue[tail++] = v;
        }
    }

    /* PageRank, power iteration */
    double dn = (double)N;
    for (size_t v = 0; v < n; v++) pr[v] = 1.0 / dn;
    double delta = 0;
    for (uint64_t it = 0; it < iters; it++) {
        double dangling = 0;
        for (size_t v = 0; v < n; v++) acc[v] = 0;
        for (size_t u = 0; u < n; u++) {
            uint32_t deg = off[u + 1] - off[u];
            if (deg == 0) {
                dangling += pr[u];
                continue;
            }
            double share = pr[u] / (double)deg;
            for (uint32_t e = off[u]; e < off[u + 1]; e++) acc[edge[e]] += share;
        }
        double base = (1.0 - DAMPING) / dn, dshare = dangling / dn;
        delta = 0;
        for (size_t v = 0; v < n; v++) {
            double nv = base + DAMPING * (acc[v] + dshare);
            delta += fabs(nv - pr[v]);
            pr[v] = nv;
        }
    }
    double rank_sum = 0;
    for (size_t v = 0; v < n; v++) rank_sum += pr[v];

    /* the TOP highest ranks, ties to the lower index */
    size_t top[TOP], ntop = 0;
    for (size_t v = 0; v < n; v++) {
        size_t i = ntop;
        while (i > 0 && pr[v] > pr[top[i - 1]]) i--;
        if (i >= TOP) continue;
        if (ntop < TOP) ntop++;
        for (size_t j = ntop - 1; j > i; j--) top[j] = top[j - 1];
        top[i] = v;
    }

    if (rio_printf(out,
                   "{\"nodes\":%zu,\"edges\":%zu,\"reached\":%zu,\"depth\":%d,"
                   "\"depth_sum\":%llu,\"rank_sum\":%.9f,\"delta\":%.6e,\"top\":[",
                   n, m, tail, (int)depth, (unsigned long long)depth_sum, rank_sum, delta))
        goto oom;
    for (size_t i = 0; i < ntop; i++)
        if (rio_printf(out, "%s[%zu,%.6f]", i ? "," : "", top[i], pr[top[i]] * dn)) goto oom;
    if (rio_append(out, "]}", 2)) goto oom;
    rc = 0;
    goto done;
oom:
    snprintf(err, errlen, "out of memory formatting the output");
done:
    free(off);
    free(edge);
    free(dist);
    free(queue);
    free(pr);
    free(acc);
    return rc;
}

__attribute__((export_name("reclave_handle")))
int reclave_handle(void) { return rio_serve(run); }
