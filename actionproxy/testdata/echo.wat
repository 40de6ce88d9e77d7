;; echo: a reactor (the function ABI of workloads/README.md) whose output is its input, for
;; tests that need a function to return what they choose. Rebuild with:
;;   wat2wasm echo.wat -o echo.wasm
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  ;; iovec at 0 (ptr, len), byte count at 8, buffer at 1024 (up to 64 KiB)
  (func (export "reclave_handle")
    (local $n i32)
    (block $done
      (loop $more
        (i32.store (i32.const 0) (i32.add (i32.const 1024) (local.get $n)))
        (i32.store (i32.const 4) (i32.sub (i32.const 65536) (local.get $n)))
        (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br_if $done (i32.eqz (i32.load (i32.const 8))))
        (local.set $n (i32.add (local.get $n) (i32.load (i32.const 8))))
        (br $more)))
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (local.get $n))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
