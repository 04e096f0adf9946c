"""Helpers shared by the Python benchmarks (delivery, ingest, postgres-ingest): HTTP, ports, CPU time,
waiting, and a local Mosquitto and `propeller manager` for the delivery benchmarks."""
import json
import os
import re
import socket
import subprocess
import time
import urllib.request

BIN_DIR = os.environ["PROPELLER_BIN_DIR"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def registered(url):
    """The proplet at `url` has its metadata (False while it is unknown: 404)."""
    try:
        return bool(http(url).get("metadata"))
    except OSError:
        return False


def cpu_seconds(pid):
    """user + system CPU time of a process, from /proc/[pid]/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise SystemExit(f"timed out waiting for {what}")


def start_broker(work, procs):
    port = free_port()
    conf = os.path.join(work, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
                "max_queued_bytes 0\nmax_inflight_messages 0\npersistence false\nuser root\n")
    broker = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(broker)

    def up():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    wait_for(up, 10, "mosquitto")
    return port


def start_manager(work, port, procs):
    """Starts `propeller manager` (SQLite) and returns (process, base URL)."""
    log_path = os.path.join(work, "manager.log")
    env = dict(os.environ, MANAGER_HTTP_PORT="0", MANAGER_STORAGE="sqlite",
               MANAGER_DB_PATH=os.path.join(work, "propeller.db"), PROPELLER_MQTT_URL=f"mqtt://127.0.0.1:{port}")
    log = open(log_path, "w")
    manager = subprocess.Popen([os.path.join(BIN_DIR, "propeller"), "manager"], env=env, stdout=log,
                               stderr=subprocess.STDOUT, cwd=work)
    procs.append(manager)

    def listening():
        match = re.search(r"manager listening.*?http\.port=(\d+)|http\.port=(\d+).*manager listening",
                          open(log_path).read())
        return match and int(match.group(1) or match.group(2))

    base = f"http://127.0.0.1:{wait_for(listening, 30, 'the manager to listen')}"
    wait_for(lambda: http(base + "/health")["status"] == "ok", 10, "/health")
    return manager, base


def stop_all(procs):
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
