"""Drives headless Chromium over the DevTools protocol: opens a URL, waits, evaluates JavaScript
expressions in the page, optionally saves a screenshot, and prints one JSON object with the values.

usage: page_check.py CHROMIUM URL SECONDS SCREENSHOT_PATH EXPR_JSON
  EXPR_JSON maps names to JavaScript expressions evaluated after SECONDS (results must be JSON-able).
  Values are also sampled once per second into "<name>@t" lists, so a caller can see them change.
"""
import base64, json, os, shutil, subprocess, sys, tempfile, time, urllib.request

import websocket  # websocket-client (PY_PACKAGES in the Makefile)


def main():
    chromium, url, seconds, shot, exprs = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5])
    profile = tempfile.mkdtemp(prefix="propeller-chromium-")
    browser = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-extensions", "--disable-background-networking", "--remote-debugging-port=0",
         "--remote-debugging-address=127.0.0.1", "--window-size=1280,900", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if time.time() > deadline or browser.poll() is not None:
                raise SystemExit("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
        page = next(t for t in targets if t.get("type") == "page")
        ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
        counter = [0]

        def call(method, **params):
            counter[0] += 1
            ws.send(json.dumps({"id": counter[0], "method": method, "params": params}))
            while True:
                message = json.loads(ws.recv())
                if message.get("id") == counter[0]:
                    if "error" in message:
                        raise SystemExit(f"{method}: {message['error']}")
                    return message.get("result", {})

        def evaluate(expression):
            result = call("Runtime.evaluate", expression=expression, returnByValue=True)
            if "exceptionDetails" in result:
                return {"exception": result["exceptionDetails"].get("text")}
            return result.get("result", {}).get("value")

        call("Page.enable")
        call("Runtime.enable")
        call("Page.navigate", url=url)
        output = {name + "@t": [] for name in exprs}
        start = time.time()
        while time.time() - start < seconds:
            time.sleep(1)
            for name, expression in exprs.items():
                output[name + "@t"].append(evaluate(expression))
        for name, expression in exprs.items():
            output[name] = evaluate(expression)
        if shot != "-":
            data = call("Page.captureScreenshot", format="png")["data"]
            with open(shot, "wb") as file:
                file.write(base64.b64decode(data))
        print(json.dumps(output))
        ws.close()
    finally:
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
