;; interp_test.wat: functions exercised by test_interp.c (one export per case).
(module
  (import "host" "add3" (func $add3 (param i32 i32 i32) (result i32)))
  (import "host" "reenter" (func $reenter (param i32) (result i32)))
  (type $ii (func (param i32) (result i32)))
  (type $v (func))
  (memory (export "mem") 1 4)
  (table $t 4 funcref)
  (elem (table $t) (i32.const 0) func $fib $fac_iter)
  (global $g (mut i32) (i32.const 7))

  (func $fac_rec (export "fac_rec") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac_rec (i64.sub (local.get 0) (i64.const 1)))))))

  (func $fac_iter (export "fac_iter") (param i32) (result i32)
    (local $r i32)
    (local.set $r (i32.const 1))
    (block $done
      (loop $l
        (br_if $done (i32.le_s (local.get 0) (i32.const 1)))
        (local.set $r (i32.mul (local.get $r) (local.get 0)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $l)))
    (local.get $r))

  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))

  ;; counts i from n down to -1 with a compare against the constant -1
  (func (export "count_to_minus_one") (param i32) (result i32)
    (local $steps i32)
    (loop $l
      (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br_if $l (i32.ne (local.get 0) (i32.const -1))))
    (local.get $steps))

  ;; x + (x := x + 1): the first operand must be read before the set
  (func (export "read_before_set") (param i32) (result i32)
    (i32.add (local.get 0)
             (block (result i32) (local.set 0 (i32.add (local.get 0) (i32.const 1))) (local.get 0))))
  (func (export "lazy_get_then_tee") (param i32) (result i32)
    (local.get 0)
    (local.tee 0 (i32.const 100))
    (i32.sub))
  (func (export "swap") (param i32 i32) (result i32 i32)
    (local.get 0) (local.get 1) (local.set 0) (local.set 1)
    (local.get 0) (local.get 1))
  (func (export "return_locals_reversed") (param i32 i32) (result i32 i32)
    (local.get 1) (local.get 0))

  (func (export "sum_mem") (param $n i32) (result i64)
    (local $i i32) (local $s i64)
    (block $b (loop $l
      (br_if $b (i32.ge_u (local.get $i) (local.get $n)))
      (i64.store (i32.shl (local.get $i) (i32.const 3)) (i64.extend_i32_u (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.set $i (i32.const 0))
    (block $b (loop $l
      (br_if $b (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $s (i64.add (local.get $s) (i64.load (i32.shl (local.get $i) (i32.const 3)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (local.get $s))
  (func (export "load_at") (param i32) (result i32) (i32.load offset=1 (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))

  (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "rem_s") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
  (func (export "trunc") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
  (func (export "trap_unreachable") (unreachable))
  (func $deep (export "deep") (param i32) (result i32)
    (i32.add (i32.const 1) (call $deep (local.get 0))))
  (func (export "call_indirect") (param i32 i32) (result i32)
    (call_indirect (type $ii) (local.get 0) (local.get 1)))
  (func (export "call_indirect_void") (param i32)
    (call_indirect (type $v) (local.get 0)))
  (func (export "spin") (loop $l (br $l)))

  ;; multi-value: block params, results through br, br_table with values
  (func (export "block_params") (param i32) (result i32 i32)
    (local.get 0) (i32.const 10)
    (block (param i32 i32) (result i32 i32)
      (i32.add) (i32.const 3)))
  (func (export "br_out") (param i32) (result i32)
    (block $o (result i32)
      (drop (block $i (result i32)
        (drop (br_if $o (i32.const 11) (i32.eqz (local.get 0))))
        (i32.const 12)))
      (i32.const 13)))
  (func (export "br_table") (param i32) (result i32)
    (block $a (result i32)
      (block $b (result i32)
        (block $c (result i32)
          (br_table $a $b $c (i32.const 100) (local.get 0)))
        (i32.const 1) (i32.add))
      (i32.const 10) (i32.add)))
  (func (export "select") (param i32 i32 i32) (result i32)
    (select (local.get 0) (local.get 1) (local.get 2)))
  (func (export "global_bump") (result i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1))) (global.get $g))

  ;; calls out: a host function, and one that calls back into "fib"
  (func (export "call_host") (param i32) (result i32)
    (i32.add (i32.const 1000) (call $add3 (local.get 0) (i32.const 20) (i32.const 300))))
  (func (export "call_reenter") (param i32) (result i32)
    (i32.add (i32.const 1) (call $reenter (local.get 0))))
  (func (export "f32_min") (param f32 f32) (result f32) (f32.min (local.get 0) (local.get 1)))
;; Superinstructions: f64 ops with a load or constant operand, loads whose
;; address is local + constant (the i32.add wraps before the offset is added),
;; rotates by a constant.
  (func (export "f64_mem_ops") (param i32 f64) (result f64)
    (f64.store (i32.const 8) (f64.const 2.5))
    (f64.store (i32.const 16) (f64.const 4.0))
    ;; p1 + [(u32)(p0 + 16)] ; with p0 = -8 that is p1 + 2.5
    (f64.add (local.get 1) (f64.load (i32.add (local.get 0) (i32.const 16))))
    ;; * [p0 + 24] (4.0), load first: commuted
    (f64.mul (f64.load offset=16 (i32.add (local.get 0) (i32.const 8))))
    ;; / [16]
    (f64.div (f64.load (i32.const 16)))
    (f64.sub (f64.const 0.25))
    (f64.sub (f64.load offset=8 (i32.const 0)) (local.get 1)) ;; 2.5 - p1, not fused
    (f64.add))
  (func (export "f64_store_ops") (param i32 f64) (result f64)
    (f64.store (i32.const 8) (f64.const 2.5))
    (f64.store offset=16 (local.get 0) (f64.mul (local.get 1) (local.get 1)))
    (f64.store offset=24 (local.get 0) (f64.sub (local.get 1) (f64.load offset=8 (local.get 0))))
    (f64.add (f64.load offset=16 (local.get 0)) (f64.load offset=24 (local.get 0))))
  (func (export "i32_load_wrap") (param i32) (result i32)
    (i32.store (i32.const 4) (i32.const 0x12345678))
    (i32.load offset=4 (i32.add (local.get 0) (i32.const 16))))
  (func (export "rot_imm") (param i32) (result i32)
    (i32.xor (i32.rotl (local.get 0) (i32.const 7)) (i32.rotr (local.get 0) (i32.const 35))))
  (func (export "rot64_imm") (param i64) (result i64)
    (i64.xor (i64.rotl (local.get 0) (i64.const 13)) (i64.rotr (local.get 0) (i64.const 70))))

;; Guard-page faults (out of bounds with guard pages) name the function that
;; faulted: a callee, and a caller after a call has returned.
  (func $oob_load (export "oob_load") (param i32) (result i32) (i32.load (local.get 0)))
  (func $oob_in_callee (export "oob_in_callee") (param i32) (result i32)
    (call $oob_load (local.get 0)))
  (func $oob_after_call (export "oob_after_call") (param i32) (result i32)
    (drop (call $fib (i32.const 3)))
    (i32.load offset=8 (local.get 0)))
  (func (export "f64_nearest") (param f64) (result f64) (f64.nearest (local.get 0)))
)
