# Two commands do everything on a fresh machine:  make book   and   make test
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= cpu
# Photos: $BANDING_DATA if set, else the package's one default (banding_lib.data.data_root: the checkout's
# data/, else ../shared/data beside it on this project's machines). Results: $BANDING_RESULTS, else ./results.
BANDING_RESULTS ?= $(abspath results)
export BANDING_RESULTS

.PHONY: install test test-all book html bench clean runs scores notebooks pages pack FORCE

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

pack: install  ## the photo pack (git-ignored pack/, ~40 MiB) that travels to a GPU: benchmarks/gpu_science.py reads it
	$(PY) -m banding_lib pack --out pack

bench: install  ## benchmarks (not tests): tables + benchmarks/out/*.json; BENCH_ARGS="--book" also times make book
	$(PY) benchmarks/run.py all $(BENCH_ARGS)

# The book: jupytext -> papermill (executed notebooks into $(BOOK)) -> Jupyter Book 1 (executes nothing).
# BOOK and OUT let tests run the whole pipeline in a temporary folder (make book PROFILE=smoke BOOK=/tmp/b/book OUT=/tmp/b).
BOOK ?= book
OUT ?= .
JOBS ?= 2
NOTEBOOKS := $(sort $(wildcard notebooks/*.py))
EXECUTED := $(patsubst notebooks/%.py,$(BOOK)/%.ipynb,$(NOTEBOOKS))
PAGES := _toc.yml intro.md running.md references.md

runs: install  ## train every run the book shows (config.RUNS, config.STUDY) that the result cache lacks, $(JOBS) at a time
	$(PY) -m banding_lib train book --profile $(PROFILE) --jobs $(JOBS) --quiet

scores: runs  ## every score the book shows, computed once from the finished runs (the pages only read it)
	@mkdir -p $(BOOK)
	$(PY) -m banding_lib scores --profile $(PROFILE) --out $(BOOK)/scores.csv

# pages first: the notebooks run in $(BOOK) and draw their charts with the bundle in its static folder (published as _static)
# (make book runs `scores` once before the notebooks: STEPS_DONE=1 keeps the sub-make from running it again)
$(BOOK)/%.ipynb: notebooks/%.py $(if $(STEPS_DONE),,scores) pages FORCE
	@mkdir -p $(OUT)/_build/notebooks $(BOOK)
	$(VENV)/bin/jupytext --quiet --to ipynb -o $(OUT)/_build/notebooks/$*.ipynb $<
	$(VENV)/bin/papermill --no-progress-bar --start-timeout 300 --cwd $(BOOK) -p profile $(PROFILE) $(OUT)/_build/notebooks/$*.ipynb $@
	$(PY) -c 'import sys; from banding_lib.render import tidy_notebook; tidy_notebook(sys.argv[1])' $@

notebooks: $(EXECUTED)

pages:
	@mkdir -p $(BOOK)/static
	@if [ "$(abspath $(BOOK))" != "$(abspath book)" ]; then cp -r $(addprefix book/,$(PAGES)) book/static $(BOOK)/; fi

# The repository the book is published from (REPOSITORY_URL=https://github.com/OWNER/NAME, BRANCH=main): the pages'
# Binder and Colab buttons open their executed notebooks there. The publishing workflow passes its own; none: no buttons.
REPOSITORY_URL ?=
BRANCH ?= main
HTML_CONFIG := $(if $(REPOSITORY_URL),$(abspath $(OUT))/_build/_config.yml,$(abspath _config.yml))

html: install pages  ## the HTML book from the executed notebooks in $(BOOK), executing nothing
	$(if $(REPOSITORY_URL),$(PY) book/_ext/launch.py _config.yml '$(REPOSITORY_URL)' '$(BRANCH)' $(HTML_CONFIG))
	$(VENV)/bin/jupyter-book build $(BOOK) --config $(HTML_CONFIG) --toc $(abspath $(BOOK))/_toc.yml --path-output $(OUT) -W -n --keep-going

book: install runs scores
	$(MAKE) -j $(JOBS) notebooks STEPS_DONE=1
	$(MAKE) html
	@echo "book: $(abspath $(OUT))/_build/html/index.html"

FORCE:

clean:
	rm -rf _build
