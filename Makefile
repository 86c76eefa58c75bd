# README's two commands: `make run` and `make test`. Both set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.pixdesk-installed

.PHONY: run demo test setup system-deps lint bench screenshots bundle clean

run: setup
	$(PY) -m pixdesk

demo: setup
	$(PY) -m pixdesk --demo

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q $(PYTEST_ARGS)

setup: system-deps $(STAMP)

system-deps:
	@bash packaging/system-deps.sh

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install -q -e '.[test,dev,bundle]'
	touch $(STAMP)

lint: setup
	$(VENV)/bin/ruff check pixdesk tests bench packaging
	$(VENV)/bin/ruff format --check pixdesk tests bench packaging
	$(VENV)/bin/mypy

bench: setup
	QT_QPA_PLATFORM=offscreen $(PY) bench/run_all.py

screenshots: setup
	bash packaging/screenshots.sh

bundle: setup
	bash packaging/build.sh

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
