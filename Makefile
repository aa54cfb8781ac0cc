# Every target works on a fresh clone: `make test` installs what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
BENCH_VENV := bench/.venv
BENCH_BIN := $(BENCH_VENV)/bin
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: install generate update-spec test demo lint format docs docs-serve bench clean

install: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# pip >= 25.1 reads PEP 735 groups. --no-compile: bytecode is written on first import instead
	# of for every module installed (boto3 and moto bring thousands the tests never import).
	$(BIN)/python -m pip install --quiet --no-compile -e . --group dev
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

# The documentation site (docs/, mkdocs.yml) into site/. --strict: a warning, such as a broken
# reference, fails the build. Nothing is fetched: no web fonts, no plugin that downloads.
# NO_MKDOCS_2_WARNING: Material prints a banner about its successor on every build otherwise.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --strict

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
	rm -rf $(VENV) $(BENCH_VENV) node_modules site dist .mypy_cache .ruff_cache .pytest_cache
