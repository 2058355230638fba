# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make demo   - a real 4-worker gunicorn, real traffic, and the table of job runs
#   make test   - the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test lint check clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,django]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/python examples/demo/run_demo.py

test: $(BIN)/.installed
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check lazycron tests examples benchmarks
	$(BIN)/ruff format --check lazycron tests examples benchmarks
	$(BIN)/mypy

check: lint test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
