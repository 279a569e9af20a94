# Kefu: `make run` starts the embedded demo, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install lock messages clean

# What is installed is what the lock names, with hashes; Kefu itself goes in editable, without
# dependencies of its own choosing.
$(STAMP): requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## Regenerate requirements.lock (runtime) and requirements-dev.lock (runtime + dev) from
## pyproject.toml. Pins that still fit are kept; `make lock LOCK_FLAGS=--upgrade` takes the
## newest versions. The dev lock is constrained by the runtime one, so both pin alike.
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(PY) -m piptools compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	$(LOCK_FLAGS)
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet 'pip-tools>=7.4'
	$(PIP_COMPILE) -o requirements.lock pyproject.toml
	$(PIP_COMPILE) --extra dev --constraint requirements.lock -o requirements-dev.lock pyproject.toml

## Embedded mode: SQLite, in-memory channel layer, eager Celery, in-process ticker, outbox.
## `make run PORT=8001` serves on another port.
PORT ?= 8000
run: $(STAMP)
	env -u DATABASE_URL -u REDIS_URL KEFU_EMBEDDED=true \
		KEFU_PUBLIC_URL=$${KEFU_PUBLIC_URL:-http://127.0.0.1:$(PORT)} \
		$(PY) manage.py run_embedded 127.0.0.1:$(PORT)

## The test suite. Uses PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set.
test: $(STAMP)
	SECRET_KEY=$${SECRET_KEY:-kefu-test-only-secret} $(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	SECRET_KEY=$${SECRET_KEY:-kefu-lint-only-secret} $(VENV)/bin/mypy kefu tickets aftersales feedback channels_ingest sla kb analytics
	SECRET_KEY=$${SECRET_KEY:-kefu-lint-only-secret} $(PY) manage.py makemigrations --check --dry-run

bench: $(STAMP)
	$(PY) bench/intake.py
	$(PY) bench/live.py
	$(PY) bench/queue.py
	$(PY) bench/sla.py
	$(PY) bench/triage.py
	$(PY) bench/kb_search.py
	$(PY) bench/bot.py
	$(PY) bench/email.py
	$(PY) bench/sms.py
	$(PY) bench/logistics.py
	$(PY) bench/aftersales.py
	$(PY) bench/forecast.py

messages: $(STAMP)
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=bench --ignore=tests \
		--ignore=var --ignore=docs --ignore=deploy --ignore='*.egg-info'
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

clean:
	rm -rf $(VENV) var/kefu.sqlite3* var/static
