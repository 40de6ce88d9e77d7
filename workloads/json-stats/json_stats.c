/*
 * json-stats: a reclave workload (reactor kind, function ABI version 1, see ../README.md).
 *
 * Each invocation of the exported `reclave_handle: () -> i32`:
 *   1. reads the request body from fd 0 until end-of-file into a growing malloc'd buffer
 *      (no fixed size limit other than linear memory);
 *   2. parses it with a hand-written recursive-descent JSON parser (RFC 8259: objects, arrays,
 *      strings with every escape incl. \uXXXX surrogate pairs, numbers with sign, fraction and
 *      exponent, true/false/null, whitespace). The document must be an object; its "values"
 *      member must be an array of numbers. Other members are parsed (so they must be valid
 *      JSON) and ignored; if "values" appears more than once, the last one wins;
 *   3. sorts the numbers with qsort and writes with write(1, ...) one line
 *        {"count":N,"sum":S,"mean":M,"min":A,"max":B,"median":D,"stddev":E}
 *      where count is an integer, every other number is printed with "%.17g" (round-trips a
 *      double exactly; integral values print without a fraction, e.g. 15), median of an even
 *      count is the mean of the two middle values and stddev is the population standard
 *      deviation (two-pass). With an empty "values" array, sum is 0 and mean, min, max,
 *      median and stddev are null;
 *   4. returns 0.
 * On malformed JSON, a missing or non-array "values", a non-number element, a number that is
 * not finite as a double, a read error or an out-of-memory condition it writes
 *   {"error":"<reason>"}
 * (reasons are fixed ASCII texts, some with a byte offset; they never contain a quote or a
 * backslash, so they need no escaping) and returns 1.
 *
 * Reuse: there is no static state; everything malloc'd during a call is freed before it
 * returns, and stdio buffers are never used for fd 0/1 (snprintf only formats into memory),
 * so the same instance can serve any number of invocations.
 *
 * Not checked: that bytes >= 0x80 inside strings form valid UTF-8 (they are passed through).
 * Nesting deeper than MAX_DEPTH is rejected to bound the (64 KiB) shadow stack.
 *
 * Build: clang --target=wasm32-wasi -mexec-model=reactor -O2 -o json-stats.wasm json_stats.c
 * (see ../build.sh).
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_DEPTH 256

/* ---- growable byte and number buffers ---------------------------------------------- */

struct bytes {
    char *data;
    size_t len, cap;
};

/* Makes room for at least `extra` more bytes. Returns 0 on success, -1 when out of memory. */
static int bytes_reserve(struct bytes *b, size_t extra) {
    if (b->cap - b->len >= extra) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2) return -1;
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p) return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

static int bytes_push(struct bytes *b, char c) {
    if (bytes_reserve(b, 1)) return -1;
    b->data[b->len++] = c;
    return 0;
}

struct numbers {
    double *v;
    size_t len, cap;
};

static int numbers_push(struct numbers *n, double x) {
    if (n->len == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 1024;
        if (cap > SIZE_MAX / sizeof(double)) return -1;
        double *p = realloc(n->v, cap * sizeof(double));
        if (!p) return -1;
        n->v = p;
        n->cap = cap;
    }
    n->v[n->len++] = x;
    return 0;
}

/* ---- I/O ------------------------------------------------------------------------------- */

/* Reads fd 0 to end-of-file into b (NUL-terminated, the NUL not counted in b->len).
 * Returns NULL on success or a static error reason. */
static const char *read_all(struct bytes *b) {
    for (;;) {
        if (bytes_reserve(b, 65536 + 1)) return "out of memory reading input";
        ssize_t n = read(0, b->data + b->len, b->cap - b->len - 1);
        if (n > 0) {
            b->len += (size_t)n;
        } else if (n == 0) {
            b->data[b->len] = '\0';
            return NULL;
        } else if (errno != EINTR) {
            return "read from stdin failed";
        }
    }
}

