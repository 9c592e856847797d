# The course kit's commands. `make help` lists them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: help install book test check lint bench clean

help:  ## list the commands
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 10

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the kit with every extra (idempotent)

book: $(STAMP)  ## build the HTML book into _build/html (cached: unchanged chapters do not rerun)
	$(BIN)/jb build . --warningiserror --nitpick --keep-going
	@echo "The book is at $(CURDIR)/_build/html/index.html"

lint: $(STAMP)  ## ruff: lint rules (stale noqa included) and formatting
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: lint  ## lint and the quick tests (the inner loop)
	$(BIN)/python -m pytest -m "not slow" -q

test: lint  ## the whole suite: quick tests, book build, real nbgrader runs, browser
	$(BIN)/python -m pytest -q

bench: $(STAMP)  ## timings: book builds, grading speed and parallel throughput
	$(BIN)/python -m benchmarks

clean:  ## remove the build, caches and grading output (keeps .venv)
	rm -rf _build .pytest_cache .ruff_cache .hypothesis autograded feedback grading_reports \
	       gradebook.db exchange grades.csv grades_totals.csv
