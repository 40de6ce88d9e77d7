/*
 * noop: a reclave workload (reactor kind, function ABI version 1, see ../README.md) that does
 * nothing: the smallest function that follows the ABI, for measuring the per-invocation
 * overhead of the runtime and of each reset (target: a rewound no-op invocation in <= 5 us).
 *
 * Each invocation of the exported `reclave_handle: () -> i32` reads fd 0 until end-of-file
 * (or a read error), discarding the bytes, writes the two bytes `{}` to fd 1 and returns 0.
 * It uses only read() and write() (wasi fd_read and fd_write): no stdio, no malloc, no
 * static state; it touches only the shadow stack (its 1 KiB read buffer and the iovecs of
 * read and write), and errno if a call fails.
 *
 * Build: clang --target=wasm32-wasi -mexec-model=reactor -O2 -o noop.wasm noop.c
 * (see ../build.sh).
 */
#include <unistd.h>

__attribute__((export_name("reclave_handle")))
int reclave_handle(void) {
    char buf[1024];
    while (read(0, buf, sizeof buf) > 0) {
    }
    write(1, "{}", 2);
    return 0;
}
