# ShopStream: two commands for a newcomer — `make demo` and `make test`.
# Everything else here is what those two need, in the order they need it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# uv installs the dependencies (seconds, where pip took minutes); pyproject.toml declares them.
UV_PIN := uv==0.13.8
UV_PY  := --python $(BIN)/python
# uv, unlike pip, leaves installed packages uncompiled; where PYTHONDONTWRITEBYTECODE is set (this
# CI's environment) every process then compiled Faust, aiohttp & co. from source again:
# `import app.main` 1.88 s -> 0.8 s with the bytecode written once at install.
UV_INSTALL := $(BIN)/uv pip install --quiet --compile-bytecode $(UV_PY)
# `make test` shows where the time goes: the slowest tests, after the summary.
DURATIONS ?= --durations=15 --durations-min=2
MYPY_LOG := .mypy.log
# Two test processes (each with its own session broker): integration tests mostly wait on
# workers and brokers, so two share the 2 cores well; work stealing evens out the long ones.
PARALLEL ?= -n 2 --dist worksteal

.DEFAULT_GOAL := help
.PHONY: help prereqs setup ruff lint format test test-unit test-integration test-full demo bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

prereqs:  ## list what this machine has and lacks (Python 3.11+, JDK 17+, Maven; Chromium, Node.js for some tests)
	@$(PYTHON) tools/check_prereqs.py --list

$(STAMP): pyproject.toml
	@$(PYTHON) tools/check_prereqs.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check $(UV_PIN)
	$(UV_INSTALL) -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)  ## create .venv, install ShopStream and fetch Apache Kafka and Apicurio Registry (cached)
	$(BIN)/python -m localservices.kafka --fetch-only
	$(BIN)/python -m localservices.registry --fetch-only

ruff: setup  ## ruff only: lint and format check (seconds)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lint: ruff  ## ruff (lint + format check) and mypy
	$(BIN)/mypy

format: setup  ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# mypy (about 15 s of one core on a fresh clone) runs beside the tests, which leave about a
# quarter of the two cores idle while they wait for brokers and workers; both must pass.
test: ruff  ## everything CI runs: lint, types, unit and integration tests (real Kafka)
	@echo "$(BIN)/mypy (beside the tests; its report follows them)"
	@$(BIN)/mypy > $(MYPY_LOG) 2>&1 & types=$$!; \
	echo '$(BIN)/pytest -m "not slow" $(PARALLEL) $(DURATIONS) $(PYTEST_ARGS)'; \
	$(BIN)/pytest -m "not slow" $(PARALLEL) $(DURATIONS) $(PYTEST_ARGS); tests=$$?; \
	wait $$types; typed=$$?; echo "mypy:"; cat $(MYPY_LOG); \
	[ $$tests -eq 0 ] && [ $$typed -eq 0 ]

test-unit: setup  ## unit tests only (no broker)
	$(BIN)/pytest -m "not integration and not slow" $(PYTEST_ARGS)

test-full: lint  ## the whole suite including the long fault-tolerance runs
	$(BIN)/pytest $(PARALLEL) $(DURATIONS) $(PYTEST_ARGS)

demo: setup  ## local broker (unless KAFKA_BROKER is set), a worker and the load generator
	$(BIN)/python -m app.demo

BENCH_STAMP := $(VENV)/.bench-stamp
BENCH_ARGS ?=

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(UV_INSTALL) -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench: setup $(BENCH_STAMP)  ## benchmarks on their own broker and workers (BENCH_QUICK=1: smoke run; bench/README.md)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:  ## remove local state (virtualenv stays: `rm -rf .venv` for that)
	rm -rf data test-artifacts .pytest_cache .mypy_cache .ruff_cache .mypy.log
