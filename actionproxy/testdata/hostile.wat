;; hostile: the red team's leak through the recycle path, as reclave serve sees it (see
;; actionproxy/hostile_test.go). Rebuild with: wat2wasm hostile.wat -o hostile.wasm
;;
;; The input is the JSON value of a /run; its third byte picks what happens ({"T":1} -> 'T'):
;; the handler answers {"t":N}, N the number of entries its start function added to the table
;; $leak, then stores that byte at 4096 (the marker) and
;;   'T'  changes a table (table.set): the instance must be re-created
;;   'L'  loops forever (the deadline must end it)
;; The start function adds one entry to $leak when it finds a marker at 4096: a start function
;; that ran on a heap holding the last invocation's memory would tell the next caller what the
;; last one sent.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (table $t 1 funcref)
  (table $leak 1 10 funcref)
  (data (i32.const 64) "{\"t\":0}")
  (func $start
    (drop (table.grow $leak (ref.null func) (i32.ne (i32.load8_u (i32.const 4096)) (i32.const 0)))))
  (start $start)
  (func (export "reclave_handle")
    (local $op i32)
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const 256))
    (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
    (local.set $op (i32.load8_u (i32.const 1026)))
    (i32.store8 (i32.const 69) (i32.add (i32.const 0x2F) (table.size $leak))) ;; '0' + size - 1
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 7))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store8 (i32.const 4096) (local.get $op))
    (if (i32.eq (local.get $op) (i32.const 0x54)) ;; 'T'
      (then (table.set $t (i32.const 0) (ref.null func))))
    (if (i32.eq (local.get $op) (i32.const 0x4C)) ;; 'L'
      (then (loop $spin (br $spin))))))
