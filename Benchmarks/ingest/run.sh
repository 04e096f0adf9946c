#!/usr/bin/env bash
# Ingestion benchmark: a publisher floods task_metrics samples at QoS 1 through a local Mosquitto into a
# running `propeller manager` (SQLite); a bare mosquitto_sub receives the same flood in the same run.
# Prints a Markdown section. Needs PROPELLER_BIN_DIR (release build) and PROPELLER_PYTHON.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${PROPELLER_BIN_DIR:?set PROPELLER_BIN_DIR to the directory of the built propeller binary}"
python="${PROPELLER_PYTHON:-python3}"
exec "$python" "$here/ingest_bench.py" "$@"
