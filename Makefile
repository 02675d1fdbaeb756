# Sidedesk: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

SETUP := scripts/setup-machine.sh

.PHONY: proto venv test lint typecheck unit integration e2e js schema demo demo-screenshots soak bench bench-smoke package clean setup-demo setup-test

# What this machine lacks for the demo / the tests (Chromium, Xvfb, xdotool, Node.js, npm,
# python3-venv), installed with apt-get on Debian/Ubuntu; elsewhere the exact command to run.
setup-demo:
	@PY=$(PY) $(SETUP) demo

setup-test:
	@PY=$(PY) $(SETUP) test

$(STAMP): pyproject.toml
	@PY=$(PY) $(SETUP) venv
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,bench]'
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check host tests bench build
	$(BIN)/ruff format --check host tests bench build

# The service, its endpoint and the proxy also type-check as Windows code (they run there unverified).
typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy --platform win32 host/sidedesk/service host/sidedesk/native/proxy.py host/sidedesk/main.py \
		host/sidedesk/service_cli.py host/sidedesk/install/service_state.py

schema: $(STAMP)
	$(BIN)/python -m sidedesk.api.schema_export --write

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/pytest -q tests/integration

e2e: setup-test $(STAMP)
	$(BIN)/pytest -q tests/e2e

# The extension's JavaScript unit tests (node's test runner, happy-dom for the DOM modules).
js: setup-test
	node --test tests/js/

# Everything CI runs: style, types, then every test (unit, integration, real-Chromium e2e), on two
# workers (JOBS=N for another count), each test file whole on one worker, in a random order (the
# seed is printed; `--randomly-seed=N` replays it), each test bounded by `timeout` in pyproject.toml.
test: setup-test lint typecheck
	$(BIN)/pytest -q -n $(or $(JOBS),2) --dist loadfile tests

# The frozen host (PyInstaller onedir) and the release archive + store-ready extension zip.
package: $(STAMP)
	$(BIN)/python build/package.py --out build/out

# A working desk on the offline Binance simulator: Chromium opens with the panel (Ctrl-C stops it).
# `make demo ARGS="--headless --out demo-out"` runs the scripted session instead.
demo: setup-demo $(STAMP)
	$(BIN)/sidedesk demo $(ARGS)

# Regenerate the README screenshots from the headless demo.
demo-screenshots: setup-demo $(STAMP)
	$(BIN)/sidedesk demo --headless --out build/out/demo
	cp build/out/demo/panel.png build/out/demo/positions.png build/out/demo/action-bar.png docs/screenshots/

# Benchmarks against peers, side by side (about 5 minutes); bench-smoke checks the same paths quickly.
bench: $(STAMP)
	test -x build/out/dist/sidedesk/sidedesk || $(BIN)/python build/package.py --out build/out
	$(BIN)/python -m bench.run

bench-smoke: $(STAMP)
	$(BIN)/python -m bench.run --smoke --out bench/out-smoke

# The fault-injection soak: N seeded scenarios (default 100) with every fault kind.
soak: $(STAMP)
	$(BIN)/python -m tests.soak.run --scenarios $(or $(N),100) --seed $(or $(SEED),1) --jobs $(or $(JOBS),2)

# Regenerate the Volumetrica protobuf module from our own proto/volumetrica.proto.
proto: $(STAMP)
	$(BIN)/python build/gen_proto.py

clean:
	rm -rf $(VENV) node_modules build/out build/work dist .pytest_cache .mypy_cache .ruff_cache
