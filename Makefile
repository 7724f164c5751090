# One entry point per task. `make book` and `make test` work on a fresh
# Debian/Ubuntu machine with Python 3.11, Node.js/npm and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MATHJAX_VERSION := 3.2.2
MATHJAX := .cache/mathjax/mathjax/tex-chtml.js
BOOK_FLAGS := -W -n --keep-going

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help setup system-deps book book-cold student-kit lint test test-fast release bench clean

help:
	@echo "make book     set up and build the site into _build/html (with the student kit)"
	@echo "make student-kit  build what students download into _build/kit (wheel and zip)"
	@echo "make lint     ruff (lint and format check), codespell and mypy"
	@echo "make test     set up, lint and run every test"
	@echo "make test-fast  the unit tests only (no grader runs, book builds or browsers)"
	@echo "make release  regenerate notebooks/ from solutions/"
	@echo "make bench    run the benchmarks and write benchmarks/REPORT.md"
	@echo "make clean    remove the build, caches and the virtual environment"

# The virtual environment, rebuilt whenever the requirements change.
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . \
	  || $(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# MathJax is served by the site itself, so maths renders offline.
$(MATHJAX):
	npm install --silent --no-save --no-audit --no-fund --prefix .cache/npm mathjax@$(MATHJAX_VERSION)
	rm -rf .cache/mathjax && mkdir -p .cache/mathjax/mathjax
	cd .cache/npm/node_modules/mathjax/es5 && cp -r tex-chtml.js input output a11y ui sre adaptors \
	  $(CURDIR)/.cache/mathjax/mathjax/

# Debian packages: npm (for MathJax), bubblewrap (the grader's sandbox) and chromium
# (the browser tests drive /usr/bin/chromium through Playwright).
system-deps:
	@missing=""; \
	command -v npm  >/dev/null || missing="$$missing npm"; \
	command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

setup: system-deps $(STAMP) $(MATHJAX)

# The student kit (a wheel and a zip); the site links both, so the book needs it first.
student-kit: setup
	$(BIN)/python -m autograder kit --out _build/kit

book: setup student-kit
	$(BIN)/jupyter-book build . $(BOOK_FLAGS)
	@echo "The site is built: open $(CURDIR)/_build/html/index.html"

book-cold: setup
	rm -rf _build
	$(MAKE) book

# The quality gate; every tool is configured in pyproject.toml (and run the same way by
# .pre-commit-config.yaml).
# Every tool runs, so one `make lint` reports all findings; it fails if any tool did.
lint: setup
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/codespell || status=1; \
	$(BIN)/mypy || status=1; \
	exit $$status

test: setup lint
	$(BIN)/python -m pytest

# Seconds, not minutes: everything not marked `slow` (see pyproject.toml's markers).
test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

release: setup
	$(BIN)/python -m autograder release

# Benchmarks print tables and write benchmarks/REPORT.md; they never fail on a slow
# machine. torch is an optional extra for the comparison column:
#   .venv/bin/pip install torch==2.13.0
bench: setup
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf _build .cache $(VENV) .pytest_cache
