;; silent: a reactor that reads its input and writes nothing, as a C function does that writes
;; with printf and never flushes stdout. For the hint about unflushed stdio in
;; TestEmptyOutputHint. Build: wat2wasm silent.wat -o silent.wasm
(module
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "reclave_handle") (result i32)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 64))
    (loop $more
      (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
      (br_if $more (i32.load (i32.const 8))))
    (i32.const 0)))
