;; WASI command: prints every argv element as a line "arg <value>", then every environment entry as
;; a line "env <KEY=VALUE>", to stdout. Exits with the code given as its last argv element when that
;; element (after argv[0]) is a decimal number, otherwise 0. Before a non-zero exit it writes
;; "echo: exiting with code <code>" to stderr.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  ;; Layout: 0 argc, 4 argv buffer size, 8 env count, 12 env buffer size, 16 bytes written,
  ;; 32 three iovecs, 64.. constant text, 4096.. argv pointers and strings, then env.
  (data (i32.const 64) "arg ")
  (data (i32.const 68) "env ")
  (data (i32.const 72) "\n")
  (data (i32.const 80) "echo: exiting with code ")  ;; 24 bytes

  (func $strlen (param $s i32) (result i32)
    (local $p i32)
    (local.set $p (local.get $s))
    (block $end
      (loop $next
        (br_if $end (i32.eqz (i32.load8_u (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (i32.sub (local.get $p) (local.get $s)))

  ;; Writes one buffer to $fd with a single-iovec fd_write. (WASI may write only the first iovec of
  ;; a multi-iovec call, as Wasmtime does; one iovec per call is written whole by both runtimes.)
  (func $write (param $fd i32) (param $address i32) (param $length i32)
    (i32.store (i32.const 32) (local.get $address))
    (i32.store (i32.const 36) (local.get $length))
    (drop (call $fd_write (local.get $fd) (i32.const 32) (i32.const 1) (i32.const 16))))

  ;; Writes prefix (4 bytes at $prefix, or $prefix_len bytes), the C string $s and a newline to $fd.
  (func $line (param $fd i32) (param $prefix i32) (param $prefix_len i32) (param $s i32)
    (call $write (local.get $fd) (local.get $prefix) (local.get $prefix_len))
    (call $write (local.get $fd) (local.get $s) (call $strlen (local.get $s)))
    (call $write (local.get $fd) (i32.const 72) (i32.const 1)))

  ;; Makes sure linear memory reaches $end bytes.
  (func $ensure (param $end i32)
    (local $pages i32)
    (local.set $pages (i32.div_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 65536)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $pages) (memory.size)))))))

  ;; Decimal value of the C string $s, or 0 when it is empty or has a non-digit.
  (func $parse (param $s i32) (result i32)
    (local $value i32)
    (local $c i32)
    (if (i32.eqz (i32.load8_u (local.get $s))) (then (return (i32.const 0))))
    (block $end
      (loop $next
        (local.set $c (i32.load8_u (local.get $s)))
        (br_if $end (i32.eqz (local.get $c)))
        (if (i32.or (i32.lt_u (local.get $c) (i32.const 48)) (i32.gt_u (local.get $c) (i32.const 57)))
          (then (return (i32.const 0))))
        (local.set $value
          (i32.add (i32.mul (local.get $value) (i32.const 10)) (i32.sub (local.get $c) (i32.const 48))))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $next)))
    (local.get $value))

  (func (export "_start")
    (local $argv i32)
    (local $env i32)
    (local $i i32)
    (local $code i32)
    (local $last i32)
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (drop (call $environ_sizes_get (i32.const 8) (i32.const 12)))
    ;; argv pointers at 4096, argv strings after them, env pointers and strings after those.
    (local.set $argv (i32.const 4096))
    (local.set $env
      (i32.and
        (i32.add
          (i32.add (local.get $argv) (i32.mul (i32.load (i32.const 0)) (i32.const 4)))
          (i32.add (i32.load (i32.const 4)) (i32.const 7)))
        (i32.const -4)))
    (call $ensure
      (i32.add
        (i32.add (local.get $env) (i32.mul (i32.load (i32.const 8)) (i32.const 4)))
        (i32.load (i32.const 12))))
    (drop (call $args_get (local.get $argv)
      (i32.add (local.get $argv) (i32.mul (i32.load (i32.const 0)) (i32.const 4)))))
    (drop (call $environ_get (local.get $env)
      (i32.add (local.get $env) (i32.mul (i32.load (i32.const 8)) (i32.const 4)))))
    (block $args_done
      (loop $args
        (br_if $args_done (i32.ge_u (local.get $i) (i32.load (i32.const 0))))
        (call $line (i32.const 1) (i32.const 64) (i32.const 4)
          (i32.load (i32.add (local.get $argv) (i32.mul (local.get $i) (i32.const 4)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $args)))
    (local.set $i (i32.const 0))
    (block $env_done
      (loop $envs
        (br_if $env_done (i32.ge_u (local.get $i) (i32.load (i32.const 8))))
        (call $line (i32.const 1) (i32.const 68) (i32.const 4)
          (i32.load (i32.add (local.get $env) (i32.mul (local.get $i) (i32.const 4)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $envs)))
    (if (i32.ge_u (i32.load (i32.const 0)) (i32.const 2))
      (then
        (local.set $last
          (i32.load (i32.add (local.get $argv) (i32.mul (i32.sub (i32.load (i32.const 0)) (i32.const 1)) (i32.const 4)))))
        (local.set $code (call $parse (local.get $last)))))
    (if (local.get $code)
      (then (call $line (i32.const 2) (i32.const 80) (i32.const 24) (local.get $last))))
    (call $proc_exit (local.get $code))))
