# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make demo   - a real 4-worker gunicorn, real traffic, and the table of job runs
#   make demo-multihost - two gunicorn "hosts" sharing only a Redis, runs with their HOST
#   make test   - the whole test suite
#   make bench  - the benchmarks (about 10 minutes; make bench-quick for a smoke run);
#                 they write BENCHMARKS.md. Needs wrk (apt-get install -y wrk).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PEERS   = benchmarks/.venv-peers

.PHONY: demo demo-multihost test lint check clean bench bench-quick

# Everything the tests, the linters and the Django matrix need, in one venv. The test and
# lint tools are dependency groups in pyproject.toml (not extras), and `--group` needs
# pip 25.1 or later, hence the upgrade first.
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade 'pip>=25.1'
	$(BIN)/pip install --quiet -e '.[django]' --group dev
	touch $@

demo: $(BIN)/.installed
	$(BIN)/python examples/demo/run_demo.py

# Two gunicorn "hosts" (3 workers each, own directories) sharing only the local Redis
# (127.0.0.1:6379, or $$REDIS_URL) under a fresh key prefix: the runs table with a HOST column.
demo-multihost: $(BIN)/.installed
	$(BIN)/python examples/demo/run_multihost.py

# The whole suite, with coverage of lazycron/; it fails under the floor set in pyproject.toml
# ([tool.coverage.report] fail_under). A single file: $(BIN)/python -m pytest tests/x.py
test: $(BIN)/.installed
	$(BIN)/python -m pytest --cov

lint: $(BIN)/.installed
	$(BIN)/ruff check lazycron tests examples benchmarks noxfile.py
	$(BIN)/ruff format --check lazycron tests examples benchmarks noxfile.py
	$(BIN)/mypy

check: lint test

# The peers (pseudo-cron pins Django 3.2, so it goes in without its pins, on the same Django
# as the main venv; django-poormanscron is installed only to show that it no longer imports).
$(PEERS)/.installed: $(BIN)/.installed
	$(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/pip install --quiet -e . gunicorn "apscheduler>=3.10,<4" pytz \
		"Django==$$($(BIN)/python -c 'import django; print(django.get_version())')"
	$(PEERS)/bin/pip install --quiet --no-deps pseudo-cron==1.0.4 django-poormanscron==0.1.3
	touch $@

bench: $(BIN)/.installed $(PEERS)/.installed
	$(BIN)/python benchmarks/run_all.py

bench-quick: $(BIN)/.installed $(PEERS)/.installed
	$(BIN)/python benchmarks/run_all.py --quick

clean:
	rm -rf $(VENV) .nox .coverage .pytest_cache .mypy_cache .ruff_cache .hypothesis
