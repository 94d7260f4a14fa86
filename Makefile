# `make run` starts Mitigate on the embedded default; `make test` runs every check CI runs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test setup migrate demo lint format bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# A fresh SECRET_KEY and encryption key per checkout; never overwritten once written.
.env:
	sed -e "s/^SECRET_KEY=.*/SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')/" \
	    -e "s/^FIELD_ENCRYPTION_KEY=.*/FIELD_ENCRYPTION_KEY=$$($(PYTHON) -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')/" \
	    .env.example > .env

setup: $(VENV)/.installed .env

migrate: setup
	$(PY) manage.py migrate --no-input

# honcho gives every process a PORT of its own (the worker gets PORT+100): the web server's port
# reaches them all, and seed_demo, as MITIGATE_WEB_PORT (SITE_URL's default, see config/settings.py).
# The receiver, fifth in the Procfile, gets PORT+400, where seed_demo points the demo's webhook.
demo: migrate
	MITIGATE_WEB_PORT=$(PORT) $(PY) manage.py seed_demo

# Counters for /metrics start from zero with each run (gunicorn.conf.py does the same for gunicorn).
run: demo
	$(PY) manage.py metrics_reset
	PORT=$(PORT) MITIGATE_WEB_PORT=$(PORT) $(VENV)/bin/honcho start

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: setup
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: setup
	$(PY) bench/incident_reads.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
