# Manalytics developer entry points. Needs only Python >= 3.11 and git:
#   make run     everything on this machine (embedded PostgreSQL + Redis, demo data, API)
#   make test    the test suite          make lint    ruff check + format check + mypy
#   make bench   the benchmarks
# The virtualenv (.venv) is created on first use and re-installed only when pyproject.toml
# changes (stamp file .venv/.installed).

VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed
# First interpreter >= 3.11 found (override: make run PYTHON=/path/to/python3.12).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && { echo $$p; break; }; done)
PYTEST_ARGS ?=

.PHONY: run test lint format bench bench-tools venv clean-venv tools chromium

venv: $(STAMP)

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: Python >= 3.11 not found (set PYTHON=...)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "error: '$(PYTHON) -m venv' failed (Debian/Ubuntu: apt-get install python3-venv)" >&2; \
	  exit 1; }

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,embedded]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/manalytics run

# Debian tools of the ops tests (promtool, amtool, nginx, wrk, pg_dump): installed when
# missing and root, else the tests needing them skip with the reason.
tools:
	@sh ops/install-tools.sh

# The page tests drive Debian's chromium (playwright, never `playwright install`).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium for the browser tests (apt-get)"; \
	  { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
	  echo "warning: could not install chromium; the browser tests will be skipped" >&2; }

test: $(STAMP) tools chromium
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,embedded,bench]'
	@touch $(BENCH_STAMP)

# The benchmarks' own tools (locust) on top of the dev environment.
bench-tools: $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m ops.bench

clean-venv:
	rm -rf $(VENV)
