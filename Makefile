# Every target works on a fresh clone: `make test` installs what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
BENCH_VENV := bench/.venv
BENCH_BIN := $(BENCH_VENV)/bin
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: install generate update-spec test demo lint format bench clean

install: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Prism, the mock server of the contract tests (tests/contract); without npm they skip.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund && touch $(NODE_STAMP); \
	else \
		echo "npm is not installed: the Prism contract tests will be skipped"; \
	fi

generate: $(STAMP)
	$(BIN)/python -m codegen

# Pachca's new spec into ours (their structure, our words), then the package from it:
# `make update-spec FROM=path/to/published/openapi.yaml`.
update-spec: $(STAMP)
	@test -n "$(FROM)" || { echo "usage: make update-spec FROM=path/to/openapi.yaml"; exit 2; }
	$(BIN)/python -m codegen.update_spec "$(FROM)"
	$(BIN)/python -m codegen

test: install
	$(BIN)/python -m pytest -W error::ResourceWarning

# The SDK's main job end to end against a local stand-in API: no account, no token.
demo: $(STAMP)
	$(BIN)/python examples/demo.py

# Type-checks the package and codegen, the examples, and the README's code (see tests/readme.py).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy --strict examples
	$(BIN)/python -m tests.readme

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks run in their own environment: the package (editable, with `speedups`) plus what
# only they need (bench/requirements.txt), kept out of the package's dependencies.
# `make bench` runs them all; `make bench BENCH=parse` runs one.
bench: $(BENCH_STAMP)
	$(BENCH_BIN)/python -m bench $(BENCH)

$(BENCH_STAMP): pyproject.toml bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_BIN)/python -m pip install --quiet --upgrade pip
	$(BENCH_BIN)/python -m pip install --quiet -e '.[speedups]' -r bench/requirements.txt
	touch $(BENCH_STAMP)

clean:
	rm -rf $(VENV) $(BENCH_VENV) node_modules .mypy_cache .ruff_cache .pytest_cache
