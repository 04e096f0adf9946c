;; A core module with one export: add(i64, i64) -> i64.
;;   propeller task create Examples/add.wat --name add --input 10 --input 20 --start
(module
  (func (export "add") (param i64 i64) (result i64)
    (i64.add (local.get 0) (local.get 1))))
