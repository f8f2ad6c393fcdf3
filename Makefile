# Every target that runs code depends on `install`, so each works on a fresh clone by itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install test lint demo bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest --nbmake --nbmake-timeout=600 tests notebooks

# The demo's exit code is 1 on purpose (two sample towns fail rules): only 0 and 1 are success.
demo: install
	$(BIN)/tongzhen demo --out data || test $$? -eq 1

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) data/processed/sample data/raw/sample
