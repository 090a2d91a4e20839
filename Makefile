# `make demo`, `make test`, `make test-min` and `make lab` work on a fresh clone with Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The floors environment: exactly the lowest versions pyproject.toml declares (see .ci/floors.py).
MIN_VENV := .venv-min
MIN_BIN  := $(MIN_VENV)/bin

.PHONY: demo test test-min test-deps lint lab dist bench clean postgresql

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes ("create/refresh .venv").
$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# dev includes the notebook extra: jupyterlab, ipykernel, nbclient, matplotlib …
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-base

demo: $(VENV)/.installed-base
	$(BIN)/python -m smscampaign demo

lint: $(VENV)/.installed-dev
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy smscampaign
	$(BIN)/lint-imports

# What the tests need from the machine that pip cannot bring: a CJK font for the figure tests
# (tests/test_report.py checks Chinese is drawn in one; without it, that the warning names it).
# Installed with Debian's apt where it is missing and we are root (CI, containers).
test-deps:
	@if ! fc-list :lang=zh 2>/dev/null | grep -q . && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-noto-cjk) \
	        || echo "warning: fonts-noto-cjk not installed; figures will warn"; \
	fi

# The team home's tests start a throwaway PostgreSQL server from the machine's binaries
# (tests/_postgres.py). Where there are none, Debian's package brings them when we are root (CI);
# elsewhere they are skipped with a note — but never in CI (CI=true), where they fail instead.
PG_CTL := $(firstword $(wildcard /usr/lib/postgresql/*/bin/pg_ctl) $(shell command -v pg_ctl))
postgresql:
ifeq ($(PG_CTL),)
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's postgresql package for the team home's tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else \
		echo "no PostgreSQL binaries: the team home's tests will be skipped (apt-get install postgresql)"; \
	fi
endif

test: lint test-deps postgresql
	$(BIN)/python -m pytest -q

# JupyterLab on the clone (notebooks/, sample_data/, reports/); the server runs until Ctrl-C.
# Jupyter refuses to run as root without --allow-root (containers, CI machines).
lab: $(VENV)/.installed-dev
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root)

# The wheel and the sdist, in dist/.
dist: $(VENV)/.installed-dev
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

# The whole suite on the declared floors (pins generated from pyproject.toml, rebuilt when it
# changes; pip's cache keeps a rebuild to downloads once).
$(MIN_VENV)/.installed: pyproject.toml .ci/floors.py
	rm -rf $(MIN_VENV)
	$(PYTHON) -m venv $(MIN_VENV)
	$(PYTHON) .ci/floors.py > $(MIN_VENV)/floors.txt
	$(MIN_BIN)/python -m pip install --quiet --prefer-binary -r $(MIN_VENV)/floors.txt
	$(MIN_BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

test-min: $(MIN_VENV)/.installed test-deps postgresql
	$(MIN_BIN)/python -m pip list --format=freeze | grep -iE '^(pandas|numpy|pyarrow|phonenumbers)=='
	$(MIN_BIN)/python -m pytest -q

bench: $(VENV)/.installed-dev
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) $(MIN_VENV) build dist *.egg-info reports .pytest_cache
