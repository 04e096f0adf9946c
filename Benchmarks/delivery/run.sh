#!/usr/bin/env bash
# Delivery benchmarks of issue 11 (prints a Markdown section):
# 1. ingestion with acknowledgements vs without, same run, same flood: samples with `seq` from a
#    registered proplet (the manager records every seq in its ledger and acks per batch) vs the same
#    samples without `seq`, each flood from several parallel publishers;
# 2. the proplet journal's cost: CPU and bytes written per sample with 100 daemon tasks at intensive.
# Needs PROPELLER_BIN_DIR (release build) and PROPELLER_PYTHON (with psutil, from `make venv`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${PROPELLER_BIN_DIR:?set PROPELLER_BIN_DIR to the directory of the built propeller binary}"
python="${PROPELLER_PYTHON:-python3}"
"$python" "$here/ack_bench.py"
"$python" "$here/journal_bench.py"
