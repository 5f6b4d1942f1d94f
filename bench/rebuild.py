"""Projection rebuild rate: events per second replayed by ``rebuild_projections``.

    .venv/bin/python bench/rebuild.py                          # 200,000 and 1,000,000 events
    .venv/bin/python bench/rebuild.py --events 20000 --database-url postgresql://...

For each size: a fresh database (built by the migrations, dropped afterwards) on the server at
``--database-url`` (default: the local server), filled by ``bench/history.py`` (realistic
histories decided in-process, COPYed in batches). Then, timed, in the same run:

* **raw read** (the contender): every event read with raw asyncpg in the rebuild's order
  (``ORDER BY transaction_id, position``, the columns a rebuild reads) through a server-side
  cursor fetching 2,000 rows at a time: how fast the events alone come out of PostgreSQL;
* **fresh**: ``app.events.rebuild.rebuild_projections`` while the projection tables are still
  empty (a database that has only its events, as after a restore or a migration);
* **over full projections**: the same call again, now that the tables are full, as an operator's
  rebuild of a live database: new tables built beside them, then swapped in.

Each line also gives the benchmark process's CPU seconds (``time.process_time``) over the same
interval: on this shared machine the wall-clock rate follows the load, the CPU cost much less.

The target (issue 12): >= 50,000 events/s on 1,000,000 events, in both cases.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
import uuid
from datetime import UTC, date, datetime

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import db, embedded
from app.events.bulk import PAGE
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
        engine = db.make_engine(url, pool_size=2, max_overflow=0)  # a rebuild uses two
        done = [0]

        def progress(n: int) -> None:
            done[0] += n
            if done[0] % 100_000 < n:
                print(f"\r  rebuilt {done[0]:,}", end="", file=sys.stderr, flush=True)

        cpu = time.process_time()
        read, read_seconds = await raw_read(dsn)
        read_cpu = time.process_time() - cpu
        rebuilt = []
        for case in ("fresh", "over full projections"):
            before = load()
            started, cpu = time.perf_counter(), time.process_time()
            report = await rebuild_projections(engine, Projector(), progress=progress)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            rebuilt.append((case, report.events, seconds, cpu, before, load()))
            done[0] = 0
            print(file=sys.stderr)
        async with engine.connect() as conn:
            units = await conn.scalar(text("SELECT count(*) FROM registrations"))
            size = await conn.scalar(
                text("SELECT pg_size_pretty(pg_total_relation_size('events'))")
            )
        await engine.dispose()
        print(
            f"| {read:,} | {units:,} | {size} | {loaded.seconds:,.0f} "
            f"| {loaded.events / loaded.seconds:,.0f} | raw asyncpg read "
            f"| {read_seconds:,.1f} | {read / read_seconds:,.0f} | {read_cpu:,.1f} | — |",
            flush=True,
        )
        for case, events_done, seconds, cpu, before, after in rebuilt:
            print(
                f"| {events_done:,} | {units:,} | {size} | | | rebuild, {case} | {seconds:,.1f} "
                f"| {events_done / seconds:,.0f} | {cpu:,.1f} | {before} → {after} |",
                flush=True,
            )
    finally:
        conn = await asyncpg.connect(admin_dsn)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


async def raw_read(dsn: str) -> tuple[int, float]:
    """(events, seconds): every event read in the global order with raw asyncpg."""
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        count = 0
        async with conn.transaction():
            cursor = conn.cursor(
                "SELECT position, stream_id, stream_type, version, event_type, schema_version,"
                " data, metadata, recorded_at FROM events ORDER BY transaction_id, position",
                prefetch=PAGE,
            )
            async for _ in cursor:
                count += 1
        return count, time.perf_counter() - started
    finally:
        await conn.close()


async def main(admin_url: str, sizes: list[int]) -> None:
    conn = await asyncpg.connect(
        make_url(admin_url).set(drivername="postgresql").render_as_string(False)
    )
    server = await conn.fetchval("SHOW server_version")
    await conn.close()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, PostgreSQL {server}, Python"
        f" {platform.python_version()}, load average (1/5/15 min) {load()}"
    )
    print(
        "| events | units | events table | load s | loaded events/s | what | s | events/s "
        "| client CPU s | load before → after |"
    )
    print("|---:|---:|---|---:|---:|---|---:|---:|---:|---|")
    for size in sizes:
        await one_size(admin_url, size)
    print(f"load average at the end {load()}; target: >= 50,000 events/s at 1,000,000 events")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="a server to use")
    parser.add_argument(
        "--events", default="200000,1000000", help="comma-separated store sizes (events)"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.events.split(",")]
    asyncio.run(main(normalize_database_url(args.database_url), sizes))
