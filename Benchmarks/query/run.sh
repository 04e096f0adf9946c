#!/usr/bin/env bash
# Store query benchmark: p50/p99 of what `GET /tasks/{id}/metrics?limit=100` asks of the SQLite store,
# with 1,000,000 stored samples over 1,000 tasks; plus batched insert throughput.
# Builds nothing: `make bench` builds release and sets PROPELLER_BIN_DIR. Extra arguments are passed on
# (e.g. `--tasks 100 --samples 100` for a quick run). Prints a Markdown section on stdout.
set -euo pipefail
BIN_DIR="${PROPELLER_BIN_DIR:?set PROPELLER_BIN_DIR to the directory of the release build}"
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/propeller-query-bench.XXXXXX")"
trap 'rm -rf "$WORK_DIR"' EXIT
"$BIN_DIR/store-query-bench" --database "$WORK_DIR/bench.db" "$@"
TASKS=1000
SAMPLES=1000
while [ $# -gt 0 ]; do
    case "$1" in
        --tasks) TASKS="$2"; shift 2 ;;
        --samples) SAMPLES="$2"; shift 2 ;;
        *) shift ;;
    esac
done
"${PROPELLER_PYTHON:-python3}" "$(dirname "$0")/http_latency.py" "$BIN_DIR/propeller" "$WORK_DIR/bench.db" "$TASKS" "$SAMPLES"
