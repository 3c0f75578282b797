# Two entry points that work on a fresh machine with only python3 (3.11+):
#   make demo   set up .venv, run the demo experiment, write its report under results/
#   make test   set up .venv, run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-newest bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,distributed]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sim run experiments/demo.toml

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

# The same package on the newest Python and Mesa (3.5 needs Python 3.12+): fast tests only.
PYTHON_NEWEST ?= python3.12
VENV_NEWEST   := .venv-newest
test-newest:
	$(PYTHON_NEWEST) -m venv $(VENV_NEWEST)
	$(VENV_NEWEST)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_NEWEST)/bin/python -m pip install --quiet -e ".[dev]"
	$(VENV_NEWEST)/bin/python -m pytest -q -n 2 -m "not slow and not validation" \
	  -W error::FutureWarning -W error::DeprecationWarning -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_runner.py
	$(BIN)/python benchmarks/bench_report.py

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks

clean:
	rm -rf $(VENV) $(VENV_NEWEST) .pytest_cache
