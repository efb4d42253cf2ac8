# Two commands for a new machine: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MUTATION_WORKERS ?= 2
MUTATION_FLOOR ?= 90

.PHONY: run test lint fmt typecheck openapi openapi-check contract e2e migrate migration bench mutation clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: install, migrate and serve on http://127.0.0.1:8000 (embedded PostgreSQL in .data/ unless TIC_DATABASE_URL)
run: $(STAMP)
	$(BIN)/python -m app migrate
	$(BIN)/python -m app serve

## test: ruff, mypy, import-linter, the OpenAPI drift check, the contract checks, pytest under coverage and the
## coverage floors
# Two xdist workers, each on its own fresh database; pytest-cov combines their coverage ([tool.coverage] in
# pyproject.toml) and scripts/coverage_floor.py fails below 97 % lines, 92 % branches, or 95 % for any module of
# app/domain or app/services.
COVERAGE_JSON := build/coverage.json
test: $(STAMP) lint typecheck openapi-check contract
	$(BIN)/python -m pytest -q -n 2 --dist worksteal --cov --cov-report=term --cov-report=json:$(COVERAGE_JSON)
	$(BIN)/python scripts/coverage_floor.py $(COVERAGE_JSON)

lint: $(STAMP)
	$(BIN)/ruff check app tests bench alembic scripts tools
	$(BIN)/ruff format --check app tests bench scripts tools
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff check --fix app tests bench alembic scripts tools
	$(BIN)/ruff format app tests bench scripts tools

openapi: $(STAMP)
	$(BIN)/python -m app openapi --output openapi/openapi.json

openapi-check: $(STAMP)
	$(BIN)/python -m app openapi --output - | diff -u openapi/openapi.json - > /dev/null || \
		{ echo "openapi/openapi.json is stale: run 'make openapi' and commit it"; exit 1; }

# The contract checks' Node tools, pinned by clients/ts/package-lock.json; reinstalled only when the lock changes.
TS := clients/ts
NODE_STAMP := $(TS)/node_modules/.installed

$(NODE_STAMP): $(TS)/package.json $(TS)/package-lock.json
	cd $(TS) && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

## contract: Redocly lint (0 errors, 0 warnings), the strict TypeScript example, the breaking-change gate
contract: $(STAMP) $(NODE_STAMP) openapi-check
	cd $(TS) && node lint.mjs ../../openapi/openapi.json ../../redocly.yaml
	cd $(TS) && npx --no-install openapi-typescript ../../openapi/openapi.json --default-non-nullable false \
		--output src/schema.d.ts --silent
	cd $(TS) && npx --no-install tsc --strict --noEmit -p .
	$(BIN)/python -m app openapi-compat --baseline openapi/baseline.json

## e2e: Swagger UI and Redoc tried in a real browser (Playwright + Debian chromium, CJK fonts; installed if missing)
e2e: $(STAMP)
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
		echo "e2e: installing Debian's chromium and fonts-noto-cjk"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi
	$(BIN)/python -m pytest -q -m e2e tests/e2e

migrate: $(STAMP)
	$(BIN)/python -m app migrate

migration: $(STAMP)
	$(BIN)/alembic revision --autogenerate -m "$(m)"

bench: $(STAMP)
	$(BIN)/python -m bench.run

## mutation: mutation testing of app/domain against tests/unit/domain (mutmut, [tool.mutmut] in pyproject.toml),
## from scratch, 2 workers; fails under 90 % killed (tools/mutation_floor.py). Needs no database.
mutation: $(STAMP)
	rm -rf mutants && mkdir mutants
	@# mutmut redraws one progress line ten times a second: keep it in a log, show its last state.
	env -u TIC_DATABASE_URL HYPOTHESIS_PROFILE=mutation $(BIN)/mutmut run --max-children $(MUTATION_WORKERS) > mutants/run.log 2>&1 || \
		{ tr '\r' '\n' < mutants/run.log | tail -n 40; exit 1; }
	tr '\r' '\n' < mutants/run.log | grep -v '^. Generating mutants' | tail -n 6
	$(BIN)/mutmut export-cicd-stats
	$(BIN)/mutmut results
	$(BIN)/python tools/mutation_floor.py --floor $(MUTATION_FLOOR)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .coverage .coverage.* build mutants
