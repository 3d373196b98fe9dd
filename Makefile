# Every target creates/uses .venv by itself: a fresh clone needs only python3 >= 3.11.
# `make demo` installs only what the product needs (`pip install -e '.[analyzer]'`); the linters,
# type checker, test suite and benchmarks install the development extras (`pip install -e '.[dev]'`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[analyzer]'
	touch $(RUNTIME_STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(DEV_STAMP)

demo: $(RUNTIME_STAMP)
	$(BIN)/otel-impact demo --out demo-out

lint: $(DEV_STAMP)
	$(BIN)/ruff check otel_impact tests benchmarks examples
	$(BIN)/ruff format --check otel_impact tests benchmarks examples

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

pytest: $(DEV_STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

# regenerate docs/configuration.md from the config models and the stage graph in
# docs/architecture.md from the stage declarations (tests check both are up to date)
docs: $(DEV_STAMP)
	$(BIN)/python -m otel_impact.config.reference docs/configuration.md
	$(BIN)/python -m otel_impact.pipeline --graph docs/architecture.md
	$(BIN)/python -m otel_impact.records.schema docs/result-schema.json
	$(BIN)/python -m otel_impact.records.schema --records docs/architecture.md

clean:
	rm -rf $(VENV) .otel-impact demo-out .pytest_cache .mypy_cache .ruff_cache
