"""Append throughput of the event store: events per second with 1 and 8 concurrent writers.

    .venv/bin/python bench/append.py                      # embedded PostgreSQL (durable defaults)
    .venv/bin/python bench/append.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Each writer runs whole commands as the service will: one transaction that reads the stream's
head, then appends ``--batch`` events at the expected version (10 events a stream, then a new
stream). The database is a fresh one built by the migrations and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import tempfile
import time
import uuid
from pathlib import Path
from typing import ClassVar

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.event import DomainEvent
from app.events import EventRegistry, EventStore
from app.runtime import db, embedded
from app.runtime.settings import normalize_database_url


class BenchmarkEvent(DomainEvent):
    event_type: ClassVar[str] = "BenchmarkEvent"
    writer: int
    n: int
    payload: str


REGISTRY = EventRegistry([BenchmarkEvent])
PAYLOAD = "x" * 200
EVENTS_PER_STREAM = 10


async def writer(engine: AsyncEngine, w: int, transactions: int, batch: int) -> None:
    stream, version = f"bench-{w}-{uuid.uuid4().hex[:8]}", 0
    for n in range(transactions):
        if version >= EVENTS_PER_STREAM:
            stream, version = f"bench-{w}-{uuid.uuid4().hex[:8]}", 0
        async with engine.begin() as conn:
            store = EventStore(conn, REGISTRY)
            head = await conn.scalar(
                text("SELECT coalesce(max(version), 0) FROM events WHERE stream_id = :s"),
                {"s": stream},
            )
            events = [BenchmarkEvent(writer=w, n=n, payload=PAYLOAD) for _ in range(batch)]
            result = await store.append(stream, "bench", head, events)
        version = result.version


async def run(engine: AsyncEngine, writers: int, events: int, batch: int) -> float:
    transactions = events // (writers * batch)
    started = time.perf_counter()
    await asyncio.gather(*(writer(engine, w, transactions, batch) for w in range(writers)))
    elapsed = time.perf_counter() - started
    return transactions * writers * batch / elapsed


async def main(admin_url: str, events: int, sync_commit: bool) -> None:
    name = f"kmop_bench_{uuid.uuid4().hex[:8]}"
    admin_dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(False)
    url = make_url(admin_url).set(database=name).render_as_string(False)
    await embedded.ensure_database(admin_dsn, name)
    try:
        await db.upgrade_async(url)
        if not sync_commit:  # shows what the CPU allows when commits do not wait for the disk
            conn = await asyncpg.connect(admin_dsn)
            await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
            await conn.close()
        engine = db.make_engine(url, pool_size=8, max_overflow=0)
        async with engine.connect() as conn:
            server = await conn.scalar(text("SHOW server_version"))
            fsync = await conn.scalar(text("SHOW fsync"))
            sync_commit = await conn.scalar(text("SHOW synchronous_commit"))
        print(
            f"PostgreSQL {server} (fsync={fsync}, synchronous_commit={sync_commit}), "
            f"Python {platform.python_version()}, {events} events per run"
        )
        await run(engine, 2, 400, 1)  # warm up connections and prepared statements
        print(f"{'writers':>8} {'events/tx':>10} {'events/s':>10} {'tx/s':>8}")
        for writers in (1, 8):
            for batch in (1, 10):
                rate = await run(engine, writers, events, batch)
                print(f"{writers:>8} {batch:>10} {rate:>10,.0f} {rate / batch:>8,.0f}")
        await engine.dispose()
    finally:
        conn = await asyncpg.connect(admin_dsn)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="a server to use; default: embedded PostgreSQL")
    parser.add_argument("--events", type=int, default=8000, help="events per measured run")
    parser.add_argument(
        "--no-sync-commit", action="store_true", help="synchronous_commit=off for this database"
    )
    args = parser.parse_args()
    sync_commit = not args.no_sync_commit
    if args.database_url:
        asyncio.run(main(normalize_database_url(args.database_url), args.events, sync_commit))
    else:
        server = embedded.start(
            Path(tempfile.mkdtemp(prefix="kmop-bench-")) / "pg", delete_on_stop=True
        )
        try:
            asyncio.run(main(server.sqlalchemy_url("postgres"), args.events, sync_commit))
        finally:
            server.stop()
