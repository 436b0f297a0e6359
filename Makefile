# `make run` installs, initialises and serves; `make test` installs the dev extras and runs everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.13.0
PORT   ?= 8501

.PHONY: run test install dev init serve lint format bench browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The local CPU build of torch first, where none is present: an unpinned torch would pull GBs of CUDA.
$(VENV)/.torch: $(BIN)/python
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q $(TORCH)
	touch $@

$(VENV)/.installed: $(VENV)/.torch pyproject.toml
	$(BIN)/pip install -q -e '.[interview]'
	touch $@

$(VENV)/.dev: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev

init: install
	$(BIN)/quizapp init

serve: install
	$(BIN)/quizapp serve --server.port $(PORT)

# The server first; then, in the background, run and store every demo's defaults and linked presets.
run: init
	( sleep 5; nice $(BIN)/quizapp demo warm > data/demo-warm.log 2>&1 ) &
	$(BIN)/quizapp serve --server.port $(PORT)

# Browser tests drive Debian's chromium through Playwright; install it where it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: run 'sudo apt-get install chromium' (browser tests will skip)"; fi; }

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: dev browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: dev
	$(BIN)/python bench/demos.py
	$(BIN)/python bench/serve.py
	$(BIN)/python bench/answers.py
	$(BIN)/python bench/imports.py
	$(BIN)/python bench/keypoints.py

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
