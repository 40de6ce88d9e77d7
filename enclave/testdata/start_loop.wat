;; start_loop: a reactor whose start function never returns, for reclave's deadline tests
;; (enclave/hostile_test.go). Rebuild: wat2wasm start_loop.wat -o start_loop.wasm.
(module
  (memory (export "memory") 1)
  (func $start (loop $spin (br $spin)))
  (start $start)
  (func (export "reclave_handle")))
