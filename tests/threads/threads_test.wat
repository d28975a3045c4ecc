;; threads_test.wat: guest code for test_threads.c. Several host threads run
;; $worker on one shared memory: atomic counters, a futex-style mutex around a
;; plain (non-atomic) counter, and a wait/notify barrier. Each thread also
;; records the __stack_pointer it sees, directly and through call_indirect.
;;
;; Memory layout (bytes):
;;   0  i32 atomic counter        8  i64 atomic counter (sum of id+1)
;;  16  barrier arrivals         20  barrier generation
;;  24  mutex word (0 free, 1 held)   28 plain counter guarded by the mutex
;;  32  i32 cmpxchg-loop counter  36 narrow (16-bit) counter, wraps
;;  64 + 4*id  stack pointer thread id saw directly
;; 512 + 4*id  stack pointer thread id saw through call_indirect
;; 1024  queue: head (1024), tail (1028), 16 slots from 1032; sum at 1104 (i64)
(module
  (memory (export "memory") 1 1 shared)
  (global $sp (mut i32) (i32.const 65536))
  (type $get (func (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $stack_pointer)

  (func $stack_pointer (result i32) (global.get $sp))

  (func $lock
    (loop $retry
      (if (i32.atomic.rmw.cmpxchg (i32.const 24) (i32.const 0) (i32.const 1))
        (then
          (drop (memory.atomic.wait32 (i32.const 24) (i32.const 1) (i64.const -1)))
          (br $retry)))))

  (func $unlock
    (i32.atomic.store (i32.const 24) (i32.const 0))
    (drop (memory.atomic.notify (i32.const 24) (i32.const 1))))

  ;; Generation barrier for $n threads.
  (func $barrier (param $n i32)
    (local $gen i32)
    (local.set $gen (i32.atomic.load (i32.const 20)))
    (if (i32.eq (i32.add (i32.atomic.rmw.add (i32.const 16) (i32.const 1)) (i32.const 1))
                (local.get $n))
      (then
        (i32.atomic.store (i32.const 16) (i32.const 0))
        (drop (i32.atomic.rmw.add (i32.const 20) (i32.const 1)))
        (drop (memory.atomic.notify (i32.const 20) (i32.const -1))))
      (else
        (loop $wait
          (if (i32.eq (i32.atomic.load (i32.const 20)) (local.get $gen))
            (then
              (drop (memory.atomic.wait32 (i32.const 20) (local.get $gen) (i64.const -1)))
              (br $wait)))))))

  ;; Adds one to the i32 at 32 with a compare-exchange loop.
  (func $cas_increment
    (local $old i32)
    (loop $again
      (local.set $old (i32.atomic.load (i32.const 32)))
      (br_if $again
        (i32.ne (i32.atomic.rmw.cmpxchg (i32.const 32) (local.get $old)
                                        (i32.add (local.get $old) (i32.const 1)))
                (local.get $old)))))

  (func (export "worker") (param $id i32) (param $n i32) (param $iters i32) (result i32)
    (local $i i32)
    (i32.store (i32.add (i32.const 64) (i32.shl (local.get $id) (i32.const 2)))
               (global.get $sp))
    (i32.store (i32.add (i32.const 512) (i32.shl (local.get $id) (i32.const 2)))
               (call_indirect (type $get) (i32.const 0)))
    (call $barrier (local.get $n))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $iters)))
        (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
        (drop (i64.atomic.rmw.add (i32.const 8) (i64.extend_i32_u (i32.add (local.get $id) (i32.const 1)))))
        (drop (i32.atomic.rmw16.add_u (i32.const 36) (i32.const 1)))
        (call $cas_increment)
        (call $lock)
        (i32.store (i32.const 28) (i32.add (i32.load (i32.const 28)) (i32.const 1)))
        (call $unlock)
        (if (i32.eq (i32.and (local.get $i) (i32.const 63)) (i32.const 63))
          (then (call $barrier (local.get $n))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (global.get $sp))

  ;; Bounded queue of 16 slots: $produce pushes 1..$count, $consume pops
  ;; $count values and adds them to the i64 at 1104. head/tail only grow.
  (func (export "produce") (param $count i32) (result i32)
    (local $v i32) (local $tail i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $v) (local.get $count)))
        (local.set $tail (i32.atomic.load (i32.const 1028)))
        ;; full: wait for head to move
        (loop $full
          (if (i32.ge_u (i32.sub (local.get $tail) (i32.atomic.load (i32.const 1024))) (i32.const 16))
            (then
              (drop (memory.atomic.wait32 (i32.const 1024)
                      (i32.sub (local.get $tail) (i32.const 16)) (i64.const 1000000)))
              (br $full))))
        (local.set $v (i32.add (local.get $v) (i32.const 1)))
        (i32.atomic.store (i32.add (i32.const 1032) (i32.shl (i32.and (local.get $tail) (i32.const 15)) (i32.const 2)))
                          (local.get $v))
        (i32.atomic.store (i32.const 1028) (i32.add (local.get $tail) (i32.const 1)))
        (drop (memory.atomic.notify (i32.const 1028) (i32.const 1)))
        (br $next)))
    (local.get $v))

  (func (export "consume") (param $count i32) (result i64)
    (local $k i32) (local $head i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $count)))
        (local.set $head (i32.atomic.load (i32.const 1024)))
        (loop $empty
          (if (i32.eq (i32.atomic.load (i32.const 1028)) (local.get $head))
            (then
              (drop (memory.atomic.wait32 (i32.const 1028) (local.get $head) (i64.const 1000000)))
              (br $empty))))
        (drop (i64.atomic.rmw.add (i32.const 1104)
                (i64.extend_i32_u (i32.atomic.load
                  (i32.add (i32.const 1032) (i32.shl (i32.and (local.get $head) (i32.const 15)) (i32.const 2)))))))
        (i32.atomic.store (i32.const 1024) (i32.add (local.get $head) (i32.const 1)))
        (drop (memory.atomic.notify (i32.const 1024) (i32.const 1)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (i64.atomic.load (i32.const 1104)))

  ;; Parks forever unless notified: for the interrupt test.
  (func (export "park") (result i32)
    (memory.atomic.wait32 (i32.const 2000) (i32.const 0) (i64.const -1)))

  (func (export "reset")
    (memory.fill (i32.const 0) (i32.const 0) (i32.const 4096)))
)
