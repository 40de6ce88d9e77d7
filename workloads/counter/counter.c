/*
 * counter: a reclave workload (reactor kind, function ABI version 1, see ../README.md) whose
 * state visibly leaks from one invocation to the next unless the runtime resets the instance.
 *
 * State (in guest linear memory, static): `count`, starting at 0, and `previous`, the previous
 * invocation's input (its first PREV_MAX bytes, cut back to a UTF-8 character boundary).
 *
 * Each invocation of the exported `reclave_handle: () -> i32`:
 *   1. reads the whole request body from fd 0 until end-of-file (growing malloc'd buffer);
 *   2. increments count;
 *   3. runs the "grow" hook, if present (below);
 *   4. formats {"count":<count>,"previous_input":"<previous, JSON-escaped>"} (plus "pages",
 *      and "grow_failed":true if memory.grow returned -1, when "grow" was given);
 *   5. stores the current input as the new `previous`;
 *   6. runs the "trap" and "loop" hooks, if present (below);
 *   7. writes the output with write(1, ...), frees the input and returns 0.
 * A read error writes {"error":"read from stdin failed"} and returns 1 (count still counts).
 *
 * Test hooks. The input is NOT parsed as JSON: a hook is recognised by a plain text search for
 * the quoted key, e.g. "trap", followed by optional whitespace, ':', optional whitespace and the
 * value. So a hook key at any nesting depth triggers it, while a key mentioned inside a string
 * value does not (its quotes are escaped there). The first matching occurrence of each key counts.
 *   "trap":true  -> after count is incremented and the input stored, log to stderr and execute
 *                   __builtin_trap() (the Wasm `unreachable` instruction); nothing is written to
 *                   stdout.
 *   "grow":N     -> before answering, __builtin_wasm_memory_grow(0, N) (N decimal 64 KiB pages,
 *                   clamped to 65536), then report "pages": __builtin_wasm_memory_size(0).
 *   "loop":true  -> after count is incremented and the input stored, log to stderr and spin
 *                   forever on a volatile counter (the compiler cannot remove the loop); only
 *                   the runtime's deadline ends the invocation.
 *
 * No stdio buffering is used for fd 0/1/2, so reuse of the instance is safe apart from the
 * deliberate state above.
 *
 * Build: clang --target=wasm32-wasi -mexec-model=reactor -O2 -o counter.wasm counter.c
 * (see ../build.sh).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PREV_MAX 256

static unsigned long long count;
static char previous[PREV_MAX];
static size_t previous_len;

/* ---- I/O ------------------------------------------------------------------------------- */

/* Reads fd 0 to end-of-file into a malloc'd buffer. Returns it (possibly NULL when the input
 * is empty) with *len set, or sets *failed on a read error or out of memory. */
static char *read_all(size_t *len, int *failed) {
    char *buf = NULL;
    size_t n = 0, cap = 0;
    *failed = 0;
    for (;;) {
        if (cap - n < 4096) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *p = realloc(buf, ncap);
            if (!p) {
                *failed = 1;
                break;
            }
            buf = p;
            cap = ncap;
        }
        ssize_t r = read(0, buf + n, cap - n);
        if (r > 0) {
            n += (size_t)r;
        } else if (r == 0) {
            break;
        } else if (errno != EINTR) {
            *failed = 1;
            break;
        }
    }
    *len = n;
    return buf;
}

