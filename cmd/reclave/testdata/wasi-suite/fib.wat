;; fib: a third-party-style WASI command (see README.md): writes the Fibonacci numbers
;; "fib(1) = 1" to "fib(30) = 832040", one per line and without a final newline, timed by the
;; hooks bench.start and bench.end. Its expected stdout, fib.stdout.expected, has CRLF line
;; endings and a final one. Build: wat2wasm fib.wat -o fib.wasm
(module
  (import "bench" "start" (func $start))
  (import "bench" "end" (func $end))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "fib(")
  (data (i32.const 72) ") = ")

  ;; $utoa writes the decimal digits of $v at $p and returns the position after them.
  (func $utoa (param $p i32) (param $v i32) (result i32)
    (local $n i32) (local $i i32) (local $t i32)
    ;; count the digits
    (local.set $t (local.get $v))
    (loop $count
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (local.set $t (i32.div_u (local.get $t) (i32.const 10)))
      (br_if $count (local.get $t)))
    ;; write them from the last
    (local.set $i (local.get $n))
    (loop $digit
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (i32.add (local.get $p) (local.get $i))
        (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digit (local.get $i)))
    (i32.add (local.get $p) (local.get $n)))

  ;; $copy copies $len bytes from $src to $dst and returns $dst + $len.
  (func $copy (param $dst i32) (param $src i32) (param $len i32) (result i32)
    (memory.copy (local.get $dst) (local.get $src) (local.get $len))
    (i32.add (local.get $dst) (local.get $len)))

  ;; The output is composed at 1024, then written with one fd_write.
  (func (export "_start")
    (local $p i32) (local $k i32) (local $a i32) (local $b i32) (local $t i32)
    (call $start)
    (local.set $p (i32.const 1024))
    (local.set $a (i32.const 0))
    (local.set $b (i32.const 1))
    (local.set $k (i32.const 1))
    (loop $next
      (if (i32.gt_u (local.get $k) (i32.const 1))
        (then
          (i32.store8 (local.get $p) (i32.const 10))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))))
      ;; fib(k) = b, then (a, b) = (b, a + b)
      (local.set $p (call $copy (local.get $p) (i32.const 64) (i32.const 4)))
      (local.set $p (call $utoa (local.get $p) (local.get $k)))
      (local.set $p (call $copy (local.get $p) (i32.const 72) (i32.const 4)))
      (local.set $p (call $utoa (local.get $p) (local.get $b)))
      (local.set $t (i32.add (local.get $a) (local.get $b)))
      (local.set $a (local.get $b))
      (local.set $b (local.get $t))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $next (i32.le_u (local.get $k) (i32.const 30))))
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.sub (local.get $p) (i32.const 1024)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $end)))
