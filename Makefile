# Rete build tooling. Needs only GNU make and Python >= 3.11.
#   make test           create .venv from requirements.lock, run the tests
#   make check          lint, typecheck, layers, test
#   make PYTHON=python3.11 test   choose the interpreter used to create .venv

PYTHON ?= python3
VENV = .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed
# Four workers on two cores: a fifth of the suite's time is spent waiting on
# purpose (outages, SIGKILLs, slow clients, servers starting), which the extra
# workers fill; the tests that wait are spread over the run (tests/conftest.py).
# Idle, 2 cores: 3 min 14 s with three, 2 min 55 s with four, 3 min 03 s with
# five. PYTEST_ARGS="-n 0" for a serial run.
PYTEST_ARGS ?= -n 4

# Python's bytecode cache, whatever the environment says: with
# PYTHONDONTWRITEBYTECODE set, every test worker rewrites every test module's
# assertions again at each run (seconds of CPU per worker).
unexport PYTHONDONTWRITEBYTECODE

.DEFAULT_GOAL := test

.PHONY: install run test lint typecheck layers check bench bench-full demo lock clean python-version faults conformance load

# Fails early, with a clear message, when $(PYTHON) is missing or older than 3.11.
CHECK_PYTHON = $(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || { \
	  echo "error: Rete needs Python >= 3.11, but PYTHON=$(PYTHON) is" \
	    "$$($(PYTHON) --version 2>/dev/null || echo 'not found')." >&2; \
	  echo "       Choose another interpreter, e.g. 'make PYTHON=python3.11 $(or $(MAKECMDGOALS),test)'." >&2; \
	  exit 1; }

python-version:
	@$(CHECK_PYTHON)

$(STAMP): requirements.lock pyproject.toml
	@$(CHECK_PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/rete serve

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

check: lint typecheck layers test

bench: $(STAMP)
	$(BIN)/python -m bench

bench-full: $(STAMP)
	$(BIN)/python -m bench --full

# 20 SIGKILLs under concurrent writes per backend, every write accounted for
# (docs/RELIABILITY.md).
faults: $(STAMP)
	$(BIN)/python -m bench.faults --kills 20 --backend both

# 50 clients of different services against rete serve and against a fixed-JSON
# Litestar handler, both backends; and the replay of a case of 1,000 events
# (docs/PERFORMANCE.md, "HTTP under 50 clients").
load: $(STAMP)
	$(BIN)/python -m bench.load --backend both --clients 50 --seconds 30

# schemathesis, every check and phase, >= 5,000 requests per backend (issue 12).
conformance: $(STAMP)
	$(BIN)/pytest -n 0 -m slow -rP tests/api/test_openapi_conformance.py

demo: $(STAMP)
	$(BIN)/rete demo

# Re-resolve every pin from pyproject.toml in a scratch venv and rewrite
# requirements.lock (only when changing dependencies).
LOCK_VENV = var/lock-venv
lock: python-version
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet '.[dev]'
	{ sed -n '/^#/p' requirements.lock; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable | grep -iv '^rete[= @]'; \
	} > requirements.lock.new
	mv requirements.lock.new requirements.lock
	rm -rf $(LOCK_VENV) build

clean:
	rm -rf $(VENV) var build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
