# seqexp developer commands. `make install` then `make test` on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install test test-slow lint format smoke bench bench-tiny sample clean

install:  ## virtualenv + seqexp (editable) + dev tools
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e ".[dev]"

# Two pytest workers: the tests are mostly single-threaded TF startup and tiny fits. `make test`
# leaves out the tests marked slow (real sweeps, searches, launchers, kills through processes):
# about 7 min on 2 idle CPU cores (README.md says the same); `make test-slow` runs those, and CI
# (.ci/run) runs both. No verdict depends on load.
test:  ## the suite without the slow tests, with coverage (it fails under the floor in pyproject.toml)
	$(BIN)/pytest -n 2 -m "not slow" --cov=seqexp --cov-report=term:skip-covered

test-slow:  ## the tests marked slow (CI runs them after make test)
	$(BIN)/pytest -n 2 -m slow

lint:  ## what CI and the pre-commit hooks check
	$(BIN)/ruff check seqexp hydra_plugins tests scripts benchmarks
	$(BIN)/ruff format --check seqexp hydra_plugins tests scripts benchmarks

format:
	$(BIN)/ruff check --fix seqexp hydra_plugins tests scripts benchmarks
	$(BIN)/ruff format seqexp hydra_plugins tests scripts benchmarks

smoke:  ## the first run: bundled synthetic sample, offline, < 1 min
	$(BIN)/seqexp train experiment=smoke

# The backends part (seqexp on JAX vs the script on JAX vs seqexp on TensorFlow) runs on the device
# the backend finds, GPU or CPU: `python -m benchmarks.run --only backends` alone (no TensorFlow needed).
# Its share of the times below is estimated (48 runs at full size, 24 tiny), not yet timed on idle cores.
bench:  ## the performance benchmark, side by side on this machine (~45 min on 2 cores): benchmarks/results/results.{json,md}
	$(BIN)/python -m benchmarks.run --size full --out benchmarks/results

bench-tiny:  ## the same benchmark at a toy size (~8 min on 2 idle cores): proves it runs, measures nothing
	$(BIN)/python -m benchmarks.run --size tiny --out benchmarks/results-tiny

sample:  ## regenerate the bundled synthetic Jena sample
	$(BIN)/python scripts/make_jena_sample.py

clean:
	rm -rf outputs multirun .pytest_cache .ruff_cache
