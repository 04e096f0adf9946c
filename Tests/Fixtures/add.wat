;; add(a: i64, b: i64) -> i64: the sum (wrapping on overflow).
(module
  (func (export "add") (param $a i64) (param $b i64) (result i64)
    (i64.add (local.get $a) (local.get $b))))
