/*
 * sort: a reclave workload (reactor kind, function ABI version 1, see ../README.md): a stable
 * merge sort of generated records.
 *
 * Input:  {"n":N,"seed":S}   1 <= N <= 4000000, S any unsigned 64-bit integer.
 * Data:   N records (key, id), id = 0..N-1 in order, key = next() >> 40 (24 bits, so large
 *         inputs have many equal keys) from splitmix64 seeded with S.
 * Work:   a bottom-up merge sort by key (stable: equal keys keep their id order), ping-ponging
 *         between the array and one scratch array of the same size, then a pass that checks
 *         the result is ordered.
 * Output: {"n":N,"min":A,"max":B,"median":M,"distinct":D,"checksum":"0x<16 hex digits>"}
 *         min, max and median (the key at index N/2 of the sorted order) are integers;
 *         distinct is the number of distinct keys; checksum = sum over positions i of
 *         (i + 1) * (id_i + 1) modulo 2^64 (id_i = the id of the record at position i), which
 *         fixes the whole order including ties.
 * Errors: {"error":"<reason>"} and result 1 for malformed input or a parameter out of range.
 *
 * Reuse: no static state; the arrays are malloc'd and freed within each invocation.
 * expected/gen.py recomputes the outputs in Python (with its stable built-in sort).
 */
#include "../include/reclave_io.h"

struct rec {
    uint32_t key, id;
};

/* Merges the sorted runs src[lo..mid) and src[mid..hi) into dst[lo..hi), stably. */
static void merge(const struct rec *src, struct rec *dst, size_t lo, size_t mid, size_t hi) {
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi) dst[k++] = src[j].key < src[i].key ? src[j++] : src[i++];
    while (i < mid) dst[k++] = src[i++];
    while (j < hi) dst[k++] = src[j++];
}

/* Sorts a[0..n) by key, stably, using tmp[0..n) as scratch. Returns the array that holds the
 * result (a or tmp). */
static struct rec *merge_sort(struct rec *a, struct rec *tmp, size_t n) {
    /* Runs of 16 are sorted by insertion first (stable), then merged pairwise. */
    const size_t run = 16;
    for (size_t lo = 0; lo < n; lo += run) {
        size_t hi = lo + run < n ? lo + run : n;
        for (size_t i = lo + 1; i < hi; i++) {
            struct rec r = a[i];
            size_t j = i;
            while (j > lo && a[j - 1].key > r.key) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = r;
        }
    }
    struct rec *src = a, *dst = tmp;
    for (size_t width = run; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            merge(src, dst, lo, mid, hi);
        }
        struct rec *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

static int run(const char *doc, struct rio_buf *out, char *err, size_t errlen) {
    uint64_t n64, seed;
    if (rio_param_u64(doc, "n", 1, 4000000, &n64, err, errlen) ||
        rio_param_u64(doc, "seed", 0, UINT64_MAX, &seed, err, errlen))
        return -1;
    size_t n = (size_t)n64;
    struct rec *a = malloc(n * sizeof *a), *tmp = malloc(n * sizeof *tmp);
    int rc = -1;
    if (!a || !tmp) {
        snprintf(err, errlen, "out of memory for n=%zu", n);
        goto done;
    }
    uint64_t st = seed;
    for (size_t i = 0; i < n; i++) {
        a[i].key = (uint32_t)(rio_splitmix64(&st) >> 40);
        a[i].id = (uint32_t)i;
    }
    struct rec *s = merge_sort(a, tmp, n);

    uint64_t distinct = 1, checksum = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            if (s[i].key < s[i - 1].key ||
                (s[i].key == s[i - 1].key && s[i].id < s[i - 1].id)) {
                snprintf(err, errlen, "internal error: not sorted at index %zu", i);
                goto done;
            }
            if (s[i].key != s[i - 1].key) distinct++;
        }
        checksum += (uint64_t)(i + 1) * ((uint64_t)s[i].id + 1);
    }
    if (rio_printf(out,
                   "{\"n\":%zu,\"min\":%u,\"max\":%u,\"median\":%u,\"distinct\":%llu,"
                   "\"checksum\":\"0x%016llx\"}",
                   n, (unsigned)s[0].key, (unsigned)s[n - 1].key, (unsigned)s[n / 2].key,
                   (unsigned long long)distinct, (unsigned long long)checksum)) {
        snprintf(err, errlen, "out of memory formatting the output");
        goto done;
    }
    rc = 0;
done:
    free(a);
    free(tmp);
    return rc;
}

__attribute__((export_name("reclave_handle")))
int reclave_handle(void) { return rio_serve(run); }
