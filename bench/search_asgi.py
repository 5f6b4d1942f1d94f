"""The server's own CPU per public search, without HTTP: the app as ``kmop serve`` makes it
(``create_app``, its lifespan, its middlewares, its JSON access log, here to /dev/null), called
through its ASGI interface with one ``GET /public/providers`` scope per query, one at a time.

    PYTHONPATH=. .venv/bin/python -m bench.search_asgi --database-url postgresql://.../DB

The queries are ``bench/search.py``'s (``build_queries``) from a database it kept (``--keep``).
``time.process_time()`` is the whole process's CPU (the app, asyncpg, any worker threads), so
no client and no socket between client and server is counted; PostgreSQL's CPU is not either.
Run it from two checkouts alternately (``PYTHONPATH``) to compare their code: see BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import time
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import create_async_engine

from app.domain.policies import today
from bench.search_queries import build_queries, listed_sample
from bench.search_server import percentile


async def measure(url: str, kind: str, requests: int, warm: int, devnull: TextIO) -> str:
    from app.main import create_app
    from app.runtime.logs import configure_logging

    os.environ.update(
        KMOP_DATABASE_URL=url,
        KMOP_ENVIRONMENT="development",
        KMOP_DEADLINE_INTERVAL_SECONDS="0",
        KMOP_CHECKPOINT_INTERVAL_SECONDS="0",
    )
    configure_logging(json=True)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    async with engine.connect() as conn:
        sample = await listed_sample(conn, today(datetime.now(UTC)))
    await engine.dispose()
    rng = random.Random(2)
    queries = [urlencode(build_queries(rng, kind, sample)).encode() for _ in range(warm + requests)]
    app = create_app()

    async def call(query: bytes) -> None:
        scope: dict[str, Any] = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": "/public/providers", "raw_path": b"/public/providers",
            "query_string": query, "root_path": "", "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80), "state": {},
            "headers": [(b"host", b"bench"), (b"accept-encoding", b"gzip, deflate")],
        }  # fmt: skip
        sent: list[MutableMapping[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        if sent[0]["status"] != 200:
            raise RuntimeError(f"{query!r}: {sent}")

    latencies = []
    async with app.router.lifespan_context(app):
        for query in queries[:warm]:
            await call(query)
        wall, cpu = time.perf_counter(), time.process_time()
        for query in queries[warm:]:
            started = time.perf_counter()
            await call(query)
            latencies.append((time.perf_counter() - started) * 1000)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return (
        f"{kind}: {1000 * cpu / requests:.2f} ms CPU a request, {1000 * wall / requests:.2f} ms"
        f" wall (p50 {percentile(latencies, 50):.2f}, p99 {percentile(latencies, 99):.2f});"
        f" load average {os.getloadavg()[0]:.2f}"
    )


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="a database bench/search.py kept")
    parser.add_argument("--kind", default="number", help="name, number, theme+region, combined")
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--warm", type=int, default=100)
    args = parser.parse_args()
    with open(os.devnull, "w") as devnull:  # the access log's lines
        print(asyncio.run(measure(args.database_url, args.kind, args.requests, args.warm, devnull)))


if __name__ == "__main__":
    run()
