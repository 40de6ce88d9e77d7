/*
 * kv-auth: a reclave workload (reactor kind, function ABI version 1, see ../README.md): checks
 * that key-value records were written by the user they claim, with HMAC-SHA256 tags compared
 * in constant time against keys from an in-memory user table.
 *
 * User table: built once by reclave_init (so it is part of the function-point snapshot;
 *   reclave_handle builds it itself if reclave_init was not run, and only reads it otherwise).
 *   The master key is 32 bytes: four draws of splitmix64 seeded with MASTER_SEED, each
 *   little-endian. User u's key is HMAC-SHA256(master key, u's name). The users are USERS
 *   below, sorted by name; those marked disabled may not write.
 * Input: {"requests":[request, ...]} with at most 50000 requests, each an object
 *   {"user":"<name>","tag":"<64 hex digits>","record":"<text>"}  or
 *   {"user":"<name>","tag":"<64 hex digits>","record_bytes":B,"record_seed":S}
 *   The record is the text's UTF-8 bytes (JSON escapes decoded), or B <= 16777216 bytes
 *   generated from splitmix64 seeded with S (successive draws, each little-endian, the last
 *   one cut short): a large uploaded value without a large input. The tag must be
 *   HMAC-SHA256(user's key, record).
 * Result per request, in order:
 *   "ok"            the tag matches and the user may write;
 *   "bad-tag"       the user exists and is enabled, the tag does not match;
 *   "disabled"      the user exists but is disabled;
 *   "unknown-user"  no such user;
 *   "malformed"     not an object, or user, tag or record missing or of the wrong form
 *                   (tag not 64 hex digits, both or neither record forms, B too large).
 *   Every well-formed request costs the same whatever its result: for an unknown user the tag
 *   is computed with a dummy key, and the comparison always reads all 32 bytes.
 * Output: {"checked":N,"ok":K,"bytes":T,"results":["ok",...]}  (T = record bytes hashed)
 * Errors: {"error":"<reason>"} and result 1 when the document is not an object with a
 *   "requests" array, or has too many requests.
 *
 * Reuse: the table is written once at init and only read afterwards; everything else is on
 * the stack or freed within each invocation. expected/gen.py writes the inputs (with Python's
 * hmac and hashlib) and the expected outputs.
 */
#include "../include/reclave_io.h"

#define MASTER_SEED 0x6B762D6175746831ull /* "kv-auth1" */
#define MAX_REQUESTS 50000
#define MAX_RECORD_BYTES 16777216u

/* ---- SHA-256 (FIPS 180-4) and HMAC (RFC 2104) --------------------------------------------- */

