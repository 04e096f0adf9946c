;; bomb() -> i32: a memory bomb. Grows linear memory 1 MiB (16 pages) at a time and writes one byte
;; to every 4 KiB page it gains (so all of it is resident), until memory.grow fails; then returns the
;; MiB it reached. Without a memory limit it grows towards 4 GiB: run it only with a limit.
(module
  (memory (export "memory") 1)
  (func (export "bomb") (result i32)
    (local $address i32)
    (local $end i32)
    (loop $grow
      (if (i32.eq (memory.grow (i32.const 16)) (i32.const -1))
        (then (return (i32.div_u (memory.size) (i32.const 16)))))
      (local.set $end (i32.mul (memory.size) (i32.const 65536)))
      (block $touched
        (loop $touch
          (br_if $touched (i32.ge_u (local.get $address) (local.get $end)))
          (i32.store8 (local.get $address) (i32.const 1))
          (local.set $address (i32.add (local.get $address) (i32.const 4096)))
          (br $touch)))
      (br $grow))
    (i32.const 0)))
