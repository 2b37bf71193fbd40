# CommandHall build, test and tooling entry points. `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := venv
MAKEFLAGS += --no-builtin-rules

VENV := .venv
VENV_PY := $(VENV)/bin/python
ARTIFACTS := test-artifacts
TEST_TIMEOUT ?= 300
PYTEST_ARGS ?=
DEMO_ARGS ?=

# python3.11 first; plain python3 only when it is 3.11 (pyproject pins >=3.11,<3.12).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || \
	{ python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null \
	  && command -v python3; })

# Stamps live inside the directories they describe, so deleting .venv or node_modules
# also forgets that they were installed.
PY_STAMP := $(VENV)/.commandhall-installed
NPM_STAMP := node_modules/.commandhall-installed
SOCKETIO_DIST := node_modules/socket.io-client/dist
LEAFLET_DIST := node_modules/leaflet/dist
VENDOR_JS := assets/vendor/socket.io.min.js assets/vendor/socket.io.min.js.map \
	assets/vendor/leaflet/leaflet.js

BENCHES := $(sort $(wildcard bench/bench_*.py))

.PHONY: help venv install demo test soak browser tools bench lint clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 12

venv: $(PY_STAMP) $(VENDOR_JS) ## the Python virtualenv, node_modules and assets/vendor
install: venv

$(PY_STAMP): pyproject.toml
	@if [[ ! -x $(VENV_PY) ]]; then \
		[[ -n "$(PYTHON)" ]] || { echo "make: Python 3.11 not found (set PYTHON=/path/to/python3.11)" >&2; exit 1; }; \
		echo "creating $(VENV) with $(PYTHON)"; \
		"$(PYTHON)" -m venv $(VENV); \
	fi
	@$(VENV_PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "make: $(VENV) is not Python 3.11; remove it with 'make distclean' and run make again" >&2; exit 1; }
	$(VENV_PY) -m pip install --quiet --upgrade pip
	$(VENV_PY) -m pip install --quiet -e '.[dev]'
	@touch $@

$(NPM_STAMP): package.json $(wildcard package-lock.json)
	@command -v npm >/dev/null || { echo "make: npm not found (Debian: apt-get install nodejs npm)" >&2; exit 1; }
	@if [[ -f package-lock.json ]]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	@touch $@

$(VENDOR_JS) &: $(NPM_STAMP)
	@mkdir -p assets/vendor
	cp $(SOCKETIO_DIST)/socket.io.min.js $(SOCKETIO_DIST)/socket.io.min.js.map assets/vendor/
	@# Leaflet for the phone pages (/field, /report), which are plain HTML, not Dash;
	@# dashboard/app.py tells Dash not to load anything under a "leaflet" directory.
	mkdir -p assets/vendor/leaflet
	cp -r $(LEAFLET_DIST)/leaflet.js $(LEAFLET_DIST)/leaflet.css $(LEAFLET_DIST)/images \
		assets/vendor/leaflet/

demo: venv ## run the embedded demo (DEMO_ARGS=... passes options)
	$(VENV)/bin/commandhall demo $(DEMO_ARGS)

# Exit code 5 means pytest collected nothing: say so, and fail like any other error.
test: venv browser tools ## run pytest (PYTEST_ARGS=... selects tests or adds flags)
	@mkdir -p $(ARTIFACTS)
	@$(VENV_PY) -m pytest -q --timeout=$(TEST_TIMEOUT) --junitxml=$(ARTIFACTS)/junit.xml \
		$(PYTEST_ARGS) || { rc=$$?; \
		if (( rc == 5 )); then echo "make test: pytest collected no tests; that is a failure" >&2; fi; \
		exit $$rc; }

SOAK_MINUTES ?= 10

# The soak is deselected from `make test` (pyproject addopts: -m 'not soak'); -m soak selects it.
soak: venv browser ## one wall against the busy demo for SOAK_MINUTES (10) minutes
	@mkdir -p $(ARTIFACTS)
	SOAK_MINUTES=$(SOAK_MINUTES) $(VENV_PY) -m pytest -q -s -m soak tests/soak $(PYTEST_ARGS)

browser: ## install Debian chromium, chromium-driver and fonts-noto-cjk if missing
	@bash scripts/ensure-browser.sh

tools: ## install Debian nginx, openssl and redis-server if missing (deployment tests)
	@bash scripts/ensure-tools.sh

bench: venv ## run every bench/bench_*.py
ifeq ($(BENCHES),)
	@echo "bench: nothing to run yet (no bench/bench_*.py)"
else
	@for bench in $(BENCHES); do echo "== $$bench"; $(VENV_PY) "$$bench"; done
endif

# Run both checkers even when the first complains, so one pass shows every problem.
lint: venv ## ruff and mypy, configured in pyproject.toml
	@status=0; \
	$(VENV)/bin/ruff check . || status=1; \
	$(VENV)/bin/mypy || status=1; \
	exit $$status

clean: ## remove caches, build output and test artifacts (keeps .venv and node_modules)
	rm -rf $(ARTIFACTS) build dist assets/vendor .pytest_cache .mypy_cache .ruff_cache *.egg-info
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o \
		-name __pycache__ -type d -exec rm -rf {} +

distclean: clean ## also remove .venv and node_modules
	rm -rf $(VENV) node_modules
