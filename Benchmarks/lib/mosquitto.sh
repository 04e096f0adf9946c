# Shared by the benchmark scripts: a scratch directory and a local Mosquitto that never drops queued
# messages, both removed on exit. Source it, then call `start_mosquitto [EXTRA_CONFIG_LINE…]`; it sets
# PORT (a free loopback port) and BROKER_PID, and returns once the broker accepts connections.
WORK="$(mktemp -d)"
BROKER_PID=""
cleanup() {
    if [[ -n "$BROKER_PID" ]]; then kill "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

start_mosquitto() {
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    {
        echo "listener $PORT 127.0.0.1"
        echo "allow_anonymous true"
        echo "user root"
        echo "max_queued_messages 0"
        echo "max_queued_bytes 0"
        echo "log_dest none"
        for line in "$@"; do echo "$line"; done
    } > "$WORK/mosquitto.conf"
    /usr/sbin/mosquitto -c "$WORK/mosquitto.conf" 2>/dev/null &
    BROKER_PID=$!
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "mosquitto did not start on port $PORT" >&2
    return 1
}
