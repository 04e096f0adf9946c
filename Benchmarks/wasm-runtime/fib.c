// fib(n): the naive recursive Fibonacci in C (fib(38) = 39088169), compiled by run.sh with the Swift
// toolchain's clang (`--target=wasm32 -O2`) — the kind of module the issue measured (WasmKit 1.155 s,
// Wasmtime 0.142 s). clang turns one of the two calls into a loop; fib.wat keeps both calls.
int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
