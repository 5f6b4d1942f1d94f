"""The ``eventsourcing`` library as a contender: an aggregate created per request, saved by the
library's PostgreSQL recorder (psycopg 3, its own connection pool) in a database of its own.

    ES_DSN=postgresql://postgres@127.0.0.1:5432/db .venv/bin/uvicorn bench.es_contender:app

``POST /providers`` takes the JSON body of an application, creates a ``Provider`` aggregate
from it and saves it (``Application.save``: one transaction, the library's own SQL). The
endpoint is a plain ``def``, so FastAPI runs it on its thread pool, limited here to
``THREADS`` (8) threads, with a psycopg pool of 8 connections: 8 saves in flight at once, as
the 8 writers of the raw contender. ``saves_in_threads`` runs the same saves without HTTP from
8 threads. Installed by the ``bench`` extra (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from fastapi import FastAPI, Request, Response

THREADS = 8


# The ignores: `make lint` runs without the bench extra, when these bases are Any to mypy.
class Provider(Aggregate):  # type: ignore[misc, unused-ignore]
    @event("Applied")  # type: ignore[untyped-decorator, unused-ignore]
    def __init__(self, provider_name: str, service_type: str, body: dict[str, Any]) -> None:
        self.provider_name = provider_name
        self.service_type = service_type
        self.body = body


class Registry(Application[Any]):  # type: ignore[misc, unused-ignore]
    pass


def registry(dsn: str, threads: int = THREADS) -> Registry:
    """The library's application on the PostgreSQL database ``dsn`` (its tables created)."""
    url = urlsplit(dsn)
    return Registry(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/"),
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "postgres",
            "POSTGRES_PASSWORD": url.password or "",
            "POSTGRES_POOL_SIZE": str(threads),
            "POSTGRES_MAX_OVERFLOW": "0",
            "CREATE_TABLE": "true",
        }
    )


def save(app: Registry, body: dict[str, Any]) -> str:
    provider = Provider(body["provider_name"], body["service_type"], body)
    app.save(provider)
    return str(provider.id)


@asynccontextmanager
async def lifespan(api: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
    api.state.registry = registry(os.environ["ES_DSN"])
    yield
    api.state.registry.close()


app = FastAPI(lifespan=lifespan)


@app.post("/providers")
def create(body: dict[str, Any], request: Request) -> Response:
    save(request.app.state.registry, body)
    return Response(status_code=201)


def saves_in_threads(
    dsn: str,
    body: dict[str, Any],
    seconds: float,
    threads: int = THREADS,
    around: tuple[Callable[[], object], Callable[[], object]] | None = None,
) -> float:
    """Aggregates saved per second by ``threads`` threads sharing one application, no HTTP;
    ``around``: called just before and just after the timed part (a CPU meter)."""
    app = registry(dsn, threads)
    for _ in range(threads):  # the pool's connections and the statements' first run
        save(app, body)
    done = [0] * threads
    deadline = time.perf_counter() + seconds

    def run(t: int) -> None:
        while time.perf_counter() < deadline:
            save(app, body)
            done[t] += 1

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    if around:
        around[0]()
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if around:
        around[1]()
    app.close()
    return sum(done) / elapsed
