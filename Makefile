# ketml developer tasks. `make demo` and `make test` build the virtual environment on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Pinned torch, installed first on machines without an NVIDIA GPU so that the project's
# `torch>=` requirement is already met and pip does not fetch a multi-GB CUDA build.
TORCH_VERSION ?= 2.13.0
PYTEST_ARGS ?=

.PHONY: help venv demo test lint bench clean

help:
	@echo "make venv   create $(VENV) and install ketml with its dev extras (editable)"
	@echo "make demo   train the hybrid quantum classifier on digits (writes runs/demo-*/)"
	@echo "make test   run the test suite (slow tests excluded; 'make test PYTEST_ARGS=\"-m slow\"')"
	@echo "make lint   ruff check"
	@echo "make bench  run benchmarks/engine_bench.py"
	@echo "make clean  remove caches and build outputs (keeps $(VENV) and runs/)"

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	@if ! command -v nvidia-smi >/dev/null 2>&1 && \
	    ! $(BIN)/python -c "import torch" >/dev/null 2>&1; then \
	  echo "no NVIDIA GPU: installing the CPU build of torch $(TORCH_VERSION)"; \
	  $(BIN)/python -m pip install "torch==$(TORCH_VERSION)"; \
	fi
	$(BIN)/python -m pip install -e '.[dev]'
	@touch $(STAMP)

demo: venv
	$(BIN)/ketml demo

# pytest exits with 5 when it collects no tests; that is not a failure here.
# One torch thread per test worker: two workers on two cores, no oversubscription.
test: venv
	@OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

lint: venv
	$(BIN)/ruff check .

bench: venv
	$(BIN)/python benchmarks/engine_bench.py

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf
