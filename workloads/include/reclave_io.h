/*
 * reclave_io.h: the small I/O and JSON helpers shared by reclave's C workloads matmul, sort,
 * thumbnail, pagerank, inference and kv-auth (function ABI version 1, see ../README.md).
 * Header-only: every function is `static inline`, so a workload includes it with
 *   #include "../include/reclave_io.h"
 * and builds as one translation unit; nothing unused ends up in the module.
 *
 * What it gives (all names start with rio_):
 *
 *  - struct rio_buf: a growable byte buffer (malloc/realloc; zero-initialise it, release it
 *    with rio_free). rio_append and rio_printf append bytes or snprintf-formatted text.
 *  - rio_read_stdin: reads fd 0 to end-of-file into a rio_buf with read(2), NUL-terminated
 *    (the NUL is not counted in len). rio_write_all writes bytes to fd 1 with write(2).
 *    No stdio FILE buffers are used for fd 0 or 1, so no buffered state survives from one
 *    invocation to the next (the ABI's rule for reused instances).
 *  - rio_error: writes {"error":"<reason>"} to fd 1 and returns 1 (the reclave_handle
 *    result for a failed invocation). The reason is written as given: pass only text without
 *    quotes, backslashes or control characters.
 *  - rio_splitmix64: the splitmix64 generator every workload uses to generate its data from a
 *    seed (state += 0x9E3779B97F4A7C15, then the two xor-shift-multiply mixing rounds), and
 *    rio_unit_double: the top 53 bits of a draw as a double in [0, 1).
 *  - A minimal JSON reader over a NUL-terminated document, enough for the workloads'
 *    parameter objects and request lists. Values are addressed by pointers into the text:
 *      rio_json_ws(p)              skips whitespace;
 *      rio_json_skip(p)            validates and skips one value of any type (RFC 8259
 *                                  grammar, nesting up to RIO_JSON_MAX_DEPTH), returns the
 *                                  position after it or NULL if malformed;
 *      rio_json_document(text)     checks that the whole text is one valid JSON value (any
 *                                  type); returns its start or NULL;
 *      rio_json_member(obj, key)   obj points at '{': returns the value of member `key` (the
 *                                  last one if repeated), NULL if absent or obj is no object;
 *                                  keys are compared byte for byte, escapes in keys are not
 *                                  decoded;
 *      rio_json_u64(v, &out)       reads a non-negative integer (no fraction, no exponent,
 *                                  at most 2^64-1);
 *      rio_json_double(v, &out)    reads any JSON number as a double (strtod);
 *      rio_json_string(v, &buf)    decodes a string (every escape, \uXXXX surrogate pairs
 *                                  to UTF-8) into a rio_buf, replacing its contents;
 *      rio_json_array_next(&p)     iterates an array: start with p at '[', each call returns
 *                                  the next element and advances p, NULL at the end (then *p
 *                                  is NULL if the array was malformed).
 *      rio_param_u64(doc, key, lo, hi, &out, err, errlen): reads the integer member `key` of
 *                                  object doc, checking lo <= value <= hi; on failure (doc
 *                                  no object, key missing, value out of range) writes a
 *                                  reason naming the key into err.
 *    Call rio_json_document first: the other readers assume a valid document and stop at the
 *    first byte that does not fit, without reading past the NUL.
 *  - rio_serve(fn): the body of a workload's reclave_handle. Reads stdin, checks it is one
 *    JSON document, calls fn(doc, &out, err, errlen) and writes `out` to stdout and returns 0
 *    when fn returns 0, else writes {"error":err} and returns 1. Frees everything it
 *    allocated before returning.
 */
#ifndef RECLAVE_IO_H
#define RECLAVE_IO_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RIO_JSON_MAX_DEPTH 64

/* ---- buffers and standard streams ------------------------------------------------------ */

struct rio_buf {
    char *data;
    size_t len, cap;
};

