# Paper Lab: the two commands a reader needs are `make book` and `make test`.
# Both create .venv and install everything on first use (Python 3.11 and make are enough);
# the set-up is skipped while requirements.txt and pyproject.toml are unchanged.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.paperlab-installed
HTML   := _build/html
CHROMIUM ?= /usr/bin/chromium
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Tests and the book always use the same thread count, whatever the machine.
export OMP_NUM_THREADS ?= 2

.PHONY: help setup book test unit notebooks site browser lab serve bench strip clean

help:
	@echo "make book   build the website into $(HTML) (executes every chapter, cached)"
	@echo "make test   unit tests, book-wide checks, every notebook, the site build and a browser test"
	@echo "make lab    JupyterLab on the chapters, with live sliders"
	@echo "make serve  serve the built website on http://127.0.0.1:8000"
	@echo "make bench  time every chapter and every slider (not part of the tests)"
	@echo "make strip  remove outputs from every notebook before committing"
	@echo "make clean  remove the build (keeps .venv)"

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

book: setup
	mkdir -p _build/checks && rm -f _build/checks/book.jsonl
	PAPERLAB_STATIC=1 PAPERLAB_RECORD=$(CURDIR)/_build/checks/book.jsonl \
	  $(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo "Open $(CURDIR)/$(HTML)/index.html"

unit: setup
	$(BIN)/python -m pytest tests --ignore=tests/site -q

notebooks: setup
	mkdir -p _build/checks && rm -f _build/checks/nbval.jsonl
	PAPERLAB_RECORD=$(CURDIR)/_build/checks/nbval.jsonl \
	  $(BIN)/python -m pytest --nbval-lax notebooks -q -p no:cacheprovider

browser:
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the site test"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

site: setup browser
	CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest tests/site -q

test: unit notebooks book site

lab: setup
	$(BIN)/jupyter lab notebooks

serve:
	@test -f $(HTML)/index.html || { echo "Run make book first"; exit 1; }
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory $(HTML) 8000

bench: setup
	$(BIN)/python benchmarks/run.py

strip: setup
	$(BIN)/jupyter nbconvert --clear-output --inplace notebooks/*/*.ipynb

clean:
	rm -rf _build
