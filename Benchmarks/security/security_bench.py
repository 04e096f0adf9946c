"""Security overhead benchmark (see run.sh): the same manager plain and secured, in one run.

plain:   mqtt:// to an anonymous Mosquitto listener, HTTP, no tokens.
secured: mqtts:// to a listener written by `propeller broker-config` (TLS, hashed passwords, SPEC §7 ACL),
         HTTPS (MANAGER_TLS_CERT_FILE/KEY_FILE) and API tokens (MANAGER_API_TOKENS_FILE, Bearer).
Measures GET latency on one keep-alive connection and on a new connection per request (TCP + TLS
handshake), and the ingestion rate of a task_metrics flood. Prints a Markdown section with the ratios.
"""
import http.client
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import tempfile
import time

BIN_DIR = os.environ["PROPELLER_BIN_DIR"]
PROPELLER = os.path.join(BIN_DIR, "propeller")
SAMPLES = int(os.environ.get("SECURITY_BENCH_SAMPLES", "40000"))
TASKS = int(os.environ.get("SECURITY_BENCH_TASKS", "10"))
REQUESTS = int(os.environ.get("SECURITY_BENCH_REQUESTS", "500"))
PUBLISHERS = 2
TOKEN = "bench-admin-token-0123456789abcdef"
PROPLET = "bench-proplet"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(1, -(-len(ordered) * p // 100)) - 1]


def run(command, **kwargs):
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)


def certificates(work):
    """A CA and a server certificate for 127.0.0.1 (openssl from Debian)."""
    ca_key, ca, key, csr, cert = (os.path.join(work, n) for n in ("ca.key", "ca.pem", "server.key", "server.csr",
                                                                  "server.pem"))
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
         "-subj", "/CN=propeller-bench-ca"])
    run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"])
    ext = os.path.join(work, "ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
         "-days", "2", "-extfile", ext])
    return ca, cert, key


