"""Ingestion benchmark for `propeller manager` (see run.sh). Prints a Markdown section on stdout."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

SAMPLES = int(os.environ.get("INGEST_SAMPLES", "200000"))
TASKS = int(os.environ.get("INGEST_TASKS", "20"))
PUBLISHERS = int(os.environ.get("INGEST_PUBLISHERS", "4"))
# mosquitto_pub 2.0 -l drops its local queue at end of input when the in-flight window is large, so the
# default window (20) is kept and throughput comes from parallel publishers.
INFLIGHT = int(os.environ.get("INGEST_INFLIGHT", "20"))
BIN_DIR = os.environ["PROPELLER_BIN_DIR"]

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bench_common import cpu_seconds, free_port, http, registered, wait_for  # noqa: E402







PUBLISHER = os.environ.get("INGEST_PUBLISHER", "mosquitto_pub")
BASELINE_BIN_DIR = os.environ.get("INGEST_BASELINE_BIN_DIR")
BASELINE_LABEL = os.environ.get("INGEST_BASELINE_LABEL", "baseline")
# 1: the baseline predates per-proplet topics and registers on `control/proplet/create` and `/alive`.
LEGACY_TOPICS = os.environ.get("INGEST_BASELINE_LEGACY_TOPICS", "0") == "1"


def flood(bin_dir, label, legacy_topics=False):
    """One run: a fresh broker and manager from `bin_dir`, the flood, and what was measured."""
    work = tempfile.mkdtemp(prefix="propeller-ingest-bench-")
    procs = []
    try:
        port = free_port()
        conf = os.path.join(work, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
                    "max_queued_bytes 0\nmax_inflight_messages 0\npersistence false\nuser root\n")
        broker = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(broker)

        def broker_up():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return True
            except OSError:
                return False

        wait_for(broker_up, 10, "mosquitto")

        log_path = os.path.join(work, "manager.log")
        env = dict(os.environ, MANAGER_HTTP_PORT="0", MANAGER_STORAGE="sqlite",
                   MANAGER_DB_PATH=os.path.join(work, "propeller.db"), PROPELLER_MQTT_URL=f"mqtt://127.0.0.1:{port}")
        log = open(log_path, "w")
        manager = subprocess.Popen([os.path.join(bin_dir, "propeller"), "manager"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, cwd=work)
        procs.append(manager)

        def manager_port():
            match = re.search(r"manager listening.*?http\.port=(\d+)|http\.port=(\d+).*manager listening",
                              open(log_path).read())
            return match and int(match.group(1) or match.group(2))

        http_port = wait_for(manager_port, 30, "the manager to listen")
        base = f"http://127.0.0.1:{http_port}"
        wait_for(lambda: http(base + "/health")["status"] == "ok", 10, "/health")

        # The manager accepts samples only from a registered proplet for tasks running there (SPEC §2
        # "What the manager accepts"): register one over MQTT and start the tasks on it.
        proplet = str(uuid.uuid4())
        proplet_base = f"m/default/c/default/control/proplet/{proplet}"
        metadata = {"hostname": "bench", "os": "linux", "arch": "x86_64", "cpu_count": 4,
                    "total_memory_bytes": 8 << 30, "version": "bench", "wasm_runtime": "wasmkit"}
        # A baseline from before per-proplet topics (SPEC §7) registers on the shared seed topics.
        base_topic = "m/default/c/default/control/proplet" if legacy_topics else proplet_base
        for suffix, body in (("create", {"proplet_id": proplet, "name": "bench", "metadata": metadata}),
                             ("alive", {"proplet_id": proplet, "status": "alive", "running_tasks": TASKS})):
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1",
                            "-t", f"{base_topic}/{suffix}", "-m", json.dumps(body)], check=True)
        wait_for(lambda: registered(f"{base}/proplets/{proplet}"), 10, "the registration")
        task_ids = []
        for index in range(TASKS):
            task = http(base + "/tasks", "POST", {"name": f"bench{index}", "file": "AGFzbQEAAAA=", "daemon": True})
            http(f"{base}/tasks/{task['id']}/start", "POST", {"proplet_id": proplet})
            task_ids.append(task["id"])
        topic = "m/default/c/default/control/proplet/task_metrics"

        lines_paths = [os.path.join(work, f"samples{p}.jsonl") for p in range(PUBLISHERS)]
        outputs = [open(path, "w") for path in lines_paths]
        start_us = int(time.time() * 1_000_000)
        for n in range(SAMPLES):
            ts = start_us + n  # unique per sample, so nothing is deduplicated away
            secs, micros = divmod(ts, 1_000_000)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{micros:06d}Z"
            outputs[n % PUBLISHERS].write(json.dumps({
                "task_id": task_ids[n % TASKS], "proplet_id": proplet,
                "metrics": {"cpu_percent": 23.5, "memory_bytes": 52428800, "memory_percent": 1.2,
                            "disk_read_bytes": 1048576, "disk_write_bytes": 524288, "uptime_seconds": 45,
                            "thread_count": 2, "file_descriptor_count": 8},
                "aggregated": {"avg_cpu_usage": 38.2, "max_cpu_usage": 65.0, "avg_memory_usage": 62914560,
                               "max_memory_usage": 71303168, "total_disk_read": 2097152,
                               "total_disk_write": 1048576, "sample_count": 24},
                "timestamp": stamp}, separators=(",", ":")) + "\n")
        for output in outputs:
            output.close()
        payload_bytes = sum(os.path.getsize(path) for path in lines_paths) // SAMPLES

        sub_out = open(os.path.join(work, "sub.out"), "w")
        sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", topic,
                                "-C", str(SAMPLES)], stdout=sub_out, stderr=subprocess.DEVNULL)
        procs.append(sub)
        time.sleep(0.5)  # let both subscriptions settle

        manager_cpu_before = cpu_seconds(manager.pid)
        published_at = time.monotonic()
        url = f"mqtt://127.0.0.1:{port}"
        if PUBLISHER == "propeller":
            commands = [[os.path.join(BIN_DIR, "propeller-mqtt-bench"), "publish-lines", url, topic, "1", path]
                        for path in lines_paths]
            publishers = [subprocess.Popen(command, stdout=subprocess.DEVNULL) for command in commands]
        else:
            sources = [open(path) for path in lines_paths]
            publishers = [subprocess.Popen(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1",
                                            "-M", str(INFLIGHT), "-t", topic, "-l"], stdin=source)
                          for source in sources]
        codes = [publisher.wait() for publisher in publishers]
        publish_seconds = time.monotonic() - published_at
        if any(codes):
            raise SystemExit("the publishers failed")

        sub_deadline = time.monotonic() + 120
        while sub.poll() is None and time.monotonic() < sub_deadline:
            time.sleep(0.005)
        sub_seconds = time.monotonic() - published_at
        sub_out.close()
        received = sum(1 for _ in open(os.path.join(work, "sub.out")))

        def stored_total():
            return sum(http(f"{base}/tasks/{tid}/metrics?limit=1")["total"] for tid in task_ids)

        def stored_counter():
            """propeller_ingest_samples_stored_total{kind="task"}: one request per poll, not one per task."""
            with urllib.request.urlopen(base + "/metrics", timeout=30) as response:
                text = response.read().decode()
            match = re.search(r'^propeller_ingest_samples_stored_total\{[^}]*kind="task"[^}]*\} (\S+)$', text, re.M)
            return int(float(match.group(1))) if match else 0

        deadline = time.monotonic() + 300
        counted = 0
        last_progress = time.monotonic()
        manager_seconds = 0.0
        while time.monotonic() < deadline and time.monotonic() - last_progress < 10:
            now_counted = stored_counter()
            if now_counted > counted:
                counted = now_counted
                last_progress = time.monotonic()
                manager_seconds = last_progress - published_at
            if counted >= SAMPLES:
                break
            time.sleep(0.05)

        manager_cpu = cpu_seconds(manager.pid) - manager_cpu_before
        stored = stored_total()  # what the API serves, after the CPU is read
        return {"label": label, "bin_dir": bin_dir, "payload_bytes": payload_bytes, "publish_seconds": publish_seconds,
                "received": received, "sub_seconds": sub_seconds, "stored": stored,
                "manager_seconds": manager_seconds, "manager_cpu": manager_cpu}
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(work, ignore_errors=True)


def main():
    runs = []
    if BASELINE_BIN_DIR:
        runs.append(flood(BASELINE_BIN_DIR, BASELINE_LABEL, LEGACY_TOPICS))
    runs.append(flood(BIN_DIR, "this build"))
    if BASELINE_BIN_DIR:
        runs.append(flood(BASELINE_BIN_DIR, BASELINE_LABEL + " (again)", LEGACY_TOPICS))
    publisher_text = (f"{PUBLISHERS} parallel `propeller-mqtt-bench publish-lines` (QoS 1, the client's wide in-flight window)"
                      if PUBLISHER == "propeller" else
                      f"{PUBLISHERS} parallel publishers `mosquitto_pub -l -q 1 -M {INFLIGHT}`")
    print("## Ingestion: manager (SQLite) vs bare mosquitto_sub\n")
    print(f"Command: `Benchmarks/ingest/run.sh` (INGEST_SAMPLES={SAMPLES}, INGEST_TASKS={TASKS}, "
          f"INGEST_PUBLISHERS={PUBLISHERS}, INGEST_PUBLISHER={PUBLISHER}"
          + (f", INGEST_BASELINE_BIN_DIR={BASELINE_BIN_DIR}" if BASELINE_BIN_DIR else "") + "); "
          f"{publisher_text} flooding `control/proplet/task_metrics` "
          f"({runs[0]['payload_bytes']}-byte samples) through a local Mosquitto; the manager runs from "
          f"`{BIN_DIR}`" + (f" and, before and after it in the same run, the {BASELINE_LABEL} from `{BASELINE_BIN_DIR}`"
                           if BASELINE_BIN_DIR else "")
          + ". Rates are samples ÷ time from the first publish to the last sample received "
          "(mosquitto_sub) or counted stored by the manager (`propeller_ingest_samples_stored_total`, polled every "
          "50 ms; the stored column is the API's total at the end); a fresh broker and database per run.\n")
    print("| run | publish s | publish /s | `mosquitto_sub` received | broker /s | manager stored | lost | "
          "manager s | manager /s | manager / broker | manager CPU s | samples per CPU-second |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        broker_rate = run["received"] / run["sub_seconds"]
        manager_rate = run["stored"] / run["manager_seconds"] if run["manager_seconds"] else 0
        print(f"| {run['label']} | {run['publish_seconds']:.2f} | {SAMPLES / run['publish_seconds']:,.0f} | "
              f"{run['received']} | {broker_rate:,.0f} | {run['stored']} | {SAMPLES - run['stored']} | "
              f"{run['manager_seconds']:.2f} | {manager_rate:,.0f} | {manager_rate / broker_rate:.2f} | "
              f"{run['manager_cpu']:.2f} | {run['stored'] / run['manager_cpu']:,.0f} |")
    print()
    current = next(run for run in runs if run["label"] == "this build")
    broker_rate = current["received"] / current["sub_seconds"]
    manager_rate = current["stored"] / current["manager_seconds"]
    print(f"This build: manager / broker delivery rate **{manager_rate / broker_rate:.2f}** (target ≥ 0.5); "
          f"manager samples/s **{manager_rate:,.0f}** (target ≥ 20,000); lost **{SAMPLES - current['stored']}** "
          f"(target 0); **{current['stored'] / current['manager_cpu']:,.0f} samples per manager CPU-second** "
          "(decode, check, batch, SQLite write, one `/metrics` poll per 50 ms).\n")
    if BASELINE_BIN_DIR:
        baselines = [run for run in runs if run is not current]
        per_cpu = [run["stored"] / run["manager_cpu"] for run in baselines]
        ratio = (current["stored"] / current["manager_cpu"]) / (sum(per_cpu) / len(per_cpu))
        print(f"This build / {BASELINE_LABEL} (mean of its two runs), samples per manager CPU-second: **{ratio:.2f}×** "
              "(above 1: less CPU per sample).\n")
    load = os.getloadavg()
    print(f"Machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
          f"(1/5/15 min) at the end of the run; the manager's samples/s is at most the broker's delivery rate, "
          "which the publishers bound.\n")


if __name__ == "__main__":
    main()
