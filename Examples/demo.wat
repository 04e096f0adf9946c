;; The demo task of `propeller dev --demo`: a WASI command that runs until stopped. Every second it
;; burns ~250 ms of CPU, grows its linear memory by 1 MiB (up to 16 MiB, every page touched so it is
;; resident), then sleeps ~750 ms with poll_oneoff — so CPU%, memory and uptime all move on screen.
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)

  ;; Monotonic clock in nanoseconds (written at address 0).
  (func $now (result i64)
    (drop (call $clock_time_get (i32.const 1) (i64.const 1000) (i32.const 0)))
    (i64.load (i32.const 0)))

  (func $burn (param $ms i64)
    (local $end i64)
    (local.set $end (i64.add (call $now) (i64.mul (local.get $ms) (i64.const 1000000))))
    (block $done
      (loop $spin
        (br_if $done (i64.ge_u (call $now) (local.get $end)))
        (br $spin))))

  ;; One relative clock subscription at address 64 (48 bytes), the event at 128, nevents at 160.
  (func $sleep (param $ms i64)
    (i64.store (i32.const 64) (i64.const 0))
    (i32.store8 (i32.const 72) (i32.const 0))
    (i32.store (i32.const 80) (i32.const 1))
    (i64.store (i32.const 88) (i64.mul (local.get $ms) (i64.const 1000000)))
    (i64.store (i32.const 96) (i64.const 0))
    (i32.store16 (i32.const 104) (i32.const 0))
    (drop (call $poll_oneoff (i32.const 64) (i32.const 128) (i32.const 1) (i32.const 160))))

  ;; Grow by 16 pages (1 MiB) while below 256 pages (16 MiB) and touch every 4 KiB of the new part.
  (func $grow
    (local $address i32)
    (local $end i32)
    (if (i32.lt_u (memory.size) (i32.const 256))
      (then
        (local.set $address (i32.mul (memory.size) (i32.const 65536)))
        (drop (memory.grow (i32.const 16)))
        (local.set $end (i32.mul (memory.size) (i32.const 65536)))
        (block $done
          (loop $touch
            (br_if $done (i32.ge_u (local.get $address) (local.get $end)))
            (i32.store (local.get $address) (i32.const 1))
            (local.set $address (i32.add (local.get $address) (i32.const 4096)))
            (br $touch))))))

  (func (export "_start")
    (loop $forever
      (call $burn (i64.const 250))
      (call $grow)
      (call $sleep (i64.const 750))
      (br $forever))))
