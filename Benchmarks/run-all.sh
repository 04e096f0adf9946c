#!/usr/bin/env bash
# Runs every benchmark (Benchmarks/*/run.sh, each printing a Markdown section) and prints
# docs/benchmarks.md. Invoked by `make bench` with PROPELLER_BIN_DIR pointing at release builds.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "# Benchmarks"
echo
echo "Produced by \`make bench\` (release build) on $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -sr)."
echo "This machine is shared and noisy: compare the numbers side by side within one run, not across runs."
echo
for script in Benchmarks/*/run.sh; do
    [ -x "$script" ] || continue
    echo "<!-- $script -->"
    "$script"
    echo
done
