# Ärende: `make run` serves the demo, `make test` runs every check. Both set up from scratch.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test setup lint format clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

setup: $(VENV)/.installed
	@bash scripts/system-deps.sh
	@mkdir -p var
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=var -v 0

run: setup
	$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py seed_demo --if-empty
	PORT=$(PORT) bash scripts/run-dev.sh

test: setup
	@bash scripts/system-deps.sh browser mail
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=arende.settings.test $(BIN)/python manage.py check
	DJANGO_SETTINGS_MODULE=arende.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

# Seeds realistic volumes on PostgreSQL (BENCH_DATABASE_URL; kept between runs) and prints a
# table of timings and query counts. BENCH_TICKETS=100000 for a quicker run.
bench: setup
	@createdb -h 127.0.0.1 -U postgres arende_bench 2>/dev/null || true
	$(BIN)/python bench/sla_engine.py
	$(BIN)/python bench/run.py
	@createdb -h 127.0.0.1 -U postgres arende_bench_mail 2>/dev/null || true
	$(BIN)/python bench/mail.py
	$(BIN)/python bench/sla_recompute.py
