# Two commands do everything on a fresh machine:  make book   and   make test
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= cpu
# Photos: $BANDING_DATA if set, else ../shared/data when it exists (this project's machines), else ./data.
BANDING_DATA ?= $(abspath $(if $(wildcard ../shared/data/imagenette2-160),../shared/data,data))
BANDING_RESULTS ?= $(abspath results)
export BANDING_DATA BANDING_RESULTS

.PHONY: install test test-all book html bench clean

install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

test: install  ## fast tests (slow ones: make test-all)
	$(PY) -m pytest -q -m "not slow"

test-all: install
	$(PY) -m pytest -q

html: install  ## the HTML book from the committed executed notebooks, executing nothing
	$(VENV)/bin/jupyter-book build book --config _config.yml --toc book/_toc.yml --path-output . -W -n --keep-going

book: install html

clean:
	rm -rf _build