class Stack:
    """A broker and a manager, plain or secured."""

    def __init__(self, work, secured, tls_files):
        self.work = os.path.join(work, "secured" if secured else "plain")
        os.makedirs(self.work)
        self.secured = secured
        self.procs = []
        self.mqtt_port = free_port()
        self.http_port = free_port()
        ca, cert, key = tls_files
        self.ca = ca
        pub = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.mqtt_port), "-q", "1"]
        env = dict(os.environ, MANAGER_HTTP_HOST="127.0.0.1", MANAGER_HTTP_PORT=str(self.http_port),
                   MANAGER_STORAGE="sqlite", MANAGER_DB_PATH=os.path.join(self.work, "propeller.db"),
                   MANAGER_RETENTION_MAX_AGE="0", MANAGER_PROPLET_TIMEOUT="600")
        if secured:
            broker_dir = os.path.join(self.work, "broker")
            run([PROPELLER, "broker-config", "--output", broker_dir, "--port", str(self.mqtt_port), "--proplet",
                 PROPLET, "--tls-cert", cert, "--tls-key", key, "--tls-ca", ca, "--broker-user", "root",
                 "--no-persistence"])
            conf = os.path.join(broker_dir, "mosquitto.conf")
            env.update(self.env_file(os.path.join(broker_dir, "manager-manager.env")))
            proplet = self.env_file(os.path.join(broker_dir, f"proplet-{PROPLET}.env"))
            pub += ["--cafile", ca, "-u", PROPLET, "-P", proplet["PROPELLER_MQTT_PASSWORD"]]
            tokens = os.path.join(self.work, "tokens")
            with open(tokens, "w") as f:
                f.write(f"{TOKEN} admin\n")
            os.chmod(tokens, 0o600)
            env.update(MANAGER_TLS_CERT_FILE=cert, MANAGER_TLS_KEY_FILE=key, MANAGER_API_TOKENS_FILE=tokens)
        else:
            conf = os.path.join(self.work, "mosquitto.conf")
            with open(conf, "w") as f:
                f.write(f"listener {self.mqtt_port} 127.0.0.1\nallow_anonymous true\nuser root\n"
                        "max_queued_messages 0\nmax_queued_bytes 0\npersistence false\n")
            env["PROPELLER_MQTT_URL"] = f"mqtt://127.0.0.1:{self.mqtt_port}"
        self.publish = pub
        self.procs.append(subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL))
        wait_for(lambda: socket.create_connection(("127.0.0.1", self.mqtt_port), timeout=0.2).close() or True,
                 10, "mosquitto")
        log = open(os.path.join(self.work, "manager.log"), "w")
        self.manager = subprocess.Popen([PROPELLER, "manager"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                        cwd=self.work)
        self.procs.append(self.manager)
        try:
            wait_for(lambda: self.request("GET", "/health")[1].get("status") == "ok", 30, "the manager")
        except SystemExit:
            raise SystemExit("the manager did not come up:\n" + open(os.path.join(self.work, "manager.log")).read()[-3000:])

    @staticmethod
    def env_file(path):
        return dict(line.strip().split("=", 1) for line in open(path) if "=" in line)

    def connection(self):
        if self.secured:
            context = ssl.create_default_context(cafile=self.ca)
            return http.client.HTTPSConnection("127.0.0.1", self.http_port, timeout=30, context=context)
        return http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)

    def headers(self, body=False):
        headers = {"Authorization": f"Bearer {TOKEN}"} if self.secured else {}
        if body:
            headers["Content-Type"] = "application/json"
        return headers

    def request(self, method, path, body=None, conn=None):
        own = conn is None
        conn = conn or self.connection()
        try:
            data = json.dumps(body) if body is not None else None
            conn.request(method, path, body=data, headers=self.headers(body is not None))
            response = conn.getresponse()
            raw = response.read()
            return response.status, (json.loads(raw) if raw else None)
        finally:
            if own:
                conn.close()

    def register_proplet(self, tasks):
        """Registers PROPLET over MQTT and starts `tasks` daemon tasks on it: the manager accepts samples
        only from a registered proplet for tasks running there (SPEC §2). Returns the task ids."""
        metadata = {"hostname": "bench", "os": "linux", "arch": "x86_64", "cpu_count": 4,
                    "total_memory_bytes": 8 << 30, "version": "bench", "wasm_runtime": "wasmkit"}
        for suffix, body in (("create", {"proplet_id": PROPLET, "name": "bench", "metadata": metadata}),
                             ("alive", {"proplet_id": PROPLET, "status": "alive", "running_tasks": tasks})):
            run(self.publish + ["-t", f"m/default/c/default/control/proplet/{PROPLET}/{suffix}", "-m",
                                json.dumps(body)])
        wait_for(lambda: (self.request("GET", f"/proplets/{PROPLET}")[1] or {}).get("metadata"), 20,
                 "the proplet's registration")
        ids = []
        for index in range(tasks):
            status, task = self.request("POST", "/tasks", {"name": f"b{index}", "file": "AGFzbQEAAAA=",
                                                           "daemon": True})
            status, _ = self.request("POST", f"/tasks/{task['id']}/start", {"proplet_id": PROPLET})
            if status != 200:
                raise SystemExit(f"start on {PROPLET}: HTTP {status}")
            ids.append(task["id"])
        return ids

    def stop(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()


def latency(stack, task_id):
    """Milliseconds per GET: p50/p95 on one keep-alive connection, and p50 with a new connection each."""
    conn = stack.connection()
    kept = []
    for index in range(REQUESTS):
        path = f"/tasks/{task_id}" if index % 2 else "/tasks?limit=100"
        started = time.perf_counter()
        status, _ = stack.request("GET", path, conn=conn)
        kept.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"GET {path}: {status}")
    conn.close()
    fresh = []
    for _ in range(REQUESTS // 5):
        started = time.perf_counter()
        stack.request("GET", f"/tasks/{task_id}")
        fresh.append((time.perf_counter() - started) * 1000)
    return statistics.median(kept), percentile(kept, 95), statistics.median(fresh)


def ingest(stack, task_ids):
    """Samples per second from the first publish until every sample is stored and visible in the API."""
    topic = "m/default/c/default/control/proplet/task_metrics"
    # One probe sample first: the flood starts only once the manager's subscription is in place.
    def probe_stored():
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1e6) % 1_000_000:06d}Z"
        probe = {"task_id": task_ids[0], "proplet_id": PROPLET, "metrics": {"cpu_percent": 1.0}, "timestamp": stamp}
        run(stack.publish + ["-t", topic, "-m", json.dumps(probe)])
        return stack.request("GET", f"/tasks/{task_ids[0]}/metrics?limit=1")[1]["total"] >= 1

    wait_for(probe_stored, 30, "the manager to store a probe sample")
    files = [os.path.join(stack.work, f"samples{p}.jsonl") for p in range(PUBLISHERS)]
    outputs = [open(path, "w") for path in files]
    start_us = int(time.time() * 1_000_000)
    for n in range(SAMPLES):
        secs, micros = divmod(start_us + n, 1_000_000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{micros:06d}Z"
        outputs[n % PUBLISHERS].write(json.dumps({
            "task_id": task_ids[n % len(task_ids)], "proplet_id": PROPLET,
            "metrics": {"cpu_percent": 23.5, "memory_bytes": 52428800, "memory_percent": 1.2,
                        "disk_read_bytes": 1048576, "disk_write_bytes": 524288, "uptime_seconds": 45,
                        "thread_count": 2, "file_descriptor_count": 8},
            "timestamp": stamp}, separators=(",", ":")) + "\n")
    for output in outputs:
        output.close()
    conn = [stack.connection()]

    def total():
        try:
            return sum(stack.request("GET", f"/tasks/{t}/metrics?limit=1", conn=conn[0])[1]["total"]
                       for t in task_ids)
        except (http.client.HTTPException, ConnectionError):
            # The manager closes a keep-alive connection idle for MANAGER_HTTP_IDLE_TIMEOUT (the flood).
            conn[0].close()
            conn[0] = stack.connection()
            return sum(stack.request("GET", f"/tasks/{t}/metrics?limit=1", conn=conn[0])[1]["total"]
                       for t in task_ids)

    baseline = total()  # the probe samples
    started = time.monotonic()
    publishers = [subprocess.Popen(stack.publish + ["-t", topic, "-l"], stdin=open(path)) for path in files]
    if any(p.wait() for p in publishers):
        raise SystemExit("mosquitto_pub failed")
    stored, last, progress = 0, time.monotonic(), time.monotonic()
    while stored < SAMPLES and time.monotonic() - progress < 15:
        now_stored = total() - baseline
        if now_stored > stored:
            stored, last, progress = now_stored, time.monotonic(), time.monotonic()
        time.sleep(0.05)
    conn[0].close()
    return stored, stored / max(last - started, 1e-9)


def main():
    work = tempfile.mkdtemp(prefix="propeller-security-bench-")
    stacks = []
    try:
        tls_files = certificates(work)
        results = {}
        for secured in (False, True):
            stack = Stack(work, secured, tls_files)
            stacks.append(stack)
            task_ids = stack.register_proplet(TASKS)
            results[secured] = latency(stack, task_ids[0]) + ingest(stack, task_ids)
            stack.stop()
        plain, secure = results[False], results[True]
        print("## Security overhead: TLS + passwords/ACL + API tokens vs plain\n")
        print(f"Command: `Benchmarks/security/run.sh` (SECURITY_BENCH_REQUESTS={REQUESTS}, "
              f"SECURITY_BENCH_SAMPLES={SAMPLES}, SECURITY_BENCH_TASKS={TASKS}); the manager from `{BIN_DIR}`, "
              "SQLite, one run. *Secured*: MQTT over TLS to a `propeller broker-config` listener (hashed passwords, "
              "SPEC §7 ACL), HTTPS with an RSA-2048 certificate, `Authorization: Bearer` checked against "
              "MANAGER_API_TOKENS_FILE. Latency alternates `GET /tasks?limit=100` and `GET /tasks/{id}` on one "
              "keep-alive connection; *new connection* opens one per `GET /tasks/{id}` (TCP, and the TLS "
              f"handshake when secured). Ingestion: {PUBLISHERS} `mosquitto_pub -l -q 1` publishers (with "
              "`--cafile -u -P` when secured), rate = samples ÷ time to the last sample visible in the API.\n")
        print("| measure | plain | secured | secured / plain |")
        print("|---|---|---|---|")
        rows = [("API p50, keep-alive (ms)", 0, "{:.2f}"), ("API p95, keep-alive (ms)", 1, "{:.2f}"),
                ("API p50, new connection (ms)", 2, "{:.2f}"), ("samples stored", 3, "{:,}"),
                ("ingestion (samples/s)", 4, "{:,.0f}")]
        for name, index, fmt in rows:
            ratio = secure[index] / plain[index] if plain[index] else float("nan")
            print(f"| {name} | {fmt.format(plain[index])} | {fmt.format(secure[index])} | **{ratio:.2f}** |")
        load = os.getloadavg()
        print(f"\nMachine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the "
              "end (shared with other builds: compare the two columns, not across runs).\n")
    finally:
        for stack in stacks:
            stack.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
