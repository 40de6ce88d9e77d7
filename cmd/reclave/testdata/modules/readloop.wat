;; readloop: a WASI command with the bug of a read loop that waits for a negative result:
;; _start reads stdin until fd_read fails, taking a read of 0 bytes (the end of the input) for
;; "nothing yet". It never ends: the deadline stops it, and the error says that it kept
;; reading after the end of its input. For TestInvokeDropIn. Build: wat2wasm readloop.wat -o readloop.wasm
(module
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    ;; one iovec at 0: (16, 64); the count read goes to 8
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 64))
    (loop $again
      (br_if $again (i32.eqz (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))))))
