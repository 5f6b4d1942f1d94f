# The two commands of the README. Both bootstrap .venv themselves (see dev.py).
PYTHON ?= python3

.PHONY: run test lint lock openapi bench bench-search bench-commands bench-latency bench-rebuild bench-extra setup demo

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

# requirements.lock, which the Docker image installs: every runtime dependency pinned with its
# hashes, for Python 3.12 on any platform. After changing pyproject.toml's dependencies (or to
# take newer releases: add --upgrade), then `python3 dev.py setup` (tests/test_lock.py checks it).
lock: setup
	.venv/bin/python -m uv --version >/dev/null 2>&1 \
		|| .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
	.venv/bin/python -m uv pip compile pyproject.toml --universal --python-version 3.12 \
		--generate-hashes --quiet -o requirements.lock $(ARGS)

openapi: setup
	.venv/bin/python -m app.cli.openapi write

bench: setup
	.venv/bin/python bench/append.py

bench-search: setup
	.venv/bin/python bench/search.py $(ARGS)

demo: setup
	.venv/bin/kmop demo $(ARGS)

# The benchmarks' contenders (the eventsourcing library) come from the `bench` extra, installed
# here only: `make test` does not need them. wrk: `apt-get install -y wrk`.
bench-extra: setup
	.venv/bin/python -c "import eventsourcing, psycopg_pool" 2>/dev/null \
		|| .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'

# This service's commands beside the contenders, under wrk (bench/lean.py; see BENCHMARKS.md).
bench-commands: bench-extra
	.venv/bin/python bench/lean.py $(ARGS)

# Latency of the commands from 1 and 32 httpx clients at given store sizes (bench/commands.py).
bench-latency: setup
	.venv/bin/python bench/commands.py $(ARGS)

bench-rebuild: setup
	.venv/bin/python bench/rebuild.py $(ARGS)
