# The two commands of the README. Both bootstrap .venv themselves (see dev.py).
PYTHON ?= python3

.PHONY: run test lint openapi bench setup demo

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

demo: setup
	.venv/bin/kmop demo $(ARGS)
