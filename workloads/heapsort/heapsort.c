/*
 * heapsort: a reclave workload (reactor kind, function ABI version 1, see ../README.md): an
 * in-place heap sort of a large generated array, the store-heavy workload that measures what
 * the `tracked` rewind strategy's store instrumentation costs.
 *
 * Input:  {"n":N,"seed":S}   1 <= N <= 8000000, S any unsigned 64-bit integer.
 * Data:   N 32-bit keys a[i] = next() >> 32 from splitmix64 seeded with S, in one array.
 * Work:   an in-place heap sort (build a max-heap bottom-up, then move the maximum to the end
 *         and sift the new root down, N-1 times; every sift moves the hole down one level per
 *         store, so most of the time goes to loads, compares and stores scattered over the
 *         array), then a pass that checks the result is ordered.
 * Output: {"n":N,"min":A,"max":B,"median":M,"distinct":D,"checksum":"0x<16 hex digits>"}
 *         min, max and median (the key at index N/2 of the sorted order) are integers;
 *         distinct is the number of distinct keys; checksum = sum over positions i of
 *         (i + 1) * (a_i + 1) modulo 2^64, which fixes the whole sorted array.
 * Errors: {"error":"<reason>"} and result 1 for malformed input or a parameter out of range.
 *
 * Reuse: no static state; the array is malloc'd and freed within each invocation.
 * expected/gen.py recomputes the outputs in Python (with its built-in sort).
 */
#include "../include/reclave_io.h"

/* Moves the hole at index i of the max-heap a[0..n) down until v fits there, then stores v:
 * one store per level. */
static void sift_down(uint32_t *a, size_t i, size_t n, uint32_t v) {
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && a[c + 1] > a[c]) c++;
        if (a[c] <= v) break;
        a[i] = a[c];
        i = c;
    }
    a[i] = v;
}

/* Sorts a[0..n) in ascending order, in place. */
static void heap_sort(uint32_t *a, size_t n) {
    for (size_t i = n / 2; i-- > 0;) sift_down(a, i, n, a[i]);
    for (size_t end = n; end-- > 1;) {
        uint32_t v = a[end];
        a[end] = a[0];
        sift_down(a, 0, end, v);
    }
}

static int run(const char *doc, struct rio_buf *out, char *err, size_t errlen) {
    uint64_t n64, seed;
    if (rio_param_u64(doc, "n", 1, 8000000, &n64, err, errlen) ||
        rio_param_u64(doc, "seed", 0, UINT64_MAX, &seed, err, errlen))
        return -1;
    size_t n = (size_t)n64;
    uint32_t *a = malloc(n * sizeof *a);
    int rc = -1;
    if (!a) {
        snprintf(err, errlen, "out of memory for n=%zu", n);
        goto done;
    }
    uint64_t st = seed;
    for (size_t i = 0; i < n; i++) a[i] = (uint32_t)(rio_splitmix64(&st) >> 32);
    heap_sort(a, n);

    uint64_t distinct = 1, checksum = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            if (a[i] < a[i - 1]) {
                snprintf(err, errlen, "internal error: not sorted at index %zu", i);
                goto done;
            }
            if (a[i] != a[i - 1]) distinct++;
        }
        checksum += (uint64_t)(i + 1) * ((uint64_t)a[i] + 1);
    }
    if (rio_printf(out,
                   "{\"n\":%zu,\"min\":%u,\"max\":%u,\"median\":%u,\"distinct\":%llu,"
                   "\"checksum\":\"0x%016llx\"}",
                   n, (unsigned)a[0], (unsigned)a[n - 1], (unsigned)a[n / 2],
                   (unsigned long long)distinct, (unsigned long long)checksum)) {
        snprintf(err, errlen, "out of memory formatting the output");
        goto done;
    }
    rc = 0;
done:
    free(a);
    return rc;
}

__attribute__((export_name("reclave_handle")))
int reclave_handle(void) { return rio_serve(run); }
