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

# shellcheck source=../lib/mosquitto.sh
source "$(dirname "$0")/../lib/mosquitto.sh"

start_mosquitto

now() { date +%s.%N; }

# One publisher→subscriber run through the broker; PUB and SUB are "ours" or "c". Prints msg/s,
# timed from starting the publisher process to the subscriber's exit (both sides pay process start
# and connect the same way).
rate() {
    local pub=$1 sub=$2 qos=$3 count=$4 topic="bench/$RANDOM$RANDOM"
    : > "$WORK/received"
    if [[ $sub == c ]]; then
        timeout 120 mosquitto_sub -h 127.0.0.1 -p "$PORT" -q "$qos" -t "$topic" -C "$count" > "$WORK/received" &
    else
        timeout 120 "$BENCH" subscribe "mqtt://127.0.0.1:$PORT" "$topic" "$count" "$qos" > "$WORK/received" 2>/dev/null &
    fi
    local sub_pid=$!
    sleep 0.5  # let the subscription reach the broker
    local start end
    start=$(now)
    if [[ $pub == c ]]; then
        timeout 120 mosquitto_pub -h 127.0.0.1 -p "$PORT" -q "$qos" -t "$topic" -l < "$WORK/lines.$count"
    else
        timeout 120 "$BENCH" publish "mqtt://127.0.0.1:$PORT" "$topic" "$count" "$qos" "$SIZE" 2>/dev/null
    fi
    wait "$sub_pid" || true
    end=$(now)
    local got
    if [[ $sub == c ]]; then
        got=$(wc -l < "$WORK/received")
    else
        got=$(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][0]["messages"])' "$WORK/received")
    fi
    [[ "$got" -eq "$count" ]] || { echo "$pub→$sub QoS $qos: received $got of $count" >&2; exit 1; }
    python3 -c "print(round($count / ($end - $start)))"
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for count in "$COUNT_QOS0" "$COUNT_QOS1"; do
    python3 -c "import sys; sys.stdout.write(('x'*$SIZE+'\n')*$count)" > "$WORK/lines.$count"
done

declare -A RESULT
for qos in 0 1; do
    count=$COUNT_QOS0; [[ $qos -eq 1 ]] && count=$COUNT_QOS1
    for pair in "ours ours" "c c" "ours c" "c ours"; do
        read -r pub sub <<< "$pair"
        runs=()
        for _ in $(seq "$RUNS"); do runs+=("$(rate "$pub" "$sub" "$qos" "$count")"); done
        RESULT[$qos,$pub,$sub]=$(median "${runs[@]}")
    done
done

echo "## MQTT publish→receive throughput"
echo
echo "Command: \`PROPELLER_BIN_DIR=… Benchmarks/mqtt/run.sh\` — one local Mosquitto 2.0 (\`max_queued_messages 0\`),"
echo "$SIZE-byte payloads, one topic, one publisher process and one subscriber process, median of $RUNS runs"
echo "($COUNT_QOS0 messages at QoS 0, $COUNT_QOS1 at QoS 1), timed from starting the publisher to the"
echo "subscriber's exit. Ours: \`propeller-mqtt-bench publish|subscribe\` (MQTTClient, release build);"
echo "C tools: \`mosquitto_pub -l\` fed N lines, \`mosquitto_sub -C N\`. $(nproc) cores, shared machine."
echo
echo "| QoS | ours → ours (msg/s) | mosquitto_pub → mosquitto_sub (msg/s) | ours / C tools | within 1.5×? | ours pub → C sub | C pub → ours sub |"
echo "|---|---:|---:|---:|---|---:|---:|"
for qos in 0 1; do
    ours=${RESULT[$qos,ours,ours]}; c=${RESULT[$qos,c,c]}
    ratio=$(python3 -c "print(f'{$ours / $c:.2f}')")
    ok=$(python3 -c "print('yes' if $ours / $c >= 1/1.5 else 'no')")
    echo "| $qos | $ours | $c | $ratio | $ok | ${RESULT[$qos,ours,c]} | ${RESULT[$qos,c,ours]} |"
done
echo
echo "The mixed columns show each side of our client against the C tool on the other side."
echo
