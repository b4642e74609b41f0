# Two commands do all the set-up on a fresh machine:  `make run`  and  `make test`.
PORT ?= 5000
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HTMX := static/tikisync/htmx.min.js
STAMP := $(VENV)/.installed

.PHONY: run test test-fast reliability lint hooks bench bench-scale install assets dist system-packages databases clean

# The built-in demo: unless DEMO=0, `make run` also serves a demo master (a second
# tikisync-web with its own database under instance/demo, seeded once by `tikisync demo-seed`)
# on DEMO_PORT, gives this app a credential "demo" for it, and stops it when this app stops.
DEMO ?= 1
DEMO_PORT ?= 5001
DEMO_DIR ?= $(CURDIR)/instance/demo
DEMO_ENV := TIKISYNC_INSTANCE=$(DEMO_DIR) TIKISYNC_DATABASE=sqlite:///$(DEMO_DIR)/tikisync.db
DEMO_URL := http://127.0.0.1:$(DEMO_PORT)

run: install assets
	$(VENV)/bin/tikisync init
	$(VENV)/bin/tikisync user ensure-admin
	@set -e; demo=""; \
	if [ "$(DEMO)" != "0" ]; then \
	  mkdir -p $(DEMO_DIR); \
	  env $(DEMO_ENV) $(VENV)/bin/tikisync init; \
	  [ -s $(DEMO_DIR)/token ] || env $(DEMO_ENV) $(VENV)/bin/tikisync demo-seed --token-file $(DEMO_DIR)/token; \
	  env $(DEMO_ENV) $(VENV)/bin/flask --app wsgi run --host 127.0.0.1 --port $(DEMO_PORT) --no-reload \
	    >$(DEMO_DIR)/server.log 2>&1 & demo=$$!; \
	  trap 'kill $$demo 2>/dev/null' EXIT INT TERM; \
	  $(VENV)/bin/tikisync dsn list --json | grep -q '"identifier": "demo"' || \
	    $(VENV)/bin/tikisync dsn add demo $(DEMO_URL) --method bearer --token "$$(cat $(DEMO_DIR)/token)" --allow-http; \
	  echo "demo master on $(DEMO_URL)/ (sign in there as demo / demo-master); clone from it with the credential 'demo'"; \
	fi; \
	echo "tikisync-web on http://127.0.0.1:$(PORT)/"; \
	$(VENV)/bin/flask --app wsgi run --host 127.0.0.1 --port $(PORT) --no-reload

test: install assets system-packages databases lint
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m tests.run

# The fault, crash, bad-input and security suites with many cases, then one table of outcomes.
reliability: install assets system-packages databases
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m tests.reliability_report

# ruff (pyproject.toml) and vulture: a new finding fails `make test`, so CI catches it.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/vulture tikisync_web .ci/vulture_whitelist.py --min-confidence 80

# Optional: run `make lint` before every commit.
hooks:
	cp .ci/pre-commit .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit

# Skip the browser, PostgreSQL and MariaDB layers (local use only; CI never sets these).
test-fast: install assets lint
	TIKISYNC_SKIP_BROWSER=1 TIKISYNC_SKIP_POSTGRESQL=1 TIKISYNC_SKIP_MARIADB=1 \
	  env -u PYTHONDONTWRITEBYTECODE $(PY) -m tests.run

bench: install assets
	$(PY) bench/run_all.py

# Issue 17's figures at 1,000,000 items on SQLite and PostgreSQL: master, browse and reload,
# then status and two workers, then push (long: see bench/README.md;
# ITEMS=200000 for a shorter run).
ITEMS ?= 1000000
bench-scale: install assets
	$(PY) bench/scale.py --items $(ITEMS)
	$(PY) bench/scale_status.py --items $(ITEMS)
	$(PY) bench/scale_push.py --items $(ITEMS)

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

# The sdist and the wheel (templates, static files and htmx inside) in dist/.
dist: install assets
	rm -rf build dist
	$(PY) -m build --outdir dist .

# Debian packages the test layers use: Chromium for Playwright (Playwright's own download
# cannot work here) and libfaketime to run a clone with its clock an hour off.
system-packages:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	  ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 || missing="$$missing libfaketime"; \
	  if [ -n "$$missing" ]; then \
	    echo "installing$$missing"; \
	    if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	    $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null; fi

# PostgreSQL and MariaDB on loopback: start them if they are installed but down.
databases:
	@sh .ci/databases.sh

clean:
	rm -rf $(VENV) node_modules $(HTMX) instance build dist *.egg-info
