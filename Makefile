# Everything a fresh clone needs: `make serve` and `make test` install on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# npm ci empties node_modules first, so the stamp inside it goes with any old install.
NPM_STAMP := node_modules/.installed

.PHONY: install npm-install serve test lint format bench docs gallery golden clean

install: $(STAMP) npm-install

# GraphiQL for offline use and the JavaScript clients the tests drive, pinned by
# package-lock.json. Without Node.js the server still runs: GraphiQL then loads from a CDN.
npm-install:
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(NPM_STAMP); \
	else \
		echo "make install: node/npm not found, skipping 'npm ci': GraphiQL falls back to its CDN page (needs internet) and the Node.js tests are skipped"; \
	fi

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
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench

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
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
