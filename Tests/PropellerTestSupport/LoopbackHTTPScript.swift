/// The Python (standard library only) source of ``LoopbackHTTPServer``: `server.py PORT files DIR` serves
/// `DIR/index.tsv` (path, content type, file); `server.py PORT gate UPSTREAM MODE USER PASSWORD` is an
/// authenticating proxy in front of a registry. Every request is logged as `REQ METHOD PATH STATUS`.
enum LoopbackHTTPScript {
    static let source = #"""
        import base64, http.client, json, os, re, signal, sys
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        # The test runner may start us with SIGTERM blocked: unblock it so stop() ends us at once.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        PORT = int(sys.argv[1])
        MODE = sys.argv[2]
        TOKEN = "test-token-" + os.urandom(8).hex()

        def load_files(directory):
            files = {}
            with open(os.path.join(directory, "index.tsv")) as index:
                for line in index.read().splitlines():
                    if not line:
                        continue
                    path, content_type, name = line.split("\t")
                    with open(os.path.join(directory, name), "rb") as f:
                        files[path] = (content_type, f.read())
            return files

        FILES = load_files(sys.argv[3]) if MODE == "files" else {}
        if MODE == "gate":
            UPSTREAM, AUTH, USER, PASSWORD = sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
            BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=()):
                print(f"REQ {self.command} {self.path} {status}", flush=True)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def handle_any(self):
                request_body = self.body()
                if self.path == "/__ready":
                    return self.reply(200, b"ready")
                if MODE == "files":
                    path = self.path.split("?")[0]
                    if path in FILES:
                        content_type, data = FILES[path]
                        return self.reply(200, data, [("Content-Type", content_type)])
                    return self.reply(404, b"<html>not found</html>", [("Content-Type", "text/html")])
                return self.gate(request_body)

            def gate(self, request_body):
                authorization = self.headers.get("Authorization", "")
                if AUTH == "bearer" and self.path.startswith("/token"):
                    if authorization != BASIC:
                        return self.reply(401, b'{"error":"bad credentials"}', [("Content-Type", "application/json")])
                    body = json.dumps({"token": TOKEN, "access_token": TOKEN}).encode()
                    return self.reply(200, body, [("Content-Type", "application/json")])
                expected = f"Bearer {TOKEN}" if AUTH == "bearer" else BASIC
                if authorization != expected:
                    match = re.match(r"^/v2/(.+)/(manifests|blobs|tags)/", self.path)
                    action = "pull" if self.command in ("GET", "HEAD") else "pull,push"
                    scope = f"repository:{match.group(1)}:{action}" if match else "registry:catalog:*"
                    if AUTH == "bearer":
                        challenge = (f'Bearer realm="http://127.0.0.1:{PORT}/token",'
                                     f'service="test-registry",scope="{scope}"')
                    else:
                        challenge = 'Basic realm="test-registry"'
                    body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
                    return self.reply(401, body, [("WWW-Authenticate", challenge),
                                                  ("Content-Type", "application/json")])
                connection = http.client.HTTPConnection(UPSTREAM, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("authorization", "connection")}
                connection.request(self.command, self.path, body=request_body or None, headers=headers)
                response = connection.getresponse()
                data = response.read()
                passed = [(k, v) for k, v in response.getheaders()
                          if k.lower() not in ("content-length", "transfer-encoding", "connection")]
                connection.close()
                self.reply(response.status, data, passed)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
        """#
}
