#!/usr/bin/env bash
# Benchmark: fetching Wasm modules from a live registry (Debian's docker-registry on loopback) with
# ModuleFetcher — cold, warm by tag, warm by digest — next to curl downloading the same blob.
# Builds nothing: expects `swift build -c release` (PROPELLER_BIN_DIR). Prints a Markdown section.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN_DIR="${PROPELLER_BIN_DIR:-.build/release}"
ROUNDS="${MODULE_FETCH_ROUNDS:-5}"
if [ ! -x "$BIN_DIR/module-fetch-bench" ]; then
    echo "error: $BIN_DIR/module-fetch-bench not found; run 'swift build -c release' first" >&2
    exit 1
fi
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$WORK/config.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/storage
http:
  addr: 127.0.0.1:$PORT
YAML
/usr/bin/docker-registry serve "$WORK/config.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY=$!
trap 'kill "$REGISTRY" 2>/dev/null || true; wait "$REGISTRY" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/v2/" && break
    sleep 0.1
done

echo "## Module fetch from an OCI registry"
echo
echo "\`Benchmarks/module-fetch/run.sh\` (release build; Debian docker-registry 2.8 on loopback, filesystem storage;"
echo "median of $ROUNDS rounds). A cold fetch is manifest GET + blob GET + SHA-256 check + cache write; a warm fetch"
echo "by tag still GETs the manifest but serves the blob from the cache; a warm fetch by digest touches no network."
echo "curl's column is curl's own \`time_total\` (without the time to start curl)."
echo
"$BIN_DIR/module-fetch-bench" "127.0.0.1:$PORT" "$ROUNDS"
