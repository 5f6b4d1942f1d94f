# The two commands of the README. Both bootstrap .venv themselves (see dev.py).
PYTHON ?= python3

.PHONY: run test lint openapi bench bench-search setup demo

run:
	$(PYTHON) dev.py run $(ARGS)

test:
	$(PYTHON) dev.py test $(ARGS)

setup:
	$(PYTHON) dev.py setup

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy app tests bench

openapi: setup
	.venv/bin/python -m app.openapi write

bench: setup
	.venv/bin/python bench/append.py

bench-search: setup
	.venv/bin/python bench/search.py $(ARGS)

demo: setup
	.venv/bin/kmop demo $(ARGS)

bench-commands: setup
	.venv/bin/python bench/commands.py $(ARGS)

bench-rebuild: setup
	.venv/bin/python bench/rebuild.py $(ARGS)
