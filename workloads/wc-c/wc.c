/*
 * wc-c: a reclave workload (command kind, function ABI version 1, see ../README.md): word
 * count in C, built as a WASI command (exports _start, which runs main once).
 *
 * Input: the text to count. When the input is a JSON string ("...", optional surrounding
 * whitespace) the text is its decoded value (escapes, \uXXXX and surrogate pairs decoded to
 * UTF-8); any other input (another JSON value, or not JSON) is counted as raw bytes.
 *
 * Output: {"bytes":B,"lines":L,"words":W,"unique":U,"top":[{"word":"...","count":N},...]}
 *   bytes   the length of the text in bytes;
 *   lines   the number of '\n' in it (as wc -l counts);
 *   words   the number of maximal runs of non-whitespace bytes, whitespace being
 *           ' ', \t, \n, \v, \f and \r (as wc -w counts in the C locale);
 *   unique  the number of distinct tokens, and
 *   top     the 5 most frequent tokens (fewer if there are fewer), by count descending, ties
 *           broken by byte order ascending. A token is a maximal run of ASCII letters, ASCII
 *           digits and bytes >= 0x80 (so UTF-8 encoded letters stay inside a token, and a
 *           multi-byte character is never split), case-folded: ASCII letters are lower-cased,
 *           other bytes are kept as they are. Tokens are counted in a hash table (FNV-1a,
 *           open addressing, doubled when half full).
 * Errors (a malformed JSON string, a read error, out of memory) write {"error":"..."} and exit
 * with code 1 (main returns 1, so _start calls proc_exit(1)); on success main returns 0 and
 * _start returns normally.
 *
 * As a wasi-libc command, _start runs the constructors, main and the destructors. Whether a
 * second _start on the same instance runs depends on the wasi-libc: newer ones trap, Debian's
 * (with clang 14) runs main again on the previous run's heap. main frees what it allocated,
 * so such a reuse neither leaks memory nor changes the output. Stdio is not used; input and
 * output go through read() and write().
 *
 * Build: clang --target=wasm32-wasi -mexec-model=command -O2 -o wc-c.wasm wc.c
 * (see ../build.sh).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOP 5

/* ---- I/O ------------------------------------------------------------------------------- */

/* Reads fd 0 to end-of-file into a malloc'd buffer; returns NULL on a read error or out of
 * memory. */
static char *read_all(size_t *len) {
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 4096) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *p = realloc(buf, ncap);
            if (!p) {
                free(buf);
                return NULL;
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
            free(buf);
            return NULL;
        }
    }
    *len = n;
    return buf;
}

static void write_all(const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, s, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

static int fail(const char *msg) {
    write_all("{\"error\":\"", 10);
    write_all(msg, strlen(msg));
    write_all("\"}", 2);
    return 1;
}

/* ---- JSON string decoding ----------------------------------------------------------------- */

static int is_json_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int hex4(const char *p, const char *end, uint32_t *v) {
    if (end - p < 4) return 0;
    uint32_t x = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        x <<= 4;
        if (c >= '0' && c <= '9') x |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') x |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') x |= (uint32_t)(c - 'A' + 10);
        else return 0;
    }
    *v = x;
    return 1;
}

static char *put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* Decodes the JSON string starting at the '"' at p, in place (the decoded text is never
 * longer than its encoding). Returns the decoded length, or -1 if the string is malformed or
 * anything but whitespace follows it. */
static long decode_string(char *p, char *end) {
    char *o = p, *start = p;
    p++; /* the opening quote */
    for (;;) {
        if (p >= end) return -1;
        unsigned char c = (unsigned char)*p++;
        if (c == '"') break;
        if (c < 0x20) return -1;
        if (c != '\\') {
            *o++ = (char)c;
            continue;
        }
        if (p >= end) return -1;
        c = (unsigned char)*p++;
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            uint32_t cp, lo;
            if (!hex4(p, end, &cp)) return -1;
            p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                hex4(p + 2, end, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            } else if (cp >= 0xD800 && cp < 0xE000) {
                cp = 0xFFFD; /* a lone surrogate */
            }
            o = put_utf8(o, cp);
            break;
        }
        default: return -1;
        }
    }
    while (p < end && is_json_ws(*p)) p++;
    if (p != end) return -1;
    return (long)(o - start);
}

/* ---- counting ------------------------------------------------------------------------------ */

struct entry {
    uint32_t off, len; /* the token, in the folded copy of the text */
    uint32_t count;    /* 0: empty slot */
    uint32_t hash;
};

