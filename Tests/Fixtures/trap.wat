;; trap() -> i32: hits `unreachable`, so every call traps.
;; divide(a: i32, b: i32) -> i32: signed division; traps with "integer divide by zero" when b is 0.
(module
  (func (export "trap") (result i32)
    unreachable)
  (func (export "divide") (param $a i32) (param $b i32) (result i32)
    (i32.div_s (local.get $a) (local.get $b))))
