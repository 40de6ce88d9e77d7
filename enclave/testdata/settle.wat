;; settle: a reactor whose every fourth call does far more work than the others (as a
;; language runtime's collection cycle or cache refill would), for reclave's warmed-snapshot
;; settling test (enclave/warmed_test.go, TestWarmedSettle). Call n (counted in memory at
;; address 0 and in a global) spins 1000000 loop iterations when n % 4 == 0 (more work than a
;; poll budget: the guest polls), and from call 5 on grows memory by a page when it has one
;; page, reading the new page's first byte before it writes 0xAA there. It writes three bytes
;; to stdout: n from memory, n from the global, and the byte it read in the grown page (0 in a
;; fresh page; 0xFF when it did not grow). When its input starts with "t", call 5 also sets a
;; table slot, which no rewind can undo; with "l", call 5 never returns.
;;
;; Rebuild: wat2wasm settle.wat -o settle.wasm (Debian package wabt).
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (table 1 funcref)
  (global $calls (mut i32) (i32.const 0))
  (func (export "_initialize"))
  (func $spare)
  (elem declare func $spare)
  (func (export "reclave_handle") (result i32)
    (local $n i32) (local $i i32) (local $probe i32)
    (local.set $n (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (i32.store (i32.const 0) (local.get $n))
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.store8 (i32.const 24) (i32.const 0))
    (i32.store (i32.const 8) (i32.const 24))
    (i32.store (i32.const 12) (i32.const 1))
    (drop (call $fd_read (i32.const 0) (i32.const 8) (i32.const 1) (i32.const 20)))
    (if (i32.and (i32.eq (i32.load8_u (i32.const 24)) (i32.const 0x74)) (i32.eq (local.get $n) (i32.const 5)))
      (then (table.set 0 (i32.const 0) (ref.func $spare))))
    (if (i32.and (i32.eq (i32.load8_u (i32.const 24)) (i32.const 0x6C)) (i32.eq (local.get $n) (i32.const 5)))
      (then (loop $forever (br $forever))))
    (if (i32.eqz (i32.and (local.get $n) (i32.const 3)))
      (then
        (loop $spin
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $spin (i32.lt_u (local.get $i) (i32.const 1000000))))))
    (local.set $probe (i32.const 0xFF))
    (if (i32.and (i32.ge_u (local.get $n) (i32.const 5)) (i32.eq (memory.size) (i32.const 1)))
      (then
        (drop (memory.grow (i32.const 1)))
        (local.set $probe (i32.load8_u (i32.const 65536)))
        (i32.store8 (i32.const 65536) (i32.const 0xAA))))
    (i32.store8 (i32.const 16) (local.get $n))
    (i32.store8 (i32.const 17) (global.get $calls))
    (i32.store8 (i32.const 18) (local.get $probe))
    (i32.store (i32.const 8) (i32.const 16))
    (i32.store (i32.const 12) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 20)))
    (i32.const 0)))
