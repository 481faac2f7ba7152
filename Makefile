# The README's two commands are `make run` and `make test`; the rest are helpers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help run test faults bench lighthouse lint format migrate clean

help:
	@echo "make run    set up and start the portal on http://127.0.0.1:$(PORT) (web, worker, beat)"
	@echo "make test   install the dev tools, then lint, check migrations and run every test"
	@echo "make bench  the benchmarks on the production stack (see README)"
	@echo "make faults the fault suite in full (needs PostgreSQL and Redis, see README)"
	@echo "make lighthouse  Lighthouse's scores of the customer's pages (see README)"
	@echo "make format rewrite the code with ruff's formatter and autofixes"
	@echo "make clean  remove the virtualenv and everything under var/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamps: reinstall only when a requirements file changes.
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

# The browser checks' npm packages (axe-core for the tests, Lighthouse), exactly as locked.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

migrate: $(VENV)/.runtime-installed
	$(BIN)/python manage.py migrate --noinput

run: migrate
	@$(BIN)/python manage.py demo_setup
	@echo "PhotoShoot: http://127.0.0.1:$(PORT)  (Ctrl-C stops web, worker and beat)"
	@# honcho hands each process its own PORT (web gets $(PORT)), so the public URL is fixed here.
	PATH="$(CURDIR)/$(BIN):$$PATH" PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)}" \
		$(BIN)/honcho start --procfile Procfile.dev --port $(PORT)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	@# Security lint: any finding of medium severity or higher fails (low ones are explained
	@# in the README's "Performance and reliability" section).
	$(BIN)/bandit -q -r accounts astria operations packs payments photoshoot sandbox stripe_sandbox studio tunes uploads -ll
	@# Types: mypy with django-stubs over the apps that pyproject.toml's [tool.mypy] lists.
	$(BIN)/mypy

# Two test processes (pytest-xdist; each its own test database and Redis database, see
# photoshoot/settings.py), tests handed out one by one so each process keeps pytest-django's
# order (transactional tests last); a module marked xdist_group stays in one process. Then the
# fault suite alone: it kills and starves parts on purpose and reads how fast they recover.
test: lint node_modules/.installed
	$(BIN)/pytest -n 2 --dist loadgroup -m "not faults"
	$(BIN)/pytest -m faults

# The benchmarks, on the production stack started on this machine (PostgreSQL must be up).
bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench

# The fault suite in full (longer runs, more jobs); needs PostgreSQL and Redis like CI.
faults: $(VENV)/.dev-installed
	FAULTS_FULL=1 $(BIN)/pytest -m faults

# Lighthouse (mobile emulation, Debian's Chromium) on the customer's pages of a portal started
# here on 127.0.0.1; prints the four scores per page.
lighthouse: $(VENV)/.dev-installed node_modules/.installed
	$(BIN)/python -m bench.lighthouse

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var staticfiles node_modules
