# The course kit's commands. `make help` lists them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: help install exercises book site test check lint bench clean

help:  ## list the commands
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 10

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# nbgrader reads the environment's etc/jupyter/nbgrader_config.py wherever it is started: this
# one points a command started in a course's subfolder at that course (a new, empty gradebook
# was made there). An editable install does not install data files, so it is copied here.
JUPYTER_CONFIG := $(VENV)/etc/jupyter/nbgrader_config.py

$(JUPYTER_CONFIG): jupyter-config/nbgrader_config.py $(STAMP)
	install -D -m 644 $< $@

install: $(STAMP) $(JUPYTER_CONFIG)  ## create .venv and install the kit with every extra (idempotent)

# After recording the references (python -m lstm_grader.record NN-topic), and after changing
# the course's address: each student version's first cell installs the library from it.
# nbgrader runs `alembic` by name when it creates the gradebook, so the environment's scripts
# go on PATH: a fresh clone has no gradebook, and its shell need not be activated.
exercises: $(STAMP)  ## regenerate the student versions in exercises/ from solutions/
	for assignment in $$(ls solutions); do \
	    test ! -d solutions/$$assignment || PATH="$(abspath $(BIN)):$$PATH" \
	        $(BIN)/nbgrader generate_assignment $$assignment --force --log-level=WARN || exit 1; \
	done

# The execution cache knows each chapter's own code only, so a change to what the chapters
# call (lstm_lib, the installed packages) or read (the solutions and references, in chapter
# 10) would leave old outputs and figures on the page: such a change clears the cache.
CHAPTER_INPUTS := $(shell find lstm_lib solutions references -type f \
                    \( -name '*.py' -o -name '*.ipynb' -o -name '*.json' \) 2>/dev/null)
CACHE_STAMP := _build/.jupyter_cache-inputs

$(CACHE_STAMP): $(CHAPTER_INPUTS) $(STAMP)
	rm -rf _build/.jupyter_cache $(SITE_BUILD)/_build/.jupyter_cache
	mkdir -p _build
	touch $@

# Sphinx writes a page again only when its source changed: a cleared execution cache, or a
# change to the book's own extensions (which write every page's markup, styles and scripts),
# would leave every page as it was. Such a change drops Sphinx's saved environment too.
BOOK_EXTENSIONS := $(shell find book/_ext -type f \( -name '*.py' -o -name '*.css' -o -name '*.js' \))
DOCTREES_STAMP := _build/.doctrees-inputs

$(DOCTREES_STAMP): $(BOOK_EXTENSIONS) $(CACHE_STAMP)
	rm -rf _build/.doctrees $(SITE_BUILD)/_build/.doctrees
	touch $@

book: $(STAMP) $(DOCTREES_STAMP)  ## build the HTML book into _build/html (cached: unchanged chapters do not rerun)
	$(BIN)/jb build . --warningiserror --nitpick --keep-going
	@echo "The book is at $(CURDIR)/_build/html/index.html"

# `make site`'s course address is _config.yml's repository.url. COURSE_URL=https://github.com/o/r
# (argument or environment) publishes under that address without editing the config: the book
# is then built from a copy of the config in _build/site-build, and `make book`'s _build/html
# keeps the config's address.
COURSE_URL ?=
export COURSE_URL
SITE := _build/site
SITE_BUILD := _build/site-build

site: $(STAMP) $(DOCTREES_STAMP)  ## build and check _build/site, the folder to publish (set repository.url first)
	@# A failed run leaves no older folder behind that looks ready to upload.
	rm -rf $(SITE)
	$(BIN)/python -m lstm_grader.site address
ifeq ($(strip $(COURSE_URL)),)
	@# Colab opens the student notebooks from the repository: they must install from here.
	$(BIN)/python -m lstm_grader.site notebooks
	$(MAKE) book
	$(BIN)/python -m lstm_grader.site assemble _build/html $(SITE)
else
	$(BIN)/python -m lstm_grader.site config $(SITE_BUILD)/_config.yml
	$(BIN)/jb build . --config $(SITE_BUILD)/_config.yml --path-output $(SITE_BUILD) \
	    --warningiserror --nitpick --keep-going
	$(BIN)/python -m lstm_grader.site assemble $(SITE_BUILD)/_build/html $(SITE)
endif
	$(BIN)/python -m lstm_grader.site check $(SITE)
	@echo "The folder to publish is $(CURDIR)/$(SITE)"

lint: install  ## ruff: lint rules (stale noqa included) and formatting
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The whole quick suite runs side by side on up to 4 cores by itself (tests/conftest.py,
# quick_suite_processes). `make test` then runs the slow tests in two pytest processes side
# by side (tests/conftest.py, BOOK_SIDE_FILES): the book's, and the grading tests', which
# time grading classes and clusters and so run one at a time within their stream.
check: lint  ## lint and the quick tests on the machine's cores (the inner loop)
	$(BIN)/python -m pytest -m "not slow" -q

test: check  ## the whole suite: quick tests, book build, real nbgrader runs, browser
	$(MAKE) --no-print-directory -j2 slow-tests-book slow-tests-grading

slow-tests-%: $(STAMP)
	$(BIN)/python -m pytest -m slow -q --stream=$*

bench: $(STAMP)  ## timings: book builds, grading speed and parallel throughput
	$(BIN)/python -m benchmarks

clean:  ## remove the build, caches and grading output (keeps .venv)
	rm -rf _build .pytest_cache .ruff_cache .hypothesis autograded feedback grading_reports \
	       gradebook.db exchange grades.csv grades_totals.csv
