"""Operator benchmarks; see run.sh. usage: bench.py BIN_DIR RUNS PAGE_SECONDS"""
import json, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "web"))
import websocket  # websocket-client (PY_PACKAGES in the Makefile)

STEPS = [("broker", "starting Mosquitto"), ("manager", "starting the manager"), ("proplet", "starting a proplet"),
         ("task created", " created; waiting"), ("task started", " started (profile"), ("first sample", "  cpu ")]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dev_stack(argv, data_dir):
    """Starts a command in its own session; returns (process, iterator of (seconds, line))."""
    start = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True, cwd=os.getcwd())
    return process, ((time.monotonic() - start, line.rstrip()) for line in process.stdout)


def stop(process):
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def make_run_once():
    data = tempfile.mkdtemp(prefix="propeller-bench-run-")
    args = f"--http-port {free_port()} --mqtt-port {free_port()} --data-dir {data}"
    process, lines = dev_stack(["make", "-s", "run", f"RUN_ARGS={args}"], data)
    seen = {}
    try:
        for seconds, line in lines:
            for name, marker in STEPS:
                if name not in seen and marker in line:
                    seen[name] = seconds
            if "first sample" in seen or seconds > 60:
                break
    finally:
        stop(process)
        shutil.rmtree(data, ignore_errors=True)
    return seen


def page_network(bin_dir, seconds):
    """Bytes the task page receives while it shows the demo task for `seconds`."""
    data = tempfile.mkdtemp(prefix="propeller-bench-page-")
    http = free_port()
    process, lines = dev_stack([os.path.join(bin_dir, "propeller"), "dev", "--demo", "--http-port", str(http),
                                "--mqtt-port", str(free_port()), "--data-dir", data], data)
    task_id = None
    for _, line in lines:
        match = re.search(r"demo task ([0-9a-f-]{36}) started", line)
        if match:
            task_id = match.group(1)
            break
    profile = tempfile.mkdtemp(prefix="propeller-bench-chromium-")
    browser = subprocess.Popen(
        ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--disable-extensions", "--disable-background-networking", "--remote-debugging-port=0",
         "--remote-debugging-address=127.0.0.1", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if time.time() > deadline:
                raise SystemExit("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        target = next(t for t in json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
                      if t.get("type") == "page")
        ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=5)
        ws.send(json.dumps({"id": 1, "method": "Network.enable", "params": {}}))
        ws.send(json.dumps({"id": 2, "method": "Page.navigate",
                            "params": {"url": f"http://127.0.0.1:{http}/#/tasks/{task_id}"}}))
        received, requests, start = 0, 0, time.time()
        while time.time() - start < seconds:
            try:
                message = json.loads(ws.recv())
            except websocket.WebSocketTimeoutException:
                continue
            method = message.get("method")
            if method == "Network.dataReceived":
                received += message["params"].get("encodedDataLength", 0) or message["params"].get("dataLength", 0)
            elif method == "Network.requestWillBeSent":
                requests += 1
        ws.close()
        return received, requests
    finally:
        browser.terminate()
        browser.wait(10)
        shutil.rmtree(profile, ignore_errors=True)
        stop(process)
        shutil.rmtree(data, ignore_errors=True)


def main():
    bin_dir, runs, page_seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    results = [make_run_once() for _ in range(runs)]
    print("## `make run` to the first sample, and the web page's network cost\n")
    print(f"`make run` on a built tree (debug), {runs} runs, seconds from `make` starting to each line it prints"
          " (median, min–max):\n")
    print("| step | median s | min–max s |")
    print("|---|---|---|")
    for name, _ in STEPS:
        values = [r[name] for r in results if name in r]
        if values:
            print(f"| {name} | {statistics.median(values):.2f} | {min(values):.2f}–{max(values):.2f} |")
        else:
            print(f"| {name} | not reached | |")
    firsts = [r.get("first sample") for r in results]
    ok = all(v is not None and v <= 3 for v in firsts)
    print(f"\nTarget ≤ 3 s to the first sample: {'met' if ok else 'NOT met'}.\n")
    received, requests = page_network(bin_dir, page_seconds)
    per_minute = received * 60 / page_seconds
    print(f"The task page of the demo task (`intensive`, one sample a second) open in headless Chromium for"
          f" {page_seconds} s: {received} bytes received in {requests} requests (page files, one list"
          f" request, the event stream), ≈ {per_minute / 1024:.1f} KiB per minute.")


if __name__ == "__main__":
    main()