/* Writes all of s[0..n) to fd 1. Returns 0 on success, -1 on error. */
static int write_all(const char *s, size_t n) {
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

/* ---- the parser ------------------------------------------------------------------------ */

struct parser {
    char *p;             /* current position; the buffer is NUL-terminated at `end` */
    char *start, *end;
    int depth;
    char err[128];       /* set on the first error; the parse then unwinds */
    int failed;
};

static int fail(struct parser *ps, const char *what) {
    if (!ps->failed) {
        ps->failed = 1;
        snprintf(ps->err, sizeof ps->err, "malformed JSON at byte %zu: %s",
                 (size_t)(ps->p - ps->start), what);
    }
    return -1;
}

static int fail_plain(struct parser *ps, const char *reason) {
    if (!ps->failed) {
        ps->failed = 1;
        snprintf(ps->err, sizeof ps->err, "%s", reason);
    }
    return -1;
}

static void skip_ws(struct parser *ps) {
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int hex_val(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads the 4 hex digits of a \u escape at ps->p. Returns the code unit or -1. */
static long parse_hex4(struct parser *ps) {
    if (ps->end - ps->p < 4) return fail(ps, "truncated unicode escape");
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_val(ps->p[i]);
        if (h < 0) return fail(ps, "bad hex digit in unicode escape");
        v = v * 16 + h;
    }
    ps->p += 4;
    return v;
}

/* Appends code point cp as UTF-8 to out (if out is not NULL). */
static int put_utf8(struct parser *ps, struct bytes *out, unsigned long cp) {
    if (!out) return 0;
    char u[4];
    int n;
    if (cp < 0x80) {
        u[0] = (char)cp; n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3F)); n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12)); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18)); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
    }
    for (int i = 0; i < n; i++)
        if (bytes_push(out, u[i])) return fail_plain(ps, "out of memory");
    return 0;
}

/* Parses a string starting at the opening quote. If out is not NULL, the decoded bytes
 * replace its contents. */
static int parse_string(struct parser *ps, struct bytes *out) {
    ps->p++; /* opening quote */
    if (out) out->len = 0;
    for (;;) {
        if (ps->p >= ps->end) return fail(ps, "unterminated string");
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"') {
            ps->p++;
            return 0;
        }
        if (c < 0x20) return fail(ps, "control character in string");
        if (c != '\\') {
            if (out && bytes_push(out, (char)c)) return fail_plain(ps, "out of memory");
            ps->p++;
            continue;
        }
        ps->p++; /* backslash */
        if (ps->p >= ps->end) return fail(ps, "unterminated escape");
        char e = *ps->p++;
        char lit;
        switch (e) {
        case '"': lit = '"'; break;
        case '\\': lit = '\\'; break;
        case '/': lit = '/'; break;
        case 'b': lit = '\b'; break;
        case 'f': lit = '\f'; break;
        case 'n': lit = '\n'; break;
        case 'r': lit = '\r'; break;
        case 't': lit = '\t'; break;
        case 'u': {
            long hi = parse_hex4(ps);
            if (hi < 0) return -1;
            unsigned long cp = (unsigned long)hi;
            if (hi >= 0xD800 && hi <= 0xDBFF) {
                /* a high surrogate must be followed by \u and a low surrogate */
                if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
                    return fail(ps, "unpaired high surrogate");
                ps->p += 2;
                long lo = parse_hex4(ps);
                if (lo < 0) return -1;
                if (lo < 0xDC00 || lo > 0xDFFF) return fail(ps, "bad low surrogate");
                cp = 0x10000 + (((unsigned long)hi - 0xD800) << 10) + ((unsigned long)lo - 0xDC00);
            } else if (hi >= 0xDC00 && hi <= 0xDFFF) {
                return fail(ps, "unpaired low surrogate");
            }
            if (put_utf8(ps, out, cp)) return -1;
            continue;
        }
        default:
            ps->p--;
            return fail(ps, "invalid escape");
        }
        if (out && bytes_push(out, lit)) return fail_plain(ps, "out of memory");
    }
}

