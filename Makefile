# The two commands:  make run   (set up and start the app)   |   make test   (set up and run every test)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP_FLAGS ?= -q --disable-pip-version-check

.PHONY: run test lint e2e bench clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_FLAGS) --upgrade pip

# The app needs only the runtime dependencies (no TensorFlow): fast first start.
$(VENV)/.app-deps: $(BIN)/python requirements-app.txt pyproject.toml
	$(BIN)/pip install $(PIP_FLAGS) -r requirements-app.txt
	$(BIN)/pip install $(PIP_FLAGS) --no-deps -e .
	touch $@

# Tests and training need everything.
$(VENV)/.all-deps: $(VENV)/.app-deps requirements.txt
	$(BIN)/pip install $(PIP_FLAGS) -r requirements.txt
	touch $@

run: $(VENV)/.app-deps
	$(BIN)/awsome db upgrade
	$(BIN)/streamlit run app.py

test: $(VENV)/.all-deps
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/awsome db upgrade
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.all-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check awsome_core

e2e: $(VENV)/.all-deps
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
