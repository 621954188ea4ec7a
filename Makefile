# Everything bootstraps a local virtual environment from nothing: only python3 (3.11+) and make are needed.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: test demo bench soak lint typecheck clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

lint: $(BIN)/.installed
	$(BIN)/ruff check pipework tests benchmarks examples
	$(BIN)/ruff format --check --quiet pipework tests benchmarks examples

typecheck: $(BIN)/.installed
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest

demo: $(BIN)/.installed
	$(BIN)/pipework demo

bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks

soak: $(BIN)/.installed
	PIPEWORK_SOAK=long $(BIN)/python -m pytest tests/reliability -q -s

clean:
	rm -rf $(VENV) build *.egg-info
