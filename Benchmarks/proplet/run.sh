#!/usr/bin/env bash
# Proplet benchmark: monitoring overhead with 100 idle daemons (off / standard / intensive), latency of
# `add` from start to first sample and to results, RSS of one idle task's runner. Prints a Markdown
# section on stdout. Needs PROPELLER_BIN_DIR (release build) and PROPELLER_PYTHON (venv with psutil and
# paho-mqtt); builds nothing itself. PROPLET_BENCH_SECONDS (default 60) and PROPLET_BENCH_TASKS
# (default 100) shorten or grow it.
set -euo pipefail

export PROPELLER_BIN_DIR="${PROPELLER_BIN_DIR:?set PROPELLER_BIN_DIR to the release bin directory}"
PYTHON="${PROPELLER_PYTHON:-python3}"
HERE="$(cd "$(dirname "$0")" && pwd)"
FIXTURES="$HERE/../../Tests/Fixtures"

# shellcheck source=../lib/mosquitto.sh
source "$(dirname "$0")/../lib/mosquitto.sh"

wat2wasm "$FIXTURES/daemon.wat" -o "$WORK/daemon.wasm"
wat2wasm "$FIXTURES/add.wat" -o "$WORK/add.wasm"

start_mosquitto "set_tcp_nodelay true"

BENCH_PORT="$PORT" DAEMON_WASM="$WORK/daemon.wasm" ADD_WASM="$WORK/add.wasm" "$PYTHON" "$HERE/bench.py"
