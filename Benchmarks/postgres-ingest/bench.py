"""Manager ingestion on PostgreSQL vs SQLite, and two managers vs one (see run.sh).

One flood (the same pre-generated samples, QoS 1, parallel mosquitto_pub) through a local Mosquitto
into, in turn: one manager on SQLite, one manager on PostgreSQL, two managers on PostgreSQL sharing the
`$share/propeller-managers/…` subscription. Each run gets a fresh broker and a fresh database. Rates are
samples ÷ time from the first publish to the last sample visible through the API; CPU is the managers'
plus (for PostgreSQL) the server's processes. Prints a Markdown section on stdout.
"""
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

SAMPLES = int(os.environ.get("INGEST_SAMPLES", "150000"))
TASKS = int(os.environ.get("INGEST_TASKS", "20"))
PUBLISHERS = int(os.environ.get("INGEST_PUBLISHERS", "2"))
# propeller (default): `propeller-mqtt-bench publish-lines`, the project's client with its wide window,
# which reached ≈ 20,000/s with two processes here where four mosquitto_pub reached ≈ 14,000/s; or mosquitto_pub (`-l`, its default in-flight window of 20).
PUBLISHER = os.environ.get("INGEST_PUBLISHER", "propeller")
TOPIC = os.environ.get("INGEST_TOPIC", "m/default/c/default/control/proplet/task_metrics")
BIN_DIR = os.environ["PROPELLER_BIN_DIR"]
PG_BIN = os.environ.get("PROPELLER_POSTGRES_BIN_DIR") or ""
TICKS = os.sysconf("SC_CLK_TCK")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from bench_common import free_port, http  # noqa: E402


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def cpu_of(pids):
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
        except OSError:
            pass
    return total


def tree(root):
    """root and every descendant (the postmaster and its backends)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except OSError:
                pass
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


class Postgres:
    """A throwaway durable PostgreSQL on a free port (as the postgres user when run as root)."""

    def __init__(self, work):
        self.dir = os.path.join(work, "pg")
        os.makedirs(self.dir, mode=0o700)
        self.prefix = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            os.chown(work, user.pw_uid, user.pw_gid)
            self.prefix = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--"]
        self.password = uuid.uuid4().hex
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(self.password)
        if os.geteuid() == 0:
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        data = os.path.join(self.dir, "data")
        subprocess.run(self.prefix + [f"{PG_BIN}/initdb", "-D", data, "-U", "propeller", f"--pwfile={pwfile}",
                                      "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.port = free_port()
        self.log = open(os.path.join(work, "postgres.log"), "w")
        self.process = subprocess.Popen(
            self.prefix + [f"{PG_BIN}/postgres", "-D", data, "-p", str(self.port), "-c", "listen_addresses=127.0.0.1",
                           "-c", "unix_socket_directories=", "-c", "shared_buffers=256MB", "-c", "max_wal_size=2GB"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: subprocess.run([f"{PG_BIN}/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)])
                 .returncode == 0, 30, "PostgreSQL")
        self.url = f"postgres://propeller:{self.password}@127.0.0.1:{self.port}/postgres?sslmode=disable"

    def pids(self):
        return tree(self.process.pid)

    def stop(self):
        self.process.send_signal(2)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def broker(work, procs):
    port = free_port()
    conf = os.path.join(work, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
                "max_queued_bytes 0\nmax_inflight_messages 0\npersistence false\n"
                + ("user root\n" if os.geteuid() == 0 else ""))
    procs.append(subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=0.2).close() or True, 10, "mosquitto")
    return port


def manager(work, procs, index, mqtt_port, storage):
    log_path = os.path.join(work, f"manager{index}.log")
    http_port = free_port()
    env = dict(os.environ, MANAGER_HTTP_PORT=str(http_port), PROPELLER_MQTT_URL=f"mqtt://127.0.0.1:{mqtt_port}",
               **storage)
    process = subprocess.Popen([os.path.join(BIN_DIR, "propeller"), "manager"], env=env,
                               stdout=open(log_path, "w"), stderr=subprocess.STDOUT, cwd=work)
    procs.append(process)
    base = f"http://127.0.0.1:{http_port}"
    wait_for(lambda: http(base + "/health")["status"] == "ok", 60, f"manager {index}")
    return process, base


def stored_counter(base):
    """propeller_ingest_samples_stored_total{kind="task"} of one manager."""
    with urllib.request.urlopen(base + "/metrics", timeout=30) as response:
        text = response.read().decode()
    match = re.search(r'^propeller_ingest_samples_stored_total\{[^}]*kind="task"[^}]*\} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0


def report_loss(work, started):
    """On stderr: each manager's received and dropped counters and the end of its log (why samples are missing)."""
    for index, (process, url) in enumerate(started):
        print(f"manager {index}: exit status {process.poll()}", file=sys.stderr)
        try:
            with urllib.request.urlopen(url + "/metrics", timeout=30) as response:
                for line in response.read().decode().splitlines():
                    if line.startswith(("propeller_ingest_messages_", "propeller_ingest_samples_")):
                        print("  " + line, file=sys.stderr)
        except OSError as error:
            print(f"  /metrics: {error}", file=sys.stderr)
        with open(os.path.join(work, f"manager{index}.log")) as log:
            for line in log.readlines()[-15:]:
                print("  " + line.rstrip()[:300], file=sys.stderr)


