# One entry point for setup, serving, testing and benchmarking. Every target creates
# what it needs on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two installs: serving needs the runtime dependencies only (`pip install -e .`); linting,
# tests and benchmarks add the `test` and `load` extras. Each stamp is redone when
# pyproject.toml changes.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
KEYS_DIR ?= var/keys
export DCC_KEYS_DIR ?= $(KEYS_DIR)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
PIP_QUIET := 2>&1 | grep -v '^WARNING: Location' || true

.PHONY: run test lint fmt bench surge clean system-deps fuzz

$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip $(PIP_QUIET)
	$(BIN)/pip install -q -e . $(PIP_QUIET)
	$(BIN)/python -c "import api.app, cli, fastapi_offline, zxingcpp"
	touch $@

$(DEV_STAMP): $(RUN_STAMP)
	$(BIN)/pip install -q -e '.[test,load]' $(PIP_QUIET)
	$(BIN)/python -c "import pytest, playwright, cose, mypy, ruff, locust"
	touch $@

# Debian packages the tests need: redis-server (tests start their own), postgresql (tests
# start their own clusters with its initdb/postgres), chromium (the pages' end-to-end tests,
# driven by Playwright; no browser download), DejaVu fonts (the PDF), wrk (HTTP benchmarks),
# haproxy (three replicas behind a balancer; `haproxy -c` on deploy/haproxy.cfg).
# Installed only when missing.
SYSTEM_PACKAGES := redis-server chromium wrk curl haproxy  # each package installs the command of its name
FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
# SoftHSM2: the PKCS#11 token of the HSM tests (tests/signing/test_pkcs11.py and others).
SOFTHSM_MODULE := /usr/lib/softhsm/libsofthsm2.so

system-deps:
	@missing=""; \
	for package in $(SYSTEM_PACKAGES); do \
	  command -v $$package >/dev/null 2>&1 || missing="$$missing $$package"; \
	done; \
	test -f $(FONT) || missing="$$missing fonts-dejavu-core"; \
	test -f $(SOFTHSM_MODULE) || missing="$$missing softhsm2"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# The real OpenID provider the login tests start (panva's oidc-provider, tests/oidc): npm ci
# installs the locked packages, again whenever the lock file changes. Needs node >= 20 + npm.
OIDC_STAMP := tests/oidc/node_modules/.installed

$(OIDC_STAMP): tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: $(RUN_STAMP)
	@test -f $(DCC_KEYS_DIR)/dsc.pem || $(BIN)/dcc keys init --dir $(DCC_KEYS_DIR)
	@$(BIN)/dcc db upgrade
	@$(BIN)/dcc accounts ensure-dev
	$(BIN)/dcc serve --host 127.0.0.1 --port 8000

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# -rfEs: the summary names every failure, error and skip reason (identical reasons from one
# place are grouped, e.g. the tests that need ../shared or a Debian package).
test: $(DEV_STAMP) system-deps $(OIDC_STAMP) lint
	$(BIN)/pytest -q -rfEs

# Benchmarks: in-process stages and HTTP against baselines measured in the same run (~3 min).
bench: $(DEV_STAMP) system-deps
	$(BIN)/python -m loadtests.bench --http --out var/bench/results.md

# The July-2021 surge: locust against dcc serve (2 workers, Redis); CSV + chart (~5 min).
# `make surge SURGE_ARGS=--cluster`: against 3 replicas behind HAProxy with PostgreSQL;
# `make surge SURGE_ARGS="--server granian"`: dcc serve under another ASGI server.
SURGE_ARGS ?=
surge: $(DEV_STAMP) system-deps
	$(BIN)/python -m loadtests.surge --out var/surge $(SURGE_ARGS)

# A long fuzz campaign of verifier.verify (loadtests/fuzz; FUZZ_MINUTES each, 10 by default):
# atheris (coverage-guided libFuzzer; final stats: executions, peak RSS, slowest input), then
# our seeded mutator (inputs, findings, slowest input, peak RSS). FUZZ_SEED sets both seeds.
FUZZ_MINUTES ?= 10
FUZZ_SEED ?= 2021
fuzz: $(DEV_STAMP)
	$(BIN)/python -m loadtests.fuzz.coverage_guided -max_total_time=$$(( $(FUZZ_MINUTES) * 60 )) -seed=$(FUZZ_SEED)
	$(BIN)/python -m loadtests.fuzz --minutes $(FUZZ_MINUTES) --seed $(FUZZ_SEED)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
