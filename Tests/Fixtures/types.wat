;; One export per Wasm number type, for input conversion and result formatting:
;; add_i32(i32, i32) -> i32, add_f32(f32, f32) -> f32, add_f64(f64, f64) -> f64,
;; negate_i64(i64) -> i64, and nothing() with no parameters and no results.
(module
  (func (export "add_i32") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "add_f32") (param f32 f32) (result f32)
    (f32.add (local.get 0) (local.get 1)))
  (func (export "add_f64") (param f64 f64) (result f64)
    (f64.add (local.get 0) (local.get 1)))
  (func (export "negate_i64") (param i64) (result i64)
    (i64.sub (i64.const 0) (local.get 0)))
  (func (export "nothing")))