static int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static int is_token(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

static uint32_t fnv1a(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Whether entry a ranks before entry b: higher count, then smaller bytes. */
static int ranks_before(const char *text, const struct entry *a, const struct entry *b) {
    if (a->count != b->count) return a->count > b->count;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(text + a->off, text + b->off, n);
    return c != 0 ? c < 0 : a->len < b->len;
}

/* ---- output ---------------------------------------------------------------------------- */

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

int main(void) {
    size_t n;
    char *input = read_all(&n), *text = input;
    if (!input) return fail("read from stdin failed or out of memory");

    /* a JSON string is decoded; anything else is counted as it is */
    size_t i = 0;
    while (i < n && is_json_ws(text[i])) i++;
    if (i < n && text[i] == '"') {
        long m = decode_string(text + i, text + n);
        if (m < 0) return fail("malformed JSON string");
        text += i;
        n = (size_t)m;
    }

    unsigned long long lines = 0, words = 0;
    int in_word = 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n') lines++;
        if (is_space(c)) {
            in_word = 0;
        } else if (!in_word) {
            in_word = 1;
            words++;
        }
    }

    /* fold to lower case in place (the counts above are done) and count the tokens */
    size_t cap = 1024, used = 0;
    struct entry *tab = calloc(cap, sizeof *tab);
    if (!tab) return fail("out of memory");
    for (i = 0; i < n;) {
        if (!is_token((unsigned char)text[i])) {
            i++;
            continue;
        }
        size_t s = i;
        for (; i < n && is_token((unsigned char)text[i]); i++)
            if (text[i] >= 'A' && text[i] <= 'Z') text[i] = (char)(text[i] - 'A' + 'a');
        size_t len = i - s;
        uint32_t h = fnv1a(text + s, len);
        size_t k = h & (cap - 1);
        while (tab[k].count && !(tab[k].hash == h && tab[k].len == len &&
                                 memcmp(text + tab[k].off, text + s, len) == 0))
            k = (k + 1) & (cap - 1);
        if (tab[k].count) {
            tab[k].count++;
            continue;
        }
        tab[k] = (struct entry){(uint32_t)s, (uint32_t)len, 1, h};
        if (++used * 2 > cap) { /* rehash into a table twice as large */
            size_t ncap = cap * 2;
            struct entry *nt = calloc(ncap, sizeof *nt);
            if (!nt) return fail("out of memory");
            for (size_t j = 0; j < cap; j++) {
                if (!tab[j].count) continue;
                size_t q = tab[j].hash & (ncap - 1);
                while (nt[q].count) q = (q + 1) & (ncap - 1);
                nt[q] = tab[j];
            }
            free(tab);
            tab = nt;
            cap = ncap;
        }
    }

    /* the top TOP entries, by insertion into a sorted array */
    struct entry top[TOP];
    int ntop = 0;
    for (size_t j = 0; j < cap; j++) {
        if (!tab[j].count) continue;
        if (ntop == TOP && !ranks_before(text, &tab[j], &top[TOP - 1])) continue;
        int p = ntop < TOP ? ntop++ : TOP - 1;
        while (p > 0 && ranks_before(text, &tab[j], &top[p - 1])) {
            top[p] = top[p - 1];
            p--;
        }
        top[p] = tab[j];
    }

    /* output; tokens hold only letters, digits and bytes >= 0x80: nothing to escape */
    size_t outcap = 160;
    for (int t = 0; t < ntop; t++) outcap += top[t].len + 40;
    char *out = malloc(outcap), *o = out;
    if (!out) return fail("out of memory");
    o = put_str(o, "{\"bytes\":");
    o = put_u64(o, n);
    o = put_str(o, ",\"lines\":");
    o = put_u64(o, lines);
    o = put_str(o, ",\"words\":");
    o = put_u64(o, words);
    o = put_str(o, ",\"unique\":");
    o = put_u64(o, used);
    o = put_str(o, ",\"top\":[");
    for (int t = 0; t < ntop; t++) {
        if (t) *o++ = ',';
        o = put_str(o, "{\"word\":\"");
        memcpy(o, text + top[t].off, top[t].len);
        o += top[t].len;
        o = put_str(o, "\",\"count\":");
        o = put_u64(o, top[t].count);
        *o++ = '}';
    }
    o = put_str(o, "]}");
    write_all(out, (size_t)(o - out));
    free(out);
    free(tab);
    free(input);
    return 0;
}
