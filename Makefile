# Kube Tutor. `make run` starts the whole app on embedded defaults; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1
# Embedded mode is a development setup: DEBUG on unless the environment says otherwise.
export DEBUG ?= 1
# The processes in the Procfile run from the virtualenv.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

help:
	@echo "make run      set up (venv, migrations, demo accounts) and start web + worker + beat on http://$(HOST):$(PORT)"
	@echo "make setup    everything make run does, but do not start"
	@echo "make test     start Redis, PostgreSQL, Docker and Chromium (installing what is missing, as root), lint, run every test"
	@echo "make lint     ruff check and format check, and the import contracts (pyproject.toml)"
	@echo "make compose-smoke  build the images and run docker-compose.yml for real: every part healthy, a learner's flow through the Docker API proxies, their refusals, torn down"
	@echo "make bench    every benchmark on real stacks, one JSON object (bench/results/latest.json); BENCH_QUICK=1 for a short run"
	@echo "make bench-growth  the burst at 100 to 5,000 pods: time and peak memory (bench/results/growth.json, growth.png)"
	@echo "make chaos    the fault trials (tests/chaos): kill, restart and remove what the app runs on; figures in var/artifacts/chaos.json"

$(VENV)/.runtime-installed: requirements.txt
	@test -x $(PY) || $$(scripts/find-python) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.runtime-installed
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

setup: $(VENV)/.runtime-installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@if [ "$(DEBUG)" != "0" ] && [ "$(DEBUG)" != "false" ]; then $(PY) manage.py demo --url http://$(HOST):$(PORT); fi

run: setup
	@echo "Starting web, worker and beat on http://$(HOST):$(PORT) (Ctrl-C stops them all)"
	HOST=$(HOST) exec honcho start --procfile Procfile --port $(PORT)

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache --no-logo

# The suite runs twice: everything on PostgreSQL with Redis as the broker, then everything that
# does not choose its own services on SQLite with the embedded broker.
test: lint $(VENV)/.dev-installed
	trap 'scripts/test-services down' EXIT; \
	scripts/test-services up && source $${TUTOR_SERVICES_DIR:-/tmp/kube-tutor-test-services}/env && \
	DATABASE_URL=$$TEST_DATABASE_URL REDIS_URL=$$TEST_REDIS_URL $(PY) -m pytest -n 2 --dist loadgroup --durations=25 $(PYTEST_ARGS) && \
	DATABASE_URL= REDIS_URL= $(PY) -m pytest -n 2 --dist loadgroup -m "not system and not docker" $(PYTEST_ARGS)

# The fault trials: workers killed mid-reconcile, web/worker/beat, Redis, PostgreSQL and a Docker
# engine restarted, containers removed. They restart private servers of their own, never the shared
# ones. The figures check fails unless every trial ran this time and lost nothing.
chaos: $(VENV)/.dev-installed
	trap 'scripts/test-services down' EXIT; \
	scripts/test-services up && source $${TUTOR_SERVICES_DIR:-/tmp/kube-tutor-test-services}/env && \
	started=$$(date +%s) && \
	DATABASE_URL=$$TEST_DATABASE_URL REDIS_URL=$$TEST_REDIS_URL $(PY) -m pytest tests/chaos $(PYTEST_ARGS) && \
	$(PY) -m tests.chaos.figures --since $$started

# The compose stack from this checkout: local base, Redis and PostgreSQL images where no registry
# answers (scripts/base-image), then tests/compose; figures in var/artifacts/compose-smoke.json.
compose-smoke: $(VENV)/.dev-installed
	trap 'scripts/test-services down' EXIT; \
	scripts/test-services up && source $${TUTOR_SERVICES_DIR:-/tmp/kube-tutor-test-services}/env && \
	TUTOR_COMPOSE_SMOKE=1 $(PY) -m pytest tests/compose -s $(PYTEST_ARGS)

# Every benchmark (bench/suite.py), each on a stack of its own, with the test services up.
bench: $(VENV)/.dev-installed
	trap 'scripts/test-services down' EXIT; \
	scripts/test-services up && source $${TUTOR_SERVICES_DIR:-/tmp/kube-tutor-test-services}/env && \
	$(PY) bench/suite.py

# The burst's growth curve (bench/growth.py): 100 to 5,000 pods, each size on a fresh stack.
bench-growth: $(VENV)/.dev-installed
	trap 'scripts/test-services down' EXIT; \
	scripts/test-services up && source $${TUTOR_SERVICES_DIR:-/tmp/kube-tutor-test-services}/env && \
	$(PY) bench/growth.py

.PHONY: help setup run lint test chaos compose-smoke bench bench-growth
