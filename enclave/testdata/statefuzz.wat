;; statefuzz: a reactor that applies a stream of state-changing operations read from stdin,
;; for reclave's rewind property tests. Each operation is 13 bytes: op (u8), a (u32 LE),
;; v (u64 LE). Addresses are reduced modulo (memory size - 8) so most accesses stay in bounds.
;;
;;   0 store8 a v        1 store64 a v        2 memory.grow (v & 3) pages
;;   3 set $g0 (i32)     4 set $g1 (i64)      5 set $g2 (f32 bits)   6 set $g3 (f64 bits)
;;   7 set exported $g4  8 trap (unreachable)
;;   9 memory.fill a, v & 255, len (v >> 8) & 0xFFFF (clipped)
;;  10 memory.copy a <- (v mod size-8), len (v >> 32) & 0xFFF (clipped)
;;  11 table.set 1      12 data.drop (both change state a rewind cannot restore)
;;  13 write to stdout "1" if table slot 1 is null, "0" if not (observes op 11)
;;  14 memory.init 1 byte of the passive segment at 700 (traps if op 12 dropped it)
;;
;; Rebuild: wat2wasm statefuzz.wat -o statefuzz.wasm (Debian package wabt).
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $g0 (mut i32) (i32.const 7))
  (global $g1 (mut i64) (i64.const 8))
  (global $g2 (mut f32) (f32.const 9))
  (global $g3 (mut f64) (f64.const 10))
  (global $g4 (export "counter") (mut i64) (i64.const 0))
  (table 2 funcref)
  (elem (i32.const 0) $noop)
  (data $passive "passive segment")
  (data (i32.const 256) "initial data")

  (func $noop)

  ;; The function's init changes memory and globals, so the snapshot differs from the module's
  ;; initial state.
  (func (export "reclave_init")
    (i32.store (i32.const 512) (i32.const 0xABCD))
    (global.set $g0 (i32.const 42))
    (global.set $g4 (i64.const 1)))

  ;; read reads stdin to end of file into memory at 1024 and returns the length.
  (func $read (result i32)
    (local $n i32) (local $total i32)
    (loop $more
      (i32.store (i32.const 16) (i32.add (i32.const 1024) (local.get $total)))
      (i32.store (i32.const 20) (i32.sub (i32.const 60000) (local.get $total)))
      (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 8)))
      (local.set $n (i32.load (i32.const 8)))
      (local.set $total (i32.add (local.get $total) (local.get $n)))
      (br_if $more (i32.and (i32.gt_u (local.get $n) (i32.const 0))
                            (i32.lt_u (local.get $total) (i32.const 60000)))))
    (local.get $total))

  (func $min (param i32 i32) (result i32)
    (select (local.get 0) (local.get 1) (i32.lt_u (local.get 0) (local.get 1))))

  (func (export "reclave_handle")
    (local $end i32) (local $p i32) (local $a i32) (local $v i64) (local $size i32) (local $src i32)
    (local.set $end (i32.add (i32.const 1024) (call $read)))
    (local.set $p (i32.const 1024))
    (block $done
      (loop $next
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 13)) (local.get $end)))
        (local.set $size (i32.mul (memory.size) (i32.const 65536)))
        (local.set $a (i32.rem_u (i32.load align=1 (i32.add (local.get $p) (i32.const 1)))
                                 (i32.sub (local.get $size) (i32.const 8))))
        (local.set $v (i64.load align=1 (i32.add (local.get $p) (i32.const 5))))
        (block $skip
        (block $b14 (block $b13 (block $b12 (block $b11 (block $b10 (block $b9 (block $b8 (block $b7 (block $b6
        (block $b5 (block $b4 (block $b3 (block $b2 (block $b1 (block $b0
          (br_table $b0 $b1 $b2 $b3 $b4 $b5 $b6 $b7 $b8 $b9 $b10 $b11 $b12 $b13 $b14 $skip
            (i32.load8_u (local.get $p))))
          ;; 0
          (i32.store8 (local.get $a) (i32.wrap_i64 (local.get $v))) (br $skip))
          ;; 1
          (i64.store align=1 (local.get $a) (local.get $v)) (br $skip))
          ;; 2
          (drop (memory.grow (i32.and (i32.wrap_i64 (local.get $v)) (i32.const 3)))) (br $skip))
          ;; 3
          (global.set $g0 (i32.wrap_i64 (local.get $v))) (br $skip))
          ;; 4
          (global.set $g1 (local.get $v)) (br $skip))
          ;; 5
          (global.set $g2 (f32.reinterpret_i32 (i32.wrap_i64 (local.get $v)))) (br $skip))
          ;; 6
          (global.set $g3 (f64.reinterpret_i64 (local.get $v))) (br $skip))
          ;; 7
          (global.set $g4 (local.get $v)) (br $skip))
          ;; 8
          (unreachable))
          ;; 9
          (memory.fill (local.get $a) (i32.wrap_i64 (local.get $v))
            (call $min (i32.and (i32.wrap_i64 (i64.shr_u (local.get $v) (i64.const 8))) (i32.const 0xFFFF))
                       (i32.sub (local.get $size) (local.get $a))))
          (br $skip))
          ;; 10
          (local.set $src (i32.rem_u (i32.wrap_i64 (local.get $v)) (i32.sub (local.get $size) (i32.const 8))))
          (memory.copy (local.get $a) (local.get $src)
            (call $min (i32.and (i32.wrap_i64 (i64.shr_u (local.get $v) (i64.const 32))) (i32.const 0xFFF))
                       (i32.sub (local.get $size)
                                (select (local.get $a) (local.get $src) (i32.gt_u (local.get $a) (local.get $src))))))
          (br $skip))
          ;; 11
          (table.set 0 (i32.const 1) (ref.func $noop)) (br $skip))
          ;; 12
          (data.drop $passive) (br $skip))
          ;; 13
          (i32.store8 (i32.const 32) (i32.add (i32.const 48)
            (ref.is_null (table.get 0 (i32.const 1)))))
          (i32.store (i32.const 36) (i32.const 32))
          (i32.store (i32.const 40) (i32.const 1))
          (drop (call $fd_write (i32.const 1) (i32.const 36) (i32.const 1) (i32.const 44)))
          (br $skip))
          ;; 14
          (memory.init $passive (i32.const 700) (i32.const 0) (i32.const 1)))
        (local.set $p (i32.add (local.get $p) (i32.const 13)))
        (br $next))))
)
