# ketml developer tasks. `make demo` and `make test` build the virtual environment on first use,
# with the tested versions of every dependency (constraints.txt, the lock file).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The lock file: the exact versions the test suite passed with. `make lock` refreshes it.
LOCK := constraints.txt
# Pinned torch, installed first on machines without an NVIDIA GPU so that the project's
# `torch>=` requirement is already met and pip does not fetch a multi-GB CUDA build.
TORCH_VERSION ?= 2.13.0
PYTEST_ARGS ?=
# Where `make test-latest` and `make lock` resolve the newest versions (never the working venv).
LATEST_VENV ?= .venv-latest

.PHONY: help venv demo test lint format bench bench-engines notebooks docs clean test-latest lock fresh-check

help:
	@echo "make venv         create $(VENV) and install ketml with its dev extras at the locked versions"
	@echo "make demo         train the hybrid quantum classifier on digits (writes runs/demo-*/)"
	@echo "make test         run the test suite (slow tests excluded; 'make test PYTEST_ARGS=\"-m slow\"')"
	@echo "make lint         ruff check and ruff format --check"
	@echo "make format       ruff format (rewrite files)"
	@echo "make bench        small circuits beside PennyLane, TorchQuantum, TensorCircuit-NG (quick; BENCH_ARGS= for the full run)"
	@echo "make bench-engines run the engine benchmark (benchmarks/engine_bench)"
	@echo "make notebooks    execute examples/*.ipynb in place, so they are committed with outputs"
	@echo "make docs         build the documentation site into docs/_build/html (warnings are errors)"
	@echo "make test-latest  the test suite on the newest versions of every dependency ($(LATEST_VENV))"
	@echo "make lock         test-latest, then write those versions to $(LOCK)"
	@echo "make fresh-check  clone HEAD into a temporary folder and run 'make demo' and 'make test' there"
	@echo "make clean        remove caches and build outputs (keeps $(VENV) and runs/)"

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# install-deps VENV_BIN CONSTRAINT_ARGS: CPU torch first where there is no NVIDIA GPU, then ketml.
# editable_mode=compat puts the checkout on sys.path, so `import data` finds our package even
# where the working directory has a data/ folder of its own (tests/data/test_import_name.py).
define install-deps
	$(1)/python -m pip install -q --upgrade $(2) pip
	@if ! command -v nvidia-smi >/dev/null 2>&1 && \
	    ! $(1)/python -c "import torch" >/dev/null 2>&1; then \
	  echo "no NVIDIA GPU: installing the CPU build of torch $(TORCH_VERSION)"; \
	  $(1)/python -m pip install "torch==$(TORCH_VERSION)"; \
	fi
	$(1)/python -m pip install $(2) -e '.[dev]' --config-settings editable_mode=compat
endef

$(STAMP): pyproject.toml $(LOCK) | $(BIN)/python
	$(call install-deps,$(BIN),-c $(LOCK))
	@touch $(STAMP)

demo: venv
	$(BIN)/ketml demo

# pytest exits with 5 when it collects no tests; that is not a failure here.
# One torch thread per test worker: two workers on two cores, no oversubscription.
define run-tests
	@OMP_NUM_THREADS=1 $(1)/python -m pytest -q -n 2 $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc
endef

test: venv
	$(call run-tests,$(BIN))

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .

# The peers beside ketml in one sitting (TorchQuantum and TensorCircuit-NG in venvs of their own under
# benchmarks/.peer_envs, built on first use). Quick by default (a few minutes); the committed run is
# `make bench BENCH_ARGS=` (every default: n=4..16 table, n=4..20 and batch sweeps, into benchmarks/results).
BENCH_ARGS ?= --quick --out /tmp/ketml-bench

bench: venv
	$(BIN)/python benchmarks/perf_small.py $(BENCH_ARGS)

bench-engines: venv
	$(BIN)/python -m benchmarks.engine_bench

notebooks: venv
	$(BIN)/python examples/run_notebooks.py

# The documentation site: the docs extra at the locked versions into the same venv, then Sphinx with
# warnings (broken references included, -n) as errors. The notebooks render from their stored outputs.
DOCS_STAMP := $(VENV)/.docs-installed
SPHINXOPTS ?=

$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -c $(LOCK) -e '.[docs]' --config-settings editable_mode=compat
	@touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(BIN)/python -m sphinx -W --keep-going -n $(SPHINXOPTS) -b html docs docs/_build/html
	@echo "open docs/_build/html/index.html"

# Drift on purpose: a fresh venv with whatever is newest today (torch stays at TORCH_VERSION on
# CPU machines), then the default suite.
test-latest:
	rm -rf $(LATEST_VENV)
	$(PYTHON) -m venv $(LATEST_VENV)
	$(call install-deps,$(LATEST_VENV)/bin,)
	$(call run-tests,$(LATEST_VENV)/bin)

# Refresh the lock file: only versions that just passed the suite are written.
lock: test-latest
	$(LATEST_VENV)/bin/python -m pip freeze --all --exclude-editable \
	  | sed -E 's/^([A-Za-z0-9_.-]+==[^+ ]+)\+[A-Za-z0-9.]+$$/\1/' > $(LOCK).new
	@{ echo "# Versions the test suite passed with (make lock, $$(date -u +%Y-%m-%d), Python $$($(LATEST_VENV)/bin/python -c 'import platform; print(platform.python_version())'))."; \
	   echo "# Used as pip constraints by make venv/demo/test and .ci/run; pyproject.toml keeps the ranges."; \
	   grep -v '^#' $(LOCK).new; } > $(LOCK) && rm -f $(LOCK).new
	@echo "wrote $(LOCK); review 'git diff $(LOCK)' and commit it"

# A new user's first minutes: clone what is committed into a temporary folder (no ../shared
# beside it), a fresh venv, then the README's two commands.
fresh-check:
	bash .ci/fresh-clone

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf
