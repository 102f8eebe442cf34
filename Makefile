# The two commands:  make run   (set up and start the app)   |   make test   (set up and run every test)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP_FLAGS ?= -q --disable-pip-version-check

.PHONY: run test lint e2e bench clean-venv aws-synth checkov

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

# checkov pins many dependencies of its own: its own virtual environment, not the project's
# (tests/unit/test_aws_tools.py runs this binary on the synthesized AWS template).
CHECKOV := .venv-checkov/bin/checkov
$(CHECKOV):
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install $(PIP_FLAGS) "checkov>=3.2,<4"

checkov: $(CHECKOV)

# The AWS CDK app (deploy/aws) -> CloudFormation in deploy/aws/cdk.out/; no AWS account or credentials needed.
# (jsii calls Debian's Node 18/20 end-of-life and prints a banner; it works, so the banner is silenced.)
aws-synth: $(VENV)/.all-deps
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=18,20 $(BIN)/python deploy/aws/app.py
	@echo "templates in deploy/aws/cdk.out/"

# The suites without a browser run on up to 4 pytest-xdist workers (their servers and databases are per test or
# per worker); the browser suites (e2e) after them, one at a time, with the machine to themselves: their
# servers, Chromium and WebRTC streams are what is slow, and they are timing-sensitive under load.
TEST_WORKERS ?= --numprocesses=auto --maxprocesses=4
test: $(VENV)/.all-deps $(CHECKOV)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/awsome db upgrade
	$(BIN)/pytest -m 'not e2e' $(TEST_WORKERS) $(PYTEST_ARGS)
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

lint: $(VENV)/.all-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check awsome_core

e2e: $(VENV)/.all-deps
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