struct sha256 {
    uint32_t h[8];
    uint8_t block[64];
    size_t fill;
    uint64_t total;
};

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static inline uint32_t ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void sha256_block(uint32_t h[8], const uint8_t *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) +
                      K256[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static void sha256_init(struct sha256 *s) {
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->fill = 0;
    s->total = 0;
}

static void sha256_update(struct sha256 *s, const uint8_t *p, size_t n) {
    s->total += n;
    if (s->fill) {
        size_t k = 64 - s->fill < n ? 64 - s->fill : n;
        memcpy(s->block + s->fill, p, k);
        s->fill += k;
        p += k;
        n -= k;
        if (s->fill < 64) return;
        sha256_block(s->h, s->block);
        s->fill = 0;
    }
    for (; n >= 64; p += 64, n -= 64) sha256_block(s->h, p);
    memcpy(s->block, p, n);
    s->fill = n;
}

static void sha256_final(struct sha256 *s, uint8_t out[32]) {
    uint64_t bits = s->total * 8;
    uint8_t pad[72] = {0x80};
    size_t padlen = (s->fill < 56 ? 56 : 120) - s->fill;
    for (int i = 0; i < 8; i++) pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(s, pad, padlen + 8);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = (uint8_t)(s->h[i] >> (24 - 8 * j));
}

/* An HMAC-SHA256 in progress: the inner hash, and the outer key pad for the end. */
struct hmac {
    struct sha256 inner;
    uint8_t opad[64];
};

static void hmac_init(struct hmac *m, const uint8_t *key, size_t klen) {
    uint8_t k[64] = {0}, ipad[64];
    if (klen > 64) {
        struct sha256 s;
        sha256_init(&s);
        sha256_update(&s, key, klen);
        sha256_final(&s, k);
    } else {
        memcpy(k, key, klen);
    }
    for (int i = 0; i < 64; i++) {
        ipad[i] = k[i] ^ 0x36;
        m->opad[i] = k[i] ^ 0x5c;
    }
    sha256_init(&m->inner);
    sha256_update(&m->inner, ipad, 64);
}

static void hmac_final(struct hmac *m, uint8_t out[32]) {
    uint8_t ih[32];
    sha256_final(&m->inner, ih);
    struct sha256 o;
    sha256_init(&o);
    sha256_update(&o, m->opad, 64);
    sha256_update(&o, ih, 32);
    sha256_final(&o, out);
}

/* ---- the user table ------------------------------------------------------------------------ */

struct user {
    const char *name;
    int disabled;
    uint8_t key[32];
};

/* Sorted by name (byte order). */
static struct user USERS[] = {
    {"alice", 0, {0}}, {"bob", 0, {0}},     {"carol", 0, {0}}, {"dave", 0, {0}},
    {"erin", 0, {0}},  {"frank", 0, {0}},   {"grace", 0, {0}}, {"heidi", 0, {0}},
    {"ivan", 0, {0}},  {"judy", 0, {0}},    {"mallory", 1, {0}}, {"niaj", 0, {0}},
    {"olivia", 0, {0}}, {"peggy", 0, {0}},  {"trudy", 1, {0}}, {"walter", 0, {0}},
};
#define NUSERS (sizeof USERS / sizeof USERS[0])

static uint8_t dummy_key[32];
static int table_ready;

__attribute__((export_name("reclave_init")))
void reclave_init(void) {
    uint8_t master[32];
    uint64_t st = MASTER_SEED;
    for (int i = 0; i < 4; i++) {
        uint64_t r = rio_splitmix64(&st);
        for (int j = 0; j < 8; j++) master[8 * i + j] = (uint8_t)(r >> (8 * j));
    }
    for (size_t u = 0; u < NUSERS; u++) {
        struct hmac m;
        hmac_init(&m, master, sizeof master);
        sha256_update(&m.inner, (const uint8_t *)USERS[u].name, strlen(USERS[u].name));
        hmac_final(&m, USERS[u].key);
    }
    memset(dummy_key, 0xA5, sizeof dummy_key);
    table_ready = 1;
}

/* Binary search by name (name[0..len), which may contain NULs). */
static const struct user *find_user(const char *name, size_t len) {
    size_t lo = 0, hi = NUSERS;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *s = USERS[mid].name;
        size_t slen = strlen(s);
        int c = memcmp(s, name, slen < len ? slen : len);
        if (c == 0) c = (slen > len) - (slen < len);
        if (c == 0) return &USERS[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- requests ------------------------------------------------------------------------------- */

/* 1 if a and b (32 bytes) are equal; reads every byte whatever the contents. */
static int equal32(const uint8_t *a, const uint8_t *b) {
    uint8_t diff = 0;
    for (int i = 0; i < 32; i++) diff |= a[i] ^ b[i];
    return diff == 0;
}

/* Decodes 64 hex digits (the decoded JSON string s) into out. Returns 0 or -1. */
static int parse_tag(const struct rio_buf *s, uint8_t out[32]) {
    if (s->len != 64) return -1;
    for (int i = 0; i < 32; i++) {
        int hi = rio_hex(s->data[2 * i]), lo = rio_hex(s->data[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* Feeds n generated bytes (splitmix64 from seed, draws little-endian) into the HMAC. */
static void hmac_generated(struct hmac *m, uint64_t n, uint64_t seed) {
    uint8_t chunk[4096];
    uint64_t st = seed;
    while (n > 0) {
        size_t k = n < sizeof chunk ? (size_t)n : sizeof chunk;
        for (size_t i = 0; i < k; i += 8) {
            uint64_t r = rio_splitmix64(&st);
            for (size_t j = 0; j < 8 && i + j < k; j++) chunk[i + j] = (uint8_t)(r >> (8 * j));
        }
        sha256_update(&m->inner, chunk, k);
        n -= k;
    }
}

/* Checks one request; returns its result and adds the record's size to *bytes. */
static const char *check(const char *req, struct rio_buf *name, struct rio_buf *tmp,
                         uint64_t *bytes) {
    if (*req != '{') return "malformed";
    const char *vu = rio_json_member(req, "user"), *vt = rio_json_member(req, "tag");
    const char *vr = rio_json_member(req, "record");
    const char *vb = rio_json_member(req, "record_bytes"), *vs = rio_json_member(req, "record_seed");
    uint8_t want[32], got[32];
    uint64_t nbytes = 0, seed = 0;
    if (rio_json_string(vu, name) || rio_json_string(vt, tmp) || parse_tag(tmp, want))
        return "malformed";
    if (vr) {
        if (vb || vs || rio_json_string(vr, tmp)) return "malformed";
        nbytes = tmp->len;
    } else if (!vb || !vs || rio_json_u64(vb, &nbytes) || nbytes > MAX_RECORD_BYTES ||
               rio_json_u64(vs, &seed)) {
        return "malformed";
    }
    const struct user *u = find_user(name->data, name->len);
    struct hmac m;
    hmac_init(&m, u ? u->key : dummy_key, 32);
    if (vr)
        sha256_update(&m.inner, (const uint8_t *)tmp->data, tmp->len);
    else
        hmac_generated(&m, nbytes, seed);
    hmac_final(&m, got);
    *bytes += nbytes;
    int match = equal32(got, want);
    if (!u) return "unknown-user";
    if (u->disabled) return "disabled";
    return match ? "ok" : "bad-tag";
}

static int run(const char *doc, struct rio_buf *out, char *err, size_t errlen) {
    if (!table_ready) reclave_init();
    const char *p = rio_json_member(doc, "requests");
    if (!p || *p != '[') {
        snprintf(err, errlen, "the input must be an object with a 'requests' array");
        return -1;
    }
    struct rio_buf name = {0}, tmp = {0}, results = {0};
    uint64_t n = 0, ok = 0, bytes = 0;
    int rc = -1;
    for (const char *req; (req = rio_json_array_next(&p));) {
        if (++n > MAX_REQUESTS) {
            snprintf(err, errlen, "more than %d requests", MAX_REQUESTS);
            goto done;
        }
        const char *r = check(req, &name, &tmp, &bytes);
        ok += strcmp(r, "ok") == 0;
        if (rio_printf(&results, "%s\"%s\"", n > 1 ? "," : "", r)) goto oom;
    }
    if (rio_printf(out, "{\"checked\":%llu,\"ok\":%llu,\"bytes\":%llu,\"results\":[%s]}",
                   (unsigned long long)n, (unsigned long long)ok, (unsigned long long)bytes,
                   results.data ? results.data : ""))
        goto oom;
    rc = 0;
    goto done;
oom:
    snprintf(err, errlen, "out of memory");
done:
    rio_free(&name);
    rio_free(&tmp);
    rio_free(&results);
    return rc;
}

__attribute__((export_name("reclave_handle")))
int reclave_handle(void) { return rio_serve(run); }
