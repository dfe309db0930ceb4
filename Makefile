# Beez Automations. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen
TEST_WORKERS ?= 2
BUF := .tools/node_modules/.bin/buf
GAPI = $(shell $(RUN) python -c 'import google.api.annotations_pb2 as a, pathlib; print(pathlib.Path(a.__file__).parent)')

.PHONY: help deps protos protos-check buf lint format test test-fast chaos bench run migrate check clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

deps: ## Install everything from the lock file (uv, Python packages)
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	@$(UV) sync --frozen --quiet

protos: deps ## Regenerate the committed Python code from protos/
	@./scripts/gen_protos.sh

protos-check: protos ## Fail when regenerating the protos changes anything
	@git diff --exit-code --stat -- libs/contracts || (echo "generated code is stale: run 'make protos' and commit" && exit 1)
	@test -z "$$(git status --porcelain -- libs/contracts)" || (git status --porcelain -- libs/contracts; echo "untracked generated files: run 'make protos' and commit"; exit 1)

buf: ## Install buf (from the npm registry's @bufbuild/buf) under .tools
	@test -x $(BUF) || (cd .tools && npm ci --silent --no-audit --no-fund)
	@mkdir -p protos/third_party/google/api && cp $(GAPI)/annotations.proto $(GAPI)/http.proto protos/third_party/google/api/

lint: deps buf protos-check ## ruff, mypy, buf lint, and a check that generated code is current
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy libs services tests bench
	cd protos && ../$(BUF) lint

format: deps ## Format the code with ruff
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

test: deps ## The whole suite against real PostgreSQL and NATS (what CI runs)
	$(RUN) pytest -n $(TEST_WORKERS) --dist loadfile

test-fast: deps ## The tests that start no service processes, in about a minute: run on every change
	$(RUN) pytest -m "not slow" -n $(TEST_WORKERS) --dist loadfile

chaos: deps ## Fault-injection suite (long scenarios; embedded servers it can restart)
	BEEZ_CHAOS=1 $(RUN) pytest tests/chaos -s -p no:cacheprovider

bench: deps ## Benchmark the stack (writes bench/out/report.{json,md}); BENCH_ARGS=--quick for a smoke run
	$(RUN) python -m bench $(BENCH_ARGS)

run: deps ## Start the whole stack (embedded PostgreSQL and NATS unless DATABASE_URL / NATS_URL are set)
	$(RUN) beez up

migrate: deps ## Run every service's migrations against DATABASE_URL
	$(RUN) beez migrate

check: lint test ## Everything CI runs

clean: ## Remove local state (.beez) and tool installs
	rm -rf .beez .tools/node_modules protos/third_party
