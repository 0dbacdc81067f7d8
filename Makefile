# gapmap: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= runs/demo
SCALE  ?= 1.0

.PHONY: demo test lint format install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@# coverage.py / pytest-cov would shadow the engine package `coverage`
	@if $(BIN)/python -c "import importlib.util as u, sys; sys.exit(0 if u.find_spec('pytest_cov') else 1)"; then \
	  echo "pytest-cov is installed in $(VENV); remove it (it shadows the engine package 'coverage')"; exit 1; fi
	touch $(STAMP)

install: $(STAMP)

## demo: set up, build the synthetic Suedwestfalen data, run the analysis, print the summary
demo: $(STAMP)
	$(BIN)/gapmap demo --out $(OUT) --scale $(SCALE)

## test: lint, import-direction check, then the test suite
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/kernel.py --quick

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache .hypothesis
