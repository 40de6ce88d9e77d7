/*
 * matmul: a reclave workload (reactor kind, function ABI version 1, see ../README.md): dense
 * double-precision matrix multiplication C = A x B of two generated n x n matrices.
 *
 * Input:  {"n":N,"seed":S}   1 <= N <= 1024, S any unsigned 64-bit integer.
 * Data:   A and B are drawn from splitmix64 seeded with S: A row by row first, then B row by
 *         row, each element 2*u - 1 with u = (next() >> 11) * 2^-53, so in [-1, 1).
 * Work:   C[i][j] = sum over k = 0..n-1, in increasing k, of A[i][k]*B[k][j], accumulated
 *         from 0.0 in double precision (loop order i, k, j: each C[i][j] sees the same
 *         additions in the same order as the textbook i, j, k loop).
 * Output: {"n":N,"trace":T,"sum":S,"abs_sum":A,"max":M,"c00":X,"clast":Y}
 *         trace = sum of C[i][i] in increasing i; sum and abs_sum = sum of C[i][j] and of
 *         |C[i][j]| in row-major order; max = the largest element; c00 = C[0][0];
 *         clast = C[n-1][n-1]; every number but n is printed with "%.6f".
 * Errors: {"error":"<reason>"} and result 1 for malformed input or a parameter out of range.
 *
 * Reuse: no static state; the matrices are malloc'd and freed within each invocation.
 * expected/gen.py recomputes the outputs in Python with the same operation order.
 */
#include <math.h>

#include "../include/reclave_io.h"

static int run(const char *doc, struct rio_buf *out, char *err, size_t errlen) {
    uint64_t n64, seed;
    if (rio_param_u64(doc, "n", 1, 1024, &n64, err, errlen) ||
        rio_param_u64(doc, "seed", 0, UINT64_MAX, &seed, err, errlen))
        return -1;
    size_t n = (size_t)n64;
    double *a = malloc(n * n * sizeof *a);
    double *b = malloc(n * n * sizeof *b);
    double *c = calloc(n * n, sizeof *c);
    int rc = -1;
    if (!a || !b || !c) {
        snprintf(err, errlen, "out of memory for n=%zu", n);
        goto done;
    }
    uint64_t st = seed;
    for (size_t i = 0; i < n * n; i++) a[i] = 2.0 * rio_unit_double(&st) - 1.0;
    for (size_t i = 0; i < n * n; i++) b[i] = 2.0 * rio_unit_double(&st) - 1.0;

    for (size_t i = 0; i < n; i++) {
        double *ci = c + i * n;
        for (size_t k = 0; k < n; k++) {
            double aik = a[i * n + k];
            const double *bk = b + k * n;
            for (size_t j = 0; j < n; j++) ci[j] += aik * bk[j];
        }
    }

    double trace = 0, sum = 0, abs_sum = 0, max = c[0];
    for (size_t i = 0; i < n; i++) trace += c[i * n + i];
    for (size_t i = 0; i < n * n; i++) {
        sum += c[i];
        abs_sum += fabs(c[i]);
        if (c[i] > max) max = c[i];
    }
    if (rio_printf(out,
                   "{\"n\":%zu,\"trace\":%.6f,\"sum\":%.6f,\"abs_sum\":%.6f,\"max\":%.6f,"
                   "\"c00\":%.6f,\"clast\":%.6f}",
                   n, trace, sum, abs_sum, max, c[0], c[n * n - 1])) {
        snprintf(err, errlen, "out of memory formatting the output");
        goto done;
    }
    rc = 0;
done:
    free(a);
    free(b);
    free(c);
    return rc;
}

__attribute__((export_name("reclave_handle")))
int reclave_handle(void) { return rio_serve(run); }
