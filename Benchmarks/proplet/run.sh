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

WORK="$(mktemp -d)"
BROKER_PID=""
cleanup() {
    if [[ -n "$BROKER_PID" ]]; then kill "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

wat2wasm "$FIXTURES/daemon.wat" -o "$WORK/daemon.wasm"
wat2wasm "$FIXTURES/add.wat" -o "$WORK/add.wasm"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$WORK/mosquitto.conf" <<CONF
listener $PORT 127.0.0.1
allow_anonymous true
user root
max_queued_messages 0
max_queued_bytes 0
set_tcp_nodelay true
log_dest none
CONF
/usr/sbin/mosquitto -c "$WORK/mosquitto.conf" 2>/dev/null &
BROKER_PID=$!
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    sleep 0.05
done

BENCH_PORT="$PORT" DAEMON_WASM="$WORK/daemon.wasm" ADD_WASM="$WORK/add.wasm" "$PYTHON" "$HERE/bench.py"
