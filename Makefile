# 邻里说事 — everything a newcomer needs: `make test` and `make run` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install test lint run demo simulator bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install the project with its test tools

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP)  ## lint, then the whole test suite (4 workers: most end-to-end time is waiting on I/O; idle workers steal queued tests)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 4 --dist worksteal

run: $(STAMP)  ## run the bot with the settings in .env (BOT_TOKEN, TELEGRAM_API_URL …)
	$(BIN)/residents-bot run

demo: $(STAMP)  ## demo community on the local simulator with a web chat page (DEMO_ARGS="--keep --port 8090")
	$(BIN)/residents-bot demo $(DEMO_ARGS)

simulator: $(STAMP)  ## start only the local Bot API simulator on 127.0.0.1:8081
	$(BIN)/residents-bot simulator --port 8081

bench: $(STAMP)  ## benchmarks that print figures (see docs/BENCHMARKS.md and docs/RELIABILITY.md)
	$(BIN)/python bench/classify.py
	$(BIN)/python bench/sweep.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/crash.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache data
