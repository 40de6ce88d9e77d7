;; stubs_other: a reactor that imports env.get_time with another type than stubs.wat does —
;; (param i32) (result i32) instead of () -> i64 — and bench.start with none of its
;; parameters, for the generic-enclave test that two functions' stubs of the same module
;; names never clash (enclave/generic_test.go). It writes get_time(5) as 4 bytes (zeros when
;; stubbed) followed by "ok".
;; Rebuild: wat2wasm stubs_other.wat -o stubs_other.wasm
(module
  (import "env" "get_time" (func $get_time (param i32) (result i32)))
  (import "bench" "start" (func $start))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; iovec at 0: 6 bytes at 16; "ok" at 20
  (data (i32.const 0) "\10\00\00\00\06\00\00\00")
  (data (i32.const 20) "ok")
  (func (export "reclave_handle") (result i32)
    (call $start)
    (i32.store (i32.const 16) (call $get_time (i32.const 5)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.const 0)))
