# Fresh machine: `make run` sets up and runs the default experiment; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 2

.PHONY: setup system-deps test-deps run test lint report clean

$(BIN)/snakemake: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# bubblewrap runs the agents' sandbox; installed with apt-get when missing and we are root.
system-deps:
	@command -v bwrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; \
	  else \
	    echo "bubblewrap is missing: install it (apt-get install bubblewrap), or set 'sandbox: none' in config/config.yaml"; exit 1; \
	  fi; }

setup: $(BIN)/snakemake system-deps

# Chromium for the browser test of the report charts; without it that test is skipped.
test-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } \
	      || echo "could not install chromium: the browser test of the charts will be skipped"; \
	  else \
	    echo "chromium is missing (apt-get install chromium): the browser test of the charts will be skipped"; \
	  fi; }

run: setup
	$(BIN)/snakemake --cores $(CORES)

report: setup
	$(BIN)/snakemake --cores 1 --report results/report.zip

test: setup test-deps
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check mlepipe tests scripts benchmarks competitions
	$(BIN)/ruff format --check mlepipe tests scripts benchmarks competitions
	.ci/snakemake-lint $(BIN)/snakemake

clean:
	rm -rf results .snakemake
