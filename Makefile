# paperlib: one-command set-up. `make book` builds the HTML book (default profile: embedded);
# `make test` runs ruff, every unit test and nbval on every chapter notebook in the smoke profile; `make test-books`
# the -W builds of the books that are checks: the smoke profile's and the paper profile's rehearsal (every chapter in
# `paper` on a fake data root, `make notebooks-paper`). CI (.ci/run) runs both, one after the other.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)
export PYTHONUNBUFFERED := 1
PROFILE ?= embedded
JB := jupyter-book build -W --keep-going

.PHONY: venv book test test-books lint unit nbval book-smoke notebooks-smoke notebooks-paper bench foundation foundation-resnet clean clean-cache

venv: $(STAMP)

# Re-installs whenever requirements.txt or pyproject.toml change. pip installs without compiling (137 s measured on
# 2 cores, against about 240 s compiling as it installs).
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the pinned requirements into $(VENV) (about 3 minutes the first time)..."
	$(BIN)/python -m pip install --disable-pip-version-check -q --no-compile -r requirements.txt
	$(BIN)/python -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	@touch $@

# Python keeps the bytecode of what it imports (.pyc files) for every later process, even where the environment says
# PYTHONDONTWRITEBYTECODE: without them each process (a test's subprocess, a notebook kernel, a worker) would compile
# every module it imports again. Compiling only what is imported, once, replaced compiling the whole venv ahead
# (compileall, 53 s on 2 cores).
unexport PYTHONDONTWRITEBYTECODE

# Execute every chapter in $(PROFILE) into book/chapters, then build _build/html.
book: $(STAMP)
	python -m paperlib.equations --out book/equations.md
	python scripts/book.py execute --profile $(PROFILE) --out book/chapters
	$(JB) .
	@echo "book: $(CURDIR)/_build/html/index.html"

# ruff (pinned in requirements.txt, configured in pyproject.toml): lint and import order.
lint: $(STAMP)
	ruff check paperlib tests scripts

unit: $(STAMP)
	python -m pytest -q -p no:cacheprovider --durations=5 tests

# nbval on every chapter in the smoke profile: papermill writes each notebook with the smoke parameters injected
# (executing nothing) and nbval executes it, failing on any error. Two notebooks at a time (pytest-xdist; all of a
# notebook's cells in one kernel, in order), one torch thread each: 105 s against 148 s one after another, run cache
# cold, on 2 cores (2026-12-02).
nbval: $(STAMP)
	python scripts/book.py execute --profile smoke --out _build/smoke/nbval --prepare-only
	OMP_NUM_THREADS=1 python -m pytest -q --nbval-lax -p no:cacheprovider -n 2 --dist loadfile _build/smoke/nbval

# Smoke-profile notebooks executed into _build/smoke (two side by side, one torch thread each: 94 s instead of about
# 120 s one after another) and a -W book build of that copy.
book-smoke: $(STAMP)
	python scripts/book.py execute --profile smoke --out _build/smoke/chapters --jobs 2
	python scripts/book.py stage --chapters _build/smoke/chapters --out _build/smoke/site
	$(JB) _build/smoke/site

notebooks-smoke: nbval book-smoke

# The paper profile's rehearsal (paperlib.rehearsal): a fake data root in the papers' real formats (kept in
# _build/paper/data), every chapter that has a paper profile executed in `paper` on it with the papers'
# architectures (random weights where they start pretrained, nothing downloaded) and one or two steps per run,
# and a -W build of that book. Its runs go to _build/paper/cache, never the run cache. Part of `make test-books`, which
# CI runs after `make test` (.ci/run): inside it, its minutes would put make test over its 10-minute budget.
notebooks-paper: $(STAMP)
	python scripts/book.py rehearse --out _build/paper/chapters --data _build/paper/data --jobs 2
	python scripts/book.py stage --chapters _build/paper/chapters --out _build/paper/site --prune
	$(JB) _build/paper/site

# One after the other: run side by side on a fresh clone, the unit tests and nbval's kernels (cold run cache) took
# 606 s together against about 470 s in turn (torch's threads of both spinning on 2 cores).
test: lint unit nbval

# CI's second tier (.ci/run, after make test): the books that are checks, each built with -W from its own executed
# notebooks: the smoke profile's and the paper profile's rehearsal.
test-books: book-smoke notebooks-paper

# Speed and memory of the fine-tuning paradigms (ch5), gradient calibration (ch1) and runs trained together
# (paperlib.batched) and on worker processes, and the paper architectures' speed with every chapter's paper-protocol
# GPU-hours (paperlib.cost); writes book/bench/{linearization,calibration,together,workers,paper_cost}.json, which
# the book's appendix shows. Uses a GPU when one is present.
bench: $(STAMP)
	python -m paperlib.bench --out book/bench/linearization.json

# Re-make the shipped embedded foundation model (paperlib/models/shipped/tiny_clip; about 65 min on 2 cores, resumable).
foundation: $(STAMP)
	python -m paperlib.foundation

# Re-make chapter 2's pretrained ResNet (paperlib/models/shipped/tiny_resnet; about 17 min on 2 cores, resumable).
foundation-resnet: $(STAMP)
	python -m paperlib.resnet_foundation

clean:
	rm -rf _build book/chapters

# Generated data and run results (safe to delete: regenerated identically).
clean-cache:
	rm -rf .cache
