# Offline build plumbing for the marketplace. How it works: docs/toolchain.md.
#   make setup   venv + npm packages + solc shim + brownie home (fast when nothing changed)
#   make test    setup, build, check, then the tests (what CI runs through .ci/run)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

ROOT := $(CURDIR)
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
CACHE := $(ROOT)/.cache
PYTHON ?= python3
SOLC_VERSION := 0.8.37

# The shim comes first: .venv/bin holds solc-select's `solc`, which would try to download.
export PATH := $(CACHE)/bin:$(ROOT)/node_modules/.bin:$(VENV)/bin:$(PATH)
export SOLCX_BINARY_PATH := $(CACHE)/solcx

# brownie writes under $HOME (~/.brownie, networks); keep it inside the repo.
BROWNIE_HOME := $(CACHE)/brownie-home
BROWNIE := HOME=$(BROWNIE_HOME) $(VENV)/bin/brownie
BROWNIE_PORT ?= 8546
BROWNIE_NETWORK ?= development

PYTEST_ARGS ?=
BENCH_SECTIONS := gas reputation indexer audit matching personalization http reliability language

STAMP_PIP := $(VENV)/.stamp-requirements
STAMP_EDITABLE := $(VENV)/.stamp-editable
STAMP_NPM := node_modules/.stamp-npm
STAMP_SHIM := $(CACHE)/.stamp-shim
STAMP_BROWNIE := $(BROWNIE_HOME)/.stamp-port-$(BROWNIE_PORT)
# schemathesis needs a newer hypothesis than eth-brownie's pin: a venv of its own, which only
# speaks HTTP to a live app (tests/support/api_schemathesis.py finds it here).
SCHEMATHESIS_VENV := $(CACHE)/schemathesis-venv
STAMP_SCHEMATHESIS := $(SCHEMATHESIS_VENV)/.stamp-lock

# Fails the recipe when pytest (or brownie test) collected nothing: exit status 5.
define no_tests_is_failure
status=0; $(1) || status=$$?; \
if [ $$status -eq 5 ]; then echo "$(2): no tests were collected; failing" >&2; exit 1; fi; \
exit $$status
endef

.PHONY: help setup chromium build check test fuzz bench run clean distclean \
	brownie-compile brownie-test brownie-deploy forge-test bench-reliability-deep schemathesis \
	$(addprefix bench-,$(BENCH_SECTIONS))

help:
	@echo "targets: setup build check test fuzz bench run clean distclean"
	@echo "         brownie-compile brownie-test brownie-deploy forge-test schemathesis"

# ------------------------------------------------------------------ setup

setup: $(STAMP_EDITABLE) $(STAMP_SHIM) $(STAMP_BROWNIE)
	@echo "setup: ok"

$(PY):
	@echo "setup: creating .venv"
	$(PYTHON) -m venv $(VENV)

$(STAMP_PIP): requirements.lock | $(PY)
	@echo "setup: pip install -r requirements.lock"
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $@

$(STAMP_EDITABLE): pyproject.toml $(STAMP_PIP)
	@echo "setup: pip install --no-deps -e ."
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# `npm ci` installs exactly the lock and never rewrites it, so a fresh clone stays clean. The lock
# lists every platform's optional anvil/forge package (npm only installs the one that matches).
$(STAMP_NPM): package.json package-lock.json
	@echo "setup: npm ci"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# solc-v0.8.37 for py-solc-x/brownie, solc for forge/slither; anvil and forge as their real
# binaries (the node wrappers forward only some signals). Running --version warms the
# shim's caches in node_modules/.cache/solc-shim.
$(STAMP_SHIM): tools/solc-shim.js $(STAMP_NPM)
	@echo "setup: installing the solc shim in .cache/"
	@mkdir -p $(CACHE)/bin $(CACHE)/solcx
	@chmod +x tools/solc-shim.js
	@ln -sfn ../../tools/solc-shim.js $(CACHE)/solcx/solc-v$(SOLC_VERSION)
	@ln -sfn ../../tools/solc-shim.js $(CACHE)/bin/solc
	@for tool in anvil forge; do \
		real=$$(ls node_modules/@foundry-rs/$$tool-*/bin/$$tool 2>/dev/null | head -n 1); \
		ln -sfn "$(ROOT)/$${real:-node_modules/.bin/$$tool}" $(CACHE)/bin/$$tool; \
	done
	$(CACHE)/bin/solc --version | tail -n 1
	@touch $@

