;; once: a third-party-style WASI command (see README.md) whose _start runs once per instance,
;; as upstream wasi-libc's does: a second _start in the same instance traps (unreachable).
;; Between the timing hooks bench.start and bench.end it sums 1..1000, writes
;; "sum(1..1000) = 500500\n" and exits with proc_exit(0). Its expected stdout,
;; once.stdout.expected, is exactly that. Build: wat2wasm once.wat -o once.wasm
(module
  (import "bench" "start" (func $start))
  (import "bench" "end" (func $end))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (global $started (mut i32) (i32.const 0))
  (data (i32.const 16) "sum(1..1000) = ")
  (func (export "_start")
    (local $i i32) (local $sum i32) (local $p i32) (local $n i32) (local $t i32)
    ;; upstream wasi-libc's crt1-command.c: if (started != 0) __builtin_trap(); started = 1;
    (if (global.get $started) (then unreachable))
    (global.set $started (i32.const 1))
    (call $start)
    (local.set $i (i32.const 1))
    (loop $add
      (local.set $sum (i32.add (local.get $sum) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $add (i32.le_u (local.get $i) (i32.const 1000))))
    ;; the digits of the sum after the 15-byte text at 16, then a newline
    (local.set $t (local.get $sum))
    (loop $count
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (local.set $t (i32.div_u (local.get $t) (i32.const 10)))
      (br_if $count (local.get $t)))
    (local.set $p (i32.add (i32.const 31) (local.get $n)))
    (i32.store8 (local.get $p) (i32.const 10))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $sum) (i32.const 10))))
      (local.set $sum (i32.div_u (local.get $sum) (i32.const 10)))
      (br_if $digit (i32.gt_u (local.get $p) (i32.const 31))))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.add (i32.const 16) (local.get $n)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $end)
    (call $proc_exit (i32.const 0))))
