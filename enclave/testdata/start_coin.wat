;; start_coin: a reactor whose start function loops forever when the random byte it draws is
;; below 128: at some instantiations and not others, so that a re-created instance (a recycle
;; or a re-instantiation) can hang where the first one did not. Input 'T' makes the handler
;; change a table (forcing a recycle of a rewinding enclave). For enclave/hostile_test.go.
;; Rebuild: wat2wasm start_coin.wat -o start_coin.wasm.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (table $t 1 funcref)
  (func $start
    (drop (call $random_get (i32.const 0) (i32.const 1)))
    (if (i32.lt_u (i32.load8_u (i32.const 0)) (i32.const 128))
      (then (loop $spin (br $spin))))
    (i32.store8 (i32.const 0) (i32.const 0)))
  (start $start)
  (func (export "reclave_handle")
    (i32.store (i32.const 16) (i32.const 1024))
    (i32.store (i32.const 20) (i32.const 16))
    (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 8)))
    (if (i32.eq (i32.load8_u (i32.const 1024)) (i32.const 0x54))
      (then (table.set $t (i32.const 0) (ref.null func))))))