$(STAMP_BROWNIE): $(STAMP_PIP) $(STAMP_SHIM)
	@echo "setup: brownie development network -> anvil on port $(BROWNIE_PORT)"
	@mkdir -p $(BROWNIE_HOME)
	@rm -f $(BROWNIE_HOME)/.stamp-port-*
	$(BROWNIE) networks modify development port=$(BROWNIE_PORT) >/dev/null
	@touch $@

schemathesis: $(STAMP_SCHEMATHESIS)

$(STAMP_SCHEMATHESIS): tools/schemathesis.lock
	@echo "setup: schemathesis venv from tools/schemathesis.lock"
	@rm -rf $(SCHEMATHESIS_VENV)
	$(PYTHON) -m venv $(SCHEMATHESIS_VENV)
	$(SCHEMATHESIS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		--no-deps -r tools/schemathesis.lock
	@touch $@

# ------------------------------------------------------------------ build and checks

build: setup
	$(PY) -m marketplace.build

check: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) -m marketplace.build --emit-input $(CACHE)/slither/input.json
	$(VENV)/bin/slither $(CACHE)/slither/input.json --config-file slither.config.json

# ------------------------------------------------------------------ tests

# Browser tests need Debian's chromium (Playwright's own browser download cannot work offline).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "setup: apt-get install chromium chromium-driver"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
		else echo "chromium missing: sudo apt-get install -y chromium chromium-driver" >&2; exit 1; fi; fi

# forge and the contract suite first, the Python suite last: its closing line is the summary.
test: setup schemathesis chromium build check
	@if [ -n "$$(find tests/invariant -name '*.sol' 2>/dev/null | head -n 1)" ]; then \
		$(MAKE) forge-test; fi
	@if [ -d tests/contracts ]; then $(MAKE) brownie-test; fi
	@echo "test: pytest"
	@$(call no_tests_is_failure,$(VENV)/bin/pytest tests --ignore=tests/contracts $(PYTEST_ARGS),pytest)

forge-test: setup
	forge test

fuzz: setup
	FOUNDRY_PROFILE=deep forge test

brownie-compile: setup
	$(BROWNIE) compile

# brownie test loads its pytest plugin itself; drop the addopts that turn it off for plain pytest.
brownie-test: setup
	@if (exec 3<>/dev/tcp/127.0.0.1/$(BROWNIE_PORT)) 2>/dev/null; then \
		echo "brownie-test: port $(BROWNIE_PORT) is busy; brownie would attach to that node." \
		"Use BROWNIE_PORT=<free port>" >&2; exit 1; fi
	@$(call no_tests_is_failure,$(BROWNIE) test tests/contracts -o addopts=-ra $(PYTEST_ARGS),brownie test)

brownie-deploy: setup build
	$(BROWNIE) run scripts/deploy.py --network $(BROWNIE_NETWORK)

# ------------------------------------------------------------------ bench and run

# Every section runs even when an earlier one misses a target; the exit status reports any miss.
bench: setup build
	@status=0; for section in $(BENCH_SECTIONS); do \
		$(MAKE) bench-$$section || status=1; done; \
	echo "bench: results in bench/results.json"; exit $$status

bench-gas: setup build
	$(PY) -m bench.gas

# A search over reputation-farming strategies on anvil (what a 4.5-star score costs).
bench-reputation: setup build
	$(PY) -m bench.reputation

bench-indexer: setup build
	$(PY) -m bench.indexer

bench-audit: setup build
	$(PY) -m bench.audit

bench-http: setup build
	$(PY) -m bench.http

# Fast profile; `make bench-reliability-deep` runs 10 min of load and 1,000,000 forge calls.
bench-reliability: setup schemathesis build
	$(PY) -m bench.reliability

bench-reliability-deep: setup schemathesis build
	$(PY) -m bench.reliability --deep

bench-matching: setup
	$(PY) -m bench.matching

bench-personalization: setup
	$(PY) -m bench.personalization

bench-language: setup
	$(PY) -m bench.language

run: setup build
	$(PY) -m marketplace.devrun

# ------------------------------------------------------------------ cleaning

clean:
	rm -rf artifacts build out reports $(CACHE)/forge $(CACHE)/slither \
		.pytest_cache .mypy_cache .ruff_cache .hypothesis bench/*.tmp
	find . -name __pycache__ -not -path "./node_modules/*" -not -path "./.venv/*" \
		-prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(CACHE) node_modules/.cache $(STAMP_NPM)
