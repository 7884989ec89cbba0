# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: install run test test-fast lint bench bench-compare clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

## Run the default study (breast_cancer) on the local store under mlruns/.
run: install
	$(BIN)/tune run

# Test processes (pytest-xdist): the slow tests mostly wait on worker processes and
# stores, so two processes share two cores well. `make test TEST_WORKERS=0` runs serially.
TEST_WORKERS ?= 2

## Install and run the whole test suite.
test: install
	$(BIN)/pytest -n $(TEST_WORKERS)

## Everything but the end-to-end studies.
test-fast: install
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy search spaces objectives bench

bench: install
	$(BIN)/python bench/trial_overhead.py
	$(BIN)/python bench/trial_breakdown.py
	$(BIN)/python bench/train_input.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/workers.py

## tune against KerasTuner and a hand-written Optuna loop, quick version (about 30 min);
## the full command is in bench/RESULTS.md. It installs the bench extra (KerasTuner) first.
bench-compare: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/compare.py --seeds 0 --budget 60 --datasets digits hard_classes outliers \
		--report-to bench/compare/quick/RESULTS.md

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
