;; hostile: the red team's attacks on isolation and deadlines, for reclave's regression tests
;; (enclave/hostile_test.go). Rebuild: wat2wasm hostile.wat -o hostile.wasm (Debian: wabt).
;;
;; The start function runs at every instantiation. It reads the byte at 4096 (where the handler
;; leaves a marker) and grows the table $leak by that many entries: a start function that ran
;; on a heap still holding the last invocation's memory would carry the marker into the table's
;; size, which the next invocation prints (the leak through the recycle path).
;;
;; reclave_handle reads its input (at 1024) and first writes its observation to stdout: the size
;; of $leak (4 bytes LE), the marker byte at 4096, the i32 global $calls (4 bytes LE) and memory
;; size in pages (4 bytes LE). Then it stores input[1] at 4096, adds one to $calls, and does
;; what input[0] says:
;;   'o'  nothing more
;;   'T'  table.set on $t: a change only a new instance undoes (a recycle)
;;   'G'  memory.grow 1, then table.set (a recycle of a grown instance)
;;   'U'  unreachable (a trap after the writes above)
;;   'X'  proc_exit(3)
;;   'L'  loop forever (br)
;;   'F'  memory.fill the whole memory, forever (the bulk loop that ran 306 s under 10 s)
;;   'C'  a loop of calls to a function that fills the whole memory, forever
;;   'S'  poll_oneoff on a one-hour clock: a host call that blocks
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 2)
  (global $calls (mut i32) (i32.const 0))
  (table $t 1 funcref)
  (table $leak 1 1000 funcref)
  (elem (table $t) (i32.const 0) func $nop)

  (func $nop)

  (func $start
    (drop (table.grow $leak (ref.null func) (i32.load8_u (i32.const 4096)))))
  (start $start)

  ;; fill_all fills the whole memory with 0x5A.
  (func $fill_all
    (memory.fill (i32.const 0) (i32.const 0x5A) (i32.mul (memory.size) (i32.const 65536))))

  (func (export "reclave_handle")
    (local $op i32)
    ;; read the input into 1024 (one read: the inputs are a few bytes)
    (i32.store (i32.const 16) (i32.const 1024))
    (i32.store (i32.const 20) (i32.const 256))
    (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 8)))
    (local.set $op (i32.load8_u (i32.const 1024)))
    ;; the observation, at 64: table size, marker, calls, memory pages
    (i32.store (i32.const 64) (table.size $leak))
    (i32.store8 (i32.const 68) (i32.load8_u (i32.const 4096)))
    (i32.store (i32.const 69) (global.get $calls))
    (i32.store (i32.const 73) (memory.size))
    (i32.store (i32.const 32) (i32.const 64))
    (i32.store (i32.const 36) (i32.const 13))
    (drop (call $fd_write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 8)))
    ;; leave a marker and count
    (i32.store8 (i32.const 4096) (i32.load8_u (i32.const 1025)))
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i32.eq (local.get $op) (i32.const 0x54)) ;; 'T'
      (then (table.set $t (i32.const 0) (ref.null func))))
    (if (i32.eq (local.get $op) (i32.const 0x47)) ;; 'G'
      (then (drop (memory.grow (i32.const 1)))
            (table.set $t (i32.const 0) (ref.null func))))
    (if (i32.eq (local.get $op) (i32.const 0x55)) ;; 'U'
      (then unreachable))
    (if (i32.eq (local.get $op) (i32.const 0x58)) ;; 'X'
      (then (call $proc_exit (i32.const 3))))
    (if (i32.eq (local.get $op) (i32.const 0x4C)) ;; 'L'
      (then (loop $spin (br $spin))))
    (if (i32.eq (local.get $op) (i32.const 0x46)) ;; 'F'
      (then (loop $fill
              (memory.fill (i32.const 0) (i32.const 0) (i32.mul (memory.size) (i32.const 65536)))
              (br $fill))))
    (if (i32.eq (local.get $op) (i32.const 0x43)) ;; 'C'
      (then (loop $calls_fill (call $fill_all) (br $calls_fill))))
    (if (i32.eq (local.get $op) (i32.const 0x53)) ;; 'S'
      (then
        ;; one clock subscription at 128: relative, monotonic, one hour
        (memory.fill (i32.const 128) (i32.const 0) (i32.const 48))
        (i32.store8 (i32.const 136) (i32.const 0))                 ;; tag: clock
        (i32.store (i32.const 144) (i32.const 1))                  ;; monotonic
        (i64.store (i32.const 152) (i64.const 3600000000000))      ;; timeout, ns
        (drop (call $poll_oneoff (i32.const 128) (i32.const 256) (i32.const 1) (i32.const 8))))))
)
