# The two commands of the README: `make demo` (the main job) and `make test`
# (the whole suite). Both set up the virtualenv from the pinned requirements
# on first use.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export SEGMENTATION_HOME := $(CURDIR)
export DBT_PROFILES_DIR := $(CURDIR)
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false

SAMPLE_DIR ?= data/sample
EVENTS ?= 100000

.PHONY: help demo test lint pytest venv clean bench

help:
	@echo "make demo   sample data -> load -> dbt build on DuckDB -> segment summary"
	@echo "make test   the whole suite: lint, pytest, dbt build+tests on DuckDB and PostgreSQL, GX"
	@echo "make bench  large-scale benchmark (not part of make test)"

venv: $(STAMP) profiles.yml

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

profiles.yml:
	cp profiles.example.yml profiles.yml

demo: venv
	$(BIN)/segmentation generate --out $(SAMPLE_DIR) --events $(EVENTS)
	$(BIN)/segmentation load --landing $(SAMPLE_DIR) --target duckdb
	$(BIN)/segmentation validate --stage landing --target duckdb
	$(BIN)/dbt build --target duckdb --quiet
	$(BIN)/segmentation validate --stage marts --target duckdb
	$(BIN)/segmentation summary --target duckdb

lint: venv
	$(BIN)/ruff check segmentation
	$(BIN)/ruff format --check segmentation
	@# An empty warehouse: models whose SQL is generated from seeds at compile
	@# time render the same way on every machine.
	SEGMENTATION_DUCKDB_PATH=target/lint.duckdb $(BIN)/sqlfluff lint models tests analyses

# pytest against DuckDB and a throwaway PostgreSQL server (stopped however the
# tests end). With SEGMENTATION_PG_EXTERNAL=1 and PG* variables, your own server
# is used instead and left running.
pytest: venv
	trap '$(BIN)/segmentation pg stop' EXIT; \
	$(BIN)/segmentation pg start; \
	source .pg/env; \
	SEGMENTATION_REQUIRE_POSTGRES=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint pytest

# Large-scale benchmark, not part of `make test`: 1M and 10M events on DuckDB,
# 1M on PostgreSQL (throwaway server, stopped however the bench ends). Samples
# are cached in data/bench/, results written to bench_results/<timestamp>.json.
BENCH_ARGS ?= --reuse
bench: venv
	trap '$(BIN)/segmentation pg stop' EXIT; \
	$(BIN)/segmentation pg start || echo "bench: no PostgreSQL server, its rows are skipped"; \
	$(BIN)/segmentation bench $(BENCH_ARGS)

clean:
	rm -rf target logs data warehouse.duckdb gx_docs
