# `make test` and `make run` each build .venv on a fresh machine and do their job.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLE := examples/flags.json

.PHONY: test lint typecheck unit run bench bench-startup bench-service bench-fleet bench-soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# One stamp per install so that editing pyproject.toml reinstalls.
$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[service]'
	touch $@

# Every stage runs even when an earlier one fails, so one CI log shows all that is wrong;
# pytest runs last, so its summary closes the log.
test: $(VENV)/.dev-installed
	@status=0; \
	$(MAKE) --no-print-directory lint || status=1; \
	$(MAKE) --no-print-directory typecheck || status=1; \
	$(MAKE) --no-print-directory unit || status=1; \
	exit $$status

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

unit: $(VENV)/.dev-installed
	$(BIN)/python -m pytest -m "not slow"

# The HTTP service on the bundled example document, on loopback only; Ctrl-C stops it.
run: $(VENV)/.run-installed
	$(BIN)/flagkit validate $(EXAMPLE)
	$(BIN)/flagkit serve --source $(EXAMPLE) --host 127.0.0.1 --port 8000

bench: $(VENV)/.dev-installed
	$(BIN)/python bench/hot_path.py

# Import + load a 50-flag document in a fresh interpreter, against five other flag libraries.
bench-startup: $(VENV)/.bench-installed
	$(BIN)/python bench/startup.py

# OFREP evaluations over HTTP against a bare route of the same app (about 2 minutes).
bench-service: $(VENV)/.dev-installed
	$(BIN)/python bench/service_load.py

# 50 processes on the local AppConfig per API: a deployment, an outage; writes docs/fleet.png
# (about 5 minutes; see docs/fleet.md).
bench-fleet: $(VENV)/.bench-installed
	$(BIN)/python bench/fleet.py

# 10 minutes of a new document every second under OFREP load: RSS, threads, fds stay flat.
bench-soak: $(VENV)/.dev-installed
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis build *.egg-info