static inline void rio_free(struct rio_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Makes room for `extra` more bytes plus a NUL. Returns 0, or -1 when out of memory. */
static inline int rio_reserve(struct rio_buf *b, size_t extra) {
    if (extra > SIZE_MAX / 2 - b->len) return -1;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

/* Appends s[0..n) and keeps the buffer NUL-terminated. Returns 0 or -1 (out of memory). */
static inline int rio_append(struct rio_buf *b, const char *s, size_t n) {
    if (rio_reserve(b, n)) return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

/* Appends printf-formatted text. Returns 0 or -1 (out of memory or a formatting error). */
__attribute__((format(printf, 2, 3)))
static inline int rio_printf(struct rio_buf *b, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    if ((size_t)n < sizeof small) return rio_append(b, small, (size_t)n);
    if (rio_reserve(b, (size_t)n)) return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

/* Reads fd 0 to end-of-file into b (appending, NUL-terminated). Returns 0, or -1 on a read
 * error or when out of memory. */
static inline int rio_read_stdin(struct rio_buf *b) {
    for (;;) {
        if (rio_reserve(b, 65536)) return -1;
        ssize_t n = read(0, b->data + b->len, b->cap - b->len - 1);
        if (n > 0) {
            b->len += (size_t)n;
        } else if (n == 0) {
            b->data[b->len] = '\0';
            return 0;
        } else if (errno != EINTR) {
            return -1;
        }
    }
}

/* Writes s[0..n) to fd 1. Returns 0, or -1 on a write error. */
static inline int rio_write_all(const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, s, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes {"error":"<reason>"} to fd 1 and returns 1. */
static inline int rio_error(const char *reason) {
    rio_write_all("{\"error\":\"", 10);
    rio_write_all(reason, strlen(reason));
    rio_write_all("\"}", 2);
    return 1;
}

/* ---- splitmix64 -------------------------------------------------------------------------- */

static inline uint64_t rio_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The top 53 bits of the next draw, scaled to [0, 1): exact in a double. */
static inline double rio_unit_double(uint64_t *state) {
    return (double)(rio_splitmix64(state) >> 11) * 0x1.0p-53;
}

/* ---- minimal JSON reader ------------------------------------------------------------------ */

static inline const char *rio_json_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

static inline int rio_is_digit(char c) { return c >= '0' && c <= '9'; }

static inline int rio_hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Skips a number per the JSON grammar; NULL if malformed. */
static inline const char *rio_json_skip_number(const char *p) {
    if (*p == '-') p++;
    if (*p == '0') {
        p++;
    } else if (rio_is_digit(*p)) {
        while (rio_is_digit(*p)) p++;
    } else {
        return NULL;
    }
    if (*p == '.') {
        p++;
        if (!rio_is_digit(*p)) return NULL;
        while (rio_is_digit(*p)) p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!rio_is_digit(*p)) return NULL;
        while (rio_is_digit(*p)) p++;
    }
    return p;
}

/* Skips a string starting at its opening quote; NULL if malformed. */
static inline const char *rio_json_skip_string(const char *p) {
    if (*p != '"') return NULL;
    p++;
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c < 0x20) return NULL; /* control character, or the end of the text */
        if (c != '\\') {
            p++;
            continue;
        }
        p++;
        switch (*p) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            p++;
            break;
        case 'u':
            for (int i = 1; i <= 4; i++)
                if (rio_hex(p[i]) < 0) return NULL;
            p += 5;
            break;
        default:
            return NULL;
        }
    }
}

static inline const char *rio_json_skip_depth(const char *p, int depth) {
    p = rio_json_ws(p);
    if (depth > RIO_JSON_MAX_DEPTH) return NULL;
    switch (*p) {
    case '"':
        return rio_json_skip_string(p);
    case 't':
        return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
    case '[':
        p = rio_json_ws(p + 1);
        if (*p == ']') return p + 1;
        for (;;) {
            p = rio_json_skip_depth(p, depth + 1);
            if (!p) return NULL;
            p = rio_json_ws(p);
            if (*p == ']') return p + 1;
            if (*p != ',') return NULL;
            p++;
        }
    case '{':
        p = rio_json_ws(p + 1);
        if (*p == '}') return p + 1;
        for (;;) {
            p = rio_json_skip_string(rio_json_ws(p));
            if (!p) return NULL;
            p = rio_json_ws(p);
            if (*p != ':') return NULL;
            p = rio_json_skip_depth(p + 1, depth + 1);
            if (!p) return NULL;
            p = rio_json_ws(p);
            if (*p == '}') return p + 1;
            if (*p != ',') return NULL;
            p++;
        }
    default:
        return rio_json_skip_number(p);
    }
}

/* Skips one JSON value (and the whitespace before it). Returns the position after it, or
 * NULL if it is malformed or nested deeper than RIO_JSON_MAX_DEPTH. */
static inline const char *rio_json_skip(const char *p) { return rio_json_skip_depth(p, 0); }

/* Checks that text (NUL-terminated) is exactly one JSON value with optional whitespace
 * around it. Returns the start of the value, or NULL. */
static inline const char *rio_json_document(const char *text) {
    const char *end = rio_json_skip(text);
    if (!end || *rio_json_ws(end) != '\0') return NULL;
    return rio_json_ws(text);
}

/* Returns the value of member `key` of the object at obj (the last one if the key repeats),
 * or NULL if obj is not an object or has no such member. */
static inline const char *rio_json_member(const char *obj, const char *key) {
    const char *found = NULL;
    size_t klen = strlen(key);
    const char *p = rio_json_ws(obj);
    if (*p != '{') return NULL;
    p = rio_json_ws(p + 1);
    if (*p == '}') return NULL;
    for (;;) {
        const char *k = rio_json_ws(p);
        const char *kend = rio_json_skip_string(k);
        if (!kend) return found;
        p = rio_json_ws(kend);
        if (*p != ':') return found;
        const char *v = rio_json_ws(p + 1);
        if ((size_t)(kend - k) == klen + 2 && memcmp(k + 1, key, klen) == 0) found = v;
        p = rio_json_skip(v);
        if (!p) return found;
        p = rio_json_ws(p);
        if (*p != ',') return found;
        p++;
    }
}

/* Reads a non-negative integer (digits only, no sign, fraction or exponent, no overflow).
 * Returns 0, or -1 if v is not such a number. */
static inline int rio_json_u64(const char *v, uint64_t *out) {
    if (!v || !rio_is_digit(*v)) return -1;
    const char *end = rio_json_skip_number(v);
    if (!end) return -1;
    uint64_t x = 0;
    for (const char *p = v; p < end; p++) {
        if (!rio_is_digit(*p)) return -1;
        uint64_t d = (uint64_t)(*p - '0');
        if (x > (UINT64_MAX - d) / 10) return -1;
        x = x * 10 + d;
    }
    if (end - v > 1 && *v == '0') return -1;
    *out = x;
    return 0;
}

/* Reads any JSON number as a double. Returns 0, or -1 if v is not a number. */
static inline int rio_json_double(const char *v, double *out) {
    if (!v) return -1;
    const char *end = rio_json_skip_number(v);
    if (!end) return -1;
    char tmp[64];
    size_t n = (size_t)(end - v);
    if (n >= sizeof tmp) return -1;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    *out = strtod(tmp, NULL);
    return 0;
}

/* Decodes the JSON string at v into out (replacing its contents, NUL-terminated; the decoded
 * text may itself contain NULs from \u0000, so use out->len). Returns 0, or -1 if v is not a
 * valid string (including unpaired surrogates) or when out of memory. */
static inline int rio_json_string(const char *v, struct rio_buf *out) {
    out->len = 0;
    if (rio_reserve(out, 0)) return -1;
    out->data[0] = '\0';
    if (!v || *v != '"') return -1;
    const char *p = v + 1;
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return 0;
        if (c < 0x20) return -1;
        if (c != '\\') {
            const char *s = p;
            while ((unsigned char)*p >= 0x20 && *p != '"' && *p != '\\') p++;
            if (rio_append(out, s, (size_t)(p - s))) return -1;
            continue;
        }
        p++;
        char lit;
        switch (*p) {
        case '"': lit = '"'; break;
        case '\\': lit = '\\'; break;
        case '/': lit = '/'; break;
        case 'b': lit = '\b'; break;
        case 'f': lit = '\f'; break;
        case 'n': lit = '\n'; break;
        case 'r': lit = '\r'; break;
        case 't': lit = '\t'; break;
        case 'u': {
            unsigned long cp = 0;
            for (int i = 1; i <= 4; i++) {
                int h = rio_hex(p[i]);
                if (h < 0) return -1;
                cp = cp * 16 + (unsigned long)h;
            }
            p += 5;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return -1;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (p[0] != '\\' || p[1] != 'u') return -1;
                unsigned long lo = 0;
                for (int i = 2; i <= 5; i++) {
                    int h = rio_hex(p[i]);
                    if (h < 0) return -1;
                    lo = lo * 16 + (unsigned long)h;
                }
                if (lo < 0xDC00 || lo > 0xDFFF) return -1;
                p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            char u[4];
            size_t n;
            if (cp < 0x80) {
                u[0] = (char)cp; n = 1;
            } else if (cp < 0x800) {
                u[0] = (char)(0xC0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3F)); n = 2;
            } else if (cp < 0x10000) {
                u[0] = (char)(0xE0 | (cp >> 12)); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                u[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
            } else {
                u[0] = (char)(0xF0 | (cp >> 18)); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
                u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F));
                n = 4;
            }
            if (rio_append(out, u, n)) return -1;
            continue;
        }
        default:
            return -1;
        }
        if (rio_append(out, &lit, 1)) return -1;
        p++;
    }
}

