#!/usr/bin/env bash
# Security overhead benchmark: API latency and ingestion rate of `propeller manager` with MQTT over TLS
# (broker-config's passwords and ACL) + HTTPS + API tokens, next to the same manager plain, in one run.
# Prints a Markdown section. Needs PROPELLER_BIN_DIR (release build), openssl and Mosquitto.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${PROPELLER_BIN_DIR:?set PROPELLER_BIN_DIR to the directory of the built propeller binary}"
python="${PROPELLER_PYTHON:-python3}"
exec "$python" "$here/security_bench.py" "$@"