/* Parses a number per the JSON grammar
 *   -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
 * and converts the validated span with strtod. */
static int parse_number(struct parser *ps, double *out) {
    char *s = ps->p;
    if (*ps->p == '-') ps->p++;
    if (ps->p < ps->end && *ps->p == '0') {
        ps->p++;
    } else if (ps->p < ps->end && is_digit(*ps->p)) {
        while (ps->p < ps->end && is_digit(*ps->p)) ps->p++;
    } else {
        return fail(ps, "expected a digit");
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (!(ps->p < ps->end && is_digit(*ps->p))) return fail(ps, "expected a digit after '.'");
        while (ps->p < ps->end && is_digit(*ps->p)) ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
        if (!(ps->p < ps->end && is_digit(*ps->p))) return fail(ps, "expected a digit in exponent");
        while (ps->p < ps->end && is_digit(*ps->p)) ps->p++;
    }
    /* Terminate the span in place so strtod sees exactly the validated number. */
    char saved = *ps->p;
    *ps->p = '\0';
    double v = strtod(s, NULL);
    *ps->p = saved;
    if (!isfinite(v)) {
        ps->p = s;
        return fail(ps, "number out of range of a double");
    }
    *out = v;
    return 0;
}

static int expect_literal(struct parser *ps, const char *lit) {
    size_t n = strlen(lit);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0)
        return fail(ps, "invalid literal");
    ps->p += n;
    return 0;
}

static int parse_value(struct parser *ps);

static int parse_array(struct parser *ps, struct numbers *nums) {
    ps->p++; /* '[' */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return 0;
    }
    for (;;) {
        skip_ws(ps);
        if (nums) {
            /* the "values" array: every element must be a number */
            double v;
            if (ps->p >= ps->end || !(*ps->p == '-' || is_digit(*ps->p)))
                return fail(ps, "'values' must contain only numbers");
            if (parse_number(ps, &v)) return -1;
            if (numbers_push(nums, v)) return fail_plain(ps, "out of memory");
        } else if (parse_value(ps)) {
            return -1;
        }
        skip_ws(ps);
        if (ps->p >= ps->end) return fail(ps, "unterminated array");
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == ']') {
            ps->p++;
            return 0;
        }
        return fail(ps, "expected ',' or ']' in array");
    }
}

/* Parses an object. If nums is not NULL (the top-level document), the "values" member is
 * parsed as an array of numbers into nums and *found is set. */
static int parse_object(struct parser *ps, struct numbers *nums, int *found) {
    struct bytes key = {0};
    int rc = -1;
    ps->p++; /* '{' */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        rc = 0;
        goto out;
    }
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != '"') {
            fail(ps, "expected a string key");
            goto out;
        }
        if (parse_string(ps, nums ? &key : NULL)) goto out;
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') {
            fail(ps, "expected ':' after key");
            goto out;
        }
        ps->p++;
        skip_ws(ps);
        if (nums && key.len == 6 && memcmp(key.data, "values", 6) == 0) {
            if (ps->p >= ps->end || *ps->p != '[') {
                fail_plain(ps, "'values' is not an array");
                goto out;
            }
            nums->len = 0; /* a repeated key: the last one wins */
            if (parse_array(ps, nums)) goto out;
            *found = 1;
        } else if (parse_value(ps)) {
            goto out;
        }
        skip_ws(ps);
        if (ps->p >= ps->end) {
            fail(ps, "unterminated object");
            goto out;
        }
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == '}') {
            ps->p++;
            rc = 0;
            goto out;
        }
        fail(ps, "expected ',' or '}' in object");
        goto out;
    }
out:
    free(key.data);
    return rc;
}

