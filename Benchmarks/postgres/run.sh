#!/usr/bin/env bash
# PostgreSQL store benchmark: starts a throwaway PostgreSQL (Debian's binaries; as the `postgres` user
# when run as root, since PostgreSQL refuses root) on a free loopback port with durable settings, runs
# postgres-store-bench against it and a SQLite file side by side, and removes everything afterwards.
# Needs PROPELLER_BIN_DIR (release build). Extra arguments go to postgres-store-bench
# (e.g. `--tasks 100 --samples 100` for a quick run). Prints a Markdown section on stdout.
set -euo pipefail
BIN_DIR="${PROPELLER_BIN_DIR:?set PROPELLER_BIN_DIR to the directory of the release build}"
PG_BIN="${PROPELLER_POSTGRES_BIN_DIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    echo "## Store ingestion and query latency: PostgreSQL next to SQLite"
    echo
    echo "Not run: PostgreSQL server binaries not found (install Debian's postgresql package)."
    exit 0
fi
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/propeller-postgres-bench.XXXXXX")"
as_server=()
server_uid="$(id -u)"
if [ "$(id -u)" = 0 ]; then
    server_uid="$(id -u postgres)"
    as_server=(setpriv --reuid="$server_uid" --regid="$(id -g postgres)" --init-groups --)
    chown postgres: "$WORK_DIR"
fi
chmod 700 "$WORK_DIR"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
PASSWORD="bench-$RANDOM$RANDOM"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill -INT "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$WORK_DIR"
}
trap cleanup EXIT
printf '%s' "$PASSWORD" > "$WORK_DIR/password"
[ "$(id -u)" = 0 ] && chown postgres: "$WORK_DIR/password"
"${as_server[@]}" "$PG_BIN/initdb" -D "$WORK_DIR/data" -U propeller --pwfile="$WORK_DIR/password" \
    --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-instructions > "$WORK_DIR/initdb.log" 2>&1
"${as_server[@]}" "$PG_BIN/postgres" -D "$WORK_DIR/data" -p "$PORT" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories= -c shared_buffers=256MB -c max_wal_size=2GB > "$WORK_DIR/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
    sleep 0.1
done
"$PG_BIN/psql" -X -q -d "postgres://propeller:$PASSWORD@127.0.0.1:$PORT/postgres" -c "CREATE DATABASE bench"
"$BIN_DIR/postgres-store-bench" --url "postgres://propeller:$PASSWORD@127.0.0.1:$PORT/bench" \
    --sqlite "$WORK_DIR/bench.db" --server-uid "$server_uid" "$@"
