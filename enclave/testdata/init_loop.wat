;; init_loop: a reactor whose _initialize never returns, for reclave's deadline tests
;; (enclave/hostile_test.go). Rebuild: wat2wasm init_loop.wat -o init_loop.wasm.
(module
  (memory (export "memory") 1)
  (func (export "_initialize") (loop $spin (br $spin)))
  (func (export "reclave_handle")))
