# Everything a fresh clone needs: `make serve` and `make test` install on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# npm ci empties node_modules first, so the stamp inside it goes with any old install.
NPM_STAMP := node_modules/.installed
# The asset browser (web/) has its own package.json and lock; its build is not committed.
WEB_STAMP := web/node_modules/.installed
WEB_BUILD := web/dist/index.html
WEB_SOURCES := $(shell find web/src web/public -type f -not -path 'web/src/gql/*' 2>/dev/null) \
	web/index.html web/vite.config.ts web/codegen.ts web/tsconfig.json web/scripts/budget.mjs \
	schema.graphql
# Vite 8 needs Node.js 20.19+ (or 22.12+).
NODE_OK := node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) || (a === 20 && b >= 19) || a === 21 ? 0 : 1)'

.PHONY: install npm-install web serve test lint format bench bench-seed diagrams docs gallery golden clean screenshots

install: $(STAMP) npm-install

# GraphiQL for offline use and the JavaScript clients the tests drive, pinned by
# package-lock.json, and the asset browser built from web/. Without Node.js the server
# still runs: GraphiQL then loads from a CDN and / says how to build the asset browser.
npm-install:
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(NPM_STAMP) web; \
	else \
		echo "make install: node/npm not found, skipping 'npm ci': GraphiQL falls back to its CDN page (needs internet), the asset browser is not built and the Node.js tests are skipped"; \
	fi

# Type-checks, builds and checks the first-load budget (web/scripts/budget.mjs).
web:
	@if $(NODE_OK); then \
		$(MAKE) --no-print-directory $(WEB_BUILD); \
	else \
		echo "make install: the asset browser needs Node.js 20.19+ (found $$(node --version)); / explains how to build it"; \
	fi

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

$(WEB_BUILD): $(WEB_STAMP) $(WEB_SOURCES)
	cd web && npm run build

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Trove needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

serve: install
	$(BIN)/trove serve

test: install
	$(BIN)/pytest -n auto

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Screenshots of the asset browser's main screens for docs/ (the browser tests take them).
screenshots: install
	TROVE_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest -q tests/test_web_browser.py

# The seed system's venv first (once), so the table has the row against it.
bench: install
	@$(MAKE) --no-print-directory bench-seed || echo "make bench: the seed system could not be installed; its section is skipped"
	$(BIN)/python -m bench

# The seed system for bench's `seed` section: nodetool's FastAPI REST API in a venv of its
# own, never Trove's (bench/seed-requirements.in says why only these packages).
SEED_VENV := .bench/seed-venv
SEED_STAMP := $(SEED_VENV)/.installed

bench-seed: $(SEED_STAMP)

$(SEED_STAMP): bench/seed-requirements.txt bench/seed-nodetool.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "the seed venv is pinned for Python 3.11 (PYTHON=python3.11)")'
	rm -rf $(SEED_VENV)
	$(PYTHON) -m venv $(SEED_VENV)
	$(SEED_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r bench/seed-requirements.txt
	$(SEED_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r bench/seed-nodetool.txt
	@touch $@

# Pictures in docs/ from their text sources (Graphviz: `apt-get install graphviz`).
diagrams:
	dot -Tsvg docs/topology.dot -o docs/topology.svg

# The node reference in docs/nodes.md, written from the registry (a test checks it is current).
docs: install
	$(BIN)/python -m execution.reference

# docs/gallery.md: every image node run on one sample picture through the workflow runner.
gallery: install
	$(BIN)/python -m tests.make_gallery

# Reference renders for the golden-image tests; regenerate only when a filter should change.
golden: install
	$(BIN)/python -m tests.make_golden

clean:
	rm -rf $(VENV) .bench node_modules web/node_modules web/dist .pytest_cache .mypy_cache .ruff_cache
