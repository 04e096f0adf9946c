"""Proplet benchmark: monitoring overhead with N idle daemon tasks (off / standard / intensive),
start→first-sample and start→results latency of `add`, and the RSS of one idle task's runner.

Drives a real `propeller proplet` (release build) through a real Mosquitto with paho-mqtt and measures
the proplet process with psutil. Prints a Markdown section on stdout. Invoked by run.sh.
"""

import base64
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import socket
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import psutil

BIN = os.environ["PROPELLER_BIN_DIR"]
PORT = int(os.environ["BENCH_PORT"])
TASKS = int(os.environ.get("PROPLET_BENCH_TASKS", "100"))
DURATION = float(os.environ.get("PROPLET_BENCH_SECONDS", "60"))
LATENCY_RUNS = int(os.environ.get("PROPLET_BENCH_LATENCY_RUNS", "30"))
DAEMON = base64.b64encode(open(os.environ["DAEMON_WASM"], "rb").read()).decode()
ADD = base64.b64encode(open(os.environ["ADD_WASM"], "rb").read()).decode()

PROFILES = {
    "standard": dict(enabled=True, interval=10, collect_cpu=True, collect_memory=True, collect_disk_io=True,
                     collect_threads=True, collect_file_descriptors=True, export_to_mqtt=True,
                     retain_history=True, history_size=100),
    "intensive": dict(enabled=True, interval=1, collect_cpu=True, collect_memory=True, collect_disk_io=True,
                      collect_threads=True, collect_file_descriptors=True, export_to_mqtt=True,
                      retain_history=True, history_size=1000),
}
# What the manager sends for a daemon task with no profile: the automatic `daemon` profile. With
# PROPLET_ENABLE_MONITORING=false this task is not monitored (not an explicit choice).
DAEMON_PROFILE = dict(PROFILES["standard"], interval=120, history_size=500)


