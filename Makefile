# Two commands do all the set-up on a fresh machine:  `make run`  and  `make test`.
PORT ?= 5000
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HTMX := static/tikisync/htmx.min.js
STAMP := $(VENV)/.installed

.PHONY: run test test-fast bench install assets chromium databases clean

run: install assets
	$(VENV)/bin/tikisync init
	$(VENV)/bin/tikisync user ensure-admin
	@echo "tikisync-web on http://127.0.0.1:$(PORT)/"
	$(VENV)/bin/flask --app wsgi run --host 127.0.0.1 --port $(PORT) --no-reload

test: install assets chromium databases
	$(PY) -m tests.run

# Skip the browser, PostgreSQL and MariaDB layers (local use only; CI never sets these).
test-fast: install assets
	TIKISYNC_SKIP_BROWSER=1 TIKISYNC_SKIP_POSTGRESQL=1 TIKISYNC_SKIP_MARIADB=1 $(PY) -m tests.run

bench: install assets
	$(PY) bench/run_all.py

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,postgresql,mariadb]'
	touch $(STAMP)

assets: $(HTMX)

$(HTMX): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/tikisync
	cp node_modules/htmx.org/dist/htmx.min.js $(HTMX)

# Debian's Chromium for the Playwright layer (Playwright's own download cannot work here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

# PostgreSQL and MariaDB on loopback: start them if they are installed but down.
databases:
	@sh .ci/databases.sh

clean:
	rm -rf $(VENV) node_modules $(HTMX) instance
