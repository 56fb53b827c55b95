# Two commands from a fresh clone: `make demo` (the main job) and `make test` (every test).
# Both create and fill .venv themselves; `make test` also installs what the tests need outside
# Python (node/npm + the TypeScript compiler, Debian's chromium and postgresql) when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
export MPLBACKEND :=

.PHONY: venv demo test test-fast lint typecheck bench bench-changepoints node browser postgres valgrind clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,postgres,cluster]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

node: $(NODE_STAMP)

$(NODE_STAMP): package.json
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
	npm install --no-audit --no-fund --silent
	touch $(NODE_STAMP)

browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The PostgreSQL server the tests start themselves (initdb/pg_ctl of Debian's postgresql package,
# found under /usr/lib/postgresql/*/bin, which is not on PATH).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# `rrperf bench --metric instructions` counts instructions under Valgrind's cachegrind.
valgrind:
	@command -v valgrind >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }

demo: venv
	$(VENV)/bin/rrperf demo

# Lint and type-check first, so the test runner's summary is the last thing printed.
test: venv node browser postgres valgrind
	$(VENV)/bin/ruff check rrperf tests benchmarks
	$(VENV)/bin/mypy
	$(PY) -m pytest -n 2 -q

test-fast: venv
	$(PY) -m pytest -n 2 -q -m "not slow"

lint: venv
	$(VENV)/bin/ruff check rrperf tests benchmarks
	$(VENV)/bin/mypy

bench: venv
	$(PY) benchmarks/bench_generate.py

# Apache Otava pins numpy==2.2.0: it gets its own environment, with rrperf installed beside it.
.venv-otava/.installed: pyproject.toml
	$(PYTHON) -m venv .venv-otava
	.venv-otava/bin/python -m pip install -q -e . apache-otava
	touch .venv-otava/.installed

bench-changepoints: .venv-otava/.installed
	for seed in 1 2 3; do .venv-otava/bin/python benchmarks/bench_changepoints.py --seed $$seed; done

clean:
	rm -rf $(VENV) .venv-otava node_modules .pytest_cache reports .rrperf
