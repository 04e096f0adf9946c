// A core module written in C: fib(n) -> i64, iteratively.
//
// Build with the Swift toolchain's clang (no libc needed):
//   clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -o fib.wasm Examples/fib.c
// Run it:
//   propeller task create fib.wasm --name fib --input 50 --start
__attribute__((export_name("fib"))) long long fib(int n) {
    long long previous = 0;
    long long current = 1;
    for (int i = 0; i < n; i++) {
        long long next = previous + current;
        previous = current;
        current = next;
    }
    return previous;
}