/* Iterates an array. Start with *p at '['; each call returns the next element (whitespace
 * skipped) and moves *p past it, or returns NULL at the end of the array. After a NULL, *p is
 * NULL if the array was malformed (or *p did not point at an array). */
static inline const char *rio_json_array_next(const char **p) {
    const char *q = *p;
    if (!q) return NULL;
    q = rio_json_ws(q);
    if (*q == '[') {
        q = rio_json_ws(q + 1);
        if (*q == ']') {
            *p = q + 1;
            return NULL;
        }
    } else if (*q == ',') {
        q = rio_json_ws(q + 1);
    } else if (*q == ']') {
        return NULL;
    } else {
        *p = NULL;
        return NULL;
    }
    const char *end = rio_json_skip(q);
    if (!end) {
        *p = NULL;
        return NULL;
    }
    end = rio_json_ws(end);
    if (*end != ',' && *end != ']') {
        *p = NULL;
        return NULL;
    }
    *p = end;
    return q;
}

/* Reads integer member `key` of object doc into *out, checking lo <= value <= hi. Returns 0,
 * or -1 with a reason naming the key in err. */
static inline int rio_param_u64(const char *doc, const char *key, uint64_t lo, uint64_t hi,
                                uint64_t *out, char *err, size_t errlen) {
    if (*rio_json_ws(doc) != '{') {
        snprintf(err, errlen, "the input must be a JSON object");
        return -1;
    }
    const char *v = rio_json_member(doc, key);
    if (!v) {
        snprintf(err, errlen, "missing integer member '%s'", key);
        return -1;
    }
    uint64_t x;
    if (rio_json_u64(v, &x) || x < lo || x > hi) {
        snprintf(err, errlen, "'%s' must be an integer in [%llu, %llu]", key,
                 (unsigned long long)lo, (unsigned long long)hi);
        return -1;
    }
    *out = x;
    return 0;
}

/* ---- the invocation ----------------------------------------------------------------------- */

/* A workload's computation: reads the validated JSON document doc, appends its output to out,
 * returns 0; or writes a reason (without quotes or backslashes) into err and returns -1. */
typedef int (*rio_fn)(const char *doc, struct rio_buf *out, char *err, size_t errlen);

/* Runs one invocation of fn over stdin (see the top of this file). Returns reclave_handle's
 * result: 0 on success, 1 on failure. */
static inline int rio_serve(rio_fn fn) {
    struct rio_buf in = {0}, out = {0};
    char err[200];
    int rc = 0;
    if (rio_read_stdin(&in)) {
        rc = rio_error("cannot read stdin (read error or out of memory)");
    } else {
        const char *doc = rio_json_document(in.data);
        if (!doc) {
            rc = rio_error("input is not a valid JSON document");
        } else if (fn(doc, &out, err, sizeof err)) {
            rc = rio_error(err);
        } else if (rio_write_all(out.data, out.len)) {
            rc = 1;
        }
    }
    rio_free(&in);
    rio_free(&out);
    return rc;
}

#endif /* RECLAVE_IO_H */
