#!/usr/bin/env bash
# MQTT publish→receive throughput: our MQTTClient (propeller-mqtt-bench) beside mosquitto_pub/mosquitto_sub,
# through one local Mosquitto, 500-byte payloads, QoS 0 and QoS 1. Prints a Markdown section on stdout.
# Needs PROPELLER_BIN_DIR (release build); builds nothing itself.
set -euo pipefail

BIN_DIR="${PROPELLER_BIN_DIR:?set PROPELLER_BIN_DIR to the release bin directory}"
BENCH="$BIN_DIR/propeller-mqtt-bench"
COUNT_QOS0="${MQTT_BENCH_COUNT_QOS0:-200000}"
COUNT_QOS1="${MQTT_BENCH_COUNT_QOS1:-50000}"
RUNS="${MQTT_BENCH_RUNS:-3}"
SIZE=500

WORK="$(mktemp -d)"
BROKER_PID=""
cleanup() {
    if [[ -n "$BROKER_PID" ]]; then kill "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$WORK/mosquitto.conf" <<CONF
listener $PORT 127.0.0.1
allow_anonymous true
user root
max_queued_messages 0
max_queued_bytes 0
log_dest none
CONF
/usr/sbin/mosquitto -c "$WORK/mosquitto.conf" 2>/dev/null &
BROKER_PID=$!
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    sleep 0.05
done

now() { date +%s.%N; }

# One mosquitto_sub/mosquitto_pub run; prints messages per second.
c_tools_rate() {
    local qos=$1 count=$2 topic="bench/c/$RANDOM$RANDOM"
    mosquitto_sub -h 127.0.0.1 -p "$PORT" -q "$qos" -t "$topic" -C "$count" > "$WORK/received" &
    local sub=$!
    sleep 0.5  # let the subscription reach the broker
    local start end
    start=$(now)
    mosquitto_pub -h 127.0.0.1 -p "$PORT" -q "$qos" -t "$topic" -l < "$WORK/lines.$count"
    wait "$sub"
    end=$(now)
    local got
    got=$(wc -l < "$WORK/received")
    [[ "$got" -eq "$count" ]] || { echo "mosquitto_sub received $got of $count" >&2; exit 1; }
    python3 -c "print(f'{$count / ($end - $start):.0f}')"
}

# One propeller-mqtt-bench run; prints messages per second.
our_rate() {
    local qos=$1 count=$2
    "$BENCH" throughput "mqtt://127.0.0.1:$PORT" "$count" "$qos" "$SIZE" 2>/dev/null |
        python3 -c 'import json,sys; r=json.loads(sys.stdin.readline()); assert r["messages"]>0; print(round(r["per_second"]))'
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for count in "$COUNT_QOS0" "$COUNT_QOS1"; do
    python3 -c "import sys; sys.stdout.write(('x'*$SIZE+'\n')*$count)" > "$WORK/lines.$count"
done

declare -A OURS C
for qos in 0 1; do
    count=$COUNT_QOS0; [[ $qos -eq 1 ]] && count=$COUNT_QOS1
    ours=(); cs=()
    for _ in $(seq "$RUNS"); do
        ours+=("$(our_rate "$qos" "$count")")
        cs+=("$(c_tools_rate "$qos" "$count")")
    done
    OURS[$qos]=$(median "${ours[@]}")
    C[$qos]=$(median "${cs[@]}")
done

echo "## MQTT publish→receive throughput"
echo
echo "Command: \`PROPELLER_BIN_DIR=… Benchmarks/mqtt/run.sh\` — one local Mosquitto 2.0 (\`max_queued_messages 0\`),"
echo "$SIZE-byte payloads, one topic, one publisher and one subscriber, median of $RUNS runs"
echo "($COUNT_QOS0 messages at QoS 0, $COUNT_QOS1 at QoS 1). Ours: \`propeller-mqtt-bench throughput\` (two"
echo "MQTTClients in one process, timed from the first publish to the last message received). C tools:"
echo "\`mosquitto_sub -C N\` started first, then \`mosquitto_pub -l\` fed N lines, timed from starting"
echo "mosquitto_pub (process start and connect included) to mosquitto_sub's exit. $(nproc) cores."
echo
echo "| QoS | ours (msg/s) | mosquitto_pub → mosquitto_sub (msg/s) | ours / C tools | target ≥ 0.67 (within 1.5×) |"
echo "|---|---:|---:|---:|---|"
for qos in 0 1; do
    ratio=$(python3 -c "print(f'{${OURS[$qos]} / ${C[$qos]}:.2f}')")
    ok=$(python3 -c "print('met' if ${OURS[$qos]} / ${C[$qos]} >= 1/1.5 else 'missed')")
    echo "| $qos | ${OURS[$qos]} | ${C[$qos]} | $ratio | $ok |"
done
echo
