"""Validates docs/openapi.yaml and checks a live manager's responses against it.

Usage: python check_live.py OPENAPI_YAML MANAGER_URL ADD_WASM_BASE64
Exits non-zero with a message naming the endpoint and the schema violation on the first mismatch.
Run by the Swift integration test `OpenAPITests` against a live `propeller dev`.
"""
import base64
import json
import sys
import time
import urllib.error
import urllib.request

import jsonschema
import yaml
from openapi_spec_validator import validate as validate_spec


def request(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return resp.status, dict(resp.headers), raw
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def main():
    spec_path, base, add_wasm = sys.argv[1], sys.argv[2], sys.argv[3]
    spec = yaml.safe_load(open(spec_path))
    validate_spec(spec)
    checked = []

    def check(method, template, path, body=None, expect=None):
        status, headers, raw = request(base, method, path, body)
        operation = spec["paths"][template][method.lower()]
        responses = operation["responses"]
        key = str(status)
        if key not in responses:
            sys.exit(f"{method} {path}: status {status} is not documented for {template} ({sorted(responses)})")
        if expect is not None and status != expect:
            sys.exit(f"{method} {path}: expected {expect}, got {status}: {raw[:300]!r}")
        response = responses[key]
        if "$ref" in response:
            response = spec["components"]["responses"][response["$ref"].split("/")[-1]]
        content = response.get("content", {})
        if "application/json" in content:
            schema = dict(content["application/json"]["schema"])
            schema["components"] = spec["components"]
            try:
                value = json.loads(raw)
            except ValueError:
                sys.exit(f"{method} {path}: {status} body is not JSON: {raw[:200]!r}")
            try:
                jsonschema.validate(value, schema, cls=jsonschema.Draft202012Validator)
            except jsonschema.ValidationError as err:
                sys.exit(f"{method} {path}: {status} body does not match the spec: {err.message} at {list(err.absolute_path)}")
            checked.append(f"{method} {template} {status}")
            return value, headers
        checked.append(f"{method} {template} {status}")
        return raw, headers

    check("GET", "/health", "/health", expect=200)
    check("GET", "/metrics", "/metrics", expect=200)
    task, headers = check("POST", "/tasks", "/tasks", {"name": "add", "file": add_wasm, "inputs": [2, 3]}, expect=201)
    location = headers.get("Location") or headers.get("location")
    if location != f"/tasks/{task['id']}":
        sys.exit(f"POST /tasks: Location is {location!r}, expected /tasks/{task['id']}")
    tid = task["id"]
    check("GET", "/tasks", "/tasks?limit=5", expect=200)
    check("GET", "/tasks/{id}", f"/tasks/{tid}", expect=200)
    module, _ = check("GET", "/tasks/{id}/module", f"/tasks/{tid}/module", expect=200)
    if base64.b64encode(module).decode() != add_wasm:
        sys.exit(f"GET /tasks/{tid}/module: {len(module)} bytes, not the uploaded module")
    check("POST", "/tasks/{id}/start", f"/tasks/{tid}/start", {}, expect=200)
    for _ in range(100):
        results, _ = check("GET", "/tasks/{id}/results", f"/tasks/{tid}/results", expect=200)
        if results["state"] != "running":
            break
        time.sleep(0.1)
    if results["results"] != "5":
        sys.exit(f"add(2, 3) returned {results!r}")
    for _ in range(50):
        page, _ = check("GET", "/tasks/{id}/metrics", f"/tasks/{tid}/metrics", expect=200)
        if page["total"] >= 1:
            break
        time.sleep(0.1)
    check("GET", "/tasks/{id}/metrics", f"/tasks/{tid}/metrics?order=desc&limit=1&from=2000-01-01T00:00:00Z", expect=200)
    proplets, _ = check("GET", "/proplets", "/proplets", expect=200)
    pid = proplets["proplets"][0]["id"]
    check("GET", "/proplets/{id}", f"/proplets/{pid}", expect=200)
    check("GET", "/proplets/{id}/metrics", f"/proplets/{pid}/metrics?limit=3", expect=200)
    # documented errors
    check("GET", "/tasks/{id}", "/tasks/00000000-0000-0000-0000-000000000000", expect=404)
    check("GET", "/tasks", "/tasks?limit=0", expect=400)
    check("POST", "/tasks", "/tasks", {"name": "add", "file": add_wasm, "monitoring_profile": "turbo"}, expect=400)
    check("GET", "/tasks/{id}/metrics", f"/tasks/{tid}/metrics?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z", expect=400)
    check("GET", "/proplets/{id}", "/proplets/no-such-proplet", expect=404)
    check("POST", "/tasks/{id}/stop", f"/tasks/{tid}/stop", {}, expect=409)
    check("DELETE", "/proplets/{id}", "/proplets/no-such-proplet", expect=404)
    check("GET", "/proplets/{id}/metrics", "/proplets/no-such-proplet/metrics", expect=404)
    check("DELETE", "/tasks/{id}", f"/tasks/{tid}", expect=204)
    print("\n".join(checked))
    print(f"{len(checked)} responses match docs/openapi.yaml")


if __name__ == "__main__":
    main()
