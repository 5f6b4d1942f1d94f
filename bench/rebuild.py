"""Projection rebuild rate: events per second replayed by ``rebuild_projections``.

    .venv/bin/python bench/rebuild.py                          # 200,000 and 1,000,000 events
    .venv/bin/python bench/rebuild.py --events 20000 --database-url postgresql://...
    .venv/bin/python bench/rebuild.py --workers 1,2                # each, fresh and over full

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

Both for each ``--workers`` count (processes that fold, ``app.events.parallel``; 1: in the
benchmark's own process; default ``1,2``), the tables emptied before each "fresh" one.

Each line also gives the client's CPU seconds over the same interval, the benchmark process's
and its worker processes' (``getrusage``): on this shared machine the wall-clock rate follows
the load, the CPU cost much less.

The target (issue 12): >= 50,000 events/s on 1,000,000 events, in both cases.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import sys
import time
import uuid
from datetime import UTC, date, datetime

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.events.bulk import PAGE
from app.events.projections import PROJECTION_TABLES, Projector
from app.events.rebuild import rebuild_projections
from app.runtime import db, embedded
from app.runtime.settings import normalize_database_url
from bench.history import load_store

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
TODAY = date(2026, 11, 25)


async def one_size(admin_url: str, events: int, workers: list[int]) -> None:
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

        cpu = client_cpu()
        read, read_seconds = await raw_read(dsn)
        read_cpu = client_cpu() - cpu
        rebuilt = []
        for count in workers:
            async with engine.begin() as conn:  # "fresh": the projection tables empty
                await conn.execute(text(f"TRUNCATE {', '.join(PROJECTION_TABLES)}"))
            for case in ("fresh", "over full projections"):
                before = load()
                started, cpu = time.perf_counter(), client_cpu()
                report = await rebuild_projections(
                    engine, Projector(), progress=progress, workers=count
                )
                seconds, cpu = time.perf_counter() - started, client_cpu() - cpu
                what = f"rebuild, {case}, {count} worker{'s' if count > 1 else ''}"
                rebuilt.append((what, report.events, seconds, cpu, before, load()))
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
        for what, events_done, seconds, cpu, before, after in rebuilt:
            print(
                f"| {events_done:,} | {units:,} | {size} | | | {what} | {seconds:,.1f} "
                f"| {events_done / seconds:,.0f} | {cpu:,.1f} | {before} → {after} |",
                flush=True,
            )
    finally:
        conn = await asyncpg.connect(admin_dsn)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def client_cpu() -> float:
    """CPU seconds of this process and of its (ended) worker processes so far."""
    own, workers = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


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


async def main(admin_url: str, sizes: list[int], workers: list[int]) -> None:
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
        await one_size(admin_url, size, workers)
    print(f"load average at the end {load()}; target: >= 50,000 events/s at 1,000,000 events")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="a server to use")
    parser.add_argument(
        "--events", default="200000,1000000", help="comma-separated store sizes (events)"
    )
    parser.add_argument(
        "--workers", default="1,2", help="comma-separated counts of rebuild worker processes"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.events.split(",")]
    workers = [int(count) for count in args.workers.split(",")]
    asyncio.run(main(normalize_database_url(args.database_url), sizes, workers))
