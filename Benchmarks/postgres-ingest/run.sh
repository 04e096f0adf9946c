#!/usr/bin/env bash
# Manager ingestion: one manager on SQLite, one on PostgreSQL, two on PostgreSQL (shared subscription),
# the same QoS 1 flood through a local Mosquitto; each row starts its own broker and database (PostgreSQL
# as the `postgres` user when run as root). Prints a Markdown section. Needs PROPELLER_BIN_DIR (release
# build) and PROPELLER_PYTHON; INGEST_SAMPLES, INGEST_TASKS, INGEST_PUBLISHERS, INGEST_TOPIC adjust it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${PROPELLER_BIN_DIR:?set PROPELLER_BIN_DIR to the directory of the built propeller binary}"
export PROPELLER_POSTGRES_BIN_DIR="${PROPELLER_POSTGRES_BIN_DIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
python="${PROPELLER_PYTHON:-python3}"
exec "$python" "$here/bench.py" "$@"
