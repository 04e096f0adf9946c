"""HTTP latency of GET /tasks/{id}/metrics against a real `propeller manager` on a filled SQLite file.

Usage: http_latency.py PROPELLER_BINARY DATABASE TASKS SAMPLES_PER_TASK
Starts the manager on a free loopback port (no broker needed: the API works while MQTT retries), then
times `?limit=100` and a 1-hour range for 300 random tasks over one keep-alive connection, and prints a
Markdown section. Retention is switched off so the (old) benchmark samples stay.
"""
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def main():
    binary, database, tasks, per_task = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    port = free_port()
    env = dict(os.environ, MANAGER_HTTP_PORT=str(port), MANAGER_DB_PATH=database,
               MANAGER_RETENTION_MAX_AGE="0", PROPELLER_MQTT_URL=f"mqtt://127.0.0.1:{free_port()}")
    log = open(database + ".manager.log", "w")
    manager = subprocess.Popen([binary, "manager"], env=env, stdout=log, stderr=log)
    try:
        conn = None
        for _ in range(300):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/health")
                if conn.getresponse().read() and True:
                    break
            except OSError:
                time.sleep(0.1)
        start_us = 1_736_935_200_000_000
        span_s = per_task * 10
        rng = random.Random(7)
        ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(tasks)]
        results = {}
        for name in ("limit=100", "limit=100, 1-hour range"):
            times = []
            for _ in range(300):
                task = rng.choice(ids)
                path = f"/tasks/{task}/metrics?limit=100"
                if "range" in name:
                    offset = rng.randint(0, max(0, span_s - 3600))
                    begin = start_us // 1_000_000 + offset
                    fmt = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
                    path += f"&from={fmt(begin)}&to={fmt(begin + 3600)}"
                began = time.perf_counter()
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                times.append((time.perf_counter() - began) * 1000)
                if response.status != 200:
                    sys.exit(f"{path}: HTTP {response.status} {body[:200]!r}")
            results[name] = times
        print(f"## HTTP query latency (`GET /tasks/{{id}}/metrics`, real `propeller manager`, same SQLite file)")
        print()
        print("Command: `make bench` (Benchmarks/query/run.sh → http_latency.py), 300 random tasks per row, one")
        print("keep-alive connection, release build. Each request pages 100 samples and aggregates every sample")
        print("of the task in the range (avg, max, p50, p95, totals).")
        print()
        print("| request | p50 ms | p99 ms | target p99 |")
        print("|---|---:|---:|---:|")
        for name, times in results.items():
            p99 = percentile(times, 99)
            verdict = "met" if p99 < 10 else "missed"
            print(f"| {name} | {statistics.median(times):.2f} | {p99:.2f} | < 10 ms ({verdict}) |")
        print()
    finally:
        manager.terminate()
        manager.wait(timeout=20)


if __name__ == "__main__":
    main()
