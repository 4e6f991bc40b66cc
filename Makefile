# Set-up and daily commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help venv run test check lint format migrations demo worker

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(BIN)/.installed ## Create the virtualenv and install everything

run: venv ## Migrate, load demo data once, and serve on http://127.0.0.1:8000 with a background worker
	@export DJANGO_DEBUG=$${DJANGO_DEBUG:-true}; set -e; \
	$(BIN)/python manage.py migrate --noinput; \
	$(BIN)/python manage.py seed_demo; \
	$(BIN)/celery -A oms worker --beat --pool=solo --loglevel=INFO > var/worker.log 2>&1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	echo; \
	echo "OMS is starting on http://$(HOST):$(PORT)/  (worker log: var/worker.log)"; \
	echo "  Staff:       http://$(HOST):$(PORT)/staff/"; \
	echo "  Admin:       http://$(HOST):$(PORT)/admin/"; \
	echo "  API docs:    http://$(HOST):$(PORT)/api/v1/docs/"; \
	echo "  API schema:  http://$(HOST):$(PORT)/api/v1/schema/"; \
	echo "  Health:      http://$(HOST):$(PORT)/healthz"; \
	cat var/demo-credentials.txt 2>/dev/null || true; \
	echo; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: venv ## Run the whole test suite (on PostgreSQL and Redis at 127.0.0.1 unless DATABASE_URL/REDIS_URL say otherwise)
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

check: venv ## Lint, format check, type check and migration drift
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	DJANGO_DEBUG=true OMS_VAR_DIR=$$(mktemp -d) $(BIN)/python manage.py makemigrations --check --dry-run

format: venv ## Format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations: venv ## Make migrations after a model change
	DJANGO_DEBUG=true $(BIN)/python manage.py makemigrations

worker: venv ## Run a worker alone (with DATABASE_URL/REDIS_URL for the production shape)
	$(BIN)/celery -A oms worker --loglevel=INFO
