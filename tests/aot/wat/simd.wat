;; SIMD and threads in compiled code: v128 through locals, params and
;; results (two cells each at the tier boundary), atomics on shared memory.
(module
  (memory 1 1 shared)
  (func $dot (param $a v128) (param $b v128) (result v128)
    (i32x4.mul (local.get $a) (local.get $b)))
  (func (export "f") (result i32)
    (local $v v128)
    (local.set $v (call $dot (v128.const i32x4 1 2 3 4) (v128.const i32x4 5 6 7 8)))
    (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 3 (local.get $v))))
  (func (export "pass") (param v128) (result v128) (local.get 0))
  (func (export "atomic") (result i32)
    (drop (i32.atomic.rmw.add (i32.const 8) (i32.const 5)))
    (drop (i32.atomic.rmw.add (i32.const 8) (i32.const 7)))
    (i32.atomic.load (i32.const 8)))
  (func (export "unaligned") (result i32)
    (i32.atomic.load (i32.const 2))))