class Bus:
    """A paho client that records every message with its arrival time."""

    def __init__(self, base):
        self.base = base
        self.lock = threading.Lock()
        self.messages = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex[:8]}")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", PORT)
        # Without this, Nagle's algorithm in this Python client alone adds ≈ 40 ms to every command.
        self.client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client.subscribe(base + "#", qos=1)
        self.client.loop_start()
        time.sleep(0.3)

    def _on_message(self, client, userdata, message):
        with self.lock:
            self.messages.append((time.monotonic(), message.topic, message.payload))

    def publish(self, kind, payload):
        self.client.publish(self.base + kind, json.dumps(payload), qos=1).wait_for_publish()

    def find(self, kind, predicate):
        with self.lock:
            snapshot = list(self.messages)
        for arrived, topic, payload in snapshot:
            if topic == self.base + kind:
                body = json.loads(payload)
                if predicate(body):
                    return arrived, body
        return None

    def wait(self, kind, predicate, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.find(kind, predicate)
            if found:
                return found
            time.sleep(0.002)
        raise TimeoutError(f"no {kind} message matching within {timeout}s")

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


class Proplet:
    def __init__(self, monitoring):
        self.id = str(uuid.uuid4())
        self.domain = "bench" + uuid.uuid4().hex[:6]
        self.state = tempfile.mkdtemp(prefix="proplet-bench-")
        self.bus = Bus(f"m/{self.domain}/c/bench/")
        env = dict(os.environ, PROPELLER_MQTT_URL=f"mqtt://127.0.0.1:{PORT}", PROPELLER_DOMAIN_ID=self.domain,
                   PROPELLER_CHANNEL_ID="bench", PROPLET_ID=self.id, PROPLET_STATE_DIR=self.state,
                   PROPLET_ENABLE_MONITORING="true" if monitoring else "false")
        self.log = open(os.path.join(self.state, "proplet.log"), "w")
        self.process = subprocess.Popen([os.path.join(BIN, "propeller"), "proplet"], env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self.bus.wait(f"control/proplet/{self.id}/create", lambda body: body["proplet_id"] == self.id)
        self.ps = psutil.Process(self.process.pid)

    def start(self, task_id, file, name, profile, daemon=False, inputs=()):
        self.bus.publish(f"control/manager/{self.id}/start", dict(
            id=task_id, name=name, proplet_id=self.id, file=file, inputs=list(inputs), env={}, cli_args=[],
            daemon=daemon, monitoring_profile=profile))

    def runners(self):
        return [child for child in self.ps.children() if child.is_running()]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)
        self.bus.close()
        self.log.close()


def cpu_seconds(process):
    times = process.cpu_times()
    return times.user + times.system


def overhead(mode):
    """Proplet CPU% and RSS while it supervises TASKS idle daemons for DURATION seconds."""
    proplet = Proplet(monitoring=mode != "off")
    time.sleep(1)
    rss_empty = proplet.ps.memory_info().rss
    profile = DAEMON_PROFILE if mode == "off" else PROFILES[mode]
    for index in range(TASKS):
        proplet.start(f"{mode}-{index}", DAEMON, "_start", profile, daemon=True)
    deadline = time.monotonic() + 120
    while len(proplet.runners()) < TASKS and time.monotonic() < deadline:
        time.sleep(0.1)
    runners = proplet.runners()
    time.sleep(5)  # settle: every runner started, first intensive samples out
    cpu_before, wall_before = cpu_seconds(proplet.ps), time.monotonic()
    time.sleep(DURATION)
    cpu_after, wall_after = cpu_seconds(proplet.ps), time.monotonic()
    rss = proplet.ps.memory_info().rss
    runner_rss = sorted(child.memory_info().rss for child in runners if child.is_running())
    samples = sum(1 for _, topic, _ in proplet.bus.messages if topic.endswith("control/proplet/task_metrics"))
    proplet.stop()
    cpu = (cpu_after - cpu_before) / (wall_after - wall_before) * 100
    return dict(mode=mode, tasks=len(runners), cpu=cpu, rss=rss, rss_empty=rss_empty,
                runner_rss=statistics.median(runner_rss) if runner_rss else 0, samples=samples)


def latency():
    """Median start→first sample and start→results of `add` (standard profile)."""
    proplet = Proplet(monitoring=True)
    first, results, inside = [], [], []
    for index in range(LATENCY_RUNS):
        task_id = f"add-{index}"
        sent = time.monotonic()
        proplet.start(task_id, ADD, "add", PROFILES["standard"], inputs=(10, 20))
        done, body = proplet.bus.wait(f"control/proplet/{proplet.id}/results", lambda b: b["task_id"] == task_id)
        assert body["results"] == "30", body
        sample, _ = proplet.bus.wait("control/proplet/task_metrics", lambda b: b["task_id"] == task_id)
        first.append((sample - sent) * 1000)
        results.append((done - sent) * 1000)
        inside.append((parse_time(body["finished_at"]) - parse_time(body["started_at"])) * 1000)
    proplet.stop()
    return (statistics.median(first), statistics.median(results), min(results), max(results),
            statistics.median(inside))


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main():
    rows = [overhead(mode) for mode in ("off", "standard", "intensive")]
    first_ms, results_ms, results_min, results_max, inside_ms = latency()
    off = rows[0]
    mib = 1024 * 1024
    print("## Proplet: monitoring overhead, task latency, idle task memory")
    print()
    print("Command: `PROPELLER_BIN_DIR=<release> Benchmarks/proplet/run.sh` "
          f"({TASKS} idle daemon tasks per mode, {DURATION:.0f} s measured per mode after a 5 s settle; "
          "proplet CPU and RSS from psutil; real Mosquitto, real `propeller-wasm` children).")
    print()
    print("| monitoring | tasks | proplet CPU (% of one core) | per task (% of a core) | proplet RSS (MiB) "
          "| RSS over `off` per task (KiB) | task samples published |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        per_task = row["cpu"] / max(1, row["tasks"])
        extra = (row["rss"] - off["rss"]) / max(1, row["tasks"]) / 1024
        print(f"| {row['mode']} | {row['tasks']} | {row['cpu']:.3f} | {per_task:.4f} | {row['rss'] / mib:.1f} "
              f"| {extra:.1f} | {row['samples']} |")
    print()
    for row in rows[1:]:
        ratio = row["cpu"] / off["cpu"] if off["cpu"] > 0 else float("inf")
        print(f"- `{row['mode']}` vs `off`: proplet CPU ×{ratio:.2f} "
              f"(+{(row['cpu'] - off['cpu']) / max(1, row['tasks']):.4f} % of a core per task).")
    print("- Targets: ≤ 0.05 % of a core per task under `intensive`, ≤ 0.01 % under `standard`, ≤ 64 KiB of "
          "proplet memory per monitored task with a 1000-sample history.")
    print()
    print("| latency of `add` (standard profile, median of "
          f"{LATENCY_RUNS}) | ms |")
    print("|---|---|")
    print(f"| `start` published → first sample received (the final sample: `add` is shorter than the interval) "
          f"| {first_ms:.1f} |")
    print(f"| `start` published → `results` received | {results_ms:.1f} (min {results_min:.1f}, max {results_max:.1f}) |")
    print(f"| of which inside the proplet (`started_at` → `finished_at`: write module, spawn runner, run, "
          f"reap, final sample) | {inside_ms:.1f} |")
    print()
    print("| idle task process | MiB |")
    print("|---|---|")
    print(f"| RSS of one idle daemon's runner (median of {rows[1]['tasks']}) | {rows[1]['runner_rss'] / mib:.1f} |")
    print()
    print("Target for the idle task: ≤ 16 MiB.")


if __name__ == "__main__":
    sys.exit(main())
