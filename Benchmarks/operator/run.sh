#!/usr/bin/env bash
# Operator benchmarks (issue 15): (1) `make run` on a built tree to the first printed sample of the demo
# task, with the time of each step it prints; (2) the web page's network cost per minute while it shows
# one task under the `intensive` profile (headless Chromium, bytes counted by the DevTools protocol).
# (1) runs the debug tree `make run` uses (built first if it is not, and that build is not timed);
# (2) uses PROPELLER_BIN_DIR (release under `make bench`). Needs PROPELLER_PYTHON with websocket-client.
# Prints a Markdown section on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PROPELLER_PYTHON:-.venv/bin/python}"
BIN_DIR="${PROPELLER_BIN_DIR:-.build/debug}"
make -s setup >/dev/null
for product in propeller propeller-wasm; do swift build --product "$product" >/dev/null 2>&1; done
make -s .build/debug/.propeller-run.stamp >/dev/null
"$PYTHON" Benchmarks/operator/bench.py "$BIN_DIR" "${RUNS:-3}" "${PAGE_SECONDS:-60}"
