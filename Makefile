# Newswire's verbs. Everything it needs is installed under .local/ on first use:
# uv (pinned) and the Python environment, Kafka from Maven Central, FerretDB from the
# Go module proxy. See README.md.

SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
UV := .local/tools/uv-$(UV_VERSION)/bin/uv
VENV := .venv
DEV := $(VENV)/bin/newswire-dev
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

MEMBERS := $(wildcard libs/*/pyproject.toml services/*/pyproject.toml tools/*/pyproject.toml) deploy/local/pyproject.toml

.PHONY: help setup provision run up down reset status test test-unit bench fmt lint schemas compose-up compose-down provision-containers

help:  ## list the verbs
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	@command -v python3 >/dev/null || { echo "python3 (3.11+) is needed" >&2; exit 1; }
	python3 -m venv .local/tools/uv-$(UV_VERSION)
	.local/tools/uv-$(UV_VERSION)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock $(MEMBERS)
	$(UV) sync --locked --all-packages --all-groups
	@touch $@

setup: $(VENV)/.synced  ## install the Python environment (uv, locked)

provision: setup  ## fetch Kafka and build FerretDB into .local/tools
	$(DEV) provision

run: setup  ## start everything in the foreground, load the sample corpus; Ctrl-C stops it
	$(DEV) run

up: setup  ## start whatever part of the stack is not running (background)
	$(DEV) up

down:  ## stop the stack, keep its data
	@if [ -x $(DEV) ]; then $(DEV) down; fi

reset:  ## stop the stack and delete its data (keeps downloaded tools)
	@if [ -x $(DEV) ]; then $(DEV) reset; else rm -rf .local/data .local/config; fi

compose-up: setup  ## the compose stack here: Docker engine, stand-in images if needed, up --wait
	$(DEV) compose up

compose-down: setup  ## stop the compose stack, keep its volumes
	$(DEV) compose down

status: setup  ## show what is running
	$(DEV) status

provision-containers: setup  ## a Docker engine, the compose plugins and the images compose runs (stand-ins if needed)
	$(DEV) provision --containers

test: provision provision-containers  ## every test ring: real Kafka and store, the compose stack, then testcontainers
	$(VENV)/bin/pytest
	NEWSWIRE_TEST_CONTAINERS=1 $(VENV)/bin/pytest -m integration

test-unit: setup  ## the fast rings only (no servers)
	$(VENV)/bin/pytest -m "unit or service"

bench: provision  ## the benchmark suite; writes bench/results/
	$(VENV)/bin/python -m bench

fmt: setup  ## format the code
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

schemas: setup  ## regenerate the topics' AsyncAPI document (commit it, review its diff)
	$(DEV) schemas

lint: setup  ## lint and type-check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