def flood_files(work, task_ids, proplet):
    paths = [os.path.join(work, f"samples{p}.jsonl") for p in range(PUBLISHERS)]
    outputs = [open(path, "w") for path in paths]
    start_us = int(time.time() * 1_000_000)
    for n in range(SAMPLES):
        secs, micros = divmod(start_us + n, 1_000_000)
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
    return paths


def run(name, managers, postgres, drain=False):
    work = tempfile.mkdtemp(prefix="propeller-pg-ingest-")
    os.chmod(work, 0o755)
    procs, database = [], None
    try:
        mqtt_port = broker(work, procs)
        if postgres:
            database = Postgres(work)
            storage = {"MANAGER_STORAGE": "postgres", "MANAGER_DATABASE_URL": database.url}
        else:
            storage = {"MANAGER_STORAGE": "sqlite", "MANAGER_DB_PATH": os.path.join(work, "propeller.db")}
        started = [manager(work, procs, index, mqtt_port, storage) for index in range(managers)]
        base = started[0][1]
        # The manager accepts samples only from a registered proplet for tasks running there (SPEC §2):
        # register one over MQTT and start the tasks on it.
        proplet = str(uuid.uuid4())
        prefix = f"m/default/c/default/control/proplet/{proplet}"
        metadata = {"hostname": "bench", "os": "linux", "arch": "x86_64", "cpu_count": 4,
                    "total_memory_bytes": 8 << 30, "version": "bench", "wasm_runtime": "wasmkit"}
        for suffix, body in (("create", {"proplet_id": proplet, "name": "bench", "metadata": metadata}),
                             ("alive", {"proplet_id": proplet, "status": "alive", "running_tasks": TASKS})):
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(mqtt_port), "-q", "1",
                            "-t", f"{prefix}/{suffix}", "-m", json.dumps(body)], check=True)
        wait_for(lambda: http(f"{base}/proplets/{proplet}").get("metadata"), 20, "the registration")
        task_ids = []
        for i in range(TASKS):
            task = http(base + "/tasks", "POST", {"name": f"bench{i}", "file": "AGFzbQEAAAA=", "daemon": True})
            http(f"{base}/tasks/{task['id']}/start", "POST", {"proplet_id": proplet})
            task_ids.append(task["id"])
        paths = flood_files(work, task_ids, proplet)
        time.sleep(0.5)
        pids = lambda: [p.pid for p, _ in started] + (database.pids() if database else [])
        cpu_before = cpu_of(pids())
        began = time.monotonic()
        if PUBLISHER == "propeller":
            url = f"mqtt://127.0.0.1:{mqtt_port}"
            publishers = [subprocess.Popen([os.path.join(BIN_DIR, "propeller-mqtt-bench"), "publish-lines", url,
                                            TOPIC, "1", path], stdout=subprocess.DEVNULL) for path in paths]
        else:
            sources = [open(path) for path in paths]
            publishers = [subprocess.Popen(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(mqtt_port), "-q", "1",
                                            "-t", TOPIC, "-l"], stdin=source) for source in sources]
        if drain:
            # A backlog, as after an outage: the managers are stopped (SIGSTOP) while the flood is
            # published, so the broker queues it for them; timing and CPU start when they continue. The
            # flood must fit in the managers' MQTT keep-alive (the broker drops a client silent for 1.5 ×
            # 10 s).
            for process, _ in started:
                os.kill(process.pid, signal.SIGSTOP)
        if any(publisher.wait() for publisher in publishers):
            raise SystemExit("the publishers failed")
        published = time.monotonic() - began
        if drain:
            time.sleep(0.5)  # the broker has the last messages queued
            cpu_before = cpu_of(pids())
            began = time.monotonic()
            for process, _ in started:
                os.kill(process.pid, signal.SIGCONT)
        # Progress from each manager's stored-samples counter (cheap), so that polling does not load the
        # database; the API's totals are read once at the end and are what "stored" and "lost" report.
        counted, last, finished = 0, time.monotonic(), began
        while time.monotonic() - last < 10 and counted < SAMPLES:
            now = sum(stored_counter(url) for _, url in started)
            if now > counted:
                counted, last, finished = now, time.monotonic(), time.monotonic()
            time.sleep(0.05)
        cpu = cpu_of(pids()) - cpu_before
        seconds = finished - began
        stored = sum(http(f"{base}/tasks/{t}/metrics?limit=1")["total"] for t in task_ids)
        if stored < SAMPLES:
            report_loss(work, started)
        return dict(name=name, stored=stored, lost=SAMPLES - stored, seconds=seconds, rate=stored / seconds,
                    published=SAMPLES / published, cpu=cpu)
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if database:
            database.stop()
        shutil.rmtree(work, ignore_errors=True)


