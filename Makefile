# HazardChain: `make run` (server + scheduler + demo data) and `make test` (everything, both databases).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install run test browser zbar lint format bench loadtest clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the project with its dev tools

run: install ## migrate, load demo data, serve on 127.0.0.1:8000 (console at /) with the scheduler
	$(VENV)/bin/hazardchain db upgrade
	$(VENV)/bin/hazardchain demo
	@# the tablet app reads site QR codes with its camera through libzbar (else: typed codes)
	@if [ -n "$$DISPLAY" ]; then $(MAKE) -s zbar || echo "no libzbar0: the tablet takes typed site codes only"; fi
	@if [ -n "$$DISPLAY" ]; then echo "Tablet app: starting beside the server (python -m mobile_app)"; \
	  (sleep 3; KIVY_NO_CONSOLELOG=1 $(PY) -m mobile_app --server http://$(HOST):$(PORT)) & fi
	@# the console address and the demo logins are printed by serve once it listens, last
	$(VENV)/bin/hazardchain serve --host $(HOST) --port $(PORT) --demo-logins

test: install browser ## lint, then the whole suite on SQLite and PostgreSQL
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q -p no:cacheprovider

browser: zbar ## Debian's Chromium, a CJK font and zbar (QR decoding) for the browser tests (when missing)
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || \
	  { apt-get update -q && apt-get install -y -q chromium fonts-wqy-microhei; }

zbar: ## libzbar0, which reads QR codes: the tablet's camera scan and the QR tests (when missing)
	@ldconfig -p | grep -q libzbar || { apt-get update -q && apt-get install -y -q libzbar0; }

lint: install ## ruff lint and format check
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: install ## ruff fix and format
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

bench: install ## run the benchmarks under bench/
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

loadtest: install ## 50 tablets against serve on PostgreSQL, 1 vs 4 workers (LOADTEST_ARGS=--quick)
	$(PY) bench/loadtest.py $(LOADTEST_ARGS)

clean: ## remove the local database, blobs and caches (keeps .venv)
	rm -rf var .pytest_cache .ruff_cache
