/*
 * leak-probe: a reclave workload (reactor kind, function ABI version 1, see ../README.md) that
 * proves whether anything of a previous invocation survives into the next one.
 *
 * Each invocation of the exported `reclave_handle: () -> i32`:
 *
 *   1. SCAN: counts the 8-byte words equal to MAGIC in the whole linear memory, at every
 *      8-byte aligned address from 0 up to __builtin_wasm_memory_size(0) * 65536 (address 0
 *      is an ordinary address in Wasm). The result is "found".
 *   2. reads fd 0 until end-of-file and ignores the bytes. This happens after the scan, so an
 *      input that happens to contain MAGIC cannot raise the count of its own invocation.
 *   3. PLANT: draws 8 fresh random bytes, the secret, with getentropy() (wasi random_get) and
 *      writes MAGIC followed by the secret (16 bytes, 8-byte aligned) into
 *        (a) `slot`, a static array in .bss;
 *        (b) a 16-byte block from malloc, which is never freed;
 *        (c) the start of a page freshly added with __builtin_wasm_memory_grow(0, 1); when the
 *            grow fails (the runtime's memory limit) this copy is skipped and the output says
 *            "grow_failed":true.
 *      "planted" is the number of copies written: 3, or 2 when the grow failed.
 *   4. writes {"found":N,"planted":3,"pages":P,"secret":"<16 hex digits>"} to fd 1 (plus
 *      ,"grow_failed":true when the grow failed) and returns 0, where P is the memory size in
 *      pages at the end. If getentropy fails it writes {"error":"getentropy failed"} and
 *      returns 1 without planting.
 *
 * Expected results:
 *   - on a fresh instance, or after a correct rewind to the function-point snapshot: found = 0;
 *   - on an instance reused without a reset (warm): found >= 3 from the second call on. The
 *     static slot is overwritten by every call (one copy) while the heap block and the grown
 *     page are new each call, so call k (k >= 2) finds 1 + 2*(k-1) = 2k - 1 copies.
 *   - the secret differs on every call, in every mode: a runtime that replays the same random
 *     bytes after a rewind shows here as a repeated secret.
 * Note that the probe grows memory on every call: a runtime that cannot shrink a memory has to
 * re-create the instance to rewind it.
 *
 * MAGIC never sits in linear memory except where the probe plants it:
 *   - it is built as MAGIC_A ^ MAGIC_B, so the MAGIC bytes are in no data segment (the compiler
 *     folds the XOR into an i64.const immediate in the code section, which is not part of
 *     linear memory; LEB128-encoded, so not even the raw bytes appear in the module);
 *   - the probe's own copy is a Wasm local (a parameter of scan() and a local of
 *     reclave_handle whose address is never taken), never on the shadow stack in linear
 *     memory, so there is no copy to exclude from the count;
 *   - words are compared as uint64_t loads against that local: no memcmp, no in-memory copy.
 * The scan starts at `scan_base`, a volatile 0, so that the compiler cannot see the read of
 * address 0 (undefined behaviour in C) and replace it by a trap. All planting stores go
 * through volatile pointers so that the compiler cannot drop the stores to `slot` (a static
 * that is never read in C) or the malloc whose block is never read.
 *
 * No stdio buffering is used: only read(), write(), getentropy() and malloc().
 *
 * Build: clang --target=wasm32-wasi -mexec-model=reactor -O2 -o leak-probe.wasm leak_probe.c
 * (see ../build.sh).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define MAGIC_A 0x9e3779b97f4a7c15ULL
#define MAGIC_B 0x2c1b3c6d4f8e5a73ULL /* MAGIC = MAGIC_A ^ MAGIC_B = 0xb22c45d430c42666 */

static volatile uintptr_t scan_base; /* always 0; volatile hides that from the compiler */
static uint64_t slot[2];             /* (a) the static copy, in .bss */

/* Counts the 8-byte aligned words equal to magic in all of linear memory. */
__attribute__((noinline)) static uint32_t scan(uint64_t magic) {
    uint64_t end = (uint64_t)__builtin_wasm_memory_size(0) * 65536;
    uint32_t n = 0;
    for (uint64_t a = scan_base; a + 8 <= end; a += 8)
        if (*(volatile const uint64_t *)(uintptr_t)a == magic) n++;
    return n;
}

static void plant(volatile uint64_t *p, uint64_t magic, uint64_t secret) {
    p[0] = magic;
    p[1] = secret;
}

static char *put_str(char *o, const char *s) {
    while (*s) *o++ = *s++;
    return o;
}

static char *put_u32(char *o, uint32_t v) {
    char tmp[10];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *o++ = tmp[--n];
    return o;
}

static void write_all(const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

__attribute__((export_name("reclave_handle")))
int reclave_handle(void) {
    uint64_t magic = MAGIC_A ^ MAGIC_B;

    /* 1. scan, before anything of this invocation (its input included) is in memory */
    uint32_t found = scan(magic);

    /* 2. the input: read to end-of-file, ignored */
    char buf[1024];
    while (read(0, buf, sizeof buf) > 0) {
    }

    /* 3. plant */
    unsigned char secret[8];
    if (getentropy(secret, sizeof secret) != 0) {
        static const char err[] = "{\"error\":\"getentropy failed\"}";
        write_all(err, sizeof err - 1);
        return 1;
    }
    uint64_t s = 0;
    for (int i = 0; i < 8; i++) s |= (uint64_t)secret[i] << (8 * i); /* little-endian */

    uint32_t planted = 0;
    plant(slot, magic, s); /* (a) */
    planted++;
    uint64_t *heap = malloc(2 * sizeof(uint64_t)); /* (b), never freed */
    if (heap) {
        plant(heap, magic, s);
        planted++;
    }
    size_t old = __builtin_wasm_memory_grow(0, 1); /* (c) */
    int grow_failed = old == (size_t)-1;
    if (!grow_failed) {
        plant((uint64_t *)(old * 65536), magic, s);
        planted++;
    }

    /* 4. answer */
    static const char hex[] = "0123456789abcdef";
    char out[128];
    char *o = out;
    o = put_str(o, "{\"found\":");
    o = put_u32(o, found);
    o = put_str(o, ",\"planted\":");
    o = put_u32(o, planted);
    o = put_str(o, ",\"pages\":");
    o = put_u32(o, (uint32_t)__builtin_wasm_memory_size(0));
    o = put_str(o, ",\"secret\":\"");
    for (int i = 0; i < 8; i++) {
        *o++ = hex[secret[i] >> 4];
        *o++ = hex[secret[i] & 15];
    }
    o = put_str(o, "\"");
    if (!heap) o = put_str(o, ",\"malloc_failed\":true");
    if (grow_failed) o = put_str(o, ",\"grow_failed\":true");
    o = put_str(o, "}");
    write_all(out, (size_t)(o - out));
    return 0;
}
