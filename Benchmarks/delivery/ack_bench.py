"""Ingestion with acknowledgements vs without, same run, same flood (see run.sh)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bench_common import BIN_DIR, cpu_seconds, http, registered, start_broker, start_manager, stop_all, wait_for  # noqa: E402

SAMPLES = int(os.environ.get("DELIVERY_SAMPLES", "100000"))
TASKS = int(os.environ.get("DELIVERY_TASKS", "20"))
PUBLISHERS = int(os.environ.get("DELIVERY_PUBLISHERS", "4"))
METADATA = {"hostname": "bench", "os": "linux", "arch": "x86_64", "cpu_count": 4,
            "total_memory_bytes": 8 << 30, "version": "bench", "wasm_runtime": "wasmkit"}


def publish(port, topic, body):
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", topic,
                    "-m", json.dumps(body)], check=True)


def flood(work, port, name, proplet, task_ids, first_seq, start_us):
    """Writes SAMPLES samples (with seq from first_seq, or none) into PUBLISHERS files and floods them."""
    topic = "m/default/c/default/control/proplet/task_metrics"
    paths = [os.path.join(work, f"{name}{p}.jsonl") for p in range(PUBLISHERS)]
    outputs = [open(path, "w") for path in paths]
    for n in range(SAMPLES):
        secs, micros = divmod(start_us + n, 1_000_000)
        sample = {"task_id": task_ids[n % TASKS], "proplet_id": proplet,
                  "metrics": {"cpu_percent": 23.5, "memory_bytes": 52428800, "memory_percent": 1.2,
                              "disk_read_bytes": 1048576, "disk_write_bytes": 524288, "uptime_seconds": 45,
                              "thread_count": 2, "file_descriptor_count": 8},
                  "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{micros:06d}Z"}
        if first_seq is not None:
            sample["seq"] = first_seq + n
        outputs[n % PUBLISHERS].write(json.dumps(sample, separators=(",", ":")) + "\n")
    for output in outputs:
        output.close()
    sources = [open(path) for path in paths]
    started = time.monotonic()
    publishers = [subprocess.Popen(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-M", "20",
                                    "-t", topic, "-l"], stdin=source) for source in sources]
    if any(p.wait() for p in publishers):
        raise SystemExit("mosquitto_pub failed")
    return started


def main():
    work = tempfile.mkdtemp(prefix="propeller-ack-bench-")
    procs = []
    try:
        port = start_broker(work, procs)
        manager, base = start_manager(work, port, procs)
        proplet = str(uuid.uuid4())
        base_topic = f"m/default/c/default/control/proplet/{proplet}"
        # A registered proplet whose journal holds seq 1…SAMPLES, alive, with TASKS running tasks.
        publish(port, f"{base_topic}/create", {
            "proplet_id": proplet, "name": "bench", "metadata": METADATA,
            "delivery": {"oldest_seq": 1, "next_seq": SAMPLES + 1, "epoch": "bench"}})
        publish(port, f"{base_topic}/alive", {"proplet_id": proplet, "status": "alive", "running_tasks": TASKS})
        wait_for(lambda: registered(f"{base}/proplets/{proplet}"), 10, "the registration")
        task_ids = []
        for index in range(TASKS):
            task = http(base + "/tasks", "POST", {"name": f"bench{index}", "file": "AGFzbQEAAAA=", "daemon": True})
            http(f"{base}/tasks/{task['id']}/start", "POST", {"proplet_id": proplet})
            task_ids.append(task["id"])
        acks = open(os.path.join(work, "acks.out"), "w")
        ack_sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "1",
                                    "-t", f"m/default/c/default/control/manager/{proplet}/ack"], stdout=acks)
        procs.append(ack_sub)
        time.sleep(0.5)

        def stored_total():
            return sum(http(f"{base}/tasks/{tid}/metrics?limit=1")["total"] for tid in task_ids)

        results = {}
        stored_before = 0
        now_us = int(time.time() * 1_000_000)
        for name, first_seq in (("without acks", None), ("with acks", 1)):
            cpu_before = cpu_seconds(manager.pid)
            started = flood(work, port, name.replace(" ", "-"), proplet, task_ids, first_seq,
                            now_us + (0 if first_seq is None else SAMPLES))
            stored, last_progress, finished = stored_before, time.monotonic(), started
            while time.monotonic() - last_progress < 10:
                total = stored_total()
                if total > stored:
                    stored, last_progress, finished = total, time.monotonic(), time.monotonic()
                if stored - stored_before >= SAMPLES:
                    break
                time.sleep(0.05)
            cpu = cpu_seconds(manager.pid) - cpu_before
            count = stored - stored_before
            results[name] = (count, finished - started, cpu)
            stored_before = stored
        time.sleep(1)
        acks.close()
        ack_lines = [json.loads(line) for line in open(os.path.join(work, "acks.out")) if line.strip()]
        last_ack = max((a["seq"] for a in ack_lines), default=0)
        plain = results["without acks"]
        acked = results["with acks"]
        print("## Delivery: ingestion with acknowledgements vs without (same run, same flood)\n")
        print(f"Command: `Benchmarks/delivery/run.sh` (DELIVERY_SAMPLES={SAMPLES}, DELIVERY_TASKS={TASKS}, "
              f"DELIVERY_PUBLISHERS={PUBLISHERS}); {PUBLISHERS} parallel `mosquitto_pub -l -q 1 -M 20` flood "
              f"`control/proplet/task_metrics` for {TASKS} running tasks of one registered proplet into one "
              f"`propeller manager` (SQLite, `{BIN_DIR}`): first the samples without `seq`, then the same number "
              f"with `seq` (ledger + one ack per batch). Rate = stored samples ÷ time from the first publish to "
              f"the last sample visible through the API.\n")
        print("| flood | stored | seconds | samples/s | manager CPU s | samples per CPU-second |")
        print("|---|---|---|---|---|---|")
        for name, (count, seconds, cpu) in results.items():
            print(f"| {name} | {count} | {seconds:.2f} | {count / seconds:,.0f} | {cpu:.2f} | {count / cpu:,.0f} |")
        ratio = (acked[0] / acked[1]) / (plain[0] / plain[1])
        print()
        print(f"With / without acknowledgements: **{ratio:.2f}** (target ≥ 0.8); {len(ack_lines)} acks received, "
              f"the last for seq **{last_ack}** of {SAMPLES}.\n")
        load = os.getloadavg()
        print(f"Machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end.\n")
    finally:
        stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
