;; hold(mib: i32, ms: i64) -> i32: grows linear memory to at least `mib` MiB, writes one byte to every
;; 4 KiB page of it (so it is resident), then sleeps `ms` milliseconds with WASI `poll_oneoff` on the
;; monotonic clock (idle, not spinning). ms < 0 holds forever (until the process is killed).
;; Returns the memory size in MiB at the end; -1 when the memory could not grow.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)

  ;; Sleeps `ns` nanoseconds: one clock subscription at address 0 (48 bytes), its event at 64
  ;; (32 bytes), the event count at 96.
  (func $sleep (param $ns i64)
    (i64.store (i32.const 0) (i64.const 0))       ;; userdata
    (i32.store8 (i32.const 8) (i32.const 0))      ;; tag: clock
    (i32.store (i32.const 16) (i32.const 1))      ;; clock id: monotonic
    (i64.store (i32.const 24) (local.get $ns))    ;; timeout
    (i64.store (i32.const 32) (i64.const 0))      ;; precision
    (i32.store16 (i32.const 40) (i32.const 0))    ;; flags: relative
    (drop (call $poll_oneoff (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 96))))

  (func (export "hold") (param $mib i32) (param $ms i64) (result i32)
    (local $pages i32)
    (local $address i32)
    (local $end i32)
    (local.set $pages (i32.mul (local.get $mib) (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then (return (i32.const -1))))))
    ;; Touch every 4 KiB page above the scratch area.
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    (local.set $address (i32.const 4096))
    (block $touched
      (loop $touch
        (br_if $touched (i32.ge_u (local.get $address) (local.get $end)))
        (i32.store8 (local.get $address) (i32.const 1))
        (local.set $address (i32.add (local.get $address) (i32.const 4096)))
        (br $touch)))
    (if (i64.lt_s (local.get $ms) (i64.const 0))
      (then
        (loop $forever
          (call $sleep (i64.const 1000000000))
          (br $forever))))
    (call $sleep (i64.mul (local.get $ms) (i64.const 1000000)))
    (i32.div_u (memory.size) (i32.const 16))))
