# rcakit: the two commands of the README, and the steps they are made of.
#   make demo   set everything up and open the guided tutorial in JupyterLab
#   make test   set everything up and run the whole test suite (tests + notebooks + browser)
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.rcakit-installed
PORT   ?= 8888

.PHONY: help venv demo demo-headless test test-fast lint browser-deps sample-data bench clean

help:
	@echo "make demo           set up .venv and open notebooks/01_quickstart.ipynb in JupyterLab"
	@echo "make demo-headless  set up .venv, run the quickstart pipeline and write quickstart-report.html"
	@echo "make test           set up .venv (and Debian chromium) and run every test and notebook"
	@echo "make test-fast      the quick part of the suite (no slow, notebook, browser or llm tests)"
	@echo "make lint           ruff and mypy"

$(STAMP): pyproject.toml binder/requirements.txt
	@# 3.11.5: the pinned docs stack (pymdown-extensions, soupsieve) needs it; Debian bookworm's 3.11.2 is too old.
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11, 5), "rcakit needs Python >= 3.11.5 (the pinned stack in binder/requirements.txt needs it), found " + sys.version + "; set PYTHON=/path/to/python3.11"' 
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# uv installs the stack in ~20 s instead of minutes (plain pip is the fallback); bytecode is compiled at
	@# install time because PYTHONDONTWRITEBYTECODE=1 environments otherwise re-parse DoWhy on every import.
	@# binder/requirements.txt pins every package at the version the tests last passed with (binder/pin.py writes
	@# it) and ends with `-e .[all]`: a fresh machine gets the tested versions, not whatever was released today.
	@($(BIN)/python -m pip install -q uv && $(BIN)/uv pip install --python $(BIN)/python -q --compile-bytecode \
	    -r binder/requirements.txt) \
	  || $(BIN)/python -m pip install -q -r binder/requirements.txt
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/rcakit demo

demo-headless: $(STAMP)
	$(BIN)/rcakit demo --headless --report quickstart-report.html

browser-deps:
	@# Browser tests drive Debian's chromium (never a downloaded browser); the standard-widget-manager test
	@# (tests/frontends/test_standard_manager_browser.py) bundles its page with node and npm (Debian's when missing).
	@# Only what is missing: a machine whose node already ships npm (NodeSource's nodejs) must not get Debian's npm,
	@# which conflicts with it.
	@PKGS="$$(command -v chromium >/dev/null 2>&1 || echo chromium) $$(command -v npm >/dev/null 2>&1 || echo nodejs npm)"; \
	if [ -n "$$(echo $$PKGS)" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$PKGS >/dev/null; \
	fi
	@command -v chromium >/dev/null && chromium --version
	@command -v npm >/dev/null && echo "node $$(node --version), npm $$(npm --version)"

test: $(STAMP) browser-deps
	$(BIN)/ruff check rcakit tests
	$(BIN)/mypy
	$(BIN)/python -m pytest --all -p no:cacheprovider tests notebooks --nbval-lax

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q tests

lint: $(STAMP)
	$(BIN)/ruff check rcakit tests
	$(BIN)/mypy

sample-data: $(STAMP)
	$(BIN)/python -m rcakit.sim.samples

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
