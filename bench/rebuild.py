"""Projection rebuild rate: events per second replayed by ``rebuild_projections``.

    .venv/bin/python bench/rebuild.py                          # 100,000 and 1,000,000 events
    .venv/bin/python bench/rebuild.py --events 100000 --database-url postgresql://...

For each size: a fresh database (built by the migrations, dropped afterwards) on the server at
``--database-url`` (default: the local server), filled by ``bench/history.py`` (realistic
histories decided in-process, COPYed in batches), then ``app.events.rebuild.rebuild_projections``
replays every event into the emptied projection tables in one transaction, timed.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import time
import uuid
from datetime import date

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import db, embedded
from app.events.projections import Projector
from app.events.rebuild import rebuild_projections
from app.settings import normalize_database_url
from bench.history import load_store

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
TODAY = date(2026, 11, 25)


async def one_size(admin_url: str, events: int) -> None:
    name = f"kmop_bench_rebuild_{uuid.uuid4().hex[:8]}"
    admin_dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(False)
    url = make_url(admin_url).set(database=name).render_as_string(False)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
    await embedded.ensure_database(admin_dsn, name)
    try:
        await db.upgrade_async(url)
        loaded = await load_store(dsn, events, 0, TODAY)
        engine = db.make_engine(url, pool_size=1, max_overflow=0)
        done = [0]

        def progress(n: int) -> None:
            done[0] += n
            if done[0] % 100_000 < n:
                print(f"\r  rebuilt {done[0]:,}", end="", file=sys.stderr, flush=True)

        started = time.perf_counter()
        report = await rebuild_projections(engine, Projector(), progress=progress)
        seconds = time.perf_counter() - started
        print(file=sys.stderr)
        async with engine.connect() as conn:
            units = await conn.scalar(text("SELECT count(*) FROM registrations"))
            size = await conn.scalar(
                text("SELECT pg_size_pretty(pg_total_relation_size('events'))")
            )
        await engine.dispose()
        print(
            f"| {report.events:,} | {units:,} | {size} | {loaded.seconds:,.0f} "
            f"| {loaded.events / loaded.seconds:,.0f} | {seconds:,.1f} "
            f"| {report.events / seconds:,.0f} |",
            flush=True,
        )
    finally:
        conn = await asyncpg.connect(admin_dsn)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def main(admin_url: str, sizes: list[int]) -> None:
    conn = await asyncpg.connect(
        make_url(admin_url).set(drivername="postgresql").render_as_string(False)
    )
    server = await conn.fetchval("SHOW server_version")
    await conn.close()
    print(f"PostgreSQL {server}, Python {platform.python_version()}")
    print("| events | units | events table | load s | loaded events/s | rebuild s | events/s |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for size in sizes:
        await one_size(admin_url, size)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="a server to use")
    parser.add_argument(
        "--events", default="100000,1000000", help="comma-separated store sizes (events)"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.events.split(",")]
    asyncio.run(main(normalize_database_url(args.database_url), sizes))
