# Ultimate Agent: set-up, run, test.
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8080
THREADS ?= 64

.PHONY: install assets run test lint migrate migration bench contracts clean

# Browser bundles the dashboard serves, copied from node_modules (never fetched at run time).
VENDOR := ultimate_agent/dashboard/static/vendor
VENDOR_FILES := node_modules/socket.io-client/dist/socket.io.esm.min.js node_modules/uplot/dist/uPlot.esm.js \
	node_modules/uplot/dist/uPlot.min.css

install:
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, pinned: the CPU wheel; an unpinned torch would pull a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	# The embedded EVM node (anvil), solc and the OpenZeppelin sources, exactly as package-lock.json pins them.
	npm ci --no-audit --no-fund --loglevel=error
	# The JavaScript SDK's one dependency (socket.io-client), as sdk/js/package-lock.json pins it.
	npm ci --prefix sdk/js --no-audit --no-fund --loglevel=error
	$(MAKE) assets

# The dashboard's socket.io-client and uPlot, as package-lock.json pins them.
assets:
	mkdir -p $(VENDOR)
	cp $(VENDOR_FILES) $(VENDOR)/

# Rebuild ultimate_agent/chain/contracts/artifacts.json (committed) from the Solidity sources.
contracts:
	node scripts/compile_contracts.mjs

run:
	$(VENV)/bin/gunicorn -k gthread -w 1 --threads $(THREADS) -b $(HOST):$(PORT) \
		--graceful-timeout 30 --access-logfile - wsgi:app

test:
	$(PY) -m pytest -q
	# The JavaScript SDK's tests start agents with this Python (ultimate-agent serve).
	ULTIMATE_AGENT_PYTHON=$(abspath $(PY)) node --test sdk/js/test/

lint:
	$(VENV)/bin/ruff check ultimate_agent tests bench

migrate:
	$(VENV)/bin/ultimate-agent db upgrade

migration:
	$(VENV)/bin/flask --app ultimate_agent:create_app db migrate -d migrations -m "$(m)"

bench:
	$(PY) bench/api.py

clean:
	rm -rf $(VENV) node_modules sdk/js/node_modules $(VENDOR) *.egg-info .pytest_cache .ruff_cache
