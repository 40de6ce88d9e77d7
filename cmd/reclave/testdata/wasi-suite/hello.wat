;; hello: a third-party-style WASI command (see README.md): writes "Hello, world!\n" between
;; two calls of the timing hooks bench.start and bench.end. Its expected stdout,
;; hello.stdout.expected, lacks the final newline. Build: wat2wasm hello.wat -o hello.wasm
(module
  (import "bench" "start" (func $start))
  (import "bench" "end" (func $end))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "Hello, world!\n")
  (func (export "_start")
    (call $start)
    ;; one iovec at 0: (16, 14); the count written goes to 8
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 14))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $end)))