# INGEST_ROWS: which rows to run (comma-separated of sqlite, postgres, postgres2, postgres-drain, sqlite-drain;
# a drain row publishes the flood while the manager is stopped and times it working off the backlog);
# default all five. With drain rows keep INGEST_SAMPLES within ≈ 10 s of publishing (the keep-alive).
ROWS = os.environ.get("INGEST_ROWS", "sqlite,postgres,postgres2,postgres-drain,sqlite-drain").split(",")


def main():
    rows = [run("1 manager, SQLite", 1, False)] if "sqlite" in ROWS else []
    if PG_BIN and os.path.exists(f"{PG_BIN}/initdb"):
        if "postgres" in ROWS:
            rows.append(run("1 manager, PostgreSQL", 1, True))
        if "postgres2" in ROWS:
            rows.append(run("2 managers, PostgreSQL (shared subscription)", 2, True))
        if "postgres-drain" in ROWS:
            rows.append(run("1 manager, PostgreSQL, draining a backlog", 1, True, drain=True))
    if "sqlite-drain" in ROWS:
        rows.append(run("1 manager, SQLite, draining a backlog", 1, False, drain=True))
    print("## Ingestion into PostgreSQL vs SQLite; two managers vs one\n")
    print(f"Command: `Benchmarks/postgres-ingest/run.sh` (INGEST_SAMPLES={SAMPLES}, INGEST_TASKS={TASKS}, "
          f"INGEST_PUBLISHERS={PUBLISHERS}, INGEST_PUBLISHER={PUBLISHER}); the same flood of {SAMPLES:,} samples ({PUBLISHERS} parallel "
          + (f"`propeller-mqtt-bench publish-lines`, QoS 1" if PUBLISHER == "propeller" else "`mosquitto_pub -l -q 1`")
          + f" on `{TOPIC}`) into real `propeller manager` processes from `{BIN_DIR}`, a "
          "fresh broker and database per row; PostgreSQL is durable (fsync on) on this machine over loopback. "
          "samples/s = samples ÷ time from the first publish (for a backlog row: from the managers' SIGCONT) "
          "to the last sample counted stored by the managers "
          "(`propeller_ingest_samples_stored_total`; stored and lost are the API's totals at the end); CPU = "
          "the managers' plus the PostgreSQL server's processes.\n")
    if not any("PostgreSQL" in r["name"] for r in rows):
        print("PostgreSQL rows not run: server binaries not found (install Debian's postgresql package).\n")
    print("| setup | stored | lost | seconds | samples/s | vs 20,000/s target | publish rate /s | CPU s | samples per CPU-second |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['name']} | {r['stored']:,} | {r['lost']} | {r['seconds']:.2f} | {r['rate']:,.0f} | "
              f"{r['rate'] / 20000:.2f}× | {r['published']:,.0f} | {r['cpu']:.2f} | {r['stored'] / max(r['cpu'], 0.01):,.0f} |")
    load = os.getloadavg()
    print(f"\nMachine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end. "
          "A live flood is bounded by the publishers (publish rate column), so a store or a second manager can at "
          "most match it; a backlog row (\"draining a backlog\") publishes the flood while the manager is stopped and "
          "times the manager working it off, publishers done — what the manager and its store can take on this "
          "machine. The CPU column is what each setup spends for the same samples.\n")


if __name__ == "__main__":
    main()
