# Ticketflow: `make run` sets up and starts the server with demo data; `make test` runs the suite.
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
PORT   ?= 5000
PG_BIN := $(shell ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

.PHONY: run run-dev history setup test test-sqlite test-postgresql bench load-test faults scale corpus lint postgres-binaries chromium studio node

$(VENV)/.installed: requirements.txt
	test -d $(VENV) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

setup: $(VENV)/.installed studio
	$(FLASK) db upgrade
	$(FLASK) seed
	$(FLASK) processes deploy

run: setup
	@echo ""
	@echo "Ticketflow is starting on http://127.0.0.1:$(PORT)  (gunicorn, 2 web workers, 1 job-and-timer worker; Ctrl-C stops all)"
	@echo "  API token for the demo admin:  $(FLASK) users create-token admin"
	@echo "  Then: curl -H 'Authorization: Bearer <token>' http://127.0.0.1:$(PORT)/api/v1/tickets"
	@echo "  Mail: nothing leaves this machine; read what Ticketflow sends at http://127.0.0.1:$(PORT)/dev/mail (admin)"
	@echo ""
	TICKETFLOW_WORKER=1 EMBEDDED_WORKER=0 BASE_URL=$${BASE_URL:-http://127.0.0.1:$(PORT)} \
		$(VENV)/bin/gunicorn -c gunicorn.conf.py -b 127.0.0.1:$(PORT)

# The same with Flask's development server and the worker embedded in it (one process).
run-dev: setup
	EMBEDDED_WORKER=1 BASE_URL=$${BASE_URL:-http://127.0.0.1:$(PORT)} $(FLASK) serve --host 127.0.0.1 --port $(PORT)

# Six months of demo tickets through the engine on a moved clock (a few minutes; see README).
history: setup
	$(FLASK) seed --history $${HISTORY:-6m}

# PostgreSQL 15 server binaries for the PostgreSQL half of the suite.
postgres-binaries:
	@if [ -z "$(PG_BIN)" ] || [ ! -x "$(PG_BIN)/initdb" ]; then \
		echo "installing PostgreSQL server binaries"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null \
		|| DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi

# Debian's Chromium for the browser tests (Playwright drives it; never `playwright install`).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian chromium"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# Node.js and npm for the studio's build (Debian's packages when missing).
node:
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "installing Debian nodejs and npm"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	fi

# The studio's browser code: npm ci (pinned by package-lock.json, npm registry only) when
# node_modules is missing or the lock changed, then esbuild into app/static/studio/ (git-ignored).
STUDIO_SRC := $(wildcard app/static_src/studio/* app/static_src/studio/*/*) app/static_src/esbuild-options.mjs
DASHBOARD_SRC := $(wildcard app/static_src/dashboard/*) app/static_src/esbuild-options.mjs

node_modules/.installed: package.json package-lock.json
	$(MAKE) --no-print-directory node
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

app/static/studio/editor.js: node_modules/.installed $(STUDIO_SRC)
	node app/static_src/studio/build.mjs

# The dashboard's bundles (instance viewer, charts, htmx): app/static_src/dashboard/*.page.js.
app/static/dashboard/common.js: node_modules/.installed $(DASHBOARD_SRC)
	node app/static_src/dashboard/build.mjs

studio: app/static/studio/editor.js app/static/dashboard/common.js

test: $(VENV)/.installed postgres-binaries chromium studio
	TEST_DATABASE=sqlite $(PY) -m pytest -q
	TEST_DATABASE=postgresql $(PY) -m pytest -q

test-sqlite: $(VENV)/.installed chromium studio
	TEST_DATABASE=sqlite $(PY) -m pytest -q

test-postgresql: $(VENV)/.installed postgres-binaries chromium studio
	TEST_DATABASE=postgresql $(PY) -m pytest -q

bench: $(VENV)/.installed postgres-binaries
	$(PY) -m bench.run

# A paced load over HTTP in the production layout (gunicorn + a worker, throwaway PostgreSQL):
# LOAD_RATE ticket starts per second for LOAD_MINUTES; fails when the rate, errors or p99 slip.
LOAD_RATE ?= 200
LOAD_MINUTES ?= 5
load-test: $(VENV)/.installed postgres-binaries
	$(PY) -m bench.load_test --rate $(LOAD_RATE) --minutes $(LOAD_MINUTES)

# The fault suite (docs/reliability.md): real gunicorn and `flask worker` processes on loopback
# against a throwaway PostgreSQL, crashes and outages injected, invariants checked. Not part of
# `make test`. SCENARIOS=F1,F2 picks scenarios; FAULTS_N (kills per point), FAULTS_SCALE, FAULTS_SECONDS;
# FAULTS_JSON=file keeps the figures.
SCENARIOS ?= F1,F2,F3,F4,F5,F6,F7
FAULTS_N ?= 3
FAULTS_SCALE ?= 10
FAULTS_SECONDS ?= 10
faults: $(VENV)/.installed postgres-binaries
	$(PY) -m faults.run --scenarios $(SCENARIOS) --n $(FAULTS_N) --scale $(FAULTS_SCALE) \
		--seconds $(FAULTS_SECONDS) $(if $(FAULTS_JSON),--json $(FAULTS_JSON))

# The scale run (docs/reliability.md "Scale"): the shipped return flow through SCALE_CONFIGS
# (web x worker processes) on one throwaway PostgreSQL, loopback only; not part of `make test`.
# SCALE_TICKETS per configuration; SCALE_JSON=file keeps the figures.
SCALE_TICKETS ?= 2000
SCALE_CONFIGS ?= 1x1,4x4
scale: $(VENV)/.installed postgres-binaries
	$(PY) -m faults.scale --tickets $(SCALE_TICKETS) --configs $(SCALE_CONFIGS) $(if $(SCALE_JSON),--json $(SCALE_JSON))

# How open Ticketflow is to diagrams made elsewhere: the public corpus in ../shared (when present),
# run on the engine and the API, then opened and saved in the studio (Chromium).
corpus: $(VENV)/.installed chromium studio
	$(PY) -m bench.corpus --variants --markdown docs/compatibility.md
	$(PY) -m bench.studio_roundtrip --markdown docs/compatibility.md

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check app tests bench faults deploy
	$(VENV)/bin/ruff format --check app tests bench faults deploy
