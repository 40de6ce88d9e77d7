;; wat-sum: a reclave workload written by hand in WebAssembly text, the smallest example of a
;; module from a toolchain other than C or Go (reactor kind, function ABI version 1, see
;; workloads/README.md). Build: wat2wasm sum.wat -o sum.wasm
;;
;; reclave_handle reads the input from fd 0 until end-of-file and writes
;;   {"bytes":N,"sum":S}
;; to fd 1: N the number of input bytes, S the sum of their values (as unsigned bytes).
;; It keeps no state between invocations (only locals; the buffers are rewritten every time).
;;
;; It also calls bench.start and bench.stop, timing hooks of the kind benchmark suites'
;; modules import: the manifest lists them under stub_imports, so reclave provides them as
;; stubs that do nothing (bench.stop's result is 0).
(module
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "bench" "start" (func $bench_start))
  (import "bench" "stop" (func $bench_stop (result i32)))

  ;; Layout: 0 an iovec (pointer, length), 8 the count read or written, 256 the constant
  ;; strings, 512 the output (at most 64 bytes), 1024 the 4096-byte input buffer.
  (memory (export "memory") 1)
  (data (i32.const 256) "{\"bytes\":")   ;; 9 bytes
  (data (i32.const 272) ",\"sum\":")     ;; 7 bytes
  (data (i32.const 280) "}")

  ;; $utoa writes the decimal digits of $v at $p and returns the position after them.
  (func $utoa (param $p i32) (param $v i64) (result i32)
    (local $n i32) (local $i i32) (local $t i64)
    ;; count the digits
    (local.set $t (local.get $v))
    (local.set $n (i32.const 1))
    (block $done
      (loop $count
        (br_if $done (i64.lt_u (local.get $t) (i64.const 10)))
        (local.set $t (i64.div_u (local.get $t) (i64.const 10)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $count)))
    ;; write them from the last one back
    (local.set $i (local.get $n))
    (loop $digit
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (i32.add (local.get $p) (local.get $i))
        (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digit (local.get $i)))
    (i32.add (local.get $p) (local.get $n)))

  ;; $copy copies $n bytes from $src to $dst and returns $dst + $n.
  (func $copy (param $dst i32) (param $src i32) (param $n i32) (result i32)
    (memory.copy (local.get $dst) (local.get $src) (local.get $n))
    (i32.add (local.get $dst) (local.get $n)))

  (func (export "reclave_handle") (result i32)
    (local $n i32) (local $i i32) (local $bytes i64) (local $sum i64) (local $p i32)
    (call $bench_start)
    ;; read to end-of-file, summing every byte
    (block $eof
      (loop $read
        (i32.store (i32.const 0) (i32.const 1024))
        (i32.store (i32.const 4) (i32.const 4096))
        (if (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8))
          (then (return (i32.const 1))))
        (local.set $n (i32.load (i32.const 8)))
        (br_if $eof (i32.eqz (local.get $n)))
        (local.set $bytes (i64.add (local.get $bytes) (i64.extend_i32_u (local.get $n))))
        (local.set $i (i32.const 0))
        (loop $add
          (local.set $sum (i64.add (local.get $sum)
            (i64.load8_u (i32.add (i32.const 1024) (local.get $i)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $add (i32.lt_u (local.get $i) (local.get $n))))
        (br $read)))
    ;; format {"bytes":N,"sum":S} at 512
    (local.set $p (call $copy (i32.const 512) (i32.const 256) (i32.const 9)))
    (local.set $p (call $utoa (local.get $p) (local.get $bytes)))
    (local.set $p (call $copy (local.get $p) (i32.const 272) (i32.const 7)))
    (local.set $p (call $utoa (local.get $p) (local.get $sum)))
    (local.set $p (call $copy (local.get $p) (i32.const 280) (i32.const 1)))
    ;; write it, continuing after partial writes
    (i32.store (i32.const 0) (i32.const 512))
    (i32.store (i32.const 4) (i32.sub (local.get $p) (i32.const 512)))
    (block $written
      (loop $write
        (br_if $written (i32.eqz (i32.load (i32.const 4))))
        (if (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))
          (then (return (i32.const 1))))
        (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.load (i32.const 8))))
        (i32.store (i32.const 4) (i32.sub (i32.load (i32.const 4)) (i32.load (i32.const 8))))
        (br $write)))
    (call $bench_stop))
)