static void write_fd(int fd, const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

static void log_line(const char *s) { write_fd(2, s, strlen(s)); }

/* ---- hooks: textual key search --------------------------------------------------------- */

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Finds the first occurrence of "<key>" followed by optional whitespace and ':' in in[0..n).
 * Returns the position just after the ':' and any whitespace following it, or NULL. */
static const char *find_key(const char *in, size_t n, const char *key) {
    size_t k = strlen(key);
    for (size_t i = 0; i + k + 2 <= n; i++) {
        if (in[i] != '"' || memcmp(in + i + 1, key, k) != 0 || in[i + 1 + k] != '"') continue;
        size_t j = i + k + 2;
        while (j < n && is_ws(in[j])) j++;
        if (j >= n || in[j] != ':') continue;
        j++;
        while (j < n && is_ws(in[j])) j++;
        return in + j;
    }
    return NULL;
}

/* Whether the input has "<key>": true. */
static int hook_true(const char *in, size_t n, const char *key) {
    const char *v = find_key(in, n, key);
    return v && (size_t)(in + n - v) >= 4 && memcmp(v, "true", 4) == 0;
}

/* Returns N from "<key>": N (decimal digits, clamped to 65536) or -1 when absent. */
static long hook_number(const char *in, size_t n, const char *key) {
    const char *v = find_key(in, n, key);
    if (!v || v >= in + n || *v < '0' || *v > '9') return -1;
    long x = 0;
    for (; v < in + n && *v >= '0' && *v <= '9'; v++)
        if ((x = x * 10 + (*v - '0')) > 65536) x = 65536;
    return x;
}

/* ---- output ----------------------------------------------------------------------------- */

static char *put_str(char *o, const char *s) {
    while (*s) *o++ = *s++;
    return o;
}

static char *put_u64(char *o, unsigned long long v) {
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *o++ = tmp[--n];
    return o;
}

/* Writes s[0..n) as the body of a JSON string (escapes '"', '\\' and control characters;
 * other bytes pass through). Needs at most 6*n bytes. */
static char *put_escaped(char *o, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': o = put_str(o, "\\\""); break;
        case '\\': o = put_str(o, "\\\\"); break;
        case '\n': o = put_str(o, "\\n"); break;
        case '\r': o = put_str(o, "\\r"); break;
        case '\t': o = put_str(o, "\\t"); break;
        case '\b': o = put_str(o, "\\b"); break;
        case '\f': o = put_str(o, "\\f"); break;
        default:
            if (c < 0x20) {
                o = put_str(o, "\\u00");
                *o++ = hex[c >> 4];
                *o++ = hex[c & 15];
            } else {
                *o++ = (char)c;
            }
        }
    }
    return o;
}

/* Stores in[0..n) as the new previous input, cut to PREV_MAX bytes at a UTF-8 boundary. */
static void store_previous(const char *in, size_t n) {
    if (n > PREV_MAX) {
        n = PREV_MAX;
        while (n > 0 && ((unsigned char)in[n] & 0xC0) == 0x80) n--; /* in[n] continues a char */
    }
    if (n) memcpy(previous, in, n);
    previous_len = n;
}

__attribute__((export_name("reclave_handle")))
int reclave_handle(void) {
    size_t n;
    int failed;
    char *in = read_all(&n, &failed);
    count++;
    if (failed) {
        free(in);
        static const char err[] = "{\"error\":\"read from stdin failed\"}";
        write_fd(1, err, sizeof err - 1);
        return 1;
    }

    /* the output: {"count":..,"previous_input":"..",["pages":..,]["grow_failed":true]} */
    char out[64 + 6 * PREV_MAX + 64];
    char *o = out;
    o = put_str(o, "{\"count\":");
    o = put_u64(o, count);
    o = put_str(o, ",\"previous_input\":\"");
    o = put_escaped(o, previous, previous_len);
    o = put_str(o, "\"");

    long grow = hook_number(in, n, "grow");
    if (grow >= 0) {
        size_t old = __builtin_wasm_memory_grow(0, (size_t)grow);
        o = put_str(o, ",\"pages\":");
        o = put_u64(o, __builtin_wasm_memory_size(0));
        if (old == (size_t)-1) o = put_str(o, ",\"grow_failed\":true");
    }
    o = put_str(o, "}");

    store_previous(in, n);

    if (hook_true(in, n, "trap")) {
        free(in);
        log_line("counter: \"trap\":true, trapping\n");
        __builtin_trap();
    }
    if (hook_true(in, n, "loop")) {
        free(in);
        log_line("counter: \"loop\":true, spinning forever\n");
        volatile unsigned long long spins = 0;
        for (;;) spins++;
    }

    free(in);
    write_fd(1, out, (size_t)(o - out));
    return 0;
}
