# `make run` and `make test` install whatever is missing, then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test deps system-deps lint typecheck pytest bench clean

run: deps
	$(BIN)/assay demo --out out

test: deps lint typecheck pytest

deps: system-deps $(STAMP)

system-deps:
	@bash scripts/install-system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	CMAKE_ARGS="-DLLAVA_BUILD=OFF $$CMAKE_ARGS" $(BIN)/pip install -q -e '.[dev,llm]'
	touch $(STAMP)

lint:
	$(BIN)/ruff check src tests benchmarks

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest -q

bench: deps
	$(BIN)/python benchmarks/sandbox_overhead.py
	$(BIN)/python benchmarks/humaneval_throughput.py
	$(BIN)/python benchmarks/compiled_throughput.py
	$(BIN)/python benchmarks/io_throughput.py
	$(BIN)/python benchmarks/js_batch_throughput.py
	$(BIN)/python benchmarks/trace_capture.py
	$(BIN)/python benchmarks/scale_verify.py
	$(BIN)/python benchmarks/swe_build.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
