;; burn(ms: i64) -> i64: spins on the CPU until `ms` milliseconds of monotonic time (WASI
;; `clock_time_get`) have passed, then returns how many loop iterations it ran. Time-based, so it
;; burns the same wall time in a debug and a release build. ms <= 0 returns at once.
(module
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock_time_get (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)

  ;; Monotonic time in nanoseconds (clock id 1), read through the scratch word at address 0.
  (func $now (result i64)
    (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 0)))
    (i64.load (i32.const 0)))

  (func (export "burn") (param $ms i64) (result i64)
    (local $deadline i64)
    (local $iterations i64)
    (local $spin i32)
    (local.set $deadline (i64.add (call $now) (i64.mul (local.get $ms) (i64.const 1000000))))
    (block $done
      (loop $again
        (br_if $done (i64.ge_s (call $now) (local.get $deadline)))
        ;; Some pure computation between clock reads, so most time is spent in Wasm code.
        (local.set $spin (i32.const 0))
        (loop $work
          (local.set $spin (i32.add (local.get $spin) (i32.const 1)))
          (br_if $work (i32.lt_u (local.get $spin) (i32.const 1000))))
        (local.set $iterations (i64.add (local.get $iterations) (i64.const 1)))
        (br $again)))
    (local.get $iterations)))
