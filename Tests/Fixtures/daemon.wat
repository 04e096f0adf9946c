;; WASI command that never ends: sleeps one second at a time with `poll_oneoff` on the monotonic
;; clock, forever (idle, not spinning). Prints "daemon started\n" to stdout first.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 256) "daemon started\n")

  (func (export "_start")
    ;; iovec at 128: the greeting at 256, 15 bytes.
    (i32.store (i32.const 128) (i32.const 256))
    (i32.store (i32.const 132) (i32.const 15))
    (drop (call $fd_write (i32.const 1) (i32.const 128) (i32.const 1) (i32.const 136)))
    ;; One relative clock subscription at 0 (48 bytes); its event at 64; the count at 96.
    (i64.store (i32.const 0) (i64.const 0))
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const 1000000000))
    (i64.store (i32.const 32) (i64.const 0))
    (i32.store16 (i32.const 40) (i32.const 0))
    (loop $forever
      (drop (call $poll_oneoff (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 96)))
      (br $forever))))
