#!/usr/bin/env bash
# Benchmark of the per-task runner `propeller-wasm` (release build): the idle RSS of one runner
# process running the idle daemon fixture, and the end-to-end time of one `add` task (spawn, load,
# call, print the outcome, exit) against spawning /bin/true.
# Builds nothing: expects PROPELLER_BIN_DIR (release) and optionally PROPELLER_PYTHON.
# Prints a Markdown section on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN_DIR="${PROPELLER_BIN_DIR:?set PROPELLER_BIN_DIR to the release bin directory}"
PYTHON="${PROPELLER_PYTHON:-python3}"
RUNNER="$BIN_DIR/propeller-wasm"
[ -x "$RUNNER" ] || { echo "no runner at $RUNNER (build with swift build -c release)" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
wat2wasm Tests/Fixtures/add.wat -o "$WORK/add.wasm"
wat2wasm Tests/Fixtures/daemon.wat -o "$WORK/daemon.wasm"

"$PYTHON" - "$RUNNER" "$WORK" <<'PY'
import json, os, signal, statistics, subprocess, sys, time

runner, work = sys.argv[1], sys.argv[2]

def job(name, module, inputs, daemon=False):
    path = os.path.join(work, f"{name}.json")
    with open(path, "w") as f:
        json.dump({"module_path": os.path.join(work, module), "name": name, "inputs": inputs,
                   "env": {}, "cli_args": [], "daemon": daemon}, f)
    return path

def timed(argv, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return times, out.stdout

add_job = job("add", "add.wasm", [10, 20])
timed([runner, add_job], 3)  # warm the page cache
add_times, add_out = timed([runner, add_job], 21)
outcome = json.loads(add_out)
assert outcome == {"state": "completed", "results": "30"}, outcome
true_times, _ = timed(["/bin/true"], 21)

def status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "Threads"):
                fields[key] = int(value.split()[0])
    # Private (unshared) memory: what each additional task process really costs.
    fields["Private"] = 0
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Private_Clean", "Private_Dirty"):
                fields["Private"] += int(value.split()[0])
    return fields

daemon_job = job("daemon", "daemon.wasm", [], daemon=True)
proc = subprocess.Popen([runner, daemon_job], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
samples = []
try:
    time.sleep(1.0)
    for _ in range(5):
        samples.append(status(proc.pid))
        time.sleep(0.4)
    with open(f"/proc/{proc.pid}/stat") as f:
        stat = f.read().rsplit(")", 1)[1].split()
    cpu_ticks = int(stat[11]) + int(stat[12])
finally:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)

rss = statistics.median(s["VmRSS"] for s in samples)
anon = statistics.median(s["RssAnon"] for s in samples)
file_ = statistics.median(s["RssFile"] for s in samples)
private = statistics.median(s["Private"] for s in samples)
target = 16 * 1024
add_median, true_median = statistics.median(add_times), statistics.median(true_times)

print("## Task runner (`propeller-wasm`)")
print()
print("Command: `PROPELLER_BIN_DIR=.build/release Benchmarks/runner/run.sh` (release build).")
print()
print(f"Load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
      "(timings on a busy machine are upper bounds).")
print()
print("| measurement | value | comparison | ratio |")
print("|---|---|---|---|")
print(f"| idle RSS of one runner running the `daemon` fixture (VmRSS, median of 5) | {rss/1024:.1f} MiB "
      f"(anon {anon/1024:.1f} MiB, file-backed {file_/1024:.1f} MiB, {samples[-1]['Threads']} threads) "
      f"| target ≤ 16 MiB | {rss/target:.2f}× of target |")
print(f"| private (unshared) memory of that runner, `Private_Clean + Private_Dirty` | {private/1024:.1f} MiB "
      f"| its VmRSS | {private/rss:.2f}× |")
print(f"| CPU used by the idle daemon over its first ~3 s | {cpu_ticks} ticks (1/100 s) | – | – |")
print(f"| `add(10, 20)` end to end: spawn, load, call, print outcome, exit (median of 21) | {add_median:.1f} ms "
      f"(min {min(add_times):.1f}, max {max(add_times):.1f}) | spawning `/bin/true`: {true_median:.1f} ms "
      f"| {add_median/true_median:.1f}× |")
PY
