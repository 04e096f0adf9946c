"""The proplet journal's cost: CPU and bytes written per sample, 100 daemon tasks at intensive (run.sh)."""
import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bench_common import BIN_DIR, cpu_seconds, http, start_broker, start_manager, stop_all, wait_for  # noqa: E402

TASKS = int(os.environ.get("JOURNAL_TASKS", "100"))
SECONDS = int(os.environ.get("JOURNAL_SECONDS", "20"))
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def io_counters(pid):
    with open(f"/proc/{pid}/io") as f:
        return {key: int(value) for key, value in (line.split(": ") for line in f.read().splitlines())}


def journal_bytes(state):
    return sum(os.path.getsize(os.path.join(state, name)) for name in os.listdir(state) if name.startswith("journal"))


def main():
    work = tempfile.mkdtemp(prefix="propeller-journal-bench-")
    procs = []
    try:
        port = start_broker(work, procs)
        _, base = start_manager(work, port, procs)
        state = os.path.join(work, "proplet")
        env = dict(os.environ, PROPELLER_MQTT_URL=f"mqtt://127.0.0.1:{port}", PROPLET_STATE_DIR=state,
                   PROPLET_NAME="bench", PROPLET_RUNNER_PATH=os.path.join(BIN_DIR, "propeller-wasm"),
                   PROPLET_LIVELINESS_INTERVAL="5")
        log = open(os.path.join(work, "proplet.log"), "w")
        proplet = subprocess.Popen([os.path.join(BIN_DIR, "propeller"), "proplet"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, cwd=work)
        procs.append(proplet)
        wait_for(lambda: any(p.get("metadata") for p in http(base + "/proplets")["proplets"]), 30, "the proplet")
        wasm = subprocess.run(["wat2wasm", os.path.join(ROOT, "Tests/Fixtures/daemon.wat"), "-o", "/dev/stdout"],
                              check=True, capture_output=True).stdout
        file = base64.b64encode(wasm).decode()
        for _ in range(TASKS):
            task = http(base + "/tasks", "POST", {"name": "_start", "daemon": True, "file": file,
                                                  "monitoring_profile": "intensive"})
            http(f"{base}/tasks/{task['id']}/start", "POST", {})
        sub_out = os.path.join(work, "samples.out")
        sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "1",
                                "-t", "m/default/c/default/control/proplet/task_metrics"],
                               stdout=open(sub_out, "w"))
        procs.append(sub)
        time.sleep(5)  # every task runs and samples
        before_lines = sum(1 for _ in open(sub_out))
        cpu_before, io_before = cpu_seconds(proplet.pid), io_counters(proplet.pid)
        time.sleep(SECONDS)
        cpu, io = cpu_seconds(proplet.pid) - cpu_before, io_counters(proplet.pid)
        samples = sum(1 for _ in open(sub_out)) - before_lines
        written = io["write_bytes"] - io_before["write_bytes"]
        syscall_bytes = io["wchar"] - io_before["wchar"]
        print("## Delivery: the proplet journal's cost per sample\n")
        print(f"Command: `Benchmarks/delivery/run.sh` (JOURNAL_TASKS={TASKS}, JOURNAL_SECONDS={SECONDS}); one "
              f"`propeller proplet` (`{BIN_DIR}`) running {TASKS} idle daemon tasks under `intensive` (1 s), "
              f"with a manager acknowledging; counters of the proplet process over {SECONDS} s after a 5 s "
              f"warm-up. Every task sample and proplet sample is journaled (one `write(2)` of its line) and "
              f"forgotten when acknowledged; `wchar` also counts the MQTT socket writes.\n")
        print("| samples published | proplet CPU s | CPU µs per sample | storage bytes written per sample "
              "(`write_bytes`) | write(2) bytes per sample (`wchar`, journal + MQTT) | journal file now |")
        print("|---|---|---|---|---|---|")
        print(f"| {samples} | {cpu:.2f} | {cpu / max(samples, 1) * 1e6:,.0f} | {written / max(samples, 1):,.0f} | "
              f"{syscall_bytes / max(samples, 1):,.0f} | {journal_bytes(state):,} bytes |")
        print()
        print("The CPU figure is the proplet's whole cost per sample (sampling, JSON, MQTT and the journal), an "
              "upper bound of the journal's.\n")
    finally:
        stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