/* Parses any JSON value (not the "values" member of the top-level object). */
static int parse_value(struct parser *ps) {
    if (ps->p >= ps->end) return fail(ps, "unexpected end of input");
    if (++ps->depth > MAX_DEPTH) return fail(ps, "nesting too deep");
    int rc;
    double ignored;
    switch (*ps->p) {
    case '{': rc = parse_object(ps, NULL, NULL); break;
    case '[': rc = parse_array(ps, NULL); break;
    case '"': rc = parse_string(ps, NULL); break;
    case 't': rc = expect_literal(ps, "true"); break;
    case 'f': rc = expect_literal(ps, "false"); break;
    case 'n': rc = expect_literal(ps, "null"); break;
    default:
        if (*ps->p == '-' || is_digit(*ps->p))
            rc = parse_number(ps, &ignored);
        else
            rc = fail(ps, "unexpected character");
    }
    ps->depth--;
    return rc;
}

/* Parses the whole document into nums. Returns NULL or the error reason (in ps->err). */
static const char *parse_document(struct parser *ps, struct numbers *nums) {
    int found = 0;
    skip_ws(ps);
    if (ps->p >= ps->end) {
        fail(ps, "empty input");
        return ps->err;
    }
    if (*ps->p != '{') {
        fail(ps, "the document must be an object");
        return ps->err;
    }
    ps->depth = 1;
    if (parse_object(ps, nums, &found)) return ps->err;
    skip_ws(ps);
    if (ps->p != ps->end) {
        fail(ps, "trailing characters after the document");
        return ps->err;
    }
    if (!found) return "missing 'values' array";
    return NULL;
}

/* ---- statistics and output --------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int write_error(const char *reason) {
    char out[256];
    int n = snprintf(out, sizeof out, "{\"error\":\"%s\"}", reason);
    if (n < 0) return 1;
    if ((size_t)n >= sizeof out) n = (int)sizeof out - 1; /* reasons are short; never hit */
    write_all(out, (size_t)n);
    return 1;
}

static int write_stats(double *v, size_t n) {
    char out[512];
    int len;
    if (n == 0) {
        len = snprintf(out, sizeof out,
                       "{\"count\":0,\"sum\":0,\"mean\":null,\"min\":null,\"max\":null,"
                       "\"median\":null,\"stddev\":null}");
    } else {
        qsort(v, n, sizeof v[0], cmp_double);
        double sum = 0;
        for (size_t i = 0; i < n; i++) sum += v[i];
        double mean = sum / (double)n;
        double sq = 0;
        for (size_t i = 0; i < n; i++) sq += (v[i] - mean) * (v[i] - mean);
        double stddev = sqrt(sq / (double)n);
        double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        if (!isfinite(sum) || !isfinite(mean) || !isfinite(stddev) || !isfinite(median))
            return write_error("statistics overflow a double");
        len = snprintf(out, sizeof out,
                       "{\"count\":%zu,\"sum\":%.17g,\"mean\":%.17g,\"min\":%.17g,\"max\":%.17g,"
                       "\"median\":%.17g,\"stddev\":%.17g}",
                       n, sum, mean, v[0], v[n - 1], median, stddev);
    }
    if (len < 0 || (size_t)len >= sizeof out) return write_error("output formatting failed");
    if (write_all(out, (size_t)len)) return 1;
    return 0;
}

__attribute__((export_name("reclave_handle")))
int reclave_handle(void) {
    struct bytes in = {0};
    struct numbers nums = {0};
    int rc;

    const char *err = read_all(&in);
    if (err) {
        rc = write_error(err);
        goto out;
    }
    struct parser ps = {.p = in.data, .start = in.data, .end = in.data + in.len};
    err = parse_document(&ps, &nums);
    if (err) {
        rc = write_error(err);
        goto out;
    }
    rc = write_stats(nums.v, nums.len);
out:
    free(nums.v);
    free(in.data);
    return rc;
}
