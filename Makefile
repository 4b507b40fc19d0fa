# The two commands: `make run` serves the site with demo content, `make test` runs the suite.
# Set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/coalition) to use PostgreSQL.

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Development uses the database task queue, as production does, so deferred jobs run.
# `make run PORT=8001` serves on another port; emailed and printed links follow it unless
# SITE_URL says otherwise.
PORT ?= 8000
SITE_URL ?= http://127.0.0.1:$(PORT)
DEV_ENV := DEBUG=1 TASKS_IMMEDIATE=0 SITE_URL=$(SITE_URL) EVENT_CHECKPOINTS=var/event-checkpoints.jsonl \
	PDF_SIGNING_CERT=var/pdf-signing.p12

.PHONY: run serve test bench lint format clean

# The first Python >= 3.12 that actually runs: PATH first, then pyenv's installed versions.
FIND_PYTHON = for c in python3 python3.14 python3.13 python3.12 \
	  $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null); do \
	  if command -v $$c >/dev/null 2>&1 && \
	     $$c -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	    echo $$c; break; fi; done

$(STAMP): pyproject.toml
	@python=$$($(FIND_PYTHON)); \
	if [ -z "$$python" ]; then \
	  echo "No Python 3.12 or newer found. Install one, e.g. 'apt-get install python3.12-venv'" \
	       "or 'pyenv install 3.12', then run make again." >&2; exit 1; fi; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	  echo "Creating $(VENV) with $$python ($$($$python --version))"; \
	  rm -rf $(VENV); $$python -m venv $(VENV) || exit 1; fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# What each command needs from the system: installed with apt-get when we are root, otherwise
# named with the command that installs it.
check-libs-%: $(STAMP)
	@$(PY) -m coalition.project.system_packages $*

run: check-libs-run
	@mkdir -p var
	$(DEV_ENV) $(PY) manage.py migrate --no-input
	$(DEV_ENV) $(PY) manage.py load_demo
	$(DEV_ENV) $(PY) manage.py development_certificate
	@echo
	@echo "Serving http://127.0.0.1:$(PORT)  (letters: http://127.0.0.1:$(PORT)/letters/, admin: http://127.0.0.1:$(PORT)/admin/)"
	@echo "Log in at http://127.0.0.1:$(PORT)/accounts/login/code/ with staff@example.org:"
	@echo "the one-time code is printed in this terminal (the console email backend)."
	@echo "The task worker runs beside the server: emails, PDFs, deadlines and reminders."
	@echo
	$(DEV_ENV) $(PY) manage.py rundev 127.0.0.1:$(PORT)

# Production on this machine: PostgreSQL (DATABASE_URL), Redis (CACHE_URL), SECRET_KEY and
# ALLOWED_HOSTS from the environment; migrates, collects static files, then gunicorn on PORT
# (default 8000) with WEB_CONCURRENCY workers (default 2) and the task worker. Ctrl-C stops all.
serve: check-libs-serve
	$(PY) -m coalition.project.management.commands.serve

test: check-libs-test
	$(PY) -m pytest $(PYTEST_ARGS)

bench: check-libs-bench
	$(PY) -m pytest -m bench -s -q tests/benchmarks $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var
